//! Peak RSS of one wiring reconcile at many route tables.
//!
//! The parent seeds the emulator (seeding clients would pollute the peak), then runs the
//! reconcile in a child process of this same binary (`reconcile-child`), which reports its
//! `VmHWM` after building the app and after each reconcile. The boto3 baseline runs the same
//! reconcile on a second, identical pair of VPCs in the same emulator.

use std::path::PathBuf;
use std::process::Stdio;

use serde_json::{json, Value};

use crate::cpu::{run_baseline, rust_reconcile};
use crate::procfs::status_kb;
use crate::world::{accepted_event, app_for, Budget, Result, Sinks, World};

/// The child's side: build the app, reconcile `repeat` times, print one JSON line per stage.
pub async fn child(
    endpoint: &str,
    policy: PathBuf,
    event: PathBuf,
    budget: Budget,
    repeat: usize,
) -> Result<()> {
    let event: Value = serde_json::from_str(&std::fs::read_to_string(event)?)?;
    let app = app_for(endpoint, &policy, budget, None, &Sinks::default()).await;
    println!(
        "{}",
        json!({"stage": "init", "hwm_kb": status_kb("self", "VmHWM"), "rss_kb": status_kb("self", "VmRSS")})
    );
    for run in 0..repeat {
        let cost = rust_reconcile(&app, &event).await?;
        println!(
            "{}",
            json!({
                "stage": "run", "run": run,
                "wall_ms": cost.wall.as_secs_f64() * 1000.0,
                "cpu_ms": cost.cpu.as_secs_f64() * 1000.0,
                "calls": cost.calls, "ec2_writes": cost.writes,
                "hwm_kb": status_kb("self", "VmHWM"), "rss_kb": status_kb("self", "VmRSS"),
            })
        );
    }
    Ok(())
}

fn mib(kb: &Value) -> String {
    kb.as_f64()
        .map(|kb| format!("{:.1} MiB", kb / 1024.0))
        .unwrap_or_else(|| "?".into())
}

pub async fn run(tables: usize, baseline: bool) -> Result<()> {
    let world = World::start().await?;
    let seeding = std::time::Instant::now();
    let (requester, accepter) = world.seed_pair(tables).await?;
    let pcx = world.request(&requester, &accepter).await?;
    world.accept(&accepter, &pcx).await?;
    let seeded_in = seeding.elapsed();

    let event_path =
        std::env::temp_dir().join(format!("peerwire-bench-event-{}.json", std::process::id()));
    std::fs::write(&event_path, accepted_event(1, &pcx).to_string())?;
    let output = tokio::process::Command::new(std::env::current_exe()?)
        .arg("reconcile-child")
        .args(["--endpoint", world.endpoint()])
        .arg("--policy")
        .arg(world.policy_path())
        .arg("--event")
        .arg(&event_path)
        .args(["--budget", "unlimited", "--repeat", "2"])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .await?;
    let _ = std::fs::remove_file(&event_path);
    if !output.status.success() {
        return Err(format!("reconcile-child failed: {}", output.status).into());
    }
    let lines: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let stage = |n: usize| lines.get(n).cloned().unwrap_or(Value::Null);
    let (init, fresh, converged) = (stage(0), stage(1), stage(2));
    let routed = (
        world.routes_via(&requester, &pcx).await?,
        world.routes_via(&accepter, &pcx).await?,
    );

    let mut py = Value::Null;
    if baseline {
        let (requester2, accepter2) = world.seed_pair(tables).await?;
        let pcx2 = world.request(&requester2, &accepter2).await?;
        world.accept(&accepter2, &pcx2).await?;
        py = run_baseline(world.endpoint(), &pcx2, 2).await?;
    }

    println!(
        "## Peak RSS of a reconcile at {tables} route tables per side\n\n\
         Seeded in {:.0} s. Write budget unlimited (with EC2's 5/s the {} CreateRoute calls \
         alone would take about {:.0} s; the budget does not change memory). Routes through the \
         peering afterwards: {} requester, {} accepter.\n",
        seeded_in.as_secs_f64(),
        2 * tables,
        (2 * tables).saturating_sub(100) as f64 / 5.0,
        routed.0,
        routed.1
    );
    println!("| measure | peerwire (Rust) | boto3 baseline |");
    println!("|---|---:|---:|");
    let runs = py["runs"].as_array().cloned().unwrap_or_default();
    let py_run = |n: usize, key: &str| runs.get(n).map(|r| r[key].clone()).unwrap_or(Value::Null);
    println!(
        "| peak RSS after init (before the first event) | {} | {} |",
        mib(&init["hwm_kb"]),
        mib(&py["hwm_after_init_kb"])
    );
    println!(
        "| peak RSS after the fresh wiring | {} | {} |",
        mib(&fresh["hwm_kb"]),
        mib(&py_run(0, "hwm_kb"))
    );
    println!(
        "| peak RSS after the converged re-check | {} | {} |",
        mib(&converged["hwm_kb"]),
        mib(&py_run(1, "hwm_kb"))
    );
    let secs = |v: &Value, scale: f64| {
        v.as_f64()
            .map(|x| format!("{:.2} s", x * scale))
            .unwrap_or_else(|| "?".into())
    };
    println!(
        "| fresh wiring: wall / client CPU | {} / {} | {} / {} |",
        secs(&fresh["wall_ms"], 0.001),
        secs(&fresh["cpu_ms"], 0.001),
        secs(&py_run(0, "wall_s"), 1.0),
        secs(&py_run(0, "cpu_s"), 1.0)
    );
    println!(
        "| converged re-check: wall / client CPU | {} / {} | {} / {} |",
        secs(&converged["wall_ms"], 0.001),
        secs(&converged["cpu_ms"], 0.001),
        secs(&py_run(1, "wall_s"), 1.0),
        secs(&py_run(1, "cpu_s"), 1.0)
    );
    println!(
        "| calls fresh / converged | {} / {} | {} / {} |",
        fresh["calls"],
        converged["calls"],
        py_run(0, "calls_total"),
        py_run(1, "calls_total")
    );
    Ok(())
}
