//! The HTTP client every API test binary uses.

/// A keep-alive client that closes its idle connections well before the server would, so a
/// request never lands on a connection the server is closing at that instant.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .pool_idle_timeout(api::startup::HTTP_KEEP_ALIVE / 3)
        .build()
        .expect("the HTTP client builds")
}
