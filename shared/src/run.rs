//! What one invocation of a door collects: outcomes, ignored peerings, and the first transient
//! error, which fails the invocation only after everything else has been handled and reported.

use serde::Serialize;

use crate::app::App;
use crate::error::{Error, Result};
use crate::events::PeeringRef;
use crate::outcome::{Outcome, OutcomeError, OutcomeKind};

/// The outcomes of one run, also the Lambda's response.
#[derive(Debug, Default, Serialize)]
pub struct RunLog {
    pub outcomes: Vec<Outcome>,
    /// Peerings looked at but outside the policy: no outcome, no write.
    pub ignored: Vec<String>,
    #[serde(skip)]
    pub transient: Option<Error>,
}

impl RunLog {
    /// Files the result of handling one peering (or, with an empty id, one account/region).
    /// Permanent errors become `failed` outcomes; the first transient error is kept.
    pub fn record(
        &mut self,
        target: &PeeringRef,
        trigger: &str,
        correlation_id: &str,
        result: Result<Option<Outcome>>,
    ) {
        match result {
            Ok(Some(outcome)) => self.outcomes.push(outcome),
            Ok(None) => {}
            Err(err) if err.is_transient() => {
                tracing::warn!(peering_id = %target.peering_id, error = %err,
                    "transient error; the invocation will fail and be retried");
                self.transient.get_or_insert(err);
            }
            Err(err) => {
                tracing::error!(peering_id = %target.peering_id, error = %err, "permanent error");
                let mut outcome =
                    Outcome::about_ref(OutcomeKind::Failed, target, trigger, correlation_id);
                outcome.reasons = vec![format!(
                    "account {} region {}: {err}",
                    target.accepter_account, target.region
                )];
                outcome.error = Some(OutcomeError {
                    error_type: err.error_type().to_owned(),
                    message: err.to_string(),
                });
                self.outcomes.push(outcome);
            }
        }
    }

    /// Ends a run: publishes and logs the outcomes, then fails with the first transient error
    /// (so Lambda retries) or returns the log as the invocation's response.
    pub async fn finish(mut self, app: &App, door: &'static str) -> Result<Self> {
        app.outcomes.publish(&self.outcomes).await?;
        tracing::info!(
            door,
            calls = app.aws.calls().calls().len(),
            outcomes = self.outcomes.len(),
            ignored = self.ignored.len(),
            "run finished"
        );
        match self.transient.take() {
            Some(err) => Err(err),
            None => Ok(self),
        }
    }

    /// Marks a peering as outside the policy.
    pub fn ignore(&mut self, peering_id: &str, why: &str) {
        tracing::info!(peering_id, why, "ignored");
        self.ignored.push(peering_id.to_owned());
    }
}
