//! `peerwire pending`, `approve` and `deny`: approvals a person (or a workflow) can give.
//!
//! Nothing here decides. Every verdict, reason and rule shown is the request function's own:
//! the reconciler's decide phase in a dry run (`Mode { dry_run: true }`, [`Phases::DECIDE`]),
//! through the accepter's member role, with the member roles assumed for
//! [`peerwire::aws::permissions::Job::Review`] (reads only). `approve` and `deny` run it once
//! as the request is, and once with the answer they are about to send, so they send only an
//! answer that the request function would take.
//!
//! - [`pending`]: the held requests, as the accepters see them.
//! - [`send`]: the bound approval event, put on the hub bus, and the wait for its outcome.

pub mod pending;
pub mod send;

use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use peerwire::model::{AccountId, ApprovalDecision, Peering, PeeringRef};
use peerwire::outcome::OutcomeKind;
use peerwire::plan::request::{Decision, Verdict};
use peerwire::plan::Reason;
use peerwire::policy::Membership;
use peerwire::reconcile::{Mode, Phases, Reconciled, Run, RunLog, Target};
use peerwire::App;
use serde::Serialize;

/// The request function's decide phase, observing and deciding only: no write, no outcome.
pub const REVIEW: Mode = Mode {
    phases: Phases::DECIDE,
    changed: OutcomeKind::Wired,
    dry_run: true,
};

/// How long AWS leaves a request pending before it expires it (EC2 API Reference,
/// `CreateVpcPeeringConnection`: "The VPC peering connection request expires after 7 days").
const REQUEST_LIFETIME: chrono::Duration = chrono::Duration::days(7);

/// One dry run of the decide phase on `target`, with `approval` as if it had just arrived.
/// `Err` is "no answer".
pub async fn review(
    app: &App,
    target: &Target,
    approval: Option<ApprovalDecision>,
) -> Result<RunLog, String> {
    let correlation_id = format!(
        "cli-review-{}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default()
    );
    let run = Run::start(app, "cli", &correlation_id, REVIEW)
        .await
        .map_err(|e| e.to_string())?
        .with_approval(approval);
    run.handle(target).await.map_err(|e| e.to_string())
}

/// What the request function decides about the one peering at `found`, as it is (`None`: the
/// peering is outside the policy's accepters, or gone).
pub async fn decide_one(
    app: &App,
    found: &PeeringRef,
    approval: Option<ApprovalDecision>,
) -> Result<Reconciled, String> {
    let mut log = review(app, &Target::Peering(found.clone()), approval).await?;
    match log.reconciled.pop() {
        Some(reconciled) => Ok(reconciled),
        None => Err(match log.outcomes.first() {
            Some(failed) => failed.reasons.join("; "),
            None => format!(
                "{}: outside the policy's accepters; peerwire decides nothing there",
                found.peering_id
            ),
        }),
    }
}

/// The requester side of a held request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequesterView {
    pub account: String,
    /// The requester account's organizational units, from the root down to its parent; only
    /// when a rule of the policy names OUs (then the request function reads them too).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ou_path: Option<Vec<String>>,
    pub vpc_id: String,
    pub region: String,
    /// Every CIDR the request carries (`CidrBlockSet`, `Ipv6CidrBlockSet`): what an approval
    /// is bound to.
    pub cidrs: Vec<String>,
}

/// The accepter side of a held request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccepterView {
    pub account: String,
    pub vpc_id: String,
    pub region: String,
}

/// A request the request function holds, as the accepter sees it now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldRequest {
    pub peering_id: String,
    pub requester: RequesterView,
    pub accepter: AccepterView,
    /// The policy rule that matched, when one did.
    pub rule: Option<String>,
    /// Why it is held, as the request function says it (and its outcome events carry it).
    pub reasons: Vec<String>,
    /// Whether an approval can release it: the matched rule requires one. Otherwise only the
    /// reasons going away (or a change of policy) can; a denial rejects it either way.
    pub approval_releases_it: bool,
    /// AWS's `ExpirationTime` of the request.
    pub expires_at: Option<DateTime<Utc>>,
    /// How long it has waited: 7 days before its expiry (AWS reports no creation time).
    pub age_seconds: Option<i64>,
    /// How long until AWS expires it.
    pub expires_in_seconds: Option<i64>,
}

impl HeldRequest {
    /// `decision` about `peering`, seen at `now`; `ou_path` when the policy reads OUs.
    pub fn new(
        peering: &Peering,
        decision: &Decision,
        ou_path: Option<Vec<String>>,
        now: DateTime<Utc>,
    ) -> Self {
        let (requester, accepter) = (&peering.sides.requester, &peering.sides.accepter);
        let expires_at = peering.expires_at;
        Self {
            peering_id: peering.id.to_string(),
            requester: RequesterView {
                account: requester.account.to_string(),
                ou_path,
                vpc_id: requester.vpc_id.to_string(),
                region: requester.region.to_string(),
                cidrs: requester.cidrs.iter().map(ToString::to_string).collect(),
            },
            accepter: AccepterView {
                account: accepter.account.to_string(),
                vpc_id: accepter.vpc_id.to_string(),
                region: accepter.region.to_string(),
            },
            rule: decision.rule.clone(),
            reasons: decision.reason_lines(),
            approval_releases_it: decision
                .reasons
                .iter()
                .any(|r| matches!(r, Reason::ApprovalRequired { .. })),
            expires_at,
            age_seconds: expires_at.map(|at| (now - (at - REQUEST_LIFETIME)).num_seconds()),
            expires_in_seconds: expires_at.map(|at| (at - now).num_seconds()),
        }
    }

    /// The request for people: who asks what, the rule and reasons, the time left.
    pub fn render(&self) -> String {
        let r = &self.requester;
        let a = &self.accepter;
        let ous = r
            .ou_path
            .as_ref()
            .map(|path| format!(" (OU {})", path.join("/")))
            .unwrap_or_default();
        let rule = self
            .rule
            .as_deref()
            .map_or_else(|| "no rule matched".to_owned(), |r| format!("rule {r}"));
        let mut out = format!(
            "{}  {}{ous} {} {} [{}] -> {} {} {}\n  held by the policy ({rule}):\n",
            self.peering_id,
            r.account,
            r.vpc_id,
            r.region,
            r.cidrs.join(", "),
            a.account,
            a.vpc_id,
            a.region
        );
        for reason in &self.reasons {
            out.push_str(&format!("    - {reason}\n"));
        }
        let timing = match (self.age_seconds, self.expires_in_seconds) {
            (Some(age), Some(left)) => format!(
                "  waiting {}, AWS expires it in {}\n",
                duration(age),
                duration(left)
            ),
            _ => "  AWS reports no expiration time for it\n".to_owned(),
        };
        out.push_str(&timing);
        out
    }
}

/// `3d 4h`, `5h 12m`, `42m`, `30s`: the two largest units.
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// The requester account's OUs from the root down, when the policy reads OUs for it (the same
/// lookup, through the same Organizations role, as the request function's).
pub async fn ou_path(app: &App, account: &AccountId) -> Result<Option<Vec<String>>, String> {
    let policy = app.policies.current().await.map_err(|e| e.to_string())?;
    if !policy.needs_membership(account) {
        return Ok(None);
    }
    let membership = app
        .organisation
        .membership(&app.aws, account)
        .await
        .map_err(|e| e.to_string())?;
    Ok(match membership {
        Membership::Known { ous, .. } => Some(ous.iter().rev().map(ToString::to_string).collect()),
        Membership::NotLooked | Membership::Unknown(_) => None,
    })
}

/// The decided request of `reconciled`, when it is held.
pub fn held(reconciled: &Reconciled) -> Option<(&Peering, &Decision)> {
    match reconciled {
        Reconciled::Decided(d) if d.decision.verdict == Verdict::Hold => {
            Some((&d.peering, &d.decision))
        }
        Reconciled::Decided(_)
        | Reconciled::Wired(_)
        | Reconciled::Cleaned(_)
        | Reconciled::LeftAlone(_)
        | Reconciled::Duplicate { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use peerwire::model::PeeringStatus;
    use peerwire::testing::{id, peering};

    use super::*;

    fn held_request(now: DateTime<Utc>) -> HeldRequest {
        let mut p = peering("111111111111", &["10.0.0.0/16", "10.2.0.0/16"]);
        p.id = id("pcx-0123456789abcdef0");
        p.status = PeeringStatus::PendingAcceptance;
        p.expires_at = Some(now + chrono::Duration::hours(50));
        let decision = Decision {
            verdict: Verdict::Hold,
            rule: Some("payments".to_owned()),
            reasons: vec![Reason::ApprovalRequired {
                rule: "payments".to_owned(),
            }],
        };
        HeldRequest::new(
            &p,
            &decision,
            Some(vec!["r-ab12".into(), "ou-ab12-1".into()]),
            now,
        )
    }

    #[test]
    fn a_held_request_says_who_asks_what_why_and_how_long_it_has_left() {
        let now = Utc::now();
        let r = held_request(now);
        assert!(r.approval_releases_it);
        assert_eq!(r.expires_in_seconds, Some(50 * 3600));
        assert_eq!(r.age_seconds, Some((7 * 24 - 50) * 3600));
        let text = r.render();
        assert!(
            text.contains("111111111111 (OU r-ab12/ou-ab12-1)"),
            "{text}"
        );
        assert!(text.contains("[10.0.0.0/16, 10.2.0.0/16]"), "{text}");
        assert!(text.contains("rule payments requires approval"), "{text}");
        assert!(
            text.contains("waiting 4d 22h, AWS expires it in 2d 2h"),
            "{text}"
        );
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["requester"]["cidrs"][1], "10.2.0.0/16");
        assert_eq!(json["requester"]["ou_path"][0], "r-ab12");
        assert_eq!(json["accepter"]["account"], "222222222222");
    }

    #[test]
    fn durations_keep_the_two_largest_units() {
        assert_eq!(duration(30), "30s");
        assert_eq!(duration(42 * 60 + 5), "42m");
        assert_eq!(duration(5 * 3600 + 12 * 60), "5h 12m");
        assert_eq!(duration(3 * 86_400 + 4 * 3600 + 59), "3d 4h");
        assert_eq!(duration(-5), "0s");
    }
}
