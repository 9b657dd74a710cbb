//! raw-op and raw-find: MongoDB's own ceilings, measured from Rust in the same run, for the two
//! paths the api's figures on MongoDB are read against.
//!
//! raw-op is the conditional decrement every order rests on — `findOneAndUpdate` of one document
//! matching `{stock: {$gte: 1}}` with `$inc: {stock: -1}`, no transaction, `tasks` in flight —
//! until the store refuses for lack of stock. raw-find is a read by id — `findOne {_id,
//! tenantId}` of one of a thousand variant-shaped documents picked at random — for a duration.
//! Neither goes through an adapter: they are what the server alone does, so `hot-sku ÷ raw-op`
//! and `read-one ÷ raw-find` say how much of it survives the api.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use mongodb::bson::{doc, Document};
use mongodb::Collection;
use rand::Rng;

use super::raw_store::{COMMITTED, REFUSED_NO_STOCK, STORE_ERROR};
use crate::load::{drive, Driven, Limits, Next, Reply};

const TENANT: &str = "raw-tenant";
/// Documents raw-find picks from.
const FIND_DOCUMENTS: usize = 1000;
const MAX_ERRORS_IN_A_ROW: u32 = 200;
const FOUND: u16 = 200;
const NOT_FOUND: u16 = 404;

/// What raw-op left behind: the run, and the document's stock afterwards.
#[derive(Debug, Clone)]
pub struct RawOpRun {
    pub driven: Driven,
    pub final_stock: i64,
}

async fn collection(url: &str, name: &str) -> anyhow::Result<Collection<Document>> {
    let client = mongodb::Client::with_uri_str(url).await?;
    let database = client
        .default_database()
        .context("the MongoDB URL names no database")?;
    Ok(database.collection(name))
}

/// raw-op: `tasks` tasks decrement one document holding `stock` until it is gone.
pub async fn raw_op(url: &str, tasks: usize, stock: i64) -> anyhow::Result<RawOpRun> {
    let hot = Arc::new(collection(url, "raw_op").await?);
    hot.insert_one(doc! { "_id": "hot", "tenantId": TENANT, "stock": stock })
        .await?;
    let driven = {
        let hot = hot.clone();
        drive(
            tasks,
            COMMITTED,
            Limits {
                duration: None,
                max_errors_in_a_row: MAX_ERRORS_IN_A_ROW,
            },
            move |_| {
                let hot = hot.clone();
                async move {
                    let decremented = hot
                        .find_one_and_update(
                            doc! { "_id": "hot", "tenantId": TENANT, "stock": { "$gte": 1_i64 } },
                            doc! { "$inc": { "stock": -1_i64 } },
                        )
                        .await;
                    match decremented {
                        Ok(Some(_)) => Reply::Status(COMMITTED),
                        Ok(None) => Reply::Status(REFUSED_NO_STOCK),
                        Err(_) => Reply::Status(STORE_ERROR),
                    }
                }
            },
            |reply| match reply {
                Reply::Status(COMMITTED) => (true, Next::Continue),
                // The stock only falls: the document is sold out for good.
                Reply::Status(REFUSED_NO_STOCK) => (true, Next::Stop),
                _ => (false, Next::Continue),
            },
        )
        .await
    };
    let final_stock = hot
        .find_one(doc! { "_id": "hot", "tenantId": TENANT })
        .await?
        .and_then(|d| d.get_i64("stock").ok())
        .context("the raw-op document is gone")?;
    Ok(RawOpRun {
        driven,
        final_stock,
    })
}

/// A document shaped like a stored variant (its identity, catalog fields and one level).
fn variant_like(i: usize) -> Document {
    doc! {
        "_id": format!("variant-{i:05}"),
        "tenantId": TENANT,
        "productId": "product-1",
        "sku": format!("RAW-{i:05}"),
        "attributes": { "size": "M" },
        "price": 1999_i64,
        "reorderLevel": 5_i64,
        "levels": { "location-1": 1000_i64 },
        "stock": 1000_i64,
        "committed": {},
        "committedTotal": 0_i64,
        "inTransit": 0_i64,
        "createdAt": mongodb::bson::DateTime::now(),
        "updatedAt": mongodb::bson::DateTime::now(),
    }
}

/// raw-find: `tasks` tasks read variant-shaped documents by id, picked at random, for
/// `duration`.
pub async fn raw_find(url: &str, tasks: usize, duration: Duration) -> anyhow::Result<Driven> {
    let variants = Arc::new(collection(url, "raw_find").await?);
    variants
        .insert_many((0..FIND_DOCUMENTS).map(variant_like))
        .await?;
    let driven = drive(
        tasks,
        FOUND,
        Limits {
            duration: Some(duration),
            max_errors_in_a_row: MAX_ERRORS_IN_A_ROW,
        },
        move |_| {
            let variants = variants.clone();
            let id = format!(
                "variant-{:05}",
                rand::thread_rng().gen_range(0..FIND_DOCUMENTS)
            );
            async move {
                match variants
                    .find_one(doc! { "_id": id, "tenantId": TENANT })
                    .await
                {
                    Ok(Some(_)) => Reply::Status(FOUND),
                    Ok(None) => Reply::Status(NOT_FOUND),
                    Err(_) => Reply::Status(STORE_ERROR),
                }
            }
        },
        |reply| (reply == Reply::Status(FOUND), Next::Continue),
    )
    .await;
    Ok(driven)
}
