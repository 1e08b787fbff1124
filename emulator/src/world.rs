//! One world of the product on the emulator, for tests, the demo and the benchmarks: a patched
//! moto server, what is seeded in it (the two-account [`Scenario`], or nothing but a
//! [`Seeder`]), an outcome capture and a ledger table when asked, the policy file in force,
//! EventBridge event ids, the events the scenario's accounts emit, and the product's [`App`]
//! built against it as a function builds it at cold start ([`AppBuilder`]).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_ec2::config::SharedHttpClient;
use peerwire::aws::calls::CallLog;
use peerwire::aws::clients::{default_https_client, AwsContext};
use peerwire::aws::throttle::WriteBudget;
use peerwire::config::{Config, PolicySource};
use peerwire::App;
use serde_json::{json, Value};

use crate::outcomes::OutcomeCapture;
use crate::scenario::{self, Scenario, Seeder, ACCEPTER_ACCOUNT, PAYMENTS_TAGS, REQUESTER_ACCOUNT};
use crate::{samples, Emulator, EmulatorError, EmulatorOptions, HUB_ACCOUNT, REGION};

/// The outcome bus a world captures.
pub const OUTCOME_BUS: &str = "peerwire-outcomes";

/// The ledger table a world creates when asked.
pub const LEDGER_TABLE: &str = "peerwire-ledger";

/// The bus the product sends outcomes to when the world captures none.
pub const DEFAULT_BUS: &str = "default";

/// What a world has beyond a started, seeded emulator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorldOptions {
    /// How the server starts: patches off, initial settings.
    pub emulator: EmulatorOptions,
    /// Capture the outcome events: bus [`OUTCOME_BUS`], a rule and a queue.
    pub outcome_capture: bool,
    /// Create the ledger table [`LEDGER_TABLE`] (as the template does) and configure the
    /// product with it.
    pub ledger: bool,
}

impl WorldOptions {
    /// Default settings, with the outcome capture.
    pub fn captured() -> Self {
        Self {
            outcome_capture: true,
            ..Self::default()
        }
    }
}

/// A policy file in the temp directory, removed when dropped.
#[derive(Debug)]
pub struct PolicyFile(PathBuf);

impl PolicyFile {
    /// Writes `policy` to a file of its own (unique in this process).
    pub fn write(policy: &str) -> Result<Self, EmulatorError> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "peerwire-policy-{}-{}.yaml",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let file = Self(path);
        file.set(policy)?;
        Ok(file)
    }

    /// Replaces the policy.
    pub fn set(&self, policy: &str) -> Result<(), EmulatorError> {
        std::fs::write(&self.0, policy)
            .map_err(|e| EmulatorError::Seed(format!("policy file {}: {e}", self.0.display())))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for PolicyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The emulator and what is seeded in it: `S` is the [`Scenario`] (the default), or `()` when
/// the caller seeds its own VPCs through [`World::seeder`].
#[derive(Debug)]
pub struct World<S = Scenario> {
    pub scenario: S,
    /// Seeding's own clients and call log, never counted with the product's.
    pub seeder: Seeder,
    /// Present with [`WorldOptions::outcome_capture`].
    pub outcomes: Option<OutcomeCapture>,
    options: WorldOptions,
    policy: PolicyFile,
    next_event: AtomicUsize,
    // Last: the server outlives every client above.
    pub emulator: Emulator,
}

impl World<Scenario> {
    /// A server started with `options`, the two-account scenario seeded, `policy` in force.
    pub async fn start(policy: &str, options: WorldOptions) -> Result<Self, EmulatorError> {
        let emulator = Emulator::start_with(&options.emulator).await?;
        let seeder = Seeder::new(&emulator).await;
        let scenario = Scenario::seed_with(seeder.clone()).await?;
        Self::around(emulator, seeder, scenario, policy, options).await
    }

    /// Empties the emulator and seeds the scenario again (new ids), with a new capture and
    /// ledger when the world has them. Apps built before are stale: their assumed-role
    /// credentials no longer exist.
    pub async fn reset(&mut self) -> Result<(), EmulatorError> {
        self.emulator.reset().await?;
        self.seeder = Seeder::new(&self.emulator).await;
        self.scenario = Scenario::seed_with(self.seeder.clone()).await?;
        self.outcomes = sinks(&self.emulator, &self.options).await?;
        Ok(())
    }

    /// CloudTrail `CreateVpcPeeringConnection` for `pcx`, asked by `requester_vpc` of
    /// `requester_account` to the seeded accepter VPC.
    pub fn cloudtrail_event(
        &self,
        pcx: &str,
        requester_account: &str,
        requester_vpc: &str,
    ) -> Value {
        samples::cloudtrail_create_peering(&samples::PeeringRequestEvent {
            event_id: &self.event_id(),
            peering_id: pcx,
            requester_account,
            requester_vpc,
            accepter_account: ACCEPTER_ACCOUNT,
            accepter_vpc: &self.scenario.accepter.vpc_id,
            region: REGION,
        })
    }

    /// CloudTrail `CreateVpcPeeringConnection` for a request from the seeded requester VPC.
    pub fn request_event(&self, pcx: &str) -> Value {
        self.cloudtrail_event(pcx, REQUESTER_ACCOUNT, &self.scenario.requester.vpc_id)
    }

    /// The approval sample for `pcx`, sent now by `approver` about the accepter account.
    pub fn approval_event(&self, pcx: &str, approver: &str) -> Value {
        samples::approval_granted(&self.event_id(), pcx, ACCEPTER_ACCOUNT, approver)
    }

    /// A tagged request from the seeded requester VPC, pending acceptance.
    pub async fn pending(&self) -> Result<String, EmulatorError> {
        self.scenario.request_peering(PAYMENTS_TAGS).await
    }

    /// A tagged request accepted by a person (no peerwire involved), not wired.
    pub async fn active(&self) -> Result<String, EmulatorError> {
        self.scenario.accepted_peering(PAYMENTS_TAGS).await
    }
}

impl World<()> {
    /// A server started with `options`, nothing seeded (the caller seeds through
    /// [`World::seeder`]), `policy` in force.
    pub async fn unseeded(policy: &str, options: WorldOptions) -> Result<Self, EmulatorError> {
        let emulator = Emulator::start_with(&options.emulator).await?;
        let seeder = Seeder::new(&emulator).await;
        Self::around(emulator, seeder, (), policy, options).await
    }
}

impl<S> World<S> {
    async fn around(
        emulator: Emulator,
        seeder: Seeder,
        scenario: S,
        policy: &str,
        options: WorldOptions,
    ) -> Result<Self, EmulatorError> {
        let outcomes = sinks(&emulator, &options).await?;
        Ok(Self {
            scenario,
            seeder,
            outcomes,
            options,
            policy: PolicyFile::write(policy)?,
            next_event: AtomicUsize::new(1),
            emulator,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        self.emulator.endpoint_url()
    }

    /// Where the policy in force is.
    pub fn policy_path(&self) -> &Path {
        self.policy.path()
    }

    /// Replaces the policy; apps reread it once their policy TTL is over (0 by default).
    pub fn set_policy(&self, policy: &str) -> Result<(), EmulatorError> {
        self.policy.set(policy)
    }

    /// The product against this world: the policy file, the captured bus (else
    /// [`DEFAULT_BUS`]) and the ledger table when the world has them; change what differs.
    pub fn product(&self) -> AppBuilder {
        let mut app = AppBuilder::new(self.endpoint(), self.policy_path());
        if let Some(outcomes) = &self.outcomes {
            app = app.outcome_bus(&outcomes.bus_name);
        }
        if self.options.ledger {
            app = app.ledger_table(LEDGER_TABLE);
        }
        app
    }

    /// The outcome events delivered since the last call (whole EventBridge events).
    pub async fn delivered_outcomes(&self) -> Result<Vec<Value>, EmulatorError> {
        match &self.outcomes {
            Some(outcomes) => outcomes.drain().await,
            None => Err(EmulatorError::Seed("this world captures no outcome".into())),
        }
    }

    /// A fresh EventBridge event id.
    pub fn event_id(&self) -> String {
        samples::event_id(self.next_event.fetch_add(1, Ordering::Relaxed))
    }

    /// CloudTrail `AcceptVpcPeeringConnection` of `pcx`, from the accepter account.
    pub fn accepted_event(&self, pcx: &str) -> Value {
        samples::cloudtrail_accept_peering(&self.event_id(), pcx, ACCEPTER_ACCOUNT, REGION)
    }

    /// CloudTrail `DeleteVpcPeeringConnection` of `pcx`, from the requester account.
    pub fn deleted_event(&self, pcx: &str) -> Value {
        self.ec2_event(
            "DeleteVpcPeeringConnection",
            REQUESTER_ACCOUNT,
            json!({ "vpcPeeringConnectionId": pcx }),
        )
    }

    /// A CloudTrail EC2 call `name` made by `account` with `params`.
    pub fn ec2_event(&self, name: &str, account: &str, params: Value) -> Value {
        samples::cloudtrail_ec2_call(&self.event_id(), name, account, REGION, params)
    }

    /// The RDS event of instance `db` of `account` failing over (`RDS-EVENT-0049`).
    pub fn failover_event(&self, account: &str, db: &str) -> Value {
        samples::rds_event(
            &self.event_id(),
            account,
            REGION,
            db,
            false,
            "RDS-EVENT-0049",
        )
    }

    /// The scheduled sweep.
    pub fn sweep_event(&self) -> Value {
        samples::schedule_sweep(&self.event_id())
    }
}

/// The outcome capture and the ledger table `options` ask for.
async fn sinks(
    emulator: &Emulator,
    options: &WorldOptions,
) -> Result<Option<OutcomeCapture>, EmulatorError> {
    if options.ledger {
        create_ledger(emulator).await?;
    }
    if !options.outcome_capture {
        return Ok(None);
    }
    // The capture has its own call log: only the product's calls are counted.
    let hub = emulator.hub_config(&CallLog::default()).await;
    Ok(Some(OutcomeCapture::create(&hub, OUTCOME_BUS).await?))
}

/// The ledger table, as the template creates it: key `pk`, on demand.
async fn create_ledger(emulator: &Emulator) -> Result<(), EmulatorError> {
    let answer = emulator
        .call_json(
            HUB_ACCOUNT,
            "dynamodb",
            "DynamoDB_20120810.CreateTable",
            &json!({
                "TableName": LEDGER_TABLE,
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            }),
        )
        .await?;
    answer.success("CreateTable")?;
    Ok(())
}

/// Wraps the product's HTTP client (the benchmarks' clock, for one).
pub type HttpWrapper = Arc<dyn Fn(SharedHttpClient) -> SharedHttpClient + Send + Sync>;

/// The product's [`App`] against an emulator, built as `App::from_env` would build it (hub
/// credentials of the emulator, member roles through STS with the scenario's ExternalId, the
/// policy file) with a fresh call log. Each option is what differs from a function's cold
/// start in production.
#[derive(Clone)]
pub struct AppBuilder {
    endpoint: String,
    policy: PathBuf,
    policy_ttl: Duration,
    outcome_bus: String,
    ledger_table: Option<String>,
    organizations_role_arn: Option<String>,
    write_budget: Option<WriteBudget>,
    retry: Option<RetryConfig>,
    timeouts: Option<TimeoutConfig>,
    wrap_http: Option<HttpWrapper>,
}

impl fmt::Debug for AppBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppBuilder")
            .field("endpoint", &self.endpoint)
            .field("policy", &self.policy)
            .field("policy_ttl", &self.policy_ttl)
            .field("outcome_bus", &self.outcome_bus)
            .field("ledger_table", &self.ledger_table)
            .field("organizations_role_arn", &self.organizations_role_arn)
            .field("write_budget", &self.write_budget)
            .field("retry", &self.retry)
            .field("timeouts", &self.timeouts)
            .field("wrap_http", &self.wrap_http.is_some())
            .finish()
    }
}

impl AppBuilder {
    /// The product against `endpoint` with the policy at `policy`, reread on every event
    /// (TTL 0), outcomes to [`DEFAULT_BUS`], no ledger, no Organizations role, EC2's write
    /// budget, the SDK's default retry and timeouts.
    pub fn new(endpoint: &str, policy: &Path) -> Self {
        Self {
            endpoint: endpoint.to_owned(),
            policy: policy.to_owned(),
            policy_ttl: Duration::ZERO,
            outcome_bus: DEFAULT_BUS.to_owned(),
            ledger_table: None,
            organizations_role_arn: None,
            write_budget: None,
            retry: None,
            timeouts: None,
            wrap_http: None,
        }
    }

    /// Another endpoint: a fault proxy in front of the emulator, for one.
    pub fn endpoint(mut self, endpoint: &str) -> Self {
        self.endpoint = endpoint.to_owned();
        self
    }

    /// How long a read policy is reused (production: 60 s).
    pub fn policy_ttl(mut self, ttl: Duration) -> Self {
        self.policy_ttl = ttl;
        self
    }

    pub fn outcome_bus(mut self, bus: &str) -> Self {
        self.outcome_bus = bus.to_owned();
        self
    }

    pub fn ledger_table(mut self, table: &str) -> Self {
        self.ledger_table = Some(table.to_owned());
        self
    }

    /// `PEERWIRE_ORGANIZATIONS_ROLE_ARN`.
    pub fn organizations_role(mut self, arn: &str) -> Self {
        self.organizations_role_arn = Some(arn.to_owned());
        self
    }

    /// How fast the EC2 clients may write, per account and region.
    pub fn write_budget(mut self, budget: WriteBudget) -> Self {
        self.write_budget = Some(budget);
        self
    }

    /// The SDK's retry configuration of the hub (and so of every member client).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = Some(retry);
        self
    }

    /// The SDK's timeouts.
    pub fn timeouts(mut self, timeouts: TimeoutConfig) -> Self {
        self.timeouts = Some(timeouts);
        self
    }

    /// Wraps the recording HTTP client (outermost).
    pub fn wrap_http(
        mut self,
        wrap: impl Fn(SharedHttpClient) -> SharedHttpClient + Send + Sync + 'static,
    ) -> Self {
        self.wrap_http = Some(Arc::new(wrap));
        self
    }

    /// The configuration a function reads from its environment.
    pub fn config(&self) -> Config {
        Config {
            policy: PolicySource::File(self.policy.clone()),
            policy_ttl: self.policy_ttl,
            roles: scenario::roles(),
            outcome_bus: self.outcome_bus.clone(),
            ledger_table: self.ledger_table.clone(),
            organizations_role_arn: self.organizations_role_arn.clone(),
        }
    }

    /// A cold-started product with a fresh call log.
    pub async fn build(&self) -> App {
        let calls = CallLog::default();
        let mut http = calls.wrap(default_https_client());
        if let Some(wrap) = &self.wrap_http {
            http = wrap(http);
        }
        let hub = crate::hub_config_at(
            &self.endpoint,
            http,
            self.retry.clone(),
            self.timeouts.clone(),
        )
        .await;
        let mut aws = AwsContext::new(hub, scenario::roles(), calls);
        if let Some(budget) = self.write_budget {
            aws = aws.with_write_budget(budget);
        }
        App::new(&self.config(), aws)
    }
}
