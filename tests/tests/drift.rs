//! Keeping wired peerings true: re-checks located by CloudTrail EC2 events, RDS failovers and
//! the schedule, against the patched emulator.

use peerwire::doors::drift::handle_drift_event;
use peerwire::doors::wiring::handle_wiring_event;
use peerwire::outcome::OutcomeKind;
use peerwire_emulator::samples::{cloudtrail_ec2_call, rds_event};
use peerwire_integration::{TestEnv, ACCEPTER_ACCOUNT, REGION, WIRING_POLICY};
use serde_json::json;

const TAGS: &[(&str, &str)] = &[("team", "payments")];

/// A peering accepted and wired, with the call log and outcomes emptied.
async fn wired(env: &TestEnv) -> String {
    let pcx = env.scenario.request_peering(TAGS).await.unwrap();
    env.scenario.accept_directly(&pcx).await.unwrap();
    let report = handle_wiring_event(&env.app, &env.accepted_event(&pcx))
        .await
        .unwrap();
    assert_eq!(report.run.outcomes[0].kind, OutcomeKind::Wired);
    env.calls().take();
    env.delivered_outcomes().await;
    pcx
}

async fn routes_to(ec2: &aws_sdk_ec2::Client, table: &str, pcx: &str) -> Vec<String> {
    let response = ec2
        .describe_route_tables()
        .route_table_ids(table)
        .send()
        .await
        .unwrap();
    response.route_tables()[0]
        .routes()
        .iter()
        .filter(|r| r.vpc_peering_connection_id() == Some(pcx))
        .filter_map(|r| r.destination_cidr_block().map(str::to_owned))
        .collect()
}

fn ec2_event(
    env: &TestEnv,
    name: &str,
    account: &str,
    params: serde_json::Value,
) -> serde_json::Value {
    cloudtrail_ec2_call(&env.event_id(), name, account, REGION, params)
}

#[tokio::test]
async fn a_new_subnet_with_a_new_route_table_gets_the_route_from_its_events() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = wired(&env).await;
    let accepter = &env.scenario.accepter;
    let subnet = accepter
        .ec2
        .create_subnet()
        .vpc_id(&accepter.vpc_id)
        .cidr_block("10.1.20.0/24")
        .availability_zone("us-east-1d")
        .send()
        .await
        .unwrap()
        .subnet()
        .and_then(|s| s.subnet_id())
        .unwrap()
        .to_owned();
    // CreateSubnet: the subnet uses the main table, which already routes the peer.
    let created = ec2_event(
        &env,
        "CreateSubnet",
        ACCEPTER_ACCOUNT,
        json!({"vpcId": accepter.vpc_id, "cidrBlock": "10.1.20.0/24"}),
    );
    let report = handle_drift_event(&env.app, &created).await.unwrap();
    assert!(report.run.outcomes.is_empty(), "{:?}", report.run.outcomes);
    assert!(env.calls().ec2_writes().is_empty());

    let table = accepter
        .ec2
        .create_route_table()
        .vpc_id(&accepter.vpc_id)
        .send()
        .await
        .unwrap()
        .route_table()
        .and_then(|t| t.route_table_id())
        .unwrap()
        .to_owned();
    accepter
        .ec2
        .associate_route_table()
        .route_table_id(&table)
        .subnet_id(&subnet)
        .send()
        .await
        .unwrap();
    let associated = ec2_event(
        &env,
        "AssociateRouteTable",
        ACCEPTER_ACCOUNT,
        json!({"routeTableId": table, "subnetId": subnet}),
    );

    let report = handle_drift_event(&env.app, &associated).await.unwrap();

    let outcome = &report.run.outcomes[0];
    assert_eq!(outcome.kind, OutcomeKind::DriftRepaired, "{outcome:?}");
    assert!(
        outcome
            .reasons
            .iter()
            .any(|r| r.starts_with("missing:") && r.contains(&table)),
        "{:?}",
        outcome.reasons
    );
    assert_eq!(
        routes_to(&accepter.ec2, &table, &pcx).await,
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
    requester
        .ec2
        .delete_route()
        .route_table_id(table)
        .destination_cidr_block("10.1.0.0/16")
        .send()
        .await
        .unwrap();
    let event = ec2_event(
        &env,
        "DeleteRoute",
        &requester.account,
        json!({"routeTableId": table, "destinationCidrBlock": "10.1.0.0/16"}),
    );

    let report = handle_drift_event(&env.app, &event).await.unwrap();

    assert_eq!(report.run.outcomes[0].kind, OutcomeKind::DriftRepaired);
    assert_eq!(
        routes_to(&requester.ec2, table, &pcx).await,
        ["10.1.0.0/16"]
    );
    assert_eq!(env.calls().count("CreateRoute"), 1);
}

#[tokio::test]
async fn a_revoked_rule_is_restored() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = wired(&env).await;
    let accepter = &env.scenario.accepter;
    accepter
        .ec2
        .revoke_security_group_ingress()
        .group_id(&accepter.security_group_id)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(5432)
                .to_port(5432)
                .ip_ranges(
                    aws_sdk_ec2::types::IpRange::builder()
                        .cidr_ip("10.0.0.0/16")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let event = ec2_event(
        &env,
        "RevokeSecurityGroupIngress",
        ACCEPTER_ACCOUNT,
        json!({"groupId": accepter.security_group_id}),
    );

    let report = handle_drift_event(&env.app, &event).await.unwrap();

    let outcome = &report.run.outcomes[0];
    assert_eq!(outcome.kind, OutcomeKind::DriftRepaired);
    assert_eq!(outcome.peering_id.as_ref().unwrap(), &pcx);
    assert_eq!(env.calls().count("AuthorizeSecurityGroupIngress"), 1);
    assert_eq!(env.calls().ec2_writes().len(), 1);
}

#[tokio::test]
async fn a_failover_to_a_standby_whose_subnet_table_lacked_the_route_is_repaired() {
    let policy = WIRING_POLICY.replace(
        "      accepter:\n        security_group_tags: { role: rds-db }",
        "      accepter:\n        db_instances: [payments-db]",
    );
    assert_ne!(policy, WIRING_POLICY);
    let env = TestEnv::new(&policy).await;
    env.scenario.create_db("payments-db").await.unwrap();
    let pcx = wired(&env).await;
    let accepter = &env.scenario.accepter;
    // The standby's subnet (b) was moved, unannounced, to a table without the route.
    let bare = accepter
        .ec2
        .create_route_table()
        .vpc_id(&accepter.vpc_id)
        .send()
        .await
        .unwrap()
        .route_table()
        .and_then(|t| t.route_table_id())
        .unwrap()
        .to_owned();
    let association = accepter
        .ec2
        .describe_route_tables()
        .route_table_ids(&accepter.route_tables[1])
        .send()
        .await
        .unwrap()
        .route_tables()[0]
        .associations()[0]
        .route_table_association_id()
        .unwrap()
        .to_owned();
    accepter
        .ec2
        .replace_route_table_association()
        .association_id(association)
        .route_table_id(&bare)
        .send()
        .await
        .unwrap();
    // RDS fails over to the standby.
    env.scenario
        .seeder
        .rds(ACCEPTER_ACCOUNT, REGION)
        .await
        .expect("rds")
        .reboot_db_instance()
        .db_instance_identifier("payments-db")
        .force_failover(true)
        .send()
        .await
        .unwrap();
    let failover = rds_event(
        &env.event_id(),
        ACCEPTER_ACCOUNT,
        REGION,
        "payments-db",
        false,
        "RDS-EVENT-0049",
    );

    let report = handle_drift_event(&env.app, &failover).await.unwrap();

    let outcome = &report.run.outcomes[0];
    assert_eq!(outcome.kind, OutcomeKind::DriftRepaired, "{outcome:?}");
    assert_eq!(routes_to(&accepter.ec2, &bare, &pcx).await, ["10.0.0.0/16"]);
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
        .ec2
        .delete_route()
        .route_table_id(&accepter.main_route_table)
        .destination_cidr_block("10.0.0.0/16")
        .send()
        .await
        .unwrap();
    accepter
        .ec2
        .revoke_security_group_ingress()
        .group_id(&accepter.security_group_id)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(5432)
                .to_port(5432)
                .ip_ranges(
                    aws_sdk_ec2::types::IpRange::builder()
                        .cidr_ip("10.0.0.0/16")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    requester
        .ec2
        .modify_vpc_peering_connection_options()
        .vpc_peering_connection_id(&pcx)
        .requester_peering_connection_options(
            aws_sdk_ec2::types::PeeringConnectionOptionsRequest::builder()
                .allow_dns_resolution_from_remote_vpc(false)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let sweep = peerwire_emulator::samples::schedule_sweep(&env.event_id());
    let report = handle_drift_event(&env.app, &sweep).await.unwrap();

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
    let again = handle_drift_event(
        &env.app,
        &peerwire_emulator::samples::schedule_sweep(&env.event_id()),
    )
    .await
    .unwrap();
    assert!(again.run.outcomes.is_empty());
    assert!(env.calls().calls().iter().all(|c| !c.is_write()));
}

#[tokio::test]
async fn events_from_accounts_no_policy_covers_are_ignored_without_a_call() {
    let env = TestEnv::new(WIRING_POLICY).await;
    wired(&env).await;
    let stranger = ec2_event(
        &env,
        "CreateSubnet",
        "999999999999",
        json!({"vpcId": "vpc-0123456789abcdef0"}),
    );
    let failover = rds_event(
        &env.event_id(),
        "999999999999",
        REGION,
        "other-db",
        false,
        "RDS-EVENT-0049",
    );

    for event in [stranger, failover] {
        let report = handle_drift_event(&env.app, &event).await.unwrap();
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
    let event = ec2_event(
        &env,
        "CreateRouteTable",
        ACCEPTER_ACCOUNT,
        json!({"vpcId": lonely}),
    );

    let report = handle_drift_event(&env.app, &event).await.unwrap();

    assert!(report.run.outcomes.is_empty());
    let ops: Vec<String> = env
        .calls()
        .calls()
        .into_iter()
        .map(|c| c.operation)
        .collect();
    assert_eq!(
        ops,
        [
            "DescribeVpcPeeringConnections",
            "DescribeVpcPeeringConnections"
        ]
    );
}
