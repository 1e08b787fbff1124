//! The wiring plan, row by row of the troubleshooting table: which route, which rule, which
//! DNS option, on which side, and what is never touched.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
#[allow(unused_imports)]
use crate::model::Direction;
use crate::model::{DbInstance, Peering, PeeringSide, Route, Sides};
#[allow(unused_imports)]
use crate::plan::{Action, Ec2Action, Reason, ZoneAction};
use crate::testing::{
    all_traffic, blackhole, cidr_peer, group, id, local, net, nets, route, side_state, subnet,
    table, tcp, to_peering,
};

const PCX: &str = "pcx-0aaa1111bbbb2222c";
const REQUESTER: &str = "111111111111";
const ACCEPTER: &str = "222222222222";
const REQUESTER_VPC: &str = "vpc-e0000003";
const ACCEPTER_VPC: &str = "vpc-e0000002";
/// The requester (ECS tasks) VPC.
const REQ_CIDR: &str = "10.0.0.0/16";
/// The accepter (RDS) VPC.
const ACC_CIDR: &str = "10.1.0.0/16";

fn to_pcx(destination: &str) -> Route {
    to_peering(destination, PCX)
}

fn peering_side(account: &str, vpc_id: &str, cidrs: &[&str]) -> PeeringSide {
    PeeringSide {
        account: id(account),
        vpc_id: id(vpc_id),
        region: id("us-east-1"),
        cidrs: nets(cidrs),
        allow_dns_resolution_from_remote_vpc: true,
    }
}

/// Requester 10.0.0.0/16 (one subnet on its main table), accepter 10.1.0.0/16 (one subnet
/// on its main table), same region, both managed, DNS attributes and options on, no route
/// to the peer yet, no security group.
fn state() -> WiringState {
    WiringState {
        peering: Peering {
            id: id(PCX),
            status: PeeringStatus::Active,
            status_message: None,
            sides: Sides::new(
                peering_side(REQUESTER, REQUESTER_VPC, &[REQ_CIDR]),
                peering_side(ACCEPTER, ACCEPTER_VPC, &[ACC_CIDR]),
            ),
            tags: Sides::default(),
            expires_at: None,
        },
        sides: Sides::new(
            Some(side_state(
                REQUESTER,
                REQUESTER_VPC,
                &[REQ_CIDR],
                vec![table("rtb-e000000b", true, &[], vec![local(REQ_CIDR)])],
                vec![subnet("subnet-e0000009", "us-east-1a", &[])],
            )),
            Some(side_state(
                ACCEPTER,
                ACCEPTER_VPC,
                &[ACC_CIDR],
                vec![table("rtb-e0000003", true, &[], vec![local(ACC_CIDR)])],
                vec![subnet("subnet-e0000001", "us-east-1a", &[])],
            )),
        ),
    }
}

fn requester(state: &mut WiringState) -> &mut SideState {
    state
        .sides
        .requester
        .as_mut()
        .unwrap_or_else(|| panic!("requester managed"))
}

fn accepter(state: &mut WiringState) -> &mut SideState {
    state
        .sides
        .accepter
        .as_mut()
        .unwrap_or_else(|| panic!("accepter managed"))
}

fn set_cidrs(state: &mut WiringState, side: Side, cidrs: &[&str]) {
    match side {
        Side::Requester => {
            state.peering.sides.requester.cidrs = nets(cidrs);
            requester(state).network.cidrs = nets(cidrs);
        }
        Side::Accepter => {
            state.peering.sides.accepter.cidrs = nets(cidrs);
            accepter(state).network.cidrs = nets(cidrs);
        }
    }
}

fn wiring(ports: &[u16]) -> Wiring {
    Wiring {
        ports: ports.to_vec(),
        ..Wiring::default()
    }
}

/// `(side, table, destination, replace?)` of every route step, in plan order.
fn routes(plan: &Plan) -> Vec<(Side, String, String, bool)> {
    plan.steps
        .iter()
        .filter_map(|step| match step.ec2_action()? {
            Ec2Action::CreateRoute {
                route_table_id,
                destination,
                peering_id,
            } => {
                assert_eq!(peering_id, PCX);
                Some((
                    step.side,
                    route_table_id.to_string(),
                    destination.to_string(),
                    false,
                ))
            }
            Ec2Action::ReplaceBlackholeRoute {
                route_table_id,
                destination,
                peering_id,
            } => {
                assert_eq!(peering_id, PCX);
                Some((
                    step.side,
                    route_table_id.to_string(),
                    destination.to_string(),
                    true,
                ))
            }
            _ => None,
        })
        .collect()
}

fn r(side: Side, table: &str, destination: &str) -> (Side, String, String, bool) {
    (side, table.to_owned(), destination.to_owned(), false)
}

/// `(group, [(port, peer)])` of every ingress (or egress) step, in plan order.
fn rules(plan: &Plan, egress: bool) -> Vec<(String, Vec<(u16, String)>)> {
    let wanted = if egress {
        Direction::Egress
    } else {
        Direction::Ingress
    };
    plan.steps
        .iter()
        .filter_map(|step| match step.ec2_action()? {
            Ec2Action::Authorize {
                direction,
                group_id,
                permissions,
            } if *direction == wanted => {
                let owner = match direction {
                    Direction::Ingress => Side::Accepter,
                    Direction::Egress => Side::Requester,
                };
                assert_eq!(step.side, owner);
                Some((group_id, permissions))
            }
            _ => None,
        })
        .map(|(group_id, permissions)| {
            for p in permissions {
                assert_eq!(p.description, format!("peerwire:{PCX}"));
            }
            (
                group_id.to_string(),
                permissions
                    .iter()
                    .map(|p| (p.port, p.peer.to_string()))
                    .collect(),
            )
        })
        .collect()
}

fn perms(list: &[(u16, &str)]) -> Vec<(u16, String)> {
    list.iter().map(|(p, s)| (*p, (*s).to_owned())).collect()
}

// ---------------------------------------------------------------- routes

#[test]
fn a_subnet_on_the_main_table_is_routed_through_the_main_table() {
    let plan = plan_wiring(&state(), &wiring(&[]));
    assert_eq!(
        routes(&plan),
        [
            r(Side::Requester, "rtb-e000000b", ACC_CIDR),
            r(Side::Accepter, "rtb-e0000003", REQ_CIDR),
        ]
    );
    assert!(plan.findings.is_empty(), "{:?}", plan.findings);

    // Narrowed to that one subnet: still the main table, since it has no table of its own.
    let mut w = wiring(&[]);
    w.accepter.subnet_ids = vec![id("subnet-e0000001")];
    let plan = plan_wiring(&state(), &w);
    assert!(routes(&plan).contains(&r(Side::Accepter, "rtb-e0000003", REQ_CIDR)));
}

#[test]
fn a_subnet_with_its_own_table_is_routed_in_that_table_only() {
    let mut s = state();
    let a = accepter(&mut s);
    a.subnets.push(subnet("subnet-e0000002", "us-east-1b", &[]));
    a.network.route_tables.push(table(
        "rtb-e0000004",
        false,
        &["subnet-e0000002"],
        vec![local(ACC_CIDR)],
    ));
    let mut w = wiring(&[]);
    w.accepter.subnet_ids = vec![id("subnet-e0000002")];

    let plan = plan_wiring(&s, &w);

    let accepter_routes: Vec<_> = routes(&plan)
        .into_iter()
        .filter(|(side, ..)| *side == Side::Accepter)
        .collect();
    assert_eq!(
        accepter_routes,
        [r(Side::Accepter, "rtb-e0000004", REQ_CIDR)]
    );
}

#[test]
fn subnets_selected_by_tags_need_every_tag_to_match() {
    let mut s = state();
    let a = accepter(&mut s);
    a.subnets = vec![
        subnet(
            "subnet-e0000005",
            "us-east-1a",
            &[("tier", "db"), ("env", "prod")],
        ),
        subnet(
            "subnet-e0000006",
            "us-east-1b",
            &[("tier", "db"), ("env", "dev")],
        ),
        subnet(
            "subnet-e000000a",
            "us-east-1a",
            &[("tier", "web"), ("env", "prod")],
        ),
    ];
    a.network.route_tables = vec![
        table("rtb-e0000003", true, &[], vec![local(ACC_CIDR)]),
        table("rtb-e0000008", false, &["subnet-e0000005"], vec![]),
        table("rtb-e0000009", false, &["subnet-e0000006"], vec![]),
        table("rtb-e000000c", false, &["subnet-e000000a"], vec![]),
    ];
    let mut w = wiring(&[]);
    w.accepter.subnet_tags = [("tier", "db"), ("env", "prod")]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();

    let plan = plan_wiring(&s, &w);

    let tables: Vec<_> = routes(&plan)
        .into_iter()
        .filter(|(side, ..)| *side == Side::Accepter)
        .map(|(_, t, ..)| t)
        .collect();
    assert_eq!(tables, ["rtb-e0000008"]);
}

#[test]
fn every_table_of_the_vpc_and_the_main_one_get_a_route_to_every_peer_cidr() {
    let mut s = state();
    set_cidrs(&mut s, Side::Requester, &[REQ_CIDR, "10.50.0.0/16"]);
    let a = accepter(&mut s);
    a.subnets = vec![
        subnet("subnet-e0000001", "us-east-1a", &[]),
        subnet("subnet-e0000002", "us-east-1b", &[]),
        subnet("subnet-e0000003", "us-east-1c", &[]),
    ];
    a.network.route_tables = vec![
        // Unsorted on purpose: the plan sorts by table id.
        table("rtb-e0000006", false, &["subnet-e0000003"], vec![]),
        table("rtb-e0000003", true, &[], vec![local(ACC_CIDR)]),
        table(
            "rtb-e0000005",
            false,
            &["subnet-e0000001", "subnet-e0000002"],
            vec![],
        ),
    ];

    let plan = plan_wiring(&s, &wiring(&[]));

    let accepter_routes: Vec<_> = routes(&plan)
        .into_iter()
        .filter(|(side, ..)| *side == Side::Accepter)
        .collect();
    assert_eq!(
        accepter_routes,
        [
            r(Side::Accepter, "rtb-e0000003", "10.0.0.0/16"),
            r(Side::Accepter, "rtb-e0000003", "10.50.0.0/16"),
            r(Side::Accepter, "rtb-e0000005", "10.0.0.0/16"),
            r(Side::Accepter, "rtb-e0000005", "10.50.0.0/16"),
            r(Side::Accepter, "rtb-e0000006", "10.0.0.0/16"),
            r(Side::Accepter, "rtb-e0000006", "10.50.0.0/16"),
        ],
        "the main table is routed although no subnet uses it: new subnets land there"
    );
}

#[test]
fn a_route_to_the_peer_through_a_transit_gateway_is_never_replaced() {
    let mut s = state();
    accepter(&mut s).network.route_tables[0]
        .routes
        .push(route(REQ_CIDR, RouteTarget::TransitGateway(id("tgw-1"))));

    let plan = plan_wiring(&s, &wiring(&[]));

    assert!(!routes(&plan)
        .iter()
        .any(|(side, ..)| *side == Side::Accepter));
    assert_eq!(
        plan.findings,
        [Finding::RouteConflict {
            side: Side::Accepter,
            route_table_id: id("rtb-e0000003"),
            destination: net(REQ_CIDR),
            target: RouteTarget::TransitGateway(id("tgw-1")),
            blackhole: false,
            propagated: false,
        }]
    );
    assert!(plan.findings[0].is_blocking());
    assert_eq!(
        Finding::to_string(&plan.findings[0]),
        "accepter rtb-e0000003: route to 10.0.0.0/16 points at tgw-1; not replaced"
    );
}

#[test]
fn a_broader_route_elsewhere_does_not_conflict_the_more_specific_peer_route_wins() {
    let mut s = state();
    accepter(&mut s).network.route_tables[0].routes.push(route(
        "10.0.0.0/8",
        RouteTarget::TransitGateway(id("tgw-1")),
    ));

    let plan = plan_wiring(&s, &wiring(&[]));

    assert!(routes(&plan).contains(&r(Side::Accepter, "rtb-e0000003", REQ_CIDR)));
    assert!(plan.findings.is_empty(), "{:?}", plan.findings);
}

#[test]
fn a_narrower_route_elsewhere_shadows_part_of_the_peer_cidr_and_is_reported() {
    let mut s = state();
    accepter(&mut s).network.route_tables[0].routes.push(route(
        "10.0.5.0/24",
        RouteTarget::TransitGateway(id("tgw-1")),
    ));

    let plan = plan_wiring(&s, &wiring(&[]));

    // The peering route is added for the rest of the range, and nothing is blocked.
    assert!(routes(&plan).contains(&r(Side::Accepter, "rtb-e0000003", REQ_CIDR)));
    assert!(!plan.is_blocked());
    assert_eq!(
        plan.findings,
        [Finding::RouteShadowed {
            side: Side::Accepter,
            route_table_id: id("rtb-e0000003"),
            destination: net("10.0.5.0/24"),
            target: RouteTarget::TransitGateway(id("tgw-1")),
            peer_cidr: net(REQ_CIDR),
        }]
    );
}

#[test]
fn a_propagated_route_to_the_peer_cidr_is_a_conflict_a_broader_one_is_not() {
    let mut s = state();
    let table = &mut accepter(&mut s).network.route_tables[0];
    table
        .routes
        .push(crate::testing::propagated("10.0.0.0/8", "vgw-1"));
    table
        .routes
        .push(crate::testing::propagated(REQ_CIDR, "vgw-1"));

    let plan = plan_wiring(&s, &wiring(&[]));

    assert!(!routes(&plan).contains(&r(Side::Accepter, "rtb-e0000003", REQ_CIDR)));
    assert_eq!(
        plan.findings,
        [Finding::RouteConflict {
            side: Side::Accepter,
            route_table_id: id("rtb-e0000003"),
            destination: net(REQ_CIDR),
            target: RouteTarget::Gateway(id("vgw-1")),
            blackhole: false,
            propagated: true,
        }]
    );
    assert!(plan.findings[0]
        .to_string()
        .contains("propagated: a static route would take priority"));
}

#[test]
fn a_blackhole_route_to_this_peering_is_replaced_one_to_another_peering_is_a_conflict() {
    let mut s = state();
    accepter(&mut s).network.route_tables[0]
        .routes
        .push(blackhole(REQ_CIDR, RouteTarget::Peering(id(PCX))));
    requester(&mut s).network.route_tables[0]
        .routes
        .push(blackhole(
            ACC_CIDR,
            RouteTarget::Peering(id("pcx-e0000002")),
        ));

    let plan = plan_wiring(&s, &wiring(&[]));

    assert_eq!(
        routes(&plan),
        [(
            Side::Accepter,
            id("rtb-e0000003"),
            REQ_CIDR.to_owned(),
            true
        )]
    );
    assert_eq!(
        plan.findings,
        [Finding::RouteConflict {
            side: Side::Requester,
            route_table_id: id("rtb-e000000b"),
            destination: net(ACC_CIDR),
            target: RouteTarget::Peering(id("pcx-e0000002")),
            blackhole: true,
            propagated: false,
        }]
    );
    assert_eq!(
        Finding::to_string(&plan.findings[0]),
        "requester rtb-e000000b: route to 10.1.0.0/16 points at pcx-e0000002 (blackhole); not replaced"
    );
}

#[test]
fn every_other_route_target_is_a_conflict() {
    for target in [
        RouteTarget::Local,
        RouteTarget::Gateway(id("vgw-1")),
        RouteTarget::NatGateway(id("nat-1")),
        RouteTarget::NetworkInterface(id("eni-1")),
        RouteTarget::Instance(id("i-1")),
        RouteTarget::Other(id("cagw-1")),
        RouteTarget::Peering(id("pcx-e0000003")),
    ] {
        let mut s = state();
        accepter(&mut s).network.route_tables[0]
            .routes
            .push(route(REQ_CIDR, target.clone()));
        let plan = plan_wiring(&s, &wiring(&[]));
        assert!(
            !routes(&plan)
                .iter()
                .any(|(side, ..)| *side == Side::Accepter),
            "{target:?}"
        );
        assert!(
            matches!(&plan.findings[..], [Finding::RouteConflict { target: t, .. }] if *t == target),
            "{target:?}: {:?}",
            plan.findings
        );
    }
}

/// An RDS DB subnet group over 3 AZs, each AZ's subnet on its own table; plus an app
/// subnet on a fourth table and the main table.
fn rds_across_three_azs() -> WiringState {
    let mut s = state();
    let a = accepter(&mut s);
    a.subnets = vec![
        subnet("subnet-e0000005", "us-east-1a", &[]),
        subnet("subnet-e0000006", "us-east-1b", &[]),
        subnet("subnet-e0000007", "us-east-1c", &[]),
        subnet("subnet-e0000004", "us-east-1a", &[]),
    ];
    a.network.route_tables = vec![
        table("rtb-e0000003", true, &[], vec![local(ACC_CIDR)]),
        table(
            "rtb-e0000008",
            false,
            &["subnet-e0000005"],
            vec![local(ACC_CIDR)],
        ),
        table(
            "rtb-e0000009",
            false,
            &["subnet-e0000006"],
            vec![local(ACC_CIDR)],
        ),
        table(
            "rtb-e000000a",
            false,
            &["subnet-e0000007"],
            vec![local(ACC_CIDR)],
        ),
        table(
            "rtb-e0000007",
            false,
            &["subnet-e0000004"],
            vec![local(ACC_CIDR)],
        ),
    ];
    a.db_instances = vec![DbInstance {
        id: id("orders"),
        port: Some(5432),
        availability_zone: Some("us-east-1b".to_owned()),
        subnet_ids: vec![
            id("subnet-e0000005"),
            id("subnet-e0000006"),
            id("subnet-e0000007"),
        ],
        security_group_ids: vec![id("sg-e0000003")],
    }];
    s
}

fn accepter_tables(plan: &Plan) -> Vec<String> {
    routes(plan)
        .into_iter()
        .filter(|(side, ..)| *side == Side::Accepter)
        .map(|(_, table, ..)| table)
        .collect()
}

/// With every subnet in scope, the tables in scope do not depend on the subnets having been
/// read: the wiring skips `DescribeSubnets` then, and routes exactly the same tables.
#[test]
fn with_every_subnet_in_scope_the_route_tables_alone_give_the_tables() {
    for mut s in [state(), rds_across_three_azs()] {
        let scope = SideWiring::default();
        for side in [Side::Accepter, Side::Requester] {
            let Some(local) = s.sides[side].as_mut() else {
                continue;
            };
            // A table no subnet uses is not in scope either way.
            let mut spare = local.network.route_tables[0].clone();
            spare.id = id("rtb-0f0f0f0f");
            spare.main = false;
            spare.subnet_ids.clear();
            local.network.route_tables.push(spare);
            // What every subnet's own table (or the main one) and the main table add up to.
            let mut by_subnet: BTreeSet<RouteTableId> = local
                .subnets
                .iter()
                .filter_map(|subnet| local.network.route_table_of(&subnet.id))
                .map(|t| t.id.clone())
                .collect();
            by_subnet.extend(
                local
                    .network
                    .route_tables
                    .iter()
                    .filter(|t| t.main)
                    .map(|t| t.id.clone()),
            );
            assert!(!local.subnets.is_empty());
            local.subnets.clear();
            assert_eq!(tables_in_scope(local, &scope), by_subnet, "{side}");
            assert!(!by_subnet.contains(&id("rtb-0f0f0f0f")));
        }
    }
}

#[test]
fn a_db_subnet_group_over_three_azs_routes_all_three_tables_and_only_those() {
    let mut w = wiring(&[]);
    w.accepter.db_instances = vec![id("orders")];

    let plan = plan_wiring(&rds_across_three_azs(), &w);

    // The primary is in 1b, but a Multi-AZ failover can land in any of the three.
    assert_eq!(
        accepter_tables(&plan),
        ["rtb-e0000008", "rtb-e0000009", "rtb-e000000a"]
    );
    assert!(plan.findings.is_empty(), "{:?}", plan.findings);

    // Without a selector every table is in scope.
    let plan = plan_wiring(&rds_across_three_azs(), &wiring(&[]));
    assert_eq!(
        accepter_tables(&plan),
        [
            "rtb-e0000003",
            "rtb-e0000007",
            "rtb-e0000008",
            "rtb-e0000009",
            "rtb-e000000a"
        ]
    );
}

#[test]
fn db_subnets_and_selected_subnets_add_up() {
    let mut w = wiring(&[]);
    w.accepter.db_instances = vec![id("orders")];
    w.accepter.subnet_ids = vec![id("subnet-e0000004")];

    let plan = plan_wiring(&rds_across_three_azs(), &w);

    assert_eq!(
        accepter_tables(&plan),
        [
            "rtb-e0000007",
            "rtb-e0000008",
            "rtb-e0000009",
            "rtb-e000000a"
        ]
    );
}

// ---------------------------------------------------------------- idempotence

/// Everything already in place: routes both ways, the DB group open to the requester on
/// 5432, the task group open to the accepter on 5432, DNS on.
fn wired() -> (WiringState, Wiring) {
    let mut s = rds_across_three_azs();
    let a = accepter(&mut s);
    for t in &mut a.network.route_tables {
        t.routes.push(to_pcx(REQ_CIDR));
    }
    a.security_groups = vec![group(
        "sg-e0000003",
        vec![SgRule {
            description: Some(rule_marker(&id(PCX))),
            ..tcp(5432, 5432, cidr_peer(REQ_CIDR))
        }],
        vec![all_traffic(cidr_peer("0.0.0.0/0"))],
    )];
    let r = requester(&mut s);
    r.network.route_tables[0].routes.push(to_pcx(ACC_CIDR));
    r.security_groups = vec![group(
        "sg-e0000008",
        vec![],
        vec![SgRule {
            description: Some(rule_marker(&id(PCX))),
            ..tcp(5432, 5432, cidr_peer(ACC_CIDR))
        }],
    )];
    let mut w = wiring(&[5432]);
    w.requester.security_group_ids = vec![id("sg-e0000008")];
    w.accepter.db_instances = vec![id("orders")];
    (s, w)
}

#[test]
fn an_already_wired_peering_plans_nothing() {
    let (s, w) = wired();
    assert_eq!(plan_wiring(&s, &w), Plan::default());

    // And the plan of a fresh peering, once applied to the state, converges.
    let (mut s, w) = wired();
    for t in &mut accepter(&mut s).network.route_tables {
        t.routes.retain(|r| r.target == RouteTarget::Local);
    }
    let plan = plan_wiring(&s, &w);
    assert_eq!(accepter_tables(&plan).len(), 3);
    for step in &plan.steps {
        if let Some(Ec2Action::CreateRoute {
            route_table_id,
            destination,
            ..
        }) = step.ec2_action()
        {
            let a = accepter(&mut s);
            for t in &mut a.network.route_tables {
                if &t.id == route_table_id {
                    t.routes.push(Route {
                        destination: *destination,
                        target: RouteTarget::Peering(id(PCX)),
                        blackhole: false,
                        propagated: false,
                    });
                }
            }
        }
    }
    assert_eq!(plan_wiring(&s, &w), Plan::default());
}

// ---------------------------------------------------------------- security groups

#[test]
fn one_ingress_step_per_group_carries_every_missing_permission() {
    let mut s = state();
    set_cidrs(&mut s, Side::Requester, &[REQ_CIDR, "10.50.0.0/16"]);
    accepter(&mut s).security_groups = vec![
        group("sg-e0000005", vec![], vec![]),
        group("sg-e0000004", vec![], vec![]),
    ];
    let mut w = wiring(&[6432, 5432]);
    w.accepter.security_group_ids = vec![id("sg-e0000004"), id("sg-e0000005")];

    let plan = plan_wiring(&s, &w);

    let expected = perms(&[
        (5432, "10.0.0.0/16"),
        (5432, "10.50.0.0/16"),
        (6432, "10.0.0.0/16"),
        (6432, "10.50.0.0/16"),
    ]);
    assert_eq!(
        rules(&plan, false),
        [
            (id("sg-e0000004"), expected.clone()),
            (id("sg-e0000005"), expected),
        ]
    );
    assert_eq!(
        plan.steps
            .iter()
            .find(|s| matches!(
                s.ec2_action(),
                Some(Ec2Action::Authorize {
                    direction: Direction::Ingress,
                    ..
                })
            ))
            .map(ToString::to_string)
            .unwrap_or_default(),
        "accepter sg-e0000004: ingress tcp/5432 from 10.0.0.0/16, tcp/5432 from 10.50.0.0/16, \
             tcp/6432 from 10.0.0.0/16, tcp/6432 from 10.50.0.0/16"
    );
}

#[test]
fn a_rule_someone_already_added_satisfies_the_need() {
    let cases = [
        (
            "same CIDR and port, added by a person",
            tcp(5432, 5432, cidr_peer(REQ_CIDR)),
            perms(&[(6432, REQ_CIDR)]),
        ),
        (
            "a broader CIDR and a port range",
            tcp(5000, 6000, cidr_peer("10.0.0.0/8")),
            perms(&[(6432, REQ_CIDR)]),
        ),
        (
            "all traffic from the whole 10/8",
            all_traffic(cidr_peer("10.0.0.0/8")),
            vec![],
        ),
        (
            "protocol number 6 for the whole port range",
            SgRule {
                protocol: "6".to_owned(),
                ..tcp(0, 65535, cidr_peer(REQ_CIDR))
            },
            vec![],
        ),
        (
            "TCP spelled in capitals",
            SgRule {
                protocol: "TCP".to_owned(),
                ..tcp(6432, 6432, cidr_peer(REQ_CIDR))
            },
            perms(&[(5432, REQ_CIDR)]),
        ),
        (
            "udp does not count",
            SgRule {
                protocol: "udp".to_owned(),
                ..tcp(0, 65535, cidr_peer(REQ_CIDR))
            },
            perms(&[(5432, REQ_CIDR), (6432, REQ_CIDR)]),
        ),
        (
            "a narrower CIDR does not count",
            tcp(5432, 6432, cidr_peer("10.0.1.0/24")),
            perms(&[(5432, REQ_CIDR), (6432, REQ_CIDR)]),
        ),
        (
            "another group does not count for a CIDR need",
            tcp(
                5432,
                6432,
                RulePeer::Group {
                    account: None,
                    group_id: id("sg-e0000007"),
                },
            ),
            perms(&[(5432, REQ_CIDR), (6432, REQ_CIDR)]),
        ),
    ];
    for (case, existing, missing) in cases {
        let mut s = state();
        accepter(&mut s).security_groups = vec![group("sg-e0000003", vec![existing], vec![])];
        let plan = plan_wiring(&s, &wiring(&[5432, 6432]));
        let expected = if missing.is_empty() {
            vec![]
        } else {
            vec![(id("sg-e0000003"), missing)]
        };
        assert_eq!(rules(&plan, false), expected, "{case}");
    }
}

/// One re-marking step: (group, direction, [(port, peer, new marker)]).
type Remarked = (String, Direction, Vec<(u16, String, String)>);

fn remarks(plan: &Plan) -> Vec<Remarked> {
    plan.steps
        .iter()
        .filter_map(|step| match step.ec2_action() {
            Some(Ec2Action::Remark {
                direction,
                group_id,
                permissions,
            }) => Some((
                group_id.to_string(),
                *direction,
                permissions
                    .iter()
                    .map(|p| (p.port, p.peer.to_string(), p.description.clone()))
                    .collect(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn a_rule_revived_from_a_gone_peering_of_the_same_vpcs_is_re_marked_not_added() {
    const OLD: &str = "pcx-0aaaaaaaaaaaaaaa0";
    let old_marker = Some(rule_marker(&id(OLD)));
    let mut s = state();
    accepter(&mut s).security_groups = vec![group(
        "sg-e0000003",
        vec![SgRule {
            description: old_marker.clone(),
            ..tcp(5432, 5432, cidr_peer(REQ_CIDR))
        }],
        vec![],
    )];
    let plan = plan_wiring(&s, &wiring(&[5432, 6432]));
    // 6432 is new: added; 5432 is the revived rule: re-marked for this peering.
    assert_eq!(
        rules(&plan, false),
        [(id("sg-e0000003"), perms(&[(6432, REQ_CIDR)]))]
    );
    assert_eq!(
        remarks(&plan),
        [(
            "sg-e0000003".to_owned(),
            Direction::Ingress,
            vec![(5432, REQ_CIDR.to_owned(), rule_marker(&id(PCX)))]
        )]
    );
    let remark = plan
        .steps
        .iter()
        .find(|step| matches!(step.ec2_action(), Some(Ec2Action::Remark { .. })))
        .unwrap();
    assert_eq!(
        remark.operation(),
        "UpdateSecurityGroupRuleDescriptionsIngress"
    );
    assert!(!remark.adds_to_quota());

    // Re-marked, it converges.
    accepter(&mut s).security_groups[0].ingress[0].description = Some(rule_marker(&id(PCX)));
    let plan = plan_wiring(&s, &wiring(&[5432]));
    assert_eq!(remarks(&plan), []);
    assert_eq!(rules(&plan, false), []);
}

#[test]
fn an_old_marker_is_left_alone_when_a_person_s_rule_covers_the_need_and_a_range_is_not_peerwire_s()
{
    const OLD: &str = "pcx-0aaaaaaaaaaaaaaa0";
    let old = |rule: SgRule| SgRule {
        description: Some(rule_marker(&id(OLD))),
        ..rule
    };
    // A person's rule covers 5432: nothing to do, whatever else is marked.
    let mut s = state();
    accepter(&mut s).security_groups = vec![group(
        "sg-e0000003",
        vec![
            old(tcp(5432, 5432, cidr_peer(REQ_CIDR))),
            tcp(5432, 5432, cidr_peer("10.0.0.0/8")),
        ],
        vec![],
    )];
    let plan = plan_wiring(&s, &wiring(&[5432]));
    assert_eq!((remarks(&plan), rules(&plan, false)), (vec![], vec![]));

    // A port range under another peering's marker is not the shape peerwire makes: this
    // peering gets its own rule, and the range goes with the old peering.
    accepter(&mut s).security_groups = vec![group(
        "sg-e0000003",
        vec![old(tcp(5000, 6000, cidr_peer(REQ_CIDR)))],
        vec![],
    )];
    let plan = plan_wiring(&s, &wiring(&[5432]));
    assert_eq!(remarks(&plan), []);
    assert_eq!(
        rules(&plan, false),
        [(id("sg-e0000003"), perms(&[(5432, REQ_CIDR)]))]
    );
}

#[test]
fn a_broader_existing_egress_rule_makes_the_egress_rule_unnecessary() {
    for (case, existing, needed) in [
        (
            "the default all traffic to 0.0.0.0/0",
            all_traffic(cidr_peer("0.0.0.0/0")),
            false,
        ),
        (
            "tcp 0-65535 to 10.0.0.0/8",
            tcp(0, 65535, cidr_peer("10.0.0.0/8")),
            false,
        ),
        (
            "tcp 443 to 0.0.0.0/0",
            tcp(443, 443, cidr_peer("0.0.0.0/0")),
            true,
        ),
        (
            "all traffic to ::/0 only",
            all_traffic(cidr_peer("::/0")),
            true,
        ),
    ] {
        let mut s = state();
        requester(&mut s).security_groups = vec![group("sg-e0000008", vec![], vec![existing])];
        let plan = plan_wiring(&s, &wiring(&[5432]));
        let expected = if needed {
            vec![(id("sg-e0000008"), perms(&[(5432, ACC_CIDR)]))]
        } else {
            vec![]
        };
        assert_eq!(rules(&plan, true), expected, "{case}");
    }
}

#[test]
fn same_region_ingress_references_the_requester_groups_across_regions_it_uses_cidrs() {
    let mut s = state();
    requester(&mut s).security_groups = vec![
        group(
            "sg-e000000a",
            vec![],
            vec![all_traffic(cidr_peer("0.0.0.0/0"))],
        ),
        group(
            "sg-e0000009",
            vec![],
            vec![all_traffic(cidr_peer("0.0.0.0/0"))],
        ),
    ];
    accepter(&mut s).security_groups = vec![group("sg-e0000003", vec![], vec![])];
    let mut w = wiring(&[5432]);
    w.ingress_source = IngressSource::SecurityGroup;

    let plan = plan_wiring(&s, &w);
    let steps: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| {
            matches!(
                s.ec2_action(),
                Some(Ec2Action::Authorize {
                    direction: Direction::Ingress,
                    ..
                })
            )
        })
        .collect();
    let group_peer = |group_id: &str| RulePeer::Group {
        account: Some(id(REQUESTER)),
        group_id: id(group_id),
    };
    assert_eq!(
        steps,
        [&PlanStep::ec2(
            Side::Accepter,
            Ec2Action::Authorize {
                direction: Direction::Ingress,
                group_id: id("sg-e0000003"),
                permissions: vec![
                    Permission {
                        port: 5432,
                        peer: group_peer("sg-e0000009"),
                        description: rule_marker(&id(PCX)),
                    },
                    Permission {
                        port: 5432,
                        peer: group_peer("sg-e000000a"),
                        description: rule_marker(&id(PCX)),
                    },
                ],
            }
        )]
    );
    assert_eq!(
        PlanStep::to_string(steps[0]),
        "accepter sg-e0000003: ingress tcp/5432 from 111111111111/sg-e0000009, \
             tcp/5432 from 111111111111/sg-e000000a"
    );

    // An existing reference to the same group (any account spelling) satisfies it.
    let mut s2 = s.clone();
    accepter(&mut s2).security_groups[0].ingress = vec![
        tcp(
            5432,
            5432,
            RulePeer::Group {
                account: None,
                group_id: id("sg-e0000009"),
            },
        ),
        tcp(5432, 5432, group_peer("sg-e000000a")),
    ];
    assert_eq!(rules(&plan_wiring(&s2, &w), false), []);

    // Across regions AWS refuses group references: the requester CIDRs instead.
    s.peering.sides.accepter.region = id("eu-west-1");
    assert_eq!(
        rules(&plan_wiring(&s, &w), false),
        [(id("sg-e0000003"), perms(&[(5432, REQ_CIDR)]))]
    );

    // Same region but no requester group observed (not managed): CIDRs too.
    let mut s3 = state();
    s3.sides.requester = None;
    accepter(&mut s3).security_groups = vec![group("sg-e0000003", vec![], vec![])];
    assert_eq!(
        rules(&plan_wiring(&s3, &w), false),
        [(id("sg-e0000003"), perms(&[(5432, REQ_CIDR)]))]
    );
}

#[test]
fn no_ports_no_security_group_rule() {
    let mut s = state();
    accepter(&mut s).security_groups = vec![group("sg-e0000003", vec![], vec![])];
    requester(&mut s).security_groups = vec![group("sg-e0000008", vec![], vec![])];
    let mut w = wiring(&[]);
    w.accepter.security_group_ids = vec![id("sg-e0000003")];
    let plan = plan_wiring(&s, &w);
    assert_eq!(rules(&plan, false), []);
    assert_eq!(rules(&plan, true), []);
    assert!(plan.findings.is_empty());
}

#[test]
fn ipv6_is_wired_only_when_both_vpcs_have_it() {
    let mut s = state();
    set_cidrs(
        &mut s,
        Side::Requester,
        &[REQ_CIDR, "2600:1f18:aaaa:100::/56"],
    );
    requester(&mut s).security_groups = vec![group("sg-e0000008", vec![], vec![])];
    accepter(&mut s).security_groups = vec![group("sg-e0000003", vec![], vec![])];
    let w = wiring(&[5432]);

    // Only the requester has IPv6: nothing IPv6 anywhere.
    let plan = plan_wiring(&s, &w);
    assert_eq!(
        routes(&plan),
        [
            r(Side::Requester, "rtb-e000000b", ACC_CIDR),
            r(Side::Accepter, "rtb-e0000003", REQ_CIDR),
        ]
    );
    assert_eq!(
        rules(&plan, false),
        [(id("sg-e0000003"), perms(&[(5432, REQ_CIDR)]))]
    );

    // Both: IPv6 routes and rules both ways.
    set_cidrs(
        &mut s,
        Side::Accepter,
        &[ACC_CIDR, "2600:1f18:bbbb:200::/56"],
    );
    let plan = plan_wiring(&s, &w);
    assert_eq!(
        routes(&plan),
        [
            r(Side::Requester, "rtb-e000000b", ACC_CIDR),
            r(Side::Requester, "rtb-e000000b", "2600:1f18:bbbb:200::/56"),
            r(Side::Accepter, "rtb-e0000003", REQ_CIDR),
            r(Side::Accepter, "rtb-e0000003", "2600:1f18:aaaa:100::/56"),
        ]
    );
    assert_eq!(
        rules(&plan, false),
        [(
            id("sg-e0000003"),
            perms(&[(5432, REQ_CIDR), (5432, "2600:1f18:aaaa:100::/56")])
        )]
    );
    assert_eq!(
        rules(&plan, true),
        [(
            id("sg-e0000008"),
            perms(&[(5432, ACC_CIDR), (5432, "2600:1f18:bbbb:200::/56")])
        )]
    );
}

#[test]
fn an_unmanaged_side_falls_back_to_the_peering_cidrs() {
    let mut s = state();
    s.sides.accepter = None;
    s.peering.sides.accepter.cidrs = nets(&["10.1.0.0/16", "10.2.0.0/16"]);

    let plan = plan_wiring(&s, &wiring(&[]));

    assert_eq!(
        routes(&plan),
        [
            r(Side::Requester, "rtb-e000000b", "10.1.0.0/16"),
            r(Side::Requester, "rtb-e000000b", "10.2.0.0/16"),
        ]
    );
}

// ---------------------------------------------------------------- never broader

fn arb_v4(prefixes: std::ops::RangeInclusive<u8>) -> impl Strategy<Value = IpNet> {
    (any::<u32>(), prefixes).prop_map(|(addr, prefix)| {
        IpNet::new(std::net::Ipv4Addr::from(addr).into(), prefix)
            .map(|n| n.trunc())
            .unwrap_or_else(|e| panic!("{e}"))
    })
}

fn arb_rule() -> impl Strategy<Value = SgRule> {
    (
        prop_oneof![Just("tcp"), Just("-1"), Just("udp"), Just("6")],
        0i32..70000,
        0i32..2000,
        arb_v4(0..=32),
    )
        .prop_map(|(protocol, from, width, cidr)| SgRule {
            protocol: protocol.to_owned(),
            from_port: Some(from),
            to_port: Some(from + width),
            peer: RulePeer::Cidr { cidr },
            description: None,
        })
}

fn arb_target() -> impl Strategy<Value = (RouteTarget, bool)> {
    (
        prop_oneof![
            Just(RouteTarget::Peering(id(PCX))),
            Just(RouteTarget::Peering(id("pcx-e0000003"))),
            Just(RouteTarget::TransitGateway(id("tgw-1"))),
            Just(RouteTarget::NatGateway(id("nat-1"))),
        ],
        any::<bool>(),
    )
}

proptest! {
    #[test]
    fn never_a_route_or_rule_broader_than_the_peer_cidrs_and_ports(
        req_cidrs in prop::collection::vec(arb_v4(16..=28), 1..4),
        acc_cidrs in prop::collection::vec(arb_v4(16..=28), 1..4),
        ports in prop::collection::vec(1u16..65535, 0..4),
        ingress in prop::collection::vec(arb_rule(), 0..4),
        egress in prop::collection::vec(arb_rule(), 0..4),
        existing in prop::collection::vec((0usize..4, arb_target()), 0..4),
        sg_source in any::<bool>(),
    ) {
        let mut s = state();
        s.peering.sides.requester.cidrs = req_cidrs.clone();
        s.peering.sides.accepter.cidrs = acc_cidrs.clone();
        requester(&mut s).network.cidrs = req_cidrs.clone();
        accepter(&mut s).network.cidrs = acc_cidrs.clone();
        requester(&mut s).security_groups = vec![group("sg-e0000008", vec![], egress)];
        accepter(&mut s).security_groups = vec![group("sg-e0000003", ingress, vec![])];
        for (i, (target, hole)) in existing {
            let destination = acc_cidrs[i % acc_cidrs.len()];
            requester(&mut s).network.route_tables[0].routes.push(Route {
                destination,
                target,
                blackhole: hole,
                propagated: false,
            });
        }
        let mut w = wiring(&ports);
        if sg_source {
            w.ingress_source = IngressSource::SecurityGroup;
        }

        let plan = plan_wiring(&s, &w);

        for step in &plan.steps {
            let side = step.side;
            let Some(action) = step.ec2_action() else {
                prop_assert!(false, "unexpected {step:?}");
                continue;
            };
            match action {
                Ec2Action::CreateRoute { destination, .. }
                | Ec2Action::ReplaceBlackholeRoute { destination, .. } => {
                    let peers = if side == Side::Requester { &acc_cidrs } else { &req_cidrs };
                    prop_assert!(peers.contains(destination), "{step:?}");
                }
                Ec2Action::Authorize { direction: Direction::Ingress, permissions, .. } => {
                    for p in permissions {
                        prop_assert!(ports.contains(&p.port), "{p:?}");
                        match &p.peer {
                            RulePeer::Cidr { cidr } => prop_assert!(req_cidrs.contains(cidr)),
                            RulePeer::Group { account, group_id } => {
                                prop_assert_eq!(account.as_ref().map(|a| a.as_str()), Some(REQUESTER));
                                prop_assert_eq!(group_id, "sg-e0000008");
                            }
                            RulePeer::PrefixList { .. } => prop_assert!(false, "{p:?}"),
                        }
                    }
                }
                Ec2Action::Authorize { direction: Direction::Egress, permissions, .. } => {
                    for p in permissions {
                        prop_assert!(ports.contains(&p.port), "{p:?}");
                        prop_assert!(
                            matches!(&p.peer, RulePeer::Cidr { cidr } if acc_cidrs.contains(cidr)),
                            "{p:?}"
                        );
                    }
                }
                Ec2Action::SetDnsResolution { .. } | Ec2Action::EnableVpcDnsAttribute { .. } => {}
                other => prop_assert!(false, "unexpected {other:?}"),
            }
        }
        // A route through another target is reported, never planned over.
        for finding in &plan.findings {
            if let Finding::RouteConflict { route_table_id, destination, .. } = finding {
                let planned_over = plan.steps.iter().any(|step| matches!(step.ec2_action(),
                    Some(Ec2Action::CreateRoute { route_table_id: t, destination: d, .. }
                    | Ec2Action::ReplaceBlackholeRoute { route_table_id: t, destination: d, .. })
                    if t == route_table_id && d == destination));
                prop_assert!(!planned_over, "{finding:?}");
            }
        }
        // Deterministic.
        prop_assert_eq!(plan_wiring(&s, &w), plan);
    }
}

// ---------------------------------------------------------------- DNS

#[test]
fn the_dns_option_is_set_on_each_managed_side_where_it_is_off() {
    let mut s = state();
    s.peering
        .sides
        .requester
        .allow_dns_resolution_from_remote_vpc = false;
    let plan = plan_wiring(&s, &wiring(&[]));
    let dns: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| matches!(s.ec2_action(), Some(Ec2Action::SetDnsResolution { .. })))
        .collect();
    assert_eq!(
        dns,
        [&PlanStep::ec2(
            Side::Requester,
            Ec2Action::SetDnsResolution {
                peering_id: id(PCX)
            }
        )]
    );
    assert_eq!(
        PlanStep::to_string(dns[0]),
        format!("requester: allow DNS resolution from the remote VPC on {PCX}")
    );

    s.peering
        .sides
        .accepter
        .allow_dns_resolution_from_remote_vpc = false;
    let plan = plan_wiring(&s, &wiring(&[]));
    let sides: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| matches!(s.ec2_action(), Some(Ec2Action::SetDnsResolution { .. })))
        .map(|s| s.side)
        .collect();
    assert_eq!(sides, [Side::Requester, Side::Accepter]);
}

#[test]
fn an_unmanaged_side_gets_no_step_and_no_finding_at_all() {
    let mut s = state();
    s.peering
        .sides
        .accepter
        .allow_dns_resolution_from_remote_vpc = false;
    s.peering
        .sides
        .requester
        .allow_dns_resolution_from_remote_vpc = false;
    accepter(&mut s).dns_hostnames = false;
    accepter(&mut s).security_groups = vec![group("sg-e0000003", vec![], vec![])];
    s.sides.accepter = None;
    let mut w = wiring(&[5432]);
    w.accepter.db_instances = vec![id("orders")];

    let plan = plan_wiring(&s, &w);
    assert!(
        plan.steps.iter().all(|s| s.side == Side::Requester),
        "{plan:?}"
    );
    assert!(plan.findings.is_empty(), "{:?}", plan.findings);

    // `manage: false` in the policy wins even if the side was observed.
    let mut s = state();
    s.peering
        .sides
        .accepter
        .allow_dns_resolution_from_remote_vpc = false;
    let mut w = wiring(&[]);
    w.accepter.manage = false;
    let plan = plan_wiring(&s, &w);
    assert!(
        plan.steps.iter().all(|s| s.side == Side::Requester),
        "{plan:?}"
    );
}

#[test]
fn dns_attributes_off_are_reported_or_turned_on_when_the_policy_allows() {
    let mut s = state();
    accepter(&mut s).dns_support = false;
    accepter(&mut s).dns_hostnames = false;
    requester(&mut s).dns_hostnames = false;
    let mut w = wiring(&[]);

    let plan = plan_wiring(&s, &w);
    assert!(!plan.steps.iter().any(|s| matches!(
        s.ec2_action(),
        Some(Ec2Action::EnableVpcDnsAttribute { .. })
    )));
    let off = |side, vpc: &str, attribute| Finding::DnsAttributeOff {
        side,
        vpc_id: id(vpc),
        attribute,
    };
    assert_eq!(
        plan.findings,
        [
            off(
                Side::Requester,
                REQUESTER_VPC,
                DnsAttribute::EnableDnsHostnames
            ),
            off(Side::Accepter, ACCEPTER_VPC, DnsAttribute::EnableDnsSupport),
            off(
                Side::Accepter,
                ACCEPTER_VPC,
                DnsAttribute::EnableDnsHostnames
            ),
        ]
    );
    assert!(plan.findings.iter().all(|f| !f.is_blocking()));
    assert_eq!(
            Finding::to_string(&plan.findings[0]),
            "requester vpc-e0000003: enableDnsHostnames is off; not changed (fix_vpc_dns_attributes is false)"
        );

    w.fix_vpc_dns_attributes = true;
    let plan = plan_wiring(&s, &w);
    assert!(plan.findings.is_empty());
    let on = |side, vpc: &str, attribute| PlanStep {
        side,
        action: Action::Ec2(Ec2Action::EnableVpcDnsAttribute {
            vpc_id: id(vpc),
            attribute,
        }),
    };
    let steps: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| {
            matches!(
                s.ec2_action(),
                Some(Ec2Action::EnableVpcDnsAttribute { .. })
            )
        })
        .cloned()
        .collect();
    assert_eq!(
        steps,
        [
            on(
                Side::Requester,
                REQUESTER_VPC,
                DnsAttribute::EnableDnsHostnames
            ),
            on(Side::Accepter, ACCEPTER_VPC, DnsAttribute::EnableDnsSupport),
            on(
                Side::Accepter,
                ACCEPTER_VPC,
                DnsAttribute::EnableDnsHostnames
            ),
        ]
    );
    assert_eq!(
        PlanStep::to_string(&steps[1]),
        "accepter vpc-e0000002: turn on enableDnsSupport"
    );
}

// ---------------------------------------------------------------- status, order, findings

#[test]
fn a_peering_that_is_not_active_is_not_wired() {
    for status in [
        PeeringStatus::InitiatingRequest,
        PeeringStatus::PendingAcceptance,
        PeeringStatus::Provisioning,
        PeeringStatus::Deleting,
        PeeringStatus::Deleted,
        PeeringStatus::Rejected,
        PeeringStatus::Failed,
        PeeringStatus::Expired,
        PeeringStatus::Other("whatever".to_owned()),
    ] {
        let mut s = state();
        s.peering.status = status.clone();
        s.peering
            .sides
            .requester
            .allow_dns_resolution_from_remote_vpc = false;
        accepter(&mut s).dns_support = false;
        assert_eq!(
            plan_wiring(&s, &wiring(&[5432])),
            Plan::default(),
            "{status}"
        );
    }
}

#[test]
fn steps_come_in_order_routes_ingress_egress_attributes_options() {
    let mut s = state();
    s.peering
        .sides
        .requester
        .allow_dns_resolution_from_remote_vpc = false;
    s.peering
        .sides
        .accepter
        .allow_dns_resolution_from_remote_vpc = false;
    requester(&mut s).dns_support = false;
    requester(&mut s).security_groups = vec![group("sg-e0000008", vec![], vec![])];
    accepter(&mut s).security_groups = vec![group("sg-e0000003", vec![], vec![])];
    let mut w = wiring(&[5432]);
    w.fix_vpc_dns_attributes = true;

    let plan = plan_wiring(&s, &w);

    let order: Vec<_> = plan.steps.iter().map(|s| (s.operation(), s.side)).collect();
    assert_eq!(
        order,
        [
            ("CreateRoute", Side::Requester),
            ("CreateRoute", Side::Accepter),
            ("AuthorizeSecurityGroupIngress", Side::Accepter),
            ("AuthorizeSecurityGroupEgress", Side::Requester),
            ("ModifyVpcAttribute", Side::Requester),
            ("ModifyVpcPeeringConnectionOptions", Side::Requester),
            ("ModifyVpcPeeringConnectionOptions", Side::Accepter),
        ]
    );
}

#[test]
fn selectors_that_match_nothing_are_reported() {
    let mut w = wiring(&[5432]);
    w.accepter.db_instances = vec![id("orders")];
    w.accepter.subnet_ids = vec![id("subnet-e0000008")];
    w.requester.security_group_tags = BTreeMap::from([("app".to_owned(), "tasks".to_owned())]);

    let plan = plan_wiring(&state(), &w);

    let found: Vec<_> = plan.findings.iter().map(ToString::to_string).collect();
    assert_eq!(
        found,
        [
            "requester: the policy selects security groups, but none matched",
            "accepter: the policy selects subnets, but none matched",
            "accepter: the policy selects DB instances, but none matched",
            "accepter: the policy selects security groups, but none matched",
        ]
    );
    assert!(plan.findings.iter().all(|f| !f.is_blocking()));
    // Nothing matched on the accepter: no accepter route at all.
    assert_eq!(accepter_tables(&plan), Vec::<String>::new());

    // Without ports, unselected groups are not worth a finding.
    let mut w = wiring(&[]);
    w.requester.security_group_ids = vec![id("sg-e0000006")];
    assert!(plan_wiring(&state(), &w).findings.is_empty());
}

#[test]
fn every_step_has_a_one_line_description() {
    let cases = [
        (
            PlanStep { side: Side::Accepter, action: Action::Ec2(Ec2Action::AcceptPeering { peering_id: id(PCX), rule: "ecs-to-rds".to_owned() }) },
            format!("accepter: accept {PCX} (rule `ecs-to-rds`)"),
        ),
        (
            PlanStep { side: Side::Accepter, action: Action::Ec2(Ec2Action::RejectPeering { peering_id: id(PCX), reasons: vec![Reason::Rule(crate::policy::Condition::NoRequesterCidr), Reason::ApprovalRequired { rule: "ecs-to-rds".to_owned() }] }) },
            format!("accepter: reject {PCX}: the peering reports no requester CIDR; rule ecs-to-rds requires approval"),
        ),
        (
            PlanStep { side: Side::Requester, action: Action::Ec2(Ec2Action::CreateRoute { route_table_id: id("rtb-e0000001"), destination: net(ACC_CIDR), peering_id: id("pcx-e0000001") }) },
            "requester rtb-e0000001: route 10.1.0.0/16 -> pcx-e0000001".to_owned(),
        ),
        (
            PlanStep { side: Side::Accepter, action: Action::Ec2(Ec2Action::ReplaceBlackholeRoute { route_table_id: id("rtb-e0000002"), destination: net(REQ_CIDR), peering_id: id("pcx-e0000001") }) },
            "accepter rtb-e0000002: replace blackhole route 10.0.0.0/16 -> pcx-e0000001".to_owned(),
        ),
        (
            PlanStep { side: Side::Accepter, action: Action::Ec2(Ec2Action::Authorize { direction: Direction::Ingress, group_id: id("sg-e0000001"), permissions: vec![Permission {
                    port: 5432,
                    peer: cidr_peer(REQ_CIDR),
                    description: rule_marker(&id(PCX)),
                }] }) },
            "accepter sg-e0000001: ingress tcp/5432 from 10.0.0.0/16".to_owned(),
        ),
        (
            PlanStep { side: Side::Requester, action: Action::Ec2(Ec2Action::Authorize { direction: Direction::Egress, group_id: id("sg-e0000002"), permissions: vec![Permission {
                    port: 5432,
                    peer: cidr_peer(ACC_CIDR),
                    description: rule_marker(&id(PCX)),
                }] }) },
            "requester sg-e0000002: egress tcp/5432 to 10.1.0.0/16".to_owned(),
        ),
        (
            PlanStep { side: Side::Accepter, action: Action::Ec2(Ec2Action::SetDnsResolution { peering_id: id("pcx-e0000001") }) },
            "accepter: allow DNS resolution from the remote VPC on pcx-e0000001".to_owned(),
        ),
        (
            PlanStep { side: Side::Requester, action: Action::Ec2(Ec2Action::EnableVpcDnsAttribute { vpc_id: id("vpc-e0000001"), attribute: DnsAttribute::EnableDnsHostnames }) },
            "requester vpc-e0000001: turn on enableDnsHostnames".to_owned(),
        ),
    ];
    for (step, expected) in cases {
        let line = PlanStep::to_string(&step);
        assert_eq!(line, expected);
        assert!(!line.contains('\n'));
    }
}
