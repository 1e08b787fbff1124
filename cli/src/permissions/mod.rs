//! `peerwire check-permissions --account A --region R [--vpc V] [--json]`: before the first
//! peering, proves that the member role of account A lets peerwire do everything it does there.
//!
//! The actions are [`peerwire::aws::permissions`]'s: every function's job and diagnose's reads.
//! The role is assumed as the functions assume it (`App::from_env`, the ExternalId). Each read
//! is proven by a cheap real call (`MaxResults` small); each EC2 write by the same call with
//! `DryRun=true` against real resources of the VPC (a route table, a security group, a peering
//! of it), which AWS answers `DryRunOperation` when allowed and `UnauthorizedOperation` when
//! not, changing nothing. Where the VPC has no such resource, a well-formed id that exists
//! nowhere stands in: a `*.NotFound` answer is then "not proven" (nothing to prove it against),
//! never "denied". The Route 53 reads always aim at a stand-in zone (the role may not list the
//! account's zones): `NoSuchHostedZone` is "not proven", `AccessDenied` "denied".
//! `ModifyVpcAttribute` and the Route 53 writes have no DryRun: they are reported as not
//! provable.
//!
//! - this file: the arguments, [`check`] (the order of the probes), the report and its table;
//! - `probes.rs`: the AWS calls and what each answer proves ([`judge`]);
//! - `grants.rs`: which statement of the member role grants an action, and how to fix a denial.

use std::process::ExitCode;

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use peerwire::aws::permissions::{Action, Job};
use peerwire::error::{AwsError, AwsErrorKind};
use peerwire::model::{AccountId, IdError, Location, Region, VpcId};
use peerwire::App;
use serde::Serialize;

use crate::diagnose::{progress, EXIT_BROKEN, EXIT_HEALTHY, EXIT_UNUSABLE};

mod grants;
mod probes;
#[cfg(test)]
mod tests;

pub use grants::{granted_by, policy_of};
pub use probes::judge;
use probes::Prover;

#[derive(Debug, clap::Args)]
pub struct CheckPermissionsArgs {
    /// The member account whose role to check.
    #[arg(long)]
    pub account: String,
    /// The region to check it in.
    #[arg(long)]
    pub region: String,
    /// The VPC whose resources the DryRun writes aim at (default: the first VPC of the
    /// account, non-default ones first).
    #[arg(long)]
    pub vpc: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// [`CheckPermissionsArgs`] with its values parsed.
#[derive(Debug, Clone)]
pub struct CheckTarget {
    pub account: AccountId,
    pub region: Region,
    pub vpc: Option<VpcId>,
}

impl CheckTarget {
    /// The account and region checked.
    pub fn location(&self) -> Location {
        Location::new(self.account.clone(), self.region.clone())
    }
}

impl CheckPermissionsArgs {
    /// Refuses malformed ids before any configuration is read or call made.
    pub fn check(&self) -> Result<CheckTarget, String> {
        Ok(CheckTarget {
            account: self
                .account
                .parse()
                .map_err(|e: IdError| format!("--account {e}"))?,
            region: self
                .region
                .parse()
                .map_err(|e: IdError| format!("--region {e}"))?,
            vpc: self
                .vpc
                .as_deref()
                .map(|v| v.parse().map_err(|e: IdError| format!("--vpc {e}")))
                .transpose()?,
        })
    }
}

/// What a call showed of one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// AWS answered the read, or `DryRunOperation`.
    Allowed,
    /// Nothing was denied, and nothing proven either: no resource to try it on, no DryRun, or
    /// an answer that says neither.
    NotProven,
    /// `UnauthorizedOperation`, `AccessDenied`, `AccessDeniedException`.
    Denied,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::NotProven => "not proven",
            Self::Denied => "denied",
        }
    }
}

/// One action of the list and what proved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proof {
    /// `ec2:CreateRoute`.
    pub action: &'static str,
    pub write: bool,
    /// The functions (and `peerwire diagnose`) that need it.
    pub needed_by: Vec<&'static str>,
    pub verdict: Verdict,
    /// The calls made and what AWS answered.
    pub evidence: String,
    /// For a denied action: the statement that grants it, and what to set.
    pub fix: Option<String>,
}

/// What the DryRun writes aimed at; `None` where a stand-in id was used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Subjects {
    pub vpc_id: Option<String>,
    /// A pending (else active) peering into the VPC: accept, reject, delete.
    pub peering_into_vpc: Option<String>,
    /// An active peering of the VPC, on either side: options, route target.
    pub active_peering: Option<String>,
    /// The VPC's side of it (`accepter` or `requester`): the options it may set.
    pub active_side: Option<&'static str>,
    pub route_table: Option<String>,
    /// The destination of that table's route through the active peering, if any.
    pub route_destination: Option<String>,
    pub security_group: Option<String>,
    /// The CloudWatch Logs group of a flow log of the VPC.
    pub log_group: Option<String>,
}

/// The whole answer of `check-permissions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub account: String,
    pub region: String,
    /// Who the member role session is (`GetCallerIdentity`).
    pub identity: Option<String>,
    /// Why there is no answer (the role could not be assumed, the VPC does not exist).
    pub no_answer: Option<String>,
    pub subjects: Subjects,
    pub actions: Vec<Proof>,
}

impl Report {
    /// The actions with `verdict`.
    pub fn with(&self, verdict: Verdict) -> Vec<&'static str> {
        self.actions
            .iter()
            .filter(|p| p.verdict == verdict)
            .map(|p| p.action)
            .collect()
    }

    /// `2` without an answer, `1` when an action is denied, else `0`.
    pub fn exit_code(&self) -> u8 {
        if self.no_answer.is_some() {
            EXIT_UNUSABLE
        } else if self.with(Verdict::Denied).is_empty() {
            EXIT_HEALTHY
        } else {
            EXIT_BROKEN
        }
    }
}

/// Every action of [`Job::All`] once, in its order (an action two jobs share, such as
/// `route53:ChangeTagsForResource` of wiring and cleanup, is listed by both).
pub fn actions() -> Vec<Action> {
    let mut once: Vec<Action> = Vec::new();
    for action in Job::All.actions() {
        if !once.iter().any(|a| a.name == action.name) {
            once.push(action);
        }
    }
    once
}

/// Runs `peerwire check-permissions`. `Err` is "no answer" (exit 2).
pub async fn run(args: CheckPermissionsArgs) -> Result<ExitCode, String> {
    let target = args.check()?;
    let app = App::from_env(Job::All).await.map_err(|e| e.to_string())?;
    progress(&format!(
        "assuming the member role of {} and proving {} actions in {}",
        target.account,
        actions().len(),
        target.region
    ));
    let report = check(&app, &target).await;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else if let Some(why) = &report.no_answer {
        return Err(why.clone());
    } else {
        print!("{}", render(&report));
    }
    Ok(ExitCode::from(report.exit_code()))
}

/// Assumes the member role of `target.account` and proves every action of
/// [`Job::All`]. Never fails: what cannot be answered is the report's `no_answer`.
pub async fn check(app: &App, target: &CheckTarget) -> Report {
    let (account, region) = (target.account.as_str(), target.region.as_str());
    let mut report = Report {
        account: account.to_owned(),
        region: region.to_owned(),
        identity: None,
        no_answer: None,
        subjects: Subjects::default(),
        actions: Vec::new(),
    };
    let config = app
        .aws
        .role_config(&target.account)
        .await
        .to_builder()
        .region(aws_sdk_sts::config::Region::new(region.to_owned()))
        .build();
    // Needs no permission: it fails only when the role cannot be assumed.
    match aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
    {
        Ok(me) => report.identity = me.arn().map(str::to_owned),
        Err(err) => {
            // STS's own words, from the credentials error behind the call's.
            let said = std::iter::successors(Some(&err as &dyn std::error::Error), |e| e.source())
                .find_map(|e| e.downcast_ref::<AssumeRoleError>())
                .and_then(|e| e.message().map(str::to_owned));
            let err = peerwire::aws::error::from_sdk("AssumeRole", err);
            report.no_answer = Some(cannot_assume(account, &err, said));
            return report;
        }
    }
    let mut prover = Prover::default();
    let ec2 = app.aws.ec2(&target.location()).await;
    // Boxed: the SDK futures are large, and callers (the demo) run on a test thread's stack.
    let subjects = match Box::pin(probes::read_network(&mut prover, &ec2, target)).await {
        Ok(subjects) => subjects,
        Err(why) => {
            report.no_answer = Some(why);
            return report;
        }
    };
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    Box::pin(probes::read_the_rest(
        &mut prover,
        app,
        &logs,
        target,
        &subjects,
    ))
    .await;
    Box::pin(probes::read_zones(&mut prover, app, target)).await;
    Box::pin(probes::dry_run_writes(&mut prover, &ec2, &subjects)).await;
    probes::note_unprovable(&mut prover);
    let partition = report
        .identity
        .as_deref()
        .and_then(|arn| arn.split(':').nth(1))
        .unwrap_or("aws")
        .to_owned();
    let vpc_arn = format!(
        "arn:{partition}:ec2:{region}:{account}:vpc/{}",
        subjects.vpc_id.as_deref().unwrap_or("<vpc-id>")
    );
    report.actions = prover.proofs(&partition, &vpc_arn);
    report.subjects = subjects;
    report
}

/// The answer when the member role cannot be assumed.
fn cannot_assume(account: &str, err: &AwsError, said: Option<String>) -> String {
    if err.kind == AwsErrorKind::AccessDenied {
        format!(
            "no answer: AssumeRole into the member role of {account} was denied: the role's trust \
             policy does not admit this caller, or the ExternalId is wrong (PEERWIRE_EXTERNAL_ID \
             must equal the member stack's ExternalId; the caller must be a hub role under \
             HubRolePath, or one of HubRoleArns, in HubAccountId, and of OrgId when set). STS \
             said: {}",
            said.as_deref().unwrap_or("AccessDenied")
        )
    } else {
        format!("no answer: the member role of {account} could not be assumed: {err}")
    }
}

const ACTION_WIDTH: usize = 42;
const VERDICT_WIDTH: usize = 12;

/// The table for people: one row per action, the fix under each denied one, and a verdict.
pub fn render(report: &Report) -> String {
    let mut out = format!("member role of {} in {}", report.account, report.region);
    if let Some(identity) = &report.identity {
        out.push_str(&format!(", acting as {identity}"));
    }
    out.push('\n');
    if let Some(why) = &report.no_answer {
        out.push_str(&format!("{why}\n"));
        return out;
    }
    let s = &report.subjects;
    let name = |id: &Option<String>| id.as_deref().unwrap_or("none").to_owned();
    out.push_str(&format!(
        "  DryRun writes aim at VPC {}: route table {}, security group {}, peering into it {}, \
         active peering {}\n",
        name(&s.vpc_id),
        name(&s.route_table),
        name(&s.security_group),
        name(&s.peering_into_vpc),
        name(&s.active_peering)
    ));
    out.push_str(&format!(
        "\n{:<ACTION_WIDTH$}{:<VERDICT_WIDTH$}EVIDENCE / FIX\n",
        "ACTION", "RESULT"
    ));
    let indent = " ".repeat(ACTION_WIDTH + VERDICT_WIDTH);
    for proof in &report.actions {
        out.push_str(&format!(
            "{:<ACTION_WIDTH$}{:<VERDICT_WIDTH$}{}\n",
            proof.action,
            proof.verdict.as_str(),
            proof.evidence
        ));
        if let Some(fix) = &proof.fix {
            out.push_str(&format!(
                "{indent}fix: {fix} (needed by {})\n",
                proof.needed_by.join(", ")
            ));
        }
    }
    let denied = report.with(Verdict::Denied);
    let not_proven = report.with(Verdict::NotProven);
    out.push_str(&format!(
        "\n{} actions: {} allowed, {} denied, {} not proven\n",
        report.actions.len(),
        report.with(Verdict::Allowed).len(),
        denied.len(),
        not_proven.len()
    ));
    if denied.is_empty() {
        out.push_str("nothing denied\n");
    } else {
        out.push_str(&format!("denied: {}\n", denied.join(", ")));
    }
    out
}
