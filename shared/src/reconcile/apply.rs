//! Applies a plan step by step, each with the member role of the side that owns it.
//!
//! Every step gets its own result: a permanent failure (access denied, a quota, a vanished
//! resource) is recorded and the next step still runs, so one refused rule never leaves the
//! DNS options or the other side's routes unset. Transient failures are recorded the same way
//! and then fail the whole run for a retry, after everything else was done and reported.

use serde::Serialize;

use super::Run;
use crate::aws::apply::{execute, execute_zone, Applied};
use crate::error::{AwsError, AwsErrorKind, Error, Result};
use crate::model::{Location, Sides};
use crate::outcome::Outcome;
use crate::plan::{Action, Plan, PlanStep};

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
}

impl StepResult {
    pub fn is_failure(&self) -> bool {
        self.error().is_some()
    }

    /// The error, when the step failed.
    pub fn error(&self) -> Option<&AwsError> {
        match self {
            Self::Failed { error } => Some(error),
            Self::Done | Self::AlreadyInPlace | Self::Vanished { .. } => None,
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

/// Applies every step of `plan` in order, each through its owner's role.
pub(super) async fn apply(
    run: &Run<'_>,
    owners: &Sides<Location>,
    plan: &Plan,
) -> Vec<AppliedStep> {
    let mut applied = Vec::with_capacity(plan.steps.len());
    for step in &plan.steps {
        let owner = &owners[step.side];
        let executed = match &step.action {
            Action::Ec2(action) => execute(&run.app.aws.ec2(owner).await, step.side, action).await,
            Action::Route53(action) => {
                execute_zone(&run.app.aws.route53(owner).await, action).await
            }
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
        applied.push(AppliedStep {
            step: step.clone(),
            result,
        });
    }
    applied
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
            StepResult::Done | StepResult::AlreadyInPlace => {}
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
        }
    }
}

/// The first permanent failure among `applied`, as the outcome's error.
pub(super) fn first_permanent_failure(applied: &[AppliedStep]) -> Option<&AwsError> {
    applied.iter().find_map(|a| a.result.permanent_error())
}
