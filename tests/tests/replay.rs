//! Replay: every sample event in `events/` that a door accepts, delivered three times in
//! order, shuffled among all the others, and five times at once (parallel cold starts on the
//! same peering); ten each in the soak runs (`--ignored`). The end state is the same every
//! time, and nothing is written twice.
//!
//! The samples carry placeholder ids; each delivery gets the ids of the seeded world
//! (the peering, both VPCs, their route tables, groups and a subnet). Events no door accepts
//! (failed CloudTrail calls) must be refused every time, before any AWS call.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::support::world::{EndState, World};
use crate::support::Rng;
use peerwire::doors::Door;
use peerwire::outcome::OutcomeKind;
use peerwire_emulator::workspace_root;
use peerwire_integration::WIRING_POLICY;
use serde_json::Value;

/// How many times each event is delivered in the default suite: the first delivery does the
/// work, the others must find nothing to do (enough to show idempotency).
const TIMES: usize = 3;

/// How many times the soak runs (`--ignored`, see docs/reliability.md) deliver each event.
const SOAK: usize = 10;

/// One file of `events/`.
#[derive(Debug, Clone)]
struct Sample {
    file: String,
    raw: String,
}

fn samples() -> Vec<Sample> {
    let dir = workspace_root().join("events");
    let mut samples: Vec<Sample> = std::fs::read_dir(&dir)
        .expect("events/")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| Sample {
            file: path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            raw: std::fs::read_to_string(&path).expect("sample"),
        })
        .collect();
    samples.sort_by(|a, b| a.file.cmp(&b.file));
    assert!(!samples.is_empty(), "no sample in {}", dir.display());
    samples
}

/// The sample with the world's ids in place of the placeholders (see the samples' reasons:
/// requester table a, accepter tables a and b, both groups, accepter subnet c).
fn instantiate(sample: &Sample, world: &World, pcx: &str) -> Value {
    let (requester, accepter) = (&world.scenario.requester, &world.scenario.accepter);
    let substitutions = [
        ("pcx-0123456789abcdef0", pcx),
        ("pcx-0fedcba9876543210", pcx),
        ("vpc-0a1b2c3d4e5f60708", requester.vpc_id.as_str()),
        ("vpc-0f1e2d3c4b5a69788", accepter.vpc_id.as_str()),
        ("rtb-0a1b2c3d4e5f60718", requester.route_tables[0].as_str()),
        ("rtb-0d3f5b7a9c1e3a5b7", accepter.route_tables[0].as_str()),
        ("rtb-0e4f6a8b0c2d4e6f8", accepter.route_tables[1].as_str()),
        ("sg-0f1e2d3c4b5a69780", requester.security_group_id.as_str()),
        ("sg-0a9b8c7d6e5f4a3b2", accepter.security_group_id.as_str()),
        ("subnet-0c3d5e7f9a1b2c3d4", accepter.subnet_ids[2].as_str()),
    ];
    let mut text = sample.raw.clone();
    for (placeholder, id) in substitutions {
        text = text.replace(placeholder, id);
    }
    serde_json::from_str(&text).expect("sample is JSON")
}

/// Every (sample, door) pair a door's parser accepts, and the samples no door accepts.
fn deliveries() -> (Vec<(Sample, Door)>, Vec<Sample>) {
    let mut pairs = Vec::new();
    let mut refused = Vec::new();
    for sample in samples() {
        let event: Value = serde_json::from_str(&sample.raw).expect("sample is JSON");
        let doors: Vec<Door> = Door::ALL
            .into_iter()
            .filter(|d| d.accepts(&event))
            .collect();
        if doors.is_empty() {
            refused.push(sample);
        } else {
            pairs.extend(doors.into_iter().map(|d| (sample.clone(), d)));
        }
    }
    (pairs, refused)
}

/// Resets the world to the state `door` expects its events in: a pending request (request),
/// an active unwired peering (wiring), a wired peering whose accepter route in table a was
/// deleted (drift, the change the DeleteRoute sample reports), a wired peering the requester
/// deleted (cleanup).
async fn precondition(world: &mut World, door: Door) -> String {
    world.reset().await;
    match door {
        Door::Request => world.pending().await,
        Door::Wiring => world.active().await,
        Door::Drift => {
            let pcx = world.wired().await;
            let (requester, accepter) = (&world.scenario.requester, &world.scenario.accepter);
            accepter
                .delete_route(&accepter.route_tables[0], &requester.cidr)
                .await
                .expect("drift: delete a route");
            pcx
        }
        Door::Cleanup => {
            let pcx = world.wired().await;
            world.delete(&pcx).await;
            pcx
        }
    }
}

/// The accepted-and-wired state: the request door accepts and wires, and the wiring door, on
/// the acceptance's event, finds nothing left to do. Returns it with the number of EC2 writes
/// it took.
async fn accepted_and_wired(world: &mut World) -> (String, EndState, usize) {
    world.reset().await;
    let pcx = world.pending().await;
    let app = world.app().await;
    let kinds = crate::support::outcome_kinds(Door::Request, &app, &world.request_event(&pcx))
        .await
        .expect("accept");
    assert_eq!(kinds, [OutcomeKind::Accepted, OutcomeKind::Wired]);
    let kinds = crate::support::outcome_kinds(Door::Wiring, &app, &world.accepted_event(&pcx))
        .await
        .expect("wire");
    assert_eq!(kinds, [], "converged by the request door");
    let writes = app.aws.calls().ec2_writes().len();
    (pcx.clone(), world.snapshot(&pcx).await, writes)
}

fn problem_free(problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[tokio::test]
async fn every_sample_replayed_in_order_writes_once() {
    in_order(TIMES).await;
}

#[tokio::test]
#[ignore = "a soak, minutes: cargo test -p peerwire-integration --test integration replay:: -- --ignored"]
async fn every_sample_replayed_ten_times_in_order_writes_once() {
    in_order(SOAK).await;
}

/// Every sample delivered `times` times in a row: the first delivery writes, the rest find
/// nothing to do.
async fn in_order(times: usize) {
    let started = Instant::now();
    let mut world = World::start(WIRING_POLICY).await;
    let (pairs, refused) = deliveries();
    let mut problems = Vec::new();
    println!(
        "{} samples accepted by a door ({} pairs), {} refused by every door",
        pairs
            .iter()
            .map(|(s, _)| &s.file)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        pairs.len(),
        refused.len()
    );
    for (sample, door) in &pairs {
        let pcx = precondition(&mut world, *door).await;
        let event = instantiate(sample, &world, &pcx);
        let label = format!("{} -> {} door", sample.file, door.function_name());
        let mut first: Option<(EndState, usize, Vec<OutcomeKind>)> = None;
        for run in 1..=times {
            let app = world.app().await;
            let kinds = match crate::support::outcome_kinds(*door, &app, &event).await {
                Ok(kinds) => kinds,
                Err(err) => {
                    problems.push(format!("{label}: run {run} failed: {err}"));
                    continue;
                }
            };
            if kinds.contains(&OutcomeKind::Failed) {
                problems.push(format!("{label}: run {run} reported {kinds:?}"));
            }
            let writes = app.aws.calls().ec2_writes();
            let state = world.snapshot(&pcx).await;
            if !state.duplicates().is_empty() {
                problems.push(format!("{label}: duplicates {:?}", state.duplicates()));
            }
            match &first {
                None => first = Some((state, writes.len(), kinds)),
                Some((expected, _, _)) => {
                    if !writes.is_empty() {
                        problems.push(format!("{label}: run {run} wrote {writes:?}"));
                    }
                    if state != *expected {
                        problems.push(format!(
                            "{label}: run {run} changed the end state:\n  {state:?}\n  {expected:?}"
                        ));
                    }
                }
            }
        }
        if let Some((_, writes, kinds)) = first {
            println!(
                "  {label:<66} run 1: {writes:>2} EC2 writes {kinds:?}; runs 2-{times}: 0 writes"
            );
        }
    }
    // Refused events: a typed error every time, before any AWS call.
    world.reset().await;
    let pcx = world.pending().await;
    for sample in &refused {
        let event = instantiate(sample, &world, &pcx);
        for door in Door::ALL {
            for _ in 0..times {
                let app = world.app().await;
                match crate::support::outcome_kinds(door, &app, &event).await {
                    Err(peerwire::Error::Event(_)) => {}
                    other => problems.push(format!(
                        "{} -> {} door: expected an event error, got {other:?}",
                        sample.file,
                        door.function_name()
                    )),
                }
                if !app.aws.calls().calls().is_empty() {
                    problems.push(format!("{}: refused but called AWS", sample.file));
                }
            }
        }
        println!(
            "  {:<66} refused by all 4 doors x{times}, 0 AWS calls",
            sample.file
        );
    }
    println!(
        "in order: {} deliveries in {:.0} s",
        (pairs.len() + refused.len() * 4) * times,
        started.elapsed().as_secs_f64()
    );
    problem_free(&problems);
}

#[tokio::test]
async fn every_sample_replayed_shuffled_converges_with_each_write_once() {
    shuffled(&[0x5eed_0001], TIMES).await;
}

#[tokio::test]
#[ignore = "more shuffles, minutes each: cargo test -p peerwire-integration --test integration replay:: -- --ignored"]
async fn more_shuffles_of_ten_deliveries_each() {
    shuffled(
        &[
            0x5eed_0001,
            0x5eed_0002,
            0x5eed_0003,
            0x5eed_0004,
            0x5eed_0005,
        ],
        SOAK,
    )
    .await;
}

/// All deliveries `times` times each, shuffled by `seeds` (one world per seed): the end state is
/// the accepted-and-wired one and each write happens once; a second shuffled pass writes
/// nothing.
async fn shuffled(seeds: &[u64], times: usize) {
    let started = Instant::now();
    let mut world = World::start(WIRING_POLICY).await;
    let (_, reference, reference_writes) = accepted_and_wired(&mut world).await;
    let (pairs, _) = deliveries();
    let mut problems = Vec::new();
    for &seed in seeds {
        world.reset().await;
        let pcx = world.pending().await;
        let mut queue: Vec<(String, Door, Value)> = Vec::new();
        for (sample, door) in &pairs {
            let event = instantiate(sample, &world, &pcx);
            for _ in 0..times {
                queue.push((sample.file.clone(), *door, event.clone()));
            }
        }
        let mut rng = Rng(seed);
        let mut passes = Vec::new();
        for pass in 1..=2 {
            rng.shuffle(&mut queue);
            let mut writes = 0;
            let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
            for (file, door, event) in &queue {
                let app = world.app().await;
                match crate::support::outcome_kinds(*door, &app, event).await {
                    Ok(outcomes) => {
                        for kind in outcomes {
                            *kinds.entry(format!("{kind:?}")).or_default() += 1;
                        }
                    }
                    Err(err) => problems.push(format!(
                        "seed {seed:#x} pass {pass}: {file} -> {}: {err}",
                        door.function_name()
                    )),
                }
                writes += app.aws.calls().ec2_writes().len();
            }
            let state = world.snapshot(&pcx).await;
            if state != reference {
                problems.push(format!(
                    "seed {seed:#x} pass {pass}: end state differs:\n  {state:?}\n  {reference:?}"
                ));
            }
            let expected = if pass == 1 { reference_writes } else { 0 };
            if writes != expected {
                problems.push(format!(
                    "seed {seed:#x} pass {pass}: {writes} EC2 writes, expected {expected}"
                ));
            }
            passes.push(format!(
                "pass {pass}: {writes} EC2 writes, outcomes {kinds:?}"
            ));
        }
        println!(
            "shuffled (seed {seed:#x}): {} deliveries per pass; {}",
            queue.len(),
            passes.join("; ")
        );
    }
    println!(
        "shuffled: reference accept + wire = {reference_writes} EC2 writes; {:.0} s",
        started.elapsed().as_secs_f64()
    );
    problem_free(&problems);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_sample_delivered_several_times_at_once_converges() {
    at_once(5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a soak, minutes: cargo test -p peerwire-integration --test integration replay:: -- --ignored"]
async fn every_sample_delivered_ten_times_at_once_converges() {
    at_once(SOAK).await;
}

/// Every sample delivered `times` times at once (cold starts in parallel on one peering).
async fn at_once(times: usize) {
    let started = Instant::now();
    let mut world = World::start(WIRING_POLICY).await;
    let (pairs, _) = deliveries();
    let mut problems = Vec::new();
    for (sample, door) in &pairs {
        let label = format!("{} -> {} door", sample.file, door.function_name());
        // The sequential reference.
        let pcx = precondition(&mut world, *door).await;
        let event = instantiate(sample, &world, &pcx);
        let app = world.app().await;
        if let Err(err) = crate::support::outcome_kinds(*door, &app, &event).await {
            problems.push(format!("{label}: sequential run failed: {err}"));
        }
        let sequential_writes = app.aws.calls().ec2_writes().len();
        let reference = world.snapshot(&pcx).await;
        // Ten cold starts at once.
        let pcx = precondition(&mut world, *door).await;
        let event = instantiate(sample, &world, &pcx);
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..times {
            let app = world.app().await;
            let (door, event) = (*door, event.clone());
            set.spawn(async move {
                let result = crate::support::outcome_kinds(door, &app, &event).await;
                (result, app.aws.calls().ec2_writes().len())
            });
        }
        let mut writes = 0;
        let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
        while let Some(joined) = set.join_next().await {
            let (result, w) = joined.unwrap_or_else(|e| panic!("{label}: a run panicked: {e}"));
            writes += w;
            match result {
                Ok(outcomes) => {
                    for kind in outcomes {
                        if kind == OutcomeKind::Failed {
                            problems.push(format!("{label}: a concurrent run reported Failed"));
                        }
                        *kinds.entry(format!("{kind:?}")).or_default() += 1;
                    }
                }
                Err(err) => problems.push(format!("{label}: a concurrent run failed: {err}")),
            }
        }
        let state = world.snapshot(&pcx).await;
        if !state.duplicates().is_empty() {
            problems.push(format!("{label}: duplicates {:?}", state.duplicates()));
        }
        if state != reference {
            problems.push(format!(
                "{label}: concurrent end state differs:\n  {state:?}\n  {reference:?}"
            ));
        }
        // And then it is converged.
        let app = world.app().await;
        if let Err(err) = crate::support::outcome_kinds(*door, &app, &event).await {
            problems.push(format!("{label}: run after the burst failed: {err}"));
        }
        let after = app.aws.calls().ec2_writes();
        if !after.is_empty() {
            problems.push(format!("{label}: run after the burst wrote {after:?}"));
        }
        println!(
            "  {label:<66} x{times} at once: {writes:>2} EC2 write attempts (sequential: \
             {sequential_writes}), outcomes {kinds:?}"
        );
    }
    println!(
        "concurrent: {} bursts of {times} in {:.0} s",
        pairs.len(),
        started.elapsed().as_secs_f64()
    );
    problem_free(&problems);
}
