//! The client's address, as the rate limits count it.
//!
//! By default it is the TCP peer: `X-Forwarded-For` is written by whoever sends the request, so
//! honouring it from anyone would let a guesser pick a fresh address per attempt. It is read only
//! when the peer is one of the configured trusted proxies (`STOCKROOM_TRUSTED_PROXIES`), and
//! then from the right: each trusted proxy appends the address it received from, so the
//! rightmost entry that is not itself a trusted proxy is the first address no trusted party can
//! have been lied to about. Entries a client put further left are never believed.

use std::future::{ready, Ready};
use std::net::{IpAddr, SocketAddr};

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};

use super::error::{ApiError, ErrorCode};

/// The proxies whose `X-Forwarded-For` is believed; empty = none (the peer address is used).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<IpAddr>);

impl TrustedProxies {
    fn trusts(&self, ip: &IpAddr) -> bool {
        self.0.contains(&canonical(*ip))
    }

    /// The client behind `peer` given the request's `X-Forwarded-For` values, in order.
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(&peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded_for
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        for hop in hops.iter().rev() {
            match hop
                .parse::<IpAddr>()
                .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
            {
                Ok(ip) if self.trusts(&ip) => continue,
                Ok(ip) => return canonical(ip),
                // A hop a trusted proxy could not have written: believe nothing left of it.
                Err(_) => break,
            }
        }
        peer
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The extracted client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl FromRequest for ClientAddress {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(peer) = req.peer_addr() else {
            return ready(Err(ApiError::new(
                ErrorCode::Internal,
                "the connection has no peer address",
            )));
        };
        let trusted = req.app_data::<web::Data<TrustedProxies>>();
        let ip = match trusted {
            Some(trusted) => {
                let values: Vec<&str> = req
                    .headers()
                    .get_all("x-forwarded-for")
                    .filter_map(|v| v.to_str().ok())
                    .collect();
                trusted.client(peer.ip(), &values)
            }
            None => canonical(peer.ip()),
        };
        ready(Ok(ClientAddress(ip)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("203.0.113.5"), &["198.51.100.1"]),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
        let proxies = TrustedProxies(vec![ip("10.0.0.1"), ip("10.0.0.2")]);
        // The client forged the leftmost entry; the proxies appended the rest.
        let header = ["1.2.3.4, 198.51.100.7", "10.0.0.2"];
        assert_eq!(proxies.client(ip("10.0.0.1"), &header), ip("198.51.100.7"));
        // A peer that is not a trusted proxy is the client, whatever it claims.
        assert_eq!(
            proxies.client(ip("203.0.113.9"), &header),
            ip("203.0.113.9")
        );
        // Garbage stops the walk: the proxy itself is counted.
        assert_eq!(
            proxies.client(ip("10.0.0.1"), &["1.2.3.4, nonsense"]),
            ip("10.0.0.1")
        );
        assert_eq!(
            proxies.client(ip("::ffff:10.0.0.1"), &["198.51.100.8"]),
            ip("198.51.100.8")
        );
    }
}
