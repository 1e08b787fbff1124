//! Wiring an active peering on both sides, against the patched emulator. Each test is a row of
//! the troubleshooting table: which route, which rule, which DNS option, on which side.

use peerwire::model::Location;
use peerwire::outcome::OutcomeKind;
use peerwire::plan::{Ec2Action, Finding};
use peerwire::reconcile::{Mode, Phases, Run, StepResult};
use peerwire::testing::id;
use peerwire_emulator::scenario::Side;
use peerwire_integration::{db_instance_policy, edited, first_of, TestEnv, WIRING_POLICY};

/// Destination -> target of every route of `table` as `side`'s owner sees it.
async fn routes(side: &Side, table: &str) -> Vec<(String, String)> {
    side.routes(table).await.unwrap()
}

fn has_route(routes: &[(String, String)], destination: &str, target: &str) -> bool {
    routes.iter().any(|(d, t)| d == destination && t == target)
}

/// Every route table of `side`, the main one last (it serves subnet c).
fn every_table(side: &Side) -> impl Iterator<Item = &String> {
    side.route_tables.iter().chain([&side.main_route_table])
}

/// Each of `side`'s tables routes `destination` through `pcx`.
async fn assert_routed(side: &Side, destination: &str, pcx: &str) {
    for table in every_table(side) {
        let routes = routes(side, table).await;
        assert!(has_route(&routes, destination, pcx), "{table}: {routes:?}");
    }
}

/// The rule peerwire adds: TCP 5432 from (or to) `peer`, marked as its own for `pcx`.
fn db_rule(peer: &str, pcx: &str) -> (String, i32, i32, String, String) {
    (
        "tcp".to_owned(),
        5432,
        5432,
        peer.to_owned(),
        format!("peerwire:{pcx}"),
    )
}

#[tokio::test]
async fn fresh_wiring_routes_every_table_opens_the_db_port_and_sets_dns_on_both_sides() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = env.active_peering().await;
    let (requester, accepter) = (&env.scenario.requester, &env.scenario.accepter);

    let report = env.wire(&pcx).await;

    first_of(&report.run.outcomes, OutcomeKind::Wired);
    // Three route tables per side, the main one included (it serves subnet c).
    assert_routed(requester, "10.1.0.0/16", &pcx).await;
    assert_routed(accepter, "10.0.0.0/16", &pcx).await;
    // DB port only, from the requester CIDR only, marked as peerwire's.
    let ingress = accepter.ingress_rules().await.unwrap();
    assert_eq!(ingress, [db_rule("10.0.0.0/16", &pcx)]);
    // The task group's default allow-all egress already covers 10.1.0.0/16:5432.
    let egress = requester.egress_rules().await.unwrap();
    assert!(
        egress.iter().all(|r| !r.4.starts_with("peerwire:")),
        "{egress:?}"
    );
    assert_eq!(env.dns_options(&pcx).await, (true, true));

    // The exact calls: filtered describes per side, one write per missing thing.
    let count = |op: &str| env.calls().count(op);
    assert_eq!(count("AssumeRole"), 2, "one per member role");
    // The accepter's view, then the requester's own (its tags decide the rule).
    assert_eq!(count("DescribeVpcPeeringConnections"), 2);
    assert_eq!(count("DescribeVpcs"), 2);
    assert_eq!(
        count("DescribeRouteTables"),
        2,
        "one filtered describe per side"
    );
    // Every subnet is in scope: the route tables show which tables serve them.
    assert_eq!(count("DescribeSubnets"), 0);
    assert_eq!(count("DescribeVpcAttribute"), 4, "two attributes per side");
    assert_eq!(
        count("DescribeSecurityGroups"),
        2,
        "one tag-filtered describe per side"
    );
    assert_eq!(count("DescribeDBInstances"), 0, "no DB instance named");
    // One write per missing thing.
    env.assert_counts(&[
        ("CreateRoute", 6),
        ("AuthorizeSecurityGroupIngress", 1),
        ("AuthorizeSecurityGroupEgress", 0),
        ("ModifyVpcPeeringConnectionOptions", 2),
        ("PutEvents", 1),
    ]);
    // Routes and rules are added on both sides: the two VPC quotas of each account, once.
    assert_eq!(count("GetServiceQuota"), 4);
    assert_eq!(env.calls().calls().len(), 28);

    let delivered = env.delivered_outcomes().await;
    assert_eq!(delivered[0]["detail-type"], "Peering Wired");
    assert_eq!(
        delivered[0]["detail"]["changes"].as_array().unwrap().len(),
        9
    );
}

#[tokio::test]
async fn a_re_run_with_nothing_to_do_only_reads() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = env.wired_peering().await;

    let report = env.wire(&pcx).await;

    assert!(report.run.outcomes.is_empty(), "{:?}", report.run.outcomes);
    let calls = env.calls().calls();
    assert!(calls.iter().all(|c| !c.is_write()), "{calls:?}");
    // Credentials are cached: the re-run assumes no role.
    assert_eq!(env.calls().count("AssumeRole"), 0);
    // The peering from both owners' views, and each side's 5 reads (no subnet read: every
    // subnet is in scope, and the route tables say which tables serve them).
    assert_eq!(calls.len(), 12, "{calls:?}");
    assert!(env.delivered_outcomes().await.is_empty());
}

#[tokio::test]
async fn the_accepted_outcome_event_drives_the_wiring() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = env.pending_peering().await;
    env.request_door(&env.request_event(&pcx)).await;
    // The real "accepted" event, as EventBridge delivered it.
    let accepted = env.delivered_outcomes().await.remove(0);
    assert_eq!(accepted["detail-type"], "Peering Request Accepted");
    // The request function wired it already; a route removed since is the wiring function's
    // to put back when the event arrives.
    let accepter = &env.scenario.accepter;
    accepter
        .delete_route(&accepter.main_route_table, "10.0.0.0/16")
        .await
        .unwrap();

    let report = env.wiring_door(&accepted).await;

    assert_eq!(report.run.outcomes[0].kind, OutcomeKind::Wired);
    let routes = routes(accepter, &accepter.main_route_table).await;
    assert!(has_route(&routes, "10.0.0.0/16", &pcx), "{routes:?}");
}

#[tokio::test]
async fn two_cidrs_on_one_side_are_both_routed_and_opened_in_one_call() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let requester = &env.scenario.requester;
    requester.associate_cidr("10.2.0.0/16").await.unwrap();
    let pcx = env.active_peering().await;

    env.wire(&pcx).await;

    let accepter = &env.scenario.accepter;
    assert_routed(accepter, "10.0.0.0/16", &pcx).await;
    assert_routed(accepter, "10.2.0.0/16", &pcx).await;
    let ingress = accepter.ingress_rules().await.unwrap();
    let sources: Vec<&str> = ingress.iter().map(|r| r.3.as_str()).collect();
    assert_eq!(sources, ["10.0.0.0/16", "10.2.0.0/16"]);
    assert_eq!(env.calls().count("AuthorizeSecurityGroupIngress"), 1);
}

#[tokio::test]
async fn a_transit_gateway_route_to_the_peer_is_left_alone_and_reported() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = env.active_peering().await;
    let accepter = &env.scenario.accepter;
    let conflicted = &accepter.route_tables[0];
    let tgw = accepter
        .route_via_new_transit_gateway(conflicted, "10.0.0.0/16")
        .await
        .unwrap();

    let report = env.wire(&pcx).await;

    let outcome = first_of(&report.run.outcomes, OutcomeKind::WiringBlocked);
    assert!(outcome.findings.iter().any(|f| matches!(f,
        Finding::RouteConflict { route_table_id, target, .. }
            if route_table_id.as_str() == conflicted && target.to_string() == tgw)));
    assert!(has_route(
        &routes(accepter, conflicted).await,
        "10.0.0.0/16",
        &tgw
    ));
    // Everything else was still wired.
    assert!(has_route(
        &routes(accepter, &accepter.route_tables[1]).await,
        "10.0.0.0/16",
        &pcx
    ));
    assert_eq!(env.calls().count("ReplaceRoute"), 0);
    let delivered = env.delivered_outcomes().await;
    assert_eq!(delivered[0]["detail-type"], "Peering Wiring Blocked");
}

#[tokio::test]
async fn a_db_subnet_group_over_three_azs_gets_every_table_and_nothing_else() {
    let env = TestEnv::new(&db_instance_policy()).await;
    env.scenario.create_db("payments-db").await.unwrap();
    let accepter = &env.scenario.accepter;
    // A fourth subnet with its own table, outside the DB subnet group: out of scope.
    let (_, other_table) = accepter
        .add_subnet_with_table("10.1.9.0/24", "us-east-1d")
        .await
        .unwrap();
    let pcx = env.active_peering().await;

    env.wire(&pcx).await;

    assert_routed(accepter, "10.0.0.0/16", &pcx).await;
    let routes = routes(accepter, &other_table).await;
    assert!(!routes.iter().any(|(_, t)| t == &pcx), "{routes:?}");
    // The DB's own security group is opened, found through the instance.
    let ingress = accepter.ingress_rules().await.unwrap();
    assert_eq!(ingress.len(), 1, "{ingress:?}");
    assert_eq!(env.calls().count("DescribeDBInstances"), 1);
}

#[tokio::test]
async fn a_same_region_peer_security_group_is_the_ingress_source_when_asked() {
    let policy = edited(
        WIRING_POLICY,
        "      ports: [5432]",
        "      ports: [5432]\n      ingress_source: security-group",
    );
    let env = TestEnv::new(&policy).await;
    let pcx = env.active_peering().await;

    env.wire(&pcx).await;

    let accepter = &env.scenario.accepter;
    let ingress = accepter.ingress_rules().await.unwrap();
    let requester_group = format!("111111111111/{}", env.scenario.requester.security_group_id);
    assert_eq!(ingress, [db_rule(&requester_group, &pcx)]);
}

#[tokio::test]
async fn egress_is_added_only_where_the_task_group_does_not_already_allow_it() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let requester = &env.scenario.requester;
    // A locked-down task group: no default allow-all egress.
    requester.revoke_default_egress().await.unwrap();
    let pcx = env.active_peering().await;

    env.wire(&pcx).await;

    let egress = requester.egress_rules().await.unwrap();
    assert_eq!(egress, [db_rule("10.1.0.0/16", &pcx)]);
}

#[tokio::test]
async fn a_route_table_deleted_between_observe_and_apply_does_not_crash_and_the_next_run_converges()
{
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = env.active_peering().await;
    let at = Location::new(id("222222222222"), id("us-east-1"));
    let ec2 = env.app.aws.ec2(&at).await;
    let peering = peerwire::aws::observe::describe_peering(&ec2, &at, &id(&pcx))
        .await
        .unwrap()
        .unwrap();
    let mode = Mode::new(Phases::WIRE, OutcomeKind::Wired);
    let dry_run = Mode {
        dry_run: true,
        ..mode
    };
    let planning = Run::start(&env.app, "test", "test", dry_run).await.unwrap();
    let planned = planning.reconcile(peering.clone()).await.unwrap();
    let plan = planned.plan().cloned().unwrap_or_default();
    // Between observe and apply, someone moves subnet a to the main table and deletes its table.
    let accepter = &env.scenario.accepter;
    let doomed = &accepter.route_tables[0];
    accepter.delete_route_table(doomed).await.unwrap();

    let applying = Run::start(&env.app, "test", "test", mode).await.unwrap();
    let applied = applying.apply_plan(&peering, &plan).await;

    let vanished: Vec<_> = applied
        .iter()
        .filter(|a| matches!(a.result, StepResult::Vanished { .. }))
        .collect();
    assert_eq!(vanished.len(), 1, "{applied:?}");
    assert!(
        matches!(vanished[0].step.ec2_action(), Some(Ec2Action::CreateRoute { route_table_id, .. }) if route_table_id.as_str() == doomed)
    );

    // The next run re-observes: subnet a now uses the main table, which is routed.
    env.calls().take();
    let report = env.wire(&pcx).await;
    assert!(report.run.outcomes.is_empty(), "{:?}", report.run.outcomes);
    assert!(env.calls().calls().iter().all(|c| !c.is_write()));
}

#[tokio::test]
async fn the_sweep_wires_every_active_peering_and_ignores_pending_ones() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let active = env.active_peering().await;
    let pending = env.pending_peering().await;

    let report = env.wiring_door(&env.sweep_event()).await;

    assert_eq!(report.run.outcomes.len(), 1);
    assert_eq!(report.run.outcomes[0].peering_id.as_ref().unwrap(), &active);
    assert_eq!(env.status(&pending).await, "pending-acceptance");
}

#[tokio::test]
async fn a_peering_no_rule_matches_is_not_wired() {
    let env = TestEnv::new(WIRING_POLICY).await;
    // Accepted by a person, without the required tag: outside the policy.
    let pcx = env.scenario.accepted_peering(&[]).await.unwrap();

    let report = env.wire(&pcx).await;

    assert!(report.run.outcomes.is_empty());
    assert_eq!(report.run.ignored, vec![pcx]);
    assert!(env.calls().ec2_writes().is_empty());
}
