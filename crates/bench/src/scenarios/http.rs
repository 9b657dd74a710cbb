//! The scenarios that go through the api over HTTP: hot-sku, checkout, spread, read, read-one,
//! and hello (the same client against the bare actix server).
//!
//! hot-sku is the invariant under the worst contention: every client wants the same unit, so the
//! order path must sell exactly the stock — never one more — while staying fast. checkout is the
//! same race through a checkout hold (reserve, then confirm into an order). spread is the
//! everyday case of little contention; read (a page), read-one (one variant by id) and hello bound
//! the cost of a plain read.

use std::time::Duration;

use rand::Rng;
use reqwest::{Client, StatusCode};

use crate::client::{create_variants, ApiClient};
use crate::load::{drive, Driven, Limits, Next, Reply};

/// A client gives up after this many unexpected replies in a row (the api is then broken, and
/// looping on it would only hide that).
const MAX_ERRORS_IN_A_ROW: u32 = 200;

/// Units each spread variant holds: far more than a run can sell, so no order is refused.
const SPREAD_STOCK: i64 = 1_000_000;

fn reply(result: Result<StatusCode, reqwest::Error>) -> Reply {
    match result {
        Ok(status) => Reply::Status(status.as_u16()),
        Err(_) => Reply::Failed,
    }
}

/// What a sell-out left behind, as the api reports it.
#[derive(Debug, Clone)]
pub struct SellOut {
    pub driven: Driven,
    pub stock: i64,
    pub final_stock: i64,
    pub drift: usize,
}

impl SellOut {
    pub fn successes(&self) -> u64 {
        self.driven.tally.count(201)
    }
}

/// hot-sku: `clients` clients order one unit of one variant holding `stock` until it is gone.
pub async fn hot_sku(api: &ApiClient, clients: usize, stock: i64) -> anyhow::Result<SellOut> {
    let variant = create_variants(api, "HOT", 1, stock, 0, 1).await?.remove(0);
    let (a, v) = (api.clone(), variant.clone());
    let driven = drive(
        clients,
        201,
        Limits {
            duration: None,
            max_errors_in_a_row: MAX_ERRORS_IN_A_ROW,
        },
        move |_| {
            let (api, variant) = (a.clone(), v.clone());
            async move { reply(api.order(&variant, 1).await) }
        },
        |reply| match reply {
            Reply::Status(201) => (true, Next::Continue),
            // Not enough stock: stock only falls, so the variant is sold out for good.
            Reply::Status(409) => (true, Next::Stop),
            // Busy: the api asks for a retry.
            Reply::Status(503) => (true, Next::Continue),
            _ => (false, Next::Continue),
        },
    )
    .await;
    let final_stock = api.stock_of(&variant).await?;
    let (_, drift) = api.audit().await?;
    Ok(SellOut {
        driven,
        stock,
        final_stock,
        drift,
    })
}

/// How long a checkout hold lasts: far longer than a run, so none expires under it.
const CHECKOUT_TTL_SECONDS: i64 = 600;

/// What a checkout sell-out left behind: the sell-out, and the variant's committed and reserved
/// units afterwards.
#[derive(Debug, Clone)]
pub struct CheckoutSellOut {
    pub sold: SellOut,
    pub committed: i64,
    pub reserved: i64,
}

/// checkout: `clients` clients each hold one unit of one variant holding `stock`, then confirm
/// the hold into an order, until the variant is gone. A success is a confirmed order (two
/// requests); its latency is that of both.
pub async fn checkout(
    api: &ApiClient,
    clients: usize,
    stock: i64,
) -> anyhow::Result<CheckoutSellOut> {
    let variant = create_variants(api, "CHECKOUT", 1, stock, 0, 1)
        .await?
        .remove(0);
    let (a, v) = (api.clone(), variant.clone());
    let driven = drive(
        clients,
        201,
        Limits {
            duration: None,
            max_errors_in_a_row: MAX_ERRORS_IN_A_ROW,
        },
        move |_| {
            let (api, variant) = (a.clone(), v.clone());
            async move {
                match api.reserve(&variant, 1, CHECKOUT_TTL_SECONDS).await {
                    Ok((StatusCode::CREATED, Some(id))) => reply(api.confirm(&id).await),
                    Ok((status, _)) => Reply::Status(status.as_u16()),
                    Err(_) => Reply::Failed,
                }
            }
        },
        |reply| match reply {
            Reply::Status(201) => (true, Next::Continue),
            // Not enough stock to hold: the variant is sold out for good.
            Reply::Status(409) => (true, Next::Stop),
            Reply::Status(503) => (true, Next::Continue),
            _ => (false, Next::Continue),
        },
    )
    .await;
    let final_stock = api.stock_of(&variant).await?;
    let (committed, reserved) = api.claims_of(&variant).await?;
    let (_, drift) = api.audit().await?;
    Ok(CheckoutSellOut {
        sold: SellOut {
            driven,
            stock,
            final_stock,
            drift,
        },
        committed,
        reserved,
    })
}

/// Variants (SKUs `<prefix>-00000`…) for spread and read, each stocked far beyond what a run
/// sells.
pub async fn stocked_variants(
    api: &ApiClient,
    prefix: &str,
    count: usize,
    parallel: usize,
) -> anyhow::Result<Vec<String>> {
    create_variants(api, prefix, count, SPREAD_STOCK, 5, parallel).await
}

/// spread: one-unit orders of variants picked at random, for `duration`. Returns the run and the
/// audit's drift count afterwards.
pub async fn spread(
    api: &ApiClient,
    variants: Vec<String>,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<(Driven, usize)> {
    let a = api.clone();
    let variants = std::sync::Arc::new(variants);
    let driven = drive(
        clients,
        201,
        Limits {
            duration: Some(duration),
            max_errors_in_a_row: MAX_ERRORS_IN_A_ROW,
        },
        move |_| {
            let api = a.clone();
            let variant = variants[rand::thread_rng().gen_range(0..variants.len())].clone();
            async move { reply(api.order(&variant, 1).await) }
        },
        |reply| match reply {
            Reply::Status(201) | Reply::Status(503) => (true, Next::Continue),
            _ => (false, Next::Continue),
        },
    )
    .await;
    let (_, drift) = api.audit().await?;
    Ok((driven, drift))
}

/// read: a page of 50 variants, for `duration`.
pub async fn read(api: &ApiClient, clients: usize, duration: Duration) -> Driven {
    let a = api.clone();
    drive(
        clients,
        200,
        Limits {
            duration: Some(duration),
            max_errors_in_a_row: MAX_ERRORS_IN_A_ROW,
        },
        move |_| {
            let api = a.clone();
            async move { reply(api.get_status("/v1/variants?limit=50").await) }
        },
        |reply| (reply == Reply::Status(200), Next::Continue),
    )
    .await
}

/// read-one: `GET /v1/variants/{id}` of one of `variants` picked at random, for `duration`.
pub async fn read_one(
    api: &ApiClient,
    variants: Vec<String>,
    clients: usize,
    duration: Duration,
) -> Driven {
    let a = api.clone();
    let variants = std::sync::Arc::new(variants);
    drive(
        clients,
        200,
        Limits {
            duration: Some(duration),
            max_errors_in_a_row: MAX_ERRORS_IN_A_ROW,
        },
        move |_| {
            let api = a.clone();
            let variant = variants[rand::thread_rng().gen_range(0..variants.len())].clone();
            async move { reply(api.get_status(&format!("/v1/variants/{variant}")).await) }
        },
        |reply| (reply == Reply::Status(200), Next::Continue),
    )
    .await
}

/// hello: `GET /` on the bare actix server at `base`, for `duration`.
pub async fn hello(http: &Client, base: &str, clients: usize, duration: Duration) -> Driven {
    let (http, url) = (http.clone(), format!("{base}/"));
    drive(
        clients,
        200,
        Limits {
            duration: Some(duration),
            max_errors_in_a_row: MAX_ERRORS_IN_A_ROW,
        },
        move |_| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                let result = match http.get(&url).send().await {
                    Ok(response) => {
                        let status = response.status();
                        response.bytes().await.map(|_| status)
                    }
                    Err(e) => Err(e),
                };
                reply(result)
            }
        },
        |reply| (reply == Reply::Status(200), Next::Continue),
    )
    .await
}
