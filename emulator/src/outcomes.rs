//! Captures peerwire's outcome events the way a user would: an EventBridge rule on the outcome
//! bus with an SQS target (moto delivers to SQS targets; Lambda targets break its PutEvents).
//! The same capture on the hub bus stands in for a function's rule: what an approver puts there
//! is delivered to the queue, and a test hands it to the function's door.

use aws_config::SdkConfig;
use aws_smithy_types::error::display::DisplayErrorContext;
use serde_json::Value;

use crate::EmulatorError;

fn err(operation: &str, e: impl std::error::Error) -> EmulatorError {
    EmulatorError::Seed(format!("{operation}: {}", DisplayErrorContext(e)))
}

/// An outcome bus whose events land in a queue.
#[derive(Debug)]
pub struct OutcomeCapture {
    pub bus_name: String,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

impl OutcomeCapture {
    /// Creates bus `bus_name` in the hub account, a queue, and a rule `source = peerwire`.
    pub async fn create(hub: &SdkConfig, bus_name: &str) -> Result<Self, EmulatorError> {
        Self::matching(
            hub,
            bus_name,
            "capture-outcomes",
            r#"{"source":["peerwire"]}"#,
        )
        .await
    }

    /// Creates bus `bus_name` in the hub account, a queue, and rule `rule` with `pattern`
    /// targeting it.
    pub async fn matching(
        hub: &SdkConfig,
        bus_name: &str,
        rule: &str,
        pattern: &str,
    ) -> Result<Self, EmulatorError> {
        let events = aws_sdk_eventbridge::Client::new(hub);
        let sqs = aws_sdk_sqs::Client::new(hub);
        events
            .create_event_bus()
            .name(bus_name)
            .send()
            .await
            .map_err(|e| err("CreateEventBus", e))?;
        let queue_url = sqs
            .create_queue()
            .queue_name(format!("{bus_name}-capture"))
            .send()
            .await
            .map_err(|e| err("CreateQueue", e))?
            .queue_url()
            .map(str::to_owned)
            .ok_or_else(|| EmulatorError::Seed("CreateQueue returned no url".into()))?;
        let queue_arn = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| err("GetQueueAttributes", e))?
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .cloned()
            .ok_or_else(|| EmulatorError::Seed("queue has no ARN".into()))?;
        events
            .put_rule()
            .name(rule)
            .event_bus_name(bus_name)
            .event_pattern(pattern)
            .send()
            .await
            .map_err(|e| err("PutRule", e))?;
        events
            .put_targets()
            .rule(rule)
            .event_bus_name(bus_name)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("queue")
                    .arn(queue_arn)
                    .build()
                    .map_err(|e| err("Target", e))?,
            )
            .send()
            .await
            .map_err(|e| err("PutTargets", e))?;
        Ok(Self {
            bus_name: bus_name.to_owned(),
            sqs,
            queue_url,
        })
    }

    /// Every outcome event delivered so far (whole EventBridge events), removed from the queue.
    pub async fn drain(&self) -> Result<Vec<Value>, EmulatorError> {
        let mut events = Vec::new();
        loop {
            let response = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .map_err(|e| err("ReceiveMessage", e))?;
            let messages = response.messages();
            if messages.is_empty() {
                return Ok(events);
            }
            for message in messages {
                if let Some(body) = message.body() {
                    events.push(
                        serde_json::from_str(body)
                            .map_err(|e| EmulatorError::Seed(format!("outcome body: {e}")))?,
                    );
                }
                if let Some(handle) = message.receipt_handle() {
                    self.sqs
                        .delete_message()
                        .queue_url(&self.queue_url)
                        .receipt_handle(handle)
                        .send()
                        .await
                        .map_err(|e| err("DeleteMessage", e))?;
                }
            }
        }
    }
}
