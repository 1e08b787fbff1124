//! `peerwire approve <pcx-id>` and `peerwire deny <pcx-id> --reason …`.
//!
//! 1. Read the request now, through the accepter's member role, and the caller's identity
//!    (`sts:GetCallerIdentity`): `approved_by`/`denied_by` is the caller's ARN, and the
//!    account the event will come from is the caller's.
//! 2. Decide it twice in a dry run: as it is (why it is held), and with the answer about to be
//!    sent. Only an answer the request function would take is sent: an approval that accepts,
//!    a denial that rejects. Anything else is refused here, with the function's own reasons
//!    (not an approver by the policy, a rule that requires no approval, a CIDR conflict, CIDRs
//!    other than `--cidrs`).
//! 3. Show it and ask (`--yes` for automation).
//! 4. Put the bound event on the hub bus (`--bus` or `PEERWIRE_HUB_BUS`): source
//!    `peerwire.approval`, the requester account and CIDRs just read
//!    ([`peerwire::events::approval_event`], what the request function reads back).
//! 5. `--wait`: poll the peering through the accepter role until it leaves
//!    `pending-acceptance` (accepted: `provisioning`/`active`; denied: `rejected`). If it is
//!    still pending when the time is up, decide it once more with the answer sent and say why
//!    the request function did not take it (its CIDRs changed since, say), or that it has not
//!    acted (its rule or queue). The peering's status is AWS's own record of the outcome and
//!    needs no more access than reading the request did.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use chrono::Utc;
use ipnet::IpNet;
use peerwire::aws::observe;
use peerwire::aws::permissions::Job;
use peerwire::events::{approval_event, APPROVAL_SOURCE};
use peerwire::model::{
    cidr, AccountId, ApprovalAnswer, ApprovalDecision, Location, Peering, PeeringRef, PeeringStatus,
};
use peerwire::plan::request::{Decision, Verdict};
use peerwire::plan::Reason;
use peerwire::reconcile::Reconciled;
use peerwire::App;
use serde::Serialize;
use serde_json::Value;

use super::{decide_one, ou_path, HeldRequest};
use crate::diagnose::{find_peering, progress, Target, EXIT_BROKEN, EXIT_HEALTHY};

/// The environment variable `--bus` defaults to.
pub const HUB_BUS_ENV: &str = "PEERWIRE_HUB_BUS";

/// How often `--wait` reads the peering.
pub const POLL: Duration = Duration::from_secs(3);

/// What `approve` and `deny` share.
#[derive(Debug, Clone, clap::Args)]
pub struct AnswerArgs {
    #[command(flatten)]
    pub target: Target,
    /// The hub bus, by ARN (its region is used) or name: where approvals go. The hub stack's
    /// output `HubBusArn`.
    #[arg(long, env = HUB_BUS_ENV)]
    pub bus: String,
    /// Send without asking (automation). Without it, a terminal is needed to confirm.
    #[arg(long)]
    pub yes: bool,
    /// Send only if the request carries exactly these CIDRs (comma-separated), e.g. those a
    /// ticket approved; otherwise refuse, naming both.
    #[arg(long, value_delimiter = ',')]
    pub cidrs: Vec<String>,
    /// Wait for the outcome: poll the peering until the request function has acted.
    #[arg(long)]
    pub wait: bool,
    /// How long `--wait` waits, in seconds.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ApproveArgs {
    #[command(flatten)]
    pub answer: AnswerArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct DenyArgs {
    #[command(flatten)]
    pub answer: AnswerArgs,
    /// Why, for the requester: it becomes a reason of the `Peering Request Rejected` outcome
    /// (1 to 1024 characters).
    #[arg(long)]
    pub reason: String,
}

/// Who is answering: the caller of `sts:GetCallerIdentity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Caller {
    pub account: AccountId,
    /// Its ARN (for a role, the session's `arn:aws:sts::…:assumed-role/<role>/<session>`).
    pub arn: String,
}

impl Caller {
    /// The identity the credentials of `app` (its base configuration, the one that sends)
    /// belong to.
    pub async fn of(app: &App) -> Result<Self, String> {
        let sts = aws_sdk_sts::Client::new(app.aws.base());
        let identity = sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| format!("GetCallerIdentity: {}", aws_error(&e)))?;
        let account = identity
            .account()
            .ok_or("GetCallerIdentity returned no account")?
            .parse()
            .map_err(|e| format!("GetCallerIdentity: {e}"))?;
        let arn = identity
            .arn()
            .ok_or("GetCallerIdentity returned no ARN")?
            .to_owned();
        Ok(Self { account, arn })
    }
}

/// The hub bus `--bus` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bus {
    /// As given: `PutEvents` takes a name or an ARN.
    pub name_or_arn: String,
    /// The region of an ARN; a name is in the caller's region.
    pub region: Option<String>,
}

impl Bus {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err(format!("no hub bus: pass --bus or set {HUB_BUS_ENV}"));
        }
        if !text.starts_with("arn:") {
            return Ok(Self {
                name_or_arn: text.to_owned(),
                region: None,
            });
        }
        // arn:<partition>:events:<region>:<account>:event-bus/<name>
        let parts: Vec<&str> = text.splitn(6, ':').collect();
        match parts.as_slice() {
            [_, _, "events", region, account, resource]
                if !region.is_empty()
                    && account.len() == 12
                    && resource.starts_with("event-bus/") =>
            {
                Ok(Self {
                    name_or_arn: text.to_owned(),
                    region: Some((*region).to_owned()),
                })
            }
            _ => Err(format!(
                "--bus `{text}` is not an event bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>)"
            )),
        }
    }
}

/// One `PutEvents` entry, as the CLI sends it (and as `--json` prints it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Entry {
    pub event_bus_name: String,
    pub source: String,
    pub detail_type: String,
    /// The detail as a JSON string, as `PutEvents` takes it.
    pub detail: String,
}

impl Entry {
    /// The bound approval event for `decision`, to `bus`.
    pub fn new(bus: &Bus, decision: &ApprovalDecision) -> Self {
        let event = approval_event(decision);
        Self {
            event_bus_name: bus.name_or_arn.clone(),
            source: APPROVAL_SOURCE.to_owned(),
            detail_type: event.detail_type.to_owned(),
            detail: event.detail.to_string(),
        }
    }

    /// The detail, parsed.
    pub fn detail(&self) -> serde_json::Result<Value> {
        serde_json::from_str(&self.detail)
    }
}

/// An answer, ready to send: the request as it is, why it is held, and what the request
/// function decides with the answer.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub found: PeeringRef,
    pub peering: Peering,
    /// The request as held; `None` when the request function does not hold it (it would accept
    /// or reject it on its own).
    pub held: Option<HeldRequest>,
    /// The request function's decision as it is now.
    pub now: Decision,
    /// The answer, bound to the requester account and CIDRs just read.
    pub decision: ApprovalDecision,
    /// The request function's decision with that answer.
    pub with_answer: Decision,
}

impl Prepared {
    /// Why this answer must not be sent, if it would not be taken.
    pub fn refusal(&self) -> Option<String> {
        let takes = match self.decision.answer {
            ApprovalAnswer::Granted => {
                self.with_answer.verdict == Verdict::Accept
                    && self
                        .with_answer
                        .reasons
                        .iter()
                        .any(|r| matches!(r, Reason::Approved { .. }))
            }
            ApprovalAnswer::Denied { .. } => {
                self.with_answer.verdict == Verdict::Reject
                    && self
                        .with_answer
                        .reasons
                        .iter()
                        .any(|r| matches!(r, Reason::DeniedBy { .. }))
            }
        };
        if takes {
            return None;
        }
        let verb = match self.decision.answer {
            ApprovalAnswer::Granted => "an approval",
            ApprovalAnswer::Denied { .. } => "a denial",
        };
        let now = match self.now.verdict {
            Verdict::Hold => "holds it".to_owned(),
            other => format!("would {other} it on its own"),
        };
        Some(format!(
            "not sent: the request function {now}, and with {verb} from {} it decides `{}`: {}",
            self.decision.by,
            self.with_answer.verdict,
            self.with_answer.reason_lines().join("; ")
        ))
    }

    /// What is being answered, for the person confirming.
    pub fn render(&self, bus: &Bus) -> String {
        let mut out = String::new();
        match &self.held {
            Some(held) => out.push_str(&held.render()),
            None => out.push_str(&format!(
                "{} is not held: {}\n",
                self.peering.id,
                self.now.reason_lines().join("; ")
            )),
        }
        let (verb, why) = match &self.decision.answer {
            ApprovalAnswer::Granted => ("approve", String::new()),
            ApprovalAnswer::Denied { reason } => ("deny", format!(", reason: {reason}")),
        };
        out.push_str(&format!(
            "{verb} as {} (account {}){why}, bound to requester {} and CIDRs [{}]\n",
            self.decision.by,
            self.decision
                .sent_from
                .as_ref()
                .map_or("?", AccountId::as_str),
            self.decision.requester_account,
            cidrs_text(&self.decision.requester_cidrs),
        ));
        out.push_str(&format!(
            "with it, the request function decides `{}`: {}\nto the hub bus {}\n",
            self.with_answer.verdict,
            self.with_answer.reason_lines().join("; "),
            bus.name_or_arn
        ));
        out
    }
}

fn cidrs_text(cidrs: &[IpNet]) -> String {
    cidrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The decision in a dry-run `reconciled`; otherwise why there is nothing to answer (the
/// request is no longer pending, or peerwire leaves it alone).
fn decided(reconciled: Reconciled) -> Result<(Peering, Decision), String> {
    match reconciled {
        Reconciled::Decided(d) => Ok((d.peering, d.decision)),
        Reconciled::LeftAlone(l) => Err(format!("not sent: {}; nothing to answer", l.why)),
        other @ (Reconciled::Wired(_) | Reconciled::Cleaned(_) | Reconciled::Duplicate { .. }) => {
            Err(format!(
                "not sent: {} is not a pending request; nothing to answer",
                other.peering_id()
            ))
        }
    }
}

/// `--cidrs`, parsed; empty when not given.
pub fn expected_cidrs(texts: &[String]) -> Result<Vec<IpNet>, String> {
    texts
        .iter()
        .map(|t| cidr::parse_cidr(t.trim()).map_err(|e| format!("--cidrs `{t}`: {e}")))
        .collect()
}

/// Same CIDRs, whatever the order (as the request function compares them).
fn same_cidrs(a: &[IpNet], b: &[IpNet]) -> bool {
    let norm = |list: &[IpNet]| {
        let mut v: Vec<IpNet> = list.iter().map(IpNet::trunc).collect();
        v.sort();
        v.dedup();
        v
    };
    norm(a) == norm(b)
}

/// Reads the request at `found` now, and decides it as it is and with `answer` from `caller`.
/// `expected`: the CIDRs the answer is for (`--cidrs`); a request carrying others is refused.
/// `Err` is "no answer".
pub async fn prepare(
    app: &App,
    found: &PeeringRef,
    caller: &Caller,
    answer: ApprovalAnswer,
    expected: &[IpNet],
) -> Result<Result<Prepared, String>, String> {
    let (peering, now) = match decided(decide_one(app, found, None).await?) {
        Ok(decided) => decided,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if peering.status != PeeringStatus::PendingAcceptance {
        return Ok(Err(format!(
            "not sent: {}; only a pending request can be answered",
            peering.status_reason()
        )));
    }
    let requester = &peering.sides.requester;
    if !expected.is_empty() && !same_cidrs(expected, &requester.cidrs) {
        return Ok(Err(format!(
            "not sent: the request carries [{}], not the CIDRs given [{}]: its CIDRs changed, \
             or it is another request",
            cidrs_text(&requester.cidrs),
            cidrs_text(expected)
        )));
    }
    let decision = ApprovalDecision {
        peering: found.clone(),
        requester_account: requester.account.clone(),
        requester_cidrs: requester.cidrs.clone(),
        by: caller.arn.clone(),
        sent_from: Some(caller.account.clone()),
        at: Some(Utc::now()),
        answer,
    };
    let (_, with_answer) = match decided(decide_one(app, found, Some(decision.clone())).await?) {
        Ok(decided) => decided,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let held = if now.verdict == Verdict::Hold {
        let ous = ou_path(app, &requester.account).await?;
        Some(HeldRequest::new(&peering, &now, ous, Utc::now()))
    } else {
        None
    };
    Ok(Ok(Prepared {
        found: found.clone(),
        peering,
        held,
        now,
        decision,
        with_answer,
    }))
}

/// Puts `entry` on the bus with `events` (the caller's own credentials). The event id, or why
/// EventBridge refused it.
pub async fn put(events: &aws_sdk_eventbridge::Client, entry: &Entry) -> Result<String, String> {
    let request = PutEventsRequestEntry::builder()
        .event_bus_name(&entry.event_bus_name)
        .source(&entry.source)
        .detail_type(&entry.detail_type)
        .detail(&entry.detail)
        .build();
    let answer = events
        .put_events()
        .entries(request)
        .send()
        .await
        .map_err(|e| refused(&aws_error(&e)))?;
    let first = answer.entries().first();
    match first.and_then(|e| e.event_id()) {
        Some(id) if answer.failed_entry_count() == 0 => Ok(id.to_owned()),
        _ => {
            let code = first.and_then(|e| e.error_code()).unwrap_or("no event id");
            let message = first.and_then(|e| e.error_message()).unwrap_or_default();
            Err(refused(&format!("{code}: {message}")))
        }
    }
}

/// An EventBridge refusal, with what a denied approver needs to know.
fn refused(error: &str) -> String {
    let hint = if error.contains("AccessDenied") {
        ". The hub bus policy admits peerwire.approval events only from ApproverPrincipalArns \
         (docs/deploy.md, section 6), and your identity policy must allow events:PutEvents on \
         the hub bus"
    } else {
        ""
    };
    format!("PutEvents refused the approval: {error}{hint}")
}

/// An SDK error with its causes (the service's code and message).
fn aws_error(error: &(dyn std::error::Error + 'static)) -> String {
    aws_sdk_eventbridge::error::DisplayErrorContext(error).to_string()
}

/// The client that sends to `bus`: the caller's credentials, in the bus's region.
pub fn events_client(app: &App, bus: &Bus) -> aws_sdk_eventbridge::Client {
    let mut config = aws_sdk_eventbridge::config::Builder::from(app.aws.base());
    if let Some(region) = &bus.region {
        config = config.region(aws_sdk_eventbridge::config::Region::new(region.clone()));
    }
    aws_sdk_eventbridge::Client::from_conf(config.build())
}

/// What became of an answer sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Waited {
    /// The peering left `pending-acceptance` as the answer asked: `provisioning` or `active`
    /// after an approval, `rejected` after a denial.
    Done { status: String },
    /// It left `pending-acceptance` otherwise (deleted, expired, rejected after an approval).
    Other { status: String },
    /// Still pending when the time was up; the request function's decision with the answer,
    /// now (an approval it refuses says why).
    StillPending {
        verdict: Verdict,
        reasons: Vec<String>,
    },
}

impl Waited {
    pub fn render(&self, pcx: &str) -> String {
        match self {
            Self::Done { status } => format!("{pcx} is now {status}\n"),
            Self::Other { status } => {
                format!("{pcx} is now {status}, not what the answer asked for\n")
            }
            Self::StillPending { verdict, reasons } if *verdict == Verdict::Hold => format!(
                "{pcx} is still pending: the request function holds it with this answer: {}\n",
                reasons.join("; ")
            ),
            Self::StillPending { verdict, reasons } => format!(
                "{pcx} is still pending, though with this answer the request function would \
                 {verdict} it ({}): it has not acted yet. Check that the hub bus rule \
                 ApprovalDecided delivers to peering-request (its dead-letter queue, its logs)\n",
                reasons.join("; ")
            ),
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Done { .. } => EXIT_HEALTHY,
            Self::Other { .. } | Self::StillPending { .. } => EXIT_BROKEN,
        }
    }
}

/// Polls the peering (as its accepter sees it) every `poll` until it leaves
/// `pending-acceptance` or `timeout` passes; then, if still pending, decides it once more with
/// the answer sent. `Err` is "no answer".
pub async fn wait(
    app: &App,
    sent: &ApprovalDecision,
    timeout: Duration,
    poll: Duration,
) -> Result<Waited, String> {
    let at = Location::new(sent.peering.account.clone(), sent.peering.region.clone());
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let ec2 = app.aws.ec2(&at).await;
        let now = observe::describe_peering(&ec2, &at, &sent.peering.peering_id)
            .await
            .map_err(|e| e.to_string())?;
        let status = now
            .as_ref()
            .map_or(PeeringStatus::NotFound, |p| p.status.clone());
        let wanted = match sent.answer {
            ApprovalAnswer::Granted => {
                matches!(status, PeeringStatus::Provisioning | PeeringStatus::Active)
            }
            ApprovalAnswer::Denied { .. } => status == PeeringStatus::Rejected,
        };
        if wanted {
            return Ok(Waited::Done {
                status: status.to_string(),
            });
        }
        if status != PeeringStatus::PendingAcceptance {
            return Ok(Waited::Other {
                status: status.to_string(),
            });
        }
        if tokio::time::Instant::now() + poll > deadline {
            let reconciled = decide_one(app, &sent.peering, Some(sent.clone())).await?;
            let (_, decision) = decided(reconciled)?;
            return Ok(Waited::StillPending {
                verdict: decision.verdict,
                reasons: decision.reason_lines(),
            });
        }
        tokio::time::sleep(poll).await;
    }
}

/// Asks on the terminal; `Err` when there is none to ask on.
fn confirm(question: &str) -> Result<bool, String> {
    if !std::io::stdin().is_terminal() {
        return Err("standard input is not a terminal: pass --yes to send without asking".into());
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().map_err(|e| e.to_string())?;
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct Sent<'a> {
    sent: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refusal: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    held: Option<&'a HeldRequest>,
    entry: &'a Entry,
    #[serde(skip_serializing_if = "Option::is_none")]
    waited: Option<&'a Waited>,
}

/// `approve` and `deny`: exit 0 when sent (and, with `--wait`, taken); 1 when not sent (the
/// request function would not take it, or the person said no) or not taken in time; 2 when
/// there is no answer (usage, configuration, AWS errors, a refused `PutEvents`).
pub async fn run(args: AnswerArgs, answer: ApprovalAnswer) -> Result<ExitCode, String> {
    let bus = Bus::parse(&args.bus)?;
    let expected = expected_cidrs(&args.cidrs)?;
    if let ApprovalAnswer::Denied { reason } = &answer {
        let len = reason.trim().len();
        if len == 0 || len > 1024 {
            return Err("--reason must say why, in 1 to 1024 characters".into());
        }
    }
    args.target.check()?;
    let app = App::from_env(Job::Review)
        .await
        .map_err(|e| e.to_string())?;
    let (_, found) = find_peering(&app, &args.target).await?;
    let caller = Caller::of(&app).await?;
    progress("deciding the request as it is, and with your answer, in a dry run");
    let prepared = match prepare(&app, &found, &caller, answer, &expected).await? {
        Ok(prepared) => prepared,
        Err(refusal) => {
            eprintln!("peerwire: {refusal}");
            return Ok(ExitCode::from(EXIT_BROKEN));
        }
    };
    let entry = Entry::new(&bus, &prepared.decision);
    let print_json = |sent: Sent<'_>| -> Result<(), String> {
        let text = serde_json::to_string_pretty(&sent).map_err(|e| e.to_string())?;
        println!("{text}");
        Ok(())
    };
    if let Some(refusal) = prepared.refusal() {
        if args.json {
            print_json(Sent {
                sent: false,
                event_id: None,
                refusal: Some(&refusal),
                held: prepared.held.as_ref(),
                entry: &entry,
                waited: None,
            })?;
        } else {
            print!("{}", prepared.render(&bus));
        }
        eprintln!("peerwire: {refusal}");
        return Ok(ExitCode::from(EXIT_BROKEN));
    }
    if !args.json {
        print!("{}", prepared.render(&bus));
    }
    if !args.yes && !confirm(&format!("send this answer about {}?", found.peering_id))? {
        eprintln!("peerwire: not sent");
        return Ok(ExitCode::from(EXIT_BROKEN));
    }
    let events = events_client(&app, &bus);
    let event_id = put(&events, &entry).await.map_err(|e| e.to_string())?;
    if !args.json {
        println!(
            "sent: event {event_id} ({}) on {}",
            entry.detail_type, bus.name_or_arn
        );
    }
    let waited = if args.wait {
        progress("waiting for the request function to act");
        Some(
            wait(
                &app,
                &prepared.decision,
                Duration::from_secs(args.timeout),
                POLL,
            )
            .await?,
        )
    } else {
        None
    };
    if args.json {
        print_json(Sent {
            sent: true,
            event_id: Some(&event_id),
            refusal: None,
            held: prepared.held.as_ref(),
            entry: &entry,
            waited: waited.as_ref(),
        })?;
    } else if let Some(waited) = &waited {
        print!("{}", waited.render(found.peering_id.as_str()));
    } else {
        println!(
            "the request function decides within seconds; `--wait` waits for it, `peerwire pending` lists what is still held"
        );
    }
    Ok(ExitCode::from(
        waited.as_ref().map_or(EXIT_HEALTHY, Waited::exit_code),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bus_is_an_arn_with_its_region_or_a_name() {
        let arn =
            Bus::parse("arn:aws:events:eu-west-1:333333333333:event-bus/peerwire-hub").unwrap();
        assert_eq!(arn.region.as_deref(), Some("eu-west-1"));
        let name = Bus::parse("peerwire-hub").unwrap();
        assert_eq!(name.region, None);
        assert!(Bus::parse("").unwrap_err().contains(HUB_BUS_ENV));
        assert!(Bus::parse("arn:aws:sns:us-east-1:333333333333:topic").is_err());
    }

    #[test]
    fn cidrs_compare_as_the_request_function_compares_them() {
        let a = expected_cidrs(&["10.0.0.0/16".into(), " 10.2.0.0/16".into()]).unwrap();
        let b = expected_cidrs(&["10.2.0.0/16".into(), "10.0.0.0/16".into()]).unwrap();
        assert!(same_cidrs(&a, &b), "whatever the order");
        assert!(!same_cidrs(&a[..1], &b));
        assert!(expected_cidrs(&["10.0.0.0/33".into()]).is_err());
        let host_bits = expected_cidrs(&["10.2.0.1/16".into()]).unwrap_err();
        assert!(
            host_bits.contains("did you mean 10.2.0.0/16"),
            "{host_bits}"
        );
    }
}
