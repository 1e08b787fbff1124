//! The field guides' troubleshooting table, one row per test: break one thing the way people
//! do, and the diagnosis names that layer, and only that layer, with the resource at fault.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use peerwire::model::{RouteTarget, Side};
use peerwire::testing::{cidr_peer, id, route, tcp, ACCEPTER_VPC};

use crate::fixtures::*;
use crate::{LayerId, Status};

const TGW: &str = "tgw-0123456789abcdef0";

#[test]
fn connection_times_out_missing_route_names_the_table_and_its_subnets() {
    let mut s = wired();
    requester(&mut s).network.route_tables[1].routes.pop();

    let d = run(s);

    let routes = layer(&d, LayerId::Routes);
    assert_eq!(routes.status, Status::Broken);
    assert_eq!(routes.problems.len(), 1);
    let p = &routes.problems[0];
    assert_eq!(p.side, Some(Side::Requester));
    assert_eq!(p.resource, Some(table_id('1', 'b')));
    assert_eq!(p.subnets, [subnet_id('1', 'b')]);
    assert!(
        p.finding.contains("has no route to 10.1.0.0/16 through"),
        "{p:?}"
    );
    assert!(p.fix.contains("peerwire apply"));
    // A requester table: the DB subnets are fine.
    assert_only_broken(&d, &[LayerId::Routes]);
}

#[test]
fn intermittent_failures_one_db_subnet_unrouted_breaks_failover() {
    let mut s = wired();
    accepter(&mut s).network.route_tables[1].routes.pop();

    let d = run(s);

    assert_only_broken(&d, &[LayerId::Routes, LayerId::Rds]);
    let rds = layer(&d, LayerId::Rds);
    assert_eq!(rds.problems[0].subnets, [subnet_id('2', 'b')]);
    assert!(
        rds.finding.contains(&format!(
            "payments-db: DB subnet {} (us-east-1b)",
            subnet_id('2', 'b')
        )),
        "{rds:?}"
    );
    assert!(rds.finding.contains("failover to us-east-1b"), "{rds:?}");
}

#[test]
fn the_primary_s_own_subnet_unrouted_means_unreachable_now() {
    let mut s = wired();
    accepter(&mut s).network.route_tables[0].routes.pop();
    let d = run(s);
    assert!(layer(&d, LayerId::Rds)
        .finding
        .contains("the tasks cannot reach it now"));
}

#[test]
fn a_route_to_the_peer_through_a_transit_gateway_is_named_as_the_conflict() {
    let mut s = wired();
    accepter(&mut s).network.route_tables[2].routes[1] =
        route(REQ_CIDR, RouteTarget::TransitGateway(id(TGW)));

    let d = run(s);

    let routes = layer(&d, LayerId::Routes);
    assert_eq!(routes.status, Status::Broken);
    assert!(routes.finding.contains(&table_id('2', 'f')), "{routes:?}");
    assert!(
        routes
            .finding
            .contains(&format!("sends 10.0.0.0/16 to {TGW}")),
        "{routes:?}"
    );
    assert!(
        routes.finding.contains(&subnet_id('2', 'c')),
        "the main table serves subnet c"
    );
    // The DB subnet c uses the main table too.
    assert_eq!(layer(&d, LayerId::Rds).status, Status::Broken);
}

#[test]
fn a_narrower_route_elsewhere_takes_part_of_the_tasks_away() {
    // Longest prefix match: it wins for its part of the range; no overlap of the VPCs, a
    // warning on the routes.
    let mut s = wired();
    accepter(&mut s).network.route_tables[0]
        .routes
        .push(route("10.0.5.0/24", RouteTarget::TransitGateway(id(TGW))));
    let d = run(s);
    let overlap = layer(&d, LayerId::CidrOverlap);
    assert_ne!(overlap.status, Status::Broken, "{overlap:?}");
    let routes = layer(&d, LayerId::Routes);
    assert_eq!(routes.status, Status::Warning, "{routes:?}");
    assert!(routes.finding.contains("10.0.5.0/24"), "{routes:?}");
}

#[test]
fn a_corporate_supernet_to_a_transit_gateway_is_fine() {
    let mut s = wired();
    accepter(&mut s).network.route_tables[0]
        .routes
        .push(route("10.0.0.0/8", RouteTarget::TransitGateway(id(TGW))));
    let d = run(s);
    assert!(d.broken().is_empty(), "{:#?}", d.layers);
    assert_eq!(layer(&d, LayerId::Routes).status, Status::Ok);
}

#[test]
fn connection_refused_db_group_without_the_ingress_rule() {
    let mut s = wired();
    accepter(&mut s).security_groups[0].ingress.clear();

    let d = run(s);

    assert_only_broken(&d, &[LayerId::SecurityGroups]);
    let sg = layer(&d, LayerId::SecurityGroups);
    assert_eq!(sg.problems[0].resource.as_deref(), Some(DB_GROUP));
    assert_eq!(sg.problems[0].side, Some(Side::Accepter));
    assert!(
        sg.finding
            .contains("does not admit tcp/5432 from 10.0.0.0/16"),
        "{sg:?}"
    );
}

#[test]
fn a_locked_down_task_group_without_egress_to_the_db_port() {
    let mut s = wired();
    requester(&mut s).security_groups[0].egress = vec![tcp(443, 443, cidr_peer("0.0.0.0/0"))];

    let d = run(s);

    let sg = layer(&d, LayerId::SecurityGroups);
    assert_eq!(sg.status, Status::Broken);
    assert!(
        sg.finding.contains(&format!(
            "task group {TASK_GROUP} does not allow tcp/5432 to 10.1.0.0/16"
        )),
        "{sg:?}"
    );
}

#[test]
fn dns_resolves_to_a_public_ip_accepter_option_off() {
    let mut s = wired();
    s.peering
        .sides
        .accepter
        .allow_dns_resolution_from_remote_vpc = false;

    let d = run(s);

    assert_only_broken(&d, &[LayerId::Dns]);
    let dns = layer(&d, LayerId::Dns);
    assert_eq!(dns.problems[0].side, Some(Side::Accepter));
    assert!(dns.finding.contains("RDS endpoint"), "{dns:?}");
    assert!(dns
        .fix
        .as_deref()
        .unwrap_or("")
        .contains("--accepter-peering-connection-options"));
}

#[test]
fn a_vpc_with_dns_hostnames_off_is_broken_and_fixed_by_hand_unless_the_policy_allows() {
    let mut s = wired();
    accepter(&mut s).dns_hostnames = false;

    let d = run(s);

    let dns = layer(&d, LayerId::Dns);
    assert_eq!(dns.status, Status::Broken);
    assert!(
        dns.finding
            .contains(&format!("{ACCEPTER_VPC} has enableDnsHostnames off")),
        "{dns:?}"
    );
    assert!(dns
        .fix
        .as_deref()
        .unwrap_or("")
        .contains("fix_vpc_dns_attributes"));
}

#[test]
fn a_db_instance_the_policy_names_but_the_vpc_lacks_is_broken() {
    let mut s = wired();
    accepter(&mut s).db_instances.clear();
    let d = run(s);
    let rds = layer(&d, LayerId::Rds);
    assert_eq!(rds.status, Status::Broken);
    assert!(
        rds.finding.contains(&format!(
            "DB instance payments-db is not in accepter VPC {ACCEPTER_VPC}"
        )),
        "{rds:?}"
    );
}

#[test]
fn a_db_listening_on_another_port_than_the_policy_opens_is_a_warning() {
    let mut s = wired();
    accepter(&mut s).db_instances[0].port = Some(3306);
    let d = run(s);
    let rds = layer(&d, LayerId::Rds);
    assert_eq!(rds.status, Status::Warning);
    assert!(d.healthy, "a warning is not broken");
}

mod zones {
    use peerwire::model::{DnsRecord, HostedZone, ZoneVpc};
    use peerwire::policy::Membership;
    use peerwire::testing::REQUESTER_VPC;

    use super::*;
    use crate::inspection::{Inspection, Traffic, ZoneRecords};

    const ZONE: &str = "Z0123456789ABCDEFGHIJ";

    /// The wired fixture, whose policy names the accepter's zone `orders.db.internal`,
    /// associated with the VPCs `vpcs`, with `records`.
    fn diagnosis(vpcs: &[&str], records: Vec<DnsRecord>) -> crate::Diagnosis {
        let mut state = wired();
        accepter(&mut state).hosted_zones = vec![HostedZone {
            id: id(ZONE),
            name: "orders.db.internal.".into(),
            private: true,
            vpcs: vpcs
                .iter()
                .map(|v| ZoneVpc {
                    vpc_id: id(v),
                    region: id("us-east-1"),
                })
                .collect(),
            associated_by_peerwire: Vec::new(),
            tag_count: 0,
        }];
        let text = format!("{POLICY}        private_hosted_zones: [{ZONE}]\n");
        let mut inspection = Inspection::new(
            state.peering.clone(),
            &peerwire::testing::policy(&text),
            &Membership::NotLooked,
            Some(state),
            None,
        );
        inspection.zone_records = vec![ZoneRecords {
            zone_id: id(ZONE),
            records: Ok(records),
        }];
        crate::diagnose(&inspection, &default_nacls(), &Traffic::default())
    }

    fn record(name: &str, kind: &str, value: &str) -> DnsRecord {
        DnsRecord {
            name: name.into(),
            kind: kind.into(),
            values: vec![value.into()],
            alias_target: None,
        }
    }

    #[test]
    fn a_zone_not_associated_with_the_requester_vpc_is_broken_with_both_accounts_steps() {
        let d = diagnosis(&[ACCEPTER_VPC], Vec::new());
        let dns = layer(&d, LayerId::Dns);
        assert_eq!(dns.status, Status::Broken, "{dns:#?}");
        let problem = &dns.problems[0];
        assert!(
            problem.finding.contains("orders.db.internal."),
            "{problem:?}"
        );
        assert!(problem.finding.contains(REQUESTER_VPC), "{problem:?}");
        assert!(problem.fix.contains("create-vpc-association-authorization"));
        assert!(problem.fix.contains("in account 222222222222"));
        assert!(problem.fix.contains("in account 111111111111"));
    }

    #[test]
    fn an_associated_zone_with_a_cname_to_the_endpoint_is_ok() {
        let cname = record(
            "db.orders.db.internal.",
            "CNAME",
            "payments-db.abc123.us-east-1.rds.amazonaws.com",
        );
        let d = diagnosis(&[ACCEPTER_VPC, REQUESTER_VPC], vec![cname]);
        let dns = layer(&d, LayerId::Dns);
        assert_eq!(dns.status, Status::Ok, "{dns:#?}");
        assert!(
            dns.finding.contains("follows the RDS endpoint"),
            "{}",
            dns.finding
        );
    }

    #[test]
    fn an_a_record_to_an_address_of_the_db_vpc_is_a_warning() {
        let pinned = record("db.orders.db.internal.", "A", "10.1.2.5");
        let public = record("www.orders.db.internal.", "A", "198.51.100.7");
        let d = diagnosis(&[ACCEPTER_VPC, REQUESTER_VPC], vec![pinned, public]);
        let dns = layer(&d, LayerId::Dns);
        assert_eq!(dns.status, Status::Warning, "{dns:#?}");
        assert_eq!(dns.problems.len(), 1);
        assert!(dns.problems[0].finding.contains("10.1.2.5"));
        assert!(dns.problems[0].fix.contains("CNAME"));
    }
}
