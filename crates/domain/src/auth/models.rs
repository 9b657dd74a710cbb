//! Tenants, users and the role matrix.

use chrono::{DateTime, Utc};

use crate::ids::{TenantId, UserId};
use crate::values::{EmailAddress, PasswordHash, TenantSlug, Text};

#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: Text,
    pub slug: TenantSlug,
    pub created_at: DateTime<Utc>,
}

/// Roles, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Owner,
    Manager,
    Staff,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "OWNER",
            Role::Manager => "MANAGER",
            Role::Staff => "STAFF",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "OWNER" => Some(Role::Owner),
            "MANAGER" => Some(Role::Manager),
            "STAFF" => Some(Role::Staff),
            _ => None,
        }
    }

    /// The role matrix (documented in `docs/roles.md`).
    pub fn allows(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Owner => true,
            Role::Manager => !matches!(action, ReadUsers | ManageUsers),
            Role::Staff => matches!(
                action,
                ReadCatalog
                    | ReadStock
                    | ReadOrders
                    | PlaceOrders
                    | CancelOrders
                    | ReadPurchasing
                    | ReceivePurchaseOrders
                    | ReadLowStock
                    | ReadLocations
                    | ReadTransfers
                    | ReceiveTransfers
                    | HoldStock
                    | ReadReservations
            ),
        }
    }
}

/// Everything a role may or may not be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ReadUsers,
    ManageUsers,
    ReadCatalog,
    WriteCatalog,
    ReadStock,
    AdjustStock,
    ReadOrders,
    PlaceOrders,
    CancelOrders,
    FulfilOrders,
    ReturnOrders,
    ReadPurchasing,
    WritePurchasing,
    ReceivePurchaseOrders,
    /// Movement series, top movers, valuation.
    ReadReports,
    /// The low-stock and reorder report.
    ReadLowStock,
    /// Locations and the levels they hold.
    ReadLocations,
    /// Create, rename, reprioritise, deactivate, make default.
    WriteLocations,
    ReadTransfers,
    /// Draft, edit, ship and cancel transfers: shipping takes units out of a location.
    WriteTransfers,
    /// Record the units that arrived on a transfer, like a purchase-order receipt.
    ReceiveTransfers,
    /// Place, confirm, release and extend checkout holds (checkout runs as a service user).
    HoldStock,
    ReadReservations,
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub email: EmailAddress,
    pub name: Text,
    pub role: Role,
    pub active: bool,
    pub password_hash: PasswordHash,
    /// Bumped whenever every token issued to the user so far must stop working (a password
    /// change, a deactivation); tokens carry the version they were issued at.
    pub token_version: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// The version an `If-Match` names: see [`crate::precondition`].
    pub fn version(&self) -> crate::precondition::Version {
        crate::precondition::version_of(self.updated_at)
    }
}

/// The authenticated caller of a use case. The tenant comes only from a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub role: Role,
}

impl Actor {
    /// `Ok` when the actor's role allows `action`, else `Forbidden`.
    pub fn require(&self, action: Action) -> Result<(), crate::DomainError> {
        if self.role.allows(action) {
            Ok(())
        } else {
            Err(crate::DomainError::Forbidden)
        }
    }
}

/// Claims of an issued session, as the token layer needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub role: Role,
    /// The user's token version when the token was issued.
    pub token_version: u32,
}

impl Session {
    /// The session a token issued to `user` carries.
    pub fn of(user: &User) -> Self {
        Self {
            tenant_id: user.tenant_id,
            user_id: user.id,
            role: user.role,
            token_version: user.token_version,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_matches_the_documented_roles() {
        assert!(Role::Owner.allows(Action::ManageUsers));
        assert!(!Role::Manager.allows(Action::ManageUsers));
        assert!(!Role::Manager.allows(Action::ReadUsers));
        assert!(Role::Manager.allows(Action::AdjustStock));
        assert!(Role::Staff.allows(Action::PlaceOrders));
        assert!(Role::Staff.allows(Action::ReceivePurchaseOrders));
        assert!(!Role::Staff.allows(Action::WriteCatalog));
        assert!(!Role::Staff.allows(Action::AdjustStock));
        assert!(!Role::Staff.allows(Action::FulfilOrders));
        assert!(Role::Staff.allows(Action::ReadLowStock));
        assert!(!Role::Staff.allows(Action::ReadReports));
        assert!(Role::Manager.allows(Action::ReadReports));
        assert!(Role::Staff.allows(Action::HoldStock));
        assert!(Role::Staff.allows(Action::ReadReservations));
    }
}
