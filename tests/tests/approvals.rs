//! Approvals people can give: `peerwire pending`, `approve` and `deny` (through the library
//! functions the CLI runs), end to end on the emulator. The answer is put on a hub bus in the
//! emulator whose rule has the template's `ApprovalDecided` pattern and a queue as its target;
//! what the queue receives is handed to the request function's door, as EventBridge would.
//! The approver is the emulator's hub account (`approvers: [<hub account>]`): the account
//! EventBridge writes in the envelope is the caller's.
//!
//! Also the documented workflow (`examples/approval-workflow.asl.json`): its PutEvents states,
//! evaluated on the real `Peering Approval Required` outcome, send the event the CLI sends.

use std::time::Duration;

use peerwire::aws::calls::CallLog;
use peerwire::model::{ApprovalAnswer, PeeringRef};
use peerwire::outcome::OutcomeKind;
use peerwire::plan::request::Verdict;
use peerwire::plan::ApprovalRefusal;
use peerwire::plan::Reason;
use peerwire::testing::{id, net};
use peerwire_cli::approvals::pending;
use peerwire_cli::approvals::send::{self, Bus, Caller, Entry, Waited};
use peerwire_emulator::organizations::nested_account;
use peerwire_emulator::outcomes::OutcomeCapture;
use peerwire_emulator::HUB_ACCOUNT;
use peerwire_integration::{
    decision, edited, first_of, held_policy, only, EnvOptions, TestEnv, ACCEPTER_ACCOUNT,
    DEFAULT_POLICY, REGION, REQUESTER_ACCOUNT,
};
use serde_json::{json, Value};

/// The hub bus of the tests (the template's default name).
const HUB_BUS: &str = "peerwire-hub";

/// The template's `ApprovalDecided` pattern (`tests/tests/event_patterns.rs` checks the
/// approval samples against the template's own).
const APPROVAL_DECIDED: &str = r#"{"source":["peerwire.approval"],"detail-type":["Peering Approval Granted","Peering Approval Denied"]}"#;

/// [`held_policy`] whose approvers are the emulator's hub account.
fn policy() -> String {
    edited(
        &held_policy(),
        r#"approvers: ["333333333333"]"#,
        &format!(r#"approvers: ["{HUB_ACCOUNT}"]"#),
    )
}

/// A world holding one request, and the hub bus whose deliveries a test reads.
async fn held(policy: &str, options: EnvOptions) -> (TestEnv, String, OutcomeCapture) {
    let env = TestEnv::with(policy, options).await;
    let pcx = env.pending_peering().await;
    let hub = env.emulator.hub_config(&CallLog::default()).await;
    let bus = OutcomeCapture::matching(&hub, HUB_BUS, "ApprovalDecided", APPROVAL_DECIDED)
        .await
        .unwrap();
    (env, pcx, bus)
}

fn at(pcx: &str) -> PeeringRef {
    PeeringRef {
        peering_id: id(pcx),
        account: id(ACCEPTER_ACCOUNT),
        region: id(REGION),
    }
}

fn bus() -> Bus {
    Bus::parse(HUB_BUS).unwrap()
}

/// What `approve`/`deny` do before asking: read, decide twice, and build the entry; the
/// answer must be one the request function takes.
async fn prepared(env: &TestEnv, pcx: &str, answer: ApprovalAnswer) -> (send::Prepared, Entry) {
    let caller = Caller::of(&env.app).await.unwrap();
    let prepared = send::prepare(&env.app, &at(pcx), &caller, answer, &[])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(prepared.refusal(), None, "{prepared:?}");
    let entry = Entry::new(&bus(), &prepared.decision);
    (prepared, entry)
}

/// Sends `entry` as the CLI does, and returns what the hub bus delivered for it.
async fn sent(env: &TestEnv, capture: &OutcomeCapture, entry: &Entry) -> Value {
    let events = send::events_client(&env.app, &bus());
    send::put(&events, entry).await.unwrap();
    let delivered = capture.drain().await.unwrap();
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    delivered.into_iter().next().unwrap()
}

#[tokio::test]
async fn pending_lists_the_held_request_as_the_request_function_decides_it() {
    let (env, pcx, _) = held(&policy(), EnvOptions::default()).await;

    let listed = pending::list(&env.app).await.unwrap();

    assert!(listed.unread.is_empty(), "{listed:?}");
    let [request] = listed.held.as_slice() else {
        panic!("{listed:?}")
    };
    assert_eq!(request.peering_id, pcx);
    assert_eq!(request.requester.account, REQUESTER_ACCOUNT);
    assert_eq!(request.requester.vpc_id, env.scenario.requester.vpc_id);
    assert_eq!(request.requester.cidrs, ["10.0.0.0/16"]);
    assert_eq!(request.requester.ou_path, None, "the policy names no OU");
    assert_eq!(request.accepter.vpc_id, env.scenario.accepter.vpc_id);
    assert_eq!(request.rule.as_deref(), Some("payments-ecs-to-rds"));
    assert!(request.approval_releases_it);
    // Age and time left from AWS's ExpirationTime (7 days after the request).
    let left = request.expires_in_seconds.unwrap();
    assert!((6 * 86_400..=7 * 86_400).contains(&left), "{request:?}");
    assert!(request.age_seconds.unwrap() < 3600, "{request:?}");
    // A dry run: nothing written, nothing published.
    assert!(env.written().is_empty(), "{:?}", env.written());
    assert!(env.delivered_outcomes().await.is_empty());
    // The reasons are the request function's own.
    let report = env.request_door(&env.request_event(&pcx)).await;
    assert_eq!(request.reasons, decision(&report.run).reason_lines());
    let text = pending::render(&listed);
    assert!(
        text.contains(&format!(
            "approve: peerwire approve {pcx} --account {ACCEPTER_ACCOUNT} --region {REGION}"
        )),
        "{text}"
    );
}

#[tokio::test]
async fn pending_shows_the_requester_ou_path_when_the_policy_names_ous() {
    let env = TestEnv::with(DEFAULT_POLICY, EnvOptions::organizations()).await;
    let (vended, [parent, workloads, _root]) =
        nested_account(&env.emulator, "orders").await.unwrap();
    env.set_policy(&format!(
        r#"
version: 1
unmatched: reject
approvers: ["{HUB_ACCOUNT}"]
accepters:
  - account: "{ACCEPTER_ACCOUNT}"
    regions: [{REGION}]
rules:
  - name: vended-workloads
    requester_ous: [{workloads}]
    allowed_cidrs: ["10.0.0.0/8"]
    approval: required
"#
    ));
    let (_, pcx) = env
        .scenario
        .request_from_new_vpc(&vended, "10.7.0.0/16", &[])
        .await
        .unwrap();

    let listed = pending::list(&env.app).await.unwrap();

    let [request] = listed.held.as_slice() else {
        panic!("{listed:?}")
    };
    assert_eq!(request.peering_id, pcx);
    assert_eq!(request.requester.account, vended);
    // The top OU first, down to the account's parent (the root is not an OU): what the
    // rule's OU is matched against.
    assert_eq!(
        request.requester.ou_path.as_deref(),
        Some([workloads, parent].as_slice())
    );
    assert!(pending::render(&listed).contains(&format!("{vended} (OU ")));
}

#[tokio::test]
async fn approve_sends_the_bound_event_and_the_request_function_accepts_it() {
    let (env, pcx, capture) = held(&policy(), EnvOptions::default()).await;
    let (prepared, entry) = prepared(&env, &pcx, ApprovalAnswer::Granted).await;
    let caller = Caller::of(&env.app).await.unwrap();
    assert_eq!(prepared.now.verdict, Verdict::Hold);
    assert_eq!(prepared.with_answer.verdict, Verdict::Accept);
    assert!(prepared.held.is_some());

    let delivered = sent(&env, &capture, &entry).await;

    assert_eq!(delivered["source"], "peerwire.approval");
    assert_eq!(delivered["detail-type"], "Peering Approval Granted");
    assert_eq!(
        delivered["account"], HUB_ACCOUNT,
        "EventBridge's, not the sender's"
    );
    assert_eq!(
        delivered["detail"],
        json!({
            "peering_id": pcx,
            "accepter_account": ACCEPTER_ACCOUNT,
            "region": REGION,
            "requester_account": REQUESTER_ACCOUNT,
            "requester_cidrs": ["10.0.0.0/16"],
            "approved_by": caller.arn,
        })
    );
    // --wait: polls the peering while the request function takes the event.
    let (waited, report) = tokio::join!(
        send::wait(
            &env.app,
            &prepared.decision,
            Duration::from_secs(20),
            Duration::from_millis(200)
        ),
        async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            env.request_door(&delivered).await
        }
    );

    // Accepted, then wired by the same run.
    let accepted = first_of(&report.run.outcomes, OutcomeKind::Accepted);
    assert_eq!(report.run.outcomes[1].kind, OutcomeKind::Wired);
    assert_eq!(accepted.approved_by.as_deref(), Some(caller.arn.as_str()));
    assert_eq!(env.status(&pcx).await, "active");
    let waited = waited.unwrap();
    assert_eq!(
        waited,
        Waited::Done {
            status: "active".into()
        }
    );
    assert_eq!(waited.exit_code(), 0);
}

#[tokio::test]
async fn deny_sends_the_bound_denial_and_the_request_function_rejects_with_its_reason() {
    let (env, pcx, capture) = held(&policy(), EnvOptions::default()).await;
    let reason = "payments-db is being migrated; ask again in December";
    let denial = ApprovalAnswer::Denied {
        reason: reason.into(),
    };
    let (prepared, entry) = prepared(&env, &pcx, denial).await;
    assert_eq!(prepared.with_answer.verdict, Verdict::Reject);

    let delivered = sent(&env, &capture, &entry).await;
    assert_eq!(delivered["detail-type"], "Peering Approval Denied");
    assert_eq!(delivered["detail"]["reason"], reason);
    let report = env.request_door(&delivered).await;

    let rejected = only(&report.run.outcomes);
    assert_eq!(rejected.kind, OutcomeKind::Rejected, "{rejected:?}");
    assert!(
        matches!(&decision(&report.run).reasons[0], Reason::DeniedBy { reason: r, .. } if r == reason),
        "{rejected:?}"
    );
    let waited = send::wait(
        &env.app,
        &prepared.decision,
        Duration::from_secs(5),
        Duration::from_millis(100),
    )
    .await
    .unwrap();
    assert_eq!(
        waited,
        Waited::Done {
            status: "rejected".into()
        }
    );
}

#[tokio::test]
async fn an_approval_whose_cidrs_changed_after_pending_listed_them_is_refused_with_the_reason() {
    let (env, pcx, capture) = held(&policy(), EnvOptions::default()).await;
    let listed = pending::list(&env.app).await.unwrap();
    let seen = &listed.held[0].requester.cidrs;
    let seen_nets = send::expected_cidrs(seen).unwrap();
    // Approved as listed (`--cidrs` from the listing), and sent.
    let caller = Caller::of(&env.app).await.unwrap();
    let prepared = send::prepare(
        &env.app,
        &at(&pcx),
        &caller,
        ApprovalAnswer::Granted,
        &seen_nets,
    )
    .await
    .unwrap()
    .unwrap();
    let delivered = sent(&env, &capture, &Entry::new(&bus(), &prepared.decision)).await;

    // The requester VPC grows before the request function takes the approval.
    env.scenario
        .requester
        .associate_cidr("10.2.0.0/16")
        .await
        .unwrap();
    env.settle().await;
    let report = env.request_door(&delivered).await;

    let held = only(&report.run.outcomes);
    assert_eq!(held.kind, OutcomeKind::ApprovalRequired, "{held:?}");
    let refusal = decision(&report.run)
        .reasons
        .iter()
        .find_map(|r| match r {
            Reason::ApprovalRefused { refusal, .. } => Some(refusal.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{held:?}"));
    assert_eq!(
        refusal,
        ApprovalRefusal::CidrsChanged {
            seen: vec![net("10.0.0.0/16")],
            now: vec![net("10.0.0.0/16"), net("10.2.0.0/16")],
        }
    );
    assert!(
        held.reasons.iter().any(|r| r.contains("10.2.0.0/16")),
        "{held:?}"
    );
    assert!(env.written().is_empty(), "{:?}", env.written());
    assert_eq!(env.status(&pcx).await, "pending-acceptance");

    // --wait runs out and says why, in the request function's words.
    let waited = send::wait(
        &env.app,
        &prepared.decision,
        Duration::from_millis(300),
        Duration::from_millis(100),
    )
    .await
    .unwrap();
    let Waited::StillPending { verdict, reasons } = &waited else {
        panic!("{waited:?}")
    };
    assert_eq!(*verdict, Verdict::Hold);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("now reports 10.0.0.0/16, 10.2.0.0/16")),
        "{reasons:?}"
    );
    assert_eq!(waited.exit_code(), 1);
    // Approving again with the CIDRs `pending` listed is refused before anything is sent.
    let again = send::prepare(
        &env.app,
        &at(&pcx),
        &caller,
        ApprovalAnswer::Granted,
        &seen_nets,
    )
    .await
    .unwrap()
    .unwrap_err();
    assert!(
        again.contains("10.2.0.0/16") && again.contains("not the CIDRs given"),
        "{again}"
    );
    assert!(capture.drain().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_answer_the_request_function_would_not_take_is_not_sent() {
    // The policy's approvers do not include the caller's account.
    let (env, pcx, _) = held(&held_policy(), EnvOptions::default()).await;
    let caller = Caller::of(&env.app).await.unwrap();
    let prepared = send::prepare(&env.app, &at(&pcx), &caller, ApprovalAnswer::Granted, &[])
        .await
        .unwrap()
        .unwrap();
    let refusal = prepared.refusal().unwrap();
    assert!(
        refusal.contains("holds it") && refusal.contains("was refused"),
        "{refusal}"
    );
    assert!(
        refusal.contains(&format!("account {HUB_ACCOUNT}")),
        "{refusal}"
    );

    // A rule that requires no approval: the request function accepts it on its own.
    let (env, pcx, _) = held(
        &edited(
            DEFAULT_POLICY,
            r#"approvers: ["333333333333"]"#,
            &format!(r#"approvers: ["{HUB_ACCOUNT}"]"#),
        ),
        EnvOptions::default(),
    )
    .await;
    let prepared = send::prepare(&env.app, &at(&pcx), &caller, ApprovalAnswer::Granted, &[])
        .await
        .unwrap()
        .unwrap();
    assert!(prepared.held.is_none());
    let refusal = prepared.refusal().unwrap();
    assert!(refusal.contains("would accept it on its own"), "{refusal}");
    assert!(env.written().is_empty());

    // A request that is no longer pending.
    env.request_door(&env.request_event(&pcx)).await;
    let gone = send::prepare(&env.app, &at(&pcx), &caller, ApprovalAnswer::Granted, &[])
        .await
        .unwrap();
    assert!(gone.unwrap_err().contains("peering is active"));
}

#[tokio::test]
async fn a_put_events_the_bus_refuses_names_the_bus_policy() {
    let options = EnvOptions::setting("deny_actions", &format!("{HUB_ACCOUNT}:events:PutEvents"));
    let (env, pcx, _) = held(&policy(), options).await;
    let (_, entry) = prepared(&env, &pcx, ApprovalAnswer::Granted).await;

    let events = send::events_client(&env.app, &bus());
    let err = send::put(&events, &entry).await.unwrap_err();

    assert!(err.contains("AccessDenied"), "{err}");
    assert!(err.contains("ApproverPrincipalArns"), "{err}");
}

// ---- the documented workflow ----

/// A JSONPath of the form `$.a.b` (all the example uses) in `input`.
fn path<'a>(input: &'a Value, path: &str) -> &'a Value {
    let rest = path.strip_prefix("$.").unwrap_or_else(|| panic!("{path}"));
    rest.split('.').fold(input, |v, key| {
        v.get(key)
            .unwrap_or_else(|| panic!("{path} is not in the state input"))
    })
}

/// Step Functions' `Parameters` applied to `input`: a key ending in `.$` takes the value its
/// path selects, under the key without the suffix ("Passing parameters to a service API in Step
/// Functions", Step Functions Developer Guide).
fn parameters(template: &Value, input: &Value) -> Value {
    match template {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| match key.strip_suffix(".$") {
                    Some(name) => (
                        name.to_owned(),
                        path(input, value.as_str().unwrap()).clone(),
                    ),
                    None => (key.clone(), parameters(value, input)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| parameters(v, input)).collect()),
        other => other.clone(),
    }
}

fn workflow() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/approval-workflow.asl.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The one entry a PutEvents state of the workflow sends for `input`, pointed at `bus`.
fn workflow_entry(state: &str, input: &Value, bus: &str) -> Value {
    let state = &workflow()["States"][state];
    assert_eq!(state["Resource"], "arn:aws:states:::events:putEvents");
    let mut entries = parameters(&state["Parameters"], input)["Entries"].clone();
    let [entry] = entries.as_array_mut().unwrap().as_mut_slice() else {
        panic!("{entries}")
    };
    entry["EventBusName"] = json!(bus);
    entry.clone()
}

#[tokio::test]
async fn a_workflow_approves_with_the_event_the_cli_sends() {
    let (env, pcx, capture) = held(&policy(), EnvOptions::default()).await;
    // The rule starting the workflow delivers the Approval Required outcome as its input.
    env.request_door(&env.request_event(&pcx)).await;
    let outcomes = env.delivered_outcomes().await;
    let mut input = outcomes
        .into_iter()
        .find(|o| o["detail-type"] == "Peering Approval Required")
        .unwrap();
    // The ticket's callback (SendTaskSuccess output), at ResultPath $.ticket.
    let by = "jira:NET-1234 approved by alice@example.com";
    input["ticket"] = json!({ "decision": "approved", "by": by });
    let flow = workflow();
    assert_eq!(
        flow["States"]["Decided"]["Choices"][0]["Next"],
        "ApprovePeering"
    );

    let entry = workflow_entry("ApprovePeering", &input, HUB_BUS);

    // The event the CLI sends for the same request and signer.
    let signer = Caller {
        account: id(HUB_ACCOUNT),
        arn: by.to_owned(),
    };
    let cli = send::prepare(&env.app, &at(&pcx), &signer, ApprovalAnswer::Granted, &[])
        .await
        .unwrap()
        .unwrap();
    let cli = Entry::new(&bus(), &cli.decision);
    assert_eq!(entry["EventBusName"], cli.event_bus_name);
    assert_eq!(entry["Source"], cli.source);
    assert_eq!(entry["DetailType"], cli.detail_type);
    assert_eq!(entry["Detail"], cli.detail().unwrap());
    // Step Functions serializes the Detail object (and adds the execution to Resources, which
    // the request function does not read); delivered, it accepts.
    let as_sent = Entry {
        event_bus_name: HUB_BUS.to_owned(),
        source: entry["Source"].as_str().unwrap().to_owned(),
        detail_type: entry["DetailType"].as_str().unwrap().to_owned(),
        detail: entry["Detail"].to_string(),
    };
    let delivered = sent(&env, &capture, &as_sent).await;
    let report = env.request_door(&delivered).await;
    // Accepted, then wired by the same run.
    let accepted = first_of(&report.run.outcomes, OutcomeKind::Accepted);
    assert_eq!(report.run.outcomes[1].kind, OutcomeKind::Wired);
    assert_eq!(accepted.approved_by.as_deref(), Some(by));
}

#[tokio::test]
async fn a_workflow_denies_with_the_event_the_cli_sends() {
    let (env, pcx, _) = held(&policy(), EnvOptions::default()).await;
    env.request_door(&env.request_event(&pcx)).await;
    let mut input = env
        .delivered_outcomes()
        .await
        .into_iter()
        .find(|o| o["detail-type"] == "Peering Approval Required")
        .unwrap();
    let (by, reason) = (
        "jira:NET-1234 denied by bob@example.com",
        "no DB access from sandbox accounts",
    );
    input["ticket"] = json!({ "decision": "denied", "by": by, "reason": reason });

    let entry = workflow_entry("DenyPeering", &input, HUB_BUS);

    let signer = Caller {
        account: id(HUB_ACCOUNT),
        arn: by.to_owned(),
    };
    let denial = ApprovalAnswer::Denied {
        reason: reason.into(),
    };
    let cli = send::prepare(&env.app, &at(&pcx), &signer, denial, &[])
        .await
        .unwrap()
        .unwrap();
    let cli = Entry::new(&bus(), &cli.decision);
    assert_eq!(entry["DetailType"], cli.detail_type);
    assert_eq!(entry["Detail"], cli.detail().unwrap());
}
