//! What a sweep is measured against: the calls it cannot do with fewer, derived from first
//! principles, and the wall time its busiest write bucket cannot beat.

use std::collections::BTreeSet;

use super::world::Sweep;
use super::{thousands, Shape};
use crate::world::Budget;

/// The ratios the issue asks for.
pub(super) const GOAL: f64 = 1.10;

/// The minimum calls of one fresh sweep, per operation, with the reason for each.
pub(super) fn fresh_minimum(shape: &Shape) -> Vec<(&'static str, usize, String)> {
    let p = shape.peerings();
    let r = shape.regions.len();
    let a = shape.accounts.len();
    let t = shape.tables;
    let sides = p + r;
    let pages = |n: usize, per: usize| n.div_ceil(per).max(1);
    vec![
        ("sts:AssumeRole", a + 1, format!("one per member role: {a} requester accounts + the accepter")),
        (
            "ec2:DescribeVpcPeeringConnections",
            r * pages(shape.per_region(), 1000) + p,
            format!("the list, ⌈{}/1000⌉ page per accepter region × {r}; + the requester's own view (its tags) per peering × {p}", shape.per_region()),
        ),
        ("ec2:DescribeVpcs", sides, format!("per distinct side: {p} requester VPCs + {r} accepter VPCs")),
        ("ec2:DescribeRouteTables", sides * pages(t, 100), format!("⌈T/100⌉ = {} per side; no DescribeSubnets: every subnet is in scope, and the route tables say which tables serve them", pages(t, 100))),
        ("ec2:DescribeVpcAttribute", 2 * sides, "2 per side (one attribute per call)".to_owned()),
        ("ec2:DescribeSecurityGroups", sides, "1 per side (one selector kind: tags)".to_owned()),
        (
            "servicequotas:GetServiceQuota",
            2 * (a * r + r),
            format!("2 quota codes per account-region that adds routes or rules: ({a} × {r} + {r})"),
        ),
        ("ec2:CreateRoute", 2 * t * p, format!("one per missing route: {t} tables × 2 sides × {p}")),
        ("ec2:AuthorizeSecurityGroupIngress", p, "one per peering (the accepter DB group)".to_owned()),
        ("ec2:ModifyVpcPeeringConnectionOptions", 2 * p, "one per side per peering (each owner sets its own)".to_owned()),
        ("events:PutEvents", pages(p, 10), format!("⌈{p} outcomes / 10⌉")),
        ("dynamodb:GetItem", 1, "the sweep cursor (written only when it changes: not here)".to_owned()),
        ("dynamodb:PutItem", p, "one claim per plan that writes (duplicate deliveries apply it once)".to_owned()),
        ("dynamodb:UpdateItem", 1, "the places written in, added to the ledger's set once per run".to_owned()),
    ]
}

/// The minimum of a converged sweep: the same reads, no STS (warm), no quota, no write.
pub(super) fn converged_minimum(shape: &Shape) -> Vec<(&'static str, usize, String)> {
    fresh_minimum(shape)
        .into_iter()
        .filter(|(op, _, _)| op.starts_with("ec2:Describe") || *op == "dynamodb:GetItem")
        .collect()
}

/// The minimum of `peerwire status` of a converged hub, in a new process: the converged
/// sweep's reads (its one listing covers every phase's statuses in the same pages), the member
/// roles assumed again, and the cleanup sweep's orphan search, one blackhole-route describe and
/// one describe of the groups per place (each accepter region, and each requester account
/// there), after the ledger's places; no sweep cursor (a survey has no deadline). A converged
/// hub has no orphan candidate, so no peering is described by id.
pub(super) fn status_minimum(shape: &Shape) -> Vec<(&'static str, usize, String)> {
    let (a, r) = (shape.accounts.len(), shape.regions.len());
    let places = r * (a + 1);
    fresh_minimum(shape)
        .into_iter()
        .filter_map(|(op, n, why)| match op {
            "sts:AssumeRole" => Some((op, n, format!("{why} (a new process)"))),
            "ec2:DescribeRouteTables" | "ec2:DescribeSecurityGroups" => Some((
                op,
                n + places,
                format!("{why}; + 1 per place searched for orphans: {r} × ({a} + 1)"),
            )),
            "dynamodb:GetItem" => Some((
                op,
                1,
                "the ledger's places, where orphans are searched for (no sweep cursor)".to_owned(),
            )),
            op if op.starts_with("ec2:Describe") => Some((op, n, why)),
            _ => None,
        })
        .collect()
}

/// Prints measured calls against `minimum`; returns (measured, minimum) totals.
pub(super) fn compare(sweep: &Sweep, minimum: &[(&'static str, usize, String)]) -> (usize, usize) {
    let measured = sweep.calls();
    println!("| operation | measured | minimum | why the minimum |");
    println!("|---|---:|---:|---|");
    let mut seen = BTreeSet::new();
    for (op, min, why) in minimum {
        let m = measured.get(*op).copied().unwrap_or(0);
        seen.insert(op.to_string());
        let flag = if m == *min { "" } else { " ≠" };
        println!(
            "| {op} | {}{flag} | {} | {why} |",
            thousands(m),
            thousands(*min)
        );
    }
    for (op, m) in &measured {
        if !seen.contains(op) {
            println!("| {op} | {} ≠ | 0 | not needed |", thousands(*m));
        }
    }
    let total: usize = measured.values().sum();
    let min: usize = minimum.iter().map(|(_, n, _)| n).sum();
    println!(
        "| **total** | **{}** | **{}** | |",
        thousands(total),
        thousands(min)
    );
    (total, min)
}

/// ((writes − burst) / rate) per bucket: the floor of one run is its busiest bucket's (the
/// buckets of different accounts and regions drain in parallel).
pub(super) fn floor(sweep: &Sweep, budget: Budget) -> (f64, String, usize) {
    let b = budget.write_budget();
    sweep
        .buckets()
        .into_iter()
        .map(|(bucket, writes)| {
            let beyond = writes.saturating_sub(b.burst as usize) as f64;
            (beyond / b.per_second, bucket, writes)
        })
        .max_by(|x, y| x.0.total_cmp(&y.0))
        .unwrap_or((0.0, String::new(), 0))
}

/// ` = wall / floor`, or why there is no ratio.
pub(super) fn ratio_text(wall: f64, floor: f64) -> String {
    if floor > 0.0 {
        format!(" = {:.2}", wall / floor)
    } else {
        " (no ratio: every bucket stays within its burst)".to_owned()
    }
}
