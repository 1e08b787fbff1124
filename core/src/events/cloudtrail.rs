//! CloudTrail management events of EC2, as EventBridge forwards them
//! (`AWS API Call via CloudTrail`). Only a successful call locates anything: a call with an
//! `errorCode` changed nothing.

use aws_lambda_events::cloudwatch_events::cloudtrail::AWSAPICall;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::Deserialize;
use serde_json::Value;

use super::{
    id, invalid, malformed, unsupported, DriftTrigger, EventError, Locator, CLOUDTRAIL_DETAIL_TYPE,
};
use crate::model::{AccountId, PeeringRef, Region};

/// The EC2 CloudTrail calls after which the drift function re-checks.
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
    "DisassociateVpcCidrBlock",
    "ModifySecurityGroupRules",
];

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
#[serde(rename_all = "camelCase")]
struct AcceptPeeringParams {
    vpc_peering_connection_id: String,
}

/// Refuses a call that CloudTrail recorded as failed.
fn succeeded(envelope: &EventBridgeEvent<Value>, event_name: &str) -> Result<(), EventError> {
    match envelope.detail.get("errorCode").and_then(Value::as_str) {
        Some(code) => Err(EventError::FailedCall {
            event_name: event_name.chars().take(64).collect(),
            error_code: code.chars().take(128).collect(),
        }),
        None => Ok(()),
    }
}

/// The typed CloudTrail detail of an EC2 call named `expected`.
fn ec2_detail<P, R>(
    envelope: &EventBridgeEvent<Value>,
    expected: &str,
) -> Result<AWSAPICall<P, R>, EventError>
where
    P: for<'de> Deserialize<'de>,
    R: for<'de> Deserialize<'de>,
{
    succeeded(envelope, expected)?;
    let call: AWSAPICall<P, R> = serde_json::from_value(envelope.detail.clone())
        .map_err(|e| malformed("CloudTrail detail", e))?;
    if call.event_source != "ec2.amazonaws.com" {
        return Err(invalid("detail.eventSource", "must be ec2.amazonaws.com"));
    }
    if call.event_name != expected {
        return Err(EventError::Unsupported {
            source_name: "aws.ec2".into(),
            detail_type: format!(
                "{CLOUDTRAIL_DETAIL_TYPE}: {}",
                call.event_name.chars().take(64).collect::<String>()
            ),
        });
    }
    Ok(call)
}

/// The account that made a call: `userIdentity.accountId`, else the envelope's `account`.
fn caller<P, R>(
    call: &AWSAPICall<P, R>,
    envelope: &EventBridgeEvent<Value>,
    missing: &str,
) -> Result<AccountId, EventError> {
    let account = call
        .user_identity
        .account_id
        .clone()
        .or_else(|| envelope.account.clone())
        .ok_or_else(|| invalid("detail.userIdentity.accountId", missing))?;
    id("detail.userIdentity.accountId", &account)
}

/// `CreateVpcPeeringConnection`: the new peering, located in its accepter account and region.
pub(super) fn peering_requested(
    envelope: &EventBridgeEvent<Value>,
) -> Result<PeeringRef, EventError> {
    let call: AWSAPICall<CreatePeeringParams, CreatePeeringResponse> =
        ec2_detail(envelope, "CreateVpcPeeringConnection")?;
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
    Ok(PeeringRef {
        peering_id: id(
            "detail.responseElements.vpcPeeringConnection.vpcPeeringConnectionId",
            &pcx.vpc_peering_connection_id,
        )?,
        account: id(
            "detail.responseElements.vpcPeeringConnection.accepterVpcInfo.ownerId",
            &account,
        )?,
        region: id("detail.awsRegion", &region)?,
    })
}

/// `AcceptVpcPeeringConnection`: made by the accepter account, so the event comes from its
/// CloudTrail.
pub(super) fn peering_accepted(
    envelope: &EventBridgeEvent<Value>,
) -> Result<PeeringRef, EventError> {
    let call: AWSAPICall<AcceptPeeringParams, Value> =
        ec2_detail(envelope, "AcceptVpcPeeringConnection")?;
    let account = caller(&call, envelope, "no accepter account in the event")?;
    Ok(PeeringRef {
        peering_id: id(
            "detail.requestParameters.vpcPeeringConnectionId",
            &call.request_parameters.vpc_peering_connection_id,
        )?,
        account,
        region: id("detail.awsRegion", &call.aws_region)?,
    })
}

/// A successful call of one service: its name, the calling account and region, its
/// parameters and response.
pub(super) struct Call {
    pub(super) name: String,
    pub(super) account: AccountId,
    pub(super) region: Region,
    pub(super) params: Value,
    pub(super) response: Value,
    /// `userIdentity.arn`: who made the call (an IAM user, an assumed-role session, an AWS
    /// service's role). Absent for some identity types (CloudTrail User Guide, "CloudTrail
    /// userIdentity element").
    pub(super) actor: Option<String>,
}

/// Any successful call recorded by CloudTrail for `event_source`.
pub(super) fn any_call(
    envelope: &EventBridgeEvent<Value>,
    event_source: &str,
) -> Result<Call, EventError> {
    let call: AWSAPICall<Value, Value> = serde_json::from_value(envelope.detail.clone())
        .map_err(|e| malformed("CloudTrail detail", e))?;
    if call.event_source != event_source {
        return Err(invalid(
            "detail.eventSource",
            format!("must be {event_source}"),
        ));
    }
    succeeded(envelope, &call.event_name)?;
    let account = caller(&call, envelope, "no account in the event")?;
    let region = id("detail.awsRegion", &call.aws_region)?;
    Ok(Call {
        actor: call.user_identity.arn.filter(|arn| !arn.is_empty()),
        name: call.event_name,
        account,
        region,
        params: call.request_parameters,
        response: call.response_elements.unwrap_or(Value::Null),
    })
}

/// Any successful EC2 call.
fn any_ec2_call(envelope: &EventBridgeEvent<Value>) -> Result<Call, EventError> {
    any_call(envelope, "ec2.amazonaws.com")
}

/// `requestParameters.<key>` parsed as a typed id.
fn parameter<T>(params: &Value, key: &str) -> Result<T, EventError>
where
    T: std::str::FromStr<Err = crate::model::IdError>,
{
    field_at(params, "detail.requestParameters", key)
}

/// `<value>.<key>` (a `/`-separated path of keys) parsed as a typed id; `field` names where
/// `value` sits in the event.
pub(super) fn field_at<T>(value: &Value, field: &str, key: &str) -> Result<T, EventError>
where
    T: std::str::FromStr<Err = crate::model::IdError>,
{
    let path = format!("{field}.{}", key.replace('/', "."));
    let found = value
        .pointer(&format!("/{key}"))
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(&path, "missing"))?;
    id(&path, found)
}

/// A change in a member account's network, located as precisely as the call allows.
pub(super) fn network_changed(
    envelope: &EventBridgeEvent<Value>,
) -> Result<DriftTrigger, EventError> {
    let Call {
        name: event_name,
        account,
        region,
        params,
        response,
        actor,
    } = any_ec2_call(envelope)?;
    let locator = match event_name.as_str() {
        "CreateSubnet" | "CreateRouteTable" | "AssociateVpcCidrBlock" => {
            Locator::Vpc(parameter(&params, "vpcId")?)
        }
        "AssociateRouteTable" | "ReplaceRouteTableAssociation" | "DeleteRoute" | "ReplaceRoute" => {
            Locator::RouteTable(parameter(&params, "routeTableId")?)
        }
        "RevokeSecurityGroupIngress" | "RevokeSecurityGroupEgress" => {
            Locator::SecurityGroup(parameter(&params, "groupId")?)
        }
        // Someone edited rules in place (possibly one of peerwire's).
        "ModifySecurityGroupRules" => Locator::SecurityGroup(parameter(
            &params,
            "ModifySecurityGroupRulesRequest/GroupId",
        )?),
        // The request names only the association; the response names the VPC.
        "DisassociateVpcCidrBlock" => {
            Locator::Vpc(field_at(&response, "detail.responseElements", "vpcId")?)
        }
        "ModifyVpcPeeringConnectionOptions" => {
            Locator::Peering(parameter(&params, "vpcPeeringConnectionId")?)
        }
        "DisassociateRouteTable" => Locator::Account,
        _ => return Err(unsupported(envelope, Some(&event_name))),
    };
    Ok(DriftTrigger::NetworkChanged {
        account,
        region,
        event_name,
        locator,
        actor,
    })
}

/// `DeleteVpcPeeringConnection` or `RejectVpcPeeringConnection`, from either side.
pub(super) fn peering_gone(envelope: &EventBridgeEvent<Value>) -> Result<PeeringRef, EventError> {
    let Call {
        name: event_name,
        account,
        region,
        params,
        ..
    } = any_ec2_call(envelope)?;
    if !matches!(
        event_name.as_str(),
        "DeleteVpcPeeringConnection" | "RejectVpcPeeringConnection"
    ) {
        return Err(unsupported(envelope, Some(&event_name)));
    }
    Ok(PeeringRef {
        peering_id: parameter(&params, "vpcPeeringConnectionId")?,
        account,
        region,
    })
}
