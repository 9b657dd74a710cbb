-- Each user's token version: a password change or a deactivation adds one, and a token issued
-- at an older version is refused. Existing users start at 0, the version their tokens carry.
ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0 CHECK (token_version >= 0);
