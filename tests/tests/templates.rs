//! What the templates promise an organization, checked on the templates themselves: the hub
//! after the SAM transform (`scripts/lint-templates --transform-only`), the member templates
//! and the org rollout as written, each resolved for given parameter values by the small
//! CloudFormation evaluator in `cfn/`.
//!
//! - the notifications: what a person reads for each outcome that needs one, rendered from the
//!   outcome samples the way EventBridge's input transformer does (an array inside a string
//!   loses its quotes), every variable a scalar, and the approval and denial commands parsed by
//!   the CLI itself;
//! - alarms on every function (errors, throttles, p99 duration near the timeout) and every
//!   queue, all on the alert topic (created, or given);
//! - reserved concurrency, the ledger table, the Organizations role, the organization
//!   condition on AssumeRole, and each function role's exact actions;
//! - the member role writes nothing until VPCs or hosted zones are named, and reads only what
//!   it needs;
//! - it grants every action of `peerwire::aws::permissions` (every function's job and
//!   diagnose's reads) by exactly the statements `peerwire check-permissions` names, and no EC2,
//!   RDS or Route 53 write beyond the list;
//! - the org rollout passes every parameter the member templates need, with automatic
//!   deployment, the role in one region and the forwarder in each listed one;
//! - the dashboard charts every metric the functions emit.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use crate::cfn::{
    load_json, role_statements, scalar, strings, transformed_hub, workspace_root, yaml_template,
    Stack, HUB_ACCOUNT,
};
use serde_json::{json, Value};

const FUNCTIONS: [&str; 4] = [
    "PeeringRequestFunction",
    "PeeringWiringFunction",
    "DriftRecheckFunction",
    "PeeringCleanupFunction",
];

const EXTERNAL_ID: (&str, &str) = ("ExternalId", "test-external-id");

fn hub(overrides: &[(&str, &str)]) -> Stack {
    let mut all = vec![EXTERNAL_ID];
    all.extend_from_slice(overrides);
    Stack::new(transformed_hub(), &all)
}

// ---------------------------------------------------------------------------------------------
// Notifications
// ---------------------------------------------------------------------------------------------

/// `$.a.b[0]` in `event`.
fn json_path<'a>(event: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = event;
    for part in path.strip_prefix("$.")?.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((name, rest)) => (
                name,
                Some(rest.trim_end_matches(']').parse::<usize>().ok()?),
            ),
            None => (part, None),
        };
        current = current.get(name)?;
        if let Some(i) = index {
            current = current.get(i)?;
        }
    }
    Some(current)
}

/// A value as EventBridge's input transformer inserts it. A string inside a string goes in as
/// it is; an array or object inside a string loses its inner quotes: "If a JSON path
/// references a JSON object or array, but the variable is referenced in a string, EventBridge
/// removes any internal quotes to ensure a valid string" (EventBridge User Guide, "Amazon
/// EventBridge Pipes input transformation", Common issues; the rules page, "Amazon EventBridge
/// input transformation", gives the same rule: "do not put quotes around variables that refer
/// to JSON objects or arrays"). Outside a string, a string is quoted and anything else is JSON.
/// The pages do not say what becomes of an escaped quote inside an element; here it goes too.
fn inserted(value: &Value, in_string: bool) -> String {
    match (value, in_string) {
        (Value::String(s), true) => s.clone(),
        (Value::Array(_) | Value::Object(_), true) => {
            value.to_string().replace("\\\"", "").replace('"', "")
        }
        (other, _) => other.to_string(),
    }
}

/// The input transformer applied to `event`, as EventBridge does for a text template: every
/// `<name>` of the paths map replaced by the value at its path ([`inserted`]: arrays and
/// objects inside a string lose their quotes). Every path must resolve in the event.
fn render(transformer: &Value, event: &Value) -> String {
    let paths = transformer["InputPathsMap"]
        .as_object()
        .expect("InputPathsMap");
    let template = scalar(&transformer["InputTemplate"]);
    let mut out = String::new();
    let mut in_string = false;
    let mut rest = template.as_str();
    while let Some(c) = rest.chars().next() {
        if c == '<' {
            if let Some((name, after)) = rest[1..].split_once('>') {
                if let Some(path) = paths.get(name) {
                    let path = path.as_str().unwrap();
                    let value = json_path(event, path).unwrap_or_else(|| {
                        panic!("{path} is not in the sample {}", event["detail-type"])
                    });
                    out.push_str(&inserted(value, in_string));
                    rest = after;
                    continue;
                }
            }
        }
        if c == '"' && !out.ends_with('\\') {
            in_string = !in_string;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    let leftover: Vec<&str> = out
        .match_indices('<')
        .filter_map(|(i, _)| out[i + 1..].split('>').next())
        .filter(|name| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
        .collect();
    assert!(
        leftover.is_empty(),
        "undefined placeholders {leftover:?} in {out}"
    );
    out
}

/// The notification rules, their outcome sample, and the detail-type they are about.
const NOTIFICATIONS: [(&str, &str); 5] = [
    ("NotifyApprovalRequired", "peerwire-approval-required.json"),
    ("NotifyReconcileFailed", "peerwire-reconcile-failed.json"),
    ("NotifyWiringBlocked", "peerwire-wiring-blocked.json"),
    ("NotifyDriftRepaired", "peerwire-drift-repaired.json"),
    ("NotifyDriftRecurring", "peerwire-drift-recurring.json"),
];

/// The message of `rule` for its sample, line by line (each line a JSON string in the template).
fn message(stack: &Stack, rule: &str, sample: &str) -> (Vec<String>, Value) {
    let properties = stack.properties(rule);
    let targets = properties["Targets"].as_array().unwrap();
    assert_eq!(targets.len(), 1, "{rule}: one target, the alert topic");
    let event = load_json(&format!("events/{sample}"));
    let text = render(&targets[0]["InputTransformer"], &event);
    let lines = text
        .lines()
        .map(|line| {
            assert!(
                line.starts_with('"') && line.ends_with('"'),
                "{rule}: every line of the template is a JSON string: {line}"
            );
            line[1..line.len() - 1].to_owned()
        })
        .collect();
    (lines, event)
}

#[test]
fn notifications_say_what_happened_why_and_the_command_to_run_next() {
    let stack = hub(&[]);
    // The rules that do not invoke a function (SAM turns each function's events into rules),
    // but for the member forwarders' dead-letter alarms (templates/rollout.rs).
    let rules: BTreeSet<String> = stack
        .of_type("AWS::Events::Rule")
        .keys()
        .filter(|id| id.as_str() != "NotifyMemberForwarderDeadLetters")
        .filter(|id| {
            stack.properties(id)["Targets"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| {
                    !scalar(&t["Arn"]).contains(":lambda:")
                        && !scalar(&t["Arn"]).starts_with("peerwire-")
                })
        })
        .cloned()
        .collect();
    let named: BTreeSet<String> = NOTIFICATIONS.iter().map(|(r, _)| (*r).to_owned()).collect();
    assert_eq!(
        rules, named,
        "the hub's rules besides the functions' are the notifications"
    );
    for (rule, sample) in NOTIFICATIONS {
        let properties = stack.properties(rule);
        let detail_type = load_json(&format!("events/{sample}"))["detail-type"].clone();
        assert_eq!(
            properties["EventPattern"],
            json!({ "source": ["peerwire"], "detail-type": [detail_type] }),
            "{rule}"
        );
        assert_eq!(
            properties["EventBusName"],
            json!(stack.physical_id("HubBus")),
            "{rule}: on the outcome bus (the hub bus by default)"
        );
        let (lines, event) = message(&stack, rule, sample);
        let pcx = event["detail"]["peering_id"].as_str().unwrap();
        assert!(
            lines[0].starts_with("peerwire: ") && lines[0].contains(pcx),
            "{rule}: {lines:?}"
        );
        assert!(
            lines.iter().any(|l| l.starts_with("What happened: ")),
            "{rule}: {lines:?}"
        );
        // Why: the outcome's first reason (a recurring drift's is what happened).
        let first = event["detail"]["reasons"][0].as_str().unwrap();
        let why = lines
            .iter()
            .find(|l| {
                l.starts_with("Why: ") || l.starts_with("What happened: ") && l.contains(first)
            })
            .expect("a Why line");
        assert!(why.contains(first), "{rule}: {why} lacks {first}");
        // Every variable is a scalar in the sample: no array or object inside a string.
        let paths = &stack.properties(rule)["Targets"][0]["InputTransformer"]["InputPathsMap"];
        for (name, path) in paths.as_object().unwrap() {
            let value = json_path(&event, path.as_str().unwrap()).unwrap();
            assert!(
                !value.is_array() && !value.is_object(),
                "{rule}: <{name}> ({path}) is {value}: inside a string it would lose its quotes"
            );
        }
        let next = lines
            .iter()
            .find(|l| l.starts_with("Next"))
            .expect("a Next line");
        if rule != "NotifyApprovalRequired" {
            let accepter = &event["detail"]["accepter"];
            assert_eq!(
                next,
                &format!(
                    "Next: peerwire diagnose {pcx} --account {} --region {}",
                    scalar(&accepter["account"]),
                    scalar(&accepter["region"])
                ),
                "{rule}"
            );
        }
    }
    // A failure names the error too.
    let (lines, event) = message(
        &stack,
        "NotifyReconcileFailed",
        "peerwire-reconcile-failed.json",
    );
    let why = lines.iter().find(|l| l.starts_with("Why: ")).unwrap();
    assert!(why.contains(event["detail"]["error"]["message"].as_str().unwrap()));
}

#[test]
fn the_approval_notification_carries_the_command_that_approves_or_denies() {
    use peerwire_cli::args::{Cli, Command as PeerwireCommand};

    let stack = hub(&[]);
    let (lines, event) = message(
        &stack,
        "NotifyApprovalRequired",
        "peerwire-approval-required.json",
    );
    let d = &event["detail"];
    let (pcx, account, region) = (
        scalar(&d["peering_id"]),
        scalar(&d["accepter"]["account"]),
        scalar(&d["accepter"]["region"]),
    );
    let bus = stack.attribute("HubBus", "Arn");
    let command = |prefix: &str| -> Vec<String> {
        let line = lines
            .iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line `{prefix}…` in {lines:?}"));
        let command = line
            .split_once("): ")
            .map_or_else(|| line.split_once(": ").unwrap().1, |(_, command)| command);
        // As a shell splits it: words, and one single-quoted argument.
        let mut words = Vec::new();
        let mut rest = command;
        while !rest.is_empty() {
            rest = rest.trim_start();
            if let Some(quoted) = rest.strip_prefix('\'') {
                let (word, after) = quoted.split_once('\'').unwrap();
                words.push(word.to_owned());
                rest = after;
            } else {
                let (word, after) = rest.split_once(' ').unwrap_or((rest, ""));
                words.push(word.to_owned());
                rest = after;
            }
        }
        words
    };

    let approve = command("Next, to approve");
    assert_eq!(
        approve.join(" "),
        format!("peerwire approve {pcx} --account {account} --region {region} --bus {bus}")
    );
    // It is a command of the CLI, with these values.
    let parsed = Cli::parse_words(&approve).unwrap();
    let PeerwireCommand::Approve(args) = parsed.command else {
        panic!("{approve:?}")
    };
    assert_eq!(args.answer.target.peering_id, pcx);
    assert_eq!(
        args.answer.target.account.as_deref(),
        Some(account.as_str())
    );
    assert_eq!(args.answer.target.region.as_deref(), Some(region.as_str()));
    assert_eq!(args.answer.bus, bus);
    assert!(!args.answer.yes, "a person confirms");

    let deny = command("To deny it instead");
    let parsed = Cli::parse_words(&deny).unwrap();
    let PeerwireCommand::Deny(args) = parsed.command else {
        panic!("{deny:?}")
    };
    assert_eq!(args.answer.target.peering_id, pcx);
    assert!(!args.reason.is_empty());
}

/// The approval command the notification carried before: a jq pipeline with the CIDRs inserted
/// inside a string. Rendered as AWS renders it, the array loses its quotes and jq refuses it.
#[test]
fn an_array_inside_a_string_loses_its_quotes_as_in_eventbridge() {
    let transformer = json!({
        "InputPathsMap": { "cidrs": "$.detail.requester.cidrs", "pcx": "$.detail.peering_id" },
        "InputTemplate": "\"jq -n --arg pcx <pcx> --argjson cidrs '<cidrs>' '$cidrs'\"",
    });
    let event = load_json("events/peerwire-approval-required.json");
    let text = render(&transformer, &event);
    assert_eq!(
        text,
        "\"jq -n --arg pcx pcx-0123456789abcdef0 --argjson cidrs '[10.0.0.0/16]' '$cidrs'\""
    );
    // Outside a string the array stays JSON; a string there is quoted.
    let outside = json!({
        "InputPathsMap": { "cidrs": "$.detail.requester.cidrs", "pcx": "$.detail.peering_id" },
        "InputTemplate": "{\"cidrs\": <cidrs>, \"pcx\": <pcx>}",
    });
    let text = render(&outside, &event);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({ "cidrs": ["10.0.0.0/16"], "pcx": "pcx-0123456789abcdef0" })
    );
    if Command::new("jq").arg("--version").output().is_err() {
        eprintln!("jq is not installed: the old command was rendered but not run");
        return;
    }
    let refused = Command::new("jq")
        .args(["-n", "--argjson", "cidrs", "[10.0.0.0/16]", "$cidrs"])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "jq took an unquoted array");
}

// ---------------------------------------------------------------------------------------------
// Alarms, topic, concurrency
// ---------------------------------------------------------------------------------------------

fn timeout_seconds(stack: &Stack, function: &str) -> u64 {
    scalar(&stack.properties(function)["Timeout"])
        .parse()
        .unwrap()
}

#[test]
fn every_function_has_error_throttle_and_duration_alarms_on_the_alert_topic() {
    let given = "arn:aws:sns:us-east-1:333333333333:platform-alerts";
    for (overrides, topic) in [
        (vec![], None),
        (vec![("AlarmTopicArn", given)], Some(given.to_owned())),
    ] {
        let stack = hub(&overrides);
        let topic = topic.unwrap_or_else(|| stack.physical_id("AlertTopic"));
        let alarms: Vec<Value> = stack
            .of_type("AWS::CloudWatch::Alarm")
            .keys()
            .map(|id| stack.properties(id))
            .collect();
        for alarm in &alarms {
            assert_eq!(alarm["AlarmActions"], json!([topic]), "{alarm}");
        }
        for function in FUNCTIONS {
            let name = stack.physical_id(function);
            let on = |metric: &str| -> Vec<&Value> {
                alarms
                    .iter()
                    .filter(|a| a["Namespace"] == "AWS/Lambda" && a["MetricName"] == metric)
                    .filter(|a| {
                        a["Dimensions"] == json!([{ "Name": "FunctionName", "Value": name }])
                    })
                    .collect()
            };
            for metric in ["Errors", "Throttles"] {
                let found = on(metric);
                assert_eq!(found.len(), 1, "{function}: one {metric} alarm");
                assert_eq!(found[0]["Statistic"], "Sum");
                assert_eq!(found[0]["Threshold"], json!(0));
                assert_eq!(found[0]["ComparisonOperator"], "GreaterThanThreshold");
            }
            let duration = on("Duration");
            assert_eq!(duration.len(), 1, "{function}: one Duration alarm");
            assert_eq!(duration[0]["ExtendedStatistic"], "p99");
            let limit = timeout_seconds(&stack, function) * 1000 * 8 / 10;
            assert_eq!(
                duration[0]["Threshold"],
                json!(limit),
                "{function}: p99 above 80% of its timeout"
            );
        }
        // Every queue's depth is alarmed (the DLQs, failed invocations, notifications).
        let queues: BTreeSet<String> = stack
            .of_type("AWS::SQS::Queue")
            .keys()
            .map(|q| stack.attribute(q, "QueueName"))
            .collect();
        let alarmed: BTreeSet<String> = alarms
            .iter()
            .filter(|a| a["MetricName"] == "ApproximateNumberOfMessagesVisible")
            .map(|a| scalar(&a["Dimensions"][0]["Value"]))
            .collect();
        assert_eq!(queues, alarmed);
        // The created topic exists only when none is given, with its policy.
        let created = stack.of_type("AWS::SNS::Topic");
        assert_eq!(created.is_empty(), !overrides.is_empty());
        assert_eq!(stack.of_type("AWS::SNS::TopicPolicy").len(), created.len());
    }
}

#[test]
fn the_created_topic_accepts_the_notification_rules_and_the_hubs_alarms_only() {
    let stack = hub(&[("AlertEmail", "platform@example.com")]);
    let policy = stack.properties("AlertTopicPolicy");
    let statements = policy["PolicyDocument"]["Statement"].as_array().unwrap();
    let events = statements
        .iter()
        .find(|s| s["Principal"] == json!({ "Service": "events.amazonaws.com" }))
        .expect("events.amazonaws.com may publish");
    let rules: BTreeSet<String> = strings(&events["Condition"]["ArnEquals"]["aws:SourceArn"])
        .into_iter()
        .collect();
    let expected: BTreeSet<String> = NOTIFICATIONS
        .iter()
        .map(|(r, _)| stack.attribute(r, "Arn"))
        .collect();
    assert_eq!(rules, expected);
    let alarms = statements
        .iter()
        .find(|s| s["Principal"] == json!({ "Service": "cloudwatch.amazonaws.com" }))
        .expect("CloudWatch may publish");
    assert_eq!(
        alarms["Condition"]["StringEquals"]["aws:SourceAccount"],
        json!(HUB_ACCOUNT)
    );
    for s in statements {
        assert_eq!(s["Action"], "sns:Publish");
        assert_eq!(s["Resource"], json!(stack.physical_id("AlertTopic")));
    }
    let subscription = stack.properties("AlertEmailSubscription");
    assert_eq!(subscription["Protocol"], "email");
    assert_eq!(subscription["Endpoint"], "platform@example.com");
    assert!(hub(&[]).of_type("AWS::SNS::Subscription").is_empty());
}

#[test]
fn reserved_concurrency_is_a_parameter_where_0_and_minus_1_mean_unreserved() {
    for (value, expected) in [("-1", None), ("0", None), ("5", Some(json!("5")))] {
        let stack = hub(&[("ReservedConcurrency", value)]);
        for function in FUNCTIONS {
            let reserved = stack.properties(function)["ReservedConcurrentExecutions"].clone();
            assert_eq!(
                (!reserved.is_null()).then_some(reserved),
                expected,
                "{function} with ReservedConcurrency={value}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// IAM and configuration of the functions
// ---------------------------------------------------------------------------------------------

fn role_of(function: &str) -> String {
    format!("{function}Role")
}

fn environment(stack: &Stack, function: &str) -> BTreeMap<String, Value> {
    stack.properties(function)["Environment"]["Variables"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `Sid -> sorted actions` of a function role's own statements (those with a Sid: SAM's
/// generated on-failure statement has none and is checked apart).
fn actions_by_sid(stack: &Stack, function: &str) -> BTreeMap<String, Vec<String>> {
    role_statements(stack, &role_of(function))
        .iter()
        .filter(|s| !s["Sid"].is_null())
        .map(|s| {
            let mut actions = strings(&s["Action"]);
            actions.sort();
            (scalar(&s["Sid"]), actions)
        })
        .collect()
}

#[test]
fn function_roles_have_exactly_these_actions_and_no_wildcard_resource() {
    let kms = "arn:aws:kms:us-east-1:333333333333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let org_role = "arn:aws:iam::555555555555:role/peerwire-organizations-read";
    for overrides in [
        vec![],
        vec![("PolicyKmsKeyArn", kms), ("OrganizationsRoleArn", org_role)],
    ] {
        let stack = hub(&overrides);
        let extras = !overrides.is_empty();
        for function in FUNCTIONS {
            let mut expected: BTreeMap<String, Vec<String>> = [
                ("AssumeMemberRoles", vec!["sts:AssumeRole"]),
                ("ReadPolicy", vec!["ssm:GetParameter"]),
                ("PublishOutcomes", vec!["events:PutEvents"]),
                (
                    "UseLedger",
                    vec![
                        "dynamodb:DeleteItem",
                        "dynamodb:GetItem",
                        "dynamodb:PutItem",
                    ],
                ),
            ]
            .into_iter()
            .map(|(sid, actions)| {
                (
                    sid.to_owned(),
                    actions.into_iter().map(str::to_owned).collect(),
                )
            })
            .collect();
            if extras {
                expected.insert("DecryptPolicy".into(), vec!["kms:Decrypt".into()]);
            }
            // The functions that write in member accounts' networks record where they wrote
            // (docs/deploy.md, section 4); the request function wires what it accepts.
            if matches!(
                function,
                "PeeringRequestFunction" | "PeeringWiringFunction" | "DriftRecheckFunction"
            ) {
                if let Some(ledger) = expected.get_mut("UseLedger") {
                    ledger.push("dynamodb:UpdateItem".into());
                }
            }
            if extras && function == "PeeringRequestFunction" {
                expected.insert(
                    "AssumeOrganizationsRole".into(),
                    vec!["sts:AssumeRole".into()],
                );
            }
            assert_eq!(actions_by_sid(&stack, function), expected, "{function}");
            for statement in role_statements(&stack, &role_of(function)) {
                assert_eq!(statement["Effect"], "Allow");
                for resource in strings(&statement["Resource"]) {
                    assert_ne!(resource, "*", "{function}: {statement}");
                }
                if statement["Sid"].is_null() {
                    // SAM's on-failure destination statement.
                    assert_eq!(statement["Action"], "sqs:SendMessage", "{function}");
                }
            }
        }
    }
}

#[test]
fn the_ledger_table_and_its_least_privilege_access() {
    let stack = hub(&[]);
    let table = stack.properties("LedgerTable");
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        table["KeySchema"],
        json!([{ "AttributeName": "pk", "KeyType": "HASH" }])
    );
    assert_eq!(
        table["AttributeDefinitions"],
        json!([{ "AttributeName": "pk", "AttributeType": "S" }])
    );
    assert_eq!(
        table["TimeToLiveSpecification"],
        json!({ "AttributeName": "expires_at", "Enabled": true })
    );
    assert_eq!(
        table["PointInTimeRecoverySpecification"],
        json!({ "PointInTimeRecoveryEnabled": true })
    );
    let raw = &stack.resources()["LedgerTable"];
    assert_eq!(
        raw["DeletionPolicy"], "Retain",
        "a ledger outlives its stack"
    );
    let name = stack.physical_id("LedgerTable");
    let arn = stack.attribute("LedgerTable", "Arn");
    for function in FUNCTIONS {
        assert_eq!(
            environment(&stack, function)["PEERWIRE_LEDGER_TABLE"],
            json!(name)
        );
        let ledger: Vec<Value> = role_statements(&stack, &role_of(function))
            .into_iter()
            .filter(|s| {
                strings(&s["Action"])
                    .iter()
                    .any(|a| a.starts_with("dynamodb:"))
            })
            .collect();
        assert_eq!(ledger.len(), 1, "{function}");
        assert_eq!(
            ledger[0]["Resource"],
            json!(arn),
            "{function}: this table only"
        );
        assert!(ledger[0]["Condition"].is_null());
    }
}

#[test]
fn the_organizations_role_is_for_peering_request_only() {
    let org_role = "arn:aws:iam::555555555555:role/peerwire-organizations-read";
    let assumable = |stack: &Stack, function: &str| -> Vec<String> {
        role_statements(stack, &role_of(function))
            .iter()
            .filter(|s| s["Sid"] == "AssumeOrganizationsRole")
            .flat_map(|s| strings(&s["Resource"]))
            .collect()
    };
    let off = hub(&[]);
    assert_eq!(
        environment(&off, "PeeringRequestFunction")["PEERWIRE_ORGANIZATIONS_ROLE_ARN"],
        json!("")
    );
    assert!(assumable(&off, "PeeringRequestFunction").is_empty());

    let on = hub(&[("OrganizationsRoleArn", org_role)]);
    assert_eq!(
        environment(&on, "PeeringRequestFunction")["PEERWIRE_ORGANIZATIONS_ROLE_ARN"],
        json!(org_role)
    );
    assert_eq!(
        assumable(&on, "PeeringRequestFunction"),
        vec![org_role.to_owned()]
    );
    for function in &FUNCTIONS[1..] {
        assert!(assumable(&on, function).is_empty(), "{function}");
        assert!(
            !environment(&on, function).contains_key("PEERWIRE_ORGANIZATIONS_ROLE_ARN"),
            "{function}"
        );
    }
}

#[test]
fn member_roles_are_assumed_only_inside_the_organization_or_the_listed_accounts() {
    let condition = |overrides: &[(&str, &str)]| -> Value {
        let stack = hub(overrides);
        let conditions: BTreeSet<String> = FUNCTIONS
            .iter()
            .map(|f| {
                let statement = role_statements(&stack, &role_of(f))
                    .into_iter()
                    .find(|s| s["Sid"] == "AssumeMemberRoles")
                    .unwrap();
                assert_eq!(
                    statement["Resource"],
                    json!("arn:aws:iam::*:role/peerwire-member"),
                    "{f}: the member role, by name"
                );
                statement["Condition"].to_string()
            })
            .collect();
        assert_eq!(conditions.len(), 1, "the four functions agree");
        serde_json::from_str(conditions.first().unwrap()).unwrap()
    };
    assert_eq!(
        condition(&[
            ("OrgId", "o-a1b2c3d4e5"),
            ("MemberAccountIds", "111111111111")
        ]),
        json!({ "StringEquals": { "aws:ResourceOrgID": "o-a1b2c3d4e5" } })
    );
    assert_eq!(
        condition(&[("MemberAccountIds", "111111111111,222222222222")]),
        json!({ "StringEquals": { "aws:ResourceAccount": ["111111111111", "222222222222"] } })
    );
    assert_eq!(
        condition(&[]),
        json!({ "StringEquals": { "aws:ResourceAccount": [HUB_ACCOUNT] } })
    );
}

// ---------------------------------------------------------------------------------------------
// Member templates and the org rollout
// ---------------------------------------------------------------------------------------------

fn member_role(overrides: &[(&str, &str)]) -> Stack {
    let mut all = vec![("HubAccountId", HUB_ACCOUNT), EXTERNAL_ID];
    all.extend_from_slice(overrides);
    Stack::new(yaml_template("templates/member-role.yaml"), &all)
}

fn member_actions(stack: &Stack) -> BTreeSet<String> {
    role_statements(stack, "MemberRole")
        .iter()
        .flat_map(|s| strings(&s["Action"]))
        .collect()
}

#[test]
fn the_member_role_writes_nothing_unless_vpcs_are_named() {
    let reads: BTreeSet<String> = [
        "ec2:DescribeVpcPeeringConnections",
        "ec2:DescribeVpcs",
        "ec2:DescribeVpcAttribute",
        "ec2:DescribeRouteTables",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeNetworkAcls",
        "ec2:DescribeManagedPrefixLists",
        "ec2:DescribeFlowLogs",
        "logs:FilterLogEvents",
        "rds:DescribeDBInstances",
        "rds:DescribeDBClusters",
        "rds:DescribeDBSubnetGroups",
        "servicequotas:GetServiceQuota",
        "route53:GetHostedZone",
        "route53:ListTagsForResources",
        "route53:ListResourceRecordSets",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    let default = member_role(&[]);
    assert_eq!(
        member_actions(&default),
        reads,
        "by default the role only reads"
    );

    let quotas: Vec<String> = role_statements(&default, "MemberRole")
        .iter()
        .filter(|s| s["Action"] == "servicequotas:GetServiceQuota")
        .flat_map(|s| strings(&s["Resource"]))
        .collect();
    assert_eq!(
        quotas,
        vec![
            "arn:aws:servicequotas:*:333333333333:vpc/L-93826ACB",
            "arn:aws:servicequotas:*:333333333333:vpc/L-0EA8095F",
        ],
        "routes per route table and rules per security group, nothing else"
    );
    // Zone ARNs have no account: a role sees only its own account's zones.
    let read_zones: Vec<Value> = role_statements(&default, "MemberRole")
        .into_iter()
        .filter(|s| s["Sid"] == "ReadHostedZones")
        .collect();
    assert_eq!(read_zones.len(), 1);
    assert_eq!(
        strings(&read_zones[0]["Resource"]),
        ["arn:aws:route53:::hostedzone/*"]
    );

    let vpc = "arn:aws:ec2:us-east-1:333333333333:vpc/vpc-0f1e2d3c4b5a69788";
    let managed = member_role(&[("ManagedVpcArns", vpc)]);
    let writes: BTreeSet<String> = member_actions(&managed)
        .difference(&reads)
        .cloned()
        .collect();
    assert!(
        writes.contains("ec2:AcceptVpcPeeringConnection") && writes.contains("ec2:CreateRoute")
    );
    // Delete only to roll back its own accept: into managed VPCs, like accept.
    let statements = role_statements(&managed, "MemberRole");
    let delete: Vec<&Value> = statements
        .iter()
        .filter(|s| strings(&s["Action"]).contains(&"ec2:DeleteVpcPeeringConnection".to_owned()))
        .collect();
    assert_eq!(delete.len(), 1, "{delete:?}");
    assert_eq!(
        delete[0]["Condition"],
        json!({ "ArnLike": { "ec2:AccepterVpc": [vpc] } })
    );
    assert_eq!(
        strings(&delete[0]["Resource"]),
        ["arn:aws:ec2:*:333333333333:vpc-peering-connection/*"]
    );
    // Every write names the VPC: as the resource, or in the condition. Except the association
    // of a VPC with another account's zone: Route 53 names the zone only (the VPC is in
    // route53:VPCs, which CloudFormation cannot build from VPC ARNs).
    for statement in role_statements(&managed, "MemberRole") {
        let actions = strings(&statement["Action"]);
        if actions.iter().all(|a| reads.contains(a)) {
            continue;
        }
        let resources = strings(&statement["Resource"]);
        if statement["Sid"] == "AssociateManagedVpcsWithZones" {
            assert_eq!(
                actions,
                [
                    "route53:AssociateVPCWithHostedZone",
                    "route53:DisassociateVPCFromHostedZone"
                ]
            );
            assert_eq!(resources, ["arn:aws:route53:::hostedzone/*"]);
            continue;
        }
        let scoped = resources == vec![vpc.to_owned()]
            || statement["Condition"]["ArnLike"]
                .as_object()
                .is_some_and(|c| c.values().all(|v| strings(v) == vec![vpc.to_owned()]))
            || (actions.iter().all(|a| a.starts_with("ec2:Authorize"))
                && resources
                    .iter()
                    .all(|r| r.contains(":security-group-rule/")));
        assert!(scoped, "{statement}");
        assert!(resources.iter().all(|r| r != "*"), "{statement}");
    }
}

/// The statement `sid` of the member role, if the stack has it.
fn member_statement(stack: &Stack, sid: &str) -> Option<Value> {
    role_statements(stack, "MemberRole")
        .into_iter()
        .find(|s| s["Sid"] == sid)
}

#[test]
fn the_member_role_shares_exactly_the_listed_hosted_zones() {
    let policies = |stack: &Stack| -> Vec<String> {
        stack.properties("MemberRole")["Policies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| scalar(&p["PolicyName"]))
            .collect()
    };
    let default = member_role(&[]);
    assert_eq!(policies(&default), ["peerwire-member-read"]);
    assert!(member_statement(&default, "ShareListedHostedZones").is_none());

    // Without managed VPCs: the zone owner's writes only, on exactly the listed zones.
    let zones = [
        "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ",
        "arn:aws:route53:::hostedzone/Z9876543210ABCDEFGHIJ",
    ];
    let sharing = member_role(&[("HostedZoneArns", &zones.join(","))]);
    assert_eq!(
        policies(&sharing),
        ["peerwire-member-read", "peerwire-member-zones"]
    );
    let share = member_statement(&sharing, "ShareListedHostedZones").unwrap();
    assert_eq!(
        share,
        json!({
            "Sid": "ShareListedHostedZones",
            "Effect": "Allow",
            "Action": [
                "route53:ChangeTagsForResource",
                "route53:CreateVPCAssociationAuthorization",
                "route53:DeleteVPCAssociationAuthorization"
            ],
            "Resource": zones,
        })
    );
    let writes: Vec<String> = member_actions(&sharing)
        .into_iter()
        .filter(|a| !reads_only(a))
        .collect();
    assert_eq!(writes, strings(&share["Action"]), "nothing else is written");
    // The VPC owner's association needs managed VPCs.
    assert!(member_statement(&sharing, "AssociateManagedVpcsWithZones").is_none());
}

/// Whether `service:Operation` only reads (the EC2, RDS and Logs naming).
fn reads_only(action: &str) -> bool {
    let operation = action.split_once(':').map_or(action, |(_, op)| op);
    ["Describe", "Get", "List", "Filter"]
        .iter()
        .any(|verb| operation.starts_with(verb))
}

/// `peerwire::aws::permissions` is the one list: every action of it (every function's job and
/// diagnose's reads) is granted by the member role through exactly the statements
/// `peerwire check-permissions` names in its fixes (reads always, writes once VPCs or zones are
/// named),
/// and the role grants no EC2, RDS or Route 53 write beyond it.
#[test]
fn the_member_role_grants_every_listed_action_and_no_other_write() {
    use peerwire::aws::permissions::{Job, DIAGNOSE_READS};
    use peerwire_cli::permissions::{granted_by, policy_of};

    let vpc = "arn:aws:ec2:us-east-1:333333333333:vpc/vpc-0f1e2d3c4b5a69788";
    let zone = "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ";
    let managed = member_role(&[
        ("ManagedVpcArns", vpc),
        ("ZoneAssociationVpcs", "vpc-0f1e2d3c4b5a69788@us-east-1"),
        ("HostedZoneArns", zone),
    ]);
    // action -> {(policy, statement)}
    let mut granted: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    let properties = managed.properties("MemberRole");
    for policy in properties["Policies"].as_array().unwrap() {
        let name = scalar(&policy["PolicyName"]);
        for statement in policy["PolicyDocument"]["Statement"].as_array().unwrap() {
            assert_eq!(statement["Effect"], "Allow", "{statement}");
            for action in strings(&statement["Action"]) {
                granted
                    .entry(action)
                    .or_default()
                    .insert((name.clone(), scalar(&statement["Sid"])));
            }
        }
    }

    let listed = Job::All.actions();
    assert!(DIAGNOSE_READS.iter().all(|a| listed.contains(a)));
    for action in &listed {
        let expected: BTreeSet<(String, String)> = granted_by(action.name)
            .iter()
            .map(|sid| (policy_of(sid).to_owned(), (*sid).to_owned()))
            .collect();
        assert!(
            !expected.is_empty(),
            "{}: check-permissions names no statement",
            action.name
        );
        assert_eq!(granted.get(action.name), Some(&expected), "{}", action.name);
        assert_eq!(action.write, !reads_only(action.name), "{}", action.name);
    }

    let names: BTreeSet<&str> = listed.iter().map(|a| a.name).collect();
    let unlisted_writes: Vec<&String> = granted
        .keys()
        .filter(|a| {
            ["ec2:", "rds:", "route53:"]
                .iter()
                .any(|s| a.starts_with(s))
        })
        .filter(|a| !reads_only(a) && !names.contains(a.as_str()))
        .collect();
    assert!(
        unlisted_writes.is_empty(),
        "writes no function makes: {unlisted_writes:?}"
    );

    // The reads need no VPC named.
    let default = member_actions(&member_role(&[]));
    for action in listed.iter().filter(|a| !a.write) {
        assert!(default.contains(action.name), "{}", action.name);
    }

    // Diagnose's reads: DescribeFlowLogs has no resource-level permissions; the flow-log
    // records only in this account's flow-log groups (FlowLogGroupNamePattern).
    let resources = |action: &str| -> Vec<String> {
        role_statements(&managed, "MemberRole")
            .iter()
            .filter(|s| strings(&s["Action"]).contains(&action.to_owned()))
            .flat_map(|s| strings(&s["Resource"]))
            .collect()
    };
    assert_eq!(resources("ec2:DescribeFlowLogs"), ["*"]);
    assert_eq!(
        resources("logs:FilterLogEvents"),
        ["arn:aws:logs:*:333333333333:log-group:/peerwire/flow-logs/*:*"]
    );
    // The zone owner's writes only on the listed zones; the reads on any zone of the account.
    assert_eq!(resources("route53:ChangeTagsForResource"), [zone]);
    assert_eq!(
        resources("route53:GetHostedZone"),
        ["arn:aws:route53:::hostedzone/*"]
    );
}

#[test]
fn the_org_rollout_passes_every_member_parameter_and_deploys_automatically() {
    let rollout = Stack::new(
        yaml_template("templates/org-rollout.yaml"),
        &[
            ("OrganizationalUnitIds", "ou-abcd-11111111,ou-abcd-22222222"),
            ("RoleRegion", "eu-west-1"),
            ("ForwarderRegions", "eu-west-1,us-east-1"),
            (
                "MemberRoleTemplateUrl",
                "https://b.s3.eu-west-1.amazonaws.com/peerwire/member-role-0123456789abcdef.yaml",
            ),
            (
                "MemberForwarderTemplateUrl",
                "https://b.s3.eu-west-1.amazonaws.com/peerwire/member-forwarder-fedcba9876543210.yaml",
            ),
            ("HubAccountId", HUB_ACCOUNT),
            (
                "HubBusArn",
                "arn:aws:events:us-east-1:333333333333:event-bus/peerwire-hub",
            ),
            EXTERNAL_ID,
            ("OrgId", "o-a1b2c3d4e5"),
            ("HostedZoneArns", "arn:aws:route53:::hostedzone/*"),
        ],
    );
    let sets = rollout.of_type("AWS::CloudFormation::StackSet");
    assert_eq!(sets.len(), 2);
    for (id, template, regions) in [
        (
            "MemberRoleStackSet",
            "templates/member-role.yaml",
            vec!["eu-west-1"],
        ),
        (
            "MemberForwarderStackSet",
            "templates/member-forwarder.yaml",
            vec!["eu-west-1", "us-east-1"],
        ),
    ] {
        let set = rollout.properties(id);
        assert_eq!(set["PermissionModel"], "SERVICE_MANAGED", "{id}");
        assert_eq!(
            set["AutoDeployment"],
            json!({ "Enabled": true, "RetainStacksOnAccountRemoval": false }),
            "{id}: new accounts get it on arrival"
        );
        let name = template
            .rsplit('/')
            .next()
            .unwrap()
            .trim_end_matches(".yaml");
        assert!(set["TemplateURL"]
            .as_str()
            .unwrap()
            .contains(&format!("/{name}-")));
        let groups = set["StackInstancesGroup"].as_array().unwrap();
        assert_eq!(groups.len(), 1);
        assert_eq!(
            groups[0]["DeploymentTargets"]["OrganizationalUnitIds"],
            json!(["ou-abcd-11111111", "ou-abcd-22222222"])
        );
        assert_eq!(groups[0]["Regions"], json!(regions), "{id}");

        // Every parameter of the member template without a default is passed, and nothing
        // it does not declare.
        let member = yaml_template(template);
        let declared = member["Parameters"].as_object().unwrap();
        let passed: BTreeMap<String, String> = set["Parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (scalar(&p["ParameterKey"]), scalar(&p["ParameterValue"])))
            .collect();
        for key in passed.keys() {
            assert!(
                declared.contains_key(key),
                "{id} passes {key}, which {template} does not declare"
            );
        }
        for (name, declaration) in declared {
            assert!(
                !declaration["Default"].is_null() || passed.contains_key(name),
                "{id} does not pass {name}, which {template} requires"
            );
        }
        // Each passed value is valid for the member template.
        let overrides: Vec<(&str, &str)> = passed
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Stack::new(member, &overrides);
    }
    let role = rollout.properties("MemberRoleStackSet");
    assert_eq!(role["Capabilities"], json!(["CAPABILITY_NAMED_IAM"]));
    let passed = |key: &str| -> String {
        role["Parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["ParameterKey"] == key)
            .map(|p| scalar(&p["ParameterValue"]))
            .unwrap()
    };
    assert_eq!(
        passed("ManagedVpcArns"),
        "",
        "by default no VPC: the roles only read"
    );
    assert_eq!(passed("OrgId"), "o-a1b2c3d4e5");
    assert_eq!(
        passed("HostedZoneArns"),
        "arn:aws:route53:::hostedzone/*",
        "each account's role shares its own zones"
    );
}

// ---------------------------------------------------------------------------------------------
// Dashboard
// ---------------------------------------------------------------------------------------------

#[test]
fn the_dashboard_charts_every_metric_the_functions_emit() {
    let stack = hub(&[]);
    let body: Value =
        serde_json::from_str(&scalar(&stack.properties("Dashboard")["DashboardBody"])).unwrap();
    let mut metrics: BTreeSet<(String, String)> = BTreeSet::new();
    let mut expressions = Vec::new();
    for widget in body["widgets"].as_array().unwrap() {
        for row in widget["properties"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let Some(expression) = row[0]["expression"].as_str() {
                expressions.push(expression.to_owned());
                continue;
            }
            if row[0] == "Peerwire" {
                assert_eq!(row[2], "Function", "{row}");
                metrics.insert((scalar(&row[1]), scalar(&row[3])));
            }
        }
    }
    let name = |f: &str| stack.physical_id(f);
    let expected: BTreeSet<(String, String)> = [
        ("PeeringsAccepted", "PeeringRequestFunction"),
        ("PeeringsRejected", "PeeringRequestFunction"),
        ("PeeringsHeld", "PeeringRequestFunction"),
        ("RoutesAdded", "PeeringWiringFunction"),
        ("RulesAdded", "PeeringWiringFunction"),
        ("RoutesAdded", "DriftRecheckFunction"),
        ("RulesAdded", "DriftRecheckFunction"),
        ("DriftRepaired", "DriftRecheckFunction"),
    ]
    .into_iter()
    .map(|(m, f)| (m.to_owned(), name(f)))
    .collect();
    assert_eq!(metrics, expected);
    // Failures by Kind, per function (a search over the Kind dimension).
    for function in FUNCTIONS {
        assert!(
            expressions
                .iter()
                .any(|e| e.contains("{Peerwire,Function,Kind}")
                    && e.contains("MetricName=\"Failures\"")
                    && e.contains(&format!("Function=\"{}\"", name(function)))),
            "{function}: {expressions:?}"
        );
    }
    assert!(workspace_root().join("docs/deploy.md").exists());
}

// Upgrades, regions, least privilege and ExternalId rotation of the organization rollout.
mod rollout;
