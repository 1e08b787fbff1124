//! Layer 3: routes. Every route table serving a subnet in scope must send every peer CIDR
//! through the peering. AWS picks the longest prefix (`peerwire::plan::routes`): a route to the
//! same CIDR through another target (IGW, NAT, TGW, a VPN's propagated route, another peering)
//! is a conflict and the peering carries nothing; a broader one (a corporate supernet) loses
//! to the peering route and is fine; a narrower one wins for its part of the range, a
//! warning.

use peerwire::model::{RouteTableId, Side, SideState, SubnetId};
use peerwire::plan::wiring::tables_in_scope;
use peerwire::plan::Finding;

use crate::facts::{join, plural, subnets_on_table, Facts, GapKind, RouteGap};
use crate::{Layer, LayerId, Problem};

/// "subnets subnet-a, subnet-b" or what the table is when no scoped subnet uses it.
fn describe_served(local: &SideState, table_id: &RouteTableId, subnets: &[SubnetId]) -> String {
    if !subnets.is_empty() {
        return format!("subnets {}", join(subnets));
    }
    let main = local
        .network
        .route_tables
        .iter()
        .any(|t| &t.id == table_id && t.main);
    if main {
        "the main table: new subnets land here".to_owned()
    } else {
        "no subnet in scope".to_owned()
    }
}

fn gap_problem(
    facts: &Facts<'_>,
    side: Side,
    table: &RouteTableId,
    gap: &RouteGap,
    served: &str,
    subnets: &[SubnetId],
) -> Problem {
    let pcx = facts.pcx();
    let account = facts.account(side);
    let destination = gap.destination;
    let problem = match &gap.kind {
        GapKind::Missing => Problem::broken(
            Some(side),
            Some(table),
            format!(
                "{side} route table {table} ({served}) has no route to {destination} through {pcx}"
            ),
        )
        .fix(format!(
            "add route {destination} -> {pcx} to {table} in account {account} (`peerwire apply \
             {pcx}` does it)"
        )),
        GapKind::Blackhole => Problem::broken(
            Some(side),
            Some(table),
            format!(
                "{side} route table {table} ({served}): the route to {destination} through \
                 {pcx} is a blackhole"
            ),
        )
        .fix(format!(
            "replace the route in {table} in account {account} (`peerwire apply {pcx}` does it)"
        )),
        GapKind::Conflict {
            target,
            blackhole,
            propagated,
        } => {
            let dead = match (*blackhole, *propagated) {
                (true, _) => " (a blackhole)",
                (false, true) => " (propagated by the gateway; a static peering route would take priority over it)",
                (false, false) => "",
            };
            Problem::broken(
                Some(side),
                Some(table),
                format!(
                    "{side} route table {table} ({served}) sends {destination} to \
                     {target}{dead}, not through {pcx}"
                ),
            )
            .fix(format!(
                "remove or re-point the route to {destination} via {target} in {table} \
                 (account {account}), or move these subnets to another table; peerwire never \
                 replaces a route it does not own"
            ))
        }
        GapKind::Shadowed { target, peer_cidr } => Problem::warning(
            Some(side),
            Some(table),
            format!(
                "{side} route table {table} ({served}) sends {destination} to {target}: more \
                 specific than {peer_cidr}, it wins for that part of the range, which does not \
                 use {pcx}"
            ),
        )
        .fix(format!(
            "if {destination} is the peer's, remove or re-point that route in {table} (account \
             {account}); if it is another network's, nothing to do"
        )),
    };
    problem.subnets(subnets.to_vec())
}

pub(crate) fn layer(facts: &Facts<'_>) -> Layer {
    if !facts.active() {
        return Layer::skipped(LayerId::Routes, facts.not_active("routes are"));
    }
    let mut problems = Vec::new();
    let mut ok = Vec::new();
    for side in Side::BOTH {
        let Some(local) = facts.local(side) else {
            ok.push(facts.unread(side));
            continue;
        };
        let scope = facts.scope(side);
        for ((gap_side, table), gaps) in &facts.route_gaps {
            if *gap_side != side {
                continue;
            }
            let subnets = subnets_on_table(local, scope, table);
            let served = describe_served(local, table, &subnets);
            for gap in gaps {
                problems.push(gap_problem(facts, side, table, gap, &served, &subnets));
            }
        }
        for finding in &facts.inspection.plan.findings {
            if let Finding::NothingSelected { side: s, what } = finding {
                if *s == side && what == "subnets" {
                    problems.push(
                        Problem::warning(
                            Some(side),
                            Some(&local.network.vpc_id),
                            format!(
                                "the policy selects {side} subnets (wiring.{side}.subnet_ids / \
                                 subnet_tags), but none matched in {}",
                                local.network.vpc_id
                            ),
                        )
                        .fix("check the subnet ids and tags in the policy"),
                    );
                }
            }
        }
        let tables = tables_in_scope(local, scope);
        ok.push(format!(
            "{side}: {} {} through {}",
            plural(tables.len(), "route table routes", "route tables route"),
            join(&facts.peer_cidrs(side)),
            facts.pcx()
        ));
    }
    if facts.local(Side::Requester).is_none() && facts.local(Side::Accepter).is_none() {
        return Layer::skipped(LayerId::Routes, ok.join("; "));
    }
    Layer::checked(LayerId::Routes, problems, ok.join("; "))
}
