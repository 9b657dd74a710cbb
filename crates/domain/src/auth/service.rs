//! Sign-up, log-in, resolving a token's session to an actor, and managing a tenant's users.

use std::sync::{Arc, OnceLock};

use super::models::{Action, Actor, Role, Session, Tenant, User};
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
}

impl AuthService {
    pub fn new(deps: Arc<Deps>) -> Self {
        Self {
            deps,
            decoy: Arc::new(OnceLock::new()),
        }
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
    pub async fn authenticate(&self, session: &Session) -> Result<Actor, DomainError> {
        match self
            .deps
            .users
            .get(&session.tenant_id, &session.user_id)
            .await?
        {
            Some(user) if user.active => Ok(Actor {
                tenant_id: user.tenant_id,
                user_id: user.id,
                role: user.role,
            }),
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
            .idempotent(&tenant, idem, |scope| async move {
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
            Ok(()) => Ok(user),
            Err(StoreError::NotFound) => Err(DomainError::NotFound("user")),
            Err(e) => Err(e.into()),
        }
    }
}
