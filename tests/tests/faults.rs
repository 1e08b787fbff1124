//! Fault injection at every call: for each call a door makes in a scenario, the fault proxy
//! answers that call (and, in the sticky variants, every retry of it) with throttling, an HTTP
//! 500, a timeout, AccessDenied, or a lost response. The run must fail cleanly or retry; the
//! next fault-free run must converge to the fault-free end state, with no duplicated route or
//! rule; and the run after that must make no EC2 write.
//!
//! One emulator per test, reset (`/moto-api/reset`) and re-seeded before each injection.
//! The default tests cover every call of the accept scenario up to the accept with every fault
//! and its later calls (the inline wiring) with one fault each, and every call of wiring and
//! cleanup with one fault each (rotating). The full sweep:
//!
//! ```sh
//! cargo test -p peerwire-integration --test integration faults:: -- --ignored --nocapture
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::proxy::{Call, Fault, Plan};
use crate::support::world::{EndState, World};
use peerwire::doors::Door;
use peerwire::outcome::OutcomeKind;
use peerwire::App;
use peerwire_integration::WIRING_POLICY;
use serde_json::Value;

/// A scenario: the world it starts from and the door that gets the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    /// A pending, allowed request; the request door accepts it.
    Accept,
    /// An active peering accepted by a person; the wiring door wires both sides.
    Wiring,
    /// A wired peering the requester deleted; the cleanup door removes routes and rules.
    Cleanup,
}

impl Case {
    fn door(self) -> Door {
        match self {
            Self::Accept => Door::Request,
            Self::Wiring => Door::Wiring,
            Self::Cleanup => Door::Cleanup,
        }
    }

    /// The door that hears about the scenario next, whatever the first door did: the
    /// acceptance's own CloudTrail event reaches the wiring function even when the request
    /// function's inline wiring failed (an accepted peering is left to it, and the request
    /// function's retry skips an active peering).
    fn follower(self, world: &World, pcx: &str) -> Option<(Door, Value)> {
        match self {
            Self::Accept => Some((Door::Wiring, world.accepted_event(pcx))),
            Self::Wiring | Self::Cleanup => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Wiring => "fresh wiring",
            Self::Cleanup => "cleanup after delete",
        }
    }

    /// Resets the world into this scenario's starting state; the peering and the event.
    async fn prepare(self, world: &mut World) -> (String, Value) {
        world.reset().await;
        match self {
            Self::Accept => {
                let pcx = world.pending().await;
                let event = world.request_event(&pcx);
                (pcx, event)
            }
            Self::Wiring => {
                let pcx = world.active().await;
                let event = world.accepted_event(&pcx);
                (pcx, event)
            }
            Self::Cleanup => {
                let pcx = world.wired().await;
                world.delete(&pcx).await;
                let event = world.deleted_event(&pcx);
                (pcx, event)
            }
        }
    }
}

/// Known finding (docs/reliability.md, finding 1): an AssumeRole refused with AccessDenied
/// reaches the doors as an SDK dispatch failure ("an error occurred while loading
/// credentials"), which `AwsError::from_sdk` classifies as `Unavailable`, so the invocation
/// fails as transient and Lambda retries it instead of a `failed` outcome being reported.
/// Tolerated (and printed) while true; set to false once the classification is fixed.
const KNOWN_ASSUME_ROLE_DENIED_IS_TRANSIENT: bool = false;

/// A fault, once (the SDK's retry may absorb it) or sticky (every attempt of that call).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Variant {
    fault: Fault,
    sticky: bool,
}

const VARIANTS: [Variant; 8] = [
    Variant {
        fault: Fault::Throttle,
        sticky: false,
    },
    Variant {
        fault: Fault::Throttle,
        sticky: true,
    },
    Variant {
        fault: Fault::ServerError,
        sticky: false,
    },
    Variant {
        fault: Fault::ServerError,
        sticky: true,
    },
    Variant {
        fault: Fault::Timeout,
        sticky: false,
    },
    Variant {
        fault: Fault::Timeout,
        sticky: true,
    },
    Variant {
        fault: Fault::AccessDenied,
        sticky: false,
    },
    Variant {
        fault: Fault::LostResponse,
        sticky: false,
    },
];

impl Variant {
    fn name(self) -> String {
        if self.sticky {
            format!("{} x all attempts", self.fault.name())
        } else {
            self.fault.name().to_owned()
        }
    }
}

/// How the faulted run ended.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Ending {
    /// Ok, no `failed` outcome: retried (by the SDK) or absorbed.
    Ok,
    /// Ok with a `failed` outcome: a permanent error, reported.
    Reported(String),
    /// Err, transient: Lambda retries the invocation.
    Transient(String),
    /// Err, permanent.
    Permanent(String),
}

impl Ending {
    fn label(&self) -> String {
        match self {
            Self::Ok => "ok".into(),
            Self::Reported(t) => format!("ok+failed outcome ({t})"),
            Self::Transient(t) => format!("err transient ({t})"),
            Self::Permanent(t) => format!("err permanent ({t})"),
        }
    }
}

/// One injection and what came of it.
#[derive(Debug, Clone)]
struct Record {
    case: Case,
    index: usize,
    call: String,
    variant: Variant,
    /// Attempts that got the fault.
    faulted: usize,
    ending: Ending,
    problems: Vec<String>,
    took: Duration,
}

/// Runs `door` on its own task (a panic is caught and reported with its context) with a
/// generous time limit.
async fn run(
    app: Arc<App>,
    door: Door,
    event: &Value,
    context: &str,
) -> Result<Vec<OutcomeKind>, peerwire::Error> {
    let event = event.clone();
    let task = tokio::spawn(async move { crate::support::outcome_kinds(door, &app, &event).await });
    match tokio::time::timeout(Duration::from_secs(120), task).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => panic!("{context}: the door panicked: {join}"),
        Err(_) => panic!("{context}: the door hung for 120 s"),
    }
}

/// The fault-free run: the end state every faulted scenario must converge to, and its calls.
async fn reference(world: &mut World, case: Case) -> (EndState, Vec<Call>) {
    let (pcx, event) = case.prepare(world).await;
    world.proxy.arm(None);
    let app = world.app().await;
    let kinds = run(app, case.door(), &event, "reference run")
        .await
        .expect("fault-free run");
    assert!(!kinds.contains(&OutcomeKind::Failed), "{kinds:?}");
    let calls = world.proxy.calls();
    let state = world.snapshot(&pcx).await;
    assert!(state.duplicates().is_empty(), "{:?}", state.duplicates());
    (state, calls)
}

/// Injects `variant` at call `index` of `case`, then checks the clean failure, the
/// convergence of the next run, and that the run after that writes nothing.
async fn inject(
    world: &mut World,
    case: Case,
    index: usize,
    variant: Variant,
    reference: &EndState,
) -> Record {
    let started = Instant::now();
    let (pcx, event) = case.prepare(world).await;
    let context = format!("{} / call {index} / {}", case.name(), variant.name());
    world.proxy.arm(Some(Plan {
        at: index,
        fault: variant.fault,
        sticky: variant.sticky,
    }));
    let first = run(world.app().await, case.door(), &event, &context).await;
    let calls = world.proxy.calls();
    world.proxy.arm(None);
    let faulted: Vec<&Call> = calls.iter().filter(|c| c.fault.is_some()).collect();
    let call = calls
        .get(index)
        .map(|c| format!("{}:{}", c.service, c.operation))
        .unwrap_or_else(|| "(not reached)".into());
    let ending = match &first {
        Ok(kinds) if kinds.contains(&OutcomeKind::Failed) => Ending::Reported(format!("{kinds:?}")),
        Ok(_) => Ending::Ok,
        Err(err) if err.is_transient() => Ending::Transient(err.error_type().to_owned()),
        Err(err) => Ending::Permanent(err.error_type().to_owned()),
    };
    let mut problems = Vec::new();
    let known = KNOWN_ASSUME_ROLE_DENIED_IS_TRANSIENT
        && variant.fault == Fault::AccessDenied
        && call == "sts:AssumeRole"
        && matches!(ending, Ending::Transient(_));
    if known {
        println!("    KNOWN ISSUE ({context}): {}", ending.label());
    }
    // Clean failure: a transient fault must never surface as permanent (Lambda would not
    // retry it), and a permanent one must never ask for a retry.
    match (&ending, variant.fault.is_transient()) {
        _ if known => {}
        (Ending::Reported(_) | Ending::Permanent(_), true) => problems.push(format!(
            "transient fault ended as permanent: {} ({})",
            ending.label(),
            first
                .as_ref()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        )),
        (Ending::Transient(_), false) => problems.push(format!(
            "permanent fault asks for a retry: {} ({})",
            ending.label(),
            first
                .as_ref()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        )),
        _ => {}
    }
    // The retry, and the door that hears about it next, converge.
    let follower = case.follower(world, &pcx);
    let mut second = vec![(case.door(), event.clone())];
    second.extend(follower.clone());
    for (door, event) in &second {
        match run(world.app().await, *door, event, &context).await {
            Ok(kinds) if kinds.contains(&OutcomeKind::Failed) => problems.push(format!(
                "fault-free re-run of {door:?} reported a failure: {kinds:?}"
            )),
            Ok(_) => {}
            Err(err) => problems.push(format!("fault-free re-run of {door:?} failed: {err}")),
        }
    }
    let state = world.snapshot(&pcx).await;
    if !state.duplicates().is_empty() {
        problems.push(format!("duplicates: {:?}", state.duplicates()));
    }
    if state != *reference {
        problems.push(format!(
            "end state differs from the fault-free one:\n  got {state:?}\n  want {reference:?}"
        ));
    }
    // Converged: nothing left to write.
    for (door, event) in &second {
        let third_app = world.app().await;
        if let Err(err) = run(third_app.clone(), *door, event, &context).await {
            problems.push(format!("third run of {door:?} failed: {err}"));
        }
        let writes = third_app.aws.calls().ec2_writes();
        if !writes.is_empty() {
            problems.push(format!("third run of {door:?} wrote: {writes:?}"));
        }
    }
    Record {
        case,
        index,
        call,
        variant,
        faulted: faulted.len(),
        ending,
        problems,
        took: started.elapsed(),
    }
}

/// Runs the injections `plan` yields for `case` on one world and prints a summary.
async fn sweep(case: Case, select: impl Fn(usize, &[Call]) -> Vec<(usize, Variant)>) {
    let started = Instant::now();
    let mut world = World::start(WIRING_POLICY).await;
    let (reference, calls) = reference(&mut world, case).await;
    let ops: Vec<String> = calls
        .iter()
        .map(|c| format!("{}:{}", c.service, c.operation))
        .collect();
    println!(
        "{}: {} calls fault-free: {}",
        case.name(),
        calls.len(),
        ops.join(", ")
    );
    let mut records = Vec::new();
    for (index, variant) in select(calls.len(), &calls) {
        records.push(inject(&mut world, case, index, variant, &reference).await);
    }
    report(case, &records, started.elapsed());
    let problems: Vec<String> = records
        .iter()
        .filter(|r| !r.problems.is_empty())
        .map(|r| {
            format!(
                "call {} ({}) / {}: {}",
                r.index,
                r.call,
                r.variant.name(),
                r.problems.join("; ")
            )
        })
        .collect();
    assert!(
        problems.is_empty(),
        "{}: {} of {} injections broke an invariant:\n{}",
        case.name(),
        problems.len(),
        records.len(),
        problems.join("\n")
    );
}

fn report(case: Case, records: &[Record], elapsed: Duration) {
    let mut by_variant: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for r in records {
        *by_variant
            .entry(r.variant.name())
            .or_default()
            .entry(r.ending.label())
            .or_default() += 1;
    }
    let faulted: usize = records.iter().map(|r| r.faulted).sum();
    println!(
        "{}: {} injections ({} faulted attempts) in {:.0} s, {} with a broken invariant",
        case.name(),
        records.len(),
        faulted,
        elapsed.as_secs_f64(),
        records.iter().filter(|r| !r.problems.is_empty()).count()
    );
    for (variant, endings) in by_variant {
        let endings: Vec<String> = endings.iter().map(|(e, n)| format!("{n} {e}")).collect();
        println!("  {variant:<28} {}", endings.join(", "));
    }
    for r in records {
        println!(
            "    {:<20} {:>4.1} s  call {:>2} {:<40} {:<26} faulted {} -> {}{}",
            r.case.name(),
            r.took.as_secs_f64(),
            r.index,
            r.call,
            r.variant.name(),
            r.faulted,
            r.ending.label(),
            if r.problems.is_empty() {
                ""
            } else {
                "  BROKEN"
            }
        );
    }
}

/// Every call index with every variant.
fn everything(n: usize, _: &[Call]) -> Vec<(usize, Variant)> {
    (0..n)
        .flat_map(|i| VARIANTS.iter().map(move |v| (i, *v)))
        .collect()
}

/// Every variant at every call up to the accept (the decision, and its re-read), then one
/// variant per call, rotating: the inline wiring after it is the wiring case's calls, whose
/// full sweep is `full_sweep_wiring`.
fn through_the_accept(n: usize, calls: &[Call]) -> Vec<(usize, Variant)> {
    let accept = calls
        .iter()
        .position(|c| c.operation == "AcceptVpcPeeringConnection")
        .expect("the fault-free run accepts");
    (0..n)
        .flat_map(|i| {
            if i <= accept + 1 {
                VARIANTS.to_vec()
            } else {
                vec![VARIANTS[i % VARIANTS.len()]]
            }
            .into_iter()
            .map(move |v| (i, v))
        })
        .collect()
}

/// Every call index with one variant, rotating through them.
fn rotating(n: usize, _: &[Call]) -> Vec<(usize, Variant)> {
    (0..n).map(|i| (i, VARIANTS[i % VARIANTS.len()])).collect()
}

#[tokio::test]
async fn accept_survives_every_fault_through_the_accept_and_one_at_every_later_call() {
    sweep(Case::Accept, through_the_accept).await;
}

#[tokio::test]
#[ignore = "the full sweep takes minutes: cargo test -p peerwire-integration --test integration faults:: -- --ignored"]
async fn full_sweep_accept() {
    sweep(Case::Accept, everything).await;
}

#[tokio::test]
async fn wiring_survives_a_fault_at_every_call() {
    sweep(Case::Wiring, rotating).await;
}

#[tokio::test]
async fn cleanup_survives_a_fault_at_every_call() {
    sweep(Case::Cleanup, rotating).await;
}

#[tokio::test]
#[ignore = "the full sweep takes minutes: cargo test -p peerwire-integration --test integration faults:: -- --ignored"]
async fn full_sweep_wiring() {
    sweep(Case::Wiring, everything).await;
}

#[tokio::test]
#[ignore = "the full sweep takes minutes: cargo test -p peerwire-integration --test integration faults:: -- --ignored"]
async fn full_sweep_cleanup() {
    sweep(Case::Cleanup, everything).await;
}
