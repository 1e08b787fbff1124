//! Unit tests of check-permissions: verdicts, fixes, the exit code, the table.

use super::grants::{fix, needed_by};
use super::probes::explain;
use super::*;

fn aws_error(code: &str, kind: AwsErrorKind) -> AwsError {
    AwsError {
        operation: "CreateRoute",
        kind,
        code: Some(code.to_owned()),
        message: Some("m".to_owned()),
    }
}

#[test]
fn dry_run_operation_is_allowed_a_missing_permission_denied_anything_else_not_proven() {
    let judged = |code: &str| judge(&aws_error(code, AwsErrorKind::classify(Some(code), None)));
    assert_eq!(judged("DryRunOperation"), Verdict::Allowed);
    assert_eq!(judged("UnauthorizedOperation"), Verdict::Denied);
    assert_eq!(judged("AccessDenied"), Verdict::Denied);
    assert_eq!(judged("AccessDeniedException"), Verdict::Denied);
    // A rule of the resource, not a missing permission.
    assert_eq!(judged("OperationNotPermitted"), Verdict::NotProven);
    assert_eq!(
        judged("InvalidVpcPeeringConnectionID.NotFound"),
        Verdict::NotProven
    );
    assert_eq!(judged("InvalidRouteTableID.NotFound"), Verdict::NotProven);
    assert_eq!(judged("InvalidStateTransition"), Verdict::NotProven);
    // Route 53: a stand-in zone that does not exist; a rule of the zone, not a permission.
    assert_eq!(judged("NoSuchHostedZone"), Verdict::NotProven);
    assert_eq!(judged("NotAuthorizedException"), Verdict::NotProven);
}

#[test]
fn a_stand_in_that_does_not_exist_is_not_proven_and_says_why() {
    let err = aws_error(
        "InvalidVpcPeeringConnectionID.NotFound",
        AwsErrorKind::NotFound,
    );
    let text = explain("DryRun on pcx-00000000000000000 (none)", judge(&err), &err);
    assert!(text.contains("not denied"), "{text}");
}

#[test]
fn the_worst_answer_of_an_action_wins() {
    let mut prover = Prover::default();
    prover.note(
        "servicequotas:GetServiceQuota",
        Verdict::Allowed,
        "a".into(),
    );
    prover.note("servicequotas:GetServiceQuota", Verdict::Denied, "b".into());
    prover.note(
        "servicequotas:GetServiceQuota",
        Verdict::NotProven,
        "c".into(),
    );
    let (verdict, evidence) = &prover.found["servicequotas:GetServiceQuota"];
    assert_eq!(*verdict, Verdict::Denied);
    assert_eq!(evidence, &["a", "b", "c"]);
}

#[test]
fn every_action_is_granted_by_a_statement_and_needed_by_someone() {
    for action in actions() {
        assert!(!granted_by(action.name).is_empty(), "{}", action.name);
        assert!(!needed_by(action.name).is_empty(), "{}", action.name);
    }
    // The request function wires what it has just accepted.
    assert_eq!(
        needed_by("ec2:CreateRoute"),
        ["peering-request", "peering-wiring", "drift-recheck"]
    );
    assert_eq!(
        needed_by("ec2:AcceptVpcPeeringConnection"),
        ["peering-request"]
    );
    assert_eq!(needed_by("logs:FilterLogEvents"), ["peerwire diagnose"]);
    // Recorded by wiring, removed by cleanup: listed once, needed by both.
    assert_eq!(
        needed_by("route53:ChangeTagsForResource"),
        [
            "peering-request",
            "peering-wiring",
            "drift-recheck",
            "peering-cleanup"
        ]
    );
    let names: Vec<&str> = actions().iter().map(|a| a.name).collect();
    assert_eq!(
        names
            .iter()
            .filter(|a| **a == "route53:ChangeTagsForResource")
            .count(),
        1
    );
    assert!(Job::All.actions().iter().all(|a| names.contains(&a.name)));
}

#[test]
fn a_denied_write_names_its_statement_and_the_vpc_to_manage() {
    let text = fix(
        "ec2:CreateRoute",
        "aws",
        "arn:aws:ec2:us-east-1:222222222222:vpc/vpc-12345678",
    );
    assert!(text.contains("RoutesInManagedVpcs"), "{text}");
    assert!(text.contains("peerwire-member-write"), "{text}");
    assert!(
        text.contains(
            "ManagedVpcArns to include arn:aws:ec2:us-east-1:222222222222:vpc/vpc-12345678"
        ),
        "{text}"
    );
    let text = fix("ec2:DescribeVpcs", "aws", "");
    assert!(
        text.contains("ReadNetwork (policy peerwire-member-read)"),
        "{text}"
    );
    assert!(!text.contains("ManagedVpcArns"), "{text}");
}

#[test]
fn a_denied_zone_write_names_the_zone_policy_and_hosted_zone_arns() {
    let vpc = "arn:aws:ec2:us-east-1:222222222222:vpc/vpc-12345678";
    for action in [
        "route53:ChangeTagsForResource",
        "route53:CreateVPCAssociationAuthorization",
        "route53:DeleteVPCAssociationAuthorization",
    ] {
        let text = fix(action, "aws", vpc);
        assert!(
            text.contains("ShareListedHostedZones (policy peerwire-member-zones)"),
            "{text}"
        );
        assert!(
            text.contains("set HostedZoneArns to include arn:aws:route53:::hostedzone/<zone-id>"),
            "{text}"
        );
        assert!(!text.contains("ManagedVpcArns"), "{text}");
    }
    // The VPC owner's side of the association: only the VPCs ZoneAssociationVpcs names, as
    // <vpc-id>@<region>.
    for action in [
        "route53:AssociateVPCWithHostedZone",
        "route53:DisassociateVPCFromHostedZone",
    ] {
        let text = fix(action, "aws", vpc);
        assert!(
            text.contains(
                "AssociateManagedVpcsWithZones (policy peerwire-member-zone-associations)"
            ),
            "{text}"
        );
        assert!(
            text.contains("set ZoneAssociationVpcs to include vpc-12345678@us-east-1"),
            "{text}"
        );
        assert!(!text.contains("ManagedVpcArns"), "{text}");
    }
    let text = fix("route53:AssociateVPCWithHostedZone", "aws", "");
    assert!(text.contains("include <vpc-id>@<region>"), "{text}");
    let text = fix("route53:GetHostedZone", "aws", vpc);
    assert!(
        text.contains("ReadHostedZones (policy peerwire-member-read)"),
        "{text}"
    );
}

#[test]
fn a_denied_flow_log_read_names_the_log_group_pattern() {
    let text = fix("logs:FilterLogEvents", "aws", "");
    assert!(
        text.contains("ReadFlowLogRecords (policy peerwire-member-read)"),
        "{text}"
    );
    assert!(
        text.contains("set FlowLogGroupNamePattern to match the flow log's log group"),
        "{text}"
    );
    let text = fix("ec2:DescribeFlowLogs", "aws", "");
    assert!(!text.contains("FlowLogGroupNamePattern"), "{text}");
}

#[test]
fn every_write_without_dry_run_is_noted_not_proven_with_a_reason() {
    let mut prover = probes::Prover::default();
    probes::note_unprovable(&mut prover);
    let noted: Vec<&str> = prover.found.keys().copied().collect();
    assert_eq!(
        noted,
        [
            "ec2:ModifyVpcAttribute",
            "route53:AssociateVPCWithHostedZone",
            "route53:ChangeTagsForResource",
            "route53:CreateVPCAssociationAuthorization",
            "route53:DeleteVPCAssociationAuthorization",
            "route53:DisassociateVPCFromHostedZone",
        ]
    );
    for (verdict, evidence) in prover.found.values() {
        assert_eq!(*verdict, Verdict::NotProven);
        assert_eq!(evidence.len(), 1, "{evidence:?}: one line each");
        assert!(evidence[0].contains("has no DryRun"), "{evidence:?}");
    }
}

fn report(verdicts: &[Verdict]) -> Report {
    Report {
        account: "222222222222".into(),
        region: "us-east-1".into(),
        identity: None,
        no_answer: None,
        subjects: Subjects::default(),
        actions: verdicts
            .iter()
            .map(|verdict| Proof {
                action: "ec2:CreateRoute",
                write: true,
                needed_by: vec!["peering-wiring"],
                verdict: *verdict,
                evidence: "e".into(),
                fix: (*verdict == Verdict::Denied).then(|| "f".to_owned()),
            })
            .collect(),
    }
}

#[test]
fn exit_0_when_nothing_is_denied_1_when_something_is_2_without_an_answer() {
    assert_eq!(
        report(&[Verdict::Allowed, Verdict::NotProven]).exit_code(),
        0
    );
    let denied = report(&[Verdict::Allowed, Verdict::Denied]);
    assert_eq!(denied.exit_code(), 1);
    let text = render(&denied);
    assert!(text.contains("fix: f (needed by peering-wiring)"), "{text}");
    assert!(text.ends_with("denied: ec2:CreateRoute\n"), "{text}");
    let mut none = report(&[]);
    none.no_answer = Some("no answer: AssumeRole ... denied".into());
    assert_eq!(none.exit_code(), 2);
}

#[test]
fn malformed_ids_are_usage_errors() {
    let args = |account: &str, region: &str, vpc: Option<&str>| CheckPermissionsArgs {
        account: account.into(),
        region: region.into(),
        vpc: vpc.map(str::to_owned),
        json: false,
    };
    assert!(args("222222222222", "us-east-1", Some("vpc-12345678"))
        .check()
        .is_ok());
    assert!(args("2222", "us-east-1", None).check().is_err());
    assert!(args("222222222222", "mars", None).check().is_err());
    assert!(args("222222222222", "us-east-1", Some("subnet-12345678"))
        .check()
        .is_err());
}
