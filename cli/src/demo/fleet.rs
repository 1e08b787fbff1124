//! The demo's last act: more teams peer with account B, people change things by hand, and
//! `peerwire status` reads the whole fleet, names each peering's health and writes the page.

use std::path::Path;

use peerwire::doors::request::handle_request_event;
use peerwire::doors::wiring::handle_wiring_event;
use peerwire::App;
use peerwire_emulator::scenario::{
    seed_vpcs, Scenario, SeededVpc, VpcSpec, PAYMENTS_TAGS, REQUESTER_ACCOUNT,
};
use peerwire_emulator::world::{AppBuilder, World};
use peerwire_emulator::REGION;

use super::step;
use crate::status::{self, Fleet, Health};

/// Account D, whose rule in the demo policy requires an approval.
const ANALYTICS_ACCOUNT: &str = "444444444444";
/// A partner's account no rule names.
const PARTNER_ACCOUNT: &str = "555555555555";

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The peerings of the act, with the health `peerwire status` must give each.
pub(super) type Expected = Vec<(String, Health)>;

/// `vpc` asks, tagged as the payments rule requires, to peer with B; peering-request
/// accepts it and peering-wiring wires it, as their events arrive.
async fn accepted_and_wired(world: &World, app: &App, vpc: &SeededVpc) -> Result<String, String> {
    let pcx = request(world, vpc, PAYMENTS_TAGS).await?;
    let request = world.cloudtrail_event(&pcx, &vpc.account, &vpc.vpc_id);
    handle_request_event(app, &request).await.map_err(err)?;
    let accepted = world.accepted_event(&pcx);
    handle_wiring_event(app, &accepted).await.map_err(err)?;
    Ok(pcx)
}

/// `vpc`'s account asks to peer it with B's VPC.
async fn request(world: &World, vpc: &SeededVpc, tags: &[(&str, &str)]) -> Result<String, String> {
    let scenario = &world.scenario;
    let ec2 = scenario
        .seeder
        .ec2(&vpc.account, &vpc.region)
        .await
        .map_err(err)?;
    scenario
        .request_peering_with(&ec2, &vpc.vpc_id, tags)
        .await
        .map_err(err)
}

/// A route table of B that routes `cidr` through `pcx`.
async fn routing(scenario: &Scenario, cidr: &str, pcx: &str) -> Result<String, String> {
    let tables = scenario.accepter.route_tables().await.map_err(err)?;
    tables
        .iter()
        .find(|table| {
            table.routes().iter().any(|route| {
                route.destination_cidr_block() == Some(cidr)
                    && route.vpc_peering_connection_id() == Some(pcx)
            })
        })
        .and_then(|table| table.route_table_id())
        .map(str::to_owned)
        .ok_or_else(|| format!("no route table of B routes {cidr} through {pcx}"))
}

/// One more peering per health, each left the way teams leave them.
pub(super) async fn seed(world: &World, app: &App) -> Result<Expected, String> {
    step("a week later: more teams peer with B, and people change things by hand");
    let scenario: &Scenario = &world.scenario;
    let accepter = &scenario.accepter;
    // Each with two route tables, a task group (role=ecs-tasks) and DNS hostnames on.
    let specs: Vec<VpcSpec> = [
        (REQUESTER_ACCOUNT, "10.3.0.0/16"),
        (REQUESTER_ACCOUNT, "10.4.0.0/16"),
        (REQUESTER_ACCOUNT, "10.5.0.0/16"),
        (REQUESTER_ACCOUNT, "10.6.0.0/16"),
        (ANALYTICS_ACCOUNT, "10.7.0.0/16"),
        (PARTNER_ACCOUNT, "172.20.0.0/16"),
    ]
    .iter()
    .map(|(account, cidr)| VpcSpec::new(account, REGION, cidr, 2, "ecs-tasks"))
    .collect();
    let vpcs = seed_vpcs(&scenario.seeder, &specs, 4).await.map_err(err)?;
    let [healthy, broken, blocked, leftover, held, unmanaged] = vpcs.as_slice() else {
        return Err(format!("{} VPCs seeded, 6 asked", vpcs.len()));
    };
    let mut expected = Expected::new();

    let pcx = accepted_and_wired(world, app, healthy).await?;
    println!("{pcx}: A's VPC {}, accepted and wired", healthy.cidr);
    expected.push((pcx, Health::Healthy));

    let pcx = accepted_and_wired(world, app, broken).await?;
    let rtb = routing(scenario, &broken.cidr, &pcx).await?;
    accepter
        .delete_route(&rtb, &broken.cidr)
        .await
        .map_err(err)?;
    println!(
        "{pcx}: A's VPC {}, wired; then someone in B deleted its route from {rtb}",
        broken.cidr
    );
    expected.push((pcx, Health::Broken));

    let pcx = accepted_and_wired(world, app, blocked).await?;
    let rtb = routing(scenario, &blocked.cidr, &pcx).await?;
    accepter
        .delete_route(&rtb, &blocked.cidr)
        .await
        .map_err(err)?;
    let tgw = accepter
        .route_via_new_transit_gateway(&rtb, &blocked.cidr)
        .await
        .map_err(err)?;
    println!(
        "{pcx}: A's VPC {cidr}, wired; then B's {rtb} sent {cidr} to transit gateway {tgw} instead",
        cidr = blocked.cidr
    );
    expected.push((pcx, Health::Blocked));

    let pcx = accepted_and_wired(world, app, leftover).await?;
    scenario.delete_peering(&pcx).await.map_err(err)?;
    println!(
        "{pcx}: A's VPC {}, wired; then A deleted the peering, and its event never reached peering-cleanup",
        leftover.cidr
    );
    expected.push((pcx, Health::Leftover));

    let pcx = request(world, held, &[]).await?;
    let event = world.cloudtrail_event(&pcx, &held.account, &held.vpc_id);
    handle_request_event(app, &event).await.map_err(err)?;
    println!(
        "{pcx}: account D ({ANALYTICS_ACCOUNT}) asks from {}; its rule requires an approval",
        held.cidr
    );
    expected.push((pcx, Health::Held));

    let pcx = request(world, unmanaged, &[]).await?;
    scenario.accept_directly(&pcx).await.map_err(err)?;
    println!(
        "{pcx}: a partner's VPC ({PARTNER_ACCOUNT}, {}) someone in B accepted by hand; no rule names it",
        unmanaged.cidr
    );
    expected.push((pcx, Health::Unmanaged));
    Ok(expected)
}

/// `peerwire status --html FILE` in its own process (so its own call log): the table, the
/// page, what it cost. Fails the demo when a peering of `expected` has another health, or
/// when status wrote anything.
pub(super) async fn status(
    product: &AppBuilder,
    html: &Path,
    expected: &Expected,
) -> Result<Fleet, String> {
    step(&format!(
        "peerwire status --html {}: the whole fleet, read live, nothing written",
        html.display()
    ));
    let app = product.build().await;
    let fleet = status::fleet(&app, &|_| {}).await?;
    print!(
        "{}",
        status::render_table(&fleet, crate::diagnose::colour_stdout())
    );
    if let Some(dir) = html.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    status::write_html(&fleet, html)?;
    let calls = app.aws.calls().calls();
    let writes = calls.iter().filter(|c| c.is_write()).count();
    println!(
        "page written to {}; {} calls, {writes} writes; exit code {}",
        html.display(),
        calls.len(),
        status::exit_code(&fleet)
    );
    if writes > 0 {
        return Err(format!("peerwire status wrote: {calls:?}"));
    }
    for (pcx, health) in expected {
        let found = fleet.peerings.iter().find(|r| &r.peering_id == pcx);
        if found.map(|r| r.health) != Some(*health) {
            return Err(format!(
                "peerwire status should say {pcx} is {health}: {found:?}"
            ));
        }
    }
    Ok(fleet)
}
