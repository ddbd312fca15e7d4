//! Keeps webhook deliveries from reaching the network statuspost runs in.
//!
//! Anyone may subscribe a webhook URL, so without this guard a subscriber could
//! make the server POST to its own admin port, a cloud metadata service
//! (169.254.169.254) or a database on the private network. The check is made on
//! the addresses a name resolves to, at every new connection, and the
//! connection goes to exactly the addresses that passed: a name cannot resolve
//! to a public address when checked and to a private one when used.
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why `ip` must not be reached, or `None` when it is a public address.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    const RANGES: &[([u8; 4], u32, &str)] = &[
        ([0, 0, 0, 0], 8, "an unspecified (\"this network\") address"),
        ([10, 0, 0, 0], 8, "a private address"),
        ([100, 64, 0, 0], 10, "a carrier-grade NAT address"),
        ([127, 0, 0, 0], 8, "a loopback address"),
        ([169, 254, 0, 0], 16, "a link-local address"),
        ([172, 16, 0, 0], 12, "a private address"),
        ([192, 0, 0, 0], 24, "a reserved protocol address"),
        ([192, 0, 2, 0], 24, "a documentation address"),
        ([192, 88, 99, 0], 24, "a 6to4 relay address"),
        ([192, 168, 0, 0], 16, "a private address"),
        ([198, 18, 0, 0], 15, "a benchmarking address"),
        ([198, 51, 100, 0], 24, "a documentation address"),
        ([203, 0, 113, 0], 24, "a documentation address"),
        ([224, 0, 0, 0], 4, "a multicast address"),
        // Reserved, and the broadcast address 255.255.255.255.
        ([240, 0, 0, 0], 4, "a reserved or broadcast address"),
    ];
    RANGES
        .iter()
        .find(|(net, prefix, _)| in_v4(ip, *net, *prefix))
        .map(|(_, _, why)| *why)
}

fn in_v6(ip: Ipv6Addr, net: [u16; 8], prefix: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
    u128::from(ip) & mask == u128::from(Ipv6Addr::from(net)) & mask
}

/// The IPv4 address in the low 32 bits.
fn low_v4(ip: Ipv6Addr) -> Ipv4Addr {
    Ipv4Addr::from((u128::from(ip) & 0xffff_ffff) as u32)
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    // Addresses that carry an IPv4 address reach it: judge that one.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    if in_v6(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        return forbidden_v4(low_v4(ip));
    }
    if in_v6(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        let bits = (u128::from(ip) >> 80) as u32;
        return forbidden_v4(Ipv4Addr::from(bits));
    }
    const RANGES: &[([u16; 8], u32, &str)] = &[
        // IPv4-compatible addresses (deprecated), e.g. ::127.0.0.1.
        ([0, 0, 0, 0, 0, 0, 0, 0], 96, "an IPv4-compatible address"),
        (
            [0x64, 0xff9b, 1, 0, 0, 0, 0, 0],
            48,
            "a local-use NAT64 address",
        ),
        ([0x100, 0, 0, 0, 0, 0, 0, 0], 64, "a discard-only address"),
        // Includes Teredo (2001::/32), which tunnels to an IPv4 address.
        (
            [0x2001, 0, 0, 0, 0, 0, 0, 0],
            23,
            "a reserved protocol address",
        ),
        (
            [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0],
            32,
            "a documentation address",
        ),
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, "a documentation address"),
        (
            [0xfc00, 0, 0, 0, 0, 0, 0, 0],
            7,
            "a unique-local (private) address",
        ),
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "a link-local address"),
        ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, "a site-local address"),
        ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "a multicast address"),
    ];
    RANGES
        .iter()
        .find(|(net, prefix, _)| in_v6(ip, *net, *prefix))
        .map(|(_, _, why)| *why)
}

/// A delivery refused because its host is, or resolves to, an address we do
/// not send to. Returned by [`VettingResolver`] and found again in the
/// request's error chain, so the sender can tell a refusal from a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    pub host: String,
    pub ip: IpAddr,
    pub reason: &'static str,
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host == self.ip.to_string() {
            write!(f, "refused to send to {}: it is {}", self.ip, self.reason)
        } else {
            write!(
                f,
                "refused to send to {}: it resolves to {}, {}",
                self.host, self.ip, self.reason
            )
        }
    }
}

impl std::error::Error for Blocked {}

impl Blocked {
    /// The message a form shows beside the URL it refuses.
    pub fn form_message(&self) -> String {
        let what = if self.host == self.ip.to_string() {
            format!("{} is {}", self.ip, self.reason)
        } else {
            format!("{} resolves to {}, {}", self.host, self.ip, self.reason)
        };
        format!("Webhooks are never sent to internal addresses, and {what}. Use a public URL.")
    }
}

/// Refuses `ip` for `host` unless private addresses are allowed.
pub fn check(host: &str, ip: IpAddr, allow_private: bool) -> Result<(), Blocked> {
    match forbidden(ip) {
        Some(reason) if !allow_private => Err(Blocked {
            host: host.to_owned(),
            ip,
            reason,
        }),
        _ => Ok(()),
    }
}

/// Refuses a URL whose host is a forbidden IP address. Such URLs never reach
/// a resolver, so [`VettingResolver`] cannot see them; a form may also call
/// this to refuse them at once. Host names are judged only when resolved.
pub fn check_literal(url: &url::Url, allow_private: bool) -> Result<(), Blocked> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        _ => return Ok(()),
    };
    check(&ip.to_string(), ip, allow_private)
}

/// How long a form waits for a name to resolve before leaving it to delivery.
const FORM_LOOKUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Refuses, at subscription time, a URL every delivery would refuse: an IP
/// literal as [`check_literal`] judges it, a name when any address it resolves
/// to now is forbidden, as [`VettingResolver`] judges it. A name that does not
/// resolve (yet), or not in time, passes: its deliveries are retried and
/// vetted again, so a slow or not-yet-published DNS record refuses no one.
pub async fn check_url(url: &url::Url, allow_private: bool) -> Result<(), Blocked> {
    check_literal(url, allow_private)?;
    let Some(url::Host::Domain(host)) = url.host() else {
        return Ok(());
    };
    if allow_private {
        return Ok(());
    }
    // getaddrinfo blocks; tokio runs it on its blocking pool, off the workers.
    let lookup = tokio::net::lookup_host((host, 0));
    match tokio::time::timeout(FORM_LOOKUP_TIMEOUT, lookup).await {
        Ok(Ok(addrs)) => vet(host, &addrs.collect::<Vec<_>>(), allow_private),
        _ => Ok(()),
    }
}

/// `url` if deliveries to it can succeed, else why not, in a form's words.
pub async fn deliverable(
    url: crate::domain::WebhookUrl,
    allow_private: bool,
) -> Result<crate::domain::WebhookUrl, crate::domain::ParseError> {
    match check_url(url.as_url(), allow_private).await {
        Ok(()) => Ok(url),
        Err(blocked) => Err(crate::domain::ParseError::new(blocked.form_message())),
    }
}

/// The DNS resolver of the webhook client: resolves with the system resolver
/// and refuses the whole name if any of its addresses is forbidden (a name with
/// one private address among public ones is not one we trust). The client then
/// connects only to the addresses returned here.
///
/// IP-literal URLs never reach a resolver; the sender checks those itself.
#[derive(Debug, Clone, Copy)]
pub struct VettingResolver {
    pub allow_private: bool,
}

impl Resolve for VettingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no address").into());
            }
            vet(&host, &addrs, allow_private)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Refuses a name if any address it resolves to is forbidden.
fn vet(host: &str, addrs: &[SocketAddr], allow_private: bool) -> Result<(), Blocked> {
    addrs
        .iter()
        .try_for_each(|a| check(host, a.ip(), allow_private))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn refuses_internal_addresses() {
        for bad in [
            "127.0.0.1",
            "127.255.255.254",
            "0.0.0.0",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "192.0.2.10",
            "198.51.100.1",
            "203.0.113.5",
            "198.18.0.1",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "fc00::1",
            "fd12:3456:789a::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
            "3fff::1",
            "100::1",
        ] {
            assert!(forbidden(ip(bad)).is_some(), "{bad} was allowed");
        }
    }

    #[test]
    fn allows_public_addresses() {
        for good in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.0.1",
            "192.0.3.1",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert_eq!(forbidden(ip(good)), None, "{good} was refused");
        }
    }

    #[test]
    fn allow_private_lets_everything_through() {
        assert!(check("10.0.0.1", ip("10.0.0.1"), true).is_ok());
        let e = check("localhost", ip("127.0.0.1"), false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "refused to send to localhost: it resolves to 127.0.0.1, a loopback address"
        );
        let e = check("10.0.0.1", ip("10.0.0.1"), false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "refused to send to 10.0.0.1: it is a private address"
        );
    }

    #[test]
    fn literal_addresses_in_urls_are_checked() {
        let url = |s: &str| url::Url::parse(s).unwrap();
        for bad in [
            "http://127.0.0.1:8080/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://[::ffff:7f00:1]/",
            "http://169.254.169.254/latest",
        ] {
            assert!(check_literal(&url(bad), false).is_err(), "{bad}");
            assert!(check_literal(&url(bad), true).is_ok(), "{bad}");
        }
        for fine in [
            "https://8.8.8.8/",
            "https://localhost/",
            "https://example.com/",
        ] {
            // Names are left to the resolver.
            assert!(check_literal(&url(fine), false).is_ok(), "{fine}");
        }
    }

    #[test]
    fn one_private_address_among_public_ones_refuses_the_name() {
        let sock = |s: &str| SocketAddr::new(ip(s), 0);
        let public = [sock("93.184.216.34"), sock("2606:4700:4700::1111")];
        assert!(vet("example.com", &public, false).is_ok());
        let mixed = [sock("93.184.216.34"), sock("10.1.2.3")];
        let e = vet("rebind.example", &mixed, false).unwrap_err();
        assert_eq!(e.ip, ip("10.1.2.3"));
        assert!(vet("rebind.example", &mixed, true).is_ok());
    }

    #[tokio::test]
    async fn forms_refuse_what_the_sender_refuses() {
        let url = |s: &str| url::Url::parse(s).unwrap();
        for bad in ["http://10.0.0.1/", "http://[::1]:9/", "http://localhost:9/"] {
            let e = check_url(&url(bad), false).await.unwrap_err();
            assert!(forbidden(e.ip).is_some(), "{bad}: {e}");
            assert!(check_url(&url(bad), true).await.is_ok(), "{bad}");
        }
        let e = check_url(&url("http://localhost:9/"), false)
            .await
            .unwrap_err();
        assert!(
            e.form_message().contains("localhost resolves to"),
            "{}",
            e.form_message()
        );
        // Names that do not resolve are left to delivery.
        assert!(check_url(&url("https://nowhere.invalid/"), false)
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn resolver_refuses_a_name_for_loopback() {
        let r = VettingResolver {
            allow_private: false,
        };
        let err = match r.resolve("localhost".parse().unwrap()).await {
            Ok(_) => panic!("localhost was allowed"),
            Err(e) => e,
        };
        assert!(err.downcast_ref::<Blocked>().is_some(), "{err}");
        let open = VettingResolver {
            allow_private: true,
        };
        let addrs: Vec<SocketAddr> = match open.resolve("localhost".parse().unwrap()).await {
            Ok(a) => a.collect(),
            Err(e) => panic!("{e}"),
        };
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
    }
}
