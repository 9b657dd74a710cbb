//! A thin typed client of the api endpoints the scenarios need.
//!
//! One `reqwest::Client` holds a keep-alive pool shared by every simulated client, so each task
//! reuses its connection as a browser or service would. Set-up calls check their status and fail
//! loudly; the load calls return the raw status so the scenarios can count refusals.

use std::time::Duration;

use anyhow::{bail, Context};
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

/// A logged-in caller of one api.
#[derive(Clone)]
pub struct ApiClient {
    pub http: Client,
    pub base: String,
    pub auth: String,
}

/// The keep-alive HTTP client every scenario uses.
pub fn http_client(pool: usize) -> anyhow::Result<Client> {
    Client::builder()
        .pool_max_idle_per_host(pool.max(1))
        // Idle connections close on this side before the server's keep-alive runs out, so a
        // request never lands on a connection the server is closing.
        .pool_idle_timeout(Duration::from_secs(20))
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()
        .context("building the HTTP client")
}

/// What the sign-up answered.
pub struct Registered {
    pub client: ApiClient,
    pub tenant_id: String,
    pub user_id: String,
}

async fn expect(response: Response, want: StatusCode, what: &str) -> anyhow::Result<Value> {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if status != want {
        bail!("{what}: expected {want}, got {status}: {body}");
    }
    if body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&body).with_context(|| format!("{what}: the body is not JSON"))
}

fn string(v: &Value, field: &str) -> anyhow::Result<String> {
    v[field]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no `{field}` in {v}"))
}

/// Signs up a tenant `slug` and its owner.
pub async fn register(http: &Client, base: &str, slug: &str) -> anyhow::Result<Registered> {
    let body = json!({
        "tenantName": format!("Bench {slug}"),
        "tenantSlug": slug,
        "email": format!("owner@{slug}.example"),
        "password": "bench password 1",
        "name": "Bench Owner",
    });
    let v = expect(
        http.post(format!("{base}/v1/auth/register"))
            .json(&body)
            .send()
            .await?,
        StatusCode::CREATED,
        "registering a tenant",
    )
    .await?;
    Ok(Registered {
        client: ApiClient {
            http: http.clone(),
            base: base.to_owned(),
            auth: format!("Bearer {}", string(&v, "token")?),
        },
        tenant_id: string(&v["tenant"], "id")?,
        user_id: string(&v["user"], "id")?,
    })
}

impl ApiClient {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn post(
        &self,
        path: &str,
        body: &Value,
        want: StatusCode,
        what: &str,
    ) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(self.url(path))
            .header("authorization", &self.auth)
            .json(body)
            .send()
            .await
            .with_context(|| format!("{what}: request failed"))?;
        expect(response, want, what).await
    }

    pub async fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        let response = self
            .http
            .get(self.url(path))
            .header("authorization", &self.auth)
            .send()
            .await
            .with_context(|| format!("GET {path}: request failed"))?;
        expect(response, StatusCode::OK, &format!("GET {path}")).await
    }

    pub async fn create_product(&self, name: &str) -> anyhow::Result<String> {
        let v = self
            .post(
                "/v1/products",
                &json!({ "name": name }),
                StatusCode::CREATED,
                "creating a product",
            )
            .await?;
        string(&v, "id")
    }

    pub async fn create_variant(
        &self,
        product: &str,
        sku: &str,
        reorder_level: i64,
    ) -> anyhow::Result<String> {
        let body = json!({
            "productId": product,
            "sku": sku,
            "attributes": { "size": "M" },
            "price": 1999,
            "reorderLevel": reorder_level,
        });
        let v = self
            .post(
                "/v1/variants",
                &body,
                StatusCode::CREATED,
                "creating a variant",
            )
            .await?;
        string(&v, "id")
    }

    /// Counts `quantity` units in with an ADJUSTMENT.
    pub async fn add_stock(&self, variant: &str, quantity: i64) -> anyhow::Result<()> {
        let body = json!({ "quantity": quantity, "reason": "bench stock" });
        self.post(
            &format!("/v1/variants/{variant}/adjustments"),
            &body,
            StatusCode::CREATED,
            "adjusting stock",
        )
        .await?;
        Ok(())
    }

    pub async fn stock_of(&self, variant: &str) -> anyhow::Result<i64> {
        let v = self.get_json(&format!("/v1/variants/{variant}")).await?;
        v["stock"]
            .as_i64()
            .with_context(|| format!("no stock in {v}"))
    }

    /// The id of the tenant's default location, where orders and adjustments that name no
    /// location go first.
    pub async fn default_location(&self) -> anyhow::Result<String> {
        let v = self.get_json("/v1/locations?limit=200").await?;
        let items = v["items"]
            .as_array()
            .with_context(|| format!("no items in {v}"))?;
        let default = items
            .iter()
            .find(|l| l["isDefault"].as_bool() == Some(true))
            .with_context(|| format!("no default location in {v}"))?;
        string(default, "id")
    }

    /// (variants checked, drift entries) from `/v1/stock/audit`: one entry per level off its
    /// movements and one per variant whose total is off its levels.
    pub async fn audit(&self) -> anyhow::Result<(u64, usize)> {
        let v = self.get_json("/v1/stock/audit").await?;
        let checked = v["variantsChecked"]
            .as_u64()
            .with_context(|| format!("no variantsChecked in {v}"))?;
        let drift = v["drift"]
            .as_array()
            .with_context(|| format!("no drift in {v}"))?
            .len();
        Ok((checked, drift))
    }

    /// One order of `quantity` units of `variant`; the status, with the body read so the
    /// connection goes back to the pool.
    pub async fn order(&self, variant: &str, quantity: i64) -> Result<StatusCode, reqwest::Error> {
        let body = format!(r#"{{"lines":[{{"variantId":"{variant}","quantity":{quantity}}}]}}"#);
        let response = self
            .http
            .post(self.url("/v1/orders"))
            .header("authorization", &self.auth)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        let status = response.status();
        response.bytes().await?;
        Ok(status)
    }

    /// A checkout hold of `quantity` units of `variant` for `ttl_seconds`: the status, and the
    /// reservation's id when it was placed.
    pub async fn reserve(
        &self,
        variant: &str,
        quantity: i64,
        ttl_seconds: i64,
    ) -> Result<(StatusCode, Option<String>), reqwest::Error> {
        let body = format!(
            r#"{{"lines":[{{"variantId":"{variant}","quantity":{quantity}}}],"ttlSeconds":{ttl_seconds}}}"#
        );
        let response = self
            .http
            .post(self.url("/v1/reservations"))
            .header("authorization", &self.auth)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        let id = (status == StatusCode::CREATED)
            .then(|| serde_json::from_slice::<Value>(&bytes).ok())
            .flatten()
            .and_then(|v| v["id"].as_str().map(str::to_owned));
        Ok((status, id))
    }

    /// Confirms reservation `id` into an order; the status.
    pub async fn confirm(&self, id: &str) -> Result<StatusCode, reqwest::Error> {
        let response = self
            .http
            .post(self.url(&format!("/v1/reservations/{id}/confirm")))
            .header("authorization", &self.auth)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await?;
        let status = response.status();
        response.bytes().await?;
        Ok(status)
    }

    /// The variant's committed and reserved units.
    pub async fn claims_of(&self, variant: &str) -> anyhow::Result<(i64, i64)> {
        let v = self.get_json(&format!("/v1/variants/{variant}")).await?;
        let field = |name: &str| {
            v[name]
                .as_i64()
                .with_context(|| format!("no {name} in {v}"))
        };
        Ok((field("committed")?, field("reserved")?))
    }

    /// A GET whose body is read and dropped; the status.
    pub async fn get_status(&self, path: &str) -> Result<StatusCode, reqwest::Error> {
        let response = self
            .http
            .get(self.url(path))
            .header("authorization", &self.auth)
            .send()
            .await?;
        let status = response.status();
        response.bytes().await?;
        Ok(status)
    }
}

/// Creates `count` variants of one new product, `parallel` at a time, each with `stock` units.
pub async fn create_variants(
    api: &ApiClient,
    prefix: &str,
    count: usize,
    stock: i64,
    reorder_level: i64,
    parallel: usize,
) -> anyhow::Result<Vec<String>> {
    use futures::stream::{self, StreamExt, TryStreamExt};
    let product = api.create_product(&format!("Bench {prefix}")).await?;
    stream::iter(0..count)
        .map(|i| {
            let (api, product) = (api.clone(), product.clone());
            let sku = format!("{prefix}-{i:05}");
            async move {
                let id = api.create_variant(&product, &sku, reorder_level).await?;
                if stock > 0 {
                    api.add_stock(&id, stock).await?;
                }
                anyhow::Ok(id)
            }
        })
        .buffered(parallel.max(1))
        .try_collect()
        .await
}
