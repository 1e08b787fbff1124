//! The accept / reject / hold decision for one peering request. Pure: no AWS calls.
//!
//! Safety invariants (checked by the property test below): a request is accepted only while
//! it is `pending-acceptance`, only in an accepter scope of the policy, only when a rule that
//! names the requester account fully matches, only when no requester CIDR overlaps the
//! accepter VPC or a conflicting route, and only with approval when the rule requires it.

use std::fmt;

use ipnet::IpNet;
use serde::Serialize;

use super::{Plan, PlanStep};
use crate::model::cidr;
use crate::model::{Peering, PeeringStatus, RouteTableId, RouteTarget, VpcId, VpcNetwork};
use crate::policy::{Approval, Policy, RuleMatch, UnmatchedAction};

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
                let ignored = match &route.target {
                    RouteTarget::Local => true,
                    RouteTarget::Peering(id) => id == &peering.id || route.blackhole,
                    _ => false,
                } || route.destination.prefix_len() == 0;
                if !ignored && cidr::overlaps(requester_cidr, &route.destination) {
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

/// Decides what to do with a peering request seen from the accepter side.
///
/// `accepter` must describe the peering's accepter VPC; otherwise the request is skipped (the
/// overlap check would have looked at the wrong network). `approved` is true when an approval
/// event granted this peering; it only releases a matched rule that requires approval and can
/// never accept a request that no rule matches.
pub fn decide_request(
    peering: &Peering,
    accepter: &VpcNetwork,
    policy: &Policy,
    approved: bool,
) -> Decision {
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
    if accepter.vpc_id != side.vpc_id {
        return skip(format!(
            "the accepter network given is {}, not the peering's accepter VPC {}; no decision",
            accepter.vpc_id, side.vpc_id
        ));
    }

    let overlaps = find_overlaps(peering, accepter);
    let matched = policy.evaluate(peering);
    if !overlaps.is_empty() {
        let mut reasons: Vec<String> = overlaps.iter().map(ToString::to_string).collect();
        let rule = match matched {
            RuleMatch::Matched { rule, .. } => Some(rule),
            RuleMatch::Unmatched {
                reasons: unmatched, ..
            } => {
                reasons.extend(unmatched);
                None
            }
        };
        return Decision {
            verdict: Verdict::Reject,
            rule,
            reasons,
        };
    }
    match matched {
        RuleMatch::Matched {
            rule,
            approval: Approval::Auto,
        } => Decision {
            verdict: Verdict::Accept,
            reasons: vec![format!("matched rule {rule}")],
            rule: Some(rule),
        },
        RuleMatch::Matched {
            rule,
            approval: Approval::Required,
        } => {
            let (verdict, reason) = if approved {
                (
                    Verdict::Accept,
                    format!("matched rule {rule}, which requires approval; approved"),
                )
            } else {
                (Verdict::Hold, format!("rule {rule} requires approval"))
            };
            Decision {
                verdict,
                reasons: vec![reason],
                rule: Some(rule),
            }
        }
        // `approved` is deliberately ignored: an approval cannot stand in for a rule.
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
