//! The doors: one per function. A door turns its event into a [`Target`] and chooses the
//! phases that may run ([`Mode`]); everything else is the one reconciler's
//! ([`crate::reconcile`]).
//!
//! | door | event | target | phases |
//! |---|---|---|---|
//! | [`request`] | CloudTrail request, approval, schedule | the request, or a sweep | decide |
//! | [`wiring`] | CloudTrail accept, peerwire's "accepted", schedule | the peering, or a sweep | wire |
//! | [`drift`] | CloudTrail network change, RDS event, schedule | the VPC's peerings, or a sweep | wire (reported as drift) |
//! | [`cleanup`] | CloudTrail delete/reject, schedule | the peering, or a sweep | clean |

pub mod cleanup;
pub mod drift;
pub mod request;
pub mod wiring;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;

use crate::app::App;
use crate::aws::permissions::Job;
use crate::reconcile::{Mode, Report, Run, RunLog, Target};
use peerwire_core::error::{Error, Result};
use peerwire_core::events::{CleanupTrigger, DriftTrigger, Event, RequestTrigger, WiringTrigger};
use peerwire_core::model::ApprovalDecision;

/// The four functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    Request,
    Wiring,
    Drift,
    Cleanup,
}

impl Door {
    /// Every door, in the order a peering meets them.
    pub const ALL: [Door; 4] = [Door::Request, Door::Wiring, Door::Drift, Door::Cleanup];

    /// The function's name, as deployed.
    pub fn function_name(self) -> &'static str {
        match self {
            Self::Request => "peering-request",
            Self::Wiring => "peering-wiring",
            Self::Drift => "drift-recheck",
            Self::Cleanup => "peering-cleanup",
        }
    }

    /// What the function does in member accounts: its session policy.
    pub fn job(self) -> Job {
        match self {
            Self::Request => Job::Decide,
            Self::Wiring | Self::Drift => Job::Wire,
            Self::Cleanup => Job::Clean,
        }
    }

    /// Whether this door's parser takes `event` (no AWS call is made).
    pub fn accepts(self, event: &Value) -> bool {
        match self {
            Self::Request => RequestTrigger::parse(event).is_ok(),
            Self::Wiring => WiringTrigger::parse(event).is_ok(),
            Self::Drift => DriftTrigger::parse(event).is_ok(),
            Self::Cleanup => CleanupTrigger::parse(event).is_ok(),
        }
    }

    /// Handles one event; what the run did (its outcomes, what it left alone, each peering's
    /// result), without the trigger.
    pub async fn run(self, app: &App, event: &Value, deadline: Option<Instant>) -> Result<RunLog> {
        // Boxed as in `handle`.
        Ok(match self {
            Self::Request => {
                Box::pin(handle::<RequestTrigger>(app, event, deadline))
                    .await?
                    .run
            }
            Self::Wiring => {
                Box::pin(handle::<WiringTrigger>(app, event, deadline))
                    .await?
                    .run
            }
            Self::Drift => {
                Box::pin(handle::<DriftTrigger>(app, event, deadline))
                    .await?
                    .run
            }
            Self::Cleanup => {
                Box::pin(handle::<CleanupTrigger>(app, event, deadline))
                    .await?
                    .run
            }
        })
    }

    /// Handles one event; the report as the function's JSON response.
    pub async fn handle(
        self,
        app: &App,
        event: &Value,
        deadline: Option<Instant>,
    ) -> Result<Value> {
        fn json<T: Serialize>(report: Report<T>) -> Result<Value> {
            serde_json::to_value(report).map_err(|e| Error::Response {
                operation: "report",
                detail: e.to_string(),
            })
        }
        // Boxed: the four reconcile futures nest deeply, and one of them is all a function
        // ever runs.
        match self {
            Self::Request => json(Box::pin(handle::<RequestTrigger>(app, event, deadline)).await?),
            Self::Wiring => json(Box::pin(handle::<WiringTrigger>(app, event, deadline)).await?),
            Self::Drift => json(Box::pin(handle::<DriftTrigger>(app, event, deadline)).await?),
            Self::Cleanup => json(Box::pin(handle::<CleanupTrigger>(app, event, deadline)).await?),
        }
    }
}

/// A function's whole `main`: structured logs, configuration and clients once per cold start,
/// then every invocation through `door` with the invocation's deadline.
pub async fn serve(door: Door) -> std::result::Result<(), lambda_runtime::Error> {
    crate::telemetry::init(door.function_name());
    let app = App::from_env(door.job()).await?;
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = deadline_of(event.context.deadline);
        let handled = door.handle(app, &event.payload, deadline).await;
        // The call log is per invocation here: a warm process serves thousands of them.
        let calls = app.aws.calls().take();
        tracing::debug!(calls = calls.len(), "AWS calls of this invocation");
        handled.map_err(diagnostic)
    }))
    .await
}

/// The error as Lambda reports it: a stable type name and the message.
fn diagnostic(err: Error) -> Diagnostic {
    Diagnostic {
        error_type: err.error_type().to_owned(),
        error_message: err.to_string(),
    }
}

/// Lambda's deadline (milliseconds since the epoch) as an instant of this process.
fn deadline_of(deadline_ms: u64) -> Option<Instant> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_millis();
    let left = u64::try_from(u128::from(deadline_ms).checked_sub(now_ms)?).ok()?;
    Some(Instant::now() + Duration::from_millis(left))
}

/// What a door knows about its event: how to parse it, and what it asks to look at.
pub trait Trigger: Serialize + Clone + Sized {
    /// The phases the door may run, and how it reports a change.
    const MODE: Mode;

    /// The function's parser; refuses anything it does not handle, before any AWS call.
    fn parse(event: &Value) -> std::result::Result<Event<Self>, peerwire_core::events::EventError>;

    /// The target, and the approval that came with it (request door only).
    fn target(&self) -> (Target, Option<ApprovalDecision>);

    /// `cloudtrail`, `sweep`, ... for logs and outcomes.
    fn label(&self) -> &'static str;

    /// Who made the change the event reports (`userIdentity.arn`), when it says.
    fn actor(&self) -> Option<String> {
        None
    }
}

/// What every door does: parse, then one run of the reconciler on the event's target, in a
/// span carrying the correlation id, reported with the trigger.
pub async fn handle<T: Trigger>(
    app: &App,
    event: &Value,
    deadline: Option<Instant>,
) -> Result<Report<T>> {
    let event = T::parse(event)?;
    let trigger = event.trigger.label();
    let span = tracing::info_span!("run", correlation_id = %event.correlation_id, trigger);
    async move {
        let (target, approval) = event.trigger.target();
        let run = Run::start(app, trigger, &event.correlation_id, T::MODE)
            .await?
            .with_approval(approval)
            .with_deadline(deadline)
            .with_actor(event.trigger.actor());
        let log = Box::pin(run.handle(&target)).await?;
        Ok(Report {
            correlation_id: event.correlation_id,
            trigger: event.trigger,
            run: log,
        })
    }
    .instrument(span)
    .await
}
