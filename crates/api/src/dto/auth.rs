//! Bodies of sign-up, log-in and user management.
//!
//! The bodies that carry a password print it as `***` through `Debug`, so a logged request
//! never shows one.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use domain::auth::models::{Role, Tenant, User};
use domain::auth::service::{NewUser, Registration, UserPatch};
use domain::error::{DomainError, FieldErrors};
use domain::values::{EmailAddress, Password, TenantSlug, Text};

use crate::page_dto;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RoleDto {
    Owner,
    Manager,
    Staff,
}

impl From<Role> for RoleDto {
    fn from(r: Role) -> Self {
        match r {
            Role::Owner => RoleDto::Owner,
            Role::Manager => RoleDto::Manager,
            Role::Staff => RoleDto::Staff,
        }
    }
}

impl From<RoleDto> for Role {
    fn from(r: RoleDto) -> Self {
        match r {
            RoleDto::Owner => Role::Owner,
            RoleDto::Manager => Role::Manager,
            RoleDto::Staff => Role::Staff,
        }
    }
}

/// What a password prints as.
const HIDDEN: &str = "***";

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(
        example = "Acme Outfitters",
        min_length = 1,
        max_length = 200,
        pattern = r"\S"
    )]
    pub tenant_name: String,
    /// 3–48 lowercase letters, digits and inner hyphens; used to log in.
    #[schema(
        example = "acme",
        min_length = 3,
        max_length = 48,
        pattern = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
    )]
    pub tenant_slug: String,
    #[schema(
        example = "owner@acme.example",
        max_length = 254,
        pattern = r"^[^\s@]+@[^\s@.][^\s@]*\.[^\s@]*[^\s@.]$"
    )]
    pub email: String,
    /// 8–256 characters.
    #[schema(example = "correct horse battery", min_length = 8, max_length = 256)]
    pub password: String,
    #[schema(
        example = "Ada Owner",
        min_length = 1,
        max_length = 200,
        pattern = r"\S"
    )]
    pub name: String,
}

impl fmt::Debug for RegisterRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisterRequest")
            .field("tenant_name", &self.tenant_name)
            .field("tenant_slug", &self.tenant_slug)
            .field("email", &self.email)
            .field("password", &HIDDEN)
            .field("name", &self.name)
            .finish()
    }
}

impl RegisterRequest {
    pub fn into_domain(self) -> Result<Registration, DomainError> {
        let mut e = FieldErrors::new();
        let tenant_name = e.check("tenantName", Text::name(&self.tenant_name));
        let tenant_slug = e.check("tenantSlug", TenantSlug::new(&self.tenant_slug));
        let email = e.check("email", EmailAddress::new(&self.email));
        let password = e.check("password", Password::new(&self.password));
        let name = e.check("name", Text::name(&self.name));
        e.finish()?;
        Ok(Registration {
            tenant_name: tenant_name.expect("checked"),
            tenant_slug: tenant_slug.expect("checked"),
            email: email.expect("checked"),
            password: password.expect("checked"),
            name: name.expect("checked"),
        })
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginRequest {
    /// The tenant's slug.
    #[schema(example = "acme")]
    pub tenant: String,
    #[schema(example = "owner@acme.example")]
    pub email: String,
    #[schema(example = "correct horse battery")]
    pub password: String,
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("tenant", &self.tenant)
            .field("email", &self.email)
            .field("password", &HIDDEN)
            .finish()
    }
}

/// The caller's current password and the one to replace it with.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[schema(example = "correct horse battery")]
    pub current_password: String,
    /// 8–256 characters, as at sign-up.
    #[schema(example = "a much better passphrase", min_length = 8, max_length = 256)]
    pub new_password: String,
}

impl fmt::Debug for ChangePasswordRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChangePasswordRequest")
            .field("current_password", &HIDDEN)
            .field("new_password", &HIDDEN)
            .finish()
    }
}

impl ChangePasswordRequest {
    /// The current password as typed (checked by the use case) and the valid new one.
    pub fn into_domain(self) -> Result<(String, Password), DomainError> {
        let mut e = FieldErrors::new();
        let new = e.check("newPassword", Password::new(&self.new_password));
        e.finish()?;
        Ok((self.current_password, new.expect("checked")))
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantDto {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")]
    pub id: String,
    #[schema(example = "Acme Outfitters")]
    pub name: String,
    #[schema(example = "acme")]
    pub slug: String,
    pub created_at: DateTime<Utc>,
}

impl From<&Tenant> for TenantDto {
    fn from(t: &Tenant) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name.as_str().to_owned(),
            slug: t.slug.as_str().to_owned(),
            created_at: t.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserDto {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c")]
    pub id: String,
    pub tenant_id: String,
    #[schema(example = "owner@acme.example")]
    pub email: String,
    #[schema(example = "Ada Owner")]
    pub name: String,
    pub role: RoleDto,
    #[schema(example = true)]
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&User> for UserDto {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            tenant_id: u.tenant_id.to_string(),
            email: u.email.as_str().to_owned(),
            name: u.name.as_str().to_owned(),
            role: u.role.into(),
            active: u.active,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

page_dto!(UserPage, UserDto);

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterResponse {
    pub tenant: TenantDto,
    pub user: UserDto,
    /// Bearer token for `Authorization: Bearer …`.
    #[schema(example = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VySWQiOiIuLi4ifQ.c2lnbmF0dXJl")]
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    #[schema(example = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VySWQiOiIuLi4ifQ.c2lnbmF0dXJl")]
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeResponse {
    pub user: UserDto,
    pub tenant: TenantDto,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUserRequest {
    #[schema(
        example = "sam@acme.example",
        max_length = 254,
        pattern = r"^[^\s@]+@[^\s@.][^\s@]*\.[^\s@]*[^\s@.]$"
    )]
    pub email: String,
    #[schema(
        example = "Sam Staff",
        min_length = 1,
        max_length = 200,
        pattern = r"\S"
    )]
    pub name: String,
    #[schema(example = "a long enough password", min_length = 8, max_length = 256)]
    pub password: String,
    pub role: RoleDto,
}

impl fmt::Debug for CreateUserRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateUserRequest")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("password", &HIDDEN)
            .field("role", &self.role)
            .finish()
    }
}

impl CreateUserRequest {
    pub fn into_domain(self) -> Result<NewUser, DomainError> {
        let mut e = FieldErrors::new();
        let email = e.check("email", EmailAddress::new(&self.email));
        let name = e.check("name", Text::name(&self.name));
        let password = e.check("password", Password::new(&self.password));
        e.finish()?;
        Ok(NewUser {
            email: email.expect("checked"),
            name: name.expect("checked"),
            password: password.expect("checked"),
            role: self.role.into(),
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[schema(
        example = "Sam Manager",
        min_length = 1,
        max_length = 200,
        pattern = r"\S"
    )]
    pub name: Option<String>,
    pub role: Option<RoleDto>,
    #[schema(example = false)]
    pub active: Option<bool>,
}

impl UpdateUserRequest {
    pub fn into_domain(self) -> Result<UserPatch, DomainError> {
        let mut e = FieldErrors::new();
        let name = self
            .name
            .as_deref()
            .and_then(|n| e.check("name", Text::name(n)));
        e.finish()?;
        Ok(UserPatch {
            name,
            role: self.role.map(Into::into),
            active: self.active,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_request_body_prints_a_password() {
        let secret = "hunter2-but-longer";
        let printed = [
            format!(
                "{:?}",
                RegisterRequest {
                    tenant_name: "Acme".into(),
                    tenant_slug: "acme".into(),
                    email: "a@acme.example".into(),
                    password: secret.into(),
                    name: "Ada".into(),
                }
            ),
            format!(
                "{:?}",
                LoginRequest {
                    tenant: "acme".into(),
                    email: "a@acme.example".into(),
                    password: secret.into(),
                }
            ),
            format!(
                "{:?}",
                CreateUserRequest {
                    email: "a@acme.example".into(),
                    name: "Ada".into(),
                    password: secret.into(),
                    role: RoleDto::Staff,
                }
            ),
            format!(
                "{:?}",
                ChangePasswordRequest {
                    current_password: secret.into(),
                    new_password: format!("{secret}-new"),
                }
            ),
        ];
        for line in printed {
            assert!(!line.contains("hunter2"), "{line}");
            assert!(line.contains("***"), "{line}");
        }
    }

    #[test]
    fn a_weak_new_password_names_new_password() {
        let weak = ChangePasswordRequest {
            current_password: "whatever it was".into(),
            new_password: "short".into(),
        };
        match weak.into_domain() {
            Err(DomainError::Validation(fields)) => {
                assert_eq!(fields.len(), 1);
                assert_eq!(fields[0].field, "newPassword");
            }
            other => panic!("{other:?}"),
        }
    }
}
