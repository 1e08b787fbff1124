//! The decide phase: accept, reject or hold a pending request by policy, and report a held
//! request once when AWS expires it.
//!
//! Observed for a decision: the accepter VPC (CIDRs and routes), the accepter VPC's other
//! peerings that hold or may hold a CIDR, the requester's own tags when a rule needs them, the
//! requester VPC when peerwire manages that side (a request that could never be wired there is
//! held, not accepted to be blocked later), and the requester account's OUs when a rule names
//! OUs. After an accept, the accepter VPC's live peerings are read once more: two colliding
//! requests accepted at once by two invocations are resolved by rolling back the later one.

use std::time::Duration;

use super::{apply, locate, Decided, Reconciled, Run};
use crate::aws::apply::{delete_peering, mark_rollback, Applied};
use peerwire_core::error::Result;
use peerwire_core::model::{Location, Peering, PeeringStatus};
use peerwire_core::outcome::{Outcome, OutcomeKind};
use peerwire_core::plan::request::{
    decide_request, plan_request, sibling_overlaps, OverlapSource, RequestFacts, Verdict,
};

/// One "approval required" per request and day: a sweep every 15 minutes must not repeat it.
const REMINDER: Duration = Duration::from_secs(24 * 3600);
/// An expired request stays visible for up to 2 days: report it once within that.
const EXPIRY_NOTICE: Duration = Duration::from_secs(3 * 24 * 3600);

impl Run<'_> {
    /// Accepts, rejects or holds a pending request.
    pub(super) async fn decide(&self, peering: Peering) -> Result<Reconciled> {
        let peering = match self.in_accepters(peering) {
            Ok(peering) => peering,
            Err(left) => return Ok(*left),
        };
        // Everything the decision reads goes out at once: the requester's own view (its
        // tags), the requester account's OUs, the accepter VPC, its sibling peerings (as the
        // run's earlier decisions left them: a sweep decides one VPC's requests one after the
        // other, in the order they claim CIDRs) and, when a rule that could apply manages the
        // requester side, the requester VPC. Only the accept waits for all of them.
        let speculative = self.policy.may_manage_requester(&peering);
        let requester_read = async {
            if speculative {
                self.snapshot.requester_network(self.app, &peering).await
            } else {
                Ok(None)
            }
        };
        // Boxed: joined, the reads are one large future, and a test runtime polls the whole
        // run on a 2 MB thread stack.
        let (tagged, membership, network, siblings, requester_read) = tokio::try_join!(
            Box::pin(self.with_requester_tags(peering.clone())),
            Box::pin(self.membership(&peering.sides.requester.account)),
            Box::pin(self.snapshot.accepter_network(self.app, &peering)),
            Box::pin(self.snapshot.siblings(self.app, &peering)),
            Box::pin(requester_read),
        )?;
        let peering = tagged;
        let requester = match self.policy.wiring_for(&peering, &membership) {
            Some((_, wiring)) if wiring.requester.manage => requester_read,
            _ => None,
        };
        let facts = RequestFacts {
            accepter: &network,
            siblings: &siblings,
            requester: requester.as_ref(),
            membership: &membership,
            approval: self.approval.as_ref(),
        };
        let decision = decide_request(&peering, &facts, &self.policy);
        tracing::info!(peering_id = %peering.id, verdict = %decision.verdict,
            rule = decision.rule.as_deref().unwrap_or(""),
            reasons = %decision.reason_lines().join("; "), "decision");
        let plan = plan_request(&peering, &decision);
        let mut decided = Decided {
            peering,
            decision,
            plan,
            applied: Vec::new(),
            outcome: None,
            accepter_network: Some(network),
            accepted_now: None,
        };
        if !self.mode.dry_run {
            let Decided {
                peering,
                decision,
                plan,
                ..
            } = &decided;
            if !self.claim(&peering.id, plan).await? {
                return Ok(self.skipped_duplicate(peering.id.clone(), decided.plan));
            }
            let mut accepted_now = None;
            let applied = apply::apply(self, &Location::owners(peering), plan).await;
            self.settle_claim(&peering.id, plan, &applied).await;
            let moved_on = apply::moved_on(&applied)?;
            let outcome = match moved_on {
                Some(why) => Some(self.re_observe(peering, &why).await?),
                None if decision.verdict == Verdict::Accept => {
                    let (rolled_back, now) = self.roll_back_if_later(peering, &siblings).await?;
                    if rolled_back.is_some() {
                        self.snapshot.decided(peering, false).await;
                    } else if applied.iter().all(|a| a.result.went_through()) {
                        // As the re-read shows it, with the requester's tags the decision read;
                        // when the re-read does not show it yet, as provisioning (re-read
                        // before it is wired).
                        let mut now = now.unwrap_or_else(|| {
                            let mut provisioning = peering.clone();
                            provisioning.status = PeeringStatus::Provisioning;
                            provisioning
                        });
                        now.tags.requester = peering.tags.requester.clone();
                        accepted_now = Some(now);
                    }
                    rolled_back
                }
                None => None,
            };
            if outcome.is_none() && matches!(decision.verdict, Verdict::Accept | Verdict::Reject) {
                self.snapshot
                    .decided(peering, decision.verdict == Verdict::Accept)
                    .await;
            }
            decided.applied = applied;
            decided.accepted_now = accepted_now;
            if outcome.is_some() {
                decided.outcome = outcome;
                return Ok(Reconciled::Decided(Box::new(decided)));
            }
        }
        let kind = match decided.decision.verdict {
            Verdict::Accept => OutcomeKind::Accepted,
            Verdict::Reject => OutcomeKind::Rejected,
            Verdict::Hold => OutcomeKind::ApprovalRequired,
            Verdict::Skip => OutcomeKind::Skipped,
        };
        let remind = kind != OutcomeKind::ApprovalRequired
            || self.approval.is_some()
            || self.mode.dry_run
            || self
                .app
                .ledger
                .claim(
                    &format!("approval-required#{}", decided.peering.id),
                    REMINDER,
                )
                .await?;
        if remind {
            let mut outcome = self.outcome(kind, &decided.peering);
            outcome.rule = decided.decision.rule.clone();
            outcome.reasons = decided.decision.reason_lines();
            if kind == OutcomeKind::Accepted {
                outcome.approved_by = self.approval.as_ref().map(|a| a.by.clone());
            }
            decided.outcome = Some(outcome);
        } else {
            tracing::info!(peering_id = %decided.peering.id, "still held; the daily reminder went out already");
        }
        Ok(Reconciled::Decided(Box::new(decided)))
    }

    /// After an accept: the accepter VPC's live peerings, once more. When another peering
    /// carrying an overlapping CIDR went live at the same time (two invocations, two requests,
    /// neither seeing the other), the earlier request stays (the earlier expiry seen before the
    /// accept; else the smaller id) and the later one is deleted again, with a `Rejected`
    /// outcome saying so.
    ///
    /// Also returns `peering` itself as the re-read shows it (status and both views' CIDRs
    /// after the accept), when it does.
    async fn roll_back_if_later(
        &self,
        peering: &Peering,
        before: &[Peering],
    ) -> Result<(Option<Outcome>, Option<Peering>)> {
        let live = self.snapshot.live_siblings(self.app, peering).await?;
        let now = live.iter().find(|p| p.id == peering.id).cloned();
        // What each sibling was when we decided: a live sibling's expiry is no longer shown.
        let as_decided: Vec<Peering> = live
            .into_iter()
            .map(|mut sibling| {
                if let Some(seen) = before.iter().find(|b| b.id == sibling.id) {
                    sibling.expires_at = seen.expires_at;
                }
                sibling
            })
            .collect();
        let mut ours = peering.clone();
        ours.status = PeeringStatus::PendingAcceptance;
        let collisions: Vec<_> = sibling_overlaps(&ours, &as_decided)
            .into_iter()
            .filter(|overlap| {
                as_decided.iter().any(|s| {
                    matches!(&overlap.source, OverlapSource::Peering { peering_id } if peering_id == &s.id)
                        && earlier(s, peering)
                })
            })
            .collect();
        if collisions.is_empty() {
            return Ok((None, now));
        }
        let earlier_ids: Vec<String> = collisions
            .iter()
            .filter_map(|overlap| match &overlap.source {
                OverlapSource::Peering { peering_id } => Some(peering_id.to_string()),
                OverlapSource::VpcCidr { .. } | OverlapSource::Route { .. } => None,
            })
            .collect();
        let at = Location::owners(peering).accepter;
        let ec2 = self.app.aws.ec2(&at).await;
        // The mark first: AWS refuses to delete a `provisioning` peering, and an accept
        // passes through it. If the wait below runs out, this invocation fails for a retry and
        // the mark makes whoever sees the peering active next delete it, never wire it.
        mark_rollback(&ec2, &peering.id, &earlier_ids.join(",")).await?;
        let now = match locate::describe(self.app, &at, &peering.id).await? {
            Some(now) => self.settle(now).await?,
            None => peering.clone(),
        };
        let mut outcome = self.rolled_back(&now, &earlier_ids.join(","), &ec2).await?;
        outcome
            .reasons
            .splice(0..0, collisions.iter().map(ToString::to_string));
        Ok((Some(outcome), None))
    }

    /// Deletes a peering peerwire accepted and marked for rollback ([`peerwire_core::model::ROLLBACK_TAG`]), now
    /// that it is active: a `Rejected` outcome naming the `earlier` peering that stays.
    pub(super) async fn rolled_back(
        &self,
        peering: &Peering,
        earlier: &str,
        ec2: &aws_sdk_ec2::Client,
    ) -> Result<Outcome> {
        let deleted = delete_peering(ec2, &peering.id).await?;
        let mut outcome = self.outcome(OutcomeKind::Rejected, peering);
        outcome.reasons.push(match deleted {
            Applied::Done | Applied::AlreadyInPlace => format!(
                "accepted at the same time as the earlier colliding request {earlier}; deleted again"
            ),
            Applied::Vanished { code } => format!("deleting it again found it gone ({code})"),
        });
        Ok(outcome)
    }

    /// An active peering marked for rollback by an earlier invocation that could not wait for
    /// it: deleted now, before anything wires it.
    pub(super) async fn finish_rollback(&self, peering: Peering) -> Result<Reconciled> {
        let Some(earlier) = peering.rollback_pending().map(str::to_owned) else {
            return Ok(self.left_alone(peering, "no rollback pending".to_owned(), None));
        };
        if self.mode.dry_run {
            let why = format!("collided with the earlier request {earlier}; rollback pending");
            return Ok(self.left_alone(peering, why, None));
        }
        let ec2 = self.app.aws.ec2(&Location::owners(&peering).accepter).await;
        let outcome = self.rolled_back(&peering, &earlier, &ec2).await?;
        self.snapshot.decided(&peering, false).await;
        let why = format!("collided with the earlier request {earlier}; deleted again");
        Ok(self.left_alone(peering, why, Some(outcome)))
    }

    /// A decision's write failed because the peering moved on (accepted by a concurrent run,
    /// deleted, expired): re-observe and report what it is now.
    async fn re_observe(&self, peering: &Peering, why: &str) -> Result<Outcome> {
        tracing::warn!(peering_id = %peering.id, why, "peering changed while deciding; re-observing");
        let now =
            locate::describe(self.app, &Location::owners(peering).accepter, &peering.id).await?;
        let mut outcome = self.outcome(OutcomeKind::Skipped, now.as_ref().unwrap_or(peering));
        if now.is_none() {
            outcome.observed_status = Some(PeeringStatus::NotFound);
        }
        let status = now.as_ref().unwrap_or(peering).status_reason();
        outcome
            .reasons
            .push(format!("peering changed while deciding ({why}); {status}"));
        Ok(outcome)
    }

    /// A request AWS expired (nobody accepted it within 7 days): one `Peering Request Expired`
    /// outcome, however many sweeps still see it.
    pub(super) async fn expired(&self, peering: Peering) -> Result<Reconciled> {
        let peering = match self.in_accepters(peering) {
            Ok(peering) => peering,
            Err(left) => return Ok(*left),
        };
        let first = self.mode.dry_run
            || self
                .app
                .ledger
                .claim(&format!("expired#{}", peering.id), EXPIRY_NOTICE)
                .await?;
        let outcome = first.then(|| {
            let mut outcome = self.outcome(OutcomeKind::Expired, &peering);
            outcome.reasons.push(format!(
                "{}: nobody accepted the request within 7 days; the requester must ask again",
                peering.status_reason()
            ));
            outcome
        });
        Ok(self.left_alone(peering, "the request expired".to_owned(), outcome))
    }
}

/// Whether `sibling` was requested before `peering`: the earlier expiry, else the smaller id.
fn earlier(sibling: &Peering, peering: &Peering) -> bool {
    match (sibling.expires_at, peering.expires_at) {
        (Some(theirs), Some(ours)) if theirs != ours => theirs < ours,
        _ => sibling.id < peering.id,
    }
}
