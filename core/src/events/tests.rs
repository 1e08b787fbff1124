//! The parsers against the real-shaped samples of `events/`, and against what they refuse.

use serde_json::{json, Value};

use super::*;

fn sample(name: &str) -> Value {
    let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn peering_ref(pcx: &str, account: &str) -> PeeringRef {
    PeeringRef {
        peering_id: pcx.parse().unwrap(),
        account: account.parse().unwrap(),
        region: "us-east-1".parse().unwrap(),
    }
}

#[test]
fn a_peering_request_is_located_in_the_accepter_account() {
    let event =
        parse_request_event(&sample("cloudtrail-create-vpc-peering-connection.json")).unwrap();
    assert_eq!(
        event.trigger,
        RequestTrigger::PeeringRequested(peering_ref("pcx-0123456789abcdef0", "222222222222"))
    );
}

#[test]
fn a_failed_call_locates_nothing() {
    let err = parse_request_event(&sample(
        "cloudtrail-create-vpc-peering-connection-failed.json",
    ))
    .unwrap_err();
    assert!(matches!(err, EventError::FailedCall { .. }), "{err}");
}

#[test]
fn an_acceptance_and_peerwires_own_outcome_both_locate_the_accepted_peering() {
    let cloudtrail =
        parse_wiring_event(&sample("cloudtrail-accept-vpc-peering-connection.json")).unwrap();
    let outcome = parse_wiring_event(&sample("peerwire-peering-accepted.json")).unwrap();
    let PeeringRef { peering_id, .. } = match (&cloudtrail.trigger, &outcome.trigger) {
        (WiringTrigger::PeeringAccepted(a), WiringTrigger::PeeringAccepted(b)) => {
            assert_eq!(a.account, b.account);
            a.clone()
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(peering_id, "pcx-0123456789abcdef0");
}

#[test]
fn drift_events_locate_the_resource_they_touched() {
    let cases = [
        ("cloudtrail-create-subnet.json", "vpc"),
        ("cloudtrail-delete-route.json", "route-table"),
        (
            "cloudtrail-revoke-security-group-ingress.json",
            "security-group",
        ),
        (
            "cloudtrail-modify-vpc-peering-connection-options.json",
            "peering",
        ),
        ("cloudtrail-disassociate-route-table.json", "account"),
        ("rds-db-instance-failover.json", "database"),
        ("rds-db-cluster-failover.json", "database"),
    ];
    for (file, kind) in cases {
        let event = parse_drift_event(&sample(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let locator = match &event.trigger {
            DriftTrigger::NetworkChanged { locator, .. }
            | DriftTrigger::DatabaseChanged { locator, .. } => locator,
            DriftTrigger::Sweep => panic!("{file}: sweep"),
        };
        let shown = serde_json::to_value(locator).unwrap();
        assert_eq!(shown["kind"], kind, "{file}: {shown}");
    }
}

#[test]
fn a_cluster_event_is_about_a_cluster() {
    let event = parse_drift_event(&sample("rds-db-cluster-failover.json")).unwrap();
    assert!(matches!(
        event.trigger,
        DriftTrigger::DatabaseChanged {
            locator: Locator::Database { cluster: true, .. },
            ..
        }
    ));
}

/// Every form of RDS event the documentation prints locates the database it names: the User
/// Guides' examples with `rds:`-prefixed identifiers (verbatim), the tutorial's received event
/// with a bare one (verbatim), our captured shape, and an event without `EventID` (the Lambda
/// Developer Guide's sample has none). The kind comes from the ARN.
#[test]
fn rds_events_in_every_documented_form_locate_their_database() {
    for (file, account, identifier, cluster) in [
        (
            "rds-db-instance-event-user-guide.json",
            "123456789012",
            "my-db-instance",
            false,
        ),
        (
            "rds-db-cluster-event-aurora-user-guide.json",
            "123456789012",
            "my-db-cluster",
            true,
        ),
        (
            "rds-db-instance-event-tutorial.json",
            "111111111111",
            "testdb",
            false,
        ),
        (
            "rds-db-cluster-failover-prefixed.json",
            "222222222222",
            "payments-aurora",
            true,
        ),
        (
            "rds-db-instance-failover.json",
            "222222222222",
            "payments-db",
            false,
        ),
    ] {
        let event = parse_drift_event(&sample(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let DriftTrigger::DatabaseChanged {
            account: at,
            locator,
            ..
        } = &event.trigger
        else {
            panic!("{file}: {:?}", event.trigger);
        };
        assert_eq!(at.as_str(), account, "{file}");
        assert_eq!(
            locator,
            &Locator::Database {
                identifier: identifier.parse().unwrap(),
                cluster
            },
            "{file}"
        );
    }
    let mut no_event_id = sample("rds-db-instance-event-tutorial.json");
    no_event_id["detail"]
        .as_object_mut()
        .unwrap()
        .remove("EventID");
    assert!(parse_drift_event(&no_event_id).is_ok());
    // Without an ARN, the identifier: prefixed or bare, the kind from the detail type.
    let mut by_name = sample("rds-db-cluster-event-aurora-user-guide.json");
    by_name["detail"]
        .as_object_mut()
        .unwrap()
        .remove("SourceArn");
    let event = parse_drift_event(&by_name).unwrap();
    assert!(matches!(
        &event.trigger,
        DriftTrigger::DatabaseChanged { locator: Locator::Database { identifier, cluster: true }, .. }
            if identifier.as_str() == "my-db-cluster"
    ));
}

#[test]
fn deletions_and_rejections_are_located_in_the_calling_account() {
    for file in [
        "cloudtrail-delete-vpc-peering-connection.json",
        "cloudtrail-reject-vpc-peering-connection.json",
    ] {
        let event = parse_cleanup_event(&sample(file)).unwrap();
        assert!(
            matches!(event.trigger, CleanupTrigger::PeeringGone(_)),
            "{file}"
        );
    }
}

#[test]
fn schedules_sweep_in_every_function() {
    for file in ["schedule-sweep.json", "scheduler-sweep.json"] {
        let event = sample(file);
        assert_eq!(
            parse_request_event(&event).unwrap().trigger,
            RequestTrigger::Sweep
        );
        assert_eq!(
            parse_wiring_event(&event).unwrap().trigger,
            WiringTrigger::Sweep
        );
        assert_eq!(
            parse_drift_event(&event).unwrap().trigger,
            DriftTrigger::Sweep
        );
        assert_eq!(
            parse_cleanup_event(&event).unwrap().trigger,
            CleanupTrigger::Sweep
        );
    }
}

#[test]
fn an_approval_is_bound_to_the_requester_and_cidrs_the_approver_saw() {
    let event = parse_request_event(&sample("approval-granted.json")).unwrap();
    let RequestTrigger::Approval(decision) = event.trigger else {
        panic!("{:?}", event.trigger)
    };
    assert_eq!(decision.answer, crate::model::ApprovalAnswer::Granted);
    assert_eq!(decision.requester_account, "111111111111");
    assert_eq!(
        decision.requester_cidrs,
        vec!["10.0.0.0/16".parse::<ipnet::IpNet>().unwrap()]
    );
    assert!(decision.sent_from.is_some() && decision.at.is_some());
}

#[test]
fn a_denial_carries_its_reason_and_a_bare_one_is_refused() {
    let event = parse_request_event(&sample("approval-denied.json")).unwrap();
    let RequestTrigger::Approval(decision) = event.trigger else {
        panic!("{:?}", event.trigger)
    };
    assert!(matches!(
        decision.answer,
        crate::model::ApprovalAnswer::Denied { ref reason } if reason.contains("migrated")
    ));
    let mut bare = sample("approval-denied.json");
    bare["detail"].as_object_mut().unwrap().remove("reason");
    assert!(parse_request_event(&bare).is_err());
    let mut unbound = sample("approval-granted.json");
    unbound["detail"]
        .as_object_mut()
        .unwrap()
        .remove("requester_cidrs");
    assert!(parse_request_event(&unbound).is_err());
}

#[test]
fn in_place_rule_edits_cidr_removals_and_subnet_group_changes_are_located() {
    let cases = [
        (
            "cloudtrail-modify-security-group-rules.json",
            "security-group",
        ),
        ("cloudtrail-disassociate-vpc-cidr-block.json", "vpc"),
        ("cloudtrail-modify-db-subnet-group.json", "vpc"),
    ];
    for (file, kind) in cases {
        let event = parse_drift_event(&sample(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let DriftTrigger::NetworkChanged { locator, .. } = &event.trigger else {
            panic!("{file}: {:?}", event.trigger)
        };
        assert_eq!(
            serde_json::to_value(locator).unwrap()["kind"],
            kind,
            "{file}"
        );
    }
}

#[test]
fn an_id_in_the_wrong_shape_is_refused_with_the_field() {
    let mut event = sample("cloudtrail-delete-route.json");
    event["detail"]["requestParameters"]["routeTableId"] = json!("rtb-NOTHEX!!");
    let err = parse_drift_event(&event).unwrap_err();
    assert!(
        matches!(&err, EventError::InvalidField { field, .. } if field == "detail.requestParameters.routeTableId"),
        "{err}"
    );
}

#[test]
fn an_event_of_another_function_is_unsupported_not_misread() {
    let err = parse_cleanup_event(&sample("cloudtrail-create-subnet.json")).unwrap_err();
    assert!(matches!(err, EventError::Unsupported { .. }), "{err}");
    let err = parse_request_event(&json!({"not": "an event"})).unwrap_err();
    assert!(matches!(err, EventError::Malformed { .. }), "{err}");
}

#[test]
fn the_approval_event_a_sender_builds_is_the_sample_and_reads_back_the_same() {
    for file in ["approval-granted.json", "approval-denied.json"] {
        let sample = sample(file);
        let RequestTrigger::Approval(decision) = parse_request_event(&sample).unwrap().trigger
        else {
            panic!("{file}")
        };
        let built = approval_event(&decision);
        assert_eq!(built.detail_type, sample["detail-type"], "{file}");
        assert_eq!(built.detail, sample["detail"], "{file}");
        // What EventBridge delivers: the sender's detail in its envelope.
        let mut delivered = sample.clone();
        delivered["detail"] = built.detail;
        let RequestTrigger::Approval(again) = parse_request_event(&delivered).unwrap().trigger
        else {
            panic!("{file}")
        };
        assert_eq!(again, decision, "{file}");
    }
}
