//! `peerwire-bench`: the figures behind docs/benchmarks.md, each printed with the command
//! that reproduces it. Every benchmark runs against a local patched moto server on loopback
//! (see docs/emulator.md) and is bounded in time and traffic.
//!
//! - `calls`: API calls per scenario at the HTTP layer, beside the formula and the minimum.
//! - `cpu`: client CPU and wall time per reconcile, peerwire vs the boto3 baseline.
//! - `size`: stripped release binary size and init time of `peering-wiring`.
//! - `rss`: peak RSS of a reconcile at 1,000 route tables per side.
//! - `write-rate`: the EC2 write rate of a 125-peer hub sweep against EC2's bucket.

mod calls;
mod cpu;
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
        #[arg(long, value_enum, default_value_t = Budget::Ec2)]
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
        #[arg(long, value_enum, default_value_t = Budget::Ec2)]
        budget: Budget,
        /// Open 10.0.0.0/8:5432 in the accepter DB group beforehand, so that no per-peer
        /// ingress rule is needed (one group holds at most 60 rules by default, in AWS and in
        /// the emulator).
        #[arg(long)]
        preopen_db_port: bool,
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
        #[arg(long, value_enum, default_value_t = Budget::Ec2)]
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
    let child = matches!(cli.command, Command::ReconcileChild { .. });
    let result = match cli.command {
        Command::Calls {
            tables,
            hub,
            budget,
        } => calls::run(&tables, hub, budget).await,
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
