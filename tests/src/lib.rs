//! The integration harness: one patched moto server per test (so tests run in parallel and
//! never share state), the two-account scenario, an outcome bus captured through SQS, and the
//! product's [`App`] pointed at all of it with its own call log.
//!
//! Test-only code: panicking on a broken fixture is the right failure here.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use peerwire::aws::calls::CallLog;
use peerwire::aws::clients::AwsContext;
use peerwire::config::{Config, PolicySource};
use peerwire::App;
use peerwire_emulator::outcomes::OutcomeCapture;
use peerwire_emulator::scenario::{self, Scenario};
use peerwire_emulator::{Emulator, EmulatorOptions};
use serde_json::Value;

pub use peerwire_emulator::scenario::{ACCEPTER_ACCOUNT, REQUESTER_ACCOUNT};
pub use peerwire_emulator::REGION;

pub use peerwire::testing::{DEFAULT_POLICY, WIRING_POLICY};

/// One test's world.
#[derive(Debug)]
pub struct TestEnv {
    pub scenario: Scenario,
    pub app: App,
    pub outcomes: OutcomeCapture,
    policy_path: PathBuf,
    next_event: AtomicUsize,
    // Last: the server outlives every client above.
    pub emulator: Emulator,
}

/// What a test's world has beyond the default: emulator settings, a ledger table, an
/// Organizations role.
#[derive(Debug, Default, Clone)]
pub struct EnvOptions {
    pub emulator: EmulatorOptions,
    /// Create the ledger table (DynamoDB) and configure the functions with it.
    pub ledger: bool,
    /// Configure `PEERWIRE_ORGANIZATIONS_ROLE_ARN`.
    pub organizations_role_arn: Option<String>,
}

/// The ledger table a test's world creates.
pub const LEDGER_TABLE: &str = "peerwire-ledger";

impl TestEnv {
    /// A fresh emulator, seeded, with `policy` in force.
    pub async fn new(policy: &str) -> Self {
        Self::with(policy, EnvOptions::default()).await
    }

    /// A fresh emulator started with `options`, seeded, with `policy` in force.
    pub async fn with(policy: &str, options: EnvOptions) -> Self {
        let emulator = Emulator::start_with(&options.emulator)
            .await
            .expect("emulator starts");
        let scenario = Scenario::seed(&emulator).await.expect("scenario seeds");
        let calls = CallLog::default();
        let hub = emulator.hub_config(&calls).await;
        // The capture queue has its own call log: only peerwire's calls are counted.
        let capture_hub = emulator.hub_config(&CallLog::default()).await;
        let outcomes = OutcomeCapture::create(&capture_hub, "peerwire-outcomes")
            .await
            .expect("outcome bus");
        let policy_path = unique_policy_path();
        std::fs::write(&policy_path, policy).expect("policy file");
        let config = Config {
            policy: PolicySource::File(policy_path.clone()),
            policy_ttl: Duration::from_secs(0),
            roles: scenario::roles(),
            outcome_bus: outcomes.bus_name.clone(),
            ledger_table: options.ledger.then(|| LEDGER_TABLE.to_owned()),
            organizations_role_arn: options.organizations_role_arn.clone(),
        };
        if options.ledger {
            create_ledger(&capture_hub).await;
        }
        let app = App::new(&config, AwsContext::new(hub, scenario::roles(), calls));
        Self {
            scenario,
            app,
            outcomes,
            policy_path,
            next_event: AtomicUsize::new(1),
            emulator,
        }
    }

    /// Replaces the policy; it applies from the next event on (the test TTL is 0).
    pub fn set_policy(&self, policy: &str) {
        std::fs::write(&self.policy_path, policy).expect("policy file");
    }

    /// Every AWS call the product made so far.
    pub fn calls(&self) -> &CallLog {
        self.app.aws.calls()
    }

    /// A fresh EventBridge event id.
    pub fn event_id(&self) -> String {
        format!(
            "00000000-0000-4000-8000-{:012}",
            self.next_event.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// The CloudTrail event the requester account emits for `peering_id` from `requester_vpc`.
    pub fn cloudtrail_event(
        &self,
        peering_id: &str,
        requester_account: &str,
        requester_vpc: &str,
    ) -> Value {
        let event_id = self.event_id();
        peerwire_emulator::samples::cloudtrail_create_peering(
            &peerwire_emulator::samples::PeeringRequestEvent {
                event_id: &event_id,
                peering_id,
                requester_account,
                requester_vpc,
                accepter_account: ACCEPTER_ACCOUNT,
                accepter_vpc: &self.scenario.accepter.vpc_id,
                region: REGION,
            },
        )
    }

    /// The CloudTrail event for a request from the seeded requester VPC.
    pub fn request_event(&self, peering_id: &str) -> Value {
        self.cloudtrail_event(
            peering_id,
            REQUESTER_ACCOUNT,
            &self.scenario.requester.vpc_id,
        )
    }

    /// The CloudTrail event the accepter account emits when `peering_id` is accepted.
    pub fn accepted_event(&self, peering_id: &str) -> Value {
        peerwire_emulator::samples::cloudtrail_accept_peering(
            &self.event_id(),
            peering_id,
            ACCEPTER_ACCOUNT,
            REGION,
        )
    }

    /// A peering a person accepted and the wiring function wired; the call log and the
    /// delivered outcomes start empty.
    pub async fn wired_peering(&self) -> String {
        let pcx = self
            .scenario
            .request_peering(&[("team", "payments")])
            .await
            .expect("request");
        self.scenario.accept_directly(&pcx).await.expect("accept");
        peerwire::doors::wiring::handle_wiring_event(&self.app, &self.accepted_event(&pcx))
            .await
            .expect("wiring");
        self.calls().take();
        self.delivered_outcomes().await;
        pcx
    }

    /// The requester deletes `pcx`.
    pub async fn delete_peering(&self, pcx: &str) {
        self.scenario
            .requester
            .ec2
            .delete_vpc_peering_connection()
            .vpc_peering_connection_id(pcx)
            .send()
            .await
            .expect("delete peering");
    }

    /// The CloudTrail event of the requester deleting `pcx`.
    pub fn deleted_event(&self, pcx: &str) -> Value {
        peerwire_emulator::samples::cloudtrail_ec2_call(
            &self.event_id(),
            "DeleteVpcPeeringConnection",
            REQUESTER_ACCOUNT,
            REGION,
            serde_json::json!({"vpcPeeringConnectionId": pcx}),
        )
    }

    /// The outcome events delivered to the bus since the last call.
    pub async fn delivered_outcomes(&self) -> Vec<Value> {
        self.outcomes.drain().await.expect("outcomes drain")
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.policy_path);
    }
}

/// The ledger table, as the template creates it: key `pk`, TTL on `expires_at`.
async fn create_ledger(hub: &aws_config::SdkConfig) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let dynamodb = aws_sdk_dynamodb::Client::new(hub);
    dynamodb
        .create_table()
        .table_name(LEDGER_TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .send()
        .await
        .expect("ledger table");
}

fn unique_policy_path() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "peerwire-policy-{}-{}.yaml",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Every route of `ec2`'s account still targeting `pcx`.
pub async fn routes_to(ec2: &aws_sdk_ec2::Client, pcx: &str) -> usize {
    let response = ec2
        .describe_route_tables()
        .send()
        .await
        .expect("route tables");
    response
        .route_tables()
        .iter()
        .flat_map(|t| t.routes())
        .filter(|r| r.vpc_peering_connection_id() == Some(pcx))
        .count()
}

/// `AllowDnsResolutionFromRemoteVpc` of `pcx` as the accepter reads it: (requester side,
/// accepter side).
pub async fn dns_options(env: &TestEnv, pcx: &str) -> (bool, bool) {
    dns_options_seen_by(&env.scenario.accepter.ec2, pcx)
        .await
        .expect("the peering")
}

/// The same as `ec2`'s account reads it; `None` when it describes no such peering.
pub async fn dns_options_seen_by(ec2: &aws_sdk_ec2::Client, pcx: &str) -> Option<(bool, bool)> {
    let response = ec2
        .describe_vpc_peering_connections()
        .vpc_peering_connection_ids(pcx)
        .send()
        .await
        .expect("describe peering");
    let p = response.vpc_peering_connections().first()?;
    let on = |info: Option<&aws_sdk_ec2::types::VpcPeeringConnectionVpcInfo>| {
        info.and_then(|i| i.peering_options())
            .and_then(|o| o.allow_dns_resolution_from_remote_vpc())
            .unwrap_or(false)
    };
    Some((on(p.requester_vpc_info()), on(p.accepter_vpc_info())))
}

/// The descriptions of every ingress rule of `group`.
pub async fn ingress_descriptions(ec2: &aws_sdk_ec2::Client, group: &str) -> Vec<String> {
    let response = ec2
        .describe_security_groups()
        .group_ids(group)
        .send()
        .await
        .expect("group");
    response.security_groups()[0]
        .ip_permissions()
        .iter()
        .flat_map(|p| p.ip_ranges())
        .map(|r| r.description().unwrap_or_default().to_owned())
        .collect()
}
