//! The accept / reject / hold decision for one peering request. Pure: no AWS calls.
//!
//! Safety invariants (checked by the property test): a request is accepted only while it is
//! `pending-acceptance`, only in an accepter scope of the policy, only when a rule that names
//! the requester account (or an OU it is in) fully matches, only when no requester CIDR
//! overlaps the accepter VPC, a conflicting route, or another live or earlier peering of the
//! accepter VPC, and only with a valid approval when the rule requires it.

use std::fmt;

use ipnet::IpNet;
use serde::Serialize;

use super::{Plan, PlanStep};
use crate::model::cidr;
use crate::model::{
    ApprovalAnswer, ApprovalDecision, Peering, PeeringId, PeeringStatus, Route, RouteTableId,
    RouteTarget, VpcId, VpcNetwork,
};
use crate::policy::{Approval, Membership, Policy, RuleMatch, UnmatchedAction};

/// How long a request waits for acceptance before AWS expires it.
const REQUEST_LIFETIME_DAYS: i64 = 7;

/// What to do with a peering request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Accept,
    Reject,
    /// Leave it pending (for an approval or a human). AWS expires it after 7 days.
    Hold,
    /// Not ours to act on (not pending, or outside the policy's accepters).
    Skip,
}

impl Verdict {
    /// Lowercase name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Reject => "reject",
            Self::Hold => "hold",
            Self::Skip => "skip",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A verdict with the rule behind it and the human-readable reasons (for logs and events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub verdict: Verdict,
    /// The matched rule; `None` when no rule matched or the request was skipped.
    pub rule: Option<String>,
    /// Never empty.
    pub reasons: Vec<String>,
}

/// Where a conflicting accepter-side block comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum OverlapSource {
    /// A CIDR associated with the accepter VPC (primary or secondary).
    VpcCidr { vpc_id: VpcId },
    /// A route in one of the accepter's route tables that already sends this range elsewhere.
    Route {
        route_table_id: RouteTableId,
        target: RouteTarget,
    },
    /// Another peering of the accepter VPC (active, provisioning, or an earlier request)
    /// already joins this range.
    Peering { peering_id: PeeringId },
}

/// A requester CIDR that shares addresses with something on the accepter side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overlap {
    pub requester_cidr: IpNet,
    pub conflicting: IpNet,
    pub source: OverlapSource,
}

impl fmt::Display for Overlap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            OverlapSource::VpcCidr { vpc_id } => write!(
                f,
                "requester CIDR {} overlaps accepter VPC {vpc_id} CIDR {}",
                self.requester_cidr, self.conflicting
            ),
            OverlapSource::Route {
                route_table_id,
                target,
            } => write!(
                f,
                "requester CIDR {} overlaps route {} via {target} in route table {route_table_id}",
                self.requester_cidr, self.conflicting
            ),
            OverlapSource::Peering { peering_id } => write!(
                f,
                "requester CIDR {} collides with {} of peering {peering_id}, which holds it first",
                self.requester_cidr, self.conflicting
            ),
        }
    }
}

/// Every requester CIDR that conflicts with the accepter VPC's CIDRs or routes, deduplicated,
/// in a stable order (requester CIDR, then VPC CIDRs, then route tables as given).
///
/// Not conflicts: `local` routes (the VPC's own CIDRs, already checked), routes through this
/// very peering (a re-run), default routes `0.0.0.0/0` and `::/0` (longest-prefix match lets
/// the peering route win over a NAT or internet gateway default), and blackholed routes to a
/// peering (leftovers of a deleted peering; they route nothing). Any other overlapping route,
/// blackholed or not, would be shadowed by or collide with the peering route, so it counts.
pub fn find_overlaps(peering: &Peering, accepter: &VpcNetwork) -> Vec<Overlap> {
    let mut found: Vec<Overlap> = Vec::new();
    let mut push = |overlap: Overlap| {
        if !found.contains(&overlap) {
            found.push(overlap);
        }
    };
    for requester_cidr in &peering.sides.requester.cidrs {
        for vpc_cidr in &accepter.cidrs {
            if cidr::overlaps(requester_cidr, vpc_cidr) {
                push(Overlap {
                    requester_cidr: *requester_cidr,
                    conflicting: *vpc_cidr,
                    source: OverlapSource::VpcCidr {
                        vpc_id: accepter.vpc_id.clone(),
                    },
                });
            }
        }
        for table in &accepter.route_tables {
            for route in &table.routes {
                if !ignored_route(route, &peering.id)
                    && cidr::overlaps(requester_cidr, &route.destination)
                {
                    push(Overlap {
                        requester_cidr: *requester_cidr,
                        conflicting: route.destination,
                        source: OverlapSource::Route {
                            route_table_id: table.id.clone(),
                            target: route.target.clone(),
                        },
                    });
                }
            }
        }
    }
    found
}

/// The other peerings of the accepter VPC that hold `peering`'s requester CIDRs first: active
/// or provisioning ones, and pending requests made earlier (they expire earlier; a tie goes to
/// the smaller id). Deterministic, so two runs deciding two colliding requests at once agree on
/// the winner.
pub fn sibling_overlaps(peering: &Peering, siblings: &[Peering]) -> Vec<Overlap> {
    let vpc = &peering.sides.accepter.vpc_id;
    let mut found = Vec::new();
    for sibling in siblings {
        if sibling.id == peering.id || !holds_first(sibling, peering) {
            continue;
        }
        // The sibling's far side: whichever of its sides is not the accepter VPC.
        let far = if &sibling.sides.accepter.vpc_id == vpc {
            &sibling.sides.requester
        } else {
            &sibling.sides.accepter
        };
        for requester_cidr in &peering.sides.requester.cidrs {
            for cidr in &far.cidrs {
                let overlap = Overlap {
                    requester_cidr: *requester_cidr,
                    conflicting: *cidr,
                    source: OverlapSource::Peering {
                        peering_id: sibling.id.clone(),
                    },
                };
                if cidr::overlaps(requester_cidr, cidr) && !found.contains(&overlap) {
                    found.push(overlap);
                }
            }
        }
    }
    found
}

/// Whether `sibling` holds its CIDRs before `peering` does.
fn holds_first(sibling: &Peering, peering: &Peering) -> bool {
    match sibling.status {
        PeeringStatus::Active | PeeringStatus::Provisioning => true,
        PeeringStatus::PendingAcceptance => claim_order(sibling) < claim_order(peering),
        _ => false,
    }
}

/// The order in which pending requests of one accepter VPC claim their CIDRs: the one AWS
/// expires first, then the smaller id; a request whose expiry is not shown comes last. A
/// total order, so that two runs agree, and a sweep that decides in this order meets each
/// request after every one that could make it lose.
pub fn claim_order(peering: &Peering) -> impl Ord + '_ {
    (
        peering.expires_at.is_none(),
        peering.expires_at,
        &peering.id,
    )
}

/// A route no overlap check counts: `local`, this peering's own, a blackhole left by a
/// deleted peering, or a default route (the more specific peering route wins over it).
fn ignored_route(route: &Route, peering_id: &PeeringId) -> bool {
    let by_target = match &route.target {
        RouteTarget::Local => true,
        RouteTarget::Peering(id) => id == peering_id || route.blackhole,
        _ => false,
    };
    by_target || route.destination.prefix_len() == 0
}

/// Routes of the requester VPC that would shadow or collide with a route to an accepter CIDR:
/// wiring could never finish on the requester side. Same exclusions as [`find_overlaps`].
pub fn requester_route_conflicts(peering: &Peering, requester: &VpcNetwork) -> Vec<String> {
    let mut found = Vec::new();
    for accepter_cidr in &peering.sides.accepter.cidrs {
        for table in &requester.route_tables {
            for route in &table.routes {
                if !ignored_route(route, &peering.id)
                    && cidr::overlaps(accepter_cidr, &route.destination)
                {
                    let line = format!(
                        "the requester's route table {} sends {} to {}: a route to accepter CIDR {accepter_cidr} through the peering could never be added there",
                        table.id, route.destination, route.target
                    );
                    if !found.contains(&line) {
                        found.push(line);
                    }
                }
            }
        }
    }
    found
}

/// What the decision about one request is made of, besides the peering and the policy.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    /// The peering's accepter VPC, with its route tables.
    pub accepter: &'a VpcNetwork,
    /// The accepter VPC's other peerings that hold or may hold a CIDR: active, provisioning,
    /// pending-acceptance.
    pub siblings: &'a [Peering],
    /// The requester VPC, when peerwire manages the requester side (it must be wireable).
    pub requester: Option<&'a VpcNetwork>,
    /// The requester account's OU membership, when a rule names OUs.
    pub membership: &'a Membership,
    /// An approver's answer, when the event is one.
    pub approval: Option<&'a ApprovalDecision>,
}

/// Why an approval cannot be taken: not from an approver, or not about this request as it is.
fn approval_refusal(
    approval: &ApprovalDecision,
    peering: &Peering,
    policy: &Policy,
) -> Option<String> {
    let by = &approval.by;
    if !policy.is_approver(approval.sent_from.as_ref(), by) {
        let from = approval.sent_from.as_ref().map_or_else(
            || "an unknown account".to_owned(),
            |a| format!("account {a}"),
        );
        return Some(format!(
            "{by} (from {from}) is not an approver of the policy"
        ));
    }
    let requester = &peering.sides.requester;
    if approval.requester_account != requester.account {
        return Some(format!(
            "it names requester account {}, but the peering's requester is {}",
            approval.requester_account, requester.account
        ));
    }
    let mut seen: Vec<IpNet> = approval.requester_cidrs.iter().map(IpNet::trunc).collect();
    let mut now: Vec<IpNet> = requester.cidrs.iter().map(IpNet::trunc).collect();
    seen.sort();
    seen.dedup();
    now.sort();
    now.dedup();
    if seen != now {
        return Some(format!(
            "it approved requester CIDRs {}, but the peering now reports {}",
            join(&seen),
            join(&now)
        ));
    }
    if let (Some(at), Some(expires)) = (approval.at, peering.expires_at) {
        let made = expires - chrono::Duration::days(REQUEST_LIFETIME_DAYS);
        if at < made {
            return Some(format!(
                "it was sent at {at}, before this request was made ({made}): it is about an earlier request"
            ));
        }
        if at > expires {
            return Some(format!(
                "it was sent at {at}, after the request expired ({expires})"
            ));
        }
    }
    None
}

fn join(items: &[IpNet]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Decides what to do with a peering request seen from the accepter side.
///
/// `facts.accepter` must describe the peering's accepter VPC; otherwise the request is skipped
/// (the overlap check would have looked at the wrong network). An approval only releases a
/// matched rule that requires approval, and only when it comes from an approver and still
/// matches the request; a valid denial rejects. An approval never accepts a request that no
/// rule matches.
pub fn decide_request(peering: &Peering, facts: &RequestFacts<'_>, policy: &Policy) -> Decision {
    let skip = |reason: String| Decision {
        verdict: Verdict::Skip,
        rule: None,
        reasons: vec![reason],
    };
    if peering.status != PeeringStatus::PendingAcceptance {
        return skip(peering.status_reason());
    }
    let side = &peering.sides.accepter;
    if !policy.covers_accepter(&side.account, &side.region, Some(&side.vpc_id)) {
        return skip(format!(
            "accepter account {} region {} VPC {} is not in the policy's accepters",
            side.account, side.region, side.vpc_id
        ));
    }
    if facts.accepter.vpc_id != side.vpc_id {
        return skip(format!(
            "the accepter network given is {}, not the peering's accepter VPC {}; no decision",
            facts.accepter.vpc_id, side.vpc_id
        ));
    }
    let matched = policy.evaluate(peering, facts.membership);
    let rule = match &matched {
        RuleMatch::Matched { rule, .. } | RuleMatch::Unverified { rule, .. } => Some(rule.clone()),
        RuleMatch::Unmatched { .. } => None,
    };
    let approval = facts
        .approval
        .map(|approval| (approval, approval_refusal(approval, peering, policy)));
    if let Some((approval, None)) = approval {
        if let ApprovalAnswer::Denied { reason } = &approval.answer {
            return Decision {
                verdict: Verdict::Reject,
                rule,
                reasons: vec![format!("denied by {}: {reason}", approval.by)],
            };
        }
    }

    let mut overlaps = find_overlaps(peering, facts.accepter);
    overlaps.extend(sibling_overlaps(peering, facts.siblings));
    if !overlaps.is_empty() {
        let mut reasons: Vec<String> = overlaps.iter().map(ToString::to_string).collect();
        if let RuleMatch::Unmatched {
            reasons: unmatched, ..
        } = matched
        {
            reasons.extend(unmatched);
        }
        return Decision {
            verdict: Verdict::Reject,
            rule,
            reasons,
        };
    }
    let unwireable = facts
        .requester
        .map(|requester| requester_route_conflicts(peering, requester))
        .unwrap_or_default();
    let hold = |mut reasons: Vec<String>| {
        if let Some((approval, Some(refusal))) = &approval {
            reasons.push(format!(
                "the approval from {} was refused: {refusal}",
                approval.by
            ));
        }
        Decision {
            verdict: Verdict::Hold,
            rule: rule.clone(),
            reasons,
        }
    };
    match matched {
        RuleMatch::Matched { .. } if !unwireable.is_empty() => hold(unwireable),
        RuleMatch::Matched {
            rule,
            approval: Approval::Auto,
        } => Decision {
            verdict: Verdict::Accept,
            reasons: vec![format!("matched rule {rule}")],
            rule: Some(rule),
        },
        RuleMatch::Matched {
            rule: name,
            approval: Approval::Required,
        } => match approval {
            Some((approval, None)) => Decision {
                verdict: Verdict::Accept,
                reasons: vec![format!(
                    "matched rule {name}, which requires approval; approved by {}",
                    approval.by
                )],
                rule: Some(name),
            },
            _ => hold(vec![format!("rule {name} requires approval")]),
        },
        RuleMatch::Unverified { reasons, .. } => hold(reasons),
        // An approval is deliberately ignored: it cannot stand in for a rule.
        RuleMatch::Unmatched { reasons, .. } => Decision {
            verdict: match policy.unmatched {
                UnmatchedAction::Reject => Verdict::Reject,
                UnmatchedAction::Hold => Verdict::Hold,
            },
            rule: None,
            reasons,
        },
    }
}

/// The steps that carry out an accept decision: at most one write. Hold and skip write nothing.
pub fn plan_request(peering: &Peering, decision: &Decision) -> Plan {
    let steps = match decision.verdict {
        Verdict::Accept => vec![PlanStep::AcceptPeering {
            peering_id: peering.id.clone(),
            rule: decision.rule.clone().unwrap_or_default(),
        }],
        Verdict::Reject => vec![PlanStep::RejectPeering {
            peering_id: peering.id.clone(),
            reasons: decision.reasons.clone(),
        }],
        Verdict::Hold | Verdict::Skip => Vec::new(),
    };
    Plan {
        steps,
        findings: Vec::new(),
    }
}

#[cfg(test)]
mod tests;
