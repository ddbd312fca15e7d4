//! Which peers may tell us the client's address in `X-Forwarded-For`.
use std::net::IpAddr;

use super::ParseError;

/// One address or a CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    net: IpAddr,
    prefix: u8,
}

impl Block {
    fn parse(s: &str) -> Option<Self> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
            None => (s, None),
        };
        let net: IpAddr = addr.parse().ok()?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { net, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4 peer seen on a dual-stack socket reads as `::ffff:a.b.c.d`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The reverse proxies in front of us (`STATUSPOST_TRUSTED_PROXIES`). Without
/// any, `X-Forwarded-For` is ignored: anyone can write that header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Block>);

impl TrustedProxies {
    /// A comma-separated list of addresses and CIDR blocks, e.g. `127.0.0.1, 10.0.0.0/8`.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                Block::parse(p).ok_or_else(|| {
                    ParseError::new(format!("{p:?} is not an IP address or CIDR block"))
                })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|b| b.contains(ip))
    }

    /// The client's address: the peer itself, unless the peer is a trusted
    /// proxy; then the nearest address in `X-Forwarded-For` that is not one of
    /// ours. Entries further left were written by whoever sent the request and
    /// prove nothing.
    pub fn client(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let Some(chain) = forwarded_for else {
            return peer;
        };
        let mut client = peer;
        for hop in chain.rsplit(',').map(str::trim) {
            match hop.parse::<IpAddr>() {
                Ok(ip) => {
                    client = canonical(ip);
                    if !self.trusts(client) {
                        break;
                    }
                }
                // A malformed hop: stop at the last address we could vouch for.
                Err(_) => break,
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_addresses_and_blocks() {
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        let t = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8,::1").unwrap();
        assert!(t.trusts(ip("10.9.8.7")));
        assert!(t.trusts(ip("::ffff:127.0.0.1")));
        assert!(!t.trusts(ip("11.0.0.1")));
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").is_err());
        assert!(TrustedProxies::parse("0.0.0.0/0")
            .unwrap()
            .trusts(ip("8.8.8.8")));
    }

    #[test]
    fn believes_forwarded_for_only_from_a_trusted_peer() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("127.0.0.1"), Some("203.0.113.9")),
            ip("127.0.0.1")
        );

        let t = TrustedProxies::parse("127.0.0.1,10.0.0.0/8").unwrap();
        assert_eq!(
            t.client(ip("198.51.100.1"), Some("203.0.113.9")),
            ip("198.51.100.1")
        );
        assert_eq!(
            t.client(ip("127.0.0.1"), Some("203.0.113.9")),
            ip("203.0.113.9")
        );
        // A client that writes its own header cannot pick the address we see.
        assert_eq!(
            t.client(ip("127.0.0.1"), Some("1.2.3.4, 203.0.113.9, 10.0.0.2")),
            ip("203.0.113.9")
        );
        assert_eq!(
            t.client(ip("127.0.0.1"), Some("garbage, 10.0.0.2")),
            ip("10.0.0.2")
        );
        assert_eq!(t.client(ip("127.0.0.1"), None), ip("127.0.0.1"));
    }
}
