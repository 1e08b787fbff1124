//! The observed state of a peering and of the VPCs on its two sides, as plain Rust values.
//!
//! Nothing here holds an SDK type: the planner and its tests work on this model only, and the
//! adapters in [`crate::aws`] are the one place that translates AWS responses into it.

use std::collections::BTreeMap;
use std::fmt;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// A 12-digit AWS account ID.
pub type AccountId = String;

/// Lifecycle state of a VPC peering connection, as `Status.Code` reports it.
///
/// AWS keeps `deleted` and `failed` peerings visible for about 2 hours, `rejected` ones for
/// 2 days, and `pending-acceptance` requests expire after 7 days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeeringStatus {
    InitiatingRequest,
    PendingAcceptance,
    Provisioning,
    Active,
    Deleting,
    Deleted,
    Rejected,
    Failed,
    Expired,
    /// A code this version does not know; never acted on.
    Other(String),
}

impl PeeringStatus {
    /// Maps an AWS `Status.Code` string.
    pub fn from_code(code: &str) -> Self {
        match code {
            "initiating-request" => Self::InitiatingRequest,
            "pending-acceptance" => Self::PendingAcceptance,
            "provisioning" => Self::Provisioning,
            "active" => Self::Active,
            "deleting" => Self::Deleting,
            "deleted" => Self::Deleted,
            "rejected" => Self::Rejected,
            "failed" => Self::Failed,
            "expired" => Self::Expired,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The AWS `Status.Code` string.
    pub fn code(&self) -> &str {
        match self {
            Self::InitiatingRequest => "initiating-request",
            Self::PendingAcceptance => "pending-acceptance",
            Self::Provisioning => "provisioning",
            Self::Active => "active",
            Self::Deleting => "deleting",
            Self::Deleted => "deleted",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Other(code) => code,
        }
    }
}

impl fmt::Display for PeeringStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One side (requester or accepter) of a peering, as the peering itself describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeeringSide {
    pub account: AccountId,
    pub vpc_id: String,
    pub region: String,
    /// Every IPv4 and IPv6 CIDR of the VPC that the peering reports (`CidrBlockSet`,
    /// `Ipv6CidrBlockSet`), primary first. May be empty on the accepter side before acceptance.
    pub cidrs: Vec<IpNet>,
    /// This side's `AllowDnsResolutionFromRemoteVpc` peering option. Only this side's owner
    /// may set it, and only while the peering is active.
    #[serde(default)]
    pub allow_dns_resolution_from_remote_vpc: bool,
}

/// A VPC peering connection as seen from one of its two accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peering {
    pub id: String,
    pub status: PeeringStatus,
    pub status_message: Option<String>,
    pub requester: PeeringSide,
    pub accepter: PeeringSide,
    /// Tags on the peering connection; both owners see the requester's tags.
    pub tags: BTreeMap<String, String>,
}

/// Where a route sends traffic. Only `Local` and `Peering` are peerwire's business; every other
/// target is somebody else's route and is never replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum RouteTarget {
    Local,
    Peering(String),
    /// Internet or virtual private gateway (`igw-`, `vgw-`).
    Gateway(String),
    NatGateway(String),
    TransitGateway(String),
    NetworkInterface(String),
    Instance(String),
    /// Anything else (carrier, local or egress-only gateway, core network, endpoint).
    Other(String),
}

impl fmt::Display for RouteTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Local => f.write_str("local"),
            Self::Peering(id)
            | Self::Gateway(id)
            | Self::NatGateway(id)
            | Self::TransitGateway(id)
            | Self::NetworkInterface(id)
            | Self::Instance(id)
            | Self::Other(id) => f.write_str(id),
        }
    }
}

/// One route of a route table. Routes to managed prefix lists are not modelled: their CIDRs
/// are not known without extra calls, and peerwire never creates them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub destination: IpNet,
    pub target: RouteTarget,
    /// `blackhole` when the target is gone (a deleted peering, say).
    pub blackhole: bool,
}

/// A route table with the subnets explicitly associated to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTable {
    pub id: String,
    /// The VPC's main route table serves every subnet without an explicit association.
    pub main: bool,
    pub subnet_ids: Vec<String>,
    pub routes: Vec<Route>,
}

/// A VPC on one side with what the accept decision and the wiring plan need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcNetwork {
    pub account: AccountId,
    pub vpc_id: String,
    /// Associated IPv4 and IPv6 CIDR blocks, secondary associations included.
    pub cidrs: Vec<IpNet>,
    pub route_tables: Vec<RouteTable>,
}

/// A subnet of a VPC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub id: String,
    pub availability_zone: String,
    pub cidr: Option<IpNet>,
    pub tags: BTreeMap<String, String>,
}

/// What a security-group rule admits traffic from (ingress) or to (egress).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RulePeer {
    Cidr {
        cidr: IpNet,
    },
    /// Another security group; `account` is set for a group in another account, which AWS
    /// allows across an active same-region peering.
    Group {
        account: Option<AccountId>,
        group_id: String,
    },
}

impl fmt::Display for RulePeer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cidr { cidr } => write!(f, "{cidr}"),
            Self::Group {
                account: Some(account),
                group_id,
            } => write!(f, "{account}/{group_id}"),
            Self::Group {
                account: None,
                group_id,
            } => f.write_str(group_id),
        }
    }
}

/// One security-group rule, one peer per rule (AWS's IpPermissions are flattened).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SgRule {
    /// `tcp`, `udp`, `icmp`, ... or `-1` for all traffic.
    pub protocol: String,
    /// `None` with protocol `-1` (all ports).
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub peer: RulePeer,
    pub description: Option<String>,
}

/// A security group with its rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
    pub tags: BTreeMap<String, String>,
    pub ingress: Vec<SgRule>,
    pub egress: Vec<SgRule>,
}

/// An RDS DB instance with the subnets of its DB subnet group. A Multi-AZ failover can move it
/// into any of them, so all of them must be routed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbInstance {
    pub id: String,
    pub port: Option<i32>,
    /// The AZ of the current primary.
    pub availability_zone: Option<String>,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
}

/// Everything the wiring plan needs to know about one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SideState {
    pub network: VpcNetwork,
    pub subnets: Vec<Subnet>,
    /// The groups the policy selects on this side (by id, tag, or DB instance).
    pub security_groups: Vec<SecurityGroup>,
    /// The VPC attributes `enableDnsSupport` and `enableDnsHostnames`: both must be on for
    /// DNS names to resolve to private addresses across the peering.
    pub dns_support: bool,
    pub dns_hostnames: bool,
    /// The DB instances the policy names (accepter side).
    pub db_instances: Vec<DbInstance>,
}

/// Both sides of an active peering, as observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WiringState {
    pub peering: Peering,
    /// `None` when the policy says peerwire does not manage this side.
    pub requester: Option<SideState>,
    pub accepter: Option<SideState>,
}
