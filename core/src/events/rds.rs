//! RDS events (`RDS DB Instance Event`, `RDS DB Cluster Event`): a failover or a change that
//! may move a database into subnets that are not routed yet.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::Deserialize;
use serde_json::Value;

use super::cloudtrail::{any_call, field_at};
use super::{id, invalid, malformed, unsupported, DriftTrigger, EventError, Locator};

pub(super) const INSTANCE_EVENT: &str = "RDS DB Instance Event";
pub(super) const CLUSTER_EVENT: &str = "RDS DB Cluster Event";

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

/// The database the event is about, in the account and region of the envelope.
pub(super) fn database_changed(
    envelope: &EventBridgeEvent<Value>,
) -> Result<DriftTrigger, EventError> {
    let detail: RdsDetail = serde_json::from_value(envelope.detail.clone())
        .map_err(|e| malformed("RDS event detail", e))?;
    let identifier = detail
        .source_identifier
        .parse()
        .map_err(|_| invalid("detail.SourceIdentifier", "not a DB identifier"))?;
    let account = envelope
        .account
        .as_deref()
        .ok_or_else(|| invalid("account", "missing"))?;
    let region = envelope
        .region
        .as_deref()
        .ok_or_else(|| invalid("region", "missing"))?;
    Ok(DriftTrigger::DatabaseChanged {
        account: id("account", account)?,
        region: id("region", region)?,
        locator: Locator::Database {
            identifier,
            cluster: envelope.detail_type == CLUSTER_EVENT
                || detail.source_type.as_deref() == Some("CLUSTER"),
        },
        event_id: detail.event_id.chars().take(32).collect(),
    })
}

/// CloudTrail `ModifyDBSubnetGroup`: the group may now span subnets that are not routed. The
/// response names the group's VPC; its active peerings are re-checked.
pub(super) fn subnet_group_changed(
    envelope: &EventBridgeEvent<Value>,
) -> Result<DriftTrigger, EventError> {
    let call = any_call(envelope, "rds.amazonaws.com")?;
    if call.name != "ModifyDBSubnetGroup" {
        return Err(unsupported(envelope, Some(&call.name)));
    }
    Ok(DriftTrigger::NetworkChanged {
        locator: Locator::Vpc(field_at(
            &call.response,
            "detail.responseElements",
            "vpcId",
        )?),
        account: call.account,
        region: call.region,
        event_name: call.name,
    })
}
