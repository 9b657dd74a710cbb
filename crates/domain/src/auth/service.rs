//! Sign-up, log-in, resolving a token's session to an actor, and managing a tenant's users.
//!
//! Resolving a session reads through this instance's `SessionCache`; a change of a user's role
//! or active flag made here forgets the user at once and announces it to the other instances
//! (see [`super::cache`] for the bounds that keeps).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::cache::{NoSessionInvalidation, SessionCache, LONG_BOUND};
use super::models::{Action, Actor, Role, Session, Tenant, User};
use super::ports::SessionInvalidation;
use crate::error::{DomainError, StoreError};
use crate::idempotency::{Idempotency, Outcome};
use crate::ids::{TenantId, UserId};
use crate::locations::models::Location;
use crate::pagination::{Page, PageRequest};
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
}

/// How long to wait between attempts to announce a change that the channel refused.
const ANNOUNCE_RETRY: Duration = Duration::from_millis(200);

impl AuthService {
    pub fn new(deps: Arc<Deps>) -> Self {
        Self {
            deps,
            decoy: Arc::new(OnceLock::new()),
            sessions: Arc::new(SessionCache::new()),
            invalidation: Arc::new(NoSessionInvalidation),
        }
    }

    /// Announces changed sessions on `channel` and forgets the users announced there. Until
    /// this is called (a single instance, or instances sharing no channel) nothing is announced
    /// and a resolved session is trusted for one second only. Must be called within a Tokio
    /// runtime, before the service is cloned.
    pub fn invalidate_through(&mut self, channel: Arc<dyn SessionInvalidation>) {
        self.sessions = Arc::new(SessionCache::new());
        self.sessions.listen(channel.as_ref());
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
    pub async fn register(&self, reg: Registration) -> Result<(Tenant, User), DomainError> {
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
            Err(StoreError::Duplicate) => Err(DomainError::Conflict(format!(
                "tenant slug '{}' is taken",
                tenant.slug.as_str()
            ))),
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
                    .await
                {
                    Ok(user)
                } else {
                    Err(DomainError::InvalidCredentials)
                }
            }
            _ => {
                let decoy = self.decoy_hash().await?;
                let _ = self.deps.hasher.verify(&password, &decoy).await;
                Err(DomainError::InvalidCredentials)
            }
        }
    }

    /// Resolves a verified token's session to the acting user, with the role they have *now*:
    /// a deactivated user or a user that no longer exists is unauthenticated at once.
    ///
    /// What was read is kept for a bounded moment (see [`super::cache`]); only active users are.
    pub async fn authenticate(&self, session: &Session) -> Result<Actor, DomainError> {
        let now = Instant::now();
        if let Some(actor) = self.sessions.get(&session.tenant_id, &session.user_id, now) {
            return Ok(actor);
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
                self.sessions.keep(ticket, actor.clone(), now);
                Ok(actor)
            }
            _ => Err(DomainError::Unauthenticated),
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
    /// themselves, so a tenant never locks itself out.
    pub async fn update_user(
        &self,
        actor: &Actor,
        id: &UserId,
        patch: UserPatch,
    ) -> Result<User, DomainError> {
        actor.require(Action::ManageUsers)?;
        let mut user = self
            .deps
            .users
            .get(&actor.tenant_id, id)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        if user.id == actor.user_id
            && (patch.role.is_some_and(|r| r != user.role) || patch.active == Some(false))
        {
            return Err(DomainError::Conflict(
                "you cannot change your own role or deactivate yourself".into(),
            ));
        }
        let session_changes = patch.role.is_some_and(|r| r != user.role)
            || patch.active.is_some_and(|a| a != user.active);
        if let Some(name) = patch.name {
            user.name = name;
        }
        if let Some(role) = patch.role {
            user.role = role;
        }
        if let Some(active) = patch.active {
            user.active = active;
        }
        user.updated_at = self.deps.clock.now();
        match self.deps.users.update(&actor.tenant_id, &user).await {
            Ok(()) => {
                if session_changes {
                    self.announce(actor.tenant_id, user.id).await;
                }
                Ok(user)
            }
            Err(StoreError::NotFound) => Err(DomainError::NotFound("user")),
            Err(e) => Err(e.into()),
        }
    }
}
