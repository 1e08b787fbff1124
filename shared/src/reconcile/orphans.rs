//! Orphans: what peerwire made for peerings AWS has forgotten (about 2 hours after a
//! deletion, rejection or failure), which no event and no listing of gone peerings finds any
//! more. Part of the cleanup sweep, in every account and region the policy manages and every
//! one the ledger says peerwire wrote in (`wire::PLACES`):
//!
//! - routes in blackhole state through a peering that is gone or unknown;
//! - security-group rules marked `peerwire:<pcx-id>` for such a peering.
//!
//! Only these, and a route only when it goes to a CIDR of the peer, as the other end's `local`
//! routes or peerwire's marked rules prove it (`plan::cleanup`). A person's rule without the
//! marker stays; a route nothing proves to be peerwire's is logged for its owner, not removed.
//!
//! A rule AWS revived for a new peering of the same two VPCs is not an orphan by then: AWS
//! forgets a deleted peering after 2 hours at the earliest, and the new peering's wiring (on
//! its acceptance, and at every drift re-check) has re-marked the rules it needs for itself.

use serde::Serialize;

use super::report::Reporter;
use super::{Reconciled, Run};
use crate::aws::observe;
use peerwire_core::error::Result;
use peerwire_core::model::{AccountId, Leftovers, Location, PeeringId, Region, Side, Sides};
use peerwire_core::plan::cleanup::{peering_ends, plan_cleanup, referenced_peerings};
use peerwire_core::plan::Plan;

/// What one place holds of a peering AWS no longer shows, and what cleaning it takes: the
/// steps peerwire would apply, and the findings it leaves for the owner (a route nothing proves
/// to be peerwire's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Orphan {
    pub peering_id: PeeringId,
    /// The account and region the leftovers are in.
    pub location: Location,
    /// The side of the forgotten peering that account was on, as the policy says
    /// (the accepter when it names the account as an accepter).
    pub side: Side,
    /// Never empty: a place with nothing of the peering has no orphan.
    pub plan: Plan,
}

impl Run<'_> {
    /// Finds and removes the orphans of every managed account and region; `skip` are the
    /// peerings this sweep already cleaned. An orphan whose plan has no step (only what a
    /// person must look at) is logged for its owner.
    pub(super) async fn clean_orphans(&self, skip: &[PeeringId], log: &Reporter<'_>) {
        for orphan in self.orphans(skip, log, &|_, _| {}).await {
            let Orphan {
                peering_id,
                location,
                plan,
                ..
            } = orphan;
            if plan.steps.is_empty() {
                for finding in &plan.findings {
                    tracing::warn!(peering_id = %peering_id, %finding, "left for its owner");
                }
                continue;
            }
            tracing::info!(peering_id = %peering_id, account = %location.account, "removing what is left of a forgotten peering");
            let owners = Sides::from_fn(|_| location.clone());
            match self.finish_clean(peering_id, None, owners, plan).await {
                Ok(reconciled) => log.reconciled(reconciled).await,
                Err(err) => log.failed(self, None, Some(&location), err).await,
            }
        }
    }

    /// A peering AWS no longer shows anywhere (`peerwire apply` on a forgotten peering): what
    /// it left in every place the orphan sweep searches, removed as that sweep removes it, or
    /// planned only in a dry run. Each end's leftovers prove the other's CIDRs, so both sides
    /// are cleaned, where one place alone could prove only its own. One result per place the
    /// peering left something in; none when it left nothing. Outcomes are published as the
    /// cleanup function's are; a place that cannot be read is reported as a failure.
    pub async fn clean_forgotten(
        &self,
        peering_id: &PeeringId,
    ) -> Result<Vec<(Location, Reconciled)>> {
        let log = Reporter::new(self.app, self.mode.dry_run, true);
        let mut cleaned = Vec::new();
        let orphans = self.orphans(&[], &log, &|_, _| {}).await;
        for orphan in orphans.into_iter().filter(|o| o.peering_id == *peering_id) {
            let Orphan {
                peering_id,
                location,
                plan,
                ..
            } = orphan;
            let owners = Sides::from_fn(|_| location.clone());
            match self
                .finish_clean(peering_id.clone(), None, owners, plan)
                .await
            {
                Ok(reconciled) => {
                    log.reconciled(reconciled.clone()).await;
                    cleaned.push((location, reconciled));
                }
                Err(err) => {
                    log.failed(self, Some(&peering_id), Some(&location), err)
                        .await
                }
            }
        }
        let (_, transient) = log.finish().await;
        match transient {
            Some(err) => Err(err),
            None => Ok(cleaned),
        }
    }

    /// Every orphan of every managed account and region, with its cleanup plan; `skip` are
    /// the peerings the run has handled already. Every place is read first, so that each end
    /// of a forgotten peering can prove the other's CIDRs (its `local` routes); a place that
    /// cannot be read is filed in `log`. `read` is told (places read, places) after each.
    pub(super) async fn orphans(
        &self,
        skip: &[PeeringId],
        log: &Reporter<'_>,
        read: &(dyn Fn(usize, usize) + Sync),
    ) -> Vec<Orphan> {
        let mut places = Vec::new();
        let where_ = self.orphan_places().await;
        for (done, location) in where_.iter().enumerate() {
            match self.orphans_in(location, skip).await {
                Ok(Some((leftovers, orphans))) => {
                    places.push((location.clone(), leftovers, orphans));
                }
                Ok(None) => {}
                Err(err) => log.failed(self, None, Some(location), err).await,
            }
            read(done + 1, where_.len());
        }
        let views: Vec<&Leftovers> = places.iter().map(|(_, leftovers, _)| leftovers).collect();
        let mut found = Vec::new();
        for (location, leftovers, orphans) in &places {
            let side = super::side_of(&self.policy, &location.account);
            for id in orphans {
                let ends = peering_ends(id, &views);
                let plan = plan_cleanup(id, side, leftovers, &ends);
                if plan.steps.is_empty() && plan.findings.is_empty() {
                    continue;
                }
                found.push(Orphan {
                    peering_id: id.clone(),
                    location: location.clone(),
                    side,
                    plan,
                });
            }
        }
        found
    }

    /// Where orphans may be: the managed places, and every place the ledger says peerwire
    /// wrote in (a requester account matched by its OU, a Region the policy no longer names).
    /// A ledger that cannot be read leaves the managed places, and says so.
    async fn orphan_places(&self) -> Vec<Location> {
        let mut places: Vec<Location> = self
            .managed_places()
            .into_iter()
            .map(|(account, region)| Location::new(account, region))
            .collect();
        match self.app.ledger.ids(super::wire::PLACES).await {
            Ok(recorded) => {
                for text in recorded {
                    match text.parse::<Location>() {
                        Ok(place) if !places.contains(&place) => places.push(place),
                        Ok(_) => {}
                        Err(err) => {
                            tracing::warn!(%err, "ignoring a malformed place in the ledger")
                        }
                    }
                }
            }
            Err(err) => {
                tracing::warn!(%err, "the ledger's places are unreadable; sweeping the policy's scopes only")
            }
        }
        places
    }

    /// The accepter scopes, and each requester account some rule names in the accepters'
    /// regions (a vended account allowed by its OU is cleaned through its events).
    fn managed_places(&self) -> Vec<(AccountId, Region)> {
        let mut places = self.policy.accepter_regions();
        let regions: Vec<Region> = places.iter().map(|(_, r)| r.clone()).collect();
        for rule in &self.policy.rules {
            for account in &rule.requester_accounts {
                for region in &regions {
                    let place = (account.clone(), region.clone());
                    if !places.contains(&place) {
                        places.push(place);
                    }
                }
            }
        }
        places
    }

    /// What may be left in one place, and the peerings it references that AWS no longer
    /// shows (or shows gone); `None` when there are none.
    async fn orphans_in(
        &self,
        at: &Location,
        skip: &[PeeringId],
    ) -> Result<Option<(Leftovers, Vec<PeeringId>)>> {
        let ec2 = self.app.aws.ec2(at).await;
        let leftovers = observe::orphan_candidates(&ec2).await?;
        let candidates: Vec<PeeringId> = referenced_peerings(&leftovers)
            .into_iter()
            .filter(|id| !skip.contains(id))
            .collect();
        if candidates.is_empty() {
            return Ok(None);
        }
        let known = observe::peerings_by_ids(&ec2, at, &candidates).await?;
        // Still shown and not gone: not an orphan (a live peering is never cleaned).
        let orphans: Vec<PeeringId> = candidates
            .into_iter()
            .filter(|id| !known.iter().any(|p| &p.id == id && !p.status.is_gone()))
            .collect();
        Ok((!orphans.is_empty()).then_some((leftovers, orphans)))
    }
}
