//! Auth use cases over mocked ports: who is refused, and that a refusal changes nothing.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};

use super::models::{Actor, Role, Tenant, User};
use super::ports::HashError;
use super::ports::UserWrite;
use super::service::{NewUser, Registration, UserPatch};
use crate::error::{DomainError, StoreError};
use crate::ids::{TenantId, UserId};
use crate::testing::{actor, MockPorts};
use crate::values::{EmailAddress, Password, PasswordHash, TenantSlug, Text};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 5, 6, 7, 8, 9).unwrap()
}

fn tenant() -> Tenant {
    Tenant {
        id: TenantId::new(),
        name: Text::name("Acme Outfitters").unwrap(),
        slug: TenantSlug::new("acme").unwrap(),
        created_at: Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
    }
}

fn user(tenant: TenantId, id: UserId, role: Role, active: bool) -> User {
    let then = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    User {
        id,
        tenant_id: tenant,
        email: EmailAddress::new("ada@acme.example").unwrap(),
        name: Text::name("Ada").unwrap(),
        role,
        active,
        password_hash: PasswordHash::from_phc("$real$hash".into()),
        token_version: 0,
        created_at: then,
        updated_at: then,
    }
}

/// Ports holding `stored` for `who`'s tenant.
fn ports_holding(who: &Actor, stored: User) -> MockPorts {
    let mut ports = MockPorts::default();
    let (tenant, id) = (who.tenant_id, stored.id);
    ports
        .users
        .expect_get()
        .withf(move |t, i| *t == tenant && *i == id)
        .returning(move |_, _| Ok(Some(stored.clone())));
    ports
}

#[tokio::test]
async fn a_deactivated_user_cannot_log_in_even_with_the_right_password() {
    let t = tenant();
    let inactive = user(t.id, UserId::new(), Role::Owner, false);
    let mut ports = MockPorts::default();
    let tenant_id = t.id;
    ports
        .tenants
        .expect_find_by_slug()
        .withf(|slug| slug.as_str() == "acme")
        .returning(move |_| Ok(Some(t.clone())));
    ports
        .users
        .expect_find_by_email()
        .withf(move |tenant, email| *tenant == tenant_id && email.as_str() == "ada@acme.example")
        .returning(move |_, _| Ok(Some(inactive.clone())));
    // Any password verifies, so only the active flag can refuse. The user's own hash is never
    // checked: the decoy is, so the refusal takes as long as a wrong password.
    ports
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash::from_phc("$decoy$hash".into())));
    ports
        .hasher
        .expect_verify()
        .withf(|_, hash| hash.as_str() == "$real$hash")
        .never();
    ports
        .hasher
        .expect_verify()
        .withf(|_, hash| hash.as_str() == "$decoy$hash")
        .times(1)
        .returning(|_, _| Ok(true));
    let services = ports.build_at(now());

    let err = services
        .auth
        .login("acme", "ada@acme.example", "correct horse battery")
        .await
        .unwrap_err();
    // No user comes back, so the API has no one to issue a token to.
    assert!(matches!(err, DomainError::InvalidCredentials), "{err:?}");
}

#[tokio::test]
async fn an_owner_cannot_deactivate_themself_and_nothing_is_saved() {
    let who = actor(Role::Owner);
    let me = user(who.tenant_id, who.user_id, Role::Owner, true);
    let mut ports = ports_holding(&who, me);
    ports.users.expect_update().never();
    let services = ports.build_at(now());

    let patch = UserPatch {
        active: Some(false),
        ..UserPatch::default()
    };
    let err = services
        .auth
        .update_user(&who, &who.user_id, patch, None)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Conflict(_)), "{err:?}");
}

#[tokio::test]
async fn an_owner_cannot_demote_themself_and_nothing_is_saved() {
    let who = actor(Role::Owner);
    let me = user(who.tenant_id, who.user_id, Role::Owner, true);
    let mut ports = ports_holding(&who, me);
    ports.users.expect_update().never();
    let services = ports.build_at(now());

    let patch = UserPatch {
        role: Some(Role::Staff),
        ..UserPatch::default()
    };
    let err = services
        .auth
        .update_user(&who, &who.user_id, patch, None)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Conflict(_)), "{err:?}");
}

#[tokio::test]
async fn an_owner_may_rename_themself_keeping_role_and_active() {
    let who = actor(Role::Owner);
    let me = user(who.tenant_id, who.user_id, Role::Owner, true);
    let mut ports = ports_holding(&who, me);
    let saved = Arc::new(Mutex::new(Vec::new()));
    let log = saved.clone();
    ports.users.expect_update().returning(move |_, u, _| {
        log.lock().unwrap().push(u.clone());
        Ok(())
    });
    let services = ports.build_at(now());

    let patch = UserPatch {
        name: Some(Text::name("Ada L.").unwrap()),
        role: Some(Role::Owner),
        active: Some(true),
    };
    services
        .auth
        .update_user(&who, &who.user_id, patch, None)
        .await
        .unwrap();
    let saved = saved.lock().unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].name.as_str(), "Ada L.");
    assert_eq!((saved[0].role, saved[0].active), (Role::Owner, true));
}

#[tokio::test]
async fn an_owner_may_deactivate_another_user() {
    let who = actor(Role::Owner);
    let other = user(who.tenant_id, UserId::new(), Role::Manager, true);
    let other_id = other.id;
    let mut ports = ports_holding(&who, other.clone());
    let saved = Arc::new(Mutex::new(Vec::new()));
    let log = saved.clone();
    let tenant = who.tenant_id;
    let read = other.version();
    ports
        .users
        .expect_update()
        .withf(move |t, _, w| {
            *t == tenant
                && *w
                    == UserWrite {
                        end_sessions: true,
                        keep_an_owner: false,
                        expected_version: Some(read),
                    }
        })
        .returning(move |_, u, _| {
            log.lock().unwrap().push(u.clone());
            Ok(())
        });
    let services = ports.build_at(now());

    let patch = UserPatch {
        active: Some(false),
        ..UserPatch::default()
    };
    let answer = services
        .auth
        .update_user(&who, &other_id, patch, None)
        .await
        .unwrap();
    let saved = saved.lock().unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(
        saved[0],
        User {
            active: false,
            updated_at: now(),
            ..other.clone()
        }
    );
    // The answer shows the version the store moved to: every earlier token is dead.
    assert_eq!(
        answer,
        User {
            token_version: 1,
            ..saved[0].clone()
        }
    );
}

#[tokio::test]
async fn a_taken_email_is_refused_as_a_duplicate_naming_the_email() {
    let who = actor(Role::Owner);
    let mut ports = MockPorts::default();
    ports
        .hasher
        .expect_hash()
        .withf(|p| p.expose() == "correct horse battery")
        .returning(|_| Ok(PasswordHash::from_phc("$new$hash".into())));
    let tenant = who.tenant_id;
    let tried = Arc::new(Mutex::new(Vec::new()));
    let log = tried.clone();
    ports
        .users
        .expect_insert()
        .withf(move |t, _, record| *t == tenant && record.is_none())
        .times(1)
        .returning(move |_, u, _| {
            log.lock().unwrap().push(u.clone());
            Err(StoreError::Duplicate)
        });
    let services = ports.build_at(now());

    let new = NewUser {
        email: EmailAddress::new("grace@acme.example").unwrap(),
        name: Text::name("Grace").unwrap(),
        password: Password::new("correct horse battery").unwrap(),
        role: Role::Staff,
    };
    let err = services
        .auth
        .create_user(&who, new, None)
        .await
        .unwrap_err();

    let tried = tried.lock().unwrap();
    assert_eq!(tried[0].email.as_str(), "grace@acme.example");
    assert_eq!(tried[0].password_hash.as_str(), "$new$hash");
    assert_eq!((tried[0].role, tried[0].active), (Role::Staff, true));
    let DomainError::Conflict(message) = err else {
        panic!("expected the duplicate-email conflict, got {err:?}");
    };
    assert!(message.contains("grace@acme.example"), "{message}");
}

#[tokio::test]
async fn a_manager_cannot_create_users() {
    let who = actor(Role::Manager);
    let mut ports = MockPorts::default();
    ports.hasher.expect_hash().never();
    ports.users.expect_insert().never();
    let services = ports.build_at(now());

    let new = NewUser {
        email: EmailAddress::new("grace@acme.example").unwrap(),
        name: Text::name("Grace").unwrap(),
        password: Password::new("correct horse battery").unwrap(),
        role: Role::Staff,
    };
    let err = services
        .auth
        .create_user(&who, new, None)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Forbidden), "{err:?}");
}

// ---- registering ----

fn registration() -> Registration {
    Registration {
        tenant_name: Text::name("Acme Outfitters").unwrap(),
        tenant_slug: TenantSlug::new("acme").unwrap(),
        email: EmailAddress::new("ada@acme.example").unwrap(),
        password: Password::new("correct horse battery").unwrap(),
        name: Text::name("Ada").unwrap(),
    }
}

#[tokio::test]
async fn a_new_tenant_is_created_with_its_owner_and_its_default_location_in_one_write() {
    let mut ports = MockPorts::default();
    ports.tenants.expect_find_by_slug().returning(|_| Ok(None));
    ports
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash::from_phc("$new$hash".into())));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    ports
        .tenants
        .expect_create_with_owner()
        .times(1)
        .returning(move |t, u, l| {
            log.lock().unwrap().push((t.clone(), u.clone(), l.clone()));
            Ok(())
        });
    let services = ports.build_at(now());

    let (tenant, owner) = services.auth.register(registration()).await.unwrap();

    let seen = seen.lock().unwrap();
    let (t, u, location) = &seen[0];
    assert_eq!((t, u), (&tenant, &owner));
    assert_eq!(owner.tenant_id, tenant.id);
    assert_eq!(owner.role, Role::Owner);
    assert_eq!(location.tenant_id, tenant.id);
    assert!(location.is_default && location.active);
    assert_eq!(
        (location.code.as_str(), location.name.as_str()),
        ("MAIN", "Main")
    );
    assert_eq!(location.priority.get(), 0);
    assert_eq!((location.created_at, location.updated_at), (now(), now()));
}

#[tokio::test]
async fn a_slug_taken_by_a_racing_registration_is_a_conflict_naming_it() {
    let mut ports = MockPorts::default();
    // Free when read, taken by the time of the write: the store's unique slug decides.
    ports.tenants.expect_find_by_slug().returning(|_| Ok(None));
    ports
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash::from_phc("$new$hash".into())));
    ports
        .tenants
        .expect_create_with_owner()
        .times(1)
        .returning(|_, _, _| Err(StoreError::Duplicate));
    let services = ports.build_at(now());

    let err = services.auth.register(registration()).await.unwrap_err();
    assert!(
        matches!(&err, DomainError::Conflict(m) if m.contains("'acme'")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_taken_slug_is_refused_before_the_password_is_hashed() {
    let mut ports = MockPorts::default();
    let taken = tenant();
    ports
        .tenants
        .expect_find_by_slug()
        .withf(|slug| slug.as_str() == "acme")
        .returning(move |_| Ok(Some(taken.clone())));
    ports.hasher.expect_hash().never();
    ports.tenants.expect_create_with_owner().never();
    let services = ports.build_at(now());

    let err = services.auth.register(registration()).await.unwrap_err();
    assert!(
        matches!(&err, DomainError::Conflict(m) if m.contains("'acme' is taken")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_busy_hasher_is_a_retryable_refusal_not_a_wrong_password() {
    let t = tenant();
    let stored = user(t.id, UserId::new(), Role::Owner, true);
    let mut ports = MockPorts::default();
    ports
        .tenants
        .expect_find_by_slug()
        .returning(move |_| Ok(Some(t.clone())));
    ports
        .users
        .expect_find_by_email()
        .returning(move |_, _| Ok(Some(stored.clone())));
    ports
        .hasher
        .expect_verify()
        .returning(|_, _| Err(HashError::Busy));
    let services = ports.build_at(now());

    let err = services
        .auth
        .login("acme", "ada@acme.example", "correct horse battery")
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn demoting_an_active_owner_asks_the_store_to_keep_one_and_its_refusal_names_the_rule() {
    let who = actor(Role::Owner);
    let other = user(who.tenant_id, UserId::new(), Role::Owner, true);
    let other_id = other.id;
    let mut ports = ports_holding(&who, other);
    ports
        .users
        .expect_update()
        .withf(|_, _, w| w.keep_an_owner && !w.end_sessions)
        .times(1)
        .returning(|_, _, _| Err(StoreError::InUse));
    let services = ports.build_at(now());
    let patch = UserPatch {
        role: Some(Role::Manager),
        ..UserPatch::default()
    };
    let err = services
        .auth
        .update_user(&who, &other_id, patch, None)
        .await
        .unwrap_err();
    match err {
        DomainError::Conflict(detail) => assert!(detail.contains("at least one active OWNER")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn changing_a_manager_needs_no_owner_check() {
    let who = actor(Role::Owner);
    let other = user(who.tenant_id, UserId::new(), Role::Manager, true);
    let other_id = other.id;
    let mut ports = ports_holding(&who, other);
    ports
        .users
        .expect_update()
        .withf(|_, _, w| !w.keep_an_owner)
        .times(1)
        .returning(|_, _, _| Ok(()));
    let services = ports.build_at(now());
    let patch = UserPatch {
        role: Some(Role::Staff),
        ..UserPatch::default()
    };
    services
        .auth
        .update_user(&who, &other_id, patch, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_stale_if_match_writes_nothing() {
    let who = actor(Role::Owner);
    let other = user(who.tenant_id, UserId::new(), Role::Manager, true);
    let other_id = other.id;
    let stale = crate::precondition::Precondition::OneOf(vec![other.version() - 1]);
    let mut ports = ports_holding(&who, other);
    ports.users.expect_update().never();
    let services = ports.build_at(now());
    let patch = UserPatch {
        role: Some(Role::Staff),
        ..UserPatch::default()
    };
    let err = services
        .auth
        .update_user(&who, &other_id, patch, Some(stale))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DomainError::PreconditionFailed { entity: "user" }),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_edit_naming_no_version_is_applied_again_after_losing_a_race() {
    let who = actor(Role::Owner);
    let other = user(who.tenant_id, UserId::new(), Role::Manager, true);
    let other_id = other.id;
    let read = other.version();
    let mut ports = ports_holding(&who, other);
    let mut seq = mockall::Sequence::new();
    ports
        .users
        .expect_update()
        .withf(move |_, _, w| w.expected_version == Some(read))
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _, _| Err(StoreError::VersionConflict));
    ports
        .users
        .expect_update()
        .withf(move |_, u, w| w.expected_version == Some(read) && u.version() > read)
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _, _| Ok(()));
    let services = ports.build_at(now());
    let patch = UserPatch {
        role: Some(Role::Staff),
        ..UserPatch::default()
    };
    let answer = services
        .auth
        .update_user(&who, &other_id, patch, None)
        .await
        .unwrap();
    assert_eq!(answer.role, Role::Staff);
}

#[tokio::test]
async fn an_edit_naming_the_version_read_is_refused_when_it_loses_the_race() {
    let who = actor(Role::Owner);
    let other = user(who.tenant_id, UserId::new(), Role::Manager, true);
    let other_id = other.id;
    let named = crate::precondition::Precondition::OneOf(vec![other.version()]);
    let mut ports = ports_holding(&who, other);
    ports
        .users
        .expect_update()
        .times(1)
        .returning(|_, _, _| Err(StoreError::VersionConflict));
    let services = ports.build_at(now());
    let patch = UserPatch {
        name: Some(Text::name("Renamed").unwrap()),
        ..UserPatch::default()
    };
    let err = services
        .auth
        .update_user(&who, &other_id, patch, Some(named))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DomainError::PreconditionFailed { entity: "user" }),
        "{err:?}"
    );
}
