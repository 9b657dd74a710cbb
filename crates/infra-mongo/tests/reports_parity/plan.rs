//! One deterministic ledger, generated from a fixed seed: two tenants with two locations each,
//! fifty variants in five products, more than ten thousand movements of all four kinds (at
//! either location, most at the first) over a spring quarter and an autumn stretch that together
//! hold all four 2026 clock changes of Europe/Berlin and America/New_York, plus open and closed
//! purchase orders bound for either location, one variant moved to another product and one sold
//! out and deleted.
//!
//! Everything is data — ids included (UUIDv7 built from the seed) — so the same plan can be
//! written into any store and also answered by plain iteration in `reference`. The generator
//! tracks stock itself, so no change is ever refused.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use contract_tests::fixtures;
use domain::catalog::models::{Product, Variant};
use domain::ids::{
    LocationId, MovementId, ProductId, PurchaseOrderId, SupplierId, TenantId, UserId, VariantId,
};
use domain::purchasing::models::{PurchaseOrder, PurchaseOrderStatus, Supplier};
use domain::reports::buckets::{boundaries, Bucket};
use domain::stock::models::{LedgerWrite, MovementKind, StockChange};
use domain::values::StockLevel;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const SEED: u64 = 0x5eed_2026_0329;

pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("valid RFC 3339 time")
        .with_timezone(&Utc)
}

/// The ledger's two stretches of time: `[start, end)` each.
pub fn spring() -> (DateTime<Utc>, DateTime<Utc>) {
    (utc("2026-02-02T00:00:00Z"), utc("2026-05-04T00:00:00Z"))
}

pub fn autumn() -> (DateTime<Utc>, DateTime<Utc>) {
    (utc("2026-10-12T00:00:00Z"), utc("2026-11-16T00:00:00Z"))
}

/// The 2026 clock changes: New York and Berlin in spring, Berlin and New York in autumn.
pub fn clock_changes() -> [DateTime<Utc>; 4] {
    [
        utc("2026-03-08T07:00:00Z"),
        utc("2026-03-29T01:00:00Z"),
        utc("2026-10-25T01:00:00Z"),
        utc("2026-11-01T06:00:00Z"),
    ]
}

pub fn zones() -> [Tz; 3] {
    [
        chrono_tz::UTC,
        chrono_tz::Europe::Berlin,
        chrono_tz::America::New_York,
    ]
}

/// One movement as planned, with the level's stock it leaves.
#[derive(Debug, Clone)]
pub struct Movement {
    pub id: MovementId,
    pub tenant: TenantId,
    pub variant: VariantId,
    pub location: LocationId,
    pub kind: MovementKind,
    pub quantity: i64,
    pub unit_cost: Option<i64>,
    pub at: DateTime<Utc>,
    pub stock_after: i64,
}

pub struct TenantPlan {
    pub id: TenantId,
    /// Where its stock is kept; most movements are at the first.
    pub locations: [LocationId; 2],
    pub products: Vec<Product>,
    pub variants: Vec<Variant>,
    pub supplier: Supplier,
    pub purchase_orders: Vec<PurchaseOrder>,
}

pub struct Plan {
    pub tenants: Vec<TenantPlan>,
    /// Ledger writes in commit order, each with its tenant.
    pub commits: Vec<(TenantId, LedgerWrite)>,
    pub movements: Vec<Movement>,
    /// Moved to `product` after all movements were written.
    pub moved: (TenantId, VariantId, ProductId),
    /// Sold out by the last commit, then deleted.
    pub deleted: (TenantId, VariantId),
    /// Each variant's total once every movement is written.
    pub final_stock: HashMap<VariantId, i64>,
    /// Each level's stock (every level some movement touched) once every movement is written.
    pub final_levels: HashMap<(VariantId, LocationId), i64>,
}

impl Plan {
    /// The product a variant belongs to once the plan is written.
    pub fn product_of(&self, variant: VariantId) -> ProductId {
        if variant == self.moved.1 {
            return self.moved.2;
        }
        self.variant(variant).product_id
    }

    pub fn variant(&self, id: VariantId) -> &Variant {
        self.tenants
            .iter()
            .flat_map(|t| &t.variants)
            .find(|v| v.id == id)
            .expect("a planned variant")
    }

    pub fn tenant(&self, id: TenantId) -> &TenantPlan {
        self.tenants
            .iter()
            .find(|t| t.id == id)
            .expect("a planned tenant")
    }
}

/// Deterministic UUIDv7s: increasing milliseconds from a fixed start, random bits from the seed.
struct IdMint {
    millis: u64,
}

impl IdMint {
    fn next(&mut self, rng: &mut StdRng) -> uuid::Uuid {
        self.millis += 1;
        uuid::Builder::from_unix_timestamp_millis(self.millis, &rng.gen::<[u8; 10]>()).into_uuid()
    }
}

/// Instants where buckets of the compared series begin: local midnights and hours around each
/// clock change. Some movements are put exactly on them, or one millisecond before.
fn edge_instants() -> Vec<DateTime<Utc>> {
    let mut edges = BTreeSet::new();
    for change in clock_changes() {
        for tz in zones() {
            let days = boundaries(
                change - Duration::days(2),
                change + Duration::days(2),
                Bucket::Day,
                &tz,
            );
            let hours = boundaries(
                change - Duration::hours(3),
                change + Duration::hours(3),
                Bucket::Hour,
                &tz,
            );
            edges.extend(days.expect("day edges"));
            edges.extend(hours.expect("hour edges"));
        }
        edges.insert(change);
    }
    edges.into_iter().collect()
}

struct Generator {
    rng: StdRng,
    ids: IdMint,
    actor: UserId,
    /// Totals per variant.
    stock: HashMap<VariantId, i64>,
    /// Stock per level touched so far.
    levels: HashMap<(VariantId, LocationId), i64>,
    edges: Vec<DateTime<Utc>>,
    commits: Vec<(TenantId, LedgerWrite)>,
    movements: Vec<Movement>,
}

impl Generator {
    /// A change of `delta` to `variant` at `location` at `at`, recorded in the plan's movements.
    #[allow(clippy::too_many_arguments)]
    fn change(
        &mut self,
        tenant: TenantId,
        variant: VariantId,
        location: LocationId,
        kind: MovementKind,
        delta: i64,
        unit_cost: Option<i64>,
        at: DateTime<Utc>,
    ) -> StockChange {
        let id = MovementId::from_uuid(self.ids.next(&mut self.rng));
        *self.stock.get_mut(&variant).expect("tracked variant") += delta;
        let level = self.levels.entry((variant, location)).or_default();
        *level += delta;
        assert!(*level >= 0, "the plan never oversells");
        self.movements.push(Movement {
            id,
            tenant,
            variant,
            location,
            kind,
            quantity: delta,
            unit_cost,
            at,
            stock_after: *level,
        });
        let mut c = fixtures::change(variant, location, kind, delta);
        c.movement_id = id;
        c.actor = self.actor;
        c.unit_cost = unit_cost.map(fixtures::money);
        c.at = at;
        c
    }

    /// A random movement of `variant` at one of `locations` (the first three times in four) at
    /// `at`, possible at that level's current stock.
    fn random_change(
        &mut self,
        tenant: TenantId,
        variant: VariantId,
        locations: [LocationId; 2],
        at: DateTime<Utc>,
    ) -> StockChange {
        let location = locations[usize::from(self.rng.gen_bool(0.25))];
        let stock = self.levels.get(&(variant, location)).copied().unwrap_or(0);
        let roll = self.rng.gen_range(0..100);
        let (kind, delta, cost) = if stock < 5 || roll < 20 {
            let units = self.rng.gen_range(5..=60);
            let cost = self
                .rng
                .gen_bool(0.85)
                .then(|| self.rng.gen_range(50..=5000));
            (MovementKind::Purchase, units, cost)
        } else if roll < 75 {
            (
                MovementKind::Sale,
                -self.rng.gen_range(1..=stock.min(12)),
                None,
            )
        } else if roll < 90 {
            let delta = if self.rng.gen_bool(0.5) {
                -self.rng.gen_range(1..=stock.min(5))
            } else {
                self.rng.gen_range(1..=5)
            };
            (MovementKind::Adjustment, delta, None)
        } else {
            (MovementKind::Return, self.rng.gen_range(1..=3), None)
        };
        self.change(tenant, variant, location, kind, delta, cost, at)
    }

    /// SALE changes at `at` taking `units` of `variant`, from its first location's level and
    /// then its second's.
    fn sell_down(
        &mut self,
        tenant: TenantId,
        variant: VariantId,
        locations: [LocationId; 2],
        mut units: i64,
        at: DateTime<Utc>,
    ) -> Vec<StockChange> {
        let mut changes = Vec::new();
        for location in locations {
            let held = self.levels.get(&(variant, location)).copied().unwrap_or(0);
            let taken = held.min(units);
            if taken > 0 {
                units -= taken;
                changes.push(self.change(
                    tenant,
                    variant,
                    location,
                    MovementKind::Sale,
                    -taken,
                    None,
                    at,
                ));
            }
        }
        assert_eq!(units, 0, "the levels hold the variant's total");
        changes
    }

    /// A time in `[start, start + slot)`, or now and then exactly on (or 1 ms before) an edge.
    fn time_in(&mut self, start: DateTime<Utc>, slot: Duration) -> DateTime<Utc> {
        if self.rng.gen_bool(0.03) {
            let edge = self.edges[self.rng.gen_range(0..self.edges.len())];
            return if self.rng.gen_bool(0.5) {
                edge
            } else {
                edge - Duration::milliseconds(1)
            };
        }
        start + Duration::milliseconds(self.rng.gen_range(0..slot.num_milliseconds()))
    }

    /// Commits `changes` of one tenant, sorted by level as the ledger requires.
    fn commit(&mut self, tenant: TenantId, mut changes: Vec<StockChange>) {
        if changes.is_empty() {
            return;
        }
        changes.sort_by_key(|c| c.level());
        self.commits.push((tenant, fixtures::changes(changes)));
    }

    /// `rounds` rounds over `[start, end)`: in each, about 60% of every tenant's variants move
    /// once, in one commit per tenant.
    fn rounds(
        &mut self,
        tenants: &[(TenantId, [LocationId; 2], Vec<VariantId>)],
        span: (DateTime<Utc>, DateTime<Utc>),
        rounds: i32,
    ) {
        let slot = (span.1 - span.0) / rounds;
        for round in 0..rounds {
            let start = span.0 + slot * round;
            for (tenant, locations, variants) in tenants {
                let mut changes = Vec::new();
                for variant in variants {
                    if self.rng.gen_bool(0.6) {
                        let at = self.time_in(start, slot);
                        changes.push(self.random_change(*tenant, *variant, *locations, at));
                    }
                }
                self.commit(*tenant, changes);
            }
        }
    }
}

/// Builds the catalog of one tenant: products with `sizes[i]` variants each, and a supplier.
fn catalog(rng: &mut StdRng, ids: &mut IdMint, index: usize, sizes: &[usize]) -> TenantPlan {
    let tenant = TenantId::from_uuid(ids.next(rng));
    let locations = [
        LocationId::from_uuid(ids.next(rng)),
        LocationId::from_uuid(ids.next(rng)),
    ];
    let at = utc("2026-01-15T09:00:00Z");
    let mut products = Vec::new();
    let mut variants = Vec::new();
    for (p, size) in sizes.iter().enumerate() {
        let mut product = fixtures::product(tenant, &format!("Product {index}-{p}"));
        product.id = ProductId::from_uuid(ids.next(rng));
        (product.created_at, product.updated_at) = (at, at);
        for v in 0..*size {
            let mut variant =
                fixtures::variant(tenant, product.id, &format!("T{index}-P{p}-V{v:02}"));
            variant.id = VariantId::from_uuid(ids.next(rng));
            variant.reorder_level = StockLevel::new(rng.gen_range(0..=40)).expect("valid level");
            variant.price = fixtures::money(rng.gen_range(100..=20_000));
            (variant.created_at, variant.updated_at) = (at, at);
            variants.push(variant);
        }
        products.push(product);
    }
    let mut supplier = fixtures::supplier(tenant, &format!("Supplier {index}"));
    supplier.id = SupplierId::from_uuid(ids.next(rng));
    (supplier.created_at, supplier.updated_at) = (at, at);
    TenantPlan {
        id: tenant,
        locations,
        products,
        variants,
        supplier,
        purchase_orders: Vec::new(),
    }
}

/// Purchase orders of every status over random variants of `t` (never `spared`, which is to be
/// deleted), so `incoming` is not all zero.
fn purchase_orders(
    rng: &mut StdRng,
    ids: &mut IdMint,
    t: &TenantPlan,
    spared: VariantId,
) -> Vec<PurchaseOrder> {
    use PurchaseOrderStatus as Po;
    let statuses = [
        Po::Ordered,
        Po::PartiallyReceived,
        Po::Received,
        Po::Draft,
        Po::Ordered,
        Po::Cancelled,
        Po::PartiallyReceived,
        Po::Closed,
    ];
    let at = utc("2026-11-10T10:00:00Z");
    statuses
        .iter()
        .enumerate()
        .map(|(i, status)| {
            let wanted = rng.gen_range(1..=3);
            let mut picked = BTreeSet::new();
            while picked.len() < wanted {
                let v = t.variants[rng.gen_range(0..t.variants.len())].id;
                if v != spared {
                    picked.insert(v);
                }
            }
            let lines: Vec<(VariantId, i64, i64)> = picked
                .into_iter()
                .map(|v| {
                    let ordered = rng.gen_range(5..=50);
                    let received = match status {
                        Po::PartiallyReceived => rng.gen_range(1..ordered),
                        Po::Received | Po::Closed => ordered,
                        _ => 0,
                    };
                    (v, ordered, received)
                })
                .collect();
            let to = t.locations[i % 2];
            let mut po = fixtures::purchase_order(t.id, t.supplier.id, to, *status, &lines);
            po.id = PurchaseOrderId::from_uuid(ids.next(rng));
            po.created_by = UserId::from_uuid(ids.next(rng));
            (po.created_at, po.updated_at, po.expected_at) = (at, at, Some(at + Duration::days(7)));
            po
        })
        .collect()
}

pub fn generate() -> Plan {
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut ids = IdMint {
        millis: utc("2026-01-01T00:00:00Z").timestamp_millis() as u64,
    };
    let mut tenants = vec![
        catalog(&mut rng, &mut ids, 0, &[10, 10, 8]),
        catalog(&mut rng, &mut ids, 1, &[12, 10]),
    ];
    let actor = UserId::from_uuid(ids.next(&mut rng));
    let stock = tenants
        .iter()
        .flat_map(|t| &t.variants)
        .map(|v| (v.id, 0))
        .collect();
    let mut g = Generator {
        rng,
        ids,
        actor,
        stock,
        levels: HashMap::new(),
        edges: edge_instants(),
        commits: Vec::new(),
        movements: Vec::new(),
    };
    let moving: Vec<(TenantId, [LocationId; 2], Vec<VariantId>)> = tenants
        .iter()
        .map(|t| (t.id, t.locations, t.variants.iter().map(|v| v.id).collect()))
        .collect();
    g.rounds(&moving, spring(), 300);
    g.rounds(&moving, autumn(), 120);

    // The last day: some variants are sold down to (or below) their reorder level, so the
    // low-stock report has sellers to list, and one variant of tenant 0 is sold out.
    let deleted = (tenants[0].id, tenants[0].variants[3].id);
    let end = autumn().1;
    for t in &tenants {
        let mut changes = Vec::new();
        for v in t.variants.iter().skip(5).step_by(4) {
            let target = g.rng.gen_range(0..=v.reorder_level.get());
            let over = g.stock[&v.id] - target;
            if over > 0 {
                let at = end - Duration::minutes(g.rng.gen_range(1..=36 * 60));
                changes.extend(g.sell_down(t.id, v.id, t.locations, over, at));
            }
        }
        if t.id == deleted.0 {
            let left = g.stock[&deleted.1];
            if left > 0 {
                let at = end - Duration::hours(3);
                changes.extend(g.sell_down(t.id, deleted.1, t.locations, left, at));
            }
        }
        g.commit(t.id, changes);
    }

    for t in &mut tenants {
        t.purchase_orders = purchase_orders(&mut g.rng, &mut g.ids, t, deleted.1);
    }
    let moved = (
        tenants[1].id,
        tenants[1].variants[2].id,
        tenants[1].products[1].id,
    );
    Plan {
        tenants,
        commits: g.commits,
        movements: g.movements,
        moved,
        deleted,
        final_stock: g.stock,
        final_levels: g.levels,
    }
}
