//! The IAM patches (`sts_iam.py`): a member role that is missing or distrusts the hub (`assume-role-denied`: `deny_assume_role`, `require_external_id`) and a missing permission (`denied-actions`: `deny_actions`). Both default to off; each test shows the default, turns the setting on and asserts AWS's answer, and its `without_…` twin shows that plain moto ignores it.

use super::{refusal, HUB_ACCOUNT};
use peerwire::aws::calls::CallLog;
use peerwire::aws::clients::AwsContext;
use peerwire::config::RoleConfig;
use peerwire_emulator::scenario::{
    roles, Scenario, ACCEPTER_ACCOUNT, EXTERNAL_ID, REQUESTER_ACCOUNT,
};
use peerwire_emulator::{Emulator, EmulatorOptions, HttpAnswer, REGION};
use serde_json::json;

const ASSUME_ROLE_DENIED: &str = "assume-role-denied";
const DENIED_ACTIONS: &str = "denied-actions";

fn member_role(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/peerwire-member")
}

/// STS AssumeRole as the hub, straight over HTTP.
async fn assume_role(emulator: &Emulator, account: &str, external_id: Option<&str>) -> HttpAnswer {
    let role = member_role(account);
    let mut params = vec![
        ("Action", "AssumeRole"),
        ("Version", "2011-06-15"),
        ("RoleArn", role.as_str()),
        ("RoleSessionName", "peerwire"),
    ];
    if let Some(id) = external_id {
        params.push(("ExternalId", id));
    }
    emulator
        .call_query(HUB_ACCOUNT, "sts", &params)
        .await
        .unwrap()
}

fn is_access_denied(answer: &HttpAnswer) -> bool {
    answer.status == 403 && answer.body.contains("<Code>AccessDenied</Code>")
}

/// DescribeVpcs in `account` through the production path: AssumeRole with `external_id`.
async fn describe_vpcs_as_member(
    emulator: &Emulator,
    account: &str,
    external_id: &str,
) -> Result<usize, String> {
    let calls = CallLog::default();
    let config = RoleConfig {
        external_id: external_id.into(),
        ..roles()
    };
    let context = AwsContext::new(emulator.hub_config(&calls).await, config, calls);
    let at = peerwire_emulator::scenario::location(account, REGION).map_err(|e| e.to_string())?;
    let ec2 = context.ec2(&at).await;
    ec2.describe_vpcs()
        .send()
        .await
        .map(|out| out.vpcs().len())
        .map_err(|e| error_chain(&e))
}

/// Every message in an SDK error's source chain, joined.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

// ---------------------------------------------------------------------------------------------
// assume-role-denied

#[tokio::test]
async fn assume_role_denied_refuses_listed_accounts_from_then_on() {
    let emulator = Emulator::start().await.unwrap();
    // The default: every role can be assumed, whatever the ExternalId.
    assert_eq!(
        assume_role(&emulator, ACCEPTER_ACCOUNT, Some("anything"))
            .await
            .status,
        200
    );

    emulator
        .set("deny_assume_role", ACCEPTER_ACCOUNT)
        .await
        .unwrap();
    let denied = assume_role(&emulator, ACCEPTER_ACCOUNT, Some(EXTERNAL_ID)).await;
    assert!(is_access_denied(&denied), "{denied:?}");
    assert!(
        denied.body.contains(&member_role(ACCEPTER_ACCOUNT)),
        "{denied:?}"
    );
    assert_eq!(
        assume_role(&emulator, REQUESTER_ACCOUNT, Some(EXTERNAL_ID))
            .await
            .status,
        200
    );
    // Production's path sees the refusal as AccessDenied too.
    let refused = describe_vpcs_as_member(&emulator, ACCEPTER_ACCOUNT, EXTERNAL_ID).await;
    assert!(
        refused.as_ref().is_err_and(|e| e.contains("AccessDenied")),
        "{refused:?}"
    );
    describe_vpcs_as_member(&emulator, REQUESTER_ACCOUNT, EXTERNAL_ID)
        .await
        .unwrap();
}

#[tokio::test]
async fn assume_role_denied_requires_the_external_id() {
    let emulator =
        Emulator::start_with(&EmulatorOptions::new().setting("require_external_id", EXTERNAL_ID))
            .await
            .unwrap();
    // The scenario reaches both accounts as production does, with the right ExternalId.
    Scenario::seed(&emulator)
        .await
        .expect("seeding passes the ExternalId");
    assert_eq!(
        assume_role(&emulator, ACCEPTER_ACCOUNT, Some(EXTERNAL_ID))
            .await
            .status,
        200
    );
    assert!(is_access_denied(
        &assume_role(&emulator, ACCEPTER_ACCOUNT, Some("wrong-external-id")).await
    ));
    assert!(is_access_denied(
        &assume_role(&emulator, ACCEPTER_ACCOUNT, None).await
    ));
    let refused = describe_vpcs_as_member(&emulator, ACCEPTER_ACCOUNT, "wrong-external-id").await;
    assert!(
        refused.as_ref().is_err_and(|e| e.contains("AccessDenied")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn without_assume_role_denied_moto_lets_anyone_assume_any_role() {
    let emulator = Emulator::start_with(
        &EmulatorOptions::new()
            .disable(ASSUME_ROLE_DENIED)
            .setting("deny_assume_role", ACCEPTER_ACCOUNT)
            .setting("require_external_id", EXTERNAL_ID),
    )
    .await
    .unwrap();
    assert_eq!(
        assume_role(&emulator, ACCEPTER_ACCOUNT, None).await.status,
        200
    );
    describe_vpcs_as_member(&emulator, ACCEPTER_ACCOUNT, "wrong-external-id")
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// denied-actions

#[tokio::test]
async fn denied_actions_answer_each_service_own_error() {
    let emulator = Emulator::start().await.unwrap();
    let scenario = Scenario::seed(&emulator).await.unwrap();
    let pcx = scenario.request_peering(&[]).await.unwrap();
    let accept = |dry_run: bool| {
        scenario
            .accepter
            .ec2
            .accept_vpc_peering_connection()
            .vpc_peering_connection_id(&pcx)
            .dry_run(dry_run)
            .send()
    };

    emulator
        .set(
            "deny_actions",
            &format!(
                "{ACCEPTER_ACCOUNT}:ec2:AcceptVpcPeeringConnection,{ACCEPTER_ACCOUNT}:ec2:Create*"
            ),
        )
        .await
        .unwrap();
    let unauthorized = ("UnauthorizedOperation".to_owned(), 403);
    assert_eq!(refusal(accept(false).await), unauthorized);
    // DryRun asks exactly this question.
    assert_eq!(refusal(accept(true).await), unauthorized);
    let wildcard = scenario
        .accepter
        .ec2
        .create_tags()
        .resources(&pcx)
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("k")
                .value("v")
                .build(),
        )
        .send()
        .await;
    assert_eq!(refusal(wildcard), unauthorized);
    // Another account, or another action, is not affected.
    scenario
        .requester
        .ec2
        .create_tags()
        .resources(&pcx)
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("k")
                .value("v")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(scenario.status(&pcx).await.unwrap(), "pending-acceptance");

    // A query-protocol service answers AccessDenied, a JSON one AccessDeniedException.
    emulator
        .set(
            "deny_actions",
            &format!("{HUB_ACCOUNT}:sts:AssumeRole,{REQUESTER_ACCOUNT}:logs:DescribeLogGroups"),
        )
        .await
        .unwrap();
    assert!(is_access_denied(
        &assume_role(&emulator, ACCEPTER_ACCOUNT, Some(EXTERNAL_ID)).await
    ));
    let logs = emulator
        .call_json(
            REQUESTER_ACCOUNT,
            "logs",
            "Logs_20140328.DescribeLogGroups",
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(logs.status, 403, "{logs:?}");
    assert!(
        logs.json()["__type"]
            .as_str()
            .is_some_and(|t| t.ends_with("AccessDeniedException")),
        "{logs:?}"
    );

    // Lifting the denial lets the same call through.
    emulator.set("deny_actions", "").await.unwrap();
    accept(false).await.unwrap();
    assert_eq!(scenario.status(&pcx).await.unwrap(), "active");
}

#[tokio::test]
async fn without_denied_actions_moto_authorises_every_call() {
    let emulator = Emulator::start_with(
        &EmulatorOptions::new()
            .disable(DENIED_ACTIONS)
            .setting("deny_actions", &format!("{ACCEPTER_ACCOUNT}:ec2:*")),
    )
    .await
    .unwrap();
    let scenario = Scenario::seed(&emulator).await.unwrap();
    let pcx = scenario.request_peering(&[]).await.unwrap();
    scenario.accept_directly(&pcx).await.unwrap();
    assert_eq!(scenario.status(&pcx).await.unwrap(), "active");
}
