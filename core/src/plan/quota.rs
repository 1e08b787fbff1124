//! Staying inside the account's VPC quotas before writing: a route or rule that would not fit
//! is never attempted (AWS would answer `RouteLimitExceeded` or
//! `RulesPerSecurityGroupLimitExceeded`); it is reported with the numbers, and the rest of the
//! plan goes on. Pure.

use std::fmt;

use ipnet::IpNet;
use serde::Serialize;

use super::{Finding, Permission, PlanStep, RouteChangeKind};
use crate::model::{
    Direction, Quotas, RouteTable, RouteTableId, RulePeer, SecurityGroupId, SgRule, Side, SideState,
};

/// IPv4 or IPv6: AWS counts the two apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ipv4 => "IPv4",
            Self::Ipv6 => "IPv6",
        })
    }
}

fn family(net: &IpNet) -> Family {
    match net {
        IpNet::V4(_) => Family::Ipv4,
        IpNet::V6(_) => Family::Ipv6,
    }
}

/// The families a rule counts in: its CIDR's, or both for a group reference (and for a
/// prefix list, whose family is not at hand: never too few).
fn rule_families(peer: &RulePeer) -> &'static [Family] {
    match peer {
        RulePeer::Cidr { cidr } if family(cidr) == Family::Ipv4 => &[Family::Ipv4],
        RulePeer::Cidr { .. } => &[Family::Ipv6],
        RulePeer::Group { .. } | RulePeer::PrefixList { .. } => &[Family::Ipv4, Family::Ipv6],
    }
}

/// How many rules one rule to `peer` counts as: one, or a prefix list's maximum entries
/// (unknown size: 1).
fn rule_weight(peer: &RulePeer, quotas: &Quotas) -> u32 {
    match peer {
        RulePeer::PrefixList { prefix_list_id } => quotas
            .prefix_list_entries
            .get(prefix_list_id)
            .copied()
            .unwrap_or(1),
        RulePeer::Cidr { .. } | RulePeer::Group { .. } => 1,
    }
}

/// Which quota a planned change would exceed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "quota", rename_all = "kebab-case")]
pub enum QuotaUse {
    /// Routes per route table (Service Quotas `vpc/L-93826ACB`).
    RoutesPerTable { route_table_id: RouteTableId },
    /// Inbound or outbound rules per security group (`vpc/L-0EA8095F`).
    RulesPerGroup {
        group_id: SecurityGroupId,
        #[serde(rename = "egress", serialize_with = "Direction::serialize_as_egress")]
        direction: Direction,
    },
}

impl fmt::Display for QuotaUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RoutesPerTable { route_table_id } => {
                write!(f, "route table {route_table_id} (routes per route table)")
            }
            Self::RulesPerGroup {
                group_id,
                direction,
            } => write!(
                f,
                "security group {group_id} ({} rules per security group)",
                direction.traffic()
            ),
        }
    }
}

/// Routes of `table` counted against the routes-per-table quota, per family: every route but
/// the `local` ones and the propagated ones (the quota is "Routes per route table
/// (non-propagated routes)", L-93826ACB; propagated routes have a quota of their own), and each
/// managed-prefix-list route at its list's maximum entries (unknown size: 1).
pub fn routes_used(table: &RouteTable, quotas: &Quotas, of: Family) -> u32 {
    let cidr_routes = table
        .routes
        .iter()
        .filter(|r| r.target != crate::model::RouteTarget::Local && !r.propagated)
        .filter(|r| family(&r.destination) == of)
        .count();
    // Prefix lists carry one family each; their entries count where AWS counts them, and
    // without the list's family at hand they are counted against both (never too few).
    let lists: u32 = table
        .prefix_list_routes
        .iter()
        .map(|id| quotas.prefix_list_entries.get(id).copied().unwrap_or(1))
        .sum();
    u32::try_from(cidr_routes)
        .unwrap_or(u32::MAX)
        .saturating_add(lists)
}

/// Rules counted against the quota, per family: one each, a prefix-list reference at its
/// list's maximum entries.
pub fn rules_used(rules: &[SgRule], quotas: &Quotas, of: Family) -> u32 {
    rules
        .iter()
        .filter(|r| rule_families(&r.peer).contains(&of))
        .map(|r| rule_weight(&r.peer, quotas))
        .fold(0u32, u32::saturating_add)
}

/// `steps` without the additions that would not fit their side's quotas, and a finding for
/// each quota that stopped some. Sides without known quotas are not checked.
pub fn within_quotas(
    sides: [(Side, Option<&SideState>); 2],
    steps: Vec<PlanStep>,
) -> (Vec<PlanStep>, Vec<Finding>) {
    let mut findings = Vec::new();
    let mut kept = Vec::with_capacity(steps.len());
    // Routes: all new routes of a table and family fit, or none of them is attempted.
    let mut blocked_tables: Vec<(Side, RouteTableId, Family)> = Vec::new();
    for (side, local) in sides {
        let Some((local, quotas)) = local.and_then(|l| l.quotas.as_ref().map(|q| (l, q))) else {
            continue;
        };
        for table in &local.network.route_tables {
            for of in [Family::Ipv4, Family::Ipv6] {
                let needed = steps
                    .iter()
                    .filter(|s| s.side == side)
                    .filter_map(PlanStep::route_change)
                    .filter(|r| r.kind == RouteChangeKind::Create)
                    .filter(|r| r.route_table_id == &table.id && family(r.destination) == of)
                    .count();
                if needed == 0 {
                    continue;
                }
                let needed = u32::try_from(needed).unwrap_or(u32::MAX);
                let used = routes_used(table, quotas, of);
                if used.saturating_add(needed) > quotas.routes_per_table {
                    blocked_tables.push((side, table.id.clone(), of));
                    findings.push(Finding::QuotaExceeded {
                        side,
                        what: QuotaUse::RoutesPerTable {
                            route_table_id: table.id.clone(),
                        },
                        family: of,
                        used,
                        needed,
                        limit: quotas.routes_per_table,
                        source: quotas.source.clone(),
                    });
                }
            }
        }
    }
    for step in steps {
        let quota_side = |side: Side| sides.iter().find(|(s, _)| *s == side).and_then(|(_, l)| *l);
        let side = step.side;
        let route = step
            .route_change()
            .filter(|r| r.kind == RouteChangeKind::Create);
        let rules = step.rule_change().filter(|r| r.adds());
        let fits = match (route, rules) {
            (Some(r), _) => {
                !blocked_tables.contains(&(side, r.route_table_id.clone(), family(r.destination)))
            }
            (None, Some(r)) => {
                match rule_room(
                    quota_side(side),
                    side,
                    r.group_id,
                    r.permissions,
                    r.direction,
                ) {
                    Some(exceeded) => {
                        findings.extend(exceeded);
                        false
                    }
                    None => true,
                }
            }
            (None, None) => true,
        };
        if fits {
            kept.push(step);
        }
    }
    (kept, findings)
}

/// `None` when `permissions` fit the group's quota in every family; else the findings.
fn rule_room(
    local: Option<&SideState>,
    side: Side,
    group_id: &SecurityGroupId,
    permissions: &[Permission],
    direction: Direction,
) -> Option<Vec<Finding>> {
    let local = local?;
    let quotas = local.quotas.as_ref()?;
    let group = local.security_groups.iter().find(|g| &g.id == group_id)?;
    let rules = group.rules(direction);
    let mut findings = Vec::new();
    for of in [Family::Ipv4, Family::Ipv6] {
        let needed = permissions
            .iter()
            .filter(|p| rule_families(&p.peer).contains(&of))
            .count();
        let needed = u32::try_from(needed).unwrap_or(u32::MAX);
        let used = rules_used(rules, quotas, of);
        if needed > 0 && used.saturating_add(needed) > quotas.rules_per_group {
            findings.push(Finding::QuotaExceeded {
                side,
                what: QuotaUse::RulesPerGroup {
                    group_id: group_id.clone(),
                    direction,
                },
                family: of,
                used,
                needed,
                limit: quotas.rules_per_group,
                source: quotas.source.clone(),
            });
        }
    }
    (!findings.is_empty()).then_some(findings)
}

#[cfg(test)]
mod tests;
