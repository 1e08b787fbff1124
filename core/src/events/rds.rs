//! RDS events (`RDS DB Instance Event`, `RDS DB Cluster Event`): a failover or a change that
//! may move a database into subnets that are not routed yet.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::Deserialize;
use serde_json::Value;

use super::cloudtrail::{any_call, field_at};
use super::{id, invalid, malformed, unsupported, DriftTrigger, EventError, Locator};
use crate::model::DbIdentifier;

pub(super) const INSTANCE_EVENT: &str = "RDS DB Instance Event";
pub(super) const CLUSTER_EVENT: &str = "RDS DB Cluster Event";

/// The RDS event detail, as EventBridge delivers it (PascalCase keys). The RDS User Guide's
/// examples ("Overview of events for Amazon RDS", `rds-cloudwatch-events.sample`) print
/// `"SourceIdentifier": "rds:my-db-instance"` and `"SourceArn":
/// "arn:aws:rds:us-east-1:123456789012:db:my-db-instance"`; its tutorial's received event
/// ("Creating a rule that triggers on an Amazon RDS event") and captured events print a bare
/// name (`"testdb"`). Both forms are read.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RdsDetail {
    /// Absent from some documented samples (the Lambda Developer Guide's RDS event).
    #[serde(rename = "EventID", default)]
    event_id: String,
    #[serde(default)]
    source_identifier: Option<String>,
    #[serde(default)]
    source_arn: Option<String>,
    #[serde(default)]
    source_type: Option<String>,
}

/// A DB instance or cluster named by an RDS event.
#[derive(Debug, PartialEq, Eq)]
struct Source {
    identifier: DbIdentifier,
    cluster: bool,
}

/// The instance or cluster of an ARN `arn:<partition>:rds:<region>:<account>:db:<id>` or
/// `...:cluster:<id>`; `None` for any other resource type (a snapshot, a parameter group).
fn from_arn(arn: &str) -> Option<Result<Source, EventError>> {
    let mut parts = arn.splitn(7, ':');
    let (Some("arn"), Some(_partition), Some("rds"), Some(_region), Some(_account)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Some(Err(invalid(
            "detail.SourceArn",
            "not an RDS ARN (arn:<partition>:rds:<region>:<account>:<type>:<id>)",
        )));
    };
    let cluster = match parts.next()? {
        "db" => false,
        "cluster" => true,
        _ => return None,
    };
    let identifier = parts.next().unwrap_or_default();
    Some(id("detail.SourceArn", identifier).map(|identifier| Source {
        identifier,
        cluster,
    }))
}

/// The instance or cluster an event is about: from `SourceArn` when it names one, else from
/// `SourceIdentifier` (with or without the `rds:` prefix), the kind from the detail type or
/// `SourceType`.
fn source(detail: &RdsDetail, detail_type: &str) -> Result<Source, EventError> {
    if let Some(from) = detail.source_arn.as_deref().and_then(from_arn) {
        return from;
    }
    let Some(name) = detail.source_identifier.as_deref() else {
        return Err(invalid(
            "detail.SourceIdentifier",
            "missing, and detail.SourceArn names no DB instance or cluster",
        ));
    };
    let bare = name.strip_prefix("rds:").unwrap_or(name);
    let identifier = bare
        .parse()
        .map_err(|_| invalid("detail.SourceIdentifier", "not a DB identifier"))?;
    Ok(Source {
        identifier,
        cluster: detail_type == CLUSTER_EVENT || detail.source_type.as_deref() == Some("CLUSTER"),
    })
}

/// The database the event is about, in the account and region of the envelope.
pub(super) fn database_changed(
    envelope: &EventBridgeEvent<Value>,
) -> Result<DriftTrigger, EventError> {
    let detail: RdsDetail = serde_json::from_value(envelope.detail.clone())
        .map_err(|e| malformed("RDS event detail", e))?;
    let Source {
        identifier,
        cluster,
    } = source(&detail, &envelope.detail_type)?;
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
            cluster,
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
        actor: call.actor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(arn: Option<&str>, identifier: Option<&str>, source_type: &str) -> RdsDetail {
        RdsDetail {
            event_id: "RDS-EVENT-0049".to_owned(),
            source_identifier: identifier.map(str::to_owned),
            source_arn: arn.map(str::to_owned),
            source_type: Some(source_type.to_owned()),
        }
    }

    fn named(identifier: &str, cluster: bool) -> Source {
        Source {
            identifier: identifier.parse().unwrap(),
            cluster,
        }
    }

    #[test]
    fn the_arn_names_the_instance_or_cluster_and_its_kind() {
        let instance = detail(
            Some("arn:aws:rds:us-east-1:123456789012:db:my-db-instance"),
            Some("rds:my-db-instance"),
            "DB_INSTANCE",
        );
        assert_eq!(
            source(&instance, INSTANCE_EVENT).unwrap(),
            named("my-db-instance", false)
        );
        let cluster = detail(
            Some("arn:aws-cn:rds:cn-north-1:123456789012:cluster:my-db-cluster"),
            Some("rds:my-db-cluster"),
            "CLUSTER",
        );
        assert_eq!(
            source(&cluster, CLUSTER_EVENT).unwrap(),
            named("my-db-cluster", true)
        );
    }

    #[test]
    fn without_an_arn_the_identifier_is_read_with_or_without_the_rds_prefix() {
        for id in ["rds:testdb", "testdb"] {
            let d = detail(None, Some(id), "DB_INSTANCE");
            assert_eq!(source(&d, INSTANCE_EVENT).unwrap(), named("testdb", false));
        }
        let d = detail(None, Some("rds:aurora-1"), "CLUSTER");
        assert_eq!(
            source(&d, "RDS DB Instance Event").unwrap(),
            named("aurora-1", true)
        );
    }

    #[test]
    fn an_arn_of_another_resource_falls_back_to_the_identifier_and_garbage_is_refused() {
        let snapshot = detail(
            Some("arn:aws:rds:us-east-1:123456789012:snapshot:rds:my-db-snapshot"),
            Some("rds:my-db-snapshot"),
            "SNAPSHOT",
        );
        // A snapshot's name is still a valid identifier; the kind is not a cluster.
        assert_eq!(
            source(&snapshot, INSTANCE_EVENT).unwrap(),
            named("my-db-snapshot", false)
        );
        for bad in [
            detail(Some("not-an-arn"), Some("testdb"), "DB_INSTANCE"),
            detail(
                Some("arn:aws:rds:us-east-1:123456789012:db:bad_name"),
                None,
                "DB_INSTANCE",
            ),
            detail(None, Some("rds:bad:name"), "DB_INSTANCE"),
            detail(None, None, "DB_INSTANCE"),
        ] {
            assert!(matches!(
                source(&bad, INSTANCE_EVENT),
                Err(EventError::InvalidField { .. })
            ));
        }
    }
}
