//! Typed EventBridge events. An event only says *where to look*; nothing in it is trusted as
//! state. Anything unknown or malformed becomes an [`EventError`] that names the field, before
//! any AWS call is made.

use aws_lambda_events::cloudwatch_events::cloudtrail::AWSAPICall;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::Deserialize;
use serde_json::Value;

/// Source of approval events. EventBridge refuses `aws.*` sources from PutEvents, so only
/// principals the bus policy admits can send this; see README.
pub const APPROVAL_SOURCE: &str = "peerwire.approval";
/// Detail type of an approval event.
pub const APPROVAL_DETAIL_TYPE: &str = "Peering Approval Granted";
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

/// Where a peering lives, from the accepter's point of view.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PeeringRef {
    pub peering_id: String,
    pub accepter_account: String,
    pub region: String,
}

/// What the request door was asked to look at.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "trigger", rename_all = "kebab-case")]
pub enum RequestTrigger {
    /// CloudTrail `CreateVpcPeeringConnection` from the requester account.
    PeeringRequested(PeeringRef),
    /// A schedule: sweep every pending request in the policy's accepter accounts.
    Sweep,
    /// A person granted a held request.
    Approval {
        #[serde(flatten)]
        peering: PeeringRef,
        approved_by: String,
    },
}

impl RequestTrigger {
    /// A short name for logs and outcome events.
    pub fn name(&self) -> &'static str {
        match self {
            Self::PeeringRequested(_) => "cloudtrail",
            Self::Sweep => "sweep",
            Self::Approval { .. } => "approval",
        }
    }
}

/// A parsed event for the request door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestEvent {
    /// The EventBridge event `id`, used as the correlation id of logs and outcomes.
    pub correlation_id: String,
    pub trigger: RequestTrigger,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatePeeringParams {
    #[serde(default)]
    peer_owner_id: Option<String>,
    #[serde(default)]
    peer_region: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatePeeringResponse {
    vpc_peering_connection: CloudTrailPeering,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CloudTrailPeering {
    vpc_peering_connection_id: String,
    #[serde(default)]
    accepter_vpc_info: Option<CloudTrailVpcInfo>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CloudTrailVpcInfo {
    #[serde(default)]
    owner_id: Option<String>,
    #[serde(default)]
    region: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApprovalDetail {
    peering_id: String,
    accepter_account: String,
    region: String,
    approved_by: String,
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

/// `pcx-` followed by 8 or 17 lowercase hex digits.
pub fn is_peering_id(id: &str) -> bool {
    id.strip_prefix("pcx-").is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Exactly 12 ASCII digits.
pub fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// The shape of an AWS region name: `us-east-1`, `eu-central-2`, `us-gov-west-1`.
pub fn is_region(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts.len() <= 4
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|n| !n.is_empty() && n.len() <= 2 && n.bytes().all(|b| b.is_ascii_digit()))
}

fn checked(
    field: &str,
    value: String,
    valid: fn(&str) -> bool,
    what: &str,
) -> Result<String, EventError> {
    if valid(&value) {
        Ok(value)
    } else {
        let shown: String = value.chars().take(64).collect();
        Err(invalid(field, format!("`{shown}` is not {what}")))
    }
}

/// Parses an event for the peering-request function.
///
/// Accepts: CloudTrail `CreateVpcPeeringConnection` (source `aws.ec2`), schedules (source
/// `aws.events` or `aws.scheduler`), and approvals (source [`APPROVAL_SOURCE`]).
pub fn parse_request_event(event: &Value) -> Result<RequestEvent, EventError> {
    let (envelope, correlation_id) = envelope(event)?;
    let trigger = match (envelope.source.as_str(), envelope.detail_type.as_str()) {
        ("aws.ec2", CLOUDTRAIL_DETAIL_TYPE) => peering_requested(&envelope)?,
        ("aws.events" | "aws.scheduler", SCHEDULED_DETAIL_TYPE) => RequestTrigger::Sweep,
        (APPROVAL_SOURCE, APPROVAL_DETAIL_TYPE) => approval(&envelope)?,
        (source, detail_type) => {
            return Err(EventError::Unsupported {
                source_name: source.chars().take(128).collect(),
                detail_type: detail_type.chars().take(128).collect(),
            })
        }
    };
    Ok(RequestEvent {
        correlation_id,
        trigger,
    })
}

fn peering_requested(envelope: &EventBridgeEvent<Value>) -> Result<RequestTrigger, EventError> {
    if let Some(code) = envelope.detail.get("errorCode").and_then(Value::as_str) {
        return Err(EventError::FailedCall {
            event_name: "CreateVpcPeeringConnection".into(),
            error_code: code.chars().take(128).collect(),
        });
    }
    let call: AWSAPICall<CreatePeeringParams, CreatePeeringResponse> =
        serde_json::from_value(envelope.detail.clone())
            .map_err(|e| malformed("CloudTrail detail", e))?;
    if call.event_source != "ec2.amazonaws.com" {
        return Err(invalid("detail.eventSource", "must be ec2.amazonaws.com"));
    }
    if call.event_name != "CreateVpcPeeringConnection" {
        return Err(EventError::Unsupported {
            source_name: "aws.ec2".into(),
            detail_type: format!(
                "{CLOUDTRAIL_DETAIL_TYPE}: {}",
                call.event_name.chars().take(64).collect::<String>()
            ),
        });
    }
    let response = call.response_elements.ok_or_else(|| {
        invalid(
            "detail.responseElements",
            "missing: the call did not succeed",
        )
    })?;
    let pcx = response.vpc_peering_connection;
    let accepter = pcx.accepter_vpc_info.as_ref();
    // The accepter is the peer owner; it defaults to the requester's own account and region.
    let account = accepter
        .and_then(|a| a.owner_id.clone())
        .or(call.request_parameters.peer_owner_id)
        .or_else(|| call.user_identity.account_id.clone())
        .or_else(|| envelope.account.clone())
        .ok_or_else(|| {
            invalid(
                "detail.requestParameters.peerOwnerId",
                "no accepter account in the event",
            )
        })?;
    let region = accepter
        .and_then(|a| a.region.clone())
        .or(call.request_parameters.peer_region)
        .unwrap_or(call.aws_region);
    Ok(RequestTrigger::PeeringRequested(PeeringRef {
        peering_id: checked(
            "detail.responseElements.vpcPeeringConnection.vpcPeeringConnectionId",
            pcx.vpc_peering_connection_id,
            is_peering_id,
            "a VPC peering connection id",
        )?,
        accepter_account: checked(
            "detail.responseElements.vpcPeeringConnection.accepterVpcInfo.ownerId",
            account,
            is_account_id,
            "a 12-digit account id",
        )?,
        region: checked("detail.awsRegion", region, is_region, "an AWS region")?,
    }))
}

fn approval(envelope: &EventBridgeEvent<Value>) -> Result<RequestTrigger, EventError> {
    let detail: ApprovalDetail = serde_json::from_value(envelope.detail.clone())
        .map_err(|e| malformed("approval detail", e))?;
    let approved_by = detail.approved_by.trim().to_owned();
    if approved_by.is_empty() || approved_by.len() > 256 {
        return Err(invalid(
            "detail.approved_by",
            "must name who approved (1-256 chars)",
        ));
    }
    Ok(RequestTrigger::Approval {
        peering: PeeringRef {
            peering_id: checked(
                "detail.peering_id",
                detail.peering_id,
                is_peering_id,
                "a VPC peering connection id",
            )?,
            accepter_account: checked(
                "detail.accepter_account",
                detail.accepter_account,
                is_account_id,
                "a 12-digit account id",
            )?,
            region: checked("detail.region", detail.region, is_region, "an AWS region")?,
        },
        approved_by,
    })
}

/// What the wiring door was asked to look at.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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

/// A parsed event for the wiring door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WiringEvent {
    pub correlation_id: String,
    pub trigger: WiringTrigger,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AcceptPeeringParams {
    vpc_peering_connection_id: String,
}

#[derive(Debug, Deserialize)]
struct AcceptedOutcomeDetail {
    peering_id: String,
    accepter: AcceptedOutcomeSide,
}

#[derive(Debug, Deserialize)]
struct AcceptedOutcomeSide {
    account: String,
    region: String,
}

/// Parses an event for the peering-wiring function.
///
/// Accepts: CloudTrail `AcceptVpcPeeringConnection` (source `aws.ec2`, emitted in the accepter
/// account), peerwire's `Peering Request Accepted` outcome (source `peerwire`), and schedules.
pub fn parse_wiring_event(event: &Value) -> Result<WiringEvent, EventError> {
    let (envelope, correlation_id) = envelope(event)?;
    let trigger = match (envelope.source.as_str(), envelope.detail_type.as_str()) {
        ("aws.ec2", CLOUDTRAIL_DETAIL_TYPE) => peering_accepted_cloudtrail(&envelope)?,
        (crate::outcome::OUTCOME_SOURCE, "Peering Request Accepted") => {
            let detail: AcceptedOutcomeDetail = serde_json::from_value(envelope.detail.clone())
                .map_err(|e| malformed("outcome detail", e))?;
            WiringTrigger::PeeringAccepted(PeeringRef {
                peering_id: checked(
                    "detail.peering_id",
                    detail.peering_id,
                    is_peering_id,
                    "a VPC peering connection id",
                )?,
                accepter_account: checked(
                    "detail.accepter.account",
                    detail.accepter.account,
                    is_account_id,
                    "a 12-digit account id",
                )?,
                region: checked(
                    "detail.accepter.region",
                    detail.accepter.region,
                    is_region,
                    "an AWS region",
                )?,
            })
        }
        ("aws.events" | "aws.scheduler", SCHEDULED_DETAIL_TYPE) => WiringTrigger::Sweep,
        (source, detail_type) => {
            return Err(EventError::Unsupported {
                source_name: source.chars().take(128).collect(),
                detail_type: detail_type.chars().take(128).collect(),
            })
        }
    };
    Ok(WiringEvent {
        correlation_id,
        trigger,
    })
}

fn peering_accepted_cloudtrail(
    envelope: &EventBridgeEvent<Value>,
) -> Result<WiringTrigger, EventError> {
    if let Some(code) = envelope.detail.get("errorCode").and_then(Value::as_str) {
        return Err(EventError::FailedCall {
            event_name: "AcceptVpcPeeringConnection".into(),
            error_code: code.chars().take(128).collect(),
        });
    }
    let call: AWSAPICall<AcceptPeeringParams, Value> =
        serde_json::from_value(envelope.detail.clone())
            .map_err(|e| malformed("CloudTrail detail", e))?;
    if call.event_source != "ec2.amazonaws.com" {
        return Err(invalid("detail.eventSource", "must be ec2.amazonaws.com"));
    }
    if call.event_name != "AcceptVpcPeeringConnection" {
        return Err(EventError::Unsupported {
            source_name: "aws.ec2".into(),
            detail_type: format!(
                "{CLOUDTRAIL_DETAIL_TYPE}: {}",
                call.event_name.chars().take(64).collect::<String>()
            ),
        });
    }
    // The accepter account made the call, so the event comes from its CloudTrail.
    let account = call
        .user_identity
        .account_id
        .clone()
        .or_else(|| envelope.account.clone())
        .ok_or_else(|| {
            invalid(
                "detail.userIdentity.accountId",
                "no accepter account in the event",
            )
        })?;
    Ok(WiringTrigger::PeeringAccepted(PeeringRef {
        peering_id: checked(
            "detail.requestParameters.vpcPeeringConnectionId",
            call.request_parameters.vpc_peering_connection_id,
            is_peering_id,
            "a VPC peering connection id",
        )?,
        accepter_account: checked(
            "detail.userIdentity.accountId",
            account,
            is_account_id,
            "a 12-digit account id",
        )?,
        region: checked(
            "detail.awsRegion",
            call.aws_region,
            is_region,
            "an AWS region",
        )?,
    }))
}

/// Where a change happened, as precisely as its event says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum Locator {
    Vpc(String),
    RouteTable(String),
    SecurityGroup(String),
    Peering(String),
    /// The event names nothing resolvable (e.g. `DisassociateRouteTable` carries only an
    /// association id): every active peering of the account is re-checked.
    Account,
}

/// What the drift door was asked to look at.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "trigger", rename_all = "kebab-case")]
pub enum DriftTrigger {
    /// A CloudTrail EC2 change in a member account.
    NetworkChanged {
        account: String,
        region: String,
        event_name: String,
        locator: Locator,
    },
    /// An RDS failover or modification of a DB instance or cluster.
    DatabaseChanged {
        account: String,
        region: String,
        identifier: String,
        cluster: bool,
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

/// A parsed event for the drift door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftEvent {
    pub correlation_id: String,
    pub trigger: DriftTrigger,
}

/// What the cleanup door was asked to look at.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "trigger", rename_all = "kebab-case")]
pub enum CleanupTrigger {
    /// CloudTrail `DeleteVpcPeeringConnection` or `RejectVpcPeeringConnection`, from the
    /// account that made the call (either side).
    PeeringGone {
        peering_id: String,
        account: String,
        region: String,
    },
    /// A schedule: every deleted, rejected, expired or failed peering of the policy's accepter
    /// accounts.
    Sweep,
}

impl CleanupTrigger {
    /// A short name for logs and outcome events.
    pub fn name(&self) -> &'static str {
        match self {
            Self::PeeringGone { .. } => "cloudtrail",
            Self::Sweep => "sweep",
        }
    }
}

/// A parsed event for the cleanup door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanupEvent {
    pub correlation_id: String,
    pub trigger: CleanupTrigger,
}

/// The EC2 CloudTrail calls after which the drift door re-checks.
pub const DRIFT_EVENT_NAMES: &[&str] = &[
    "CreateSubnet",
    "CreateRouteTable",
    "AssociateRouteTable",
    "ReplaceRouteTableAssociation",
    "DisassociateRouteTable",
    "DeleteRoute",
    "ReplaceRoute",
    "RevokeSecurityGroupIngress",
    "RevokeSecurityGroupEgress",
    "ModifyVpcPeeringConnectionOptions",
    "AssociateVpcCidrBlock",
];

/// The RDS event detail, as EventBridge delivers it (PascalCase keys).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RdsDetail {
    #[serde(rename = "EventID")]
    event_id: String,
    source_identifier: String,
    #[serde(default)]
    source_type: Option<String>,
}

/// Envelope checks every door shares: the typed envelope and the correlation id.
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

/// A successful EC2 CloudTrail call: its name, the calling account, region and parameters.
fn ec2_call(
    envelope: &EventBridgeEvent<Value>,
) -> Result<(String, String, String, Value), EventError> {
    let call: AWSAPICall<Value, Value> = serde_json::from_value(envelope.detail.clone())
        .map_err(|e| malformed("CloudTrail detail", e))?;
    if call.event_source != "ec2.amazonaws.com" {
        return Err(invalid("detail.eventSource", "must be ec2.amazonaws.com"));
    }
    if let Some(code) = envelope.detail.get("errorCode").and_then(Value::as_str) {
        return Err(EventError::FailedCall {
            event_name: call.event_name.chars().take(64).collect(),
            error_code: code.chars().take(128).collect(),
        });
    }
    let account = call
        .user_identity
        .account_id
        .clone()
        .or_else(|| envelope.account.clone())
        .ok_or_else(|| invalid("detail.userIdentity.accountId", "no account in the event"))?;
    let account = checked(
        "detail.userIdentity.accountId",
        account,
        is_account_id,
        "a 12-digit account id",
    )?;
    let region = checked(
        "detail.awsRegion",
        call.aws_region,
        is_region,
        "an AWS region",
    )?;
    Ok((call.event_name, account, region, call.request_parameters))
}

/// `requestParameters.<key>` as a string, checked to start with `prefix`.
fn resource_id(params: &Value, key: &str, prefix: &str) -> Result<String, EventError> {
    let field = format!("detail.requestParameters.{key}");
    let value = params
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(&field, "missing"))?;
    let ok = value.strip_prefix(prefix).is_some_and(|rest| {
        (8..=17).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_hexdigit())
    });
    if ok {
        Ok(value.to_owned())
    } else {
        let shown: String = value.chars().take(64).collect();
        Err(invalid(&field, format!("`{shown}` is not a {prefix}… id")))
    }
}

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

/// Parses an event for the drift-recheck function: the EC2 CloudTrail calls of
/// [`DRIFT_EVENT_NAMES`], RDS instance and cluster events, and schedules.
pub fn parse_drift_event(event: &Value) -> Result<DriftEvent, EventError> {
    let (envelope, correlation_id) = envelope(event)?;
    let trigger = match (envelope.source.as_str(), envelope.detail_type.as_str()) {
        ("aws.ec2", CLOUDTRAIL_DETAIL_TYPE) => {
            let (event_name, account, region, params) = ec2_call(&envelope)?;
            let locator = match event_name.as_str() {
                "CreateSubnet" | "CreateRouteTable" | "AssociateVpcCidrBlock" => {
                    Locator::Vpc(resource_id(&params, "vpcId", "vpc-")?)
                }
                "AssociateRouteTable"
                | "ReplaceRouteTableAssociation"
                | "DeleteRoute"
                | "ReplaceRoute" => {
                    Locator::RouteTable(resource_id(&params, "routeTableId", "rtb-")?)
                }
                "RevokeSecurityGroupIngress" | "RevokeSecurityGroupEgress" => {
                    Locator::SecurityGroup(resource_id(&params, "groupId", "sg-")?)
                }
                "ModifyVpcPeeringConnectionOptions" => {
                    Locator::Peering(resource_id(&params, "vpcPeeringConnectionId", "pcx-")?)
                }
                "DisassociateRouteTable" => Locator::Account,
                _ => return Err(unsupported(&envelope, Some(&event_name))),
            };
            DriftTrigger::NetworkChanged {
                account,
                region,
                event_name,
                locator,
            }
        }
        ("aws.rds", "RDS DB Instance Event" | "RDS DB Cluster Event") => {
            let detail: RdsDetail = serde_json::from_value(envelope.detail.clone())
                .map_err(|e| malformed("RDS event detail", e))?;
            let identifier = detail.source_identifier;
            let valid = !identifier.is_empty()
                && identifier.len() <= 63
                && identifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !valid {
                return Err(invalid("detail.SourceIdentifier", "not a DB identifier"));
            }
            let account = envelope
                .account
                .clone()
                .ok_or_else(|| invalid("account", "missing"))?;
            let region = envelope
                .region
                .clone()
                .ok_or_else(|| invalid("region", "missing"))?;
            DriftTrigger::DatabaseChanged {
                account: checked("account", account, is_account_id, "a 12-digit account id")?,
                region: checked("region", region, is_region, "an AWS region")?,
                identifier,
                cluster: envelope.detail_type == "RDS DB Cluster Event"
                    || detail.source_type.as_deref() == Some("CLUSTER"),
                event_id: detail.event_id.chars().take(32).collect(),
            }
        }
        ("aws.events" | "aws.scheduler", SCHEDULED_DETAIL_TYPE) => DriftTrigger::Sweep,
        _ => return Err(unsupported(&envelope, None)),
    };
    Ok(DriftEvent {
        correlation_id,
        trigger,
    })
}

/// Parses an event for the peering-cleanup function: CloudTrail `DeleteVpcPeeringConnection`
/// and `RejectVpcPeeringConnection`, and schedules.
pub fn parse_cleanup_event(event: &Value) -> Result<CleanupEvent, EventError> {
    let (envelope, correlation_id) = envelope(event)?;
    let trigger = match (envelope.source.as_str(), envelope.detail_type.as_str()) {
        ("aws.ec2", CLOUDTRAIL_DETAIL_TYPE) => {
            let (event_name, account, region, params) = ec2_call(&envelope)?;
            if !matches!(
                event_name.as_str(),
                "DeleteVpcPeeringConnection" | "RejectVpcPeeringConnection"
            ) {
                return Err(unsupported(&envelope, Some(&event_name)));
            }
            CleanupTrigger::PeeringGone {
                peering_id: resource_id(&params, "vpcPeeringConnectionId", "pcx-")?,
                account,
                region,
            }
        }
        ("aws.events" | "aws.scheduler", SCHEDULED_DETAIL_TYPE) => CleanupTrigger::Sweep,
        _ => return Err(unsupported(&envelope, None)),
    };
    Ok(CleanupEvent {
        correlation_id,
        trigger,
    })
}
