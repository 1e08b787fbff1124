//! The traffic layer: no flow log, a failed read, traffic both ways, and each rejection
//! attributed to the static layer that explains it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use peerwire::model::nacl::{NaclAction, NaclProtocol};
use peerwire::model::Side;
use peerwire::testing::{ACCEPTER_VPC, REQUESTER_VPC};

use crate::fixtures::*;
use crate::flow::tests::{accepter_read, record};
use crate::inspection::{SideFlowLogs, SideNacls, Traffic};
use crate::{diagnose, Diagnosis, Layer, LayerId, Status};

fn traffic_of(d: &Diagnosis) -> &Layer {
    layer(d, LayerId::Traffic)
}

fn with_traffic(
    state: peerwire::model::WiringState,
    nacls: SideNacls,
    traffic: &Traffic,
) -> Diagnosis {
    diagnose(&inspection(state), &nacls, traffic)
}

/// Three rejected requests from a task in subnet 1a to the DB in subnet 2a, and one that got
/// through from elsewhere.
fn rejected_requests() -> Traffic {
    accepter_read(&[
        record("10.0.1.10", "10.1.1.5", 49761, 5432, "REJECT"),
        record("10.0.1.10", "10.1.1.5", 49762, 5432, "REJECT"),
        record("10.0.1.10", "10.1.1.5", 49763, 5432, "REJECT"),
    ])
}

fn looked_but_found_nothing() -> Traffic {
    Traffic {
        window: std::time::Duration::from_secs(900),
        sides: peerwire::model::Sides::new(
            Some(SideFlowLogs::default()),
            Some(SideFlowLogs::default()),
        ),
    }
}

#[test]
fn without_a_flow_log_the_layer_is_skipped_with_the_command_that_creates_one() {
    let d = with_traffic(wired(), default_nacls(), &looked_but_found_nothing());
    let l = traffic_of(&d);
    assert_eq!(l.status, Status::Skipped, "{l:#?}");
    assert!(d.healthy);
    assert!(
        l.finding.contains(&format!(
            "no flow log to CloudWatch Logs for {REQUESTER_VPC} or {ACCEPTER_VPC}"
        )),
        "{l:?}"
    );
    let fix = l.fix.as_deref().unwrap_or("");
    assert!(
        fix.contains(&format!(
            "aws ec2 create-flow-logs --region us-east-1 --resource-type VPC --resource-ids \
             {ACCEPTER_VPC} --traffic-type ALL --log-destination-type cloud-watch-logs"
        )),
        "{fix}"
    );
    assert!(fix.contains("run in account 222222222222"), "{fix}");
}

#[test]
fn a_flow_log_to_s3_is_named_but_not_read() {
    let mut traffic = accepter_read(&[]);
    if let Some(read) = traffic.sides.accepter.as_mut() {
        read.flow_logs[0].destination_type = "s3".to_owned();
    }
    let d = with_traffic(wired(), default_nacls(), &traffic);
    let l = traffic_of(&d);
    assert_eq!(l.status, Status::Skipped);
    assert!(
        l.finding.contains("fl-0123456789abcdef0 delivers to s3"),
        "{l:?}"
    );
}

#[test]
fn a_read_that_fails_is_a_warning_and_the_diagnosis_goes_on() {
    let mut traffic = looked_but_found_nothing();
    if let Some(read) = traffic.sides.accepter.as_mut() {
        read.errors.push(
            "DescribeFlowLogs failed: UnauthorizedOperation: You are not authorized".to_owned(),
        );
    }
    let d = with_traffic(wired(), default_nacls(), &traffic);
    let l = traffic_of(&d);
    assert_eq!(l.status, Status::Warning, "{l:#?}");
    assert!(d.healthy);
    assert_eq!(l.problems[0].side, Some(Side::Accepter));
    assert!(l.finding.contains("UnauthorizedOperation"), "{l:?}");
    assert!(l.problems[0].fix.contains("ec2:DescribeFlowLogs"));
}

#[test]
fn rejections_behind_a_nacl_deny_are_attributed_to_that_acl_and_rule() {
    let mut nacls = default_nacls();
    if let Some(acls) = nacls.accepter.as_mut() {
        acls[0].entries.push(entry(
            50,
            false,
            NaclProtocol::Tcp,
            Some((5432, 5432)),
            REQ_CIDR,
            NaclAction::Deny,
        ));
    }

    let d = with_traffic(wired(), nacls, &rejected_requests());

    assert_only_broken(&d, &[LayerId::NetworkAcls, LayerId::Traffic]);
    let l = traffic_of(&d);
    assert_eq!(l.problems.len(), 1, "{l:#?}");
    let p = &l.problems[0];
    assert_eq!(p.side, Some(Side::Accepter));
    assert_eq!(p.resource.as_deref(), Some(ACC_ACL));
    assert_eq!(p.subnets, [subnet_id('2', 'a')]);
    assert!(
        p.finding.starts_with(
            "REJECT 10.0.1.10 → 10.1.1.5:5432 ×3 over the last 15m, logged by the accepter; \
             the accepter's NACL acl-2000000f denies tcp/5432 in from 10.0.0.0/16 (rule 50)"
        ),
        "{p:?}"
    );
    assert_eq!(
        p.fix,
        "allow tcp/5432 in from 10.0.0.0/16 in acl-2000000f (account 222222222222) with a rule \
         numbered below 50, or remove rule 50"
    );
    let summary = d.traffic.as_ref().unwrap();
    assert_eq!(summary.flows[0].rejected, 3);
    assert_eq!(summary.window_seconds, 900);
}

#[test]
fn rejections_at_a_db_group_without_the_rule_are_attributed_to_the_group() {
    let mut s = wired();
    accepter(&mut s).security_groups[0].ingress.clear();

    let d = with_traffic(s, default_nacls(), &rejected_requests());

    assert_only_broken(&d, &[LayerId::SecurityGroups, LayerId::Traffic]);
    let p = &traffic_of(&d).problems[0];
    assert_eq!(p.resource.as_deref(), Some(DB_GROUP));
    assert!(
        p.finding.contains(&format!(
            "the accepter's security group {DB_GROUP} does not admit tcp/5432 from 10.0.0.0/16"
        )),
        "{p:?}"
    );
    assert!(p.fix.contains("peerwire apply"), "{p:?}");
}

#[test]
fn both_an_acl_and_a_group_are_named_when_both_reject() {
    let mut s = wired();
    accepter(&mut s).security_groups[0].ingress.clear();
    let mut nacls = default_nacls();
    nacls.accepter = Some(vec![peerwire::model::nacl::NetworkAcl {
        entries: Vec::new(),
        ..default_acl(ACC_ACL)
    }]);

    let d = with_traffic(s, nacls, &rejected_requests());

    let p = &traffic_of(&d).problems[0];
    assert!(p.finding.contains("has no rule allowing tcp/5432 in from 10.0.1.10, so rule * denies it; and the accepter's security group"), "{p:?}");
}

#[test]
fn rejected_replies_are_an_acl_s_doing_never_a_group_s() {
    let mut nacls = default_nacls();
    // The DB subnets let 5432 in but nothing out: stateless.
    nacls.accepter = Some(vec![peerwire::model::nacl::NetworkAcl {
        entries: vec![entry(
            100,
            false,
            NaclProtocol::Tcp,
            Some((5432, 5432)),
            REQ_CIDR,
            NaclAction::Allow,
        )],
        ..default_acl(ACC_ACL)
    }]);
    let traffic = accepter_read(&[
        record("10.0.1.10", "10.1.1.5", 49761, 5432, "ACCEPT"),
        record("10.1.1.5", "10.0.1.10", 5432, 49761, "REJECT"),
    ]);

    let d = with_traffic(wired(), nacls, &traffic);

    let p = &traffic_of(&d).problems[0];
    assert!(
        p.finding.starts_with(
            "REJECT 10.1.1.5:5432 → 10.0.1.10 ×1 replies over the last 15m, logged by the \
             accepter; the accepter's NACL acl-2000000f has no rule allowing the replies \
             (tcp/1024-65535, stateless) out to 10.0.1.10"
        ),
        "{p:?}"
    );
    assert!(!p.finding.contains("security group"), "{p:?}");
}

#[test]
fn a_requester_side_rejection_names_the_task_group() {
    let mut s = wired();
    requester(&mut s).security_groups[0].egress.clear();
    let mut traffic = rejected_requests();
    traffic.sides.requester = traffic.sides.accepter.take();

    let d = with_traffic(s, default_nacls(), &traffic);

    let p = &traffic_of(&d).problems[0];
    assert_eq!(p.side, Some(Side::Requester));
    assert_eq!(p.resource.as_deref(), Some(TASK_GROUP));
    assert_eq!(p.subnets, [subnet_id('1', 'a')]);
    assert!(p.finding.contains("logged by the requester"), "{p:?}");
    assert!(
        p.finding.contains("does not allow tcp/5432 to 10.1.0.0/16"),
        "{p:?}"
    );
}

#[test]
fn a_rejection_no_static_layer_explains_says_so() {
    let d = with_traffic(wired(), default_nacls(), &rejected_requests());
    let l = traffic_of(&d);
    assert_eq!(l.status, Status::Broken);
    assert!(l.finding.contains("no static layer explains it"), "{l:?}");
    assert!(l.problems[0].fix.contains("describe-network-interfaces"));
}

#[test]
fn accept_both_ways_points_at_dns_or_the_application() {
    let traffic = accepter_read(&[
        record("10.0.1.10", "10.1.1.5", 49761, 5432, "ACCEPT"),
        record("10.1.1.5", "10.0.1.10", 5432, 49761, "ACCEPT"),
    ]);
    let d = with_traffic(wired(), default_nacls(), &traffic);
    let l = traffic_of(&d);
    assert_eq!(l.status, Status::Ok, "{l:#?}");
    assert!(l.finding.starts_with("ACCEPT both ways"), "{l:?}");
    assert!(l.finding.contains("look at DNS"), "{l:?}");
    assert!(l.finding.contains("the application"), "{l:?}");

    let mut s = wired();
    s.peering
        .sides
        .accepter
        .allow_dns_resolution_from_remote_vpc = false;
    let d = with_traffic(s, default_nacls(), &traffic);
    assert!(
        traffic_of(&d).finding.contains("DNS: it is broken above"),
        "{:?}",
        traffic_of(&d)
    );
}

#[test]
fn no_traffic_at_all_is_a_warning_pointing_at_what_the_clients_send_to() {
    let d = with_traffic(wired(), default_nacls(), &accepter_read(&[]));
    let l = traffic_of(&d);
    assert_eq!(l.status, Status::Warning, "{l:#?}");
    assert!(l.finding.contains("no traffic between the VPCs"), "{l:?}");
    assert!(d.healthy);
}

#[test]
fn requests_without_replies_ask_whether_the_database_listens() {
    let traffic = accepter_read(&[record("10.0.1.10", "10.1.1.5", 49761, 5432, "ACCEPT")]);
    let d = with_traffic(wired(), default_nacls(), &traffic);
    let l = traffic_of(&d);
    assert_eq!(l.status, Status::Warning);
    assert!(l.finding.contains("no reply was recorded"), "{l:?}");
}

#[test]
fn many_rejected_conversations_are_capped_with_a_count_of_the_rest() {
    let lines: Vec<String> = (1..=13)
        .map(|n| record(&format!("10.0.1.{n}"), "10.1.1.5", 40000, 5432, "REJECT"))
        .collect();
    let d = with_traffic(wired(), default_nacls(), &accepter_read(&lines));
    let l = traffic_of(&d);
    assert_eq!(l.problems.len(), 11);
    assert!(
        l.problems[10]
            .finding
            .contains("3 more rejected conversations (3 records)"),
        "{:?}",
        l.problems[10]
    );
    assert_eq!(d.traffic.as_ref().unwrap().flows.len(), 13);
}

#[test]
fn traffic_is_skipped_before_the_peering_is_active() {
    let mut s = wired();
    s.peering.status = peerwire::model::PeeringStatus::PendingAcceptance;
    let d = with_traffic(s, default_nacls(), &rejected_requests());
    assert_eq!(traffic_of(&d).status, Status::Skipped);
}
