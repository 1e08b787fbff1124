//! Network ACLs as plain values, and how AWS evaluates one for TCP traffic. peerwire never
//! changes NACLs (they are the network owner's), but diagnose explains what they drop.

use std::fmt;

use ipnet::IpNet;
use serde::Serialize;

use super::direction::Direction;
use super::ids::{NetworkAclId, SubnetId};

/// What a network ACL entry does with the traffic it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NaclAction {
    Allow,
    Deny,
}

/// The protocol of a network ACL entry, as far as TCP traffic is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NaclProtocol {
    /// `-1`: every protocol, every port.
    All,
    /// `6`.
    Tcp,
    /// Any other IANA protocol number (UDP, ICMP, ...): never matches TCP.
    Other(String),
}

/// An inclusive TCP port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PortRange {
    pub from: u16,
    pub to: u16,
}

impl PortRange {
    /// `from..=to`, swapped when given backwards.
    pub const fn new(from: u16, to: u16) -> Self {
        if from <= to {
            Self { from, to }
        } else {
            Self { from: to, to: from }
        }
    }

    /// One port.
    pub const fn single(port: u16) -> Self {
        Self {
            from: port,
            to: port,
        }
    }

    /// Every port.
    pub const ALL: Self = Self { from: 0, to: 65535 };

    pub fn intersect(self, other: Self) -> Option<Self> {
        let from = self.from.max(other.from);
        let to = self.to.min(other.to);
        (from <= to).then_some(Self { from, to })
    }

    /// `self` without `inner` (which lies inside `self`): zero, one or two ranges.
    pub fn without(self, inner: Self) -> Vec<Self> {
        let mut rest = Vec::new();
        if inner.from > self.from {
            rest.push(Self::new(self.from, inner.from - 1));
        }
        if inner.to < self.to {
            rest.push(Self::new(inner.to + 1, self.to));
        }
        rest
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from == self.to {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{}-{}", self.from, self.to)
        }
    }
}

/// The ports a client picks for its side of a TCP connection, which the server's replies are
/// addressed to. NACLs are stateless, so replies need their own rule: AWS's guidance is to
/// allow 1024-65535, which covers Linux (32768-60999), Windows (49152-65535) and NAT/ELB.
pub const EPHEMERAL_PORTS: PortRange = PortRange {
    from: 1024,
    to: 65535,
};

/// The number AWS gives the catch-all rule `*` that ends every ACL and denies.
pub const CATCH_ALL_RULE: i32 = 32767;

/// One entry of a network ACL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NaclEntry {
    /// Evaluated lowest first; the first entry that matches decides.
    pub rule_number: i32,
    /// Outbound when true.
    pub egress: bool,
    pub protocol: NaclProtocol,
    /// `None`: every port (protocol `-1`, or an entry AWS reports without a range).
    pub ports: Option<PortRange>,
    /// The source (inbound) or destination (outbound) range, IPv4 or IPv6.
    pub cidr: IpNet,
    pub action: NaclAction,
}

/// A network ACL with its entries and the subnets associated with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetworkAcl {
    pub id: NetworkAclId,
    /// The VPC's default ACL: every subnet not explicitly associated elsewhere uses it.
    pub default: bool,
    pub subnet_ids: Vec<SubnetId>,
    pub entries: Vec<NaclEntry>,
}

/// Whether an ACL lets a whole CIDR × port range of TCP traffic through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum NaclVerdict {
    Allowed,
    /// Some of the traffic is denied: `peer` × `ports` is the first part found, and
    /// `rule_number` the entry that denies it (`None`: no entry matched, rule `*` denies).
    Denied {
        rule_number: Option<i32>,
        peer: IpNet,
        ports: PortRange,
    },
}

/// Evaluates `acl` for TCP traffic `direction` from/to every address of `peer` on every port
/// of `ports`, the way AWS does for each packet: entries of that direction in rule-number
/// order, the first entry whose protocol, range and ports match decides, and traffic no entry
/// matches is denied. Allowed only when every address × port is allowed.
pub fn evaluate_nacl(
    acl: &NetworkAcl,
    direction: Direction,
    peer: IpNet,
    ports: PortRange,
) -> NaclVerdict {
    let egress = direction.is_egress();
    let mut entries: Vec<&NaclEntry> = acl.entries.iter().filter(|e| e.egress == egress).collect();
    entries.sort_by_key(|e| e.rule_number);
    // The traffic not decided yet, as disjoint blocks of addresses × ports.
    let mut open: Vec<(IpNet, PortRange)> = vec![(peer.trunc(), ports)];
    for entry in entries {
        let entry_ports = match entry.protocol {
            NaclProtocol::All => PortRange::ALL,
            NaclProtocol::Tcp => entry.ports.unwrap_or(PortRange::ALL),
            NaclProtocol::Other(_) => continue,
        };
        let mut undecided = Vec::with_capacity(open.len());
        for (net, range) in open {
            // Two CIDRs overlap only when one contains the other.
            let shared_net = if entry.cidr.contains(&net) {
                Some(net)
            } else if net.contains(&entry.cidr) {
                Some(entry.cidr.trunc())
            } else {
                None
            };
            let (Some(shared_net), Some(shared_ports)) = (shared_net, range.intersect(entry_ports))
            else {
                undecided.push((net, range));
                continue;
            };
            if entry.action == NaclAction::Deny {
                return NaclVerdict::Denied {
                    rule_number: (entry.rule_number != CATCH_ALL_RULE).then_some(entry.rule_number),
                    peer: shared_net,
                    ports: shared_ports,
                };
            }
            undecided.extend(without_net(net, shared_net).into_iter().map(|n| (n, range)));
            undecided.extend(
                range
                    .without(shared_ports)
                    .into_iter()
                    .map(|p| (shared_net, p)),
            );
        }
        open = undecided;
        if open.is_empty() {
            return NaclVerdict::Allowed;
        }
    }
    match open.first() {
        Some((net, range)) => NaclVerdict::Denied {
            rule_number: None,
            peer: *net,
            ports: *range,
        },
        None => NaclVerdict::Allowed,
    }
}

/// `net` without `inner` (a block inside it), as the CIDR blocks left over.
fn without_net(net: IpNet, inner: IpNet) -> Vec<IpNet> {
    let mut rest = Vec::new();
    let mut current = net;
    while current.prefix_len() < inner.prefix_len() {
        let Ok(halves) = current.subnets(current.prefix_len() + 1) else {
            break;
        };
        let mut next = None;
        for half in halves {
            if half.contains(&inner) {
                next = Some(half);
            } else {
                rest.push(half);
            }
        }
        match next {
            Some(half) => current = half,
            None => break,
        }
    }
    rest
}

/// The ACL a subnet uses: the one listing its association, else the VPC's default ACL.
pub fn nacl_of_subnet<'a>(acls: &'a [NetworkAcl], subnet_id: &SubnetId) -> Option<&'a NetworkAcl> {
    acls.iter()
        .find(|acl| acl.subnet_ids.contains(subnet_id))
        .or_else(|| acls.iter().find(|acl| acl.default))
}
