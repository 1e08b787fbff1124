//! EventBridge (`events.py`): `TestEventPattern`, and cross-account delivery, which moto does not restrict by bus policy (see docs/emulator.md).

use aws_sdk_eventbridge::error::ProvideErrorMetadata;
use aws_sdk_eventbridge::Client;
use peerwire::aws::calls::CallLog;
use peerwire_emulator::{workspace_root, Emulator, HttpAnswer, REGION};
use serde_json::{json, Value};

use super::*;

const TEST_EVENT_PATTERN: &str = "test-event-pattern";

const PATTERN: &str = r#"{
  "source": ["aws.ec2"],
  "detail-type": ["AWS API Call via CloudTrail"],
  "detail": {"eventName": ["CreateVpcPeeringConnection"], "errorCode": [{"exists": false}]}
}"#;

fn sample(file: &str) -> String {
    std::fs::read_to_string(workspace_root().join("events").join(file)).unwrap()
}

async fn client(emulator: &Emulator) -> Client {
    Client::new(&emulator.hub_config(&CallLog::default()).await)
}

#[tokio::test]
async fn test_event_pattern_answers_whether_the_event_matches() {
    let emulator = Emulator::start().await.unwrap();
    let events = client(&emulator).await;
    let ask = |pattern: &'static str, event: String| {
        events
            .test_event_pattern()
            .event_pattern(pattern)
            .event(event)
            .send()
    };

    let matching = ask(
        PATTERN,
        sample("cloudtrail-create-vpc-peering-connection.json"),
    )
    .await
    .unwrap();
    assert!(matching.result());
    // `errorCode` exists in the failed call: `exists: false` refuses it.
    let failed = ask(
        PATTERN,
        sample("cloudtrail-create-vpc-peering-connection-failed.json"),
    )
    .await
    .unwrap();
    assert!(!failed.result());
    let other = ask(
        PATTERN,
        sample("cloudtrail-accept-vpc-peering-connection.json"),
    )
    .await
    .unwrap();
    assert!(!other.result());

    let bad_pattern = ask(
        r#"{"source": "aws.ec2"}"#,
        sample("cloudtrail-create-vpc-peering-connection.json"),
    )
    .await
    .unwrap_err();
    assert_eq!(bad_pattern.code(), Some("InvalidEventPatternException"));

    // id, account, source, time, region, resources and detail-type are mandatory.
    let bad_event = ask(PATTERN, r#"{"source": "aws.ec2"}"#.to_owned())
        .await
        .unwrap_err();
    assert_eq!(bad_event.code(), Some("ValidationException"));
    assert!(bad_event.message().unwrap_or_default().contains("id"));
}

#[tokio::test]
async fn without_test_event_pattern_moto_answers_no_result() {
    let emulator = Emulator::start_with_disabled(&[TEST_EVENT_PATTERN])
        .await
        .unwrap();
    let events = client(&emulator).await;
    let answer = events
        .test_event_pattern()
        .event_pattern(PATTERN)
        .event(sample("cloudtrail-create-vpc-peering-connection.json"))
        .send()
        .await;
    // moto's empty body: a matching event does not come back as a match.
    assert!(
        !matches!(&answer, Ok(output) if output.result()),
        "moto 5.2.5 now answers TestEventPattern: {answer:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// EventBridge bus policies (moto does not enforce them; not patched)

async fn events_as(emulator: &Emulator, account: &str, action: &str, body: Value) -> HttpAnswer {
    emulator
        .call_json(account, "events", &format!("AWSEvents.{action}"), &body)
        .await
        .unwrap()
}

#[tokio::test]
async fn eventbridge_cross_account_delivery_ignores_the_bus_policy_in_moto() {
    let emulator = Emulator::start().await.unwrap();
    let hub = emulator.hub_config(&CallLog::default()).await;
    let events = aws_sdk_eventbridge::Client::new(&hub);
    let sqs = aws_sdk_sqs::Client::new(&hub);
    let bus = events
        .create_event_bus()
        .name("peerwire-hub")
        .send()
        .await
        .unwrap()
        .event_bus_arn()
        .unwrap()
        .to_owned();
    let queue = sqs
        .create_queue()
        .queue_name("hub-inbox")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    let queue_arn = format!("arn:aws:sqs:{REGION}:{HUB_ACCOUNT}:hub-inbox");
    events
        .put_rule()
        .name("inbox")
        .event_bus_name("peerwire-hub")
        .event_pattern(r#"{"source": ["peerwire.test"]}"#)
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule("inbox")
        .event_bus_name("peerwire-hub")
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(&queue_arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    // A member account forwards to the hub bus, whose policy (none) allows nobody.
    let member = "333333333333";
    let rule = events_as(
        &emulator,
        member,
        "PutRule",
        json!({"Name": "forward", "EventPattern": r#"{"source": ["peerwire.test"]}"#}),
    )
    .await;
    assert_eq!(rule.status, 200, "{rule:?}");
    let targets = events_as(
        &emulator,
        member,
        "PutTargets",
        json!({"Rule": "forward", "Targets": [{"Id": "hub", "Arn": bus}]}),
    )
    .await;
    assert_eq!(targets.status, 200, "{targets:?}");
    let entry = json!({"Source": "peerwire.test", "DetailType": "test", "Detail": "{}"});
    let put = events_as(&emulator, member, "PutEvents", json!({"Entries": [entry]})).await;
    assert_eq!(put.status, 200, "{put:?}");
    let received = sqs
        .receive_message()
        .queue_url(&queue)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    assert_eq!(
        received.messages().len(),
        1,
        "moto delivered across accounts without a bus policy"
    );

    // PutEvents straight to the hub bus's ARN is looked up in the caller's own account.
    let direct = json!({"Source": "peerwire.test", "DetailType": "test", "Detail": "{}", "EventBusName": bus});
    let direct = events_as(&emulator, member, "PutEvents", json!({"Entries": [direct]})).await;
    assert_eq!(
        error_type(&direct),
        "ResourceNotFoundException",
        "{direct:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The account of a delivered event

const EVENTS_DELIVER_ACCOUNT: &str = "events-deliver-account";

/// An event put on a bus with a rule to a queue, as the queue receives it.
async fn delivered(emulator: &Emulator) -> Value {
    let hub = emulator.hub_config(&CallLog::default()).await;
    let capture = peerwire_emulator::outcomes::OutcomeCapture::matching(
        &hub,
        "peerwire-hub",
        "inbox",
        r#"{"source": ["peerwire.approval"]}"#,
    )
    .await
    .unwrap();
    let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
        .event_bus_name("peerwire-hub")
        .source("peerwire.approval")
        .detail_type("Peering Approval Granted")
        .detail(r#"{"peering_id": "pcx-0123456789abcdef0"}"#)
        .build();
    client(emulator)
        .await
        .put_events()
        .entries(entry)
        .send()
        .await
        .unwrap();
    let mut events = capture.drain().await.unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    events.remove(0)
}

#[tokio::test]
async fn events_deliver_account_gives_a_target_the_account_that_put_the_event() {
    let emulator = Emulator::start().await.unwrap();

    let event = delivered(&emulator).await;

    assert_eq!(event["account"], HUB_ACCOUNT, "{event}");
    assert_eq!(event["source"], "peerwire.approval");
    assert_eq!(event["detail"]["peering_id"], "pcx-0123456789abcdef0");
}

#[tokio::test]
async fn without_events_deliver_account_moto_delivers_no_account() {
    let emulator = Emulator::start_with_disabled(&[EVENTS_DELIVER_ACCOUNT])
        .await
        .unwrap();

    let event = delivered(&emulator).await;

    assert!(
        event.get("account").is_none(),
        "moto 5.2.5 now delivers the account: {event}"
    );
}
