//! The wiring door: make an active peering carry traffic, on both sides.
//!
//! Level-triggered like every door: the event names a peering (or asks for a sweep), and each
//! peering is observed on both sides through their member roles, planned by the pure
//! [`plan_wiring`], and only the difference is applied. A converged peering costs reads only:
//! no write, and no outcome event.

use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;

use crate::app::App;
use crate::aws::apply::{self, Applied};
use crate::aws::observe;
use crate::error::Result;
use crate::events::{parse_wiring_event, PeeringRef, WiringTrigger};
use crate::model::{Peering, PeeringStatus, WiringState};
use crate::outcome::{Outcome, OutcomeKind};
use crate::plan::{PlanStep, Side, WiringPlan};
use crate::policy::{Policy, RuleMatch, Wiring};
use crate::run::RunLog;
use crate::wiring::{describe_finding, describe_step, plan_wiring};

/// What one invocation did; also the Lambda's response.
#[derive(Debug, Serialize)]
pub struct WiringReport {
    pub correlation_id: String,
    pub trigger: WiringTrigger,
    #[serde(flatten)]
    pub run: RunLog,
}

/// One applied step and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedStep {
    pub step: PlanStep,
    pub result: Applied,
}

/// Handles one EventBridge event for the wiring door. Errors as in
/// [`crate::request::handle_request_event`].
pub async fn handle_wiring_event(app: &App, event: &Value) -> Result<WiringReport> {
    let parsed = parse_wiring_event(event)?;
    let span = tracing::info_span!(
        "wiring",
        correlation_id = %parsed.correlation_id,
        trigger = parsed.trigger.name()
    );
    async move {
        let policy = app.policies.current().await?;
        let mut log = RunLog::default();
        let trigger = parsed.trigger.name();
        let id = parsed.correlation_id.as_str();
        match &parsed.trigger {
            WiringTrigger::PeeringAccepted(target) => {
                if policy.covers_accepter(&target.accepter_account, &target.region, None) {
                    let result = wire_one(app, &policy, target, trigger, id, &mut log).await;
                    log.record(target, trigger, id, result);
                } else {
                    log.ignore(&target.peering_id, "accepter not in the policy's accepters");
                }
            }
            WiringTrigger::Sweep => sweep(app, &policy, trigger, id, &mut log).await,
        }
        let log = log.finish(app, "wiring").await?;
        Ok(WiringReport {
            correlation_id: parsed.correlation_id.clone(),
            trigger: parsed.trigger.clone(),
            run: log,
        })
    }
    .instrument(span)
    .await
}

async fn wire_one(
    app: &App,
    policy: &Policy,
    target: &PeeringRef,
    trigger: &str,
    correlation_id: &str,
    log: &mut RunLog,
) -> Result<Option<Outcome>> {
    let ec2 = app.aws.ec2(&target.accepter_account, &target.region).await;
    let run = Reconcile {
        app,
        policy,
        trigger,
        correlation_id,
        changed: OutcomeKind::Wired,
    };
    match observe::describe_peering(&ec2, &target.peering_id).await? {
        Some(peering) => run.reconcile(peering, log).await,
        None => {
            log.ignore(&target.peering_id, "peering not found");
            Ok(None)
        }
    }
}

async fn sweep(app: &App, policy: &Policy, trigger: &str, correlation_id: &str, log: &mut RunLog) {
    let run = Reconcile {
        app,
        policy,
        trigger,
        correlation_id,
        changed: OutcomeKind::Wired,
    };
    run.sweep(log).await;
}

/// The wiring a peering gets: that of the first rule it matches. `None` when no rule matches
/// (a person accepted it, or the policy changed): peerwire does not wire what it would not
/// have accepted.
pub fn wiring_for<'p>(policy: &'p Policy, peering: &Peering) -> Option<(&'p str, &'p Wiring)> {
    match policy.evaluate(peering) {
        RuleMatch::Matched { rule, .. } => policy
            .rules
            .iter()
            .find(|r| r.name == rule)
            .map(|r| (r.name.as_str(), &r.wiring)),
        RuleMatch::Unmatched { .. } => None,
    }
}

/// One reconcile pass over active peerings, shared by the wiring and drift doors; they differ
/// only in how they locate peerings and in the outcome kind reported for a change.
#[derive(Debug, Clone, Copy)]
pub struct Reconcile<'a> {
    pub app: &'a App,
    pub policy: &'a Policy,
    pub trigger: &'a str,
    pub correlation_id: &'a str,
    /// `Wired` or `DriftRepaired`.
    pub changed: OutcomeKind,
}

impl Reconcile<'_> {
    /// Every active peering in the policy's accepter accounts.
    pub async fn sweep(&self, log: &mut RunLog) {
        for scope in &self.policy.accepters {
            for region in &scope.regions {
                let mut target = PeeringRef {
                    peering_id: String::new(),
                    accepter_account: scope.account.clone(),
                    region: region.clone(),
                };
                let ec2 = self.app.aws.ec2(&scope.account, region).await;
                let active =
                    match observe::peerings_in_status(&ec2, &scope.account, &["active"]).await {
                        Ok(active) => active,
                        Err(err) => {
                            log.record(&target, self.trigger, self.correlation_id, Err(err));
                            continue;
                        }
                    };
                for peering in active {
                    target.peering_id = peering.id.clone();
                    let result = self.reconcile(peering, log).await;
                    log.record(&target, self.trigger, self.correlation_id, result);
                }
            }
        }
    }

    /// Observes, plans and applies one peering. `Ok(None)`: ignored, or nothing to do.
    pub async fn reconcile(&self, peering: Peering, log: &mut RunLog) -> Result<Option<Outcome>> {
        let (app, policy) = (self.app, self.policy);
        let accepter = &peering.accepter;
        if !policy.covers_accepter(&accepter.account, &accepter.region, Some(&accepter.vpc_id)) {
            log.ignore(&peering.id, "accepter VPC not in the policy's accepters");
            return Ok(None);
        }
        if peering.status != PeeringStatus::Active {
            log.ignore(&peering.id, &crate::request::status_reason(&peering));
            return Ok(None);
        }
        let Some((rule, wiring)) = wiring_for(policy, &peering) else {
            log.ignore(
                &peering.id,
                "no policy rule matches this peering; not wired",
            );
            return Ok(None);
        };
        let state = observe_wiring(app, &peering, wiring).await?;
        let plan = plan_wiring(&state, wiring);
        for finding in &plan.findings {
            tracing::warn!(peering_id = %peering.id, finding = %describe_finding(finding), "finding");
        }
        let blocked = plan.findings.iter().any(|f| f.is_blocking());
        if plan.steps.is_empty() && !blocked {
            tracing::info!(peering_id = %peering.id, "wiring in sync; nothing to write");
            return Ok(None);
        }
        let applied = apply_wiring(app, &peering, &plan).await?;
        let kind = if blocked {
            OutcomeKind::WiringBlocked
        } else {
            self.changed
        };
        let mut outcome = Outcome::about(kind, &peering, self.trigger, self.correlation_id);
        outcome.rule = Some(rule.to_owned());
        for done in &applied {
            match &done.result {
                Applied::Done => {
                    outcome
                        .reasons
                        .push(format!("missing: {}", describe_step(&done.step)));
                    outcome.changes.push(done.step.clone());
                }
                Applied::AlreadyInPlace => {}
                Applied::Vanished { code } => outcome.reasons.push(format!(
                    "{} skipped: {code}; the next run re-observes",
                    describe_step(&done.step)
                )),
            }
        }
        outcome
            .reasons
            .extend(plan.findings.iter().map(describe_finding));
        outcome.findings = plan.findings;
        Ok(Some(outcome))
    }
}

/// Observes both sides of an active peering with their own member roles, as the policy's
/// wiring scopes them. A side the policy does not manage is not read at all.
pub async fn observe_wiring(app: &App, peering: &Peering, wiring: &Wiring) -> Result<WiringState> {
    let mut state = WiringState {
        peering: peering.clone(),
        requester: None,
        accepter: None,
    };
    for side in [Side::Requester, Side::Accepter] {
        let (view, scope) = match side {
            Side::Requester => (&peering.requester, &wiring.requester),
            Side::Accepter => (&peering.accepter, &wiring.accepter),
        };
        if !scope.manage {
            continue;
        }
        let ec2 = app.aws.ec2(&view.account, &view.region).await;
        let rds = app.aws.rds(&view.account, &view.region).await;
        let observed =
            observe::describe_side(&ec2, &rds, &view.account, &view.vpc_id, scope).await?;
        match side {
            Side::Requester => state.requester = Some(observed),
            Side::Accepter => state.accepter = Some(observed),
        }
    }
    Ok(state)
}

/// Applies `plan` step by step, each with the credentials of the side that owns it. "Already
/// there" counts as converged and "not found" drops the step (the next run re-observes); any
/// other error stops the run: transient ones are retried by Lambda, and a re-run applies only
/// what is still missing.
pub async fn apply_wiring(
    app: &App,
    peering: &Peering,
    plan: &WiringPlan,
) -> Result<Vec<AppliedStep>> {
    let mut applied = Vec::with_capacity(plan.steps.len());
    for step in &plan.steps {
        let view = match step.side() {
            Side::Requester => &peering.requester,
            Side::Accepter => &peering.accepter,
        };
        let ec2 = app.aws.ec2(&view.account, &view.region).await;
        let result = apply::execute(&ec2, step).await?;
        tracing::info!(peering_id = %peering.id, step = %describe_step(step), result = ?result, "applied");
        applied.push(AppliedStep {
            step: step.clone(),
            result,
        });
    }
    Ok(applied)
}
