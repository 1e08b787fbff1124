//! These tests prove that each patch of `emulator/launcher.py` is needed: for every patch, one
//! test asserts the AWS behaviour on the fully patched emulator (`Emulator::start()`), and its
//! twin runs the same steps on a server with only that patch disabled
//! (`Emulator::start_with_disabled(&[name])`) and asserts that plain moto 5.2.5 shows the gap.
//! If a twin starts to fail, moto has closed the gap and the patch can go; if a patched test
//! fails, the patch no longer restores the behaviour peerwire relies on.
//!
//! The table in docs/emulator.md names the test pair of each patch.
//!
//! Test-only code: the helpers panic on a broken fixture, like the `#[tokio::test]`s do.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{Filter, IpPermission, PeeringConnectionOptionsRequest, UserIdGroupPair};
use aws_sdk_ec2::Client;
use peerwire_emulator::scenario::{Scenario, ACCEPTER_ACCOUNT, REQUESTER_ACCOUNT};
use peerwire_emulator::Emulator;

const PEERING_CIDR_BLOCK_SET: &str = "peering-cidr-block-set";
const OVERLAPPING_CIDRS_FAIL: &str = "overlapping-cidrs-fail";
const DESCRIBE_PEERING_FILTERS: &str = "describe-peering-filters";
const PEERING_OPTIONS_OWNER_ONLY: &str = "peering-options-owner-only";
const PEERING_OPTIONS_ACTIVE_ONLY: &str = "peering-options-active-only";
const CROSS_ACCOUNT_SG_REFERENCE: &str = "cross-account-sg-reference";
const SG_RULE_REFERENCE_DESCRIPTION: &str = "sg-rule-reference-description";

/// A seeded world on a server with `disabled` patches turned off. The emulator is returned
/// second so that it is dropped after the scenario's clients.
async fn world(disabled: &[&str]) -> (Scenario, Emulator) {
    let emulator = Emulator::start_with_disabled(disabled)
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

/// (requester, accepter) AllowDnsResolutionFromRemoteVpc as `ec2`'s account describes them.
async fn dns_options(ec2: &Client, pcx: &str) -> (Option<bool>, Option<bool>) {
    let described = ec2
        .describe_vpc_peering_connections()
        .vpc_peering_connection_ids(pcx)
        .send()
        .await
        .unwrap();
    let peering = &described.vpc_peering_connections()[0];
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
    let tagged = scenario
        .accepter
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
