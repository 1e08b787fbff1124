//! `peerwire check-permissions` against the patched emulator, through the library function the
//! CLI calls: the scenario's member roles allow everything peerwire does (the DryRun writes
//! changing nothing), a denied action is named with its fix (exit 1), and a role that cannot be
//! assumed is no answer at all (exit 2), naming the trust policy and the ExternalId. The
//! Route 53 reads aim at a stand-in zone (not proven, or denied), its writes are never proven.

use aws_sdk_ec2::types::{FlowLogsResourceType, LogDestinationType, TrafficType};
use peerwire::aws::permissions::Job;
use peerwire_cli::permissions::{
    actions, check, render, CheckPermissionsArgs, Proof, Report, Verdict,
};
use peerwire_integration::{
    EnvOptions, TestEnv, ACCEPTER_ACCOUNT, REGION, REQUESTER_ACCOUNT, WIRING_POLICY,
};

/// What `peerwire check-permissions --account <account> --region us-east-1 [--vpc <vpc>]`
/// computes.
async fn check_permissions(env: &TestEnv, account: &str, vpc: Option<&str>) -> Report {
    let args = CheckPermissionsArgs {
        account: account.to_owned(),
        region: REGION.to_owned(),
        vpc: vpc.map(str::to_owned),
        json: false,
    };
    let report = check(&env.app, &args.check().unwrap()).await;
    println!("{}", render(&report));
    report
}

/// What is never proven whatever the VPC has, in the report's order: the writes without DryRun
/// (`ModifyVpcAttribute`, every Route 53 write) and the reads of a zone (the stand-in zone is
/// `NoSuchHostedZone`); and `logs:FilterLogEvents` too for a VPC without a flow log.
fn never_proven(without_flow_log: bool) -> Vec<&'static str> {
    let mut expected = vec![
        "route53:GetHostedZone",
        "ec2:ModifyVpcAttribute",
        "route53:ChangeTagsForResource",
        "route53:CreateVPCAssociationAuthorization",
        "route53:DeleteVPCAssociationAuthorization",
        "route53:AssociateVPCWithHostedZone",
        "route53:DisassociateVPCFromHostedZone",
    ];
    if without_flow_log {
        expected.push("logs:FilterLogEvents");
    }
    expected.push("route53:ListResourceRecordSets");
    expected
}

/// The actions not proven, but `route53:ListTagsForResources`: AWS may answer it
/// `NoSuchHostedZone` for the stand-in zone (not proven), moto answers it (empty tags).
fn not_proven(report: &Report) -> Vec<&'static str> {
    assert_ne!(
        verdict(report, "route53:ListTagsForResources"),
        Verdict::Denied
    );
    report
        .with(Verdict::NotProven)
        .into_iter()
        .filter(|a| *a != "route53:ListTagsForResources")
        .collect()
}

fn proof<'a>(report: &'a Report, action: &str) -> &'a Proof {
    report
        .actions
        .iter()
        .find(|p| p.action == action)
        .unwrap_or_else(|| panic!("no {action} in {report:#?}"))
}

fn verdict(report: &Report, action: &str) -> Verdict {
    proof(report, action).verdict
}

/// The DryRun calls changed nothing: no route to the test network, no rule from it.
async fn nothing_changed(env: &TestEnv) {
    let accepter = &env.scenario.accepter;
    for table in accepter.route_tables().await.unwrap() {
        for route in table.routes() {
            assert_ne!(
                route.destination_cidr_block(),
                Some("192.0.2.0/24"),
                "{route:?}"
            );
        }
    }
    let group = accepter.security_group().await.unwrap();
    let text = format!("{group:?}");
    assert!(!text.contains("192.0.2.0/24"), "{text}");
}

#[tokio::test]
async fn the_scenario_s_member_roles_allow_everything_peerwire_does_and_dry_runs_change_nothing() {
    let env = TestEnv::new(WIRING_POLICY).await;

    let report =
        check_permissions(&env, ACCEPTER_ACCOUNT, Some(&env.scenario.accepter.vpc_id)).await;

    assert_eq!(report.exit_code(), 0, "{report:#?}");
    assert!(report.no_answer.is_none());
    assert!(report
        .identity
        .as_deref()
        .is_some_and(|arn| arn.contains(":assumed-role/peerwire-member/")));
    // Every action of the one list, once, in its order.
    let mut listed: Vec<&str> = Vec::new();
    for action in Job::All.actions() {
        if !listed.contains(&action.name) {
            listed.push(action.name);
        }
    }
    let reported: Vec<&str> = report.actions.iter().map(|p| p.action).collect();
    assert_eq!(reported, listed);
    let names: Vec<&str> = actions().iter().map(|a| a.name).collect();
    assert_eq!(names, listed);
    assert!(report.with(Verdict::Denied).is_empty());
    // Not provable: no DryRun, no zone; no flow log, so no log group to read.
    assert_eq!(not_proven(&report), never_proven(true));
    let zone_write = proof(&report, "route53:CreateVPCAssociationAuthorization");
    assert!(
        zone_write.evidence.contains("has no DryRun"),
        "{zone_write:?}"
    );
    assert!(
        proof(&report, "route53:GetHostedZone")
            .evidence
            .contains("Z00000000000000000000 (none): NoSuchHostedZone: not denied"),
        "{report:#?}"
    );
    // The writes aimed at the VPC's own route table and group; no peering yet: stand-ins.
    let subjects = &report.subjects;
    assert_eq!(
        subjects.route_table.as_deref(),
        Some(env.scenario.accepter.main_route_table.as_str())
    );
    assert!(subjects.security_group.is_some());
    assert_eq!(subjects.active_peering, None);
    let accept = proof(&report, "ec2:AcceptVpcPeeringConnection");
    assert!(
        accept
            .evidence
            .contains("pcx-00000000000000000 (none): DryRunOperation"),
        "{accept:?}"
    );
    nothing_changed(&env).await;

    // Without --vpc: the account's first VPC that is not its default one.
    let report = check_permissions(&env, REQUESTER_ACCOUNT, None).await;
    assert_eq!(report.exit_code(), 0, "{report:#?}");
    assert_eq!(
        report.subjects.vpc_id.as_deref(),
        Some(env.scenario.requester.vpc_id.as_str())
    );
}

/// A log group and a flow log of the accepter VPC delivering to it.
async fn accepter_flow_log_group(env: &TestEnv) -> String {
    let accepter = &env.scenario.accepter;
    let group = format!("/vpc/{}", accepter.vpc_id);
    let config = env
        .scenario
        .seeder
        .role_config(ACCEPTER_ACCOUNT)
        .await
        .expect("accepter role");
    aws_sdk_cloudwatchlogs::Client::new(&config)
        .create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    accepter
        .ec2
        .create_flow_logs()
        .resource_type(FlowLogsResourceType::Vpc)
        .resource_ids(&accepter.vpc_id)
        .traffic_type(TrafficType::Reject)
        .log_destination_type(LogDestinationType::CloudWatchLogs)
        .log_group_name(&group)
        .deliver_logs_permission_arn("arn:aws:iam::222222222222:role/vpc-flow-logs")
        .send()
        .await
        .unwrap();
    group
}

#[tokio::test]
async fn with_a_wired_peering_and_a_flow_log_every_call_aims_at_real_resources() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = env.active_peering().await;
    env.wire(&pcx).await;
    let group = accepter_flow_log_group(&env).await;

    let report =
        check_permissions(&env, ACCEPTER_ACCOUNT, Some(&env.scenario.accepter.vpc_id)).await;

    assert_eq!(report.exit_code(), 0, "{report:#?}");
    assert_eq!(not_proven(&report), never_proven(false));
    let subjects = &report.subjects;
    assert_eq!(subjects.peering_into_vpc.as_deref(), Some(pcx.as_str()));
    assert_eq!(subjects.active_peering.as_deref(), Some(pcx.as_str()));
    assert_eq!(subjects.active_side, Some("accepter"));
    assert_eq!(subjects.route_destination.as_deref(), Some("10.0.0.0/16"));
    assert_eq!(subjects.log_group.as_deref(), Some(group.as_str()));
    assert_eq!(verdict(&report, "logs:FilterLogEvents"), Verdict::Allowed);
    // DryRun Delete, Reject and DeleteRoute left the peering and its routes alone.
    assert_eq!(env.status(&pcx).await, "active");
    let table = subjects.route_table.clone().unwrap();
    let routes = env.scenario.accepter.routes(&table).await.unwrap();
    assert!(
        routes.iter().any(|(_, target)| *target == pcx),
        "{routes:?}"
    );
    nothing_changed(&env).await;

    // The requester sets its own side's options.
    let report = check_permissions(
        &env,
        REQUESTER_ACCOUNT,
        Some(&env.scenario.requester.vpc_id),
    )
    .await;
    assert_eq!(report.exit_code(), 0, "{report:#?}");
    assert_eq!(report.subjects.active_side, Some("requester"));
}

/// The scenario with the emulator's `deny_actions` set to `actions`.
async fn denying(actions: &str) -> TestEnv {
    TestEnv::with(WIRING_POLICY, EnvOptions::setting("deny_actions", actions)).await
}

/// The other account's role is not affected by what the accepter's is denied.
async fn requester_unaffected(env: &TestEnv) {
    let report = check_permissions(env, REQUESTER_ACCOUNT, None).await;
    assert_eq!(report.exit_code(), 0, "{report:#?}");
}

#[tokio::test]
async fn a_denied_create_route_is_named_with_the_statement_that_grants_it_exit_1() {
    let env = denying("222222222222:ec2:CreateRoute").await;
    let vpc = env.scenario.accepter.vpc_id.clone();

    let report = check_permissions(&env, ACCEPTER_ACCOUNT, Some(&vpc)).await;

    assert_eq!(report.exit_code(), 1, "{report:#?}");
    assert_eq!(report.with(Verdict::Denied), ["ec2:CreateRoute"]);
    let denied = report
        .actions
        .iter()
        .find(|p| p.verdict == Verdict::Denied)
        .unwrap();
    assert!(
        denied.evidence.ends_with(": UnauthorizedOperation"),
        "{denied:?}"
    );
    let fix = denied.fix.as_deref().unwrap();
    assert!(fix.contains("templates/member-role.yaml"), "{fix}");
    assert!(fix.contains("RoutesInManagedVpcs"), "{fix}");
    assert!(
        fix.contains(&format!(
            "ManagedVpcArns to include arn:aws:ec2:us-east-1:222222222222:vpc/{vpc}"
        )),
        "{fix}"
    );
    assert_eq!(
        denied.needed_by,
        ["peering-request", "peering-wiring", "drift-recheck"]
    );
    let text = render(&report);
    assert!(text.contains("denied: ec2:CreateRoute\n"), "{text}");
    let json = serde_json::to_value(&report).unwrap();
    let row = json["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "ec2:CreateRoute")
        .unwrap();
    assert_eq!(row["verdict"], "denied");
    requester_unaffected(&env).await;
}

#[tokio::test]
async fn denied_route53_reads_are_named_with_read_hosted_zones_exit_1() {
    let env = denying("222222222222:route53:*").await;

    let report =
        check_permissions(&env, ACCEPTER_ACCOUNT, Some(&env.scenario.accepter.vpc_id)).await;

    assert_eq!(report.exit_code(), 1, "{report:#?}");
    // The reads are called, and refused; the writes are never called: still not proven.
    assert_eq!(
        report.with(Verdict::Denied),
        [
            "route53:GetHostedZone",
            "route53:ListTagsForResources",
            "route53:ListResourceRecordSets"
        ]
    );
    for proof in report
        .actions
        .iter()
        .filter(|p| p.verdict == Verdict::Denied)
    {
        assert!(proof.evidence.ends_with(": AccessDenied"), "{proof:?}");
        let fix = proof.fix.as_deref().unwrap();
        assert!(
            fix.contains("statement ReadHostedZones (policy peerwire-member-read)"),
            "{fix}"
        );
    }
    assert_eq!(
        verdict(&report, "route53:AssociateVPCWithHostedZone"),
        Verdict::NotProven
    );
    assert_eq!(
        proof(&report, "route53:ListResourceRecordSets").needed_by,
        ["peerwire diagnose"]
    );
    requester_unaffected(&env).await;
}

#[tokio::test]
async fn a_role_that_cannot_be_assumed_is_no_answer_naming_the_trust_policy_and_external_id() {
    let env = TestEnv::new(WIRING_POLICY).await;
    env.emulator
        .set("deny_assume_role", ACCEPTER_ACCOUNT)
        .await
        .unwrap();

    let report = check_permissions(&env, ACCEPTER_ACCOUNT, None).await;

    assert_eq!(report.exit_code(), 2, "{report:#?}");
    let why = report.no_answer.as_deref().unwrap();
    assert!(why.starts_with("no answer: AssumeRole"), "{why}");
    assert!(why.contains("trust policy"), "{why}");
    assert!(why.contains("ExternalId is wrong"), "{why}");
    assert!(
        report.actions.is_empty(),
        "nothing is judged without the role"
    );
    assert!(report.identity.is_none());

    // The same answer when the role trusts the hub but wants another ExternalId.
    env.emulator
        .set("require_external_id", "the-member-stack-s-external-id")
        .await
        .unwrap();
    let report = check_permissions(&env, REQUESTER_ACCOUNT, None).await;
    assert_eq!(report.exit_code(), 2, "{report:#?}");
    let why = report.no_answer.as_deref().unwrap();
    assert!(
        why.contains("trust policy") && why.contains("ExternalId is wrong"),
        "{why}"
    );
}

#[tokio::test]
async fn a_vpc_the_account_does_not_have_is_no_answer() {
    let env = TestEnv::new(WIRING_POLICY).await;

    let report = check_permissions(&env, ACCEPTER_ACCOUNT, Some("vpc-0123456789abcdef0")).await;

    assert_eq!(report.exit_code(), 2, "{report:#?}");
    assert!(report
        .no_answer
        .as_deref()
        .is_some_and(|why| why.contains("vpc-0123456789abcdef0 does not exist")));
}
