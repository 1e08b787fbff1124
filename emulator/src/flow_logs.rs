//! VPC flow logs on the emulator: a flow log of a VPC to a CloudWatch Logs group, and the
//! records its interfaces would deliver. The emulator carries no packets, so whoever shows or
//! tests the Traffic layer writes the records the VPC would have logged.

use aws_smithy_types::error::display::DisplayErrorContext;

use crate::scenario::Side;
use crate::EmulatorError;

/// The interface every record is said to come from.
const INTERFACE: &str = "eni-0a1b2c3d4e5f60718";

/// A default-format (version 2) flow-log record of `account`'s interface: one TCP flow of 10
/// packets from `src:sport` to `dst:dport`, `ACCEPT` or `REJECT`.
pub fn flow_record(
    account: &str,
    src: &str,
    dst: &str,
    sport: u16,
    dport: u16,
    action: &str,
) -> String {
    format!(
        "2 {account} {INTERFACE} {src} {dst} {sport} {dport} 6 10 840 1700000000 1700000060 \
         {action} OK"
    )
}

fn seed_error(operation: &str, err: impl std::error::Error) -> EmulatorError {
    EmulatorError::Seed(format!("{operation}: {}", DisplayErrorContext(err)))
}

/// Creates a flow log of `side`'s VPC (all traffic) to a CloudWatch Logs group, through
/// `logs` acting as the same account, and writes `records` into it, stamped a minute ago.
/// Returns the group's name.
pub async fn seed_flow_log(
    side: &Side,
    logs: &aws_sdk_cloudwatchlogs::Client,
    records: &[String],
) -> Result<String, EmulatorError> {
    let group = format!("/peerwire/flow-logs/{}", side.vpc_id);
    logs.create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .map_err(|e| seed_error("CreateLogGroup", e))?;
    let stream = format!("{INTERFACE}-all");
    logs.create_log_stream()
        .log_group_name(&group)
        .log_stream_name(&stream)
        .send()
        .await
        .map_err(|e| seed_error("CreateLogStream", e))?;
    write_records(logs, &group, &stream, records).await?;
    side.ec2
        .create_flow_logs()
        .resource_type(aws_sdk_ec2::types::FlowLogsResourceType::Vpc)
        .resource_ids(&side.vpc_id)
        .traffic_type(aws_sdk_ec2::types::TrafficType::All)
        .log_destination_type(aws_sdk_ec2::types::LogDestinationType::CloudWatchLogs)
        .log_group_name(&group)
        .deliver_logs_permission_arn(format!(
            "arn:aws:iam::{}:role/flow-logs-delivery",
            side.account
        ))
        .send()
        .await
        .map_err(|e| seed_error("CreateFlowLogs", e))?;
    Ok(group)
}

/// Writes `records` into `group`'s interface stream, stamped a minute ago (within any
/// diagnosis window).
pub async fn write_records(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    stream: &str,
    records: &[String],
) -> Result<(), EmulatorError> {
    if records.is_empty() {
        return Ok(());
    }
    let now = chrono::Utc::now().timestamp_millis();
    let mut events = Vec::with_capacity(records.len());
    for (i, message) in records.iter().enumerate() {
        let offset = i64::try_from(i).unwrap_or(i64::MAX);
        events.push(
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now - 60_000 + offset)
                .message(message)
                .build()
                .map_err(|e| seed_error("InputLogEvent", e))?,
        );
    }
    logs.put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .set_log_events(Some(events))
        .send()
        .await
        .map_err(|e| seed_error("PutLogEvents", e))?;
    Ok(())
}

/// The stream [`seed_flow_log`] writes to.
pub fn stream() -> String {
    format!("{INTERFACE}-all")
}
