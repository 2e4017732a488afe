//! IP access lists: IPv4/IPv6 networks in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`) or
//! single addresses (`192.0.2.7`).

use std::net::IpAddr;

use crate::{Error, Result};

/// Entries a list may hold.
pub const MAX_ENTRIES: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(text: &str) -> Result<IpNet> {
        let invalid = || {
            Error::invalid(format!(
                "'{text}' is not an IP address or network: use e.g. 192.0.2.7, 10.0.0.0/8 or 2001:db8::/32"
            ))
        };
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| invalid())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(invalid)?,
        };
        Ok(IpNet { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        // A v4 client seen through a dual-stack socket arrives as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let (net, ip, bits) = match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                (u32::from(net) as u128, u32::from(ip) as u128, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => (u128::from(net), u128::from(ip), 128),
            _ => return false,
        };
        let host_bits = bits - u32::from(self.prefix);
        host_bits >= 128 || (net >> host_bits) == (ip >> host_bits)
    }
}

/// Checks the entries of a list as written in SQL; the list is kept as written.
pub fn check_list(entries: &[String]) -> Result<()> {
    if entries.is_empty() {
        return Err(Error::invalid(
            "an IP access list needs at least one entry (UNSET IP ACCESS LIST allows every address)",
        ));
    }
    if entries.len() > MAX_ENTRIES {
        return Err(Error::invalid(format!(
            "an IP access list holds at most {MAX_ENTRIES} entries, not {}",
            entries.len()
        )));
    }
    entries.iter().try_for_each(|e| IpNet::parse(e).map(drop))
}

/// True when `ip` is in one of the `entries` (already checked by [`check_list`]).
pub fn allows(entries: &[String], ip: IpAddr) -> bool {
    entries
        .iter()
        .filter_map(|e| IpNet::parse(e).ok())
        .any(|net| net.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn networks_contain_their_addresses() {
        let net = IpNet::parse("192.0.2.0/24").unwrap();
        assert!(net.contains(ip("192.0.2.200")) && !net.contains(ip("192.0.3.1")));
        assert!(net.contains(ip("::ffff:192.0.2.9")), "v4-mapped v6");
        assert!(IpNet::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(IpNet::parse("127.0.0.1").unwrap().contains(ip("127.0.0.1")));
        assert!(!IpNet::parse("127.0.0.1").unwrap().contains(ip("127.0.0.2")));
        let v6 = IpNet::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")) && !v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("192.0.2.1")));
        assert!(IpNet::parse("::/0").unwrap().contains(ip("::1")));
        for bad in ["10.0.0.0/33", "host", "1.2.3.4/x", "::/129"] {
            assert!(IpNet::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lists_are_bounded_and_checked() {
        assert!(check_list(&["10.0.0.0/8".into(), "2001:db8::1".into()]).is_ok());
        assert!(check_list(&[]).is_err());
        assert!(check_list(&vec!["10.0.0.1".to_string(); MAX_ENTRIES + 1]).is_err());
        assert!(check_list(&["10.0.0.0/8".into(), "nope".into()]).is_err());
        assert!(allows(&["10.0.0.0/8".into()], ip("10.1.2.3")));
        assert!(!allows(&["10.0.0.0/8".into()], ip("127.0.0.1")));
    }
}
