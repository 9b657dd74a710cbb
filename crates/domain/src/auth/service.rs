//! Sign-up, log-in, resolving a token's session to an actor, and managing a tenant's users.
//!
//! Resolving a session reads through this instance's `SessionCache`; a change of a user's role
//! or active flag made here forgets the user at once and announces it to the other instances
//! (see [`super::cache`] for the bounds that keeps).
//!
//! Revocation: every user has a token version, carried in each token issued to them. A password
//! change or a deactivation adds one to it inside the write, so every token issued before is
//! refused by [`AuthService::authenticate`] from then on, on every instance, as soon as the
//! announcement is heard (within the cache's bounds when it is not). Whoever else keeps sessions
//! open — the Socket.IO server — hears the same announcements through
//! [`AuthService::on_session_change`] and checks its sessions again.
//!
//! A tenant never loses its last active OWNER: a change that would leave none is refused inside
//! the store's write ([`UserWrite::keep_an_owner`]), so two owners demoting each other at once
//! cannot both succeed.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use super::cache::{NoSessionInvalidation, SessionCache, LONG_BOUND};
use super::models::{Action, Actor, Role, Session, Tenant, User};
use super::ports::{SessionInvalidation, SessionSink, UserWrite};
use crate::error::{DomainError, StoreError};
use crate::idempotency::{Idempotency, Outcome};
use crate::ids::{TenantId, UserId};
use crate::locations::models::Location;
use crate::pagination::{Page, PageRequest};
use crate::precondition::{lost_race, next_edit_time, retries, Precondition, EDIT_ATTEMPTS};
use crate::rate_limit::AuthThrottle;
use crate::services::Deps;
use crate::values::{EmailAddress, Password, PasswordHash, TenantSlug, Text};

#[derive(Debug, Clone)]
pub struct Registration {
    pub tenant_name: Text,
    pub tenant_slug: TenantSlug,
    pub email: EmailAddress,
    pub password: Password,
    pub name: Text,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: EmailAddress,
    pub name: Text,
    pub password: Password,
    pub role: Role,
}

#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub name: Option<Text>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

#[derive(Clone)]
pub struct AuthService {
    deps: Arc<Deps>,
    /// A hash of a throw-away password, verified when the tenant or email is unknown so that a
    /// wrong tenant, a wrong email and a wrong password all take the same time.
    decoy: Arc<OnceLock<PasswordHash>>,
    /// The acting users resolved a moment ago.
    sessions: Arc<SessionCache>,
    /// Where changed sessions are announced to the other instances.
    invalidation: Arc<dyn SessionInvalidation>,
    /// The budgets of log-in and sign-up; `None` = unlimited (set by [`Self::limit_through`]).
    throttle: Option<AuthThrottle>,
    /// Who else hears of a changed session, here or on another instance.
    listeners: Arc<Listeners>,
}

fn slug_taken(slug: &TenantSlug) -> DomainError {
    DomainError::Conflict(format!("tenant slug '{}' is taken", slug.as_str()))
}

/// The sinks registered through [`AuthService::on_session_change`].
#[derive(Default)]
struct Listeners(RwLock<Vec<Arc<dyn SessionSink>>>);

impl SessionSink for Listeners {
    fn forget(&self, tenant: &TenantId, user: &UserId) {
        let listeners = self.0.read().unwrap_or_else(|p| p.into_inner()).clone();
        for listener in listeners {
            listener.forget(tenant, user);
        }
    }
}

/// The problem detail of a change that would leave a tenant without an owner.
pub const LAST_OWNER_RULE: &str =
    "a tenant must keep at least one active OWNER: promote another user to OWNER first";

/// How long to wait between attempts to announce a change that the channel refused.
const ANNOUNCE_RETRY: Duration = Duration::from_millis(200);

impl AuthService {
    pub fn new(deps: Arc<Deps>) -> Self {
        Self {
            deps,
            decoy: Arc::new(OnceLock::new()),
            sessions: Arc::new(SessionCache::new()),
            invalidation: Arc::new(NoSessionInvalidation),
            throttle: None,
            listeners: Arc::default(),
        }
    }

    /// Counts log-ins and sign-ups against `throttle`'s budgets (see [`crate::rate_limit`]).
    /// Must be called before the service is cloned.
    pub fn limit_through(&mut self, throttle: AuthThrottle) {
        self.throttle = Some(throttle);
    }

    /// [`Self::login`] from `client`, within the log-in budgets: a refused attempt is
    /// `RateLimited` and checks no password; a success forgets the account's failures.
    pub async fn login_from(
        &self,
        client: IpAddr,
        tenant_slug: &str,
        email: &str,
        password: &str,
    ) -> Result<User, DomainError> {
        let Some(throttle) = &self.throttle else {
            return self.login(tenant_slug, email, password).await;
        };
        let account = throttle.admit_login(client, tenant_slug, email).await?;
        let user = self.login(tenant_slug, email, password).await?;
        throttle.login_succeeded(&account).await;
        Ok(user)
    }

    /// [`Self::register`] from `client`, within the sign-up budgets.
    pub async fn register_from(
        &self,
        client: IpAddr,
        reg: Registration,
    ) -> Result<(Tenant, User), DomainError> {
        if let Some(throttle) = &self.throttle {
            throttle
                .admit_registration(client, reg.tenant_slug.as_str(), reg.email.as_str())
                .await?;
        }
        self.register(reg).await
    }

    /// Hands every changed session — changed here, or announced by another instance — to
    /// `sink`, after this instance's cache forgot it (so `authenticate` then reads the store).
    /// `sink` must be quick; it runs on the announcing request or on the channel's task.
    pub fn on_session_change(&self, sink: Arc<dyn SessionSink>) {
        self.listeners
            .0
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(sink);
    }

    /// Announces changed sessions on `channel` and forgets the users announced there. Until
    /// this is called (a single instance, or instances sharing no channel) nothing is announced
    /// and a resolved session is trusted for one second only. Must be called within a Tokio
    /// runtime, before the service is cloned.
    pub fn invalidate_through(&mut self, channel: Arc<dyn SessionInvalidation>) {
        self.sessions = Arc::new(SessionCache::new());
        self.sessions.listen(
            channel.as_ref(),
            self.listeners.clone() as Arc<dyn SessionSink>,
        );
        self.invalidation = channel;
    }

    /// Whether changes made on other instances are heard now (else resolved sessions are
    /// trusted for one second only).
    pub fn hears_invalidations(&self) -> bool {
        self.sessions.is_hearing()
    }

    /// Forgets `user` here and tells the other instances to. A refused announcement is retried
    /// in the background for as long as another instance may trust what it kept.
    async fn announce(&self, tenant: TenantId, user: UserId) {
        self.sessions.forget(&tenant, &user);
        self.listeners.forget(&tenant, &user);
        let Err(error) = self.invalidation.publish(&tenant, &user).await else {
            return;
        };
        tracing::warn!(%tenant, %user, %error, "cannot announce a changed session; retrying");
        let channel = self.invalidation.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            while started.elapsed() < LONG_BOUND {
                tokio::time::sleep(ANNOUNCE_RETRY).await;
                if channel.publish(&tenant, &user).await.is_ok() {
                    return;
                }
            }
            tracing::error!(%tenant, %user, "gave up announcing a changed session");
        });
    }

    async fn decoy_hash(&self) -> Result<PasswordHash, DomainError> {
        if let Some(hash) = self.decoy.get() {
            return Ok(hash.clone());
        }
        let throwaway = Password::new(&format!("decoy-{}", UserId::new()))
            .map_err(|e| DomainError::Unknown(anyhow::anyhow!("decoy password: {e}")))?;
        let hash = self.deps.hasher.hash(&throwaway).await?;
        Ok(self.decoy.get_or_init(|| hash).clone())
    }

    /// Creates a tenant and its OWNER.
    ///
    /// A taken slug is refused before the password is hashed, so a client retrying a taken
    /// slug costs a read, not a hash; the store's unique slug still decides a race between two
    /// registrations of the same free slug.
    pub async fn register(&self, reg: Registration) -> Result<(Tenant, User), DomainError> {
        if self
            .deps
            .tenants
            .find_by_slug(&reg.tenant_slug)
            .await?
            .is_some()
        {
            return Err(slug_taken(&reg.tenant_slug));
        }
        let now = self.deps.clock.now();
        let tenant = Tenant {
            id: TenantId::new(),
            name: reg.tenant_name,
            slug: reg.tenant_slug,
            created_at: now,
        };
        let owner = User {
            id: UserId::new(),
            tenant_id: tenant.id,
            email: reg.email,
            name: reg.name,
            role: Role::Owner,
            active: true,
            password_hash: self.deps.hasher.hash(&reg.password).await?,
            token_version: 0,
            created_at: now,
            updated_at: now,
        };
        let location = Location::first_of(tenant.id, now);
        match self
            .deps
            .tenants
            .create_with_owner(&tenant, &owner, &location)
            .await
        {
            Ok(()) => Ok((tenant, owner)),
            Err(StoreError::Duplicate) => Err(slug_taken(&tenant.slug)),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks credentials. Every failure — unknown tenant, unknown or inactive user, wrong
    /// password, even malformed input — is the same `InvalidCredentials`.
    pub async fn login(
        &self,
        tenant_slug: &str,
        email: &str,
        password: &str,
    ) -> Result<User, DomainError> {
        let password = Password::new(password).ok();
        let user = match (TenantSlug::new(tenant_slug), EmailAddress::new(email)) {
            (Ok(slug), Ok(email)) => match self.deps.tenants.find_by_slug(&slug).await? {
                Some(tenant) => self.deps.users.find_by_email(&tenant.id, &email).await?,
                None => None,
            },
            _ => None,
        };
        let Some(password) = password else {
            return Err(DomainError::InvalidCredentials);
        };
        match user {
            Some(user) if user.active => {
                if self
                    .deps
                    .hasher
                    .verify(&password, &user.password_hash)
                    .await?
                {
                    Ok(user)
                } else {
                    Err(DomainError::InvalidCredentials)
                }
            }
            _ => {
                let decoy = self.decoy_hash().await?;
                let _ = self.deps.hasher.verify(&password, &decoy).await?;
                Err(DomainError::InvalidCredentials)
            }
        }
    }

    /// Resolves a verified token's session to the acting user, with the role they have *now*:
    /// a deactivated user, a user that no longer exists or a token issued before the user's
    /// current token version (a password change, a deactivation) is unauthenticated at once.
    ///
    /// What was read is kept for a bounded moment (see [`super::cache`]); only active users are.
    pub async fn authenticate(&self, session: &Session) -> Result<Actor, DomainError> {
        let now = Instant::now();
        if let Some((actor, version)) = self.sessions.get(&session.tenant_id, &session.user_id, now)
        {
            if version == session.token_version {
                return Ok(actor);
            }
            // Another version than the one kept: the store says which is current.
        }
        let ticket = self.sessions.fill_ticket();
        match self
            .deps
            .users
            .get(&session.tenant_id, &session.user_id)
            .await?
        {
            Some(user) if user.active => {
                let actor = Actor {
                    tenant_id: user.tenant_id,
                    user_id: user.id,
                    role: user.role,
                };
                self.sessions
                    .keep(ticket, actor.clone(), user.token_version, now);
                if user.token_version == session.token_version {
                    Ok(actor)
                } else {
                    Err(DomainError::Unauthenticated)
                }
            }
            _ => Err(DomainError::Unauthenticated),
        }
    }

    /// Changes the caller's own password after checking the current one, and ends every
    /// session issued to them so far (this one included: they log in again with the new one).
    ///
    /// A wrong current password is a validation error naming `currentPassword` (422), not a
    /// 401: the caller is authenticated, and a 401 would tell a client to drop its token.
    pub async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: Password,
    ) -> Result<(), DomainError> {
        let user = self
            .deps
            .users
            .get(&actor.tenant_id, &actor.user_id)
            .await?
            .ok_or(DomainError::Unauthenticated)?;
        let matches = match Password::new(current) {
            Ok(current) => {
                self.deps
                    .hasher
                    .verify(&current, &user.password_hash)
                    .await?
            }
            Err(_) => false,
        };
        if !matches {
            return Err(DomainError::invalid(
                "currentPassword",
                "does not match your current password",
            ));
        }
        let hash = self.deps.hasher.hash(&new).await?;
        match self
            .deps
            .users
            .replace_password(
                &actor.tenant_id,
                &user.id,
                &hash,
                next_edit_time(user.updated_at, self.deps.clock.now()),
            )
            .await
        {
            Ok(()) => {
                self.announce(actor.tenant_id, user.id).await;
                Ok(())
            }
            Err(StoreError::NotFound) => Err(DomainError::Unauthenticated),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn me(&self, actor: &Actor) -> Result<(User, Tenant), DomainError> {
        let user = self
            .deps
            .users
            .get(&actor.tenant_id, &actor.user_id)
            .await?
            .ok_or(DomainError::Unauthenticated)?;
        let tenant = self
            .deps
            .tenants
            .get(&actor.tenant_id)
            .await?
            .ok_or(DomainError::Unauthenticated)?;
        Ok((user, tenant))
    }

    pub async fn list_users(
        &self,
        actor: &Actor,
        page: &PageRequest,
    ) -> Result<Page<User>, DomainError> {
        actor.require(Action::ReadUsers)?;
        Ok(self.deps.users.list(&actor.tenant_id, page).await?)
    }

    pub async fn get_user(&self, actor: &Actor, id: &UserId) -> Result<User, DomainError> {
        actor.require(Action::ReadUsers)?;
        self.deps
            .users
            .get(&actor.tenant_id, id)
            .await?
            .ok_or(DomainError::NotFound("user"))
    }

    pub async fn create_user(
        &self,
        actor: &Actor,
        new: NewUser,
        idem: Option<Idempotency<User>>,
    ) -> Result<Outcome<User>, DomainError> {
        actor.require(Action::ManageUsers)?;
        let tenant = actor.tenant_id;
        self.deps
            .idempotent(actor, idem, |scope| async move {
                let now = self.deps.clock.now();
                let user = User {
                    id: UserId::new(),
                    tenant_id: tenant,
                    email: new.email,
                    name: new.name,
                    role: new.role,
                    active: true,
                    password_hash: self.deps.hasher.hash(&new.password).await?,
                    token_version: 0,
                    created_at: now,
                    updated_at: now,
                };
                let record = scope.map(|s| s.record(&user));
                match self.deps.users.insert(&tenant, &user, record).await {
                    Ok(()) => Ok(user),
                    Err(StoreError::Duplicate) => Err(DomainError::Conflict(format!(
                        "a user with email '{}' already exists",
                        user.email.as_str()
                    ))),
                    Err(e) => Err(e.into()),
                }
            })
            .await
    }

    /// Changes a user's name, role or active flag. An owner cannot demote or deactivate
    /// themselves, and no change may leave the tenant without an active OWNER (checked inside
    /// the write), so a tenant never locks itself out. A deactivation ends every session of the
    /// user (their token version is bumped), so reactivating them later revives no old token.
    ///
    /// Applied only if `precondition` admits the user's current version, and the write is
    /// conditional on the version read (see [`crate::precondition`]); an edit naming no version
    /// that loses the race to another is applied again to a fresh read.
    pub async fn update_user(
        &self,
        actor: &Actor,
        id: &UserId,
        patch: UserPatch,
        precondition: Option<Precondition>,
    ) -> Result<User, DomainError> {
        actor.require(Action::ManageUsers)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let read = self.read_user(actor, id).await?;
            Precondition::check(precondition.as_ref(), "user", read.version())?;
            match self.write_user(actor, read, &patch).await {
                Err(DomainError::VersionConflict { .. })
                    if retries(precondition.as_ref()) && attempt < EDIT_ATTEMPTS => {}
                Err(DomainError::VersionConflict { .. }) => {
                    return Err(lost_race(precondition.as_ref(), "user", id.to_string()))
                }
                answer => return answer,
            }
        }
    }

    async fn read_user(&self, actor: &Actor, id: &UserId) -> Result<User, DomainError> {
        self.deps
            .users
            .get(&actor.tenant_id, id)
            .await?
            .ok_or(DomainError::NotFound("user"))
    }

    /// `patch` applied to `user` as read, written conditionally on that read: a write that lost
    /// the race to another edit is `VersionConflict`.
    async fn write_user(
        &self,
        actor: &Actor,
        mut user: User,
        patch: &UserPatch,
    ) -> Result<User, DomainError> {
        if user.id == actor.user_id
            && (patch.role.is_some_and(|r| r != user.role) || patch.active == Some(false))
        {
            return Err(DomainError::Conflict(
                "you cannot change your own role or deactivate yourself".into(),
            ));
        }
        let session_changes = patch.role.is_some_and(|r| r != user.role)
            || patch.active.is_some_and(|a| a != user.active);
        let was_active_owner = user.active && user.role == Role::Owner;
        let deactivated = user.active && patch.active == Some(false);
        if let Some(name) = patch.name.clone() {
            user.name = name;
        }
        if let Some(role) = patch.role {
            user.role = role;
        }
        if let Some(active) = patch.active {
            user.active = active;
        }
        let read = user.version();
        user.updated_at = next_edit_time(user.updated_at, self.deps.clock.now());
        let write = UserWrite {
            end_sessions: deactivated,
            keep_an_owner: was_active_owner && !(user.active && user.role == Role::Owner),
            expected_version: Some(read),
        };
        match self.deps.users.update(&actor.tenant_id, &user, write).await {
            Ok(()) => {
                if write.end_sessions {
                    user.token_version = user.token_version.wrapping_add(1);
                }
                if session_changes {
                    self.announce(actor.tenant_id, user.id).await;
                }
                Ok(user)
            }
            Err(StoreError::NotFound) => Err(DomainError::NotFound("user")),
            Err(StoreError::InUse) if write.keep_an_owner => {
                Err(DomainError::Conflict(LAST_OWNER_RULE.into()))
            }
            Err(StoreError::VersionConflict) => Err(DomainError::VersionConflict {
                entity: "user",
                id: user.id.to_string(),
            }),
            Err(e) => Err(e.into()),
        }
    }
}
