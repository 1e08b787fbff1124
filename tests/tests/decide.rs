//! Deciding requests as AWS behaves, against the emulator made as strict as AWS: tags belong to
//! each owner, peerings pass through transient states, two requests may want one CIDR at once,
//! approvals are bound to what was approved, and vended accounts are allowed by their OU.

use aws_sdk_ec2::types::Tag;
use peerwire::doors::request::handle_request_event;
use peerwire::doors::wiring::handle_wiring_event;
use peerwire::outcome::{Outcome, OutcomeKind};
use peerwire::Error;
use peerwire_emulator::samples;
use peerwire_emulator::EmulatorOptions;
use peerwire_integration::{
    EnvOptions, TestEnv, ACCEPTER_ACCOUNT, DEFAULT_POLICY, REGION, REQUESTER_ACCOUNT, WIRING_POLICY,
};
use serde_json::{json, Value};

const TAGS: &[(&str, &str)] = &[("team", "payments")];

fn only(outcomes: &[Outcome]) -> &Outcome {
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    &outcomes[0]
}

fn about<'a>(outcomes: &'a [Outcome], pcx: &str) -> &'a Outcome {
    outcomes
        .iter()
        .find(|o| o.peering_id.as_ref().is_some_and(|p| p == pcx))
        .unwrap_or_else(|| panic!("no outcome about {pcx}: {outcomes:?}"))
}

// ---- tags belong to each owner ----

#[tokio::test]
async fn a_tag_only_the_accepter_put_on_its_view_does_not_match() {
    let env = TestEnv::new(DEFAULT_POLICY).await;
    let pcx = env.scenario.request_peering(&[]).await.unwrap();
    env.scenario
        .accepter
        .ec2
        .create_tags()
        .resources(&pcx)
        .tags(Tag::builder().key("team").value("payments").build())
        .send()
        .await
        .unwrap();

    let report = handle_request_event(&env.app, &env.request_event(&pcx))
        .await
        .unwrap();

    let outcome = only(&report.run.outcomes);
    assert_eq!(outcome.kind, OutcomeKind::Rejected, "{outcome:?}");
    assert!(
        outcome
            .reasons
            .iter()
            .any(|r| r.contains("requester's view has team=(missing)")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_requester_without_a_member_role_is_held_because_its_tags_cannot_be_read() {
    let env = TestEnv::new(DEFAULT_POLICY).await;
    let pcx = env.scenario.request_peering(TAGS).await.unwrap();
    env.emulator
        .set("deny_assume_role", REQUESTER_ACCOUNT)
        .await
        .unwrap();

    let report = handle_request_event(&env.app, &env.request_event(&pcx))
        .await
        .unwrap();

    let outcome = only(&report.run.outcomes);
    assert_eq!(outcome.kind, OutcomeKind::ApprovalRequired, "{outcome:?}");
    assert!(
        outcome
            .reasons
            .iter()
            .any(|r| r.contains("tags could not be read")),
        "{outcome:?}"
    );
    assert_eq!(
        env.scenario.status(&pcx).await.unwrap(),
        "pending-acceptance"
    );
    assert!(env.calls().ec2_writes().is_empty());
}

// ---- one CIDR, two requests ----

#[tokio::test]
async fn of_two_requests_for_one_cidr_a_sweep_accepts_one_and_rejects_the_other_naming_it() {
    let env = TestEnv::new(DEFAULT_POLICY).await;
    let (_, first) = env
        .scenario
        .request_from_new_vpc(REQUESTER_ACCOUNT, "10.5.0.0/16", TAGS)
        .await
        .unwrap();
    let (_, second) = env
        .scenario
        .request_from_new_vpc(REQUESTER_ACCOUNT, "10.5.0.0/16", TAGS)
        .await
        .unwrap();

    let sweep = samples::schedule_sweep(&env.event_id());
    let report = handle_request_event(&env.app, &sweep).await.unwrap();

    let kinds = [first.as_str(), second.as_str()].map(|pcx| about(&report.run.outcomes, pcx).kind);
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == OutcomeKind::Accepted)
            .count(),
        1,
        "{kinds:?}"
    );
    let (winner, loser) = if kinds[0] == OutcomeKind::Accepted {
        (&first, &second)
    } else {
        (&second, &first)
    };
    let rejected = about(&report.run.outcomes, loser);
    assert_eq!(rejected.kind, OutcomeKind::Rejected);
    assert!(
        rejected.reasons.iter().any(|r| r.contains(winner.as_str())),
        "{rejected:?}"
    );
    assert_eq!(env.scenario.status(winner).await.unwrap(), "active");
    assert_eq!(env.scenario.status(loser).await.unwrap(), "rejected");
}

#[tokio::test]
async fn two_colliding_requests_decided_at_the_same_time_leave_exactly_one_live() {
    let env = TestEnv::new(DEFAULT_POLICY).await;
    let (vpc_a, first) = env
        .scenario
        .request_from_new_vpc(REQUESTER_ACCOUNT, "10.6.0.0/16", TAGS)
        .await
        .unwrap();
    let (vpc_b, second) = env
        .scenario
        .request_from_new_vpc(REQUESTER_ACCOUNT, "10.6.0.0/16", TAGS)
        .await
        .unwrap();
    let event_a = env.cloudtrail_event(&first, REQUESTER_ACCOUNT, &vpc_a);
    let event_b = env.cloudtrail_event(&second, REQUESTER_ACCOUNT, &vpc_b);

    let (a, b) = tokio::join!(
        handle_request_event(&env.app, &event_a),
        handle_request_event(&env.app, &event_b)
    );

    let (a, b) = (a.unwrap(), b.unwrap());
    let live: Vec<String> = {
        let mut live = Vec::new();
        for pcx in [&first, &second] {
            let status = env.scenario.status(pcx).await.unwrap();
            if status == "active" || status == "provisioning" {
                live.push(status);
            }
        }
        live
    };
    assert_eq!(live.len(), 1, "{live:?}\n{a:?}\n{b:?}");
}

// ---- transient states ----

#[tokio::test]
async fn an_acceptance_announced_while_provisioning_is_waited_for_then_wired() {
    let options = EnvOptions {
        emulator: EmulatorOptions::new().setting("provisioning_seconds", "2"),
        ..EnvOptions::default()
    };
    let env = TestEnv::with(WIRING_POLICY, options).await;
    let pcx = env.scenario.request_peering(TAGS).await.unwrap();
    env.scenario.accept_directly(&pcx).await.unwrap();
    assert_eq!(env.scenario.status(&pcx).await.unwrap(), "provisioning");

    let report = handle_wiring_event(&env.app, &env.accepted_event(&pcx))
        .await
        .unwrap();

    let outcome = only(&report.run.outcomes);
    assert_eq!(outcome.kind, OutcomeKind::Wired, "{outcome:?}");
}

#[tokio::test]
async fn a_peering_that_does_not_settle_in_time_fails_the_run_for_a_retry() {
    let options = EnvOptions {
        emulator: EmulatorOptions::new().setting("provisioning_seconds", "120"),
        ..EnvOptions::default()
    };
    let env = TestEnv::with(WIRING_POLICY, options).await;
    let pcx = env.scenario.request_peering(TAGS).await.unwrap();
    env.scenario.accept_directly(&pcx).await.unwrap();

    let err = handle_wiring_event(&env.app, &env.accepted_event(&pcx))
        .await
        .unwrap_err();

    assert!(matches!(err, Error::NotSettled { .. }), "{err}");
    assert!(err.is_transient());
    assert!(env.calls().ec2_writes().is_empty());
}

// ---- approvals bound to what was approved ----

fn held_policy() -> String {
    DEFAULT_POLICY.replace(
        "required_tags: { team: payments }",
        "required_tags: { team: payments }\n    approval: required",
    )
}

#[tokio::test]
async fn a_denial_from_an_approver_rejects_with_its_reason() {
    let env = TestEnv::new(&held_policy()).await;
    let pcx = env.scenario.request_peering(TAGS).await.unwrap();

    let denial = samples::approval_denied(
        &env.event_id(),
        &pcx,
        ACCEPTER_ACCOUNT,
        "arn:aws:sts::333333333333:assumed-role/Approver/bob",
        "the database is being migrated",
    );
    let report = handle_request_event(&env.app, &denial).await.unwrap();

    let outcome = only(&report.run.outcomes);
    assert_eq!(outcome.kind, OutcomeKind::Rejected, "{outcome:?}");
    assert!(outcome.reasons[0].contains("the database is being migrated"));
    assert_eq!(env.scenario.status(&pcx).await.unwrap(), "rejected");
}

fn approval(env: &TestEnv, pcx: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut event =
        samples::approval_granted(&env.event_id(), pcx, ACCEPTER_ACCOUNT, "alice@example.com");
    edit(&mut event);
    event
}

#[tokio::test]
async fn an_approval_for_other_cidrs_or_from_a_stranger_releases_nothing() {
    let env = TestEnv::new(&held_policy()).await;
    let pcx = env.scenario.request_peering(TAGS).await.unwrap();

    let other_cidrs = approval(&env, &pcx, |e| {
        e["detail"]["requester_cidrs"] = json!(["10.9.0.0/16"]);
    });
    let stranger = approval(&env, &pcx, |e| e["account"] = json!("999999999999"));
    for event in [other_cidrs, stranger] {
        let report = handle_request_event(&env.app, &event).await.unwrap();
        let outcome = only(&report.run.outcomes);
        assert_eq!(outcome.kind, OutcomeKind::ApprovalRequired, "{outcome:?}");
        assert!(
            outcome.reasons.iter().any(|r| r.contains("was refused")),
            "{outcome:?}"
        );
    }
    assert_eq!(
        env.scenario.status(&pcx).await.unwrap(),
        "pending-acceptance"
    );
    assert!(env.calls().ec2_writes().is_empty());
}

#[tokio::test]
async fn approval_required_is_said_once_however_many_sweeps_see_the_request() {
    let options = EnvOptions {
        ledger: true,
        ..EnvOptions::default()
    };
    let env = TestEnv::with(&held_policy(), options).await;
    let pcx = env.scenario.request_peering(TAGS).await.unwrap();

    let mut said = Vec::new();
    for _ in 0..3 {
        let sweep = samples::schedule_sweep(&env.event_id());
        let report = handle_request_event(&env.app, &sweep).await.unwrap();
        said.extend(report.run.outcomes.iter().map(|o| o.kind));
    }

    assert_eq!(said, [OutcomeKind::ApprovalRequired], "{pcx}");
}

#[tokio::test]
async fn identical_events_handled_at_once_wire_and_report_once() {
    let options = EnvOptions {
        ledger: true,
        ..EnvOptions::default()
    };
    let env = TestEnv::with(WIRING_POLICY, options).await;
    let pcx = env.scenario.request_peering(TAGS).await.unwrap();
    env.scenario.accept_directly(&pcx).await.unwrap();
    let event = env.accepted_event(&pcx);

    let runs = futures_join_all((0..5).map(|_| handle_wiring_event(&env.app, &event))).await;

    let wired: usize = runs
        .into_iter()
        .map(|r| r.unwrap().run.outcomes.len())
        .sum();
    assert_eq!(wired, 1);
    assert_eq!(env.delivered_outcomes().await.len(), 1);
}

/// Runs the futures at once on this task and collects their results in order.
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for future in futures {
        set.push(Box::pin(future));
    }
    let mut results: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, slot) in set.iter_mut().zip(results.iter_mut()) {
            if slot.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(out) => *slot = Some(out),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    results.into_iter().map(|r| r.expect("ready")).collect()
}

// ---- vended accounts, allowed by their OU ----

const ORG_ACCOUNT: &str = "123456789012";

async fn org(env: &TestEnv, action: &str, body: Value) -> Value {
    let answer = env
        .emulator
        .call_json(
            ORG_ACCOUNT,
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

#[tokio::test]
async fn an_account_moved_into_the_ou_is_accepted_and_one_moved_out_is_rejected() {
    let options = EnvOptions {
        organizations_role_arn: Some(format!(
            "arn:aws:iam::{ORG_ACCOUNT}:role/peerwire-organizations"
        )),
        ..EnvOptions::default()
    };
    let env = TestEnv::with(DEFAULT_POLICY, options).await;
    org(&env, "CreateOrganization", json!({"FeatureSet": "ALL"})).await;
    let root = text(&org(&env, "ListRoots", json!({})).await["Roots"][0]["Id"]);
    let workloads = text(
        &org(
            &env,
            "CreateOrganizationalUnit",
            json!({"ParentId": root, "Name": "workloads"}),
        )
        .await["OrganizationalUnit"]["Id"],
    );
    let team = text(
        &org(
            &env,
            "CreateOrganizationalUnit",
            json!({"ParentId": workloads, "Name": "payments"}),
        )
        .await["OrganizationalUnit"]["Id"],
    );
    let vended = text(
        &org(
            &env,
            "CreateAccount",
            json!({"AccountName": "orders", "Email": "orders@example.com"}),
        )
        .await["CreateAccountStatus"]["AccountId"],
    );
    org(
        &env,
        "MoveAccount",
        json!({"AccountId": vended, "SourceParentId": root, "DestinationParentId": team}),
    )
    .await;
    // The rule names the parent OU; the account sits one level below it.
    env.set_policy(&format!(
        r#"
version: 1
unmatched: reject
accepters:
  - account: "{ACCEPTER_ACCOUNT}"
    regions: [{REGION}]
rules:
  - name: vended-workloads
    requester_ous: [{workloads}]
    allowed_cidrs: ["10.0.0.0/8"]
"#
    ));

    let (vpc, first) = env
        .scenario
        .request_from_new_vpc(&vended, "10.7.0.0/16", &[])
        .await
        .unwrap();
    let report = handle_request_event(&env.app, &env.cloudtrail_event(&first, &vended, &vpc))
        .await
        .unwrap();
    let accepted = only(&report.run.outcomes);
    assert_eq!(accepted.kind, OutcomeKind::Accepted, "{accepted:?}");

    org(
        &env,
        "MoveAccount",
        json!({"AccountId": vended, "SourceParentId": team, "DestinationParentId": root}),
    )
    .await;
    let (vpc, second) = env
        .scenario
        .request_from_new_vpc(&vended, "10.8.0.0/16", &[])
        .await
        .unwrap();
    let report = handle_request_event(&env.app, &env.cloudtrail_event(&second, &vended, &vpc))
        .await
        .unwrap();
    let rejected = only(&report.run.outcomes);
    assert_eq!(rejected.kind, OutcomeKind::Rejected, "{rejected:?}");
    assert!(
        rejected.reasons[0].contains("nor in its OUs"),
        "{rejected:?}"
    );
}
