//! What peerwire reports and does not change.

use std::fmt;

use ipnet::IpNet;
use serde::Serialize;

use super::{quota, DnsAttribute};
use crate::model::{
    AccountId, Direction, HostedZoneId, PeeringId, RouteTableId, RouteTarget, RulePeer,
    SecurityGroupId, Side, VpcId,
};

/// Something wrong that peerwire reports and does not change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "finding", rename_all = "kebab-case")]
pub enum Finding {
    /// A route to exactly a peer CIDR already points elsewhere (IGW, NAT, TGW, a virtual
    /// private gateway's propagated route, another peering, or a blackhole of another target).
    /// Never replaced, and no static route is added over a propagated one (it would take
    /// priority); traffic to the peer does not use the peering from subnets on this table.
    /// Blocks the wiring.
    RouteConflict {
        side: Side,
        route_table_id: RouteTableId,
        destination: IpNet,
        target: RouteTarget,
        blackhole: bool,
        /// Propagated (`Origin: EnableVgwRoutePropagation`) rather than static.
        #[serde(default)]
        propagated: bool,
    },
    /// A route more specific than a peer CIDR through another target: it wins for that part
    /// of the range (longest prefix match), which the peering does not carry from subnets on
    /// this table. Reported; the peering route is added for the rest.
    RouteShadowed {
        side: Side,
        route_table_id: RouteTableId,
        destination: IpNet,
        target: RouteTarget,
        peer_cidr: IpNet,
    },
    /// A VPC DNS attribute is off and the policy does not allow fixing it.
    DnsAttributeOff {
        side: Side,
        vpc_id: VpcId,
        attribute: DnsAttribute,
    },
    /// A selector in the policy matched nothing on this side.
    NothingSelected { side: Side, what: String },
    /// Routes or rules the wiring needs would exceed a quota of the account: not attempted.
    /// Raise the quota (Service Quotas) or make room, and the next run adds them.
    QuotaExceeded {
        side: Side,
        what: quota::QuotaUse,
        family: quota::Family,
        used: u32,
        needed: u32,
        limit: u32,
        /// Where `limit` comes from.
        source: String,
    },
    /// A rule peerwire did not make still references a group in the other account across a
    /// peering that is gone: AWS marks it stale. Reported for a person to remove.
    StaleGroupReference {
        side: Side,
        group_id: SecurityGroupId,
        referenced: RulePeer,
        #[serde(rename = "egress", serialize_with = "Direction::serialize_as_egress")]
        direction: Direction,
    },
    /// A route through a gone peering to a destination that is not a CIDR of the peer (or
    /// whose peer CIDRs nothing left proves): not the shape of peerwire's routes, so not
    /// removed. A blackhole; reported for its owner to remove.
    UnprovenRoute {
        side: Side,
        route_table_id: RouteTableId,
        destination: IpNet,
        peering_id: PeeringId,
    },
    /// An association peerwire recorded for a gone peering stays: Route 53 refused to remove
    /// it (the zone's last VPC, or another refusal), so the record stays too and the next
    /// cleanup tries again.
    ZoneKept {
        side: Side,
        zone_id: HostedZoneId,
        vpc_id: VpcId,
        why: String,
    },
    /// Rules peerwire made for a gone peering, kept: a live peering connects the same two VPCs
    /// (AWS revives such rules when the VPCs are peered again) and needs them. Its wiring
    /// re-marks them for itself; a rule it does not need stays under the old marker.
    RulesKept {
        side: Side,
        group_id: SecurityGroupId,
        #[serde(rename = "egress", serialize_with = "Direction::serialize_as_egress")]
        direction: Direction,
        live_peering_id: PeeringId,
    },
    /// A side of a gone peering that peerwire could not read (its member role is missing or
    /// denied): nothing of it was cleaned. The other side was; fix the role and the next
    /// cleanup or orphan sweep finishes this side.
    SideUnreachable {
        side: Side,
        account: AccountId,
        /// The AWS error, with its code.
        error: String,
    },
    /// A hosted zone the policy names cannot be associated with the peer VPC (not found in
    /// this side's account, a public zone, or too many tags to record it). Names in it do not
    /// resolve across the peering.
    ZoneNotAssociable {
        side: Side,
        zone_id: HostedZoneId,
        why: String,
    },
}

impl Finding {
    /// Conflicts and exceeded quotas block the wiring; the other findings are informational.
    pub fn is_blocking(&self) -> bool {
        match self {
            Self::RouteConflict { .. } | Self::QuotaExceeded { .. } => true,
            Self::RouteShadowed { .. }
            | Self::DnsAttributeOff { .. }
            | Self::NothingSelected { .. }
            | Self::StaleGroupReference { .. }
            | Self::UnprovenRoute { .. }
            | Self::RulesKept { .. }
            | Self::SideUnreachable { .. }
            | Self::ZoneKept { .. }
            | Self::ZoneNotAssociable { .. } => false,
        }
    }
}

/// One line for logs, outcomes and the CLI, e.g.
/// `accepter rtb-1: route to 10.0.0.0/16 points at tgw-1; not replaced`.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RouteConflict {
                side,
                route_table_id,
                destination,
                target,
                blackhole,
                propagated,
            } => {
                let state = match (*blackhole, *propagated) {
                    (true, _) => " (blackhole)",
                    (false, true) => " (propagated: a static route would take priority)",
                    (false, false) => "",
                };
                write!(f, "{side} {route_table_id}: route to {destination} points at {target}{state}; not replaced")
            }
            Self::RouteShadowed {
                side,
                route_table_id,
                destination,
                target,
                peer_cidr,
            } => write!(f, "{side} {route_table_id}: the more specific route {destination} -> {target} wins over the peering for that part of {peer_cidr}"),
            Self::DnsAttributeOff {
                side,
                vpc_id,
                attribute,
            } => write!(
                f,
                "{side} {vpc_id}: {} is off; not changed (fix_vpc_dns_attributes is false)",
                attribute.aws_name()
            ),
            Self::NothingSelected { side, what } => {
                write!(f, "{side}: the policy selects {what}, but none matched")
            }
            Self::QuotaExceeded {
                side,
                what,
                family,
                used,
                needed,
                limit,
                source,
            } => write!(
                f,
                "{side} {what}: {used} {family} of {limit} used, {needed} more needed; not attempted (limit from {source}): raise the quota or make room"
            ),
            Self::StaleGroupReference {
                side,
                group_id,
                referenced,
                direction,
            } => {
                let preposition = direction.preposition();
                write!(f, "{side} {group_id}: a rule not made by peerwire still allows {direction} {preposition} {referenced} across the gone peering (stale); left for its owner")
            }
            Self::UnprovenRoute {
                side,
                route_table_id,
                destination,
                peering_id,
            } => write!(f, "{side} {route_table_id}: route to {destination} through the gone {peering_id} is not to a CIDR of its peer, so not provably peerwire's; left for its owner"),
            Self::ZoneKept {
                side,
                zone_id,
                vpc_id,
                why,
            } => write!(f, "{side} {vpc_id}: stays associated with hosted zone {zone_id}: {why}"),
            Self::RulesKept {
                side,
                group_id,
                direction,
                live_peering_id,
            } => write!(
                f,
                "{side} {group_id}: {direction} rules kept: {live_peering_id} connects the same \
                 two VPCs and needs them"
            ),
            Self::SideUnreachable {
                side,
                account,
                error,
            } => write!(f, "{side} side ({account}) not cleaned: {error}"),
            Self::ZoneNotAssociable { side, zone_id, why } => {
                write!(f, "{side} hosted zone {zone_id}: {why}; not associated with the peer VPC")
            }
        }
    }
}
