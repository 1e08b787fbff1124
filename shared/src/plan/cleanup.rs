//! What cleaning up a gone peering takes on one side: its routes (blackholes now) and the
//! security-group rules peerwire made for it, recognised by their exact description marker.
//! Everything else stays, including a rule a person added for the same CIDR. Pure.

use super::{rule_marker, Finding, Permission, Plan, PlanStep};
use crate::model::{AccountId, Leftovers, PeeringId, RouteTarget, RulePeer, SgRule, Side};

/// The removal steps for one side: a `DeleteRoute` per route targeting `peering_id`, and one
/// revoke per group and direction carrying every rule whose description is exactly the
/// peering's marker.
pub fn plan_cleanup(peering_id: &PeeringId, side: Side, leftovers: &Leftovers) -> Vec<PlanStep> {
    let mut steps = Vec::new();
    for table in &leftovers.route_tables {
        for route in &table.routes {
            if matches!(&route.target, RouteTarget::Peering(id) if id == peering_id) {
                steps.push(PlanStep::DeleteRoute {
                    side,
                    route_table_id: table.id.clone(),
                    destination: route.destination,
                    peering_id: peering_id.clone(),
                });
            }
        }
    }
    let marker = rule_marker(peering_id);
    let ours = |rules: &[SgRule]| -> Vec<Permission> {
        rules
            .iter()
            .filter(|r| r.description.as_deref() == Some(marker.as_str()))
            .filter(|r| r.protocol == "tcp" && r.from_port == r.to_port)
            .filter_map(|r| {
                Some(Permission {
                    port: u16::try_from(r.from_port?).ok()?,
                    peer: r.peer.clone(),
                    description: marker.clone(),
                })
            })
            .collect()
    };
    for group in &leftovers.security_groups {
        let ingress = ours(&group.ingress);
        if !ingress.is_empty() {
            steps.push(PlanStep::RevokeIngress {
                side,
                group_id: group.id.clone(),
                permissions: ingress,
            });
        }
    }
    for group in &leftovers.security_groups {
        let egress = ours(&group.egress);
        if !egress.is_empty() {
            steps.push(PlanStep::RevokeEgress {
                side,
                group_id: group.id.clone(),
                permissions: egress,
            });
        }
    }
    steps
}

/// Rules not made by peerwire that reference a group of `peer_account` (the other side of a
/// gone peering): AWS keeps them as stale references. Reported, never removed.
pub fn stale_references(
    peering_id: &PeeringId,
    side: Side,
    peer_account: &AccountId,
    leftovers: &Leftovers,
) -> Vec<Finding> {
    let marker = rule_marker(peering_id);
    let mut findings = Vec::new();
    for group in &leftovers.security_groups {
        for (egress, rules) in [(false, &group.ingress), (true, &group.egress)] {
            for rule in rules {
                let foreign = matches!(&rule.peer, RulePeer::Group { account: Some(a), .. } if a == peer_account);
                if foreign && rule.description.as_deref() != Some(marker.as_str()) {
                    findings.push(Finding::StaleGroupReference {
                        side,
                        group_id: group.id.clone(),
                        referenced: rule.peer.clone(),
                        egress,
                    });
                }
            }
        }
    }
    findings
}

/// The peerings `leftovers` still carries something of: blackhole routes through them, and
/// security-group rules marked as peerwire's for them. Sorted, each once.
pub fn referenced_peerings(leftovers: &Leftovers) -> Vec<PeeringId> {
    let mut ids: Vec<PeeringId> = leftovers
        .route_tables
        .iter()
        .flat_map(|t| &t.routes)
        .filter(|r| r.blackhole)
        .filter_map(|r| match &r.target {
            RouteTarget::Peering(id) => Some(id.clone()),
            _ => None,
        })
        .chain(
            leftovers
                .security_groups
                .iter()
                .flat_map(|g| g.ingress.iter().chain(&g.egress))
                .filter_map(|r| r.description.as_deref().and_then(super::marked_peering)),
        )
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// The cleanup of one side: removals, and the stale references to the other side's groups
/// (when the other side's account is known).
pub fn plan_side_cleanup(
    peering_id: &PeeringId,
    side: Side,
    peer_account: Option<&AccountId>,
    leftovers: &Leftovers,
) -> Plan {
    Plan {
        steps: plan_cleanup(peering_id, side, leftovers),
        findings: peer_account
            .map(|peer| stale_references(peering_id, side, peer, leftovers))
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests;
