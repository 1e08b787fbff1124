//! Cleanup removes exactly what peerwire made for the gone peering, and reports the rest.

use std::collections::BTreeMap;

use super::*;
#[allow(unused_imports)]
use crate::model::Direction;
use crate::model::{Route, RouteTable, SecurityGroup};
#[allow(unused_imports)]
use crate::plan::{Action, Ec2Action, ZoneAction};
use crate::testing::{id, net};

const PCX: &str = "pcx-0123456789abcdef0";

fn pcx() -> PeeringId {
    id(PCX)
}

fn rule(cidr: &str, port: i32, description: Option<&str>) -> SgRule {
    SgRule {
        protocol: "tcp".into(),
        from_port: Some(port),
        to_port: Some(port),
        peer: RulePeer::Cidr { cidr: net(cidr) },
        description: description.map(str::to_owned),
    }
}

fn view() -> Leftovers {
    Leftovers {
        route_tables: vec![RouteTable {
            prefix_list_routes: Vec::new(),
            id: id("rtb-11111111"),
            main: false,
            subnet_ids: vec![],
            routes: vec![
                Route {
                    destination: net("10.1.0.0/16"),
                    target: RouteTarget::Local,
                    blackhole: false,
                    propagated: false,
                },
                Route {
                    destination: net("10.0.0.0/16"),
                    target: RouteTarget::Peering(pcx()),
                    blackhole: true,
                    propagated: false,
                },
                Route {
                    destination: net("10.9.0.0/16"),
                    target: RouteTarget::Peering(id("pcx-99999999")),
                    blackhole: false,
                    propagated: false,
                },
                Route {
                    destination: net("0.0.0.0/0"),
                    target: RouteTarget::NatGateway(id("nat-1")),
                    blackhole: false,
                    propagated: false,
                },
            ],
        }],
        security_groups: vec![SecurityGroup {
            id: id("sg-11111111"),
            name: "db".into(),
            tags: BTreeMap::new(),
            ingress: vec![
                rule("10.0.0.0/16", 5432, Some(&rule_marker(&pcx()))),
                rule("10.0.0.0/16", 6432, Some("added by alice")),
                rule("10.2.0.0/16", 5432, Some(&rule_marker(&id("pcx-99999999")))),
            ],
            egress: vec![rule("10.0.0.0/16", 5432, Some(&rule_marker(&pcx())))],
        }],
    }
}

/// The steps for `peering` on the accepter side, with what `views` prove of its ends.
fn cleanup(peering: &PeeringId, view: &Leftovers, others: &[&Leftovers]) -> Plan {
    let mut all = vec![view];
    all.extend_from_slice(others);
    plan_cleanup(peering, Side::Accepter, view, &peering_ends(peering, &all))
}

fn steps(peering: &PeeringId, view: &Leftovers) -> Vec<PlanStep> {
    cleanup(peering, view, &[]).steps
}

fn table(id_: &str, local: &str, routes: &[(&str, &str)]) -> RouteTable {
    let mut all = vec![Route {
        destination: net(local),
        target: RouteTarget::Local,
        blackhole: false,
        propagated: false,
    }];
    all.extend(routes.iter().map(|(destination, pcx)| Route {
        destination: net(destination),
        target: RouteTarget::Peering(id(pcx)),
        blackhole: true,
        propagated: false,
    }));
    RouteTable {
        prefix_list_routes: Vec::new(),
        id: id(id_),
        main: false,
        subnet_ids: vec![],
        routes: all,
    }
}

#[test]
fn removes_exactly_the_routes_to_the_peering_and_peerwires_rules() {
    let steps = steps(&pcx(), &view());
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert!(
        matches!(&steps[0], PlanStep { action: Action::Ec2(Ec2Action::DeleteRoute { destination, .. }), .. } if *destination == net("10.0.0.0/16"))
    );
    assert!(
        matches!(&steps[1], PlanStep { action: Action::Ec2(Ec2Action::Revoke { direction: Direction::Ingress, permissions, .. }), .. }
            if permissions.len() == 1 && permissions[0].port == 5432)
    );
    assert!(
        matches!(&steps[2], PlanStep { action: Action::Ec2(Ec2Action::Revoke { direction: Direction::Egress, permissions, .. }), .. } if permissions.len() == 1)
    );
}

#[test]
fn with_a_live_peering_of_the_same_vpcs_the_rules_stay_and_the_routes_go() {
    let live = id("pcx-0bbbbbbbbbbbbbbb0");
    let mut plan = cleanup(&pcx(), &view(), &[]);
    keep_rules_for(&mut plan, &live);
    assert_eq!(plan.steps.len(), 1, "{plan:?}");
    assert_eq!(plan.steps[0].operation(), "DeleteRoute");
    let kept: Vec<(Direction, &PeeringId)> = plan
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::RulesKept {
                direction,
                live_peering_id,
                ..
            } => Some((*direction, live_peering_id)),
            _ => None,
        })
        .collect();
    assert_eq!(
        kept,
        [(Direction::Ingress, &live), (Direction::Egress, &live)]
    );
    assert!(plan.findings.iter().all(|f| !f.is_blocking()));
}

#[test]
fn a_rule_a_person_added_for_the_same_cidr_stays() {
    let steps = steps(&pcx(), &view());
    for step in &steps {
        if let PlanStep {
            action:
                Action::Ec2(Ec2Action::Revoke {
                    direction: Direction::Ingress,
                    permissions,
                    ..
                }),
            ..
        }
        | PlanStep {
            action:
                Action::Ec2(Ec2Action::Revoke {
                    direction: Direction::Egress,
                    permissions,
                    ..
                }),
            ..
        } = step
        {
            assert!(permissions
                .iter()
                .all(|p| p.description == rule_marker(&pcx())));
            assert!(permissions.iter().all(|p| p.port == 5432));
        }
    }
}

#[test]
fn another_peerings_routes_and_rules_stay() {
    let steps = steps(&id("pcx-0000000000000000a"), &view());
    assert!(steps.is_empty(), "{steps:?}");
}

#[test]
fn nothing_left_means_no_step() {
    assert!(steps(&pcx(), &Leftovers::default()).is_empty());
}

#[test]
fn a_persons_narrower_route_through_the_gone_peering_is_reported_not_removed() {
    let mut view = view();
    view.route_tables.push(table(
        "rtb-33333333",
        "10.1.0.0/16",
        &[("10.0.7.0/24", PCX)],
    ));
    let plan = cleanup(&pcx(), &view, &[]);
    let deleted: Vec<_> = plan
        .steps
        .iter()
        .filter_map(|s| match s {
            PlanStep {
                action: Action::Ec2(Ec2Action::DeleteRoute { destination, .. }),
                ..
            } => Some(*destination),
            _ => None,
        })
        .collect();
    assert_eq!(deleted, [net("10.0.0.0/16")]);
    assert!(matches!(
        &plan.findings[..],
        [Finding::UnprovenRoute { destination, .. }] if *destination == net("10.0.7.0/24")
    ));
}

#[test]
fn with_nothing_that_proves_the_peers_cidrs_a_route_is_reported_not_removed() {
    let view = Leftovers {
        route_tables: vec![table(
            "rtb-11111111",
            "10.1.0.0/16",
            &[("10.0.0.0/16", PCX)],
        )],
        security_groups: Vec::new(),
    };
    let plan = cleanup(&pcx(), &view, &[]);
    assert!(plan.steps.is_empty(), "{:?}", plan.steps);
    assert_eq!(plan.findings.len(), 1);
}

#[test]
fn the_other_ends_local_route_proves_the_peers_cidr() {
    let accepter = Leftovers {
        route_tables: vec![table(
            "rtb-11111111",
            "10.1.0.0/16",
            &[("10.0.0.0/16", PCX)],
        )],
        security_groups: Vec::new(),
    };
    let requester = Leftovers {
        route_tables: vec![table(
            "rtb-22222222",
            "10.0.0.0/16",
            &[("10.1.0.0/16", PCX)],
        )],
        security_groups: Vec::new(),
    };
    let plan = cleanup(&pcx(), &accepter, &[&requester]);
    assert_eq!(plan.steps.len(), 1, "{plan:?}");
    assert!(plan.findings.is_empty());
    // Its own VPC's CIDR is never taken for the peer's.
    let own = cleanup(&pcx(), &requester, &[&accepter]);
    assert!(matches!(
        &own.steps[..],
        [PlanStep { action: Action::Ec2(Ec2Action::DeleteRoute { destination, .. }), .. }] if *destination == net("10.1.0.0/16")
    ));
}

#[test]
fn a_persons_reference_to_the_peer_group_is_reported_stale_and_peerwires_is_not() {
    let mut view = view();
    let group_rule = |description: Option<&str>| SgRule {
        protocol: "tcp".into(),
        from_port: Some(5432),
        to_port: Some(5432),
        peer: RulePeer::Group {
            account: Some(id("111111111111")),
            group_id: id("sg-22222222"),
        },
        description: description.map(str::to_owned),
    };
    view.security_groups[0]
        .ingress
        .push(group_rule(Some("bob's app")));
    view.security_groups[0]
        .egress
        .push(group_rule(Some(&rule_marker(&pcx()))));
    let stale = stale_references(&pcx(), Side::Accepter, &id("111111111111"), &view);
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert!(matches!(
        &stale[0],
        Finding::StaleGroupReference {
            direction: Direction::Ingress,
            ..
        }
    ));
    assert!(stale_references(&pcx(), Side::Accepter, &id("999999999999"), &view).is_empty());
}
