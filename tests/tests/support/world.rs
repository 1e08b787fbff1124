//! One emulator reused across many runs: reset between runs (`/moto-api/reset`, then the
//! two-account scenario seeded again), fresh product [`App`]s whose SDK clients go through the
//! fault proxy, and the end state of a peering normalised so that runs on different seeds
//! compare equal.

use std::collections::{BTreeMap, HashMap};
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use peerwire::App;
use peerwire_emulator::world::{self, WorldOptions};

use super::proxy::FaultProxy;

/// The SDK's per-attempt timeout in these tests: a stalled call fails after this long.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(2000);

/// The emulator's world and the proxy in front of it. Derefs to the world: its scenario, its
/// events (`request_event`, `accepted_event`, `deleted_event`, `event_id`).
#[derive(Debug)]
pub struct World {
    pub proxy: FaultProxy,
    // Last: the server outlives the proxy.
    pub world: world::World,
}

impl Deref for World {
    type Target = world::World;

    fn deref(&self) -> &world::World {
        &self.world
    }
}

impl World {
    /// Starts an emulator and a proxy, seeds the scenario, writes `policy`.
    pub async fn start(policy: &str) -> Self {
        let world = world::World::start(policy, WorldOptions::captured())
            .await
            .expect("world starts");
        let proxy = FaultProxy::start(world.endpoint());
        Self { proxy, world }
    }

    /// Empties the emulator and seeds the scenario again (new ids). Apps made before are
    /// stale: their assumed-role credentials no longer exist.
    pub async fn reset(&mut self) {
        self.proxy.arm(None);
        self.world.reset().await.expect("reset and seed again");
    }

    /// A cold-started product, its AWS calls going through the fault proxy.
    pub async fn app(&self) -> Arc<App> {
        self.app_at(&self.proxy.url()).await
    }

    /// A cold-started product talking to the emulator directly (for set-up steps).
    pub async fn direct_app(&self) -> Arc<App> {
        self.app_at(self.world.endpoint()).await
    }

    /// The product against `endpoint`: the SDK's standard retry (3 attempts, as in
    /// production, with a short first backoff to keep the sweep fast) and a per-attempt
    /// timeout.
    async fn app_at(&self, endpoint: &str) -> Arc<App> {
        let app = self
            .world
            .product()
            .endpoint(endpoint)
            .retry(RetryConfig::standard().with_initial_backoff(Duration::from_millis(20)))
            .timeouts(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .build(),
            );
        Arc::new(app.build().await)
    }

    /// A tagged request from the seeded requester VPC, pending acceptance.
    pub async fn pending(&self) -> String {
        self.world.pending().await.expect("request")
    }

    /// A tagged request accepted by a person (no peerwire involved), not wired.
    pub async fn active(&self) -> String {
        self.world.active().await.expect("request and accept")
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
            .delete_peering(pcx)
            .await
            .expect("delete peering");
    }

    /// Both VPCs' route tables and security groups and the peering's status and DNS options,
    /// with seed-specific ids replaced by names (`PCX`, `main`, `subnet-a`, `group:rds-db`).
    pub async fn snapshot(&self, pcx: &str) -> EndState {
        let scenario = &self.scenario;
        let mut state = EndState {
            status: scenario.status(pcx).await.expect("status"),
            ..EndState::default()
        };
        if let Some(dns) = scenario.accepter.dns_options(pcx).await.expect("peering") {
            state.dns = dns;
        }
        let mut names: HashMap<String, String> = HashMap::new();
        names.insert(pcx.to_owned(), "PCX".into());
        for side in [&scenario.requester, &scenario.accepter] {
            names.insert(side.main_route_table.clone(), "main".into());
            for (table, zone) in side.route_tables.iter().zip(["a", "b"]) {
                names.insert(table.clone(), format!("subnet-{zone}"));
            }
            names.insert(side.vpc_id.clone(), "VPC".into());
        }
        for (label, side) in [
            ("requester", &scenario.requester),
            ("accepter", &scenario.accepter),
        ] {
            let groups = side.security_groups().await.expect("describe groups");
            for group in &groups {
                names.insert(
                    group.group_id().unwrap_or_default().to_owned(),
                    format!("group:{}", group.group_name().unwrap_or_default()),
                );
            }
            let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
            for table in side.route_tables().await.expect("describe route tables") {
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
            for group in &groups {
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
