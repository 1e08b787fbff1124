//! The wiring planner: what an active peering still needs on each side to carry traffic.
//!
//! [`plan_wiring`] is pure: it compares the observed [`WiringState`] with the policy's
//! [`Wiring`] and lists only the difference, in a deterministic order. It never plans a change
//! to something it does not own: a route to a peer CIDR through another target is reported as
//! a [`Finding::RouteConflict`], never replaced, and a security-group rule someone already added
//! (by hand or by a broader rule) satisfies the need instead of being duplicated. A rule
//! peerwire made for a gone peering of the same two VPCs (AWS revives it on re-peering) is
//! re-marked for the live one, so the old peering's cleanup leaves it. Every route
//! destination and every rule peer it plans is a peer VPC CIDR (or a peer security group), and
//! every rule port is one of the policy's ports: never anything broader.
//!
//! Plan order: routes (requester side, then accepter; by table, then destination), ingress
//! (accepter), egress (requester), VPC DNS attributes, the peering DNS options, then the
//! private hosted zones' associations ([`zones`]). The attributes come before the options
//! because AWS requires both VPCs to have DNS support and DNS hostnames on for
//! `AllowDnsResolutionFromRemoteVpc` to take effect.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;

use super::{
    marked_peering, quota, routes, rule_marker, zones, DnsAttribute, Ec2Action, Finding,
    Permission, Plan, PlanStep,
};
use crate::model::cidr;
use crate::model::{
    Direction, PeeringId, PeeringStatus, RouteTableId, RouteTarget, RulePeer, SecurityGroup,
    SgRule, Side, SideState, SubnetId, WiringState,
};
use crate::policy::{IngressSource, SideWiring, Wiring};

/// The steps that wire an active peering, and what peerwire reports without changing.
///
/// Returns an empty plan unless the peering is `active`. A side whose state is `None` (or whose
/// policy says `manage: false`) gets no step and no finding.
pub fn plan_wiring(state: &WiringState, wiring: &Wiring) -> Plan {
    if state.peering.status != PeeringStatus::Active {
        return Plan::default();
    }
    let ports: BTreeSet<u16> = wiring.ports.iter().copied().collect();

    let mut route_steps = Vec::new();
    let mut conflicts = Vec::new();
    let mut selection = Vec::new();
    for side in Side::BOTH {
        let Some(local) = managed(state, wiring, side) else {
            continue;
        };
        let scope = wiring.side(side);
        let peers = peer_cidrs(state, side);
        let selected = route_scope(local, scope);
        if selected.explicit_selector && selected.explicit_matches == 0 {
            selection.push(nothing_selected(side, "subnets"));
        }
        if !scope.db_instances.is_empty() && local.db_instances.is_empty() {
            selection.push(nothing_selected(side, "DB instances"));
        }
        if !ports.is_empty() && scope.selects_groups() && local.security_groups.is_empty() {
            selection.push(nothing_selected(side, "security groups"));
        }
        plan_routes(
            &state.peering.id,
            side,
            local,
            &selected.tables,
            &peers,
            &mut route_steps,
            &mut conflicts,
        );
    }

    let mut ingress_steps = Vec::new();
    let mut egress_steps = Vec::new();
    if !ports.is_empty() {
        let marker = rule_marker(&state.peering.id);
        if let Some(accepter) = managed(state, wiring, Side::Accepter) {
            let sources = ingress_sources(state, wiring);
            for group in unique_groups(accepter) {
                let changes = rule_changes(&group.ingress, &ports, &sources, &marker);
                changes.into_steps(
                    Side::Accepter,
                    Direction::Ingress,
                    group,
                    &mut ingress_steps,
                );
            }
        }
        if let Some(requester) = managed(state, wiring, Side::Requester) {
            let destinations: Vec<RulePeer> = peer_cidrs(state, Side::Requester)
                .into_iter()
                .map(|cidr| RulePeer::Cidr { cidr })
                .collect();
            for group in unique_groups(requester) {
                let changes = rule_changes(&group.egress, &ports, &destinations, &marker);
                changes.into_steps(Side::Requester, Direction::Egress, group, &mut egress_steps);
            }
        }
    }

    let mut attribute_steps = Vec::new();
    let mut attribute_findings = Vec::new();
    let mut option_steps = Vec::new();
    for side in Side::BOTH {
        let Some(local) = managed(state, wiring, side) else {
            continue;
        };
        for (on, attribute) in [
            (local.dns_support, DnsAttribute::EnableDnsSupport),
            (local.dns_hostnames, DnsAttribute::EnableDnsHostnames),
        ] {
            if on {
                continue;
            }
            let vpc_id = local.network.vpc_id.clone();
            if wiring.fix_vpc_dns_attributes {
                attribute_steps.push(PlanStep::ec2(
                    side,
                    Ec2Action::EnableVpcDnsAttribute { vpc_id, attribute },
                ));
            } else {
                attribute_findings.push(Finding::DnsAttributeOff {
                    side,
                    vpc_id,
                    attribute,
                });
            }
        }
        if !state.peering.sides[side].allow_dns_resolution_from_remote_vpc {
            option_steps.push(PlanStep::ec2(
                side,
                Ec2Action::SetDnsResolution {
                    peering_id: state.peering.id.clone(),
                },
            ));
        }
    }

    let zones = zones::plan_zones(state, wiring);
    let mut steps = route_steps;
    steps.extend(ingress_steps);
    steps.extend(egress_steps);
    steps.extend(attribute_steps);
    steps.extend(option_steps);
    steps.extend(zones.steps);
    let sides = Side::BOTH.map(|side| (side, managed(state, wiring, side)));
    let (steps, over_quota) = quota::within_quotas(sides, steps);
    let mut findings = conflicts;
    findings.extend(over_quota);
    findings.extend(selection);
    findings.extend(attribute_findings);
    findings.extend(zones.findings);
    Plan { steps, findings }
}

impl Plan {
    /// The sides on which this plan adds routes or rules: where quotas must be known.
    pub fn adds_on(&self) -> Vec<Side> {
        let mut sides: Vec<Side> = self
            .steps
            .iter()
            .filter(|s| s.adds_to_quota())
            .map(|s| s.side)
            .collect();
        sides.sort();
        sides.dedup();
        sides
    }
}

fn nothing_selected(side: Side, what: &str) -> Finding {
    Finding::NothingSelected {
        side,
        what: what.to_owned(),
    }
}

/// The observed side when peerwire manages it: observed, and not `manage: false`.
fn managed<'a>(state: &'a WiringState, wiring: &Wiring, side: Side) -> Option<&'a SideState> {
    state.sides[side]
        .as_ref()
        .filter(|_| wiring.side(side).manage)
}

/// The VPC CIDRs of the other side, as seen from `side`: the observed VPC when there is one,
/// else what the peering reports. IPv6 blocks only when `side`'s VPC has IPv6 too (an IPv6
/// route or rule is useless, and refused, without it). Canonical, deduplicated, sorted.
fn peer_cidrs(state: &WiringState, side: Side) -> Vec<IpNet> {
    let cidrs_of = |side: Side| match &state.sides[side] {
        Some(observed) => &observed.network.cidrs,
        None => &state.peering.sides[side].cidrs,
    };
    reachable_peer_cidrs(cidrs_of(side.other()), cidrs_of(side))
}

/// The `remote` CIDRs a VPC with the `local` CIDRs can route to: IPv6 blocks only when it has
/// IPv6 too. Canonical, deduplicated, sorted. (Shared with diagnose, which must never
/// disagree with the plan.)
pub fn reachable_peer_cidrs(remote: &[IpNet], local: &[IpNet]) -> Vec<IpNet> {
    let local_ipv6 = local.iter().any(|c| matches!(c, IpNet::V6(_)));
    let unique: BTreeSet<IpNet> = remote
        .iter()
        .map(IpNet::trunc)
        .filter(|c| local_ipv6 || matches!(c, IpNet::V4(_)))
        .collect();
    unique.into_iter().collect()
}

/// The route tables in scope on one side, and how the explicit subnet selectors fared.
#[derive(Debug)]
struct RouteScope {
    /// Sorted by id, deduplicated.
    tables: Vec<RouteTableId>,
    /// `subnet_ids` or `subnet_tags` is set.
    explicit_selector: bool,
    /// Subnets those selectors matched.
    explicit_matches: usize,
}

/// The subnets the policy puts in scope on one side: every subnet without a selector, else
/// the selected ones plus every subnet of the named DB instances. With every subnet in scope,
/// the wiring does not read the subnets (see [`tables_in_scope`]): the subnets the route
/// tables name are then all that is known.
pub fn scoped_subnets(local: &SideState, scope: &SideWiring) -> BTreeSet<SubnetId> {
    let mut ids = BTreeSet::new();
    if scope.all_subnets() {
        ids.extend(local.subnets.iter().map(|s| s.id.clone()));
        ids.extend(
            local
                .network
                .route_tables
                .iter()
                .flat_map(|t| t.subnet_ids.iter().cloned()),
        );
        return ids;
    }
    ids.extend(selected_subnets(local, scope));
    for db in &local.db_instances {
        ids.extend(db.subnet_ids.iter().cloned());
    }
    ids
}

/// The subnets an explicit selector (`subnet_ids`, `subnet_tags`) picks.
fn selected_subnets(local: &SideState, scope: &SideWiring) -> Vec<SubnetId> {
    local
        .subnets
        .iter()
        .filter(|subnet| {
            let by_id = scope.subnet_ids.contains(&subnet.id);
            let by_tags = !scope.subnet_tags.is_empty()
                && scope
                    .subnet_tags
                    .iter()
                    .all(|(k, v)| subnet.tags.get(k) == Some(v));
            by_id || by_tags
        })
        .map(|subnet| subnet.id.clone())
        .collect()
}

/// The route tables in scope: those of the scoped subnets, and the main table when every
/// subnet is in scope (subnets created later land there). With every subnet in scope that is
/// every table a subnet is explicitly associated with, plus the main one (which serves every
/// other subnet): the route tables alone say so, without the subnets.
pub fn tables_in_scope(local: &SideState, scope: &SideWiring) -> BTreeSet<RouteTableId> {
    if scope.all_subnets() {
        return local
            .network
            .route_tables
            .iter()
            .filter(|t| t.main || !t.subnet_ids.is_empty())
            .map(|t| t.id.clone())
            .collect();
    }
    scoped_subnets(local, scope)
        .iter()
        .filter_map(|s| local.network.route_table_of(s))
        .map(|t| t.id.clone())
        .collect()
}

fn route_scope(local: &SideState, scope: &SideWiring) -> RouteScope {
    let explicit_selector = !scope.subnet_ids.is_empty() || !scope.subnet_tags.is_empty();
    RouteScope {
        tables: tables_in_scope(local, scope).into_iter().collect(),
        explicit_selector,
        explicit_matches: if explicit_selector {
            selected_subnets(local, scope).len()
        } else {
            0
        },
    }
}

/// Routes to every peer CIDR in every table in scope: create the missing ones, replace a
/// blackhole route of this same peering, report (never touch) a route to the same destination
/// through another target, and report the more specific routes through other targets that
/// shadow part of a peer CIDR ([`super::routes`]: a broader route loses to the peering route).
fn plan_routes(
    peering_id: &PeeringId,
    side: Side,
    local: &SideState,
    tables: &[RouteTableId],
    peers: &[IpNet],
    steps: &mut Vec<PlanStep>,
    findings: &mut Vec<Finding>,
) {
    for table_id in tables {
        let Some(table) = local
            .network
            .route_tables
            .iter()
            .find(|t| &t.id == table_id)
        else {
            continue;
        };
        for destination in peers {
            let ours = table.routes.iter().find(|r| {
                r.destination.trunc() == *destination
                    && matches!(&r.target, RouteTarget::Peering(id) if id == peering_id)
            });
            let standing = routes::standing(table, destination, peering_id);
            match (ours, standing.conflicts.first()) {
                (Some(route), _) => {
                    if route.blackhole {
                        steps.push(PlanStep::ec2(
                            side,
                            Ec2Action::ReplaceBlackholeRoute {
                                route_table_id: table.id.clone(),
                                destination: *destination,
                                peering_id: peering_id.clone(),
                            },
                        ));
                    }
                }
                (None, Some(route)) => findings.push(Finding::RouteConflict {
                    side,
                    route_table_id: table.id.clone(),
                    destination: *destination,
                    target: route.target.clone(),
                    blackhole: route.blackhole,
                    propagated: route.propagated,
                }),
                (None, None) => steps.push(PlanStep::ec2(
                    side,
                    Ec2Action::CreateRoute {
                        route_table_id: table.id.clone(),
                        destination: *destination,
                        peering_id: peering_id.clone(),
                    },
                )),
            }
            for route in standing.shadows {
                findings.push(Finding::RouteShadowed {
                    side,
                    route_table_id: table.id.clone(),
                    destination: route.destination,
                    target: route.target.clone(),
                    peer_cidr: *destination,
                });
            }
        }
    }
}

/// The selected groups of one side, once each, sorted by id.
fn unique_groups(local: &SideState) -> Vec<&SecurityGroup> {
    let by_id: BTreeMap<&str, &SecurityGroup> = local
        .security_groups
        .iter()
        .map(|g| (g.id.as_str(), g))
        .collect();
    by_id.into_values().collect()
}

/// Where the accepter's ingress rules admit traffic from: the requester's selected groups
/// (`account/sg-id`) when the policy asks for it and AWS allows it (same region, requester
/// observed with at least one group); otherwise the requester VPC CIDRs.
fn ingress_sources(state: &WiringState, wiring: &Wiring) -> Vec<RulePeer> {
    let peering = &state.peering;
    let same_region = peering.sides.requester.region == peering.sides.accepter.region;
    if wiring.ingress_source == IngressSource::SecurityGroup && same_region {
        if let Some(requester) = state
            .sides
            .requester
            .as_ref()
            .filter(|r| !r.security_groups.is_empty())
        {
            return unique_groups(requester)
                .into_iter()
                .map(|g| RulePeer::Group {
                    account: Some(peering.sides.requester.account.clone()),
                    group_id: g.id.clone(),
                })
                .collect();
        }
    }
    peer_cidrs(state, Side::Accepter)
        .into_iter()
        .map(|cidr| RulePeer::Cidr { cidr })
        .collect()
}

/// What one direction of one group needs: rules to add, and rules to re-mark.
#[derive(Debug, Default)]
struct RuleChanges {
    /// Port × peer that no rule covers yet (or only a rule marked for another peering that
    /// is not exactly peerwire's shape), sorted.
    missing: Vec<Permission>,
    /// Exactly peerwire's rule for a port × peer, but marked for another peering: a rule AWS
    /// revived when the same two VPCs were peered again. Re-marked for this one.
    remark: Vec<Permission>,
}

impl RuleChanges {
    /// The Authorize step (first) and the Remark step of `group`, when there is something.
    fn into_steps(
        self,
        side: Side,
        direction: Direction,
        group: &SecurityGroup,
        steps: &mut Vec<PlanStep>,
    ) {
        if !self.missing.is_empty() {
            steps.push(PlanStep::ec2(
                side,
                Ec2Action::Authorize {
                    direction,
                    group_id: group.id.clone(),
                    permissions: self.missing,
                },
            ));
        }
        if !self.remark.is_empty() {
            steps.push(PlanStep::ec2(
                side,
                Ec2Action::Remark {
                    direction,
                    group_id: group.id.clone(),
                    permissions: self.remark,
                },
            ));
        }
    }
}

/// For each port × peer: covered by a rule that stays (a person's, or this peering's own),
/// nothing; else exactly a rule marked for another peering, re-mark it; else add it.
///
/// Only a gone peering of the same two VPCs can have left such a rule: AWS allows one live
/// peering between two VPCs at a time, and peerwire never accepts a second peering of a VPC
/// with an overlapping CIDR, so two live peerings never need the same rule.
fn rule_changes(
    existing: &[SgRule],
    ports: &BTreeSet<u16>,
    peers: &[RulePeer],
    marker: &str,
) -> RuleChanges {
    // A person's rule, or this peering's own, stays; another peering's marked rule goes with it.
    let stays = |rule: &&SgRule| {
        rule.description
            .as_deref()
            .and_then(marked_peering)
            .is_none_or(|owner| rule_marker(&owner) == marker)
    };
    let mut missing = BTreeSet::new();
    let mut remark = BTreeSet::new();
    for &port in ports {
        for peer in peers {
            let wanted = Permission {
                port,
                peer: peer.clone(),
                description: marker.to_owned(),
            };
            let covering: Vec<&SgRule> = existing
                .iter()
                .filter(|rule| covers(rule, port, peer))
                .collect();
            if covering.iter().any(stays) {
                continue;
            }
            if covering.iter().any(|rule| exactly(rule, port, peer)) {
                remark.insert(wanted);
            } else {
                missing.insert(wanted);
            }
        }
    }
    RuleChanges {
        missing: missing.into_iter().collect(),
        remark: remark.into_iter().collect(),
    }
}

/// Whether `rule` is exactly the one peerwire makes for TCP `port` and `peer`.
fn exactly(rule: &SgRule, port: u16, peer: &RulePeer) -> bool {
    let protocol = rule.protocol.trim().to_ascii_lowercase();
    (protocol == "tcp" || protocol == "6")
        && rule.from_port == Some(i32::from(port))
        && rule.to_port == Some(i32::from(port))
        && match (&rule.peer, peer) {
            (RulePeer::Group { group_id: have, .. }, RulePeer::Group { group_id: want, .. }) => {
                have == want
            }
            (have, want) => have == want,
        }
}

/// Whether an existing rule already admits TCP `port` from/to `peer`, whoever added it.
fn covers(rule: &SgRule, port: u16, peer: &RulePeer) -> bool {
    let protocol = rule.protocol.trim().to_ascii_lowercase();
    let all_traffic = protocol == "-1";
    if !all_traffic && protocol != "tcp" && protocol != "6" {
        return false;
    }
    let port = i32::from(port);
    let in_range = all_traffic
        || (rule.from_port.is_none_or(|from| from <= port)
            && rule.to_port.is_none_or(|to| port <= to));
    in_range
        && match (&rule.peer, peer) {
            (RulePeer::Cidr { cidr: have }, RulePeer::Cidr { cidr: want }) => {
                cidr::within_any(want, std::slice::from_ref(have))
            }
            // Group references are account-qualified only across accounts: the id decides.
            (RulePeer::Group { group_id: have, .. }, RulePeer::Group { group_id: want, .. }) => {
                have == want
            }
            // A prefix list's entries are not read: it covers nothing peerwire can prove.
            (
                RulePeer::Cidr { .. } | RulePeer::Group { .. } | RulePeer::PrefixList { .. },
                RulePeer::Cidr { .. } | RulePeer::Group { .. } | RulePeer::PrefixList { .. },
            ) => false,
        }
}

#[cfg(test)]
mod tests;
