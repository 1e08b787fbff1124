//! World 1, fresh then converged: one sweep of a freshly seeded hub, its calls against the
//! minimum, its wall time against the write bucket's floor and its peak RSS; then a second
//! sweep of the same process, which must only read.

use serde_json::Value;

use super::minimum::{
    compare, converged_minimum, floor, fresh_minimum, ratio_text, status_minimum, GOAL,
};
use super::world::{drain, routes, run_child, run_survey, seed, Sweep};
use super::{mib, thousands, Args};
use crate::world::Result;

/// Runs world 1 and prints its figures; returns the fresh sweep's wall time (s).
pub(super) async fn run(args: &Args, policy: &str) -> Result<f64> {
    let shape = &args.shape;
    let p = shape.peerings();
    let main = seed(shape, policy, args.parallel, "fresh").await?;
    if args.latency_ms > 0 {
        main.world
            .emulator
            .set("latency_ms", &args.latency_ms.to_string())
            .await?;
    }
    eprintln!("[hub] fresh: two sweeps in one process (fresh, then converged) …");
    let (init, sweeps) = run_child(&main, args.budget, 2, None, 0.0, 1).await?;
    let (fresh, converged) = match sweeps.as_slice() {
        [f, c] => (f.clone(), c.clone()),
        _ => return Err("two sweeps expected".into()),
    };
    let delivered = drain(&main).await?;
    let routed = routes(&main).await?;
    let wired: Vec<&String> = main
        .hub
        .peerings
        .iter()
        .map(|x| &x.peering_id)
        .filter(|id| routed.get(*id).copied() == Some(2 * shape.tables))
        .collect();
    let kinds = fresh.kinds();
    let wired_outcomes = kinds.get("wired").copied().unwrap_or(0);
    if wired_outcomes != p || wired.len() != p {
        return Err(format!(
            "fresh sweep: {wired_outcomes} wired outcomes, {} peerings with {} routes, of {p}; outcomes {kinds:?}",
            wired.len(),
            2 * shape.tables
        )
        .into());
    }
    println!("## 1. Fresh wiring sweep\n");
    println!(
        "All {p} peerings reported `Peering Wired` ({} events on the bus), each with {} routes \
         through it afterwards; {} EC2 writes.\n",
        delivered
            .iter()
            .filter(|(_, t)| t == "Peering Wired")
            .count(),
        2 * shape.tables,
        thousands(fresh.ec2_writes())
    );
    let (measured, minimum) = compare(&fresh, &fresh_minimum(shape));
    let ratio = measured as f64 / minimum as f64;
    println!(
        "\n**Calls / minimum = {} / {} = {ratio:.3}** (goal ≤ {GOAL:.2}: {}).\n",
        thousands(measured),
        thousands(minimum),
        if ratio <= GOAL { "met" } else { "NOT met" }
    );
    let b = args.budget.write_budget();
    let (floor_s, busiest, busiest_writes) = floor(&fresh, args.budget);
    let wall = fresh.f("wall_s");
    println!(
        "**Wall time {wall:.1} s against the floor {floor_s:.1} s{}** (goal ≤ {GOAL:.2}). \
         Floor: the busiest bucket, {busiest}, has {busiest_writes} writes: ({busiest_writes} − \
         {}) / {}/s; the buckets of other accounts and regions drain in parallel.\n",
        ratio_text(wall, floor_s),
        b.burst,
        b.per_second
    );
    print_timeline(&fresh);
    println!(
        "\nPeak RSS of the sweep process (`VmHWM`): {} after init, **{} after the fresh sweep**, \
         {} after the converged one (RSS then {}).\n",
        mib(&init.0["hwm_kb"]),
        mib(&fresh.0["hwm_kb"]),
        mib(&converged.0["hwm_kb"]),
        mib(&converged.0["rss_kb"])
    );
    let retained = |sweep: &Sweep| {
        let r = &sweep.0["retained"];
        format!(
            "{} observed states holding {} routes and {} rules",
            r["states"], r["routes"], r["rules"]
        )
    };
    println!(
        "Observed sides the run's log held when the door returned (a sweep drops each peering's \
         as it goes): fresh sweep {}; converged sweep {}.\n",
        retained(&fresh),
        retained(&converged)
    );
    println!("## 2. Converged sweep, right after (same process)\n");
    let (c_measured, c_minimum) = compare(&converged, &converged_minimum(shape));
    println!(
        "\n{} calls ({} minimum: {:.3}), {} EC2 writes, {} outcomes, {:.1} s.\n",
        thousands(c_measured),
        thousands(c_minimum),
        c_measured as f64 / c_minimum.max(1) as f64,
        converged.ec2_writes(),
        converged.outcomes().len(),
        converged.f("wall_s")
    );
    if converged.ec2_writes() != 0 || !converged.outcomes().is_empty() {
        return Err("the converged sweep wrote or reported".into());
    }
    println!("### `peerwire status` of the converged hub, in a new process\n");
    eprintln!("[hub] fresh: one survey (peerwire status) in a new process …");
    let status = run_survey(&main, args.budget).await?;
    let (s_measured, s_minimum) = compare(&status, &status_minimum(shape));
    println!(
        "\n{} calls ({} minimum: {:.3}); {} of {} peerings healthy (an empty plan), {} orphans, \
         {} EC2 writes, {:.1} s, peak RSS {}.\n",
        thousands(s_measured),
        thousands(s_minimum),
        s_measured as f64 / s_minimum.max(1) as f64,
        status.0["converged"],
        status.0["peerings"],
        status.0["orphans"],
        status.ec2_writes(),
        status.f("wall_s"),
        mib(&status.0["hwm_kb"])
    );
    if status.ec2_writes() != 0 || status.0["converged"].as_u64() != Some(p as u64) {
        return Err(format!(
            "the survey wrote or found a peering not converged: {}",
            status.0
        )
        .into());
    }
    drop(main);
    Ok(wall)
}

fn print_timeline(sweep: &Sweep) {
    let Some(lines) = sweep.0["timeline"].as_object() else {
        return;
    };
    let mut rows: Vec<(&String, &Value)> = lines.iter().collect();
    rows.sort_by(|a, b| {
        b.1["n"]
            .as_u64()
            .unwrap_or(0)
            .cmp(&a.1["n"].as_u64().unwrap_or(0))
    });
    println!("| bucket (account region) | EC2 writes | first write (s) | last write (s) |");
    println!("|---|---:|---:|---:|");
    for (bucket, v) in rows.iter().take(4) {
        println!(
            "| {bucket} | {} | {:.1} | {:.1} |",
            v["n"],
            v["first_s"].as_f64().unwrap_or(0.0),
            v["last_s"].as_f64().unwrap_or(0.0)
        );
    }
    if rows.len() > 4 {
        println!("| … {} more buckets | | | |", rows.len() - 4);
    }
}
