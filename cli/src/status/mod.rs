//! `peerwire status`: every peering in the policy's scope, read live, nothing written, each
//! with its health, what is missing and the command to run next.
//!
//! The answer is the reconciler's own: a dry-run survey (`peerwire::reconcile::survey`), which
//! lists and plans exactly as the sweeps do, so that "healthy" here means "a sweep would write
//! nothing", and its calls are a converged sweep's reads.
//!
//! - `fleet.rs`: the survey's results as rows with a health and a next command (the `--json`
//!   document);
//! - `missing.rs`: a plan step as what is missing ("route 10.2.0.0/16 missing in rtb-…");
//! - `table.rs`: the table for a terminal;
//! - `html.rs`, `svg.rs`, `markup.rs`: the self-contained page and its topology picture;
//! - `progress.rs`: the progress bar while it reads.

mod fleet;
mod html;
mod markup;
mod missing;
mod progress;
mod svg;
mod table;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::Utc;
use peerwire::aws::permissions::Job;
use peerwire::reconcile::SurveyProgress;
use peerwire::App;

pub use fleet::{
    time_left, Fleet, Health, Missing, Place, ReadError, Row, Scope, SideView, SCHEMA_VERSION,
};
pub use html::render as render_html;
pub use progress::Bar;
pub use svg::render as render_svg;
pub use table::render as render_table;

use crate::diagnose::{colour_stdout, EXIT_BROKEN, EXIT_HEALTHY, EXIT_UNUSABLE};

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Print the fleet as JSON (schema: docs/schemas/status.schema.json) instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also write the fleet as one self-contained HTML page (counts, topology, table) to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// The fleet as the policy's scope shows it now, read through the member roles. `progress`
/// hears how far the reading is. `Err` is "no answer": the policy could not be loaded.
pub async fn fleet(app: &App, progress: &(dyn Fn(SurveyProgress) + Sync)) -> Result<Fleet, String> {
    let correlation_id = format!(
        "cli-status-{}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default()
    );
    let survey = peerwire::reconcile::survey(app, &correlation_id, progress)
        .await
        .map_err(|e| e.to_string())?;
    let scope = survey
        .scope
        .iter()
        .map(|at| Scope {
            account: at.account.to_string(),
            region: at.region.to_string(),
        })
        .collect();
    Ok(Fleet::new(&survey, scope, Utc::now()))
}

/// 1 when something is broken, blocked or left over; else 2 when part of the fleet could not
/// be read (the answer is incomplete); else 0.
pub fn exit_code(fleet: &Fleet) -> u8 {
    if fleet.needs_action() {
        EXIT_BROKEN
    } else if !fleet.errors.is_empty() {
        EXIT_UNUSABLE
    } else {
        EXIT_HEALTHY
    }
}

/// Writes the page to `path`.
pub fn write_html(fleet: &Fleet, path: &std::path::Path) -> Result<(), String> {
    std::fs::write(path, render_html(fleet))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// What `--json` prints.
pub fn to_json(fleet: &Fleet) -> Result<String, String> {
    serde_json::to_string_pretty(fleet).map_err(|e| e.to_string())
}

/// Runs `peerwire status`. `Err` is "no answer" (exit 2).
pub async fn run(args: StatusArgs) -> Result<ExitCode, String> {
    let app = App::from_env(Job::All).await.map_err(|e| e.to_string())?;
    let bar = Bar::for_stderr();
    let fleet = fleet(&app, &|progress| bar.show(progress)).await;
    bar.finish();
    let fleet = fleet?;
    if let Some(path) = &args.html {
        write_html(&fleet, path)?;
        crate::diagnose::progress(&format!("page written to {}", path.display()));
    }
    if args.json {
        println!("{}", to_json(&fleet)?);
    } else {
        print!("{}", render_table(&fleet, colour_stdout()));
    }
    Ok(ExitCode::from(exit_code(&fleet)))
}
