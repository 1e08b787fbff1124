//! The fleet as `peerwire status` reports it: one row per peering, its health, what is missing
//! and the next command, made from what the reconciler's dry-run survey planned. Pure: the
//! table, the JSON and the page all render this one value (`--json` is its serialization,
//! described by `docs/schemas/status.schema.json`).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use peerwire::model::{Location, Peering, PeeringSide, PeeringStatus, Side};
use peerwire::plan::request::Verdict;
use peerwire::plan::{Finding, Plan, PlanStep, Reason};
use peerwire::reconcile::{Failure, Orphan, Reconciled, Survey};
use serde::Serialize;

use super::missing::missing;

/// Version of the `--json` document. Adding a field keeps it; renaming or removing one, or
/// changing what it means, bumps it (and the schema's `const`).
pub const SCHEMA_VERSION: u32 = 1;

/// How a peering stands, most urgent first (the order rows and counts are shown in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// The plan is not empty: peerwire would change something (`peerwire apply` does it now).
    Broken,
    /// A conflict or a quota finding stops the wiring, or the rule cannot be verified; no
    /// apply fixes it, a person must.
    Blocked,
    /// A gone peering's routes or marked rules remain.
    Leftover,
    /// A request waiting for an approval, which AWS expires 7 days after it was made.
    Held,
    /// No rule governs it, or its accepter VPC is outside the policy's accepters.
    Unmanaged,
    /// Active and converged: the plan is empty.
    Healthy,
}

impl Health {
    /// Every health, most urgent first.
    pub const ALL: [Self; 6] = [
        Self::Broken,
        Self::Blocked,
        Self::Leftover,
        Self::Held,
        Self::Unmanaged,
        Self::Healthy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Broken => "broken",
            Self::Blocked => "blocked",
            Self::Leftover => "leftover",
            Self::Held => "held",
            Self::Unmanaged => "unmanaged",
            Self::Healthy => "healthy",
        }
    }

    /// Makes the exit code 1: someone should act.
    pub fn needs_action(self) -> bool {
        match self {
            Self::Broken | Self::Blocked | Self::Leftover => true,
            Self::Held | Self::Unmanaged | Self::Healthy => false,
        }
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One side of a peering as its row shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SideView {
    pub account: String,
    pub vpc_id: String,
    pub region: String,
    pub cidrs: Vec<IpNet>,
}

impl From<&PeeringSide> for SideView {
    fn from(side: &PeeringSide) -> Self {
        Self {
            account: side.account.to_string(),
            vpc_id: side.vpc_id.to_string(),
            region: side.region.to_string(),
            cidrs: side.cidrs.clone(),
        }
    }
}

/// Where a forgotten peering's leftovers were found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    pub account: String,
    pub region: String,
    /// The side that account was on, as the policy says.
    pub side: Side,
}

/// One thing peerwire would put right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Missing {
    /// Whose member role would make the change.
    pub side: Side,
    pub account: String,
    /// The AWS call that puts it right, e.g. `CreateRoute`.
    pub operation: &'static str,
    /// e.g. `route 10.2.0.0/16 missing in rtb-0abc…`.
    pub what: String,
}

/// One peering of the fleet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub peering_id: String,
    pub health: Health,
    /// The AWS status code; `not-found` for a peering AWS no longer shows.
    pub status: String,
    /// `None` for a peering AWS no longer shows.
    pub requester: Option<SideView>,
    pub accepter: Option<SideView>,
    /// Where a forgotten peering's leftovers are, one place per account and region; empty for
    /// a peering AWS shows.
    pub found_in: Vec<Place>,
    /// The policy rule that governs the peering.
    pub rule: Option<String>,
    /// Why it is blocked, held, unmanaged or left over, and what is reported without a change
    /// (findings).
    pub reasons: Vec<String>,
    /// What peerwire would put right: what is missing, or what is left of a gone peering.
    pub missing: Vec<Missing>,
    /// When AWS expires a pending request.
    pub expires_at: Option<DateTime<Utc>>,
    /// What to run next; `None` when healthy, or when only a person can act on what is left
    /// (a route peerwire cannot prove is its own).
    pub next: Option<String>,
}

impl Row {
    /// The account the row is filed under: the requester's, or the first where leftovers were
    /// found.
    pub fn account(&self) -> &str {
        match (&self.requester, self.found_in.first()) {
            (Some(side), _) => &side.account,
            (None, Some(place)) => &place.account,
            (None, None) => "",
        }
    }
}

/// What could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadError {
    pub peering_id: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub error: String,
    pub transient: bool,
}

impl ReadError {
    /// Where it happened: the peering, account and region known, space-separated.
    pub fn place(&self) -> String {
        [
            self.peering_id.as_deref(),
            self.account.as_deref(),
            self.region.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
    }

    /// What a person should do about it, as a suffix.
    pub fn retry_hint(&self) -> &'static str {
        if self.transient {
            " (transient: run it again)"
        } else {
            ""
        }
    }
}

/// A place the survey listed peerings in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scope {
    pub account: String,
    pub region: String,
}

/// The whole answer: what `--json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fleet {
    pub schema_version: u32,
    pub generated_at: DateTime<Utc>,
    /// The policy's accepter accounts and regions whose peerings were listed.
    pub scope: Vec<Scope>,
    /// Peerings per health; every health is present.
    pub counts: BTreeMap<Health, usize>,
    /// Most urgent first, then by account and peering id.
    pub peerings: Vec<Row>,
    /// Gone peerings (deleted, rejected, failed, expired) with nothing left: not listed.
    pub gone: usize,
    /// What could not be read; the rows are then not the whole fleet.
    pub errors: Vec<ReadError>,
}

impl Fleet {
    /// The fleet a survey found, as of `now`.
    pub fn new(survey: &Survey, scope: Vec<Scope>, now: DateTime<Utc>) -> Self {
        let mut peerings = Vec::new();
        let mut gone = 0;
        for reconciled in &survey.reconciled {
            match row(reconciled) {
                Some(row) => peerings.push(row),
                None => gone += 1,
            }
        }
        peerings.extend(orphan_rows(&survey.orphans));
        Self::of_rows(
            peerings,
            gone,
            survey.failures.iter().map(read_error).collect(),
            scope,
            now,
        )
    }

    /// A fleet of `rows` (sorted here), with the counts they make.
    pub fn of_rows(
        mut peerings: Vec<Row>,
        gone: usize,
        errors: Vec<ReadError>,
        scope: Vec<Scope>,
        now: DateTime<Utc>,
    ) -> Self {
        peerings.sort_by(|a, b| {
            (a.health, a.account(), &a.peering_id).cmp(&(b.health, b.account(), &b.peering_id))
        });
        let mut counts: BTreeMap<Health, usize> = Health::ALL.iter().map(|h| (*h, 0)).collect();
        for row in &peerings {
            *counts.entry(row.health).or_default() += 1;
        }
        Self {
            schema_version: SCHEMA_VERSION,
            generated_at: now,
            scope,
            counts,
            peerings,
            gone,
            errors,
        }
    }

    /// How many peerings have `health`.
    pub fn count(&self, health: Health) -> usize {
        self.counts.get(&health).copied().unwrap_or(0)
    }

    /// The counts, e.g. `1 broken, 0 blocked, 0 leftover, 0 held, 0 unmanaged, 3 healthy`.
    pub fn summary(&self) -> String {
        Health::ALL
            .iter()
            .map(|h| format!("{} {h}", self.count(*h)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Something is broken, blocked or left over.
    pub fn needs_action(&self) -> bool {
        self.peerings.iter().any(|r| r.health.needs_action())
    }
}

/// A peering's row, or `None` for a gone peering with nothing left.
fn row(reconciled: &Reconciled) -> Option<Row> {
    let peering = reconciled.peering();
    let plan = reconciled.plan();
    let mut row = Row {
        peering_id: reconciled.peering_id().to_string(),
        health: Health::Healthy,
        status: peering.map_or_else(
            || PeeringStatus::NotFound.code().to_owned(),
            |p| p.status.code().to_owned(),
        ),
        requester: peering.map(|p| SideView::from(&p.sides.requester)),
        accepter: peering.map(|p| SideView::from(&p.sides.accepter)),
        found_in: Vec::new(),
        rule: reconciled.rule().map(str::to_owned),
        reasons: Vec::new(),
        missing: plan.map_or_else(Vec::new, |plan| steps(plan, |side| account(peering, side))),
        expires_at: None,
        next: None,
    };
    let (health, reasons) = match reconciled {
        Reconciled::Decided(decided) => {
            row.expires_at = decided.peering.expires_at;
            (
                request_health(
                    decided.decision.verdict,
                    &decided.decision.reasons,
                    decided.decision.rule.is_some(),
                ),
                decided.decision.reason_lines(),
            )
        }
        Reconciled::Wired(wired) => (plan_health(&wired.plan), findings(&wired.plan)),
        Reconciled::Cleaned(cleaned) => {
            if !leaves_something(&cleaned.plan) {
                return None;
            }
            (Health::Leftover, findings(&cleaned.plan))
        }
        Reconciled::LeftAlone(left) => {
            let health = match &left.peering {
                // Nothing AWS still has to show for long: the requester must ask again.
                Some(p) if p.status == PeeringStatus::Expired => return None,
                // Marked by peerwire and deleted by the next run that sees it active.
                Some(p) if p.rollback_pending().is_some() => Health::Broken,
                // A rule would match but cannot be checked (the requester's role, an OU).
                _ if left.rule.is_some() => Health::Blocked,
                _ => Health::Unmanaged,
            };
            (health, vec![left.why.clone()])
        }
        // Another invocation is applying the plan right now: still missing until it has.
        Reconciled::Duplicate { plan, .. } => (plan_health(plan), findings(plan)),
    };
    row.health = health;
    row.reasons = reasons;
    row.next = next(&row);
    Some(row)
}

/// A pending request: the decision a run would make now.
fn request_health(verdict: Verdict, reasons: &[Reason], ruled: bool) -> Health {
    let conflict = reasons.iter().any(|r| match r {
        Reason::Overlap(_) | Reason::RequesterRouteConflict { .. } => true,
        Reason::NotPending { .. }
        | Reason::NotInAccepters { .. }
        | Reason::WrongAccepterNetwork { .. }
        | Reason::Rule(_)
        | Reason::Shadowed { .. }
        | Reason::Matched { .. }
        | Reason::Approved { .. }
        | Reason::ApprovalRequired { .. }
        | Reason::DeniedBy { .. }
        | Reason::ApprovalRefused { .. } => false,
    });
    let awaits_approval = reasons
        .iter()
        .any(|r| matches!(r, Reason::ApprovalRequired { .. }));
    match verdict {
        // Accepted by the next run: not done yet.
        Verdict::Accept => Health::Broken,
        // No rule: `unmatched: hold` or `reject`; an approval would not change it.
        Verdict::Hold | Verdict::Reject | Verdict::Skip if !ruled => Health::Unmanaged,
        Verdict::Hold | Verdict::Reject if conflict => Health::Blocked,
        Verdict::Hold if awaits_approval => Health::Held,
        // A rule matches but cannot be checked (`Hold`), or an approver denied the request
        // (`Reject`): no run will wire it as it stands.
        Verdict::Hold | Verdict::Reject => Health::Blocked,
        Verdict::Skip => Health::Unmanaged,
    }
}

/// An active peering's wiring plan.
fn plan_health(plan: &Plan) -> Health {
    if plan.is_blocked() {
        Health::Blocked
    } else if plan.steps.is_empty() {
        Health::Healthy
    } else {
        Health::Broken
    }
}

/// Whether a gone peering's cleanup plan says something of it remains.
fn leaves_something(plan: &Plan) -> bool {
    !plan.steps.is_empty() || plan.findings.iter().any(remains)
}

/// A cleanup finding that names something of the gone peering still there.
fn remains(finding: &Finding) -> bool {
    match finding {
        Finding::StaleGroupReference { .. }
        | Finding::UnprovenRoute { .. }
        | Finding::ZoneKept { .. }
        | Finding::SideUnreachable { .. } => true,
        // Kept on purpose: a live peering of the same VPCs needs them.
        Finding::RulesKept { .. }
        | Finding::RouteConflict { .. }
        | Finding::RouteShadowed { .. }
        | Finding::DnsAttributeOff { .. }
        | Finding::NothingSelected { .. }
        | Finding::QuotaExceeded { .. }
        | Finding::ZoneNotAssociable { .. } => false,
    }
}

/// The plan's findings, blocking ones first.
fn findings(plan: &Plan) -> Vec<String> {
    let mut ordered: Vec<&Finding> = plan.findings.iter().collect();
    ordered.sort_by_key(|f| !f.is_blocking());
    ordered.iter().map(ToString::to_string).collect()
}

fn steps(plan: &Plan, account: impl Fn(Side) -> String) -> Vec<Missing> {
    plan.steps
        .iter()
        .map(|step: &PlanStep| Missing {
            side: step.side,
            account: account(step.side),
            operation: step.operation(),
            what: missing(step),
        })
        .collect()
}

fn account(peering: Option<&Peering>, side: Side) -> String {
    peering.map_or_else(String::new, |p| p.sides[side].account.to_string())
}

/// What a person runs next, by health.
fn next(row: &Row) -> Option<String> {
    let id = &row.peering_id;
    match row.health {
        Health::Healthy => None,
        Health::Broken => Some(format!("peerwire apply {id}")),
        Health::Held => Some(format!("peerwire approve {id}")),
        Health::Blocked | Health::Unmanaged => Some(format!("peerwire diagnose {id}")),
        // Only a step peerwire would take helps; a finding alone is for a person.
        Health::Leftover if row.missing.is_empty() => None,
        // For a peering AWS no longer shows too: apply then cleans what it left everywhere.
        Health::Leftover => Some(format!("peerwire apply {id}")),
    }
}

/// One row per forgotten peering, whatever the number of places its leftovers are in.
fn orphan_rows(orphans: &[Orphan]) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    for orphan in orphans {
        let Location { account, region } = &orphan.location;
        let id = orphan.peering_id.to_string();
        let at = match rows.iter().position(|r| r.peering_id == id) {
            Some(at) => at,
            None => {
                rows.push(Row {
                    peering_id: id,
                    health: Health::Leftover,
                    status: PeeringStatus::NotFound.code().to_owned(),
                    requester: None,
                    accepter: None,
                    found_in: Vec::new(),
                    rule: None,
                    reasons: Vec::new(),
                    missing: Vec::new(),
                    expires_at: None,
                    next: None,
                });
                rows.len() - 1
            }
        };
        let row = &mut rows[at];
        row.found_in.push(Place {
            account: account.to_string(),
            region: region.to_string(),
            side: orphan.side,
        });
        row.reasons.extend(findings(&orphan.plan));
        row.missing
            .extend(steps(&orphan.plan, |_| account.to_string()));
    }
    for row in &mut rows {
        row.next = next(row);
    }
    rows
}

fn read_error(failure: &Failure) -> ReadError {
    ReadError {
        peering_id: failure.peering_id.as_ref().map(ToString::to_string),
        account: failure.location.as_ref().map(|l| l.account.to_string()),
        region: failure.location.as_ref().map(|l| l.region.to_string()),
        error: failure.error.clone(),
        transient: failure.transient,
    }
}

/// `1 gone peering`, `2 gone peerings`.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `6d 23h`, `3h 5m`, `12m`, or `expired`: the time from `now` to `then`.
pub fn time_left(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let minutes = (then - now).num_minutes();
    if minutes <= 0 {
        return "expired".to_owned();
    }
    let (days, hours, minutes) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{minutes}m"),
        (0, _) => format!("{hours}h {minutes}m"),
        _ => format!("{days}d {hours}h"),
    }
}
