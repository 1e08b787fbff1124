//! DynamoDB conditional writes and TTL, as the ledger relies on them (moto already behaves as AWS).

use peerwire_emulator::{Emulator, HttpAnswer};
use serde_json::{json, Value};

use super::*;

// ---------------------------------------------------------------------------------------------
// DynamoDB: conditional writes and TTL (moto does both as AWS does; no patch)

async fn dynamodb(emulator: &Emulator, action: &str, body: Value) -> HttpAnswer {
    emulator
        .call_json(
            HUB_ACCOUNT,
            "dynamodb",
            &format!("DynamoDB_20120810.{action}"),
            &body,
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn dynamodb_conditional_put_and_ttl_behave_as_aws() {
    let emulator = Emulator::start().await.unwrap();
    let created = dynamodb(
        &emulator,
        "CreateTable",
        json!({
            "TableName": "peerwire-runs",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        }),
    )
    .await;
    assert_eq!(created.status, 200, "{created:?}");
    let put = json!({
        "TableName": "peerwire-runs",
        "Item": {"pk": {"S": "pcx-1#event-1"}, "expires_at": {"N": "1700000000"}},
        "ConditionExpression": "attribute_not_exists(pk)",
    });
    assert_eq!(
        dynamodb(&emulator, "PutItem", put.clone()).await.status,
        200
    );
    let again = dynamodb(&emulator, "PutItem", put).await;
    assert_eq!(again.status, 400);
    assert_eq!(error_type(&again), "ConditionalCheckFailedException");

    let ttl = dynamodb(
        &emulator,
        "UpdateTimeToLive",
        json!({
            "TableName": "peerwire-runs",
            "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "expires_at"},
        }),
    )
    .await;
    assert_eq!(ttl.status, 200, "{ttl:?}");
    let described = dynamodb(
        &emulator,
        "DescribeTimeToLive",
        json!({"TableName": "peerwire-runs"}),
    )
    .await
    .json();
    assert_eq!(
        described["TimeToLiveDescription"],
        json!({"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"})
    );
}
