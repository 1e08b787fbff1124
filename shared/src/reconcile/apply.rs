//! Applies a plan, each step with the member role of the side that owns it: the steps that
//! wait for nothing go out together, a chain AWS imposes (`plan::order`) one link after the
//! other.
//!
//! Every step gets its own result: a permanent failure (access denied, a quota, a vanished
//! resource) is recorded and the other steps still run, so one refused rule never leaves the
//! DNS options or the other side's routes unset. Transient failures are recorded the same way
//! and then fail the whole run for a retry, after everything else was done and reported.

use futures_util::stream::{self, StreamExt};
use serde::Serialize;

use super::Run;
use crate::aws::apply::{execute, execute_zone, Applied};
use peerwire_core::error::{AwsError, AwsErrorKind, Error, Result};
use peerwire_core::model::{Location, Sides};
use peerwire_core::outcome::Outcome;
use peerwire_core::plan::{order, Action, Plan, PlanStep};

/// How one step ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "result")]
pub enum StepResult {
    Done,
    /// `RouteAlreadyExists`, `InvalidPermission.Duplicate`: converged (a concurrent run, or a
    /// person, got there first).
    AlreadyInPlace,
    /// A `*.NotFound` mid-run: the resource vanished after it was observed. The step is
    /// dropped; the next run re-observes and converges.
    Vanished {
        code: String,
    },
    /// Refused by AWS, with its error code. Transient ones (throttling, 5xx) fail the run for
    /// a retry; permanent ones are reported.
    Failed {
        error: AwsError,
    },
    /// Not attempted: the step it waits for (`after`) did not go through, so it could not
    /// (an association without its authorization) or must not (forgetting the record of an
    /// association that is still there). The next run plans it again.
    NotAttempted {
        after: String,
    },
}

impl StepResult {
    pub fn is_failure(&self) -> bool {
        self.error().is_some()
    }

    /// The error, when the step failed.
    pub fn error(&self) -> Option<&AwsError> {
        match self {
            Self::Failed { error } => Some(error),
            Self::Done
            | Self::AlreadyInPlace
            | Self::Vanished { .. }
            | Self::NotAttempted { .. } => None,
        }
    }

    /// Done, or found done already: what a step waiting for this one needs.
    pub fn went_through(&self) -> bool {
        match self {
            Self::Done | Self::AlreadyInPlace => true,
            Self::Vanished { .. } | Self::Failed { .. } | Self::NotAttempted { .. } => false,
        }
    }

    /// A refusal that a retry will not change (access denied, a quota, a bad value).
    pub fn permanent_error(&self) -> Option<&AwsError> {
        self.error().filter(|error| !error.is_transient())
    }

    /// Throttling or an unavailable service: worth retrying the run.
    pub fn transient_error(&self) -> Option<&AwsError> {
        self.error().filter(|error| error.is_transient())
    }
}

/// One step and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedStep {
    pub step: PlanStep,
    pub result: StepResult,
}

/// Steps of one plan in flight at once. The EC2 writes of an account and region still go
/// through its token bucket, and Route 53's five requests per second per account through the
/// SDK's retries: this only bounds the connections one plan holds.
const STEPS_IN_FLIGHT: usize = 16;

/// Applies every step of `plan`, each through its owner's role, as soon as the step it waits
/// for ([`order::prerequisites`]: the orderings AWS imposes) has gone through: independent
/// steps go out together, a chain one link after the other, and a step whose prerequisite did
/// not go through is not attempted. The results come back in plan order.
pub(super) async fn apply(
    run: &Run<'_>,
    owners: &Sides<Location>,
    plan: &Plan,
) -> Vec<AppliedStep> {
    let waits_for = order::prerequisites(&plan.steps);
    let mut results: Vec<Option<StepResult>> = vec![None; plan.steps.len()];
    loop {
        // Each round takes every step whose prerequisite has ended: a chain of n steps takes
        // n rounds, everything else the first.
        let ready: Vec<usize> = (0..plan.steps.len())
            .filter(|i| results[*i].is_none())
            .filter(|i| waits_for[*i].is_none_or(|p| results[p].is_some()))
            .collect();
        if ready.is_empty() {
            break;
        }
        let mut go = Vec::new();
        for i in ready {
            match waits_for[i].and_then(|p| results[p].as_ref().map(|r| (p, r))) {
                Some((p, result)) if !result.went_through() => {
                    let step = &plan.steps[i];
                    let after = plan.steps[p].to_string();
                    tracing::info!(%step, %after, "not attempted: its prerequisite did not go through");
                    results[i] = Some(StepResult::NotAttempted { after });
                }
                Some(_) | None => go.push(i),
            }
        }
        let done: Vec<(usize, StepResult)> = stream::iter(go)
            .map(|i| async move { (i, apply_step(run, owners, &plan.steps[i]).await) })
            .buffer_unordered(STEPS_IN_FLIGHT)
            .collect()
            .await;
        for (i, result) in done {
            results[i] = Some(result);
        }
    }
    plan.steps
        .iter()
        .zip(results)
        .map(|(step, result)| AppliedStep {
            step: step.clone(),
            // Every step ends in some round: the loop stops only when none is left.
            result: result.unwrap_or(StepResult::NotAttempted {
                after: String::new(),
            }),
        })
        .collect()
}

/// One step through its owner's role.
async fn apply_step(run: &Run<'_>, owners: &Sides<Location>, step: &PlanStep) -> StepResult {
    let owner = &owners[step.side];
    let executed = match &step.action {
        Action::Ec2(action) => execute(&run.app.aws.ec2(owner).await, step.side, action).await,
        Action::Route53(action) => execute_zone(&run.app.aws.route53(owner).await, action).await,
    };
    let result = match executed {
        Ok(Applied::Done) => StepResult::Done,
        Ok(Applied::AlreadyInPlace) => StepResult::AlreadyInPlace,
        Ok(Applied::Vanished { code }) => StepResult::Vanished { code },
        Err(Error::Aws(error)) => StepResult::Failed { error },
        Err(other) => StepResult::Failed {
            error: AwsError {
                operation: step.operation(),
                kind: AwsErrorKind::Other,
                code: None,
                message: Some(other.to_string()),
            },
        },
    };
    match &result {
        StepResult::Failed { error } => {
            tracing::warn!(account = %owner.account, %step, %error, "step failed");
        }
        result => tracing::info!(account = %owner.account, %step, ?result, "applied"),
    }
    result
}

/// For a decision (one write): why the peering moved on since it was observed (the write met
/// a state or not-found error), `None` when the write went through. Any other failure is the
/// peering's error.
pub(super) fn moved_on(applied: &[AppliedStep]) -> Result<Option<String>> {
    for step in applied {
        match &step.result {
            StepResult::Vanished { code } => return Ok(Some(code.clone())),
            StepResult::Failed { error }
                if matches!(
                    error.kind,
                    AwsErrorKind::InvalidState | AwsErrorKind::NotFound
                ) =>
            {
                return Ok(Some(error.to_string()))
            }
            StepResult::Failed { error } => return Err(Error::Aws(error.clone())),
            StepResult::Done | StepResult::AlreadyInPlace | StepResult::NotAttempted { .. } => {}
        }
    }
    Ok(None)
}

/// Writes what was done (`"<verb>: <step>"`, and the step in `changes`), what was skipped and
/// what failed into `outcome`.
pub(super) fn describe_into(applied: &[AppliedStep], outcome: &mut Outcome, verb: &str) {
    for done in applied {
        let step = &done.step;
        match &done.result {
            StepResult::Done => {
                outcome.reasons.push(format!("{verb}: {step}"));
                outcome.changes.push(step.clone());
            }
            StepResult::AlreadyInPlace => {}
            StepResult::Vanished { code } => outcome
                .reasons
                .push(format!("{step} skipped: {code}; the next run re-observes")),
            StepResult::Failed { error } => outcome.reasons.push(format!("{step} failed: {error}")),
            StepResult::NotAttempted { after } => outcome.reasons.push(format!(
                "{step} not attempted: it waits for {after}, which did not go through"
            )),
        }
    }
}

/// The first permanent failure among `applied`, as the outcome's error.
pub(super) fn first_permanent_failure(applied: &[AppliedStep]) -> Option<&AwsError> {
    applied.iter().find_map(|a| a.result.permanent_error())
}
