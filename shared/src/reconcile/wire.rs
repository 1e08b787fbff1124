//! The wire phase: routes in every route table in scope, least-privilege security-group rules
//! and the DNS options, on both sides of an active peering, as the matching rule's wiring
//! says. Both sides come from the run's snapshot; a side is locked from planning until its
//! writes are recorded.

use super::{apply, AppliedStep, LeftAlone, Reconciled, Run, StepResult, Wired};
use peerwire_core::error::{Error, Result};
use peerwire_core::model::{Location, Peering, PeeringId, Sides, WiringState};
use peerwire_core::outcome::{Outcome, OutcomeError, OutcomeKind};
use peerwire_core::plan::{wiring, Plan};
use peerwire_core::policy::{Condition, RuleMatch, Wiring};

impl Run<'_> {
    /// The wire phase: routes, rules and DNS options on both sides of an active peering. A
    /// change is reported as `changed` (`Wired`, or `DriftRepaired` for drift).
    pub(super) async fn wire(&self, peering: Peering, changed: OutcomeKind) -> Result<Reconciled> {
        let peering = match self.in_accepters(peering) {
            Ok(peering) => peering,
            Err(left) => return Ok(*left),
        };
        let peering = self.with_requester_tags(peering).await?;
        let membership = self.membership(&peering.sides.requester.account).await?;
        let Some((rule, wiring)) = self.policy.wiring_for(&peering, &membership) else {
            return match self.policy.evaluate(&peering, &membership) {
                RuleMatch::Unverified { rule, reasons } => {
                    self.unverified(peering, rule, reasons).await
                }
                _ => {
                    let why = "no policy rule matches this peering; not wired".to_owned();
                    Ok(self.left_alone(peering, why, None))
                }
            };
        };
        let (rule, wiring) = (rule.to_owned(), wiring.clone());
        // Read (or find) both sides first, outside the locks, with the quotas a plan from them
        // needs, and claim that plan: none of it waits for another peering of the same VPC,
        // so a hub's peerings of one accepter VPC hold its lock only for their writes.
        let (_, early) = self.planned(&peering, &wiring).await?;
        if !self.claim(&peering.id, &early).await? {
            return Ok(self.skipped_duplicate(peering.id.clone(), early));
        }
        // Both sides stay locked from planning until the writes are in the snapshot: two
        // peerings of the same VPC never plan against a state the other is changing. The plan
        // is made again from the state as it is once the sides are ours (from the snapshot:
        // no call); when another peering's writes changed it, the new plan is claimed instead.
        let guard = self.snapshot.lock_sides(&peering).await;
        let (state, plan) = self.planned(&peering, &wiring).await?;
        if Self::plan_key(&peering.id, &plan) != Self::plan_key(&peering.id, &early) {
            self.unclaim(&peering.id, &early).await;
            if !self.claim(&peering.id, &plan).await? {
                drop(guard);
                return Ok(self.skipped_duplicate(peering.id.clone(), plan));
            }
        }
        for finding in &plan.findings {
            tracing::warn!(peering_id = %peering.id, %finding, "finding");
        }
        let applied = if self.mode.dry_run {
            Vec::new()
        } else {
            let owners = Location::owners(&peering);
            let applied = apply::apply(self, &owners, &plan).await;
            self.snapshot.record(&peering, &applied).await;
            self.note_places(&owners, &applied);
            applied
        };
        drop(guard);
        // Ordering: after the lock, as nothing of this VPC's state depends on it.
        self.settle_claim(&peering.id, &plan, &applied).await;
        let outcome = if plan.is_converged() {
            tracing::info!(peering_id = %peering.id, "wiring in sync; nothing to write");
            None
        } else {
            let failed = apply::first_permanent_failure(&applied);
            let kind = if failed.is_some() {
                OutcomeKind::Failed
            } else if plan.is_blocked() {
                OutcomeKind::WiringBlocked
            } else {
                changed
            };
            let mut outcome = self.outcome(kind, &peering);
            outcome.error = failed.map(|e| OutcomeError::from(&Error::Aws(e.clone())));
            outcome.rule = Some(rule.clone());
            apply::describe_into(&applied, &mut outcome, "missing");
            // What blocks the wiring comes first: a notification shows the first reason.
            let (blocking, other): (Vec<_>, Vec<_>) =
                plan.findings.iter().partition(|f| f.is_blocking());
            outcome
                .reasons
                .splice(0..0, blocking.iter().map(ToString::to_string));
            outcome
                .reasons
                .extend(other.iter().map(ToString::to_string));
            outcome.findings = plan.findings.clone();
            if kind == OutcomeKind::DriftRepaired && !self.mode.dry_run {
                self.recurrence(&peering.id, &plan, outcome).await?
            } else {
                Some(outcome)
            }
        };
        Ok(Reconciled::Wired(Box::new(Wired {
            peering,
            rule,
            plan,
            applied,
            outcome,
            state: Some(state),
        })))
    }
}

/// How long a repaired drift is remembered: a second repair of the same within it recurs.
const DRIFT_MEMORY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

impl Run<'_> {
    /// A drift repair, as a person should hear of it: the first repair of this drift
    /// (this peering, these steps) in 24 hours as it is; the second as one
    /// `Peering Drift Recurring` naming who undid the wiring and what to change; later ones
    /// not at all that day (the repair itself still happens, and is logged). Without a
    /// ledger every repair is the first.
    async fn recurrence(
        &self,
        peering_id: &PeeringId,
        plan: &Plan,
        mut outcome: Outcome,
    ) -> Result<Option<Outcome>> {
        let digest = Self::plan_key(peering_id, plan);
        let ledger = &self.app.ledger;
        if ledger
            .claim(&format!("drift-seen#{digest}"), DRIFT_MEMORY)
            .await?
        {
            outcome.changed_by = self.actor.clone();
            return Ok(Some(outcome));
        }
        if !ledger
            .claim(&format!("drift-recurring#{digest}"), DRIFT_MEMORY)
            .await?
        {
            tracing::info!(peering_id = %peering_id, actor = self.actor.as_deref().unwrap_or(""),
                "the same drift repaired again; already notified today");
            return Ok(None);
        }
        outcome.kind = OutcomeKind::DriftRecurring;
        outcome.changed_by = self.actor.clone();
        let who = self
            .actor
            .as_deref()
            .unwrap_or("someone (the event did not say who)");
        outcome.reasons.insert(
            0,
            format!(
                "repaired again within 24 hours: {who} keeps removing it. If infrastructure \
                 code owns this route table or security group, declare the peering's routes \
                 and rules there (see docs/deploy.md, \"Drift that comes back\"), or take it out \
                 of the policy's scope; repairs are not notified again today"
            ),
        );
        Ok(Some(outcome))
    }
}

/// The ledger item holding every place (`ACCOUNT/REGION`) peerwire wrote in.
pub(super) const PLACES: &str = "places";
/// Refreshed at every write; a place unused for this long has been swept clean many times.
const PLACES_KEPT: std::time::Duration = std::time::Duration::from_secs(400 * 24 * 3600);

impl Run<'_> {
    /// Both sides of `peering` as `wiring` scopes them (read once per run, then from the
    /// snapshot), and the plan from them. Quotas are read only when the plan would add
    /// something on a side whose quotas are not known yet; the plan is then made again within
    /// them.
    async fn planned(&self, peering: &Peering, wiring: &Wiring) -> Result<(WiringState, Plan)> {
        let mut state = self
            .snapshot
            .wiring_state(self.app, peering, wiring)
            .await?;
        let mut plan = wiring::plan_wiring(&state, wiring);
        let unknown: Vec<_> = plan
            .adds_on()
            .into_iter()
            .filter(|side| {
                state.sides[*side]
                    .as_ref()
                    .is_some_and(|s| s.quotas.is_none())
            })
            .collect();
        if !unknown.is_empty() {
            self.snapshot
                .with_quotas(self.app, peering, &mut state, &unknown)
                .await?;
            plan = wiring::plan_wiring(&state, wiring);
        }
        Ok((state, plan))
    }

    /// Notes the places of the sides that had a write go through, for [`Self::remember_places`].
    fn note_places(&self, owners: &Sides<Location>, applied: &[AppliedStep]) {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        for done in applied.iter().filter(|a| a.result == StepResult::Done) {
            let place = owners[done.step.side].to_string();
            if !written.contains(&place) {
                written.push(place);
            }
        }
    }

    /// Adds the places this run wrote in to the ledger's set, so the orphan sweep searches
    /// them whatever the policy says later (an OU-matched requester, a Region dropped from the
    /// policy). One `UpdateItem` per run, only when something was written. A run cut off
    /// before its end (a Lambda timeout) records nothing: its places are recorded when peerwire
    /// next writes there, and the policy's scopes are swept in any case.
    pub(super) async fn remember_places(&self) {
        let places = std::mem::take(&mut *self.written.lock().unwrap_or_else(|e| e.into_inner()));
        if places.is_empty() {
            return;
        }
        if let Err(err) = self.app.ledger.add_ids(PLACES, &places, PLACES_KEPT).await {
            tracing::warn!(%err, "could not record where peerwire wrote; the policy's scopes are still swept");
        }
    }
}

/// One "cannot be verified" per peering and day: a sweep every 15 minutes must not repeat it.
const UNVERIFIED_REMINDER: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

impl Run<'_> {
    /// An active peering whose rule would match but cannot be checked (the requester's member
    /// role is missing or denied, an OU lookup failed): not wired, and a person is told, once a
    /// day, as a `Peering Reconcile Failed` naming what could not be read.
    async fn unverified(
        &self,
        peering: Peering,
        rule: String,
        reasons: Vec<Condition>,
    ) -> Result<Reconciled> {
        let reasons: Vec<String> = reasons.iter().map(ToString::to_string).collect();
        let why = format!(
            "rule `{rule}` cannot be verified ({}); not wired",
            reasons.join("; ")
        );
        let tell = self.mode.dry_run
            || self
                .app
                .ledger
                .claim(&format!("unverified#{}", peering.id), UNVERIFIED_REMINDER)
                .await?;
        let outcome = tell.then(|| {
            let mut outcome = self.outcome(OutcomeKind::Failed, &peering);
            outcome.rule = Some(rule.clone());
            outcome.reasons = vec![why.clone()];
            outcome
        });
        Ok(Reconciled::LeftAlone(Box::new(LeftAlone {
            peering_id: peering.id.clone(),
            peering: Some(peering),
            why,
            rule: Some(rule),
            outcome,
        })))
    }
}
