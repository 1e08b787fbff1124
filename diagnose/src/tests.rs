//! The whole diagnosis: every layer in order, the first two layers on peerings that are not
//! active, and the JSON names.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use peerwire::model::{PeeringStatus, VpcNetwork};
use peerwire::policy::Membership;
use peerwire::testing::{id, net, ACCEPTER, ACCEPTER_VPC};

use crate::fixtures::*;
use crate::inspection::{Inspection, SideNacls, Traffic};
use crate::{diagnose, LayerId, Status};

#[test]
fn a_wired_peering_diagnoses_clean() {
    let d = run(wired());
    for l in d.layers.iter().filter(|l| l.layer != LayerId::Traffic) {
        assert_eq!(l.status, Status::Ok, "{l:#?}");
        assert!(l.problems.is_empty());
        assert!(l.fix.is_none());
    }
    // No flow log was read: nothing to say about traffic, and nothing broken.
    assert_eq!(layer(&d, LayerId::Traffic).status, Status::Skipped);
    assert!(d.healthy);
    assert_eq!(
        d.layers.iter().map(|l| l.layer).collect::<Vec<_>>(),
        LayerId::ALL
    );
    assert_eq!(d.rule.as_deref(), Some("payments-ecs-to-rds"));
    assert!(
        layer(&d, LayerId::Rds).finding.contains("all 3 subnets"),
        "{:?}",
        layer(&d, LayerId::Rds)
    );
}

#[test]
fn peering_shows_pending_not_accepted_yet_accept_in_account_b() {
    let p = peering(PeeringStatus::PendingAcceptance);
    let inspection = Inspection::new(p, &policy(), &Membership::NotLooked, None, None);
    let d = diagnose(&inspection, &SideNacls::default(), &Traffic::default());

    let status = layer(&d, LayerId::PeeringStatus);
    assert_eq!(status.status, Status::Broken);
    assert!(status
        .finding
        .contains("pending acceptance by account 222222222222"));
    assert!(status
        .fix
        .as_deref()
        .unwrap_or("")
        .contains("payments-ecs-to-rds"));
    assert_eq!(layer(&d, LayerId::CidrOverlap).status, Status::Ok);
    for id in [
        LayerId::Routes,
        LayerId::SecurityGroups,
        LayerId::NetworkAcls,
        LayerId::Dns,
        LayerId::Rds,
        LayerId::Traffic,
    ] {
        let l = layer(&d, id);
        assert_eq!(l.status, Status::Skipped, "{l:?}");
        assert!(l.finding.contains("pending-acceptance"), "{l:?}");
    }
    assert_only_broken(&d, &[LayerId::PeeringStatus]);
}

#[test]
fn peering_shows_failed_overlapping_cidrs_re_address_or_use_privatelink() {
    let mut p = peering(PeeringStatus::Failed);
    p.status_message = Some("Overlapping CIDR range".to_owned());
    p.sides.requester.cidrs = vec![net(ACC_CIDR)];
    let network = VpcNetwork {
        account: id(ACCEPTER),
        vpc_id: id(ACCEPTER_VPC),
        cidrs: vec![net(ACC_CIDR)],
        route_tables: Vec::new(),
    };
    let inspection = Inspection::new(p, &policy(), &Membership::NotLooked, None, Some(network));
    let d = diagnose(&inspection, &SideNacls::default(), &Traffic::default());

    let status = layer(&d, LayerId::PeeringStatus);
    assert!(
        status.finding.contains("failed (Overlapping CIDR range)"),
        "{status:?}"
    );
    assert!(status.fix.as_deref().unwrap_or("").contains("PrivateLink"));
    let overlap = layer(&d, LayerId::CidrOverlap);
    assert_eq!(overlap.status, Status::Broken);
    assert!(
        overlap
            .finding
            .contains(&format!("overlaps accepter VPC {ACCEPTER_VPC}")),
        "{overlap:?}"
    );
    assert_only_broken(&d, &[LayerId::PeeringStatus, LayerId::CidrOverlap]);
}

#[test]
fn rejected_and_expired_peerings_are_named_with_their_cause() {
    for (status, words) in [
        (PeeringStatus::Rejected, "was rejected"),
        (PeeringStatus::Expired, "within 7 days"),
        (PeeringStatus::Deleted, "is deleted"),
    ] {
        let inspection = Inspection::new(
            peering(status),
            &policy(),
            &Membership::NotLooked,
            None,
            None,
        );
        let d = diagnose(&inspection, &SideNacls::default(), &Traffic::default());
        let l = layer(&d, LayerId::PeeringStatus);
        assert_eq!(l.status, Status::Broken);
        assert!(l.finding.contains(words), "{l:?}");
    }
}

#[test]
fn a_peering_no_rule_matches_is_checked_in_the_default_scope_with_a_warning() {
    let mut s = wired();
    s.peering.sides.requester.account = id("333333333333");
    let inspection = Inspection::new(
        s.peering.clone(),
        &policy(),
        &Membership::NotLooked,
        Some(s),
        None,
    );
    let d = diagnose(&inspection, &default_nacls(), &Traffic::default());

    assert_eq!(d.rule, None);
    assert!(
        inspection
            .unmatched
            .iter()
            .any(|r| r.contains("333333333333")),
        "{:?}",
        inspection.unmatched
    );
    let status = layer(&d, LayerId::PeeringStatus);
    assert_eq!(status.status, Status::Warning);
    assert!(
        status.finding.contains("no policy rule matches"),
        "{status:?}"
    );
    assert_eq!(layer(&d, LayerId::Routes).status, Status::Ok);
    assert_eq!(layer(&d, LayerId::SecurityGroups).status, Status::Skipped);
    assert_eq!(layer(&d, LayerId::NetworkAcls).status, Status::Skipped);
    assert_eq!(layer(&d, LayerId::Rds).status, Status::Skipped);
    assert_eq!(layer(&d, LayerId::Traffic).status, Status::Skipped);
    // The refusal is the reconciler's own words: only `inspect` (AWS) sets it; the emulator
    // test `a_peering_no_rule_matches_is_refused_by_the_reconciler_itself` checks it.
    assert_eq!(inspection.refusal, None);
}

#[test]
fn the_json_names_are_stable() {
    let d = run(wired());
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["schema_version"], 2);
    assert_eq!(json["layers"][4]["layer"], "network-acls");
    assert_eq!(json["layers"][7]["layer"], "traffic");
    assert_eq!(json["layers"][0]["status"], "ok");
    assert_eq!(json["requester"]["cidrs"][0], REQ_CIDR);
    assert!(json["traffic"].is_null());
}
