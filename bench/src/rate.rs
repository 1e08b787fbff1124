//! Write rate of a hub sweep: every EC2 write of one `peering-wiring` sweep over `peers`
//! active peerings, stamped when it goes on the wire, grouped by the account that signs it
//! (EC2 budgets mutating calls per account and region), and checked against EC2's bucket.

use std::collections::BTreeMap;
use std::time::Instant;

use peerwire::doors::wiring::handle_wiring_event;
use peerwire::outcome::OutcomeKind;
use peerwire_emulator::scenario::{ACCEPTER_ACCOUNT, REQUESTER_ACCOUNT};

use crate::calls::seed_spokes;
use crate::record::{Clock, Sent};
use crate::world::{sweep_event, Budget, Result, World, WIRING_POLICY};
use peerwire_emulator::world::WorldOptions;
use peerwire_emulator::EmulatorOptions;

/// EC2's default bucket for mutating calls.
const BURST: f64 = 50.0;
const REFILL_PER_S: f64 = 5.0;
/// Timing tolerance of the simulated bucket: stamps are taken just after the limiter lets a
/// write go, so two stamps can be a few milliseconds closer than the limiter's grants.
const TOLERANCE_TOKENS: f64 = 0.05;

/// Writes an EC2 bucket (`BURST`, `REFILL_PER_S`, full at the start) would refuse, for
/// sorted send times in seconds.
fn throttled(times: &[f64]) -> usize {
    let mut tokens = BURST;
    let mut last = times.first().copied().unwrap_or(0.0);
    let mut refused = 0;
    for &t in times {
        tokens = (tokens + (t - last) * REFILL_PER_S).min(BURST);
        last = t;
        if tokens >= 1.0 - TOLERANCE_TOKENS {
            tokens -= 1.0;
        } else {
            refused += 1;
        }
    }
    refused
}

/// Most writes in any 1 s window starting at or after `from`.
fn max_per_second(times: &[f64], from: f64) -> usize {
    let mut best = 0;
    let mut end = 0;
    for (start, &t) in times.iter().enumerate() {
        if end < start {
            end = start;
        }
        while end < times.len() && times[end] < t + 1.0 {
            end += 1;
        }
        if t >= from {
            best = best.max(end - start);
        }
    }
    best
}

struct Stats {
    label: String,
    writes: usize,
    span: f64,
    first_second: usize,
    max_1s: usize,
    max_1s_after_10s: usize,
    /// (writes − burst) / span: a token bucket admits at most burst + rate × span.
    beyond_burst_rate: Option<f64>,
    /// `None` where no EC2 bucket applies (across accounts).
    refused: Option<usize>,
}

fn stats(label: String, times: &[f64], one_bucket: bool) -> Stats {
    let first = times.first().copied().unwrap_or(0.0);
    let last = times.last().copied().unwrap_or(0.0);
    let span = last - first;
    let beyond = times.len() as f64 - BURST;
    Stats {
        label,
        writes: times.len(),
        span,
        first_second: times.iter().filter(|&&t| t < first + 1.0).count(),
        max_1s: max_per_second(times, first),
        max_1s_after_10s: max_per_second(times, first + 10.0),
        beyond_burst_rate: (beyond > 0.0 && span > 0.0).then(|| beyond / span),
        refused: one_bucket.then(|| throttled(times)),
    }
}

pub async fn run(peers: usize, tables: usize, budget: Budget, preopen: bool) -> Result<()> {
    // Each accepter table gets one route per peer: past AWS's default 50 routes per table, the
    // quota is raised (adjustable to 1,000) so the sweep's writes, not the quota, are measured.
    // Rules per group stay at AWS's 60.
    let routes_quota = (peers + 10).div_ceil(50).max(1) * 50;
    let options = EmulatorOptions::new().setting("routes_per_table", &routes_quota.to_string());
    let options = WorldOptions {
        emulator: options,
        ..WorldOptions::default()
    };
    let world = World::start_with(options, WIRING_POLICY).await?;
    let (accepter, spokes) = seed_spokes(&world, peers, tables, tables).await?;
    if preopen {
        world.open_port(&accepter, 5432, "10.0.0.0/8").await?;
    }
    for spoke in &spokes {
        let pcx = world.request(spoke, &accepter).await?;
        world.accept(&accepter, &pcx).await?;
    }

    let clock = Clock::default();
    let app = world.app(budget, Some(&clock)).await;
    let started = Instant::now();
    let report = handle_wiring_event(&app, &sweep_event(1)).await?;
    let took = started.elapsed().as_secs_f64();
    let wired = report
        .run
        .outcomes
        .iter()
        .filter(|o| o.kind == OutcomeKind::Wired)
        .count();
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    for outcome in report
        .run
        .outcomes
        .iter()
        .filter(|o| o.kind != OutcomeKind::Wired)
    {
        let why = outcome
            .error
            .as_ref()
            .map(|e| e.message.clone())
            .or_else(|| outcome.reasons.last().cloned())
            .unwrap_or_default();
        *failures
            .entry(format!("{:?}: {why}", outcome.kind))
            .or_default() += 1;
    }

    let sent = clock.pair(app.aws.calls().take())?;
    let writes: Vec<&Sent> = sent
        .iter()
        .filter(|s| s.call.service == "ec2" && s.call.is_write())
        .collect();
    // Each member role is assumed once, so one access key is one account; the side a
    // ModifyVpcPeeringConnectionOptions sets names it (only its owner may set it).
    let mut account_of: BTreeMap<&str, &str> = BTreeMap::new();
    for s in &writes {
        if let Some(requester_side) = s.names.requester_options {
            let account = if requester_side {
                REQUESTER_ACCOUNT
            } else {
                ACCEPTER_ACCOUNT
            };
            account_of.insert(&s.signer.access_key, account);
        }
    }
    let mut by_account: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut all = Vec::new();
    for s in &writes {
        let t = s.at.duration_since(started).as_secs_f64();
        let account = account_of
            .get(s.signer.access_key.as_str())
            .map(|a| a.to_string())
            .unwrap_or_else(|| format!("key {}", s.signer.access_key));
        by_account.entry(account).or_default().push(t);
        all.push(t);
    }
    let mut rows: Vec<Stats> = by_account
        .into_iter()
        .map(|(account, mut times)| {
            times.sort_by(f64::total_cmp);
            stats(format!("account {account}"), &times, true)
        })
        .collect();
    all.sort_by(f64::total_cmp);
    rows.push(stats("both accounts together".into(), &all, false));

    let mut per_op: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &writes {
        *per_op.entry(s.call.operation.as_str()).or_default() += 1;
    }
    let opened = if preopen {
        " The accepter DB group was opened by hand to 10.0.0.0/8:5432 beforehand, so no \
         per-peer ingress rule is needed."
    } else {
        ""
    };
    println!(
        "## Write rate of a {peers}-peer hub wiring sweep\n\n\
         One `peering-wiring` sweep over {peers} active peerings ({tables} route table(s) per \
         VPC, routes-per-table quota {routes_quota}) took {took:.1} s with the {budget} write \
         budget and wired {wired}.{opened} \
         EC2 writes: {} ({}). Each write is stamped as it goes on the wire; EC2 budgets each \
         account and region separately.\n",
        writes.len(),
        per_op
            .iter()
            .map(|(op, n)| format!("{op} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (why, n) in &failures {
        println!("- not wired: {n} × {why}");
    }
    if !failures.is_empty() {
        println!();
    }
    println!(
        "| writer | writes | span (s) | in the first 1 s | max in any 1 s | max in any 1 s after the first 10 s | (writes − 50) / span, per s | an EC2 bucket (50, 5/s) would refuse |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {:.1} | {} | {} | {} | {} | {} |",
            r.label,
            r.writes,
            r.span,
            r.first_second,
            r.max_1s,
            r.max_1s_after_10s,
            r.beyond_burst_rate
                .map(|s| format!("{s:.2}"))
                .unwrap_or_else(|| "–".into()),
            r.refused
                .map(|n| n.to_string())
                .unwrap_or_else(|| "n/a: no bucket across accounts".into())
        );
    }
    println!(
        "\nA token bucket admits at most 50 + 5 × span writes, so (writes − 50) / span ≤ 5 when \
         the bucket is respected; a 1 s window may hold more than 5 writes after the bucket \
         refilled while that account was not writing (the sweep alternates between the two \
         accounts and reads). The simulated bucket starts full and allows {TOLERANCE_TOKENS} \
         token of timing slack ({:.0} ms).",
        TOLERANCE_TOKENS / REFILL_PER_S * 1000.0
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_five_per_second_passes_and_faster_does_not() {
        let mut ok: Vec<f64> = vec![0.0; 50];
        ok.extend((1..=50).map(|i| f64::from(i) * 0.2));
        assert_eq!(throttled(&ok), 0);
        assert_eq!(max_per_second(&ok, 10.0), 1);
        assert_eq!(max_per_second(&ok, 0.0), 54);
        let fast: Vec<f64> = (0..100).map(|i| f64::from(i) * 0.01).collect();
        let refused = throttled(&fast);
        assert!((40..50).contains(&refused), "{refused}");
    }
}
