//! `peerwire`: the command line over the same core as the Lambdas.

mod demo;
mod emulator;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "peerwire",
    version,
    about = "Policy-gated cross-account VPC peering"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the local emulator, seed two accounts and play a peering request through the
    /// real request handler, printing the decision and the outcome events.
    Demo(demo::DemoArgs),
    /// Start a seeded emulator that stays up, and write sample events carrying its ids, for
    /// `cargo lambda watch` and `cargo lambda invoke`.
    Emulator(emulator::EmulatorArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(args).await,
        Command::Emulator(args) => emulator::run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("peerwire: {message}");
            ExitCode::FAILURE
        }
    }
}
