//! `peerwire plan <pcx-id>` and `peerwire apply <pcx-id>`: the wiring door's reconcile, by
//! hand. Both observe and plan exactly as the door does ([`peerwire::diagnose::inspect`] runs
//! its `observe_wiring` and `plan_wiring`); `plan` stops there and writes nothing, `apply`
//! executes the plan with [`peerwire::wire::apply_wiring`], each step with its own side's role.

use std::process::ExitCode;

use peerwire::aws::apply::Applied;
use peerwire::diagnose::{self, Inspection};
use peerwire::plan::{Finding, PlanStep, Side};
use peerwire::wire::{apply_wiring, AppliedStep};
use peerwire::wiring::{describe_finding, describe_step};
use serde::Serialize;

use crate::diagnose::{connect, progress, Target, EXIT_BROKEN, EXIT_HEALTHY};

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub target: Target,
    /// Print the steps as JSON.
    #[arg(long)]
    pub json: bool,
}

/// One planned (or applied) step.
#[derive(Debug, Serialize)]
pub struct StepReport<'a> {
    /// The AWS call, e.g. `CreateRoute`.
    pub operation: &'static str,
    /// Whose member role makes the call.
    pub side: Side,
    pub account: &'a str,
    /// One line, as logs and outcome events say it.
    pub description: String,
    /// The step itself (`step` names its kind).
    pub detail: &'a PlanStep,
    /// `apply` only: `done`, `already-in-place` or `vanished`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<&'a Applied>,
}

/// Something reported and not changed.
#[derive(Debug, Serialize)]
pub struct FindingReport<'a> {
    pub description: String,
    /// Blocks the wiring (a route conflict).
    pub blocking: bool,
    pub detail: &'a Finding,
}

/// What `plan --json` and `apply --json` print.
#[derive(Debug, Serialize)]
pub struct PlanReport<'a> {
    pub peering_id: &'a str,
    pub status: &'a str,
    pub rule: Option<&'a str>,
    /// Why peerwire leaves this peering alone; then there are no steps.
    pub refusal: Option<String>,
    /// In the order `apply` executes them.
    pub steps: Vec<StepReport<'a>>,
    pub findings: Vec<FindingReport<'a>>,
}

impl<'a> PlanReport<'a> {
    /// The plan of an inspection; with `applied`, what became of each step.
    pub fn new(inspection: &'a Inspection, applied: Option<&'a [AppliedStep]>) -> Self {
        let refusal = inspection.refusal();
        let account = |side: Side| match side {
            Side::Requester => inspection.peering.requester.account.as_str(),
            Side::Accepter => inspection.peering.accepter.account.as_str(),
        };
        let steps: Vec<StepReport<'a>> = match (&refusal, applied) {
            (Some(_), _) => Vec::new(),
            (None, Some(applied)) => applied
                .iter()
                .map(|a| StepReport {
                    operation: a.step.operation(),
                    side: a.step.side(),
                    account: account(a.step.side()),
                    description: describe_step(&a.step),
                    detail: &a.step,
                    result: Some(&a.result),
                })
                .collect(),
            (None, None) => inspection
                .plan
                .steps
                .iter()
                .map(|step| StepReport {
                    operation: step.operation(),
                    side: step.side(),
                    account: account(step.side()),
                    description: describe_step(step),
                    detail: step,
                    result: None,
                })
                .collect(),
        };
        let findings = if refusal.is_some() {
            Vec::new()
        } else {
            inspection
                .plan
                .findings
                .iter()
                .map(|f| FindingReport {
                    description: describe_finding(f),
                    blocking: f.is_blocking(),
                    detail: f,
                })
                .collect()
        };
        Self {
            peering_id: &inspection.peering.id,
            status: inspection.peering.status.code(),
            rule: inspection.rule.as_deref(),
            refusal,
            steps,
            findings,
        }
    }

    pub fn blocked(&self) -> bool {
        self.findings.iter().any(|f| f.blocking)
    }
}

fn result_text(result: &Applied) -> String {
    match result {
        Applied::Done => "done".to_owned(),
        Applied::AlreadyInPlace => "already in place".to_owned(),
        Applied::Vanished { code } => format!("skipped, {code}: the next run re-observes"),
    }
}

/// The plan (or what apply did) for people.
pub fn render(report: &PlanReport<'_>, applying: bool) -> String {
    let mut out = String::new();
    let rule = report
        .rule
        .map(|r| format!(", policy rule `{r}`"))
        .unwrap_or_default();
    out.push_str(&format!(
        "{} ({}{rule})\n",
        report.peering_id, report.status
    ));
    if let Some(refusal) = &report.refusal {
        out.push_str(&format!("peerwire does not wire this peering: {refusal}\n"));
        return out;
    }
    if report.steps.is_empty() {
        out.push_str("nothing to change: the wiring is in sync\n");
    } else {
        let verb = if applying { "applied" } else { "planned" };
        out.push_str(&format!("{} {verb}:\n", plural_steps(report.steps.len())));
        for (index, step) in report.steps.iter().enumerate() {
            let outcome = step
                .result
                .map(|r| format!(" -> {}", result_text(r)))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {:>2}. {}  [{} in {}]{outcome}\n",
                index + 1,
                step.description,
                step.operation,
                step.account
            ));
        }
    }
    if !report.findings.is_empty() {
        out.push_str("findings (reported, never changed):\n");
        for finding in &report.findings {
            let blocking = if finding.blocking { " [blocks]" } else { "" };
            out.push_str(&format!("  - {}{blocking}\n", finding.description));
        }
    }
    if !applying && !report.steps.is_empty() {
        out.push_str(&format!(
            "plan only, nothing was written; `peerwire apply {}` makes these changes\n",
            report.peering_id
        ));
    }
    out
}

fn plural_steps(n: usize) -> String {
    if n == 1 {
        "1 step".to_owned()
    } else {
        format!("{n} steps")
    }
}

fn print(report: &PlanReport<'_>, json: bool, applying: bool) -> Result<(), String> {
    if json {
        let text = serde_json::to_string_pretty(report).map_err(|e| e.to_string())?;
        println!("{text}");
    } else {
        print!("{}", render(report, applying));
    }
    Ok(())
}

/// `peerwire plan`: observe and plan; reads only. Exit 0 whatever the plan holds.
pub async fn plan(args: PlanArgs) -> Result<ExitCode, String> {
    let (app, policy, peering) = connect(&args.target).await?;
    progress("observing both sides through their member roles");
    let inspection = diagnose::inspect(&app, &policy, peering)
        .await
        .map_err(|e| e.to_string())?;
    print(&PlanReport::new(&inspection, None), args.json, false)?;
    Ok(ExitCode::from(EXIT_HEALTHY))
}

/// `peerwire apply`: observe, plan, apply. Exit 1 when peerwire refuses the peering or a
/// finding blocks the wiring; an AWS error mid-way is exit 2 (re-running applies what is left).
pub async fn apply(args: PlanArgs) -> Result<ExitCode, String> {
    let (app, policy, peering) = connect(&args.target).await?;
    progress("observing both sides through their member roles");
    let inspection = diagnose::inspect(&app, &policy, peering)
        .await
        .map_err(|e| e.to_string())?;
    let applied = match inspection.refusal() {
        Some(_) => Vec::new(),
        None => {
            progress(&format!(
                "applying {}",
                plural_steps(inspection.plan.steps.len())
            ));
            apply_wiring(&app, &inspection.peering, &inspection.plan)
                .await
                .map_err(|e| e.to_string())?
        }
    };
    let report = PlanReport::new(&inspection, Some(&applied));
    print(&report, args.json, true)?;
    if report.refusal.is_some() || report.blocked() {
        Ok(ExitCode::from(EXIT_BROKEN))
    } else {
        Ok(ExitCode::from(EXIT_HEALTHY))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use peerwire::model::{Peering, PeeringSide, PeeringStatus, RouteTarget};
    use peerwire::plan::WiringPlan;
    use peerwire::policy::Wiring;

    use super::*;

    fn inspection(status: PeeringStatus, plan: WiringPlan) -> Inspection {
        let side = |account: &str| PeeringSide {
            account: account.to_owned(),
            vpc_id: format!("vpc-{account}"),
            region: "us-east-1".to_owned(),
            cidrs: Vec::new(),
            allow_dns_resolution_from_remote_vpc: true,
        };
        Inspection {
            peering: Peering {
                id: "pcx-12345678".to_owned(),
                status,
                status_message: None,
                requester: side("111111111111"),
                accepter: side("222222222222"),
                tags: BTreeMap::new(),
            },
            rule: Some("payments".to_owned()),
            unmatched: Vec::new(),
            covered: true,
            wiring: Wiring::default(),
            state: None,
            plan,
            accepter_network: None,
        }
    }

    fn plan() -> WiringPlan {
        WiringPlan {
            steps: vec![
                PlanStep::CreateRoute {
                    side: Side::Accepter,
                    route_table_id: "rtb-1".to_owned(),
                    destination: "10.0.0.0/16".parse().unwrap(),
                    peering_id: "pcx-12345678".to_owned(),
                },
                PlanStep::SetDnsResolution {
                    side: Side::Requester,
                    peering_id: "pcx-12345678".to_owned(),
                },
            ],
            findings: vec![Finding::RouteConflict {
                side: Side::Accepter,
                route_table_id: "rtb-2".to_owned(),
                destination: "10.0.0.0/16".parse().unwrap(),
                target: RouteTarget::TransitGateway("tgw-1".to_owned()),
                blackhole: false,
            }],
        }
    }

    #[test]
    fn the_plan_lists_every_step_with_its_call_and_account() {
        let i = inspection(PeeringStatus::Active, plan());
        let text = render(&PlanReport::new(&i, None), false);
        assert!(text.contains(
            "   1. accepter rtb-1: route 10.0.0.0/16 -> pcx-12345678  [CreateRoute in 222222222222]"
        ), "{text}");
        assert!(
            text.contains("[ModifyVpcPeeringConnectionOptions in 111111111111]"),
            "{text}"
        );
        assert!(
            text.contains("points at tgw-1; not replaced [blocks]"),
            "{text}"
        );
        assert!(text.contains("nothing was written"), "{text}");
    }

    #[test]
    fn the_json_carries_operation_side_account_and_the_step() {
        let i = inspection(PeeringStatus::Active, plan());
        let json = serde_json::to_value(PlanReport::new(&i, None)).unwrap();
        assert_eq!(json["steps"][0]["operation"], "CreateRoute");
        assert_eq!(json["steps"][0]["side"], "accepter");
        assert_eq!(json["steps"][0]["account"], "222222222222");
        assert_eq!(json["steps"][0]["detail"]["step"], "create-route");
        assert_eq!(json["findings"][0]["blocking"], true);
        assert!(json["steps"][0].get("result").is_none());
    }

    #[test]
    fn a_peering_peerwire_would_not_wire_has_no_steps() {
        let i = inspection(PeeringStatus::PendingAcceptance, plan());
        let report = PlanReport::new(&i, None);
        assert!(report.steps.is_empty());
        assert!(render(&report, false)
            .contains("does not wire this peering: peering is pending-acceptance"));
    }

    #[test]
    fn apply_shows_what_became_of_each_step() {
        let i = inspection(PeeringStatus::Active, plan());
        let applied = vec![AppliedStep {
            step: i.plan.steps[0].clone(),
            result: Applied::AlreadyInPlace,
        }];
        let text = render(&PlanReport::new(&i, Some(&applied)), true);
        assert!(text.contains("1 step applied"), "{text}");
        assert!(text.contains("-> already in place"), "{text}");
        assert!(!text.contains("nothing was written"));
    }
}
