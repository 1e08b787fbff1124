//! The EventBridge rules of `template.yaml` against the real-shaped samples of `events/`.
//!
//! [`SAMPLES`] names, for every file in `events/`, the rules whose pattern must match it (every
//! other rule of the template must not: the functions' rules and the notification rules),
//! whether the functions' schedules deliver it instead, and which functions' parsers must
//! refuse it. The tests check, on the patched emulator's `TestEventPattern` (moto's own
//! matcher, see the `test-event-pattern` patch; it supports every operator the templates use:
//! `exists`, `anything-but` with `prefix`, `$or`):
//! - each sample matches exactly its rules, across every rule of the template;
//! - each CloudTrail or RDS sample that reaches a hub rule is also forwarded by a rule of
//!   `templates/member-forwarder.yaml` (member events reach the hub only that way), except
//!   peerwire's own changes, which the forwarder drops; one that reaches no hub rule is not
//!   forwarded either;
//! - the forwarder forwards only its own account's events, and changes made by peerwire's member
//!   role only for the peering lifecycle;
//! - the forwarder forwards its own dead-letter alarm's state changes (no other alarm's), and the
//!   hub's `NotifyMemberForwarderDeadLetters` takes any forwarder's `ALARM`;
//!
//! and, without the emulator:
//! - every file of `events/` is in the table, and every rule and schedule has a sample;
//! - each sample parses into the event type of every function that receives it;
//! - the template keeps its deployment contract (runtime, architecture, build method, log
//!   group with retention, on-failure destination, DLQ and retry policy on every rule target,
//!   an alarm on every queue).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::json;

use aws_sdk_eventbridge::error::ProvideErrorMetadata;
use peerwire::aws::calls::CallLog;
use peerwire::events::{
    parse_cleanup_event, parse_drift_event, parse_request_event, parse_wiring_event,
    DRIFT_EVENT_NAMES,
};
use peerwire_emulator::Emulator;
use serde_json::Value;
use serde_yaml::Value as Yaml;

const REQUEST: &str = "PeeringRequestFunction";
const WIRING: &str = "PeeringWiringFunction";
const DRIFT: &str = "DriftRecheckFunction";
const CLEANUP: &str = "PeeringCleanupFunction";

/// One file of `events/` and where it goes.
#[derive(Debug)]
struct Sample {
    file: &'static str,
    /// `(function logical id, event name)` of every `EventBridgeRule` whose pattern must match;
    /// every other rule of the template must not.
    rules: &'static [(&'static str, &'static str)],
    /// Delivered by every function's `Schedule` event (no pattern involved).
    scheduled: bool,
    /// Functions whose parser must accept the sample although no event of the template
    /// delivers it to them.
    also_parsed_by: &'static [&'static str],
    /// Functions whose parser must refuse the sample.
    refused_by: &'static [&'static str],
    /// Plain `AWS::Events::Rule`s of the hub template (the notifications) whose pattern must
    /// match; every other one must not.
    notified_by: &'static [&'static str],
    /// A change made by peerwire's own member role: it reaches a hub rule, and the member
    /// forwarder must not forward it.
    dropped_by_forwarder: bool,
}

const fn rules(file: &'static str, rules: &'static [(&'static str, &'static str)]) -> Sample {
    Sample {
        file,
        rules,
        scheduled: false,
        also_parsed_by: &[],
        refused_by: &[],
        notified_by: &[],
        dropped_by_forwarder: false,
    }
}

/// An outcome event: no function takes it (the wiring parser refuses it), and the notification
/// rules named take it to the alert topic.
const fn outcome(file: &'static str, notified_by: &'static [&'static str]) -> Sample {
    Sample {
        refused_by: &[WIRING],
        notified_by,
        ..rules(file, &[])
    }
}

/// Every sample of `events/`. A new sample must be added here (a test fails otherwise).
const SAMPLES: &[Sample] = &[
    // peering-request
    rules(
        "cloudtrail-create-vpc-peering-connection.json",
        &[(REQUEST, "PeeringRequested")],
    ),
    // The approval detail now names the requester and its CIDRs.
    rules("approval-granted.json", &[(REQUEST, "ApprovalDecided")]),
    rules("approval-denied.json", &[(REQUEST, "ApprovalDecided")]),
    // A failed call: every CloudTrail rule requires `errorCode` to be absent, and the parser
    // refuses it too.
    Sample {
        refused_by: &[REQUEST],
        ..rules("cloudtrail-create-vpc-peering-connection-failed.json", &[])
    },
    // peering-wiring
    rules(
        "cloudtrail-accept-vpc-peering-connection.json",
        &[(WIRING, "PeeringAcceptedCloudTrail")],
    ),
    rules(
        "peerwire-peering-accepted.json",
        &[(WIRING, "PeeringAcceptedByPeerwire")],
    ),
    // Other outcome events go to people's rules, never back into a function; four of them
    // to the alert topic.
    outcome("peerwire-peering-wired.json", &[]),
    outcome("peerwire-peering-request-expired.json", &[]),
    outcome(
        "peerwire-approval-required.json",
        &["NotifyApprovalRequired"],
    ),
    outcome("peerwire-reconcile-failed.json", &["NotifyReconcileFailed"]),
    outcome("peerwire-wiring-blocked.json", &["NotifyWiringBlocked"]),
    outcome("peerwire-drift-repaired.json", &["NotifyDriftRepaired"]),
    outcome("peerwire-drift-recurring.json", &["NotifyDriftRecurring"]),
    // drift-recheck: EC2 changes
    rules(
        "cloudtrail-create-subnet.json",
        &[(DRIFT, "NetworkChanged")],
    ),
    rules(
        "cloudtrail-create-route-table.json",
        &[(DRIFT, "NetworkChanged")],
    ),
    rules(
        "cloudtrail-associate-route-table.json",
        &[(DRIFT, "NetworkChanged")],
    ),
    rules(
        "cloudtrail-replace-route-table-association.json",
        &[(DRIFT, "NetworkChanged")],
    ),
    rules(
        "cloudtrail-disassociate-route-table.json",
        &[(DRIFT, "NetworkChanged")],
    ),
    rules("cloudtrail-delete-route.json", &[(DRIFT, "NetworkChanged")]),
    Sample {
        refused_by: &[DRIFT],
        ..rules("cloudtrail-delete-route-failed.json", &[])
    },
    rules(
        "cloudtrail-replace-route.json",
        &[(DRIFT, "NetworkChanged")],
    ),
    rules(
        "cloudtrail-revoke-security-group-ingress.json",
        &[(DRIFT, "NetworkChanged")],
    ),
    rules(
        "cloudtrail-revoke-security-group-egress.json",
        &[(DRIFT, "NetworkChanged")],
    ),
    rules(
        "cloudtrail-modify-vpc-peering-connection-options.json",
        &[(DRIFT, "NetworkChanged")],
    ),
    rules(
        "cloudtrail-associate-vpc-cidr-block.json",
        &[(DRIFT, "NetworkChanged")],
    ),
    rules(
        "cloudtrail-disassociate-vpc-cidr-block.json",
        &[(DRIFT, "NetworkChanged")],
    ),
    rules(
        "cloudtrail-modify-security-group-rules.json",
        &[(DRIFT, "NetworkChanged")],
    ),
    // peerwire's own cleanup revoking its rule: the hub rule would take it, but the member's
    // forwarder never sends it.
    Sample {
        dropped_by_forwarder: true,
        ..rules(
            "cloudtrail-revoke-security-group-ingress-by-peerwire.json",
            &[(DRIFT, "NetworkChanged")],
        )
    },
    rules(
        "cloudtrail-modify-db-subnet-group.json",
        &[(DRIFT, "DbSubnetGroupChanged")],
    ),
    // drift-recheck: RDS
    rules(
        "rds-db-instance-failover.json",
        &[(DRIFT, "DbInstanceFailover")],
    ),
    rules(
        "rds-db-instance-failover-started.json",
        &[(DRIFT, "DbInstanceFailover")],
    ),
    rules(
        "rds-db-instance-multi-az-activation-completed.json",
        &[(DRIFT, "DbInstanceFailover")],
    ),
    rules(
        "rds-db-instance-partial-failover-recovered.json",
        &[(DRIFT, "DbInstanceFailover")],
    ),
    rules(
        "rds-db-instance-configuration-change.json",
        &[(DRIFT, "DbInstanceConfigurationChange")],
    ),
    rules(
        "rds-db-cluster-failover.json",
        &[(DRIFT, "DbClusterFailover")],
    ),
    rules(
        "rds-db-cluster-failover-failed.json",
        &[(DRIFT, "DbClusterFailover")],
    ),
    rules(
        "rds-db-cluster-promoting-previous-primary.json",
        &[(DRIFT, "DbClusterFailover")],
    ),
    // The same in the form the RDS User Guide prints ("Overview of events for Amazon RDS"):
    // `SourceIdentifier` with an `rds:` prefix, verbatim.
    rules(
        "rds-db-instance-event-user-guide.json",
        &[(DRIFT, "DbInstanceFailover")],
    ),
    // A cluster failover with the prefixed identifier the Aurora User Guide prints.
    rules(
        "rds-db-cluster-failover-prefixed.json",
        &[(DRIFT, "DbClusterFailover")],
    ),
    // Verbatim from the Aurora User Guide (a patched cluster, RDS-EVENT-0173) and the RDS User
    // Guide's tutorial ("DB instance stopped", RDS-EVENT-0087, a bare identifier): neither says
    // anything about the network; the drift parser takes both.
    rules("rds-db-cluster-event-aurora-user-guide.json", &[]),
    rules("rds-db-instance-event-tutorial.json", &[]),
    // A backup says nothing about the network: no rule takes it, the forwarder does not send
    // it (the parser would take it).
    rules("rds-db-instance-backup.json", &[]),
    // peering-cleanup
    rules(
        "cloudtrail-delete-vpc-peering-connection.json",
        &[(CLEANUP, "PeeringGone")],
    ),
    rules(
        "cloudtrail-reject-vpc-peering-connection.json",
        &[(CLEANUP, "PeeringGone")],
    ),
    // A member forwarder's dead-letter alarm going to ALARM, as CloudWatch sends it to
    // EventBridge (the shape of the CloudWatch User Guide's sample below): the forwarder of its
    // account and stack forwards it, and the hub notifies.
    Sample {
        notified_by: &["NotifyMemberForwarderDeadLetters"],
        ..rules("cloudwatch-alarm-forwarder-dead-letters.json", &[])
    },
    // Verbatim from the CloudWatch User Guide ("Alarm events and EventBridge"): another alarm,
    // which no forwarder sends and no hub rule takes.
    rules("cloudwatch-alarm-state-change-user-guide.json", &[]),
    // Schedules: what an EventBridge schedule rule (the template's `Schedule` events) delivers.
    Sample {
        scheduled: true,
        ..rules("schedule-sweep.json", &[])
    },
    // What EventBridge Scheduler delivers with a templated input; template.yaml does not use
    // it, but every function accepts it.
    Sample {
        also_parsed_by: &[REQUEST, WIRING, DRIFT, CLEANUP],
        ..rules("scheduler-sweep.json", &[])
    },
];

/// One `EventBridgeRule` event of a function in a template.
#[derive(Debug, Clone)]
struct Rule {
    function: String,
    event: String,
    pattern: Value,
}

/// A function of the template: its logical id, binary and events.
#[derive(Debug)]
struct Function {
    binary: String,
    properties: Yaml,
    rules: Vec<Rule>,
    schedules: Vec<String>,
}

/// The repository this test file belongs to. Not `peerwire_emulator::workspace_root()`: that
/// is compiled into the emulator crate, which a shared target directory may have built from
/// another checkout.
fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

fn read(path: &str) -> String {
    let path = workspace_root().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load_yaml(path: &str) -> Yaml {
    // CloudFormation short tags (!Ref, !Sub, !GetAtt, !If) come back as tagged values.
    serde_yaml::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn load_sample(file: &str) -> Value {
    let text = read(&format!("events/{file}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("events/{file}: {e}"))
}

fn resources(template: &Yaml) -> &serde_yaml::Mapping {
    template["Resources"]
        .as_mapping()
        .expect("template has Resources")
}

fn key(k: &Yaml) -> String {
    k.as_str().expect("string key").to_owned()
}

/// The functions of `template.yaml`, by logical id.
fn functions(template: &Yaml) -> BTreeMap<String, Function> {
    let mut out = BTreeMap::new();
    for (id, resource) in resources(template) {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let id = key(id);
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{id}: no Metadata.BuildProperties.Binary"))
            .to_owned();
        let properties = resource["Properties"].clone();
        let mut rules = Vec::new();
        let mut schedules = Vec::new();
        let events = properties["Events"]
            .as_mapping()
            .cloned()
            .unwrap_or_default();
        for (event, definition) in &events {
            let event = key(event);
            match definition["Type"].as_str() {
                Some("EventBridgeRule") => {
                    let pattern = serde_json::to_value(&definition["Properties"]["Pattern"])
                        .expect("pattern is plain YAML");
                    rules.push(Rule {
                        function: id.clone(),
                        event,
                        pattern,
                    });
                }
                Some("Schedule") => schedules.push(event),
                other => panic!("{id}.{event}: unexpected event type {other:?}"),
            }
        }
        out.insert(
            id,
            Function {
                binary,
                properties,
                rules,
                schedules,
            },
        );
    }
    out
}

fn all_rules(functions: &BTreeMap<String, Function>) -> Vec<Rule> {
    functions.values().flat_map(|f| f.rules.clone()).collect()
}

/// A YAML value as JSON, with the `!Ref` and `!Sub` of an event pattern resolved from `names`
/// (pseudo parameters and template parameters); any other tag is an error.
fn resolved(value: &Yaml, names: &BTreeMap<&str, String>) -> Value {
    match value {
        Yaml::Tagged(tagged) => {
            let text = tagged.value.as_str().expect("!Ref or !Sub of a string");
            match tagged.tag.to_string().as_str() {
                "!Ref" => json!(names
                    .get(text)
                    .unwrap_or_else(|| panic!("!Ref {text}: unknown here"))),
                "!Sub" => {
                    let mut out = text.to_owned();
                    for (name, value) in names {
                        out = out.replace(&format!("${{{name}}}"), value);
                    }
                    assert!(!out.contains("${"), "!Sub {text}: unresolved");
                    json!(out)
                }
                other => panic!("{other} in an event pattern is not resolved here"),
            }
        }
        Yaml::Sequence(items) => Value::Array(items.iter().map(|v| resolved(v, names)).collect()),
        Yaml::Mapping(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (key(k), resolved(v, names)))
                .collect(),
        ),
        plain => serde_json::to_value(plain).expect("plain YAML"),
    }
}

/// The stack name of the forwarder stacks here: the one a service-managed StackSet gives its
/// stack instances (`StackSet-<set name>-<uuid>`), the one in the alarm name of
/// `events/cloudwatch-alarm-forwarder-dead-letters.json`.
const FORWARDER_STACK: &str =
    "StackSet-peerwire-members-member-forwarder-0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d";

/// The event patterns of the plain `AWS::Events::Rule`s of a CloudFormation template, resolved
/// for a stack named [`FORWARDER_STACK`] in `account` (`!Ref` of an alarm is its `AlarmName`).
fn plain_rules(template: &Yaml, account: &str) -> Vec<(String, Value)> {
    let mut names: BTreeMap<&str, String> = BTreeMap::new();
    names.insert("AWS::AccountId", account.to_owned());
    names.insert("AWS::Partition", "aws".to_owned());
    names.insert("AWS::StackName", FORWARDER_STACK.to_owned());
    if let Some(parameters) = template["Parameters"].as_mapping() {
        for (name, declaration) in parameters {
            if let Some(default) = declaration["Default"].as_str() {
                names.insert(name.as_str().expect("parameter name"), default.to_owned());
            }
        }
    }
    let alarms: Vec<(&str, String)> = resources(template)
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::CloudWatch::Alarm"))
        .filter(|(_, r)| !r["Properties"]["AlarmName"].is_null())
        .map(|(id, r)| {
            let name = resolved(&r["Properties"]["AlarmName"], &names);
            (
                id.as_str().expect("logical id"),
                name.as_str().expect("a name").to_owned(),
            )
        })
        .collect();
    names.extend(alarms);
    resources(template)
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Events::Rule"))
        .filter(|(_, r)| !r["Properties"]["EventPattern"].is_null())
        .map(|(id, r)| (key(id), resolved(&r["Properties"]["EventPattern"], &names)))
        .collect()
}

/// The notification rules of the hub template (its plain `AWS::Events::Rule`s).
fn notification_rules(template: &Yaml) -> Vec<(String, Value)> {
    plain_rules(template, "333333333333")
}

/// The member forwarder's rules, deployed in `account`.
fn forwarder_rules(account: &str) -> Vec<(String, Value)> {
    let rules = plain_rules(&load_yaml("templates/member-forwarder.yaml"), account);
    assert!(!rules.is_empty(), "member-forwarder.yaml has no rule");
    rules
}

fn sample_files() -> BTreeSet<String> {
    let dir: PathBuf = workspace_root().join("events");
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect()
}

/// Parses `event` with the parser of the function built from `binary`.
fn parse_for(binary: &str, event: &Value) -> Result<String, String> {
    match binary {
        "peering-request" => parse_request_event(event)
            .map(|e| format!("{:?}", e.trigger))
            .map_err(|e| e.to_string()),
        "peering-wiring" => parse_wiring_event(event)
            .map(|e| format!("{:?}", e.trigger))
            .map_err(|e| e.to_string()),
        "drift-recheck" => parse_drift_event(event)
            .map(|e| format!("{:?}", e.trigger))
            .map_err(|e| e.to_string()),
        "peering-cleanup" => parse_cleanup_event(event)
            .map(|e| format!("{:?}", e.trigger))
            .map_err(|e| e.to_string()),
        other => panic!("no parser known for the function binary `{other}`: add it here"),
    }
}

/// `TestEventPattern` on the patched emulator.
async fn matches(client: &aws_sdk_eventbridge::Client, pattern: &Value, event: &str) -> bool {
    match client
        .test_event_pattern()
        .event_pattern(pattern.to_string())
        .event(event)
        .send()
        .await
    {
        Ok(output) => output.result(),
        Err(err) => panic!(
            "TestEventPattern failed: {:?} {:?} for pattern {pattern}",
            err.code(),
            err.message()
        ),
    }
}

#[tokio::test]
async fn every_sample_matches_exactly_the_rules_the_table_names() {
    let emulator = Emulator::start().await.expect("emulator starts");
    let config = emulator.hub_config(&CallLog::default()).await;
    let client = aws_sdk_eventbridge::Client::new(&config);
    let template = load_yaml("template.yaml");
    let rules = all_rules(&functions(&template));
    let notifications = notification_rules(&template);

    let mut wrong = Vec::new();
    for sample in SAMPLES {
        let event = read(&format!("events/{}", sample.file));
        let mut matched = BTreeSet::new();
        for rule in &rules {
            if matches(&client, &rule.pattern, &event).await {
                matched.insert(format!("{}.{}", rule.function, rule.event));
            }
        }
        for (id, pattern) in &notifications {
            if matches(&client, pattern, &event).await {
                matched.insert(id.clone());
            }
        }
        let expected: BTreeSet<String> = sample
            .rules
            .iter()
            .map(|(f, e)| format!("{f}.{e}"))
            .chain(sample.notified_by.iter().map(|n| (*n).to_owned()))
            .collect();
        if matched != expected {
            wrong.push(format!(
                "{}: matched {matched:?}, expected {expected:?}",
                sample.file
            ));
        }
        // A member's event reaches the hub only through the forwarder of its account; the
        // forwarder sends nothing the hub would drop, and nothing peerwire did itself. Its own
        // dead-letter alarm's state changes reach the hub's notification the same way.
        let source = sample_source(sample.file);
        if source == "aws.ec2" || source == "aws.rds" || source == "aws.cloudwatch" {
            let account = load_sample(sample.file)["account"]
                .as_str()
                .unwrap()
                .to_owned();
            let mut forwarded = false;
            for (_, pattern) in forwarder_rules(&account) {
                forwarded |= matches(&client, &pattern, &event).await;
            }
            let reaches_the_hub = if source == "aws.cloudwatch" {
                !sample.notified_by.is_empty()
            } else {
                !sample.rules.is_empty()
            };
            let should = reaches_the_hub && !sample.dropped_by_forwarder;
            if forwarded != should {
                wrong.push(format!(
                    "{}: forwarded by member-forwarder.yaml: {forwarded}, expected {should}",
                    sample.file
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "patterns and samples disagree:\n{}",
        wrong.join("\n")
    );
}

/// Whether some rule of the forwarder deployed in `account` forwards `event`.
async fn forwarded(client: &aws_sdk_eventbridge::Client, account: &str, event: &Value) -> bool {
    let event = event.to_string();
    for (_, pattern) in forwarder_rules(account) {
        if matches(client, &pattern, &event).await {
            return true;
        }
    }
    false
}

#[tokio::test]
async fn the_forwarder_sends_its_own_accounts_events_and_not_peerwires_changes() {
    let emulator = Emulator::start().await.expect("emulator starts");
    let config = emulator.hub_config(&CallLog::default()).await;
    let client = aws_sdk_eventbridge::Client::new(&config);
    let peerwire_session = "arn:aws:sts::222222222222:assumed-role/peerwire-member/peerwire";
    let lifecycle = [
        "CreateVpcPeeringConnection",
        "AcceptVpcPeeringConnection",
        "DeleteVpcPeeringConnection",
        "RejectVpcPeeringConnection",
    ];
    let mut wrong = Vec::new();
    for sample in SAMPLES.iter().filter(|s| !s.rules.is_empty()) {
        let event = load_sample(sample.file);
        let source = event["source"].as_str().unwrap_or_default();
        if sample.dropped_by_forwarder || !(source == "aws.ec2" || source == "aws.rds") {
            continue;
        }
        let account = event["account"].as_str().unwrap().to_owned();
        // Seen on a default bus that receives other accounts' events too: not forwarded.
        if forwarded(&client, "999999999999", &event).await {
            wrong.push(format!(
                "{}: forwarded by another account's forwarder",
                sample.file
            ));
        }
        let Some(name) = event["detail"]["eventName"].as_str() else {
            continue; // not CloudTrail
        };
        // A call without an ARN (an AWS service acting) is still forwarded.
        let mut anonymous = event.clone();
        anonymous["detail"]["userIdentity"]
            .as_object_mut()
            .unwrap()
            .remove("arn");
        if !forwarded(&client, &account, &anonymous).await {
            wrong.push(format!(
                "{}: not forwarded without userIdentity.arn",
                sample.file
            ));
        }
        // The same call made by peerwire's member role: only the peering lifecycle goes.
        let mut own = event.clone();
        own["detail"]["userIdentity"]["arn"] =
            json!(peerwire_session.replace("222222222222", &account));
        let expected = lifecycle.contains(&name);
        if forwarded(&client, &account, &own).await != expected {
            wrong.push(format!(
                "{}: made by peerwire's member role, forwarded should be {expected}",
                sample.file
            ));
        }
        // A role whose name merely starts like the member role's is somebody else.
        let mut lookalike = event.clone();
        lookalike["detail"]["userIdentity"]["arn"] = json!(format!(
            "arn:aws:sts::{account}:assumed-role/peerwire-member-admin/jane"
        ));
        if !forwarded(&client, &account, &lookalike).await {
            wrong.push(format!(
                "{}: a look-alike role's change is not forwarded",
                sample.file
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn the_forwarder_sends_its_own_dead_letter_alarm_and_no_other() {
    let emulator = Emulator::start().await.expect("emulator starts");
    let config = emulator.hub_config(&CallLog::default()).await;
    let client = aws_sdk_eventbridge::Client::new(&config);
    let alarm = load_sample("cloudwatch-alarm-forwarder-dead-letters.json");
    let account = alarm["account"].as_str().unwrap().to_owned();
    assert!(forwarded(&client, &account, &alarm).await, "its own alarm");
    // Back to OK: every state change goes (the hub picks ALARM).
    let mut recovered = alarm.clone();
    recovered["detail"]["state"]["value"] = json!("OK");
    assert!(forwarded(&client, &account, &recovered).await, "OK too");
    // Another account's forwarder does not send it (a default bus may see other accounts').
    assert!(!forwarded(&client, "999999999999", &alarm).await);
    // Another alarm of the same account, even one named like a forwarder's: not sent.
    let mut other = alarm.clone();
    other["detail"]["alarmName"] = json!("peerwire-forwarder-some-other-stack");
    assert!(!forwarded(&client, &account, &other).await);
    // The hub notifies ALARM only, of any forwarder; not another alarm.
    let hub = notification_rules(&load_yaml("template.yaml"));
    let (_, notify) = hub
        .iter()
        .find(|(id, _)| id == "NotifyMemberForwarderDeadLetters")
        .expect("the hub's rule");
    assert!(matches(&client, notify, &alarm.to_string()).await);
    assert!(
        matches(&client, notify, &other.to_string()).await,
        "any forwarder's"
    );
    assert!(
        !matches(&client, notify, &recovered.to_string()).await,
        "not OK"
    );
    let guide = read("events/cloudwatch-alarm-state-change-user-guide.json");
    assert!(!matches(&client, notify, &guide).await, "not another alarm");
}

fn sample_source(file: &str) -> String {
    load_sample(file)["source"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_rule_that_does_not_match_is_told_apart_from_a_broken_matcher() {
    // The same emulator answers false for a sample of another door, so a `true` above is a
    // real match and not a matcher that says yes to everything.
    let emulator = Emulator::start().await.expect("emulator starts");
    let config = emulator.hub_config(&CallLog::default()).await;
    let client = aws_sdk_eventbridge::Client::new(&config);
    let functions = functions(&load_yaml("template.yaml"));
    let request = &functions[REQUEST].rules;
    let cloudtrail = request
        .iter()
        .find(|r| r.event == "PeeringRequested")
        .unwrap();
    let create = read("events/cloudtrail-create-vpc-peering-connection.json");
    let accept = read("events/cloudtrail-accept-vpc-peering-connection.json");
    assert!(matches(&client, &cloudtrail.pattern, &create).await);
    assert!(!matches(&client, &cloudtrail.pattern, &accept).await);
}

#[test]
fn every_sample_file_is_in_the_table_and_every_table_entry_exists() {
    let files = sample_files();
    let table: BTreeSet<String> = SAMPLES.iter().map(|s| s.file.to_owned()).collect();
    assert_eq!(SAMPLES.len(), table.len(), "a sample is listed twice");
    let missing: Vec<_> = files.difference(&table).collect();
    let stale: Vec<_> = table.difference(&files).collect();
    assert!(
        missing.is_empty(),
        "events/ files not in SAMPLES (say which rules must match them): {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "SAMPLES names files that do not exist: {stale:?}"
    );
}

#[test]
fn every_rule_and_schedule_of_the_template_has_a_sample() {
    let functions = functions(&load_yaml("template.yaml"));
    let covered: BTreeSet<(&str, &str)> = SAMPLES
        .iter()
        .flat_map(|s| s.rules.iter().copied())
        .collect();
    for rule in all_rules(&functions) {
        assert!(
            covered.contains(&(rule.function.as_str(), rule.event.as_str())),
            "{}.{} has no sample that must match it",
            rule.function,
            rule.event
        );
    }
    for (id, rule) in &covered {
        assert!(
            functions
                .get(*id)
                .is_some_and(|f| f.rules.iter().any(|r| r.event == *rule)),
            "SAMPLES names {id}.{rule}, which template.yaml does not have"
        );
    }
    let template = load_yaml("template.yaml");
    let notified: BTreeSet<&str> = SAMPLES
        .iter()
        .flat_map(|s| s.notified_by.iter().copied())
        .collect();
    let notifications: BTreeSet<String> = notification_rules(&template)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        notified,
        notifications.iter().map(String::as_str).collect(),
        "every notification rule of template.yaml has a sample, and SAMPLES names only those"
    );
    assert!(SAMPLES.iter().any(|s| s.scheduled));
    for (id, function) in &functions {
        assert_eq!(
            function.schedules.len(),
            1,
            "{id} must have exactly one Schedule event (the sweep)"
        );
    }
}

#[test]
fn samples_parse_into_the_event_type_of_every_function_that_receives_them() {
    let functions = functions(&load_yaml("template.yaml"));
    let mut wrong = Vec::new();
    for sample in SAMPLES {
        let event = load_sample(sample.file);
        let mut receivers: BTreeSet<&str> = sample.rules.iter().map(|(f, _)| *f).collect();
        if sample.scheduled {
            receivers.extend(functions.keys().map(String::as_str));
        }
        receivers.extend(sample.also_parsed_by.iter().copied());
        for id in receivers {
            let binary = &functions[id].binary;
            if let Err(err) = parse_for(binary, &event) {
                wrong.push(format!("{}: {binary} refuses it: {err}", sample.file));
            }
        }
        for id in sample.refused_by {
            let binary = &functions[*id].binary;
            if let Ok(trigger) = parse_for(binary, &event) {
                wrong.push(format!(
                    "{}: {binary} should refuse it, parsed {trigger}",
                    sample.file
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_schedule_sample_is_what_a_schedule_rule_delivers() {
    for sample in SAMPLES.iter().filter(|s| s.scheduled) {
        let event = load_sample(sample.file);
        assert_eq!(event["source"], "aws.events", "{}", sample.file);
        assert_eq!(event["detail-type"], "Scheduled Event", "{}", sample.file);
        let resource = event["resources"][0].as_str().unwrap_or_default();
        assert!(
            resource.starts_with("arn:aws:events:") && resource.contains(":rule/"),
            "{}: resources[0] must be the schedule rule's ARN",
            sample.file
        );
    }
}

/// The EC2 event names of a CloudTrail pattern.
fn event_names(pattern: &Value) -> BTreeSet<String> {
    pattern["detail"]["eventName"]
        .as_array()
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_drift_rule_and_the_member_forwarder_agree_with_the_code() {
    let functions = functions(&load_yaml("template.yaml"));
    let network = functions[DRIFT]
        .rules
        .iter()
        .find(|r| r.event == "NetworkChanged")
        .expect("drift-recheck has a NetworkChanged rule");
    let expected: BTreeSet<String> = DRIFT_EVENT_NAMES.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        event_names(&network.pattern),
        expected,
        "the NetworkChanged pattern must list exactly peerwire::events::DRIFT_EVENT_NAMES"
    );

    // Every CloudTrail call and RDS detail-type a hub rule listens for is forwarded by the
    // members, from the same source.
    let forwarder = forwarder_rules("222222222222");
    let forwarded = |source: &Value| -> (BTreeSet<String>, BTreeSet<String>) {
        let from: Vec<&Value> = forwarder
            .iter()
            .map(|(_, p)| p)
            .filter(|p| &p["source"] == source)
            .collect();
        let names = from.iter().flat_map(|p| event_names(p)).collect();
        let types = from
            .iter()
            .flat_map(|p| p["detail-type"].as_array().cloned().unwrap_or_default())
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect();
        (names, types)
    };
    for rule in all_rules(&functions) {
        let source = &rule.pattern["source"];
        if !source
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.as_str().unwrap().starts_with("aws."))
        {
            continue;
        }
        let (names, types) = forwarded(source);
        let missing: Vec<_> = event_names(&rule.pattern)
            .difference(&names)
            .cloned()
            .collect();
        assert!(
            missing.is_empty(),
            "{}.{}: member-forwarder.yaml does not forward {missing:?}",
            rule.function,
            rule.event
        );
        for detail_type in rule.pattern["detail-type"].as_array().unwrap() {
            assert!(
                types.contains(detail_type.as_str().unwrap()),
                "{}.{}: member-forwarder.yaml does not forward {detail_type}",
                rule.function,
                rule.event
            );
        }
    }
}

/// `!Ref X` or `!GetAtt X.Attr` → `X`.
fn referenced(value: &Yaml) -> Option<String> {
    match value {
        Yaml::Tagged(tagged) if tagged.tag == "!Ref" || tagged.tag == "!GetAtt" => tagged
            .value
            .as_str()
            .map(|s| s.split('.').next().unwrap_or(s).to_owned()),
        _ => None,
    }
}

#[test]
fn the_template_keeps_its_deployment_contract() {
    let template = load_yaml("template.yaml");
    let globals = &template["Globals"]["Function"];
    assert_eq!(globals["Runtime"].as_str(), Some("provided.al2023"));
    assert_eq!(
        globals["Architectures"],
        serde_yaml::from_str::<Yaml>("[arm64]").unwrap()
    );
    assert_eq!(globals["LoggingConfig"]["LogFormat"].as_str(), Some("JSON"));
    for variable in [
        "PEERWIRE_POLICY_PARAMETER",
        "PEERWIRE_ROLE_ARN_TEMPLATE",
        "PEERWIRE_EXTERNAL_ID",
        "PEERWIRE_OUTCOME_BUS",
        "PEERWIRE_LEDGER_TABLE",
    ] {
        assert!(
            !globals["Environment"]["Variables"][variable].is_null(),
            "Globals sets {variable}"
        );
    }
    let resources = resources(&template);
    let type_of = |id: &str| {
        resources
            .get(id)
            .and_then(|r| r["Type"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let functions = functions(&template);

    // Every binary under functions/ is deployed, and every deployed binary exists.
    let dirs: BTreeSet<String> = std::fs::read_dir(workspace_root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let binaries: BTreeSet<String> = functions.values().map(|f| f.binary.clone()).collect();
    assert_eq!(
        binaries, dirs,
        "template functions vs functions/ directories"
    );

    let mut queues_used = BTreeSet::new();
    for (id, function) in &functions {
        let resource = &resources[id.as_str()];
        assert_eq!(
            resource["Metadata"]["BuildMethod"].as_str(),
            Some("rust-cargolambda"),
            "{id}"
        );
        for overridden in ["Runtime", "Architectures"] {
            assert!(
                function.properties[overridden].is_null(),
                "{id} overrides {overridden}"
            );
        }
        let log_group = referenced(&function.properties["LoggingConfig"]["LogGroup"])
            .unwrap_or_else(|| panic!("{id}: LoggingConfig.LogGroup must !Ref its log group"));
        assert_eq!(type_of(&log_group), "AWS::Logs::LogGroup", "{id}");
        assert!(
            !resources[log_group.as_str()]["Properties"]["RetentionInDays"].is_null(),
            "{log_group} has a retention"
        );
        let on_failure =
            &function.properties["EventInvokeConfig"]["DestinationConfig"]["OnFailure"];
        let destination = referenced(&on_failure["Destination"])
            .unwrap_or_else(|| panic!("{id}: no on-failure destination"));
        assert_eq!(type_of(&destination), "AWS::SQS::Queue", "{id}");
        queues_used.insert(destination);
        let events = function.properties["Events"].as_mapping().unwrap();
        for (event, definition) in events {
            let properties = &definition["Properties"];
            let dlq = referenced(&properties["DeadLetterConfig"]["Arn"]).unwrap_or_else(|| {
                panic!("{id}.{}: no DeadLetterConfig.Arn", key(event));
            });
            assert_eq!(type_of(&dlq), "AWS::SQS::Queue");
            assert!(
                !properties["RetryPolicy"]["MaximumRetryAttempts"].is_null(),
                "{id}.{}: no RetryPolicy",
                key(event)
            );
            queues_used.insert(dlq);
        }
    }
    // The notification rules: a retry policy and a DLQ on every target.
    for (id, rule) in resources
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Events::Rule"))
    {
        for target in rule["Properties"]["Targets"].as_sequence().unwrap() {
            let dlq = referenced(&target["DeadLetterConfig"]["Arn"])
                .unwrap_or_else(|| panic!("{}: a target without DeadLetterConfig.Arn", key(id)));
            assert_eq!(type_of(&dlq), "AWS::SQS::Queue");
            assert!(
                !target["RetryPolicy"]["MaximumRetryAttempts"].is_null(),
                "{}: a target without RetryPolicy",
                key(id)
            );
            queues_used.insert(dlq);
        }
    }
    // Every queue has an alarm on its depth.
    let alarmed: BTreeSet<String> = resources
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::CloudWatch::Alarm"))
        .filter(|r| {
            r["Properties"]["MetricName"].as_str() == Some("ApproximateNumberOfMessagesVisible")
        })
        .filter_map(|r| referenced(&r["Properties"]["Dimensions"][0]["Value"]))
        .collect();
    let queues: BTreeSet<String> = resources
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::SQS::Queue"))
        .map(|(id, _)| key(id))
        .collect();
    assert_eq!(queues_used, queues, "every queue is a DLQ or destination");
    assert_eq!(alarmed, queues, "every queue has a depth alarm");
}
