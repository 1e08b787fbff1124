//! The wiring planner: what an active peering still needs on each side to carry traffic.
//!
//! [`plan_wiring`] is pure: it compares the observed [`WiringState`] with the policy's
//! [`Wiring`] and lists only the difference, in a deterministic order. It never plans a change
//! to something it does not own: a route to a peer CIDR through another target is reported as
//! a [`Finding::RouteConflict`], never replaced, and a security-group rule someone already added
//! (by hand or by a broader rule) satisfies the need instead of being duplicated. Every route
//! destination and every rule peer it plans is a peer VPC CIDR (or a peer security group), and
//! every rule port is one of the policy's ports: never anything broader.
//!
//! Plan order: routes (requester side, then accepter; by table, then destination), ingress
//! (accepter), egress (requester), VPC DNS attributes, then the peering DNS options. The
//! attributes come before the options because AWS requires both VPCs to have DNS support and
//! DNS hostnames on for `AllowDnsResolutionFromRemoteVpc` to take effect.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;

use crate::cidr;
use crate::model::{PeeringSide, PeeringStatus, RulePeer, SgRule, SideState, WiringState};
use crate::plan::{
    describe_permissions, rule_marker, DnsAttribute, Finding, Permission, PlanStep, Side,
    WiringPlan,
};
use crate::policy::{IngressSource, SideWiring, Wiring};

/// The steps that wire an active peering, and what peerwire reports without changing.
///
/// Returns an empty plan unless the peering is `active`. A side whose state is `None` (or whose
/// policy says `manage: false`) gets no step and no finding.
pub fn plan_wiring(state: &WiringState, wiring: &Wiring) -> WiringPlan {
    if state.peering.status != PeeringStatus::Active {
        return WiringPlan::default();
    }
    let sides = [Side::Requester, Side::Accepter];
    let ports: BTreeSet<u16> = wiring.ports.iter().copied().collect();

    let mut route_steps = Vec::new();
    let mut conflicts = Vec::new();
    let mut selection = Vec::new();
    for side in sides {
        let Some(local) = managed(state, wiring, side) else {
            continue;
        };
        let scope = side_wiring(wiring, side);
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
                let missing = missing_permissions(&group.ingress, &ports, &sources, &marker);
                if !missing.is_empty() {
                    ingress_steps.push(PlanStep::AuthorizeIngress {
                        side: Side::Accepter,
                        group_id: group.id.clone(),
                        permissions: missing,
                    });
                }
            }
        }
        if let Some(requester) = managed(state, wiring, Side::Requester) {
            let destinations: Vec<RulePeer> = peer_cidrs(state, Side::Requester)
                .into_iter()
                .map(|cidr| RulePeer::Cidr { cidr })
                .collect();
            for group in unique_groups(requester) {
                let missing = missing_permissions(&group.egress, &ports, &destinations, &marker);
                if !missing.is_empty() {
                    egress_steps.push(PlanStep::AuthorizeEgress {
                        side: Side::Requester,
                        group_id: group.id.clone(),
                        permissions: missing,
                    });
                }
            }
        }
    }

    let mut attribute_steps = Vec::new();
    let mut attribute_findings = Vec::new();
    let mut option_steps = Vec::new();
    for side in sides {
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
                attribute_steps.push(PlanStep::EnableVpcDnsAttribute {
                    side,
                    vpc_id,
                    attribute,
                });
            } else {
                attribute_findings.push(Finding::DnsAttributeOff {
                    side,
                    vpc_id,
                    attribute,
                });
            }
        }
        if !view(state, side).allow_dns_resolution_from_remote_vpc {
            option_steps.push(PlanStep::SetDnsResolution {
                side,
                peering_id: state.peering.id.clone(),
            });
        }
    }

    let mut steps = route_steps;
    steps.extend(ingress_steps);
    steps.extend(egress_steps);
    steps.extend(attribute_steps);
    steps.extend(option_steps);
    let mut findings = conflicts;
    findings.extend(selection);
    findings.extend(attribute_findings);
    WiringPlan { steps, findings }
}

/// One line for logs, outcomes and the CLI, e.g.
/// `requester rtb-123: route 10.1.0.0/16 -> pcx-abc`.
pub fn describe_step(step: &PlanStep) -> String {
    match step {
        PlanStep::AcceptPeering { peering_id, rule } => {
            if rule.is_empty() {
                format!("accepter: accept {peering_id}")
            } else {
                format!("accepter: accept {peering_id} (rule `{rule}`)")
            }
        }
        PlanStep::RejectPeering {
            peering_id,
            reasons,
        } => {
            if reasons.is_empty() {
                format!("accepter: reject {peering_id}")
            } else {
                format!("accepter: reject {peering_id}: {}", reasons.join("; "))
            }
        }
        PlanStep::CreateRoute {
            side,
            route_table_id,
            destination,
            peering_id,
        } => format!("{side} {route_table_id}: route {destination} -> {peering_id}"),
        PlanStep::ReplaceBlackholeRoute {
            side,
            route_table_id,
            destination,
            peering_id,
        } => format!(
            "{side} {route_table_id}: replace blackhole route {destination} -> {peering_id}"
        ),
        PlanStep::AuthorizeIngress {
            side,
            group_id,
            permissions,
        } => format!(
            "{side} {group_id}: ingress {}",
            describe_permissions(permissions, "from")
        ),
        PlanStep::AuthorizeEgress {
            side,
            group_id,
            permissions,
        } => format!(
            "{side} {group_id}: egress {}",
            describe_permissions(permissions, "to")
        ),
        PlanStep::SetDnsResolution { side, peering_id } => {
            format!("{side}: allow DNS resolution from the remote VPC on {peering_id}")
        }
        PlanStep::EnableVpcDnsAttribute {
            side,
            vpc_id,
            attribute,
        } => format!("{side} {vpc_id}: turn on {}", attribute.aws_name()),
        PlanStep::DeleteRoute {
            side,
            route_table_id,
            destination,
            peering_id,
        } => format!("{side} {route_table_id}: delete route {destination} -> {peering_id}"),
        PlanStep::RevokeIngress {
            side,
            group_id,
            permissions,
        } => format!(
            "{side} {group_id}: revoke ingress {}",
            describe_permissions(permissions, "from")
        ),
        PlanStep::RevokeEgress {
            side,
            group_id,
            permissions,
        } => format!(
            "{side} {group_id}: revoke egress {}",
            describe_permissions(permissions, "to")
        ),
    }
}

/// One line for logs, outcomes and the CLI, e.g.
/// `accepter rtb-1: route to 10.0.0.0/16 points at tgw-1; not replaced`.
pub fn describe_finding(finding: &Finding) -> String {
    match finding {
        Finding::RouteConflict {
            side,
            route_table_id,
            destination,
            target,
            blackhole,
        } => {
            let state = if *blackhole { " (blackhole)" } else { "" };
            format!("{side} {route_table_id}: route to {destination} points at {target}{state}; not replaced")
        }
        Finding::DnsAttributeOff {
            side,
            vpc_id,
            attribute,
        } => format!(
            "{side} {vpc_id}: {} is off; not changed (fix_vpc_dns_attributes is false)",
            attribute.aws_name()
        ),
        Finding::NothingSelected { side, what } => {
            format!("{side}: the policy selects {what}, but none matched")
        }
        Finding::StaleGroupReference {
            side,
            group_id,
            referenced,
            egress,
        } => {
            let direction = if *egress { "egress to" } else { "ingress from" };
            format!("{side} {group_id}: a rule not made by peerwire still allows {direction} {referenced} across the gone peering (stale); left for its owner")
        }
    }
}

fn nothing_selected(side: Side, what: &str) -> Finding {
    Finding::NothingSelected {
        side,
        what: what.to_owned(),
    }
}

fn opposite(side: Side) -> Side {
    match side {
        Side::Requester => Side::Accepter,
        Side::Accepter => Side::Requester,
    }
}

/// The peering's own description of one side.
fn view(state: &WiringState, side: Side) -> &PeeringSide {
    match side {
        Side::Requester => &state.peering.requester,
        Side::Accepter => &state.peering.accepter,
    }
}

/// The observed side, whether or not peerwire manages it.
fn observed(state: &WiringState, side: Side) -> Option<&SideState> {
    match side {
        Side::Requester => state.requester.as_ref(),
        Side::Accepter => state.accepter.as_ref(),
    }
}

fn side_wiring(wiring: &Wiring, side: Side) -> &SideWiring {
    match side {
        Side::Requester => &wiring.requester,
        Side::Accepter => &wiring.accepter,
    }
}

/// The observed side when peerwire manages it: observed, and not `manage: false`.
fn managed<'a>(state: &'a WiringState, wiring: &Wiring, side: Side) -> Option<&'a SideState> {
    observed(state, side).filter(|_| side_wiring(wiring, side).manage)
}

/// The VPC CIDRs of the other side, as seen from `side`: the observed VPC when there is one,
/// else what the peering reports. IPv6 blocks only when `side`'s VPC has IPv6 too (an IPv6
/// route or rule is useless, and refused, without it). Canonical, deduplicated, sorted.
fn peer_cidrs(state: &WiringState, side: Side) -> Vec<IpNet> {
    let remote = opposite(side);
    let remote_cidrs = match observed(state, remote) {
        Some(other) => &other.network.cidrs,
        None => &view(state, remote).cidrs,
    };
    let local_cidrs = match observed(state, side) {
        Some(local) => &local.network.cidrs,
        None => &view(state, side).cidrs,
    };
    let local_ipv6 = local_cidrs.iter().any(|c| matches!(c, IpNet::V6(_)));
    let unique: BTreeSet<IpNet> = remote_cidrs
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
    tables: Vec<String>,
    /// `subnet_ids` or `subnet_tags` is set.
    explicit_selector: bool,
    /// Subnets those selectors matched.
    explicit_matches: usize,
}

/// The subnets the policy puts in scope on one side: every subnet without a selector, else
/// the selected ones plus every subnet of the named DB instances.
pub(crate) fn scoped_subnets(local: &SideState, scope: &SideWiring) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    if scope.all_subnets() {
        ids.extend(local.subnets.iter().map(|s| s.id.clone()));
        return ids;
    }
    ids.extend(selected_subnets(local, scope));
    for db in &local.db_instances {
        ids.extend(db.subnet_ids.iter().cloned());
    }
    ids
}

/// The subnets an explicit selector (`subnet_ids`, `subnet_tags`) picks.
fn selected_subnets(local: &SideState, scope: &SideWiring) -> Vec<String> {
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

/// The route table a subnet uses: its explicit association, else the main table.
pub(crate) fn route_table_of<'a>(
    local: &'a SideState,
    subnet_id: &str,
) -> Option<&'a crate::model::RouteTable> {
    let tables = &local.network.route_tables;
    tables
        .iter()
        .find(|t| t.subnet_ids.iter().any(|s| s == subnet_id))
        .or_else(|| tables.iter().find(|t| t.main))
}

/// The route tables in scope: those of the scoped subnets, and the main table when every
/// subnet is in scope (subnets created later land there).
pub(crate) fn tables_in_scope(local: &SideState, scope: &SideWiring) -> BTreeSet<String> {
    let mut tables: BTreeSet<String> = scoped_subnets(local, scope)
        .iter()
        .filter_map(|s| route_table_of(local, s))
        .map(|t| t.id.clone())
        .collect();
    if scope.all_subnets() {
        tables.extend(
            local
                .network
                .route_tables
                .iter()
                .filter(|t| t.main)
                .map(|t| t.id.clone()),
        );
    }
    tables
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
/// blackhole route of this same peering, and report (never touch) a route to another target.
fn plan_routes(
    peering_id: &str,
    side: Side,
    local: &SideState,
    tables: &[String],
    peers: &[IpNet],
    steps: &mut Vec<PlanStep>,
    findings: &mut Vec<Finding>,
) {
    use crate::model::RouteTarget;

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
            let existing = table
                .routes
                .iter()
                .find(|r| r.destination.trunc() == *destination);
            match existing {
                None => steps.push(PlanStep::CreateRoute {
                    side,
                    route_table_id: table.id.clone(),
                    destination: *destination,
                    peering_id: peering_id.to_owned(),
                }),
                Some(route) => match &route.target {
                    RouteTarget::Peering(id) if id == peering_id => {
                        if route.blackhole {
                            steps.push(PlanStep::ReplaceBlackholeRoute {
                                side,
                                route_table_id: table.id.clone(),
                                destination: *destination,
                                peering_id: peering_id.to_owned(),
                            });
                        }
                    }
                    other => findings.push(Finding::RouteConflict {
                        side,
                        route_table_id: table.id.clone(),
                        destination: *destination,
                        target: other.clone(),
                        blackhole: route.blackhole,
                    }),
                },
            }
        }
    }
}

/// The selected groups of one side, once each, sorted by id.
fn unique_groups(local: &SideState) -> Vec<&crate::model::SecurityGroup> {
    let by_id: BTreeMap<&str, &crate::model::SecurityGroup> = local
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
    let same_region = peering.requester.region == peering.accepter.region;
    if wiring.ingress_source == IngressSource::SecurityGroup && same_region {
        if let Some(requester) = state
            .requester
            .as_ref()
            .filter(|r| !r.security_groups.is_empty())
        {
            return unique_groups(requester)
                .into_iter()
                .map(|g| RulePeer::Group {
                    account: Some(peering.requester.account.clone()),
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

/// Every port × peer that no existing rule covers yet, sorted.
fn missing_permissions(
    existing: &[SgRule],
    ports: &BTreeSet<u16>,
    peers: &[RulePeer],
    marker: &str,
) -> Vec<Permission> {
    let mut missing = BTreeSet::new();
    for &port in ports {
        for peer in peers {
            if !existing.iter().any(|rule| covers(rule, port, peer)) {
                missing.insert(Permission {
                    port,
                    peer: peer.clone(),
                    description: marker.to_owned(),
                });
            }
        }
    }
    missing.into_iter().collect()
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
            _ => false,
        }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::model::{
        DbInstance, Peering, Route, RouteTable, RouteTarget, SecurityGroup, Subnet, VpcNetwork,
    };

    const PCX: &str = "pcx-0aaa1111bbbb2222c";
    const REQUESTER: &str = "111111111111";
    const ACCEPTER: &str = "222222222222";
    const REQUESTER_VPC: &str = "vpc-req";
    const ACCEPTER_VPC: &str = "vpc-acc";
    /// The requester (ECS tasks) VPC.
    const REQ_CIDR: &str = "10.0.0.0/16";
    /// The accepter (RDS) VPC.
    const ACC_CIDR: &str = "10.1.0.0/16";

    fn net(s: &str) -> IpNet {
        crate::cidr::parse_cidr(s).unwrap_or_else(|e| panic!("test CIDR {s}: {e}"))
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| net(s)).collect()
    }

    fn route(destination: &str, target: RouteTarget) -> Route {
        Route {
            destination: net(destination),
            target,
            blackhole: false,
        }
    }

    fn blackhole(destination: &str, target: RouteTarget) -> Route {
        Route {
            blackhole: true,
            ..route(destination, target)
        }
    }

    fn local(cidr: &str) -> Route {
        route(cidr, RouteTarget::Local)
    }

    fn to_pcx(destination: &str) -> Route {
        route(destination, RouteTarget::Peering(PCX.to_owned()))
    }

    fn table(id: &str, main: bool, subnets: &[&str], routes: Vec<Route>) -> RouteTable {
        RouteTable {
            id: id.to_owned(),
            main,
            subnet_ids: subnets.iter().map(|s| (*s).to_owned()).collect(),
            routes,
        }
    }

    fn subnet(id: &str, az: &str, tags: &[(&str, &str)]) -> Subnet {
        Subnet {
            id: id.to_owned(),
            availability_zone: az.to_owned(),
            cidr: None,
            tags: tags
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    fn tcp(from: i32, to: i32, peer: RulePeer) -> SgRule {
        SgRule {
            protocol: "tcp".to_owned(),
            from_port: Some(from),
            to_port: Some(to),
            peer,
            description: None,
        }
    }

    fn all_traffic(peer: RulePeer) -> SgRule {
        SgRule {
            protocol: "-1".to_owned(),
            from_port: None,
            to_port: None,
            peer,
            description: None,
        }
    }

    fn cidr_peer(s: &str) -> RulePeer {
        RulePeer::Cidr { cidr: net(s) }
    }

    fn group(id: &str, ingress: Vec<SgRule>, egress: Vec<SgRule>) -> SecurityGroup {
        SecurityGroup {
            id: id.to_owned(),
            name: id.to_owned(),
            tags: BTreeMap::new(),
            ingress,
            egress,
        }
    }

    fn side_state(
        account: &str,
        vpc_id: &str,
        cidrs: &[&str],
        route_tables: Vec<RouteTable>,
        subnets: Vec<Subnet>,
    ) -> SideState {
        SideState {
            network: VpcNetwork {
                account: account.to_owned(),
                vpc_id: vpc_id.to_owned(),
                cidrs: nets(cidrs),
                route_tables,
            },
            subnets,
            security_groups: Vec::new(),
            dns_support: true,
            dns_hostnames: true,
            db_instances: Vec::new(),
        }
    }

    fn peering_side(account: &str, vpc_id: &str, cidrs: &[&str]) -> PeeringSide {
        PeeringSide {
            account: account.to_owned(),
            vpc_id: vpc_id.to_owned(),
            region: "us-east-1".to_owned(),
            cidrs: nets(cidrs),
            allow_dns_resolution_from_remote_vpc: true,
        }
    }

    /// Requester 10.0.0.0/16 (one subnet on its main table), accepter 10.1.0.0/16 (one subnet
    /// on its main table), same region, both managed, DNS attributes and options on, no route
    /// to the peer yet, no security group.
    fn state() -> WiringState {
        WiringState {
            peering: Peering {
                id: PCX.to_owned(),
                status: PeeringStatus::Active,
                status_message: None,
                requester: peering_side(REQUESTER, REQUESTER_VPC, &[REQ_CIDR]),
                accepter: peering_side(ACCEPTER, ACCEPTER_VPC, &[ACC_CIDR]),
                tags: BTreeMap::new(),
            },
            requester: Some(side_state(
                REQUESTER,
                REQUESTER_VPC,
                &[REQ_CIDR],
                vec![table("rtb-r-main", true, &[], vec![local(REQ_CIDR)])],
                vec![subnet("subnet-r1", "us-east-1a", &[])],
            )),
            accepter: Some(side_state(
                ACCEPTER,
                ACCEPTER_VPC,
                &[ACC_CIDR],
                vec![table("rtb-a-main", true, &[], vec![local(ACC_CIDR)])],
                vec![subnet("subnet-a1", "us-east-1a", &[])],
            )),
        }
    }

    fn requester(state: &mut WiringState) -> &mut SideState {
        state
            .requester
            .as_mut()
            .unwrap_or_else(|| panic!("requester managed"))
    }

    fn accepter(state: &mut WiringState) -> &mut SideState {
        state
            .accepter
            .as_mut()
            .unwrap_or_else(|| panic!("accepter managed"))
    }

    fn set_cidrs(state: &mut WiringState, side: Side, cidrs: &[&str]) {
        match side {
            Side::Requester => {
                state.peering.requester.cidrs = nets(cidrs);
                requester(state).network.cidrs = nets(cidrs);
            }
            Side::Accepter => {
                state.peering.accepter.cidrs = nets(cidrs);
                accepter(state).network.cidrs = nets(cidrs);
            }
        }
    }

    fn wiring(ports: &[u16]) -> Wiring {
        Wiring {
            ports: ports.to_vec(),
            ..Wiring::default()
        }
    }

    /// `(side, table, destination, replace?)` of every route step, in plan order.
    fn routes(plan: &WiringPlan) -> Vec<(Side, String, String, bool)> {
        plan.steps
            .iter()
            .filter_map(|step| match step {
                PlanStep::CreateRoute {
                    side,
                    route_table_id,
                    destination,
                    peering_id,
                } => {
                    assert_eq!(peering_id, PCX);
                    Some((
                        *side,
                        route_table_id.clone(),
                        destination.to_string(),
                        false,
                    ))
                }
                PlanStep::ReplaceBlackholeRoute {
                    side,
                    route_table_id,
                    destination,
                    peering_id,
                } => {
                    assert_eq!(peering_id, PCX);
                    Some((*side, route_table_id.clone(), destination.to_string(), true))
                }
                _ => None,
            })
            .collect()
    }

    fn r(side: Side, table: &str, destination: &str) -> (Side, String, String, bool) {
        (side, table.to_owned(), destination.to_owned(), false)
    }

    /// `(group, [(port, peer)])` of every ingress (or egress) step, in plan order.
    fn rules(plan: &WiringPlan, egress: bool) -> Vec<(String, Vec<(u16, String)>)> {
        plan.steps
            .iter()
            .filter_map(|step| match (step, egress) {
                (
                    PlanStep::AuthorizeIngress {
                        side,
                        group_id,
                        permissions,
                    },
                    false,
                ) => {
                    assert_eq!(*side, Side::Accepter);
                    Some((group_id, permissions))
                }
                (
                    PlanStep::AuthorizeEgress {
                        side,
                        group_id,
                        permissions,
                    },
                    true,
                ) => {
                    assert_eq!(*side, Side::Requester);
                    Some((group_id, permissions))
                }
                _ => None,
            })
            .map(|(group_id, permissions)| {
                for p in permissions {
                    assert_eq!(p.description, format!("peerwire:{PCX}"));
                }
                (
                    group_id.clone(),
                    permissions
                        .iter()
                        .map(|p| (p.port, p.peer.to_string()))
                        .collect(),
                )
            })
            .collect()
    }

    fn perms(list: &[(u16, &str)]) -> Vec<(u16, String)> {
        list.iter().map(|(p, s)| (*p, (*s).to_owned())).collect()
    }

    // ---------------------------------------------------------------- routes

    #[test]
    fn a_subnet_on_the_main_table_is_routed_through_the_main_table() {
        let plan = plan_wiring(&state(), &wiring(&[]));
        assert_eq!(
            routes(&plan),
            [
                r(Side::Requester, "rtb-r-main", ACC_CIDR),
                r(Side::Accepter, "rtb-a-main", REQ_CIDR),
            ]
        );
        assert!(plan.findings.is_empty(), "{:?}", plan.findings);

        // Narrowed to that one subnet: still the main table, since it has no table of its own.
        let mut w = wiring(&[]);
        w.accepter.subnet_ids = vec!["subnet-a1".to_owned()];
        let plan = plan_wiring(&state(), &w);
        assert!(routes(&plan).contains(&r(Side::Accepter, "rtb-a-main", REQ_CIDR)));
    }

    #[test]
    fn a_subnet_with_its_own_table_is_routed_in_that_table_only() {
        let mut s = state();
        let a = accepter(&mut s);
        a.subnets.push(subnet("subnet-a2", "us-east-1b", &[]));
        a.network.route_tables.push(table(
            "rtb-a-private",
            false,
            &["subnet-a2"],
            vec![local(ACC_CIDR)],
        ));
        let mut w = wiring(&[]);
        w.accepter.subnet_ids = vec!["subnet-a2".to_owned()];

        let plan = plan_wiring(&s, &w);

        let accepter_routes: Vec<_> = routes(&plan)
            .into_iter()
            .filter(|(side, ..)| *side == Side::Accepter)
            .collect();
        assert_eq!(
            accepter_routes,
            [r(Side::Accepter, "rtb-a-private", REQ_CIDR)]
        );
    }

    #[test]
    fn subnets_selected_by_tags_need_every_tag_to_match() {
        let mut s = state();
        let a = accepter(&mut s);
        a.subnets = vec![
            subnet(
                "subnet-db-a",
                "us-east-1a",
                &[("tier", "db"), ("env", "prod")],
            ),
            subnet(
                "subnet-db-b",
                "us-east-1b",
                &[("tier", "db"), ("env", "dev")],
            ),
            subnet(
                "subnet-web",
                "us-east-1a",
                &[("tier", "web"), ("env", "prod")],
            ),
        ];
        a.network.route_tables = vec![
            table("rtb-a-main", true, &[], vec![local(ACC_CIDR)]),
            table("rtb-db-a", false, &["subnet-db-a"], vec![]),
            table("rtb-db-b", false, &["subnet-db-b"], vec![]),
            table("rtb-web", false, &["subnet-web"], vec![]),
        ];
        let mut w = wiring(&[]);
        w.accepter.subnet_tags = [("tier", "db"), ("env", "prod")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();

        let plan = plan_wiring(&s, &w);

        let tables: Vec<_> = routes(&plan)
            .into_iter()
            .filter(|(side, ..)| *side == Side::Accepter)
            .map(|(_, t, ..)| t)
            .collect();
        assert_eq!(tables, ["rtb-db-a"]);
    }

    #[test]
    fn every_table_of_the_vpc_and_the_main_one_get_a_route_to_every_peer_cidr() {
        let mut s = state();
        set_cidrs(&mut s, Side::Requester, &[REQ_CIDR, "10.50.0.0/16"]);
        let a = accepter(&mut s);
        a.subnets = vec![
            subnet("subnet-a1", "us-east-1a", &[]),
            subnet("subnet-a2", "us-east-1b", &[]),
            subnet("subnet-a3", "us-east-1c", &[]),
        ];
        a.network.route_tables = vec![
            // Unsorted on purpose: the plan sorts by table id.
            table("rtb-a-private-2", false, &["subnet-a3"], vec![]),
            table("rtb-a-main", true, &[], vec![local(ACC_CIDR)]),
            table(
                "rtb-a-private-1",
                false,
                &["subnet-a1", "subnet-a2"],
                vec![],
            ),
        ];

        let plan = plan_wiring(&s, &wiring(&[]));

        let accepter_routes: Vec<_> = routes(&plan)
            .into_iter()
            .filter(|(side, ..)| *side == Side::Accepter)
            .collect();
        assert_eq!(
            accepter_routes,
            [
                r(Side::Accepter, "rtb-a-main", "10.0.0.0/16"),
                r(Side::Accepter, "rtb-a-main", "10.50.0.0/16"),
                r(Side::Accepter, "rtb-a-private-1", "10.0.0.0/16"),
                r(Side::Accepter, "rtb-a-private-1", "10.50.0.0/16"),
                r(Side::Accepter, "rtb-a-private-2", "10.0.0.0/16"),
                r(Side::Accepter, "rtb-a-private-2", "10.50.0.0/16"),
            ],
            "the main table is routed although no subnet uses it: new subnets land there"
        );
    }

    #[test]
    fn a_route_to_the_peer_through_a_transit_gateway_is_never_replaced() {
        let mut s = state();
        accepter(&mut s).network.route_tables[0].routes.push(route(
            REQ_CIDR,
            RouteTarget::TransitGateway("tgw-1".to_owned()),
        ));

        let plan = plan_wiring(&s, &wiring(&[]));

        assert!(!routes(&plan)
            .iter()
            .any(|(side, ..)| *side == Side::Accepter));
        assert_eq!(
            plan.findings,
            [Finding::RouteConflict {
                side: Side::Accepter,
                route_table_id: "rtb-a-main".to_owned(),
                destination: net(REQ_CIDR),
                target: RouteTarget::TransitGateway("tgw-1".to_owned()),
                blackhole: false,
            }]
        );
        assert!(plan.findings[0].is_blocking());
        assert_eq!(
            describe_finding(&plan.findings[0]),
            "accepter rtb-a-main: route to 10.0.0.0/16 points at tgw-1; not replaced"
        );
    }

    #[test]
    fn a_broader_route_elsewhere_does_not_conflict_the_more_specific_peer_route_wins() {
        let mut s = state();
        accepter(&mut s).network.route_tables[0].routes.push(route(
            "10.0.0.0/8",
            RouteTarget::TransitGateway("tgw-1".to_owned()),
        ));

        let plan = plan_wiring(&s, &wiring(&[]));

        assert!(routes(&plan).contains(&r(Side::Accepter, "rtb-a-main", REQ_CIDR)));
        assert!(plan.findings.is_empty(), "{:?}", plan.findings);
    }

    #[test]
    fn a_blackhole_route_to_this_peering_is_replaced_one_to_another_peering_is_a_conflict() {
        let mut s = state();
        accepter(&mut s).network.route_tables[0]
            .routes
            .push(blackhole(REQ_CIDR, RouteTarget::Peering(PCX.to_owned())));
        requester(&mut s).network.route_tables[0]
            .routes
            .push(blackhole(
                ACC_CIDR,
                RouteTarget::Peering("pcx-old".to_owned()),
            ));

        let plan = plan_wiring(&s, &wiring(&[]));

        assert_eq!(
            routes(&plan),
            [(
                Side::Accepter,
                "rtb-a-main".to_owned(),
                REQ_CIDR.to_owned(),
                true
            )]
        );
        assert_eq!(
            plan.findings,
            [Finding::RouteConflict {
                side: Side::Requester,
                route_table_id: "rtb-r-main".to_owned(),
                destination: net(ACC_CIDR),
                target: RouteTarget::Peering("pcx-old".to_owned()),
                blackhole: true,
            }]
        );
        assert_eq!(
            describe_finding(&plan.findings[0]),
            "requester rtb-r-main: route to 10.1.0.0/16 points at pcx-old (blackhole); not replaced"
        );
    }

    #[test]
    fn every_other_route_target_is_a_conflict() {
        for target in [
            RouteTarget::Local,
            RouteTarget::Gateway("vgw-1".to_owned()),
            RouteTarget::NatGateway("nat-1".to_owned()),
            RouteTarget::NetworkInterface("eni-1".to_owned()),
            RouteTarget::Instance("i-1".to_owned()),
            RouteTarget::Other("cagw-1".to_owned()),
            RouteTarget::Peering("pcx-other".to_owned()),
        ] {
            let mut s = state();
            accepter(&mut s).network.route_tables[0]
                .routes
                .push(route(REQ_CIDR, target.clone()));
            let plan = plan_wiring(&s, &wiring(&[]));
            assert!(
                !routes(&plan)
                    .iter()
                    .any(|(side, ..)| *side == Side::Accepter),
                "{target:?}"
            );
            assert!(
                matches!(&plan.findings[..], [Finding::RouteConflict { target: t, .. }] if *t == target),
                "{target:?}: {:?}",
                plan.findings
            );
        }
    }

    /// An RDS DB subnet group over 3 AZs, each AZ's subnet on its own table; plus an app
    /// subnet on a fourth table and the main table.
    fn rds_across_three_azs() -> WiringState {
        let mut s = state();
        let a = accepter(&mut s);
        a.subnets = vec![
            subnet("subnet-db-a", "us-east-1a", &[]),
            subnet("subnet-db-b", "us-east-1b", &[]),
            subnet("subnet-db-c", "us-east-1c", &[]),
            subnet("subnet-app", "us-east-1a", &[]),
        ];
        a.network.route_tables = vec![
            table("rtb-a-main", true, &[], vec![local(ACC_CIDR)]),
            table("rtb-db-a", false, &["subnet-db-a"], vec![local(ACC_CIDR)]),
            table("rtb-db-b", false, &["subnet-db-b"], vec![local(ACC_CIDR)]),
            table("rtb-db-c", false, &["subnet-db-c"], vec![local(ACC_CIDR)]),
            table("rtb-app", false, &["subnet-app"], vec![local(ACC_CIDR)]),
        ];
        a.db_instances = vec![DbInstance {
            id: "orders".to_owned(),
            port: Some(5432),
            availability_zone: Some("us-east-1b".to_owned()),
            subnet_ids: vec![
                "subnet-db-a".to_owned(),
                "subnet-db-b".to_owned(),
                "subnet-db-c".to_owned(),
            ],
            security_group_ids: vec!["sg-db".to_owned()],
        }];
        s
    }

    fn accepter_tables(plan: &WiringPlan) -> Vec<String> {
        routes(plan)
            .into_iter()
            .filter(|(side, ..)| *side == Side::Accepter)
            .map(|(_, table, ..)| table)
            .collect()
    }

    #[test]
    fn a_db_subnet_group_over_three_azs_routes_all_three_tables_and_only_those() {
        let mut w = wiring(&[]);
        w.accepter.db_instances = vec!["orders".to_owned()];

        let plan = plan_wiring(&rds_across_three_azs(), &w);

        // The primary is in 1b, but a Multi-AZ failover can land in any of the three.
        assert_eq!(accepter_tables(&plan), ["rtb-db-a", "rtb-db-b", "rtb-db-c"]);
        assert!(plan.findings.is_empty(), "{:?}", plan.findings);

        // Without a selector every table is in scope.
        let plan = plan_wiring(&rds_across_three_azs(), &wiring(&[]));
        assert_eq!(
            accepter_tables(&plan),
            ["rtb-a-main", "rtb-app", "rtb-db-a", "rtb-db-b", "rtb-db-c"]
        );
    }

    #[test]
    fn db_subnets_and_selected_subnets_add_up() {
        let mut w = wiring(&[]);
        w.accepter.db_instances = vec!["orders".to_owned()];
        w.accepter.subnet_ids = vec!["subnet-app".to_owned()];

        let plan = plan_wiring(&rds_across_three_azs(), &w);

        assert_eq!(
            accepter_tables(&plan),
            ["rtb-app", "rtb-db-a", "rtb-db-b", "rtb-db-c"]
        );
    }

    // ---------------------------------------------------------------- idempotence

    /// Everything already in place: routes both ways, the DB group open to the requester on
    /// 5432, the task group open to the accepter on 5432, DNS on.
    fn wired() -> (WiringState, Wiring) {
        let mut s = rds_across_three_azs();
        let a = accepter(&mut s);
        for t in &mut a.network.route_tables {
            t.routes.push(to_pcx(REQ_CIDR));
        }
        a.security_groups = vec![group(
            "sg-db",
            vec![SgRule {
                description: Some(rule_marker(PCX)),
                ..tcp(5432, 5432, cidr_peer(REQ_CIDR))
            }],
            vec![all_traffic(cidr_peer("0.0.0.0/0"))],
        )];
        let r = requester(&mut s);
        r.network.route_tables[0].routes.push(to_pcx(ACC_CIDR));
        r.security_groups = vec![group(
            "sg-tasks",
            vec![],
            vec![SgRule {
                description: Some(rule_marker(PCX)),
                ..tcp(5432, 5432, cidr_peer(ACC_CIDR))
            }],
        )];
        let mut w = wiring(&[5432]);
        w.requester.security_group_ids = vec!["sg-tasks".to_owned()];
        w.accepter.db_instances = vec!["orders".to_owned()];
        (s, w)
    }

    #[test]
    fn an_already_wired_peering_plans_nothing() {
        let (s, w) = wired();
        assert_eq!(plan_wiring(&s, &w), WiringPlan::default());

        // And the plan of a fresh peering, once applied to the state, converges.
        let (mut s, w) = wired();
        for t in &mut accepter(&mut s).network.route_tables {
            t.routes.retain(|r| r.target == RouteTarget::Local);
        }
        let plan = plan_wiring(&s, &w);
        assert_eq!(accepter_tables(&plan).len(), 3);
        for step in &plan.steps {
            if let PlanStep::CreateRoute {
                route_table_id,
                destination,
                ..
            } = step
            {
                let a = accepter(&mut s);
                for t in &mut a.network.route_tables {
                    if &t.id == route_table_id {
                        t.routes.push(Route {
                            destination: *destination,
                            target: RouteTarget::Peering(PCX.to_owned()),
                            blackhole: false,
                        });
                    }
                }
            }
        }
        assert_eq!(plan_wiring(&s, &w), WiringPlan::default());
    }

    // ---------------------------------------------------------------- security groups

    #[test]
    fn one_ingress_step_per_group_carries_every_missing_permission() {
        let mut s = state();
        set_cidrs(&mut s, Side::Requester, &[REQ_CIDR, "10.50.0.0/16"]);
        accepter(&mut s).security_groups = vec![
            group("sg-db-2", vec![], vec![]),
            group("sg-db-1", vec![], vec![]),
        ];
        let mut w = wiring(&[6432, 5432]);
        w.accepter.security_group_ids = vec!["sg-db-1".to_owned(), "sg-db-2".to_owned()];

        let plan = plan_wiring(&s, &w);

        let expected = perms(&[
            (5432, "10.0.0.0/16"),
            (5432, "10.50.0.0/16"),
            (6432, "10.0.0.0/16"),
            (6432, "10.50.0.0/16"),
        ]);
        assert_eq!(
            rules(&plan, false),
            [
                ("sg-db-1".to_owned(), expected.clone()),
                ("sg-db-2".to_owned(), expected),
            ]
        );
        assert_eq!(
            plan.steps
                .iter()
                .find(|s| matches!(s, PlanStep::AuthorizeIngress { .. }))
                .map(describe_step)
                .unwrap_or_default(),
            "accepter sg-db-1: ingress tcp/5432 from 10.0.0.0/16, tcp/5432 from 10.50.0.0/16, \
             tcp/6432 from 10.0.0.0/16, tcp/6432 from 10.50.0.0/16"
        );
    }

    #[test]
    fn a_rule_someone_already_added_satisfies_the_need() {
        let cases = [
            (
                "same CIDR and port, added by a person",
                tcp(5432, 5432, cidr_peer(REQ_CIDR)),
                perms(&[(6432, REQ_CIDR)]),
            ),
            (
                "a broader CIDR and a port range",
                tcp(5000, 6000, cidr_peer("10.0.0.0/8")),
                perms(&[(6432, REQ_CIDR)]),
            ),
            (
                "all traffic from the whole 10/8",
                all_traffic(cidr_peer("10.0.0.0/8")),
                vec![],
            ),
            (
                "protocol number 6 for the whole port range",
                SgRule {
                    protocol: "6".to_owned(),
                    ..tcp(0, 65535, cidr_peer(REQ_CIDR))
                },
                vec![],
            ),
            (
                "TCP spelled in capitals",
                SgRule {
                    protocol: "TCP".to_owned(),
                    ..tcp(6432, 6432, cidr_peer(REQ_CIDR))
                },
                perms(&[(5432, REQ_CIDR)]),
            ),
            (
                "udp does not count",
                SgRule {
                    protocol: "udp".to_owned(),
                    ..tcp(0, 65535, cidr_peer(REQ_CIDR))
                },
                perms(&[(5432, REQ_CIDR), (6432, REQ_CIDR)]),
            ),
            (
                "a narrower CIDR does not count",
                tcp(5432, 6432, cidr_peer("10.0.1.0/24")),
                perms(&[(5432, REQ_CIDR), (6432, REQ_CIDR)]),
            ),
            (
                "another group does not count for a CIDR need",
                tcp(
                    5432,
                    6432,
                    RulePeer::Group {
                        account: None,
                        group_id: "sg-other".to_owned(),
                    },
                ),
                perms(&[(5432, REQ_CIDR), (6432, REQ_CIDR)]),
            ),
        ];
        for (case, existing, missing) in cases {
            let mut s = state();
            accepter(&mut s).security_groups = vec![group("sg-db", vec![existing], vec![])];
            let plan = plan_wiring(&s, &wiring(&[5432, 6432]));
            let expected = if missing.is_empty() {
                vec![]
            } else {
                vec![("sg-db".to_owned(), missing)]
            };
            assert_eq!(rules(&plan, false), expected, "{case}");
        }
    }

    #[test]
    fn a_broader_existing_egress_rule_makes_the_egress_rule_unnecessary() {
        for (case, existing, needed) in [
            (
                "the default all traffic to 0.0.0.0/0",
                all_traffic(cidr_peer("0.0.0.0/0")),
                false,
            ),
            (
                "tcp 0-65535 to 10.0.0.0/8",
                tcp(0, 65535, cidr_peer("10.0.0.0/8")),
                false,
            ),
            (
                "tcp 443 to 0.0.0.0/0",
                tcp(443, 443, cidr_peer("0.0.0.0/0")),
                true,
            ),
            (
                "all traffic to ::/0 only",
                all_traffic(cidr_peer("::/0")),
                true,
            ),
        ] {
            let mut s = state();
            requester(&mut s).security_groups = vec![group("sg-tasks", vec![], vec![existing])];
            let plan = plan_wiring(&s, &wiring(&[5432]));
            let expected = if needed {
                vec![("sg-tasks".to_owned(), perms(&[(5432, ACC_CIDR)]))]
            } else {
                vec![]
            };
            assert_eq!(rules(&plan, true), expected, "{case}");
        }
    }

    #[test]
    fn same_region_ingress_references_the_requester_groups_across_regions_it_uses_cidrs() {
        let mut s = state();
        requester(&mut s).security_groups = vec![
            group(
                "sg-tasks-b",
                vec![],
                vec![all_traffic(cidr_peer("0.0.0.0/0"))],
            ),
            group(
                "sg-tasks-a",
                vec![],
                vec![all_traffic(cidr_peer("0.0.0.0/0"))],
            ),
        ];
        accepter(&mut s).security_groups = vec![group("sg-db", vec![], vec![])];
        let mut w = wiring(&[5432]);
        w.ingress_source = IngressSource::SecurityGroup;

        let plan = plan_wiring(&s, &w);
        let steps: Vec<_> = plan
            .steps
            .iter()
            .filter(|s| matches!(s, PlanStep::AuthorizeIngress { .. }))
            .collect();
        let group_peer = |id: &str| RulePeer::Group {
            account: Some(REQUESTER.to_owned()),
            group_id: id.to_owned(),
        };
        assert_eq!(
            steps,
            [&PlanStep::AuthorizeIngress {
                side: Side::Accepter,
                group_id: "sg-db".to_owned(),
                permissions: vec![
                    Permission {
                        port: 5432,
                        peer: group_peer("sg-tasks-a"),
                        description: rule_marker(PCX),
                    },
                    Permission {
                        port: 5432,
                        peer: group_peer("sg-tasks-b"),
                        description: rule_marker(PCX),
                    },
                ],
            }]
        );
        assert_eq!(
            describe_step(steps[0]),
            "accepter sg-db: ingress tcp/5432 from 111111111111/sg-tasks-a, \
             tcp/5432 from 111111111111/sg-tasks-b"
        );

        // An existing reference to the same group (any account spelling) satisfies it.
        let mut s2 = s.clone();
        accepter(&mut s2).security_groups[0].ingress = vec![
            tcp(
                5432,
                5432,
                RulePeer::Group {
                    account: None,
                    group_id: "sg-tasks-a".to_owned(),
                },
            ),
            tcp(5432, 5432, group_peer("sg-tasks-b")),
        ];
        assert_eq!(rules(&plan_wiring(&s2, &w), false), []);

        // Across regions AWS refuses group references: the requester CIDRs instead.
        s.peering.accepter.region = "eu-west-1".to_owned();
        assert_eq!(
            rules(&plan_wiring(&s, &w), false),
            [("sg-db".to_owned(), perms(&[(5432, REQ_CIDR)]))]
        );

        // Same region but no requester group observed (not managed): CIDRs too.
        let mut s3 = state();
        s3.requester = None;
        accepter(&mut s3).security_groups = vec![group("sg-db", vec![], vec![])];
        assert_eq!(
            rules(&plan_wiring(&s3, &w), false),
            [("sg-db".to_owned(), perms(&[(5432, REQ_CIDR)]))]
        );
    }

    #[test]
    fn no_ports_no_security_group_rule() {
        let mut s = state();
        accepter(&mut s).security_groups = vec![group("sg-db", vec![], vec![])];
        requester(&mut s).security_groups = vec![group("sg-tasks", vec![], vec![])];
        let mut w = wiring(&[]);
        w.accepter.security_group_ids = vec!["sg-db".to_owned()];
        let plan = plan_wiring(&s, &w);
        assert_eq!(rules(&plan, false), []);
        assert_eq!(rules(&plan, true), []);
        assert!(plan.findings.is_empty());
    }

    #[test]
    fn ipv6_is_wired_only_when_both_vpcs_have_it() {
        let mut s = state();
        set_cidrs(
            &mut s,
            Side::Requester,
            &[REQ_CIDR, "2600:1f18:aaaa:100::/56"],
        );
        requester(&mut s).security_groups = vec![group("sg-tasks", vec![], vec![])];
        accepter(&mut s).security_groups = vec![group("sg-db", vec![], vec![])];
        let w = wiring(&[5432]);

        // Only the requester has IPv6: nothing IPv6 anywhere.
        let plan = plan_wiring(&s, &w);
        assert_eq!(
            routes(&plan),
            [
                r(Side::Requester, "rtb-r-main", ACC_CIDR),
                r(Side::Accepter, "rtb-a-main", REQ_CIDR),
            ]
        );
        assert_eq!(
            rules(&plan, false),
            [("sg-db".to_owned(), perms(&[(5432, REQ_CIDR)]))]
        );

        // Both: IPv6 routes and rules both ways.
        set_cidrs(
            &mut s,
            Side::Accepter,
            &[ACC_CIDR, "2600:1f18:bbbb:200::/56"],
        );
        let plan = plan_wiring(&s, &w);
        assert_eq!(
            routes(&plan),
            [
                r(Side::Requester, "rtb-r-main", ACC_CIDR),
                r(Side::Requester, "rtb-r-main", "2600:1f18:bbbb:200::/56"),
                r(Side::Accepter, "rtb-a-main", REQ_CIDR),
                r(Side::Accepter, "rtb-a-main", "2600:1f18:aaaa:100::/56"),
            ]
        );
        assert_eq!(
            rules(&plan, false),
            [(
                "sg-db".to_owned(),
                perms(&[(5432, REQ_CIDR), (5432, "2600:1f18:aaaa:100::/56")])
            )]
        );
        assert_eq!(
            rules(&plan, true),
            [(
                "sg-tasks".to_owned(),
                perms(&[(5432, ACC_CIDR), (5432, "2600:1f18:bbbb:200::/56")])
            )]
        );
    }

    #[test]
    fn an_unmanaged_side_falls_back_to_the_peering_cidrs() {
        let mut s = state();
        s.accepter = None;
        s.peering.accepter.cidrs = nets(&["10.1.0.0/16", "10.2.0.0/16"]);

        let plan = plan_wiring(&s, &wiring(&[]));

        assert_eq!(
            routes(&plan),
            [
                r(Side::Requester, "rtb-r-main", "10.1.0.0/16"),
                r(Side::Requester, "rtb-r-main", "10.2.0.0/16"),
            ]
        );
    }

    // ---------------------------------------------------------------- never broader

    fn arb_v4(prefixes: std::ops::RangeInclusive<u8>) -> impl Strategy<Value = IpNet> {
        (any::<u32>(), prefixes).prop_map(|(addr, prefix)| {
            IpNet::new(std::net::Ipv4Addr::from(addr).into(), prefix)
                .map(|n| n.trunc())
                .unwrap_or_else(|e| panic!("{e}"))
        })
    }

    fn arb_rule() -> impl Strategy<Value = SgRule> {
        (
            prop_oneof![Just("tcp"), Just("-1"), Just("udp"), Just("6")],
            0i32..70000,
            0i32..2000,
            arb_v4(0..=32),
        )
            .prop_map(|(protocol, from, width, cidr)| SgRule {
                protocol: protocol.to_owned(),
                from_port: Some(from),
                to_port: Some(from + width),
                peer: RulePeer::Cidr { cidr },
                description: None,
            })
    }

    fn arb_target() -> impl Strategy<Value = (RouteTarget, bool)> {
        (
            prop_oneof![
                Just(RouteTarget::Peering(PCX.to_owned())),
                Just(RouteTarget::Peering("pcx-other".to_owned())),
                Just(RouteTarget::TransitGateway("tgw-1".to_owned())),
                Just(RouteTarget::NatGateway("nat-1".to_owned())),
            ],
            any::<bool>(),
        )
    }

    proptest! {
        #[test]
        fn never_a_route_or_rule_broader_than_the_peer_cidrs_and_ports(
            req_cidrs in prop::collection::vec(arb_v4(16..=28), 1..4),
            acc_cidrs in prop::collection::vec(arb_v4(16..=28), 1..4),
            ports in prop::collection::vec(1u16..65535, 0..4),
            ingress in prop::collection::vec(arb_rule(), 0..4),
            egress in prop::collection::vec(arb_rule(), 0..4),
            existing in prop::collection::vec((0usize..4, arb_target()), 0..4),
            sg_source in any::<bool>(),
        ) {
            let mut s = state();
            s.peering.requester.cidrs = req_cidrs.clone();
            s.peering.accepter.cidrs = acc_cidrs.clone();
            requester(&mut s).network.cidrs = req_cidrs.clone();
            accepter(&mut s).network.cidrs = acc_cidrs.clone();
            requester(&mut s).security_groups = vec![group("sg-tasks", vec![], egress)];
            accepter(&mut s).security_groups = vec![group("sg-db", ingress, vec![])];
            for (i, (target, hole)) in existing {
                let destination = acc_cidrs[i % acc_cidrs.len()];
                requester(&mut s).network.route_tables[0].routes.push(Route {
                    destination,
                    target,
                    blackhole: hole,
                });
            }
            let mut w = wiring(&ports);
            if sg_source {
                w.ingress_source = IngressSource::SecurityGroup;
            }

            let plan = plan_wiring(&s, &w);

            for step in &plan.steps {
                match step {
                    PlanStep::CreateRoute { side, destination, .. }
                    | PlanStep::ReplaceBlackholeRoute { side, destination, .. } => {
                        let peers = if *side == Side::Requester { &acc_cidrs } else { &req_cidrs };
                        prop_assert!(peers.contains(destination), "{step:?}");
                    }
                    PlanStep::AuthorizeIngress { permissions, .. } => {
                        for p in permissions {
                            prop_assert!(ports.contains(&p.port), "{p:?}");
                            match &p.peer {
                                RulePeer::Cidr { cidr } => prop_assert!(req_cidrs.contains(cidr)),
                                RulePeer::Group { account, group_id } => {
                                    prop_assert_eq!(account.as_deref(), Some(REQUESTER));
                                    prop_assert_eq!(group_id, "sg-tasks");
                                }
                            }
                        }
                    }
                    PlanStep::AuthorizeEgress { permissions, .. } => {
                        for p in permissions {
                            prop_assert!(ports.contains(&p.port), "{p:?}");
                            prop_assert!(
                                matches!(&p.peer, RulePeer::Cidr { cidr } if acc_cidrs.contains(cidr)),
                                "{p:?}"
                            );
                        }
                    }
                    PlanStep::SetDnsResolution { .. } | PlanStep::EnableVpcDnsAttribute { .. } => {}
                    other => prop_assert!(false, "unexpected {other:?}"),
                }
            }
            // A route through another target is reported, never planned over.
            for finding in &plan.findings {
                if let Finding::RouteConflict { route_table_id, destination, .. } = finding {
                    let planned_over = plan.steps.iter().any(|step| matches!(step,
                        PlanStep::CreateRoute { route_table_id: t, destination: d, .. }
                        | PlanStep::ReplaceBlackholeRoute { route_table_id: t, destination: d, .. }
                        if t == route_table_id && d == destination));
                    prop_assert!(!planned_over, "{finding:?}");
                }
            }
            // Deterministic.
            prop_assert_eq!(plan_wiring(&s, &w), plan);
        }
    }

    // ---------------------------------------------------------------- DNS

    #[test]
    fn the_dns_option_is_set_on_each_managed_side_where_it_is_off() {
        let mut s = state();
        s.peering.requester.allow_dns_resolution_from_remote_vpc = false;
        let plan = plan_wiring(&s, &wiring(&[]));
        let dns: Vec<_> = plan
            .steps
            .iter()
            .filter(|s| matches!(s, PlanStep::SetDnsResolution { .. }))
            .collect();
        assert_eq!(
            dns,
            [&PlanStep::SetDnsResolution {
                side: Side::Requester,
                peering_id: PCX.to_owned(),
            }]
        );
        assert_eq!(
            describe_step(dns[0]),
            format!("requester: allow DNS resolution from the remote VPC on {PCX}")
        );

        s.peering.accepter.allow_dns_resolution_from_remote_vpc = false;
        let plan = plan_wiring(&s, &wiring(&[]));
        let sides: Vec<_> = plan
            .steps
            .iter()
            .filter(|s| matches!(s, PlanStep::SetDnsResolution { .. }))
            .map(PlanStep::side)
            .collect();
        assert_eq!(sides, [Side::Requester, Side::Accepter]);
    }

    #[test]
    fn an_unmanaged_side_gets_no_step_and_no_finding_at_all() {
        let mut s = state();
        s.peering.accepter.allow_dns_resolution_from_remote_vpc = false;
        s.peering.requester.allow_dns_resolution_from_remote_vpc = false;
        accepter(&mut s).dns_hostnames = false;
        accepter(&mut s).security_groups = vec![group("sg-db", vec![], vec![])];
        s.accepter = None;
        let mut w = wiring(&[5432]);
        w.accepter.db_instances = vec!["orders".to_owned()];

        let plan = plan_wiring(&s, &w);
        assert!(
            plan.steps.iter().all(|s| s.side() == Side::Requester),
            "{plan:?}"
        );
        assert!(plan.findings.is_empty(), "{:?}", plan.findings);

        // `manage: false` in the policy wins even if the side was observed.
        let mut s = state();
        s.peering.accepter.allow_dns_resolution_from_remote_vpc = false;
        let mut w = wiring(&[]);
        w.accepter.manage = false;
        let plan = plan_wiring(&s, &w);
        assert!(
            plan.steps.iter().all(|s| s.side() == Side::Requester),
            "{plan:?}"
        );
    }

    #[test]
    fn dns_attributes_off_are_reported_or_turned_on_when_the_policy_allows() {
        let mut s = state();
        accepter(&mut s).dns_support = false;
        accepter(&mut s).dns_hostnames = false;
        requester(&mut s).dns_hostnames = false;
        let mut w = wiring(&[]);

        let plan = plan_wiring(&s, &w);
        assert!(!plan
            .steps
            .iter()
            .any(|s| matches!(s, PlanStep::EnableVpcDnsAttribute { .. })));
        let off = |side, vpc: &str, attribute| Finding::DnsAttributeOff {
            side,
            vpc_id: vpc.to_owned(),
            attribute,
        };
        assert_eq!(
            plan.findings,
            [
                off(
                    Side::Requester,
                    REQUESTER_VPC,
                    DnsAttribute::EnableDnsHostnames
                ),
                off(Side::Accepter, ACCEPTER_VPC, DnsAttribute::EnableDnsSupport),
                off(
                    Side::Accepter,
                    ACCEPTER_VPC,
                    DnsAttribute::EnableDnsHostnames
                ),
            ]
        );
        assert!(plan.findings.iter().all(|f| !f.is_blocking()));
        assert_eq!(
            describe_finding(&plan.findings[0]),
            "requester vpc-req: enableDnsHostnames is off; not changed (fix_vpc_dns_attributes is false)"
        );

        w.fix_vpc_dns_attributes = true;
        let plan = plan_wiring(&s, &w);
        assert!(plan.findings.is_empty());
        let on = |side, vpc: &str, attribute| PlanStep::EnableVpcDnsAttribute {
            side,
            vpc_id: vpc.to_owned(),
            attribute,
        };
        let steps: Vec<_> = plan
            .steps
            .iter()
            .filter(|s| matches!(s, PlanStep::EnableVpcDnsAttribute { .. }))
            .cloned()
            .collect();
        assert_eq!(
            steps,
            [
                on(
                    Side::Requester,
                    REQUESTER_VPC,
                    DnsAttribute::EnableDnsHostnames
                ),
                on(Side::Accepter, ACCEPTER_VPC, DnsAttribute::EnableDnsSupport),
                on(
                    Side::Accepter,
                    ACCEPTER_VPC,
                    DnsAttribute::EnableDnsHostnames
                ),
            ]
        );
        assert_eq!(
            describe_step(&steps[1]),
            "accepter vpc-acc: turn on enableDnsSupport"
        );
    }

    // ---------------------------------------------------------------- status, order, findings

    #[test]
    fn a_peering_that_is_not_active_is_not_wired() {
        for status in [
            PeeringStatus::InitiatingRequest,
            PeeringStatus::PendingAcceptance,
            PeeringStatus::Provisioning,
            PeeringStatus::Deleting,
            PeeringStatus::Deleted,
            PeeringStatus::Rejected,
            PeeringStatus::Failed,
            PeeringStatus::Expired,
            PeeringStatus::Other("whatever".to_owned()),
        ] {
            let mut s = state();
            s.peering.status = status.clone();
            s.peering.requester.allow_dns_resolution_from_remote_vpc = false;
            accepter(&mut s).dns_support = false;
            assert_eq!(
                plan_wiring(&s, &wiring(&[5432])),
                WiringPlan::default(),
                "{status}"
            );
        }
    }

    #[test]
    fn steps_come_in_order_routes_ingress_egress_attributes_options() {
        let mut s = state();
        s.peering.requester.allow_dns_resolution_from_remote_vpc = false;
        s.peering.accepter.allow_dns_resolution_from_remote_vpc = false;
        requester(&mut s).dns_support = false;
        requester(&mut s).security_groups = vec![group("sg-tasks", vec![], vec![])];
        accepter(&mut s).security_groups = vec![group("sg-db", vec![], vec![])];
        let mut w = wiring(&[5432]);
        w.fix_vpc_dns_attributes = true;

        let plan = plan_wiring(&s, &w);

        let order: Vec<_> = plan
            .steps
            .iter()
            .map(|s| (s.operation(), s.side()))
            .collect();
        assert_eq!(
            order,
            [
                ("CreateRoute", Side::Requester),
                ("CreateRoute", Side::Accepter),
                ("AuthorizeSecurityGroupIngress", Side::Accepter),
                ("AuthorizeSecurityGroupEgress", Side::Requester),
                ("ModifyVpcAttribute", Side::Requester),
                ("ModifyVpcPeeringConnectionOptions", Side::Requester),
                ("ModifyVpcPeeringConnectionOptions", Side::Accepter),
            ]
        );
    }

    #[test]
    fn selectors_that_match_nothing_are_reported() {
        let mut w = wiring(&[5432]);
        w.accepter.db_instances = vec!["orders".to_owned()];
        w.accepter.subnet_ids = vec!["subnet-gone".to_owned()];
        w.requester.security_group_tags = BTreeMap::from([("app".to_owned(), "tasks".to_owned())]);

        let plan = plan_wiring(&state(), &w);

        let found: Vec<_> = plan.findings.iter().map(describe_finding).collect();
        assert_eq!(
            found,
            [
                "requester: the policy selects security groups, but none matched",
                "accepter: the policy selects subnets, but none matched",
                "accepter: the policy selects DB instances, but none matched",
                "accepter: the policy selects security groups, but none matched",
            ]
        );
        assert!(plan.findings.iter().all(|f| !f.is_blocking()));
        // Nothing matched on the accepter: no accepter route at all.
        assert_eq!(accepter_tables(&plan), Vec::<String>::new());

        // Without ports, unselected groups are not worth a finding.
        let mut w = wiring(&[]);
        w.requester.security_group_ids = vec!["sg-gone".to_owned()];
        assert!(plan_wiring(&state(), &w).findings.is_empty());
    }

    #[test]
    fn every_step_has_a_one_line_description() {
        let cases = [
            (
                PlanStep::AcceptPeering {
                    peering_id: PCX.to_owned(),
                    rule: "ecs-to-rds".to_owned(),
                },
                format!("accepter: accept {PCX} (rule `ecs-to-rds`)"),
            ),
            (
                PlanStep::RejectPeering {
                    peering_id: PCX.to_owned(),
                    reasons: vec!["no rule matches".to_owned(), "CIDR overlaps".to_owned()],
                },
                format!("accepter: reject {PCX}: no rule matches; CIDR overlaps"),
            ),
            (
                PlanStep::CreateRoute {
                    side: Side::Requester,
                    route_table_id: "rtb-123".to_owned(),
                    destination: net(ACC_CIDR),
                    peering_id: "pcx-abc".to_owned(),
                },
                "requester rtb-123: route 10.1.0.0/16 -> pcx-abc".to_owned(),
            ),
            (
                PlanStep::ReplaceBlackholeRoute {
                    side: Side::Accepter,
                    route_table_id: "rtb-9".to_owned(),
                    destination: net(REQ_CIDR),
                    peering_id: "pcx-abc".to_owned(),
                },
                "accepter rtb-9: replace blackhole route 10.0.0.0/16 -> pcx-abc".to_owned(),
            ),
            (
                PlanStep::AuthorizeIngress {
                    side: Side::Accepter,
                    group_id: "sg-123".to_owned(),
                    permissions: vec![Permission {
                        port: 5432,
                        peer: cidr_peer(REQ_CIDR),
                        description: rule_marker(PCX),
                    }],
                },
                "accepter sg-123: ingress tcp/5432 from 10.0.0.0/16".to_owned(),
            ),
            (
                PlanStep::AuthorizeEgress {
                    side: Side::Requester,
                    group_id: "sg-7".to_owned(),
                    permissions: vec![Permission {
                        port: 5432,
                        peer: cidr_peer(ACC_CIDR),
                        description: rule_marker(PCX),
                    }],
                },
                "requester sg-7: egress tcp/5432 to 10.1.0.0/16".to_owned(),
            ),
            (
                PlanStep::SetDnsResolution {
                    side: Side::Accepter,
                    peering_id: "pcx-abc".to_owned(),
                },
                "accepter: allow DNS resolution from the remote VPC on pcx-abc".to_owned(),
            ),
            (
                PlanStep::EnableVpcDnsAttribute {
                    side: Side::Requester,
                    vpc_id: "vpc-1".to_owned(),
                    attribute: DnsAttribute::EnableDnsHostnames,
                },
                "requester vpc-1: turn on enableDnsHostnames".to_owned(),
            ),
        ];
        for (step, expected) in cases {
            let line = describe_step(&step);
            assert_eq!(line, expected);
            assert!(!line.contains('\n'));
        }
    }
}
