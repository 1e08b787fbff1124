//! Outcome events: one per decision or change set, published to EventBridge and logged as the
//! same structured JSON, so people can route them to Slack, SNS or tickets.

use serde::Serialize;

use crate::error::{AwsError, AwsErrorKind, Error, Result};
use crate::events::PeeringRef;
use crate::model::{Peering, PeeringSide};
use crate::plan::{Finding, PlanStep};

/// `source` of every outcome event.
pub const OUTCOME_SOURCE: &str = "peerwire";
/// EventBridge takes at most 10 entries per PutEvents call (and 256 KB in all).
const PUT_EVENTS_BATCH: usize = 10;

/// What happened to a peering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutcomeKind {
    Accepted,
    Rejected,
    ApprovalRequired,
    Skipped,
    /// A permanent error (access denied, a resource that vanished): reported, not retried.
    Failed,
    /// Wiring changed something: routes, rules or DNS options were added.
    Wired,
    /// Wiring found a conflict it must not resolve (a route to the peer through another
    /// target); whatever else was missing has been applied.
    WiringBlocked,
    /// A wired peering had drifted (a route, rule or option missing) and was repaired.
    DriftRepaired,
    /// A deleted or rejected peering's routes and peerwire's rules were removed.
    CleanedUp,
}

impl OutcomeKind {
    /// The EventBridge `detail-type`; rules match on it.
    pub fn detail_type(self) -> &'static str {
        match self {
            Self::Accepted => "Peering Request Accepted",
            Self::Rejected => "Peering Request Rejected",
            Self::ApprovalRequired => "Peering Approval Required",
            Self::Skipped => "Peering Request Skipped",
            Self::Failed => "Peering Reconcile Failed",
            Self::Wired => "Peering Wired",
            Self::WiringBlocked => "Peering Wiring Blocked",
            Self::DriftRepaired => "Peering Drift Repaired",
            Self::CleanedUp => "Peering Cleaned Up",
        }
    }
}

/// The detail of an outcome event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub kind: OutcomeKind,
    pub peering_id: String,
    /// `cloudtrail`, `sweep` or `approval`.
    pub trigger: String,
    /// The EventBridge id of the event that started the run.
    pub correlation_id: String,
    pub requester: Option<PeeringSide>,
    pub accepter: Option<PeeringSide>,
    /// The peering's status when peerwire observed it, before any change it made.
    pub observed_status: Option<String>,
    pub rule: Option<String>,
    pub reasons: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<OutcomeError>,
    /// The changes made (wiring outcomes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<PlanStep>,
    /// What was found and left alone (wiring outcomes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

/// A permanent error, as carried in a `failed` outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutcomeError {
    pub error_type: String,
    pub message: String,
}

impl Outcome {
    /// An outcome about `peering`, with both sides filled in.
    pub fn about(
        kind: OutcomeKind,
        peering: &Peering,
        trigger: &str,
        correlation_id: &str,
    ) -> Self {
        Self {
            kind,
            peering_id: peering.id.clone(),
            trigger: trigger.to_owned(),
            correlation_id: correlation_id.to_owned(),
            requester: Some(peering.requester.clone()),
            accepter: Some(peering.accepter.clone()),
            observed_status: Some(peering.status.code().to_owned()),
            rule: None,
            reasons: Vec::new(),
            approved_by: None,
            error: None,
            changes: Vec::new(),
            findings: Vec::new(),
        }
    }

    /// An outcome about a peering known only by reference (not found, or an account-level
    /// failure when `peering_id` is empty).
    pub fn about_ref(
        kind: OutcomeKind,
        target: &PeeringRef,
        trigger: &str,
        correlation_id: &str,
    ) -> Self {
        Self {
            kind,
            peering_id: target.peering_id.clone(),
            trigger: trigger.to_owned(),
            correlation_id: correlation_id.to_owned(),
            requester: None,
            accepter: None,
            observed_status: None,
            rule: None,
            reasons: Vec::new(),
            approved_by: None,
            error: None,
            changes: Vec::new(),
            findings: Vec::new(),
        }
    }

    /// Logs the outcome as one structured line.
    pub fn log(&self) {
        let detail = serde_json::to_string(self).unwrap_or_default();
        tracing::info!(
            outcome = ?self.kind,
            peering_id = %self.peering_id,
            correlation_id = %self.correlation_id,
            trigger = %self.trigger,
            rule = self.rule.as_deref().unwrap_or(""),
            reasons = %self.reasons.join("; "),
            detail = %detail,
            "outcome"
        );
    }
}

/// Publishes outcomes to one EventBridge bus.
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
                    aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(OUTCOME_SOURCE)
                        .detail_type(outcome.kind.detail_type())
                        .resources(peering_arn(outcome))
                        .detail(detail)
                        .build(),
                );
            }
            let response = request
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(OP, e))?;
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

fn peering_arn(outcome: &Outcome) -> String {
    match &outcome.accepter {
        Some(side) => format!(
            "arn:aws:ec2:{}:{}:vpc-peering-connection/{}",
            side.region, side.account, outcome.peering_id
        ),
        None => outcome.peering_id.clone(),
    }
}
