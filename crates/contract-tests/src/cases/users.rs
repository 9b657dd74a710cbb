//! Users: round trip, update, unique email per tenant, paging.

use domain::auth::models::Role;
use domain::ids::UserId;
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
    s.users.update(&tenant.id, &staff).await.unwrap();
    assert_eq!(
        s.users
            .find_by_email(&tenant.id, &staff.email)
            .await
            .unwrap(),
        Some(staff.clone())
    );

    let mut ghost = user(tenant.id, "ghost@acme.example", Role::Staff);
    ghost.id = UserId::new();
    let missing = s.users.update(&tenant.id, &ghost).await;
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
