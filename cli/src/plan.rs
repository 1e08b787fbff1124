//! `peerwire plan <pcx-id>` and `peerwire apply <pcx-id>`: the reconciler, by hand. Both are
//! exactly the functions' run on that one peering, with every phase allowed (decide a pending
//! request, wire an active peering, clean a gone one): `plan` in a dry run (observe and plan,
//! no write, no outcome), `apply` for real, its outcome published like a function's. A peering
//! AWS no longer shows (it forgets gone ones after about two hours) is cleaned as the cleanup
//! sweep cleans orphans: what it left in every place the policy manages.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use peerwire::model::{Location, Peering, PeeringId, PeeringRef, Side};
use peerwire::outcome::OutcomeKind;
use peerwire::plan::{Finding, PlanStep};
use peerwire::reconcile::{AppliedStep, Mode, Phases, Reconciled, Run, StepResult, Target};
use peerwire::App;
use serde::Serialize;

use crate::diagnose::{
    look_up, progress, Lookup, Target as PeeringTarget, EXIT_BROKEN, EXIT_HEALTHY,
};

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub target: PeeringTarget,
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
    /// `apply` only: what became of the step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<&'a StepResult>,
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
    /// The accept decision's reasons, for a pending request.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub decision: Vec<String>,
    /// Why peerwire leaves this peering alone; then there are no steps.
    pub refusal: Option<&'a str>,
    /// In the order `apply` executes them.
    pub steps: Vec<StepReport<'a>>,
    pub findings: Vec<FindingReport<'a>>,
}

impl<'a> PlanReport<'a> {
    /// What the reconciler planned for one peering; after `apply`, what became of each step.
    pub fn new(reconciled: &'a Reconciled) -> Self {
        let peering = reconciled.peering();
        let account =
            move |side: Side| peering.map_or("", |p: &Peering| p.sides[side].account.as_str());
        let step_report = |step: &'a PlanStep, result: Option<&'a StepResult>| StepReport {
            operation: step.operation(),
            side: step.side,
            account: account(step.side),
            description: step.to_string(),
            detail: step,
            result,
        };
        let planned: &'a [PlanStep] = reconciled.plan().map_or(&[], |p| p.steps.as_slice());
        let steps = if reconciled.applied().is_empty() {
            planned.iter().map(|s| step_report(s, None)).collect()
        } else {
            reconciled
                .applied()
                .iter()
                .map(|a: &'a AppliedStep| step_report(&a.step, Some(&a.result)))
                .collect()
        };
        Self {
            peering_id: reconciled.peering_id().as_str(),
            status: peering.map_or("not-found", |p| p.status.code()),
            rule: reconciled.rule(),
            decision: reconciled
                .decision()
                .map(|d| d.reason_lines())
                .unwrap_or_default(),
            refusal: reconciled.left_alone(),
            steps,
            findings: reconciled
                .plan()
                .map_or(&[][..], |p| p.findings.as_slice())
                .iter()
                .map(|f| FindingReport {
                    description: f.to_string(),
                    blocking: f.is_blocking(),
                    detail: f,
                })
                .collect(),
        }
    }

    pub fn blocked(&self) -> bool {
        self.findings.iter().any(|f| f.blocking)
    }

    pub fn failed(&self) -> bool {
        self.steps
            .iter()
            .any(|s| s.result.is_some_and(StepResult::is_failure))
    }
}

fn result_text(result: &StepResult) -> String {
    match result {
        StepResult::Done => "done".to_owned(),
        StepResult::AlreadyInPlace => "already in place".to_owned(),
        StepResult::Vanished { code } => format!("skipped, {code}: the next run re-observes"),
        StepResult::Failed { error } => format!("failed: {error}"),
        StepResult::NotAttempted { after } => {
            format!("not attempted: it waits for \"{after}\", which did not go through")
        }
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
    if let Some(refusal) = report.refusal {
        out.push_str(&format!("peerwire leaves this peering alone: {refusal}\n"));
        return out;
    }
    if !report.decision.is_empty() {
        out.push_str(&format!("decision: {}\n", report.decision.join("; ")));
    }
    if report.steps.is_empty() {
        out.push_str("nothing to change: the peering is in sync\n");
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

/// The CLI's run: every phase, as the functions would run them.
pub const CLI: Mode = Mode::new(Phases::ALL, OutcomeKind::Wired);

/// One run of the reconciler on `found` (where the CLI found the peering): the plan in a dry
/// run, or the applied plan with its outcome published. `Err` is "no answer".
pub async fn reconcile(app: &App, found: PeeringRef, dry_run: bool) -> Result<Reconciled, String> {
    let mode = Mode { dry_run, ..CLI };
    let run = Run::start(app, "cli", &correlation_id(), mode)
        .await
        .map_err(|e| e.to_string())?;
    let id = found.peering_id.clone();
    let mut log = run
        .handle(&Target::Peering(found))
        .await
        .map_err(|e| e.to_string())?;
    match log.reconciled.pop() {
        Some(reconciled) => Ok(reconciled),
        None => Err(match log.outcomes.first() {
            Some(failed) => failed.reasons.join("; "),
            None => format!("{id}: outside the policy's accepters; nothing to plan"),
        }),
    }
}

/// A peering AWS no longer shows to any account looked in: what it left in every place the
/// policy manages, cleaned as the cleanup sweep cleans orphans (planned only, in a dry run).
/// One result per place it left something in; `Err` when it left nothing (or the run failed).
pub async fn reconcile_forgotten(
    app: &App,
    peering_id: &PeeringId,
    dry_run: bool,
) -> Result<Vec<(Location, Reconciled)>, String> {
    let mode = Mode { dry_run, ..CLI };
    let run = Run::start(app, "cli", &correlation_id(), mode)
        .await
        .map_err(|e| e.to_string())?;
    let cleaned = run
        .clean_forgotten(peering_id)
        .await
        .map_err(|e| e.to_string())?;
    if cleaned.is_empty() {
        return Err(format!(
            "{peering_id}: AWS does not show it, and it left nothing in the accounts and regions \
             the policy manages"
        ));
    }
    Ok(cleaned)
}

/// What `plan --json` and `apply --json` print for a forgotten peering: one plan per place.
#[derive(Debug, Serialize)]
struct PlaceReport<'a> {
    account: &'a str,
    region: &'a str,
    #[serde(flatten)]
    report: PlanReport<'a>,
}

/// The plans (or what apply did) of a forgotten peering, place by place; whether any was
/// blocked or failed.
fn print_forgotten(
    cleaned: &[(Location, Reconciled)],
    json: bool,
    applying: bool,
) -> Result<bool, String> {
    let reports: Vec<PlaceReport<'_>> = cleaned
        .iter()
        .map(|(at, reconciled)| PlaceReport {
            account: at.account.as_str(),
            region: at.region.as_str(),
            report: PlanReport::new(reconciled),
        })
        .collect();
    if json {
        let text = serde_json::to_string_pretty(&reports).map_err(|e| e.to_string())?;
        println!("{text}");
    } else {
        for place in &reports {
            println!(
                "in {}/{} (AWS no longer shows the peering):",
                place.account, place.region
            );
            print!("{}", render(&place.report, applying));
        }
    }
    Ok(reports
        .iter()
        .any(|p| p.report.blocked() || p.report.failed()))
}

/// `peerwire plan`: observe and plan; reads only. Exit 0 whatever the plan holds.
pub async fn plan(args: PlanArgs) -> Result<ExitCode, String> {
    let lookup = look_up(&args.target).await?;
    match &lookup.found {
        Some((_, found)) => {
            progress("observing both sides through their member roles");
            let reconciled = reconcile(&lookup.app, found.clone(), true).await?;
            print(&PlanReport::new(&reconciled), args.json, false)?;
        }
        None => {
            progress(&forgotten_line(&lookup));
            let cleaned = reconcile_forgotten(&lookup.app, &lookup.peering_id, true).await?;
            print_forgotten(&cleaned, args.json, false)?;
        }
    }
    Ok(ExitCode::from(EXIT_HEALTHY))
}

/// `peerwire apply`: observe, plan, apply, publish the outcome. Exit 1 when peerwire leaves
/// the peering alone, a finding blocks the wiring or a step failed; an AWS error that stops
/// the run is exit 2 (re-running applies what is left). A peering AWS no longer shows has
/// what it left cleaned in every place the policy manages.
pub async fn apply(args: PlanArgs) -> Result<ExitCode, String> {
    let lookup = look_up(&args.target).await?;
    let broken = match &lookup.found {
        Some((_, found)) => {
            progress("observing, planning and applying through both member roles");
            let reconciled = reconcile(&lookup.app, found.clone(), false).await?;
            let report = PlanReport::new(&reconciled);
            print(&report, args.json, true)?;
            report.refusal.is_some() || report.blocked() || report.failed()
        }
        None => {
            progress(&forgotten_line(&lookup));
            let cleaned = reconcile_forgotten(&lookup.app, &lookup.peering_id, false).await?;
            print_forgotten(&cleaned, args.json, true)?
        }
    };
    Ok(ExitCode::from(if broken {
        EXIT_BROKEN
    } else {
        EXIT_HEALTHY
    }))
}

fn forgotten_line(lookup: &Lookup) -> String {
    format!(
        "{} not shown in {}: looking for what it left in every account and region the policy manages",
        lookup.peering_id, lookup.tried
    )
}

fn correlation_id() -> String {
    format!(
        "cli-{}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use peerwire::model::{PeeringStatus, RouteTarget};
    use peerwire::plan::{Ec2Action, Plan};
    use peerwire::reconcile::{LeftAlone, Wired};
    use peerwire::testing::{id, peering};

    use super::*;

    fn the_peering(status: PeeringStatus) -> peerwire::model::Peering {
        let mut p = peering("111111111111", &["10.0.0.0/16"]);
        p.id = id("pcx-12345678");
        p.status = status;
        p
    }

    fn wired(applied: Vec<AppliedStep>) -> Reconciled {
        Reconciled::Wired(Box::new(Wired {
            peering: the_peering(PeeringStatus::Active),
            rule: "payments".to_owned(),
            plan: plan(),
            applied,
            outcome: None,
            state: None,
        }))
    }

    fn plan() -> Plan {
        Plan {
            steps: vec![
                PlanStep::ec2(
                    Side::Accepter,
                    Ec2Action::CreateRoute {
                        route_table_id: id("rtb-11111111"),
                        destination: "10.0.0.0/16".parse().unwrap(),
                        peering_id: id("pcx-12345678"),
                    },
                ),
                PlanStep::ec2(
                    Side::Requester,
                    Ec2Action::SetDnsResolution {
                        peering_id: id("pcx-12345678"),
                    },
                ),
            ],
            findings: vec![Finding::RouteConflict {
                side: Side::Accepter,
                route_table_id: id("rtb-22222222"),
                destination: "10.0.0.0/16".parse().unwrap(),
                target: RouteTarget::TransitGateway(id("tgw-1")),
                blackhole: false,
                propagated: false,
            }],
        }
    }

    #[test]
    fn the_plan_lists_every_step_with_its_call_and_account() {
        let r = wired(Vec::new());
        let text = render(&PlanReport::new(&r), false);
        assert!(text.contains(
            "   1. accepter rtb-11111111: route 10.0.0.0/16 -> pcx-12345678  [CreateRoute in 222222222222]"
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
        let r = wired(Vec::new());
        let json = serde_json::to_value(PlanReport::new(&r)).unwrap();
        assert_eq!(json["steps"][0]["operation"], "CreateRoute");
        assert_eq!(json["steps"][0]["side"], "accepter");
        assert_eq!(json["steps"][0]["account"], "222222222222");
        assert_eq!(json["steps"][0]["detail"]["step"], "create-route");
        assert_eq!(json["findings"][0]["blocking"], true);
        assert!(json["steps"][0].get("result").is_none());
    }

    #[test]
    fn a_peering_peerwire_leaves_alone_says_why() {
        let r = Reconciled::LeftAlone(Box::new(LeftAlone {
            peering_id: id("pcx-12345678"),
            peering: Some(the_peering(PeeringStatus::Deleting)),
            why: "peering is deleting".to_owned(),
            rule: None,
            outcome: None,
        }));
        let text = render(&PlanReport::new(&r), false);
        assert!(
            text.contains("leaves this peering alone: peering is deleting"),
            "{text}"
        );
    }

    #[test]
    fn apply_shows_what_became_of_each_step() {
        let r = wired(vec![AppliedStep {
            step: plan().steps[0].clone(),
            result: StepResult::AlreadyInPlace,
        }]);
        let text = render(&PlanReport::new(&r), true);
        assert!(text.contains("1 step applied"), "{text}");
        assert!(text.contains("-> already in place"), "{text}");
        assert!(!text.contains("nothing was written"));
    }
}
