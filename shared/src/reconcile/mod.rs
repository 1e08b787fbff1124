//! The one reconciler. Every function and the CLI enter here: a door turns its event into a
//! [`Target`] and chooses the [`Phases`] that may run; this module owns the rest of the flow,
//! **locate → observe → plan → apply → report**, for one peering or for a sweep of many.
//!
//! Level-triggered: the target only says where to look. Each peering is re-read, its plan is a
//! pure function of what was observed and the policy (`crate::plan`), and only the difference
//! is applied. A converged peering costs reads only: no write and no outcome.
//!
//! - [`locate`]: a target → the peerings to look at.
//! - [`snapshot`]: what one run has observed of each side, shared by every peering of the run
//!   and updated with what the run wrote, so that two peerings' plans never fight.
//! - [`apply`]: executes a plan step by step; a step that fails permanently is reported and the
//!   others still run.
//! - [`report`]: the run's outcomes (published as they happen) and its error policy.

mod apply;
mod locate;
pub mod report;
mod snapshot;
mod sweep;

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::app::App;
use crate::aws::observe;
use crate::error::{Error, Result};
use crate::events::Locator;
use crate::model::{
    AccountId, Peering, PeeringId, PeeringRef, PeeringStatus, Region, Side, Sides, VpcNetwork,
    WiringState,
};
use crate::outcome::{Outcome, OutcomeError, OutcomeKind};
use crate::plan::request::{decide_request, plan_request, Decision, Verdict};
use crate::plan::{cleanup, wiring, Plan};
use crate::policy::{Policy, Wiring};

pub use apply::{AppliedStep, StepResult};
pub use report::{Report, Reporter, RunLog};
use snapshot::Snapshot;

/// Which phases of the reconcile a door may run. A phase only runs on a peering in the state
/// it is for: decide on `pending-acceptance`, wire on `active`, clean on a gone peering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Phases {
    /// Accept, reject or hold a pending request (the request function).
    pub decide: bool,
    /// Make an active peering carry traffic (wiring and drift-recheck).
    pub wire: bool,
    /// Remove what peerwire made for a gone peering (cleanup).
    pub clean: bool,
}

impl Phases {
    pub const DECIDE: Self = Self {
        decide: true,
        wire: false,
        clean: false,
    };
    pub const WIRE: Self = Self {
        decide: false,
        wire: true,
        clean: false,
    };
    pub const CLEAN: Self = Self {
        decide: false,
        wire: false,
        clean: true,
    };
    /// What the CLI's `plan` and `apply` run: whichever phase the peering's state calls for.
    pub const ALL: Self = Self {
        decide: true,
        wire: true,
        clean: true,
    };

    /// The AWS status codes a sweep lists for these phases.
    pub fn sweep_statuses(self) -> Vec<&'static str> {
        let mut codes = Vec::new();
        if self.decide {
            codes.push("pending-acceptance");
        }
        if self.wire {
            codes.push("active");
        }
        if self.clean {
            codes.extend(PeeringStatus::GONE_CODES);
        }
        codes
    }
}

/// How one run reconciles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    pub phases: Phases,
    /// The outcome a wiring change is reported as: `Wired`, or `DriftRepaired` for drift.
    pub changed: OutcomeKind,
    /// Observe and plan only: no write, no outcome published (`peerwire plan`).
    pub dry_run: bool,
}

impl Mode {
    pub const fn new(phases: Phases, changed: OutcomeKind) -> Self {
        Self {
            phases,
            changed,
            dry_run: false,
        }
    }
}

/// What an event asks to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One peering, as an account of it (and a region) sees it.
    Peering(PeeringRef),
    /// Every active peering of the VPC a changed resource belongs to.
    Located {
        account: AccountId,
        region: Region,
        locator: Locator,
    },
    /// Every peering of the policy's accepter scopes in the statuses the phases work on.
    Sweep,
}

/// An approval that came with the event (request function only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub approved_by: String,
}

/// One run: what every peering of it shares.
#[derive(Debug)]
pub struct Run<'a> {
    pub app: &'a App,
    pub policy: Arc<Policy>,
    /// `cloudtrail`, `sweep`, `approval`, ... (the trigger's name, in every outcome).
    pub trigger: &'static str,
    /// The EventBridge id of the event that started the run.
    pub correlation_id: String,
    pub mode: Mode,
    pub approval: Option<Approval>,
    /// When the function must have answered; no new peering is started too close to it.
    pub deadline: Option<Instant>,
    snapshot: Snapshot,
}

/// What reconciling one peering came to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reconciled {
    pub peering_id: PeeringId,
    /// `None` when AWS no longer shows the peering to the account asked.
    pub peering: Option<Peering>,
    /// Why peerwire leaves this peering alone, when it does; then the plan is empty.
    pub refusal: Option<String>,
    /// The matched policy rule, when one matches.
    pub rule: Option<String>,
    /// The accept decision (decide phase only).
    pub decision: Option<Decision>,
    pub plan: Plan,
    /// Empty in a dry run.
    pub applied: Vec<AppliedStep>,
    /// What is reported; `None` when nothing is (converged, or left alone).
    pub outcome: Option<Outcome>,
    /// Both sides as observed for the wire phase (before this run's writes).
    #[serde(skip)]
    pub state: Option<WiringState>,
    /// The accepter VPC as observed for the decide phase.
    #[serde(skip)]
    pub accepter_network: Option<VpcNetwork>,
}

impl<'a> Run<'a> {
    /// A run under the current policy.
    pub async fn start(
        app: &'a App,
        trigger: &'static str,
        correlation_id: &str,
        mode: Mode,
    ) -> Result<Self> {
        Ok(Self {
            app,
            policy: app.policies.current().await?,
            trigger,
            correlation_id: correlation_id.to_owned(),
            mode,
            approval: None,
            deadline: None,
            snapshot: Snapshot::default(),
        })
    }

    pub fn with_approval(mut self, approval: Option<Approval>) -> Self {
        self.approval = approval;
        self
    }

    pub fn with_deadline(mut self, deadline: Option<Instant>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Locates `target`, reconciles every peering found, and reports: the door's whole job.
    /// Transient errors fail the run only after every other peering has been handled and its
    /// outcome published.
    pub async fn handle(&self, target: &Target) -> Result<RunLog> {
        let log = Reporter::new(self.app, self.mode.dry_run);
        match target {
            Target::Sweep => sweep::sweep(self, &log).await,
            target => {
                for located in locate::locate(self, target, &log).await {
                    self.reconcile_and_record(located, &log).await;
                }
            }
        }
        log.finish().await
    }

    /// Reconciles one located peering and files the result in `log`.
    async fn reconcile_and_record(&self, located: locate::Located, log: &Reporter<'_>) {
        let (id, location) = located.where_();
        let result = match located {
            locate::Located::Peering(peering) => self.reconcile(*peering).await,
            locate::Located::Forgotten(reference) => self.forgotten(&reference).await,
        };
        match result {
            Ok(reconciled) => log.reconciled(reconciled).await,
            Err(err) => log.failed(self, Some(&id), Some(&location), err).await,
        }
    }

    /// Observes, plans, applies and reports one peering, within the run's phases.
    pub async fn reconcile(&self, peering: Peering) -> Result<Reconciled> {
        let phases = self.mode.phases;
        let status = peering.status.clone();
        if phases.decide && status == PeeringStatus::PendingAcceptance {
            return self.decide(peering).await;
        }
        if phases.wire && status == PeeringStatus::Active {
            return self.wire(peering).await;
        }
        if phases.clean && status.is_gone() {
            return self.clean(peering).await;
        }
        let reason = peering.status_reason();
        if phases == Phases::DECIDE {
            // A request that is no longer pending: nothing to decide. Reported, so that a
            // replayed request event is visibly a no-op.
            let mut outcome = self.outcome(OutcomeKind::Skipped, &peering);
            outcome.reasons.push(reason.clone());
            return Ok(self.left_alone(peering, reason, Some(outcome)));
        }
        Ok(self.left_alone(peering, reason, None))
    }

    /// Applies `plan`, computed earlier for `peering`, step by step through each side's role:
    /// what a run does after planning, for a plan kept from a dry run.
    pub async fn apply_plan(&self, peering: &Peering, plan: &Plan) -> Vec<AppliedStep> {
        apply::apply(self, &Location::owners(peering), plan).await
    }

    fn outcome(&self, kind: OutcomeKind, peering: &Peering) -> Outcome {
        Outcome::about(kind, peering, self.trigger, &self.correlation_id)
    }

    fn left_alone(&self, peering: Peering, why: String, outcome: Option<Outcome>) -> Reconciled {
        Reconciled {
            peering_id: peering.id.clone(),
            peering: Some(peering),
            refusal: Some(why),
            rule: None,
            decision: None,
            plan: Plan::default(),
            applied: Vec::new(),
            outcome,
            state: None,
            accepter_network: None,
        }
    }

    /// The decide phase: accept, reject or hold a pending request by policy.
    async fn decide(&self, peering: Peering) -> Result<Reconciled> {
        let accepter = &peering.sides.accepter;
        if !self
            .policy
            .covers_accepter(&accepter.account, &accepter.region, Some(&accepter.vpc_id))
        {
            let why = "accepter VPC not in the policy's accepters".to_owned();
            return Ok(self.left_alone(peering, why, None));
        }
        let network = self.snapshot.accepter_network(self.app, &peering).await?;
        let decision = decide_request(&peering, &network, &self.policy, self.approval.is_some());
        tracing::info!(peering_id = %peering.id, verdict = %decision.verdict,
            rule = decision.rule.as_deref().unwrap_or(""), reasons = %decision.reasons.join("; "),
            "decision");
        let plan = plan_request(&peering, &decision);
        let mut reconciled = Reconciled {
            peering_id: peering.id.clone(),
            rule: decision.rule.clone(),
            refusal: None,
            decision: Some(decision.clone()),
            applied: Vec::new(),
            outcome: None,
            plan,
            peering: None,
            state: None,
            accepter_network: Some(network),
        };
        if !self.mode.dry_run {
            let owners = Location::owners(&peering);
            reconciled.applied = apply::apply(self, &owners, &reconciled.plan).await;
            if let Some(why) = apply::moved_on(&reconciled.applied)? {
                reconciled.outcome = Some(self.re_observe(&peering, &why).await?);
                reconciled.peering = Some(peering);
                return Ok(reconciled);
            }
        }
        let kind = match decision.verdict {
            Verdict::Accept => OutcomeKind::Accepted,
            Verdict::Reject => OutcomeKind::Rejected,
            Verdict::Hold => OutcomeKind::ApprovalRequired,
            Verdict::Skip => OutcomeKind::Skipped,
        };
        let mut outcome = self.outcome(kind, &peering);
        outcome.rule = decision.rule;
        outcome.reasons = decision.reasons;
        if kind == OutcomeKind::Accepted {
            outcome.approved_by = self.approval.as_ref().map(|a| a.approved_by.clone());
        }
        reconciled.outcome = Some(outcome);
        reconciled.peering = Some(peering);
        Ok(reconciled)
    }

    /// A decision's write failed because the peering moved on (accepted by a concurrent run,
    /// deleted, expired): re-observe and report what it is now.
    async fn re_observe(&self, peering: &Peering, why: &str) -> Result<Outcome> {
        tracing::warn!(peering_id = %peering.id, why, "peering changed while deciding; re-observing");
        let accepter = &peering.sides.accepter;
        let now =
            locate::describe(self.app, &accepter.account, &accepter.region, &peering.id).await?;
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

    /// The wire phase: routes, rules and DNS options on both sides of an active peering.
    async fn wire(&self, peering: Peering) -> Result<Reconciled> {
        let accepter = &peering.sides.accepter;
        if !self
            .policy
            .covers_accepter(&accepter.account, &accepter.region, Some(&accepter.vpc_id))
        {
            let why = "accepter VPC not in the policy's accepters".to_owned();
            return Ok(self.left_alone(peering, why, None));
        }
        let Some((rule, wiring)) = self.policy.wiring_for(&peering) else {
            let why = "no policy rule matches this peering; not wired".to_owned();
            return Ok(self.left_alone(peering, why, None));
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
        let state = self
            .snapshot
            .wiring_state(self.app, &peering, &wiring)
            .await?;
        let plan = wiring::plan_wiring(&state, &wiring);
        for finding in &plan.findings {
            tracing::warn!(peering_id = %peering.id, %finding, "finding");
        }
        let applied = if self.mode.dry_run {
            Vec::new()
        } else {
            let applied = apply::apply(self, &Location::owners(&peering), &plan).await;
            self.snapshot.record(&peering, &applied).await;
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
        Ok(Reconciled {
            peering_id: peering.id.clone(),
            peering: Some(peering),
            refusal: None,
            rule: Some(rule),
            decision: None,
            plan,
            applied,
            outcome,
            state: Some(state),
            accepter_network: None,
        })
    }

    /// The clean phase on a gone peering: each managed side's routes through it and
    /// peerwire's marked rules for it; never anything else, never on a live peering.
    async fn clean(&self, peering: Peering) -> Result<Reconciled> {
        let mut plan = Plan::default();
        for (side, view) in peering.sides.iter() {
            if !self.policy.manages_account(&view.account) {
                continue;
            }
            let ec2 = self
                .app
                .aws
                .ec2(view.account.as_str(), view.region.as_str())
                .await;
            let leftovers = observe::leftovers(&ec2, &peering.id, Some(&view.vpc_id)).await?;
            let peer = &peering.sides[side.other()].account;
            let side_plan = cleanup::plan_side_cleanup(&peering.id, side, Some(peer), &leftovers);
            plan.steps.extend(side_plan.steps);
            plan.findings.extend(side_plan.findings);
        }
        let owners = Location::owners(&peering);
        self.finish_clean(peering.id.clone(), Some(peering), owners, plan)
            .await
    }

    /// A peering AWS no longer shows (it forgets deleted ones after about 2 hours): only the
    /// account that reported it can be cleaned, on the side that account is.
    async fn forgotten(&self, reference: &PeeringRef) -> Result<Reconciled> {
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
            return Ok(Reconciled {
                peering_id: id,
                peering: None,
                refusal: Some(why),
                rule: None,
                decision: None,
                plan: Plan::default(),
                applied: Vec::new(),
                outcome,
                state: None,
                accepter_network: None,
            });
        }
        let side = side_of(&self.policy, &reference.account);
        let ec2 = self
            .app
            .aws
            .ec2(reference.account.as_str(), reference.region.as_str())
            .await;
        let leftovers = observe::leftovers(&ec2, &id, None).await?;
        let plan = cleanup::plan_side_cleanup(&id, side, None, &leftovers);
        let owners = Sides::from_fn(|_| Location::of_ref(reference));
        self.finish_clean(id, None, owners, plan).await
    }

    async fn finish_clean(
        &self,
        peering_id: PeeringId,
        peering: Option<Peering>,
        owners: Sides<Location>,
        plan: Plan,
    ) -> Result<Reconciled> {
        for finding in &plan.findings {
            tracing::warn!(peering_id = %peering_id, %finding, "stale reference");
        }
        let applied = if self.mode.dry_run {
            Vec::new()
        } else {
            apply::apply(self, &owners, &plan).await
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
        Ok(Reconciled {
            peering_id,
            peering,
            refusal: None,
            rule: None,
            decision: None,
            plan,
            applied,
            outcome,
            state: None,
            accepter_network: None,
        })
    }
}

/// Both sides of `peering` as `wiring` scopes them, read through their member roles, outside
/// any run: for diagnose, which explains a peering the reconciler leaves alone.
pub async fn observe_sides(app: &App, peering: &Peering, wiring: &Wiring) -> Result<WiringState> {
    Snapshot::default().wiring_state(app, peering, wiring).await
}

/// The side `account` is on when all that is known is the account: the accepter when the
/// policy names it as an accepter, else the requester.
fn side_of(policy: &Policy, account: &AccountId) -> Side {
    if policy.covers_accepter_account(account) {
        Side::Accepter
    } else {
        Side::Requester
    }
}

/// An account and region: where a side's calls are made, with its member role.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    pub account: AccountId,
    pub region: Region,
}

impl Location {
    /// Where each side of `peering` is owned.
    pub fn owners(peering: &Peering) -> Sides<Location> {
        Sides::from_fn(|side| {
            let view = &peering.sides[side];
            Location {
                account: view.account.clone(),
                region: view.region.clone(),
            }
        })
    }

    pub(super) fn of_ref(reference: &PeeringRef) -> Self {
        Self {
            account: reference.account.clone(),
            region: reference.region.clone(),
        }
    }
}
