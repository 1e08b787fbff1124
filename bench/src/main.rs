//! `peerwire-bench`: the figures behind docs/benchmarks.md, each printed with the command
//! that reproduces it. Every benchmark runs against a local patched moto server on loopback
//! (see docs/emulator.md) and is bounded in time and traffic.
//!
//! - `calls`: API calls per scenario at the HTTP layer, beside the formula and the minimum.
//! - `cpu`: client CPU and wall time per reconcile, peerwire vs the boto3 baseline.
//! - `size`: stripped release binary size and init time of `peering-wiring`.
//! - `rss`: peak RSS of a reconcile at 1,000 route tables per side.
//! - `write-rate`: the EC2 write rate of a 125-peer hub sweep against EC2's bucket.
//! - `hub`: a hub of 500 peerings across 50 accounts and 2 regions: calls against the
//!   minimum, wall time against the write bucket's floor, peak RSS, a deadline, faults.

mod calls;
mod cpu;
mod hub;
mod hub_sweep;
mod latency;
mod procfs;
mod rate;
mod record;
mod rss;
mod size;
mod world;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::world::Budget;

#[derive(Debug, Parser)]
#[command(
    name = "peerwire-bench",
    about = "peerwire benchmarks against the local emulator"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// API calls per scenario (accept, fresh wiring, converged re-check, hub sweeps).
    Calls {
        /// Route tables per side for the fresh-wiring scenarios.
        #[arg(long, value_delimiter = ',', default_value = "1,4,50,200")]
        tables: Vec<usize>,
        /// Peerings in the hub scenario (0 skips it).
        #[arg(long, default_value_t = 50)]
        hub: usize,
        /// Write budget of the product's EC2 clients.
        #[arg(long, default_value = "ec2")]
        budget: Budget,
    },
    /// Critical-path depth: each scenario at no latency and with a fixed delay added to every
    /// call at the emulator; the depth is the extra wall time in round trips.
    Latency {
        /// The delay per call, milliseconds.
        #[arg(long, default_value_t = 50)]
        latency_ms: u64,
        /// Route tables per side for the fresh-wiring scenarios.
        #[arg(long, value_delimiter = ',', default_value = "1,4,50,200")]
        tables: Vec<usize>,
        /// Runs per scenario and latency (median wall time).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        #[arg(long, default_value = "ec2")]
        budget: Budget,
    },
    /// Client CPU and wall time per reconcile, peerwire vs the boto3 baseline, side by side.
    Cpu {
        /// Samples per implementation.
        #[arg(long, default_value_t = 9)]
        iterations: usize,
        /// Route tables per side.
        #[arg(long, default_value_t = 4)]
        tables: usize,
    },
    /// Stripped size and init time of the release `peering-wiring` binary.
    Size {
        /// The binary (default: the workspace's target/release/peering-wiring).
        #[arg(long)]
        binary: Option<PathBuf>,
        /// Timed starts.
        #[arg(long, default_value_t = 20)]
        runs: usize,
    },
    /// Peak RSS of one reconcile at many route tables per side, in a child process.
    Rss {
        #[arg(long, default_value_t = 1000)]
        tables: usize,
        /// Skip the boto3 baseline.
        #[arg(long)]
        no_baseline: bool,
    },
    /// EC2 write rate of one hub wiring sweep, per account, against EC2's bucket.
    WriteRate {
        /// Active peerings in the hub.
        #[arg(long, default_value_t = 125)]
        peers: usize,
        /// Route tables per VPC.
        #[arg(long, default_value_t = 1)]
        tables: usize,
        #[arg(long, default_value = "ec2")]
        budget: Budget,
        /// Open 10.0.0.0/8:5432 in the accepter DB group beforehand, so that no per-peer
        /// ingress rule is needed (one group holds at most 60 rules by default, in AWS and in
        /// the emulator).
        #[arg(long)]
        preopen_db_port: bool,
    },
    /// A hub of many peerings across accounts and regions: calls per sweep against the
    /// minimum, wall time against the write bucket's floor, peak RSS, a sweep cut short by
    /// its deadline, and injected faults. Several minutes; `--peerings 20` is a quick smoke run.
    Hub {
        /// Peerings, spread evenly over the accounts and regions.
        #[arg(long, default_value_t = 500)]
        peerings: usize,
        /// Requester accounts (fewer when there are fewer peerings than accounts × regions).
        #[arg(long, default_value_t = 50)]
        accounts: usize,
        #[arg(long, value_delimiter = ',', default_value = "us-east-1,us-west-2")]
        regions: Vec<String>,
        /// Route tables (and subnets) per VPC, both sides.
        #[arg(long, default_value_t = 3)]
        tables: usize,
        /// Write budget per account and region: ec2 (50, 5/s), scaled (both ×4), scaled:F,
        /// unlimited.
        #[arg(long, default_value = "scaled")]
        budget: Budget,
        /// The deadline run's first sweep stops starting peerings after this fraction of the
        /// fresh sweep's wall time.
        #[arg(long, default_value_t = 0.4)]
        cut: f64,
        /// Skip the deadline run.
        #[arg(long)]
        no_deadline: bool,
        /// Skip the fault run.
        #[arg(long)]
        no_faults: bool,
        /// Seeding calls in flight.
        #[arg(long, default_value_t = 8)]
        parallel: usize,
        /// A fixed delay added to every call at the emulator once the hub is seeded (AWS's
        /// round trip; 0: none).
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
    },
    /// Internal: sweeps of the wiring door in a fresh process, for `hub`.
    #[command(hide = true)]
    HubSweep {
        #[arg(long)]
        endpoint: String,
        #[arg(long)]
        policy: PathBuf,
        #[arg(long)]
        bus: String,
        #[arg(long)]
        ledger_table: Option<String>,
        #[arg(long, default_value = "ec2")]
        budget: Budget,
        #[arg(long, default_value_t = 1)]
        sweeps: usize,
        /// The first sweep's deadline, seconds from its start.
        #[arg(long)]
        deadline_secs: Option<f64>,
        /// Pause between sweeps.
        #[arg(long, default_value_t = 0.0)]
        pause_secs: f64,
        #[arg(long, default_value_t = 1)]
        event_base: usize,
        /// One `peerwire status` survey (every phase, dry run) instead of the sweeps.
        #[arg(long)]
        survey: bool,
    },
    /// Internal: one reconcile in a fresh process, for `rss`.
    #[command(hide = true)]
    ReconcileChild {
        #[arg(long)]
        endpoint: String,
        #[arg(long)]
        policy: PathBuf,
        #[arg(long)]
        event: PathBuf,
        #[arg(long, default_value = "ec2")]
        budget: Budget,
        #[arg(long, default_value_t = 1)]
        repeat: usize,
    },
}

/// The command line that reproduces this run.
fn reproduce() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let release = if cfg!(debug_assertions) {
        ""
    } else {
        " --release"
    };
    format!("cargo run{release} -p peerwire-bench -- {}", args.join(" "))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let child = matches!(
        cli.command,
        Command::ReconcileChild { .. } | Command::HubSweep { .. }
    );
    let result = match cli.command {
        Command::Calls {
            tables,
            hub,
            budget,
        } => calls::run(&tables, hub, budget).await,
        Command::Latency {
            latency_ms,
            tables,
            runs,
            budget,
        } => latency::run(latency_ms, &tables, runs, budget).await,
        Command::Cpu { iterations, tables } => cpu::run(iterations.max(1), tables).await,
        Command::Size { binary, runs } => size::run(binary, runs.max(1)).await,
        Command::Rss {
            tables,
            no_baseline,
        } => rss::run(tables, !no_baseline).await,
        Command::WriteRate {
            peers,
            tables,
            budget,
            preopen_db_port,
        } => rate::run(peers, tables, budget, preopen_db_port).await,
        Command::Hub {
            peerings,
            accounts,
            regions,
            tables,
            budget,
            cut,
            no_deadline,
            no_faults,
            parallel,
            latency_ms,
        } => match hub::Shape::new(peerings, accounts, regions, tables) {
            Ok(shape) => {
                hub::run(hub::Args {
                    shape,
                    budget,
                    cut,
                    deadline: !no_deadline,
                    faults: !no_faults,
                    parallel,
                    latency_ms,
                })
                .await
            }
            Err(err) => Err(err),
        },
        Command::HubSweep {
            endpoint,
            policy,
            bus,
            ledger_table,
            budget,
            sweeps,
            deadline_secs,
            pause_secs,
            event_base,
            survey,
        } => {
            hub_sweep::child(hub_sweep::ChildArgs {
                endpoint,
                policy,
                bus,
                ledger_table,
                budget,
                sweeps,
                deadline_secs,
                pause_secs,
                event_base,
                survey,
            })
            .await
        }
        Command::ReconcileChild {
            endpoint,
            policy,
            event,
            budget,
            repeat,
        } => rss::child(&endpoint, policy, event, budget, repeat).await,
    };
    match result {
        Ok(()) => {
            if !child {
                println!("\nReproduce: `{}`", reproduce());
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("peerwire-bench: {err}");
            ExitCode::FAILURE
        }
    }
}
