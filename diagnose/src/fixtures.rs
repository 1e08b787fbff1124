//! The diagnose tests' world, built with `peerwire::testing`: ECS tasks (tag role=ecs-tasks)
//! in the requester VPC to PostgreSQL on `payments-db` in the accepter VPC, as in the field
//! guides. Test-only: a malformed fixture is a bug in the test, so these panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use peerwire::model::nacl::{
    NaclAction, NaclEntry, NaclProtocol, NetworkAcl, PortRange, CATCH_ALL_RULE,
};
use peerwire::model::{DbInstance, Peering, PeeringStatus, SideState, Sides, WiringState};
use peerwire::policy::{Membership, Policy};
use peerwire::testing::{
    self, all_traffic, cidr_peer, group, id, local, net, peering_side, side_state, subnet, table,
    tcp, to_peering, ACCEPTER, ACCEPTER_VPC, PEERING, REQUESTER, REQUESTER_VPC,
};

use crate::inspection::{Inspection, SideNacls, Traffic};
use crate::{diagnose, Diagnosis, Layer, LayerId};

pub(crate) const REQ_CIDR: &str = "10.0.0.0/16";
pub(crate) const ACC_CIDR: &str = "10.1.0.0/16";
/// The ECS tasks' group (requester) and the DB's group (accepter).
pub(crate) const TASK_GROUP: &str = "sg-1000000e";
pub(crate) const DB_GROUP: &str = "sg-2000000d";
/// Each VPC's default network ACL.
pub(crate) const REQ_ACL: &str = "acl-1000000f";
pub(crate) const ACC_ACL: &str = "acl-2000000f";

/// PostgreSQL on 5432 from the task groups to `payments-db`.
pub(crate) const POLICY: &str = r#"
version: 1
accepters:
  - account: "222222222222"
    regions: [us-east-1]
rules:
  - name: payments-ecs-to-rds
    requester_accounts: ["111111111111"]
    allowed_cidrs: ["10.0.0.0/8"]
    regions: [us-east-1]
    wiring:
      ports: [5432]
      requester:
        security_group_tags: { role: ecs-tasks }
      accepter:
        db_instances: [payments-db]
"#;

pub(crate) fn policy() -> Policy {
    testing::policy(POLICY)
}

/// Subnet `n` (`a`, `b`, `c`) of a side: `subnet-1000000a` on the requester (10.0.1.0/24),
/// `subnet-2000000a` on the accepter (10.1.1.0/24), ...
pub(crate) fn subnet_id(prefix: char, n: char) -> String {
    format!("subnet-{prefix}000000{n}")
}

/// Route table `n` of a side; `f` is the main table: `rtb-100000ff`.
pub(crate) fn table_id(prefix: char, n: char) -> String {
    if n == 'f' {
        format!("rtb-{prefix}00000ff")
    } else {
        format!("rtb-{prefix}000000{n}")
    }
}

/// Both sides' DNS options on.
pub(crate) fn peering(status: PeeringStatus) -> Peering {
    let mut requester = peering_side(REQUESTER, REQUESTER_VPC, &[REQ_CIDR]);
    requester.allow_dns_resolution_from_remote_vpc = true;
    let mut accepter = peering_side(ACCEPTER, ACCEPTER_VPC, &[ACC_CIDR]);
    accepter.allow_dns_resolution_from_remote_vpc = true;
    let mut peering = testing::peering(REQUESTER, &[REQ_CIDR]);
    peering.status = status;
    peering.sides = Sides::new(requester, accepter);
    peering
}

/// Three subnets in a, b, c; a and b on their own tables, c on the main one; every table
/// routes the peer through the peering. `prefix` is `1` (requester) or `2` (accepter).
fn side(account: &str, vpc: &str, cidr: &str, peer: &str, prefix: char) -> SideState {
    let s = |n: char| subnet_id(prefix, n);
    let t = |n: char| table_id(prefix, n);
    let routes = || vec![local(cidr), to_peering(peer, PEERING)];
    let tables = vec![
        table(&t('a'), false, &[&s('a')], routes()),
        table(&t('b'), false, &[&s('b')], routes()),
        table(&t('f'), true, &[], routes()),
    ];
    let octet = if prefix == '1' { 0 } else { 1 };
    let subnets = ['a', 'b', 'c']
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let mut subnet = subnet(&s(n), &format!("us-east-1{n}"), &[]);
            subnet.cidr = Some(net(&format!("10.{octet}.{}.0/24", i + 1)));
            subnet
        })
        .collect();
    side_state(account, vpc, &[cidr], tables, subnets)
}

/// A peering wired end to end: routes everywhere, the DB group admits 5432 from the tasks,
/// the task group allows all egress, DNS on, `payments-db` in subnets a, b, c.
pub(crate) fn wired() -> WiringState {
    let mut requester = side(REQUESTER, REQUESTER_VPC, REQ_CIDR, ACC_CIDR, '1');
    requester.security_groups = vec![group(
        TASK_GROUP,
        vec![],
        vec![all_traffic(cidr_peer("0.0.0.0/0"))],
    )];
    let mut accepter = side(ACCEPTER, ACCEPTER_VPC, ACC_CIDR, REQ_CIDR, '2');
    accepter.security_groups = vec![group(
        DB_GROUP,
        vec![tcp(5432, 5432, cidr_peer(REQ_CIDR))],
        vec![],
    )];
    accepter.db_instances = vec![DbInstance {
        id: id("payments-db"),
        port: Some(5432),
        availability_zone: Some("us-east-1a".to_owned()),
        subnet_ids: ['a', 'b', 'c']
            .iter()
            .map(|&n| id(&subnet_id('2', n)))
            .collect(),
        security_group_ids: vec![id(DB_GROUP)],
    }];
    WiringState {
        peering: peering(PeeringStatus::Active),
        sides: Sides::new(Some(requester), Some(accepter)),
    }
}

pub(crate) fn entry(
    rule: i32,
    egress: bool,
    protocol: NaclProtocol,
    ports: Option<(u16, u16)>,
    cidr: &str,
    action: NaclAction,
) -> NaclEntry {
    NaclEntry {
        rule_number: rule,
        egress,
        protocol,
        ports: ports.map(|(from, to)| PortRange::new(from, to)),
        cidr: net(cidr),
        action,
    }
}

/// A VPC's default ACL: rule 100 allows everything both ways, rule * denies.
pub(crate) fn default_acl(acl_id: &str) -> NetworkAcl {
    use NaclAction::{Allow, Deny};
    use NaclProtocol::All;
    NetworkAcl {
        id: id(acl_id),
        default: true,
        subnet_ids: Vec::new(),
        entries: vec![
            entry(100, false, All, None, "0.0.0.0/0", Allow),
            entry(CATCH_ALL_RULE, false, All, None, "0.0.0.0/0", Deny),
            entry(100, true, All, None, "0.0.0.0/0", Allow),
            entry(CATCH_ALL_RULE, true, All, None, "0.0.0.0/0", Deny),
        ],
    }
}

pub(crate) fn default_nacls() -> SideNacls {
    SideNacls::new(
        Some(vec![default_acl(REQ_ACL)]),
        Some(vec![default_acl(ACC_ACL)]),
    )
}

pub(crate) fn inspection(state: WiringState) -> Inspection {
    Inspection::new(
        state.peering.clone(),
        &policy(),
        &Membership::NotLooked,
        Some(state),
        None,
    )
}

pub(crate) fn run(state: WiringState) -> Diagnosis {
    run_with(state, default_nacls())
}

pub(crate) fn run_with(state: WiringState, nacls: SideNacls) -> Diagnosis {
    diagnose(&inspection(state), &nacls, &Traffic::default())
}

pub(crate) fn layer(d: &Diagnosis, id: LayerId) -> &Layer {
    d.layer(id).unwrap_or_else(|| panic!("layer {id} missing"))
}

pub(crate) fn accepter(state: &mut WiringState) -> &mut SideState {
    state.sides.accepter.as_mut().unwrap()
}

pub(crate) fn requester(state: &mut WiringState) -> &mut SideState {
    state.sides.requester.as_mut().unwrap()
}

pub(crate) fn assert_only_broken(d: &Diagnosis, expected: &[LayerId]) {
    assert_eq!(d.broken(), expected, "{:#?}", d.layers);
    assert!(!d.healthy);
}
