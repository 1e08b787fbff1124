//! The `test-event-pattern` patch of `emulator/launcher.py`: AWS answers `TestEventPattern` with
//! `{"Result": bool}`; moto 5.2.5 answers an empty body. The first test asserts the AWS
//! behaviour on the patched server; its twin disables only this patch and shows the gap, so the
//! first test fails without the patch. `tests/tests/event_patterns.rs` relies on it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: fail loudly

use aws_sdk_eventbridge::error::ProvideErrorMetadata;
use aws_sdk_eventbridge::Client;
use peerwire::aws::calls::CallLog;
use peerwire_emulator::{workspace_root, Emulator};

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
