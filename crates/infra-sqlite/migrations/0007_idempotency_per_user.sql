-- Idempotency keys belong to the user who sent them, not to the whole tenant: colleagues who
-- send the same key each get their own request executed, never the other's stored answer.
-- The record gains its user, and the primary key becomes (tenant, user, key).
--
-- Records written before this migration do not say who sent them. They are kept with an empty
-- user, which no request ever has: none of them can be replayed by anyone nor block anyone's
-- key, and they are purged once expired (at most 24 hours later), like every record.
CREATE TABLE idempotency_records_by_user (
    tenant_id    TEXT    NOT NULL,
    user_id      TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL,
    status       INTEGER NOT NULL,
    body         BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, key)
) STRICT;

INSERT INTO idempotency_records_by_user
       (tenant_id, user_id, key, fingerprint, status, body, created_at, expires_at)
SELECT tenant_id, '', key, fingerprint, status, body, created_at, expires_at
  FROM idempotency_records;

DROP TABLE idempotency_records;
ALTER TABLE idempotency_records_by_user RENAME TO idempotency_records;
CREATE INDEX idempotency_records_by_expiry ON idempotency_records (expires_at);
