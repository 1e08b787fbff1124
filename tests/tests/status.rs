//! `peerwire status` against the patched emulator, through the library function the command
//! calls: each health named for the state that causes it, with what is missing and the next
//! command; reads only, exactly what the three doors' sweeps read; the JSON against its
//! schema; and the page in a real browser (headless Chromium): the demo's fleet and a fleet of
//! 200 peerings, every peering in the picture, no script error. Screenshots and pages are kept
//! in `<target>/status-pages/` for CI to collect.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{Duration, TimeZone, Utc};
use peerwire::model::Side;
use peerwire::reconcile::{Reconciled, StepResult, SurveyProgress};
use peerwire::testing::{id, net};
use peerwire_cli::plan::reconcile_forgotten;
use peerwire_cli::status::{self, Fleet, Health, Missing, Place, ReadError, Row, Scope, SideView};
use peerwire_integration::{
    browser, held_policy, schema, TestEnv, ACCEPTER_ACCOUNT, REQUESTER_ACCOUNT, WIRING_POLICY,
};
use serde_json::Value;

/// What `peerwire status` computes, without progress.
async fn survey(env: &TestEnv) -> Fleet {
    status::fleet(&env.app, &|_| {}).await.unwrap()
}

fn row<'a>(fleet: &'a Fleet, pcx: &str) -> &'a Row {
    fleet
        .peerings
        .iter()
        .find(|r| r.peering_id == pcx)
        .unwrap_or_else(|| panic!("no row for {pcx}: {fleet:#?}"))
}

fn whats(row: &Row) -> Vec<&str> {
    row.missing.iter().map(|m| m.what.as_str()).collect()
}

/// The calls made since the last take, by operation.
fn taken(env: &TestEnv) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for call in env.calls().take() {
        *counts.entry(call.operation).or_default() += 1;
    }
    counts
}

fn assert_read_only(calls: &BTreeMap<String, usize>) {
    let reads = ["Describe", "Get", "List", "AssumeRole"];
    for operation in calls.keys() {
        assert!(
            reads.iter().any(|r| operation.starts_with(r)),
            "status called {operation}: {calls:?}"
        );
    }
}

/// The `--json` document of `fleet` breaks nothing in `docs/schemas/status.schema.json`.
fn assert_valid(fleet: &Fleet) {
    let document = serde_json::to_value(fleet).unwrap();
    let errors = schema::violations(&schema::load("status.schema.json"), &document);
    assert_eq!(errors, Vec::<String>::new(), "{document:#}");
}

// ---------------------------------------------------------------- one health per state

#[tokio::test]
async fn a_wired_peering_is_healthy_and_status_reads_exactly_what_the_sweeps_read() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = env.wired_peering().await;
    let heard = Mutex::new(Vec::new());

    let fleet = status::fleet(&env.app, &|p| heard.lock().unwrap().push(p))
        .await
        .unwrap();
    let read = taken(&env);

    let row = row(&fleet, &pcx);
    assert_eq!(row.health, Health::Healthy, "{row:#?}");
    assert_eq!(row.rule.as_deref(), Some("payments-ecs-to-rds"));
    assert_eq!(row.status, "active");
    assert!(row.missing.is_empty() && row.next.is_none(), "{row:#?}");
    assert_eq!(
        row.requester.as_ref().map(|s| s.account.as_str()),
        Some(REQUESTER_ACCOUNT)
    );
    assert_eq!(fleet.peerings.len(), 1);
    assert_eq!(status::exit_code(&fleet), 0);
    assert_read_only(&read);
    // Told after the listing, after the peering, after each place searched for orphans (the
    // accepter's and the requester's, in the policy's region).
    assert_eq!(
        heard.into_inner().unwrap(),
        [
            SurveyProgress::Listed { peerings: 1 },
            SurveyProgress::Planned { done: 1, of: 1 },
            SurveyProgress::Searched { done: 1, of: 2 },
            SurveyProgress::Searched { done: 2, of: 2 },
        ]
    );
    // The three doors' scheduled sweeps of this converged fleet read the same, less three
    // describes: status lists every status in one call where each sweep lists its own (two
    // fewer), and the cleanup sweep, which lists only gone peerings, asks AWS about the live
    // peering whose marked rule it finds (one fewer: status listed it already).
    let mut sweeps: BTreeMap<String, usize> = BTreeMap::new();
    for report in [
        env.request_door(&env.sweep_event()).await.run,
        env.wiring_door(&env.sweep_event()).await.run,
        env.cleanup_door(&env.sweep_event()).await.run,
    ] {
        assert!(report.outcomes.is_empty(), "{:?}", report.outcomes);
    }
    for (operation, n) in taken(&env) {
        *sweeps.entry(operation).or_default() += n;
    }
    *sweeps
        .entry("DescribeVpcPeeringConnections".into())
        .or_default() -= 3;
    assert_eq!(read, sweeps);
    assert_valid(&fleet);
}

#[tokio::test]
async fn a_route_deleted_by_hand_is_broken_with_the_missing_route_and_apply_next() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = env.wired_peering().await;
    let accepter = &env.scenario.accepter;
    let table = &accepter.route_tables[1];
    accepter.delete_route(table, "10.0.0.0/16").await.unwrap();

    let fleet = survey(&env).await;

    let row = row(&fleet, &pcx);
    assert_eq!(row.health, Health::Broken, "{row:#?}");
    assert_eq!(
        whats(row),
        [format!("route 10.0.0.0/16 missing in {table}").as_str()]
    );
    assert_eq!(
        (row.missing[0].side, row.missing[0].account.as_str()),
        (Side::Accepter, ACCEPTER_ACCOUNT)
    );
    assert_eq!(row.missing[0].operation, "CreateRoute");
    assert_eq!(row.next, Some(format!("peerwire apply {pcx}")));
    assert_eq!(status::exit_code(&fleet), 1);
    assert_read_only(&taken(&env));
    assert_eq!(accepter.routes_via(&pcx).await.unwrap(), 2, "still missing");
    assert_valid(&fleet);
}

#[tokio::test]
async fn a_request_waiting_for_approval_is_held_with_the_time_aws_leaves_it() {
    let env = TestEnv::new(&held_policy()).await;
    let pcx = env.pending_peering().await;

    let fleet = survey(&env).await;

    let row = row(&fleet, &pcx);
    assert_eq!(row.health, Health::Held, "{row:#?}");
    assert_eq!(row.status, "pending-acceptance");
    assert_eq!(row.rule.as_deref(), Some("payments-ecs-to-rds"));
    assert!(
        row.reasons.iter().any(|r| r.contains("requires approval")),
        "{row:#?}"
    );
    // AWS expires a request it was not accepted within a week.
    let left = row.expires_at.expect("an expiry") - fleet.generated_at;
    assert!(
        left > Duration::days(6) && left <= Duration::days(7),
        "{left}"
    );
    assert_eq!(row.next, Some(format!("peerwire approve {pcx}")));
    // Waiting is not broken: nothing to do but approve.
    assert_eq!(status::exit_code(&fleet), 0);
    assert_read_only(&taken(&env));
    assert_eq!(env.status(&pcx).await, "pending-acceptance");
    assert_valid(&fleet);
}

#[tokio::test]
async fn a_hijacked_destination_is_blocked_with_the_conflict_and_diagnose_next() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = env.wired_peering().await;
    // Someone points the peer's CIDR at a transit gateway instead of the peering.
    let accepter = &env.scenario.accepter;
    let table = &accepter.route_tables[0];
    accepter.delete_route(table, "10.0.0.0/16").await.unwrap();
    let tgw = accepter
        .route_via_new_transit_gateway(table, "10.0.0.0/16")
        .await
        .unwrap();

    let fleet = survey(&env).await;

    let row = row(&fleet, &pcx);
    assert_eq!(row.health, Health::Blocked, "{row:#?}");
    assert_eq!(
        row.reasons[0],
        format!("accepter {table}: route to 10.0.0.0/16 points at {tgw}; not replaced")
    );
    assert!(
        row.missing.is_empty(),
        "peerwire replaces no route: {row:#?}"
    );
    assert_eq!(row.next, Some(format!("peerwire diagnose {pcx}")));
    assert_eq!(status::exit_code(&fleet), 1);
    assert_read_only(&taken(&env));
    assert_valid(&fleet);
}

#[tokio::test]
async fn a_forgotten_peerings_blackhole_routes_are_leftover_and_the_next_command_cleans_them() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let pcx = env.wired_peering().await;
    env.delete_peering(&pcx).await;
    // About two hours later AWS no longer shows the peering to anyone.
    env.emulator.set("forget_after", "0").await.unwrap();

    let fleet = survey(&env).await;

    let row = row(&fleet, &pcx);
    assert_eq!(row.health, Health::Leftover, "{row:#?}");
    assert_eq!(row.status, "not-found");
    assert!(row.requester.is_none() && row.accepter.is_none());
    let places: Vec<(&str, Side)> = row
        .found_in
        .iter()
        .map(|p| (p.account.as_str(), p.side))
        .collect();
    assert_eq!(
        places,
        [
            (ACCEPTER_ACCOUNT, Side::Accepter),
            (REQUESTER_ACCOUNT, Side::Requester)
        ]
    );
    let routes = row
        .missing
        .iter()
        .filter(|m| m.operation == "DeleteRoute")
        .count();
    // One route through the peering in every table of both VPCs, the main ones included.
    let mut tables = 0;
    for side in [&env.scenario.accepter, &env.scenario.requester] {
        tables += side.route_tables().await.unwrap().len();
    }
    assert_eq!(routes, tables, "{row:#?}");
    assert!(
        whats(row)
            .iter()
            .all(|w| w.contains(&format!("-> {pcx} left in rtb-"))
                || w.starts_with("ingress rule left in")),
        "{row:#?}"
    );
    assert_eq!(row.next, Some(format!("peerwire apply {pcx}")));
    assert_eq!(status::exit_code(&fleet), 1);
    assert_read_only(&taken(&env));
    assert_valid(&fleet);

    // The next command does what it says: `peerwire apply` on a peering AWS no longer shows
    // cleans what it left in both places, each end proving the other's CIDRs.
    let cleaned = reconcile_forgotten(&env.app, &id(&pcx), false)
        .await
        .unwrap();
    let places: Vec<&str> = cleaned.iter().map(|(at, _)| at.account.as_str()).collect();
    assert_eq!(places, [ACCEPTER_ACCOUNT, REQUESTER_ACCOUNT]);
    for (_, reconciled) in &cleaned {
        assert!(
            matches!(reconciled, Reconciled::Cleaned(_)),
            "{reconciled:?}"
        );
        assert!(!reconciled.applied().is_empty(), "{reconciled:?}");
        assert!(
            reconciled
                .applied()
                .iter()
                .all(|a| a.result == StepResult::Done),
            "{reconciled:?}"
        );
    }
    let after = survey(&env).await;
    assert!(after.peerings.is_empty(), "{after:#?}");
    assert_eq!(status::exit_code(&after), 0);
}

#[tokio::test]
async fn a_peering_no_rule_names_is_unmanaged_whether_pending_or_accepted_by_hand() {
    let env = TestEnv::new(WIRING_POLICY).await;
    let (_, pending) = env.request_from("999999999999", "10.9.0.0/16").await;
    let (_, by_hand) = env.request_from("888888888888", "10.8.0.0/16").await;
    env.scenario.accept_directly(&by_hand).await.unwrap();

    let fleet = survey(&env).await;

    for pcx in [&pending, &by_hand] {
        let row = row(&fleet, pcx);
        assert_eq!(row.health, Health::Unmanaged, "{row:#?}");
        assert_eq!(row.rule, None);
        assert_eq!(row.next, Some(format!("peerwire diagnose {pcx}")));
    }
    assert!(row(&fleet, &by_hand)
        .reasons
        .contains(&"no policy rule matches this peering; not wired".to_owned()));
    // Nobody asked peerwire to act on them: nothing to fix, exit 0.
    assert_eq!(status::exit_code(&fleet), 0);
    assert_read_only(&taken(&env));
    assert_eq!(env.status(&pending).await, "pending-acceptance");
    assert_valid(&fleet);
}

// ---------------------------------------------------------------- the JSON schema

#[test]
fn the_schema_names_every_health_and_refuses_a_broken_document() {
    let schema = schema::load("status.schema.json");
    let healths = schema["$defs"]["health"]["enum"].as_array().unwrap();
    assert_eq!(
        healths.len(),
        Health::ALL.len(),
        "every health, and nothing else"
    );
    for health in Health::ALL {
        assert!(healths.contains(&health.as_str().into()), "{health}");
    }
    let fleet = synthetic(40);
    assert_valid(&fleet);
    let mut bad = serde_json::to_value(&fleet).unwrap();
    bad["peerings"][0]["health"] = "fine".into();
    bad["counts"].as_object_mut().unwrap().remove("held");
    bad["peerings"][1]["extra"] = true.into();
    let errors = schema::violations(&schema, &bad);
    assert_eq!(errors.len(), 3, "{errors:?}");
}

// ---------------------------------------------------------------- the page in a browser

/// What the test reads in the page once its script has run: the rows and the picture's
/// peerings, each peering's mark inside the picture and drawn, and what the health filter
/// leaves when `healthy` is unticked.
const PAGE_FACTS: &str = r#"(() => {
  const picture = document.getElementById('topology');
  const frame = picture.getBoundingClientRect();
  const ids = (selector) => Array.from(document.querySelectorAll(selector))
    .map((e) => e.getAttribute('data-peering')).sort();
  const marks = Array.from(picture.querySelectorAll('[data-peering]'));
  const outside = marks.filter((m) => {
    const r = m.getBoundingClientRect();
    return r.width <= 0 || r.height <= 0 || r.left < frame.left - 1 || r.right > frame.right + 1
      || r.top < frame.top - 1 || r.bottom > frame.bottom + 1;
  }).map((m) => m.getAttribute('data-peering'));
  const healthy = document.querySelector('#counts input[data-health="healthy"]');
  healthy.click();
  const shown = Number(document.getElementById('shown').textContent);
  const rowsShown = document.querySelectorAll('tr[data-peering]:not([hidden])').length;
  const marksShown = marks.filter((m) => m.style.display !== 'none').length;
  healthy.click();
  return {
    ready: document.body.getAttribute('data-ready'),
    rows: ids('tr[data-peering]'),
    marks: ids('#topology [data-peering]'),
    outside: outside,
    unticked: [shown, rowsShown, marksShown],
    shown_after: Number(document.getElementById('shown').textContent),
    external: document.querySelectorAll('[src], link[href]').length,
    picture: [Math.round(frame.width), Math.round(frame.height)],
  };
})()"#;

/// Renders `page` in headless Chromium, screenshots it beside it, and checks it against
/// `fleet`: no script or console error, every peering a row and a mark of the picture, the
/// filter hiding exactly the healthy ones.
async fn assert_renders(fleet: &Fleet, name: &str, full_page: bool) {
    let dir = browser::artifacts();
    let page = dir.join(format!("{name}.html"));
    let shot = dir.join(format!("{name}.png"));
    if !page.exists() {
        status::write_html(fleet, &page).unwrap();
    }
    let rendered = browser::render(&page, &shot, (1400, 1000), full_page, &[PAGE_FACTS]).await;
    assert_eq!(rendered.errors(), Vec::<String>::new(), "{rendered:?}");
    let facts = &rendered.values[0];
    assert_eq!(facts["ready"], "yes", "the page's script ran to its end");
    let mut ids: Vec<Value> = fleet
        .peerings
        .iter()
        .map(|r| Value::from(r.peering_id.as_str()))
        .collect();
    ids.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    assert_eq!(
        facts["rows"],
        Value::from(ids.clone()),
        "every peering is a row"
    );
    assert_eq!(
        facts["marks"],
        Value::from(ids),
        "every peering is in the picture"
    );
    assert_eq!(
        facts["outside"],
        Value::from(Vec::<Value>::new()),
        "{facts}"
    );
    let unhealthy = fleet.peerings.len() - fleet.count(Health::Healthy);
    assert_eq!(
        facts["unticked"],
        serde_json::json!([unhealthy, unhealthy, unhealthy])
    );
    assert_eq!(facts["shown_after"], fleet.peerings.len());
    assert_eq!(facts["external"], 0);
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{}",
        shot.display()
    );
}

#[test]
fn the_demo_fleet_renders_in_chromium_with_every_peering_in_the_picture() {
    let page = browser::artifacts().join("demo.html");
    let _ = std::fs::remove_file(&page);
    // The demo nests deeper than a test thread's 2 MiB stack; the binary's main thread has 8.
    let story = std::thread::Builder::new()
        .name("demo".into())
        .stack_size(8 << 20)
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let args = peerwire_cli::demo::DemoArgs {
                    with_stranger: true,
                    break_layer: None,
                    html: page,
                };
                let fleet = peerwire_cli::demo::story(args).await.unwrap();
                let healths: Vec<Health> = fleet.peerings.iter().map(|r| r.health).collect();
                assert_eq!(
                    healths,
                    Health::ALL,
                    "one peering per health, most urgent first"
                );
                assert_renders(&fleet, "demo", true).await;
            });
        })
        .unwrap();
    if let Err(panic) = story.join() {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test]
async fn a_200_peering_fleet_renders_in_chromium_grouped_by_account() {
    let fleet = synthetic(200);
    let page = browser::artifacts().join("fleet-200.html");
    status::write_html(&fleet, &page).unwrap();
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(html.matches("<section class=\"account\"").count(), 26);
    assert_renders(&fleet, "fleet-200", false).await;
}

// ---------------------------------------------------------------- synthetic fleets

fn side(account: &str, vpc: usize, cidr: &str, region: &str) -> SideView {
    SideView {
        account: account.to_owned(),
        vpc_id: format!("vpc-{vpc:017x}"),
        region: region.to_owned(),
        cidrs: vec![net(cidr)],
    }
}

/// A row of `health`; `n` places it in the fleet (its requester VPC and CIDR).
fn synthetic_row(id: &str, health: Health, n: usize) -> Row {
    let region = ["us-east-1", "us-west-2"][n % 2];
    let account = format!("{}", 300_000_000_001u64 + (n / 8) as u64);
    let requester = side(
        &account,
        n + 1,
        &format!("10.{}.{}.0/24", 16 + n / 256, n % 256),
        region,
    );
    let accepter = side(
        ACCEPTER_ACCOUNT,
        0xa + n % 2,
        ["10.1.0.0/16", "10.2.0.0/16"][n % 2],
        region,
    );
    let forgotten = health == Health::Leftover && n.is_multiple_of(3);
    let missing = |what: String, operation| Missing {
        side: Side::Accepter,
        account: ACCEPTER_ACCOUNT.to_owned(),
        operation,
        what,
    };
    let (missing, reasons, next) = match health {
        Health::Broken => (
            vec![missing(
                format!("route {} missing in rtb-{n:08x}", requester.cidrs[0]),
                "CreateRoute",
            )],
            Vec::new(),
            Some(format!("peerwire apply {id}")),
        ),
        Health::Blocked => (
            Vec::new(),
            vec![format!(
                "accepter rtb-{n:08x}: route to {} points at tgw-0123; not replaced",
                requester.cidrs[0]
            )],
            Some(format!("peerwire diagnose {id}")),
        ),
        Health::Leftover => (
            vec![missing(
                format!("route {} -> {id} left in rtb-{n:08x}", requester.cidrs[0]),
                "DeleteRoute",
            )],
            Vec::new(),
            Some(format!("peerwire apply {id}")),
        ),
        Health::Held => (
            Vec::new(),
            vec!["rule payments requires approval".to_owned()],
            Some(format!("peerwire approve {id}")),
        ),
        Health::Unmanaged => (
            Vec::new(),
            vec!["no policy rule matches this peering; not wired".to_owned()],
            Some(format!("peerwire diagnose {id}")),
        ),
        Health::Healthy => (Vec::new(), Vec::new(), None),
    };
    let found_in = if forgotten {
        vec![
            Place {
                account: ACCEPTER_ACCOUNT.to_owned(),
                region: region.to_owned(),
                side: Side::Accepter,
            },
            Place {
                account: account.clone(),
                region: region.to_owned(),
                side: Side::Requester,
            },
        ]
    } else {
        Vec::new()
    };
    Row {
        peering_id: id.to_owned(),
        health,
        status: if forgotten { "not-found" } else { "active" }.to_owned(),
        requester: (!forgotten).then_some(requester),
        accepter: (!forgotten).then_some(accepter),
        found_in,
        rule: (health != Health::Unmanaged).then(|| "payments".to_owned()),
        reasons,
        missing,
        expires_at: (health == Health::Held)
            .then(|| Utc.with_ymd_and_hms(2026, 12, 10, 9, 0, 0).unwrap()),
        next,
    }
}

/// `n` peerings of 8 VPCs per requester account into one accepter VPC per region (two
/// regions), mostly healthy, every other health among them, some leftovers forgotten by AWS.
fn synthetic(n: usize) -> Fleet {
    let rows = (0..n)
        .map(|k| {
            let health = match k % 10 {
                0 => Health::Broken,
                1 => Health::Blocked,
                2 => Health::Leftover,
                3 => Health::Held,
                4 => Health::Unmanaged,
                _ => Health::Healthy,
            };
            synthetic_row(&format!("pcx-{k:017x}"), health, k)
        })
        .collect();
    let scope = ["us-east-1", "us-west-2"]
        .map(|region| Scope {
            account: ACCEPTER_ACCOUNT.to_owned(),
            region: region.to_owned(),
        })
        .to_vec();
    let errors = vec![ReadError {
        peering_id: None,
        account: Some("300000000099".to_owned()),
        region: Some("us-east-1".to_owned()),
        error: "AccessDenied: no usable member role".to_owned(),
        transient: false,
    }];
    Fleet::of_rows(
        rows,
        3,
        errors,
        scope,
        Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap(),
    )
}
