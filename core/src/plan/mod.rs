//! The plan: an ordered list of steps, each owned by one side, and the findings reported without
//! a change. Every planner is a pure function of the observed state and the policy:
//! [`request`] decides a pending request, [`wiring`] wires an active peering, [`cleanup`]
//! removes what peerwire made for a gone one. The reconciler applies a plan, `peerwire plan`
//! prints it, diagnose explains it; all three read the same steps.

pub mod cleanup;
pub mod quota;
pub mod request;
pub mod wiring;
pub mod zones;

use std::fmt;

use ipnet::IpNet;
use serde::Serialize;

use crate::model::{
    HostedZoneId, PeeringId, Region, RouteTableId, RouteTarget, RulePeer, SecurityGroupId, Side,
    VpcId,
};

/// The description that marks a security-group rule as peerwire's, naming its peering.
/// Cleanup removes only rules carrying exactly this marker. (AWS: at most 255 characters.)
pub fn rule_marker(peering_id: &PeeringId) -> String {
    format!("{RULE_MARKER_PREFIX}{peering_id}")
}

/// Every marker starts with this; what follows is the peering id.
pub const RULE_MARKER_PREFIX: &str = "peerwire:";

/// The peering a marker names, when `description` is exactly a peerwire marker.
pub fn marked_peering(description: &str) -> Option<PeeringId> {
    description.strip_prefix(RULE_MARKER_PREFIX)?.parse().ok()
}

/// One TCP port to or from one peer, as an IpPermission entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Permission {
    pub port: u16,
    pub peer: RulePeer,
    /// Always [`rule_marker`] of the peering.
    pub description: String,
}

/// A VPC attribute DNS across a peering depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DnsAttribute {
    EnableDnsSupport,
    EnableDnsHostnames,
}

impl DnsAttribute {
    /// The AWS name, as `DescribeVpcAttribute` spells it.
    pub fn aws_name(self) -> &'static str {
        match self {
            Self::EnableDnsSupport => "enableDnsSupport",
            Self::EnableDnsHostnames => "enableDnsHostnames",
        }
    }
}

/// `tcp/5432 from 10.0.0.0/16, tcp/5432 from 10.2.0.0/16`.
pub fn describe_permissions(permissions: &[Permission], preposition: &str) -> String {
    permissions
        .iter()
        .map(|p| format!("tcp/{} {preposition} {}", p.port, p.peer))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Something wrong that peerwire reports and does not change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "finding", rename_all = "kebab-case")]
pub enum Finding {
    /// A route to a peer CIDR already points elsewhere (IGW, NAT, TGW, another peering, or a
    /// blackhole of another target). Never replaced; traffic to the peer does not use the
    /// peering from subnets on this table. Blocks the wiring.
    RouteConflict {
        side: Side,
        route_table_id: RouteTableId,
        destination: IpNet,
        target: RouteTarget,
        blackhole: bool,
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
        egress: bool,
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
    /// A hosted zone the policy names cannot be associated with the peer VPC (not found in
    /// this side's account, or a public zone). Names in it do not resolve across the peering.
    ZoneNotAssociable {
        side: Side,
        zone_id: HostedZoneId,
        why: String,
    },
}

impl Finding {
    /// Conflicts and exceeded quotas block the wiring; the other findings are informational.
    pub fn is_blocking(&self) -> bool {
        matches!(
            self,
            Self::RouteConflict { .. } | Self::QuotaExceeded { .. }
        )
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
            } => {
                let state = if *blackhole { " (blackhole)" } else { "" };
                write!(f, "{side} {route_table_id}: route to {destination} points at {target}{state}; not replaced")
            }
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
                egress,
            } => {
                let direction = if *egress { "egress to" } else { "ingress from" };
                write!(f, "{side} {group_id}: a rule not made by peerwire still allows {direction} {referenced} across the gone peering (stale); left for its owner")
            }
            Self::UnprovenRoute {
                side,
                route_table_id,
                destination,
                peering_id,
            } => write!(f, "{side} {route_table_id}: route to {destination} through the gone {peering_id} is not to a CIDR of its peer, so not provably peerwire's; left for its owner"),
            Self::ZoneNotAssociable { side, zone_id, why } => {
                write!(f, "{side} hosted zone {zone_id}: {why}; not associated with the peer VPC")
            }
        }
    }
}

/// What a peering takes: the steps to apply, in order, then what to report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Plan {
    pub steps: Vec<PlanStep>,
    pub findings: Vec<Finding>,
}

impl Plan {
    /// Nothing to write and nothing blocking: the peering is converged.
    pub fn is_converged(&self) -> bool {
        self.steps.is_empty() && !self.is_blocked()
    }

    /// A finding blocks the wiring (a route conflict).
    pub fn is_blocked(&self) -> bool {
        self.findings.iter().any(Finding::is_blocking)
    }
}

/// One change to make. Every step is owned by exactly one side of the peering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum PlanStep {
    /// Accepter side: `AcceptVpcPeeringConnection`.
    AcceptPeering { peering_id: PeeringId, rule: String },
    /// Accepter side: `RejectVpcPeeringConnection`. Final: the requester must ask again.
    RejectPeering {
        peering_id: PeeringId,
        reasons: Vec<String>,
    },
    /// `CreateRoute` to a peer CIDR through the peering.
    CreateRoute {
        side: Side,
        route_table_id: RouteTableId,
        destination: IpNet,
        peering_id: PeeringId,
    },
    /// `ReplaceRoute` of a blackhole route to this same peering.
    ReplaceBlackholeRoute {
        side: Side,
        route_table_id: RouteTableId,
        destination: IpNet,
        peering_id: PeeringId,
    },
    /// One `AuthorizeSecurityGroupIngress` carrying every missing permission of the group.
    AuthorizeIngress {
        side: Side,
        group_id: SecurityGroupId,
        permissions: Vec<Permission>,
    },
    /// One `AuthorizeSecurityGroupEgress` carrying every missing permission of the group.
    AuthorizeEgress {
        side: Side,
        group_id: SecurityGroupId,
        permissions: Vec<Permission>,
    },
    /// `ModifyVpcPeeringConnectionOptions` setting this side's `AllowDnsResolutionFromRemoteVpc`.
    SetDnsResolution { side: Side, peering_id: PeeringId },
    /// `ModifyVpcAttribute` turning a DNS attribute on (only when the policy allows it).
    EnableVpcDnsAttribute {
        side: Side,
        vpc_id: VpcId,
        attribute: DnsAttribute,
    },
    /// Cleanup: `DeleteRoute` of a route whose target is the (gone) peering.
    DeleteRoute {
        side: Side,
        route_table_id: RouteTableId,
        destination: IpNet,
        peering_id: PeeringId,
    },
    /// Cleanup: one `RevokeSecurityGroupIngress` with every rule peerwire made for the peering.
    RevokeIngress {
        side: Side,
        group_id: SecurityGroupId,
        permissions: Vec<Permission>,
    },
    /// Cleanup: one `RevokeSecurityGroupEgress` with every rule peerwire made for the peering.
    RevokeEgress {
        side: Side,
        group_id: SecurityGroupId,
        permissions: Vec<Permission>,
    },
    /// Zone owner: `ChangeTagsForResource` recording on the zone that peerwire associates
    /// `vpc_id` with it, for `peering_id`. Written before the association, so that an
    /// association peerwire made is never left unrecorded (cleanup removes only recorded ones).
    RecordZoneAssociation {
        side: Side,
        zone_id: HostedZoneId,
        vpc_id: VpcId,
        peering_id: PeeringId,
    },
    /// Zone owner: `CreateVPCAssociationAuthorization` for the peer's VPC.
    AuthorizeZoneAssociation {
        side: Side,
        zone_id: HostedZoneId,
        vpc_id: VpcId,
        region: Region,
    },
    /// Peer VPC owner: `AssociateVPCWithHostedZone`, so the zone's names resolve in its VPC.
    AssociateZone {
        side: Side,
        zone_id: HostedZoneId,
        vpc_id: VpcId,
        region: Region,
    },
    /// Zone owner: `DeleteVPCAssociationAuthorization` once associated, as AWS recommends (the
    /// association outlives it, and no stale authorization is left to reuse).
    DeleteZoneAuthorization {
        side: Side,
        zone_id: HostedZoneId,
        vpc_id: VpcId,
        region: Region,
    },
    /// Cleanup, peer VPC owner: `DisassociateVPCFromHostedZone` of an association peerwire
    /// recorded, once no live peering needs it.
    DisassociateZone {
        side: Side,
        zone_id: HostedZoneId,
        vpc_id: VpcId,
        region: Region,
    },
    /// Cleanup, zone owner: `ChangeTagsForResource` removing peerwire's record of the
    /// association.
    ForgetZoneAssociation {
        side: Side,
        zone_id: HostedZoneId,
        vpc_id: VpcId,
    },
}

impl PlanStep {
    /// The AWS operation this step calls.
    pub fn operation(&self) -> &'static str {
        match self {
            Self::AcceptPeering { .. } => "AcceptVpcPeeringConnection",
            Self::RejectPeering { .. } => "RejectVpcPeeringConnection",
            Self::CreateRoute { .. } => "CreateRoute",
            Self::ReplaceBlackholeRoute { .. } => "ReplaceRoute",
            Self::AuthorizeIngress { .. } => "AuthorizeSecurityGroupIngress",
            Self::AuthorizeEgress { .. } => "AuthorizeSecurityGroupEgress",
            Self::SetDnsResolution { .. } => "ModifyVpcPeeringConnectionOptions",
            Self::EnableVpcDnsAttribute { .. } => "ModifyVpcAttribute",
            Self::DeleteRoute { .. } => "DeleteRoute",
            Self::RevokeIngress { .. } => "RevokeSecurityGroupIngress",
            Self::RevokeEgress { .. } => "RevokeSecurityGroupEgress",
            Self::RecordZoneAssociation { .. } | Self::ForgetZoneAssociation { .. } => {
                "ChangeTagsForResource"
            }
            Self::AuthorizeZoneAssociation { .. } => "CreateVPCAssociationAuthorization",
            Self::AssociateZone { .. } => "AssociateVPCWithHostedZone",
            Self::DeleteZoneAuthorization { .. } => "DeleteVPCAssociationAuthorization",
            Self::DisassociateZone { .. } => "DisassociateVPCFromHostedZone",
        }
    }

    /// A Route 53 step (a global service: its client is per account, not per region).
    pub fn is_route53(&self) -> bool {
        matches!(
            self,
            Self::RecordZoneAssociation { .. }
                | Self::AuthorizeZoneAssociation { .. }
                | Self::AssociateZone { .. }
                | Self::DeleteZoneAuthorization { .. }
                | Self::DisassociateZone { .. }
                | Self::ForgetZoneAssociation { .. }
        )
    }

    /// The side whose credentials execute this step.
    pub fn side(&self) -> Side {
        match self {
            Self::AcceptPeering { .. } | Self::RejectPeering { .. } => Side::Accepter,
            Self::CreateRoute { side, .. }
            | Self::ReplaceBlackholeRoute { side, .. }
            | Self::AuthorizeIngress { side, .. }
            | Self::AuthorizeEgress { side, .. }
            | Self::SetDnsResolution { side, .. }
            | Self::EnableVpcDnsAttribute { side, .. }
            | Self::DeleteRoute { side, .. }
            | Self::RevokeIngress { side, .. }
            | Self::RevokeEgress { side, .. }
            | Self::RecordZoneAssociation { side, .. }
            | Self::AuthorizeZoneAssociation { side, .. }
            | Self::AssociateZone { side, .. }
            | Self::DeleteZoneAuthorization { side, .. }
            | Self::DisassociateZone { side, .. }
            | Self::ForgetZoneAssociation { side, .. } => *side,
        }
    }
}

/// One line for logs, outcomes and the CLI, e.g.
/// `requester rtb-123: route 10.1.0.0/16 -> pcx-abc`.
impl fmt::Display for PlanStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AcceptPeering { peering_id, rule } => {
                if rule.is_empty() {
                    write!(f, "accepter: accept {peering_id}")
                } else {
                    write!(f, "accepter: accept {peering_id} (rule `{rule}`)")
                }
            }
            Self::RejectPeering {
                peering_id,
                reasons,
            } => {
                if reasons.is_empty() {
                    write!(f, "accepter: reject {peering_id}")
                } else {
                    write!(f, "accepter: reject {peering_id}: {}", reasons.join("; "))
                }
            }
            Self::CreateRoute {
                side,
                route_table_id,
                destination,
                peering_id,
            } => write!(
                f,
                "{side} {route_table_id}: route {destination} -> {peering_id}"
            ),
            Self::ReplaceBlackholeRoute {
                side,
                route_table_id,
                destination,
                peering_id,
            } => write!(
                f,
                "{side} {route_table_id}: replace blackhole route {destination} -> {peering_id}"
            ),
            Self::AuthorizeIngress {
                side,
                group_id,
                permissions,
            } => write!(
                f,
                "{side} {group_id}: ingress {}",
                describe_permissions(permissions, "from")
            ),
            Self::AuthorizeEgress {
                side,
                group_id,
                permissions,
            } => write!(
                f,
                "{side} {group_id}: egress {}",
                describe_permissions(permissions, "to")
            ),
            Self::SetDnsResolution { side, peering_id } => {
                write!(
                    f,
                    "{side}: allow DNS resolution from the remote VPC on {peering_id}"
                )
            }
            Self::EnableVpcDnsAttribute {
                side,
                vpc_id,
                attribute,
            } => write!(f, "{side} {vpc_id}: turn on {}", attribute.aws_name()),
            Self::DeleteRoute {
                side,
                route_table_id,
                destination,
                peering_id,
            } => write!(
                f,
                "{side} {route_table_id}: delete route {destination} -> {peering_id}"
            ),
            Self::RevokeIngress {
                side,
                group_id,
                permissions,
            } => write!(
                f,
                "{side} {group_id}: revoke ingress {}",
                describe_permissions(permissions, "from")
            ),
            Self::RevokeEgress {
                side,
                group_id,
                permissions,
            } => write!(
                f,
                "{side} {group_id}: revoke egress {}",
                describe_permissions(permissions, "to")
            ),
            Self::RecordZoneAssociation {
                side,
                zone_id,
                vpc_id,
                peering_id,
            } => write!(
                f,
                "{side} hosted zone {zone_id}: record peerwire's association of {vpc_id} ({peering_id})"
            ),
            Self::AuthorizeZoneAssociation {
                side,
                zone_id,
                vpc_id,
                region,
            } => write!(
                f,
                "{side} hosted zone {zone_id}: authorize the association of {vpc_id} ({region})"
            ),
            Self::AssociateZone {
                side,
                zone_id,
                vpc_id,
                region,
            } => write!(
                f,
                "{side} {vpc_id} ({region}): associate with hosted zone {zone_id}"
            ),
            Self::DeleteZoneAuthorization {
                side,
                zone_id,
                vpc_id,
                ..
            } => write!(
                f,
                "{side} hosted zone {zone_id}: delete the used authorization of {vpc_id}"
            ),
            Self::DisassociateZone {
                side,
                zone_id,
                vpc_id,
                region,
            } => write!(
                f,
                "{side} {vpc_id} ({region}): disassociate from hosted zone {zone_id}"
            ),
            Self::ForgetZoneAssociation {
                side,
                zone_id,
                vpc_id,
            } => write!(
                f,
                "{side} hosted zone {zone_id}: forget peerwire's association of {vpc_id}"
            ),
        }
    }
}
