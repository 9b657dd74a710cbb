//! Builders of domain records and a stocked shop for the focused adapter tests.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::auth::models::{Role, Tenant, User};
use domain::catalog::models::{Product, Variant};
use domain::ids::{
    LocationId, MovementId, OrderId, ProductId, ReservationId, TenantId, UserId, VariantId,
};
use domain::locations::models::Location;
use domain::orders::models::{Allocation, Order, OrderLine, OrderStatus};
use domain::reservations::models::{
    HoldAllocation, Reservation, ReservationLine, ReservationStatus,
};
use domain::stock::models::{DocumentWrite, LedgerWrite, MovementKind, StockChange};
use domain::values::{
    Attributes, EmailAddress, Money, PasswordHash, Sku, StockLevel, TenantSlug, Text,
};
use infra_mongo::MongoStore;
use mongodb::bson::{doc, Document};

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
        token_version: 0,
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
        hold: None,
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

/// A tenant with its default location, one product and one supplier, stored.
pub struct Shop {
    pub tenant: TenantId,
    pub main: LocationId,
    pub product: ProductId,
    /// For purchase orders, which are never written without their supplier.
    pub supplier: domain::ids::SupplierId,
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
        let supplier = domain::purchasing::models::Supplier {
            id: domain::ids::SupplierId::new(),
            tenant_id: t.id,
            name: Text::name("Mill").unwrap(),
            email: None,
            phone: None,
            lead_time_days: None,
            created_at: now(),
            updated_at: now(),
        };
        domain::purchasing::ports::SupplierRepository::insert(store, &t.id, &supplier, None)
            .await
            .expect("insert supplier");
        Shop {
            tenant: t.id,
            main: main.id,
            product: p.id,
            supplier: supplier.id,
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

/// A collection of the test's database, read and written as plain documents (behind the
/// store's back).
pub async fn collection(db: &TestDb, name: &str) -> mongodb::Collection<Document> {
    mongodb::Client::with_uri_str(db.url())
        .await
        .unwrap()
        .default_database()
        .unwrap()
        .collection::<Document>(name)
}

/// The variant's document as stored.
pub async fn raw_variant(db: &TestDb, id: &VariantId) -> Document {
    collection(db, "variants")
        .await
        .find_one(doc! { "_id": id.to_string() })
        .await
        .unwrap()
        .expect("the variant document")
}

/// `$set` of fields of a variant document behind the ledger's back.
pub async fn set(db: &TestDb, id: &VariantId, fields: Document) {
    collection(db, "variants")
        .await
        .update_one(doc! { "_id": id.to_string() }, doc! { "$set": fields })
        .await
        .unwrap();
}

/// An ACTIVE reservation of the tenant holding `quantity` units of `variant` at `at` until
/// `expires_at`.
pub fn reservation(
    tenant: &TenantId,
    variant: VariantId,
    at: LocationId,
    quantity: i64,
    expires_at: DateTime<Utc>,
) -> Reservation {
    Reservation {
        id: ReservationId::new(),
        tenant_id: *tenant,
        status: ReservationStatus::Active,
        lines: vec![ReservationLine {
            variant_id: variant,
            sku: Sku::new("TS-1").unwrap(),
            quantity,
            allocations: vec![HoldAllocation {
                location_id: at,
                quantity,
            }],
        }],
        reference: Some(Text::new("cart-7", 100).unwrap()),
        expires_at,
        order_id: None,
        created_by: UserId::new(),
        created_at: now(),
        updated_at: now(),
        version: 1,
    }
}

/// A PLACED order of the tenant committing `quantity` units of `variant` at `at`.
pub fn placed_order(tenant: &TenantId, variant: VariantId, at: LocationId, quantity: i64) -> Order {
    Order {
        id: OrderId::new(),
        tenant_id: *tenant,
        status: OrderStatus::Placed,
        lines: vec![OrderLine {
            variant_id: variant,
            sku: Sku::new("TS-1").unwrap(),
            quantity,
            unit_price: Money::new(100).unwrap(),
            line_total: Money::new(100 * quantity).unwrap(),
            returned: 0,
            allocations: vec![Allocation {
                location_id: at,
                quantity,
                returned: 0,
            }],
        }],
        customer: None,
        note: None,
        location_id: None,
        sold_at_placement: false,
        total: Money::new(100 * quantity).unwrap(),
        placed_by: UserId::new(),
        created_at: now(),
        updated_at: now(),
        version: 1,
    }
}
