//! Publishes outcome events to one EventBridge bus.

use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use crate::aws::error::from_sdk;
use peerwire_core::error::{AwsError, AwsErrorKind, Error, Result};
use peerwire_core::events::OUTCOME_SOURCE;
use peerwire_core::outcome::Outcome;

/// EventBridge takes at most 10 entries per PutEvents call (and 256 KB in all).
pub const PUT_EVENTS_BATCH: usize = 10;

/// The bus outcome events go to.
#[derive(Debug, Clone)]
pub struct OutcomeBus {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl OutcomeBus {
    /// `bus` is a bus name or ARN; `default` is the account's default bus.
    pub fn new(client: aws_sdk_eventbridge::Client, bus: impl Into<String>) -> Self {
        Self {
            client,
            bus: bus.into(),
        }
    }

    /// Logs and publishes `outcomes`, 10 per call. A partly failed PutEvents is an error: the
    /// invocation then fails and is retried, and the re-run re-publishes.
    pub async fn publish(&self, outcomes: &[Outcome]) -> Result<()> {
        const OP: &str = "PutEvents";
        for outcome in outcomes {
            outcome.log();
        }
        for batch in outcomes.chunks(PUT_EVENTS_BATCH) {
            let mut request = self.client.put_events();
            for outcome in batch {
                let detail = serde_json::to_string(outcome).map_err(|e| Error::Response {
                    operation: OP,
                    detail: format!("outcome not serialisable: {e}"),
                })?;
                request = request.entries(
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(OUTCOME_SOURCE)
                        .detail_type(outcome.kind.detail_type())
                        .set_resources(outcome.peering_arn().map(|arn| vec![arn]))
                        .detail(detail)
                        .build(),
                );
            }
            let response = request.send().await.map_err(|e| from_sdk(OP, e))?;
            if response.failed_entry_count() > 0 {
                let first = response
                    .entries()
                    .iter()
                    .find(|entry| entry.error_code().is_some());
                let code = first.and_then(|e| e.error_code()).map(str::to_owned);
                return Err(AwsError {
                    operation: OP,
                    kind: AwsErrorKind::classify(code.as_deref(), None),
                    code,
                    message: first.and_then(|e| e.error_message()).map(str::to_owned),
                }
                .into());
            }
        }
        Ok(())
    }
}
