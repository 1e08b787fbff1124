//! Cleanup of deleted and rejected peerings: exactly what peerwire created goes, and nothing
//! a person added, on both sides.

use peerwire::doors::cleanup::handle_cleanup_event;
use peerwire::doors::wiring::handle_wiring_event;
use peerwire::outcome::OutcomeKind;
use peerwire_emulator::samples::cloudtrail_ec2_call;
use peerwire_integration::{TestEnv, REGION, REQUESTER_ACCOUNT, WIRING_POLICY};
use serde_json::json;

const TAGS: &[(&str, &str)] = &[("team", "payments")];

async fn wired(env: &TestEnv) -> String {
    let pcx = env.scenario.request_peering(TAGS).await.unwrap();
    env.scenario.accept_directly(&pcx).await.unwrap();
    handle_wiring_event(&env.app, &env.accepted_event(&pcx))
        .await
        .unwrap();
    env.calls().take();
    env.delivered_outcomes().await;
    pcx
}

async fn delete(env: &TestEnv, pcx: &str) {
    env.scenario
        .requester
        .ec2
        .delete_vpc_peering_connection()
        .vpc_peering_connection_id(pcx)
        .send()
        .await
        .unwrap();
}

fn deleted_event(env: &TestEnv, pcx: &str) -> serde_json::Value {
    cloudtrail_ec2_call(
        &env.event_id(),
        "DeleteVpcPeeringConnection",
        REQUESTER_ACCOUNT,
        REGION,
        json!({"vpcPeeringConnectionId": pcx}),
    )
}

/// Every route anywhere in `ec2`'s account still targeting `pcx`.
async fn routes_to(ec2: &aws_sdk_ec2::Client, pcx: &str) -> usize {
    let response = ec2.describe_route_tables().send().await.unwrap();
    response
        .route_tables()
        .iter()
        .flat_map(|t| t.routes())
        .filter(|r| r.vpc_peering_connection_id() == Some(pcx))
        .count()
}

/// Descriptions of the group's ingress rules.
async fn ingress_descriptions(ec2: &aws_sdk_ec2::Client, group: &str) -> Vec<String> {
    let response = ec2
        .describe_security_groups()
        .group_ids(group)
        .send()
        .await
        .unwrap();
    response.security_groups()[0]
        .ip_permissions()
        .iter()
        .flat_map(|p| p.ip_ranges())
        .map(|r| r.description().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn cleanup_removes_exactly_what_peerwire_created_and_nothing_a_person_added() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = wired(&env).await;
    let (requester, accepter) = (&env.scenario.requester, &env.scenario.accepter);
    // A person's own rule for the same CIDR, and a route of their own.
    accepter
        .ec2
        .authorize_security_group_ingress()
        .group_id(&accepter.security_group_id)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(6432)
                .to_port(6432)
                .ip_ranges(
                    aws_sdk_ec2::types::IpRange::builder()
                        .cidr_ip("10.0.0.0/16")
                        .description("pgbouncer, added by alice")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    accepter
        .ec2
        .create_route()
        .route_table_id(&accepter.route_tables[0])
        .destination_cidr_block("10.0.7.0/24")
        .vpc_peering_connection_id(&pcx)
        .send()
        .await
        .unwrap();
    assert_eq!(routes_to(&accepter.ec2, &pcx).await, 4);
    assert_eq!(routes_to(&requester.ec2, &pcx).await, 3);
    delete(&env, &pcx).await;

    let report = handle_cleanup_event(&env.app, &deleted_event(&env, &pcx))
        .await
        .unwrap();

    let outcome = &report.run.outcomes[0];
    assert_eq!(outcome.kind, OutcomeKind::CleanedUp, "{outcome:?}");
    // The person's narrower route is not the shape of peerwire's: it stays, reported.
    assert_eq!(routes_to(&accepter.ec2, &pcx).await, 1);
    assert!(
        outcome
            .reasons
            .iter()
            .any(|r| r.contains("10.0.7.0/24") && r.contains("left for its owner")),
        "{outcome:?}"
    );
    assert_eq!(routes_to(&requester.ec2, &pcx).await, 0);
    assert_eq!(
        ingress_descriptions(&accepter.ec2, &accepter.security_group_id).await,
        ["pgbouncer, added by alice"]
    );
    assert_eq!(env.calls().count("DeleteRoute"), 6);
    assert_eq!(env.calls().count("RevokeSecurityGroupIngress"), 1);
    assert_eq!(outcome.changes.len(), 7);
    let delivered = env.delivered_outcomes().await;
    assert_eq!(delivered[0]["detail-type"], "Peering Cleaned Up");
}

#[tokio::test]
async fn replayed_cleanup_events_are_no_ops() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = wired(&env).await;
    delete(&env, &pcx).await;
    let event = deleted_event(&env, &pcx);
    handle_cleanup_event(&env.app, &event).await.unwrap();
    env.calls().take();
    env.delivered_outcomes().await;

    for _ in 0..3 {
        let report = handle_cleanup_event(&env.app, &event).await.unwrap();
        assert!(report.run.outcomes.is_empty());
    }

    assert!(
        env.calls().calls().iter().all(|c| !c.is_write()),
        "{:?}",
        env.calls().calls()
    );
    assert!(env.delivered_outcomes().await.is_empty());
}

#[tokio::test]
async fn the_sweep_cleans_a_deleted_peering_no_event_announced() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = wired(&env).await;
    delete(&env, &pcx).await;

    let sweep = peerwire_emulator::samples::schedule_sweep(&env.event_id());
    let report = handle_cleanup_event(&env.app, &sweep).await.unwrap();

    assert_eq!(report.run.outcomes.len(), 1);
    assert_eq!(report.run.outcomes[0].kind, OutcomeKind::CleanedUp);
    assert_eq!(routes_to(&env.scenario.accepter.ec2, &pcx).await, 0);
    assert_eq!(routes_to(&env.scenario.requester.ec2, &pcx).await, 0);
}

#[tokio::test]
async fn a_live_peering_is_never_cleaned_even_if_an_event_says_so() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = wired(&env).await;

    let report = handle_cleanup_event(&env.app, &deleted_event(&env, &pcx))
        .await
        .unwrap();

    assert!(report.run.outcomes.is_empty());
    assert_eq!(report.run.ignored, std::slice::from_ref(&pcx));
    assert!(env.calls().ec2_writes().is_empty());
    assert_eq!(routes_to(&env.scenario.accepter.ec2, &pcx).await, 3);
}
