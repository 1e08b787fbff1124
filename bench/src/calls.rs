//! API calls per scenario, counted at the HTTP layer by the product's own `CallLog`, beside
//! the formula for this design and the theoretical minimum.

use std::collections::BTreeMap;

use peerwire::aws::calls::ApiCall;
use peerwire::doors::request::handle_request_event;
use peerwire::doors::wiring::handle_wiring_event;

use crate::world::{accepted_event, requested_event, sweep_event, Budget, Result, World};
use peerwire_emulator::scenario::{SeededVpc, ACCEPTER_ACCOUNT, REQUESTER_ACCOUNT};

/// Page counts: `DescribeRouteTables` pages hold at most 100 tables, `DescribeSubnets`,
/// `DescribeSecurityGroups` and `DescribeVpcPeeringConnections` 1,000 entries, `PutEvents`
/// 10 entries.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    /// moto ignores `DescribeRouteTables` paging (emulator gap 12): one page, always.
    pub route_tables_ignored: bool,
}

impl Paging {
    const EMULATOR: Paging = Paging {
        route_tables_ignored: true,
    };
    const AWS: Paging = Paging {
        route_tables_ignored: false,
    };

    fn route_tables(self, tables: usize) -> usize {
        if self.route_tables_ignored {
            1
        } else {
            pages(tables, 100)
        }
    }
}

fn pages(items: usize, per_page: usize) -> usize {
    items.div_ceil(per_page).max(1)
}

/// Reads of one side for wiring: DescribeVpcs + DescribeRouteTables×⌈T/100⌉ +
/// DescribeVpcAttribute×2 + DescribeSecurityGroups (tag selector). No DescribeSubnets: every
/// subnet is in scope, and the route tables say which tables serve them.
fn side_reads(p: Paging, tables: usize) -> usize {
    1 + p.route_tables(tables) + 2 + 1
}

/// The calls of one scenario.
#[derive(Debug, Default)]
pub struct Tally {
    pub total: usize,
    pub ec2_writes: usize,
    /// Every write but `PutEvents`: EC2, Route 53, DynamoDB.
    pub writes: usize,
    pub by_operation: BTreeMap<String, usize>,
}

impl Tally {
    pub fn of(calls: &[ApiCall]) -> Self {
        let mut tally = Tally {
            total: calls.len(),
            ..Tally::default()
        };
        for call in calls {
            *tally
                .by_operation
                .entry(call.operation.clone())
                .or_default() += 1;
            if call.service == "ec2" && call.is_write() {
                tally.ec2_writes += 1;
            }
            if call.is_write() && call.operation != "PutEvents" {
                tally.writes += 1;
            }
        }
        tally
    }

    /// (reads, writes, outcome events): EventBridge `PutEvents` apart from the other writes.
    pub fn kinds(&self) -> (usize, usize, usize) {
        let events = self.by_operation.get("PutEvents").copied().unwrap_or(0);
        let writes = self.writes;
        (self.total - writes - events, writes, events)
    }

    pub fn breakdown(&self) -> String {
        self.by_operation
            .iter()
            .map(|(op, n)| format!("{op} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug)]
struct Row {
    scenario: String,
    tally: Tally,
    /// This design's formula with the emulator's paging: must equal the measured count.
    formula_emulator: usize,
    formula_aws: usize,
    minimum_aws: usize,
    note: String,
}

/// GetServiceQuota calls for one account and region: the two VPC quotas a plan that adds
/// routes or rules must respect (routes per table, rules per group), once per process.
const QUOTA_READS: usize = 2;

fn fresh_wiring(p: Paging, t: usize) -> usize {
    // AssumeRole×2 + DescribeVpcPeeringConnections×2 (the event's peering as the accepter
    // sees it, then the requester's own view for its tags) + both sides' reads
    // + GetServiceQuota×2 per side (both sides add routes)
    // + CreateRoute per table per side + 1 AuthorizeSecurityGroupIngress (accepter DB group;
    // the task group's default allow-all egress already covers 5432)
    // + ModifyVpcPeeringConnectionOptions×2 + PutEvents.
    2 + 2 + 2 * side_reads(p, t) + 2 * QUOTA_READS + 2 * t + 1 + 2 + 1
}

fn converged_warm(p: Paging, t: usize) -> usize {
    // Both views of the peering + both sides' reads; no quota (nothing to add), no write.
    2 + 2 * side_reads(p, t)
}

fn accept_and_wire(p: Paging, t: usize) -> usize {
    // AssumeRole×2 (accepter; requester for its view and VPC) + DescribeVpcPeeringConnections×5
    // (the event's peering, the requester's view for its tags, the accepter VPC's peerings as
    // requester and as accepter for sibling overlaps, its live peerings again after the
    // accept, which also show this one active) + the accepter VPC (DescribeVpcs +
    // DescribeRouteTables×⌈T/100⌉) + the requester VPC's routes (its CIDRs are the request's)
    // + AcceptVpcPeeringConnection; then wiring it with what the decision read: both sides'
    // DNS attributes (2 each) and groups (1 each), GetServiceQuota×2 per side, the writes
    // (CreateRoute per table per side, 1 AuthorizeSecurityGroupIngress, 2 DNS options), and
    // one PutEvents for both outcomes.
    2 + 5
        + (1 + p.route_tables(t))
        + p.route_tables(t)
        + 1
        + 2 * 3
        + 2 * QUOTA_READS
        + 2 * t
        + 1
        + 2
        + 1
}

struct Hub {
    peers: usize,
    /// Route tables per requester VPC.
    tr: usize,
    /// Route tables of the accepter VPC.
    ta: usize,
}

impl Hub {
    /// AssumeRole×2, the filtered pending list, per request the requester's view (tags) and
    /// its VPC's routes, the accepter VPC and its siblings once per run, one Accept and one
    /// re-read of the live siblings per request; then each accepted peering wired with what
    /// was read: the accepter side's DNS attributes and groups once, each requester side's,
    /// the quotas of both accounts, the writes; both outcomes of each peering, in batches of 10.
    fn request_sweep(&self, p: Paging) -> usize {
        let n = self.peers;
        2 + pages(n, 1000)
            + n
            + 2
            + n
            + (1 + p.route_tables(self.ta))
            + n * p.route_tables(self.tr)
            + n
            + 3
            + n * 3
            + 2 * QUOTA_READS
            + self.writes()
            + pages(2 * n, 10)
    }
    /// The live siblings re-read once per run after the last accept, not after each: that one
    /// read sees every colliding accept of another invocation just as well (and each
    /// peering's new status).
    fn request_sweep_min(&self, p: Paging) -> usize {
        self.request_sweep(p) - (self.peers - 1)
    }
    fn writes(&self) -> usize {
        self.peers * (self.tr + self.ta + 1 + 2)
    }
    /// The list, per peering the requester's view (tags) and its side, the shared accepter
    /// side once per run: nothing to add, no quota read, no write, no outcome.
    fn converged_sweep(&self, p: Paging) -> usize {
        pages(self.peers, 1000) + self.peers * (1 + side_reads(p, self.tr)) + side_reads(p, self.ta)
    }
}

/// Runs every scenario and prints the table.
pub async fn run(tables: &[usize], hub_peers: usize, budget: Budget) -> Result<()> {
    let mut rows = Vec::new();
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };

    // Accept only: the seeded scenario's 3 route tables per side.
    {
        let world = World::start().await?;
        let (requester, accepter) = world.seed_pair(3).await?;
        let pcx = world.request(&requester, &accepter).await?;
        let app = world.app(budget, None).await;
        let event = requested_event(next(), &pcx, &requester, &accepter);
        handle_request_event(&app, &event).await?;
        let tally = Tally::of(&app.aws.calls().take());
        rows.push(Row {
            scenario: "accept and wire (3 route tables in each VPC)".into(),
            tally,
            formula_emulator: accept_and_wire(Paging::EMULATOR, 3),
            formula_aws: accept_and_wire(Paging::AWS, 3),
            minimum_aws: accept_and_wire(Paging::AWS, 3),
            note: "cold process: AssumeRole included; the request function wires what it accepts"
                .into(),
        });
        let event = requested_event(next(), &pcx, &requester, &accepter);
        handle_request_event(&app, &event).await?;
        rows.push(Row {
            scenario: "replay of the accepted request".into(),
            tally: Tally::of(&app.aws.calls().take()),
            formula_emulator: 2,
            formula_aws: 2,
            minimum_aws: 2,
            note: "DescribeVpcPeeringConnections + PutEvents (skipped outcome; not pending, so no tag read); warm".into(),
        });
    }

    // Fresh wiring, then the converged re-check, for each table count.
    for &t in tables {
        let world = World::start().await?;
        let (requester, accepter) = world.seed_pair(t).await?;
        let pcx = world.request(&requester, &accepter).await?;
        world.accept(&accepter, &pcx).await?;
        let app = world.app(budget, None).await;
        handle_wiring_event(&app, &accepted_event(next(), &pcx)).await?;
        let tally = Tally::of(&app.aws.calls().take());
        let routed = (
            world.routes_via(&requester, &pcx).await?,
            world.routes_via(&accepter, &pcx).await?,
        );
        if routed != (t, t) {
            return Err(
                format!("{t} tables: routes via the peering {routed:?}, want ({t}, {t})").into(),
            );
        }
        rows.push(Row {
            scenario: format!("fresh wiring, {t} route table(s) per side"),
            tally,
            formula_emulator: fresh_wiring(Paging::EMULATOR, t),
            formula_aws: fresh_wiring(Paging::AWS, t),
            minimum_aws: fresh_wiring(Paging::AWS, t),
            note: format!("cold; end state checked: {t}+{t} routes"),
        });
        handle_wiring_event(&app, &accepted_event(next(), &pcx)).await?;
        let tally = Tally::of(&app.aws.calls().take());
        if tally.ec2_writes != 0 {
            return Err(format!(
                "converged re-check at {t} tables wrote {} times",
                tally.ec2_writes
            )
            .into());
        }
        rows.push(Row {
            scenario: format!("converged re-check, {t} route table(s) per side"),
            tally,
            formula_emulator: converged_warm(Paging::EMULATOR, t),
            formula_aws: converged_warm(Paging::AWS, t),
            minimum_aws: converged_warm(Paging::AWS, t),
            note: "warm (a cold process adds AssumeRole×2); 0 writes, no quota read, no outcome"
                .into(),
        });
    }

    // The hub: `hub_peers` requester VPCs (10.2.0.0/16 upwards, one route table each) in
    // account A, all asking to peer with account B's VPC (10.1.0.0/16, 3 route tables).
    if hub_peers > 0 {
        let hub = Hub {
            peers: hub_peers,
            tr: 1,
            ta: 3,
        };
        let world = World::start().await?;
        let (accepter, requesters) = seed_spokes(&world, hub.peers, hub.tr, hub.ta).await?;
        for requester in &requesters {
            world.request(requester, &accepter).await?;
        }
        let request_app = world.app(budget, None).await;
        let report = handle_request_event(&request_app, &sweep_event(next())).await?;
        let count = |kind: peerwire::outcome::OutcomeKind| {
            report
                .run
                .outcomes
                .iter()
                .filter(|o| o.kind == kind)
                .count()
        };
        let (accepted, wired) = (
            count(peerwire::outcome::OutcomeKind::Accepted),
            count(peerwire::outcome::OutcomeKind::Wired),
        );
        if (accepted, wired) != (hub.peers, hub.peers) {
            return Err(format!(
                "request sweep accepted {accepted} and wired {wired} of {}",
                hub.peers
            )
            .into());
        }
        rows.push(Row {
            scenario: format!(
                "hub, {} peerings: peering-request sweep (accept and wire)",
                hub.peers
            ),
            tally: Tally::of(&request_app.aws.calls().take()),
            formula_emulator: hub.request_sweep(Paging::EMULATOR),
            formula_aws: hub.request_sweep(Paging::AWS),
            minimum_aws: hub.request_sweep_min(Paging::AWS),
            note: "cold; the accepter VPC and its siblings once per run; minimum re-reads the live siblings once, not per accept".into(),
        });
        let wiring_app = world.app(budget, None).await;
        handle_wiring_event(&wiring_app, &sweep_event(next())).await?;
        let tally = Tally::of(&wiring_app.aws.calls().take());
        if tally.ec2_writes != 0 {
            return Err(format!(
                "wiring sweep after the request sweep wrote {} times",
                tally.ec2_writes
            )
            .into());
        }
        rows.push(Row {
            scenario: format!("hub, {} peerings: peering-wiring sweep after it", hub.peers),
            tally,
            formula_emulator: 2 + hub.converged_sweep(Paging::EMULATOR),
            formula_aws: 2 + hub.converged_sweep(Paging::AWS),
            minimum_aws: 2 + hub.converged_sweep(Paging::AWS),
            note: "cold (AssumeRole×2); converged: 0 writes".into(),
        });
        handle_wiring_event(&wiring_app, &sweep_event(next())).await?;
        let tally = Tally::of(&wiring_app.aws.calls().take());
        if tally.ec2_writes != 0 {
            return Err(format!("converged hub sweep wrote {} times", tally.ec2_writes).into());
        }
        rows.push(Row {
            scenario: format!("hub, {} peerings: converged wiring sweep", hub.peers),
            tally,
            formula_emulator: hub.converged_sweep(Paging::EMULATOR),
            formula_aws: hub.converged_sweep(Paging::AWS),
            minimum_aws: hub.converged_sweep(Paging::AWS),
            note: "warm; 0 writes".into(),
        });
    }

    println!("## API calls per scenario (HTTP layer, product CallLog)\n");
    println!(
        "| scenario | calls measured (emulator) | formula, emulator paging | formula, AWS paging | theoretical minimum (AWS) | EC2 writes | note |"
    );
    println!("|---|---:|---:|---:|---:|---:|---|");
    let mut mismatches = 0;
    for row in &rows {
        let check = if row.tally.total == row.formula_emulator {
            "="
        } else {
            mismatches += 1;
            "≠"
        };
        println!(
            "| {} | {} | {} {} | {} | {} | {} | {} |",
            row.scenario,
            row.tally.total,
            check,
            row.formula_emulator,
            row.formula_aws,
            row.minimum_aws,
            row.tally.ec2_writes,
            row.note
        );
    }
    println!("\nPer operation:\n");
    for row in &rows {
        println!("- {}: {}", row.scenario, row.tally.breakdown());
    }
    println!(
        "\nAccounts: requester {REQUESTER_ACCOUNT}, accepter {ACCEPTER_ACCOUNT}. \
         Write budget of the product's EC2 clients: {budget}."
    );
    if mismatches > 0 {
        println!(
            "\n{mismatches} row(s) differ from the formula (≠): see the per-operation counts."
        );
    }
    Ok(())
}

/// The accepter VPC of account B (10.1.0.0/16, `accepter_tables` route tables, role=rds-db)
/// and `count` requester VPCs in account A, 10.2.0.0/16 upwards (10.0.0.0/16 is the
/// scenario's requester), each with `tables` route tables and a role=ecs-tasks group: one
/// `scenario::seed_vpcs`, the accepter first.
pub async fn seed_spokes(
    world: &World,
    count: usize,
    tables: usize,
    accepter_tables: usize,
) -> Result<(SeededVpc, Vec<SeededVpc>)> {
    if count > 254 {
        return Err("at most 254 spokes fit 10.2.0.0/16..10.255.0.0/16".into());
    }
    let mut vpcs = vec![(
        ACCEPTER_ACCOUNT,
        "10.1.0.0/16".to_owned(),
        accepter_tables,
        "rds-db",
    )];
    vpcs.extend((0..count).map(|i| {
        (
            REQUESTER_ACCOUNT,
            format!("10.{}.0.0/16", i + 2),
            tables,
            "ecs-tasks",
        )
    }));
    let mut seeded = world.seed_vpcs(&vpcs).await?.into_iter();
    let accepter = seeded.next().ok_or("seeding returned no VPC")?;
    Ok((accepter, seeded.collect()))
}
