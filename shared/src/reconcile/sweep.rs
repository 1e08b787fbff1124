//! A sweep: every peering of the policy's accepter scopes in the statuses the run's phases
//! work on. The safety net behind every event: whatever an event missed, the next sweep finds.
//!
//! - Listing: one filtered, paged describe per accepter account and region.
//! - Bounded parallelism: up to [`CONCURRENCY`] peerings at once. Writes of one account and
//!   region still go through that account's token bucket, and the snapshot locks a side while
//!   a peering of it is planned and applied.
//! - Deadline: no peering is started when less than [`SAFETY_MARGIN`] is left before the
//!   function's deadline; those not reached are reported, and the next run starts with them.

use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};

use super::locate::Located;
use super::report::Reporter;
use super::{Location, Run};
use crate::aws::observe::{self, Viewer};
use crate::model::Peering;

/// Peerings reconciled at once. The writes of an account and region are paced by its bucket
/// whatever this is; reads of different sides overlap.
pub const CONCURRENCY: usize = 8;

/// How long the list of peerings a sweep did not reach is kept for the next sweep.
const CURSOR_LIFE: Duration = Duration::from_secs(24 * 3600);

/// Time kept back before the deadline: enough to finish the peerings in flight (a few calls
/// each, bounded by the SDK's 30 s operation timeout in the worst case) and publish.
pub const SAFETY_MARGIN: Duration = Duration::from_secs(20);

/// Every peering in the phases' statuses, reconciled and reported.
pub(super) async fn sweep(run: &Run<'_>, log: &Reporter<'_>) {
    let statuses = run.mode.phases.sweep_statuses();
    let mut peerings: Vec<Peering> = Vec::new();
    for (account, region) in run.policy.accepter_regions() {
        let ec2 = run.app.aws.ec2(account.as_str(), region.as_str()).await;
        let viewer = Viewer {
            account: &account,
            region: &region,
        };
        match observe::peerings_in_status(&ec2, viewer, &statuses).await {
            Ok(found) => {
                tracing::info!(%account, %region, peerings = found.len(), "sweep found peerings");
                peerings.extend(found);
            }
            Err(err) => {
                let location = Location { account, region };
                log.failed(run, None, Some(&location), err).await;
            }
        }
    }
    let started = Instant::now();
    let listed: Vec<_> = peerings.iter().map(|p| p.id.clone()).collect();
    // What the last sweep did not reach goes first, so that no peering starves behind a
    // deadline.
    let cursor = format!("not-reached#{}", run.mode.changed.detail_type());
    let first = match run.app.ledger.ids(&cursor).await {
        Ok(ids) => ids,
        Err(err) => {
            tracing::warn!(%err, "the sweep cursor could not be read; starting from the top");
            Vec::new()
        }
    };
    peerings.sort_by_key(|p| !first.iter().any(|id| id == p.id.as_str()));
    let not_reached: Vec<Option<String>> = stream::iter(peerings)
        .map(|peering| async move {
            if too_late(run.deadline) {
                let id = peering.id.to_string();
                log.not_reached(peering.id).await;
                Some(id)
            } else {
                run.reconcile_and_record(Located::Peering(Box::new(peering)), log, false)
                    .await;
                None
            }
        })
        .buffered(CONCURRENCY)
        .collect()
        .await;
    let not_reached: Vec<String> = not_reached.into_iter().flatten().collect();
    if !run.mode.dry_run {
        if let Err(err) = run
            .app
            .ledger
            .set_ids(&cursor, &not_reached, CURSOR_LIFE)
            .await
        {
            tracing::warn!(%err, "the sweep cursor could not be written");
        }
    }
    if run.mode.phases.clean && !too_late(run.deadline) {
        run.clean_orphans(&listed, log).await;
    }
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "sweep done"
    );
}

/// Whether a new peering would risk running past the deadline.
fn too_late(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| d.saturating_duration_since(Instant::now()) < SAFETY_MARGIN)
}
