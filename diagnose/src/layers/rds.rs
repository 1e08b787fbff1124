//! Layer 7: RDS. A Multi-AZ failover can move the primary into any subnet of its DB subnet
//! group, so every one of them must use a route table that routes the peer: a gap there breaks
//! the tasks only after the next failover, which is why it reads as "intermittent".

use ipnet::IpNet;

use peerwire::model::{DbIdentifier, Side};

use crate::facts::{join, plural, ports_text, Facts};
use crate::{Layer, LayerId, Problem};

pub(crate) fn layer(facts: &Facts<'_>) -> Layer {
    let named: Vec<(Side, &DbIdentifier)> = Side::BOTH
        .iter()
        .flat_map(|&side| {
            facts
                .scope(side)
                .db_instances
                .iter()
                .map(move |db| (side, db))
        })
        .collect();
    if named.is_empty() {
        return Layer::skipped(
            LayerId::Rds,
            "the policy names no DB instance (wiring.*.db_instances)",
        );
    }
    if !facts.active() {
        return Layer::skipped(LayerId::Rds, facts.not_active("DB subnets are"));
    }
    let pcx = facts.pcx();
    let mut problems = Vec::new();
    let mut ok = Vec::new();
    for (side, name) in named {
        let Some(local) = facts.local(side) else {
            ok.push(facts.unread(side));
            continue;
        };
        let account = facts.account(side);
        let region = &facts.view(side).region;
        let Some(db) = local.db_instances.iter().find(|db| &db.id == name) else {
            problems.push(
                Problem::broken(
                    Some(side),
                    Some(name),
                    format!(
                        "DB instance {name} is not in {side} VPC {} (account {account}, \
                         {region})",
                        local.network.vpc_id
                    ),
                )
                .fix(format!(
                    "check the identifier in wiring.{side}.db_instances, and that the instance's \
                     DB subnet group is in {}",
                    local.network.vpc_id
                )),
            );
            continue;
        };
        let mut db_problems = Vec::new();
        for subnet_id in &db.subnet_ids {
            let zone = local
                .subnets
                .iter()
                .find(|s| &s.id == subnet_id)
                .map(|s| s.availability_zone.clone())
                .unwrap_or_default();
            let Some(table) = local.network.route_table_of(subnet_id) else {
                db_problems.push(
                    Problem::broken(
                        Some(side),
                        Some(name),
                        format!("{name}: subnet {subnet_id} has no route table"),
                    )
                    .fix(format!("associate {subnet_id} with a route table"))
                    .subnets(vec![subnet_id.clone()]),
                );
                continue;
            };
            let Some(gaps) = facts.route_gaps.get(&(side, table.id.clone())) else {
                continue;
            };
            let destinations: Vec<IpNet> = gaps.iter().map(|g| g.destination).collect();
            let primary = db.availability_zone.as_deref() == Some(zone.as_str());
            let impact = if primary {
                format!("the primary runs in {zone}: the tasks cannot reach it now")
            } else {
                format!("a Multi-AZ failover to {zone} cuts the tasks off")
            };
            db_problems.push(
                Problem::broken(
                    Some(side),
                    Some(name),
                    format!(
                        "{name}: DB subnet {subnet_id} ({zone}) uses route table {}, which does \
                         not route {} through {pcx}: {impact}",
                        table.id,
                        join(&destinations)
                    ),
                )
                .fix(format!(
                    "route {} -> {pcx} in {} (account {account}); `peerwire apply {pcx}` does \
                     it",
                    join(&destinations),
                    table.id
                ))
                .subnets(vec![subnet_id.clone()]),
            );
        }
        if let Some(port) = db.port.and_then(|p| u16::try_from(p).ok()) {
            if !facts.ports().is_empty() && !facts.ports().contains(&port) {
                db_problems.push(
                    Problem::warning(
                        Some(side),
                        Some(name),
                        format!(
                            "{name} listens on tcp/{port}, but the policy opens {}",
                            ports_text(facts.ports())
                        ),
                    )
                    .fix(format!("add {port} to wiring.ports in the policy")),
                );
            }
        }
        if db_problems.is_empty() {
            let primary = db
                .availability_zone
                .as_deref()
                .map(|az| format!(" (primary in {az})"))
                .unwrap_or_default();
            ok.push(format!(
                "{name}{primary}: all {} of its DB subnet group route {} through {pcx}",
                plural(db.subnet_ids.len(), "subnet", "subnets"),
                join(&facts.peer_cidrs(side))
            ));
        }
        problems.extend(db_problems);
    }
    Layer::checked(LayerId::Rds, problems, ok.join("; "))
}
