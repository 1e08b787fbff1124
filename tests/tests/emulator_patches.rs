//! These tests prove that each patch of `emulator/launcher.py` is needed: for every patch, one
//! test asserts the AWS behaviour on the fully patched emulator (`Emulator::start()`), and its
//! twin runs the same steps on a server with only that patch disabled
//! (`Emulator::start_with_disabled(&[name])`) and asserts that plain moto 5.2.5 shows the gap.
//! If a twin starts to fail, moto has closed the gap and the patch can go; if a patched test
//! fails, the patch no longer restores the behaviour peerwire relies on.
//!
//! The table in docs/emulator.md names the test pair of each patch. Patches that read a setting
//! (dwell times, quotas) start their server with `Emulator::start_with` and change settings
//! mid-test with `Emulator::set`. The IAM patches are in `emulator_iam.rs`, those of other
//! services in `emulator_services.rs`.
//!
//! Test-only code: the helpers panic on a broken fixture, like the `#[tokio::test]`s do.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, PeeringConnectionOptionsRequest, RouteState, Tag,
    UserIdGroupPair,
};
use aws_sdk_ec2::Client;
use peerwire_emulator::scenario::{Scenario, ACCEPTER_ACCOUNT, REQUESTER_ACCOUNT};
use peerwire_emulator::{Emulator, EmulatorOptions};

const PEERING_CIDR_BLOCK_SET: &str = "peering-cidr-block-set";
const OVERLAPPING_CIDRS_FAIL: &str = "overlapping-cidrs-fail";
const DESCRIBE_PEERING_FILTERS: &str = "describe-peering-filters";
const PEERING_OPTIONS_OWNER_ONLY: &str = "peering-options-owner-only";
const PEERING_OPTIONS_ACTIVE_ONLY: &str = "peering-options-active-only";
const CROSS_ACCOUNT_SG_REFERENCE: &str = "cross-account-sg-reference";
const SG_RULE_REFERENCE_DESCRIPTION: &str = "sg-rule-reference-description";
const PEERING_TAGS_PER_OWNER: &str = "peering-tags-per-owner";
const PEERING_LIFECYCLE: &str = "peering-lifecycle";
const ROUTE_BLACKHOLE: &str = "route-blackhole";
const EC2_DRY_RUN: &str = "ec2-dry-run";
const SG_RULE_QUOTA: &str = "sg-rule-quota";
const ROUTE_QUOTA: &str = "route-quota";

/// A seeded world on a server with `disabled` patches turned off. The emulator is returned
/// second so that it is dropped after the scenario's clients.
async fn world(disabled: &[&str]) -> (Scenario, Emulator) {
    let emulator = Emulator::start_with_disabled(disabled)
        .await
        .expect("emulator starts");
    let scenario = Scenario::seed(&emulator).await.expect("scenario seeds");
    (scenario, emulator)
}

/// A seeded world on a server started with `options`.
async fn world_with(options: EmulatorOptions) -> (Scenario, Emulator) {
    let emulator = Emulator::start_with(&options)
        .await
        .expect("emulator starts");
    let scenario = Scenario::seed(&emulator).await.expect("scenario seeds");
    (scenario, emulator)
}

/// The error code of a call that must fail.
fn error_code<T: std::fmt::Debug, E: ProvideErrorMetadata>(result: Result<T, E>) -> String {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(err) => err.code().unwrap_or("<no code>").to_owned(),
    }
}

/// The error code and message of a call that must fail.
fn error_of<T: std::fmt::Debug, E: ProvideErrorMetadata>(result: Result<T, E>) -> (String, String) {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(err) => (
            err.code().unwrap_or("<no code>").to_owned(),
            err.message().unwrap_or_default().to_owned(),
        ),
    }
}

/// A pending peering from the requester's seeded VPC, accepted by the accepter.
async fn active_peering(scenario: &Scenario) -> String {
    let pcx = scenario.request_peering(&[]).await.unwrap();
    scenario
        .accepter
        .ec2
        .accept_vpc_peering_connection()
        .vpc_peering_connection_id(&pcx)
        .send()
        .await
        .unwrap();
    assert_eq!(scenario.status(&pcx).await.unwrap(), "active");
    pcx
}

fn dns_resolution() -> PeeringConnectionOptionsRequest {
    PeeringConnectionOptionsRequest::builder()
        .allow_dns_resolution_from_remote_vpc(true)
        .build()
}

/// `pcx` as `ec2`'s account describes it.
async fn described(ec2: &Client, pcx: &str) -> aws_sdk_ec2::types::VpcPeeringConnection {
    let described = ec2
        .describe_vpc_peering_connections()
        .vpc_peering_connection_ids(pcx)
        .send()
        .await
        .unwrap();
    described.vpc_peering_connections()[0].clone()
}

/// (requester, accepter) AllowDnsResolutionFromRemoteVpc as `ec2`'s account describes them.
async fn dns_options(ec2: &Client, pcx: &str) -> (Option<bool>, Option<bool>) {
    let peering = described(ec2, pcx).await;
    let side = |info: Option<&aws_sdk_ec2::types::VpcPeeringConnectionVpcInfo>| {
        info.and_then(|i| i.peering_options())
            .and_then(|o| o.allow_dns_resolution_from_remote_vpc())
    };
    (
        side(peering.requester_vpc_info()),
        side(peering.accepter_vpc_info()),
    )
}

// ---------------------------------------------------------------------------------------------
// peering-cidr-block-set

/// Associates 10.2.0.0/16 with the requester VPC, requests a peering and returns the CIDRs the
/// accepter sees in RequesterVpcInfo.CidrBlockSet.
async fn requester_cidr_block_set(scenario: &Scenario) -> Vec<String> {
    scenario
        .requester
        .ec2
        .associate_vpc_cidr_block()
        .vpc_id(&scenario.requester.vpc_id)
        .cidr_block("10.2.0.0/16")
        .send()
        .await
        .unwrap();
    let pcx = scenario.request_peering(&[]).await.unwrap();
    let described = scenario
        .accepter
        .ec2
        .describe_vpc_peering_connections()
        .vpc_peering_connection_ids(&pcx)
        .send()
        .await
        .unwrap();
    let info = described.vpc_peering_connections()[0]
        .requester_vpc_info()
        .expect("requester info");
    assert_eq!(info.cidr_block(), Some("10.0.0.0/16"));
    let mut cidrs: Vec<String> = info
        .cidr_block_set()
        .iter()
        .filter_map(|c| c.cidr_block().map(str::to_owned))
        .collect();
    cidrs.sort();
    cidrs
}

#[tokio::test]
async fn peering_cidr_block_set_shows_secondary_cidrs_to_the_accepter() {
    let (scenario, _emulator) = world(&[]).await;
    assert_eq!(
        requester_cidr_block_set(&scenario).await,
        ["10.0.0.0/16", "10.2.0.0/16"]
    );
}

#[tokio::test]
async fn without_peering_cidr_block_set_moto_shows_no_cidr_block_set() {
    let (scenario, _emulator) = world(&[PEERING_CIDR_BLOCK_SET]).await;
    assert!(requester_cidr_block_set(&scenario).await.is_empty());
}

// ---------------------------------------------------------------------------------------------
// overlapping-cidrs-fail

#[tokio::test]
async fn overlapping_cidrs_fail_marks_the_request_failed() {
    let (scenario, _emulator) = world(&[]).await;
    let (_, pcx) = scenario
        .request_from_new_vpc(REQUESTER_ACCOUNT, "10.1.0.0/16", &[])
        .await
        .unwrap();
    assert_eq!(scenario.status(&pcx).await.unwrap(), "failed");
    let accept = scenario
        .accepter
        .ec2
        .accept_vpc_peering_connection()
        .vpc_peering_connection_id(&pcx)
        .send()
        .await;
    assert_eq!(error_code(accept), "InvalidStateTransition");
}

#[tokio::test]
async fn without_overlapping_cidrs_fail_moto_lets_overlapping_vpcs_peer() {
    let (scenario, _emulator) = world(&[OVERLAPPING_CIDRS_FAIL]).await;
    let (_, pcx) = scenario
        .request_from_new_vpc(REQUESTER_ACCOUNT, "10.1.0.0/16", &[])
        .await
        .unwrap();
    assert_eq!(scenario.status(&pcx).await.unwrap(), "pending-acceptance");
    scenario
        .accepter
        .ec2
        .accept_vpc_peering_connection()
        .vpc_peering_connection_id(&pcx)
        .send()
        .await
        .unwrap();
    assert_eq!(scenario.status(&pcx).await.unwrap(), "active");
}

// ---------------------------------------------------------------------------------------------
// describe-peering-filters

fn status_filter(code: &str) -> Filter {
    Filter::builder().name("status-code").values(code).build()
}

/// One pending peering and one rejected by the accepter: (pending, rejected).
async fn pending_and_rejected(scenario: &Scenario) -> (String, String) {
    let pending = scenario
        .request_peering(&[("team", "payments")])
        .await
        .unwrap();
    let rejected = scenario
        .request_peering(&[("team", "other")])
        .await
        .unwrap();
    scenario
        .accepter
        .ec2
        .reject_vpc_peering_connection()
        .vpc_peering_connection_id(&rejected)
        .send()
        .await
        .unwrap();
    assert_eq!(scenario.status(&rejected).await.unwrap(), "rejected");
    (pending, rejected)
}

async fn ids_with_status(scenario: &Scenario, code: &str) -> Vec<String> {
    scenario
        .accepter
        .ec2
        .describe_vpc_peering_connections()
        .filters(status_filter(code))
        .send()
        .await
        .unwrap()
        .vpc_peering_connections()
        .iter()
        .filter_map(|p| p.vpc_peering_connection_id().map(str::to_owned))
        .collect()
}

/// Requests six peerings and reads the first page of five: (ids on the page, next token).
async fn first_page_of_six(scenario: &Scenario) -> (usize, Option<String>) {
    for _ in 0..6 {
        scenario.request_peering(&[]).await.unwrap();
    }
    let page = scenario
        .accepter
        .ec2
        .describe_vpc_peering_connections()
        .max_results(5)
        .send()
        .await
        .unwrap();
    (
        page.vpc_peering_connections().len(),
        page.next_token().map(str::to_owned),
    )
}

#[tokio::test]
async fn describe_peering_filters_applies_the_status_filter() {
    let (scenario, _emulator) = world(&[]).await;
    let (pending, rejected) = pending_and_rejected(&scenario).await;
    assert_eq!(
        ids_with_status(&scenario, "pending-acceptance").await,
        std::slice::from_ref(&pending)
    );
    assert_eq!(ids_with_status(&scenario, "rejected").await, [rejected]);
    // The requester tagged the requests: only its own view carries the tags.
    let tagged = scenario
        .requester
        .ec2
        .describe_vpc_peering_connections()
        .filters(Filter::builder().name("tag:team").values("pay*").build())
        .send()
        .await
        .unwrap();
    let tagged: Vec<&str> = tagged
        .vpc_peering_connections()
        .iter()
        .filter_map(|p| p.vpc_peering_connection_id())
        .collect();
    assert_eq!(tagged, [pending.as_str()]);
}

#[tokio::test]
async fn describe_peering_filters_pages_with_max_results() {
    let (scenario, _emulator) = world(&[]).await;
    let (first, token) = first_page_of_six(&scenario).await;
    assert_eq!(first, 5);
    let token = token.expect("a next token after five of six peerings");
    let rest = scenario
        .accepter
        .ec2
        .describe_vpc_peering_connections()
        .max_results(5)
        .next_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(rest.vpc_peering_connections().len(), 1);
    assert_eq!(rest.next_token(), None);
}

#[tokio::test]
async fn describe_peering_filters_rejects_an_unknown_filter() {
    let (scenario, _emulator) = world(&[]).await;
    scenario.request_peering(&[]).await.unwrap();
    let result = scenario
        .accepter
        .ec2
        .describe_vpc_peering_connections()
        .filters(Filter::builder().name("no-such-filter").values("x").build())
        .send()
        .await;
    assert_eq!(error_code(result), "InvalidParameterValue");
}

#[tokio::test]
async fn without_describe_peering_filters_moto_ignores_filters_and_paging() {
    let (scenario, _emulator) = world(&[DESCRIBE_PEERING_FILTERS]).await;
    let (pending, rejected) = pending_and_rejected(&scenario).await;
    let mut pending_only = ids_with_status(&scenario, "pending-acceptance").await;
    pending_only.sort();
    let mut both = vec![pending, rejected];
    both.sort();
    assert_eq!(pending_only, both, "moto returns the rejected one too");
    let unknown = scenario
        .accepter
        .ec2
        .describe_vpc_peering_connections()
        .filters(Filter::builder().name("no-such-filter").values("x").build())
        .send()
        .await;
    assert!(unknown.is_ok(), "moto accepts an unknown filter");
    let (first, token) = first_page_of_six(&scenario).await;
    assert_eq!(first, 8, "moto returns every peering on one page");
    assert_eq!(token, None);
}

// ---------------------------------------------------------------------------------------------
// peering-options-owner-only

#[tokio::test]
async fn peering_options_owner_only_lets_each_owner_set_only_its_side() {
    let (scenario, _emulator) = world(&[]).await;
    let pcx = active_peering(&scenario).await;

    let foreign = scenario
        .accepter
        .ec2
        .modify_vpc_peering_connection_options()
        .vpc_peering_connection_id(&pcx)
        .requester_peering_connection_options(dns_resolution())
        .send()
        .await;
    let (code, message) = error_of(foreign);
    assert_eq!(code, "OperationNotPermitted");
    assert!(message.contains(ACCEPTER_ACCOUNT), "{message}");
    assert!(message.contains("requester side"), "{message}");

    let foreign = scenario
        .requester
        .ec2
        .modify_vpc_peering_connection_options()
        .vpc_peering_connection_id(&pcx)
        .accepter_peering_connection_options(dns_resolution())
        .send()
        .await;
    assert_eq!(error_code(foreign), "OperationNotPermitted");

    scenario
        .accepter
        .ec2
        .modify_vpc_peering_connection_options()
        .vpc_peering_connection_id(&pcx)
        .accepter_peering_connection_options(dns_resolution())
        .send()
        .await
        .unwrap();
    assert_eq!(
        dns_options(&scenario.requester.ec2, &pcx).await,
        (Some(false), Some(true))
    );
}

#[tokio::test]
async fn without_peering_options_owner_only_moto_lets_the_accepter_set_the_requester_side() {
    let (scenario, _emulator) = world(&[PEERING_OPTIONS_OWNER_ONLY]).await;
    let pcx = active_peering(&scenario).await;
    scenario
        .accepter
        .ec2
        .modify_vpc_peering_connection_options()
        .vpc_peering_connection_id(&pcx)
        .requester_peering_connection_options(dns_resolution())
        .send()
        .await
        .unwrap();
    assert_eq!(
        dns_options(&scenario.requester.ec2, &pcx).await,
        (Some(true), Some(false))
    );
}

// ---------------------------------------------------------------------------------------------
// peering-options-active-only

#[tokio::test]
async fn peering_options_active_only_refuses_a_pending_peering() {
    let (scenario, _emulator) = world(&[]).await;
    let pcx = scenario.request_peering(&[]).await.unwrap();
    let result = scenario
        .accepter
        .ec2
        .modify_vpc_peering_connection_options()
        .vpc_peering_connection_id(&pcx)
        .accepter_peering_connection_options(dns_resolution())
        .send()
        .await;
    let (code, message) = error_of(result);
    assert_eq!(code, "OperationNotPermitted");
    assert!(
        message.contains("can be added only to active peerings"),
        "{message}"
    );
    assert_eq!(
        dns_options(&scenario.accepter.ec2, &pcx).await,
        (Some(false), Some(false))
    );
}

#[tokio::test]
async fn without_peering_options_active_only_moto_modifies_a_pending_peering() {
    let (scenario, _emulator) = world(&[PEERING_OPTIONS_ACTIVE_ONLY]).await;
    let pcx = scenario.request_peering(&[]).await.unwrap();
    scenario
        .accepter
        .ec2
        .modify_vpc_peering_connection_options()
        .vpc_peering_connection_id(&pcx)
        .accepter_peering_connection_options(dns_resolution())
        .send()
        .await
        .unwrap();
    assert_eq!(scenario.status(&pcx).await.unwrap(), "pending-acceptance");
    assert_eq!(
        dns_options(&scenario.accepter.ec2, &pcx).await,
        (Some(false), Some(true))
    );
}

// ---------------------------------------------------------------------------------------------
// cross-account-sg-reference

/// The accepter lets the requester's task group reach its DB group on 5432.
async fn authorize_from_requester_group(
    scenario: &Scenario,
) -> Result<
    aws_sdk_ec2::operation::authorize_security_group_ingress::AuthorizeSecurityGroupIngressOutput,
    aws_sdk_ec2::error::SdkError<
        aws_sdk_ec2::operation::authorize_security_group_ingress::AuthorizeSecurityGroupIngressError,
    >,
>{
    scenario
        .accepter
        .ec2
        .authorize_security_group_ingress()
        .group_id(&scenario.accepter.security_group_id)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(5432)
                .to_port(5432)
                .user_id_group_pairs(
                    UserIdGroupPair::builder()
                        .user_id(REQUESTER_ACCOUNT)
                        .group_id(&scenario.requester.security_group_id)
                        .description("ECS tasks of the payments service")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
}

#[tokio::test]
async fn cross_account_sg_reference_is_allowed_over_an_active_peering() {
    let (scenario, _emulator) = world(&[]).await;
    active_peering(&scenario).await;
    authorize_from_requester_group(&scenario).await.unwrap();

    let groups = scenario
        .accepter
        .ec2
        .describe_security_groups()
        .group_ids(&scenario.accepter.security_group_id)
        .send()
        .await
        .unwrap();
    let pairs: Vec<(Option<&str>, Option<&str>)> = groups.security_groups()[0]
        .ip_permissions()
        .iter()
        .filter(|p| p.from_port() == Some(5432))
        .flat_map(|p| p.user_id_group_pairs())
        .map(|pair| (pair.user_id(), pair.group_id()))
        .collect();
    assert_eq!(
        pairs,
        [(
            Some(REQUESTER_ACCOUNT),
            Some(scenario.requester.security_group_id.as_str())
        )]
    );

    let rules = scenario
        .accepter
        .ec2
        .describe_security_group_rules()
        .filters(
            Filter::builder()
                .name("group-id")
                .values(&scenario.accepter.security_group_id)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let referenced: Vec<(Option<&str>, Option<&str>)> = rules
        .security_group_rules()
        .iter()
        .filter_map(|r| r.referenced_group_info())
        .map(|g| (g.user_id(), g.group_id()))
        .collect();
    assert_eq!(
        referenced,
        [(
            Some(REQUESTER_ACCOUNT),
            Some(scenario.requester.security_group_id.as_str())
        )]
    );
}

#[tokio::test]
async fn cross_account_sg_reference_is_refused_without_an_active_peering() {
    let (scenario, _emulator) = world(&[]).await;
    // Pending is not enough: only an active peering joins the two networks.
    let pcx = scenario.request_peering(&[]).await.unwrap();
    assert_eq!(scenario.status(&pcx).await.unwrap(), "pending-acceptance");
    let (code, message) = error_of(authorize_from_requester_group(&scenario).await);
    assert_eq!(code, "InvalidGroup.NotFound");
    assert!(message.contains("different networks"), "{message}");
}

#[tokio::test]
async fn without_cross_account_sg_reference_moto_cannot_find_the_peer_group() {
    let (scenario, _emulator) = world(&[CROSS_ACCOUNT_SG_REFERENCE]).await;
    active_peering(&scenario).await;
    let (code, message) = error_of(authorize_from_requester_group(&scenario).await);
    assert_eq!(code, "InvalidGroup.NotFound");
    assert!(
        message.contains(&scenario.requester.security_group_id),
        "{message}"
    );
}

// ---------------------------------------------------------------------------------------------
// sg-rule-reference-description

/// The requester's group lets its own members talk on 8080 (a self-reference, described), then
/// returns (DescribeSecurityGroups' pair description, DescribeSecurityGroupRules' description).
async fn self_reference_descriptions(scenario: &Scenario) -> (Option<String>, Option<String>) {
    let group = &scenario.requester.security_group_id;
    scenario
        .requester
        .ec2
        .authorize_security_group_ingress()
        .group_id(group)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(8080)
                .to_port(8080)
                .user_id_group_pairs(
                    UserIdGroupPair::builder()
                        .group_id(group)
                        .description("tasks of the same service")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let groups = scenario
        .requester
        .ec2
        .describe_security_groups()
        .group_ids(group)
        .send()
        .await
        .unwrap();
    let pair = groups.security_groups()[0]
        .ip_permissions()
        .iter()
        .filter(|p| p.from_port() == Some(8080))
        .flat_map(|p| p.user_id_group_pairs())
        .find_map(|pair| pair.description().map(str::to_owned));
    let rules = scenario
        .requester
        .ec2
        .describe_security_group_rules()
        .filters(Filter::builder().name("group-id").values(group).build())
        .send()
        .await
        .unwrap();
    // The group-id filter works in plain moto too: only this group's rules come back.
    assert!(rules
        .security_group_rules()
        .iter()
        .all(|r| r.group_id() == Some(group.as_str())));
    let rule = rules
        .security_group_rules()
        .iter()
        .find(|r| r.from_port() == Some(8080))
        .expect("the self-reference rule");
    assert_eq!(
        rule.referenced_group_info().and_then(|g| g.group_id()),
        Some(group.as_str())
    );
    (pair, rule.description().map(str::to_owned))
}

#[tokio::test]
async fn sg_rule_reference_description_is_described_by_describe_security_group_rules() {
    let (scenario, _emulator) = world(&[]).await;
    let (pair, rule) = self_reference_descriptions(&scenario).await;
    assert_eq!(pair.as_deref(), Some("tasks of the same service"));
    assert_eq!(rule.as_deref(), Some("tasks of the same service"));
}

#[tokio::test]
async fn without_sg_rule_reference_description_moto_drops_it_from_the_rule() {
    let (scenario, _emulator) = world(&[SG_RULE_REFERENCE_DESCRIPTION]).await;
    let (pair, rule) = self_reference_descriptions(&scenario).await;
    assert_eq!(pair.as_deref(), Some("tasks of the same service"));
    assert_eq!(rule, None);
}

// ---------------------------------------------------------------------------------------------
// peering-tags-per-owner

fn pair(key: &str, value: &str) -> (String, String) {
    (key.to_owned(), value.to_owned())
}

/// The tags of `pcx` as `ec2`'s account describes the peering, sorted.
async fn tags_seen(ec2: &Client, pcx: &str) -> Vec<(String, String)> {
    let described = ec2
        .describe_vpc_peering_connections()
        .vpc_peering_connection_ids(pcx)
        .send()
        .await
        .unwrap();
    let mut tags: Vec<(String, String)> = described.vpc_peering_connections()[0]
        .tags()
        .iter()
        .map(|t| pair(t.key().unwrap_or_default(), t.value().unwrap_or_default()))
        .collect();
    tags.sort();
    tags
}

async fn tag(ec2: &Client, pcx: &str, key: &str, value: &str) {
    ec2.create_tags()
        .resources(pcx)
        .tags(Tag::builder().key(key).value(value).build())
        .send()
        .await
        .unwrap();
}

/// The peerings `ec2`'s account finds with the `tag:<key>` filter.
async fn ids_tagged(ec2: &Client, key: &str, value: &str) -> Vec<String> {
    ec2.describe_vpc_peering_connections()
        .filters(
            Filter::builder()
                .name(format!("tag:{key}"))
                .values(value)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .vpc_peering_connections()
        .iter()
        .filter_map(|p| p.vpc_peering_connection_id().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn peering_tags_per_owner_shows_each_account_its_own_tags() {
    let (scenario, _emulator) = world(&[]).await;
    let (requester, accepter) = (&scenario.requester.ec2, &scenario.accepter.ec2);
    let pcx = scenario
        .request_peering(&[("team", "payments")])
        .await
        .unwrap();
    tag(accepter, &pcx, "owner", "db-team").await;

    assert_eq!(tags_seen(requester, &pcx).await, [pair("team", "payments")]);
    assert_eq!(tags_seen(accepter, &pcx).await, [pair("owner", "db-team")]);
    assert_eq!(
        ids_tagged(accepter, "owner", "db-team").await,
        std::slice::from_ref(&pcx)
    );
    assert!(ids_tagged(accepter, "team", "payments").await.is_empty());
    assert_eq!(
        ids_tagged(requester, "team", "payments").await,
        std::slice::from_ref(&pcx)
    );

    requester
        .delete_tags()
        .resources(&pcx)
        .tags(Tag::builder().key("team").build())
        .send()
        .await
        .unwrap();
    assert!(tags_seen(requester, &pcx).await.is_empty());
    assert_eq!(tags_seen(accepter, &pcx).await, [pair("owner", "db-team")]);

    // DescribeTags already answers per account in plain moto.
    let described = accepter
        .describe_tags()
        .filters(Filter::builder().name("resource-id").values(&pcx).build())
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = described.tags().iter().filter_map(|t| t.key()).collect();
    assert_eq!(keys, ["owner"]);
}

#[tokio::test]
async fn peering_tags_per_owner_keeps_one_tag_set_within_one_account_and_region() {
    let (scenario, _emulator) = world(&[]).await;
    let (_, pcx) = scenario
        .request_from_new_vpc(ACCEPTER_ACCOUNT, "10.5.0.0/16", &[("team", "payments")])
        .await
        .unwrap();
    tag(&scenario.accepter.ec2, &pcx, "owner", "db-team").await;
    assert_eq!(
        tags_seen(&scenario.accepter.ec2, &pcx).await,
        [pair("owner", "db-team"), pair("team", "payments")]
    );
}

#[tokio::test]
async fn without_peering_tags_per_owner_moto_shows_the_requester_tags_to_both() {
    let (scenario, _emulator) = world(&[PEERING_TAGS_PER_OWNER]).await;
    let accepter = &scenario.accepter.ec2;
    let pcx = scenario
        .request_peering(&[("team", "payments")])
        .await
        .unwrap();
    tag(accepter, &pcx, "owner", "db-team").await;
    assert_eq!(tags_seen(accepter, &pcx).await, [pair("team", "payments")]);
    assert!(ids_tagged(accepter, "owner", "db-team").await.is_empty());
}

// ---------------------------------------------------------------------------------------------
// peering-lifecycle

const GONE: &str = "InvalidVpcPeeringConnectionID.NotFound";

/// The status code `ec2`'s account sees for `pcx`, the error code of the describe, or `absent`
/// for an empty answer.
async fn seen_status(ec2: &Client, pcx: &str) -> String {
    match ec2
        .describe_vpc_peering_connections()
        .vpc_peering_connection_ids(pcx)
        .send()
        .await
    {
        Ok(described) => described
            .vpc_peering_connections()
            .first()
            .and_then(|p| p.status())
            .and_then(|s| s.code())
            .map_or_else(|| "absent".to_owned(), |c| c.as_str().to_owned()),
        Err(err) => err.code().unwrap_or("<no code>").to_owned(),
    }
}

/// How many seconds from now `pcx` expires, as `ec2`'s account sees it; `None` when no
/// expiration time is shown.
async fn expires_in(ec2: &Client, pcx: &str) -> Option<i64> {
    let at = *described(ec2, pcx).await.expiration_time()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    Some(at.secs() - now)
}

async fn accept_code(scenario: &Scenario, pcx: &str) -> String {
    error_code(
        scenario
            .accepter
            .ec2
            .accept_vpc_peering_connection()
            .vpc_peering_connection_id(pcx)
            .send()
            .await,
    )
}

async fn reject(scenario: &Scenario, pcx: &str) {
    scenario
        .accepter
        .ec2
        .reject_vpc_peering_connection()
        .vpc_peering_connection_id(pcx)
        .send()
        .await
        .unwrap();
}

async fn delete_peering(
    ec2: &Client,
    pcx: &str,
) -> Result<
    aws_sdk_ec2::operation::delete_vpc_peering_connection::DeleteVpcPeeringConnectionOutput,
    aws_sdk_ec2::error::SdkError<
        aws_sdk_ec2::operation::delete_vpc_peering_connection::DeleteVpcPeeringConnectionError,
    >,
> {
    ec2.delete_vpc_peering_connection()
        .vpc_peering_connection_id(pcx)
        .send()
        .await
}

#[tokio::test]
async fn peering_lifecycle_dwells_in_each_transient_status() {
    let (scenario, emulator) = world_with(
        EmulatorOptions::new()
            .setting("initiating_request_seconds", "60")
            .setting("provisioning_seconds", "60")
            .setting("deleting_seconds", "60"),
    )
    .await;
    let (requester, accepter) = (&scenario.requester.ec2, &scenario.accepter.ec2);
    let pcx = scenario.request_peering(&[]).await.unwrap();
    assert_eq!(seen_status(accepter, &pcx).await, "initiating-request");
    assert_eq!(accept_code(&scenario, &pcx).await, "InvalidStateTransition");

    emulator.set("clock_offset", "61").await.unwrap();
    assert_eq!(seen_status(accepter, &pcx).await, "pending-acceptance");
    scenario.accept_directly(&pcx).await.unwrap();
    assert_eq!(seen_status(requester, &pcx).await, "provisioning");
    assert_eq!(accept_code(&scenario, &pcx).await, "InvalidStateTransition");

    emulator.set("clock_offset", "122").await.unwrap();
    assert_eq!(seen_status(requester, &pcx).await, "active");
    delete_peering(requester, &pcx).await.unwrap();
    assert_eq!(seen_status(accepter, &pcx).await, "deleting");

    emulator.set("clock_offset", "183").await.unwrap();
    assert_eq!(seen_status(accepter, &pcx).await, "deleted");
}

#[tokio::test]
async fn peering_lifecycle_expires_requests_and_forgets_finished_peerings() {
    let (scenario, emulator) = world_with(
        EmulatorOptions::new()
            .setting("expire_after", "604800")
            .setting("forget_after", "7200")
            .setting("forget_after_other_party", "172800"),
    )
    .await;
    let (requester, accepter) = (&scenario.requester.ec2, &scenario.accepter.ec2);
    let unanswered = scenario.request_peering(&[]).await.unwrap();
    // A pending request shows when it expires, to both parties: a week from now.
    for ec2 in [requester, accepter] {
        let left = expires_in(ec2, &unanswered)
            .await
            .expect("an expiration time");
        assert!((604_790..=604_800).contains(&left), "{left}");
    }
    let (_, rejected) = scenario
        .request_from_new_vpc(REQUESTER_ACCOUNT, "10.6.0.0/16", &[])
        .await
        .unwrap();
    reject(&scenario, &rejected).await;
    let (_, deleted) = scenario
        .request_from_new_vpc(REQUESTER_ACCOUNT, "10.7.0.0/16", &[])
        .await
        .unwrap();
    scenario.accept_directly(&deleted).await.unwrap();
    // Accepted, it shows none (nor does a rejected one).
    assert_eq!(expires_in(accepter, &deleted).await, None);
    assert_eq!(expires_in(requester, &rejected).await, None);
    delete_peering(requester, &deleted).await.unwrap();

    // Two hours on: the accepter no longer sees its rejection, the deleter its deletion; the
    // other party still does.
    emulator.set("clock_offset", "7201").await.unwrap();
    assert_eq!(seen_status(accepter, &rejected).await, GONE);
    assert_eq!(seen_status(requester, &rejected).await, "rejected");
    assert_eq!(seen_status(requester, &deleted).await, GONE);
    assert_eq!(seen_status(accepter, &deleted).await, "deleted");
    assert_eq!(
        seen_status(accepter, &unanswered).await,
        "pending-acceptance"
    );
    let listed = accepter
        .describe_vpc_peering_connections()
        .send()
        .await
        .unwrap();
    let listed: Vec<&str> = listed
        .vpc_peering_connections()
        .iter()
        .filter_map(|p| p.vpc_peering_connection_id())
        .collect();
    assert!(!listed.contains(&rejected.as_str()), "{listed:?}");

    // A week on: the unanswered request has expired and can no longer be accepted.
    emulator.set("clock_offset", "604801").await.unwrap();
    assert_eq!(seen_status(accepter, &unanswered).await, "expired");
    assert_eq!(seen_status(requester, &unanswered).await, "expired");
    assert_eq!(
        accept_code(&scenario, &unanswered).await,
        "InvalidStateTransition"
    );

    // Two days after it expired, everything is gone for everyone.
    emulator.set("clock_offset", "777701").await.unwrap();
    for pcx in [&unanswered, &rejected, &deleted] {
        for ec2 in [requester, accepter] {
            assert_eq!(seen_status(ec2, pcx).await, GONE, "{pcx}");
        }
    }
}

#[tokio::test]
async fn peering_lifecycle_refuses_to_delete_rejected_or_failed_peerings() {
    let (scenario, _emulator) = world(&[]).await;
    let requester = &scenario.requester.ec2;
    let rejected = scenario.request_peering(&[]).await.unwrap();
    reject(&scenario, &rejected).await;
    assert_eq!(
        error_code(delete_peering(requester, &rejected).await),
        "InvalidStateTransition"
    );
    let (_, failed) = scenario
        .request_from_new_vpc(REQUESTER_ACCOUNT, "10.1.0.0/16", &[])
        .await
        .unwrap();
    assert_eq!(
        error_code(delete_peering(requester, &failed).await),
        "InvalidStateTransition"
    );
    // An unknown id is NotFound, not an empty answer.
    assert_eq!(
        seen_status(&scenario.accepter.ec2, "pcx-0123456789abcdef0").await,
        GONE
    );
}

#[tokio::test]
async fn peering_lifecycle_defaults_keep_moto_timing() {
    let (scenario, emulator) = world(&[]).await;
    let accepter = &scenario.accepter.ec2;
    let pcx = scenario.request_peering(&[]).await.unwrap();
    assert_eq!(seen_status(accepter, &pcx).await, "pending-acceptance");
    // Nothing expires by default, but the request shows AWS's expiration time.
    let left = expires_in(accepter, &pcx)
        .await
        .expect("an expiration time");
    assert!((604_790..=604_800).contains(&left), "{left}");
    scenario.accept_directly(&pcx).await.unwrap();
    assert_eq!(seen_status(accepter, &pcx).await, "active");
    delete_peering(&scenario.requester.ec2, &pcx).await.unwrap();
    assert_eq!(seen_status(accepter, &pcx).await, "deleted");
    // A year on, nothing expired or vanished.
    emulator.set("clock_offset", "31536000").await.unwrap();
    assert_eq!(seen_status(accepter, &pcx).await, "deleted");
    let settings = emulator.settings().await.unwrap();
    assert_eq!(settings["forget_after"], "never");
    assert_eq!(settings["expire_after"], "never");
}

#[tokio::test]
async fn without_peering_lifecycle_moto_never_dwells_expires_or_forgets() {
    let (scenario, emulator) = world_with(
        EmulatorOptions::new()
            .disable(PEERING_LIFECYCLE)
            .setting("initiating_request_seconds", "60")
            .setting("expire_after", "604800")
            .setting("forget_after", "7200"),
    )
    .await;
    let accepter = &scenario.accepter.ec2;
    let pcx = scenario.request_peering(&[]).await.unwrap();
    assert_eq!(seen_status(accepter, &pcx).await, "pending-acceptance");
    assert_eq!(expires_in(accepter, &pcx).await, None);
    let (_, rejected) = scenario
        .request_from_new_vpc(REQUESTER_ACCOUNT, "10.6.0.0/16", &[])
        .await
        .unwrap();
    reject(&scenario, &rejected).await;
    delete_peering(&scenario.requester.ec2, &rejected)
        .await
        .expect("moto deletes a rejected peering");
    emulator.set("clock_offset", "31536000").await.unwrap();
    assert_eq!(seen_status(accepter, &pcx).await, "pending-acceptance");
    assert_eq!(seen_status(accepter, &rejected).await, "deleted");
    assert_eq!(
        seen_status(accepter, "pcx-0123456789abcdef0").await,
        "absent"
    );
}

// ---------------------------------------------------------------------------------------------
// route-blackhole

/// The requester's first route table sends the accepter's CIDR over `pcx`; returns the table.
async fn route_over(scenario: &Scenario, pcx: &str) -> String {
    let table = scenario.requester.route_tables[0].clone();
    scenario
        .requester
        .ec2
        .create_route()
        .route_table_id(&table)
        .destination_cidr_block(&scenario.accepter.cidr)
        .vpc_peering_connection_id(pcx)
        .send()
        .await
        .unwrap();
    table
}

/// The state of the route over `pcx` in `table`.
async fn route_state(ec2: &Client, table: &str, pcx: &str) -> Option<RouteState> {
    let described = ec2
        .describe_route_tables()
        .route_table_ids(table)
        .send()
        .await
        .unwrap();
    described.route_tables()[0]
        .routes()
        .iter()
        .find(|r| r.vpc_peering_connection_id() == Some(pcx))
        .and_then(|r| r.state().cloned())
}

async fn tables_with(ec2: &Client, filter: &str, value: &str) -> Vec<String> {
    ec2.describe_route_tables()
        .filters(Filter::builder().name(filter).values(value).build())
        .send()
        .await
        .unwrap()
        .route_tables()
        .iter()
        .filter_map(|t| t.route_table_id().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn route_blackhole_marks_routes_to_a_deleted_peering() {
    let (scenario, emulator) = world(&[]).await;
    let ec2 = &scenario.requester.ec2;
    let pcx = active_peering(&scenario).await;
    let table = route_over(&scenario, &pcx).await;
    assert_eq!(
        route_state(ec2, &table, &pcx).await,
        Some(RouteState::Active)
    );
    assert!(tables_with(ec2, "route.state", "blackhole")
        .await
        .is_empty());

    delete_peering(ec2, &pcx).await.unwrap();
    assert_eq!(
        route_state(ec2, &table, &pcx).await,
        Some(RouteState::Blackhole)
    );
    assert_eq!(
        tables_with(ec2, "route.state", "blackhole").await,
        std::slice::from_ref(&table)
    );
    assert_eq!(
        tables_with(ec2, "route.vpc-peering-connection-id", &pcx).await,
        std::slice::from_ref(&table)
    );

    // Once the peering is forgotten the route stays, still a blackhole.
    emulator.set("forget_after", "0").await.unwrap();
    assert_eq!(seen_status(ec2, &pcx).await, GONE);
    assert_eq!(
        route_state(ec2, &table, &pcx).await,
        Some(RouteState::Blackhole)
    );
}

#[tokio::test]
async fn without_route_blackhole_moto_keeps_the_route_active() {
    let (scenario, _emulator) = world(&[ROUTE_BLACKHOLE]).await;
    let ec2 = &scenario.requester.ec2;
    let pcx = active_peering(&scenario).await;
    let table = route_over(&scenario, &pcx).await;
    delete_peering(ec2, &pcx).await.unwrap();
    assert_eq!(seen_status(ec2, &pcx).await, "deleted");
    assert_eq!(
        route_state(ec2, &table, &pcx).await,
        Some(RouteState::Active)
    );
    let filtered = ec2
        .describe_route_tables()
        .filters(
            Filter::builder()
                .name("route.state")
                .values("blackhole")
                .build(),
        )
        .send()
        .await;
    assert!(filtered.is_err(), "moto 5.2.5 has no route.state filter");
}

// ---------------------------------------------------------------------------------------------
// ec2-dry-run

/// (error code, HTTP status) of a call that must be refused.
fn refusal<T: std::fmt::Debug, E: ProvideErrorMetadata>(
    result: Result<T, aws_sdk_ec2::error::SdkError<E>>,
) -> (String, u16) {
    match result {
        Ok(value) => panic!("expected a refusal, got {value:?}"),
        Err(err) => (
            err.code().unwrap_or("<no code>").to_owned(),
            err.raw_response().map_or(0, |r| r.status().as_u16()),
        ),
    }
}

fn postgres_from(cidr: &str) -> IpPermission {
    IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(5432)
        .to_port(5432)
        .ip_ranges(IpRange::builder().cidr_ip(cidr).build())
        .build()
}

#[tokio::test]
async fn ec2_dry_run_answers_dry_run_operation_and_changes_nothing() {
    let (scenario, _emulator) = world(&[]).await;
    let (requester, accepter) = (&scenario.requester.ec2, &scenario.accepter.ec2);
    let pending = scenario.request_peering(&[]).await.unwrap();
    let (_, active) = scenario
        .request_from_new_vpc(REQUESTER_ACCOUNT, "10.8.0.0/16", &[])
        .await
        .unwrap();
    scenario.accept_directly(&active).await.unwrap();
    let table = &scenario.requester.route_tables[0];
    requester
        .create_route()
        .route_table_id(table)
        .destination_cidr_block("10.9.0.0/16")
        .vpc_peering_connection_id(&active)
        .send()
        .await
        .unwrap();
    let group = &scenario.requester.security_group_id;
    let vpc = &scenario.requester.vpc_id;
    let rule = || postgres_from("10.1.0.0/16");

    let answers = [
        (
            "AcceptVpcPeeringConnection",
            refusal(
                accepter
                    .accept_vpc_peering_connection()
                    .vpc_peering_connection_id(&pending)
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "RejectVpcPeeringConnection",
            refusal(
                accepter
                    .reject_vpc_peering_connection()
                    .vpc_peering_connection_id(&pending)
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "CreateRoute",
            refusal(
                requester
                    .create_route()
                    .route_table_id(table)
                    .destination_cidr_block("10.1.0.0/16")
                    .vpc_peering_connection_id(&active)
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "ReplaceRoute",
            refusal(
                requester
                    .replace_route()
                    .route_table_id(table)
                    .destination_cidr_block("10.9.0.0/16")
                    .vpc_peering_connection_id(&pending)
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "DeleteRoute",
            refusal(
                requester
                    .delete_route()
                    .route_table_id(table)
                    .destination_cidr_block("10.9.0.0/16")
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "AuthorizeSecurityGroupIngress",
            refusal(
                requester
                    .authorize_security_group_ingress()
                    .group_id(group)
                    .ip_permissions(rule())
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "AuthorizeSecurityGroupEgress",
            refusal(
                requester
                    .authorize_security_group_egress()
                    .group_id(group)
                    .ip_permissions(rule())
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "RevokeSecurityGroupIngress",
            refusal(
                requester
                    .revoke_security_group_ingress()
                    .group_id(group)
                    .ip_permissions(rule())
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "RevokeSecurityGroupEgress",
            refusal(
                requester
                    .revoke_security_group_egress()
                    .group_id(group)
                    .ip_permissions(rule())
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "ModifyVpcPeeringConnectionOptions",
            refusal(
                requester
                    .modify_vpc_peering_connection_options()
                    .vpc_peering_connection_id(&active)
                    .requester_peering_connection_options(dns_resolution())
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "DescribeVpcPeeringConnections",
            refusal(
                accepter
                    .describe_vpc_peering_connections()
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "DescribeVpcs",
            refusal(requester.describe_vpcs().dry_run(true).send().await),
        ),
        (
            "DescribeRouteTables",
            refusal(requester.describe_route_tables().dry_run(true).send().await),
        ),
        (
            "DescribeSubnets",
            refusal(requester.describe_subnets().dry_run(true).send().await),
        ),
        (
            "DescribeSecurityGroups",
            refusal(
                requester
                    .describe_security_groups()
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "DescribeVpcAttribute",
            refusal(
                requester
                    .describe_vpc_attribute()
                    .vpc_id(vpc)
                    .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
        (
            "DescribeNetworkAcls",
            refusal(requester.describe_network_acls().dry_run(true).send().await),
        ),
        (
            "CreateTags",
            refusal(
                requester
                    .create_tags()
                    .resources(&active)
                    .tags(Tag::builder().key("k").value("v").build())
                    .dry_run(true)
                    .send()
                    .await,
            ),
        ),
    ];
    for (action, answer) in &answers {
        assert_eq!(answer, &("DryRunOperation".to_owned(), 412), "{action}");
    }

    // Nothing changed.
    assert_eq!(
        scenario.status(&pending).await.unwrap(),
        "pending-acceptance"
    );
    let routes = requester
        .describe_route_tables()
        .route_table_ids(table)
        .send()
        .await
        .unwrap();
    let routes: Vec<(Option<&str>, Option<&str>)> = routes.route_tables()[0]
        .routes()
        .iter()
        .map(|r| (r.destination_cidr_block(), r.vpc_peering_connection_id()))
        .collect();
    assert!(routes.contains(&(Some("10.9.0.0/16"), Some(active.as_str()))));
    assert!(!routes.iter().any(|r| r.0 == Some("10.1.0.0/16")));
    assert_eq!(
        dns_options(requester, &active).await,
        (Some(false), Some(false))
    );
    assert!(tags_seen(requester, &active).await.is_empty());
}

#[tokio::test]
async fn without_ec2_dry_run_moto_performs_dry_run_calls() {
    let (scenario, _emulator) = world(&[EC2_DRY_RUN]).await;
    let pcx = scenario.request_peering(&[]).await.unwrap();
    scenario
        .accepter
        .ec2
        .accept_vpc_peering_connection()
        .vpc_peering_connection_id(&pcx)
        .dry_run(true)
        .send()
        .await
        .expect("moto ignores DryRun");
    assert_eq!(scenario.status(&pcx).await.unwrap(), "active");
    let table = route_over(&scenario, &pcx).await;
    scenario
        .requester
        .ec2
        .delete_route()
        .route_table_id(&table)
        .destination_cidr_block(&scenario.accepter.cidr)
        .dry_run(true)
        .send()
        .await
        .expect("moto ignores DryRun");
    assert_eq!(
        route_state(&scenario.requester.ec2, &table, &pcx).await,
        None
    );
}

// ---------------------------------------------------------------------------------------------
// sg-rule-quota

fn ipv4_rules(cidrs: &[String]) -> IpPermission {
    let mut rule = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(5432)
        .to_port(5432);
    for cidr in cidrs {
        rule = rule.ip_ranges(IpRange::builder().cidr_ip(cidr).build());
    }
    rule.build()
}

fn ipv6_rules(cidrs: &[String]) -> IpPermission {
    let mut rule = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(5432)
        .to_port(5432);
    for cidr in cidrs {
        rule = rule.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(cidr).build());
    }
    rule.build()
}

fn v4(range: std::ops::Range<u32>) -> Vec<String> {
    range.map(|i| format!("10.0.{i}.0/24")).collect()
}

fn v6(range: std::ops::Range<u32>) -> Vec<String> {
    range.map(|i| format!("2001:db8:{i:x}::/64")).collect()
}

/// Adds `rule` to `group` (inbound, or outbound when `egress`): Ok, or the error code.
async fn add_rule(
    ec2: &Client,
    group: &str,
    rule: IpPermission,
    egress: bool,
) -> Result<(), String> {
    let code = |e: &dyn ProvideErrorMetadata| e.code().unwrap_or("<no code>").to_owned();
    if egress {
        ec2.authorize_security_group_egress()
            .group_id(group)
            .ip_permissions(rule)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| code(&e))
    } else {
        ec2.authorize_security_group_ingress()
            .group_id(group)
            .ip_permissions(rule)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| code(&e))
    }
}

const RULE_LIMIT: &str = "RulesPerSecurityGroupLimitExceeded";

#[tokio::test]
async fn sg_rule_quota_counts_ipv4_and_ipv6_rules_apart() {
    let (scenario, _emulator) =
        world_with(EmulatorOptions::new().setting("sg_rules_per_group", "3")).await;
    let ec2 = &scenario.accepter.ec2;
    let group = &scenario.accepter.security_group_id;
    // A rule that references a group counts once for IPv4 and once for IPv6.
    let self_reference = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(5432)
        .to_port(5432)
        .user_id_group_pairs(UserIdGroupPair::builder().group_id(group).build())
        .build();
    add_rule(ec2, group, self_reference, false).await.unwrap();
    add_rule(ec2, group, ipv4_rules(&v4(1..3)), false)
        .await
        .unwrap();
    assert_eq!(
        add_rule(ec2, group, ipv4_rules(&v4(3..4)), false).await,
        Err(RULE_LIMIT.into())
    );
    add_rule(ec2, group, ipv6_rules(&v6(1..3)), false)
        .await
        .unwrap();
    assert_eq!(
        add_rule(ec2, group, ipv6_rules(&v6(3..4)), false).await,
        Err(RULE_LIMIT.into())
    );
    // Outbound rules have their own quota; the default allow-all egress rule is one of them.
    add_rule(ec2, group, ipv4_rules(&v4(1..3)), true)
        .await
        .unwrap();
    assert_eq!(
        add_rule(ec2, group, ipv4_rules(&v4(3..4)), true).await,
        Err(RULE_LIMIT.into())
    );
}

#[tokio::test]
async fn sg_rule_quota_default_is_60_per_family() {
    let (scenario, _emulator) = world(&[]).await;
    let ec2 = &scenario.accepter.ec2;
    let group = &scenario.accepter.security_group_id;
    add_rule(ec2, group, ipv4_rules(&v4(0..60)), false)
        .await
        .unwrap();
    assert_eq!(
        add_rule(ec2, group, ipv4_rules(&v4(60..61)), false).await,
        Err(RULE_LIMIT.into())
    );
    add_rule(ec2, group, ipv6_rules(&v6(0..60)), false)
        .await
        .unwrap();
}

#[tokio::test]
async fn without_sg_rule_quota_moto_ignores_the_setting_and_adds_families_together() {
    let (scenario, _emulator) = world_with(
        EmulatorOptions::new()
            .disable(SG_RULE_QUOTA)
            .setting("sg_rules_per_group", "3"),
    )
    .await;
    let ec2 = &scenario.accepter.ec2;
    let group = &scenario.accepter.security_group_id;
    add_rule(ec2, group, ipv4_rules(&v4(0..4)), false)
        .await
        .expect("moto ignores sg_rules_per_group");
    add_rule(ec2, group, ipv4_rules(&v4(4..60)), false)
        .await
        .unwrap();
    assert_eq!(
        add_rule(ec2, group, ipv6_rules(&v6(0..1)), false).await,
        Err(RULE_LIMIT.into()),
        "moto counts IPv6 rules against the IPv4 ones"
    );
}

// ---------------------------------------------------------------------------------------------
// route-quota

async fn add_route(ec2: &Client, table: &str, destination: &str, pcx: &str) -> Result<(), String> {
    let mut call = ec2
        .create_route()
        .route_table_id(table)
        .vpc_peering_connection_id(pcx);
    call = if destination.contains(':') {
        call.destination_ipv6_cidr_block(destination)
    } else {
        call.destination_cidr_block(destination)
    };
    call.send()
        .await
        .map(|_| ())
        .map_err(|e| e.code().unwrap_or("<no code>").to_owned())
}

#[tokio::test]
async fn route_quota_refuses_routes_past_the_limit_per_family() {
    let (scenario, emulator) =
        world_with(EmulatorOptions::new().setting("routes_per_table", "2")).await;
    let pcx = active_peering(&scenario).await;
    let ec2 = &scenario.requester.ec2;
    let table = &scenario.requester.route_tables[0];
    add_route(ec2, table, "10.1.0.0/16", &pcx).await.unwrap();
    add_route(ec2, table, "10.3.0.0/16", &pcx).await.unwrap();
    assert_eq!(
        add_route(ec2, table, "10.4.0.0/16", &pcx).await,
        Err("RouteLimitExceeded".into())
    );
    // IPv6 routes have their own quota.
    add_route(ec2, table, "2001:db8:1::/56", &pcx)
        .await
        .unwrap();
    add_route(ec2, table, "2001:db8:2::/56", &pcx)
        .await
        .unwrap();
    // The quota can be raised mid-test.
    emulator.set("routes_per_table", "3").await.unwrap();
    add_route(ec2, table, "10.4.0.0/16", &pcx).await.unwrap();
}

#[tokio::test]
async fn without_route_quota_moto_has_no_route_limit() {
    let (scenario, _emulator) = world_with(
        EmulatorOptions::new()
            .disable(ROUTE_QUOTA)
            .setting("routes_per_table", "2"),
    )
    .await;
    let pcx = active_peering(&scenario).await;
    let ec2 = &scenario.requester.ec2;
    let table = &scenario.requester.route_tables[0];
    for destination in ["10.1.0.0/16", "10.3.0.0/16", "10.4.0.0/16"] {
        add_route(ec2, table, destination, &pcx).await.unwrap();
    }
}
