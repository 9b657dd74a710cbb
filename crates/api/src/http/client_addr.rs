//! The client's address, as the rate limits count it.
//!
//! By default it is the TCP peer: `X-Forwarded-For` is written by whoever sends the request, so
//! honouring it from anyone would let a guesser pick a fresh address per attempt. It is read only
//! when the peer is one of the configured trusted proxies (`STOCKROOM_TRUSTED_PROXIES`), and
//! then from the right: each trusted proxy appends the address it received from, so the
//! rightmost entry that is not itself a trusted proxy is the first address no trusted party can
//! have been lied to about. Entries a client put further left are never believed.
//!
//! A trusted proxy is named by its address or by a network (`10.0.0.0/8`, `fd00::/8`): behind a
//! container network or an autoscaled balancer the proxies' own addresses are not known in
//! advance, only the network they are given addresses from.

use std::fmt;
use std::future::{ready, Ready};
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};

use super::error::{ApiError, ErrorCode};

/// An address, or a network of them (`address/prefix-length`), that a proxy may connect from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyRange {
    network: IpAddr,
    prefix: u8,
}

impl ProxyRange {
    /// Whether `ip` (already canonical) lies in the range.
    fn contains(&self, ip: &IpAddr) -> bool {
        ip.is_ipv4() == self.network.is_ipv4()
            && network_part(*ip, self.prefix) == network_part(self.network, self.prefix)
    }
}

/// `ip` as a number, and how many bits it has.
fn bits_of(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

/// The leading `prefix` bits of `ip` (`prefix` at most its width).
fn network_part(ip: IpAddr, prefix: u8) -> u128 {
    let (bits, width) = bits_of(ip);
    bits.checked_shr(u32::from(width - prefix)).unwrap_or(0)
}

/// Why a trusted-proxy entry was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRangeError(String);

impl fmt::Display for ProxyRangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ProxyRange {
    type Err = ProxyRangeError;

    /// `10.0.0.7` (one address) or `10.0.0.0/8`; the network's host bits must be zero, so a
    /// typo such as `10.0.0.7/8` is refused rather than silently widened.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let (address, prefix) = match raw.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (raw, None),
        };
        let network = address
            .parse::<IpAddr>()
            .map(canonical)
            .map_err(|_| ProxyRangeError(format!("'{raw}' is not an IP address or network")))?;
        let (bits, width) = bits_of(network);
        let prefix = match prefix {
            None => width,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(|| {
                    ProxyRangeError(format!("'{raw}' has a prefix length outside 0..={width}"))
                })?,
        };
        // The network address again from its leading bits: any host bit set makes it differ.
        let host_bits = u32::from(width - prefix);
        let rebuilt = network_part(network, prefix)
            .checked_shl(host_bits)
            .unwrap_or(0);
        if rebuilt != bits {
            return Err(ProxyRangeError(format!(
                "'{raw}' has host bits set; write the network address"
            )));
        }
        Ok(ProxyRange { network, prefix })
    }
}

/// The proxies whose `X-Forwarded-For` is believed; empty = none (the peer address is used).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<ProxyRange>);

impl TrustedProxies {
    fn trusts(&self, ip: &IpAddr) -> bool {
        let ip = canonical(*ip);
        self.0.iter().any(|range| range.contains(&ip))
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

    fn proxies(ranges: &[&str]) -> TrustedProxies {
        TrustedProxies(ranges.iter().map(|r| r.parse().unwrap()).collect())
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
        let proxies = proxies(&["10.0.0.1", "10.0.0.2"]);
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

    #[test]
    fn a_network_trusts_every_proxy_in_it_and_nothing_outside() {
        let proxies = proxies(&["172.28.0.0/16", "fd00::/8"]);
        let header = ["198.51.100.7, 172.28.3.4"];
        // Two proxies of the container network, neither known in advance.
        assert_eq!(
            proxies.client(ip("172.28.0.9"), &header),
            ip("198.51.100.7")
        );
        assert_eq!(
            proxies.client(ip("fd12::1"), &["2001:db8::5"]),
            ip("2001:db8::5")
        );
        // Just outside the network: the peer is the client.
        assert_eq!(proxies.client(ip("172.29.0.1"), &header), ip("172.29.0.1"));
        assert_eq!(
            proxies.client(ip("::ffff:172.28.0.9"), &["198.51.100.8"]),
            ip("198.51.100.8")
        );
    }

    #[test]
    fn a_range_is_an_address_or_a_network_address_with_its_prefix() {
        let within = |range: &str, address: &str| {
            range
                .parse::<ProxyRange>()
                .expect("a valid range")
                .contains(&ip(address))
        };
        assert!(within("0.0.0.0/0", "8.8.8.8"));
        assert!(within("::/0", "2001:db8::1"));
        assert!(!within("::/0", "8.8.8.8"));
        assert!(within("10.0.0.7", "10.0.0.7"));
        assert!(!within("10.0.0.7", "10.0.0.8"));
        for refused in [
            "10.0.0.7/8",
            "10.0.0.0/33",
            "fd00::/129",
            "10.0.0.0/",
            "nope",
            "10/8",
        ] {
            assert!(
                refused.parse::<ProxyRange>().is_err(),
                "{refused} was accepted"
            );
        }
    }
}
