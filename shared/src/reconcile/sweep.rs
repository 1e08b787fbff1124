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
use super::Run;
use crate::aws::observe;
use peerwire_core::model::{Location, Peering, PeeringStatus};
use peerwire_core::plan::request::claim_order;

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
    let peerings = list(run, log).await;
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
    let not_reached = reconcile_all(run, log, batches(sweep_order(peerings, &first)), &|| {}).await;
    // Written only when it changes: a converged hub's sweep writes nothing at all.
    if !run.mode.dry_run && (!not_reached.is_empty() || !first.is_empty()) {
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

/// Every peering the policy's accepter scopes show in the statuses the run's phases work on:
/// one filtered, paged describe per accepter account and region. A scope that cannot be listed
/// is filed in `log` against its account and region, and the others are still listed.
pub(super) async fn list(run: &Run<'_>, log: &Reporter<'_>) -> Vec<Peering> {
    let statuses = run.mode.phases.sweep_statuses();
    let mut peerings: Vec<Peering> = Vec::new();
    for (account, region) in run.policy.accepter_regions() {
        let at = Location::new(account, region);
        let ec2 = run.app.aws.ec2(&at).await;
        match observe::peerings_in_status(&ec2, &at, &statuses).await {
            Ok(found) => {
                tracing::info!(location = %at, peerings = found.len(), "sweep found peerings");
                peerings.extend(found);
            }
            Err(err) => log.failed(run, None, Some(&at), err).await,
        }
    }
    peerings
}

/// Reconciles `batches` ([`batches`]), up to [`CONCURRENCY`] at once, each result filed in
/// `log`; `done` is called once per peering reconciled. Returns the ids of the peerings not
/// started before the run's deadline.
pub(super) async fn reconcile_all(
    run: &Run<'_>,
    log: &Reporter<'_>,
    batches: Vec<Vec<Peering>>,
    done: &(dyn Fn() + Sync),
) -> Vec<String> {
    let not_reached: Vec<Vec<String>> = stream::iter(batches)
        .map(|batch| async move {
            let mut missed = Vec::new();
            for peering in batch {
                if too_late(run.deadline) {
                    missed.push(peering.id.to_string());
                    log.not_reached(peering.id).await;
                } else {
                    run.reconcile_and_record(Located::Peering(Box::new(peering)), log, false)
                        .await;
                    done();
                }
            }
            missed
        })
        // Unordered: a peering waiting on its VPC's lock must not hold a slot that a peering
        // of another VPC could use.
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    not_reached.into_iter().flatten().collect()
}

/// The order a sweep takes `peerings` in: those the last sweep did not reach first, and within
/// each group round-robin by accepter VPC. A hub's peerings of one VPC queue on that VPC's
/// lock and its account's write bucket; taking the VPCs in turn keeps every account and region
/// busy at once instead of one after the other.
pub(super) fn sweep_order(peerings: Vec<Peering>, first: &[String]) -> Vec<Peering> {
    let (missed, rest): (Vec<Peering>, Vec<Peering>) = peerings
        .into_iter()
        .partition(|p| first.iter().any(|id| id == p.id.as_str()));
    let mut ordered = round_robin(missed);
    ordered.extend(round_robin(rest));
    ordered
}

/// What the sweep runs one after the other: the pending requests of one accepter VPC, in the
/// order they claim CIDRs, so that each is decided after every request that could make it lose
/// (and sees it accepted or rejected); every other peering alone. A batch stands where its
/// first peering stood in `ordered`.
pub(super) fn batches(ordered: Vec<Peering>) -> Vec<Vec<Peering>> {
    let mut batches: Vec<Vec<Peering>> = Vec::new();
    let mut requests: Vec<((String, String, String), usize)> = Vec::new();
    for peering in ordered {
        if peering.status != PeeringStatus::PendingAcceptance {
            batches.push(vec![peering]);
            continue;
        }
        let key = vpc_of(&peering);
        match requests.iter().find(|(k, _)| *k == key) {
            Some((_, at)) => batches[*at].push(peering),
            None => {
                requests.push((key, batches.len()));
                batches.push(vec![peering]);
            }
        }
    }
    for (_, at) in &requests {
        batches[*at].sort_by(|a, b| claim_order(a).cmp(&claim_order(b)));
    }
    batches
}

/// The accepter VPC of `peering`, where it is owned.
fn vpc_of(peering: &Peering) -> (String, String, String) {
    let side = &peering.sides.accepter;
    (
        side.account.to_string(),
        side.region.to_string(),
        side.vpc_id.to_string(),
    )
}

/// `peerings` interleaved by accepter (account, region, VPC), each VPC's in their order.
fn round_robin(peerings: Vec<Peering>) -> Vec<Peering> {
    let mut queues: Vec<std::collections::VecDeque<Peering>> = Vec::new();
    let mut keys: Vec<(String, String, String)> = Vec::new();
    for peering in peerings {
        let key = vpc_of(&peering);
        match keys.iter().position(|k| *k == key) {
            Some(i) => queues[i].push_back(peering),
            None => {
                keys.push(key);
                queues.push(std::collections::VecDeque::from([peering]));
            }
        }
    }
    let mut ordered = Vec::new();
    while queues.iter().any(|q| !q.is_empty()) {
        for queue in &mut queues {
            if let Some(peering) = queue.pop_front() {
                ordered.push(peering);
            }
        }
    }
    ordered
}

/// Whether a new peering would risk running past the deadline.
fn too_late(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| d.saturating_duration_since(Instant::now()) < SAFETY_MARGIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerwire_core::testing::{id, peering, REQUESTER};

    fn at(pcx: &str, vpc: &str) -> Peering {
        let mut p = peering(REQUESTER, &["10.0.0.0/16"]);
        p.id = id(pcx);
        p.sides.accepter.vpc_id = id(vpc);
        p
    }

    #[test]
    fn the_missed_go_first_then_the_vpcs_take_turns() {
        let listed = vec![
            at("pcx-00000001", "vpc-aaaaaaaa"),
            at("pcx-00000002", "vpc-aaaaaaaa"),
            at("pcx-00000003", "vpc-aaaaaaaa"),
            at("pcx-00000004", "vpc-bbbbbbbb"),
            at("pcx-00000005", "vpc-bbbbbbbb"),
            at("pcx-00000006", "vpc-cccccccc"),
        ];
        let first = vec!["pcx-00000005".to_owned()];
        let order: Vec<String> = sweep_order(listed, &first)
            .iter()
            .map(|p| p.id.to_string())
            .collect();
        assert_eq!(
            order,
            [
                "pcx-00000005",
                "pcx-00000001",
                "pcx-00000004",
                "pcx-00000006",
                "pcx-00000002",
                "pcx-00000003"
            ]
        );
    }

    #[test]
    fn requests_of_one_vpc_are_one_batch_in_the_order_they_claim_cidrs() {
        let request = |pcx: &str, vpc: &str, expires: Option<i64>| {
            let mut p = at(pcx, vpc);
            p.status = PeeringStatus::PendingAcceptance;
            p.expires_at = expires.and_then(|t| chrono::DateTime::from_timestamp(t, 0));
            p
        };
        let mut active = at("pcx-00000009", "vpc-aaaaaaaa");
        active.status = PeeringStatus::Active;
        let ordered = vec![
            request("pcx-00000000", "vpc-aaaaaaaa", None),
            active,
            request("pcx-00000001", "vpc-aaaaaaaa", Some(2_000)),
            request("pcx-00000005", "vpc-bbbbbbbb", Some(500)),
            request("pcx-00000003", "vpc-aaaaaaaa", Some(1_000)),
            request("pcx-00000002", "vpc-aaaaaaaa", Some(1_000)),
        ];
        let ids: Vec<Vec<String>> = batches(ordered)
            .iter()
            .map(|b| b.iter().map(|p| p.id.to_string()).collect())
            .collect();
        assert_eq!(
            ids,
            [
                // The earlier expiry first, a tie by id, an unknown expiry last.
                vec![
                    "pcx-00000002",
                    "pcx-00000003",
                    "pcx-00000001",
                    "pcx-00000000"
                ],
                vec!["pcx-00000009"],
                vec!["pcx-00000005"],
            ]
        );
    }
}
