//! The network of one side as observed: VPC, route tables, subnets, security groups, DB
//! instances. Plain values; the adapters in `aws::observe` are the one place that builds them.

use std::collections::BTreeMap;
use std::fmt;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::ids::{
    AccountId, DbIdentifier, HostedZoneId, PeeringId, PrefixListId, Region, RouteTableId,
    SecurityGroupId, SubnetId, TargetId, VpcId,
};

/// Where a route sends traffic. Only `Local` and `Peering` are peerwire's business; every other
/// target is somebody else's route and is never replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum RouteTarget {
    Local,
    Peering(PeeringId),
    /// Internet or virtual private gateway (`igw-`, `vgw-`).
    Gateway(TargetId),
    NatGateway(TargetId),
    TransitGateway(TargetId),
    NetworkInterface(TargetId),
    Instance(TargetId),
    /// Anything else (carrier, local or egress-only gateway, core network, endpoint).
    Other(TargetId),
}

impl fmt::Display for RouteTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Local => f.write_str("local"),
            Self::Peering(id) => f.write_str(id.as_str()),
            Self::Gateway(id)
            | Self::NatGateway(id)
            | Self::TransitGateway(id)
            | Self::NetworkInterface(id)
            | Self::Instance(id)
            | Self::Other(id) => f.write_str(id.as_str()),
        }
    }
}

/// One route of a route table to a CIDR block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub destination: IpNet,
    pub target: RouteTarget,
    /// `blackhole` when the target is gone (a deleted peering, say).
    pub blackhole: bool,
    /// Propagated by a virtual private gateway (`Origin: EnableVgwRoutePropagation`: a VPN's or
    /// Direct Connect's routes). It has its own quota (not the table's routes quota), and a
    /// static route to the same destination takes priority over it.
    #[serde(default)]
    pub propagated: bool,
}

/// A route table with the subnets explicitly associated to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTable {
    pub id: RouteTableId,
    /// The VPC's main route table serves every subnet without an explicit association.
    pub main: bool,
    pub subnet_ids: Vec<SubnetId>,
    pub routes: Vec<Route>,
    /// Routes to managed prefix lists. Never peerwire's and never read into CIDRs; AWS counts
    /// each against the routes-per-table quota at the list's maximum entries.
    #[serde(default)]
    pub prefix_list_routes: Vec<PrefixListId>,
}

/// A VPC on one side with what the accept decision and the wiring plan need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcNetwork {
    pub account: AccountId,
    pub vpc_id: VpcId,
    /// Associated IPv4 and IPv6 CIDR blocks, secondary associations included.
    pub cidrs: Vec<IpNet>,
    pub route_tables: Vec<RouteTable>,
}

impl VpcNetwork {
    /// The route table a subnet uses: its explicit association, else the main table.
    pub fn route_table_of(&self, subnet_id: &SubnetId) -> Option<&RouteTable> {
        self.route_tables
            .iter()
            .find(|t| t.subnet_ids.contains(subnet_id))
            .or_else(|| self.route_tables.iter().find(|t| t.main))
    }
}

/// A subnet of a VPC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub id: SubnetId,
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
        group_id: SecurityGroupId,
    },
    /// A managed prefix list. Never peerwire's; AWS counts such a rule at the list's maximum
    /// entries against the rules quota (VPC User Guide, "Security group rules": "A rule that
    /// references a customer-managed prefix list counts as the maximum size of the prefix
    /// list").
    PrefixList {
        prefix_list_id: PrefixListId,
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
            } => write!(f, "{group_id}"),
            Self::PrefixList { prefix_list_id } => write!(f, "{prefix_list_id}"),
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
    pub id: SecurityGroupId,
    pub name: String,
    pub tags: BTreeMap<String, String>,
    pub ingress: Vec<SgRule>,
    pub egress: Vec<SgRule>,
}

/// An RDS DB instance with the subnets of its DB subnet group. A Multi-AZ failover can move it
/// into any of them, so all of them must be routed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbInstance {
    pub id: DbIdentifier,
    pub port: Option<i32>,
    /// The AZ of the current primary.
    pub availability_zone: Option<String>,
    pub subnet_ids: Vec<SubnetId>,
    pub security_group_ids: Vec<SecurityGroupId>,
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
    /// The account's quotas in this region, read only once a plan would add routes or rules;
    /// `None` until then (and then nothing is checked against them).
    #[serde(default)]
    pub quotas: Option<Quotas>,
    /// The private hosted zones this side's account owns that the policy names, to be
    /// associated with the peer VPC.
    #[serde(default)]
    pub hosted_zones: Vec<HostedZone>,
}

/// A Route 53 hosted zone as its owner sees it (`GetHostedZone`, `ListTagsForResources`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostedZone {
    pub id: HostedZoneId,
    /// The domain, with its trailing dot (`orders.db.internal.`).
    pub name: String,
    /// Only a private zone can be associated with a VPC.
    pub private: bool,
    /// The VPCs associated with the zone, in any account and region.
    pub vpcs: Vec<ZoneVpc>,
    /// The VPCs peerwire associated with the zone, from its tags
    /// ([`ZONE_TAG_PREFIX`]`<vpc-id>`): the only associations cleanup may remove.
    pub associated_by_peerwire: Vec<VpcId>,
    /// How many tags the zone carries, peerwire's and its owner's: a zone holds at most
    /// [`ZONE_TAG_LIMIT`].
    #[serde(default)]
    pub tag_count: usize,
}

/// The most tags a hosted zone carries. Route 53 API reference: ChangeTagsForResource, AddTags:
/// "You can add a maximum of 10 tags to a health check or a hosted zone"; ResourceTagSet, Tags:
/// "Maximum number of 10 items". peerwire records each association it makes in one tag, so a
/// zone full of tags gets no new association from peerwire (reported instead).
pub const ZONE_TAG_LIMIT: usize = 10;

/// A VPC associated with a hosted zone.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ZoneVpc {
    pub vpc_id: VpcId,
    pub region: Region,
}

/// The tag key prefix that records, on a hosted zone, a VPC association peerwire made (the
/// value names the peering it was made for). Route 53 has no description on an association,
/// and a zone holds up to 50 tags.
pub const ZONE_TAG_PREFIX: &str = "peerwire:associated:";

/// One record set of a hosted zone (`ListResourceRecordSets`), for diagnosis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRecord {
    /// With its trailing dot.
    pub name: String,
    /// `A`, `CNAME`, `AAAA`, ...
    pub kind: String,
    /// The record's values (none for an alias).
    pub values: Vec<String>,
    /// The DNS name of an alias target.
    pub alias_target: Option<String>,
}

impl SecurityGroup {
    /// The group's rules in `direction`.
    pub fn rules(&self, direction: super::Direction) -> &[SgRule] {
        match direction {
            super::Direction::Ingress => &self.ingress,
            super::Direction::Egress => &self.egress,
        }
    }

    /// The group's rules in `direction`, to change them as a write did.
    pub fn rules_mut(&mut self, direction: super::Direction) -> &mut Vec<SgRule> {
        match direction {
            super::Direction::Ingress => &mut self.ingress,
            super::Direction::Egress => &mut self.egress,
        }
    }
}

impl HostedZone {
    pub fn is_associated(&self, vpc_id: &VpcId) -> bool {
        self.vpcs.iter().any(|v| &v.vpc_id == vpc_id)
    }
}

/// The VPC quotas a wiring plan must stay inside, before it writes. AWS counts IPv4 and IPv6
/// separately for both: a table holds `routes_per_table` IPv4 routes and as many IPv6 ones, a
/// group `rules_per_group` inbound IPv4 rules, as many IPv6 ones, and the same outbound; a rule
/// that references a group counts in both families.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quotas {
    /// Service Quotas `vpc/L-93826ACB` (default 50): non-propagated routes per route table.
    pub routes_per_table: u32,
    /// Service Quotas `vpc/L-0EA8095F` (default 60): inbound, or outbound, rules per group.
    pub rules_per_group: u32,
    /// The maximum entries of each managed prefix list a route of this side points at: AWS
    /// counts such a route as that many routes.
    #[serde(default)]
    pub prefix_list_entries: BTreeMap<PrefixListId, u32>,
    /// Where the numbers come from: `service-quotas`, or the AWS defaults and why.
    pub source: String,
}

impl Quotas {
    /// The AWS defaults, when Service Quotas cannot be read.
    pub fn defaults(why: impl Into<String>) -> Self {
        Self {
            routes_per_table: 50,
            rules_per_group: 60,
            prefix_list_entries: BTreeMap::new(),
            source: format!("AWS defaults ({})", why.into()),
        }
    }
}

/// What is left of a peering in one account: every route table with a route through it, and
/// the security groups of the VPCs involved (where peerwire's marked rules would be).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leftovers {
    pub route_tables: Vec<RouteTable>,
    pub security_groups: Vec<SecurityGroup>,
}
