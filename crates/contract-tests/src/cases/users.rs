//! Users: round trip, update, unique email per tenant, paging, token versions and the rule that
//! a tenant keeps an active OWNER.

use domain::auth::models::{Role, User};
use domain::auth::ports::UserWrite;
use domain::ids::{TenantId, UserId};
use domain::values::PasswordHash;
use domain::StoreError;

use crate::fixtures::*;
use crate::paging::{all_pages, assert_paged_in_order};
use crate::Stores;

pub async fn user_round_trips_and_updates(s: Stores) {
    let tenant = shop(&s).await.tenant;

    let mut staff = user(tenant.id, "staff@acme.example", Role::Staff);
    s.users.insert(&tenant.id, &staff, None).await.unwrap();
    assert_eq!(
        s.users.get(&tenant.id, &staff.id).await.unwrap(),
        Some(staff.clone())
    );

    staff.name = text("Renamed Person");
    staff.role = Role::Manager;
    staff.active = false;
    staff.updated_at = now() + chrono::Duration::seconds(5);
    s.users
        .update(&tenant.id, &staff, UserWrite::default())
        .await
        .unwrap();
    assert_eq!(
        s.users
            .find_by_email(&tenant.id, &staff.email)
            .await
            .unwrap(),
        Some(staff.clone())
    );

    let mut ghost = user(tenant.id, "ghost@acme.example", Role::Staff);
    ghost.id = UserId::new();
    let missing = s
        .users
        .update(&tenant.id, &ghost, UserWrite::default())
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    assert_eq!(s.users.get(&tenant.id, &ghost.id).await.unwrap(), None);
}

pub async fn user_email_is_unique_per_tenant(s: Stores) {
    let a = tenant_record(&unique_slug());
    let b = tenant_record(&unique_slug());
    let first = user(a.id, "same@acme.example", Role::Staff);
    s.users.insert(&a.id, &first, None).await.unwrap();

    let twin = user(a.id, "same@acme.example", Role::Manager);
    let refused = s.users.insert(&a.id, &twin, None).await;
    assert!(matches!(refused, Err(StoreError::Duplicate)), "{refused:?}");
    assert_eq!(s.users.get(&a.id, &twin.id).await.unwrap(), None);

    let elsewhere = user(b.id, "same@acme.example", Role::Staff);
    s.users.insert(&b.id, &elsewhere, None).await.unwrap();
    assert_eq!(
        s.users
            .find_by_email(&b.id, &elsewhere.email)
            .await
            .unwrap()
            .map(|u| u.id),
        Some(elsewhere.id)
    );
    assert_eq!(
        s.users
            .find_by_email(&a.id, &first.email)
            .await
            .unwrap()
            .map(|u| u.id),
        Some(first.id)
    );
}

pub async fn users_page_oldest_first(s: Stores) {
    let tenant = tenant_record(&unique_slug()).id;
    let mut ids = Vec::new();
    for i in 0..7 {
        let u = user(tenant, &format!("user{i}@acme.example"), Role::Staff);
        s.users.insert(&tenant, &u, None).await.unwrap();
        ids.push(u.id);
    }
    let pages = all_pages(3, |page| {
        let users = s.users.clone();
        async move { users.list(&tenant, &page).await }
    })
    .await;
    assert_paged_in_order(&pages, &ids, |u| u.id);
}

async fn stored(s: &Stores, tenant: &TenantId, id: &UserId) -> User {
    s.users
        .get(tenant, id)
        .await
        .unwrap()
        .expect("the user is stored")
}

pub async fn ending_sessions_and_replacing_a_password_each_add_one_to_the_token_version(s: Stores) {
    let tenant = shop(&s).await.tenant;
    let staff = user(tenant.id, "versions@acme.example", Role::Staff);
    s.users.insert(&tenant.id, &staff, None).await.unwrap();
    assert_eq!(stored(&s, &tenant.id, &staff.id).await.token_version, 0);

    let hash = PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3".into());
    let later = now() + chrono::Duration::seconds(9);
    s.users
        .replace_password(&tenant.id, &staff.id, &hash, later)
        .await
        .unwrap();
    let after = stored(&s, &tenant.id, &staff.id).await;
    assert_eq!(after.token_version, 1);
    assert_eq!(after.password_hash, hash);
    assert_eq!(after.updated_at, later);
    assert_eq!(
        (after.name.clone(), after.role, after.active),
        (staff.name.clone(), Role::Staff, true)
    );

    // The version the caller holds is never written: the stored one is incremented.
    let deactivated = User {
        active: false,
        token_version: 0,
        ..after.clone()
    };
    let end = UserWrite {
        end_sessions: true,
        ..UserWrite::default()
    };
    s.users.update(&tenant.id, &deactivated, end).await.unwrap();
    let after = stored(&s, &tenant.id, &staff.id).await;
    assert_eq!((after.token_version, after.active), (2, false));
    // A plain update leaves the version alone.
    s.users
        .update(&tenant.id, &after, UserWrite::default())
        .await
        .unwrap();
    assert_eq!(stored(&s, &tenant.id, &staff.id).await.token_version, 2);

    let ghost = UserId::new();
    let missing = s
        .users
        .replace_password(&tenant.id, &ghost, &hash, later)
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    let elsewhere = shop(&s).await.tenant;
    let missing = s
        .users
        .replace_password(&elsewhere.id, &staff.id, &hash, later)
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    assert_eq!(stored(&s, &tenant.id, &staff.id).await.password_hash, hash);
}

const KEEP: UserWrite = UserWrite {
    end_sessions: false,
    keep_an_owner: true,
    expected_version: None,
};

async fn active_owners(s: &Stores, tenant: &TenantId) -> usize {
    let everyone = crate::paging::all_pages(50, |page| {
        let users = s.users.clone();
        let tenant = *tenant;
        async move { users.list(&tenant, &page).await }
    })
    .await;
    everyone
        .iter()
        .flatten()
        .filter(|u| u.role == Role::Owner && u.active)
        .count()
}

pub async fn the_last_active_owner_cannot_be_demoted_or_deactivated(s: Stores) {
    let shop = shop(&s).await;
    let (tenant, owner) = (shop.tenant.id, shop.owner);
    for change in [
        User {
            role: Role::Manager,
            ..owner.clone()
        },
        User {
            active: false,
            ..owner.clone()
        },
    ] {
        let refused = s.users.update(&tenant, &change, KEEP).await;
        assert!(matches!(refused, Err(StoreError::InUse)), "{refused:?}");
        assert_eq!(
            stored(&s, &tenant, &owner.id).await,
            owner,
            "nothing written"
        );
    }
    // With a second active owner, the first may go.
    let second = user(tenant, "second-owner@acme.example", Role::Owner);
    s.users.insert(&tenant, &second, None).await.unwrap();
    let demoted = User {
        role: Role::Staff,
        ..owner.clone()
    };
    s.users.update(&tenant, &demoted, KEEP).await.unwrap();
    assert_eq!(stored(&s, &tenant, &owner.id).await.role, Role::Staff);
    // An inactive owner does not count.
    let third = User {
        active: false,
        ..user(tenant, "inactive-owner@acme.example", Role::Owner)
    };
    s.users.insert(&tenant, &third, None).await.unwrap();
    let refused = s
        .users
        .update(
            &tenant,
            &User {
                active: false,
                ..second.clone()
            },
            KEEP,
        )
        .await;
    assert!(matches!(refused, Err(StoreError::InUse)), "{refused:?}");
    assert_eq!(active_owners(&s, &tenant).await, 1);
    // Another tenant's user is not found, whatever the rule.
    let elsewhere = shop_tenant(&s).await;
    let missing = s.users.update(&elsewhere, &demoted, KEEP).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

async fn shop_tenant(s: &Stores) -> TenantId {
    shop(s).await.tenant.id
}

/// Two owners demote each other at the same instant, round after round: whatever the
/// interleaving, at least one active OWNER remains, and exactly one of the two writes wins.
pub async fn two_owners_demoting_each_other_at_once_leave_one_owner(s: Stores) {
    const ROUNDS: usize = 25;
    for round in 0..ROUNDS {
        let shop = shop(&s).await;
        let tenant = shop.tenant.id;
        let a = shop.owner;
        let b = user(tenant, &format!("b{round}@acme.example"), Role::Owner);
        s.users.insert(&tenant, &b, None).await.unwrap();
        let demote = |who: &User, active: bool| User {
            role: if active { Role::Manager } else { Role::Owner },
            active,
            ..who.clone()
        };
        // Alternate demotion and deactivation so both ways of losing an owner race.
        let (to_a, to_b) = (demote(&a, round % 2 == 0), demote(&b, round % 3 != 0));
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let (users_a, users_b) = (s.users.clone(), s.users.clone());
        let (gate_a, gate_b) = (barrier.clone(), barrier);
        let first = tokio::spawn(async move {
            gate_a.wait().await;
            users_a.update(&tenant, &to_a, KEEP).await
        });
        let second = tokio::spawn(async move {
            gate_b.wait().await;
            users_b.update(&tenant, &to_b, KEEP).await
        });
        let answers = [first.await.unwrap(), second.await.unwrap()];
        let won = answers.iter().filter(|a| a.is_ok()).count();
        for answer in &answers {
            assert!(
                matches!(answer, Ok(()) | Err(StoreError::InUse)),
                "round {round}: {answer:?}"
            );
        }
        assert_eq!(
            active_owners(&s, &tenant).await,
            1,
            "round {round}: {answers:?}"
        );
        assert_eq!(won, 1, "round {round}: {answers:?}");
    }
}
