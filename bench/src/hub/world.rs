//! One hub world: an emulator with the hub seeded and accepted, a ledger table and an outcome
//! capture; the sweeps run in a child process of this binary, and what the world shows
//! afterwards (the events delivered, the routes through each peering).

use std::collections::{BTreeMap, HashMap};
use std::process::Stdio;
use std::time::{Duration, Instant};

use peerwire_emulator::scenario::{self, Hub};
use peerwire_emulator::world::{WorldOptions, LEDGER_TABLE, OUTCOME_BUS};
use peerwire_emulator::EmulatorOptions;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::{secs, thousands, Shape};
use crate::world::{Budget, Result, World};

/// One seeded hub world: the world captures the outcomes and has the ledger table.
pub(super) struct HubWorld {
    pub(super) world: World,
    pub(super) hub: Hub,
}

pub(super) async fn seed(
    shape: &Shape,
    policy: &str,
    parallel: usize,
    label: &str,
) -> Result<HubWorld> {
    let quota = shape.quota().to_string();
    let options = EmulatorOptions::new()
        .setting("sg_rules_per_group", &quota)
        .setting("routes_per_table", &quota);
    let started = Instant::now();
    let options = WorldOptions {
        emulator: options,
        outcome_capture: true,
        ledger: true,
    };
    let world = World::start_with(options, policy).await?;
    let spec = shape.spec();
    eprintln!(
        "[hub] {label}: seeding {} VPCs ({} accounts × {} regions × {} + {} accepter VPCs, {} route tables each) …",
        shape.peerings() + shape.regions.len(),
        shape.accounts.len(),
        shape.regions.len(),
        shape.vpcs,
        shape.regions.len(),
        shape.tables
    );
    let hub = Hub::seed(&world.seeder, &spec, parallel).await?;
    let seeded = secs(started);
    hub.accept_all(&world.seeder, parallel).await?;
    let seeder_calls = world.seeder.context().calls().take().len();
    eprintln!(
        "[hub] {label}: {} VPCs and {} requests in {seeded:.0} s, accepted in {:.0} s more ({} seeding calls)",
        hub.requesters.len() + hub.accepters.len(),
        hub.peerings.len(),
        secs(started) - seeded,
        thousands(seeder_calls)
    );
    Ok(HubWorld { world, hub })
}

/// One sweep as the child reported it.
#[derive(Debug, Clone)]
pub(super) struct Sweep(pub(super) Value);

impl Sweep {
    pub(super) fn f(&self, key: &str) -> f64 {
        self.0[key].as_f64().unwrap_or(0.0)
    }

    /// Calls per `service:Operation`.
    pub(super) fn calls(&self) -> BTreeMap<String, usize> {
        self.counts("calls")
    }

    pub(super) fn total_calls(&self) -> usize {
        self.calls().values().sum()
    }

    pub(super) fn ec2_writes(&self) -> usize {
        self.0["ec2_writes"].as_u64().unwrap_or(0) as usize
    }

    pub(super) fn outcomes(&self) -> Vec<Value> {
        self.0["outcomes"].as_array().cloned().unwrap_or_default()
    }

    pub(super) fn ids(&self, key: &str) -> Vec<String> {
        self.0[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Writes per (account, region) bucket.
    pub(super) fn buckets(&self) -> BTreeMap<String, usize> {
        self.counts("writes_by_bucket")
    }

    /// The object at `key` read as name → count.
    fn counts(&self, key: &str) -> BTreeMap<String, usize> {
        self.0[key]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0) as usize))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(super) fn kinds(&self) -> BTreeMap<String, usize> {
        let mut kinds = BTreeMap::new();
        for outcome in self.outcomes() {
            *kinds
                .entry(outcome["kind"].as_str().unwrap_or("?").to_owned())
                .or_default() += 1;
        }
        kinds
    }
}

/// Runs `sweeps` sweeps of the wiring door in one child process against `world`.
pub(super) async fn run_child(
    world: &HubWorld,
    budget: Budget,
    sweeps: usize,
    deadline_secs: Option<f64>,
    pause_secs: f64,
    event_base: usize,
) -> Result<(Sweep, Vec<Sweep>)> {
    let mut extra = vec![
        "--sweeps".to_owned(),
        sweeps.to_string(),
        "--pause-secs".to_owned(),
        pause_secs.to_string(),
        "--event-base".to_owned(),
        event_base.to_string(),
    ];
    if let Some(deadline) = deadline_secs {
        extra.extend(["--deadline-secs".to_owned(), deadline.to_string()]);
    }
    child(world, budget, &extra, sweeps).await
}

/// One `peerwire status` survey in a fresh child process against `world`.
pub(super) async fn run_survey(world: &HubWorld, budget: Budget) -> Result<Sweep> {
    let (_, mut done) = child(world, budget, &["--survey".to_owned()], 1).await?;
    Ok(done.remove(0))
}

/// The `hub-sweep` child with `extra` arguments; `expected` lines of results.
async fn child(
    world: &HubWorld,
    budget: Budget,
    extra: &[String],
    expected: usize,
) -> Result<(Sweep, Vec<Sweep>)> {
    let sweeps = expected;
    let mut command = tokio::process::Command::new(std::env::current_exe()?);
    command
        .arg("hub-sweep")
        .args(["--endpoint", world.world.endpoint()])
        .arg("--policy")
        .arg(world.world.policy_path())
        .args(["--bus", OUTCOME_BUS, "--ledger-table", LEDGER_TABLE])
        .args(["--budget", &budget.arg()])
        .args(extra);
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().ok_or("the sweep child has no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut init = None;
    let mut done = Vec::new();
    while let Some(line) = lines.next_line().await? {
        let Ok(value) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        match value["hub_sweep"].as_str() {
            Some("init") => init = Some(Sweep(value)),
            Some("sweep") => done.push(Sweep(value)),
            _ => {}
        }
    }
    let status = child.wait().await?;
    if !status.success() {
        return Err(format!("hub-sweep child failed: {status}").into());
    }
    for sweep in &done {
        if let Some(err) = sweep.0["error"].as_str() {
            eprintln!(
                "[hub] sweep {} ended with an error: {err}",
                sweep.0["sweep"]
            );
        }
    }
    match init {
        Some(init) if done.len() == sweeps => Ok((init, done)),
        _ => Err(format!("the sweep child reported {} of {sweeps} sweeps", done.len()).into()),
    }
}

/// What the capture queue received: (peering id, detail-type) per event.
pub(super) async fn drain(world: &HubWorld) -> Result<Vec<(String, String)>> {
    // EventBridge delivers to SQS asynchronously in moto: drain until it stays empty.
    let mut events = Vec::new();
    let mut quiet = 0;
    while quiet < 2 {
        let batch = world.world.delivered_outcomes().await?;
        if batch.is_empty() {
            quiet += 1;
            tokio::time::sleep(Duration::from_millis(300)).await;
        } else {
            quiet = 0;
            events.extend(batch);
        }
    }
    Ok(events
        .iter()
        .map(|e| {
            (
                e["detail"]["peering_id"].as_str().unwrap_or("").to_owned(),
                e["detail-type"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect())
}

/// Routes through each peering, on both sides, as their owners see them.
pub(super) async fn routes(world: &HubWorld) -> Result<HashMap<String, usize>> {
    let vpcs: Vec<_> = world
        .hub
        .accepters
        .iter()
        .chain(world.hub.requesters.iter())
        .collect();
    Ok(scenario::routes_by_peering(&world.world.seeder, &vpcs).await?)
}
