//! Test support: data in the shape a store written before locations holds, inserted raw, so a
//! harness can prove [`MongoStore::migrate_locations`] on it. Only with the `test-support`
//! feature; nothing in production writes this shape.
//!
//! The rows are plain data: the caller decides every id, number and time, and the documents
//! are written exactly as the old version wrote them — variants without `levels`, movements and
//! purchase orders without `locationId`, order lines without `allocations`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::auth::models::{Tenant, User};
use domain::catalog::models::Product;
use domain::ids::{MovementId, OrderId, ProductId, PurchaseOrderId, SupplierId, UserId, VariantId};
use domain::orders::models::OrderStatus;
use domain::purchasing::models::PurchaseOrderStatus;
use domain::stock::models::MovementKind;
use mongodb::bson::{doc, Bson, Document};

use crate::documents::{bson_time, ProductDoc, TenantDoc, UserDoc};
use crate::store::{collections, MongoStore};

/// One tenant's data as stored before locations. Tenants, users and products did not change
/// shape, so they are the domain's records.
#[derive(Debug, Clone)]
pub struct LegacyRows {
    pub tenant: Tenant,
    pub owner: User,
    pub products: Vec<Product>,
    pub variants: Vec<LegacyVariant>,
    pub purchase_orders: Vec<LegacyPurchaseOrder>,
    pub orders: Vec<LegacyOrder>,
}

/// A variant with its one stock number and its movements.
#[derive(Debug, Clone)]
pub struct LegacyVariant {
    pub id: VariantId,
    pub product_id: ProductId,
    pub sku: String,
    pub attributes: BTreeMap<String, String>,
    /// Minor units.
    pub price: i64,
    pub reorder_level: i64,
    pub stock: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub movements: Vec<LegacyMovement>,
}

/// A movement with no location and no transfer.
#[derive(Debug, Clone)]
pub struct LegacyMovement {
    pub id: MovementId,
    pub kind: MovementKind,
    /// Signed: negative for units leaving.
    pub quantity: i64,
    /// The variant's stock after the movement (there was one level per variant then).
    pub stock_after: i64,
    pub reason: Option<String>,
    pub order_id: Option<OrderId>,
    pub purchase_order_id: Option<PurchaseOrderId>,
    /// Minor units.
    pub unit_cost: Option<i64>,
    pub actor: UserId,
    pub created_at: DateTime<Utc>,
}

/// A purchase order (and its supplier, inserted once per supplier id), with no destination.
#[derive(Debug, Clone)]
pub struct LegacyPurchaseOrder {
    pub id: PurchaseOrderId,
    pub supplier_id: SupplierId,
    pub supplier_name: String,
    pub status: PurchaseOrderStatus,
    pub lines: Vec<LegacyPurchaseLine>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone)]
pub struct LegacyPurchaseLine {
    pub variant_id: VariantId,
    pub quantity: i64,
    pub unit_cost: i64,
    pub received: i64,
}

/// An order whose lines have no allocations.
#[derive(Debug, Clone)]
pub struct LegacyOrder {
    pub id: OrderId,
    pub status: OrderStatus,
    pub lines: Vec<LegacyOrderLine>,
    pub placed_by: UserId,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone)]
pub struct LegacyOrderLine {
    pub variant_id: VariantId,
    pub sku: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub returned: i64,
}

fn text(id: impl ToString) -> String {
    id.to_string()
}

fn optional(id: Option<impl ToString>) -> Bson {
    id.map_or(Bson::Null, |id| Bson::String(id.to_string()))
}

impl MongoStore {
    /// For test harnesses: inserts `rows` raw, in the shape written before locations, without
    /// any transaction or migration. Follow with [`MongoStore::migrate_locations`].
    pub async fn insert_legacy(&self, rows: &LegacyRows) -> anyhow::Result<()> {
        let tenant = text(rows.tenant.id);
        self.tenants()
            .insert_one(TenantDoc::from(&rows.tenant))
            .await?;
        let mut owner = UserDoc::from(&rows.owner);
        owner.tenant_id = tenant.clone();
        self.users().insert_one(owner).await?;
        let at = bson_time(rows.tenant.created_at);

        let products: Vec<Document> = rows
            .products
            .iter()
            .map(|p| {
                let mut doc = ProductDoc::from(p);
                doc.tenant_id = tenant.clone();
                mongodb::bson::to_document(&doc)
            })
            .collect::<Result<_, _>>()?;
        let mut variants = Vec::new();
        let mut movements = Vec::new();
        for v in &rows.variants {
            let attributes: Vec<Document> = v
                .attributes
                .iter()
                .map(|(name, value)| doc! { "name": name, "value": value })
                .collect();
            variants.push(doc! {
                "_id": text(v.id), "tenantId": &tenant, "productId": text(v.product_id),
                "sku": &v.sku, "attributes": attributes, "price": v.price,
                "reorderLevel": v.reorder_level, "stock": v.stock,
                "createdAt": bson_time(v.created_at), "updatedAt": bson_time(v.updated_at),
            });
            for m in &v.movements {
                movements.push(doc! {
                    "_id": text(m.id), "tenantId": &tenant, "variantId": text(v.id),
                    "kind": m.kind.as_str(), "quantity": m.quantity, "stockAfter": m.stock_after,
                    "reason": m.reason.clone(), "orderId": optional(m.order_id),
                    "purchaseOrderId": optional(m.purchase_order_id), "unitCost": m.unit_cost,
                    "actor": text(m.actor), "createdAt": bson_time(m.created_at),
                });
            }
        }
        let mut suppliers: Vec<Document> = Vec::new();
        let mut purchase_orders = Vec::new();
        for po in &rows.purchase_orders {
            let supplier = text(po.supplier_id);
            if !suppliers
                .iter()
                .any(|s| s.get_str("_id") == Ok(supplier.as_str()))
            {
                suppliers.push(doc! {
                    "_id": &supplier, "tenantId": &tenant, "name": &po.supplier_name,
                    "email": Bson::Null, "phone": Bson::Null, "leadTimeDays": Bson::Null,
                    "createdAt": at, "updatedAt": at,
                });
            }
            let lines: Vec<Document> = po
                .lines
                .iter()
                .map(|l| {
                    doc! {
                        "variantId": text(l.variant_id), "quantity": l.quantity,
                        "unitCost": l.unit_cost, "received": l.received,
                    }
                })
                .collect();
            let created = bson_time(po.created_at);
            purchase_orders.push(doc! {
                "_id": text(po.id), "tenantId": &tenant, "supplierId": &supplier,
                "status": po.status.as_str(), "lines": lines, "expectedAt": Bson::Null,
                "createdBy": text(po.created_by), "createdAt": created, "updatedAt": created,
                "version": po.version,
            });
        }
        let orders: Vec<Document> = rows
            .orders
            .iter()
            .map(|o| {
                let lines: Vec<Document> = o
                    .lines
                    .iter()
                    .map(|l| {
                        doc! {
                            "variantId": text(l.variant_id), "sku": &l.sku,
                            "quantity": l.quantity, "unitPrice": l.unit_price,
                            "lineTotal": l.unit_price * l.quantity, "returned": l.returned,
                        }
                    })
                    .collect();
                let total: i64 = o.lines.iter().map(|l| l.unit_price * l.quantity).sum();
                let created = bson_time(o.created_at);
                doc! {
                    "_id": text(o.id), "tenantId": &tenant, "status": o.status.as_str(),
                    "lines": lines, "customer": Bson::Null, "note": Bson::Null, "total": total,
                    "placedBy": text(o.placed_by), "createdAt": created, "updatedAt": created,
                    "version": o.version,
                }
            })
            .collect();
        for (collection, docs) in [
            (collections::PRODUCTS, products),
            (collections::VARIANTS, variants),
            (collections::MOVEMENTS, movements),
            (collections::SUPPLIERS, suppliers),
            (collections::PURCHASE_ORDERS, purchase_orders),
            (collections::ORDERS, orders),
        ] {
            if !docs.is_empty() {
                self.raw(collection).insert_many(docs).await?;
            }
        }
        Ok(())
    }
}
