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
