//! The request door: accept, reject or hold peering requests by policy.
//!
//! Level-triggered: the event only names which peering(s) to look at. Each one is re-read with
//! the accepter's credentials, decided by the pure [`decide_request`], and the resulting plan
//! (at most one write) is applied. Replays find the peering no longer pending and write nothing.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;

use crate::app::App;
use crate::aws::apply::{self, Applied};
use crate::aws::observe;
use crate::decision::{decide_request, Verdict};
use crate::error::{AwsErrorKind, Error, Result};
use crate::events::{parse_request_event, PeeringRef, RequestTrigger};
use crate::model::{Peering, PeeringStatus, VpcNetwork};
use crate::outcome::{Outcome, OutcomeKind};
use crate::plan::plan_request;
use crate::policy::Policy;
use crate::run::RunLog;

/// What one invocation did; also the Lambda's response.
#[derive(Debug, Serialize)]
pub struct RequestReport {
    pub correlation_id: String,
    pub trigger: RequestTrigger,
    #[serde(flatten)]
    pub run: RunLog,
}

/// Handles one EventBridge event for the request door.
///
/// Errors: a malformed or unsupported event is refused before any AWS call. Transient AWS
/// errors (throttling, 5xx) fail the invocation after every other peering of the run has been
/// handled and reported, so Lambda retries; permanent ones become `failed` outcomes.
pub async fn handle_request_event(app: &App, event: &Value) -> Result<RequestReport> {
    let parsed = parse_request_event(event)?;
    let span = tracing::info_span!(
        "request",
        correlation_id = %parsed.correlation_id,
        trigger = parsed.trigger.name()
    );
    async move {
        let policy = app.policies.current().await?;
        let mut door = Door {
            app,
            policy: &policy,
            trigger: parsed.trigger.name(),
            correlation_id: &parsed.correlation_id,
            log: RunLog::default(),
            networks: HashMap::new(),
        };
        match &parsed.trigger {
            RequestTrigger::PeeringRequested(target) => door.one(target, None).await,
            RequestTrigger::Approval {
                peering,
                approved_by,
            } => door.one(peering, Some(approved_by)).await,
            RequestTrigger::Sweep => door.sweep().await,
        }
        let run = door.log.finish(app, "request").await?;
        Ok(RequestReport {
            correlation_id: parsed.correlation_id.clone(),
            trigger: parsed.trigger.clone(),
            run,
        })
    }
    .instrument(span)
    .await
}

struct Door<'a> {
    app: &'a App,
    policy: &'a Policy,
    trigger: &'static str,
    correlation_id: &'a str,
    log: RunLog,
    /// Accepter VPCs read during this run: a sweep deciding many requests to one VPC reads it
    /// once. Accepting or rejecting changes nothing the decision reads.
    networks: HashMap<String, VpcNetwork>,
}

impl Door<'_> {
    async fn one(&mut self, target: &PeeringRef, approved_by: Option<&str>) {
        if !self
            .policy
            .covers_accepter(&target.accepter_account, &target.region, None)
        {
            self.log
                .ignore(&target.peering_id, "accepter not in the policy's accepters");
            return;
        }
        let ec2 = self
            .app
            .aws
            .ec2(&target.accepter_account, &target.region)
            .await;
        let result = match observe::describe_peering(&ec2, &target.peering_id).await {
            Ok(Some(peering)) => self.reconcile(&ec2, peering, approved_by).await,
            Ok(None) => Ok(Some(self.not_found(target))),
            Err(err) => Err(err),
        };
        self.log
            .record(target, self.trigger, self.correlation_id, result);
    }

    async fn sweep(&mut self) {
        for scope in &self.policy.accepters {
            for region in &scope.regions {
                let mut target = PeeringRef {
                    peering_id: String::new(),
                    accepter_account: scope.account.clone(),
                    region: region.clone(),
                };
                let ec2 = self.app.aws.ec2(&scope.account, region).await;
                let pending = match observe::pending_requests(&ec2, &scope.account).await {
                    Ok(pending) => pending,
                    Err(err) => {
                        self.log
                            .record(&target, self.trigger, self.correlation_id, Err(err));
                        continue;
                    }
                };
                tracing::info!(account = %scope.account, region = %region,
                    pending = pending.len(), "sweep found pending requests");
                for peering in pending {
                    target.peering_id = peering.id.clone();
                    let result = self.reconcile(&ec2, peering, None).await;
                    self.log
                        .record(&target, self.trigger, self.correlation_id, result);
                }
            }
        }
    }

    /// Decides and applies for one observed peering. `Ok(None)` means out of scope.
    async fn reconcile(
        &mut self,
        ec2: &aws_sdk_ec2::Client,
        peering: Peering,
        approved_by: Option<&str>,
    ) -> Result<Option<Outcome>> {
        let accepter = &peering.accepter;
        if !self
            .policy
            .covers_accepter(&accepter.account, &accepter.region, Some(&accepter.vpc_id))
        {
            self.log
                .ignore(&peering.id, "accepter VPC not in the policy's accepters");
            return Ok(None);
        }
        if peering.status != PeeringStatus::PendingAcceptance {
            // Nothing to decide: skip without reading the VPC.
            let mut outcome = self.outcome(OutcomeKind::Skipped, &peering);
            outcome.reasons.push(status_reason(&peering));
            return Ok(Some(outcome));
        }
        let network = match self.networks.get(&accepter.vpc_id) {
            Some(network) => network.clone(),
            None => {
                let network =
                    observe::describe_vpc_network(ec2, &accepter.account, &accepter.vpc_id).await?;
                self.networks
                    .insert(accepter.vpc_id.clone(), network.clone());
                network
            }
        };
        let decision = decide_request(&peering, &network, self.policy, approved_by.is_some());
        tracing::info!(peering_id = %peering.id, verdict = %decision.verdict,
            rule = decision.rule.as_deref().unwrap_or(""), reasons = %decision.reasons.join("; "),
            "decision");
        for step in plan_request(&peering, &decision) {
            let changed = match apply::execute(ec2, &step).await {
                Ok(Applied::Done | Applied::AlreadyInPlace) => None,
                Ok(Applied::Vanished { code }) => Some(code),
                Err(Error::Aws(aws))
                    if matches!(
                        aws.kind,
                        AwsErrorKind::InvalidState | AwsErrorKind::NotFound
                    ) =>
                {
                    Some(aws.to_string())
                }
                Err(err) => return Err(err),
            };
            if let Some(why) = changed {
                return self.re_observe(ec2, &peering, &why).await.map(Some);
            }
            tracing::info!(peering_id = %peering.id, operation = step.operation(), "applied");
        }
        let kind = match decision.verdict {
            Verdict::Accept => OutcomeKind::Accepted,
            Verdict::Reject => OutcomeKind::Rejected,
            Verdict::Hold => OutcomeKind::ApprovalRequired,
            Verdict::Skip => OutcomeKind::Skipped,
        };
        let mut outcome = self.outcome(kind, &peering);
        outcome.rule = decision.rule;
        outcome.reasons = decision.reasons;
        if kind == OutcomeKind::Accepted {
            outcome.approved_by = approved_by.map(str::to_owned);
        }
        Ok(Some(outcome))
    }

    /// A write failed because the peering moved on (accepted by a concurrent run, deleted,
    /// expired): re-observe and report what it is now instead of crashing.
    async fn re_observe(
        &self,
        ec2: &aws_sdk_ec2::Client,
        peering: &Peering,
        why: &str,
    ) -> Result<Outcome> {
        tracing::warn!(peering_id = %peering.id, why, "peering changed while deciding; re-observing");
        let now = observe::describe_peering(ec2, &peering.id).await?;
        let current = now.as_ref().unwrap_or(peering);
        let mut outcome = self.outcome(OutcomeKind::Skipped, current);
        if now.is_none() {
            outcome.observed_status = Some("not-found".into());
        }
        outcome.reasons.push(format!(
            "peering changed while deciding ({why}); {}",
            status_reason(current)
        ));
        Ok(outcome)
    }

    fn outcome(&self, kind: OutcomeKind, peering: &Peering) -> Outcome {
        Outcome::about(kind, peering, self.trigger, self.correlation_id)
    }

    fn not_found(&self, target: &PeeringRef) -> Outcome {
        let mut outcome = Outcome::about_ref(
            OutcomeKind::Skipped,
            target,
            self.trigger,
            self.correlation_id,
        );
        outcome.observed_status = Some("not-found".into());
        outcome.reasons.push(format!(
            "peering {} is not visible in account {} region {}",
            target.peering_id, target.accepter_account, target.region
        ));
        outcome
    }
}

/// "peering is <status> (<message>)".
pub fn status_reason(peering: &Peering) -> String {
    match &peering.status_message {
        Some(message) if !message.is_empty() => {
            format!("peering is {} ({message})", peering.status)
        }
        _ => format!("peering is {}", peering.status),
    }
}
