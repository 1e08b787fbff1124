//! What cleaning up a gone peering takes on one side: its routes (blackholes now) and the
//! security-group rules peerwire made for it, recognised by their exact description marker.
//! Everything else stays, including a rule a person added for the same CIDR. Pure.
//!
//! Routes carry no marker (EC2 routes have no description or tags), so a route counts as
//! peerwire's only when it has the shape peerwire gives its routes: through the gone peering,
//! to a CIDR of the peer VPC. The peer's CIDRs come from AWS while it still shows the peering,
//! and otherwise from what is left: the `local` routes of the other end's tables that route
//! through the same peering, and the CIDRs of peerwire's marked rules for it. A route through
//! the peering to anything else (a person's narrower route, say) is reported, never removed.

use ipnet::IpNet;

use super::{rule_marker, Ec2Action, Finding, Permission, Plan, PlanStep};
use crate::model::cidr::within_any;
use crate::model::{
    AccountId, Direction, Leftovers, PeeringId, RouteTable, RouteTarget, RulePeer, SgRule, Side,
};

/// Keeps the rules `plan` would revoke, because `live` connects the same two VPCs as the gone
/// peering: AWS revives rules that reference the peer when two VPCs are peered again, and the
/// live peering's wiring re-marks the ones it needs. Routes are still removed (they go through
/// the gone peering: blackholes). One finding per kept step.
pub fn keep_rules_for(plan: &mut Plan, live: &PeeringId) {
    let mut kept = Vec::new();
    plan.steps.retain(|step| match step.rule_change() {
        Some(change) => {
            kept.push(Finding::RulesKept {
                side: step.side,
                group_id: change.group_id.clone(),
                direction: change.direction,
                live_peering_id: live.clone(),
            });
            false
        }
        None => true,
    });
    plan.findings.extend(kept);
}

/// The CIDRs the leftovers prove to be either end of `peering_id`: the `local` destinations
/// of every table that routes through it (each end's own VPC CIDRs), and the CIDRs of
/// peerwire's marked rules for it (the peer's, by construction). [`plan_cleanup`] takes from
/// these the ones that are not the table's own VPC.
pub fn peering_ends(peering_id: &PeeringId, leftovers: &[&Leftovers]) -> Vec<IpNet> {
    let marker = rule_marker(peering_id);
    let mut ends: Vec<IpNet> = Vec::new();
    for view in leftovers {
        for table in view
            .route_tables
            .iter()
            .filter(|t| routes_through(t, peering_id))
        {
            ends.extend(local_cidrs(table));
        }
        for group in &view.security_groups {
            for rule in group.ingress.iter().chain(&group.egress) {
                if let (Some(description), RulePeer::Cidr { cidr }) =
                    (&rule.description, &rule.peer)
                {
                    if *description == marker {
                        ends.push(*cidr);
                    }
                }
            }
        }
    }
    ends.sort();
    ends.dedup();
    ends
}

fn routes_through(table: &RouteTable, peering_id: &PeeringId) -> bool {
    table
        .routes
        .iter()
        .any(|r| matches!(&r.target, RouteTarget::Peering(id) if id == peering_id))
}

fn local_cidrs(table: &RouteTable) -> impl Iterator<Item = IpNet> + '_ {
    table
        .routes
        .iter()
        .filter(|r| r.target == RouteTarget::Local)
        .map(|r| r.destination)
}

/// The removal plan for one side: a `DeleteRoute` per route through `peering_id` to a CIDR of
/// the peer (`ends` minus the table's own VPC CIDRs; see [`peering_ends`]), one revoke per
/// group and direction carrying every rule whose description is exactly the peering's marker,
/// and a finding for each route through the peering that is not provably peerwire's.
pub fn plan_cleanup(
    peering_id: &PeeringId,
    side: Side,
    leftovers: &Leftovers,
    ends: &[IpNet],
) -> Plan {
    let mut plan = Plan::default();
    for table in &leftovers.route_tables {
        let own: Vec<IpNet> = local_cidrs(table).collect();
        let peer: Vec<IpNet> = ends
            .iter()
            .filter(|end| !within_any(end, &own))
            .copied()
            .collect();
        for route in &table.routes {
            if !matches!(&route.target, RouteTarget::Peering(id) if id == peering_id) {
                continue;
            }
            // Exactly a peer CIDR: peerwire never routes a narrower or broader block.
            if peer.contains(&route.destination) {
                plan.steps.push(PlanStep::ec2(
                    side,
                    Ec2Action::DeleteRoute {
                        route_table_id: table.id.clone(),
                        destination: route.destination,
                        peering_id: peering_id.clone(),
                    },
                ));
            } else {
                plan.findings.push(Finding::UnprovenRoute {
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
    // Ingress revokes first, then egress, each group once per direction.
    for direction in Direction::BOTH {
        for group in &leftovers.security_groups {
            let permissions = ours(group.rules(direction));
            if !permissions.is_empty() {
                plan.steps.push(PlanStep::ec2(
                    side,
                    Ec2Action::Revoke {
                        direction,
                        group_id: group.id.clone(),
                        permissions,
                    },
                ));
            }
        }
    }
    plan
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
        for direction in Direction::BOTH {
            for rule in group.rules(direction) {
                let foreign = matches!(&rule.peer, RulePeer::Group { account: Some(a), .. } if a == peer_account);
                if foreign && rule.description.as_deref() != Some(marker.as_str()) {
                    findings.push(Finding::StaleGroupReference {
                        side,
                        group_id: group.id.clone(),
                        referenced: rule.peer.clone(),
                        direction,
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

/// The cleanup of one side: removals, unproven routes, and the stale references to the other
/// side's groups (when the other side's account is known).
pub fn plan_side_cleanup(
    peering_id: &PeeringId,
    side: Side,
    peer_account: Option<&AccountId>,
    leftovers: &Leftovers,
    ends: &[IpNet],
) -> Plan {
    let mut plan = plan_cleanup(peering_id, side, leftovers, ends);
    if let Some(peer) = peer_account {
        plan.findings
            .extend(stale_references(peering_id, side, peer, leftovers));
    }
    plan
}

#[cfg(test)]
mod tests;
