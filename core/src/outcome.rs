//! Outcome events: one per decision or change set, published to EventBridge (by
//! `aws::outcome_bus`) and logged as the same structured JSON, so people can route them to
//! Slack, SNS or tickets. The schemas of their details are in `docs/schemas/`.

use serde::{Serialize, Serializer};

use crate::error::Error;
use crate::model::{Peering, PeeringId, PeeringSide, PeeringStatus};
use crate::plan::{Finding, PlanStep};

/// What happened to a peering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
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
    /// The same drift was repaired a second time within 24 hours: something keeps undoing it
    /// (infrastructure code that owns the route table, a person's script). Said once a day,
    /// naming who removed it; later repairs that day are not notified.
    DriftRecurring,
    /// A deleted or rejected peering's routes and peerwire's rules were removed.
    CleanedUp,
    /// A request nobody accepted within 7 days expired (reported once).
    Expired,
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
            Self::DriftRecurring => "Peering Drift Recurring",
            Self::CleanedUp => "Peering Cleaned Up",
            Self::Expired => "Peering Request Expired",
        }
    }
}

/// The detail of an outcome event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub kind: OutcomeKind,
    /// `None` for a failure that is about an account and region, not one peering; written as
    /// `""` (the schema's contract).
    #[serde(serialize_with = "empty_when_none")]
    pub peering_id: Option<PeeringId>,
    /// `cloudtrail`, `sweep`, `approval`, ...
    pub trigger: String,
    /// The EventBridge id of the event that started the run.
    pub correlation_id: String,
    pub requester: Option<PeeringSide>,
    pub accepter: Option<PeeringSide>,
    /// The peering's status when peerwire observed it, before any change it made.
    pub observed_status: Option<PeeringStatus>,
    pub rule: Option<String>,
    pub reasons: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// Who made the change a drift repair undid (`userIdentity.arn` of the CloudTrail event
    /// that triggered the re-check), when the event said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<OutcomeError>,
    /// The changes made (wiring and cleanup outcomes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<PlanStep>,
    /// What was found and left alone.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

fn empty_when_none<S: Serializer>(id: &Option<PeeringId>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(id.as_ref().map_or("", PeeringId::as_str))
}

/// A permanent error, as carried in a `failed` outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutcomeError {
    pub error_type: String,
    pub message: String,
}

impl From<&Error> for OutcomeError {
    fn from(err: &Error) -> Self {
        Self {
            error_type: err.error_type().to_owned(),
            message: err.to_string(),
        }
    }
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
            requester: Some(peering.sides.requester.clone()),
            accepter: Some(peering.sides.accepter.clone()),
            observed_status: Some(peering.status.clone()),
            ..Self::about_id(kind, Some(&peering.id), trigger, correlation_id)
        }
    }

    /// An outcome about a peering known only by id (AWS no longer shows it), or about no
    /// peering at all (an account-level failure).
    pub fn about_id(
        kind: OutcomeKind,
        peering_id: Option<&PeeringId>,
        trigger: &str,
        correlation_id: &str,
    ) -> Self {
        Self {
            kind,
            peering_id: peering_id.cloned(),
            trigger: trigger.to_owned(),
            correlation_id: correlation_id.to_owned(),
            requester: None,
            accepter: None,
            observed_status: None,
            rule: None,
            reasons: Vec::new(),
            approved_by: None,
            changed_by: None,
            error: None,
            changes: Vec::new(),
            findings: Vec::new(),
        }
    }

    /// The ARN of the peering in its accepter account, when known: the event's `resources`.
    pub fn peering_arn(&self) -> Option<String> {
        let id = self.peering_id.as_ref()?;
        Some(match &self.accepter {
            Some(side) => format!(
                "arn:aws:ec2:{}:{}:vpc-peering-connection/{id}",
                side.region, side.account
            ),
            None => id.to_string(),
        })
    }

    /// Logs the outcome as one structured line.
    pub fn log(&self) {
        let detail = serde_json::to_string(self).unwrap_or_default();
        tracing::info!(
            outcome = ?self.kind,
            peering_id = self.peering_id.as_ref().map_or("", PeeringId::as_str),
            correlation_id = %self.correlation_id,
            trigger = %self.trigger,
            rule = self.rule.as_deref().unwrap_or(""),
            reasons = %self.reasons.join("; "),
            detail = %detail,
            "outcome"
        );
    }
}
