//! What a run reports, and its one error policy.
//!
//! - An outcome is published as soon as ten are waiting (one `PutEvents` takes ten entries),
//!   and the rest when the run ends, so a timeout loses nothing already done.
//! - A permanent error becomes a `Peering Reconcile Failed` outcome that a person sees.
//! - A transient error (throttling, 5xx, timeouts) is kept, and fails the invocation for a
//!   retry only after every other peering of the run was handled and reported.

use serde::Serialize;
use tokio::sync::Mutex;

use super::{Reconciled, Run};
use crate::app::App;
use crate::aws::outcome_bus::PUT_EVENTS_BATCH;
use peerwire_core::error::Error;
use peerwire_core::model::{Location, PeeringId};
use peerwire_core::outcome::{Outcome, OutcomeError, OutcomeKind};

/// What one invocation did: the function's response, and what `peerwire apply` prints.
#[derive(Debug, Serialize)]
pub struct Report<T> {
    pub correlation_id: String,
    pub trigger: T,
    #[serde(flatten)]
    pub run: RunLog,
}

/// The outcomes of one run, and what it left alone.
#[derive(Debug, Default, Serialize)]
pub struct RunLog {
    pub outcomes: Vec<Outcome>,
    /// Peerings (or accounts) looked at but outside the policy or not in a state to act on:
    /// no outcome, no write.
    pub ignored: Vec<String>,
    /// Peerings a sweep did not start before the deadline; the next sweep starts with them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_reached: Vec<PeeringId>,
    /// Every peering reconciled, with its plan and what became of each step.
    #[serde(skip)]
    pub reconciled: Vec<Reconciled>,
    /// What stopped a peering, or a whole account and region, transient or not: the permanent
    /// ones are in `outcomes` too, the transient ones fail the run. A dry run's reader (`peerwire
    /// status`) shows them all, each where it happened.
    #[serde(skip)]
    pub failures: Vec<Failure>,
}

/// An error that stopped the reconcile of one peering, or of a whole account and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `None` when a whole account and region failed (its peerings could not be listed).
    pub peering_id: Option<PeeringId>,
    pub location: Option<Location>,
    /// The error, as logs and outcome events say it.
    pub error: String,
    /// Throttling, a 5xx, a timeout: the next run may well succeed.
    pub transient: bool,
}

/// Collects a run's results while its peerings are reconciled, possibly at once.
#[derive(Debug)]
pub struct Reporter<'a> {
    app: &'a App,
    dry_run: bool,
    /// Keep each peering's observed sides in the log (one peering: the CLI shows them). A
    /// sweep drops them as it goes: a hub's accepter side, copied per peering, would hold
    /// hundreds of MiB until the run ends.
    keep_observations: bool,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    log: RunLog,
    /// How many of `log.outcomes` are published.
    published: usize,
    transient: Option<Error>,
}

impl<'a> Reporter<'a> {
    pub(super) fn new(app: &'a App, dry_run: bool, keep_observations: bool) -> Self {
        Self {
            app,
            dry_run,
            keep_observations,
            state: Mutex::default(),
        }
    }

    /// Files one peering's result; publishes when a batch is full.
    pub(super) async fn reconciled(&self, mut reconciled: Reconciled) {
        if !self.keep_observations {
            reconciled.forget_observations();
        }
        let mut state = self.state.lock().await;
        let peering_id = reconciled.peering_id();
        if let (Some(why), None) = (reconciled.left_alone(), reconciled.outcome()) {
            tracing::info!(%peering_id, why, "left alone");
            state.log.ignored.push(peering_id.to_string());
        }
        if let Some(error) = reconciled
            .applied()
            .iter()
            .find_map(|a| a.result.transient_error())
        {
            tracing::warn!(%peering_id, %error,
                "transient error; the invocation will fail and be retried");
            state.transient.get_or_insert(Error::Aws(error.clone()));
        }
        if let Some(outcome) = reconciled.outcome() {
            state.log.outcomes.push(outcome.clone());
        }
        state.log.reconciled.push(reconciled);
        flush(self.app, self.dry_run, &mut state, PUT_EVENTS_BATCH).await;
    }

    /// Files an error that stopped a peering (or, without an id, a whole account and region).
    pub(super) async fn failed(
        &self,
        run: &Run<'_>,
        peering_id: Option<&PeeringId>,
        location: Option<&Location>,
        err: Error,
    ) {
        let mut state = self.state.lock().await;
        let shown = peering_id.map_or("", PeeringId::as_str);
        state.log.failures.push(Failure {
            peering_id: peering_id.cloned(),
            location: location.cloned(),
            error: err.to_string(),
            transient: err.is_transient(),
        });
        if err.is_transient() {
            tracing::warn!(peering_id = shown, error = %err,
                "transient error; the invocation will fail and be retried");
            state.transient.get_or_insert(err);
            return;
        }
        tracing::error!(peering_id = shown, error = %err, "permanent error");
        let mut outcome = Outcome::about_id(
            OutcomeKind::Failed,
            peering_id,
            run.trigger,
            &run.correlation_id,
        );
        outcome.reasons = vec![match location {
            Some(at) => format!("account {} region {}: {err}", at.account, at.region),
            None => err.to_string(),
        }];
        outcome.error = Some(OutcomeError::from(&err));
        state.log.outcomes.push(outcome);
        flush(self.app, self.dry_run, &mut state, PUT_EVENTS_BATCH).await;
    }

    /// Marks something as outside the policy.
    pub(super) async fn ignore(&self, what: &str, why: &str) {
        tracing::info!(what, why, "ignored");
        self.state.lock().await.log.ignored.push(what.to_owned());
    }

    /// A peering the sweep did not start before its deadline.
    pub(super) async fn not_reached(&self, peering_id: PeeringId) {
        self.state.lock().await.log.not_reached.push(peering_id);
    }

    /// Ends a run: publishes what is left; the log, and the first transient error (which
    /// fails the invocation, so Lambda retries).
    pub(super) async fn finish(self) -> (RunLog, Option<Error>) {
        let mut state = self.state.into_inner();
        let app = self.app;
        flush(app, self.dry_run, &mut state, 1).await;
        tracing::info!(
            calls = app.aws.calls().len(),
            outcomes = state.log.outcomes.len(),
            ignored = state.log.ignored.len(),
            not_reached = state.log.not_reached.len(),
            "run finished"
        );
        (state.log, state.transient)
    }
}

/// Publishes the waiting outcomes once at least `batch` wait. A failed publish is kept as
/// the run's transient error; the retried run publishes again.
async fn flush(app: &App, dry_run: bool, state: &mut State, batch: usize) {
    let waiting = state.log.outcomes.len() - state.published;
    if waiting == 0 || waiting < batch {
        return;
    }
    let outcomes = &state.log.outcomes[state.published..];
    let result = if dry_run {
        Ok(())
    } else {
        app.outcomes.publish(outcomes).await
    };
    match result {
        Ok(()) => state.published = state.log.outcomes.len(),
        Err(err) => {
            tracing::warn!(error = %err, "publishing outcomes failed");
            state.transient.get_or_insert(err);
        }
    }
}
