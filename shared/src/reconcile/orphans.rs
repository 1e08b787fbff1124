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

use super::report::Reporter;
use super::Run;
use crate::aws::observe;
use crate::error::Result;
use crate::model::{AccountId, Leftovers, Location, PeeringId, Region, Sides};
use crate::plan::cleanup::{peering_ends, plan_cleanup, referenced_peerings};

impl Run<'_> {
    /// Finds and removes the orphans of every managed account and region; `skip` are the
    /// peerings this sweep already cleaned. Every place is read first, so that each end of a
    /// forgotten peering can prove the other's CIDRs (its `local` routes).
    pub(super) async fn clean_orphans(&self, skip: &[PeeringId], log: &Reporter<'_>) {
        let mut places = Vec::new();
        for location in self.orphan_places().await {
            match self.orphans_in(&location, skip).await {
                Ok(Some((leftovers, orphans))) => places.push((location, leftovers, orphans)),
                Ok(None) => {}
                Err(err) => log.failed(self, None, Some(&location), err).await,
            }
        }
        let views: Vec<&Leftovers> = places.iter().map(|(_, leftovers, _)| leftovers).collect();
        for (location, leftovers, orphans) in &places {
            let side = super::side_of(&self.policy, &location.account);
            let owners = Sides::from_fn(|_| location.clone());
            for id in orphans {
                let ends = peering_ends(id, &views);
                let plan = plan_cleanup(id, side, leftovers, &ends);
                if plan.steps.is_empty() {
                    for finding in &plan.findings {
                        tracing::warn!(peering_id = %id, %finding, "left for its owner");
                    }
                    continue;
                }
                tracing::info!(peering_id = %id, account = %location.account, "removing what is left of a forgotten peering");
                match self
                    .finish_clean(id.clone(), None, owners.clone(), plan)
                    .await
                {
                    Ok(reconciled) => log.reconciled(reconciled).await,
                    Err(err) => log.failed(self, None, Some(location), err).await,
                }
            }
        }
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
