//! Outbound requests to addresses an administrator typed (CRM webhooks) go only to the public
//! internet, unless the address is on an explicit allow-list: loopback, private, link-local,
//! carrier-grade NAT and cloud metadata addresses are refused *after* DNS resolution, at
//! connect time, so a name that resolves (or re-resolves) to 127.0.0.1 cannot get through.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, RwLock};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// One allow-list entry: a host name (exact, case-insensitive), an address, or a CIDR block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allow {
    Host(String),
    Net(IpAddr, u8),
}

impl Allow {
    /// `crm.internal`, `10.0.0.5`, `10.0.0.0/8`, `fd00::/8`.
    pub fn parse(s: &str) -> Result<Allow, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("an empty entry".into());
        }
        if let Some((ip, bits)) = s.split_once('/') {
            let ip: IpAddr = ip.parse().map_err(|_| format!("{s:?} is not a CIDR block"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits: u8 =
                bits.parse().ok().filter(|b| *b <= max).ok_or_else(|| format!("{s:?}: bad prefix"))?;
            return Ok(Allow::Net(ip, bits));
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Allow::Net(ip, if ip.is_ipv4() { 32 } else { 128 }));
        }
        if s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
            Ok(Allow::Host(s.to_ascii_lowercase()))
        } else {
            Err(format!("{s:?} is neither a host name nor an address"))
        }
    }

    fn covers_ip(&self, ip: IpAddr) -> bool {
        match (self, ip) {
            (Allow::Net(IpAddr::V4(net), bits), IpAddr::V4(ip)) => {
                prefix(u32::from(*net), u32::from(ip), *bits, 32)
            }
            (Allow::Net(IpAddr::V6(net), bits), IpAddr::V6(ip)) => {
                prefix(u128::from(*net), u128::from(ip), *bits, 128)
            }
            _ => false,
        }
    }
}

fn prefix<T>(net: T, ip: T, bits: u8, width: u8) -> bool
where
    T: std::ops::Shr<u32, Output = T> + PartialEq + Copy,
{
    if bits == 0 {
        return true;
    }
    let shift = u32::from(width - bits);
    (net >> shift) == (ip >> shift)
}

/// Whether an address is on the public internet (the default rule for admin-typed URLs).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => public_v4(v4),
            None => public_v6(v6),
        },
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16, where cloud metadata services live
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT; Alibaba Cloud metadata
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link local
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)) // documentation
}

/// The allow-list every guarded client shares; replaced when an admin edits it.
#[derive(Debug, Default, Clone)]
pub struct AllowList(Arc<RwLock<Vec<Allow>>>);

impl AllowList {
    pub fn set(&self, rules: Vec<Allow>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = rules;
    }

    fn rules(&self) -> Vec<Allow> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn host_allowed(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.rules().iter().any(|r| matches!(r, Allow::Host(h) if *h == host))
    }

    /// Whether kefu may connect to `ip` (reached through `host`).
    pub fn permits(&self, host: &str, ip: IpAddr) -> bool {
        is_public(ip) || self.host_allowed(host) || self.rules().iter().any(|r| r.covers_ip(ip))
    }

    /// Checks a URL before it is saved or used: http(s), and an address literal must be
    /// permitted (names are checked again at every connection by [`GuardedResolver`]).
    pub fn check_url(&self, url: &str) -> Result<(), String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("only http and https URLs are allowed".into());
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("credentials in the URL are not allowed".into());
        }
        let literal = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => None,
            None => return Err("the URL has no host".into()),
        };
        match literal {
            Some(ip) if !self.permits(&ip.to_string(), ip) => Err(refusal(ip)),
            _ => Ok(()),
        }
    }
}

fn refusal(ip: IpAddr) -> String {
    format!("{ip} is a loopback, private, link-local or metadata address; add it to the outbound allow-list")
}

/// A resolver that drops addresses the allow-list does not permit, and fails when none is left.
pub struct GuardedResolver {
    allow: AllowList,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> =
                found.iter().copied().filter(|a| allow.permits(&host, a.ip())).collect();
            match (kept.is_empty(), found.first()) {
                (false, _) => Ok(Box::new(kept.into_iter()) as Addrs),
                (true, Some(a)) => Err(refusal(a.ip()).into()),
                (true, None) => Err(format!("{host} does not resolve").into()),
            }
        })
    }
}

/// An HTTP client that only reaches what the allow-list permits. No proxy (it would connect
/// on our behalf, past the check) and no redirects (a 302 could point anywhere).
pub fn guarded_client(allow: AllowList, builder: reqwest::ClientBuilder) -> reqwest::Client {
    builder
        .dns_resolver(Arc::new(GuardedResolver { allow }))
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_link_local_and_metadata_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "203.119.1.1", "2400:3200::1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn the_allow_list_opens_exactly_what_it_names() {
        let a = AllowList::default();
        assert!(a.check_url("http://127.0.0.1:9000/hook").is_err());
        assert!(a.check_url("http://[::1]/hook").is_err());
        assert!(a.check_url("ftp://crm.example.com/").is_err());
        assert!(a.check_url("https://user:pw@crm.example.com/").is_err());
        assert!(a.check_url("https://crm.example.com/hook").is_ok(), "names are checked at connect time");
        a.set(vec![Allow::parse("127.0.0.1").unwrap(), Allow::parse("10.0.0.0/8").unwrap()]);
        assert!(a.check_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(a.permits("x", "10.200.0.1".parse().unwrap()));
        assert!(!a.permits("x", "11.0.0.1".parse().unwrap()) || is_public("11.0.0.1".parse().unwrap()));
        assert!(!a.permits("x", "192.168.0.1".parse().unwrap()));
        a.set(vec![Allow::parse("CRM.internal").unwrap()]);
        assert!(a.permits("crm.internal", "192.168.0.1".parse().unwrap()));
        assert!(Allow::parse("10.0.0.0/33").is_err() && Allow::parse("a b").is_err());
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_at_connect_time() {
        let client = guarded_client(AllowList::default(), reqwest::Client::builder());
        let err = client.get("http://localhost:9/").send().await.unwrap_err();
        let chain = format!("{err:?}");
        assert!(chain.contains("allow-list"), "{chain}");
    }
}
