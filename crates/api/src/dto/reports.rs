//! Bodies of the reports.

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use domain::error::{DomainError, FieldErrors};
use domain::ids::{LocationId, ProductId, SupplierId, VariantId};
use domain::reports::buckets::Bucket;
use domain::reports::models::{
    LowStockLine, MoverRow, MoversLimit, SeriesBucket, SeriesFilter, StockAt, Valuation,
};
use domain::stock::models::MovementKind;

use super::catalog::VariantDto;
use super::id;
use super::stock::{MovementTypeDto, UnavailableByDto, MOVEMENT_TYPES};
use crate::http::query::{optional, timestamp};

/// An optional `locationId` query parameter, named in the error when it is not an id.
fn location_param(e: &mut FieldErrors, raw: Option<&str>) -> Option<LocationId> {
    optional(
        e,
        "locationId",
        raw,
        str::parse::<LocationId>,
        "is not a valid id",
    )
}

/// `?from&to&bucket&tz&variantId&productId&locationId` of the movement series.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// RFC 3339, inclusive.
    #[param(required = true, format = DateTime)]
    pub from: Option<String>,
    /// RFC 3339, exclusive.
    #[param(required = true, format = DateTime)]
    pub to: Option<String>,
    /// `hour`, `day` (default) or `week` (ISO weeks from Monday).
    #[param(value_type = Option<super::bounds::BucketName>)]
    pub bucket: Option<String>,
    /// IANA time zone for bucket edges, e.g. `Europe/Berlin` (default UTC).
    pub tz: Option<String>,
    #[param(format = Uuid)]
    pub variant_id: Option<String>,
    #[param(format = Uuid)]
    pub product_id: Option<String>,
    /// Only movements at this location.
    #[param(format = Uuid)]
    pub location_id: Option<String>,
}

/// A validated series request.
pub struct SeriesRequest {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub bucket: Bucket,
    pub tz: Tz,
    pub filter: SeriesFilter,
}

impl SeriesQuery {
    pub fn into_domain(&self) -> Result<SeriesRequest, DomainError> {
        let mut e = FieldErrors::new();
        let from = required_time(&mut e, "from", self.from.as_deref());
        let to = required_time(&mut e, "to", self.to.as_deref());
        let bucket = match self.bucket.as_deref() {
            None | Some("") => Some(Bucket::Day),
            Some(b) => Bucket::parse(b).or_else(|| {
                e.add("bucket", "must be hour, day or week");
                None
            }),
        };
        let tz = optional(
            &mut e,
            "tz",
            self.tz.as_deref(),
            str::parse::<Tz>,
            "must be an IANA time zone such as Europe/Berlin",
        )
        .unwrap_or(chrono_tz::UTC);
        let variant_id = optional(
            &mut e,
            "variantId",
            self.variant_id.as_deref(),
            str::parse::<VariantId>,
            "is not a valid id",
        );
        let product_id = optional(
            &mut e,
            "productId",
            self.product_id.as_deref(),
            str::parse::<ProductId>,
            "is not a valid id",
        );
        let location_id = location_param(&mut e, self.location_id.as_deref());
        e.finish()?;
        Ok(SeriesRequest {
            from: from.expect("checked"),
            to: to.expect("checked"),
            bucket: bucket.expect("checked"),
            tz,
            filter: SeriesFilter {
                variant_id,
                product_id,
                location_id,
            },
        })
    }
}

fn required_time(e: &mut FieldErrors, field: &str, raw: Option<&str>) -> Option<DateTime<Utc>> {
    match raw {
        None | Some("") => {
            e.add(field, "is required (RFC 3339)");
            None
        }
        Some(raw) => optional(
            e,
            field,
            Some(raw),
            timestamp,
            "must be an RFC 3339 timestamp",
        ),
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KindTotalsDto {
    #[serde(rename = "type")]
    pub kind: MovementTypeDto,
    #[schema(example = 12)]
    pub count: i64,
    /// Σ signed quantity.
    #[schema(example = -17)]
    pub quantity: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeriesBucketDto {
    /// Bucket start in the requested time zone.
    #[schema(value_type = String, example = "2026-11-23T00:00:00+01:00")]
    pub start: DateTime<FixedOffset>,
    #[schema(value_type = String, example = "2026-11-24T00:00:00+01:00")]
    pub end: DateTime<FixedOffset>,
    /// One entry per movement type, zeros included.
    pub movements: Vec<KindTotalsDto>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeriesResponse {
    #[schema(example = "day")]
    pub bucket: String,
    #[schema(example = "Europe/Berlin")]
    pub tz: String,
    pub buckets: Vec<SeriesBucketDto>,
}

impl SeriesResponse {
    pub fn new(bucket: Bucket, tz: Tz, buckets: &[SeriesBucket]) -> Self {
        Self {
            bucket: bucket.as_str().to_owned(),
            tz: tz.name().to_owned(),
            buckets: buckets
                .iter()
                .map(|b| SeriesBucketDto {
                    start: b.start.with_timezone(&tz).fixed_offset(),
                    end: b.end.with_timezone(&tz).fixed_offset(),
                    movements: b
                        .totals
                        .iter()
                        .map(|t| KindTotalsDto {
                            kind: t.kind.into(),
                            count: t.count,
                            quantity: t.quantity,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LowStockLineDto {
    pub variant: VariantDto,
    /// The available units judged low (on hand − committed − reserved − unavailable): at the location asked about, else
    /// the variant's total.
    #[schema(example = 4)]
    pub stock: i64,
    /// Units on open purchase orders: to the location asked about, else to every location.
    #[schema(example = 0)]
    pub incoming: i64,
    /// Units sold per day over the last 30 days.
    #[schema(example = 2.5)]
    pub average_daily_sales: f64,
    /// stock ÷ average daily sales; null when nothing sells.
    #[schema(required = true, example = 1.6)]
    pub days_of_cover: Option<f64>,
    /// ceil(30 days of sales) + reorderLevel − stock − incoming, at least 0.
    #[schema(example = 76)]
    pub suggested_quantity: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LowStockResponse {
    /// Sorted by days of cover, fewest first.
    pub items: Vec<LowStockLineDto>,
}

impl From<&[LowStockLine]> for LowStockResponse {
    fn from(lines: &[LowStockLine]) -> Self {
        Self {
            items: lines
                .iter()
                .map(|l| LowStockLineDto {
                    variant: (&l.variant).into(),
                    stock: l.stock,
                    incoming: l.incoming,
                    average_daily_sales: l.average_daily_sales,
                    days_of_cover: l.days_of_cover,
                    suggested_quantity: l.suggested_quantity,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReorderRequest {
    #[schema(example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a80", format = Uuid)]
    pub supplier_id: String,
    /// Only these variants (default: every low variant with a positive suggestion).
    #[schema(value_type = Option<Vec<uuid::Uuid>>)]
    pub variant_ids: Option<Vec<String>>,
}

impl ReorderRequest {
    pub fn into_domain(self) -> Result<(SupplierId, Option<Vec<VariantId>>), DomainError> {
        let mut e = FieldErrors::new();
        let supplier = id::<SupplierId>(&mut e, "supplierId", &self.supplier_id);
        let variants = self.variant_ids.map(|ids| {
            ids.iter()
                .enumerate()
                .filter_map(|(i, v)| id::<VariantId>(&mut e, &format!("variantIds[{i}]"), v))
                .collect()
        });
        e.finish()?;
        Ok((supplier.expect("checked"), variants))
    }
}

/// `?from&to&type&limit` of the top movers.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MoversQuery {
    /// RFC 3339, inclusive.
    #[param(required = true, format = DateTime)]
    pub from: Option<String>,
    /// RFC 3339, exclusive.
    #[param(required = true, format = DateTime)]
    pub to: Option<String>,
    /// Movement type (default SALE).
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<MovementTypeDto>)]
    pub kind: Option<String>,
    /// 1–100 (default 10).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
}

impl MoversQuery {
    pub fn into_domain(
        &self,
    ) -> Result<(MovementKind, DateTime<Utc>, DateTime<Utc>, MoversLimit), DomainError> {
        let mut e = FieldErrors::new();
        let from = required_time(&mut e, "from", self.from.as_deref());
        let to = required_time(&mut e, "to", self.to.as_deref());
        let kind = optional(
            &mut e,
            "type",
            self.kind.as_deref(),
            |s| MovementKind::parse(s).ok_or(()),
            MOVEMENT_TYPES,
        )
        .unwrap_or(MovementKind::Sale);
        let limit = optional(
            &mut e,
            "limit",
            self.limit.as_deref(),
            |s| {
                s.parse::<u32>()
                    .ok()
                    .and_then(|n| MoversLimit::new(n).ok())
                    .ok_or(())
            },
            "must be between 1 and 100",
        )
        .unwrap_or_default();
        e.finish()?;
        Ok((kind, from.expect("checked"), to.expect("checked"), limit))
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MoverDto {
    pub variant_id: String,
    #[schema(example = "TS-RED-M")]
    pub sku: String,
    /// Σ |quantity|.
    #[schema(example = 140)]
    pub quantity: i64,
    #[schema(example = 61)]
    pub movements: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MoversResponse {
    pub items: Vec<MoverDto>,
}

impl From<&[MoverRow]> for MoversResponse {
    fn from(rows: &[MoverRow]) -> Self {
        Self {
            items: rows
                .iter()
                .map(|r| MoverDto {
                    variant_id: r.variant_id.to_string(),
                    sku: r.sku.clone(),
                    quantity: r.quantity,
                    movements: r.movements,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValuationLineDto {
    pub variant_id: String,
    #[schema(example = "TS-RED-M")]
    pub sku: String,
    /// Units on hand (committed units included).
    #[schema(example = 42)]
    pub stock: i64,
    /// Weighted average of PURCHASE unit costs, minor units, rounded half up; null if never purchased.
    #[schema(required = true, example = 650)]
    pub average_unit_cost: Option<i64>,
    /// stock × Σ cost ÷ Σ units, rounded half up once, minor units. An exact integer that may
    /// pass 64 bits (stock × cost does long before either does); read it as a big integer.
    #[schema(value_type = i64, format = "int128", example = 27300)]
    pub value: i128,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ValuationResponse {
    pub items: Vec<ValuationLineDto>,
    /// Σ value, minor units; an exact integer that may pass 64 bits, as `value`.
    #[schema(value_type = i64, format = "int128", example = 27300)]
    pub total: i128,
}

impl From<&Valuation> for ValuationResponse {
    fn from(v: &Valuation) -> Self {
        Self {
            items: v
                .lines
                .iter()
                .map(|l| ValuationLineDto {
                    variant_id: l.variant_id.to_string(),
                    sku: l.sku.clone(),
                    stock: l.stock,
                    average_unit_cost: l.average_unit_cost,
                    value: l.value,
                })
                .collect(),
            total: v.total,
        }
    }
}

/// `?locationId` of the low-stock report and the valuation.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct LocationQuery {
    /// Report on the stock at this location only (default: the totals over every location).
    #[param(format = Uuid)]
    pub location_id: Option<String>,
}

impl LocationQuery {
    pub fn into_domain(&self) -> Result<Option<LocationId>, DomainError> {
        let mut e = FieldErrors::new();
        let location = location_param(&mut e, self.location_id.as_deref());
        e.finish()?;
        Ok(location)
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct StockAtQuery {
    /// RFC 3339 (default now).
    #[param(format = DateTime)]
    pub at: Option<String>,
    /// The stock at this location only (default: the variant's total).
    #[param(format = Uuid)]
    pub location_id: Option<String>,
}

impl StockAtQuery {
    /// The moment asked for (`None` means now) and the location, if one.
    pub fn into_domain(&self) -> Result<(Option<DateTime<Utc>>, Option<LocationId>), DomainError> {
        let mut e = FieldErrors::new();
        let at = optional(
            &mut e,
            "at",
            self.at.as_deref(),
            timestamp,
            "must be an RFC 3339 timestamp",
        );
        let location = location_param(&mut e, self.location_id.as_deref());
        e.finish()?;
        Ok((at, location))
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StockAtResponse {
    pub variant_id: String,
    /// The location asked about; null for the variant's total.
    #[schema(required = true)]
    pub location_id: Option<String>,
    pub at: DateTime<Utc>,
    /// Units on hand at `at`: Σ of the movements until then.
    #[schema(example = 17)]
    pub stock: i64,
    /// The same number as `stock`, named as on the variant.
    #[schema(example = 17)]
    pub on_hand: i64,
    /// Of those, the units not for sale at `at` (Σ of `unavailableBy`). Commitments and
    /// reservations are not replayed: they are not movements.
    #[schema(example = 3)]
    pub unavailable: i64,
    /// The units not for sale at `at`, by state: Σ of the movements' change of each state.
    pub unavailable_by: UnavailableByDto,
}

impl StockAtResponse {
    pub fn new(variant: VariantId, location: Option<LocationId>, found: &StockAt) -> Self {
        Self {
            variant_id: variant.to_string(),
            location_id: location.map(|l| l.to_string()),
            at: found.at,
            stock: found.stock,
            on_hand: found.stock,
            unavailable: found.unavailable.sum(),
            unavailable_by: (&found.unavailable).into(),
        }
    }
}
