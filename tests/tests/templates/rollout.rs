//! The organization rollout across releases and regions, on the templates themselves:
//!
//! - a changed member template is a new template URL (`scripts/publish-member-templates` names
//!   each upload after its content), so updating the rollout stack changes the StackSet's
//!   `TemplateURL` and CloudFormation rolls the new template out; the rollout refuses a fixed
//!   name;
//! - every forwarder, in any region, sends its dead-letter alarm's state changes to the hub bus
//!   (no alarm topic per region), the hub bus admits them, and the hub notifies with the
//!   account, region and queue;
//! - an account whose forwarder the hub bus refuses is one whose member role the functions
//!   cannot assume (so its failures are loud, never a silent fall back to sweeps), and the hub
//!   says which accounts it admits (output `MemberAccounts`);
//! - diagnose reads only the flow-log groups `FlowLogGroupNamePattern` names; VPCs are
//!   associated with peer zones only when `ZoneAssociationVpcs` names them (`route53:VPCs`);
//! - during an ExternalId rotation the member role accepts the current and the next ExternalId,
//!   and nothing else.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{hub, member_role, member_statement, message, role_of};
use crate::cfn::iam::{arn_like, condition_holds, context};
use crate::cfn::{
    parameter_accepts, role_statements, scalar, strings, workspace_root, yaml_template, Stack,
    HUB_ACCOUNT, STACK_NAME,
};

const ORG: &str = "o-a1b2c3d4e5";
const BUS: &str = "arn:aws:events:us-east-1:333333333333:event-bus/peerwire-hub";

// ---------------------------------------------------------------------------------------------
// Upgrades: a new member template is a new URL
// ---------------------------------------------------------------------------------------------

/// A directory of its own under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("peerwire-{name}-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// What `scripts/publish-member-templates --dry-run` prints for the templates of `dir`: the
/// parameters (stdout) and the uploads it would make (stderr).
fn publish(dir: &Path) -> (BTreeMap<String, String>, String) {
    let out = Command::new(workspace_root().join("scripts/publish-member-templates"))
        .args(["--dry-run", "--region", "eu-west-1", "--templates"])
        .arg(dir)
        .arg("s3://my-bucket/peerwire")
        .output()
        .expect("scripts/publish-member-templates runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parameters = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (k, v) = line.split_once('=').expect("KEY=value");
            (k.to_owned(), v.to_owned())
        })
        .collect();
    (parameters, String::from_utf8(out.stderr).unwrap())
}

/// The first 16 hex digits of the SHA-256 of `path`'s bytes.
fn content_hash(path: &Path) -> String {
    let digest = Sha256::digest(std::fs::read(path).unwrap());
    digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()[..16]
        .to_owned()
}

fn rollout(overrides: &[(&str, &str)]) -> Stack {
    let mut all = vec![
        ("OrganizationalUnitIds", "ou-abcd-11111111"),
        ("ForwarderRegions", "us-east-1,eu-west-1,ap-southeast-2"),
        ("HubAccountId", HUB_ACCOUNT),
        ("HubBusArn", BUS),
        ("ExternalId", "current-external-id"),
        ("OrgId", ORG),
        (
            "MemberRoleTemplateUrl",
            "https://b.s3.amazonaws.com/member-role-0123456789abcdef.yaml",
        ),
        (
            "MemberForwarderTemplateUrl",
            "https://b.s3.amazonaws.com/member-forwarder-fedcba9876543210.yaml",
        ),
    ];
    for (name, value) in overrides {
        all.retain(|(n, _)| n != name);
        all.push((name, value));
    }
    let template = yaml_template("templates/org-rollout.yaml");
    for (name, value) in &all {
        assert!(
            parameter_accepts(&template, name, value),
            "org-rollout.yaml refuses {name}={value}"
        );
    }
    Stack::new(template, &all)
}

fn passed(stack: &Stack, set: &str) -> BTreeMap<String, String> {
    stack.properties(set)["Parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (scalar(&p["ParameterKey"]), scalar(&p["ParameterValue"])))
        .collect()
}

#[test]
fn a_changed_member_template_is_a_new_template_url_that_the_rollout_deploys() {
    let dir = TempDir::new("publish");
    for name in ["member-role.yaml", "member-forwarder.yaml"] {
        std::fs::copy(
            workspace_root().join("templates").join(name),
            dir.0.join(name),
        )
        .unwrap();
    }
    let role = dir.0.join("member-role.yaml");
    let forwarder = dir.0.join("member-forwarder.yaml");

    // Release 1: each URL names its template's content.
    let (first, uploads) = publish(&dir.0);
    let base = "https://my-bucket.s3.eu-west-1.amazonaws.com/peerwire";
    assert_eq!(
        first,
        BTreeMap::from([
            (
                "MemberRoleTemplateUrl".to_owned(),
                format!("{base}/member-role-{}.yaml", content_hash(&role))
            ),
            (
                "MemberForwarderTemplateUrl".to_owned(),
                format!("{base}/member-forwarder-{}.yaml", content_hash(&forwarder))
            ),
        ])
    );
    assert!(uploads.contains(&format!(
        "would upload {} to s3://my-bucket/peerwire/member-role-{}.yaml",
        role.display(),
        content_hash(&role)
    )));
    // The same templates again: the same URLs, nothing for CloudFormation to update.
    assert_eq!(publish(&dir.0).0, first);

    // Release 2 needs a new permission in every member account.
    let text = std::fs::read_to_string(&role).unwrap();
    let anchor = "                  - ec2:DescribeManagedPrefixLists\n";
    assert!(text.contains(anchor));
    std::fs::write(
        &role,
        text.replacen(
            anchor,
            &format!("{anchor}                  - ec2:DescribeVpcEndpoints\n"),
            1,
        ),
    )
    .unwrap();
    let (second, uploads) = publish(&dir.0);
    assert_ne!(
        second["MemberRoleTemplateUrl"],
        first["MemberRoleTemplateUrl"]
    );
    assert_eq!(
        second["MemberForwarderTemplateUrl"],
        first["MemberForwarderTemplateUrl"]
    );
    // What the new URL holds is the changed template.
    assert!(uploads.contains(&format!(
        "would upload {} to s3://my-bucket/peerwire/member-role-{}.yaml",
        role.display(),
        content_hash(&role)
    )));

    // Updating the rollout stack with the printed URLs: the member role StackSet's TemplateURL
    // changes (CloudFormation updates what differs from the stack's current template), and
    // nothing else of either StackSet does.
    let with = |urls: &BTreeMap<String, String>| {
        let pairs: Vec<(&str, &str)> = urls.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        rollout(&pairs)
    };
    let (one, two) = (with(&first), with(&second));
    let mut role_one = one.properties("MemberRoleStackSet");
    let mut role_two = two.properties("MemberRoleStackSet");
    assert_eq!(
        role_one["TemplateURL"],
        json!(first["MemberRoleTemplateUrl"])
    );
    assert_eq!(
        role_two["TemplateURL"],
        json!(second["MemberRoleTemplateUrl"])
    );
    role_one["TemplateURL"] = Value::Null;
    role_two["TemplateURL"] = Value::Null;
    assert_eq!(role_one, role_two, "only the template URL changes");
    assert_eq!(
        one.properties("MemberForwarderStackSet"),
        two.properties("MemberForwarderStackSet")
    );
}

#[test]
fn the_rollout_takes_only_content_hash_template_urls() {
    let template = yaml_template("templates/org-rollout.yaml");
    let accepts = |name: &str, url: &str| parameter_accepts(&template, name, url);
    let role = "MemberRoleTemplateUrl";
    let forwarder = "MemberForwarderTemplateUrl";
    assert!(accepts(
        role,
        "https://my-bucket.s3.eu-west-1.amazonaws.com/peerwire/member-role-75cc77484a6e8a8e.yaml"
    ));
    assert!(accepts(
        forwarder,
        "https://my-bucket.s3.amazonaws.com/member-forwarder-843dc07d8d98ebb8.yaml"
    ));
    for refused in [
        // The fixed key of before: an update would change nothing.
        "https://my-bucket.s3.amazonaws.com/peerwire/member-role.yaml",
        "https://my-bucket.s3.amazonaws.com/peerwire/member-role-latest.yaml",
        "https://my-bucket.s3.amazonaws.com/peerwire/member-role-75cc7748.yaml",
        "https://my-bucket.s3.amazonaws.com/peerwire/member-forwarder-843dc07d8d98ebb8.yaml",
        "http://my-bucket.s3.amazonaws.com/peerwire/member-role-75cc77484a6e8a8e.yaml",
    ] {
        assert!(!accepts(role, refused), "{refused}");
    }
    assert!(!accepts(
        forwarder,
        "https://my-bucket.s3.amazonaws.com/peerwire/member-forwarder.yaml"
    ));
}

// ---------------------------------------------------------------------------------------------
// Forwarders in several regions: dead letters seen at the hub
// ---------------------------------------------------------------------------------------------

fn forwarder(overrides: &[(&str, &str)]) -> Stack {
    let mut all = vec![("HubBusArn", BUS)];
    all.extend_from_slice(overrides);
    Stack::new(yaml_template("templates/member-forwarder.yaml"), &all)
}

#[test]
fn every_forwarder_sends_its_dead_letter_alarm_to_the_hub_bus_with_no_topic_per_region() {
    // The rollout passes no alarm topic: none to get wrong in a region.
    let rollout = rollout(&[]);
    let template = yaml_template("templates/org-rollout.yaml");
    assert!(
        template["Parameters"]["ForwarderAlarmTopicArn"].is_null(),
        "no single topic for every region"
    );
    let forwarders = passed(&rollout, "MemberForwarderStackSet");
    assert!(!forwarders.contains_key("AlarmTopicArn"), "{forwarders:?}");
    assert_eq!(
        rollout.properties("MemberForwarderStackSet")["StackInstancesGroup"][0]["Regions"],
        json!(["us-east-1", "eu-west-1", "ap-southeast-2"])
    );

    // As the rollout deploys it: the alarm has no action, and its state changes go to the hub
    // bus through the forwarder's role, with its retry policy and dead-letter queue.
    let stack = forwarder(&[]);
    let alarm = stack.properties("ForwarderDeadLetterAlarm");
    assert!(alarm["AlarmActions"].is_null(), "{alarm}");
    assert_eq!(
        alarm["AlarmName"],
        json!(format!("peerwire-forwarder-{STACK_NAME}"))
    );
    let rule = stack.properties("ForwardDeadLetterAlarm");
    assert_eq!(rule["EventBusName"], "default");
    assert_eq!(
        rule["EventPattern"],
        json!({
            "account": [HUB_ACCOUNT],
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            "detail": { "alarmName": [format!("peerwire-forwarder-{STACK_NAME}")] },
        })
    );
    let target = &rule["Targets"][0];
    assert_eq!(target["Arn"], BUS);
    assert_eq!(
        target["RoleArn"],
        json!(stack.attribute("ForwarderRole", "Arn"))
    );
    assert_eq!(
        target["DeadLetterConfig"]["Arn"],
        json!(stack.attribute("ForwarderDeadLetterQueue", "Arn"))
    );
    let dead_letters = stack.properties("ForwarderDeadLetterQueuePolicy");
    assert!(strings(
        &dead_letters["PolicyDocument"]["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"]
    )
    .contains(&stack.attribute("ForwardDeadLetterAlarm", "Arn")));
    // The forwarder's role puts on the hub bus and nowhere else.
    let puts = role_statements(&stack, "ForwarderRole");
    assert_eq!(
        puts,
        vec![json!({ "Effect": "Allow", "Action": "events:PutEvents", "Resource": BUS })]
    );
    // A stack deployed on its own may still give a topic of its region.
    let own = forwarder(&[("AlarmTopicArn", "arn:aws:sns:eu-west-1:111111111111:alerts")]);
    assert_eq!(
        own.properties("ForwarderDeadLetterAlarm")["AlarmActions"],
        json!(["arn:aws:sns:eu-west-1:111111111111:alerts"])
    );

    // The hub takes every forwarder's alarm by the name's prefix, on the hub bus (where the
    // forwarders send, whatever the outcome bus), to the alert topic.
    for overrides in [
        vec![],
        vec![(
            "OutcomeBusArn",
            "arn:aws:events:us-east-1:333333333333:event-bus/audit",
        )],
        vec![(
            "AlarmTopicArn",
            "arn:aws:sns:us-east-1:333333333333:platform-alerts",
        )],
    ] {
        let hub = hub(&overrides);
        let notify = hub.properties("NotifyMemberForwarderDeadLetters");
        assert_eq!(notify["EventBusName"], json!(hub.physical_id("HubBus")));
        let pattern = &notify["EventPattern"];
        assert_eq!(pattern["source"], json!(["aws.cloudwatch"]));
        assert_eq!(pattern["detail"]["state"]["value"], json!(["ALARM"]));
        let prefix = scalar(&pattern["detail"]["alarmName"][0]["prefix"]);
        assert!(scalar(&alarm["AlarmName"]).starts_with(&prefix));
        let topic = if overrides.iter().any(|(k, _)| *k == "AlarmTopicArn") {
            "arn:aws:sns:us-east-1:333333333333:platform-alerts".to_owned()
        } else {
            hub.physical_id("AlertTopic")
        };
        let target = &notify["Targets"][0];
        assert_eq!(target["Arn"], json!(topic));
        assert_eq!(
            target["DeadLetterConfig"]["Arn"],
            json!(hub.attribute("NotificationDeadLetterQueue", "Arn"))
        );
        assert!(target["RetryPolicy"]["MaximumRetryAttempts"].as_u64() > Some(0));
        // Its undeliverable messages are let into the notifications' dead-letter queue.
        let queue = hub.properties("NotificationDeadLetterQueuePolicy");
        let rule_arn = hub.attribute("NotifyMemberForwarderDeadLetters", "Arn");
        assert!(queue["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["Sid"] == "UndeliverableMemberForwarderAlarms"
                && strings(&s["Condition"]["ArnEquals"]["aws:SourceArn"])
                    == vec![rule_arn.clone()]));
    }
    // A created topic lets exactly that rule publish.
    let hub = hub(&[]);
    let policy = hub.properties("AlertTopicPolicy");
    let statement = policy["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "MemberForwarderAlarms")
        .cloned()
        .expect("the topic lets the rule publish");
    assert_eq!(
        statement,
        json!({
            "Sid": "MemberForwarderAlarms",
            "Effect": "Allow",
            "Principal": { "Service": "events.amazonaws.com" },
            "Action": "sns:Publish",
            "Resource": hub.physical_id("AlertTopic"),
            "Condition": { "ArnEquals": { "aws:SourceArn": hub.attribute("NotifyMemberForwarderDeadLetters", "Arn") } },
        })
    );
}

#[test]
fn the_hub_says_which_members_forwarder_cannot_deliver_and_where_its_events_wait() {
    let stack = hub(&[]);
    let (lines, event) = message(
        &stack,
        "NotifyMemberForwarderDeadLetters",
        "cloudwatch-alarm-forwarder-dead-letters.json",
    );
    let queue = scalar(
        &event["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"]
            ["QueueName"],
    );
    assert_eq!(
        lines[0],
        "peerwire: the event forwarder of account 111111111111 in eu-west-1 cannot deliver events to the hub bus."
    );
    assert!(lines[1].contains(&queue), "{lines:?}");
    assert!(
        lines[2].starts_with("Why: Threshold Crossed"),
        "the alarm's reason: {lines:?}"
    );
    let next = lines.last().unwrap();
    assert!(
        next.starts_with(
            "Next, in account 111111111111: aws sqs receive-message --region eu-west-1"
        ),
        "{next}"
    );
    assert!(next.contains(&format!("--queue-name {queue}")), "{next}");
}

/// Whether the hub bus policy admits `events:source` `source` from `account` (a member of the
/// organization when `in_org`), by its Allow statements.
fn admitted(stack: &Stack, account: &str, in_org: bool, source: &str) -> bool {
    let org = if in_org { vec![ORG] } else { vec![] };
    stack
        .of_type("AWS::Events::EventBusPolicy")
        .keys()
        .map(|id| stack.properties(id)["Statement"].clone())
        .filter(|s| s["Effect"] == "Allow")
        .any(|s| {
            let principal = match &s["Principal"] {
                Value::String(p) => p == "*",
                other => strings(&other["AWS"]).contains(&account.to_owned()),
            };
            let mut request = context(&[("events:source", &[source])]);
            if !org.is_empty() {
                request.extend(context(&[("aws:PrincipalOrgID", &org)]));
            }
            principal && condition_holds(&s["Condition"], &request)
        })
}

/// Whether the functions may assume the member role of `account` (its AssumeMemberRoles
/// condition).
fn assumable(stack: &Stack, account: &str, in_org: bool) -> bool {
    let statement = role_statements(stack, &role_of("PeeringRequestFunction"))
        .into_iter()
        .find(|s| s["Sid"] == "AssumeMemberRoles")
        .unwrap();
    let mut request = context(&[("aws:ResourceAccount", &[account])]);
    if in_org {
        request.extend(context(&[("aws:ResourceOrgID", &[ORG])]));
    }
    condition_holds(&statement["Condition"], &request)
}

#[test]
fn an_account_the_hub_bus_refuses_is_one_peerwire_cannot_act_in_and_the_hub_says_which() {
    // (account, a member of the organization)
    let accounts = [
        ("111111111111", true),
        ("222222222222", true),
        ("444444444444", false),
        ("999999999999", false),
    ];
    for (overrides, said) in [
        (
            vec![("OrgId", ORG), ("MemberAccountIds", "444444444444")],
            format!("the accounts of organization {ORG}; forwarding from 444444444444 too"),
        ),
        (
            vec![("OrgId", ORG)],
            format!("the accounts of organization {ORG}"),
        ),
        (
            vec![("MemberAccountIds", "111111111111,444444444444")],
            "only 111111111111,444444444444 (no OrgId: an account missing from MemberAccountIds is refused)".to_owned(),
        ),
        (
            vec![],
            "NONE but this hub account: OrgId and MemberAccountIds are empty, so no other account's events reach the hub and no other member role can be assumed".to_owned(),
        ),
    ] {
        let stack = hub(&overrides);
        let mut refused_and_assumable = Vec::new();
        for (account, in_org) in accounts {
            for source in ["aws.ec2", "aws.rds", "aws.cloudwatch"] {
                if assumable(&stack, account, in_org) && !admitted(&stack, account, in_org, source) {
                    refused_and_assumable.push(format!("{account} {source}"));
                }
            }
        }
        assert!(
            refused_and_assumable.is_empty(),
            "{overrides:?}: peerwire would act in these accounts while their events are refused \
             (a silent fall back to sweeps): {refused_and_assumable:?}"
        );
        // And the evaluation is not vacuous: some account is refused, or admitted and assumable.
        let outsider_refused = !admitted(&stack, "999999999999", false, "aws.cloudwatch")
            && !assumable(&stack, "999999999999", false);
        assert!(outsider_refused, "{overrides:?}");
        let output = stack
            .resolve(&stack.template["Outputs"]["MemberAccounts"]["Value"])
            .expect("the output");
        assert_eq!(output, json!(said), "{overrides:?}");
    }
    // Listed accounts may forward even outside the organization; only the organization's roles
    // are assumed (a forwarder admitted without a role is noise, never a silent gap).
    let both = hub(&[("OrgId", ORG), ("MemberAccountIds", "444444444444")]);
    assert!(admitted(&both, "444444444444", false, "aws.cloudwatch"));
    assert!(!assumable(&both, "444444444444", false));
    assert!(admitted(&both, "111111111111", true, "aws.cloudwatch"));
    assert!(assumable(&both, "111111111111", true));
    // Other sources stay refused.
    assert!(!admitted(&both, "111111111111", true, "custom.app"));
}

// ---------------------------------------------------------------------------------------------
// Least privilege
// ---------------------------------------------------------------------------------------------

fn resources_of(stack: &Stack, action: &str) -> Vec<String> {
    role_statements(stack, "MemberRole")
        .iter()
        .filter(|s| strings(&s["Action"]).contains(&action.to_owned()))
        .flat_map(|s| strings(&s["Resource"]))
        .collect()
}

#[test]
fn diagnose_reads_only_the_flow_log_groups_named() {
    let group = |account: &str, region: &str, name: &str| {
        format!("arn:aws:logs:{region}:{account}:log-group:{name}:*")
    };
    // By default: the log group diagnose's own fix creates, /peerwire/flow-logs/<vpc-id>.
    let default = member_role(&[]);
    let granted = resources_of(&default, "logs:FilterLogEvents");
    assert_eq!(
        granted,
        ["arn:aws:logs:*:333333333333:log-group:/peerwire/flow-logs/*:*"]
    );
    let suggested =
        std::fs::read_to_string(workspace_root().join("diagnose/src/layers/traffic/mod.rs"))
            .unwrap();
    assert!(
        suggested.contains("--log-group-name \\\n         /peerwire/flow-logs/{}")
            || suggested.contains("--log-group-name /peerwire/flow-logs/{}"),
        "diagnose suggests a log group the default covers"
    );
    let allows = |granted: &[String], arn: &str| granted.iter().any(|g| arn_like(g, arn));
    assert!(allows(
        &granted,
        &group(HUB_ACCOUNT, "eu-west-1", "/peerwire/flow-logs/vpc-0abc1234")
    ));
    assert!(!allows(
        &granted,
        &group(HUB_ACCOUNT, "eu-west-1", "/aws/lambda/payments-api")
    ));
    assert!(!allows(
        &granted,
        &group(
            "111111111111",
            "eu-west-1",
            "/peerwire/flow-logs/vpc-0abc1234"
        )
    ));

    // The organization's own flow-log groups, through the parameter.
    let custom = member_role(&[("FlowLogGroupNamePattern", "/org/vpc-flow-logs/*")]);
    let granted = resources_of(&custom, "logs:FilterLogEvents");
    assert!(allows(
        &granted,
        &group(HUB_ACCOUNT, "us-east-1", "/org/vpc-flow-logs/vpc-0abc1234")
    ));
    assert!(!allows(
        &granted,
        &group(HUB_ACCOUNT, "us-east-1", "/peerwire/flow-logs/vpc-0abc1234")
    ));
    // * is every log group of the account, as before the parameter.
    let every = member_role(&[("FlowLogGroupNamePattern", "*")]);
    assert!(allows(
        &resources_of(&every, "logs:FilterLogEvents"),
        &group(HUB_ACCOUNT, "us-east-1", "/aws/lambda/payments-api")
    ));
    // A pattern cannot escape the log-group segment of the ARN.
    let template = yaml_template("templates/member-role.yaml");
    for bad in ["*:log-stream:*", "/a b", ""] {
        assert!(
            !parameter_accepts(&template, "FlowLogGroupNamePattern", bad),
            "{bad}"
        );
    }
    // The rollout passes it.
    let stack = rollout(&[("FlowLogGroupNamePattern", "/org/vpc-flow-logs/*")]);
    assert_eq!(
        passed(&stack, "MemberRoleStackSet")["FlowLogGroupNamePattern"],
        "/org/vpc-flow-logs/*"
    );
}

fn zone_association(stack: &Stack) -> Option<Value> {
    member_statement(stack, "AssociateManagedVpcsWithZones")
}

#[test]
fn vpcs_are_associated_with_peer_zones_only_when_named() {
    let vpcs = |values: &[&str]| context(&[("route53:VPCs", values)]);
    // Managed VPCs alone do not give it any more: no statement, no action.
    let managed = member_role(&[("ManagedVpcArns", "arn:aws:ec2:*:*:vpc/*")]);
    assert!(zone_association(&managed).is_none());
    assert!(resources_of(&managed, "route53:AssociateVPCWithHostedZone").is_empty());

    let named = member_role(&[(
        "ZoneAssociationVpcs",
        "vpc-0abc1234@us-east-1,*@eu-west-1,vpc-no-region",
    )]);
    let statement = zone_association(&named).expect("the statement");
    let policies: Vec<String> = named.properties("MemberRole")["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| scalar(&p["PolicyName"]))
        .collect();
    assert_eq!(
        policies,
        ["peerwire-member-read", "peerwire-member-zone-associations"],
        "its own policy: no write on VPCs comes with it"
    );
    assert_eq!(
        statement["Condition"],
        json!({
            // Route 53 Developer Guide: VPCId=<vpc-id>,VPCRegion=<region>.
            "ForAllValues:StringLike": { "route53:VPCs": [
                "VPCId=vpc-0abc1234,VPCRegion=us-east-1",
                "VPCId=*,VPCRegion=eu-west-1",
                "VPCId=vpc-no-region",
            ] },
            "Null": { "route53:VPCs": "false" },
        })
    );
    assert_eq!(
        strings(&statement["Action"]),
        [
            "route53:AssociateVPCWithHostedZone",
            "route53:DisassociateVPCFromHostedZone"
        ]
    );
    assert_eq!(
        strings(&statement["Resource"]),
        ["arn:aws:route53:::hostedzone/*"]
    );
    let condition = &statement["Condition"];
    let allowed = |values: &[&str]| condition_holds(condition, &vpcs(values));
    assert!(allowed(&["VPCId=vpc-0abc1234,VPCRegion=us-east-1"]));
    assert!(
        allowed(&["VPCId=vpc-0def5678,VPCRegion=eu-west-1"]),
        "every VPC of eu-west-1"
    );
    assert!(
        !allowed(&["VPCId=vpc-0def5678,VPCRegion=us-east-1"]),
        "another VPC"
    );
    assert!(
        !allowed(&["VPCId=vpc-0abc1234,VPCRegion=us-west-2"]),
        "another region"
    );
    assert!(
        !allowed(&["VPCId=vpc-no-region,VPCRegion=us-east-1"]),
        "an entry without region"
    );
    assert!(
        !allowed(&[
            "VPCId=vpc-0abc1234,VPCRegion=us-east-1",
            "VPCId=vpc-0def5678,VPCRegion=us-east-1"
        ]),
        "every VPC of the request must be named"
    );
    assert!(
        !condition_holds(condition, &context(&[])),
        "no VPC in the request"
    );

    // The rollout passes the list as it is.
    let stack = rollout(&[("ZoneAssociationVpcs", "*@us-east-1,*@eu-west-1")]);
    assert_eq!(
        passed(&stack, "MemberRoleStackSet")["ZoneAssociationVpcs"],
        "*@us-east-1,*@eu-west-1"
    );
    assert_eq!(
        passed(&rollout(&[]), "MemberRoleStackSet")["ZoneAssociationVpcs"],
        ""
    );
}

// ---------------------------------------------------------------------------------------------
// ExternalId rotation
// ---------------------------------------------------------------------------------------------

/// Whether the member role's trust policy lets the hub's peering-request role assume it with
/// `external_id` (from a principal of the organization when `in_org`).
fn trusts(stack: &Stack, external_id: &str, in_org: bool) -> bool {
    let trust = &stack.properties("MemberRole")["AssumeRolePolicyDocument"]["Statement"];
    let statements = trust.as_array().unwrap();
    assert_eq!(statements.len(), 1);
    let mut request = context(&[
        ("sts:ExternalId", &[external_id]),
        (
            "aws:PrincipalArn",
            &["arn:aws:iam::333333333333:role/peerwire/peerwire-PeeringRequestFunctionRole-1A2B3C4D5E6F"],
        ),
    ]);
    if in_org {
        request.extend(context(&[("aws:PrincipalOrgID", &[ORG])]));
    }
    condition_holds(&statements[0]["Condition"], &request)
}

#[test]
fn during_a_rotation_the_member_role_takes_the_current_and_the_next_external_id_only() {
    // member_role gives ExternalId = test-external-id, the current one here.
    let current = super::EXTERNAL_ID.1;
    let base = [("OrgId", ORG)];
    // Before and after a rotation: one ExternalId.
    let steady = member_role(&base);
    assert!(trusts(&steady, current, true));
    assert!(!trusts(&steady, "next-external-id", true));
    assert!(!trusts(&steady, current, false), "outside the organization");

    // During: both, each alone enough, nothing else.
    let mut rotating = base.to_vec();
    rotating.push(("NextExternalId", "next-external-id"));
    let rotating = member_role(&rotating);
    assert!(trusts(&rotating, current, true));
    assert!(trusts(&rotating, "next-external-id", true));
    assert!(!trusts(&rotating, "previous-external-id", true));
    assert!(
        !trusts(&rotating, "next-external-id", false),
        "the organization still applies"
    );
    assert_eq!(
        rotating.properties("MemberRole")["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
            ["StringEquals"]["sts:ExternalId"],
        json!([current, "next-external-id"])
    );
    // Without OrgId, no organization condition at all.
    let alone = member_role(&[("NextExternalId", "next-external-id")]);
    assert!(trusts(&alone, "next-external-id", false));

    // Both templates keep it secret, and the rollout passes it.
    for path in ["templates/member-role.yaml", "templates/org-rollout.yaml"] {
        let template = yaml_template(path);
        assert_eq!(
            template["Parameters"]["NextExternalId"]["NoEcho"],
            json!(true),
            "{path}"
        );
        assert!(parameter_accepts(&template, "NextExternalId", ""), "{path}");
        assert!(
            !parameter_accepts(&template, "NextExternalId", "x"),
            "{path}: too short"
        );
    }
    let stack = rollout(&[("NextExternalId", "next-external-id")]);
    let role = passed(&stack, "MemberRoleStackSet");
    assert_eq!(role["ExternalId"], "current-external-id");
    assert_eq!(role["NextExternalId"], "next-external-id");
}
