//! Client CPU and wall time of one wiring reconcile, peerwire (Rust, in-process) beside the
//! boto3 baseline (`bench/baseline/reconcile_boto3.py`, one process per sample), in the same
//! run, each against its own freshly seeded emulator.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use peerwire::doors::wiring::handle_wiring_event;
use serde_json::Value;

use crate::calls::Tally;
use crate::procfs::{median, range, ThreadCpu};
use crate::world::{accepted_event, Budget, Result, World};

/// One reconcile's cost.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cost {
    pub cpu: Duration,
    pub wall: Duration,
    pub calls: usize,
    pub writes: usize,
}

pub fn baseline_script() -> PathBuf {
    peerwire_emulator::workspace_root().join("bench/baseline/reconcile_boto3.py")
}

/// Runs the boto3 baseline on `peering_id` `repeat` times in one process; returns its JSON.
pub async fn run_baseline(endpoint: &str, peering_id: &str, repeat: usize) -> Result<Value> {
    let output = tokio::process::Command::new(peerwire_emulator::python())
        .arg(baseline_script())
        .args(["--endpoint", endpoint, "--peering", peering_id])
        .args(["--repeat", &repeat.to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .await?;
    if !output.status.success() {
        return Err(format!("boto3 baseline failed: {}", output.status).into());
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

fn seconds(value: &Value) -> Duration {
    Duration::from_secs_f64(value.as_f64().unwrap_or(0.0).max(0.0))
}

fn baseline_cost(run: &Value) -> Cost {
    Cost {
        cpu: seconds(&run["cpu_s"]),
        wall: seconds(&run["wall_s"]),
        calls: run["calls_total"].as_u64().unwrap_or(0) as usize,
        writes: run["ec2_writes"].as_u64().unwrap_or(0) as usize,
    }
}

/// Measures `handle_wiring_event` on `app`.
pub async fn rust_reconcile(app: &peerwire::App, event: &Value) -> Result<Cost> {
    let (cpu0, wall0) = (ThreadCpu::now(), Instant::now());
    handle_wiring_event(app, event).await?;
    let (wall, cpu) = (wall0.elapsed(), ThreadCpu::now().since(&cpu0));
    let tally = Tally::of(&app.aws.calls().take());
    Ok(Cost {
        cpu,
        wall,
        calls: tally.total,
        writes: tally.ec2_writes,
    })
}

#[derive(Debug, Default)]
struct Samples {
    fresh: Vec<Cost>,
    converged: Vec<Cost>,
    init_cpu: Vec<Duration>,
    init_wall: Vec<Duration>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn column(costs: &[Cost], pick: fn(&Cost) -> Duration) -> Vec<f64> {
    costs.iter().map(|c| ms(pick(c))).collect()
}

fn fmt(values: &[f64]) -> String {
    let (lo, hi) = range(values);
    format!("{:.2} ({:.2}–{:.2})", median(values), lo, hi)
}

pub async fn run(iterations: usize, tables: usize) -> Result<()> {
    let mut rust = Samples::default();
    let mut boto = Samples::default();
    let mut event_no = 0;
    for i in 0..iterations {
        // Alternate who goes first, so neither always meets a warmer machine.
        let order = if i % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for is_rust in order {
            let world = World::start().await?;
            let (requester, accepter) = world.seed_pair(tables).await?;
            let pcx = world.request(&requester, &accepter).await?;
            world.accept(&accepter, &pcx).await?;
            if is_rust {
                let (cpu0, wall0) = (ThreadCpu::now(), Instant::now());
                let app = world.app(Budget::Ec2, None).await;
                rust.init_wall.push(wall0.elapsed());
                rust.init_cpu.push(ThreadCpu::now().since(&cpu0));
                event_no += 1;
                let event = accepted_event(event_no, &pcx);
                rust.fresh.push(rust_reconcile(&app, &event).await?);
                rust.converged.push(rust_reconcile(&app, &event).await?);
            } else {
                let json = run_baseline(world.endpoint(), &pcx, 2).await?;
                let runs = json["runs"].as_array().cloned().unwrap_or_default();
                let (Some(fresh), Some(converged)) = (runs.first(), runs.get(1)) else {
                    return Err("the baseline reported fewer than 2 runs".into());
                };
                boto.fresh.push(baseline_cost(fresh));
                boto.converged.push(baseline_cost(converged));
                boto.init_cpu.push(seconds(&json["init"]["cpu_s"]));
                boto.init_wall.push(seconds(&json["init"]["wall_s"]));
            }
            let routed = (
                world.routes_via(&requester, &pcx).await?,
                world.routes_via(&accepter, &pcx).await?,
            );
            if routed != (tables, tables) {
                let who = if is_rust {
                    "peerwire"
                } else {
                    "boto3 baseline"
                };
                return Err(format!("{who}: routes {routed:?}, want ({tables}, {tables})").into());
            }
        }
    }

    let build = if cfg!(debug_assertions) {
        "DEBUG build: Rust CPU figures are not representative, run with --release"
    } else {
        "release build"
    };
    println!(
        "## Client CPU and wall time per reconcile: peerwire vs the boto3 baseline\n\n\
         Fresh wiring of one peering, {tables} route tables per side, {iterations} samples each \
         (a fresh emulator and scenario per sample), {build}. Median (min–max), milliseconds. \
         CPU is the client's own (Rust: on-CPU time of every thread of the process; Python: \
         getrusage RUSAGE_SELF), the emulator's is excluded.\n"
    );
    println!("| measure | peerwire (Rust) | boto3 baseline | ratio boto3 / Rust |");
    println!("|---|---:|---:|---:|");
    let line = |name: &str, r: Vec<f64>, b: Vec<f64>| {
        let ratio = median(&b) / median(&r).max(f64::MIN_POSITIVE);
        println!("| {name} | {} | {} | {ratio:.1}× |", fmt(&r), fmt(&b));
    };
    line(
        "client CPU, fresh wiring (first event)",
        column(&rust.fresh, |c| c.cpu),
        column(&boto.fresh, |c| c.cpu),
    );
    line(
        "wall time, fresh wiring",
        column(&rust.fresh, |c| c.wall),
        column(&boto.fresh, |c| c.wall),
    );
    line(
        "client CPU, converged re-check (second event, warm)",
        column(&rust.converged, |c| c.cpu),
        column(&boto.converged, |c| c.cpu),
    );
    line(
        "wall time, converged re-check",
        column(&rust.converged, |c| c.wall),
        column(&boto.converged, |c| c.wall),
    );
    let init = |v: &[Duration]| v.iter().map(|d| ms(*d)).collect::<Vec<_>>();
    line(
        "client init CPU (Rust: App::new; Python: imports + session + clients)",
        init(&rust.init_cpu),
        init(&boto.init_cpu),
    );
    line(
        "client init wall",
        init(&rust.init_wall),
        init(&boto.init_wall),
    );
    let calls = |s: &Samples| {
        let f = s.fresh.first().copied().unwrap_or_default();
        let c = s.converged.first().copied().unwrap_or_default();
        format!(
            "{} calls, {} EC2 writes / {} calls, {} writes",
            f.calls, f.writes, c.calls, c.writes
        )
    };
    println!(
        "| API calls fresh / converged (same reconcile) | {} | {} | |",
        calls(&rust),
        calls(&boto)
    );
    Ok(())
}
