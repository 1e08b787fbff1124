//! One change to make: the side whose member role makes it, and the action, EC2 or Route 53.
//!
//! The two kinds of action are two types, so an executor takes exactly one kind: the EC2
//! executor cannot be handed a Route 53 step. Every consumer matches actions exhaustively: a new
//! action does not compile until each one handles it.

use std::fmt;

use ipnet::IpNet;
use serde::{Serialize, Serializer};

use super::reason::Reason;
use crate::model::{
    Direction, HostedZoneId, PeeringId, Region, RouteTableId, RulePeer, SecurityGroupId, Side,
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

/// One change, made with the member role of `side`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanStep {
    pub side: Side,
    pub action: Action,
}

/// What a step does, by the service that does it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Ec2(Ec2Action),
    Route53(ZoneAction),
}

/// An EC2 call, in the account and region of the step's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ec2Action {
    /// `AcceptVpcPeeringConnection` (accepter only).
    AcceptPeering { peering_id: PeeringId, rule: String },
    /// `RejectVpcPeeringConnection` (accepter only). Final: the requester must ask again.
    RejectPeering {
        peering_id: PeeringId,
        reasons: Vec<Reason>,
    },
    /// `CreateRoute` to a peer CIDR through the peering.
    CreateRoute {
        route_table_id: RouteTableId,
        destination: IpNet,
        peering_id: PeeringId,
    },
    /// `ReplaceRoute` of a blackhole route to this same peering.
    ReplaceBlackholeRoute {
        route_table_id: RouteTableId,
        destination: IpNet,
        peering_id: PeeringId,
    },
    /// Cleanup: `DeleteRoute` of a route whose target is the (gone) peering.
    DeleteRoute {
        route_table_id: RouteTableId,
        destination: IpNet,
        peering_id: PeeringId,
    },
    /// One `AuthorizeSecurityGroupIngress`/`Egress` carrying every missing permission of the
    /// group in that direction.
    Authorize {
        direction: Direction,
        group_id: SecurityGroupId,
        permissions: Vec<Permission>,
    },
    /// Cleanup: one `RevokeSecurityGroupIngress`/`Egress` with every rule peerwire made for
    /// the peering in that direction of the group.
    Revoke {
        direction: Direction,
        group_id: SecurityGroupId,
        permissions: Vec<Permission>,
    },
    /// One `UpdateSecurityGroupRuleDescriptionsIngress`/`Egress` moving rules peerwire made
    /// for a gone peering of the same two VPCs to this one (each permission carries the new
    /// marker). AWS revives such rules when the VPCs are peered again; re-marked, the old
    /// peering's cleanup no longer matches them.
    Remark {
        direction: Direction,
        group_id: SecurityGroupId,
        permissions: Vec<Permission>,
    },
    /// `ModifyVpcPeeringConnectionOptions` setting this side's `AllowDnsResolutionFromRemoteVpc`
    /// (only its owner may, and only on an active peering).
    SetDnsResolution { peering_id: PeeringId },
    /// `ModifyVpcAttribute` turning a DNS attribute on (only when the policy allows it).
    EnableVpcDnsAttribute {
        vpc_id: VpcId,
        attribute: DnsAttribute,
    },
}

/// A Route 53 call, in the account of the step's side (Route 53 is global).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZoneAction {
    /// Zone owner: `ChangeTagsForResource` recording on the zone that peerwire associates
    /// `vpc_id` with it, for `peering_id`. Written before the association, so that an
    /// association peerwire made is never left unrecorded (cleanup removes only recorded ones).
    Record {
        zone_id: HostedZoneId,
        vpc_id: VpcId,
        peering_id: PeeringId,
    },
    /// Zone owner: `CreateVPCAssociationAuthorization` for the peer's VPC.
    Authorize {
        zone_id: HostedZoneId,
        vpc_id: VpcId,
        region: Region,
    },
    /// Peer VPC owner: `AssociateVPCWithHostedZone`, so the zone's names resolve in its VPC.
    Associate {
        zone_id: HostedZoneId,
        vpc_id: VpcId,
        region: Region,
    },
    /// Zone owner: `DeleteVPCAssociationAuthorization` once associated, as AWS recommends (the
    /// association outlives it, and no stale authorization is left to reuse).
    DeleteAuthorization {
        zone_id: HostedZoneId,
        vpc_id: VpcId,
        region: Region,
    },
    /// Cleanup, peer VPC owner: `DisassociateVPCFromHostedZone` of an association peerwire
    /// recorded, once no live peering needs it.
    Disassociate {
        zone_id: HostedZoneId,
        vpc_id: VpcId,
        region: Region,
    },
    /// Cleanup, zone owner: `ChangeTagsForResource` removing peerwire's record of the
    /// association.
    Forget {
        zone_id: HostedZoneId,
        vpc_id: VpcId,
    },
}

impl PlanStep {
    /// An EC2 step of `side`.
    pub fn ec2(side: Side, action: Ec2Action) -> Self {
        Self {
            side,
            action: Action::Ec2(action),
        }
    }

    /// A Route 53 step of `side`.
    pub fn zone(side: Side, action: ZoneAction) -> Self {
        Self {
            side,
            action: Action::Route53(action),
        }
    }

    /// The EC2 action, when the step is one.
    pub fn ec2_action(&self) -> Option<&Ec2Action> {
        match &self.action {
            Action::Ec2(action) => Some(action),
            Action::Route53(_) => None,
        }
    }

    /// The AWS operation this step calls.
    pub fn operation(&self) -> &'static str {
        match &self.action {
            Action::Ec2(action) => action.operation(),
            Action::Route53(action) => action.operation(),
        }
    }

    /// The route this step changes, when it changes one. Every action is named here, so a
    /// new one does not compile until it says whether it touches a route.
    pub fn route_change(&self) -> Option<RouteChange<'_>> {
        let (route_table_id, destination, kind) = match &self.action {
            Action::Ec2(action) => match action {
                Ec2Action::CreateRoute {
                    route_table_id,
                    destination,
                    ..
                } => (route_table_id, destination, RouteChangeKind::Create),
                Ec2Action::ReplaceBlackholeRoute {
                    route_table_id,
                    destination,
                    ..
                } => (
                    route_table_id,
                    destination,
                    RouteChangeKind::ReplaceBlackhole,
                ),
                Ec2Action::DeleteRoute {
                    route_table_id,
                    destination,
                    ..
                } => (route_table_id, destination, RouteChangeKind::Delete),
                Ec2Action::AcceptPeering { .. }
                | Ec2Action::RejectPeering { .. }
                | Ec2Action::Authorize { .. }
                | Ec2Action::Revoke { .. }
                | Ec2Action::Remark { .. }
                | Ec2Action::SetDnsResolution { .. }
                | Ec2Action::EnableVpcDnsAttribute { .. } => return None,
            },
            Action::Route53(action) => match action {
                ZoneAction::Record { .. }
                | ZoneAction::Authorize { .. }
                | ZoneAction::Associate { .. }
                | ZoneAction::DeleteAuthorization { .. }
                | ZoneAction::Disassociate { .. }
                | ZoneAction::Forget { .. } => return None,
            },
        };
        Some(RouteChange {
            route_table_id,
            destination,
            kind,
        })
    }

    /// The security-group rules this step changes, when it changes some (exhaustive, as
    /// [`Self::route_change`]).
    pub fn rule_change(&self) -> Option<RuleChange<'_>> {
        let (direction, group_id, permissions, kind) = match &self.action {
            Action::Ec2(action) => match action {
                Ec2Action::Authorize {
                    direction,
                    group_id,
                    permissions,
                } => (*direction, group_id, permissions, RuleChangeKind::Authorize),
                Ec2Action::Revoke {
                    direction,
                    group_id,
                    permissions,
                } => (*direction, group_id, permissions, RuleChangeKind::Revoke),
                Ec2Action::Remark {
                    direction,
                    group_id,
                    permissions,
                } => (*direction, group_id, permissions, RuleChangeKind::Remark),
                Ec2Action::AcceptPeering { .. }
                | Ec2Action::RejectPeering { .. }
                | Ec2Action::CreateRoute { .. }
                | Ec2Action::ReplaceBlackholeRoute { .. }
                | Ec2Action::DeleteRoute { .. }
                | Ec2Action::SetDnsResolution { .. }
                | Ec2Action::EnableVpcDnsAttribute { .. } => return None,
            },
            Action::Route53(action) => match action {
                ZoneAction::Record { .. }
                | ZoneAction::Authorize { .. }
                | ZoneAction::Associate { .. }
                | ZoneAction::DeleteAuthorization { .. }
                | ZoneAction::Disassociate { .. }
                | ZoneAction::Forget { .. } => return None,
            },
        };
        Some(RuleChange {
            direction,
            group_id,
            permissions,
            kind,
        })
    }

    /// The VPC association with a hosted zone this step makes or removes, when it is one
    /// (exhaustive, as [`Self::route_change`]). Records, authorizations and their removal are
    /// bookkeeping around an association, not one.
    pub fn zone_association(&self) -> Option<ZoneAssociation<'_>> {
        match &self.action {
            Action::Route53(action) => match action {
                ZoneAction::Associate {
                    zone_id,
                    vpc_id,
                    region,
                } => Some(ZoneAssociation {
                    zone_id,
                    vpc_id,
                    region,
                    adds: true,
                }),
                ZoneAction::Disassociate {
                    zone_id,
                    vpc_id,
                    region,
                } => Some(ZoneAssociation {
                    zone_id,
                    vpc_id,
                    region,
                    adds: false,
                }),
                ZoneAction::Record { .. }
                | ZoneAction::Authorize { .. }
                | ZoneAction::DeleteAuthorization { .. }
                | ZoneAction::Forget { .. } => None,
            },
            Action::Ec2(action) => match action {
                Ec2Action::AcceptPeering { .. }
                | Ec2Action::RejectPeering { .. }
                | Ec2Action::CreateRoute { .. }
                | Ec2Action::ReplaceBlackholeRoute { .. }
                | Ec2Action::DeleteRoute { .. }
                | Ec2Action::Authorize { .. }
                | Ec2Action::Revoke { .. }
                | Ec2Action::Remark { .. }
                | Ec2Action::SetDnsResolution { .. }
                | Ec2Action::EnableVpcDnsAttribute { .. } => None,
            },
        }
    }

    /// Whether the step adds a route or rules: what the account's VPC quotas must make room
    /// for. (A replaced blackhole takes the place of the route it replaces.)
    pub fn adds_to_quota(&self) -> bool {
        self.route_change()
            .is_some_and(|r| r.kind == RouteChangeKind::Create)
            || self.rule_change().is_some_and(|r| r.adds())
    }
}

/// How a step changes a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteChangeKind {
    /// `CreateRoute`: a new route.
    Create,
    /// `ReplaceRoute` of this peering's own blackhole route.
    ReplaceBlackhole,
    /// `DeleteRoute`.
    Delete,
}

/// A route a step changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteChange<'a> {
    pub route_table_id: &'a RouteTableId,
    pub destination: &'a IpNet,
    pub kind: RouteChangeKind,
}

/// A VPC association with a private hosted zone that a step makes or removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZoneAssociation<'a> {
    pub zone_id: &'a HostedZoneId,
    pub vpc_id: &'a VpcId,
    pub region: &'a Region,
    /// Associate (true) or disassociate (false).
    pub adds: bool,
}

/// How a step changes security-group rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleChangeKind {
    /// `AuthorizeSecurityGroup*`: new rules.
    Authorize,
    /// `RevokeSecurityGroup*`.
    Revoke,
    /// `UpdateSecurityGroupRuleDescriptions*`: the same rules, another peering's marker.
    Remark,
}

/// Rules a step changes, in one direction of one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleChange<'a> {
    pub direction: Direction,
    pub group_id: &'a SecurityGroupId,
    pub permissions: &'a [Permission],
    pub kind: RuleChangeKind,
}

impl RuleChange<'_> {
    /// Whether the step adds rules (what the rules quota must make room for).
    pub fn adds(&self) -> bool {
        self.kind == RuleChangeKind::Authorize
    }
}

impl Ec2Action {
    /// The EC2 operation.
    pub fn operation(&self) -> &'static str {
        match self {
            Self::AcceptPeering { .. } => "AcceptVpcPeeringConnection",
            Self::RejectPeering { .. } => "RejectVpcPeeringConnection",
            Self::CreateRoute { .. } => "CreateRoute",
            Self::ReplaceBlackholeRoute { .. } => "ReplaceRoute",
            Self::DeleteRoute { .. } => "DeleteRoute",
            Self::Authorize {
                direction: Direction::Ingress,
                ..
            } => "AuthorizeSecurityGroupIngress",
            Self::Authorize {
                direction: Direction::Egress,
                ..
            } => "AuthorizeSecurityGroupEgress",
            Self::Revoke {
                direction: Direction::Ingress,
                ..
            } => "RevokeSecurityGroupIngress",
            Self::Revoke {
                direction: Direction::Egress,
                ..
            } => "RevokeSecurityGroupEgress",
            Self::Remark {
                direction: Direction::Ingress,
                ..
            } => "UpdateSecurityGroupRuleDescriptionsIngress",
            Self::Remark {
                direction: Direction::Egress,
                ..
            } => "UpdateSecurityGroupRuleDescriptionsEgress",
            Self::SetDnsResolution { .. } => "ModifyVpcPeeringConnectionOptions",
            Self::EnableVpcDnsAttribute { .. } => "ModifyVpcAttribute",
        }
    }
}

impl ZoneAction {
    /// The Route 53 operation.
    pub fn operation(&self) -> &'static str {
        match self {
            Self::Record { .. } | Self::Forget { .. } => "ChangeTagsForResource",
            Self::Authorize { .. } => "CreateVPCAssociationAuthorization",
            Self::Associate { .. } => "AssociateVPCWithHostedZone",
            Self::DeleteAuthorization { .. } => "DeleteVPCAssociationAuthorization",
            Self::Disassociate { .. } => "DisassociateVPCFromHostedZone",
        }
    }
}

/// One line for logs, outcomes and the CLI, e.g.
/// `requester rtb-123: route 10.1.0.0/16 -> pcx-abc`.
impl fmt::Display for PlanStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = self.side;
        match &self.action {
            Action::Ec2(action) => match action {
                Ec2Action::AcceptPeering { peering_id, rule } => {
                    if rule.is_empty() {
                        write!(f, "{side}: accept {peering_id}")
                    } else {
                        write!(f, "{side}: accept {peering_id} (rule `{rule}`)")
                    }
                }
                Ec2Action::RejectPeering {
                    peering_id,
                    reasons,
                } => {
                    if reasons.is_empty() {
                        write!(f, "{side}: reject {peering_id}")
                    } else {
                        let reasons: Vec<String> = reasons.iter().map(ToString::to_string).collect();
                        write!(f, "{side}: reject {peering_id}: {}", reasons.join("; "))
                    }
                }
                Ec2Action::CreateRoute {
                    route_table_id,
                    destination,
                    peering_id,
                } => write!(
                    f,
                    "{side} {route_table_id}: route {destination} -> {peering_id}"
                ),
                Ec2Action::ReplaceBlackholeRoute {
                    route_table_id,
                    destination,
                    peering_id,
                } => write!(
                    f,
                    "{side} {route_table_id}: replace blackhole route {destination} -> {peering_id}"
                ),
                Ec2Action::DeleteRoute {
                    route_table_id,
                    destination,
                    peering_id,
                } => write!(
                    f,
                    "{side} {route_table_id}: delete route {destination} -> {peering_id}"
                ),
                Ec2Action::Authorize {
                    direction,
                    group_id,
                    permissions,
                } => write!(
                    f,
                    "{side} {group_id}: {direction} {}",
                    describe_permissions(permissions, direction.preposition())
                ),
                Ec2Action::Revoke {
                    direction,
                    group_id,
                    permissions,
                } => write!(
                    f,
                    "{side} {group_id}: revoke {direction} {}",
                    describe_permissions(permissions, direction.preposition())
                ),
                Ec2Action::Remark {
                    direction,
                    group_id,
                    permissions,
                } => write!(
                    f,
                    "{side} {group_id}: mark {direction} {} as {}",
                    describe_permissions(permissions, direction.preposition()),
                    permissions
                        .first()
                        .map_or("", |p| p.description.as_str())
                ),
                Ec2Action::SetDnsResolution { peering_id } => write!(
                    f,
                    "{side}: allow DNS resolution from the remote VPC on {peering_id}"
                ),
                Ec2Action::EnableVpcDnsAttribute { vpc_id, attribute } => {
                    write!(f, "{side} {vpc_id}: turn on {}", attribute.aws_name())
                }
            },
            Action::Route53(action) => match action {
                ZoneAction::Record {
                    zone_id,
                    vpc_id,
                    peering_id,
                } => write!(
                    f,
                    "{side} hosted zone {zone_id}: record peerwire's association of {vpc_id} ({peering_id})"
                ),
                ZoneAction::Authorize {
                    zone_id,
                    vpc_id,
                    region,
                } => write!(
                    f,
                    "{side} hosted zone {zone_id}: authorize the association of {vpc_id} ({region})"
                ),
                ZoneAction::Associate {
                    zone_id,
                    vpc_id,
                    region,
                } => write!(
                    f,
                    "{side} {vpc_id} ({region}): associate with hosted zone {zone_id}"
                ),
                ZoneAction::DeleteAuthorization {
                    zone_id, vpc_id, ..
                } => write!(
                    f,
                    "{side} hosted zone {zone_id}: delete the used authorization of {vpc_id}"
                ),
                ZoneAction::Disassociate {
                    zone_id,
                    vpc_id,
                    region,
                } => write!(
                    f,
                    "{side} {vpc_id} ({region}): disassociate from hosted zone {zone_id}"
                ),
                ZoneAction::Forget { zone_id, vpc_id } => write!(
                    f,
                    "{side} hosted zone {zone_id}: forget peerwire's association of {vpc_id}"
                ),
            },
        }
    }
}

/// A step as outcome events carry it (`docs/schemas`): `step` names the kind in kebab case,
/// `side` is there for every step but the accepter's decision, then the action's fields. Kept
/// exactly as it was when steps were one flat enum, so that consumers of the events and the
/// ledger's plan digests see the same JSON.
#[derive(Serialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
enum Wire<'a> {
    AcceptPeering {
        peering_id: &'a PeeringId,
        rule: &'a str,
    },
    RejectPeering {
        peering_id: &'a PeeringId,
        reasons: &'a [Reason],
    },
    CreateRoute(Route<'a>),
    ReplaceBlackholeRoute(Route<'a>),
    DeleteRoute(Route<'a>),
    AuthorizeIngress(Rules<'a>),
    AuthorizeEgress(Rules<'a>),
    RevokeIngress(Rules<'a>),
    RevokeEgress(Rules<'a>),
    RemarkIngress(Rules<'a>),
    RemarkEgress(Rules<'a>),
    SetDnsResolution {
        side: Side,
        peering_id: &'a PeeringId,
    },
    EnableVpcDnsAttribute {
        side: Side,
        vpc_id: &'a VpcId,
        attribute: DnsAttribute,
    },
    RecordZoneAssociation {
        side: Side,
        zone_id: &'a HostedZoneId,
        vpc_id: &'a VpcId,
        peering_id: &'a PeeringId,
    },
    AuthorizeZoneAssociation(ZoneVpc<'a>),
    AssociateZone(ZoneVpc<'a>),
    DeleteZoneAuthorization(ZoneVpc<'a>),
    DisassociateZone(ZoneVpc<'a>),
    ForgetZoneAssociation {
        side: Side,
        zone_id: &'a HostedZoneId,
        vpc_id: &'a VpcId,
    },
}

#[derive(Serialize)]
struct Route<'a> {
    side: Side,
    route_table_id: &'a RouteTableId,
    destination: &'a IpNet,
    peering_id: &'a PeeringId,
}

#[derive(Serialize)]
struct Rules<'a> {
    side: Side,
    group_id: &'a SecurityGroupId,
    permissions: &'a [Permission],
}

#[derive(Serialize)]
struct ZoneVpc<'a> {
    side: Side,
    zone_id: &'a HostedZoneId,
    vpc_id: &'a VpcId,
    region: &'a Region,
}

impl Serialize for PlanStep {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let side = self.side;
        let route = |route_table_id, destination, peering_id| Route {
            side,
            route_table_id,
            destination,
            peering_id,
        };
        let rules = |group_id, permissions| Rules {
            side,
            group_id,
            permissions,
        };
        let zone_vpc = |zone_id, vpc_id, region| ZoneVpc {
            side,
            zone_id,
            vpc_id,
            region,
        };
        let wire = match &self.action {
            Action::Ec2(action) => match action {
                Ec2Action::AcceptPeering { peering_id, rule } => {
                    Wire::AcceptPeering { peering_id, rule }
                }
                Ec2Action::RejectPeering {
                    peering_id,
                    reasons,
                } => Wire::RejectPeering {
                    peering_id,
                    reasons,
                },
                Ec2Action::CreateRoute {
                    route_table_id,
                    destination,
                    peering_id,
                } => Wire::CreateRoute(route(route_table_id, destination, peering_id)),
                Ec2Action::ReplaceBlackholeRoute {
                    route_table_id,
                    destination,
                    peering_id,
                } => Wire::ReplaceBlackholeRoute(route(route_table_id, destination, peering_id)),
                Ec2Action::DeleteRoute {
                    route_table_id,
                    destination,
                    peering_id,
                } => Wire::DeleteRoute(route(route_table_id, destination, peering_id)),
                Ec2Action::Authorize {
                    direction,
                    group_id,
                    permissions,
                } => match direction {
                    Direction::Ingress => {
                        Wire::AuthorizeIngress(rules(group_id, permissions.as_slice()))
                    }
                    Direction::Egress => {
                        Wire::AuthorizeEgress(rules(group_id, permissions.as_slice()))
                    }
                },
                Ec2Action::Revoke {
                    direction,
                    group_id,
                    permissions,
                } => match direction {
                    Direction::Ingress => {
                        Wire::RevokeIngress(rules(group_id, permissions.as_slice()))
                    }
                    Direction::Egress => {
                        Wire::RevokeEgress(rules(group_id, permissions.as_slice()))
                    }
                },
                Ec2Action::Remark {
                    direction,
                    group_id,
                    permissions,
                } => match direction {
                    Direction::Ingress => {
                        Wire::RemarkIngress(rules(group_id, permissions.as_slice()))
                    }
                    Direction::Egress => {
                        Wire::RemarkEgress(rules(group_id, permissions.as_slice()))
                    }
                },
                Ec2Action::SetDnsResolution { peering_id } => {
                    Wire::SetDnsResolution { side, peering_id }
                }
                Ec2Action::EnableVpcDnsAttribute { vpc_id, attribute } => {
                    Wire::EnableVpcDnsAttribute {
                        side,
                        vpc_id,
                        attribute: *attribute,
                    }
                }
            },
            Action::Route53(action) => match action {
                ZoneAction::Record {
                    zone_id,
                    vpc_id,
                    peering_id,
                } => Wire::RecordZoneAssociation {
                    side,
                    zone_id,
                    vpc_id,
                    peering_id,
                },
                ZoneAction::Authorize {
                    zone_id,
                    vpc_id,
                    region,
                } => Wire::AuthorizeZoneAssociation(zone_vpc(zone_id, vpc_id, region)),
                ZoneAction::Associate {
                    zone_id,
                    vpc_id,
                    region,
                } => Wire::AssociateZone(zone_vpc(zone_id, vpc_id, region)),
                ZoneAction::DeleteAuthorization {
                    zone_id,
                    vpc_id,
                    region,
                } => Wire::DeleteZoneAuthorization(zone_vpc(zone_id, vpc_id, region)),
                ZoneAction::Disassociate {
                    zone_id,
                    vpc_id,
                    region,
                } => Wire::DisassociateZone(zone_vpc(zone_id, vpc_id, region)),
                ZoneAction::Forget { zone_id, vpc_id } => Wire::ForgetZoneAssociation {
                    side,
                    zone_id,
                    vpc_id,
                },
            },
        };
        wire.serialize(serializer)
    }
}
