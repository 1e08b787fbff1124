//! The EC2 peering patches (`ec2_peering.py`): CIDR block sets, overlapping CIDRs, describe filters and paging, peering options, per-owner tags, the lifecycle, one peering per VPC pair.

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{Filter, Tag};
use aws_sdk_ec2::Client;
use peerwire_emulator::scenario::{Scenario, ACCEPTER_ACCOUNT, REQUESTER_ACCOUNT};
use peerwire_emulator::EmulatorOptions;

use super::*;

const PEERING_CIDR_BLOCK_SET: &str = "peering-cidr-block-set";
const OVERLAPPING_CIDRS_FAIL: &str = "overlapping-cidrs-fail";
const DESCRIBE_PEERING_FILTERS: &str = "describe-peering-filters";
const PEERING_OPTIONS_OWNER_ONLY: &str = "peering-options-owner-only";
const PEERING_OPTIONS_ACTIVE_ONLY: &str = "peering-options-active-only";
const PEERING_TAGS_PER_OWNER: &str = "peering-tags-per-owner";
const PEERING_LIFECYCLE: &str = "peering-lifecycle";

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
// peering-tags-per-owner

fn pair(key: &str, value: &str) -> (String, String) {
    (key.to_owned(), value.to_owned())
}

/// The tags of `pcx` as `ec2`'s account describes the peering, sorted.
pub(super) async fn tags_seen(ec2: &Client, pcx: &str) -> Vec<(String, String)> {
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

pub(super) const GONE: &str = "InvalidVpcPeeringConnectionID.NotFound";

/// The status code `ec2`'s account sees for `pcx`, the error code of the describe, or `absent`
/// for an empty answer.
pub(super) async fn seen_status(ec2: &Client, pcx: &str) -> String {
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

pub(super) async fn delete_peering(
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
// one-peering-per-vpc-pair

const ONE_PEERING_PER_VPC_PAIR: &str = "one-peering-per-vpc-pair";

/// Two requests between the same two VPCs; the first accepted. What accepting the second
/// answers (an empty code when it is accepted).
async fn second_accept_between_the_same_vpcs(disabled: &[&str]) -> String {
    let (scenario, _emulator) = world(disabled).await;
    let first = scenario.request_peering(&[]).await.unwrap();
    let second = scenario.request_peering(&[]).await.unwrap();
    scenario.accept_directly(&first).await.unwrap();
    let answer = scenario
        .accepter
        .ec2
        .accept_vpc_peering_connection()
        .vpc_peering_connection_id(&second)
        .send()
        .await;
    match answer {
        Ok(_) => String::new(),
        Err(err) => err.code().unwrap_or_default().to_owned(),
    }
}

#[tokio::test]
async fn one_peering_per_vpc_pair_refuses_a_second_live_peering_between_the_same_vpcs() {
    // VPC Peering Guide, limitations: "You cannot have more than one VPC peering connection
    // between two VPCs at the same time."
    assert_eq!(
        second_accept_between_the_same_vpcs(&[]).await,
        "VpcPeeringConnectionAlreadyExists"
    );
}

#[tokio::test]
async fn without_one_peering_per_vpc_pair_moto_accepts_a_second_peering_between_the_same_vpcs() {
    assert_eq!(
        second_accept_between_the_same_vpcs(&[ONE_PEERING_PER_VPC_PAIR]).await,
        ""
    );
}
