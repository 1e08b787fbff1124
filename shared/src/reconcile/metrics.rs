//! CloudWatch metrics in Embedded Metric Format: one JSON document per run on the function's
//! log stream, which CloudWatch turns into metrics of namespace `Peerwire` with no API call.
//!
//! Metrics (dimension `Function`): `PeeringsAccepted`, `PeeringsRejected`, `PeeringsHeld`,
//! `RoutesAdded`, `RulesAdded`, `DriftRepaired`; and `Failures` with dimensions `Function` and
//! `Kind` (`access-denied`, `quota`, `not-found`, `throttling`, `other`).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::report::RunLog;
use super::StepResult;
use peerwire_core::error::AwsErrorKind;
use peerwire_core::outcome::OutcomeKind;
use peerwire_core::plan::request::Verdict;
use peerwire_core::plan::{Action, Ec2Action, PlanStep, ZoneAction};

/// The namespace of every peerwire metric.
pub const NAMESPACE: &str = "Peerwire";

/// What one run counted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    pub accepted: u64,
    pub rejected: u64,
    pub held: u64,
    pub routes_added: u64,
    pub rules_added: u64,
    pub drift_repaired: u64,
    /// By kind: `access-denied`, `quota`, `not-found`, `throttling`, `other`.
    pub failures: BTreeMap<&'static str, u64>,
}

fn kind_name(kind: AwsErrorKind) -> &'static str {
    match kind {
        AwsErrorKind::AccessDenied => "access-denied",
        AwsErrorKind::Quota => "quota",
        AwsErrorKind::NotFound => "not-found",
        AwsErrorKind::Throttling => "throttling",
        _ => "other",
    }
}

impl Counts {
    /// What `log` did.
    pub fn of(log: &RunLog) -> Self {
        let mut counts = Self::default();
        for reconciled in &log.reconciled {
            match reconciled.decision().map(|d| d.verdict) {
                Some(Verdict::Hold) => counts.held += 1,
                Some(Verdict::Reject) => counts.rejected += 1,
                Some(Verdict::Accept | Verdict::Skip) | None => {}
            }
            for applied in reconciled.applied() {
                match &applied.result {
                    StepResult::Done => counts.count_done(&applied.step),
                    StepResult::Failed { error } => {
                        *counts.failures.entry(kind_name(error.kind)).or_default() += 1;
                    }
                    StepResult::AlreadyInPlace
                    | StepResult::Vanished { .. }
                    | StepResult::NotAttempted { .. } => {}
                }
            }
        }
        for outcome in &log.outcomes {
            match outcome.kind {
                OutcomeKind::DriftRepaired | OutcomeKind::DriftRecurring => {
                    counts.drift_repaired += 1;
                }
                OutcomeKind::Failed if outcome.changes.is_empty() => {
                    let kind = outcome
                        .error
                        .as_ref()
                        .map_or("other", |e| error_kind(&e.error_type));
                    *counts.failures.entry(kind).or_default() += 1;
                }
                _ => {}
            }
        }
        counts
    }

    /// Counts one step that went through.
    fn count_done(&mut self, step: &PlanStep) {
        match &step.action {
            Action::Ec2(action) => match action {
                Ec2Action::AcceptPeering { .. } => self.accepted += 1,
                Ec2Action::CreateRoute { .. } | Ec2Action::ReplaceBlackholeRoute { .. } => {
                    self.routes_added += 1;
                }
                Ec2Action::Authorize { permissions, .. } => {
                    self.rules_added += permissions.len() as u64;
                }
                Ec2Action::RejectPeering { .. }
                | Ec2Action::DeleteRoute { .. }
                | Ec2Action::Revoke { .. }
                | Ec2Action::Remark { .. }
                | Ec2Action::SetDnsResolution { .. }
                | Ec2Action::EnableVpcDnsAttribute { .. } => {}
            },
            Action::Route53(
                ZoneAction::Record { .. }
                | ZoneAction::Authorize { .. }
                | ZoneAction::Associate { .. }
                | ZoneAction::DeleteAuthorization { .. }
                | ZoneAction::Disassociate { .. }
                | ZoneAction::Forget { .. },
            ) => {}
        }
    }

    /// The EMF documents for `function`, stamped `timestamp_ms`: the counts, then one per
    /// failure kind (EMF gives one value per dimension per document).
    pub fn documents(&self, function: &str, timestamp_ms: u64) -> Vec<Value> {
        let metric = |name: &str| json!({"Name": name, "Unit": "Count"});
        let mut documents = vec![json!({
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Function"]],
                    "Metrics": [
                        metric("PeeringsAccepted"), metric("PeeringsRejected"),
                        metric("PeeringsHeld"), metric("RoutesAdded"),
                        metric("RulesAdded"), metric("DriftRepaired"),
                    ],
                }],
            },
            "Function": function,
            "PeeringsAccepted": self.accepted,
            "PeeringsRejected": self.rejected,
            "PeeringsHeld": self.held,
            "RoutesAdded": self.routes_added,
            "RulesAdded": self.rules_added,
            "DriftRepaired": self.drift_repaired,
        })];
        for (kind, count) in &self.failures {
            documents.push(json!({
                "_aws": {
                    "Timestamp": timestamp_ms,
                    "CloudWatchMetrics": [{
                        "Namespace": NAMESPACE,
                        "Dimensions": [["Function", "Kind"]],
                        "Metrics": [metric("Failures")],
                    }],
                },
                "Function": function,
                "Kind": kind,
                "Failures": count,
            }));
        }
        documents
    }
}

/// The failure kind of an outcome's `error_type` (`peerwire.AwsAccessDenied`, ...).
fn error_kind(error_type: &str) -> &'static str {
    match error_type {
        "peerwire.AwsAccessDenied" => "access-denied",
        "peerwire.AwsQuota" => "quota",
        "peerwire.AwsNotFound" => "not-found",
        "peerwire.AwsThrottling" => "throttling",
        _ => "other",
    }
}

/// Prints the run's metrics on stdout, where Lambda sends them to CloudWatch Logs. Only inside
/// Lambda (`AWS_LAMBDA_FUNCTION_NAME`), whose name is the `Function` dimension.
pub fn emit(log: &RunLog) {
    let Ok(function) = std::env::var("AWS_LAMBDA_FUNCTION_NAME") else {
        return;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    for document in Counts::of(log).documents(&function, now) {
        println!("{document}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_document_for_the_counts_and_one_per_failure_kind() {
        let mut counts = Counts {
            accepted: 2,
            routes_added: 6,
            ..Counts::default()
        };
        counts.failures.insert("quota", 1);
        let docs = counts.documents("peering-wiring", 1_700_000_000_000);
        assert_eq!(docs.len(), 2);
        let metrics = &docs[0]["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(metrics["Namespace"], "Peerwire");
        assert_eq!(metrics["Dimensions"], json!([["Function"]]));
        assert_eq!(docs[0]["PeeringsAccepted"], 2);
        assert_eq!(docs[0]["RoutesAdded"], 6);
        // Every metric named has a value in the document (EMF's rule).
        for metric in metrics["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(docs[0].get(name).is_some(), "{name}");
        }
        assert_eq!(docs[1]["Kind"], "quota");
        assert_eq!(docs[1]["Failures"], 1);
        assert_eq!(
            docs[1]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Function", "Kind"]])
        );
    }

    #[test]
    fn an_empty_run_counts_nothing() {
        assert_eq!(Counts::of(&RunLog::default()), Counts::default());
    }
}
