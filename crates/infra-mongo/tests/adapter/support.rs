//! Builders of domain records and a stocked shop for the focused adapter tests.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::auth::models::{Role, Tenant, User};
use domain::catalog::models::{Product, Variant};
use domain::ids::{LocationId, MovementId, ProductId, TenantId, UserId, VariantId};
use domain::locations::models::Location;
use domain::stock::models::{DocumentWrite, LedgerWrite, MovementKind, StockChange};
use domain::values::{
    Attributes, EmailAddress, Money, PasswordHash, Sku, StockLevel, TenantSlug, Text,
};
use infra_mongo::MongoStore;

pub use crate::common::TestDb;

/// A time at millisecond precision (what the store keeps).
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap()
}

pub fn tenant(slug: &str) -> Tenant {
    Tenant {
        id: TenantId::new(),
        name: Text::name("Acme").unwrap(),
        slug: TenantSlug::new(slug).unwrap(),
        created_at: now(),
    }
}

pub fn user(tenant: &TenantId, email: &str) -> User {
    User {
        id: UserId::new(),
        tenant_id: *tenant,
        email: EmailAddress::new(email).unwrap(),
        name: Text::name("Ann").unwrap(),
        role: Role::Owner,
        active: true,
        password_hash: PasswordHash::from_phc("$argon2id$fake".into()),
        created_at: now(),
        updated_at: now(),
    }
}

pub fn product(tenant: &TenantId) -> Product {
    Product {
        id: ProductId::new(),
        tenant_id: *tenant,
        name: Text::name("T-shirt").unwrap(),
        description: None,
        created_at: now(),
        updated_at: now(),
    }
}

pub fn variant(tenant: &TenantId, product: &ProductId, sku: &str) -> Variant {
    let mut attributes = BTreeMap::new();
    attributes.insert("size".to_owned(), "M".to_owned());
    attributes.insert("$odd.key".to_owned(), "kept as is".to_owned());
    Variant {
        id: VariantId::new(),
        tenant_id: *tenant,
        product_id: *product,
        sku: Sku::new(sku).unwrap(),
        attributes: Attributes::new(attributes).unwrap(),
        price: Money::new(1999).unwrap(),
        reorder_level: StockLevel::new(2).unwrap(),
        stock: 0,
        state: Default::default(),
        incoming: 0,
        levels: Vec::new(),
        in_transit: 0,
        created_at: now(),
        updated_at: now(),
    }
}

/// One stock change of `delta` on `variant` at `location`.
pub fn change(
    variant: &VariantId,
    location: &LocationId,
    kind: MovementKind,
    delta: i64,
) -> StockChange {
    StockChange {
        movement_id: MovementId::new(),
        variant_id: *variant,
        location_id: *location,
        kind,
        delta,
        claims: Default::default(),
        expected_stock: None,
        // Units leaving on a transfer go into transit; units arriving come out of it.
        in_transit_delta: match kind {
            MovementKind::TransferOut | MovementKind::TransferIn => -delta,
            _ => 0,
        },
        reason: None,
        order_id: None,
        purchase_order_id: None,
        transfer_id: None,
        unit_cost: None,
        actor: UserId::new(),
        at: now(),
    }
}

/// A write of `changes` alone.
pub fn changes(changes: Vec<StockChange>) -> LedgerWrite {
    LedgerWrite {
        changes,
        document: DocumentWrite::None,
        idempotency: None,
    }
}

/// A tenant with its default location and one product, stored.
pub struct Shop {
    pub tenant: TenantId,
    pub main: LocationId,
    pub product: ProductId,
}

impl Shop {
    pub async fn open(store: &MongoStore, slug: &str) -> Shop {
        use domain::auth::ports::TenantRepository;
        use domain::catalog::ports::ProductRepository;
        let t = tenant(slug);
        let main = Location::first_of(t.id, now());
        store
            .create_with_owner(&t, &user(&t.id, "owner@example.com"), &main)
            .await
            .expect("create tenant");
        let p = product(&t.id);
        store.insert(&t.id, &p, None).await.expect("insert product");
        Shop {
            tenant: t.id,
            main: main.id,
            product: p.id,
        }
    }

    /// A stored variant holding `stock` units at the default location, received through the
    /// ledger.
    pub async fn variant(&self, store: &MongoStore, sku: &str, stock: i64) -> VariantId {
        use domain::catalog::ports::VariantRepository;
        use domain::stock::ports::LedgerRepository;
        let v = variant(&self.tenant, &self.product, sku);
        VariantRepository::insert(store, &self.tenant, &v, None)
            .await
            .expect("insert variant");
        if stock > 0 {
            store
                .commit(
                    &self.tenant,
                    changes(vec![change(
                        &v.id,
                        &self.main,
                        MovementKind::Purchase,
                        stock,
                    )]),
                )
                .await
                .expect("receive stock");
        }
        v.id
    }

    /// The variant's total stock.
    pub async fn stock(&self, store: &MongoStore, variant: &VariantId) -> i64 {
        use domain::catalog::ports::VariantRepository;
        VariantRepository::get(store, &self.tenant, variant)
            .await
            .expect("read variant")
            .expect("variant exists")
            .stock
    }
}
