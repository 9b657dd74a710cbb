//! Conditional user writes (`If-Match`): an update that names a version writes only while the
//! stored user is at that version, decided in the same write as the last-OWNER rule and the
//! token-version increment, so a stale edit neither lands nor ends anyone's sessions.

use chrono::Duration;
use domain::auth::models::{Role, User};
use domain::auth::ports::UserWrite;
use domain::ids::UserId;
use domain::StoreError;

use crate::fixtures::*;
use crate::Stores;

pub async fn a_stale_user_version_writes_nothing_and_the_current_one_writes(s: Stores) {
    let shop = shop(&s).await;
    let (tenant, owner) = (shop.tenant.id, shop.owner);
    let staff = user(tenant, "versioned@acme.example", Role::Staff);
    s.users.insert(&tenant, &staff, None).await.unwrap();
    let read = staff.version();
    let at = |write: UserWrite, version| UserWrite {
        expected_version: Some(version),
        ..write
    };
    let get = |id: UserId| {
        let users = s.users.clone();
        async move { users.get(&tenant, &id).await.unwrap().unwrap() }
    };

    let first = User {
        name: text("First edit"),
        role: Role::Manager,
        updated_at: staff.updated_at + Duration::milliseconds(5),
        ..staff.clone()
    };
    s.users
        .update(&tenant, &first, at(UserWrite::default(), read))
        .await
        .unwrap();
    assert_eq!(get(staff.id).await, first);

    // A second writer that read the same version loses: no field written, no session ended.
    let second = User {
        name: text("Second edit"),
        active: false,
        updated_at: staff.updated_at + Duration::milliseconds(9),
        ..staff.clone()
    };
    let end_sessions = UserWrite {
        end_sessions: true,
        ..UserWrite::default()
    };
    let stale = s
        .users
        .update(&tenant, &second, at(end_sessions, read))
        .await;
    assert!(
        matches!(stale, Err(StoreError::VersionConflict)),
        "{stale:?}"
    );
    assert_eq!(get(staff.id).await, first, "nothing written");

    // The current version writes, and the increment still happens inside the write.
    let deactivated = User {
        active: false,
        updated_at: first.updated_at + Duration::milliseconds(1),
        ..first.clone()
    };
    s.users
        .update(&tenant, &deactivated, at(end_sessions, first.version()))
        .await
        .unwrap();
    let stored = get(staff.id).await;
    assert_eq!((stored.active, stored.token_version), (false, 1));
    assert_eq!(stored.version(), deactivated.version());

    // With the last-OWNER rule asked for: a stale version is a version conflict, the current
    // one still meets the rule, and neither writes.
    let keep = UserWrite {
        keep_an_owner: true,
        ..UserWrite::default()
    };
    let demoted = User {
        role: Role::Staff,
        updated_at: owner.updated_at + Duration::milliseconds(3),
        ..owner.clone()
    };
    let stale = s
        .users
        .update(&tenant, &demoted, at(keep, owner.version() - 1))
        .await;
    assert!(
        matches!(stale, Err(StoreError::VersionConflict)),
        "{stale:?}"
    );
    let last = s
        .users
        .update(&tenant, &demoted, at(keep, owner.version()))
        .await;
    assert!(matches!(last, Err(StoreError::InUse)), "{last:?}");
    assert_eq!(get(owner.id).await, owner, "nothing written");

    // A user that does not exist, or another tenant's, is not found at any version.
    let ghost = user(tenant, "ghost@acme.example", Role::Staff);
    for write in [UserWrite::default(), keep] {
        let missing = s
            .users
            .update(&tenant, &ghost, at(write, ghost.version()))
            .await;
        assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    }
    let elsewhere = shop_of(&s).await;
    let missing = s
        .users
        .update(&elsewhere, &deactivated, at(keep, deactivated.version()))
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

async fn shop_of(s: &Stores) -> domain::ids::TenantId {
    shop(s).await.tenant.id
}
