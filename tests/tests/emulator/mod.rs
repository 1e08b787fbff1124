//! Each patch of the emulator (`emulator/launcher/`, one Python module per AWS service) is
//! needed: for every patch, one test asserts the AWS behaviour on the fully patched emulator,
//! and its `without_…` twin runs the same steps with only that patch disabled and asserts that
//! plain moto 5.2.5 shows the gap. If a twin starts to fail, moto has closed the gap and the
//! patch can go; if a patched test fails, the patch no longer restores the behaviour peerwire
//! relies on. One Rust module per launcher module; docs/emulator.md names each test pair.
//!
//! Patches that read a setting (dwell times, quotas, latency) start their server with
//! `Emulator::start_with` and change settings mid-test with `Emulator::set`.

mod dynamodb;
mod ec2_dry_run;
mod ec2_peering;
mod ec2_routes;
mod ec2_security_groups;
mod events;
mod latency;
mod logs;
mod organizations;
mod route53;
mod servicequotas;
mod settings;
mod sts_iam;

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::PeeringConnectionOptionsRequest;
use aws_sdk_ec2::Client;
use peerwire_emulator::scenario::Scenario;
use peerwire_emulator::{Emulator, EmulatorOptions};

pub(super) use peerwire_emulator::HUB_ACCOUNT;

/// A seeded world on a server with `disabled` patches turned off. The emulator is returned
/// second so that it is dropped after the scenario's clients.
pub(super) async fn world(disabled: &[&str]) -> (Scenario, Emulator) {
    let emulator = Emulator::start_with_disabled(disabled)
        .await
        .expect("emulator starts");
    let scenario = Scenario::seed(&emulator).await.expect("scenario seeds");
    (scenario, emulator)
}

/// A seeded world on a server started with `options`.
pub(super) async fn world_with(options: EmulatorOptions) -> (Scenario, Emulator) {
    let emulator = Emulator::start_with(&options)
        .await
        .expect("emulator starts");
    let scenario = Scenario::seed(&emulator).await.expect("scenario seeds");
    (scenario, emulator)
}

/// The error code of a call that must fail.
pub(super) fn error_code<T: std::fmt::Debug, E: ProvideErrorMetadata>(
    result: Result<T, E>,
) -> String {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(err) => err.code().unwrap_or("<no code>").to_owned(),
    }
}

/// (error code, HTTP status) of a call that must be refused.
pub(super) fn refusal<T: std::fmt::Debug, E: ProvideErrorMetadata>(
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

/// The error code and message of a call that must fail.
pub(super) fn error_of<T: std::fmt::Debug, E: ProvideErrorMetadata>(
    result: Result<T, E>,
) -> (String, String) {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(err) => (
            err.code().unwrap_or("<no code>").to_owned(),
            err.message().unwrap_or_default().to_owned(),
        ),
    }
}

/// A pending peering from the requester's seeded VPC, accepted by the accepter.
pub(super) async fn active_peering(scenario: &Scenario) -> String {
    let pcx = scenario.accepted_peering(&[]).await.unwrap();
    assert_eq!(scenario.status(&pcx).await.unwrap(), "active");
    pcx
}

pub(super) fn dns_resolution() -> PeeringConnectionOptionsRequest {
    PeeringConnectionOptionsRequest::builder()
        .allow_dns_resolution_from_remote_vpc(true)
        .build()
}

/// `pcx` as `ec2`'s account describes it.
pub(super) async fn described(ec2: &Client, pcx: &str) -> aws_sdk_ec2::types::VpcPeeringConnection {
    let describe = ec2.describe_vpc_peering_connections();
    let described = describe.vpc_peering_connection_ids(pcx).send().await;
    described.unwrap().vpc_peering_connections()[0].clone()
}

/// (requester, accepter) AllowDnsResolutionFromRemoteVpc as `ec2`'s account describes them.
pub(super) async fn dns_options(ec2: &Client, pcx: &str) -> (Option<bool>, Option<bool>) {
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

/// The `__type` of a JSON-protocol error answer, without its namespace.
pub(super) fn error_type(answer: &peerwire_emulator::HttpAnswer) -> String {
    let json = answer.json();
    let kind = json["__type"].as_str().unwrap_or_default();
    kind.rsplit('#').next().unwrap_or_default().to_owned()
}
