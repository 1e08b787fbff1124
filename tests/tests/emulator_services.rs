//! Patches and checks of the services around the peering: Service Quotas
//! (`service-quotas-vpc`), Organizations (`organizations-suspended-accounts`, and ListParents as
//! moto already does it), Route 53 private zones across accounts
//! (`route53-vpc-association-authorization`), VPC flow logs in CloudWatch Logs
//! (`logs-space-delimited-filter`; Logs Insights as moto leaves it), DynamoDB conditional writes
//! and TTL, and EventBridge bus policies (not enforced by moto; see docs/emulator.md).
//!
//! The workspace has SDKs for EC2, STS, EventBridge, SQS and RDS only, so the other services are
//! called over HTTP in their own wire protocol with `Emulator::call_json` / `call_rest`: moto reads
//! the service from the credential scope and the account from `x-moto-account-id`.
//!
//! Test-only code: the helpers panic on a broken fixture, like the `#[tokio::test]`s do.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_ec2::types::{Filter, FlowLogsResourceType, LogDestinationType, TrafficType};
use peerwire::aws::calls::CallLog;
use peerwire_emulator::scenario::{Scenario, ACCEPTER_ACCOUNT, REQUESTER_ACCOUNT};
use peerwire_emulator::{Emulator, EmulatorOptions, HttpAnswer, REGION};
use serde_json::{json, Value};

const SERVICE_QUOTAS_VPC: &str = "service-quotas-vpc";
const ORGANIZATIONS_SUSPENDED_ACCOUNTS: &str = "organizations-suspended-accounts";
const ROUTE53_VPC_ASSOCIATION_AUTHORIZATION: &str = "route53-vpc-association-authorization";
const LOGS_SPACE_DELIMITED_FILTER: &str = "logs-space-delimited-filter";
/// moto's default account: the hub's static test credentials act in it.
const HUB_ACCOUNT: &str = "123456789012";

fn error_type(answer: &HttpAnswer) -> String {
    let json = answer.json();
    let kind = json["__type"].as_str().unwrap_or_default();
    kind.rsplit('#').next().unwrap_or_default().to_owned()
}

// ---------------------------------------------------------------------------------------------
// service-quotas-vpc

async fn vpc_quota(emulator: &Emulator, code: &str) -> HttpAnswer {
    emulator
        .call_json(
            REQUESTER_ACCOUNT,
            "servicequotas",
            "ServiceQuotasV20190624.GetServiceQuota",
            &json!({"ServiceCode": "vpc", "QuotaCode": code}),
        )
        .await
        .unwrap()
}

fn quota_value(answer: &HttpAnswer) -> f64 {
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.json()["Quota"]["Value"].as_f64().unwrap()
}

#[tokio::test]
async fn service_quotas_vpc_answers_the_enforced_quotas() {
    let emulator = Emulator::start().await.unwrap();
    let rules = vpc_quota(&emulator, "L-0EA8095F").await;
    assert_eq!(quota_value(&rules), 60.0);
    assert_eq!(
        rules.json()["Quota"]["QuotaArn"],
        format!("arn:aws:servicequotas:{REGION}:{REQUESTER_ACCOUNT}:vpc/L-0EA8095F")
    );
    assert_eq!(quota_value(&vpc_quota(&emulator, "L-93826ACB").await), 50.0);

    emulator
        .set_all(&[("sg_rules_per_group", "5"), ("routes_per_table", "20")])
        .await
        .unwrap();
    assert_eq!(quota_value(&vpc_quota(&emulator, "L-0EA8095F").await), 5.0);
    assert_eq!(quota_value(&vpc_quota(&emulator, "L-93826ACB").await), 20.0);

    let unknown = vpc_quota(&emulator, "L-00000000").await;
    assert_eq!(unknown.status, 400);
    assert_eq!(error_type(&unknown), "NoSuchResourceException");
}

#[tokio::test]
async fn without_service_quotas_vpc_moto_answers_the_aws_defaults() {
    let emulator = Emulator::start_with(
        &EmulatorOptions::new()
            .disable(SERVICE_QUOTAS_VPC)
            .setting("sg_rules_per_group", "5"),
    )
    .await
    .unwrap();
    let rules = vpc_quota(&emulator, "L-0EA8095F").await;
    assert_eq!(quota_value(&rules), 60.0);
    let arn = rules.json()["Quota"]["QuotaArn"].clone();
    assert!(
        !arn.as_str().unwrap_or_default().contains(REQUESTER_ACCOUNT),
        "{arn}"
    );
}

// ---------------------------------------------------------------------------------------------
// Organizations

async fn org(emulator: &Emulator, action: &str, body: Value) -> Value {
    let answer = emulator
        .call_json(
            HUB_ACCOUNT,
            "organizations",
            &format!("AWSOrganizationsV20161128.{action}"),
            &body,
        )
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "{action}: {answer:?}");
    answer.json()
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// An organization with root → workloads → payments and one account in payments:
/// (account id, [payments, workloads, root]).
async fn nested_account(emulator: &Emulator) -> (String, Vec<String>) {
    org(emulator, "CreateOrganization", json!({"FeatureSet": "ALL"})).await;
    let root = text(&org(emulator, "ListRoots", json!({})).await["Roots"][0]["Id"]);
    let workloads = text(
        &org(
            emulator,
            "CreateOrganizationalUnit",
            json!({"ParentId": root, "Name": "workloads"}),
        )
        .await["OrganizationalUnit"]["Id"],
    );
    let payments = text(
        &org(
            emulator,
            "CreateOrganizationalUnit",
            json!({"ParentId": workloads, "Name": "payments"}),
        )
        .await["OrganizationalUnit"]["Id"],
    );
    let account = text(
        &org(
            emulator,
            "CreateAccount",
            json!({"AccountName": "payments-db", "Email": "payments-db@example.com"}),
        )
        .await["CreateAccountStatus"]["AccountId"],
    );
    org(
        emulator,
        "MoveAccount",
        json!({"AccountId": account, "SourceParentId": root, "DestinationParentId": payments}),
    )
    .await;
    (account, vec![payments, workloads, root])
}

/// The account's status as DescribeAccount, ListAccounts and ListAccountsForParent show it.
async fn account_status(emulator: &Emulator, account: &str, parent: &str) -> [String; 4] {
    let described = org(emulator, "DescribeAccount", json!({"AccountId": account})).await;
    let find = |listed: Value| {
        listed["Accounts"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["Id"] == account).cloned())
            .map(|x| text(&x["Status"]))
            .unwrap_or_default()
    };
    [
        text(&described["Account"]["Status"]),
        text(&described["Account"]["State"]),
        find(org(emulator, "ListAccounts", json!({})).await),
        find(
            org(
                emulator,
                "ListAccountsForParent",
                json!({"ParentId": parent}),
            )
            .await,
        ),
    ]
}

#[tokio::test]
async fn organizations_list_parents_walks_from_a_nested_account_to_the_root() {
    let emulator = Emulator::start().await.unwrap();
    let (account, expected) = nested_account(&emulator).await;
    let mut chain = Vec::new();
    let mut child = account.clone();
    loop {
        let parents = org(&emulator, "ListParents", json!({"ChildId": child})).await;
        let parent = &parents["Parents"][0];
        chain.push(text(&parent["Id"]));
        if parent["Type"] == "ROOT" {
            break;
        }
        assert_eq!(parent["Type"], "ORGANIZATIONAL_UNIT");
        child = text(&parent["Id"]);
        assert!(chain.len() < 10, "no root above {account}: {chain:?}");
    }
    assert_eq!(chain, expected);
}

#[tokio::test]
async fn organizations_suspended_accounts_are_described_as_suspended() {
    let emulator = Emulator::start().await.unwrap();
    let (account, parents) = nested_account(&emulator).await;
    let active = ["ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE"].map(String::from);
    assert_eq!(
        account_status(&emulator, &account, &parents[0]).await,
        active
    );
    emulator.set("suspended_accounts", &account).await.unwrap();
    assert_eq!(
        account_status(&emulator, &account, &parents[0]).await,
        ["SUSPENDED", "SUSPENDED", "SUSPENDED", "SUSPENDED"].map(String::from)
    );
    emulator.set("suspended_accounts", "").await.unwrap();
    assert_eq!(
        account_status(&emulator, &account, &parents[0]).await,
        active
    );
}

#[tokio::test]
async fn without_organizations_suspended_accounts_moto_keeps_every_account_active() {
    let emulator =
        Emulator::start_with(&EmulatorOptions::new().disable(ORGANIZATIONS_SUSPENDED_ACCOUNTS))
            .await
            .unwrap();
    let (account, parents) = nested_account(&emulator).await;
    emulator.set("suspended_accounts", &account).await.unwrap();
    assert_eq!(
        account_status(&emulator, &account, &parents[0]).await,
        ["ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE"].map(String::from)
    );
}

// ---------------------------------------------------------------------------------------------
// route53-vpc-association-authorization

const R53: &str = "/2013-04-01";

fn r53_request(root: &str, inner: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="https://route53.amazonaws.com/doc/2013-04-01/">{inner}</{root}>"#
    )
}

fn vpc_xml(vpc: &str) -> String {
    format!("<VPC><VPCRegion>{REGION}</VPCRegion><VPCId>{vpc}</VPCId></VPC>")
}

/// The text of the first `<tag>` element.
fn xml_text(body: &str, tag: &str) -> Option<String> {
    let start = body.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    Some(body[start..end].to_owned())
}

/// Account A's private zone for its VPC; returns the zone id without `/hostedzone/`.
async fn private_zone(emulator: &Emulator, scenario: &Scenario) -> String {
    let body = r53_request(
        "CreateHostedZoneRequest",
        &format!(
            "<Name>db.payments.internal</Name><CallerReference>peerwire-test</CallerReference>{}\
             <HostedZoneConfig><PrivateZone>true</PrivateZone></HostedZoneConfig>",
            vpc_xml(&scenario.requester.vpc_id)
        ),
    );
    let answer = emulator
        .call_rest(
            REQUESTER_ACCOUNT,
            "route53",
            "POST",
            &format!("{R53}/hostedzone"),
            &body,
        )
        .await
        .unwrap();
    assert_eq!(answer.status, 201, "{answer:?}");
    xml_text(&answer.body, "Id")
        .unwrap()
        .trim_start_matches("/hostedzone/")
        .to_owned()
}

async fn r53(
    emulator: &Emulator,
    account: &str,
    method: &str,
    path: &str,
    body: &str,
) -> HttpAnswer {
    emulator
        .call_rest(account, "route53", method, &format!("{R53}{path}"), body)
        .await
        .unwrap()
}

async fn associate(emulator: &Emulator, account: &str, zone: &str, vpc: &str) -> HttpAnswer {
    let body = r53_request("AssociateVPCWithHostedZoneRequest", &vpc_xml(vpc));
    r53(
        emulator,
        account,
        "POST",
        &format!("/hostedzone/{zone}/associatevpc"),
        &body,
    )
    .await
}

async fn authorize(emulator: &Emulator, account: &str, zone: &str, vpc: &str) -> HttpAnswer {
    let body = r53_request("CreateVPCAssociationAuthorizationRequest", &vpc_xml(vpc));
    let path = format!("/hostedzone/{zone}/authorizevpcassociation");
    r53(emulator, account, "POST", &path, &body).await
}

fn code_of(answer: &HttpAnswer) -> String {
    xml_text(&answer.body, "Code").unwrap_or_else(|| answer.status.to_string())
}

#[tokio::test]
async fn route53_vpc_association_authorization_lets_another_account_associate_its_vpc() {
    let emulator = Emulator::start().await.unwrap();
    let scenario = Scenario::seed(&emulator).await.unwrap();
    let zone = private_zone(&emulator, &scenario).await;
    let theirs = scenario.accepter.vpc_id.as_str();

    let unauthorized = associate(&emulator, ACCEPTER_ACCOUNT, &zone, theirs).await;
    assert_eq!(
        (unauthorized.status, code_of(&unauthorized)),
        (401, "NotAuthorizedException".to_owned())
    );
    // Only the zone's account authorizes.
    let foreign = authorize(&emulator, ACCEPTER_ACCOUNT, &zone, theirs).await;
    assert_eq!(code_of(&foreign), "NoSuchHostedZone");

    let authorized = authorize(&emulator, REQUESTER_ACCOUNT, &zone, theirs).await;
    assert_eq!(authorized.status, 200, "{authorized:?}");
    let listing = format!("/hostedzone/{zone}/authorizevpcassociation");
    let listed = r53(&emulator, REQUESTER_ACCOUNT, "GET", &listing, "").await;
    assert!(listed.body.contains(theirs), "{listed:?}");

    let associated = associate(&emulator, ACCEPTER_ACCOUNT, &zone, theirs).await;
    assert_eq!(associated.status, 200, "{associated:?}");
    let described = r53(
        &emulator,
        REQUESTER_ACCOUNT,
        "GET",
        &format!("/hostedzone/{zone}"),
        "",
    )
    .await;
    assert!(described.body.contains(theirs), "{described:?}");
    assert!(described.body.contains(&scenario.requester.vpc_id));
    let by_vpc = r53(
        &emulator,
        ACCEPTER_ACCOUNT,
        "GET",
        &format!("/hostedzonesbyvpc?vpcid={theirs}&vpcregion={REGION}"),
        "",
    )
    .await;
    assert!(by_vpc.body.contains(&zone), "{by_vpc:?}");
    assert_eq!(
        xml_text(&by_vpc.body, "OwningAccount").as_deref(),
        Some(REQUESTER_ACCOUNT)
    );

    // The authorization can go once used; the association stays.
    let deauthorize = format!("/hostedzone/{zone}/deauthorizevpcassociation");
    let body = r53_request("DeleteVPCAssociationAuthorizationRequest", &vpc_xml(theirs));
    let removed = r53(&emulator, REQUESTER_ACCOUNT, "POST", &deauthorize, &body).await;
    assert_eq!(removed.status, 200, "{removed:?}");
    let again = r53(&emulator, REQUESTER_ACCOUNT, "POST", &deauthorize, &body).await;
    assert_eq!(code_of(&again), "VPCAssociationAuthorizationNotFound");
    let listed = r53(&emulator, REQUESTER_ACCOUNT, "GET", &listing, "").await;
    assert!(!listed.body.contains(theirs), "{listed:?}");
    let described = r53(
        &emulator,
        REQUESTER_ACCOUNT,
        "GET",
        &format!("/hostedzone/{zone}"),
        "",
    )
    .await;
    assert!(described.body.contains(theirs), "{described:?}");

    // The VPC's account may take its VPC out again.
    let body = r53_request("DisassociateVPCFromHostedZoneRequest", &vpc_xml(theirs));
    let path = format!("/hostedzone/{zone}/disassociatevpc");
    let gone = r53(&emulator, ACCEPTER_ACCOUNT, "POST", &path, &body).await;
    assert_eq!(gone.status, 200, "{gone:?}");
    let described = r53(
        &emulator,
        REQUESTER_ACCOUNT,
        "GET",
        &format!("/hostedzone/{zone}"),
        "",
    )
    .await;
    assert!(!described.body.contains(theirs), "{described:?}");
}

#[tokio::test]
async fn without_route53_vpc_association_authorization_moto_hides_the_zone_from_the_vpc_owner() {
    let emulator = Emulator::start_with(
        &EmulatorOptions::new().disable(ROUTE53_VPC_ASSOCIATION_AUTHORIZATION),
    )
    .await
    .unwrap();
    let scenario = Scenario::seed(&emulator).await.unwrap();
    let zone = private_zone(&emulator, &scenario).await;
    let theirs = scenario.accepter.vpc_id.as_str();
    let authorized = authorize(&emulator, REQUESTER_ACCOUNT, &zone, theirs).await;
    assert_eq!(
        authorized.status, 404,
        "moto has no CreateVPCAssociationAuthorization"
    );
    let associated = associate(&emulator, ACCEPTER_ACCOUNT, &zone, theirs).await;
    assert_eq!(code_of(&associated), "NoSuchHostedZone");
}

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
    let emulator =
        Emulator::start_with(&EmulatorOptions::new().disable(LOGS_SPACE_DELIMITED_FILTER))
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
