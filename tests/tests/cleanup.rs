//! Cleanup of deleted and rejected peerings: exactly what peerwire created goes, and nothing
//! a person added, on both sides.

use peerwire::outcome::OutcomeKind;
use peerwire::plan::Finding;
use peerwire::testing::net;
use peerwire_emulator::scenario::Side;
use peerwire_integration::{first_of, TestEnv, WIRING_POLICY};

/// Every route anywhere in `side`'s account still targeting `pcx`.
async fn routes_to(side: &Side, pcx: &str) -> usize {
    side.routes_via(pcx).await.unwrap()
}

#[tokio::test]
async fn cleanup_removes_exactly_what_peerwire_created_and_nothing_a_person_added() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = env.wired_peering().await;
    let (requester, accepter) = (&env.scenario.requester, &env.scenario.accepter);
    // A person's own rule for the same CIDR, and a route of their own.
    accepter
        .authorize_tcp_ingress(6432, "10.0.0.0/16", "pgbouncer, added by alice")
        .await
        .unwrap();
    accepter
        .route_via_peering(&accepter.route_tables[0], "10.0.7.0/24", &pcx)
        .await
        .unwrap();
    assert_eq!(routes_to(accepter, &pcx).await, 4);
    assert_eq!(routes_to(requester, &pcx).await, 3);
    env.delete_peering(&pcx).await;

    let report = env.cleanup_door(&env.deleted_event(&pcx)).await;

    let outcome = first_of(&report.run.outcomes, OutcomeKind::CleanedUp);
    // The person's narrower route is not the shape of peerwire's: it stays, reported.
    assert_eq!(routes_to(accepter, &pcx).await, 1);
    assert!(
        outcome.findings.iter().any(|f| matches!(f,
            Finding::UnprovenRoute { destination, .. } if *destination == net("10.0.7.0/24"))),
        "{outcome:?}"
    );
    assert_eq!(routes_to(requester, &pcx).await, 0);
    assert_eq!(
        accepter.ingress_descriptions().await.unwrap(),
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
    let pcx = env.wired_peering().await;
    env.delete_peering(&pcx).await;
    let event = env.deleted_event(&pcx);
    env.cleanup_door(&event).await;
    env.settle().await;

    for _ in 0..3 {
        let report = env.cleanup_door(&event).await;
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
    let pcx = env.wired_peering().await;
    env.delete_peering(&pcx).await;

    let report = env.cleanup_door(&env.sweep_event()).await;

    assert_eq!(report.run.outcomes.len(), 1);
    assert_eq!(report.run.outcomes[0].kind, OutcomeKind::CleanedUp);
    assert_eq!(routes_to(&env.scenario.accepter, &pcx).await, 0);
    assert_eq!(routes_to(&env.scenario.requester, &pcx).await, 0);
}

#[tokio::test]
async fn a_live_peering_is_never_cleaned_even_if_an_event_says_so() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = env.wired_peering().await;

    let report = env.cleanup_door(&env.deleted_event(&pcx)).await;

    assert!(report.run.outcomes.is_empty());
    assert_eq!(report.run.ignored, std::slice::from_ref(&pcx));
    assert!(env.calls().ec2_writes().is_empty());
    assert_eq!(routes_to(&env.scenario.accepter, &pcx).await, 3);
}
