//! World 3, faults: a requester account whose member role cannot be assumed, one whose role may
//! not `CreateRoute`, and one requester group whose outbound rules are at the quota; every
//! other peering converges in one sweep, and each fault is reported as such.

use std::collections::{BTreeMap, HashMap};

use peerwire_emulator::scenario::{self, SeededVpc};
use serde_json::Value;

use super::world::{drain, routes, run_child, seed, HubWorld, Sweep};
use super::{thousands, Args};
use crate::world::Result;

/// The three faults, by the peerings they touch.
struct Faults {
    /// Its member role cannot be assumed.
    denied: String,
    /// Its member role may not `CreateRoute`.
    no_routes: String,
    /// The requester VPC whose task group's outbound rules are at the quota.
    full: SeededVpc,
}

impl Faults {
    /// Which fault `vpc`'s peering meets, if any.
    fn of(&self, vpc: &SeededVpc) -> Option<&'static str> {
        if vpc.account == self.denied {
            Some("denied")
        } else if vpc.account == self.no_routes {
            Some("no-routes")
        } else if vpc.vpc_id == self.full.vpc_id {
            Some("quota")
        } else {
            None
        }
    }
}

/// What one sweep of the faulty world left behind.
struct Seen<'a> {
    world: &'a HubWorld,
    sweep: &'a Sweep,
    outcomes: Vec<Value>,
    /// Routes through each peering afterwards, both sides.
    routed: HashMap<String, usize>,
    /// The requester VPC of each peering.
    owner: HashMap<&'a str, &'a SeededVpc>,
    /// Routes of a wired peering: both sides' tables.
    all_routes: usize,
}

impl Seen<'_> {
    /// The peerings whose requester VPC satisfies `hit`.
    fn peerings(&self, hit: impl Fn(&SeededVpc) -> bool) -> Vec<&str> {
        self.world
            .hub
            .peerings
            .iter()
            .map(|x| x.peering_id.as_str())
            .filter(|id| self.owner.get(id).is_some_and(|v| hit(v)))
            .collect()
    }

    fn outcomes_of(&self, ids: &[&str]) -> Vec<&Value> {
        ids.iter()
            .filter_map(|id| self.outcomes.iter().find(|o| o["peering_id"] == *id))
            .collect()
    }
}

/// Runs world 3 and prints its figures.
pub(super) async fn run(args: &Args, policy: &str) -> Result<()> {
    let shape = &args.shape;
    let world = seed(shape, policy, args.parallel, "faults").await?;
    let faults = inject(&world, args).await?;
    eprintln!("[hub] faults: one sweep …");
    let (_, sweeps) = run_child(&world, args.budget, 1, None, 0.0, 201).await?;
    let Some(sweep) = sweeps.first() else {
        return Err("one sweep expected".into());
    };
    let delivered = drain(&world).await?;
    let seen = Seen {
        world: &world,
        sweep,
        outcomes: sweep.outcomes(),
        routed: routes(&world).await?,
        owner: world
            .hub
            .peerings
            .iter()
            .filter_map(|x| Some((x.peering_id.as_str(), world.hub.requester_of(x)?)))
            .collect(),
        all_routes: 2 * shape.tables,
    };
    let others = seen.peerings(|v| faults.of(v).is_none());
    let others_wired = others
        .iter()
        .filter(|id| {
            seen.outcomes
                .iter()
                .any(|o| o["peering_id"] == **id && o["kind"] == "wired")
                && seen.routed.get(**id).copied() == Some(seen.all_routes)
        })
        .count();
    let ignored = sweep.ids("ignored");
    let full = &faults.full;
    println!("## 4. Faults\n");
    println!(
        "Injected after seeding: `deny_assume_role` = {} (its {} peerings: the member \
         role cannot be assumed), `deny_actions` = {}:ec2:CreateRoute (its {} \
         peerings), and the task group {} of {} ({}, {}) with its outbound rules at the quota \
         ({} rules, the default allow-all removed), so the egress rule to the accepter's \
         CIDR cannot be added.\n",
        faults.denied,
        seen.peerings(|v| v.account == faults.denied).len(),
        faults.no_routes,
        seen.peerings(|v| v.account == faults.no_routes).len(),
        full.security_group_id,
        full.vpc_id,
        full.account,
        full.region,
        shape.quota()
    );
    println!(
        "One sweep, {:.1} s, {} calls: **{others_wired} of the {} other peerings wired** \
         (outcome `wired` and all {} routes). Outcomes by kind: {:?}; {} left alone (no \
         outcome): {}.\n",
        sweep.f("wall_s"),
        thousands(sweep.total_calls()),
        others.len(),
        seen.all_routes,
        sweep.kinds(),
        ignored.len(),
        if ignored.is_empty() {
            "none".to_owned()
        } else {
            format!(
                "{} …",
                ignored
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    println!("| fault | peerings | reported as | routes afterwards | example |");
    println!("|---|---:|---|---|---|");
    let rows = [
        ("denied", faults.denied.as_str()),
        ("no-routes", faults.no_routes.as_str()),
        ("quota", full.account.as_str()),
    ];
    for (fault, account) in rows {
        println!("{}", row(&seen, &faults, fault, account));
    }
    let bus: BTreeMap<&str, usize> = delivered.iter().fold(BTreeMap::new(), |mut m, (_, t)| {
        *m.entry(t.as_str()).or_default() += 1;
        m
    });
    println!("\nOn the bus: {bus:?}.\n");
    if others_wired != others.len() {
        return Err(format!(
            "only {others_wired} of {} unaffected peerings converged",
            others.len()
        )
        .into());
    }
    // A requester whose role cannot be assumed is told, once a day, as a failure.
    let denied = seen.peerings(|v| v.account == faults.denied);
    let told = seen
        .outcomes_of(&denied)
        .iter()
        .filter(|o| o["kind"] == "failed")
        .count();
    if told != denied.len() {
        return Err(format!(
            "{told} of the {} peerings of the denied requester were reported failed",
            denied.len()
        )
        .into());
    }
    Ok(())
}

/// Injects the three faults into `world` (seeded, not yet swept).
async fn inject(world: &HubWorld, args: &Args) -> Result<Faults> {
    let accounts = &args.shape.accounts;
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
    scenario::fill_egress(&world.world.seeder, &full, args.shape.quota()).await?;
    world
        .world
        .emulator
        .set_all(&[
            ("deny_assume_role", denied.as_str()),
            ("deny_actions", &format!("{no_routes}:ec2:CreateRoute")),
        ])
        .await?;
    Ok(Faults {
        denied: denied.clone(),
        no_routes: no_routes.clone(),
        full,
    })
}

/// One fault's row: its peerings, how they were reported, their routes afterwards and an
/// example reason.
fn row(seen: &Seen<'_>, faults: &Faults, fault: &str, account: &str) -> String {
    let ids = seen.peerings(|v| faults.of(v) == Some(fault));
    let list = seen.outcomes_of(&ids);
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for o in &list {
        *kinds
            .entry(o["kind"].as_str().unwrap_or("?").to_owned())
            .or_default() += 1;
    }
    let example = list.first().map(|o| example(o)).unwrap_or_default();
    let mut reported = if list.is_empty() {
        let why = seen.sweep.0["left_alone"]
            .as_array()
            .and_then(|l| {
                l.iter()
                    .find(|w| w["peering_id"].as_str().is_some_and(|id| ids.contains(&id)))
            })
            .and_then(|w| w["why"].as_str())
            .unwrap_or("")
            .replace('|', "\\|");
        format!("no outcome (left alone: {why})")
    } else {
        format!("{kinds:?}")
    };
    if fault == "denied" {
        let ignored = seen.sweep.ids("ignored");
        reported.push_str(&format!(
            "; {} in the report's `ignored`; {} AssumeRole calls in the sweep",
            ids.iter()
                .filter(|id| ignored.iter().any(|i| i == *id))
                .count(),
            seen.sweep
                .calls()
                .get("sts:AssumeRole")
                .copied()
                .unwrap_or(0)
        ));
    }
    // Routes through the fault's peerings afterwards, both sides: count → peerings.
    let mut routes_after: BTreeMap<usize, usize> = BTreeMap::new();
    for id in &ids {
        *routes_after
            .entry(seen.routed.get(*id).copied().unwrap_or(0))
            .or_default() += 1;
    }
    let routes_after = routes_after
        .iter()
        .map(|(routes, n)| format!("{n} with {routes} of {}", seen.all_routes))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "| {fault} ({account}) | {} | {reported} | {routes_after} | {example} |",
        ids.len()
    )
}

/// An outcome's error and first telling reason, for a table cell.
fn example(outcome: &Value) -> String {
    let error = outcome["error"].as_str().unwrap_or("");
    let reasons: Vec<&str> = outcome["reasons"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let telling = reasons.iter().find(|r| {
        ["failed", "quota", "used", "cannot be verified"]
            .iter()
            .any(|word| r.contains(word))
    });
    format!(
        "{}{}",
        if error.is_empty() {
            String::new()
        } else {
            format!("error: {error}; ")
        },
        telling.map(|r| r.to_string()).unwrap_or_default()
    )
    .replace('|', "\\|")
}
