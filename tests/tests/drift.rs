//! Keeping wired peerings true: re-checks located by CloudTrail EC2 events, RDS failovers and
//! the schedule, against the patched emulator.

use peerwire::outcome::OutcomeKind;
use peerwire_integration::{
    db_instance_policy, first_of, TestEnv, ACCEPTER_ACCOUNT, WIRING_POLICY,
};
use serde_json::json;

/// A peering accepted and wired, with the call log and outcomes emptied.
async fn wired(env: &TestEnv) -> String {
    let pcx = env.active_peering().await;
    assert_eq!(
        env.wire(&pcx).await.run.outcomes[0].kind,
        OutcomeKind::Wired
    );
    env.settle().await;
    pcx
}

#[tokio::test]
async fn a_new_subnet_with_a_new_route_table_gets_the_route_from_its_events() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = wired(&env).await;
    let accepter = &env.scenario.accepter;
    let subnet = accepter
        .add_subnet("10.1.20.0/24", "us-east-1d")
        .await
        .unwrap();
    // CreateSubnet: the subnet uses the main table, which already routes the peer.
    let created = env.ec2_event(
        "CreateSubnet",
        ACCEPTER_ACCOUNT,
        json!({"vpcId": accepter.vpc_id, "cidrBlock": "10.1.20.0/24"}),
    );
    let report = env.drift_door(&created).await;
    assert!(report.run.outcomes.is_empty(), "{:?}", report.run.outcomes);
    assert!(env.calls().ec2_writes().is_empty());

    let table = accepter.new_route_table().await.unwrap();
    accepter
        .associate_route_table(&table, &subnet)
        .await
        .unwrap();
    let associated = env.ec2_event(
        "AssociateRouteTable",
        ACCEPTER_ACCOUNT,
        json!({"routeTableId": table, "subnetId": subnet}),
    );

    let report = env.drift_door(&associated).await;

    let outcome = first_of(&report.run.outcomes, OutcomeKind::DriftRepaired);
    assert!(
        outcome
            .reasons
            .iter()
            .any(|r| r.starts_with("missing:") && r.contains(&table)),
        "{:?}",
        outcome.reasons
    );
    assert_eq!(
        accepter.destinations_via(&table, &pcx).await.unwrap(),
        ["10.0.0.0/16"]
    );
    let writes = env.calls().ec2_writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    let delivered = env.delivered_outcomes().await;
    assert_eq!(delivered[0]["detail-type"], "Peering Drift Repaired");
}

#[tokio::test]
async fn a_route_deleted_out_of_band_is_restored() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = wired(&env).await;
    let requester = &env.scenario.requester;
    let table = &requester.route_tables[1];
    requester.delete_route(table, "10.1.0.0/16").await.unwrap();
    let event = env.ec2_event(
        "DeleteRoute",
        &requester.account,
        json!({"routeTableId": table, "destinationCidrBlock": "10.1.0.0/16"}),
    );

    let report = env.drift_door(&event).await;

    assert_eq!(report.run.outcomes[0].kind, OutcomeKind::DriftRepaired);
    assert_eq!(
        requester.destinations_via(table, &pcx).await.unwrap(),
        ["10.1.0.0/16"]
    );
    assert_eq!(env.calls().count("CreateRoute"), 1);
}

#[tokio::test]
async fn a_revoked_rule_is_restored() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = wired(&env).await;
    let accepter = &env.scenario.accepter;
    env.scenario.revoke_db_ingress().await.unwrap();
    let event = env.ec2_event(
        "RevokeSecurityGroupIngress",
        ACCEPTER_ACCOUNT,
        json!({"groupId": accepter.security_group_id}),
    );

    let report = env.drift_door(&event).await;

    let outcome = &report.run.outcomes[0];
    assert_eq!(outcome.kind, OutcomeKind::DriftRepaired);
    assert_eq!(outcome.peering_id.as_ref().unwrap(), &pcx);
    assert_eq!(env.calls().count("AuthorizeSecurityGroupIngress"), 1);
    assert_eq!(env.calls().ec2_writes().len(), 1);
}

#[tokio::test]
async fn a_failover_to_a_standby_whose_subnet_table_lacked_the_route_is_repaired() {
    let env = TestEnv::new(&db_instance_policy()).await;
    env.scenario.create_db("payments-db").await.unwrap();
    let pcx = wired(&env).await;
    let accepter = &env.scenario.accepter;
    // The standby's subnet (b) was moved, unannounced, to a table without the route.
    let bare = accepter.new_route_table().await.unwrap();
    accepter
        .move_subnet(&accepter.route_tables[1], &bare)
        .await
        .unwrap();
    // RDS fails over to the standby.
    env.scenario.fail_over_db("payments-db").await.unwrap();
    let failover = env.failover_event(ACCEPTER_ACCOUNT, "payments-db");

    let report = env.drift_door(&failover).await;

    first_of(&report.run.outcomes, OutcomeKind::DriftRepaired);
    assert_eq!(
        accepter.destinations_via(&bare, &pcx).await.unwrap(),
        ["10.0.0.0/16"]
    );
    assert_eq!(
        env.calls().count("DescribeDBInstances"),
        2,
        "locate, then observe"
    );
    assert_eq!(env.calls().ec2_writes().len(), 1);
}

#[tokio::test]
async fn the_scheduled_sweep_alone_converges_everything() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = wired(&env).await;
    let (requester, accepter) = (&env.scenario.requester, &env.scenario.accepter);
    // Three kinds of drift, none announced.
    accepter
        .delete_route(&accepter.main_route_table, "10.0.0.0/16")
        .await
        .unwrap();
    env.scenario.revoke_db_ingress().await.unwrap();
    requester
        .set_remote_dns_resolution(&pcx, false)
        .await
        .unwrap();

    let report = env.drift_door(&env.sweep_event()).await;

    let outcome = &report.run.outcomes[0];
    assert_eq!(outcome.kind, OutcomeKind::DriftRepaired);
    let ops: Vec<&str> = outcome.changes.iter().map(|s| s.operation()).collect();
    assert_eq!(
        ops,
        [
            "CreateRoute",
            "AuthorizeSecurityGroupIngress",
            "ModifyVpcPeeringConnectionOptions"
        ]
    );

    env.calls().take();
    let again = env.drift_door(&env.sweep_event()).await;
    assert!(again.run.outcomes.is_empty());
    assert!(env.calls().calls().iter().all(|c| !c.is_write()));
}

#[tokio::test]
async fn events_from_accounts_no_policy_covers_are_ignored_without_a_call() {
    let env = TestEnv::new(WIRING_POLICY).await;
    wired(&env).await;
    let stranger = env.ec2_event(
        "CreateSubnet",
        "999999999999",
        json!({"vpcId": "vpc-0123456789abcdef0"}),
    );
    let failover = env.failover_event("999999999999", "other-db");

    for event in [stranger, failover] {
        let report = env.drift_door(&event).await;
        assert!(report.run.outcomes.is_empty());
        assert_eq!(report.run.ignored, ["999999999999"]);
    }
    assert!(env.calls().calls().is_empty(), "{:?}", env.calls().calls());
}

#[tokio::test]
async fn a_change_in_a_vpc_without_peerings_only_reads() {
    let env = TestEnv::new(WIRING_POLICY).await;
    wired(&env).await;
    let lonely = peerwire_emulator::scenario::create_vpc(&env.scenario.accepter.ec2, "10.7.0.0/16")
        .await
        .unwrap();
    let event = env.ec2_event(
        "CreateRouteTable",
        ACCEPTER_ACCOUNT,
        json!({"vpcId": lonely}),
    );

    let report = env.drift_door(&event).await;

    assert!(report.run.outcomes.is_empty());
    let ops = env.operations();
    assert_eq!(
        ops,
        [
            "DescribeVpcPeeringConnections",
            "DescribeVpcPeeringConnections"
        ]
    );
}
