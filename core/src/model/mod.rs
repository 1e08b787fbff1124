//! The domain model: typed ids, the two sides of a peering, the peering, and the network each
//! side is made of, as plain Rust values.
//!
//! Nothing here holds an SDK type and nothing here calls AWS: the planner and its tests work on
//! this model only, and the adapters in `aws` are the one place that translates AWS responses
//! into it.

pub mod approval;
pub mod cidr;
pub mod direction;
pub mod ids;
pub mod location;
pub mod nacl;
pub mod network;
pub mod peering;
pub mod side;

pub use approval::{ApprovalAnswer, ApprovalDecision};
pub use direction::Direction;
pub use ids::{
    AccountId, DbIdentifier, HostedZoneId, IdError, NetworkAclId, OrganizationalUnitId, PeeringId,
    PrefixListId, Region, RouteTableId, SecurityGroupId, SubnetId, TargetId, VpcId,
};
pub use location::Location;
pub use network::{
    DbInstance, DnsRecord, HostedZone, Leftovers, Quotas, Route, RouteTable, RouteTarget, RulePeer,
    SecurityGroup, SgRule, SideState, Subnet, VpcNetwork, ZoneVpc, ZONE_TAG_LIMIT, ZONE_TAG_PREFIX,
};
pub use peering::{Peering, PeeringRef, PeeringSide, PeeringStatus, TagView, ROLLBACK_TAG};
pub use side::{Side, Sides};

/// Both sides of an active peering, as observed: what the wiring plan is a function of.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WiringState {
    pub peering: Peering,
    /// `None` for a side peerwire does not manage (it is not read at all).
    pub sides: Sides<Option<SideState>>,
}
