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
    LocationId, MovementId, OrderId, ProductId, PurchaseOrderId, SupplierId, TenantId, TransferId,
    UserId, VariantId,
};
use domain::locations::models::Location;
use domain::orders::models::{Allocation, Customer, Order, OrderLine, OrderStatus};
use domain::purchasing::models::{PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus, Supplier};
use domain::stock::models::{
    Committed, DocumentWrite, LedgerIdempotency, LedgerWrite, MovementKind, StockChange,
    StockMovement,
};
use domain::stock::state::{Claims, StockState};
use domain::transfers::models::{Transfer, TransferLine, TransferStatus};
use domain::values::{
    Attributes, EmailAddress, LocationCode, LocationPriority, Money, PasswordHash, Sku, StockLevel,
    TenantSlug, Text,
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
        token_version: 0,
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
        state: Default::default(),
        incoming: 0,
        levels: Vec::new(),
        in_transit: 0,
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

/// A PLACED order of `quantity` units per variant, priced at 500 each, every line taken whole
/// from `location` (one allocation); the order names no location of its own.
pub fn order(tenant: TenantId, location: LocationId, lines: &[(VariantId, i64)]) -> Order {
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
            allocations: vec![Allocation {
                location_id: location,
                quantity: *quantity,
                returned: 0,
            }],
        })
        .collect();
    let total = lines
        .iter()
        .try_fold(Money::ZERO, |sum, l| sum.checked_plus(l.line_total))
        .expect("a fixture total within the limit");
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
        location_id: None,
        sold_at_placement: false,
        total,
        placed_by: UserId::new(),
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

/// A purchase order bound for `location` with lines of `(variant, quantity, received)`,
/// costing 250 a unit.
pub fn purchase_order(
    tenant: TenantId,
    supplier: SupplierId,
    location: LocationId,
    status: PurchaseOrderStatus,
    lines: &[(VariantId, i64, i64)],
) -> PurchaseOrder {
    let at = now();
    PurchaseOrder {
        id: PurchaseOrderId::new(),
        tenant_id: tenant,
        supplier_id: supplier,
        location_id: location,
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

/// A stock change of `delta` units of `variant` at `location`, made now.
pub fn change(
    variant: VariantId,
    location: LocationId,
    kind: MovementKind,
    delta: i64,
) -> StockChange {
    StockChange {
        movement_id: MovementId::new(),
        variant_id: variant,
        location_id: location,
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

/// A write of `document` alone.
pub fn document(document: DocumentWrite) -> LedgerWrite {
    LedgerWrite {
        changes: Vec::new(),
        document,
        idempotency: None,
    }
}

/// The response a ledger record stores: status 201 and the available units each change left at its level.
pub fn render_stock_after(committed: &Committed) -> StoredResponse {
    let stocks: Vec<String> = committed
        .applied
        .iter()
        .map(|a| a.after.available().to_string())
        .collect();
    StoredResponse {
        status: 201,
        body: stocks.join(",").into_bytes(),
    }
}

/// The user who sends the keys of [`ledger_key`] and [`insert_key`].
pub fn key_sender() -> UserId {
    "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a01"
        .parse()
        .expect("a valid user id")
}

/// A ledger idempotency record for `key` sent by [`key_sender`], created at `at` and kept for
/// 24 hours.
pub fn ledger_key(key: &str, fingerprint: &str, at: DateTime<Utc>) -> LedgerIdempotency {
    ledger_key_of(key_sender(), key, fingerprint, at)
}

/// A ledger idempotency record for `key` sent by `user`, created at `at` and kept for 24 hours.
pub fn ledger_key_of(
    user: UserId,
    key: &str,
    fingerprint: &str,
    at: DateTime<Utc>,
) -> LedgerIdempotency {
    LedgerIdempotency {
        user_id: user,
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
        user_id: key_sender(),
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

/// A non-default, active location of `tenant` with code `code` and the default priority.
pub fn location(tenant: TenantId, code: &str) -> Location {
    let at = now();
    Location {
        id: LocationId::new(),
        tenant_id: tenant,
        name: text(&format!("Store {code}")),
        code: LocationCode::new(code).expect("valid location code"),
        is_default: false,
        active: true,
        priority: LocationPriority::DEFAULT,
        created_at: at,
        updated_at: at,
    }
}

/// A transfer from `from` to `to` in `status`, with lines of `(variant, quantity, received)`;
/// shipped now unless it is a DRAFT or CANCELLED.
pub fn transfer(
    tenant: TenantId,
    from: LocationId,
    to: LocationId,
    status: TransferStatus,
    lines: &[(VariantId, i64, i64)],
) -> Transfer {
    let at = now();
    let shipped = !matches!(status, TransferStatus::Draft | TransferStatus::Cancelled);
    Transfer {
        id: TransferId::new(),
        tenant_id: tenant,
        from_location_id: from,
        to_location_id: to,
        status,
        lines: lines
            .iter()
            .map(|(variant_id, quantity, received)| TransferLine {
                variant_id: *variant_id,
                quantity: *quantity,
                received: *received,
            })
            .collect(),
        created_by: UserId::new(),
        created_at: at,
        updated_at: at,
        shipped_at: shipped.then_some(at),
        version: 1,
    }
}

/// A tenant as sign-up leaves it: the tenant, its owner and its default location, written
/// together by `create_with_owner`.
#[derive(Debug, Clone)]
pub struct Shop {
    pub tenant: Tenant,
    pub owner: User,
    pub default_location: Location,
}

impl Shop {
    pub fn id(&self) -> TenantId {
        self.tenant.id
    }

    /// The id of the default location.
    pub fn main(&self) -> LocationId {
        self.default_location.id
    }
}

/// Creates a tenant with a fresh slug, its owner and its default location ("Main", "MAIN").
pub async fn shop(stores: &Stores) -> Shop {
    let tenant = tenant_record(&unique_slug());
    let owner = user(tenant.id, "owner@acme.example", Role::Owner);
    let default_location = Location::first_of(tenant.id, tenant.created_at);
    stores
        .tenants
        .create_with_owner(&tenant, &owner, &default_location)
        .await
        .expect("create the tenant");
    Shop {
        tenant,
        owner,
        default_location,
    }
}

/// Inserts a non-default location of `tenant` with code `code` (see [`location`]).
pub async fn new_location(stores: &Stores, tenant: TenantId, code: &str) -> Location {
    let l = location(tenant, code);
    stores
        .locations
        .insert(&tenant, &l, None)
        .await
        .expect("insert location");
    l
}

/// Inserts a product and a variant with SKU `code`, then brings its stock at `location` to
/// `stock` with one PURCHASE movement. Returns the variant as stored.
pub async fn stocked_variant(
    stores: &Stores,
    tenant: TenantId,
    location: LocationId,
    code: &str,
    stock: i64,
) -> Variant {
    let product = product(tenant, "Stocked product");
    stores
        .products
        .insert(&tenant, &product, None)
        .await
        .expect("insert product");
    variant_of(stores, tenant, product.id, location, code, stock).await
}

/// Inserts a variant of `product` with SKU `code` and stock `stock` at `location` (one PURCHASE
/// movement, none when `stock` is 0).
pub async fn variant_of(
    stores: &Stores,
    tenant: TenantId,
    product: ProductId,
    location: LocationId,
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
        stock_up(stores, tenant, v.id, location, stock).await;
    }
    read_variant(stores, tenant, v.id).await
}

/// Commits one PURCHASE of `units` of `variant` at `location`.
pub async fn stock_up(
    stores: &Stores,
    tenant: TenantId,
    variant: VariantId,
    location: LocationId,
    units: i64,
) {
    stores
        .ledger
        .commit(
            &tenant,
            changes(vec![change(
                variant,
                location,
                MovementKind::Purchase,
                units,
            )]),
        )
        .await
        .expect("stock the variant");
}

/// A variant that must exist, as a read returns it.
pub async fn read_variant(stores: &Stores, tenant: TenantId, variant: VariantId) -> Variant {
    stores
        .variants
        .get(&tenant, &variant)
        .await
        .expect("read variant")
        .expect("variant exists")
}

/// The current stock (the total over its levels) of a variant that must exist.
pub async fn stock_of(stores: &Stores, tenant: TenantId, variant: VariantId) -> i64 {
    read_variant(stores, tenant, variant).await.stock
}

/// The stock of a variant that must exist at `location` (0 where it has no level).
pub async fn level_of(
    stores: &Stores,
    tenant: TenantId,
    variant: VariantId,
    location: LocationId,
) -> i64 {
    read_variant(stores, tenant, variant)
        .await
        .stock_at(&location)
}

/// A variant's levels as `(location, stock, incoming)`, in the order the store lists them.
pub async fn levels_of(
    stores: &Stores,
    tenant: TenantId,
    variant: VariantId,
) -> Vec<(LocationId, i64, i64)> {
    read_variant(stores, tenant, variant)
        .await
        .levels
        .iter()
        .map(|l| (l.location_id, l.stock, l.incoming))
        .collect()
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

/// Inserts `po` through the ledger, with no stock change, and its supplier first when the
/// tenant does not have it yet (a purchase order is never written without its supplier).
pub async fn insert_purchase_order(stores: &Stores, tenant: TenantId, po: &PurchaseOrder) {
    let known = stores.suppliers.get(&tenant, &po.supplier_id).await;
    if known.expect("read the supplier").is_none() {
        let mut named = supplier(tenant, &format!("Supplier {}", po.supplier_id));
        named.id = po.supplier_id;
        stores
            .suppliers
            .insert(&tenant, &named, None)
            .await
            .expect("insert the supplier");
    }
    stores
        .ledger
        .commit(
            &tenant,
            document(DocumentWrite::InsertPurchaseOrder(po.clone())),
        )
        .await
        .expect("insert purchase order");
}

/// Inserts `transfer` through the ledger, with no stock change.
pub async fn insert_transfer(stores: &Stores, tenant: TenantId, transfer: &Transfer) {
    stores
        .ledger
        .commit(
            &tenant,
            document(DocumentWrite::InsertTransfer(transfer.clone())),
        )
        .await
        .expect("insert transfer");
}

/// What the cases read of an applied change whose on hand moved.
pub trait AppliedExt {
    /// The movement recorded; panics when the change moved claims alone.
    fn moved(&self) -> &StockMovement;
    /// The level's on hand before the change.
    fn stock_before(&self) -> i64;
    /// The variant's total on hand after the change.
    fn total(&self) -> i64;
}

impl AppliedExt for domain::stock::models::AppliedChange {
    fn moved(&self) -> &StockMovement {
        self.movement
            .as_ref()
            .expect("the change moved on hand and recorded a movement")
    }

    fn stock_before(&self) -> i64 {
        self.before.on_hand
    }

    fn total(&self) -> i64 {
        self.total_after.on_hand
    }
}

/// A level holding `on_hand` with nothing claimed.
pub fn on_hand(on_hand: i64) -> StockState {
    StockState::new(on_hand, Claims::default())
}
