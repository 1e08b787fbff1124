//! One emulator reused across many runs: reset between runs (`/moto-api/reset`, then the
//! two-account scenario seeded again), fresh product [`App`]s whose SDK clients go through the
//! fault proxy, and the end state of a peering normalised so that runs on different seeds
//! compare equal.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::config::Credentials;
use aws_sdk_ec2::types::Filter;
use peerwire::aws::calls::CallLog;
use peerwire::aws::clients::{default_https_client, AwsContext};
use peerwire::config::{Config, PolicySource};
use peerwire::App;
use peerwire_emulator::outcomes::OutcomeCapture;
use peerwire_emulator::samples;
use peerwire_emulator::scenario::{self, Scenario};
use peerwire_emulator::Emulator;
use peerwire_integration::{ACCEPTER_ACCOUNT, REGION, REQUESTER_ACCOUNT};
use serde_json::{json, Value};

use super::proxy::{reset_emulator, FaultProxy};

/// The SDK's per-attempt timeout in these tests: a stalled call fails after this long.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1000);

/// Tags every scenario request carries (the policy's `required_tags`).
pub const TAGS: &[(&str, &str)] = &[("team", "payments")];

const BUS: &str = "peerwire-outcomes";

/// The emulator, the proxy in front of it, and the seeded scenario.
#[derive(Debug)]
pub struct World {
    pub scenario: Scenario,
    pub outcomes: OutcomeCapture,
    pub proxy: FaultProxy,
    policy_path: PathBuf,
    next_event: AtomicUsize,
    // Last: the server outlives every client above.
    pub emulator: Emulator,
}

impl World {
    /// Starts an emulator and a proxy, seeds the scenario, writes `policy`.
    pub async fn start(policy: &str) -> Self {
        let emulator = Emulator::start().await.expect("emulator starts");
        let proxy = FaultProxy::start(emulator.endpoint_url());
        let scenario = Scenario::seed(&emulator).await.expect("scenario seeds");
        let outcomes = capture(&emulator).await;
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let policy_path = std::env::temp_dir().join(format!(
            "peerwire-world-policy-{}-{}.yaml",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&policy_path, policy).expect("policy file");
        Self {
            scenario,
            outcomes,
            proxy,
            policy_path,
            next_event: AtomicUsize::new(1),
            emulator,
        }
    }

    /// Empties the emulator and seeds the scenario again (new ids). Apps made before are
    /// stale: their assumed-role credentials no longer exist.
    pub async fn reset(&mut self) {
        self.proxy.arm(None);
        reset_emulator(self.emulator.endpoint_url());
        self.scenario = Scenario::seed(&self.emulator)
            .await
            .expect("scenario seeds");
        self.outcomes = capture(&self.emulator).await;
    }

    /// A cold-started product, its AWS calls going through the fault proxy.
    pub async fn app(&self) -> Arc<App> {
        Arc::new(self.app_at(&self.proxy.url()).await)
    }

    /// A cold-started product talking to the emulator directly (for set-up steps).
    pub async fn direct_app(&self) -> Arc<App> {
        Arc::new(self.app_at(self.emulator.endpoint_url()).await)
    }

    async fn app_at(&self, endpoint: &str) -> App {
        let calls = CallLog::default();
        let hub = sdk_config(endpoint, &calls).await;
        let config = Config {
            policy: PolicySource::File(self.policy_path.clone()),
            policy_ttl: Duration::from_secs(0),
            roles: scenario::roles(),
            outcome_bus: self.outcomes.bus_name.clone(),
            ledger_table: None,
            organizations_role_arn: None,
        };
        App::new(&config, AwsContext::new(hub, scenario::roles(), calls))
    }

    /// A fresh EventBridge event id.
    pub fn event_id(&self) -> String {
        format!(
            "00000000-0000-4000-8000-{:012}",
            self.next_event.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// CloudTrail `CreateVpcPeeringConnection` for a request from the seeded requester VPC.
    pub fn request_event(&self, pcx: &str) -> Value {
        samples::cloudtrail_create_peering(&samples::PeeringRequestEvent {
            event_id: &self.event_id(),
            peering_id: pcx,
            requester_account: REQUESTER_ACCOUNT,
            requester_vpc: &self.scenario.requester.vpc_id,
            accepter_account: ACCEPTER_ACCOUNT,
            accepter_vpc: &self.scenario.accepter.vpc_id,
            region: REGION,
        })
    }

    /// CloudTrail `AcceptVpcPeeringConnection` from the accepter account.
    pub fn accepted_event(&self, pcx: &str) -> Value {
        samples::cloudtrail_accept_peering(&self.event_id(), pcx, ACCEPTER_ACCOUNT, REGION)
    }

    /// CloudTrail `DeleteVpcPeeringConnection` from the requester account.
    pub fn deleted_event(&self, pcx: &str) -> Value {
        samples::cloudtrail_ec2_call(
            &self.event_id(),
            "DeleteVpcPeeringConnection",
            REQUESTER_ACCOUNT,
            REGION,
            json!({ "vpcPeeringConnectionId": pcx }),
        )
    }

    /// A tagged request from the seeded requester VPC, pending acceptance.
    pub async fn pending(&self) -> String {
        self.scenario.request_peering(TAGS).await.expect("request")
    }

    /// A tagged request accepted by a person (no peerwire involved), not wired.
    pub async fn active(&self) -> String {
        let pcx = self.pending().await;
        self.scenario.accept_directly(&pcx).await.expect("accept");
        pcx
    }

    /// An active peering wired by a fault-free peerwire.
    pub async fn wired(&self) -> String {
        let pcx = self.active().await;
        let app = self.direct_app().await;
        peerwire::doors::wiring::handle_wiring_event(&app, &self.accepted_event(&pcx))
            .await
            .expect("fault-free wiring");
        pcx
    }

    /// The requester deletes `pcx`.
    pub async fn delete(&self, pcx: &str) {
        self.scenario
            .requester
            .ec2
            .delete_vpc_peering_connection()
            .vpc_peering_connection_id(pcx)
            .send()
            .await
            .expect("delete peering");
    }

    /// Both VPCs' route tables and security groups and the peering's status and DNS options,
    /// with seed-specific ids replaced by names (`PCX`, `main`, `subnet-a`, `group:rds-db`).
    pub async fn snapshot(&self, pcx: &str) -> EndState {
        let mut state = EndState {
            status: self.scenario.status(pcx).await.expect("status"),
            ..EndState::default()
        };
        if let Some(dns) =
            peerwire_integration::dns_options_seen_by(&self.scenario.accepter.ec2, pcx).await
        {
            state.dns = dns;
        }
        let mut names: HashMap<String, String> = HashMap::new();
        names.insert(pcx.to_owned(), "PCX".into());
        for side in [&self.scenario.requester, &self.scenario.accepter] {
            names.insert(side.main_route_table.clone(), "main".into());
            for (table, zone) in side.route_tables.iter().zip(["a", "b"]) {
                names.insert(table.clone(), format!("subnet-{zone}"));
            }
            names.insert(side.vpc_id.clone(), "VPC".into());
        }
        for (label, side) in [
            ("requester", &self.scenario.requester),
            ("accepter", &self.scenario.accepter),
        ] {
            let groups = side
                .ec2
                .describe_security_groups()
                .filters(
                    Filter::builder()
                        .name("vpc-id")
                        .values(&side.vpc_id)
                        .build(),
                )
                .send()
                .await
                .expect("describe groups");
            for group in groups.security_groups() {
                names.insert(
                    group.group_id().unwrap_or_default().to_owned(),
                    format!("group:{}", group.group_name().unwrap_or_default()),
                );
            }
            let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
            let tables = side
                .ec2
                .describe_route_tables()
                .filters(
                    Filter::builder()
                        .name("vpc-id")
                        .values(&side.vpc_id)
                        .build(),
                )
                .send()
                .await
                .expect("describe route tables");
            for table in tables.route_tables() {
                let mut routes: Vec<String> = table
                    .routes()
                    .iter()
                    .map(|r| {
                        let destination = r
                            .destination_cidr_block()
                            .or(r.destination_ipv6_cidr_block())
                            .or(r.destination_prefix_list_id())
                            .unwrap_or("?");
                        let target = r
                            .vpc_peering_connection_id()
                            .or(r.gateway_id())
                            .or(r.transit_gateway_id())
                            .or(r.nat_gateway_id())
                            .unwrap_or("?");
                        let state = r.state().map(|s| s.as_str()).unwrap_or("?");
                        format!("{destination} -> {} ({state})", name(target))
                    })
                    .collect();
                routes.sort();
                state.routes.insert(
                    format!("{label} {}", name(table.route_table_id().unwrap_or("?"))),
                    routes,
                );
            }
            for group in groups.security_groups() {
                let group_name = name(group.group_id().unwrap_or("?"));
                for (direction, permissions) in [
                    ("ingress", group.ip_permissions()),
                    ("egress", group.ip_permissions_egress()),
                ] {
                    let mut rules = Vec::new();
                    for p in permissions {
                        let head = format!(
                            "{} {}..{}",
                            p.ip_protocol().unwrap_or("?"),
                            p.from_port().unwrap_or(-1),
                            p.to_port().unwrap_or(-1)
                        );
                        let describe =
                            |d: Option<&str>| d.unwrap_or_default().replace(pcx, "PCX").to_owned();
                        for r in p.ip_ranges() {
                            rules.push(format!(
                                "{head} {} '{}'",
                                r.cidr_ip().unwrap_or("?"),
                                describe(r.description())
                            ));
                        }
                        for r in p.ipv6_ranges() {
                            rules.push(format!(
                                "{head} {} '{}'",
                                r.cidr_ipv6().unwrap_or("?"),
                                describe(r.description())
                            ));
                        }
                        for g in p.user_id_group_pairs() {
                            rules.push(format!(
                                "{head} {}/{} '{}'",
                                g.user_id().unwrap_or("?"),
                                name(g.group_id().unwrap_or("?")),
                                describe(g.description())
                            ));
                        }
                    }
                    rules.sort();
                    state
                        .rules
                        .insert(format!("{label} {group_name} {direction}"), rules);
                }
            }
        }
        state
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.policy_path);
    }
}

/// The hub configuration of a product run: the emulator's test credentials, `endpoint`, the
/// product's recording HTTP client, the SDK's standard retry (3 attempts, as in production,
/// with a short first backoff to keep the sweep fast) and a per-attempt timeout.
pub async fn sdk_config(endpoint: &str, calls: &CallLog) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "emulator"))
        .http_client(calls.wrap(default_https_client()))
        .retry_config(RetryConfig::standard().with_initial_backoff(Duration::from_millis(20)))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .build(),
        )
        .load()
        .await
}

async fn capture(emulator: &Emulator) -> OutcomeCapture {
    let hub = emulator.hub_config(&CallLog::default()).await;
    OutcomeCapture::create(&hub, BUS)
        .await
        .expect("outcome bus")
}

/// What a peering left in both accounts, comparable across seeds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndState {
    pub status: String,
    /// `allow_dns_resolution_from_remote_vpc` of (requester, accepter).
    pub dns: (bool, bool),
    /// "side table" -> sorted "destination -> target (state)".
    pub routes: BTreeMap<String, Vec<String>>,
    /// "side group direction" -> sorted "proto from..to peer 'description'".
    pub rules: BTreeMap<String, Vec<String>>,
}

impl EndState {
    /// Every route or rule that appears more than once.
    pub fn duplicates(&self) -> Vec<String> {
        let mut dups = Vec::new();
        for (key, items) in self.routes.iter().chain(&self.rules) {
            for pair in items.windows(2) {
                if pair[0] == pair[1] {
                    dups.push(format!("{key}: {}", pair[0]));
                }
            }
        }
        dups
    }

    /// How many routes target the peering.
    pub fn peering_routes(&self) -> usize {
        self.routes
            .values()
            .flatten()
            .filter(|r| r.contains("-> PCX"))
            .count()
    }
}
