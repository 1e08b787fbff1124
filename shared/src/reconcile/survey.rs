//! A survey: the whole fleet, observed and planned exactly as a sweep of every phase would,
//! and nothing written. What `peerwire status` shows.
//!
//! The same path as the sweep, piece by piece: the sweep's listing (one filtered describe per
//! accepter account and region, every status a phase works on), its order and its bounded
//! concurrency, the per-peering reconcile with the run's snapshot (each VPC read once for all
//! its peerings), and the cleanup sweep's orphan search. The run is a dry run, so no step is
//! applied, no claim or reminder is written to the ledger and no outcome is published: the
//! calls are a converged sweep's reads. Two differences, both fewer calls: the sweep cursor is
//! not read (a survey has no deadline, so the order does not matter), and the one listing
//! covers what the three doors' sweeps list separately.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::orphans::Orphan;
use super::report::{Failure, Reporter};
use super::sweep::{batches, list, reconcile_all, sweep_order};
use super::{Mode, Phases, Reconciled, Run};
use crate::app::App;
use peerwire_core::error::Result;
use peerwire_core::model::Location;
use peerwire_core::outcome::OutcomeKind;

/// Every phase, in a dry run: what the three doors' sweeps would plan together.
pub const SURVEY: Mode = Mode {
    phases: Phases::ALL,
    changed: OutcomeKind::Wired,
    dry_run: true,
};

/// What a survey found.
#[derive(Debug, Default)]
pub struct Survey {
    /// The policy's accepter accounts and regions, whose peerings were listed.
    pub scope: Vec<Location>,
    /// Every peering listed, in the order its reconcile finished: a pending request decided,
    /// an active peering's wiring planned, a gone peering's cleanup planned, or why peerwire
    /// leaves it alone. Plans only: nothing was applied.
    pub reconciled: Vec<Reconciled>,
    /// What peerings AWS no longer shows left behind, per account and region.
    pub orphans: Vec<Orphan>,
    /// What could not be read: a peering, or a whole account and region.
    pub failures: Vec<Failure>,
}

/// How far a survey is, for a person watching it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurveyProgress {
    /// The accepter scopes are listed: `peerings` to observe and plan.
    Listed { peerings: usize },
    /// `done` of `of` peerings observed and planned.
    Planned { done: usize, of: usize },
    /// `done` of `of` accounts and regions searched for orphans.
    Searched { done: usize, of: usize },
}

/// Surveys every peering in the policy's scope under the current policy, writing nothing.
/// `progress` is told after the listing and after each peering and each place searched.
/// `Err` only when the policy cannot be loaded; what cannot be read is in
/// [`Survey::failures`], beside everything that could.
pub async fn survey(
    app: &App,
    correlation_id: &str,
    progress: &(dyn Fn(SurveyProgress) + Sync),
) -> Result<Survey> {
    let run = Run::start(app, "status", correlation_id, SURVEY).await?;
    // Observations are dropped as each peering is filed: a hub's accepter side, kept per
    // peering, would hold hundreds of MiB.
    let log = Reporter::new(app, true, false);
    let peerings = list(&run, &log).await;
    let listed: Vec<_> = peerings.iter().map(|p| p.id.clone()).collect();
    let of = peerings.len();
    progress(SurveyProgress::Listed { peerings: of });
    let planned = AtomicUsize::new(0);
    let done = || {
        let done = planned.fetch_add(1, Ordering::Relaxed) + 1;
        progress(SurveyProgress::Planned { done, of });
    };
    reconcile_all(&run, &log, batches(sweep_order(peerings, &[])), &done).await;
    let searched = |done, of| progress(SurveyProgress::Searched { done, of });
    let orphans = run.orphans(&listed, &log, &searched).await;
    // A dry run publishes nothing; a transient error is in the failures, not a retry.
    let (log, _) = log.finish().await;
    let scope = run
        .policy
        .accepter_regions()
        .into_iter()
        .map(|(account, region)| Location::new(account, region))
        .collect();
    Ok(Survey {
        scope,
        reconciled: log.reconciled,
        orphans,
        failures: log.failures,
    })
}
