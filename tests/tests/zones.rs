//! Private DNS names across the peering: a private hosted zone of the accepter (the database's
//! account) is associated with the requester VPC as Route 53 requires between accounts, kept
//! associated, and disassociated with the last peering that needed it; an association peerwire
//! did not make is never touched.

use aws_sdk_route53::types::{HostedZoneConfig, Tag, TagResourceType, Vpc, VpcRegion};
use peerwire::outcome::OutcomeKind;
use peerwire::plan::Finding;
use peerwire_integration::{
    first_of, EnvOptions, TestEnv, ACCEPTER_ACCOUNT, REGION, REQUESTER_ACCOUNT, WIRING_POLICY,
};

/// [`WIRING_POLICY`] with the accepter's zone `zone_id` to associate with the requester VPC.
fn policy_with_zone(zone_id: &str) -> String {
    format!("{WIRING_POLICY}        private_hosted_zones: [{zone_id}]\n")
}

async fn route53(env: &TestEnv, account: &str) -> aws_sdk_route53::Client {
    let at = peerwire_emulator::scenario::location(account, REGION).expect("location");
    env.scenario.seeder.context().route53(&at).await
}

fn vpc(vpc_id: &str) -> Vpc {
    Vpc::builder()
        .vpc_id(vpc_id)
        .vpc_region(VpcRegion::from(REGION))
        .build()
}

/// A private zone of the accepter account, associated with the accepter VPC; its id.
async fn accepter_zone(env: &TestEnv, name: &str) -> String {
    let zone = route53(env, ACCEPTER_ACCOUNT)
        .await
        .create_hosted_zone()
        .name(name)
        .caller_reference(format!("peerwire-test-{name}"))
        .vpc(vpc(&env.scenario.accepter.vpc_id))
        .hosted_zone_config(HostedZoneConfig::builder().private_zone(true).build())
        .send()
        .await
        .unwrap();
    zone.hosted_zone()
        .unwrap()
        .id()
        .trim_start_matches("/hostedzone/")
        .to_owned()
}

/// A world whose policy associates the accepter's zone `orders.db.internal` (its id) with the
/// requester VPC.
async fn zone_world() -> (TestEnv, String) {
    let env = TestEnv::new(WIRING_POLICY).await;
    let zone = accepter_zone(&env, "orders.db.internal").await;
    env.set_policy(&policy_with_zone(&zone));
    (env, zone)
}

/// The VPCs associated with `zone_id`, as its owner sees them.
async fn zone_vpcs(env: &TestEnv, zone_id: &str) -> Vec<String> {
    let zone = route53(env, ACCEPTER_ACCOUNT)
        .await
        .get_hosted_zone()
        .id(zone_id)
        .send()
        .await
        .unwrap();
    let vpcs = zone.vpcs().iter().filter_map(|v| v.vpc_id());
    let mut vpcs: Vec<String> = vpcs.map(str::to_owned).collect();
    vpcs.sort();
    vpcs
}

async fn zone_tags(env: &TestEnv, zone_id: &str) -> Vec<(String, String)> {
    let tags = route53(env, ACCEPTER_ACCOUNT)
        .await
        .list_tags_for_resource()
        .resource_type(TagResourceType::Hostedzone)
        .resource_id(zone_id)
        .send()
        .await
        .unwrap();
    tags.resource_tag_set()
        .map(|set| {
            set.tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_owned(),
                        t.value().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn authorizations(env: &TestEnv, zone_id: &str) -> usize {
    route53(env, ACCEPTER_ACCOUNT)
        .await
        .list_vpc_association_authorizations()
        .hosted_zone_id(zone_id)
        .send()
        .await
        .unwrap()
        .vpcs()
        .len()
}

#[tokio::test]
async fn the_accepters_zone_is_associated_with_the_requester_vpc_in_four_writes_then_kept() {
    let (env, zone) = zone_world().await;
    let pcx = env.active_peering().await;

    let report = env.wire(&pcx).await;

    assert_eq!(report.run.outcomes[0].kind, OutcomeKind::Wired);
    let (requester_vpc, accepter_vpc) = (
        env.scenario.requester.vpc_id.clone(),
        env.scenario.accepter.vpc_id.clone(),
    );
    let mut both = vec![requester_vpc.clone(), accepter_vpc.clone()];
    both.sort();
    assert_eq!(zone_vpcs(&env, &zone).await, both);
    assert_eq!(
        zone_tags(&env, &zone).await,
        [(format!("peerwire:associated:{requester_vpc}"), pcx.clone())]
    );
    assert_eq!(
        authorizations(&env, &zone).await,
        0,
        "authorization deleted"
    );
    env.assert_counts(&[
        ("GetHostedZone", 1),
        ("ListTagsForResources", 1),
        ("ChangeTagsForResource", 1),
        ("CreateVPCAssociationAuthorization", 1),
        ("AssociateVPCWithHostedZone", 1),
        ("DeleteVPCAssociationAuthorization", 1),
    ]);
    // The wiring of README's scenario (28 calls: no subnet read, every subnet is in scope) and
    // the zone's 2 reads and 4 writes.
    assert_eq!(env.calls().calls().len(), 34, "{:?}", env.calls().calls());

    // Converged: the zone costs its two reads, nothing more.
    env.calls().take();
    let again = env.wire(&pcx).await;
    assert!(again.run.outcomes.is_empty(), "{:?}", again.run.outcomes);
    let calls = env.calls().calls();
    assert!(calls.iter().all(|c| !c.is_write()), "{calls:?}");
    assert_eq!(calls.len(), 14, "12 reads of the wiring and 2 of the zone");
}

#[tokio::test]
async fn a_zone_disassociated_by_hand_is_associated_again_without_a_second_record() {
    let (env, zone) = zone_world().await;
    let pcx = env.wired_peering().await;
    route53(&env, REQUESTER_ACCOUNT)
        .await
        .disassociate_vpc_from_hosted_zone()
        .hosted_zone_id(&zone)
        .vpc(vpc(&env.scenario.requester.vpc_id))
        .send()
        .await
        .unwrap();

    let report = env.drift_door(&env.sweep_event()).await;

    let outcome = first_of(&report.run.outcomes, OutcomeKind::DriftRepaired);
    assert_eq!(outcome.peering_id.as_ref().unwrap().as_str(), pcx);
    assert!(zone_vpcs(&env, &zone)
        .await
        .contains(&env.scenario.requester.vpc_id));
    env.assert_counts(&[
        ("ChangeTagsForResource", 0),
        ("AssociateVPCWithHostedZone", 1),
    ]);
}

#[tokio::test]
async fn cleanup_disassociates_what_peerwire_recorded_and_leaves_a_persons_association() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let ours = accepter_zone(&env, "orders.db.internal").await;
    let theirs = accepter_zone(&env, "legacy.db.internal").await;
    // A person associated the requester VPC with the second zone, before peerwire.
    let requester_vpc = env.scenario.requester.vpc_id.clone();
    let owner = route53(&env, ACCEPTER_ACCOUNT).await;
    owner
        .create_vpc_association_authorization()
        .hosted_zone_id(&theirs)
        .vpc(vpc(&requester_vpc))
        .send()
        .await
        .unwrap();
    route53(&env, REQUESTER_ACCOUNT)
        .await
        .associate_vpc_with_hosted_zone()
        .hosted_zone_id(&theirs)
        .vpc(vpc(&requester_vpc))
        .send()
        .await
        .unwrap();
    env.set_policy(&format!(
        "{WIRING_POLICY}        private_hosted_zones: [{ours}, {theirs}]\n"
    ));
    let pcx = env.wired_peering().await;
    assert!(zone_vpcs(&env, &ours).await.contains(&requester_vpc));
    env.delete_peering(&pcx).await;

    let report = env.cleanup_door(&env.deleted_event(&pcx)).await;

    assert_eq!(report.run.outcomes[0].kind, OutcomeKind::CleanedUp);
    assert!(!zone_vpcs(&env, &ours).await.contains(&requester_vpc));
    assert!(zone_tags(&env, &ours).await.is_empty());
    assert!(
        zone_vpcs(&env, &theirs).await.contains(&requester_vpc),
        "a person's association stays"
    );
    assert_eq!(env.calls().count("DisassociateVPCFromHostedZone"), 1);
}

/// A zone carrying ten tags already: Route 53's limit per hosted zone (`route53-zone-tag-limit`).
async fn zone_at_its_tag_limit(env: &TestEnv, zone_id: &str) {
    let tags = (0..10)
        .map(|i| {
            Tag::builder()
                .key(format!("cost-centre-{i}"))
                .value("platform")
                .build()
        })
        .collect();
    route53(env, ACCEPTER_ACCOUNT)
        .await
        .change_tags_for_resource()
        .resource_type(TagResourceType::Hostedzone)
        .resource_id(zone_id)
        .set_add_tags(Some(tags))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_zone_at_its_ten_tags_is_not_associated_and_the_outcome_says_why() {
    let (env, zone) = zone_world().await;
    zone_at_its_tag_limit(&env, &zone).await;
    let pcx = env.active_peering().await;

    let report = env.wire(&pcx).await;

    // The peering is wired; the zone, whose record could not be written, is left alone.
    let outcome = first_of(&report.run.outcomes, OutcomeKind::Wired);
    assert!(
        outcome.findings.iter().any(|f| matches!(
            f,
            Finding::ZoneNotAssociable { zone_id, why, .. }
                if zone_id.as_str() == zone && why.contains("10 tags")
        )),
        "{:?}",
        outcome.findings
    );
    assert_eq!(
        zone_vpcs(&env, &zone).await,
        std::slice::from_ref(&env.scenario.accepter.vpc_id)
    );
    env.assert_counts(&[
        ("CreateRoute", 6),
        ("ChangeTagsForResource", 0),
        ("CreateVPCAssociationAuthorization", 0),
        ("AssociateVPCWithHostedZone", 0),
    ]);
}

#[tokio::test]
async fn a_refused_record_stops_the_association_so_nothing_is_left_unrecorded() {
    let env = TestEnv::with(
        WIRING_POLICY,
        EnvOptions::setting(
            "deny_actions",
            &format!("{ACCEPTER_ACCOUNT}:route53:ChangeTagsForResource"),
        ),
    )
    .await;
    let zone = accepter_zone(&env, "orders.db.internal").await;
    env.set_policy(&policy_with_zone(&zone));
    let pcx = env.active_peering().await;

    let report = env.wire(&pcx).await;

    // Ordering: the association waits for its record, so an association peerwire made is
    // always one the cleanup can find and undo.
    env.assert_counts(&[
        ("ChangeTagsForResource", 1),
        ("CreateVPCAssociationAuthorization", 0),
        ("AssociateVPCWithHostedZone", 0),
        ("CreateRoute", 6),
    ]);
    assert_eq!(
        zone_vpcs(&env, &zone).await,
        std::slice::from_ref(&env.scenario.accepter.vpc_id)
    );
    assert!(zone_tags(&env, &zone).await.is_empty());
    let outcome = report
        .run
        .outcomes
        .iter()
        .find(|o| o.peering_id.as_ref().is_some_and(|p| p.as_str() == pcx))
        .expect("an outcome");
    let said = format!("{:?} {:?}", outcome.reasons, outcome.error);
    assert!(said.contains("ChangeTagsForResource"), "{outcome:?}");
}
