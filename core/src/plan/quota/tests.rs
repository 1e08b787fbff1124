//! Routes and rules that would not fit the account's quotas are not attempted.

use super::*;
#[allow(unused_imports)]
use crate::model::Direction;
use crate::model::{PrefixListId, Route};
#[allow(unused_imports)]
use crate::plan::{Action, Ec2Action, ZoneAction};
use crate::testing::{cidr_peer, group, id, local, net, side_state, table, tcp, to_peering};

const PCX: &str = "pcx-0aaa1111bbbb2222c";

fn quotas(routes: u32, rules: u32) -> Quotas {
    Quotas {
        routes_per_table: routes,
        rules_per_group: rules,
        prefix_list_entries: Default::default(),
        source: "test".to_owned(),
    }
}

fn create_route(table_id: &str, destination: &str) -> PlanStep {
    PlanStep {
        side: Side::Accepter,
        action: Action::Ec2(Ec2Action::CreateRoute {
            route_table_id: id(table_id),
            destination: net(destination),
            peering_id: id(PCX),
        }),
    }
}

fn full_table(routes: usize) -> RouteTable {
    let mut routes: Vec<Route> = (0..routes)
        .map(|i| to_peering(&format!("10.{}.0.0/16", 100 + i), "pcx-11111111"))
        .collect();
    routes.push(local("10.1.0.0/16"));
    table("rtb-11111111", true, &[], routes)
}

#[test]
fn a_route_that_would_not_fit_its_table_is_reported_with_the_numbers_not_attempted() {
    let mut side = side_state(
        "222222222222",
        "vpc-22222222",
        &["10.1.0.0/16"],
        vec![full_table(2)],
        vec![],
    );
    side.quotas = Some(quotas(3, 60));
    let steps = vec![
        create_route("rtb-11111111", "10.0.0.0/16"),
        create_route("rtb-11111111", "10.2.0.0/16"),
        PlanStep {
            side: Side::Accepter,
            action: Action::Ec2(Ec2Action::SetDnsResolution {
                peering_id: id(PCX),
            }),
        },
    ];
    let (kept, findings) = within_quotas(
        [(Side::Requester, None), (Side::Accepter, Some(&side))],
        steps,
    );
    // The local route does not count; 2 used + 2 needed > 3: neither route is attempted.
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(matches!(
        kept[0],
        PlanStep {
            action: Action::Ec2(Ec2Action::SetDnsResolution { .. }),
            ..
        }
    ));
    let [Finding::QuotaExceeded {
        used,
        needed,
        limit,
        ..
    }] = findings.as_slice()
    else {
        panic!("{findings:?}")
    };
    assert_eq!((*used, *needed, *limit), (2, 2, 3));
    assert!(findings[0]
        .to_string()
        .contains("2 IPv4 of 3 used, 2 more needed"));
}

#[test]
fn a_prefix_list_route_counts_at_its_maximum_entries() {
    let mut with_list = full_table(0);
    let list: PrefixListId = id("pl-11111111");
    with_list.prefix_list_routes.push(list.clone());
    let mut q = quotas(50, 60);
    q.prefix_list_entries.insert(list, 49);
    assert_eq!(routes_used(&with_list, &q, Family::Ipv4), 49);
    let mut side = side_state(
        "222222222222",
        "vpc-22222222",
        &["10.1.0.0/16"],
        vec![with_list],
        vec![],
    );
    side.quotas = Some(q);
    let two = vec![
        create_route("rtb-11111111", "10.0.0.0/16"),
        create_route("rtb-11111111", "10.2.0.0/16"),
    ];
    let (kept, findings) = within_quotas(
        [(Side::Accepter, Some(&side)), (Side::Requester, None)],
        two,
    );
    assert!(
        kept.is_empty() && findings.len() == 1,
        "{kept:?} {findings:?}"
    );
}

#[test]
fn rules_count_per_family_and_a_group_reference_counts_in_both() {
    let mut db = group("sg-11111111", vec![], vec![]);
    db.ingress = (0..59)
        .map(|i| tcp(5432, 5432, cidr_peer(&format!("10.{i}.0.0/16"))))
        .collect();
    let mut side = side_state(
        "222222222222",
        "vpc-22222222",
        &["10.1.0.0/16"],
        vec![],
        vec![],
    );
    side.security_groups = vec![db];
    side.quotas = Some(quotas(50, 60));
    let permission = |peer: RulePeer| Permission {
        port: 5432,
        peer,
        description: "peerwire:x".to_owned(),
    };
    let ingress = |permissions: Vec<Permission>| PlanStep {
        side: Side::Accepter,
        action: Action::Ec2(Ec2Action::Authorize {
            direction: Direction::Ingress,
            group_id: id("sg-11111111"),
            permissions,
        }),
    };
    let sides = [(Side::Accepter, Some(&side)), (Side::Requester, None)];
    // One IPv4 rule fits (59 + 1 = 60), an IPv6 one too (0 + 1).
    let (kept, findings) = within_quotas(
        sides,
        vec![ingress(vec![permission(cidr_peer("10.200.0.0/16"))])],
    );
    assert_eq!((kept.len(), findings.len()), (1, 0));
    let v6 = permission(RulePeer::Cidr {
        cidr: net("2600:1f18::/56"),
    });
    let (kept, _) = within_quotas(sides, vec![ingress(vec![v6])]);
    assert_eq!(kept.len(), 1);
    // Two IPv4 rules do not: the step is not attempted.
    let two = vec![
        permission(cidr_peer("10.200.0.0/16")),
        permission(cidr_peer("10.201.0.0/16")),
    ];
    let (kept, findings) = within_quotas(sides, vec![ingress(two)]);
    assert!(kept.is_empty());
    assert_eq!(findings.len(), 1);
    assert!(findings[0].is_blocking());
    // A group reference counts as IPv4 too.
    let reference = permission(RulePeer::Group {
        account: Some(id("111111111111")),
        group_id: id("sg-22222222"),
    });
    let (kept, _) = within_quotas(sides, vec![ingress(vec![reference.clone(), reference])]);
    assert!(kept.is_empty());
}

#[test]
fn a_prefix_list_rule_counts_at_its_maximum_entries() {
    // VPC User Guide, "Security group rules": "A rule that references a customer-managed
    // prefix list counts as the maximum size of the prefix list".
    let list: PrefixListId = id("pl-22222222");
    let mut db = group("sg-11111111", vec![], vec![]);
    db.ingress = vec![tcp(
        443,
        443,
        RulePeer::PrefixList {
            prefix_list_id: list.clone(),
        },
    )];
    let mut q = quotas(50, 60);
    assert_eq!(
        rules_used(&db.ingress, &q, Family::Ipv4),
        1,
        "size unknown: 1"
    );
    q.prefix_list_entries.insert(list, 60);
    assert_eq!(rules_used(&db.ingress, &q, Family::Ipv4), 60);
    let mut side = side_state(
        "222222222222",
        "vpc-22222222",
        &["10.1.0.0/16"],
        vec![],
        vec![],
    );
    side.security_groups = vec![db];
    side.quotas = Some(q);
    let step = PlanStep::ec2(
        Side::Accepter,
        Ec2Action::Authorize {
            direction: Direction::Ingress,
            group_id: id("sg-11111111"),
            permissions: vec![Permission {
                port: 5432,
                peer: cidr_peer("10.0.0.0/16"),
                description: "peerwire:x".to_owned(),
            }],
        },
    );
    let (kept, findings) = within_quotas(
        [(Side::Accepter, Some(&side)), (Side::Requester, None)],
        vec![step],
    );
    assert!(kept.is_empty(), "{kept:?}");
    assert!(
        matches!(
            &findings[..],
            [Finding::QuotaExceeded {
                used: 60,
                needed: 1,
                ..
            }]
        ),
        "{findings:?}"
    );
}
