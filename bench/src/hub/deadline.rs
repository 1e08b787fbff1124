//! World 2, a deadline: the first sweep's deadline stops it early and the next sweep finishes;
//! every peering is reported `Peering Wired` exactly once across both, and the second starts
//! with what the first did not reach (the ledger's cursor).

use std::collections::{BTreeSet, HashMap};

use super::minimum::{floor, ratio_text};
use super::world::{drain, routes, run_child, seed};
use super::{thousands, Args};
use crate::world::Result;

/// `peerwire::reconcile::sweep::SAFETY_MARGIN`: no peering is started closer than this to the
/// deadline.
const SAFETY_MARGIN_S: f64 = 20.0;

/// Runs world 2, its first sweep's deadline set from `wall` (the fresh sweep's wall time, s),
/// and prints its figures.
pub(super) async fn run(args: &Args, policy: &str, wall: f64) -> Result<()> {
    let shape = &args.shape;
    let p = shape.peerings();
    let world = seed(shape, policy, args.parallel, "deadline").await?;
    let deadline = SAFETY_MARGIN_S + args.cut * wall;
    let b = args.budget.write_budget();
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
    Ok(())
}
