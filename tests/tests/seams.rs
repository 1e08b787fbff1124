//! Where peerwire meets the rest of AWS in a real organisation: a member role that is gone, an
//! accept rolled back while AWS still provisions it, the same two VPCs peered again. Each test
//! is the AWS behaviour the VPC Peering Guide documents, on the emulator made as strict.

use aws_sdk_ec2::types::Filter;
use peerwire::doors::request::handle_request_event;
use peerwire::doors::wiring::handle_wiring_event;
use peerwire::model::{Side, ROLLBACK_TAG};
use peerwire::outcome::{Outcome, OutcomeKind};
use peerwire::plan::Finding;
use peerwire_emulator::EmulatorOptions;
use peerwire_integration::{
    about, EnvOptions, TestEnv, DEFAULT_POLICY, REQUESTER_ACCOUNT, TAGS, WIRING_POLICY,
};

// ---- a member role that is gone ----

/// A deletion announced from the requester's account, whose member role peerwire can no
/// longer use: the peering is found through the accepter (either owner may describe it), the
/// accepter side is cleaned, and the requester side is one finding, not a failed run.
#[tokio::test]
async fn a_deletion_from_an_account_whose_role_is_gone_is_cleaned_through_the_accepter() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = env.wired_peering().await;
    env.delete_peering(&pcx).await;
    env.emulator
        .set("deny_actions", &format!("{REQUESTER_ACCOUNT}:ec2:*"))
        .await
        .unwrap();

    let report = env.cleanup_door(&env.deleted_event(&pcx)).await;

    let outcome = about(&report.run.outcomes, &pcx);
    let unreachable: Vec<Side> = outcome
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::SideUnreachable { side, error, .. } => {
                assert!(error.contains("UnauthorizedOperation"), "{error}");
                Some(*side)
            }
            _ => None,
        })
        .collect();
    assert_eq!(unreachable, [Side::Requester], "{outcome:?}");
    assert_eq!(env.scenario.accepter.routes_via(&pcx).await.unwrap(), 0);
    let rules = env.scenario.accepter.ingress_descriptions().await.unwrap();
    assert!(rules.iter().all(|d| !d.contains(&pcx)), "{rules:?}");
}

// ---- an accept rolled back while AWS provisions it ----

/// Two colliding requests decided at once while AWS takes seconds to provision an accepted
/// peering (and refuses to delete it meanwhile): exactly one stays live, the other is
/// refused, and nothing is left half done.
#[tokio::test]
async fn colliding_requests_decided_at_once_while_aws_provisions_leave_exactly_one_live() {
    let options = EnvOptions {
        emulator: EmulatorOptions::new().setting("provisioning_seconds", "2"),
        ..EnvOptions::default()
    };
    let env = TestEnv::with(DEFAULT_POLICY, options).await;
    let (first, second) = colliding_requests(&env).await;
    let (a, b) = tokio::join!(
        handle_request_event(&env.app, &first.1),
        handle_request_event(&env.app, &second.1)
    );
    let outcomes: Vec<Outcome> = a
        .unwrap()
        .run
        .outcomes
        .into_iter()
        .chain(b.unwrap().run.outcomes)
        .collect();

    let mut kinds = [&first.0, &second.0].map(|pcx| about(&outcomes, pcx).kind);
    kinds.sort_by_key(|k| format!("{k:?}"));
    assert_eq!(kinds, [OutcomeKind::Accepted, OutcomeKind::Rejected]);
    env.emulator.set("clock_offset", "5").await.unwrap();
    let mut live = 0;
    for pcx in [&first.0, &second.0] {
        if env.scenario.status(pcx).await.unwrap() == "active" {
            live += 1;
        }
    }
    assert_eq!(live, 1);
}

/// The state a rollback leaves when it cannot wait for `provisioning` to end (two deciders
/// that did not see each other, as EC2's eventually consistent describes allow): the accepter
/// view carries the mark. The wiring function waits while AWS provisions (and fails for a
/// retry, wiring nothing), then deletes the peering instead of wiring it.
#[tokio::test]
async fn a_peering_marked_for_rollback_is_deleted_by_the_wiring_function_never_wired() {
    let options = EnvOptions {
        emulator: EmulatorOptions::new().setting("provisioning_seconds", "3600"),
        ..EnvOptions::default()
    };
    let env = TestEnv::with(WIRING_POLICY, options).await;
    let pcx = env.scenario.request_peering(TAGS).await.unwrap();
    env.scenario.accept_directly(&pcx).await.unwrap();
    // What the request function writes before it waits (`aws::apply::mark_rollback`).
    env.scenario
        .accepter
        .tag_peering(&pcx, ROLLBACK_TAG, "pcx-0aaaaaaaaaaaaaaa0")
        .await
        .unwrap();

    let still_provisioning = handle_wiring_event(&env.app, &env.accepted_event(&pcx)).await;
    assert!(
        still_provisioning.as_ref().is_err_and(|e| e.is_transient()),
        "{still_provisioning:?}"
    );
    assert_eq!(env.scenario.accepter.routes_via(&pcx).await.unwrap(), 0);

    // AWS finishes provisioning; the retried acceptance reaches the wiring function.
    env.emulator.set("clock_offset", "3600").await.unwrap();
    let report = env.wiring_door(&env.accepted_event(&pcx)).await;

    let outcome = about(&report.run.outcomes, &pcx);
    assert_eq!(outcome.kind, OutcomeKind::Rejected, "{outcome:?}");
    assert!(
        outcome
            .reasons
            .iter()
            .any(|r| r.contains("pcx-0aaaaaaaaaaaaaaa0")),
        "{outcome:?}"
    );
    assert_eq!(env.scenario.accepter.routes_via(&pcx).await.unwrap(), 0);
    assert_eq!(env.scenario.requester.routes_via(&pcx).await.unwrap(), 0);
    assert_eq!(env.scenario.status(&pcx).await.unwrap(), "deleted");
    assert_eq!(
        env.calls()
            .take()
            .iter()
            .filter(|c| c.operation == "CreateRoute")
            .count(),
        0
    );
}

/// Two requests for the same accepter CIDR from two new requester VPCs with the same CIDR, and
/// their request events.
async fn colliding_requests(
    env: &TestEnv,
) -> ((String, serde_json::Value), (String, serde_json::Value)) {
    let mut requests = Vec::new();
    for _ in 0..2 {
        let (vpc, pcx) = env
            .scenario
            .request_from_new_vpc(REQUESTER_ACCOUNT, "10.6.0.0/16", TAGS)
            .await
            .unwrap();
        let event = env.cloudtrail_event(&pcx, REQUESTER_ACCOUNT, &vpc);
        requests.push((pcx, event));
    }
    let second = requests.pop().unwrap();
    let first = requests.pop().unwrap();
    (first, second)
}

// ---- the same two VPCs peered again ----

/// A wired peering deleted by its requester, and a new one between the same two VPCs accepted
/// by a person: (world, old peering, new peering, the accepter's rule descriptions while the
/// old one was wired).
async fn peered_again() -> (TestEnv, String, String, Vec<String>) {
    let env = TestEnv::new(WIRING_POLICY).await;
    let old = env.wired_peering().await;
    let before = env.scenario.accepter.ingress_descriptions().await.unwrap();
    env.delete_peering(&old).await;
    let new = env.scenario.request_peering(TAGS).await.unwrap();
    env.scenario.accept_directly(&new).await.unwrap();
    (env, old, new, before)
}

/// AWS: "If a security group rule is stale because the VPC peering connection was deleted, the
/// rule will no longer be marked as stale if you create a new VPC peering connection with the
/// same VPCs" (VPC Peering Guide, "Update your security groups to reference peer security
/// groups"). The revived rules are re-marked for the new peering, and the old peering's
/// cleanup then leaves them.
#[tokio::test]
async fn rules_revived_by_peering_the_same_vpcs_again_are_re_marked_and_survive_the_old_cleanup() {
    let (env, old, new, before) = peered_again().await;
    let wired = env.wiring_door(&env.accepted_event(&new)).await;
    let outcome = about(&wired.run.outcomes, &new);
    assert!(
        outcome
            .changes
            .iter()
            .any(|c| c.operation() == "UpdateSecurityGroupRuleDescriptionsIngress"),
        "{outcome:?}"
    );
    env.cleanup_door(&env.deleted_event(&old)).await;

    let after = env.scenario.accepter.ingress_descriptions().await.unwrap();
    assert_eq!(after.len(), before.len(), "{before:?} -> {after:?}");
    assert!(after.iter().all(|d| !d.contains(&old)), "{after:?}");
    assert!(after.iter().any(|d| d.contains(&new)), "{after:?}");
}

/// The old peering's cleanup runs first, while the new peering is live but not wired yet: the
/// rules stay (one finding per group and direction), and the new peering's wiring re-marks
/// them.
#[tokio::test]
async fn cleanup_keeps_the_rules_a_live_peering_of_the_same_vpcs_needs() {
    let (env, old, new, before) = peered_again().await;

    let cleaned = env.cleanup_door(&env.deleted_event(&old)).await;

    let outcome = about(&cleaned.run.outcomes, &old);
    assert!(
        outcome.findings.iter().any(|f| matches!(
            f,
            Finding::RulesKept { live_peering_id, .. } if live_peering_id.as_str() == new
        )),
        "{outcome:?}"
    );
    assert_eq!(env.scenario.accepter.routes_via(&old).await.unwrap(), 0);
    assert_eq!(
        env.scenario.accepter.ingress_descriptions().await.unwrap(),
        before
    );

    env.wiring_door(&env.accepted_event(&new)).await;
    let after = env.scenario.accepter.ingress_descriptions().await.unwrap();
    assert_eq!(after.len(), before.len());
    assert!(after.iter().all(|d| !d.contains(&old)), "{after:?}");
}

// ---- a corporate supernet, and routes a VPN propagates ----

/// A virtual private gateway attached to the accepter VPC.
async fn accepter_vgw(env: &TestEnv) -> String {
    env.scenario.accepter.attached_vpn_gateway().await.unwrap()
}

/// Every route table of the accepter VPC, the main one included.
async fn accepter_tables(env: &TestEnv) -> Vec<String> {
    let answer = env
        .scenario
        .accepter
        .ec2
        .describe_route_tables()
        .filters(
            Filter::builder()
                .name("vpc-id")
                .values(&env.scenario.accepter.vpc_id)
                .build(),
        )
        .send()
        .await
        .unwrap();
    answer
        .route_tables()
        .iter()
        .filter_map(|t| t.route_table_id().map(str::to_owned))
        .collect()
}

/// An enterprise VPC sends `10.0.0.0/8` to its VPN in every route table. The requester's
/// `10.0.0.0/16` is more specific: the peering route wins by longest prefix match (VPC User
/// Guide, "How route priority works"), so the request is accepted and wired, not rejected.
#[tokio::test]
async fn a_corporate_supernet_to_a_vpn_does_not_refuse_a_request_the_peering_route_wins() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let vgw = accepter_vgw(&env).await;
    let tables = accepter_tables(&env).await;
    for table in &tables {
        env.scenario
            .accepter
            .ec2
            .create_route()
            .route_table_id(table)
            .destination_cidr_block("10.0.0.0/8")
            .gateway_id(&vgw)
            .send()
            .await
            .unwrap();
    }
    let pcx = env.scenario.request_peering(TAGS).await.unwrap();

    // The request function accepts it, and wires what it accepted.
    let decided = env.request_door(&env.request_event(&pcx)).await;
    let kinds: Vec<OutcomeKind> = decided.run.outcomes.iter().map(|o| o.kind).collect();
    assert_eq!(
        kinds,
        [OutcomeKind::Accepted, OutcomeKind::Wired],
        "{:?}",
        decided.run.outcomes
    );
    assert_eq!(
        env.scenario.accepter.routes_via(&pcx).await.unwrap(),
        tables.len()
    );
}

/// Routes a VPN propagates do not count against the routes-per-table quota (L-93826ACB counts
/// non-propagated routes, Amazon VPC quotas); a propagated route to exactly the peer CIDR is a
/// conflict: a static peering route would take priority over it and take the VPN's traffic.
#[tokio::test]
async fn propagated_routes_are_outside_the_quota_and_one_to_the_peer_cidr_is_never_overridden() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let vgw = accepter_vgw(&env).await;
    let tables = accepter_tables(&env).await;
    let (quiet, busy) = (&tables[0], &tables[1]);
    let requester_cidr = env.scenario.requester.cidr.clone();
    let pcx = env.scenario.request_peering(TAGS).await.unwrap();
    env.scenario.accept_directly(&pcx).await.unwrap();
    env.emulator
        .set(
            "vgw_advertised_routes",
            &format!(r#"{{"{vgw}": ["192.168.1.0/24", "192.168.2.0/24", "192.168.3.0/24", "192.168.4.0/24"]}}"#),
        )
        .await
        .unwrap();
    for table in [quiet, busy] {
        env.scenario
            .accepter
            .ec2
            .enable_vgw_route_propagation()
            .gateway_id(&vgw)
            .route_table_id(table)
            .send()
            .await
            .unwrap();
    }
    // Two static routes per table: the local one and the peering's. Four propagated ones would
    // put the table over that if they counted.
    env.emulator.set("routes_per_table", "2").await.unwrap();
    let wired = env.wiring_door(&env.accepted_event(&pcx)).await;
    let outcome = about(&wired.run.outcomes, &pcx);
    assert_eq!(outcome.kind, OutcomeKind::Wired, "{outcome:?}");
    assert!(
        outcome
            .findings
            .iter()
            .all(|f| !matches!(f, Finding::QuotaExceeded { .. })),
        "{outcome:?}"
    );
    assert_eq!(
        env.scenario.accepter.routes_via(&pcx).await.unwrap(),
        tables.len()
    );

    // Now the VPN advertises the requester's CIDR itself, and the peering route is removed
    // from the busy table: peerwire does not put a static route over the propagated one.
    env.emulator
        .set(
            "vgw_advertised_routes",
            &format!(r#"{{"{vgw}": ["192.168.1.0/24", "{requester_cidr}"]}}"#),
        )
        .await
        .unwrap();
    env.scenario
        .accepter
        .ec2
        .delete_route()
        .route_table_id(busy)
        .destination_cidr_block(&requester_cidr)
        .send()
        .await
        .unwrap();
    let rechecked = env.wiring_door(&env.accepted_event(&pcx)).await;
    let outcome = about(&rechecked.run.outcomes, &pcx);
    assert_eq!(outcome.kind, OutcomeKind::WiringBlocked, "{outcome:?}");
    assert!(
        outcome.findings.iter().any(|f| matches!(
            f,
            Finding::RouteConflict { route_table_id, propagated: true, .. } if route_table_id.as_str() == busy.as_str()
        )),
        "{outcome:?}"
    );
    assert_eq!(
        env.scenario.accepter.routes_via(&pcx).await.unwrap(),
        tables.len() - 1
    );
}

// ---- drift that comes back ----

/// A minute passes: the ledger's plan claims (held a minute after their apply, against
/// duplicate deliveries) are gone.
async fn a_minute_later(env: &TestEnv) {
    let hub = env
        .emulator
        .hub_config(&peerwire::aws::calls::CallLog::default())
        .await;
    let ledger = aws_sdk_dynamodb::Client::new(&hub);
    let items = ledger
        .scan()
        .table_name(peerwire_integration::LEDGER_TABLE)
        .send()
        .await
        .unwrap();
    for item in items.items() {
        let key = item["pk"].clone();
        if key.as_s().unwrap().starts_with("plan#") {
            ledger
                .delete_item()
                .table_name(peerwire_integration::LEDGER_TABLE)
                .key("pk", key)
                .send()
                .await
                .unwrap();
        }
    }
}

/// Infrastructure code that owns the accepter's route table removes peerwire's route at every
/// apply. Each removal is repaired; the first is reported with who removed it, the second
/// within 24 hours becomes one `Peering Drift Recurring`, and the third is not notified.
#[tokio::test]
async fn a_route_removed_again_and_again_is_repaired_each_time_and_said_once_as_recurring() {
    const DEPLOYER: &str = "arn:aws:sts::222222222222:assumed-role/platform-deployer/terraform";
    let options = EnvOptions {
        ledger: true,
        ..EnvOptions::default()
    };
    let env = TestEnv::with(WIRING_POLICY, options).await;
    let pcx = env.wired_peering().await;
    let table = env.scenario.accepter.route_tables[0].clone();
    let cidr = env.scenario.requester.cidr.clone();

    let mut kinds = Vec::new();
    for _ in 0..3 {
        a_minute_later(&env).await;
        env.scenario
            .accepter
            .ec2
            .delete_route()
            .route_table_id(&table)
            .destination_cidr_block(&cidr)
            .send()
            .await
            .unwrap();
        // The CloudTrail record of that call, in the AssumedRole form of "CloudTrail
        // userIdentity element" (as in events/cloudtrail-delete-route.json).
        let mut event = peerwire_emulator::samples::cloudtrail_ec2_call(
            &env.event_id(),
            "DeleteRoute",
            peerwire_integration::ACCEPTER_ACCOUNT,
            peerwire_integration::REGION,
            serde_json::json!({"routeTableId": table, "destinationCidrBlock": cidr}),
        );
        event["detail"]["userIdentity"]["arn"] = serde_json::json!(DEPLOYER);
        let report = env.drift_door(&event).await;
        kinds.push(
            report
                .run
                .outcomes
                .iter()
                .find(|o| o.peering_id.as_ref().is_some_and(|id| id.as_str() == pcx))
                .map(|o| (o.kind, o.changed_by.clone(), o.reasons.first().cloned())),
        );
        assert_eq!(
            env.scenario.accepter.routes_via(&pcx).await.unwrap(),
            3,
            "repaired"
        );
    }

    let [Some(first), Some(second), third] = kinds.as_slice() else {
        panic!("{kinds:?}");
    };
    assert_eq!(
        (first.0, first.1.as_deref()),
        (OutcomeKind::DriftRepaired, Some(DEPLOYER))
    );
    assert_eq!(
        (second.0, second.1.as_deref()),
        (OutcomeKind::DriftRecurring, Some(DEPLOYER))
    );
    let why = second.2.clone().unwrap_or_default();
    assert!(
        why.contains(DEPLOYER) && why.contains("Drift that comes back"),
        "{why}"
    );
    assert_eq!(third, &None, "not notified again today");
}
