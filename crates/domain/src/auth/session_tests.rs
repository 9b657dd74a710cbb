//! Resolving sessions through the cache, over mocked ports: what is read from the store, when
//! a change is announced, and that a change is never hidden by what was kept.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use tokio::sync::watch;

use super::models::{Actor, Role, Session, User};
use super::ports::{InvalidationError, MockSessionInvalidation, SessionSink};
use super::service::UserPatch;
use crate::error::DomainError;
use crate::events::FanoutSubscription;
use crate::ids::{TenantId, UserId};
use crate::testing::{actor, MockPorts};
use crate::values::{EmailAddress, Password, PasswordHash, Text};
use crate::Services;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 5, 6, 7, 8, 9).unwrap()
}

fn user(tenant: TenantId, role: Role) -> User {
    let then = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    User {
        id: UserId::new(),
        tenant_id: tenant,
        email: EmailAddress::new("sam@acme.example").unwrap(),
        name: Text::name("Sam").unwrap(),
        role,
        active: true,
        password_hash: PasswordHash::from_phc("$hash".into()),
        token_version: 0,
        created_at: then,
        updated_at: then,
    }
}

/// A store holding `stored` (which `update` overwrites), counting the reads of the user.
struct Store {
    stored: Arc<Mutex<User>>,
    reads: Arc<AtomicUsize>,
}

fn ports_with(stored: User) -> (MockPorts, Store) {
    let stored = Arc::new(Mutex::new(stored));
    let reads = Arc::new(AtomicUsize::new(0));
    let mut ports = MockPorts::default();
    let (held, counted) = (stored.clone(), reads.clone());
    ports.users.expect_get().returning(move |t, i| {
        counted.fetch_add(1, Ordering::SeqCst);
        let user = held.lock().unwrap().clone();
        Ok((user.tenant_id == *t && user.id == *i).then_some(user))
    });
    let held = stored.clone();
    ports
        .users
        .expect_update()
        .returning(move |_, user, write| {
            let mut held = held.lock().unwrap();
            let version = held.token_version + u32::from(write.end_sessions);
            *held = User {
                token_version: version,
                ..user.clone()
            };
            Ok(())
        });
    let held = stored.clone();
    ports
        .users
        .expect_replace_password()
        .returning(move |_, _, hash, at| {
            let mut held = held.lock().unwrap();
            held.password_hash = hash.clone();
            held.updated_at = at;
            held.token_version += 1;
            Ok(())
        });
    (ports, Store { stored, reads })
}

/// The sink a channel was given when the service subscribed.
type GivenSink = Arc<Mutex<Option<Arc<dyn SessionSink>>>>;

/// A channel that is heard, records the sink it was given, and expects `announcements`.
fn heard_channel(
    announcements: usize,
    expected: Option<(TenantId, UserId)>,
) -> (MockSessionInvalidation, GivenSink) {
    let mut channel = MockSessionInvalidation::new();
    let sink = Arc::new(Mutex::new(None));
    let given = sink.clone();
    channel.expect_subscribe().times(1).returning(move |s| {
        *given.lock().unwrap() = Some(s);
        let (state, heard) = watch::channel(true);
        FanoutSubscription::new(heard, state)
    });
    channel
        .expect_publish()
        .withf(move |t, u| expected.is_none_or(|(et, eu)| (*t, *u) == (et, eu)))
        .times(announcements)
        .returning(|_, _| Ok(()));
    (channel, sink)
}

fn session(user: &User) -> Session {
    Session::of(user)
}

fn owner_of(tenant: TenantId) -> Actor {
    Actor {
        tenant_id: tenant,
        ..actor(Role::Owner)
    }
}

fn services_with(ports: MockPorts, channel: MockSessionInvalidation) -> Services {
    let mut services = ports.build_at(now());
    services.auth.invalidate_through(Arc::new(channel));
    services
}

#[tokio::test]
async fn a_session_is_read_once_then_again_after_a_demotion_here_which_is_announced() {
    let tenant = TenantId::new();
    let manager = user(tenant, Role::Manager);
    let (ports, store) = ports_with(manager.clone());
    let (channel, _) = heard_channel(1, Some((tenant, manager.id)));
    let services = services_with(ports, channel);
    assert!(services.auth.hears_invalidations());

    for _ in 0..3 {
        let got = services
            .auth
            .authenticate(&session(&manager))
            .await
            .unwrap();
        assert_eq!(got.role, Role::Manager);
    }
    assert_eq!(
        store.reads.load(Ordering::SeqCst),
        1,
        "kept after the first read"
    );

    let patch = UserPatch {
        role: Some(Role::Staff),
        ..UserPatch::default()
    };
    services
        .auth
        .update_user(&owner_of(tenant), &manager.id, patch, None)
        .await
        .unwrap();
    let got = services
        .auth
        .authenticate(&session(&manager))
        .await
        .unwrap();
    assert_eq!(got.role, Role::Staff, "the demotion applies at once here");
    // One read for the update, one for the session forgotten by it.
    assert_eq!(store.reads.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_deactivation_here_refuses_the_next_request_and_is_announced() {
    let tenant = TenantId::new();
    let staff = user(tenant, Role::Staff);
    let (ports, store) = ports_with(staff.clone());
    let (channel, _) = heard_channel(1, Some((tenant, staff.id)));
    let services = services_with(ports, channel);
    services.auth.authenticate(&session(&staff)).await.unwrap();

    let patch = UserPatch {
        active: Some(false),
        ..UserPatch::default()
    };
    services
        .auth
        .update_user(&owner_of(tenant), &staff.id, patch, None)
        .await
        .unwrap();
    assert!(!store.stored.lock().unwrap().active);
    let err = services
        .auth
        .authenticate(&session(&staff))
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Unauthenticated), "{err:?}");
}

#[tokio::test]
async fn an_announcement_from_another_instance_forgets_the_user() {
    let tenant = TenantId::new();
    let manager = user(tenant, Role::Manager);
    let (ports, store) = ports_with(manager.clone());
    let (channel, sink) = heard_channel(0, None);
    let services = services_with(ports, channel);
    services
        .auth
        .authenticate(&session(&manager))
        .await
        .unwrap();

    // Another instance demoted the user in the store and announced it.
    store.stored.lock().unwrap().role = Role::Staff;
    let kept = services
        .auth
        .authenticate(&session(&manager))
        .await
        .unwrap();
    assert_eq!(
        kept.role,
        Role::Manager,
        "still kept before the announcement"
    );
    let sink = sink.lock().unwrap().clone().expect("subscribed");
    sink.forget(&tenant, &manager.id);
    let got = services
        .auth
        .authenticate(&session(&manager))
        .await
        .unwrap();
    assert_eq!(got.role, Role::Staff);
    assert_eq!(store.reads.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_rename_changes_no_session_and_announces_nothing() {
    let tenant = TenantId::new();
    let manager = user(tenant, Role::Manager);
    let (ports, _) = ports_with(manager.clone());
    let (channel, _) = heard_channel(0, None);
    let services = services_with(ports, channel);
    let patch = UserPatch {
        name: Some(Text::name("Samantha").unwrap()),
        role: Some(Role::Manager),
        active: Some(true),
    };
    services
        .auth
        .update_user(&owner_of(tenant), &manager.id, patch, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_refused_announcement_is_retried_until_the_channel_takes_it() {
    let tenant = TenantId::new();
    let manager = user(tenant, Role::Manager);
    let (ports, _) = ports_with(manager.clone());
    let mut channel = MockSessionInvalidation::new();
    channel.expect_subscribe().returning(|_| {
        let (state, heard) = watch::channel(true);
        FanoutSubscription::new(heard, state)
    });
    let attempts = Arc::new(AtomicUsize::new(0));
    let counted = attempts.clone();
    channel.expect_publish().returning(move |_, _| {
        if counted.fetch_add(1, Ordering::SeqCst) < 2 {
            Err(InvalidationError::Unavailable("down".into()))
        } else {
            Ok(())
        }
    });
    let services = services_with(ports, channel);
    let patch = UserPatch {
        role: Some(Role::Staff),
        ..UserPatch::default()
    };
    services
        .auth
        .update_user(&owner_of(tenant), &manager.id, patch, None)
        .await
        .expect("the change is saved whatever the channel says");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        3,
        "retried until taken, then stopped"
    );
}

#[tokio::test]
async fn without_a_channel_nothing_is_heard_and_a_session_is_still_kept_briefly() {
    let tenant = TenantId::new();
    let manager = user(tenant, Role::Manager);
    let (ports, store) = ports_with(manager.clone());
    let services = ports.build_at(now());
    assert!(!services.auth.hears_invalidations());
    services
        .auth
        .authenticate(&session(&manager))
        .await
        .unwrap();
    services
        .auth
        .authenticate(&session(&manager))
        .await
        .unwrap();
    assert_eq!(store.reads.load(Ordering::SeqCst), 1);
    tokio::time::sleep(super::cache::SHORT_BOUND).await;
    services
        .auth
        .authenticate(&session(&manager))
        .await
        .unwrap();
    assert_eq!(
        store.reads.load(Ordering::SeqCst),
        2,
        "read again after one second"
    );
}

#[tokio::test]
async fn an_inactive_or_unknown_user_is_read_every_time() {
    let tenant = TenantId::new();
    let mut inactive = user(tenant, Role::Staff);
    inactive.active = false;
    let (ports, store) = ports_with(inactive.clone());
    let services = ports.build_at(now());
    for _ in 0..2 {
        assert!(services
            .auth
            .authenticate(&session(&inactive))
            .await
            .is_err());
    }
    assert_eq!(store.reads.load(Ordering::SeqCst), 2);
}

/// Records every user handed to it.
#[derive(Default)]
struct Heard(Mutex<Vec<(TenantId, UserId)>>);

impl SessionSink for Heard {
    fn forget(&self, tenant: &TenantId, user: &UserId) {
        self.0.lock().unwrap().push((*tenant, *user));
    }
}

#[tokio::test]
async fn a_password_change_refuses_every_older_token_at_once_even_one_that_was_kept() {
    let tenant = TenantId::new();
    let staff = user(tenant, Role::Staff);
    let (mut ports, store) = ports_with(staff.clone());
    ports
        .hasher
        .expect_verify()
        .returning(|p, _| Ok(p.expose() == "the old password"));
    ports
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash::from_phc("$new$hash".into())));
    let (channel, _) = heard_channel(1, Some((tenant, staff.id)));
    let services = services_with(ports, channel);
    let listener = Arc::new(Heard::default());
    services.auth.on_session_change(listener.clone());
    let old = session(&staff);
    let me = services.auth.authenticate(&old).await.unwrap();

    services
        .auth
        .change_password(
            &me,
            "the old password",
            Password::new("a brand new one").unwrap(),
        )
        .await
        .unwrap();
    let stored = store.stored.lock().unwrap().clone();
    assert_eq!(stored.token_version, 1);
    assert_eq!(stored.password_hash.as_str(), "$new$hash");
    let err = services.auth.authenticate(&old).await.unwrap_err();
    assert!(matches!(err, DomainError::Unauthenticated), "{err:?}");
    assert_eq!(*listener.0.lock().unwrap(), vec![(tenant, staff.id)]);
    // A token issued after the change works, and the old one stays refused once it is kept.
    services.auth.authenticate(&session(&stored)).await.unwrap();
    let err = services.auth.authenticate(&old).await.unwrap_err();
    assert!(matches!(err, DomainError::Unauthenticated), "{err:?}");
}

#[tokio::test]
async fn a_wrong_current_password_changes_nothing_and_names_the_field() {
    let tenant = TenantId::new();
    let staff = user(tenant, Role::Staff);
    let (mut ports, store) = ports_with(staff.clone());
    ports.hasher.expect_verify().returning(|_, _| Ok(false));
    ports.hasher.expect_hash().never();
    let (channel, _) = heard_channel(0, None);
    let services = services_with(ports, channel);
    let me = services.auth.authenticate(&session(&staff)).await.unwrap();
    let err = services
        .auth
        .change_password(
            &me,
            "not it at all",
            Password::new("a brand new one").unwrap(),
        )
        .await
        .unwrap_err();
    match err {
        DomainError::Validation(fields) => assert_eq!(fields[0].field, "currentPassword"),
        other => panic!("{other:?}"),
    }
    assert_eq!(store.stored.lock().unwrap().token_version, 0);
}

#[tokio::test]
async fn a_deactivation_ends_every_token_so_a_reactivation_revives_none() {
    let tenant = TenantId::new();
    let staff = user(tenant, Role::Staff);
    let (ports, store) = ports_with(staff.clone());
    let (channel, _) = heard_channel(2, Some((tenant, staff.id)));
    let services = services_with(ports, channel);
    let old = session(&staff);
    for active in [false, true] {
        let patch = UserPatch {
            active: Some(active),
            ..UserPatch::default()
        };
        services
            .auth
            .update_user(&owner_of(tenant), &staff.id, patch, None)
            .await
            .unwrap();
    }
    assert!(store.stored.lock().unwrap().active);
    let err = services.auth.authenticate(&old).await.unwrap_err();
    assert!(matches!(err, DomainError::Unauthenticated), "{err:?}");
}

#[tokio::test]
async fn an_announcement_heard_from_the_channel_reaches_the_listeners_after_the_cache_forgot() {
    let tenant = TenantId::new();
    let staff = user(tenant, Role::Staff);
    let (ports, store) = ports_with(staff.clone());
    let (channel, sink) = heard_channel(0, None);
    let services = services_with(ports, channel);
    let listener = Arc::new(Heard::default());
    services.auth.on_session_change(listener.clone());
    services.auth.authenticate(&session(&staff)).await.unwrap();
    let sink = sink.lock().unwrap().clone().unwrap();
    sink.forget(&tenant, &staff.id);
    assert_eq!(*listener.0.lock().unwrap(), vec![(tenant, staff.id)]);
    services.auth.authenticate(&session(&staff)).await.unwrap();
    assert_eq!(
        store.reads.load(Ordering::SeqCst),
        2,
        "read again after hearing"
    );
}
