//! The hub at scale: P peerings across A requester accounts and R regions into one accepter
//! account (one accepter VPC per region), every VPC with T route tables, accepted by a person,
//! so that the `peering-wiring` sweep does all the work.
//!
//! Three worlds, each on its own emulator, each sweep in a child process of this binary
//! (`hub-sweep`, the product alone in a process, as in Lambda):
//!
//! 1. **Fresh, then converged**: calls per operation against the minimum derived from first
//!    principles, the wall time against the floor the EC2 write bucket sets, and peak RSS;
//!    then a second sweep of the same process, which must only read.
//! 2. **Deadline**: the first sweep's deadline stops it early, the next sweep finishes; every
//!    peering is reported `Peering Wired` exactly once across both, and the second starts with
//!    what the first did not reach (the ledger's cursor).
//! 3. **Faults**: a requester account whose member role cannot be assumed, one whose role may
//!    not `CreateRoute`, and one requester group whose outbound rules are at the quota; every
//!    other peering converges in one sweep.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::Stdio;
use std::time::{Duration, Instant};

use peerwire::aws::calls::CallLog;
use peerwire_emulator::outcomes::OutcomeCapture;
use peerwire_emulator::scenario::{self, Hub, HubSpec, ACCEPTER_ACCOUNT};
use peerwire_emulator::EmulatorOptions;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::world::{Budget, Result, World, PEERING_TAGS, WIRING_POLICY};

/// The outcome bus every hub world captures.
const BUS: &str = "peerwire-outcomes";
/// The ledger table every hub world creates (as `tests/src/lib.rs` does).
const LEDGER_TABLE: &str = "peerwire-ledger";
/// moto's default account: the hub's own (static test credentials).
const HUB_ACCOUNT: &str = "123456789012";
/// `peerwire::reconcile::sweep::SAFETY_MARGIN`: no peering is started closer than this to the
/// deadline.
const SAFETY_MARGIN_S: f64 = 20.0;
/// The ratios the issue asks for.
const GOAL: f64 = 1.10;

/// The shape of a hub.
#[derive(Debug, Clone)]
pub struct Shape {
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    /// Requester VPCs per account and region.
    pub vpcs: usize,
    /// Route tables (and subnets) per VPC, both sides.
    pub tables: usize,
}

impl Shape {
    /// `peerings` spread over at most `accounts` requester accounts in `regions`: every
    /// account gets the same number of VPCs in every region.
    pub fn new(
        peerings: usize,
        accounts: usize,
        regions: Vec<String>,
        tables: usize,
    ) -> Result<Self> {
        let r = regions.len();
        if r == 0 || peerings < r {
            return Err("at least one peering per region".into());
        }
        let a = accounts.clamp(1, peerings / r);
        if !peerings.is_multiple_of(a * r) {
            return Err(format!(
                "{peerings} peerings do not spread evenly over {a} accounts × {r} regions"
            )
            .into());
        }
        Ok(Self {
            accounts: (1..=a)
                .map(|k| format!("{}", 300_000_000_000u64 + k as u64))
                .collect(),
            regions,
            vpcs: peerings / (a * r),
            tables: tables.max(1),
        })
    }

    pub fn peerings(&self) -> usize {
        self.accounts.len() * self.regions.len() * self.vpcs
    }

    fn per_region(&self) -> usize {
        self.accounts.len() * self.vpcs
    }

    /// Routes per table and rules per group: AWS's defaults (50, 60) do not hold one route
    /// and one rule per peer of a 250-peer accepter VPC, so the hub has them raised (both
    /// are adjustable, to 1,000) to the next 50 above its peers per region plus 10.
    pub fn quota(&self) -> usize {
        (self.per_region() + 10).div_ceil(50).max(2) * 50
    }

    fn spec(&self) -> HubSpec {
        HubSpec {
            accepter_account: ACCEPTER_ACCOUNT.to_owned(),
            regions: self.regions.clone(),
            requester_accounts: self.accounts.clone(),
            vpcs_per_account_region: self.vpcs,
            route_tables: self.tables,
            peering_tags: PEERING_TAGS
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// `WIRING_POLICY` with its one rule naming every requester account, and the accepter and
    /// the rule covering every region.
    pub fn policy(&self) -> Result<String> {
        let accounts = self
            .accounts
            .iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let regions = self.regions.join(", ");
        let mut policy = WIRING_POLICY.to_owned();
        for (from, to) in [
            (
                "requester_accounts: [\"111111111111\"]".to_owned(),
                format!("requester_accounts: [{accounts}]"),
            ),
            (
                "regions: [us-east-1]".to_owned(),
                format!("regions: [{regions}]"),
            ),
        ] {
            if !policy.contains(&from) {
                return Err(format!("WIRING_POLICY has no `{from}` any more").into());
            }
            policy = policy.replace(&from, &to);
        }
        peerwire::policy::Policy::parse(&policy)
            .map_err(|e| format!("the hub policy does not parse: {e}"))?;
        Ok(policy)
    }
}

/// What `hub` runs.
#[derive(Debug, Clone)]
pub struct Args {
    pub shape: Shape,
    pub budget: Budget,
    /// The deadline run's first sweep gets `SAFETY_MARGIN + cut × (fresh sweep's wall)`.
    pub cut: f64,
    pub deadline: bool,
    pub faults: bool,
    pub parallel: usize,
}

/// One seeded hub world.
struct HubWorld {
    world: World,
    hub: Hub,
    capture: OutcomeCapture,
}

fn secs(since: Instant) -> f64 {
    since.elapsed().as_secs_f64()
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

async fn seed(shape: &Shape, policy: &str, parallel: usize, label: &str) -> Result<HubWorld> {
    let quota = shape.quota().to_string();
    let options = EmulatorOptions::new()
        .setting("sg_rules_per_group", &quota)
        .setting("routes_per_table", &quota);
    let started = Instant::now();
    let world = World::start_with(&options, policy).await?;
    let hub_config = world.emulator.hub_config(&CallLog::default()).await;
    let capture = OutcomeCapture::create(&hub_config, BUS).await?;
    create_ledger(&world).await?;
    let spec = shape.spec();
    eprintln!(
        "[hub] {label}: seeding {} VPCs ({} accounts × {} regions × {} + {} accepter VPCs, {} route tables each) …",
        shape.peerings() + shape.regions.len(),
        shape.accounts.len(),
        shape.regions.len(),
        shape.vpcs,
        shape.regions.len(),
        shape.tables
    );
    let hub = Hub::seed(&world.seeder, &spec, parallel).await?;
    let seeded = secs(started);
    hub.accept_all(&world.seeder, parallel).await?;
    let seeder_calls = world.seeder.calls().take().len();
    eprintln!(
        "[hub] {label}: {} VPCs and {} requests in {seeded:.0} s, accepted in {:.0} s more ({} seeding calls)",
        hub.requesters.len() + hub.accepters.len(),
        hub.peerings.len(),
        secs(started) - seeded,
        thousands(seeder_calls)
    );
    Ok(HubWorld {
        world,
        hub,
        capture,
    })
}

/// The ledger table, as `tests/src/lib.rs` `create_ledger` makes it (DynamoDB's JSON protocol:
/// the bench has no DynamoDB SDK of its own).
async fn create_ledger(world: &World) -> Result<()> {
    let answer = world
        .emulator
        .call_json(
            HUB_ACCOUNT,
            "dynamodb",
            "DynamoDB_20120810.CreateTable",
            &json!({
                "TableName": LEDGER_TABLE,
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            }),
        )
        .await?;
    if answer.status != 200 {
        return Err(format!("CreateTable: {} {}", answer.status, answer.body).into());
    }
    Ok(())
}

/// One sweep as the child reported it.
#[derive(Debug, Clone)]
struct Sweep(Value);

impl Sweep {
    fn f(&self, key: &str) -> f64 {
        self.0[key].as_f64().unwrap_or(0.0)
    }

    fn calls(&self) -> BTreeMap<String, usize> {
        self.0["calls"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0) as usize))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn total_calls(&self) -> usize {
        self.calls().values().sum()
    }

    fn ec2_writes(&self) -> usize {
        self.0["ec2_writes"].as_u64().unwrap_or(0) as usize
    }

    fn outcomes(&self) -> Vec<Value> {
        self.0["outcomes"].as_array().cloned().unwrap_or_default()
    }

    fn ids(&self, key: &str) -> Vec<String> {
        self.0[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Writes per (account, region) bucket.
    fn buckets(&self) -> BTreeMap<String, usize> {
        self.0["writes_by_bucket"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0) as usize))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn kinds(&self) -> BTreeMap<String, usize> {
        let mut kinds = BTreeMap::new();
        for outcome in self.outcomes() {
            *kinds
                .entry(outcome["kind"].as_str().unwrap_or("?").to_owned())
                .or_default() += 1;
        }
        kinds
    }
}

/// Runs `sweeps` sweeps of the wiring door in one child process against `world`.
async fn run_child(
    world: &HubWorld,
    budget: Budget,
    sweeps: usize,
    deadline_secs: Option<f64>,
    pause_secs: f64,
    event_base: usize,
) -> Result<(Sweep, Vec<Sweep>)> {
    let mut command = tokio::process::Command::new(std::env::current_exe()?);
    command
        .arg("hub-sweep")
        .args(["--endpoint", world.world.endpoint()])
        .arg("--policy")
        .arg(world.world.policy_path())
        .args(["--bus", BUS, "--ledger-table", LEDGER_TABLE])
        .args(["--budget", &budget.arg()])
        .args(["--sweeps", &sweeps.to_string()])
        .args(["--pause-secs", &pause_secs.to_string()])
        .args(["--event-base", &event_base.to_string()]);
    if let Some(deadline) = deadline_secs {
        command.args(["--deadline-secs", &deadline.to_string()]);
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().ok_or("the sweep child has no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut init = None;
    let mut done = Vec::new();
    while let Some(line) = lines.next_line().await? {
        let Ok(value) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        match value["hub_sweep"].as_str() {
            Some("init") => init = Some(Sweep(value)),
            Some("sweep") => done.push(Sweep(value)),
            _ => {}
        }
    }
    let status = child.wait().await?;
    if !status.success() {
        return Err(format!("hub-sweep child failed: {status}").into());
    }
    for sweep in &done {
        if let Some(err) = sweep.0["error"].as_str() {
            eprintln!(
                "[hub] sweep {} ended with an error: {err}",
                sweep.0["sweep"]
            );
        }
    }
    match init {
        Some(init) if done.len() == sweeps => Ok((init, done)),
        _ => Err(format!("the sweep child reported {} of {sweeps} sweeps", done.len()).into()),
    }
}

/// What the capture queue received: (peering id, detail-type) per event.
async fn drain(world: &HubWorld) -> Result<Vec<(String, String)>> {
    // EventBridge delivers to SQS asynchronously in moto: drain until it stays empty.
    let mut events = Vec::new();
    let mut quiet = 0;
    while quiet < 2 {
        let batch = world.capture.drain().await?;
        if batch.is_empty() {
            quiet += 1;
            tokio::time::sleep(Duration::from_millis(300)).await;
        } else {
            quiet = 0;
            events.extend(batch);
        }
    }
    Ok(events
        .iter()
        .map(|e| {
            (
                e["detail"]["peering_id"].as_str().unwrap_or("").to_owned(),
                e["detail-type"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect())
}

/// Routes through each peering, on both sides, as their owners see them.
async fn routes(world: &HubWorld) -> Result<HashMap<String, usize>> {
    let vpcs: Vec<_> = world
        .hub
        .accepters
        .iter()
        .chain(world.hub.requesters.iter())
        .collect();
    Ok(scenario::routes_by_peering(&world.world.seeder, &vpcs).await?)
}

/// The minimum calls of one fresh sweep, per operation, with the reason for each.
fn fresh_minimum(shape: &Shape) -> Vec<(&'static str, usize, String)> {
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
        ("ec2:DescribeRouteTables", sides * pages(t, 100), format!("⌈T/100⌉ = {} per side", pages(t, 100))),
        ("ec2:DescribeSubnets", sides * pages(t, 1000), "⌈S/1000⌉ = 1 per side".to_owned()),
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
        ("dynamodb:GetItem", 1, "the sweep cursor".to_owned()),
        ("dynamodb:PutItem", p, "one claim per plan that writes (duplicate deliveries apply it once)".to_owned()),
        ("dynamodb:DeleteItem", 1, "the sweep cursor, cleared".to_owned()),
    ]
}

/// The minimum of a converged sweep: the same reads, no STS (warm), no quota, no write.
fn converged_minimum(shape: &Shape) -> Vec<(&'static str, usize, String)> {
    fresh_minimum(shape)
        .into_iter()
        .filter(|(op, _, _)| op.starts_with("ec2:Describe") || *op == "dynamodb:GetItem")
        .collect()
}

/// Prints measured calls against `minimum`; returns (measured, minimum) totals.
fn compare(sweep: &Sweep, minimum: &[(&'static str, usize, String)]) -> (usize, usize) {
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
fn floor(sweep: &Sweep, budget: Budget) -> (f64, String, usize) {
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

fn print_timeline(sweep: &Sweep) {
    let Some(lines) = sweep.0["timeline"].as_object() else {
        return;
    };
    let mut rows: Vec<(&String, &Value)> = lines.iter().collect();
    rows.sort_by(|a, b| {
        b.1["n"]
            .as_u64()
            .unwrap_or(0)
            .cmp(&a.1["n"].as_u64().unwrap_or(0))
    });
    println!("| bucket (account region) | EC2 writes | first write (s) | last write (s) |");
    println!("|---|---:|---:|---:|");
    for (bucket, v) in rows.iter().take(4) {
        println!(
            "| {bucket} | {} | {:.1} | {:.1} |",
            v["n"],
            v["first_s"].as_f64().unwrap_or(0.0),
            v["last_s"].as_f64().unwrap_or(0.0)
        );
    }
    if rows.len() > 4 {
        println!("| … {} more buckets | | | |", rows.len() - 4);
    }
}

/// ` = wall / floor`, or why there is no ratio.
fn ratio_text(wall: f64, floor: f64) -> String {
    if floor > 0.0 {
        format!(" = {:.2}", wall / floor)
    } else {
        " (no ratio: every bucket stays within its burst)".to_owned()
    }
}

fn mib(kb: &Value) -> String {
    kb.as_f64()
        .map(|kb| format!("{:.1} MiB", kb / 1024.0))
        .unwrap_or_else(|| "?".into())
}

pub async fn run(args: Args) -> Result<()> {
    let shape = &args.shape;
    let policy = shape.policy()?;
    let p = shape.peerings();
    let all = Instant::now();
    println!(
        "# Hub of {p} peerings\n\n{} requester accounts × {} regions ({}) × {} VPCs each, into \
         account {ACCEPTER_ACCOUNT} (one accepter VPC per region); {} route tables (and subnets) \
         per VPC, both sides; the policy fixture `WIRING_POLICY` with its rule naming the {} \
         accounts and regions (tags required on the requester's view: read through its role). \
         Peerings accepted by a person; quotas raised to {} routes per table and {} rules per \
         group. Write budget: {}. Ledger table and outcome capture configured.\n",
        shape.accounts.len(),
        shape.regions.len(),
        shape.regions.join(", "),
        shape.vpcs,
        shape.tables,
        shape.accounts.len(),
        shape.quota(),
        shape.quota(),
        args.budget
    );

    // 1. Fresh, then converged.
    let main = seed(shape, &policy, args.parallel, "fresh").await?;
    eprintln!("[hub] fresh: two sweeps in one process (fresh, then converged) …");
    let (init, sweeps) = run_child(&main, args.budget, 2, None, 0.0, 1).await?;
    let (fresh, converged) = match sweeps.as_slice() {
        [f, c] => (f.clone(), c.clone()),
        _ => return Err("two sweeps expected".into()),
    };
    let delivered = drain(&main).await?;
    let routed = routes(&main).await?;
    let wired: Vec<&String> = main
        .hub
        .peerings
        .iter()
        .map(|x| &x.peering_id)
        .filter(|id| routed.get(*id).copied() == Some(2 * shape.tables))
        .collect();
    let kinds = fresh.kinds();
    let wired_outcomes = kinds.get("wired").copied().unwrap_or(0);
    if wired_outcomes != p || wired.len() != p {
        return Err(format!(
            "fresh sweep: {wired_outcomes} wired outcomes, {} peerings with {} routes, of {p}; outcomes {kinds:?}",
            wired.len(),
            2 * shape.tables
        )
        .into());
    }
    println!("## 1. Fresh wiring sweep\n");
    println!(
        "All {p} peerings reported `Peering Wired` ({} events on the bus), each with {} routes \
         through it afterwards; {} EC2 writes.\n",
        delivered
            .iter()
            .filter(|(_, t)| t == "Peering Wired")
            .count(),
        2 * shape.tables,
        thousands(fresh.ec2_writes())
    );
    let (measured, minimum) = compare(&fresh, &fresh_minimum(shape));
    let ratio = measured as f64 / minimum as f64;
    println!(
        "\n**Calls / minimum = {} / {} = {ratio:.3}** (goal ≤ {GOAL:.2}: {}).\n",
        thousands(measured),
        thousands(minimum),
        if ratio <= GOAL { "met" } else { "NOT met" }
    );
    let b = args.budget.write_budget();
    let (floor_s, busiest, busiest_writes) = floor(&fresh, args.budget);
    let wall = fresh.f("wall_s");
    println!(
        "**Wall time {wall:.1} s against the floor {floor_s:.1} s{}** (goal ≤ {GOAL:.2}). \
         Floor: the busiest bucket, {busiest}, has {busiest_writes} writes: ({busiest_writes} − \
         {}) / {}/s; the buckets of other accounts and regions drain in parallel.\n",
        ratio_text(wall, floor_s),
        b.burst,
        b.per_second
    );
    print_timeline(&fresh);
    println!(
        "\nPeak RSS of the sweep process (`VmHWM`): {} after init, **{} after the fresh sweep**, \
         {} after the converged one (RSS then {}).\n",
        mib(&init.0["hwm_kb"]),
        mib(&fresh.0["hwm_kb"]),
        mib(&converged.0["hwm_kb"]),
        mib(&converged.0["rss_kb"])
    );
    let retained = |sweep: &Sweep| {
        let r = &sweep.0["retained"];
        format!(
            "{} observed states holding {} routes and {} rules",
            r["states"], r["routes"], r["rules"]
        )
    };
    println!(
        "The run's log keeps, until the door returns, a copy of both sides as observed per \
         peering: fresh sweep {}; converged sweep {}.\n",
        retained(&fresh),
        retained(&converged)
    );
    println!("## 2. Converged sweep, right after (same process)\n");
    let (c_measured, c_minimum) = compare(&converged, &converged_minimum(shape));
    println!(
        "\n{} calls ({} minimum: {:.3}), {} EC2 writes, {} outcomes, {:.1} s.\n",
        thousands(c_measured),
        thousands(c_minimum),
        c_measured as f64 / c_minimum.max(1) as f64,
        converged.ec2_writes(),
        converged.outcomes().len(),
        converged.f("wall_s")
    );
    if converged.ec2_writes() != 0 || !converged.outcomes().is_empty() {
        return Err("the converged sweep wrote or reported".into());
    }
    drop(main);

    // 2. Deadline.
    if args.deadline {
        let world = seed(shape, &policy, args.parallel, "deadline").await?;
        let deadline = SAFETY_MARGIN_S + args.cut * wall;
        let pause = f64::from(b.burst) / b.per_second;
        eprintln!(
            "[hub] deadline: first sweep with a {deadline:.0} s deadline, {pause:.0} s pause, a second sweep …"
        );
        let (_, sweeps) = run_child(&world, args.budget, 2, Some(deadline), pause, 101).await?;
        let (first, second) = match sweeps.as_slice() {
            [f, s] => (f.clone(), s.clone()),
            _ => return Err("two sweeps expected".into()),
        };
        let delivered = drain(&world).await?;
        let routed = routes(&world).await?;
        let not_reached = first.ids("not_reached");
        let cursor = first.ids("cursor_after");
        let order = second.ids("started");
        let head: BTreeSet<&String> = order.iter().take(not_reached.len()).collect();
        let missed: BTreeSet<&String> = not_reached.iter().collect();
        let mut wired_count: HashMap<&str, usize> = HashMap::new();
        for (id, kind) in &delivered {
            if kind == "Peering Wired" {
                *wired_count.entry(id.as_str()).or_default() += 1;
            }
        }
        let once = world
            .hub
            .peerings
            .iter()
            .filter(|x| wired_count.get(x.peering_id.as_str()) == Some(&1))
            .count();
        let fully_routed = world
            .hub
            .peerings
            .iter()
            .filter(|x| routed.get(&x.peering_id).copied() == Some(2 * shape.tables))
            .count();
        let other_events = delivered
            .iter()
            .filter(|(_, t)| t != "Peering Wired")
            .count();
        println!("## 3. Deadline: a sweep cut short, then the next one\n");
        println!(
            "First sweep: deadline {deadline:.1} s (SAFETY_MARGIN {SAFETY_MARGIN_S:.0} s + {} × \
             the fresh sweep's {wall:.1} s), so no peering starts after {:.1} s. It reconciled {} \
             peerings ({} wired), left {} not reached, and returned after {:.1} s, {:.1} s before \
             its deadline. The ledger's cursor then held {} ids ({}).\n",
            args.cut,
            deadline - SAFETY_MARGIN_S,
            first.ids("order").len(),
            first.kinds().get("wired").copied().unwrap_or(0),
            not_reached.len(),
            first.f("wall_s"),
            first.f("before_deadline_s"),
            cursor.len(),
            if cursor.iter().collect::<BTreeSet<_>>() == missed {
                "exactly the not-reached ones"
            } else {
                "NOT the not-reached ones"
            }
        );
        let starts_with_missed = head == missed;
        println!(
            "Second sweep (after a {pause:.0} s pause: a fresh bucket, as the next scheduled \
             invocation has): the first {} peerings it started (its first call naming each) \
             were {}; {} wired, {} converged (reads only), {:.1} s.\n",
            not_reached.len(),
            if starts_with_missed {
                "exactly the ones the first did not reach"
            } else {
                "NOT the ones the first did not reach"
            },
            second.kinds().get("wired").copied().unwrap_or(0),
            second.ids("order").len() - second.outcomes().len(),
            second.f("wall_s")
        );
        let (f1, _, _) = floor(&first, args.budget);
        let (f2, _, _) = floor(&second, args.budget);
        let walls = first.f("wall_s") + second.f("wall_s");
        println!(
            "Across both: {once} of {p} peerings reported `Peering Wired` exactly once on the bus \
             ({} other events), {fully_routed} of {p} with all {} routes. Wall {walls:.1} s \
             against a floor of {:.1} s ({f1:.1} + {f2:.1}, each run's busiest bucket){}; \
             calls {} + {}.\n",
            other_events,
            2 * shape.tables,
            f1 + f2,
            ratio_text(walls, f1 + f2),
            thousands(first.total_calls()),
            thousands(second.total_calls())
        );
        if once != p || fully_routed != p || !starts_with_missed || not_reached.is_empty() {
            return Err("the deadline run lost or repeated an outcome, or did not resume".into());
        }
    }

    // 3. Faults.
    if args.faults {
        let world = seed(shape, &policy, args.parallel, "faults").await?;
        let accounts = &shape.accounts;
        let (Some(denied), Some(no_routes)) = (accounts.last(), accounts.first()) else {
            return Err("no requester account".into());
        };
        if denied == no_routes {
            return Err("the fault run needs at least 2 requester accounts".into());
        }
        let Some(full) = world
            .hub
            .requesters
            .iter()
            .find(|v| &v.account != denied && &v.account != no_routes)
            .cloned()
        else {
            return Err("the fault run needs a third requester account".into());
        };
        scenario::fill_egress(&world.world.seeder, &full, shape.quota()).await?;
        world
            .world
            .emulator
            .set_all(&[
                ("deny_assume_role", denied.as_str()),
                ("deny_actions", &format!("{no_routes}:ec2:CreateRoute")),
            ])
            .await?;
        eprintln!("[hub] faults: one sweep …");
        let (_, sweeps) = run_child(&world, args.budget, 1, None, 0.0, 201).await?;
        let Some(sweep) = sweeps.first().cloned() else {
            return Err("one sweep expected".into());
        };
        let delivered = drain(&world).await?;
        let routed = routes(&world).await?;
        let owner: HashMap<&str, &scenario::SeededVpc> = world
            .hub
            .peerings
            .iter()
            .filter_map(|x| Some((x.peering_id.as_str(), world.hub.requester_of(x)?)))
            .collect();
        let outcomes = sweep.outcomes();
        let ignored = sweep.ids("ignored");
        let mut by_fault: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
        let mut others_wired = 0;
        let mut others = 0;
        for x in &world.hub.peerings {
            let Some(vpc) = owner.get(x.peering_id.as_str()) else {
                continue;
            };
            let fault = if &vpc.account == denied {
                "denied"
            } else if &vpc.account == no_routes {
                "no-routes"
            } else if vpc.vpc_id == full.vpc_id {
                "quota"
            } else {
                others += 1;
                let wired_here = outcomes
                    .iter()
                    .any(|o| o["peering_id"] == x.peering_id.as_str() && o["kind"] == "wired")
                    && routed.get(&x.peering_id).copied() == Some(2 * shape.tables);
                if wired_here {
                    others_wired += 1;
                }
                continue;
            };
            let entry = by_fault.entry(fault).or_default();
            if let Some(o) = outcomes
                .iter()
                .find(|o| o["peering_id"] == x.peering_id.as_str())
            {
                entry.push(o);
            }
        }
        let count_for = |account: &str| {
            world
                .hub
                .peerings
                .iter()
                .filter(|x| {
                    owner
                        .get(x.peering_id.as_str())
                        .is_some_and(|v| v.account == account)
                })
                .count()
        };
        println!("## 4. Faults\n");
        println!(
            "Injected after seeding: `deny_assume_role` = {denied} (its {} peerings: the member \
             role cannot be assumed), `deny_actions` = {no_routes}:ec2:CreateRoute (its {} \
             peerings), and the task group {} of {} ({}, {}) with its outbound rules at the quota \
             ({} rules, the default allow-all removed), so the egress rule to the accepter's \
             CIDR cannot be added.\n",
            count_for(denied),
            count_for(no_routes),
            full.security_group_id,
            full.vpc_id,
            full.account,
            full.region,
            shape.quota()
        );
        println!(
            "One sweep, {:.1} s, {} calls: **{others_wired} of the {others} other peerings wired** \
             (outcome `wired` and all {} routes). Outcomes by kind: {:?}; {} left alone (no \
             outcome): {}.\n",
            sweep.f("wall_s"),
            thousands(sweep.total_calls()),
            2 * shape.tables,
            sweep.kinds(),
            ignored.len(),
            if ignored.is_empty() { "none".to_owned() } else { format!("{} …", ignored.iter().take(3).cloned().collect::<Vec<_>>().join(", ")) }
        );
        let denied_ignored = world
            .hub
            .peerings
            .iter()
            .filter(|x| {
                owner
                    .get(x.peering_id.as_str())
                    .is_some_and(|v| &v.account == denied)
            })
            .filter(|x| ignored.contains(&x.peering_id))
            .count();
        println!("| fault | peerings | reported as | routes afterwards | example |");
        println!("|---|---:|---|---|---|");
        for (fault, account) in [
            ("denied", denied.as_str()),
            ("no-routes", no_routes.as_str()),
            ("quota", full.account.as_str()),
        ] {
            let list = by_fault.get(fault).cloned().unwrap_or_default();
            let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
            for o in &list {
                *kinds
                    .entry(o["kind"].as_str().unwrap_or("?").to_owned())
                    .or_default() += 1;
            }
            let example = list
                .first()
                .map(|o| {
                    let error = o["error"].as_str().unwrap_or("");
                    let reasons: Vec<&str> = o["reasons"]
                        .as_array()
                        .map(|r| r.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    let failed: Vec<&&str> = reasons
                        .iter()
                        .filter(|r| {
                            r.contains("failed") || r.contains("quota") || r.contains("used")
                        })
                        .take(1)
                        .collect();
                    format!(
                        "{}{}",
                        if error.is_empty() {
                            String::new()
                        } else {
                            format!("error: {error}; ")
                        },
                        failed.first().map(|r| r.to_string()).unwrap_or_default()
                    )
                    .replace('|', "\\|")
                })
                .unwrap_or_default();
            let peerings = if fault == "quota" {
                1
            } else {
                count_for(account)
            };
            let reported = if fault == "denied" && list.is_empty() {
                let why = sweep.0["left_alone"]
                    .as_array()
                    .and_then(|l| {
                        l.iter().find(|w| {
                            w["peering_id"].as_str().is_some_and(|id| {
                                owner.get(id).is_some_and(|v| &v.account == denied)
                            })
                        })
                    })
                    .and_then(|w| w["why"].as_str())
                    .unwrap_or("")
                    .replace('|', "\\|");
                format!(
                    "no outcome; {denied_ignored} in the report's `ignored` (left alone: {why}); {} AssumeRole calls in the sweep",
                    sweep.calls().get("sts:AssumeRole").copied().unwrap_or(0)
                )
            } else {
                format!("{kinds:?}")
            };
            // Routes through the fault's peerings afterwards, both sides: count → peerings.
            let mut routes_after: BTreeMap<usize, usize> = BTreeMap::new();
            for x in &world.hub.peerings {
                let Some(vpc) = owner.get(x.peering_id.as_str()) else {
                    continue;
                };
                let hit = if fault == "quota" {
                    vpc.vpc_id == full.vpc_id
                } else {
                    vpc.account == account
                };
                if hit {
                    *routes_after
                        .entry(routed.get(&x.peering_id).copied().unwrap_or(0))
                        .or_default() += 1;
                }
            }
            let routes_after = routes_after
                .iter()
                .map(|(routes, n)| format!("{n} with {routes} of {}", 2 * shape.tables))
                .collect::<Vec<_>>()
                .join(", ");
            println!(
                "| {fault} ({account}) | {peerings} | {reported} | {routes_after} | {example} |"
            );
        }
        let bus: BTreeMap<&str, usize> = delivered.iter().fold(BTreeMap::new(), |mut m, (_, t)| {
            *m.entry(t.as_str()).or_default() += 1;
            m
        });
        println!("\nOn the bus: {bus:?}.\n");
        if others_wired != others {
            return Err(
                format!("only {others_wired} of {others} unaffected peerings converged").into(),
            );
        }
    }
    println!("Whole benchmark: {:.0} s.", secs(all));
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_hub_spreads_evenly_and_names_every_account_in_the_policy() {
        let regions = || vec!["us-east-1".to_owned(), "us-west-2".to_owned()];
        let hub = Shape::new(500, 50, regions(), 3).unwrap();
        assert_eq!((hub.accounts.len(), hub.vpcs, hub.peerings()), (50, 5, 500));
        assert_eq!(hub.quota(), 300);
        let smoke = Shape::new(20, 50, regions(), 3).unwrap();
        assert_eq!((smoke.accounts.len(), smoke.vpcs), (10, 1));
        assert!(Shape::new(21, 50, regions(), 3).is_err());
        let policy = hub.policy().unwrap();
        assert!(policy.contains("\"300000000050\""));
        assert!(policy.contains("regions: [us-east-1, us-west-2]"));
    }

    #[test]
    fn budgets_parse() {
        assert_eq!("ec2".parse::<Budget>().unwrap(), Budget::Ec2);
        assert_eq!("scaled".parse::<Budget>().unwrap(), Budget::Scaled(4.0));
        let b = "scaled:2".parse::<Budget>().unwrap().write_budget();
        assert_eq!((b.burst, b.per_second), (100, 10.0));
        assert!("fast".parse::<Budget>().is_err());
    }
}
