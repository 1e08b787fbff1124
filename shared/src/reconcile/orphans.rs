//! Orphans: what peerwire made for peerings AWS has forgotten (about 2 hours after a
//! deletion, rejection or failure), which no event and no listing of gone peerings finds any
//! more. Part of the cleanup sweep, in every account and region the policy manages:
//!
//! - routes in blackhole state through a peering that is gone or unknown;
//! - security-group rules marked `peerwire:<pcx-id>` for such a peering.
//!
//! Only these. A person's rule without the marker stays. A person's route to a long-gone
//! peering is removed too: it is a blackhole either way, and carries no traffic.

use super::report::Reporter;
use super::{Location, Reconciled, Run};
use crate::aws::observe::{self, Viewer};
use crate::error::Result;
use crate::model::{AccountId, PeeringId, Region, Sides};
use crate::plan::cleanup::{plan_cleanup, referenced_peerings};
use crate::plan::Plan;

impl Run<'_> {
    /// Finds and removes the orphans of every managed account and region; `skip` are the
    /// peerings this sweep already cleaned.
    pub(super) async fn clean_orphans(&self, skip: &[PeeringId], log: &Reporter<'_>) {
        for (account, region) in self.managed_places() {
            let location = Location {
                account: account.clone(),
                region: region.clone(),
            };
            match self.orphans_in(&location, skip).await {
                Ok(found) => {
                    for reconciled in found {
                        log.reconciled(reconciled).await;
                    }
                }
                Err(err) => log.failed(self, None, Some(&location), err).await,
            }
        }
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

    async fn orphans_in(&self, at: &Location, skip: &[PeeringId]) -> Result<Vec<Reconciled>> {
        let ec2 = self
            .app
            .aws
            .ec2(at.account.as_str(), at.region.as_str())
            .await;
        let leftovers = observe::orphan_candidates(&ec2).await?;
        let candidates: Vec<PeeringId> = referenced_peerings(&leftovers)
            .into_iter()
            .filter(|id| !skip.contains(id))
            .collect();
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let viewer = Viewer {
            account: &at.account,
            region: &at.region,
        };
        let known = observe::peerings_by_ids(&ec2, viewer, &candidates).await?;
        let side = super::side_of(&self.policy, &at.account);
        let owners = Sides::from_fn(|_| at.clone());
        let mut found = Vec::new();
        for id in candidates {
            // Still shown and not gone: not an orphan (a live peering is never cleaned).
            if known.iter().any(|p| p.id == id && !p.status.is_gone()) {
                continue;
            }
            let plan = Plan {
                steps: plan_cleanup(&id, side, &leftovers),
                findings: Vec::new(),
            };
            if plan.steps.is_empty() {
                continue;
            }
            tracing::info!(peering_id = %id, account = %at.account, "removing what is left of a forgotten peering");
            found.push(self.finish_clean(id, None, owners.clone(), plan).await?);
        }
        Ok(found)
    }
}
