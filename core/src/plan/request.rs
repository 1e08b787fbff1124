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

use super::reason::{ApprovalRefusal, Reason};
pub use super::reason::{Overlap, OverlapSource};
use super::{routes, Ec2Action, Plan, PlanStep};
use crate::model::cidr;
use crate::model::{ApprovalAnswer, ApprovalDecision, Peering, PeeringStatus, Side, VpcNetwork};
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

/// A verdict with the rule behind it and the reasons (typed; their sentences go to logs and
/// events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub verdict: Verdict,
    /// The matched rule; `None` when no rule matched or the request was skipped.
    pub rule: Option<String>,
    /// Never empty.
    pub reasons: Vec<Reason>,
}

impl Decision {
    /// The reasons as the sentences outcome events carry.
    pub fn reason_lines(&self) -> Vec<String> {
        self.reasons.iter().map(ToString::to_string).collect()
    }
}

/// Every requester CIDR that conflicts with the accepter VPC's CIDRs or routes, deduplicated,
/// in a stable order (requester CIDR, then VPC CIDRs, then route tables as given).
///
/// A route conflicts only when it goes to exactly a requester CIDR through another target
/// ([`super::routes`]): a broader one (a corporate supernet to a transit gateway, a default
/// route) loses to the peering route by longest prefix match, and a narrower one only shadows
/// part of the range ([`route_shadows`]). Never counted: `local` routes (the VPC's own CIDRs,
/// checked as such), routes through this very peering (a re-run), and blackholed routes to a
/// peering (leftovers of a deleted peering; they route nothing).
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
            let meets = routes::standing(table, requester_cidr, &peering.id);
            for route in meets.conflicts {
                if !routes::ignored_by_decisions(route) {
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

/// The routes of `network` (one side's VPC) more specific than a CIDR of the other side,
/// through another target: they win for that part of the range, which the peering then does
/// not carry. Reported with a decision; they do not refuse it.
pub fn route_shadows(peering: &Peering, side: Side, network: &VpcNetwork) -> Vec<Reason> {
    let mut found = Vec::new();
    for peer_cidr in &peering.sides[side.other()].cidrs {
        for table in &network.route_tables {
            for route in routes::standing(table, peer_cidr, &peering.id).shadows {
                if routes::ignored_by_decisions(route) {
                    continue;
                }
                let shadow = Reason::Shadowed {
                    side,
                    route_table_id: table.id.clone(),
                    destination: route.destination,
                    target: route.target.clone(),
                    peer_cidr: *peer_cidr,
                };
                if !found.contains(&shadow) {
                    found.push(shadow);
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

/// Routes of the requester VPC that go to exactly an accepter CIDR through another target:
/// a route through the peering could never be added there, so wiring could never finish on
/// the requester side. The same rule as [`find_overlaps`] (broader routes lose; narrower ones
/// only shadow, see [`route_shadows`]).
pub fn requester_route_conflicts(peering: &Peering, requester: &VpcNetwork) -> Vec<Reason> {
    let mut found = Vec::new();
    for accepter_cidr in &peering.sides.accepter.cidrs {
        for table in &requester.route_tables {
            for route in routes::standing(table, accepter_cidr, &peering.id).conflicts {
                if routes::ignored_by_decisions(route) {
                    continue;
                }
                let conflict = Reason::RequesterRouteConflict {
                    route_table_id: table.id.clone(),
                    destination: route.destination,
                    target: route.target.clone(),
                    accepter_cidr: *accepter_cidr,
                };
                if !found.contains(&conflict) {
                    found.push(conflict);
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
) -> Option<ApprovalRefusal> {
    let by = &approval.by;
    if !policy.is_approver(approval.sent_from.as_ref(), by) {
        return Some(ApprovalRefusal::NotAnApprover {
            by: by.clone(),
            from: approval.sent_from.clone(),
        });
    }
    let requester = &peering.sides.requester;
    if approval.requester_account != requester.account {
        return Some(ApprovalRefusal::OtherRequester {
            named: approval.requester_account.clone(),
            actual: requester.account.clone(),
        });
    }
    let mut seen: Vec<IpNet> = approval.requester_cidrs.iter().map(IpNet::trunc).collect();
    let mut now: Vec<IpNet> = requester.cidrs.iter().map(IpNet::trunc).collect();
    seen.sort();
    seen.dedup();
    now.sort();
    now.dedup();
    if seen != now {
        return Some(ApprovalRefusal::CidrsChanged { seen, now });
    }
    if let (Some(at), Some(expires)) = (approval.at, peering.expires_at) {
        let made = expires - chrono::Duration::days(REQUEST_LIFETIME_DAYS);
        if at < made {
            return Some(ApprovalRefusal::BeforeRequest { at, made });
        }
        if at > expires {
            return Some(ApprovalRefusal::AfterExpiry { at, expires });
        }
    }
    None
}

/// Decides what to do with a peering request seen from the accepter side.
///
/// `facts.accepter` must describe the peering's accepter VPC; otherwise the request is skipped
/// (the overlap check would have looked at the wrong network). An approval only releases a
/// matched rule that requires approval, and only when it comes from an approver and still
/// matches the request; a valid denial rejects. An approval never accepts a request that no
/// rule matches.
pub fn decide_request(peering: &Peering, facts: &RequestFacts<'_>, policy: &Policy) -> Decision {
    let skip = |reason: Reason| Decision {
        verdict: Verdict::Skip,
        rule: None,
        reasons: vec![reason],
    };
    if peering.status != PeeringStatus::PendingAcceptance {
        return skip(Reason::NotPending {
            status: peering.status.clone(),
            message: peering.status_message.clone(),
        });
    }
    let side = &peering.sides.accepter;
    if !policy.covers_accepter(&side.account, &side.region, Some(&side.vpc_id)) {
        return skip(Reason::NotInAccepters {
            account: side.account.clone(),
            region: side.region.clone(),
            vpc_id: side.vpc_id.clone(),
        });
    }
    if facts.accepter.vpc_id != side.vpc_id {
        return skip(Reason::WrongAccepterNetwork {
            given: facts.accepter.vpc_id.clone(),
            accepter: side.vpc_id.clone(),
        });
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
                reasons: vec![Reason::DeniedBy {
                    by: approval.by.clone(),
                    reason: reason.clone(),
                }],
            };
        }
    }

    let mut overlaps = find_overlaps(peering, facts.accepter);
    overlaps.extend(sibling_overlaps(peering, facts.siblings));
    if !overlaps.is_empty() {
        let mut reasons: Vec<Reason> = overlaps.into_iter().map(Reason::Overlap).collect();
        if let RuleMatch::Unmatched {
            reasons: unmatched, ..
        } = matched
        {
            reasons.extend(unmatched.into_iter().map(Reason::Rule));
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
    let hold = |mut reasons: Vec<Reason>| {
        if let Some((approval, Some(refusal))) = &approval {
            reasons.push(Reason::ApprovalRefused {
                by: approval.by.clone(),
                refusal: refusal.clone(),
            });
        }
        Decision {
            verdict: Verdict::Hold,
            rule: rule.clone(),
            reasons,
        }
    };
    let mut decision = match matched {
        RuleMatch::Matched { .. } if !unwireable.is_empty() => hold(unwireable),
        RuleMatch::Matched {
            rule,
            approval: Approval::Auto,
        } => Decision {
            verdict: Verdict::Accept,
            reasons: vec![Reason::Matched { rule: rule.clone() }],
            rule: Some(rule),
        },
        RuleMatch::Matched {
            rule: name,
            approval: Approval::Required,
        } => match approval {
            Some((approval, None)) => Decision {
                verdict: Verdict::Accept,
                reasons: vec![Reason::Approved {
                    rule: name.clone(),
                    by: approval.by.clone(),
                }],
                rule: Some(name),
            },
            _ => hold(vec![Reason::ApprovalRequired { rule: name }]),
        },
        RuleMatch::Unverified { reasons, .. } => {
            hold(reasons.into_iter().map(Reason::Rule).collect())
        }
        // An approval is deliberately ignored: it cannot stand in for a rule.
        RuleMatch::Unmatched { reasons, .. } => Decision {
            verdict: match policy.unmatched {
                UnmatchedAction::Reject => Verdict::Reject,
                UnmatchedAction::Hold => Verdict::Hold,
            },
            rule: None,
            reasons: reasons.into_iter().map(Reason::Rule).collect(),
        },
    };
    if matches!(decision.verdict, Verdict::Accept | Verdict::Hold) {
        // Not a refusal: the peering carries the rest of the range; the person should know.
        decision
            .reasons
            .extend(route_shadows(peering, Side::Accepter, facts.accepter));
        if let Some(requester) = facts.requester {
            decision
                .reasons
                .extend(route_shadows(peering, Side::Requester, requester));
        }
    }
    decision
}

/// The steps that carry out an accept decision: at most one write. Hold and skip write nothing.
pub fn plan_request(peering: &Peering, decision: &Decision) -> Plan {
    let steps = match decision.verdict {
        Verdict::Accept => vec![PlanStep::ec2(
            Side::Accepter,
            Ec2Action::AcceptPeering {
                peering_id: peering.id.clone(),
                rule: decision.rule.clone().unwrap_or_default(),
            },
        )],
        Verdict::Reject => vec![PlanStep::ec2(
            Side::Accepter,
            Ec2Action::RejectPeering {
                peering_id: peering.id.clone(),
                reasons: decision.reasons.clone(),
            },
        )],
        Verdict::Hold | Verdict::Skip => Vec::new(),
    };
    Plan {
        steps,
        findings: Vec::new(),
    }
}

#[cfg(test)]
mod tests;
