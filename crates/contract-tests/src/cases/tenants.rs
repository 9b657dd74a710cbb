//! Tenants: created with their owner and their default location in one write; slugs unique
//! across the platform.

use domain::auth::models::Role;
use domain::locations::models::Location;
use domain::values::TenantSlug;
use domain::StoreError;

use crate::fixtures::*;
use crate::Stores;

pub async fn tenant_is_created_with_its_owner(s: Stores) {
    let tenant = tenant_record(&unique_slug());
    let owner = user(tenant.id, "owner@acme.example", Role::Owner);
    let main = Location::first_of(tenant.id, tenant.created_at);
    s.tenants
        .create_with_owner(&tenant, &owner, &main)
        .await
        .unwrap();

    assert_eq!(
        s.tenants.get(&tenant.id).await.unwrap(),
        Some(tenant.clone())
    );
    assert_eq!(
        s.tenants.find_by_slug(&tenant.slug).await.unwrap(),
        Some(tenant.clone())
    );
    assert_eq!(
        s.users.get(&tenant.id, &owner.id).await.unwrap(),
        Some(owner.clone())
    );
    assert_eq!(
        s.users
            .find_by_email(&tenant.id, &owner.email)
            .await
            .unwrap(),
        Some(owner)
    );
    // The default location, read back whole: the tenant's only location, and its default.
    assert_eq!(
        s.locations.get(&tenant.id, &main.id).await.unwrap(),
        Some(main.clone())
    );
    assert_eq!(s.locations.all(&tenant.id).await.unwrap(), vec![main]);
    let unknown = TenantSlug::new(&unique_slug()).unwrap();
    assert_eq!(s.tenants.find_by_slug(&unknown).await.unwrap(), None);
    assert_eq!(
        s.tenants.get(&tenant_record("x-y-z").id).await.unwrap(),
        None
    );
}

pub async fn tenant_slug_is_unique_across_tenants(s: Stores) {
    let slug = unique_slug();
    let first = tenant_record(&slug);
    let first_owner = user(first.id, "owner@first.example", Role::Owner);
    let first_main = Location::first_of(first.id, first.created_at);
    s.tenants
        .create_with_owner(&first, &first_owner, &first_main)
        .await
        .unwrap();

    let second = tenant_record(&slug);
    let second_owner = user(second.id, "owner@second.example", Role::Owner);
    let second_main = Location::first_of(second.id, second.created_at);
    let refused = s
        .tenants
        .create_with_owner(&second, &second_owner, &second_main)
        .await;
    assert!(matches!(refused, Err(StoreError::Duplicate)), "{refused:?}");

    // Nothing of the refused tenant was written, not its owner, not its location.
    assert_eq!(s.tenants.get(&second.id).await.unwrap(), None);
    assert_eq!(
        s.users.get(&second.id, &second_owner.id).await.unwrap(),
        None
    );
    assert_eq!(
        s.locations.get(&second.id, &second_main.id).await.unwrap(),
        None
    );
    assert!(s.locations.all(&second.id).await.unwrap().is_empty());
    assert_eq!(s.locations.all(&first.id).await.unwrap(), vec![first_main]);
    assert_eq!(
        s.tenants
            .find_by_slug(&first.slug)
            .await
            .unwrap()
            .map(|t| t.id),
        Some(first.id)
    );
}
