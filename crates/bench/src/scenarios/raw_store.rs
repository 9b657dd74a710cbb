//! raw-store: the limit of the order path — the store's own conditional decrement, with no HTTP,
//! no authentication and no lock.
//!
//! N tasks call `LedgerRepository::commit` with exactly what placing a one-line order writes (one
//! SALE change of −1 at the tenant's default location, the only one it has, and the order
//! document with its one allocation there) against the same adapter the api uses, until the store
//! refuses for lack of stock. `hot-sku ÷ raw-store` then says how much of the store's capacity
//! survives the trip through the api — allocation's reading of the locations and levels
//! included, since that is part of the trip.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use domain::auth::models::{Role, Tenant, User};
use domain::auth::ports::TenantRepository;
use domain::catalog::models::{Product, Variant};
use domain::catalog::ports::{ProductRepository, VariantRepository};
use domain::ids::{OrderId, ProductId, TenantId, UserId, VariantId};
use domain::locations::models::Location;
use domain::orders::models::{Allocation, Order, OrderLine, OrderStatus};
use domain::stock::models::{DocumentWrite, LedgerError, LedgerWrite, Level, StockChange};
use domain::stock::ports::LedgerRepository;
use domain::stock::state::UnitState;
use domain::values::{
    Attributes, EmailAddress, Money, PasswordHash, Sku, StockLevel, TenantSlug, Text,
};

use crate::api::StoreUrl;
use crate::load::{drive, Driven, Limits, Next, Reply};

/// Outcome codes of a commit, reported like HTTP statuses so the same tally serves both.
pub const COMMITTED: u16 = 201;
pub const REFUSED_NO_STOCK: u16 = 409;
pub const STORE_ERROR: u16 = 500;

/// Every port raw-store needs, from one adapter.
pub trait Store:
    TenantRepository + ProductRepository + VariantRepository + LedgerRepository + 'static
{
}
impl<T> Store for T where
    T: TenantRepository + ProductRepository + VariantRepository + LedgerRepository + 'static
{
}

/// What the sell-out left behind.
#[derive(Debug, Clone)]
pub struct RawStoreRun {
    pub driven: Driven,
    pub final_stock: i64,
    pub drift: usize,
}

/// Opens the adapter behind `store` and sells out `stock` units with `tasks` tasks.
pub async fn run(store: &StoreUrl, tasks: usize, stock: i64) -> anyhow::Result<RawStoreRun> {
    match store {
        StoreUrl::Sqlite(url) => {
            let s = infra_sqlite::SqliteStore::open(url).await?;
            sell_out(Arc::new(s), tasks, stock).await
        }
        StoreUrl::Mongo { url, .. } => {
            let s = infra_mongo::MongoStore::connect(url).await?;
            sell_out(Arc::new(s), tasks, stock).await
        }
    }
}

/// The records one tenant with one stocked variant needs.
struct Shop {
    tenant: TenantId,
    owner: UserId,
    variant: Variant,
    /// The variant at the tenant's default location, where all its stock is.
    level: Level,
}

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

fn valid<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    r.expect("fixed bench values are valid")
}

async fn open_shop<S: Store>(store: &S, stock: i64) -> anyhow::Result<Shop> {
    let at = now();
    let suffix = uuid::Uuid::now_v7().simple().to_string();
    let slug = format!("raw-{}", &suffix[suffix.len() - 12..]);
    let tenant = Tenant {
        id: TenantId::new(),
        name: valid(Text::name("Raw store bench")),
        slug: valid(TenantSlug::new(&slug)),
        created_at: at,
    };
    let owner = User {
        id: UserId::new(),
        tenant_id: tenant.id,
        email: valid(EmailAddress::new(&format!("owner@{slug}.example"))),
        name: valid(Text::name("Bench Owner")),
        role: Role::Owner,
        active: true,
        password_hash: PasswordHash::from_phc(
            "$argon2id$v=19$m=19456,t=2,p=1$YmVuY2g$YmVuY2g".into(),
        ),
        token_version: 0,
        created_at: at,
        updated_at: at,
    };
    let location = Location::first_of(tenant.id, at);
    store.create_with_owner(&tenant, &owner, &location).await?;
    let product = Product {
        id: ProductId::new(),
        tenant_id: tenant.id,
        name: valid(Text::name("Hot product")),
        description: None,
        created_at: at,
        updated_at: at,
    };
    ProductRepository::insert(store, &tenant.id, &product, None).await?;
    let variant = Variant {
        id: VariantId::new(),
        tenant_id: tenant.id,
        product_id: product.id,
        sku: valid(Sku::new("HOT-1")),
        attributes: valid(Attributes::new(Default::default())),
        price: valid(Money::new(1999)),
        reorder_level: valid(StockLevel::new(0)),
        stock: 0,
        state: Default::default(),
        incoming: 0,
        levels: Vec::new(),
        in_transit: 0,
        created_at: at,
        updated_at: at,
    };
    VariantRepository::insert(store, &tenant.id, &variant, None).await?;
    let level = Level::new(variant.id, location.id);
    let count_in = StockChange::adjustment(
        level,
        stock,
        UnitState::Available,
        None,
        "bench stock".into(),
        owner.id,
        at,
    );
    store
        .commit(
            &tenant.id,
            LedgerWrite {
                changes: vec![count_in],
                document: DocumentWrite::None,
                idempotency: None,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("stocking the variant: {e}"))?;
    Ok(Shop {
        tenant: tenant.id,
        owner: owner.id,
        variant,
        level,
    })
}

/// The write of a one-line, one-unit order, as the order use case builds it.
fn order_write(shop: &Shop) -> LedgerWrite {
    let at = now();
    let order_id = OrderId::new();
    let order = Order {
        id: order_id,
        tenant_id: shop.tenant,
        status: OrderStatus::Placed,
        lines: vec![OrderLine {
            variant_id: shop.variant.id,
            sku: shop.variant.sku.clone(),
            quantity: 1,
            unit_price: shop.variant.price,
            line_total: shop.variant.price,
            returned: 0,
            allocations: vec![Allocation {
                location_id: shop.level.location_id,
                quantity: 1,
                returned: 0,
            }],
        }],
        customer: None,
        note: None,
        // Allocated, like an order placed without naming a location.
        location_id: None,
        sold_at_placement: false,
        total: shop.variant.price,
        placed_by: shop.owner,
        created_at: at,
        updated_at: at,
        version: 1,
    };
    LedgerWrite {
        changes: vec![StockChange::commit(shop.level, 1, order_id, shop.owner, at)],
        document: DocumentWrite::InsertOrder(order),
        idempotency: None,
    }
}

async fn sell_out<S: Store>(
    store: Arc<S>,
    tasks: usize,
    stock: i64,
) -> anyhow::Result<RawStoreRun> {
    let shop = Arc::new(open_shop(store.as_ref(), stock).await?);
    let (s, sh) = (store.clone(), shop.clone());
    let driven = drive(
        tasks,
        COMMITTED,
        Limits {
            duration: None,
            max_errors_in_a_row: 1000,
        },
        move |_| {
            let (store, shop) = (s.clone(), sh.clone());
            async move {
                match store.commit(&shop.tenant, order_write(&shop)).await {
                    Ok(_) => Reply::Status(COMMITTED),
                    Err(LedgerError::Insufficient(_)) => Reply::Status(REFUSED_NO_STOCK),
                    Err(_) => {
                        // Transient store errors (a write conflict on MongoDB) are retried.
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        Reply::Status(STORE_ERROR)
                    }
                }
            }
        },
        |reply| match reply {
            Reply::Status(COMMITTED) => (true, Next::Continue),
            Reply::Status(REFUSED_NO_STOCK) => (true, Next::Stop),
            _ => (false, Next::Continue),
        },
    )
    .await;
    let final_stock = VariantRepository::get(store.as_ref(), &shop.tenant, &shop.variant.id)
        .await?
        .map(|v| v.stock)
        .ok_or_else(|| anyhow::anyhow!("the bench variant vanished"))?;
    let drift = store.audit(&shop.tenant).await?.drift.len();
    Ok(RawStoreRun {
        driven,
        final_stock,
        drift,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_sold_exactly(run: &RawStoreRun) {
        assert_eq!(run.driven.tally.count(COMMITTED), 30);
        assert_eq!(run.driven.tally.count(REFUSED_NO_STOCK), 4);
        assert_eq!((run.final_stock, run.drift), (0, 0));
    }

    #[tokio::test]
    async fn the_store_sells_exactly_its_stock() {
        let dir = tempfile::tempdir().unwrap();
        let store = StoreUrl::fresh(None, dir.path(), "raw.db").unwrap();
        assert_sold_exactly(&run(&store, 4, 30).await.unwrap());
    }

    #[tokio::test]
    async fn mongodb_sells_exactly_its_stock() {
        let Some(url) = crate::api::test_mongo_url("the MongoDB raw-store test") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let store = StoreUrl::fresh(Some(&url), dir.path(), "unused").unwrap();
        let sold = run(&store, 4, 30).await;
        store.discard().await.unwrap();
        assert_sold_exactly(&sold.unwrap());
    }
}
