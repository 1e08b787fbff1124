//! The one test kit: builders of model values and the policy fixtures, for the unit tests
//! here, the diagnose crate, the integration tests and the benchmarks (feature `testing`).
//!
//! Test-only code: a malformed fixture is a bug in the test, so these panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;

use ipnet::IpNet;

use crate::model::{cidr, Peering, PeeringSide, PeeringStatus, Sides, TagView};
use crate::policy::Policy;

/// The requester account of every fixture (ECS tasks).
pub const REQUESTER: &str = "111111111111";
/// The accepter account of every fixture (the RDS database).
pub const ACCEPTER: &str = "222222222222";
pub const REQUESTER_VPC: &str = "vpc-11111111";
pub const ACCEPTER_VPC: &str = "vpc-22222222";
pub const PEERING: &str = "pcx-0123456789abcdef0";
pub const REGION: &str = "us-east-1";

/// The account approval events come from in the samples (`events/approval-*.json`).
pub const APPROVERS: &str = "333333333333";

/// The rule both fixtures share; a macro so the fixtures stay `&'static str` constants.
macro_rules! payments_rule {
    () => {
        r#"
version: 1
unmatched: reject
approvers: ["333333333333"]
accepters:
  - account: "222222222222"
    regions: [us-east-1]
rules:
  - name: payments-ecs-to-rds
    requester_accounts: ["111111111111"]
    allowed_cidrs: ["10.0.0.0/8"]
    min_prefix_length: 16
    regions: [us-east-1]
    required_tags: { team: payments }
"#
    };
}

/// The policy of the README: account A's 10.0.0.0/8 VPCs tagged team=payments (on the
/// requester's own view of the request) may peer with account B in us-east-1; anything else is
/// rejected. Approvals may come from account 333333333333.
pub const DEFAULT_POLICY: &str = payments_rule!();

/// [`DEFAULT_POLICY`] plus wiring: PostgreSQL on 5432 from the ECS task groups (tag
/// role=ecs-tasks) to the groups tagged role=rds-db, every subnet of both VPCs routed.
pub const WIRING_POLICY: &str = concat!(
    payments_rule!(),
    r#"    wiring:
      ports: [5432]
      requester:
        security_group_tags: { role: ecs-tasks }
      accepter:
        security_group_tags: { role: rds-db }
"#
);

/// The smallest useful policy: one rule for 111111111111 into 10.0.0.0/8, no tags.
pub const ECS_TO_RDS: &str = r#"
version: 1
unmatched: reject
accepters:
  - account: "222222222222"
    regions: [us-east-1]
rules:
  - name: ecs-to-rds
    requester_accounts: ["111111111111"]
    allowed_cidrs: ["10.0.0.0/8"]
"#;

/// Any typed id (or region) from a literal.
pub fn id<T>(text: &str) -> T
where
    T: FromStr,
    T::Err: Display,
{
    text.parse()
        .unwrap_or_else(|e| panic!("fixture id `{text}`: {e}"))
}

/// A CIDR block from a literal.
pub fn net(text: &str) -> IpNet {
    cidr::parse_cidr(text).unwrap_or_else(|e| panic!("fixture CIDR `{text}`: {e}"))
}

pub fn nets(list: &[&str]) -> Vec<IpNet> {
    list.iter().map(|s| net(s)).collect()
}

/// A parsed policy; panics with the document on error.
pub fn policy(yaml: &str) -> Policy {
    Policy::parse(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

/// One side of a peering in us-east-1, DNS resolution option off.
pub fn peering_side(account: &str, vpc_id: &str, cidrs: &[&str]) -> PeeringSide {
    PeeringSide {
        account: id(account),
        vpc_id: id(vpc_id),
        region: id(REGION),
        cidrs: nets(cidrs),
        allow_dns_resolution_from_remote_vpc: false,
    }
}

/// A pending request from `account` ([`REQUESTER_VPC`], us-east-1) to [`ACCEPTER_VPC`] of
/// [`ACCEPTER`] in us-east-1.
pub fn peering(account: &str, cidrs: &[&str]) -> Peering {
    Peering {
        id: id(PEERING),
        status: PeeringStatus::PendingAcceptance,
        status_message: None,
        sides: Sides::new(
            peering_side(account, REQUESTER_VPC, cidrs),
            peering_side(ACCEPTER, ACCEPTER_VPC, &[]),
        ),
        tags: Sides::new(
            TagView::Read(BTreeMap::new()),
            TagView::Read(BTreeMap::new()),
        ),
        expires_at: None,
    }
}

/// A live route to `destination`.
pub fn route(destination: &str, target: crate::model::RouteTarget) -> crate::model::Route {
    crate::model::Route {
        destination: net(destination),
        target,
        blackhole: false,
        propagated: false,
    }
}

/// A route a virtual private gateway propagated (`Origin: EnableVgwRoutePropagation`).
pub fn propagated(destination: &str, vgw: &str) -> crate::model::Route {
    crate::model::Route {
        propagated: true,
        ..route(destination, crate::model::RouteTarget::Gateway(id(vgw)))
    }
}

/// A route whose target is gone.
pub fn blackhole(destination: &str, target: crate::model::RouteTarget) -> crate::model::Route {
    crate::model::Route {
        blackhole: true,
        ..route(destination, target)
    }
}

/// The VPC's own `local` route.
pub fn local(cidr: &str) -> crate::model::Route {
    route(cidr, crate::model::RouteTarget::Local)
}

/// A route through peering `pcx`.
pub fn to_peering(destination: &str, pcx: &str) -> crate::model::Route {
    route(destination, crate::model::RouteTarget::Peering(id(pcx)))
}

/// A route table with explicit subnet associations.
pub fn table(
    table_id: &str,
    main: bool,
    subnets: &[&str],
    routes: Vec<crate::model::Route>,
) -> crate::model::RouteTable {
    crate::model::RouteTable {
        id: id(table_id),
        main,
        subnet_ids: subnets.iter().map(|s| id(s)).collect(),
        routes,
        prefix_list_routes: Vec::new(),
    }
}

/// A subnet with tags.
pub fn subnet(subnet_id: &str, az: &str, tags: &[(&str, &str)]) -> crate::model::Subnet {
    crate::model::Subnet {
        id: id(subnet_id),
        availability_zone: az.to_owned(),
        cidr: None,
        tags: tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

/// A TCP rule for ports `from..=to`.
pub fn tcp(from: i32, to: i32, peer: crate::model::RulePeer) -> crate::model::SgRule {
    crate::model::SgRule {
        protocol: "tcp".to_owned(),
        from_port: Some(from),
        to_port: Some(to),
        peer,
        description: None,
    }
}

/// An all-traffic rule (`-1`).
pub fn all_traffic(peer: crate::model::RulePeer) -> crate::model::SgRule {
    crate::model::SgRule {
        protocol: "-1".to_owned(),
        from_port: None,
        to_port: None,
        peer,
        description: None,
    }
}

/// A CIDR peer of a rule.
pub fn cidr_peer(cidr: &str) -> crate::model::RulePeer {
    crate::model::RulePeer::Cidr { cidr: net(cidr) }
}

/// A security group named after its id.
pub fn group(
    group_id: &str,
    ingress: Vec<crate::model::SgRule>,
    egress: Vec<crate::model::SgRule>,
) -> crate::model::SecurityGroup {
    crate::model::SecurityGroup {
        id: id(group_id),
        name: group_id.to_owned(),
        tags: BTreeMap::new(),
        ingress,
        egress,
    }
}

/// A side with DNS attributes on, no group and no database.
pub fn side_state(
    account: &str,
    vpc_id: &str,
    cidrs: &[&str],
    route_tables: Vec<crate::model::RouteTable>,
    subnets: Vec<crate::model::Subnet>,
) -> crate::model::SideState {
    crate::model::SideState {
        network: crate::model::VpcNetwork {
            account: id(account),
            vpc_id: id(vpc_id),
            cidrs: nets(cidrs),
            route_tables,
        },
        subnets,
        security_groups: Vec::new(),
        dns_support: true,
        dns_hostnames: true,
        db_instances: Vec::new(),
        quotas: None,
        hosted_zones: Vec::new(),
    }
}

/// The requester's own tags of `peering` (its view), to set what a rule requires.
pub fn requester_tags(peering: &mut Peering) -> &mut BTreeMap<String, String> {
    if peering.tags.requester.read().is_none() {
        peering.tags.requester = TagView::Read(BTreeMap::new());
    }
    match &mut peering.tags.requester {
        TagView::Read(tags) => tags,
        TagView::NotRead | TagView::Unreadable(_) => unreachable!("set to Read above"),
    }
}
