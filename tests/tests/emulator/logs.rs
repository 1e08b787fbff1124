//! VPC flow logs in CloudWatch Logs (`logs.py`): the space-delimited filter; Logs Insights as moto leaves it.

use aws_sdk_ec2::types::{Filter, FlowLogsResourceType, LogDestinationType, TrafficType};
use peerwire_emulator::scenario::{Scenario, REQUESTER_ACCOUNT};
use peerwire_emulator::{Emulator, HttpAnswer};
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

use super::*;

const LOGS_SPACE_DELIMITED_FILTER: &str = "logs-space-delimited-filter";
// ---------------------------------------------------------------------------------------------
// logs-space-delimited-filter (VPC flow logs in CloudWatch Logs)

const FLOW_LOG_GROUP: &str = "/peerwire/flow-logs";

/// Flow-log records of the payments traffic: accepted and rejected PostgreSQL, HTTPS from
/// another task, and a NODATA record.
const FLOW_RECORDS: [&str; 4] = [
    "2 111111111111 eni-0a1b2c3d 10.0.1.5 10.1.1.9 40000 5432 6 10 840 1700000000 1700000060 ACCEPT OK",
    "2 111111111111 eni-0a1b2c3d 10.0.1.5 10.1.1.9 40001 5432 6 3 180 1700000000 1700000060 REJECT OK",
    "2 111111111111 eni-0a1b2c3d 10.0.2.7 10.1.1.9 40002 443 6 4 300 1700000000 1700000060 ACCEPT OK",
    "2 111111111111 eni-0a1b2c3d - - - - - - - 1700000000 1700000060 - NODATA",
];

async fn logs(emulator: &Emulator, action: &str, body: Value) -> HttpAnswer {
    emulator
        .call_json(
            REQUESTER_ACCOUNT,
            "logs",
            &format!("Logs_20140328.{action}"),
            &body,
        )
        .await
        .unwrap()
}

/// A flow log on the requester VPC into a log group holding `FLOW_RECORDS`.
async fn flow_logs(emulator: &Emulator) {
    let scenario = Scenario::seed(emulator).await.unwrap();
    let ec2 = &scenario.requester.ec2;
    let vpc = &scenario.requester.vpc_id;
    for (action, body) in [
        ("CreateLogGroup", json!({"logGroupName": FLOW_LOG_GROUP})),
        (
            "CreateLogStream",
            json!({"logGroupName": FLOW_LOG_GROUP, "logStreamName": "eni-0a1b2c3d-all"}),
        ),
    ] {
        assert_eq!(logs(emulator, action, body).await.status, 200);
    }
    ec2.create_flow_logs()
        .resource_ids(vpc)
        .resource_type(FlowLogsResourceType::Vpc)
        .traffic_type(TrafficType::All)
        .log_destination_type(LogDestinationType::CloudWatchLogs)
        .log_group_name(FLOW_LOG_GROUP)
        .deliver_logs_permission_arn(format!("arn:aws:iam::{REQUESTER_ACCOUNT}:role/flow-logs"))
        .send()
        .await
        .unwrap();
    let described = ec2
        .describe_flow_logs()
        .filter(Filter::builder().name("resource-id").values(vpc).build())
        .send()
        .await
        .unwrap();
    let groups: Vec<Option<&str>> = described
        .flow_logs()
        .iter()
        .map(|f| f.log_group_name())
        .collect();
    assert_eq!(groups, [Some(FLOW_LOG_GROUP)]);

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let events: Vec<Value> = FLOW_RECORDS
        .iter()
        .enumerate()
        .map(|(i, m)| json!({"timestamp": now + i as u128, "message": m}))
        .collect();
    let put = logs(
        emulator,
        "PutLogEvents",
        json!({"logGroupName": FLOW_LOG_GROUP, "logStreamName": "eni-0a1b2c3d-all", "logEvents": events}),
    )
    .await;
    assert_eq!(put.status, 200, "{put:?}");
}

/// The indexes in `FLOW_RECORDS` of the events FilterLogEvents answers for `pattern`, or the
/// error type.
async fn matching(emulator: &Emulator, pattern: &str) -> Result<Vec<usize>, String> {
    let answer = logs(
        emulator,
        "FilterLogEvents",
        json!({"logGroupName": FLOW_LOG_GROUP, "filterPattern": pattern}),
    )
    .await;
    if answer.status != 200 {
        return Err(error_type(&answer));
    }
    let mut found: Vec<usize> = answer.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| FLOW_RECORDS.iter().position(|r| e["message"] == *r))
        .collect();
    found.sort_unstable();
    Ok(found)
}

const FIELDS: &str =
    "version, account, eni, src, dst, srcport, dstport, protocol, packets, bytes, start, end, action, status";

#[tokio::test]
async fn logs_space_delimited_filter_selects_flow_log_records() {
    let emulator = Emulator::start().await.unwrap();
    flow_logs(&emulator).await;
    let rejected_postgres = FIELDS
        .replace("dstport,", "dstport=5432,")
        .replace("action,", "action=REJECT,");
    assert_eq!(
        matching(&emulator, &format!("[{rejected_postgres}]")).await,
        Ok(vec![1])
    );
    assert_eq!(
        matching(&emulator, r#"[..., action="ACCEPT", status]"#).await,
        Ok(vec![0, 2])
    );
    assert_eq!(
        matching(&emulator, r#"[version, account, eni, src="10.0.1.*", ...]"#).await,
        Ok(vec![0, 1])
    );
    assert_eq!(
        matching(&emulator, "[v, a, e, s, d, sp, dp, p, packets>=4, ...]").await,
        Ok(vec![0, 2])
    );
    assert_eq!(
        matching(&emulator, "[v, a, e, s, d, sp, dp=443 || dp=5432, ...]").await,
        Ok(vec![0, 1, 2])
    );
    assert_eq!(
        matching(&emulator, "[..., status=NODATA]").await,
        Ok(vec![3])
    );
    // Without `...` the field count must match.
    assert_eq!(matching(&emulator, "[version, account]").await, Ok(vec![]));
    // Plain terms work in moto already.
    assert_eq!(matching(&emulator, "REJECT").await, Ok(vec![1]));
    assert_eq!(
        matching(&emulator, "[version,, account]").await,
        Err("InvalidParameterException".into())
    );
}

#[tokio::test]
async fn without_logs_space_delimited_filter_moto_returns_every_record() {
    let emulator = Emulator::start_with_disabled(&[LOGS_SPACE_DELIMITED_FILTER])
        .await
        .unwrap();
    flow_logs(&emulator).await;
    assert_eq!(
        matching(&emulator, "[..., action=REJECT, status]").await,
        Ok(vec![0, 1, 2, 3])
    );
}

#[tokio::test]
async fn logs_insights_queries_are_not_evaluated_by_moto() {
    // Not patched: moto's StartQuery runs only `fields`, `sort` and `limit`, so a `filter` keeps
    // every record. FilterLogEvents is the supported way to read flow logs in the emulator.
    let emulator = Emulator::start().await.unwrap();
    flow_logs(&emulator).await;
    let started = logs(
        &emulator,
        "StartQuery",
        json!({
            "logGroupName": FLOW_LOG_GROUP,
            "startTime": 0,
            "endTime": 4_000_000_000_u64,
            "queryString": "fields @message | filter @message like /REJECT/",
        }),
    )
    .await;
    assert_eq!(started.status, 200, "{started:?}");
    let query = started.json()["queryId"].clone();
    let results = logs(&emulator, "GetQueryResults", json!({"queryId": query})).await;
    let rows = results.json()["results"].as_array().map_or(0, Vec::len);
    assert_eq!(rows, FLOW_RECORDS.len(), "moto now filters: {results:?}");
}
