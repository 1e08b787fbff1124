//! Critical-path depth at AWS's latency: each scenario runs twice on a fresh world, once with
//! no delay and once with the emulator's `latency_ms` added to every call; the depth is
//! (wall at L − wall at 0) / L, the number of round trips one after the other. Calls are
//! counted as in `calls`.

use std::time::{Duration, Instant};

use peerwire::doors::cleanup::handle_cleanup_event;
use peerwire::doors::request::handle_request_event;
use peerwire::doors::wiring::handle_wiring_event;
use peerwire::App;
use peerwire_emulator::samples;
use peerwire_emulator::scenario::{SeededVpc, REQUESTER_ACCOUNT};

use crate::calls::Tally;
use crate::world::{accepted_event, requested_event, Budget, Result, World};

/// One scenario, ready to run: its world, the product, and the event.
struct Prepared {
    world: World,
    app: App,
    event: serde_json::Value,
    run: Door,
}

#[derive(Clone, Copy)]
enum Door {
    Request,
    Wiring,
    Cleanup,
}

/// What to measure.
#[derive(Clone, Copy)]
enum Scenario {
    /// A request accepted and wired by the request function (cold process).
    AcceptAndWire { tables: usize },
    /// A peering a person accepted, wired by the wiring function (cold process).
    FreshWiring { tables: usize },
    /// The wiring function again on the wired peering (warm process).
    Converged { tables: usize },
    /// A wired peering deleted by its requester, cleaned by the cleanup function (cold).
    Cleanup { tables: usize },
}

impl Scenario {
    fn label(self) -> String {
        match self {
            Self::AcceptAndWire { tables } => {
                format!("accept and wire, {tables} route tables per side (cold)")
            }
            Self::FreshWiring { tables } => {
                format!("fresh wiring, {tables} route table(s) per side (cold)")
            }
            Self::Converged { tables } => {
                format!("converged re-check, {tables} route tables per side (warm)")
            }
            Self::Cleanup { tables } => format!("cleanup, {tables} route tables per side (cold)"),
        }
    }

    /// The depth of this design: which answers each call waits for (see the module docs of
    /// `shared/src/reconcile`), and the least any design could reach reading only what it
    /// must (`theoretical`).
    fn depths(self) -> (usize, usize) {
        match self {
            // STS(accepter) → the request → STS(requester) → its own view, its VPC's routes,
            // the accepter VPC and its siblings at once → accept → the live re-read → the DNS
            // attributes and groups of both sides at once → quotas → writes at once →
            // PutEvents. With the requester's role assumed and its view read alongside the
            // first describe (the event names the requester), and the quotas read with the
            // sides: 8.
            Self::AcceptAndWire { .. } => (10, 8),
            // STS → the peering → STS(requester) → its view → both sides at once → quotas →
            // writes → PutEvents; the requester's role and view alongside the first describe
            // (when the event names the requester) and quotas with the sides: 6.
            Self::FreshWiring { .. } => (8, 6),
            // The peering → the requester's view → both sides at once; both views at once: 2.
            Self::Converged { .. } => (3, 2),
            // STS → the peering → both sides' leftovers at once (the requester's after its
            // STS) → the live twin check → revokes and deletes at once → PutEvents. With the
            // requester's role assumed alongside the first describe and the live twin read
            // with the leftovers: 5.
            Self::Cleanup { .. } => (7, 5),
        }
    }
}

/// Seeds `scenario`'s world at no latency and brings it to the state the measured event
/// meets.
async fn prepare(scenario: Scenario, budget: Budget) -> Result<Prepared> {
    let world = World::start().await?;
    let tables = match scenario {
        Scenario::AcceptAndWire { tables }
        | Scenario::FreshWiring { tables }
        | Scenario::Converged { tables }
        | Scenario::Cleanup { tables } => tables,
    };
    let (requester, accepter) = world.seed_pair(tables).await?;
    let pcx = world.request(&requester, &accepter).await?;
    let (event, run, app) = match scenario {
        Scenario::AcceptAndWire { .. } => (
            requested_event(1, &pcx, &requester, &accepter),
            Door::Request,
            world.app(budget, None).await,
        ),
        Scenario::FreshWiring { .. } => {
            world.accept(&accepter, &pcx).await?;
            (
                accepted_event(1, &pcx),
                Door::Wiring,
                world.app(budget, None).await,
            )
        }
        Scenario::Converged { .. } => {
            world.accept(&accepter, &pcx).await?;
            let app = world.app(budget, None).await;
            handle_wiring_event(&app, &accepted_event(1, &pcx)).await?;
            app.aws.calls().take();
            (accepted_event(2, &pcx), Door::Wiring, app)
        }
        Scenario::Cleanup { .. } => {
            world.accept(&accepter, &pcx).await?;
            wire_then_delete(&world, budget, &requester, &pcx).await?;
            let event = samples::cloudtrail_ec2_call(
                &samples::event_id(3),
                "DeleteVpcPeeringConnection",
                REQUESTER_ACCOUNT,
                &requester.region,
                serde_json::json!({ "vpcPeeringConnectionId": pcx }),
            );
            (event, Door::Cleanup, world.app(budget, None).await)
        }
    };
    Ok(Prepared {
        world,
        app,
        event,
        run,
    })
}

async fn wire_then_delete(
    world: &World,
    budget: Budget,
    requester: &SeededVpc,
    pcx: &str,
) -> Result<()> {
    let setup = world.app(budget, None).await;
    handle_wiring_event(&setup, &accepted_event(2, pcx)).await?;
    peerwire_emulator::scenario::delete_peering_as_owner(&world.seeder, requester, pcx).await?;
    Ok(())
}

/// Runs the prepared event with `latency` added to every call: wall time and calls.
async fn measure(prepared: Prepared, latency: Duration) -> Result<(Duration, Tally)> {
    let Prepared {
        world,
        app,
        event,
        run,
    } = prepared;
    world
        .emulator
        .set("latency_ms", &latency.as_millis().to_string())
        .await?;
    let started = Instant::now();
    match run {
        Door::Request => {
            handle_request_event(&app, &event).await?;
        }
        Door::Wiring => {
            handle_wiring_event(&app, &event).await?;
        }
        Door::Cleanup => {
            handle_cleanup_event(&app, &event).await?;
        }
    }
    let wall = started.elapsed();
    Ok((wall, Tally::of(&app.aws.calls().take())))
}

/// Runs every scenario at no latency and at `latency_ms`, `runs` times each (the median wall
/// time counts), and prints the table.
pub async fn run(latency_ms: u64, tables: &[usize], runs: usize, budget: Budget) -> Result<()> {
    let latency = Duration::from_millis(latency_ms);
    let mut scenarios = vec![Scenario::AcceptAndWire { tables: 4 }];
    scenarios.extend(tables.iter().map(|&t| Scenario::FreshWiring { tables: t }));
    scenarios.push(Scenario::Converged { tables: 4 });
    scenarios.push(Scenario::Cleanup { tables: 4 });
    println!("## Critical path at {latency_ms} ms per call\n");
    println!(
        "| scenario | calls (reads + writes + events) | wall at 0 ms | wall at {latency_ms} ms | depth = Δwall / {latency_ms} ms | this design's depth | theoretical minimum depth |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    for scenario in scenarios {
        eprintln!("[latency] {} …", scenario.label());
        let mut zero = Vec::new();
        let mut slow = Vec::new();
        let mut tally = Tally::default();
        for _ in 0..runs.max(1) {
            let (wall, _) = measure(prepare(scenario, budget).await?, Duration::ZERO).await?;
            zero.push(wall);
            let (wall, counted) = measure(prepare(scenario, budget).await?, latency).await?;
            slow.push(wall);
            tally = counted;
        }
        let (zero, slow) = (median(&mut zero), median(&mut slow));
        let depth = (slow.as_secs_f64() - zero.as_secs_f64()) / latency.as_secs_f64();
        let (design, minimum) = scenario.depths();
        let (reads, writes, events) = tally.kinds();
        println!(
            "| {} | {} ({reads} + {writes} + {events}) | {:.2} s | {:.2} s | {depth:.1} | {design} | {minimum} |",
            scenario.label(),
            tally.total,
            zero.as_secs_f64(),
            slow.as_secs_f64(),
        );
    }
    println!(
        "\nThe depth is measured: the extra wall time the latency adds, in round trips. Calls in \
         flight at once cost one latency together (the emulator's server answers each request \
         on its own thread), so the depth is the longest chain of calls that wait for each \
         other. {runs} run(s) per scenario and latency, median wall time; write budget {budget}."
    );
    Ok(())
}

fn median(walls: &mut [Duration]) -> Duration {
    walls.sort();
    walls[walls.len() / 2]
}
