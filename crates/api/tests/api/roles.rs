//! The role matrix over HTTP, read from `docs/roles.md`: every cell of its table is checked
//! against the live API. An allowed call succeeds; a denied one is 403 and writes nothing. A row
//! or column of the table that this file cannot map to calls fails the test, so the document
//! and the API cannot drift apart silently.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, slug, spawn_app, Tenant, TestApp};

/// The roles the API has, as the table's columns name them.
const ROLES: [&str; 3] = ["OWNER", "MANAGER", "STAFF"];

/// One row of the table: what its calls are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Row {
    ReadProfile,
    Users,
    ReadCatalog,
    WriteCatalog,
    ReadStock,
    AdjustStock,
    MoveUnits,
    ReadReservations,
    HoldStock,
    ReadOrders,
    PlaceAndCancelOrders,
    FulfilAndReturnOrders,
    ReadPurchasing,
    WritePurchasing,
    ReceivePurchaseOrders,
    ReadReports,
    ReadLowStock,
    Reorder,
    ReadLocations,
    ReadLevels,
    WriteLocations,
    ReadTransfers,
    DraftTransfers,
    ShipTransfers,
    ReceiveTransfers,
    CancelTransfers,
}

impl Row {
    const ALL: [Row; 26] = [
        Row::ReadProfile,
        Row::Users,
        Row::ReadCatalog,
        Row::WriteCatalog,
        Row::ReadStock,
        Row::AdjustStock,
        Row::MoveUnits,
        Row::ReadReservations,
        Row::HoldStock,
        Row::ReadOrders,
        Row::PlaceAndCancelOrders,
        Row::FulfilAndReturnOrders,
        Row::ReadPurchasing,
        Row::WritePurchasing,
        Row::ReceivePurchaseOrders,
        Row::ReadReports,
        Row::ReadLowStock,
        Row::Reorder,
        Row::ReadLocations,
        Row::ReadLevels,
        Row::WriteLocations,
        Row::ReadTransfers,
        Row::DraftTransfers,
        Row::ShipTransfers,
        Row::ReceiveTransfers,
        Row::CancelTransfers,
    ];

    /// The row whose "Action" cell reads `text`, exactly.
    fn from_doc(text: &str) -> Option<Row> {
        Some(match text {
            "Read own profile (`GET /v1/me`)" => Row::ReadProfile,
            "List, add, change users (`/v1/users`)" => Row::Users,
            "Read products, variants" => Row::ReadCatalog,
            "Create, change, delete products and variants" => Row::WriteCatalog,
            "Read movements, stock audit" => Row::ReadStock,
            "Adjust stock (`POST /v1/variants/{id}/adjustments`)" => Row::AdjustStock,
            "Move units between states (`POST /v1/variants/{id}/moves`)" => Row::MoveUnits,
            "Read reservations (`GET /v1/reservations`, `GET /v1/reservations/{id}`)" => {
                Row::ReadReservations
            }
            "Reserve, confirm, release and extend checkout holds (`/v1/reservations`)" => {
                Row::HoldStock
            }
            "Read orders" => Row::ReadOrders,
            "Place orders, cancel placed orders" => Row::PlaceAndCancelOrders,
            "Fulfil orders, take returns" => Row::FulfilAndReturnOrders,
            "Read suppliers and purchase orders" => Row::ReadPurchasing,
            "Create, change, delete suppliers; draft, edit, submit, cancel purchase orders" => {
                Row::WritePurchasing
            }
            "Receive purchase orders" => Row::ReceivePurchaseOrders,
            "Read reports: movement series, top movers, valuation" => Row::ReadReports,
            "Read the low-stock report" => Row::ReadLowStock,
            "Draft a purchase order from the low-stock report" => Row::Reorder,
            "Read locations (`GET /v1/locations`, `GET /v1/locations/{id}`)" => Row::ReadLocations,
            "Read a location's stock levels (`GET /v1/locations/{id}/levels`)" => Row::ReadLevels,
            "Create and change locations: rename, reprioritise, deactivate, make default" => {
                Row::WriteLocations
            }
            "Read transfers" => Row::ReadTransfers,
            "Draft and edit transfers" => Row::DraftTransfers,
            "Ship transfers" => Row::ShipTransfers,
            "Receive transfers" => Row::ReceiveTransfers,
            "Cancel draft transfers" => Row::CancelTransfers,
            _ => return None,
        })
    }
}

/// The table of `docs/roles.md`: its role columns, and each row's action text with one cell per
/// column (`true` = ✔ allowed, `false` = — denied).
struct Matrix {
    roles: Vec<String>,
    rows: Vec<(String, Vec<bool>)>,
}

fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split('|').map(|c| c.trim().to_owned()).collect()
}

/// Parses the first table whose header starts with `Action`; panics on anything it does not
/// understand (a cell other than ✔ or —, a row of the wrong width).
fn read_matrix() -> Matrix {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/roles.md");
    let doc = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut lines = doc
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("| Action"));
    let header = cells(
        lines
            .next()
            .expect("docs/roles.md has a table headed `| Action |`"),
    );
    let separator = cells(lines.next().expect("the table has a separator line"));
    assert!(
        separator
            .iter()
            .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':'))),
        "not a table separator: {separator:?}"
    );
    assert_eq!(separator.len(), header.len(), "separator width");
    let roles = header[1..].to_vec();
    let rows = lines
        .take_while(|l| l.trim_start().starts_with('|'))
        .map(|line| {
            let cells = cells(line);
            assert_eq!(cells.len(), header.len(), "row of the wrong width: {line}");
            let allowed = cells[1..]
                .iter()
                .map(|c| match c.as_str() {
                    "✔" => true,
                    "—" => false,
                    other => panic!("cell {other:?} is neither ✔ nor —: {line}"),
                })
                .collect();
            (cells[0].clone(), allowed)
        })
        .collect();
    Matrix { roles, rows }
}

/// One call the row stands for.
struct Probe {
    method: Method,
    path: String,
    body: Option<Value>,
}

fn get(path: impl Into<String>) -> Probe {
    Probe {
        method: Method::GET,
        path: path.into(),
        body: None,
    }
}

fn post(path: impl Into<String>, body: Value) -> Probe {
    Probe {
        method: Method::POST,
        path: path.into(),
        body: Some(body),
    }
}

fn patch(path: impl Into<String>, body: Value) -> Probe {
    Probe {
        method: Method::PATCH,
        path: path.into(),
        body: Some(body),
    }
}

fn delete(path: impl Into<String>) -> Probe {
    Probe {
        method: Method::DELETE,
        path: path.into(),
        body: None,
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::now_v7().simple())
}

/// A location code (at most 32 characters) no other call of the test uses.
fn unique_code() -> String {
    format!("L-{}", &uuid::Uuid::now_v7().simple().to_string()[12..])
}

/// What the owner sets up so every call of a row can succeed when allowed.
struct Setup<'a> {
    app: &'a TestApp,
    owner: &'a Tenant,
}

impl Setup<'_> {
    fn token(&self) -> &str {
        &self.owner.token
    }

    async fn created(&self, path: &str, body: Value) -> String {
        let (status, created) = self.app.post(path, self.token(), body).await;
        assert_eq!(status, StatusCode::CREATED, "setup {path}: {created}");
        created["id"].as_str().unwrap().to_owned()
    }

    async fn ok(&self, path: &str) {
        let (status, body) = self.app.post(path, self.token(), json!({})).await;
        assert_eq!(status, StatusCode::OK, "setup {path}: {body}");
    }

    async fn variant(&self, stock: i64) -> String {
        self.app
            .variant_with_stock(self.token(), &unique("SKU"), stock)
            .await
    }

    async fn order(&self, variant: &str, quantity: i64) -> String {
        self.created(
            "/v1/orders",
            json!({"lines": [{"variantId": variant, "quantity": quantity}]}),
        )
        .await
    }

    /// A checkout hold of `quantity` units of `variant`, live for an hour.
    async fn reservation(&self, variant: &str, quantity: i64) -> String {
        self.created(
            "/v1/reservations",
            json!({"lines": [{"variantId": variant, "quantity": quantity}], "ttlSeconds": 3600}),
        )
        .await
    }

    async fn supplier(&self) -> String {
        self.created("/v1/suppliers", json!({"name": unique("Supplier")}))
            .await
    }

    async fn purchase_order(&self, supplier: &str, variant: &str) -> String {
        self.created(
            "/v1/purchase-orders",
            json!({"supplierId": supplier, "lines": [{"variantId": variant, "quantity": 10, "unitCost": 100}]}),
        )
        .await
    }

    async fn site(&self) -> String {
        self.app.location(self.token(), &unique_code(), 10).await
    }

    /// A DRAFT transfer of one unit of a variant holding `stock` at the default location, from
    /// there to a new location; returns (transfer, variant, from, to).
    async fn draft_transfer(&self, stock: i64) -> (String, String, String, String) {
        let variant = self.variant(stock).await;
        let from = self.app.default_location(self.token()).await;
        let to = self.site().await;
        let transfer = self
            .app
            .transfer(self.token(), &from, &to, &[(&variant, 1)])
            .await;
        (transfer, variant, from, to)
    }

    /// Fresh records for `row`, and the calls that stand for it.
    async fn probes(&self, row: Row) -> Vec<Probe> {
        match row {
            Row::ReadProfile => vec![get("/v1/me")],
            Row::Users => {
                let user = self
                    .created(
                        "/v1/users",
                        json!({"email": format!("{}@x.example", unique("u")), "name": "U",
                               "password": "a long enough password", "role": "STAFF"}),
                    )
                    .await;
                vec![
                    get("/v1/users"),
                    get(format!("/v1/users/{user}")),
                    post(
                        "/v1/users",
                        json!({"email": format!("{}@x.example", unique("new")), "name": "New",
                               "password": "a long enough password", "role": "OWNER"}),
                    ),
                    patch(format!("/v1/users/{user}"), json!({"name": "Renamed"})),
                ]
            }
            Row::ReadCatalog => {
                let variant = self.variant(0).await;
                let (_, v) = self
                    .app
                    .get(format!("/v1/variants/{variant}"), self.token())
                    .await;
                let product = v["productId"].as_str().unwrap();
                vec![
                    get("/v1/products"),
                    get(format!("/v1/products/{product}")),
                    get("/v1/variants"),
                    get(format!("/v1/variants/{variant}")),
                ]
            }
            Row::WriteCatalog => {
                let product = self.app.product(self.token(), "To change").await;
                let unused = self.app.product(self.token(), "To delete").await;
                let variant = self.variant(0).await;
                let doomed = self.variant(0).await;
                vec![
                    post("/v1/products", json!({"name": "New"})),
                    patch(
                        format!("/v1/products/{product}"),
                        json!({"name": "Changed"}),
                    ),
                    delete(format!("/v1/products/{unused}")),
                    post(
                        "/v1/variants",
                        json!({"productId": product, "sku": unique("NEW"), "price": 100}),
                    ),
                    patch(format!("/v1/variants/{variant}"), json!({"price": 200})),
                    delete(format!("/v1/variants/{doomed}")),
                ]
            }
            Row::ReadStock => {
                let variant = self.variant(3).await;
                vec![
                    get("/v1/movements"),
                    get(format!("/v1/movements?variantId={variant}")),
                    get("/v1/stock/audit"),
                ]
            }
            Row::AdjustStock => {
                let variant = self.variant(3).await;
                vec![post(
                    format!("/v1/variants/{variant}/adjustments"),
                    json!({"quantity": -1, "reason": "broken"}),
                )]
            }
            Row::MoveUnits => {
                let variant = self.variant(3).await;
                vec![post(
                    format!("/v1/variants/{variant}/moves"),
                    json!({"from": "available", "to": "damaged", "quantity": 1, "reason": "dropped"}),
                )]
            }
            Row::ReadReservations => {
                let variant = self.variant(3).await;
                let reservation = self.reservation(&variant, 1).await;
                vec![
                    get("/v1/reservations"),
                    get(format!("/v1/reservations/{reservation}")),
                ]
            }
            Row::HoldStock => {
                let variant = self.variant(4).await;
                let to_confirm = self.reservation(&variant, 1).await;
                let to_release = self.reservation(&variant, 1).await;
                let to_extend = self.reservation(&variant, 1).await;
                vec![
                    post(
                        "/v1/reservations",
                        json!({"lines": [{"variantId": variant, "quantity": 1}], "ttlSeconds": 3600}),
                    ),
                    post(format!("/v1/reservations/{to_confirm}/confirm"), json!({})),
                    post(format!("/v1/reservations/{to_release}/release"), json!({})),
                    post(
                        format!("/v1/reservations/{to_extend}/extend"),
                        json!({"ttlSeconds": 600}),
                    ),
                ]
            }
            Row::ReadOrders => {
                let variant = self.variant(3).await;
                let order = self.order(&variant, 1).await;
                vec![get("/v1/orders"), get(format!("/v1/orders/{order}"))]
            }
            Row::PlaceAndCancelOrders => {
                let variant = self.variant(3).await;
                let order = self.order(&variant, 1).await;
                vec![
                    post(
                        "/v1/orders",
                        json!({"lines": [{"variantId": variant, "quantity": 1}]}),
                    ),
                    post(format!("/v1/orders/{order}/cancel"), json!({})),
                ]
            }
            Row::FulfilAndReturnOrders => {
                let variant = self.variant(3).await;
                let placed = self.order(&variant, 1).await;
                let fulfilled = self.order(&variant, 1).await;
                self.ok(&format!("/v1/orders/{fulfilled}/fulfil")).await;
                vec![
                    post(format!("/v1/orders/{placed}/fulfil"), json!({})),
                    post(
                        format!("/v1/orders/{fulfilled}/returns"),
                        json!({"lines": [{"variantId": variant, "quantity": 1}], "reason": "r"}),
                    ),
                ]
            }
            Row::ReadPurchasing => {
                let variant = self.variant(0).await;
                let supplier = self.supplier().await;
                let po = self.purchase_order(&supplier, &variant).await;
                vec![
                    get("/v1/suppliers"),
                    get(format!("/v1/suppliers/{supplier}")),
                    get("/v1/purchase-orders"),
                    get(format!("/v1/purchase-orders/{po}")),
                ]
            }
            Row::WritePurchasing => {
                let variant = self.variant(0).await;
                let supplier = self.supplier().await;
                let unused = self.supplier().await;
                let draft = self.purchase_order(&supplier, &variant).await;
                let ordered = self.purchase_order(&supplier, &variant).await;
                self.ok(&format!("/v1/purchase-orders/{ordered}/submit"))
                    .await;
                vec![
                    post("/v1/suppliers", json!({"name": "New"})),
                    patch(
                        format!("/v1/suppliers/{supplier}"),
                        json!({"name": "Changed"}),
                    ),
                    delete(format!("/v1/suppliers/{unused}")),
                    post(
                        "/v1/purchase-orders",
                        json!({"supplierId": supplier, "lines": [{"variantId": variant, "quantity": 1, "unitCost": 1}]}),
                    ),
                    patch(
                        format!("/v1/purchase-orders/{draft}"),
                        json!({"lines": [{"variantId": variant, "quantity": 5, "unitCost": 100}]}),
                    ),
                    post(format!("/v1/purchase-orders/{draft}/submit"), json!({})),
                    post(format!("/v1/purchase-orders/{ordered}/cancel"), json!({})),
                ]
            }
            Row::ReceivePurchaseOrders => {
                let variant = self.variant(0).await;
                let supplier = self.supplier().await;
                let po = self.purchase_order(&supplier, &variant).await;
                self.ok(&format!("/v1/purchase-orders/{po}/submit")).await;
                vec![post(
                    format!("/v1/purchase-orders/{po}/receipts"),
                    json!({"lines": [{"variantId": variant, "quantity": 1}]}),
                )]
            }
            Row::ReadReports => {
                let window = "from=2026-01-01T00:00:00Z&to=2026-01-08T00:00:00Z";
                vec![
                    get(format!("/v1/reports/movements?{window}&bucket=day")),
                    get(format!("/v1/reports/top-movers?{window}")),
                    get("/v1/reports/valuation"),
                ]
            }
            Row::ReadLowStock => vec![get("/v1/reports/low-stock")],
            Row::ReadLocations => {
                let site = self.site().await;
                vec![get("/v1/locations"), get(format!("/v1/locations/{site}"))]
            }
            Row::ReadLevels => {
                self.variant(3).await;
                let main = self.app.default_location(self.token()).await;
                vec![
                    get(format!("/v1/locations/{main}/levels")),
                    get(format!("/v1/locations/{main}/levels?lowStock=true")),
                ]
            }
            Row::WriteLocations => {
                let renamed = self.site().await;
                let closed = self.site().await;
                let promoted = self.site().await;
                vec![
                    post(
                        "/v1/locations",
                        json!({"name": "New", "code": unique_code(), "priority": 3}),
                    ),
                    patch(
                        format!("/v1/locations/{renamed}"),
                        json!({"name": "Renamed", "priority": 7}),
                    ),
                    patch(format!("/v1/locations/{closed}"), json!({"active": false})),
                    patch(
                        format!("/v1/locations/{promoted}"),
                        json!({"isDefault": true}),
                    ),
                ]
            }
            Row::ReadTransfers => {
                let (transfer, ..) = self.draft_transfer(3).await;
                vec![
                    get("/v1/transfers"),
                    get(format!("/v1/transfers/{transfer}")),
                ]
            }
            Row::DraftTransfers => {
                let (transfer, variant, from, to) = self.draft_transfer(3).await;
                vec![
                    post(
                        "/v1/transfers",
                        json!({"fromLocationId": from, "toLocationId": to,
                               "lines": [{"variantId": variant, "quantity": 1}]}),
                    ),
                    patch(
                        format!("/v1/transfers/{transfer}"),
                        json!({"lines": [{"variantId": variant, "quantity": 2}]}),
                    ),
                ]
            }
            Row::ShipTransfers => {
                let (transfer, ..) = self.draft_transfer(3).await;
                vec![post(format!("/v1/transfers/{transfer}/ship"), json!({}))]
            }
            Row::ReceiveTransfers => {
                let (transfer, variant, ..) = self.draft_transfer(3).await;
                self.ok(&format!("/v1/transfers/{transfer}/ship")).await;
                vec![post(
                    format!("/v1/transfers/{transfer}/receipts"),
                    json!({"lines": [{"variantId": variant, "quantity": 1}]}),
                )]
            }
            Row::CancelTransfers => {
                let (transfer, ..) = self.draft_transfer(3).await;
                vec![post(format!("/v1/transfers/{transfer}/cancel"), json!({}))]
            }
            Row::Reorder => {
                let product = self.app.product(self.token(), "Low").await;
                self.created(
                    "/v1/variants",
                    json!({"productId": product, "sku": unique("LOW"), "price": 100,
                           "reorderLevel": 5}),
                )
                .await;
                let supplier = self.supplier().await;
                vec![post(
                    "/v1/reports/low-stock/purchase-orders",
                    json!({"supplierId": supplier}),
                )]
            }
        }
    }
}

/// Everything the tenant holds, as the owner reads it: equal before and after a refused call
/// means it wrote nothing.
async fn snapshot(app: &TestApp, owner: &str) -> Vec<Value> {
    let mut all = Vec::new();
    for list in [
        "products",
        "variants",
        "movements",
        "orders",
        "suppliers",
        "purchase-orders",
        "users",
        "locations",
        "transfers",
        "reservations",
    ] {
        let (status, body) = app.get(format!("/v1/{list}?limit=200"), owner).await;
        assert_eq!(status, StatusCode::OK, "{list}: {body}");
        assert!(body["nextCursor"].is_null(), "{list} fits one page");
        all.push(body);
    }
    all
}

#[tokio::test]
async fn every_cell_of_the_documented_role_matrix_holds_over_http() {
    let matrix = read_matrix();

    // Every column is a role, every role is a column.
    let unknown: Vec<&String> = matrix
        .roles
        .iter()
        .filter(|r| !ROLES.contains(&r.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "columns that are not roles: {unknown:?}"
    );
    for role in ROLES {
        assert_eq!(
            matrix.roles.iter().filter(|r| *r == role).count(),
            1,
            "role {role} must be exactly one column"
        );
    }
    // Every row maps to calls, and every mapping is still a row.
    let unmapped: Vec<&String> = matrix
        .rows
        .iter()
        .map(|(action, _)| action)
        .filter(|a| Row::from_doc(a).is_none())
        .collect();
    assert!(
        unmapped.is_empty(),
        "rows of docs/roles.md this test cannot map to calls: {unmapped:?}"
    );
    let mapped: Vec<Row> = matrix
        .rows
        .iter()
        .filter_map(|(a, _)| Row::from_doc(a))
        .collect();
    let missing: Vec<Row> = Row::ALL
        .into_iter()
        .filter(|r| !mapped.contains(r))
        .collect();
    assert!(
        missing.is_empty(),
        "rows no longer in docs/roles.md: {missing:?}"
    );

    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("matrix")).await;
    let manager = app.user_token(&t, "MANAGER").await;
    let staff = app.user_token(&t, "STAFF").await;
    let token_of = |role: &str| match role {
        "OWNER" => t.token.clone(),
        "MANAGER" => manager.clone(),
        "STAFF" => staff.clone(),
        other => unreachable!("{other} was checked above"),
    };
    let setup = Setup {
        app: &app,
        owner: &t,
    };

    let mut wrong = Vec::new();
    let mut checked = 0;
    for (action, allowed) in &matrix.rows {
        let row = Row::from_doc(action).unwrap();
        for (role, allowed) in matrix.roles.iter().zip(allowed) {
            let token = token_of(role);
            for probe in setup.probes(row).await {
                let what = format!("{role} {} {} ({action})", probe.method, probe.path);
                let before = if *allowed {
                    None
                } else {
                    Some(snapshot(&app, &t.token).await)
                };
                let (status, body) = app
                    .call(probe.method, &probe.path, Some(&token), probe.body)
                    .await;
                checked += 1;
                match before {
                    None if !status.is_success() => {
                        wrong.push(format!("{what}: allowed, but answered {status} {body}"));
                    }
                    Some(before) => {
                        if status != StatusCode::FORBIDDEN || body["type"] != "/problems/forbidden"
                        {
                            wrong.push(format!("{what}: denied, but answered {status} {body}"));
                        } else if snapshot(&app, &t.token).await != before {
                            wrong.push(format!("{what}: answered 403 but wrote something"));
                        }
                    }
                    None => {}
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {checked} calls disagree with docs/roles.md:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(checked >= 3 * Row::ALL.len(), "{checked} calls checked");
}

#[tokio::test]
async fn a_deactivated_user_is_locked_out_at_once_and_a_role_change_applies_at_once() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let t = app.register(&slug("deact")).await;
    let staff = app.user_token(&t, "STAFF").await;
    let (_, me) = app.get("/v1/me", &staff).await;
    let staff_id = me["user"]["id"].as_str().unwrap().to_owned();

    let (status, body) = app
        .patch(
            &format!("/v1/users/{staff_id}"),
            &t.token,
            json!({"role": "MANAGER"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app
        .post("/v1/products", &staff, json!({"name": "now allowed"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);

    app.patch(
        &format!("/v1/users/{staff_id}"),
        &t.token,
        json!({"active": false}),
    )
    .await;
    let (status, body) = app.get("/v1/me", &staff).await;
    assert_problem(status, &body, StatusCode::UNAUTHORIZED);

    // An owner cannot lock the tenant out by demoting themselves.
    let (status, body) = app
        .patch(
            &format!("/v1/users/{}", t.owner_id),
            &t.token,
            json!({"role": "STAFF"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
}
