//! Never stuck: every step that can be finished is finished, orphans AWS forgot are cleaned,
//! quotas are respected before the write, and a sweep cut short by its deadline loses nothing.

use std::time::{Duration, Instant};

use peerwire::events::WiringTrigger;
use peerwire::outcome::OutcomeKind;
use peerwire::plan::Finding;
use peerwire_emulator::scenario::Side;
use peerwire_integration::{
    edited, first_of, EnvOptions, TestEnv, ACCEPTER_ACCOUNT, REGION, REQUESTER_ACCOUNT,
    WIRING_POLICY,
};

/// Every route anywhere in `side`'s account still targeting `pcx`.
async fn routes_to(side: &Side, pcx: &str) -> usize {
    side.routes_via(pcx).await.unwrap()
}

/// The descriptions of the inbound rules of `side`'s tagged group.
async fn ingress_descriptions(side: &Side) -> Vec<String> {
    side.ingress_descriptions().await.unwrap()
}

#[tokio::test]
async fn a_refused_step_stops_neither_the_other_steps_nor_the_other_side() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = env.active_peering().await;
    env.emulator
        .set(
            "deny_actions",
            &format!("{REQUESTER_ACCOUNT}:ec2:CreateRoute"),
        )
        .await
        .unwrap();

    let report = env.wire(&pcx).await;

    let outcome = first_of(&report.run.outcomes, OutcomeKind::Failed);
    assert_eq!(
        outcome.error.as_ref().unwrap().error_type,
        "peerwire.AwsAccessDenied"
    );
    // The requester's routes failed, with AWS's code; everything else went through.
    let failed: Vec<_> = outcome
        .reasons
        .iter()
        .filter(|r| r.contains("failed: CreateRoute failed: UnauthorizedOperation"))
        .collect();
    assert_eq!(failed.len(), 3, "{outcome:?}");
    assert_eq!(routes_to(&env.scenario.accepter, &pcx).await, 3);
    assert_eq!(routes_to(&env.scenario.requester, &pcx).await, 0);
    assert_eq!(env.dns_options(&pcx).await, (true, true));
    assert!(outcome
        .changes
        .iter()
        .any(|c| c.operation() == "AuthorizeSecurityGroupIngress"));
}

#[tokio::test]
async fn cleanup_cleans_the_accepter_side_when_the_requesters_role_is_denied() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = env.wired_peering().await;
    env.delete_peering(&pcx).await;
    // The requester's member role lost its permissions (its credentials are still cached).
    env.emulator
        .set(
            "deny_actions",
            &format!("{REQUESTER_ACCOUNT}:ec2:DescribeRouteTables"),
        )
        .await
        .unwrap();

    let report = env.cleanup_door(&env.deleted_event(&pcx)).await;

    let outcome = first_of(&report.run.outcomes, OutcomeKind::Failed);
    assert!(
        outcome
            .reasons
            .iter()
            .any(|r| r.starts_with("requester side (111111111111) not cleaned")),
        "{outcome:?}"
    );
    assert_eq!(routes_to(&env.scenario.accepter, &pcx).await, 0);
    let accepter_rules = ingress_descriptions(&env.scenario.accepter).await;
    assert!(accepter_rules.iter().all(|d| !d.starts_with("peerwire:")));
}

#[tokio::test]
async fn cleanup_does_not_even_read_a_side_the_policy_does_not_manage() {
    let unmanaged = "      requester:\n        manage: false";
    let managed = "      requester:\n        security_group_tags: { role: ecs-tasks }";
    let env = TestEnv::new(&edited(WIRING_POLICY, managed, unmanaged)).await;
    let pcx = env.wired_peering().await;
    env.delete_peering(&pcx).await;
    env.calls().take();

    env.cleanup_door(&env.deleted_event(&pcx)).await;

    // The event comes from the requester account: one AssumeRole there to read the peering,
    // none for its leftovers; the accepter side is cleaned.
    let describes_in_requester = env
        .calls()
        .calls()
        .iter()
        .filter(|c| c.operation == "DescribeRouteTables")
        .count();
    assert_eq!(describes_in_requester, 1, "{:?}", env.calls().calls());
    assert_eq!(routes_to(&env.scenario.accepter, &pcx).await, 0);
}

#[tokio::test]
async fn the_sweep_removes_what_is_left_of_a_peering_aws_forgot_and_nothing_a_person_made() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = env.wired_peering().await;
    let accepter = &env.scenario.accepter;
    // A person's own rule for the requester CIDR, without peerwire's marker.
    accepter
        .authorize_tcp_ingress(6432, "10.0.0.0/16", "pgbouncer, added by alice")
        .await
        .unwrap();
    env.delete_peering(&pcx).await;
    // About two hours later AWS no longer shows the peering to anyone.
    env.emulator.set("forget_after", "0").await.unwrap();
    let gone = env
        .scenario
        .accepter
        .ec2
        .describe_vpc_peering_connections()
        .vpc_peering_connection_ids(&pcx)
        .send()
        .await;
    assert!(gone.is_err(), "the emulator forgot the peering: {gone:?}");

    let report = env.cleanup_door(&env.sweep_event()).await;

    let outcome = report
        .run
        .outcomes
        .iter()
        .find(|o| o.peering_id.as_ref().is_some_and(|p| p == &pcx))
        .unwrap_or_else(|| panic!("{:?}", report.run.outcomes));
    assert_eq!(outcome.kind, OutcomeKind::CleanedUp);
    for side in [&env.scenario.accepter, &env.scenario.requester] {
        assert_eq!(routes_to(side, &pcx).await, 0, "{}", side.account);
    }
    let rules = ingress_descriptions(accepter).await;
    assert!(
        rules.iter().all(|d| !d.starts_with("peerwire:")),
        "{rules:?}"
    );
    assert!(
        rules.contains(&"pgbouncer, added by alice".to_owned()),
        "{rules:?}"
    );
    // A second sweep finds nothing left.
    let again = env.cleanup_door(&env.sweep_event()).await;
    assert!(again.run.outcomes.is_empty(), "{:?}", again.run.outcomes);
}

#[tokio::test]
async fn a_route_past_the_quota_is_not_attempted_and_the_rest_is_wired() {
    let env = TestEnv::with(WIRING_POLICY, EnvOptions::setting("routes_per_table", "1")).await;
    // One route already in the accepter's first table: the table is full.
    let accepter = &env.scenario.accepter;
    accepter
        .route_via_gateway(&accepter.route_tables[0], "192.168.0.0/24", "local")
        .await
        .ok();
    let pcx = env.active_peering().await;

    let report = env.wire(&pcx).await;

    let outcome = first_of(&report.run.outcomes, OutcomeKind::WiringBlocked);
    let quota: Vec<_> = outcome
        .findings
        .iter()
        .filter(|f| matches!(f, Finding::QuotaExceeded { .. }))
        .collect();
    assert!(!quota.is_empty(), "{outcome:?}");
    assert!(
        matches!(quota[0], Finding::QuotaExceeded { limit: 1, .. }),
        "{quota:?}"
    );
    // Nothing was refused by AWS: what did not fit was not attempted.
    assert!(
        outcome
            .reasons
            .iter()
            .all(|r| !r.contains("RouteLimitExceeded")),
        "{outcome:?}"
    );
    assert_eq!(env.dns_options(&pcx).await, (true, true));
    assert_eq!(
        env.calls().count("GetServiceQuota"),
        4,
        "two quotas per account"
    );
}

#[tokio::test]
async fn a_sweep_cut_short_by_its_deadline_starts_the_next_one_with_what_it_missed() {
    let env = TestEnv::with(WIRING_POLICY, EnvOptions::ledger()).await;
    let pcx = env.active_peering().await;

    // A deadline inside the safety margin: no peering is started.
    let deadline = Instant::now() + Duration::from_secs(5);
    let sweep = env.sweep_event();
    let cut = peerwire::doors::handle::<WiringTrigger>(&env.app, &sweep, Some(deadline))
        .await
        .unwrap();
    assert!(cut.run.outcomes.is_empty());
    assert_eq!(cut.run.not_reached.len(), 1);
    assert_eq!(cut.run.not_reached[0], pcx);

    let next = env.wiring_door(&env.sweep_event()).await;
    assert_eq!(next.run.outcomes.len(), 1);
    assert_eq!(next.run.outcomes[0].kind, OutcomeKind::Wired);
    assert!(next.run.not_reached.is_empty());
}

#[tokio::test]
async fn a_plan_claim_outlives_its_apply_by_a_minute_only() {
    let env = TestEnv::with(WIRING_POLICY, EnvOptions::ledger()).await;
    let pcx = env.active_peering().await;

    let report = env.wire(&pcx).await;
    assert_eq!(report.run.outcomes[0].kind, OutcomeKind::Wired);

    // The same route removed again later must be repaired, not taken for a duplicate of the
    // first wiring: the claim is cut to a minute once the plan is applied.
    let hub = env
        .emulator
        .hub_config(&peerwire::aws::calls::CallLog::default())
        .await;
    let items = aws_sdk_dynamodb::Client::new(&hub)
        .scan()
        .table_name(peerwire_integration::LEDGER_TABLE)
        .send()
        .await
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims: Vec<u64> = items
        .items()
        .iter()
        .filter(|item| item["pk"].as_s().unwrap().starts_with("plan#"))
        .map(|item| item["expires_at"].as_n().unwrap().parse().unwrap())
        .collect();
    assert_eq!(claims.len(), 1, "one plan applied, one claim");
    assert!(
        claims[0] <= now + 60,
        "claim held {}s",
        claims[0].saturating_sub(now)
    );
}

#[tokio::test]
async fn an_active_peering_whose_requester_role_is_denied_is_told_once_a_day_not_ignored() {
    let env = TestEnv::with(WIRING_POLICY, EnvOptions::ledger()).await;
    let pcx = env.active_peering().await;
    env.emulator
        .set("deny_assume_role", REQUESTER_ACCOUNT)
        .await
        .unwrap();

    let sweep = || env.sweep_event();
    let first = env.wiring_door(&sweep()).await;
    let again = env.wiring_door(&sweep()).await;

    // The rule needs the requester's own tags, which only its member role can read: not wired,
    // and a person is told why, once.
    let outcome = first_of(&first.run.outcomes, OutcomeKind::Failed);
    assert_eq!(outcome.peering_id.as_ref().unwrap().as_str(), pcx);
    assert!(
        outcome.reasons[0].contains("cannot be verified")
            && outcome.reasons[0].contains(REQUESTER_ACCOUNT),
        "{outcome:?}"
    );
    assert!(again.run.outcomes.is_empty(), "{:?}", again.run.outcomes);
    assert_eq!(routes_to(&env.scenario.accepter, &pcx).await, 0);
    assert!(env.calls().ec2_writes().is_empty());
}

#[tokio::test]
async fn concurrent_askers_of_one_accounts_quotas_share_one_read() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let account: peerwire::model::AccountId = ACCEPTER_ACCOUNT.parse().unwrap();
    let region: peerwire::model::Region = REGION.parse().unwrap();
    let at = peerwire::model::Location::new(account, region);
    let ask = || env.app.quotas.quotas(&env.app.aws, &at);

    let (first, second, third) = tokio::join!(ask(), ask(), ask());

    assert_eq!(first.unwrap(), second.unwrap());
    assert_eq!(third.unwrap().source, "Service Quotas");
    // Two quotas, read once for the three askers (a sweep's peerings of one account).
    assert_eq!(env.calls().count("GetServiceQuota"), 2);
}
