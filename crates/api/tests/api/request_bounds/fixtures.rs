//! One valid request per operation, and the fresh resources a case's `{id}` names.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{slug, Tenant, TestApp};

/// What an operation's `{id}` names: a resource made afresh for every case, so no case sees
/// another's writes.
#[derive(Debug, Clone, Copy)]
pub(super) enum Target {
    None,
    Product,
    Variant,
    StockedVariant,
    Location,
    Supplier,
    DraftPurchaseOrder,
    OrderedPurchaseOrder,
    DraftTransfer,
    ShippedTransfer,
    Reservation,
    FulfilledOrder,
    User,
    /// No id: the request is sent with the token of a user made for the case.
    OwnSession,
}

/// One valid request of an operation.
pub(super) struct Fixture {
    pub(super) method: Method,
    pub(super) path: &'static str,
    pub(super) target: Target,
    pub(super) body: Option<Value>,
    pub(super) query: BTreeMap<&'static str, String>,
    /// `(field, value)` a listed enum value that a rule across fields refuses in this fixture
    /// (a move's `to` equal to its `from`): refused, but never for want of being listed.
    pub(super) cross_field: &'static [(&'static str, &'static str)],
}

impl Fixture {
    fn body(method: Method, path: &'static str, target: Target, body: Value) -> Self {
        Self {
            method,
            path,
            target,
            body: Some(body),
            query: BTreeMap::new(),
            cross_field: &[],
        }
    }

    fn query(path: &'static str, target: Target, query: &[(&'static str, &str)]) -> Self {
        Self {
            method: Method::GET,
            path,
            target,
            body: None,
            query: query.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
            cross_field: &[],
        }
    }
}

/// The tenant and the resources every fixture may name.
pub(super) struct World {
    pub(super) tenant: Tenant,
    pub(super) product: String,
    /// Has plenty of stock at `default_location`.
    pub(super) variant: String,
    /// Has no stock, below its reorder level.
    pub(super) low_variant: String,
    pub(super) default_location: String,
    pub(super) other_location: String,
    pub(super) supplier: String,
}

pub(super) fn fixtures(w: &World) -> Vec<Fixture> {
    use Method as M;
    use Target as T;
    let (v, d, l2, s, p) = (
        &w.variant,
        &w.default_location,
        &w.other_location,
        &w.supplier,
        &w.product,
    );
    let line = json!([{"variantId": v, "quantity": 1}]);
    let customer = json!({"name": "Grace", "email": "grace@example.com"});
    let purchase = json!({
        "supplierId": s,
        "lines": [{"variantId": v, "quantity": 1, "unitCost": 650}],
        "expectedAt": "2030-01-01T00:00:00Z",
        "locationId": d,
    });
    let transfer = json!({"fromLocationId": d, "toLocationId": l2, "lines": line});
    let supplier = json!({
        "name": "Mills", "email": "orders@mills.example", "phone": "+44 20", "leadTimeDays": 14,
    });
    let page = [
        ("limit", "10"),
        ("cursor", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"),
    ];
    let with_page = |extra: &[(&'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
        extra.iter().chain(page.iter()).copied().collect()
    };
    let from_to = [
        ("from", "2020-01-01T00:00:00Z"),
        ("to", "2030-01-01T00:00:00Z"),
    ];
    let at = |extra: &[(&'static str, &str)], q: &[(&'static str, &'static str)]| {
        let mut all: Vec<(&'static str, String)> =
            q.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        all.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        all
    };
    let query = |path, target, q: Vec<(&'static str, String)>| Fixture {
        method: M::GET,
        path,
        target,
        body: None,
        query: q.into_iter().collect(),
        cross_field: &[],
    };
    vec![
        Fixture::body(
            M::POST,
            "/v1/auth/register",
            T::None,
            json!({
                "tenantName": "Bounds Ltd", "tenantSlug": slug("bounds"),
                "email": "owner@bounds.example", "password": "correct horse battery", "name": "Owner",
            }),
        ),
        Fixture::body(
            M::POST,
            "/v1/auth/login",
            T::None,
            json!({
                "tenant": w.tenant.slug, "email": format!("owner@{}.example", w.tenant.slug),
                "password": "correct horse battery",
            }),
        ),
        Fixture::body(
            M::POST,
            "/v1/me/password",
            T::OwnSession,
            json!({
                "currentPassword": "a long enough password", "newPassword": "a much better passphrase",
            }),
        ),
        Fixture::body(
            M::POST,
            "/v1/users",
            T::None,
            json!({
                "email": "sam@bounds.example", "name": "Sam", "password": "a long enough password",
                "role": "STAFF",
            }),
        ),
        Fixture::body(
            M::PATCH,
            "/v1/users/{id}",
            T::User,
            json!({
                "name": "Sam", "role": "MANAGER", "active": true,
            }),
        ),
        Fixture::body(
            M::POST,
            "/v1/products",
            T::None,
            json!({"name": "Tee", "description": "Soft"}),
        ),
        Fixture::body(
            M::PATCH,
            "/v1/products/{id}",
            T::Product,
            json!({"name": "Tee", "description": "Soft"}),
        ),
        Fixture::body(
            M::POST,
            "/v1/variants",
            T::None,
            json!({
                "productId": p, "sku": "BND-1", "attributes": {"size": "M"}, "price": 1000,
                "reorderLevel": 2,
            }),
        ),
        Fixture::body(
            M::PATCH,
            "/v1/variants/{id}",
            T::Variant,
            json!({
                "productId": p, "sku": "BND-2", "attributes": {"size": "L"}, "price": 1200,
                "reorderLevel": 3,
            }),
        ),
        Fixture::body(
            M::POST,
            "/v1/variants/{id}/adjustments",
            T::Variant,
            json!({
                "quantity": 5, "reason": "count", "expectedStock": 0, "locationId": d,
                "state": "available",
            }),
        ),
        Fixture {
            cross_field: &[("to", "available")],
            ..Fixture::body(
                M::POST,
                "/v1/variants/{id}/moves",
                T::StockedVariant,
                json!({
                    "locationId": d, "from": "available", "to": "damaged", "quantity": 1,
                    "reason": "dropped",
                }),
            )
        },
        Fixture::body(
            M::POST,
            "/v1/locations",
            T::None,
            json!({"name": "Shop", "code": "BND-1", "priority": 10}),
        ),
        Fixture::body(
            M::PATCH,
            "/v1/locations/{id}",
            T::Location,
            json!({
                "name": "Shop", "active": true, "isDefault": true, "priority": 5,
            }),
        ),
        Fixture::body(
            M::POST,
            "/v1/orders",
            T::None,
            json!({
                "lines": line, "customer": customer, "note": "gift", "locationId": d,
            }),
        ),
        Fixture::body(
            M::POST,
            "/v1/orders/{id}/returns",
            T::FulfilledOrder,
            json!({
                "lines": line, "reason": "wrong size", "locationId": d, "state": "available",
            }),
        ),
        Fixture::body(
            M::POST,
            "/v1/reservations",
            T::None,
            json!({
                "lines": [{"variantId": v, "quantity": 1, "locationId": d}], "ttlSeconds": 900,
                "reference": "cart-1",
            }),
        ),
        Fixture::body(
            M::POST,
            "/v1/reservations/{id}/confirm",
            T::Reservation,
            json!({
                "customer": customer, "note": "gift",
            }),
        ),
        Fixture::body(
            M::POST,
            "/v1/reservations/{id}/extend",
            T::Reservation,
            json!({"ttlSeconds": 600}),
        ),
        Fixture::body(M::POST, "/v1/suppliers", T::None, supplier.clone()),
        Fixture::body(M::PATCH, "/v1/suppliers/{id}", T::Supplier, supplier),
        Fixture::body(M::POST, "/v1/purchase-orders", T::None, purchase.clone()),
        Fixture::body(
            M::PATCH,
            "/v1/purchase-orders/{id}",
            T::DraftPurchaseOrder,
            purchase,
        ),
        Fixture::body(
            M::POST,
            "/v1/purchase-orders/{id}/receipts",
            T::OrderedPurchaseOrder,
            json!({"lines": line}),
        ),
        Fixture::body(
            M::POST,
            "/v1/reports/low-stock/purchase-orders",
            T::None,
            json!({
                "supplierId": s, "variantIds": [w.low_variant],
            }),
        ),
        Fixture::body(M::POST, "/v1/transfers", T::None, transfer.clone()),
        Fixture::body(M::PATCH, "/v1/transfers/{id}", T::DraftTransfer, transfer),
        Fixture::body(
            M::POST,
            "/v1/transfers/{id}/receipts",
            T::ShippedTransfer,
            json!({"lines": line}),
        ),
        Fixture::query("/v1/locations", T::None, &page),
        Fixture::query("/v1/products", T::None, &page),
        Fixture::query("/v1/users", T::None, &page),
        Fixture::query("/v1/suppliers", T::None, &page),
        Fixture::query(
            "/v1/locations/{id}/levels",
            T::Location,
            &with_page(&[("lowStock", "true")]),
        ),
        query(
            "/v1/movements",
            T::None,
            at(
                &[("variantId", v), ("locationId", d), ("type", "SALE")],
                &[&from_to[..], &page[..]].concat(),
            ),
        ),
        Fixture::query(
            "/v1/orders",
            T::None,
            &[&[("status", "PLACED")], &from_to[..], &page[..]].concat(),
        ),
        query(
            "/v1/purchase-orders",
            T::None,
            at(&[("supplierId", s)], &with_page(&[("status", "DRAFT")])),
        ),
        query(
            "/v1/reports/low-stock",
            T::None,
            at(&[("locationId", d)], &[]),
        ),
        query(
            "/v1/reports/valuation",
            T::None,
            at(&[("locationId", d)], &[]),
        ),
        query(
            "/v1/reports/movements",
            T::None,
            at(
                &[("variantId", v), ("productId", p), ("locationId", d)],
                // Within the 1000 buckets a series may have.
                &[
                    ("from", "2029-01-01T00:00:00Z"),
                    ("to", "2029-06-01T00:00:00Z"),
                    ("bucket", "day"),
                    ("tz", "UTC"),
                ],
            ),
        ),
        Fixture::query(
            "/v1/reports/top-movers",
            T::None,
            &[&from_to[..], &[("type", "SALE"), ("limit", "10")]].concat(),
        ),
        Fixture::query(
            "/v1/reservations",
            T::None,
            &with_page(&[("status", "ACTIVE")]),
        ),
        query(
            "/v1/transfers",
            T::None,
            at(
                &[("fromLocationId", d), ("toLocationId", l2)],
                &with_page(&[("status", "DRAFT")]),
            ),
        ),
        query(
            "/v1/variants",
            T::None,
            at(
                &[("productId", p)],
                &with_page(&[("sku", "BND-1"), ("lowStock", "false")]),
            ),
        ),
        query(
            "/v1/variants/{id}/stock",
            T::Variant,
            at(&[("locationId", d)], &[("at", "2030-01-01T00:00:00Z")]),
        ),
    ]
}

/// A tenant with the resources every fixture names.
pub(super) async fn world(app: &TestApp) -> World {
    let tenant = app.register(&slug("bnd")).await;
    let token = tenant.token.as_str();
    let default_location = app.default_location(token).await;
    let variant = app.variant_with_stock(token, "BND-STOCK", 100_000).await;
    let low_variant = app.variant_with_stock(token, "BND-LOW", 0).await;
    let product = app.product(token, "Bounds").await;
    let other_location = app.location(token, "BND-2ND", 20).await;
    let (status, s) = app
        .post("/v1/suppliers", token, json!({"name": "Mills"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{s}");
    World {
        supplier: s["id"].as_str().unwrap().to_owned(),
        tenant,
        product,
        variant,
        low_variant,
        default_location,
        other_location,
    }
}

/// The id and token a case of `target` runs with.
pub(super) async fn make(app: &TestApp, w: &World, target: Target) -> (Option<String>, String) {
    let token = w.tenant.token.as_str();
    let created = |(status, body): (StatusCode, Value)| {
        assert!(status.is_success(), "{target:?}: {status} {body}");
        body["id"].as_str().unwrap().to_owned()
    };
    let post = |path: String, body: Value| async move { app.post(path, token, body).await };
    let purchase = json!({
        "supplierId": w.supplier,
        "lines": [{"variantId": w.variant, "quantity": 10, "unitCost": 650}],
        "locationId": w.default_location,
    });
    let id = match target {
        Target::None => None,
        Target::OwnSession => return (None, app.user_token(&w.tenant, "STAFF").await),
        Target::Product => Some(app.product(token, "Bounded").await),
        Target::Variant | Target::StockedVariant => {
            let v = created(
                post(
                    "/v1/variants".into(),
                    json!({"productId": w.product, "sku": slug("V"), "price": 1000}),
                )
                .await,
            );
            if matches!(target, Target::StockedVariant) {
                app.adjust(token, &v, Some(&w.default_location), 10).await;
            }
            Some(v)
        }
        Target::Location => Some(app.location(token, &slug("L"), 50).await),
        Target::Supplier => Some(created(
            post("/v1/suppliers".into(), json!({"name": "S"})).await,
        )),
        Target::DraftPurchaseOrder | Target::OrderedPurchaseOrder => {
            let po = created(post("/v1/purchase-orders".into(), purchase).await);
            if matches!(target, Target::OrderedPurchaseOrder) {
                created(post(format!("/v1/purchase-orders/{po}/submit"), json!({})).await);
            }
            Some(po)
        }
        Target::DraftTransfer | Target::ShippedTransfer => {
            let t = app
                .transfer(
                    token,
                    &w.default_location,
                    &w.other_location,
                    &[(&w.variant, 1)],
                )
                .await;
            if matches!(target, Target::ShippedTransfer) {
                created(post(format!("/v1/transfers/{t}/ship"), json!({})).await);
            }
            Some(t)
        }
        Target::Reservation => Some(created(
            post(
                "/v1/reservations".into(),
                json!({"lines": [{"variantId": w.variant, "quantity": 1}], "ttlSeconds": 900}),
            )
            .await,
        )),
        Target::FulfilledOrder => {
            let o = created(
                post(
                    "/v1/orders".into(),
                    json!({"lines": [{"variantId": w.variant, "quantity": 2}], "locationId": w.default_location}),
                )
                .await,
            );
            app.fulfil_all(token, std::slice::from_ref(&o)).await;
            Some(o)
        }
        Target::User => Some(created(
            post(
                "/v1/users".into(),
                json!({"email": format!("{}@bounds.example", slug("u")), "name": "U",
                       "password": "a long enough password", "role": "STAFF"}),
            )
            .await,
        )),
    };
    (id, w.tenant.token.clone())
}
