//! Builders of valid domain records for the contract cases.
//!
//! Every record gets fresh ids and a fresh slug or SKU where uniqueness matters, so cases never
//! collide even when an adapter's suite shares one database server. Times are truncated to
//! milliseconds, the precision every store keeps, so a record read back compares equal.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use domain::auth::models::{Role, Tenant, User};
use domain::catalog::models::{Product, Variant};
use domain::idempotency::{IdempotencyWrite, StoredResponse};
use domain::ids::{
    MovementId, OrderId, ProductId, PurchaseOrderId, SupplierId, TenantId, UserId, VariantId,
};
use domain::orders::models::{Customer, Order, OrderLine, OrderStatus};
use domain::purchasing::models::{PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus, Supplier};
use domain::stock::models::{
    Committed, DocumentWrite, LedgerIdempotency, LedgerWrite, MovementKind, StockChange,
};
use domain::values::{
    Attributes, EmailAddress, Money, PasswordHash, Sku, StockLevel, TenantSlug, Text,
};

use crate::Stores;

/// Now, at the precision stores keep.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// A short unique suffix for slugs, SKUs and emails.
pub fn unique() -> String {
    // The tail of a UUIDv7 is random (its head is the time, shared by ids made together).
    let id = uuid::Uuid::now_v7().simple().to_string();
    id[id.len() - 12..].to_owned()
}

pub fn text(s: &str) -> Text {
    Text::new(s, 2000).expect("valid text")
}

pub fn email(s: &str) -> EmailAddress {
    EmailAddress::new(s).expect("valid email")
}

pub fn sku(s: &str) -> Sku {
    Sku::new(s).expect("valid sku")
}

pub fn money(minor_units: i64) -> Money {
    Money::new(minor_units).expect("valid money")
}

pub fn tenant_record(slug: &str) -> Tenant {
    Tenant {
        id: TenantId::new(),
        name: text("Acme Trading"),
        slug: TenantSlug::new(slug).expect("valid slug"),
        created_at: now(),
    }
}

/// A slug no other case uses.
pub fn unique_slug() -> String {
    format!("shop-{}", unique())
}

pub fn user(tenant: TenantId, address: &str, role: Role) -> User {
    let at = now();
    User {
        id: UserId::new(),
        tenant_id: tenant,
        email: email(address),
        name: text("Ann Example"),
        role,
        active: true,
        password_hash: PasswordHash::from_phc(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        ),
        created_at: at,
        updated_at: at,
    }
}

pub fn product(tenant: TenantId, name: &str) -> Product {
    let at = now();
    Product {
        id: ProductId::new(),
        tenant_id: tenant,
        name: text(name),
        description: Some(text("A product used by the contract suite")),
        created_at: at,
        updated_at: at,
    }
}

pub fn variant(tenant: TenantId, product: ProductId, code: &str) -> Variant {
    let at = now();
    let attributes = BTreeMap::from([
        ("colour".to_owned(), "red".to_owned()),
        ("size".to_owned(), "M".to_owned()),
    ]);
    Variant {
        id: VariantId::new(),
        tenant_id: tenant,
        product_id: product,
        sku: sku(code),
        attributes: Attributes::new(attributes).expect("valid attributes"),
        price: money(1999),
        reorder_level: StockLevel::new(2).expect("valid level"),
        stock: 0,
        incoming: 0,
        created_at: at,
        updated_at: at,
    }
}

pub fn supplier(tenant: TenantId, name: &str) -> Supplier {
    let at = now();
    Supplier {
        id: SupplierId::new(),
        tenant_id: tenant,
        name: text(name),
        email: Some(email("orders@supplier.example")),
        phone: Some(text("+44 20 7946 0000")),
        lead_time_days: Some(7),
        created_at: at,
        updated_at: at,
    }
}

/// A PLACED order of `quantity` units per variant, priced at 500 each.
pub fn order(tenant: TenantId, lines: &[(VariantId, i64)]) -> Order {
    let at = now();
    let lines: Vec<OrderLine> = lines
        .iter()
        .enumerate()
        .map(|(i, (variant_id, quantity))| OrderLine {
            variant_id: *variant_id,
            sku: sku(&format!("LINE-{i}")),
            quantity: *quantity,
            unit_price: money(500),
            line_total: money(500 * quantity),
            returned: 0,
        })
        .collect();
    let total = lines
        .iter()
        .fold(Money::ZERO, |sum, l| sum.plus(l.line_total));
    Order {
        id: OrderId::new(),
        tenant_id: tenant,
        status: OrderStatus::Placed,
        lines,
        customer: Some(Customer {
            name: text("Bob Buyer"),
            email: Some(email("bob@buyer.example")),
        }),
        note: Some(text("leave at the door")),
        total,
        placed_by: UserId::new(),
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

/// A purchase order with lines of `(variant, quantity, received)`, costing 250 a unit.
pub fn purchase_order(
    tenant: TenantId,
    supplier: SupplierId,
    status: PurchaseOrderStatus,
    lines: &[(VariantId, i64, i64)],
) -> PurchaseOrder {
    let at = now();
    PurchaseOrder {
        id: PurchaseOrderId::new(),
        tenant_id: tenant,
        supplier_id: supplier,
        status,
        lines: lines
            .iter()
            .map(|(variant_id, quantity, received)| PurchaseOrderLine {
                variant_id: *variant_id,
                quantity: *quantity,
                unit_cost: money(250),
                received: *received,
            })
            .collect(),
        expected_at: Some(at + Duration::days(7)),
        created_by: UserId::new(),
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

/// A stock change of `delta` units of `variant`, made now.
pub fn change(variant: VariantId, kind: MovementKind, delta: i64) -> StockChange {
    StockChange {
        movement_id: MovementId::new(),
        variant_id: variant,
        kind,
        delta,
        expected_stock: None,
        reason: None,
        order_id: None,
        purchase_order_id: None,
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

/// A write of `document` alone.
pub fn document(document: DocumentWrite) -> LedgerWrite {
    LedgerWrite {
        changes: Vec::new(),
        document,
        idempotency: None,
    }
}

/// The response a ledger record stores: status 201 and the `stock_after` of every change.
pub fn render_stock_after(committed: &Committed) -> StoredResponse {
    let stocks: Vec<String> = committed
        .applied
        .iter()
        .map(|a| a.movement.stock_after.to_string())
        .collect();
    StoredResponse {
        status: 201,
        body: stocks.join(",").into_bytes(),
    }
}

/// A ledger idempotency record for `key`, created at `at` and kept for 24 hours.
pub fn ledger_key(key: &str, fingerprint: &str, at: DateTime<Utc>) -> LedgerIdempotency {
    LedgerIdempotency {
        key: key.to_owned(),
        fingerprint: fingerprint.to_owned(),
        created_at: at,
        expires_at: at + Duration::hours(24),
        render: Arc::new(render_stock_after),
    }
}

/// An insert's idempotency record for `key`, created at `at` and kept for 24 hours.
pub fn insert_key(key: &str, fingerprint: &str, at: DateTime<Utc>) -> IdempotencyWrite {
    IdempotencyWrite {
        key: key.to_owned(),
        fingerprint: fingerprint.to_owned(),
        response: StoredResponse {
            status: 201,
            body: format!("{{\"key\":\"{key}\"}}").into_bytes(),
        },
        created_at: at,
        expires_at: at + Duration::hours(24),
    }
}

/// Inserts a product and a variant with SKU `code`, then brings its stock to `stock` with one
/// PURCHASE movement. Returns the variant as stored.
pub async fn stocked_variant(stores: &Stores, tenant: TenantId, code: &str, stock: i64) -> Variant {
    let product = product(tenant, "Stocked product");
    stores
        .products
        .insert(&tenant, &product, None)
        .await
        .expect("insert product");
    variant_of(stores, tenant, product.id, code, stock).await
}

/// Inserts a variant of `product` with SKU `code` and stock `stock` (one PURCHASE movement).
pub async fn variant_of(
    stores: &Stores,
    tenant: TenantId,
    product: ProductId,
    code: &str,
    stock: i64,
) -> Variant {
    let v = variant(tenant, product, code);
    stores
        .variants
        .insert(&tenant, &v, None)
        .await
        .expect("insert variant");
    if stock > 0 {
        stores
            .ledger
            .commit(
                &tenant,
                changes(vec![change(v.id, MovementKind::Purchase, stock)]),
            )
            .await
            .expect("stock the variant");
    }
    stores
        .variants
        .get(&tenant, &v.id)
        .await
        .expect("read variant")
        .expect("variant exists")
}

/// The current stock of a variant that must exist.
pub async fn stock_of(stores: &Stores, tenant: TenantId, variant: VariantId) -> i64 {
    stores
        .variants
        .get(&tenant, &variant)
        .await
        .expect("read variant")
        .expect("variant exists")
        .stock
}

/// How many movements the tenant has for `variant`.
pub async fn movement_count(stores: &Stores, tenant: TenantId, variant: VariantId) -> usize {
    let filter = domain::stock::models::MovementFilter {
        variant_id: Some(variant),
        ..Default::default()
    };
    stores
        .ledger
        .list_movements(
            &tenant,
            &filter,
            &domain::pagination::PageRequest::first(200),
        )
        .await
        .expect("list movements")
        .items
        .len()
}

/// Inserts `order` through the ledger, with no stock change.
pub async fn insert_order(stores: &Stores, tenant: TenantId, order: &Order) {
    stores
        .ledger
        .commit(&tenant, document(DocumentWrite::InsertOrder(order.clone())))
        .await
        .expect("insert order");
}

/// Inserts `po` through the ledger, with no stock change.
pub async fn insert_purchase_order(stores: &Stores, tenant: TenantId, po: &PurchaseOrder) {
    stores
        .ledger
        .commit(
            &tenant,
            document(DocumentWrite::InsertPurchaseOrder(po.clone())),
        )
        .await
        .expect("insert purchase order");
}
