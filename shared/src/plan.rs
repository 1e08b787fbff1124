//! The plan: an ordered list of steps, each carrying the reason it exists. It is a pure function
//! of the observed state and the policy; the adapters execute it, `plan` prints it.

use std::fmt;

use ipnet::IpNet;
use serde::Serialize;

use crate::decision::{Decision, Verdict};
use crate::model::{Peering, RouteTarget, RulePeer};

/// Which side of the peering owns a resource; its member role makes the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    Requester,
    Accepter,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Requester => "requester",
            Self::Accepter => "accepter",
        })
    }
}

/// The description that marks a security-group rule as peerwire's, naming its peering.
/// Cleanup removes only rules carrying exactly this marker. (AWS: at most 255 characters.)
pub fn rule_marker(peering_id: &str) -> String {
    format!("peerwire:{peering_id}")
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
        route_table_id: String,
        destination: IpNet,
        target: RouteTarget,
        blackhole: bool,
    },
    /// A VPC DNS attribute is off and the policy does not allow fixing it.
    DnsAttributeOff {
        side: Side,
        vpc_id: String,
        attribute: DnsAttribute,
    },
    /// A selector in the policy matched nothing on this side.
    NothingSelected { side: Side, what: String },
    /// A rule peerwire did not make still references a group in the other account across a
    /// peering that is gone: AWS marks it stale. Reported for a person to remove.
    StaleGroupReference {
        side: Side,
        group_id: String,
        referenced: RulePeer,
        egress: bool,
    },
}

impl Finding {
    /// Conflicts block the wiring; the other findings are informational.
    pub fn is_blocking(&self) -> bool {
        matches!(self, Self::RouteConflict { .. })
    }
}

/// What wiring an active peering takes: the steps to apply, then what to report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct WiringPlan {
    pub steps: Vec<PlanStep>,
    pub findings: Vec<Finding>,
}

/// One change to make. Every step is owned by exactly one side of the peering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum PlanStep {
    /// Accepter side: `AcceptVpcPeeringConnection`.
    AcceptPeering { peering_id: String, rule: String },
    /// Accepter side: `RejectVpcPeeringConnection`. Final: the requester must ask again.
    RejectPeering {
        peering_id: String,
        reasons: Vec<String>,
    },
    /// `CreateRoute` to a peer CIDR through the peering.
    CreateRoute {
        side: Side,
        route_table_id: String,
        destination: IpNet,
        peering_id: String,
    },
    /// `ReplaceRoute` of a blackhole route to this same peering.
    ReplaceBlackholeRoute {
        side: Side,
        route_table_id: String,
        destination: IpNet,
        peering_id: String,
    },
    /// One `AuthorizeSecurityGroupIngress` carrying every missing permission of the group.
    AuthorizeIngress {
        side: Side,
        group_id: String,
        permissions: Vec<Permission>,
    },
    /// One `AuthorizeSecurityGroupEgress` carrying every missing permission of the group.
    AuthorizeEgress {
        side: Side,
        group_id: String,
        permissions: Vec<Permission>,
    },
    /// `ModifyVpcPeeringConnectionOptions` setting this side's `AllowDnsResolutionFromRemoteVpc`.
    SetDnsResolution { side: Side, peering_id: String },
    /// `ModifyVpcAttribute` turning a DNS attribute on (only when the policy allows it).
    EnableVpcDnsAttribute {
        side: Side,
        vpc_id: String,
        attribute: DnsAttribute,
    },
    /// Cleanup: `DeleteRoute` of a route whose target is the (gone) peering.
    DeleteRoute {
        side: Side,
        route_table_id: String,
        destination: IpNet,
        peering_id: String,
    },
    /// Cleanup: one `RevokeSecurityGroupIngress` with every rule peerwire made for the peering.
    RevokeIngress {
        side: Side,
        group_id: String,
        permissions: Vec<Permission>,
    },
    /// Cleanup: one `RevokeSecurityGroupEgress` with every rule peerwire made for the peering.
    RevokeEgress {
        side: Side,
        group_id: String,
        permissions: Vec<Permission>,
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
        }
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
            | Self::RevokeEgress { side, .. } => *side,
        }
    }
}

/// The steps that carry out an accept decision: at most one write. Hold and skip write nothing.
pub fn plan_request(peering: &Peering, decision: &Decision) -> Vec<PlanStep> {
    match decision.verdict {
        Verdict::Accept => vec![PlanStep::AcceptPeering {
            peering_id: peering.id.clone(),
            rule: decision.rule.clone().unwrap_or_default(),
        }],
        Verdict::Reject => vec![PlanStep::RejectPeering {
            peering_id: peering.id.clone(),
            reasons: decision.reasons.clone(),
        }],
        Verdict::Hold | Verdict::Skip => Vec::new(),
    }
}
