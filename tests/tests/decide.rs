//! Deciding requests as AWS behaves, against the emulator made as strict as AWS: tags belong to
//! each owner, peerings pass through transient states, two requests may want one CIDR at once,
//! approvals are bound to what was approved, and vended accounts are allowed by their OU.

use peerwire::doors::request::handle_request_event;
use peerwire::doors::wiring::handle_wiring_event;
use peerwire::outcome::OutcomeKind;
use peerwire::plan::{Overlap, OverlapSource, Reason};
use peerwire::policy::Condition;
use peerwire::Error;
use peerwire_emulator::organizations::{move_account, nested_account};
use peerwire_emulator::samples;
use peerwire_integration::{
    about, decision, decision_about, held_policy, only, EnvOptions, TestEnv, ACCEPTER_ACCOUNT,
    DEFAULT_POLICY, REGION, REQUESTER_ACCOUNT, WIRING_POLICY,
};
use serde_json::{json, Value};

// ---- tags belong to each owner ----

#[tokio::test]
async fn a_tag_only_the_accepter_put_on_its_view_does_not_match() {
    let env = TestEnv::new(DEFAULT_POLICY).await;
    let pcx = env.scenario.request_peering(&[]).await.unwrap();
    env.scenario
        .accepter
        .tag_peering(&pcx, "team", "payments")
        .await
        .unwrap();

    let report = env.request_door(&env.request_event(&pcx)).await;

    let outcome = only(&report.run.outcomes);
    assert_eq!(outcome.kind, OutcomeKind::Rejected, "{outcome:?}");
    assert!(
        decision(&report.run).reasons.iter().any(|r| matches!(r,
            Reason::Rule(Condition::TagMismatch { key, found: None, .. }) if key == "team")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_requester_without_a_member_role_is_held_because_its_tags_cannot_be_read() {
    let env = TestEnv::new(DEFAULT_POLICY).await;
    let pcx = env.pending_peering().await;
    env.emulator
        .set("deny_assume_role", REQUESTER_ACCOUNT)
        .await
        .unwrap();

    let report = env.request_door(&env.request_event(&pcx)).await;

    let outcome = only(&report.run.outcomes);
    assert_eq!(outcome.kind, OutcomeKind::ApprovalRequired, "{outcome:?}");
    assert!(
        decision(&report.run)
            .reasons
            .iter()
            .any(|r| matches!(r, Reason::Rule(Condition::TagsUnreadable { .. }))),
        "{outcome:?}"
    );
    assert_eq!(env.status(&pcx).await, "pending-acceptance");
    assert!(env.calls().ec2_writes().is_empty());
}

// ---- one CIDR, two requests ----

#[tokio::test]
async fn of_two_requests_for_one_cidr_a_sweep_accepts_one_and_rejects_the_other_naming_it() {
    let env = TestEnv::new(DEFAULT_POLICY).await;
    let (_, first) = env.request_from(REQUESTER_ACCOUNT, "10.5.0.0/16").await;
    let (_, second) = env.request_from(REQUESTER_ACCOUNT, "10.5.0.0/16").await;

    let report = env.request_door(&env.sweep_event()).await;

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
        decision_about(&report.run, loser)
            .reasons
            .iter()
            .any(|r| matches!(r,
            Reason::Overlap(Overlap { source: OverlapSource::Peering { peering_id }, .. })
                if peering_id == winner)),
        "{rejected:?}"
    );
    assert_eq!(env.status(winner).await, "active");
    assert_eq!(env.status(loser).await, "rejected");
}

#[tokio::test]
async fn two_colliding_requests_decided_at_the_same_time_leave_exactly_one_live() {
    let env = TestEnv::new(DEFAULT_POLICY).await;
    let (vpc_a, first) = env.request_from(REQUESTER_ACCOUNT, "10.6.0.0/16").await;
    let (vpc_b, second) = env.request_from(REQUESTER_ACCOUNT, "10.6.0.0/16").await;
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
            let status = env.status(pcx).await;
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
    let env = TestEnv::with(
        WIRING_POLICY,
        EnvOptions::setting("provisioning_seconds", "2"),
    )
    .await;
    let pcx = env.active_peering().await;

    assert_eq!(env.status(&pcx).await, "provisioning");

    let report = env.wire(&pcx).await;

    let outcome = only(&report.run.outcomes);
    assert_eq!(outcome.kind, OutcomeKind::Wired, "{outcome:?}");
}

#[tokio::test]
async fn a_peering_that_does_not_settle_in_time_fails_the_run_for_a_retry() {
    let env = TestEnv::with(
        WIRING_POLICY,
        EnvOptions::setting("provisioning_seconds", "120"),
    )
    .await;
    let pcx = env.active_peering().await;

    let err = handle_wiring_event(&env.app, &env.accepted_event(&pcx))
        .await
        .unwrap_err();

    assert!(matches!(err, Error::NotSettled { .. }), "{err}");
    assert!(err.is_transient());
    assert!(env.calls().ec2_writes().is_empty());
}

// ---- approvals bound to what was approved ----

#[tokio::test]
async fn a_denial_from_an_approver_rejects_with_its_reason() {
    let env = TestEnv::new(&held_policy()).await;
    let pcx = env.pending_peering().await;

    let denial = samples::approval_denied(
        &env.event_id(),
        &pcx,
        ACCEPTER_ACCOUNT,
        "arn:aws:sts::333333333333:assumed-role/Approver/bob",
        "the database is being migrated",
    );
    let report = env.request_door(&denial).await;

    let outcome = only(&report.run.outcomes);
    assert_eq!(outcome.kind, OutcomeKind::Rejected, "{outcome:?}");
    assert!(
        matches!(&decision(&report.run).reasons[0],
            Reason::DeniedBy { reason, .. } if reason == "the database is being migrated"),
        "{outcome:?}"
    );
    assert_eq!(env.status(&pcx).await, "rejected");
}

fn approval(env: &TestEnv, pcx: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut event = env.approval_event(pcx, "alice@example.com");
    edit(&mut event);
    event
}

#[tokio::test]
async fn an_approval_for_other_cidrs_or_from_a_stranger_releases_nothing() {
    let env = TestEnv::new(&held_policy()).await;
    let pcx = env.pending_peering().await;

    let other_cidrs = approval(&env, &pcx, |e| {
        e["detail"]["requester_cidrs"] = json!(["10.9.0.0/16"]);
    });
    let stranger = approval(&env, &pcx, |e| e["account"] = json!("999999999999"));
    for event in [other_cidrs, stranger] {
        let report = env.request_door(&event).await;
        let outcome = only(&report.run.outcomes);
        assert_eq!(outcome.kind, OutcomeKind::ApprovalRequired, "{outcome:?}");
        assert!(
            decision(&report.run)
                .reasons
                .iter()
                .any(|r| matches!(r, Reason::ApprovalRefused { .. })),
            "{outcome:?}"
        );
    }
    assert_eq!(env.status(&pcx).await, "pending-acceptance");
    assert!(env.calls().ec2_writes().is_empty());
}

#[tokio::test]
async fn approval_required_is_said_once_however_many_sweeps_see_the_request() {
    let env = TestEnv::with(&held_policy(), EnvOptions::ledger()).await;
    let pcx = env.pending_peering().await;

    let mut said = Vec::new();
    for _ in 0..3 {
        let report = env.request_door(&env.sweep_event()).await;
        said.extend(report.run.outcomes.iter().map(|o| o.kind));
    }

    assert_eq!(said, [OutcomeKind::ApprovalRequired], "{pcx}");
}

#[tokio::test]
async fn identical_events_handled_at_once_wire_and_report_once() {
    let env = TestEnv::with(WIRING_POLICY, EnvOptions::ledger()).await;
    let pcx = env.active_peering().await;

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

#[tokio::test]
async fn an_account_moved_into_the_ou_is_accepted_and_one_moved_out_is_rejected() {
    let env = TestEnv::with(DEFAULT_POLICY, EnvOptions::organizations()).await;
    let (vended, [team, workloads, root]) = nested_account(&env.emulator, "orders").await.unwrap();
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
    let report = env
        .request_door(&env.cloudtrail_event(&first, &vended, &vpc))
        .await;
    let accepted = &report.run.outcomes[0];
    assert_eq!(accepted.kind, OutcomeKind::Accepted, "{accepted:?}");

    move_account(&env.emulator, &vended, &team, &root)
        .await
        .unwrap();
    let (vpc, second) = env
        .scenario
        .request_from_new_vpc(&vended, "10.8.0.0/16", &[])
        .await
        .unwrap();
    let report = env
        .request_door(&env.cloudtrail_event(&second, &vended, &vpc))
        .await;
    let rejected = only(&report.run.outcomes);
    assert_eq!(rejected.kind, OutcomeKind::Rejected, "{rejected:?}");
    assert!(
        matches!(&decision(&report.run).reasons[0],
            Reason::Rule(Condition::AccountOutsideOus { account, .. }) if account == &vended),
        "{rejected:?}"
    );
}
