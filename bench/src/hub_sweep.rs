//! The `hub` benchmark's child process: the product alone in a process, as in Lambda, running
//! scheduled sweeps of the wiring door and reporting each as one JSON line on stdout (calls by
//! operation, outcomes, writes per bucket, memory), progress on stderr.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use peerwire::doors::handle;
use peerwire::events::WiringTrigger;
use peerwire::outcome::OutcomeKind;
use serde_json::json;

use crate::procfs::status_kb;
use crate::record::{Clock, Sent};
use crate::world::{app_for, sweep_event, Budget, Result, Sinks};

/// How often the child reports progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(15);

/// The child's arguments.
#[derive(Debug, Clone)]
pub struct ChildArgs {
    pub endpoint: String,
    pub policy: PathBuf,
    pub bus: String,
    pub ledger_table: Option<String>,
    pub budget: Budget,
    pub sweeps: usize,
    pub deadline_secs: Option<f64>,
    pub pause_secs: f64,
    pub event_base: usize,
    /// One survey (`peerwire status`) instead of the sweeps.
    pub survey: bool,
}

/// The child: the product alone in a process, `sweeps` scheduled sweeps of the wiring door,
/// one JSON line per sweep on stdout.
pub async fn child(args: ChildArgs) -> Result<()> {
    let clock = Clock::default();
    let sinks = Sinks {
        outcome_bus: args.bus.clone(),
        ledger_table: args.ledger_table.clone(),
    };
    let app = app_for(
        &args.endpoint,
        &args.policy,
        args.budget,
        Some(&clock),
        &sinks,
    )
    .await;
    println!(
        "{}",
        json!({"hub_sweep": "init", "hwm_kb": status_kb("self", "VmHWM"), "rss_kb": status_kb("self", "VmRSS")})
    );
    if args.survey {
        return survey(&app, &clock).await;
    }
    let cursor_key = format!("not-reached#{}", OutcomeKind::Wired.detail_type());
    for k in 0..args.sweeps {
        if k > 0 && args.pause_secs > 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(args.pause_secs)).await;
        }
        let started = Instant::now();
        let deadline = if k == 0 {
            args.deadline_secs
                .map(|s| started + Duration::from_secs_f64(s))
        } else {
            None
        };
        let progress = {
            let clock = clock.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(PROGRESS_EVERY).await;
                    eprintln!(
                        "[hub-sweep] sweep {}: {:.0} s, {} calls so far",
                        k + 1,
                        started.elapsed().as_secs_f64(),
                        clock.len()
                    );
                }
            })
        };
        let result =
            handle::<WiringTrigger>(&app, &sweep_event(args.event_base + k), deadline).await;
        let wall = started.elapsed().as_secs_f64();
        // Memory first: what follows is the bench's own bookkeeping.
        let (hwm_kb, rss_kb) = (status_kb("self", "VmHWM"), status_kb("self", "VmRSS"));
        let before_deadline = deadline.map(|d| {
            let now = Instant::now();
            if d >= now {
                d.duration_since(now).as_secs_f64()
            } else {
                -now.duration_since(d).as_secs_f64()
            }
        });
        progress.abort();
        let sent = clock.pair(app.aws.calls().take())?;
        let (calls, ec2_writes) = tally(&sent);
        let mut line = json!({
            "hub_sweep": "sweep",
            "sweep": k + 1,
            "wall_s": wall,
            "before_deadline_s": before_deadline,
            "calls": calls,
            "ec2_writes": ec2_writes,
            "hwm_kb": hwm_kb,
            "rss_kb": rss_kb,
        });
        match result {
            Ok(report) => {
                let log = report.run;
                let mut owners: HashMap<String, (String, String)> = HashMap::new();
                let mut buckets: BTreeMap<String, usize> = BTreeMap::new();
                for r in &log.reconciled {
                    let Some(peering) = r.peering() else { continue };
                    owners.insert(
                        peering.id.to_string(),
                        (
                            peering.sides.requester.account.to_string(),
                            peering.sides.accepter.account.to_string(),
                        ),
                    );
                    for applied in r.applied() {
                        let side = &peering.sides[applied.step.side];
                        // Every step is one EC2 call, whatever came of it: one token.
                        *buckets
                            .entry(format!("{} {}", side.account, side.region))
                            .or_default() += 1;
                    }
                }
                // Which account each signing key is: the side an options call sets names it.
                let mut key_account: HashMap<&str, &str> = HashMap::new();
                let mut started_order: Vec<String> = Vec::new();
                let mut seen: BTreeSet<&str> = BTreeSet::new();
                for s in &sent {
                    let Some(id) = &s.names.peering_id else {
                        continue;
                    };
                    if seen.insert(id) {
                        started_order.push(id.clone());
                    }
                    if let (Some(requester_side), Some((requester, accepter))) =
                        (s.names.requester_options, owners.get(id))
                    {
                        let account = if requester_side { requester } else { accepter };
                        key_account.insert(&s.signer.access_key, account);
                    }
                }
                line["started"] = json!(started_order);
                let mut timeline: BTreeMap<String, (f64, f64, usize)> = BTreeMap::new();
                for s in sent
                    .iter()
                    .filter(|s| s.call.service == "ec2" && s.call.is_write())
                {
                    let at = s.at.duration_since(started).as_secs_f64();
                    let account = key_account
                        .get(s.signer.access_key.as_str())
                        .map(|a| (*a).to_owned())
                        .unwrap_or_else(|| format!("key {}", s.signer.access_key));
                    let entry = timeline
                        .entry(format!("{account} {}", s.signer.region))
                        .or_insert((at, at, 0));
                    entry.0 = entry.0.min(at);
                    entry.1 = entry.1.max(at);
                    entry.2 += 1;
                }
                line["writes_by_bucket"] = json!(buckets);
                line["timeline"] = json!(timeline
                    .into_iter()
                    .map(|(k, (first, last, n))| (
                        k,
                        json!({"first_s": first, "last_s": last, "n": n})
                    ))
                    .collect::<serde_json::Map<_, _>>());
                line["outcomes"] = json!(log
                    .outcomes
                    .iter()
                    .map(|o| json!({
                        "peering_id": o.peering_id.as_ref().map(|p| p.to_string()).unwrap_or_default(),
                        "kind": o.kind,
                        "reasons": o.reasons,
                        "error": o.error.as_ref().map(|e| format!("{}: {}", e.error_type, e.message)),
                    }))
                    .collect::<Vec<_>>());
                // Observed sides the run's log still holds when the door returns: a sweep drops
                // each peering's as it goes, so none are expected (a one-peering run keeps them).
                let (mut states, mut routes, mut rules) = (0usize, 0usize, 0usize);
                for r in &log.reconciled {
                    let Some(state) = r.wiring_state() else {
                        continue;
                    };
                    states += 1;
                    for side in [&state.sides.requester, &state.sides.accepter]
                        .into_iter()
                        .flatten()
                    {
                        routes += side
                            .network
                            .route_tables
                            .iter()
                            .map(|t| t.routes.len())
                            .sum::<usize>();
                        rules += side
                            .security_groups
                            .iter()
                            .map(|g| g.ingress.len() + g.egress.len())
                            .sum::<usize>();
                    }
                }
                line["retained"] = json!({"states": states, "routes": routes, "rules": rules});
                line["ignored"] = json!(log.ignored);
                line["left_alone"] = json!(log
                    .reconciled
                    .iter()
                    .filter(|r| r.outcome().is_none())
                    .filter_map(|r| Some(
                        json!({"peering_id": r.peering_id().to_string(), "why": r.left_alone()?})
                    ))
                    .collect::<Vec<_>>());
                line["not_reached"] = json!(log
                    .not_reached
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>());
                line["order"] = json!(log
                    .reconciled
                    .iter()
                    .map(|r| r.peering_id().to_string())
                    .collect::<Vec<_>>());
            }
            Err(err) => {
                line["error"] = json!(err.to_string());
            }
        }
        // What the next sweep will start with (read outside the counted calls).
        let cursor = app.ledger.ids(&cursor_key).await.unwrap_or_default();
        let _ = clock.pair(app.aws.calls().take());
        line["cursor_after"] = json!(cursor);
        println!("{line}");
    }
    Ok(())
}

/// One survey, as `peerwire status` runs it (every phase, a dry run, the orphan search), in
/// this fresh process: one JSON line with its calls, what it planned and its memory.
async fn survey(app: &peerwire::App, clock: &Clock) -> Result<()> {
    let started = Instant::now();
    let survey = peerwire::reconcile::survey(app, "bench-status", &|_| {}).await?;
    let wall = started.elapsed().as_secs_f64();
    let (hwm_kb, rss_kb) = (status_kb("self", "VmHWM"), status_kb("self", "VmRSS"));
    let sent = clock.pair(app.aws.calls().take())?;
    let (calls, ec2_writes) = tally(&sent);
    let converged = survey
        .reconciled
        .iter()
        .filter(|r| r.plan().is_none_or(|plan| plan.steps.is_empty()))
        .count();
    println!(
        "{}",
        json!({
            "hub_sweep": "sweep",
            "sweep": 1,
            "wall_s": wall,
            "calls": calls,
            "ec2_writes": ec2_writes,
            "hwm_kb": hwm_kb,
            "rss_kb": rss_kb,
            "peerings": survey.reconciled.len(),
            "converged": converged,
            "orphans": survey.orphans.len(),
            "failures": survey.failures.iter().map(|f| f.error.clone()).collect::<Vec<_>>(),
        })
    );
    Ok(())
}

/// Calls by `service:Operation`, and how many were EC2 writes.
fn tally(sent: &[Sent]) -> (BTreeMap<String, usize>, usize) {
    let mut calls: BTreeMap<String, usize> = BTreeMap::new();
    let mut ec2_writes = 0;
    for s in sent {
        *calls
            .entry(format!("{}:{}", s.call.service, s.call.operation))
            .or_default() += 1;
        if s.call.service == "ec2" && s.call.is_write() {
            ec2_writes += 1;
        }
    }
    (calls, ec2_writes)
}
