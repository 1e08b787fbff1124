//! Zone association: planned only where missing, in the order AWS requires; cleaned only
//! where peerwire recorded it and nothing still needs it.

use super::*;
#[allow(unused_imports)]
use crate::model::Direction;
use crate::model::{PeeringStatus, Sides, ZoneVpc};
#[allow(unused_imports)]
use crate::plan::{Action, Ec2Action, ZoneAction};
use crate::testing::{
    id, local, peering, policy, side_state, table, ACCEPTER, ACCEPTER_VPC, REQUESTER, REQUESTER_VPC,
};

const ZONE: &str = "Z0123456789ABCDEFGHIJ";

fn zone(vpcs: &[&str], recorded: &[&str]) -> HostedZone {
    HostedZone {
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
        associated_by_peerwire: recorded.iter().map(|v| id(v)).collect(),
        tag_count: 0,
    }
}

/// Zones owned by the accepter (the database's account), to resolve in the requester VPC.
fn wiring() -> Wiring {
    let text = format!(
        "{}    wiring:\n      accepter:\n        private_hosted_zones: [{ZONE}]\n",
        crate::testing::ECS_TO_RDS
    );
    policy(&text).rules[0].wiring.clone()
}

fn state(zones: Vec<HostedZone>) -> WiringState {
    let mut peering = peering(REQUESTER, &["10.0.0.0/16"]);
    peering.status = PeeringStatus::Active;
    let mut accepter = side_state(
        ACCEPTER,
        ACCEPTER_VPC,
        &["10.1.0.0/16"],
        vec![table("rtb-22222222", true, &[], vec![local("10.1.0.0/16")])],
        vec![],
    );
    accepter.hosted_zones = zones;
    let requester = side_state(
        REQUESTER,
        REQUESTER_VPC,
        &["10.0.0.0/16"],
        vec![table("rtb-11111111", true, &[], vec![local("10.0.0.0/16")])],
        vec![],
    );
    WiringState {
        peering,
        sides: Sides::new(Some(requester), Some(accepter)),
    }
}

fn operations(steps: &[PlanStep]) -> Vec<(&'static str, Side)> {
    steps.iter().map(|s| (s.operation(), s.side)).collect()
}

#[test]
fn a_zone_of_the_accepter_is_recorded_authorized_associated_and_the_authorization_deleted() {
    let plan = plan_zones(&state(vec![zone(&[ACCEPTER_VPC], &[])]), &wiring());
    assert_eq!(
        operations(&plan.steps),
        [
            ("ChangeTagsForResource", Side::Accepter),
            ("CreateVPCAssociationAuthorization", Side::Accepter),
            ("AssociateVPCWithHostedZone", Side::Requester),
            ("DeleteVPCAssociationAuthorization", Side::Accepter),
        ]
    );
    assert!(
        matches!(&plan.steps[2], PlanStep { action: Action::Route53(ZoneAction::Associate { vpc_id, .. }), .. } if vpc_id.as_str() == REQUESTER_VPC)
    );
    assert!(plan.findings.is_empty());
}

#[test]
fn an_association_that_exists_by_anyone_is_converged() {
    let plan = plan_zones(
        &state(vec![zone(&[ACCEPTER_VPC, REQUESTER_VPC], &[])]),
        &wiring(),
    );
    assert!(
        plan.steps.is_empty() && plan.findings.is_empty(),
        "{plan:?}"
    );
}

#[test]
fn a_recorded_association_that_went_missing_is_made_again_without_a_second_record() {
    let plan = plan_zones(
        &state(vec![zone(&[ACCEPTER_VPC], &[REQUESTER_VPC])]),
        &wiring(),
    );
    assert_eq!(plan.steps.len(), 3);
    assert!(!plan.steps.iter().any(|s| matches!(
        s,
        PlanStep {
            action: Action::Route53(ZoneAction::Record { .. }),
            ..
        }
    )));
}

#[test]
fn a_missing_or_public_zone_is_a_finding_not_a_step() {
    let plan = plan_zones(&state(vec![]), &wiring());
    assert!(plan.steps.is_empty());
    assert!(
        matches!(&plan.findings[..], [Finding::ZoneNotAssociable { why, .. }] if why.contains("not found"))
    );
    let mut public = zone(&[], &[]);
    public.private = false;
    let plan = plan_zones(&state(vec![public]), &wiring());
    assert!(plan.steps.is_empty());
    assert!(
        matches!(&plan.findings[..], [Finding::ZoneNotAssociable { why, .. }] if why.contains("public"))
    );
}

#[test]
fn cleanup_removes_only_a_recorded_association_nothing_else_needs() {
    let gone = state(vec![]).peering;
    let recorded = zone(&[ACCEPTER_VPC, REQUESTER_VPC], &[REQUESTER_VPC]);
    assert_eq!(
        operations(&plan_zone_cleanup(&gone, Side::Accepter, &recorded, false).steps),
        [
            ("DisassociateVPCFromHostedZone", Side::Requester),
            ("ChangeTagsForResource", Side::Accepter),
        ]
    );
    // Still needed by another live peering of the VPC: kept.
    assert_eq!(
        plan_zone_cleanup(&gone, Side::Accepter, &recorded, true),
        Plan::default()
    );
    // A person's association (no record): never touched.
    let persons = zone(&[ACCEPTER_VPC, REQUESTER_VPC], &[]);
    assert_eq!(
        plan_zone_cleanup(&gone, Side::Accepter, &persons, false),
        Plan::default()
    );
    // Recorded but already gone: only the record is removed.
    let dangling = zone(&[ACCEPTER_VPC], &[REQUESTER_VPC]);
    assert_eq!(
        operations(&plan_zone_cleanup(&gone, Side::Accepter, &dangling, false).steps),
        [("ChangeTagsForResource", Side::Accepter)]
    );
    // The zone's last VPC: Route 53 would refuse (LastVPCAssociation); reported, record kept.
    let last = zone(&[REQUESTER_VPC], &[REQUESTER_VPC]);
    let plan = plan_zone_cleanup(&gone, Side::Accepter, &last, false);
    assert!(plan.steps.is_empty());
    assert!(
        matches!(&plan.findings[..], [Finding::ZoneKept { why, .. }] if why.contains("LastVPCAssociation"))
    );
}

#[test]
fn a_zone_with_all_its_tags_gets_no_association_peerwire_could_not_record() {
    let mut full = zone(&[ACCEPTER_VPC], &[]);
    full.tag_count = crate::model::ZONE_TAG_LIMIT;
    let plan = plan_zones(&state(vec![full.clone()]), &wiring());
    assert!(plan.steps.is_empty());
    assert!(
        matches!(&plan.findings[..], [Finding::ZoneNotAssociable { why, .. }] if why.contains("10 tags")),
        "{:?}",
        plan.findings
    );
    // Already recorded (the association went missing): no new tag, so it is made again.
    full.associated_by_peerwire = vec![id(REQUESTER_VPC)];
    assert_eq!(plan_zones(&state(vec![full]), &wiring()).steps.len(), 3);
}

#[test]
fn another_peering_of_the_vpc_needs_the_zone_only_when_its_rule_names_it_on_the_same_account() {
    let gone = state(vec![]).peering;
    let zone = zone(&[], &[]);
    let mut other = gone.clone();
    other.id = id("pcx-0fedcba9876543210");
    other.sides.accepter.vpc_id = id("vpc-33333333");
    assert!(needs_zone(&gone, Side::Accepter, &zone, &other, &wiring()));
    let no_zone = Wiring::default();
    assert!(!needs_zone(&gone, Side::Accepter, &zone, &other, &no_zone));
    other.sides.accepter.account = id("444444444444");
    assert!(!needs_zone(&gone, Side::Accepter, &zone, &other, &wiring()));
}
