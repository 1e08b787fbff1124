//! The benchmark world: one patched moto server on loopback, seeded through
//! `peerwire_emulator::scenario` (the one seeding code of tests, demo and benchmarks), and the
//! product's [`App`] pointed at it with its own call log.

use std::fmt;
use std::ops::Deref;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use peerwire::aws::throttle::WriteBudget;
use peerwire::App;
use peerwire_emulator::scenario::{self, SeededVpc, VpcSpec, ACCEPTER_ACCOUNT, REQUESTER_ACCOUNT};
use peerwire_emulator::world::{self, AppBuilder, WorldOptions};
use peerwire_emulator::REGION;
use serde_json::Value;

use crate::record::Clock;

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T> = std::result::Result<T, Error>;

/// The one policy fixture (`peerwire::testing::WIRING_POLICY`): account A's 10.0.0.0/8 VPCs
/// whose requests are tagged team=payments may peer with account B; PostgreSQL 5432 from the
/// groups tagged role=ecs-tasks to the groups tagged role=rds-db; every subnet of both VPCs
/// routed.
pub use peerwire::testing::WIRING_POLICY;

/// The tags the policy requires on the requester's own view of a request.
pub use peerwire_emulator::scenario::PAYMENTS_TAGS as PEERING_TAGS;

/// Calls in flight while seeding.
pub const SEED_PARALLEL: usize = 8;

/// How fast the product's EC2 clients may write, per account and region.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Budget {
    /// The product default: EC2's bucket, a burst of 50 then 5 per second.
    Ec2,
    /// EC2's bucket with the burst and the rate both multiplied by a factor (every account
    /// and region alike): the same shape, `factor` times faster.
    Scaled(f64),
    /// No limit (the limiter never waits).
    Unlimited,
}

/// The factor of a plain `scaled`.
pub const DEFAULT_SCALE: f64 = 4.0;

impl Budget {
    pub fn write_budget(self) -> WriteBudget {
        let ec2 = WriteBudget::default();
        match self {
            Budget::Ec2 => ec2,
            Budget::Scaled(factor) => WriteBudget {
                burst: (f64::from(ec2.burst) * factor).round() as u32,
                per_second: ec2.per_second * factor,
            },
            Budget::Unlimited => scenario::unlimited_writes(),
        }
    }
}

impl FromStr for Budget {
    type Err = String;

    /// `ec2`, `unlimited`, `scaled` (×4) or `scaled:F`.
    fn from_str(text: &str) -> std::result::Result<Self, String> {
        match text {
            "ec2" => Ok(Budget::Ec2),
            "unlimited" => Ok(Budget::Unlimited),
            "scaled" => Ok(Budget::Scaled(DEFAULT_SCALE)),
            other => other
                .strip_prefix("scaled:")
                .and_then(|f| f.parse::<f64>().ok())
                .filter(|f| f.is_finite() && *f > 0.0)
                .map(Budget::Scaled)
                .ok_or_else(|| {
                    format!("`{text}`: expected ec2, unlimited, scaled or scaled:FACTOR")
                }),
        }
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Budget::Ec2 => f.write_str("ec2 (burst 50, 5/s)"),
            Budget::Unlimited => f.write_str("unlimited"),
            Budget::Scaled(factor) => {
                let b = self.write_budget();
                write!(f, "scaled:{factor} (burst {}, {}/s)", b.burst, b.per_second)
            }
        }
    }
}

impl Budget {
    /// The command-line spelling.
    pub fn arg(self) -> String {
        match self {
            Budget::Ec2 => "ec2".into(),
            Budget::Unlimited => "unlimited".into(),
            Budget::Scaled(factor) => format!("scaled:{factor}"),
        }
    }
}

/// Where the product sends outcomes and keeps its ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sinks {
    pub outcome_bus: String,
    pub ledger_table: Option<String>,
}

impl Default for Sinks {
    fn default() -> Self {
        Self {
            outcome_bus: world::DEFAULT_BUS.into(),
            ledger_table: None,
        }
    }
}

/// A server and its seeder: the emulator crate's world with nothing seeded but what each
/// benchmark seeds through [`World::seeder`](peerwire_emulator::world::World::seeder). Derefs
/// to it (`seeder`, `emulator`, `endpoint()`, `policy_path()`, `outcomes`).
#[derive(Debug)]
pub struct World(world::World<()>);

impl Deref for World {
    type Target = world::World<()>;

    fn deref(&self) -> &world::World<()> {
        &self.0
    }
}

impl World {
    /// A server with every patch and default settings, and the policy fixture.
    pub async fn start() -> Result<Self> {
        Self::start_with(WorldOptions::default(), WIRING_POLICY).await
    }

    /// A server started with `options` (its settings, an outcome capture, a ledger), and
    /// `policy` in force.
    pub async fn start_with(options: WorldOptions, policy: &str) -> Result<Self> {
        Ok(Self(world::World::unseeded(policy, options).await?))
    }

    /// The product, as a function builds it at cold start, with a fresh call log (and the
    /// clock when given). Policy from the file, reused for 60 s as in production; outcomes to
    /// the default bus, no ledger.
    pub async fn app(&self, budget: Budget, clock: Option<&Clock>) -> App {
        let app = AppBuilder::new(self.endpoint(), self.policy_path());
        product(app, budget, clock).build().await
    }

    /// The requester's VPC (10.0.0.0/16, role=ecs-tasks) and the accepter's (10.1.0.0/16,
    /// role=rds-db) in us-east-1, each with `tables` route tables, DNS hostnames on.
    pub async fn seed_pair(&self, tables: usize) -> Result<(SeededVpc, SeededVpc)> {
        let specs = [
            VpcSpec::new(
                REQUESTER_ACCOUNT,
                REGION,
                "10.0.0.0/16",
                tables,
                "ecs-tasks",
            ),
            VpcSpec::new(ACCEPTER_ACCOUNT, REGION, "10.1.0.0/16", tables, "rds-db"),
        ];
        let mut seeded = scenario::seed_vpcs(&self.seeder, &specs, SEED_PARALLEL)
            .await?
            .into_iter();
        match (seeded.next(), seeded.next()) {
            (Some(requester), Some(accepter)) => Ok((requester, accepter)),
            _ => Err("seeding returned fewer than 2 VPCs".into()),
        }
    }

    /// VPCs in us-east-1 with DNS hostnames on, `(account, cidr, tables, role)` each.
    pub async fn seed_vpcs(&self, vpcs: &[(&str, String, usize, &str)]) -> Result<Vec<SeededVpc>> {
        let specs: Vec<VpcSpec> = vpcs
            .iter()
            .map(|(account, cidr, tables, role)| VpcSpec::new(account, REGION, cidr, *tables, role))
            .collect();
        Ok(scenario::seed_vpcs(&self.seeder, &specs, SEED_PARALLEL).await?)
    }

    /// `from` asks to peer with `to`, tagged team=payments; returns the peering id.
    pub async fn request(&self, from: &SeededVpc, to: &SeededVpc) -> Result<String> {
        Ok(scenario::request_peering_between(&self.seeder, from, to, PEERING_TAGS).await?)
    }

    /// `to`'s owner accepts directly, as a person would.
    pub async fn accept(&self, to: &SeededVpc, peering_id: &str) -> Result<()> {
        Ok(scenario::accept_peering_as_owner(&self.seeder, to, peering_id).await?)
    }

    /// Opens TCP `port` from `cidr` in `vpc`'s tagged group, as a person would.
    pub async fn open_port(&self, vpc: &SeededVpc, port: i32, cidr: &str) -> Result<()> {
        Ok(scenario::open_port(&self.seeder, vpc, port, cidr).await?)
    }

    /// Routes through `peering_id` in `vpc`, as its owner sees them.
    pub async fn routes_via(&self, vpc: &SeededVpc, peering_id: &str) -> Result<usize> {
        let counts = scenario::routes_by_peering(&self.seeder, &[vpc]).await?;
        Ok(counts.get(peering_id).copied().unwrap_or(0))
    }
}

/// `app` as a function builds it in production (the policy reused for 60 s), with `budget`
/// and behind `clock` when given.
fn product(app: AppBuilder, budget: Budget, clock: Option<&Clock>) -> AppBuilder {
    let app = app
        .policy_ttl(Duration::from_secs(60))
        .write_budget(budget.write_budget());
    match clock {
        Some(clock) => {
            let clock = clock.clone();
            app.wrap_http(move |http| clock.wrap(http))
        }
        None => app,
    }
}

/// The product's [`App`] against `endpoint`, built as `App::from_env` would (hub credentials
/// of the emulator, member roles through STS, the policy file), with a fresh call log, behind
/// `clock` when given.
pub async fn app_for(
    endpoint: &str,
    policy: &Path,
    budget: Budget,
    clock: Option<&Clock>,
    sinks: &Sinks,
) -> App {
    let mut app = AppBuilder::new(endpoint, policy).outcome_bus(&sinks.outcome_bus);
    if let Some(table) = &sinks.ledger_table {
        app = app.ledger_table(table);
    }
    product(app, budget, clock).build().await
}

/// The CloudTrail `AcceptVpcPeeringConnection` event for `peering_id`.
pub fn accepted_event(n: usize, peering_id: &str) -> Value {
    peerwire_emulator::samples::cloudtrail_accept_peering(
        &event_id(n),
        peering_id,
        ACCEPTER_ACCOUNT,
        REGION,
    )
}

/// The CloudTrail `CreateVpcPeeringConnection` event for a request from `from` to `to`.
pub fn requested_event(n: usize, peering_id: &str, from: &SeededVpc, to: &SeededVpc) -> Value {
    let id = event_id(n);
    peerwire_emulator::samples::cloudtrail_create_peering(
        &peerwire_emulator::samples::PeeringRequestEvent {
            event_id: &id,
            peering_id,
            requester_account: &from.account,
            requester_vpc: &from.vpc_id,
            accepter_account: &to.account,
            accepter_vpc: &to.vpc_id,
            region: &to.region,
        },
    )
}

/// The scheduled sweep event.
pub fn sweep_event(n: usize) -> Value {
    peerwire_emulator::samples::schedule_sweep(&event_id(n))
}

fn event_id(n: usize) -> String {
    peerwire_emulator::samples::event_id(n)
}
