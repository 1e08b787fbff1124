//! Typed EventBridge events. An event only says *where to look*; nothing in it is trusted as
//! state. Anything unknown or malformed becomes an [`EventError`] that names the field, before
//! any AWS call is made.
//!
//! One parser per function ([`parse_request_event`], [`parse_wiring_event`],
//! [`parse_drift_event`], [`parse_cleanup_event`]) dispatches on `source` and `detail-type`; the
//! detail of each source is read by its own module.

mod approval;
mod cloudtrail;
mod rds;

use std::str::FromStr;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::Serialize;
use serde_json::Value;

use crate::model::{
    AccountId, ApprovalDecision, DbIdentifier, IdError, PeeringId, PeeringRef, Region,
};
use crate::model::{RouteTableId, SecurityGroupId, VpcId};

pub use approval::{approval_event, ApprovalEvent};
pub use cloudtrail::DRIFT_EVENT_NAMES;

/// Source of approval events. EventBridge refuses `aws.*` sources from PutEvents, so only
/// principals the bus policy admits can send this; see README.
pub const APPROVAL_SOURCE: &str = "peerwire.approval";
/// Detail type of an approval that grants a held request.
pub const APPROVAL_DETAIL_TYPE: &str = "Peering Approval Granted";
/// Detail type of an approval that denies a held request.
pub const DENIAL_DETAIL_TYPE: &str = "Peering Approval Denied";
/// `source` of every outcome event peerwire publishes.
pub const OUTCOME_SOURCE: &str = "peerwire";
/// Detail type of peerwire's own "accepted" outcome, which the wiring function listens to.
pub const ACCEPTED_DETAIL_TYPE: &str = "Peering Request Accepted";
/// Detail type of every CloudTrail management event forwarded by EventBridge.
pub const CLOUDTRAIL_DETAIL_TYPE: &str = "AWS API Call via CloudTrail";
/// Detail type of EventBridge schedules and EventBridge Scheduler events.
pub const SCHEDULED_DETAIL_TYPE: &str = "Scheduled Event";

/// Why an event was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Not an EventBridge envelope, or a required envelope or detail field is missing or has
    /// the wrong type; the serde message names the field.
    #[error("malformed {what}: {message}")]
    Malformed { what: &'static str, message: String },
    /// Well-formed but not an event this function handles.
    #[error("unsupported event: source `{source_name}`, detail-type `{detail_type}`")]
    Unsupported {
        source_name: String,
        detail_type: String,
    },
    /// A field is present but its value is not acceptable.
    #[error("field `{field}`: {reason}")]
    InvalidField { field: String, reason: String },
    /// CloudTrail recorded a call that failed: there is nothing to look at.
    #[error("CloudTrail reports that {event_name} failed with {error_code}")]
    FailedCall {
        event_name: String,
        error_code: String,
    },
}

/// An event as a function receives it: the EventBridge `id` (the correlation id of every log
/// line and outcome of the run) and what it asks to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<T> {
    pub correlation_id: String,
    pub trigger: T,
}

/// What the request function was asked to look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "trigger", rename_all = "kebab-case")]
pub enum RequestTrigger {
    /// CloudTrail `CreateVpcPeeringConnection` from the requester account.
    PeeringRequested(PeeringRef),
    /// A schedule: sweep every pending request in the policy's accepter accounts.
    Sweep,
    /// An approver granted or denied a held request.
    Approval(ApprovalDecision),
}

impl RequestTrigger {
    /// A short name for logs and outcome events.
    pub fn name(&self) -> &'static str {
        match self {
            Self::PeeringRequested(_) => "cloudtrail",
            Self::Sweep => "sweep",
            Self::Approval(_) => "approval",
        }
    }
}

/// What the wiring function was asked to look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "trigger", rename_all = "kebab-case")]
pub enum WiringTrigger {
    /// CloudTrail `AcceptVpcPeeringConnection`, or peerwire's own "accepted" outcome.
    PeeringAccepted(PeeringRef),
    /// A schedule: every active peering in the policy's accepter accounts.
    Sweep,
}

impl WiringTrigger {
    /// A short name for logs and outcome events.
    pub fn name(&self) -> &'static str {
        match self {
            Self::PeeringAccepted(_) => "accepted",
            Self::Sweep => "sweep",
        }
    }
}

/// Where a change happened, as precisely as its event says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum Locator {
    Vpc(VpcId),
    RouteTable(RouteTableId),
    SecurityGroup(SecurityGroupId),
    Peering(PeeringId),
    /// A DB instance or cluster (its DB subnet group decides the VPC).
    Database {
        identifier: DbIdentifier,
        cluster: bool,
    },
    /// The event names nothing resolvable (e.g. `DisassociateRouteTable` carries only an
    /// association id): every active peering of the account is re-checked.
    Account,
}

/// What the drift function was asked to look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "trigger", rename_all = "kebab-case")]
pub enum DriftTrigger {
    /// A CloudTrail EC2 change in a member account.
    NetworkChanged {
        account: AccountId,
        region: Region,
        event_name: String,
        locator: Locator,
        /// Who made the call (`userIdentity.arn`), named when a repair keeps coming back.
        #[serde(skip_serializing_if = "Option::is_none")]
        actor: Option<String>,
    },
    /// An RDS failover or modification of a DB instance or cluster.
    DatabaseChanged {
        account: AccountId,
        region: Region,
        locator: Locator,
        event_id: String,
    },
    /// A schedule: every active peering the policy covers.
    Sweep,
}

impl DriftTrigger {
    /// A short name for logs and outcome events.
    pub fn name(&self) -> &'static str {
        match self {
            Self::NetworkChanged { .. } => "cloudtrail",
            Self::DatabaseChanged { .. } => "rds",
            Self::Sweep => "sweep",
        }
    }
}

/// What the cleanup function was asked to look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "trigger", rename_all = "kebab-case")]
pub enum CleanupTrigger {
    /// CloudTrail `DeleteVpcPeeringConnection` or `RejectVpcPeeringConnection`, from the
    /// account that made the call (either side).
    PeeringGone(PeeringRef),
    /// A schedule: every deleted, rejected, expired or failed peering of the policy's accepter
    /// accounts.
    Sweep,
}

impl CleanupTrigger {
    /// A short name for logs and outcome events.
    pub fn name(&self) -> &'static str {
        match self {
            Self::PeeringGone(_) => "cloudtrail",
            Self::Sweep => "sweep",
        }
    }
}

/// Parses an event for the peering-request function.
///
/// Accepts: CloudTrail `CreateVpcPeeringConnection` (source `aws.ec2`), schedules (source
/// `aws.events` or `aws.scheduler`), and approvals (source [`APPROVAL_SOURCE`]).
pub fn parse_request_event(event: &Value) -> Result<Event<RequestTrigger>, EventError> {
    let (envelope, correlation_id) = envelope(event)?;
    let trigger = match (envelope.source.as_str(), envelope.detail_type.as_str()) {
        ("aws.ec2", CLOUDTRAIL_DETAIL_TYPE) => {
            RequestTrigger::PeeringRequested(cloudtrail::peering_requested(&envelope)?)
        }
        (source, SCHEDULED_DETAIL_TYPE) if is_schedule(source) => RequestTrigger::Sweep,
        (APPROVAL_SOURCE, APPROVAL_DETAIL_TYPE | DENIAL_DETAIL_TYPE) => {
            RequestTrigger::Approval(approval::decision(&envelope)?)
        }
        _ => return Err(unsupported(&envelope, None)),
    };
    Ok(Event {
        correlation_id,
        trigger,
    })
}

/// Parses an event for the peering-wiring function.
///
/// Accepts: CloudTrail `AcceptVpcPeeringConnection` (source `aws.ec2`, emitted in the accepter
/// account), peerwire's `Peering Request Accepted` outcome (source `peerwire`), and schedules.
pub fn parse_wiring_event(event: &Value) -> Result<Event<WiringTrigger>, EventError> {
    let (envelope, correlation_id) = envelope(event)?;
    let trigger = match (envelope.source.as_str(), envelope.detail_type.as_str()) {
        ("aws.ec2", CLOUDTRAIL_DETAIL_TYPE) => {
            WiringTrigger::PeeringAccepted(cloudtrail::peering_accepted(&envelope)?)
        }
        (OUTCOME_SOURCE, ACCEPTED_DETAIL_TYPE) => {
            WiringTrigger::PeeringAccepted(approval::accepted_outcome(&envelope)?)
        }
        (source, SCHEDULED_DETAIL_TYPE) if is_schedule(source) => WiringTrigger::Sweep,
        _ => return Err(unsupported(&envelope, None)),
    };
    Ok(Event {
        correlation_id,
        trigger,
    })
}

/// Parses an event for the drift-recheck function: the EC2 CloudTrail calls of
/// [`DRIFT_EVENT_NAMES`], RDS instance and cluster events, and schedules.
pub fn parse_drift_event(event: &Value) -> Result<Event<DriftTrigger>, EventError> {
    let (envelope, correlation_id) = envelope(event)?;
    let trigger = match (envelope.source.as_str(), envelope.detail_type.as_str()) {
        ("aws.ec2", CLOUDTRAIL_DETAIL_TYPE) => cloudtrail::network_changed(&envelope)?,
        ("aws.rds", rds::INSTANCE_EVENT | rds::CLUSTER_EVENT) => rds::database_changed(&envelope)?,
        ("aws.rds", CLOUDTRAIL_DETAIL_TYPE) => rds::subnet_group_changed(&envelope)?,
        (source, SCHEDULED_DETAIL_TYPE) if is_schedule(source) => DriftTrigger::Sweep,
        _ => return Err(unsupported(&envelope, None)),
    };
    Ok(Event {
        correlation_id,
        trigger,
    })
}

/// Parses an event for the peering-cleanup function: CloudTrail `DeleteVpcPeeringConnection`
/// and `RejectVpcPeeringConnection`, and schedules.
pub fn parse_cleanup_event(event: &Value) -> Result<Event<CleanupTrigger>, EventError> {
    let (envelope, correlation_id) = envelope(event)?;
    let trigger = match (envelope.source.as_str(), envelope.detail_type.as_str()) {
        ("aws.ec2", CLOUDTRAIL_DETAIL_TYPE) => {
            CleanupTrigger::PeeringGone(cloudtrail::peering_gone(&envelope)?)
        }
        (source, SCHEDULED_DETAIL_TYPE) if is_schedule(source) => CleanupTrigger::Sweep,
        _ => return Err(unsupported(&envelope, None)),
    };
    Ok(Event {
        correlation_id,
        trigger,
    })
}

/// EventBridge schedules (`aws.events`) and EventBridge Scheduler (`aws.scheduler`).
fn is_schedule(source: &str) -> bool {
    matches!(source, "aws.events" | "aws.scheduler")
}

/// Envelope checks every function shares: the typed envelope and the correlation id.
fn envelope(event: &Value) -> Result<(EventBridgeEvent<Value>, String), EventError> {
    let envelope: EventBridgeEvent<Value> =
        serde_json::from_value(event.clone()).map_err(|e| malformed("EventBridge envelope", e))?;
    let correlation_id = envelope
        .id
        .clone()
        .filter(|id| !id.is_empty() && id.len() <= 128)
        .ok_or_else(|| invalid("id", "an EventBridge event id is required (1-128 chars)"))?;
    Ok((envelope, correlation_id))
}

fn malformed(what: &'static str, err: serde_json::Error) -> EventError {
    EventError::Malformed {
        what,
        message: err.to_string(),
    }
}

fn invalid(field: &str, reason: impl Into<String>) -> EventError {
    EventError::InvalidField {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// Parses `value` of `field` as a typed id, with the id's own validation.
fn id<T: FromStr<Err = IdError>>(field: &str, value: &str) -> Result<T, EventError> {
    value
        .parse()
        .map_err(|e: IdError| invalid(field, e.to_string()))
}

/// The event is well-formed but not one this function takes. `detail` names the CloudTrail
/// call when there is one.
fn unsupported(envelope: &EventBridgeEvent<Value>, detail: Option<&str>) -> EventError {
    let mut detail_type: String = envelope.detail_type.chars().take(128).collect();
    if let Some(name) = detail {
        detail_type.push_str(": ");
        detail_type.extend(name.chars().take(64));
    }
    EventError::Unsupported {
        source_name: envelope.source.chars().take(128).collect(),
        detail_type,
    }
}

#[cfg(test)]
mod tests;
