//! CIDR math for the accept decision: strict parsing, overlap and containment.
//!
//! Everything here is pure. IPv4 and IPv6 never overlap or contain each other.

use std::net::IpAddr;

use ipnet::IpNet;

/// Why a string is not a usable CIDR block.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CidrError {
    #[error("`{value}` is not a CIDR block: {reason}")]
    Invalid { value: String, reason: String },
    #[error("`{value}` has host bits set; did you mean {network}?")]
    NotCanonical { value: String, network: String },
}

/// Parses an IPv4 or IPv6 CIDR block such as `10.0.0.0/16` or `2600:1f18::/56`.
///
/// Surrounding whitespace is ignored. The prefix length is required and the block must be in
/// canonical form (host bits zero): AWS refuses `10.0.0.1/16` as a VPC or route CIDR, and a
/// silently truncated block in a policy would allow a different range than the one written.
/// IPv4 octets with leading zeros (`010.0.0.0/8`) are refused as ambiguous (octal or decimal).
pub fn parse_cidr(s: &str) -> Result<IpNet, CidrError> {
    let value = s.trim();
    let invalid = |reason: String| CidrError::Invalid {
        value: value.to_owned(),
        reason,
    };
    if value.is_empty() {
        return Err(invalid("the value is empty".to_owned()));
    }
    let Some((addr_text, prefix_text)) = value.split_once('/') else {
        return Err(invalid(
            "the /prefix length is missing (write e.g. 10.0.0.0/16)".to_owned(),
        ));
    };
    let addr: IpAddr = addr_text
        .parse()
        .map_err(|_| invalid(format!("`{addr_text}` is not an IPv4 or IPv6 address")))?;
    let max = match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    };
    // Digits only: `u8::from_str` would also take `+16`.
    let prefix = if !prefix_text.is_empty()
        && prefix_text.len() <= 3
        && prefix_text.bytes().all(|b| b.is_ascii_digit())
    {
        prefix_text.parse::<u8>().ok()
    } else {
        None
    };
    let Some(prefix) = prefix.filter(|p| *p <= max) else {
        return Err(invalid(format!(
            "prefix length `{prefix_text}` is not a number from 0 to {max}"
        )));
    };
    let net = IpNet::new(addr, prefix)
        .map_err(|_| invalid(format!("prefix length {prefix} is longer than {max}")))?;
    let network = net.trunc();
    if network != net {
        return Err(CidrError::NotCanonical {
            value: value.to_owned(),
            network: network.to_string(),
        });
    }
    Ok(net)
}

/// True when `a` and `b` share at least one address; always false across address families.
pub fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    // Two prefix-aligned blocks either nest or are disjoint, so containment of either network
    // address decides. Host bits are ignored by comparing the truncated blocks.
    let (a, b) = (a.trunc(), b.trunc());
    a.contains(&b.network()) || b.contains(&a.network())
}

/// True when `cidr` lies entirely inside at least one of `ranges` of the same address family.
pub fn within_any(cidr: &IpNet, ranges: &[IpNet]) -> bool {
    let cidr = cidr.trunc();
    ranges.iter().any(|range| range.trunc().contains(&cidr))
}

/// How a route's destination stands to a block peerwire routes, under longest-prefix match
/// (VPC User Guide, "How route priority works": "we direct traffic using the most specific
/// route that matches the traffic").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cover {
    /// Shares no address with the block.
    Disjoint,
    /// Contains the block and more (`10.0.0.0/8` for `10.1.0.0/16`): the block's own route is
    /// more specific and wins, so it is no conflict.
    Broader,
    /// The same destination: only one route per destination can stand (and a static route takes
    /// priority over a propagated one), so it conflicts.
    Identical,
    /// Inside the block (`10.1.5.0/24` for `10.1.0.0/16`): more specific, it wins for that part
    /// of the block, which it shadows.
    Narrower,
}

/// How `destination` covers `block` (always [`Cover::Disjoint`] across address families).
pub fn cover(destination: &IpNet, block: &IpNet) -> Cover {
    let (destination, block) = (destination.trunc(), block.trunc());
    if !overlaps(&destination, &block) {
        Cover::Disjoint
    } else if destination == block {
        Cover::Identical
    } else if destination.contains(&block) {
        Cover::Broader
    } else {
        Cover::Narrower
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        parse_cidr(s).unwrap_or_else(|e| panic!("test CIDR {s}: {e}"))
    }

    #[test]
    fn valid_blocks_parse_as_written() {
        for (input, expected) in [
            ("10.0.0.0/16", "10.0.0.0/16"),
            ("  10.0.0.0/8\n", "10.0.0.0/8"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("10.1.2.3/32", "10.1.2.3/32"),
            ("172.16.0.0/12", "172.16.0.0/12"),
            ("2600:1f18:abcd:1200::/56", "2600:1f18:abcd:1200::/56"),
            ("::/0", "::/0"),
            ("2001:db8::1/128", "2001:db8::1/128"),
        ] {
            assert_eq!(
                parse_cidr(input).map(|n| n.to_string()),
                Ok(expected.to_owned()),
                "{input:?}"
            );
        }
    }

    #[test]
    fn host_bits_set_is_refused_with_the_network_suggested() {
        for (input, network) in [
            ("10.0.0.1/16", "10.0.0.0/16"),
            ("10.1.0.0/8", "10.0.0.0/8"),
            ("192.168.1.1/0", "0.0.0.0/0"),
            ("2600:1f18:abcd:1234::/56", "2600:1f18:abcd:1200::/56"),
        ] {
            assert_eq!(
                parse_cidr(input),
                Err(CidrError::NotCanonical {
                    value: input.to_owned(),
                    network: network.to_owned()
                }),
                "{input:?}"
            );
        }
        let msg = net_err("10.0.0.1/16");
        assert!(msg.contains("did you mean 10.0.0.0/16"), "{msg}");
    }

    fn net_err(s: &str) -> String {
        match parse_cidr(s) {
            Ok(n) => panic!("{s} parsed as {n}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        for (input, reason_part) in [
            ("", "empty"),
            ("   ", "empty"),
            ("10.0.0.0", "prefix length is missing"),
            ("10.0.0/16", "not an IPv4 or IPv6 address"),
            ("10.0.0.256/24", "not an IPv4 or IPv6 address"),
            ("010.0.0.0/8", "not an IPv4 or IPv6 address"),
            ("vpc-0123456789abcdef0", "prefix length is missing"),
            ("*", "prefix length is missing"),
            ("10.0.0.0/", "not a number"),
            ("10.0.0.0/33", "from 0 to 32"),
            ("10.0.0.0/+8", "not a number"),
            ("10.0.0.0/-1", "not a number"),
            ("10.0.0.0/16/16", "not a number"),
            ("10.0.0.0/ 16", "not a number"),
            ("2001:db8::/129", "from 0 to 128"),
            ("2001:db8::/1000", "from 0 to 128"),
            ("2001:db8:::/32", "not an IPv4 or IPv6 address"),
        ] {
            let msg = net_err(input);
            assert!(msg.contains("is not a CIDR block"), "{input:?}: {msg}");
            assert!(msg.contains(reason_part), "{input:?}: {msg}");
        }
    }

    #[test]
    fn overlap_table() {
        // (a, b, overlap?) — checked in both directions.
        for (a, b, expected) in [
            ("10.0.0.0/8", "10.1.0.0/16", true),
            ("10.1.0.0/16", "10.1.0.0/16", true),
            ("10.1.0.0/16", "10.2.0.0/16", false),
            ("10.0.0.0/16", "10.1.0.0/16", false), // adjacent, no shared address
            ("10.0.255.255/32", "10.1.0.0/16", false),
            ("10.1.0.0/32", "10.1.0.0/16", true),
            ("10.1.255.255/32", "10.1.0.0/16", true),
            ("0.0.0.0/0", "192.168.0.0/16", true),
            ("0.0.0.0/0", "::/0", false),
            ("10.0.0.0/8", "::ffff:10.0.0.0/104", false), // v4-mapped v6 is still v6
            ("2001:db8::/32", "2001:db8:1::/48", true),
            ("2001:db8::/48", "2001:db8:1::/48", false),
            ("::/0", "2600::/12", true),
        ] {
            let (a, b) = (net(a), net(b));
            assert_eq!(overlaps(&a, &b), expected, "{a} vs {b}");
            assert_eq!(overlaps(&b, &a), expected, "{b} vs {a}");
        }
    }

    #[test]
    fn a_route_is_broader_identical_narrower_or_disjoint() {
        let block = net("10.1.0.0/16");
        for (destination, expected) in [
            ("10.0.0.0/8", Cover::Broader),
            ("0.0.0.0/0", Cover::Broader),
            ("10.1.0.0/16", Cover::Identical),
            ("10.1.5.0/24", Cover::Narrower),
            ("10.1.0.7/32", Cover::Narrower),
            ("10.2.0.0/16", Cover::Disjoint),
            ("::/0", Cover::Disjoint),
        ] {
            assert_eq!(cover(&net(destination), &block), expected, "{destination}");
        }
    }

    #[test]
    fn within_any_table() {
        let ten = [net("10.0.0.0/8")];
        let mixed = [net("172.16.0.0/12"), net("10.0.0.0/9"), net("2600::/16")];
        for (cidr, ranges, expected) in [
            ("10.1.0.0/16", &ten[..], true),
            ("10.0.0.0/8", &ten[..], true),   // equal block is inside
            ("10.0.0.0/7", &ten[..], false),  // broader than the range
            ("11.0.0.0/16", &ten[..], false), // adjacent, outside
            ("9.255.255.255/32", &ten[..], false), // adjacent, outside
            ("10.255.255.255/32", &ten[..], true),
            ("192.168.0.0/16", &ten[..], false),
            ("0.0.0.0/0", &ten[..], false),
            ("10.0.0.0/8", &[][..], false), // no ranges, nothing is inside
            ("10.64.0.0/10", &mixed[..], true),
            ("10.128.0.0/16", &mixed[..], false), // in neither 10.0/9 nor 172.16/12
            ("172.31.0.0/16", &mixed[..], true),
            ("2600:1f18::/56", &mixed[..], true),
            ("2601::/56", &mixed[..], false),
            ("::/0", &mixed[..], false),
        ] {
            assert_eq!(
                within_any(&net(cidr), ranges),
                expected,
                "{cidr} in {ranges:?}"
            );
        }
        // Across families: a v4 block is never inside a v6 range, even ::/0.
        assert!(!within_any(&net("10.0.0.0/16"), &[net("::/0")]));
        assert!(!within_any(&net("2600::/56"), &[net("0.0.0.0/0")]));
        assert!(within_any(&net("10.0.0.0/16"), &[net("0.0.0.0/0")]));
    }
}
