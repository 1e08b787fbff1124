//! The sample events of `events/`, with the ids of a seeded scenario put in, so tests and the
//! demo feed the functions real-shaped events.

use serde_json::{json, Value};

/// `events/cloudtrail-create-vpc-peering-connection.json`.
pub const CLOUDTRAIL_CREATE_PEERING: &str =
    include_str!("../../events/cloudtrail-create-vpc-peering-connection.json");
/// `events/cloudtrail-accept-vpc-peering-connection.json`.
pub const CLOUDTRAIL_ACCEPT_PEERING: &str =
    include_str!("../../events/cloudtrail-accept-vpc-peering-connection.json");
/// `events/schedule-sweep.json`.
pub const SCHEDULE_SWEEP: &str = include_str!("../../events/schedule-sweep.json");
/// `events/approval-granted.json`.
pub const APPROVAL_GRANTED: &str = include_str!("../../events/approval-granted.json");
/// `events/approval-denied.json`.
pub const APPROVAL_DENIED: &str = include_str!("../../events/approval-denied.json");

/// The `n`th EventBridge event id of a run: `00000000-0000-4000-8000-<n, 12 digits>`.
pub fn event_id(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn parse(sample: &str) -> Value {
    serde_json::from_str(sample).unwrap_or(Value::Null)
}

fn set(event: &mut Value, pointer: &str, value: Value) {
    if let Some(slot) = event.pointer_mut(pointer) {
        *slot = value;
    }
}

/// What a CloudTrail `CreateVpcPeeringConnection` event says about a request.
#[derive(Debug, Clone)]
pub struct PeeringRequestEvent<'a> {
    pub event_id: &'a str,
    pub peering_id: &'a str,
    pub requester_account: &'a str,
    pub requester_vpc: &'a str,
    pub accepter_account: &'a str,
    pub accepter_vpc: &'a str,
    pub region: &'a str,
}

/// The CloudTrail sample, describing `request`.
pub fn cloudtrail_create_peering(request: &PeeringRequestEvent<'_>) -> Value {
    let envelope = [
        ("/id", request.event_id),
        ("/account", request.requester_account),
        ("/region", request.region),
        ("/detail/awsRegion", request.region),
        ("/detail/recipientAccountId", request.requester_account),
        ("/detail/userIdentity/accountId", request.requester_account),
        ("/detail/requestParameters/vpcId", request.requester_vpc),
        ("/detail/requestParameters/peerVpcId", request.accepter_vpc),
        (
            "/detail/requestParameters/peerOwnerId",
            request.accepter_account,
        ),
        ("/detail/requestParameters/peerRegion", request.region),
    ];
    let connection = [
        ("vpcPeeringConnectionId", request.peering_id),
        ("requesterVpcInfo/ownerId", request.requester_account),
        ("requesterVpcInfo/vpcId", request.requester_vpc),
        ("accepterVpcInfo/ownerId", request.accepter_account),
        ("accepterVpcInfo/vpcId", request.accepter_vpc),
        ("accepterVpcInfo/region", request.region),
    ];
    let mut event = parse(CLOUDTRAIL_CREATE_PEERING);
    for (pointer, value) in envelope {
        set(&mut event, pointer, json!(value));
    }
    for (field, value) in connection {
        let pointer = format!("/detail/responseElements/vpcPeeringConnection/{field}");
        set(&mut event, &pointer, json!(value));
    }
    event
}

/// The schedule sample with its own event id.
pub fn schedule_sweep(event_id: &str) -> Value {
    let mut event = parse(SCHEDULE_SWEEP);
    set(&mut event, "/id", json!(event_id));
    event
}

/// The approval sample for one peering.
pub fn approval_granted(
    event_id: &str,
    peering_id: &str,
    accepter_account: &str,
    approved_by: &str,
) -> Value {
    let mut event = parse(APPROVAL_GRANTED);
    set(&mut event, "/id", json!(event_id));
    set(&mut event, "/detail/peering_id", json!(peering_id));
    set(
        &mut event,
        "/detail/accepter_account",
        json!(accepter_account),
    );
    set(&mut event, "/detail/approved_by", json!(approved_by));
    set(&mut event, "/time", json!(now()));
    event
}

/// The denial sample for one peering, sent now.
pub fn approval_denied(
    event_id: &str,
    peering_id: &str,
    accepter_account: &str,
    denied_by: &str,
    reason: &str,
) -> Value {
    let mut event = parse(APPROVAL_DENIED);
    set(&mut event, "/id", json!(event_id));
    set(&mut event, "/detail/peering_id", json!(peering_id));
    set(
        &mut event,
        "/detail/accepter_account",
        json!(accepter_account),
    );
    set(&mut event, "/detail/denied_by", json!(denied_by));
    set(&mut event, "/detail/reason", json!(reason));
    set(&mut event, "/time", json!(now()));
    event
}

/// The current time as EventBridge writes it (`2026-11-20T11:02:00Z`).
fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The CloudTrail `AcceptVpcPeeringConnection` sample, emitted by `accepter_account`.
pub fn cloudtrail_accept_peering(
    event_id: &str,
    peering_id: &str,
    accepter_account: &str,
    region: &str,
) -> Value {
    let mut event = parse(CLOUDTRAIL_ACCEPT_PEERING);
    set(&mut event, "/id", json!(event_id));
    set(&mut event, "/account", json!(accepter_account));
    set(&mut event, "/region", json!(region));
    set(&mut event, "/detail/awsRegion", json!(region));
    set(
        &mut event,
        "/detail/recipientAccountId",
        json!(accepter_account),
    );
    set(
        &mut event,
        "/detail/userIdentity/accountId",
        json!(accepter_account),
    );
    set(
        &mut event,
        "/detail/requestParameters/vpcPeeringConnectionId",
        json!(peering_id),
    );
    set(
        &mut event,
        "/detail/responseElements/vpcPeeringConnection/vpcPeeringConnectionId",
        json!(peering_id),
    );
    event
}

/// A CloudTrail EC2 management event for `event_name` made by `account`, shaped like the
/// samples in `events/` (the CreateVpcPeeringConnection sample with its call swapped).
pub fn cloudtrail_ec2_call(
    event_id: &str,
    event_name: &str,
    account: &str,
    region: &str,
    request_parameters: Value,
) -> Value {
    let mut event = parse(CLOUDTRAIL_CREATE_PEERING);
    set(&mut event, "/id", json!(event_id));
    set(&mut event, "/account", json!(account));
    set(&mut event, "/region", json!(region));
    set(&mut event, "/detail/eventName", json!(event_name));
    set(&mut event, "/detail/awsRegion", json!(region));
    set(&mut event, "/detail/recipientAccountId", json!(account));
    set(&mut event, "/detail/userIdentity/accountId", json!(account));
    set(&mut event, "/detail/requestParameters", request_parameters);
    set(&mut event, "/detail/responseElements", Value::Null);
    event
}

/// An RDS "DB Instance Event" (`cluster` false) or "DB Cluster Event" as EventBridge delivers
/// it, e.g. `RDS-EVENT-0049` (Multi-AZ failover completed).
pub fn rds_event(
    event_id: &str,
    account: &str,
    region: &str,
    identifier: &str,
    cluster: bool,
    rds_event_id: &str,
) -> Value {
    let (detail_type, source_type, kind) = if cluster {
        ("RDS DB Cluster Event", "CLUSTER", "cluster")
    } else {
        ("RDS DB Instance Event", "DB_INSTANCE", "db")
    };
    json!({
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": "aws.rds",
        "account": account,
        "time": "2026-11-20T11:30:00Z",
        "region": region,
        "resources": [format!("arn:aws:rds:{region}:{account}:{kind}:{identifier}")],
        "detail": {
            "EventCategories": ["failover"],
            "SourceType": source_type,
            "SourceArn": format!("arn:aws:rds:{region}:{account}:{kind}:{identifier}"),
            "Date": "2026-11-20T11:30:00.000Z",
            "Message": "Multi-AZ instance failover completed.",
            "SourceIdentifier": identifier,
            "EventID": rds_event_id
        }
    })
}
