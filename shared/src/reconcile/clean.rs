//! The clean phase: when a peering is gone (deleted, rejected, failed, expired, or forgotten
//! by AWS), remove on each side the routes through that peering to a CIDR of the peer (the
//! only routes peerwire makes) and the security-group rules peerwire made for it, recognised by
//! their exact description marker. Everything else stays and is reported, including a rule a
//! person added for the same CIDR and a person's narrower route.

use super::{apply, side_of, Cleaned, LeftAlone, Phases, Reconciled, Run, StepResult};
use crate::aws::observe;
use peerwire_core::error::{Error, Result};
use peerwire_core::model::{
    HostedZone, Leftovers, Location, Peering, PeeringId, PeeringRef, PeeringStatus, Side, Sides,
};
use peerwire_core::outcome::{Outcome, OutcomeError, OutcomeKind};
use peerwire_core::plan::{cleanup, zones, Finding, Plan};
use peerwire_core::policy::Wiring;

impl Run<'_> {
    /// The clean phase on a gone peering: each managed side's routes through it and
    /// peerwire's marked rules for it; never anything else, never on a live peering.
    ///
    /// Each side is read and cleaned on its own: when one side's member role is missing or
    /// denied, the other side is still cleaned, and the failure is reported. A side the
    /// matching rule does not manage (`manage: false`) is not even read.
    pub(super) async fn clean(&self, peering: Peering) -> Result<Reconciled> {
        let membership = self.membership(&peering.sides.requester.account).await?;
        let wiring = self
            .policy
            .wiring_for(&peering, &membership)
            .map(|(_, wiring)| wiring.clone());
        let mut plan = Plan::default();
        let mut unreachable = None;
        let mut read = Vec::new();
        let owners = Location::owners(&peering);
        // Both sides are read at once: neither read waits for the other's answer.
        let reads = peering.sides.iter().map(|(side, view)| {
            let (wiring, owners, peering_id) = (&wiring, &owners, &peering.id);
            async move {
                let managed = wiring.as_ref().is_none_or(|w| w.side(side).manage);
                if !managed || !self.manages(&view.account).await? {
                    return Ok(None);
                }
                let ec2 = self.app.aws.ec2(&owners[side]).await;
                let leftovers = observe::leftovers(&ec2, peering_id, Some(&view.vpc_id)).await;
                Ok::<_, Error>(Some((side, view, leftovers)))
            }
        });
        for found in futures_util::future::try_join_all(reads).await? {
            let Some((side, view, leftovers)) = found else {
                continue;
            };
            let leftovers = match leftovers {
                Ok(leftovers) => leftovers,
                Err(err) if err.is_transient() => return Err(err),
                Err(err) => {
                    tracing::warn!(peering_id = %peering.id, %side, %err, "side not cleaned");
                    plan.findings.push(Finding::SideUnreachable {
                        side,
                        account: view.account.clone(),
                        error: err.to_string(),
                    });
                    unreachable.get_or_insert(err);
                    continue;
                }
            };
            read.push((side, leftovers));
        }
        // The peering's CIDRs as AWS still shows them, and whatever the leftovers prove.
        let views: Vec<&Leftovers> = read.iter().map(|(_, leftovers)| leftovers).collect();
        let mut ends = cleanup::peering_ends(&peering.id, &views);
        ends.extend(
            peering
                .sides
                .iter()
                .flat_map(|(_, view)| view.cidrs.iter().copied()),
        );
        for (side, leftovers) in &read {
            let peer = &peering.sides[side.other()].account;
            let side_plan =
                cleanup::plan_side_cleanup(&peering.id, *side, Some(peer), leftovers, &ends);
            plan.steps.extend(side_plan.steps);
            plan.findings.extend(side_plan.findings);
        }
        if let Some((side, _)) = read.first() {
            if plan.steps.iter().any(|s| s.rule_change().is_some()) {
                let live = self.live_twin(&peering, &owners[*side]).await?;
                if let Some(live) = live {
                    cleanup::keep_rules_for(&mut plan, &live);
                }
            }
        }
        if let Some(wiring) = &wiring {
            let zones = self.zone_cleanup(&peering, wiring).await?;
            plan.steps.extend(zones.steps);
            plan.findings.extend(zones.findings);
        }
        let mut reconciled = self
            .finish_clean(peering.id.clone(), Some(peering), owners, plan)
            .await?;
        // An unreachable side is a permanent failure a person must fix (the member role):
        // reported once, with AWS's code, while the reachable side is cleaned.
        if let (Reconciled::Cleaned(cleaned), Some(err)) = (&mut reconciled, &unreachable) {
            let Cleaned {
                peering_id,
                peering,
                plan,
                outcome,
                ..
            } = cleaned.as_mut();
            let outcome = outcome.get_or_insert_with(|| {
                let mut outcome = match peering {
                    Some(p) => self.outcome(OutcomeKind::Failed, p),
                    None => Outcome::about_id(
                        OutcomeKind::Failed,
                        Some(peering_id),
                        self.trigger,
                        &self.correlation_id,
                    ),
                };
                outcome
                    .reasons
                    .extend(plan.findings.iter().map(ToString::to_string));
                outcome.findings = plan.findings.clone();
                outcome
            });
            outcome.kind = OutcomeKind::Failed;
            outcome.error.get_or_insert_with(|| OutcomeError::from(err));
        }
        Ok(reconciled)
    }

    /// A peering AWS no longer shows (it forgets deleted ones after about 2 hours): only the
    /// account that reported it can be cleaned, on the side that account is.
    pub(super) async fn forgotten(&self, reference: &PeeringRef) -> Result<Reconciled> {
        let id = reference.peering_id.clone();
        if !self.mode.phases.clean {
            let why = format!(
                "peering {} is not visible in account {} region {}",
                reference.peering_id, reference.account, reference.region
            );
            let outcome = (self.mode.phases == Phases::DECIDE).then(|| {
                let mut outcome = Outcome::about_id(
                    OutcomeKind::Skipped,
                    Some(&id),
                    self.trigger,
                    &self.correlation_id,
                );
                outcome.observed_status = Some(PeeringStatus::NotFound);
                outcome.reasons.push(why.clone());
                outcome
            });
            return Ok(Reconciled::LeftAlone(Box::new(LeftAlone {
                peering_id: id,
                peering: None,
                why,
                rule: None,
                outcome,
            })));
        }
        let side = side_of(&self.policy, &reference.account);
        let ec2 = self.app.aws.ec2(&Location::of_ref(reference)).await;
        let leftovers = observe::leftovers(&ec2, &id, None).await?;
        let ends = cleanup::peering_ends(&id, &[&leftovers]);
        let plan = cleanup::plan_side_cleanup(&id, side, None, &leftovers, &ends);
        let owners = Sides::from_fn(|_| Location::of_ref(reference));
        self.finish_clean(id, None, owners, plan).await
    }

    /// A live (or pending) peering between the same two VPCs as the gone `peering`, read as
    /// `at` sees it: one filtered describe, made only when the cleanup would revoke rules.
    async fn live_twin(&self, peering: &Peering, at: &Location) -> Result<Option<PeeringId>> {
        let ec2 = self.app.aws.ec2(at).await;
        let between = observe::peerings_between(
            &ec2,
            at,
            &peering.sides.requester.vpc_id,
            &peering.sides.accepter.vpc_id,
            &["active", "provisioning", "pending-acceptance"],
        )
        .await?;
        Ok(between
            .into_iter()
            .map(|p| p.id)
            .find(|id| *id != peering.id))
    }

    /// The zone associations peerwire recorded for the gone `peering`'s peer VPCs that no
    /// live peering of those VPCs still needs: per zone owner, one `GetHostedZone` per zone
    /// and one `ListTagsForResources`; per recorded association, the peer VPC's live peerings
    /// (two filtered describes).
    async fn zone_cleanup(&self, peering: &Peering, wiring: &Wiring) -> Result<Plan> {
        let mut plan = Plan::default();
        for owner in Side::BOTH {
            let zones = &wiring.side(owner).private_hosted_zones;
            let view = &peering.sides[owner];
            if zones.is_empty() || !self.manages(&view.account).await? {
                continue;
            }
            let route53 = self
                .app
                .aws
                .route53(&Location::owners(peering)[owner])
                .await;
            let peer_vpc = &peering.sides[owner.other()].vpc_id;
            for zone in observe::describe_zones(&route53, zones).await? {
                if !zone.associated_by_peerwire.contains(peer_vpc) {
                    continue;
                }
                let still_needed = self.zone_still_needed(peering, owner, &zone).await?;
                let zone_plan = zones::plan_zone_cleanup(peering, owner, &zone, still_needed);
                plan.steps.extend(zone_plan.steps);
                plan.findings.extend(zone_plan.findings);
            }
        }
        Ok(plan)
    }

    /// Whether another live peering of the gone `peering`'s peer VPC names `zone` too.
    async fn zone_still_needed(
        &self,
        peering: &Peering,
        owner: Side,
        zone: &HostedZone,
    ) -> Result<bool> {
        let peer = &peering.sides[owner.other()];
        let at = Location::owners(peering)[owner.other()].clone();
        let ec2 = self.app.aws.ec2(&at).await;
        let live = observe::peerings_of_vpc(
            &ec2,
            &at,
            &peer.vpc_id,
            &["active", "provisioning", "pending-acceptance"],
        )
        .await?;
        for other in live.iter().filter(|p| p.id != peering.id) {
            let membership = self.membership(&other.sides.requester.account).await?;
            if let Some((_, wiring)) = self.policy.wiring_for(other, &membership) {
                if zones::needs_zone(peering, owner, zone, other, wiring) {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    pub(super) async fn finish_clean(
        &self,
        peering_id: PeeringId,
        peering: Option<Peering>,
        owners: Sides<Location>,
        plan: Plan,
    ) -> Result<Reconciled> {
        for finding in &plan.findings {
            tracing::warn!(peering_id = %peering_id, %finding, "left for its owner");
        }
        if !self.claim(&peering_id, &plan).await? {
            return Ok(self.skipped_duplicate(peering_id, plan));
        }
        let applied = if self.mode.dry_run {
            Vec::new()
        } else {
            let applied = apply::apply(self, &owners, &plan).await;
            self.settle_claim(&peering_id, &plan, &applied).await;
            applied
        };
        let removed = applied.iter().any(|a| a.result == StepResult::Done);
        let outcome = if removed || applied.iter().any(|a| a.result.is_failure()) {
            let mut outcome = match &peering {
                Some(peering) => self.outcome(OutcomeKind::CleanedUp, peering),
                None => {
                    let mut outcome = Outcome::about_id(
                        OutcomeKind::CleanedUp,
                        Some(&peering_id),
                        self.trigger,
                        &self.correlation_id,
                    );
                    outcome.observed_status = Some(PeeringStatus::NotFound);
                    outcome
                }
            };
            let failed = apply::first_permanent_failure(&applied);
            if let Some(error) = failed {
                outcome.kind = OutcomeKind::Failed;
                outcome.error = Some(OutcomeError::from(&Error::Aws(error.clone())));
            }
            apply::describe_into(&applied, &mut outcome, "removed");
            outcome
                .reasons
                .extend(plan.findings.iter().map(ToString::to_string));
            outcome.findings = plan.findings.clone();
            Some(outcome)
        } else {
            tracing::info!(peering_id = %peering_id, "nothing left to clean up");
            None
        };
        Ok(Reconciled::Cleaned(Box::new(Cleaned {
            peering_id,
            peering,
            plan,
            applied,
            outcome,
        })))
    }
}
