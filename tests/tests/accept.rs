//! Policy-gated auto-accept, end to end against the patched emulator: each test reads like a
//! row of the troubleshooting table.

use peerwire::doors::request::handle_request_event;
use peerwire::outcome::OutcomeKind;
use peerwire::plan::{Overlap, OverlapSource, Reason};
use peerwire::policy::Condition;
use peerwire::testing::net;
use peerwire_integration::{
    decision, edited, first_of, held_policy, TestEnv, DEFAULT_POLICY, REQUESTER_ACCOUNT,
};

#[tokio::test]
async fn an_allowlisted_request_is_accepted() {
    let env = TestEnv::new(DEFAULT_POLICY).await;
    let pcx = env.pending_peering().await;

    let report = env.request_door(&env.request_event(&pcx)).await;

    // Accepted, then wired by the same run with what the decision read.
    let kinds: Vec<OutcomeKind> = report.run.outcomes.iter().map(|o| o.kind).collect();
    assert_eq!(kinds, [OutcomeKind::Accepted, OutcomeKind::Wired]);
    let outcome = first_of(&report.run.outcomes, OutcomeKind::Accepted);
    assert_eq!(outcome.rule.as_deref(), Some("payments-ecs-to-rds"));
    assert_eq!(env.status(&pcx).await, "active");
    // Independent reads go out together, so only the orderings that matter are fixed.
    let ops = env.operations();
    let at = |op: &str| ops.iter().position(|o| o == op).unwrap();
    let last = |op: &str| ops.iter().rposition(|o| o == op).unwrap();
    env.assert_counts(&[
        // Each member role, once per process.
        ("AssumeRole", 2),
        // The request as the accepter sees it; the requester's own view (the rule requires
        // tags only it carries); the accepter VPC's other peerings (as accepter, as
        // requester: CIDRs held first); its live peerings again after the accept (a colliding
        // accept at the same moment), which also show this one active.
        ("DescribeVpcPeeringConnections", 5),
        // The accepter VPC (CIDRs and routes); the requester VPC's routes (its CIDRs are the
        // request's): read once, for the decision and the wiring.
        ("DescribeVpcs", 1),
        ("DescribeRouteTables", 2),
        ("AcceptVpcPeeringConnection", 1),
        // Wiring what was just accepted: the DNS attributes of both VPCs, the quotas before
        // adding (every subnet is in scope: the route tables say which tables, no subnet read).
        ("DescribeVpcAttribute", 4),
        ("DescribeSubnets", 0),
        ("GetServiceQuota", 4),
        ("CreateRoute", 6),
        ("ModifyVpcPeeringConnectionOptions", 2),
        ("PutEvents", 1),
    ]);
    assert_eq!(ops.len(), 28, "{ops:?}");
    // The accept waits for every read of the decision; the wiring starts after the re-read
    // that follows the accept; both outcomes go out last, in one PutEvents.
    assert!(
        last("DescribeRouteTables") < at("AcceptVpcPeeringConnection"),
        "{ops:?}"
    );
    assert!(at("AcceptVpcPeeringConnection") < last("DescribeVpcPeeringConnections"));
    assert!(
        last("DescribeVpcPeeringConnections") < at("CreateRoute"),
        "{ops:?}"
    );
    assert_eq!(ops.last().map(String::as_str), Some("PutEvents"));
    let delivered = env.delivered_outcomes().await;
    assert_eq!(delivered.len(), 2);
    assert_eq!(delivered[1]["detail-type"], "Peering Wired");
    assert_eq!(delivered[0]["detail-type"], "Peering Request Accepted");
    assert_eq!(delivered[0]["source"], "peerwire");
    assert_eq!(delivered[0]["detail"]["peering_id"], pcx.as_str());
    assert_eq!(
        delivered[0]["detail"]["requester"]["account"],
        "111111111111"
    );
    assert_eq!(
        delivered[0]["detail"]["accepter"]["cidrs"][0],
        "10.1.0.0/16"
    );
}

#[tokio::test]
async fn a_request_from_an_unknown_account_is_never_accepted() {
    let env = TestEnv::new(DEFAULT_POLICY).await;
    let (vpc, pcx) = env.request_from("999999999999", "10.9.0.0/16").await;

    let report = env
        .request_door(&env.cloudtrail_event(&pcx, "999999999999", &vpc))
        .await;

    let outcome = first_of(&report.run.outcomes, OutcomeKind::Rejected);
    assert!(
        decision(&report.run).reasons.iter().any(|r| matches!(r,
            Reason::Rule(Condition::NoRuleNamesAccount { account, .. }) if account == "999999999999")),
        "{:?}",
        outcome.reasons
    );
    assert_eq!(env.status(&pcx).await, "rejected");
    let delivered = env.delivered_outcomes().await;
    assert_eq!(delivered[0]["detail-type"], "Peering Request Rejected");
}

#[tokio::test]
async fn an_unknown_account_stays_pending_when_unmatched_requests_are_held() {
    let env = TestEnv::new(&edited(
        DEFAULT_POLICY,
        "unmatched: reject",
        "unmatched: hold",
    ))
    .await;
    let (vpc, pcx) = env.request_from("999999999999", "10.9.0.0/16").await;
    let event = env.cloudtrail_event(&pcx, "999999999999", &vpc);

    let held = env.request_door(&event).await;
    assert_eq!(held.run.outcomes[0].kind, OutcomeKind::ApprovalRequired);

    // Not even an approval accepts a request outside every rule.
    let approval = env.approval_event(&pcx, "mallory@example.com");
    let after = env.request_door(&approval).await;
    assert_eq!(after.run.outcomes[0].kind, OutcomeKind::ApprovalRequired);
    assert_eq!(env.status(&pcx).await, "pending-acceptance");
    assert!(
        env.calls().ec2_writes().is_empty(),
        "{:?}",
        env.calls().ec2_writes()
    );
}

#[tokio::test]
async fn a_cidr_outside_the_allowed_ranges_is_refused() {
    let env = TestEnv::new(DEFAULT_POLICY).await;
    let (vpc, pcx) = env.request_from(REQUESTER_ACCOUNT, "192.168.0.0/16").await;

    let report = handle_request_event(
        &env.app,
        &env.cloudtrail_event(&pcx, REQUESTER_ACCOUNT, &vpc),
    )
    .await
    .unwrap();

    let outcome = first_of(&report.run.outcomes, OutcomeKind::Rejected);
    assert!(
        decision(&report.run).reasons.iter().any(|r| matches!(r,
            Reason::Rule(Condition::CidrOutsideAllowed { cidr, .. }) if *cidr == net("192.168.0.0/16"))),
        "{:?}",
        outcome.reasons
    );
    assert_eq!(env.status(&pcx).await, "rejected");
}

#[tokio::test]
async fn a_cidr_broader_than_the_minimum_prefix_is_refused() {
    // AWS VPCs are /16 to /28, so a /20 minimum shows the check on a real VPC.
    let env = TestEnv::new(&edited(
        DEFAULT_POLICY,
        "min_prefix_length: 16",
        "min_prefix_length: 20",
    ))
    .await;
    let (vpc, pcx) = env.request_from(REQUESTER_ACCOUNT, "10.64.0.0/16").await;

    let report = handle_request_event(
        &env.app,
        &env.cloudtrail_event(&pcx, REQUESTER_ACCOUNT, &vpc),
    )
    .await
    .unwrap();

    let outcome = first_of(&report.run.outcomes, OutcomeKind::Rejected);
    assert!(
        decision(&report.run).reasons.iter().any(|r| matches!(r,
            Reason::Rule(Condition::CidrTooBroad { cidr, min_prefix_length: 20, .. })
                if *cidr == net("10.64.0.0/16"))),
        "{:?}",
        outcome.reasons
    );
    assert_eq!(env.status(&pcx).await, "rejected");
}

#[tokio::test]
async fn overlap_with_a_secondary_cidr_of_the_requester_is_refused() {
    let env = TestEnv::new(DEFAULT_POLICY).await;
    let pcx = env.pending_peering().await;
    // The requester VPC grows into the accepter's range after asking.
    env.scenario
        .requester
        .associate_cidr("10.1.128.0/17")
        .await
        .unwrap();

    let report = env.request_door(&env.request_event(&pcx)).await;

    let outcome = first_of(&report.run.outcomes, OutcomeKind::Rejected);
    assert!(
        decision(&report.run).reasons.iter().any(|r| matches!(r,
            Reason::Overlap(Overlap { requester_cidr, conflicting, .. })
                if *requester_cidr == net("10.1.128.0/17") && *conflicting == net("10.1.0.0/16"))),
        "{:?}",
        outcome.reasons
    );
    assert_eq!(env.status(&pcx).await, "rejected");
}

#[tokio::test]
async fn overlap_with_an_accepter_cidr_is_refused() {
    let env = TestEnv::new(DEFAULT_POLICY).await;
    let pcx = env.pending_peering().await;
    // The accepter VPC gained a secondary CIDR inside the requester's range.
    env.scenario
        .accepter
        .associate_cidr("10.0.64.0/18")
        .await
        .unwrap();

    let report = env.request_door(&env.request_event(&pcx)).await;

    let outcome = first_of(&report.run.outcomes, OutcomeKind::Rejected);
    assert!(
        decision(&report.run).reasons.iter().any(|r| matches!(r,
            Reason::Overlap(Overlap { conflicting, source: OverlapSource::VpcCidr { vpc_id }, .. })
                if *conflicting == net("10.0.64.0/18") && *vpc_id == env.scenario.accepter.vpc_id)),
        "{:?}",
        outcome.reasons
    );
}

#[tokio::test]
async fn overlap_with_an_existing_accepter_route_is_refused_and_names_the_table() {
    let env = TestEnv::new(DEFAULT_POLICY).await;
    let accepter = &env.scenario.accepter;
    let tgw = accepter
        .route_via_new_transit_gateway(&accepter.route_tables[1], "10.0.0.0/16")
        .await
        .unwrap();
    let pcx = env.pending_peering().await;

    let report = env.request_door(&env.request_event(&pcx)).await;

    let outcome = first_of(&report.run.outcomes, OutcomeKind::Rejected);
    assert!(
        decision(&report.run).reasons.iter().any(|r| matches!(r,
            Reason::Overlap(Overlap { source: OverlapSource::Route { route_table_id, target }, .. })
                if *route_table_id == accepter.route_tables[1] && target.to_string() == tgw)),
        "{:?}",
        outcome.reasons
    );
}

#[tokio::test]
async fn a_held_request_is_accepted_by_the_approval_event() {
    let env = TestEnv::new(&held_policy()).await;
    let pcx = env.pending_peering().await;

    let held = env.request_door(&env.request_event(&pcx)).await;
    assert_eq!(held.run.outcomes[0].kind, OutcomeKind::ApprovalRequired);
    assert_eq!(env.status(&pcx).await, "pending-acceptance");
    assert!(env.calls().ec2_writes().is_empty());
    let delivered = env.delivered_outcomes().await;
    assert_eq!(delivered[0]["detail-type"], "Peering Approval Required");

    let approval = env.approval_event(&pcx, "alice@example.com");
    let approved = env.request_door(&approval).await;

    let outcome = first_of(&approved.run.outcomes, OutcomeKind::Accepted);
    assert_eq!(outcome.approved_by.as_deref(), Some("alice@example.com"));
    assert_eq!(env.status(&pcx).await, "active");
}

#[tokio::test]
async fn the_sweep_finds_a_pending_request_that_no_event_announced() {
    let env = TestEnv::new(DEFAULT_POLICY).await;
    // Two requests for the same CIDR; the one no rule matches is made a second earlier, so it
    // expires first (AWS shows whole seconds) and claims the CIDR first. Rejected, it must not
    // make the good one lose.
    let untagged = env.scenario.request_peering(&[]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let good = env.pending_peering().await;

    let report = env.request_door(&env.sweep_event()).await;

    let kind_of = |id: &str| {
        report
            .run
            .outcomes
            .iter()
            .find(|o| o.peering_id.as_ref().is_some_and(|p| p == id))
            .map(|o| o.kind)
    };
    assert_eq!(kind_of(&good), Some(OutcomeKind::Accepted));
    assert_eq!(kind_of(&untagged), Some(OutcomeKind::Rejected));
    // The accepted one is wired by the same run.
    assert_eq!(report.run.outcomes.len(), 3, "{:?}", report.run.outcomes);
    assert!(
        report
            .run
            .outcomes
            .iter()
            .any(|o| o.kind == OutcomeKind::Wired
                && o.peering_id.as_ref().is_some_and(|p| p == &good))
    );
    assert_eq!(env.status(&good).await, "active");
    assert_eq!(env.status(&untagged).await, "rejected");
    // Two requests to one accepter VPC: the VPC is read once per run, and the requester VPC
    // (whose CIDRs the requests show) once for its routes, for the decisions and the wiring.
    assert_eq!(env.calls().count("DescribeVpcs"), 1);
    assert_eq!(env.calls().count("DescribeRouteTables"), 2);

    // The next sweep finds nothing pending and writes nothing to EC2.
    let writes_before = env.calls().ec2_writes().len();
    let again = env.request_door(&env.sweep_event()).await;
    assert!(again.run.outcomes.is_empty());
    assert_eq!(env.calls().ec2_writes().len(), writes_before);
}

#[tokio::test]
async fn replaying_the_same_event_five_times_accepts_once_then_writes_nothing() {
    let env = TestEnv::new(DEFAULT_POLICY).await;
    let pcx = env.pending_peering().await;
    let event = env.request_event(&pcx);

    let mut kinds = Vec::new();
    for _ in 0..5 {
        let report = env.request_door(&event).await;
        kinds.extend(report.run.outcomes.iter().map(|o| o.kind));
    }

    assert_eq!(kinds[..2], [OutcomeKind::Accepted, OutcomeKind::Wired]);
    assert!(
        kinds[2..].iter().all(|k| *k == OutcomeKind::Skipped),
        "{kinds:?}"
    );
    // The accept, then the wiring of what it accepted; nothing more.
    let writes = env.calls().ec2_writes();
    assert_eq!(writes.len(), 9, "{writes:?}");
    assert_eq!(writes[0].operation, "AcceptVpcPeeringConnection");
    // Credentials are assumed once per role for the whole process, not per event.
    assert_eq!(env.calls().count("AssumeRole"), 2);
    // A replay only re-reads the peering: an active one needs no other read. The first run
    // read it 5 times (accepter and requester views, the siblings twice, once after).
    assert_eq!(env.calls().count("DescribeVpcPeeringConnections"), 5 + 4);
    assert_eq!(env.calls().count("DescribeVpcs"), 1);
}

#[tokio::test]
async fn deleted_and_failed_peerings_are_skipped_cleanly() {
    let env = TestEnv::new(DEFAULT_POLICY).await;
    let deleted = env.pending_peering().await;
    env.delete_peering(&deleted).await;
    // A requester VPC overlapping the accepter's: AWS fails the request itself.
    let (overlapping_vpc, failed) = env.request_from(REQUESTER_ACCOUNT, "10.1.0.0/16").await;

    let first = env.request_door(&env.request_event(&deleted)).await;
    let second = handle_request_event(
        &env.app,
        &env.cloudtrail_event(&failed, REQUESTER_ACCOUNT, &overlapping_vpc),
    )
    .await
    .unwrap();

    assert_eq!(first.run.outcomes[0].kind, OutcomeKind::Skipped);
    assert_eq!(
        first.run.outcomes[0]
            .observed_status
            .as_ref()
            .map(|s| s.code()),
        Some("deleted")
    );
    assert_eq!(second.run.outcomes[0].kind, OutcomeKind::Skipped);
    assert_eq!(
        second.run.outcomes[0]
            .observed_status
            .as_ref()
            .map(|s| s.code()),
        Some("failed")
    );
    assert!(
        second.run.outcomes[0].reasons[0].contains("Overlapping CIDR range"),
        "{:?}",
        second.run.outcomes[0].reasons
    );
    assert!(env.calls().ec2_writes().is_empty());
    let delivered = env.delivered_outcomes().await;
    assert!(delivered
        .iter()
        .all(|e| e["detail-type"] == "Peering Request Skipped"));
    assert_eq!(delivered.len(), 2);
}

#[tokio::test]
async fn a_malformed_event_is_a_typed_error_with_no_aws_call() {
    let env = TestEnv::new(DEFAULT_POLICY).await;
    let cases = [
        serde_json::json!({"hello": "world"}),
        serde_json::json!({"id": "x", "source": "aws.ec2", "detail-type": "AWS API Call via CloudTrail", "detail": {"eventName": 5}}),
        serde_json::from_str(include_str!(
            "../../events/cloudtrail-create-vpc-peering-connection-failed.json"
        ))
        .unwrap(),
        serde_json::json!({"id": "x", "source": "peerwire.approval", "detail-type": "Peering Approval Granted",
            "detail": {"peering_id": "pcx-../../etc", "accepter_account": "222222222222", "region": "us-east-1", "approved_by": "a"}}),
        serde_json::json!({"id": "x", "source": "aws.rds", "detail-type": "RDS DB Instance Event", "detail": {}}),
    ];
    for event in cases {
        let err = handle_request_event(&env.app, &event).await.unwrap_err();
        assert!(matches!(err, peerwire::Error::Event(_)), "{err}");
        assert_eq!(err.error_type(), "peerwire.InvalidEvent");
    }
    assert!(env.calls().calls().is_empty(), "{:?}", env.calls().calls());
}

#[tokio::test]
async fn an_accepter_outside_the_policy_is_ignored_without_any_call() {
    let env = TestEnv::new(&edited(
        DEFAULT_POLICY,
        "regions: [us-east-1]\nrules",
        "regions: [eu-west-1]\nrules",
    ))
    .await;
    let env_policy_check = DEFAULT_POLICY.contains("regions: [us-east-1]\nrules");
    assert!(
        env_policy_check,
        "the policy text this test edits has changed"
    );
    let pcx = env.pending_peering().await;

    let report = env.request_door(&env.request_event(&pcx)).await;

    assert!(report.run.outcomes.is_empty());
    assert_eq!(report.run.ignored, vec![pcx.clone()]);
    assert!(env.calls().calls().is_empty(), "{:?}", env.calls().calls());
    assert_eq!(env.status(&pcx).await, "pending-acceptance");
}
