//! The reporting port: every report is an aggregation pipeline run by the server, so a dashboard
//! never pulls a tenant's ledger into the process to count it; only the small aggregated rows
//! travel.
//!
//! How each report is shaped, and why:
//! - The movement series uses `$bucket` over `createdAt` with the domain's boundaries (time zones
//!   and daylight-saving days are the domain's business, not the store's). `$bucket` groups by
//!   one key only, so each bucket carries a count and Σ quantity per movement kind (the kinds are
//!   a closed set of seven), plus a total count that proves no movement had an unknown kind.
//!   A product filter is first resolved to the product's current variant ids (a product has
//!   few), so the movements are still matched on the `{tenantId, createdAt}` index instead of
//!   each being joined to its variant.
//! - A location narrows a series, the sales of the low-stock report and a replay of stock to the
//!   movements carrying that `locationId`, and reads the level at it (`levels.<location id>` and
//!   `committed.<location id>` of the variant document) instead of the totals (`stock`,
//!   `committedTotal`).
//! - Low stock judges what is available — on hand less every claim (committed, the unavailable
//!   states, and the holds live at the instant of the report), computed in an `$expr` since it
//!   compares fields and sums the holds — against the reorder level: claimed units cannot be
//!   sold again. Valuation counts what is on hand, claimed units included: they are still the
//!   tenant's until they leave. A replay of stock sums movements, so it is on hand too, with the
//!   unavailable states their movements moved.
//! - Variant-side reports (low stock, valuation) run one grouped aggregation per source — the
//!   tenant's movements grouped by variant — starting with an indexed `$match` on the tenant,
//!   and join the (one row per variant) results to the variants in the process; the units
//!   incoming are the ones each variant document keeps. A per-variant `$lookup` into movements
//!   was measured to scan the whole collection per variant on the test server, making a
//!   tenant's report grow with every other tenant's ledger; grouping first keeps it bounded by
//!   the tenant's own data on any server.
//! - Top movers group and rank the movements in the server, then read the SKUs of the ranked
//!   variants with one indexed query; a variant deleted since has no SKU and drops out before
//!   the limit is applied.
//! - Every `$match`, including those inside sub-pipelines, names the tenant, and the movement
//!   indexes `{tenantId, createdAt}`, `{tenantId, locationId, createdAt}` and `{tenantId,
//!   variantId, createdAt}` serve every range.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ids::{LocationId, ProductId, TenantId, VariantId};
use domain::reports::models::{
    BucketCount, LowStockRow, MoverRow, Replayed, SeriesFilter, ValuationRow,
};
use domain::reports::ports::ReportRepository;
use domain::stock::models::MovementKind;
use domain::stock::state::Unavailable;
use domain::StoreError;
use mongodb::bson::{self, doc, Bson, Document};

use super::catalog_variants::{available_at, available_total, instant, integer, with_details};
use crate::documents::{bson_time, level_path, parse, VariantDoc};
use crate::errors::{corrupt, StoreResult};
use crate::store::MongoStore;

/// Every movement kind, in the order the series reports them.
const KINDS: [MovementKind; 7] = [
    MovementKind::Purchase,
    MovementKind::Sale,
    MovementKind::Adjustment,
    MovementKind::Return,
    MovementKind::TransferOut,
    MovementKind::TransferIn,
    MovementKind::Move,
];

/// The bucket output field holding the count of movements of `kind`.
fn count_field(kind: MovementKind) -> String {
    format!("count_{}", kind.as_str())
}

/// The bucket output field holding Σ quantity of movements of `kind`.
fn quantity_field(kind: MovementKind) -> String {
    format!("quantity_{}", kind.as_str())
}

/// `$bucket`'s `output`: per kind, how many movements and their Σ quantity; and the total count.
fn bucket_output() -> Document {
    let mut output = doc! { "movements": { "$sum": 1_i64 } };
    for kind in KINDS {
        let is_kind = doc! { "$eq": ["$kind", kind.as_str()] };
        output.insert(
            count_field(kind),
            doc! { "$sum": { "$cond": [is_kind.clone(), 1_i64, 0_i64] } },
        );
        output.insert(
            quantity_field(kind),
            doc! { "$sum": { "$cond": [is_kind, "$quantity", 0_i64] } },
        );
    }
    output
}

/// Grouped rows keyed by their `_id` (a variant id).
fn keyed_by_id(rows: Vec<Document>, what: &str) -> Result<HashMap<String, Document>, StoreError> {
    rows.into_iter()
        .map(|row| Ok((text_of(&row, "_id", what)?.to_owned(), row)))
        .collect()
}

/// Reads a required text field of an aggregated row.
fn text_of<'a>(row: &'a Document, field: &str, what: &str) -> Result<&'a str, StoreError> {
    row.get_str(field).map_err(|e| corrupt(what, e))
}

impl MongoStore {
    /// The tenant's movements matching `filter`, grouped by variant with `accumulators`: one
    /// row per variant, keyed by variant id.
    async fn totals_by_variant(
        &self,
        filter: Document,
        accumulators: Document,
        doing: &str,
    ) -> Result<HashMap<String, Document>, StoreError> {
        let mut group = doc! { "_id": "$variantId" };
        group.extend(accumulators);
        let rows = self
            .aggregate_rows(
                self.movements(),
                vec![doc! { "$match": filter }, doc! { "$group": group }],
                doing,
            )
            .await?;
        keyed_by_id(rows, doing)
    }

    /// The ids of the product's current variants.
    async fn variant_ids_of(
        &self,
        tenant: &TenantId,
        product: &ProductId,
    ) -> Result<Vec<Bson>, StoreError> {
        self.variants()
            .distinct(
                "_id",
                doc! { "tenantId": tenant.to_string(), "productId": product.to_string() },
            )
            .await
            .store("reading the variants of a product")
    }

    /// The `$match` of a series: the tenant's movements in `[first, last)`, narrowed by `filter`.
    /// `None` when the filter can match no movement at all.
    async fn series_match(
        &self,
        tenant: &TenantId,
        first: DateTime<Utc>,
        last: DateTime<Utc>,
        filter: &SeriesFilter,
    ) -> Result<Option<Document>, StoreError> {
        let mut query = doc! {
            "tenantId": tenant.to_string(),
            "createdAt": { "$gte": bson_time(first), "$lt": bson_time(last) },
        };
        let mut variant = Document::new();
        if let Some(id) = &filter.variant_id {
            variant.insert("$eq", id.to_string());
        }
        if let Some(product) = &filter.product_id {
            let ids = self.variant_ids_of(tenant, product).await?;
            if ids.is_empty() {
                return Ok(None);
            }
            variant.insert("$in", ids);
        }
        if !variant.is_empty() {
            query.insert("variantId", variant);
        }
        if let Some(location) = &filter.location_id {
            query.insert("locationId", location.to_string());
        }
        Ok(Some(query))
    }
}

/// The rows of one `$bucket` output document: one per kind present in the bucket.
fn bucket_counts(row: &Document, index: usize) -> Result<Vec<BucketCount>, StoreError> {
    let mut counts = Vec::new();
    let mut counted = 0;
    for kind in KINDS {
        let count = integer(row.get(count_field(kind)), "movement count")?;
        if count > 0 {
            counted += count;
            counts.push(BucketCount {
                index,
                kind,
                count,
                quantity: integer(row.get(quantity_field(kind)), "movement quantity")?,
            });
        }
    }
    let movements = integer(row.get("movements"), "movement count")?;
    if counted != movements {
        return Err(corrupt(
            "movement kind",
            format!(
                "{} movements of bucket {index} have no known kind",
                movements - counted
            ),
        ));
    }
    Ok(counts)
}

#[async_trait]
impl ReportRepository for MongoStore {
    async fn movement_buckets(
        &self,
        tenant: &TenantId,
        boundaries: &[DateTime<Utc>],
        filter: &SeriesFilter,
    ) -> Result<Vec<BucketCount>, StoreError> {
        // Fewer than two boundaries make no bucket.
        let [first, .., last] = boundaries else {
            return Ok(Vec::new());
        };
        let Some(query) = self.series_match(tenant, *first, *last, filter).await? else {
            return Ok(Vec::new());
        };
        let edges: Vec<Bson> = boundaries
            .iter()
            .map(|t| Bson::DateTime(bson_time(*t)))
            .collect();
        let pipeline = vec![
            doc! { "$match": query },
            // Every matched movement lies in [first, last), so no `default` bucket is needed.
            doc! { "$bucket": {
                "groupBy": "$createdAt",
                "boundaries": edges,
                "output": bucket_output(),
            }},
        ];
        let rows = self
            .aggregate_rows(self.movements(), pipeline, "aggregating movements by time")
            .await?;
        let index_of: HashMap<i64, usize> = boundaries
            .iter()
            .enumerate()
            .map(|(i, t)| (t.timestamp_millis(), i))
            .collect();
        let mut counts = Vec::new();
        for row in rows {
            let start = row
                .get_datetime("_id")
                .map_err(|e| corrupt("movement bucket", e))?;
            let index = *index_of
                .get(&start.timestamp_millis())
                .ok_or_else(|| corrupt("movement bucket", start))?;
            counts.extend(bucket_counts(&row, index)?);
        }
        Ok(counts)
    }

    async fn low_stock(
        &self,
        tenant: &TenantId,
        since: DateTime<Utc>,
        location: Option<LocationId>,
    ) -> Result<Vec<LowStockRow>, StoreError> {
        let tenant_id = tenant.to_string();
        let location = location.map(|l| l.to_string());
        let now = instant();
        // The stock judged: what is available at the location (only variants holding a level
        // there), or in total, at the instant of the read.
        let (held, judged) = match &location {
            Some(l) => (
                doc! { level_path(l): { "$exists": true } },
                available_at(l, now),
            ),
            None => (Document::new(), available_total(now)),
        };
        let mut tenant_match = doc! { "tenantId": &tenant_id };
        tenant_match.extend(held);
        let low: Vec<VariantDoc> = self
            .aggregate_rows(
                self.variants(),
                vec![
                    // The tenant first, on its own: an index serves it on any server; the
                    // comparison of two fields then runs on the tenant's variants only.
                    doc! { "$match": tenant_match },
                    doc! { "$match": { "$expr": { "$lte": [judged, "$reorderLevel"] } } },
                    doc! { "$sort": { "_id": 1 } },
                ],
                "reading low-stock variants",
            )
            .await?
            .into_iter()
            .map(|row| bson::from_document(row).map_err(|e| corrupt("variant", e)))
            .collect::<Result<_, _>>()?;
        if low.is_empty() {
            return Ok(Vec::new());
        }
        let mut sales = doc! {
            "tenantId": &tenant_id,
            "kind": MovementKind::Sale.as_str(),
            "createdAt": { "$gte": bson_time(since) },
        };
        if let Some(l) = &location {
            sales.insert("locationId", l);
        }
        let sold = self
            .totals_by_variant(
                sales,
                doc! { "quantity": { "$sum": "$quantity" } },
                "summing recent sales",
            )
            .await?;
        let judged: Vec<(String, i64)> = low
            .iter()
            .map(|d| {
                let stock = match &location {
                    Some(l) => d.state_at(l, now).available(),
                    None => d.total(now).available(),
                };
                (d.id.clone(), stock)
            })
            .collect();
        let variants = with_details(low, now)?;
        variants
            .into_iter()
            .zip(judged)
            .map(|(variant, (id, stock))| {
                let sales = sold
                    .get(&id)
                    .map_or(Ok(0), |row| integer(row.get("quantity"), "units sold"))?;
                let incoming = match &location {
                    Some(l) => variant
                        .levels
                        .iter()
                        .find(|level| level.location_id.to_string() == *l)
                        .map_or(0, |level| level.incoming),
                    None => variant.incoming,
                };
                Ok(LowStockRow {
                    variant,
                    stock,
                    incoming,
                    // SALE quantities are negative: units sold is their negated sum.
                    units_sold: -sales,
                })
            })
            .collect()
    }

    async fn top_movers(
        &self,
        tenant: &TenantId,
        kind: MovementKind,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<MoverRow>, StoreError> {
        let tenant_id = tenant.to_string();
        // Ranked in the server; at most one row per variant of the tenant comes back.
        let ranked = self
            .aggregate_rows(
                self.movements(),
                vec![
                    doc! { "$match": {
                        "tenantId": &tenant_id,
                        "kind": kind.as_str(),
                        "createdAt": { "$gte": bson_time(from), "$lt": bson_time(to) },
                    }},
                    doc! { "$group": {
                        "_id": "$variantId",
                        "quantity": { "$sum": { "$abs": "$quantity" } },
                        "movements": { "$sum": 1_i64 },
                    }},
                    doc! { "$sort": { "quantity": -1, "_id": 1 } },
                ],
                "ranking movers",
            )
            .await?;
        if ranked.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        // The SKUs of the ranked variants that still exist: a variant deleted since drops out
        // of the ranking here, before the limit is applied.
        let ids: Vec<&str> = ranked
            .iter()
            .map(|row| text_of(row, "_id", "mover variant id"))
            .collect::<Result<_, _>>()?;
        let skus: HashMap<String, String> = self
            .aggregate_rows(
                self.variants(),
                vec![
                    doc! { "$match": { "tenantId": &tenant_id, "_id": { "$in": &ids } } },
                    doc! { "$project": { "sku": 1 } },
                ],
                "reading the SKUs of movers",
            )
            .await?
            .iter()
            .map(|row| {
                Ok((
                    text_of(row, "_id", "variant id")?.to_owned(),
                    text_of(row, "sku", "variant SKU")?.to_owned(),
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        ranked
            .iter()
            .filter_map(|row| {
                let id = row.get_str("_id").ok()?;
                let sku = skus.get(id)?.clone();
                Some((id, sku, row))
            })
            .take(limit as usize)
            .map(|(id, sku, row)| {
                Ok(MoverRow {
                    variant_id: parse(id, "variant id")?,
                    sku,
                    quantity: integer(row.get("quantity"), "mover quantity")?,
                    movements: integer(row.get("movements"), "mover movement count")?,
                })
            })
            .collect()
    }

    async fn valuation(
        &self,
        tenant: &TenantId,
        location: Option<LocationId>,
    ) -> Result<Vec<ValuationRow>, StoreError> {
        let tenant_id = tenant.to_string();
        // The stock valued: the level at the location (0 without one), or the total.
        let stock = match location {
            Some(l) => Bson::Document(
                doc! { "$ifNull": [format!("${}", level_path(&l.to_string())), 0_i64] },
            ),
            None => Bson::String("$stock".to_owned()),
        };
        let variants = self
            .aggregate_rows(
                self.variants(),
                vec![
                    doc! { "$match": { "tenantId": &tenant_id } },
                    doc! { "$sort": { "_id": 1 } },
                    doc! { "$project": { "sku": 1, "stock": stock } },
                ],
                "reading variants to value",
            )
            .await?;
        // Purchases are summed per unit cost, so the server adds only quantities (bounded) and
        // the costs are multiplied and added here in i128: Σ quantity × cost of a variant
        // bought often at a large cost passes Int64, where `$sum` turns into a lossy double.
        let groups = self
            .aggregate_rows(
                self.movements(),
                vec![
                    doc! { "$match": {
                        "tenantId": &tenant_id,
                        "kind": MovementKind::Purchase.as_str(),
                        "unitCost": { "$ne": Bson::Null },
                    } },
                    doc! { "$group": {
                        "_id": { "variantId": "$variantId", "unitCost": "$unitCost" },
                        "units": { "$sum": "$quantity" },
                    } },
                ],
                "summing purchases",
            )
            .await?;
        let mut purchases: HashMap<String, (i64, i128)> = HashMap::new();
        for group in &groups {
            let key = group
                .get_document("_id")
                .map_err(|e| corrupt("purchase group key", e))?;
            let id = text_of(key, "variantId", "purchased variant id")?;
            let cost = integer(key.get("unitCost"), "purchase unit cost")?;
            let units = integer(group.get("units"), "purchased units")?;
            let total = purchases.entry(id.to_owned()).or_default();
            total.0 += units;
            total.1 += cost as i128 * units as i128;
        }
        variants
            .iter()
            .map(|row| {
                let id = text_of(row, "_id", "variant id")?;
                let (units, cost) = purchases.get(id).copied().unwrap_or_default();
                Ok(ValuationRow {
                    variant_id: parse(id, "variant id")?,
                    sku: text_of(row, "sku", "variant SKU")?.to_owned(),
                    stock: integer(row.get("stock"), "variant stock")?,
                    purchased_units: units,
                    purchased_cost: cost,
                })
            })
            .collect()
    }

    async fn stock_at(
        &self,
        tenant: &TenantId,
        variant: &VariantId,
        at: DateTime<Utc>,
        location: Option<LocationId>,
    ) -> Result<Replayed, StoreError> {
        let mut movements = doc! {
            "tenantId": tenant.to_string(),
            "variantId": variant.to_string(),
            "createdAt": { "$lte": bson_time(at) },
        };
        if let Some(l) = location {
            movements.insert("locationId", l.to_string());
        }
        // A movement without `unavailable` moved none: `$sum` skips the missing field.
        let pipeline = vec![
            doc! { "$match": movements },
            doc! { "$group": {
                "_id": Bson::Null,
                "quantity": { "$sum": "$quantity" },
                "damaged": { "$sum": "$unavailable.damaged" },
                "qualityControl": { "$sum": "$unavailable.qualityControl" },
                "safetyStock": { "$sum": "$unavailable.safetyStock" },
            }},
        ];
        let rows = self
            .aggregate_rows(self.movements(), pipeline, "replaying stock")
            .await?;
        let Some(row) = rows.first() else {
            return Ok(Replayed::default());
        };
        let sum = |field: &str| integer(row.get(field), "stock at a time");
        Ok(Replayed {
            on_hand: sum("quantity")?,
            unavailable: Unavailable {
                damaged: sum("damaged")?,
                quality_control: sum("qualityControl")?,
                safety_stock: sum("safetyStock")?,
            },
        })
    }
}
