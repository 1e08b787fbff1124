//! The wire phase: routes in every route table in scope, least-privilege security-group rules
//! and the DNS options, on both sides of an active peering, as the matching rule's wiring
//! says. Both sides come from the run's snapshot; a side is locked from planning until its
//! writes are recorded.

use super::{apply, LeftAlone, Reconciled, Run, Wired};
use crate::error::{Error, Result};
use crate::model::{Location, Peering};
use crate::outcome::{OutcomeError, OutcomeKind};
use crate::plan::wiring;
use crate::policy::{Condition, RuleMatch};

impl Run<'_> {
    /// The wire phase: routes, rules and DNS options on both sides of an active peering.
    pub(super) async fn wire(&self, peering: Peering) -> Result<Reconciled> {
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
        // Both sides stay locked from planning until the writes are in the snapshot: two
        // peerings of the same VPC never plan against a state the other is changing.
        // Read (or find) both sides first, outside the locks, so peerings of other VPCs are
        // observed meanwhile; then plan from the state as it is once the sides are ours.
        self.snapshot
            .wiring_state(self.app, &peering, &wiring)
            .await?;
        let guard = self.snapshot.lock_sides(&peering).await;
        let mut state = self
            .snapshot
            .wiring_state(self.app, &peering, &wiring)
            .await?;
        let mut plan = wiring::plan_wiring(&state, &wiring);
        // Quotas are read only when something would be added; the plan is then made again
        // within them.
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
                .with_quotas(self.app, &peering, &mut state, &unknown)
                .await?;
            plan = wiring::plan_wiring(&state, &wiring);
        }
        for finding in &plan.findings {
            tracing::warn!(peering_id = %peering.id, %finding, "finding");
        }
        if !self.claim(&peering.id, &plan).await? {
            drop(guard);
            return Ok(self.skipped_duplicate(peering.id.clone(), plan));
        }
        let applied = if self.mode.dry_run {
            Vec::new()
        } else {
            let applied = apply::apply(self, &Location::owners(&peering), &plan).await;
            self.snapshot.record(&peering, &applied).await;
            self.settle_claim(&peering.id, &plan, &applied).await;
            applied
        };
        drop(guard);
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
                self.mode.changed
            };
            let mut outcome = self.outcome(kind, &peering);
            outcome.error = failed.map(|e| OutcomeError::from(&Error::Aws(e.clone())));
            outcome.rule = Some(rule.clone());
            apply::describe_into(&applied, &mut outcome, "missing");
            outcome
                .reasons
                .extend(plan.findings.iter().map(ToString::to_string));
            outcome.findings = plan.findings.clone();
            Some(outcome)
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
