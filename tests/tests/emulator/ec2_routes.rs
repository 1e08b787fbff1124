//! The route patches (`ec2_routes.py`): blackhole routes and the `route.state` filter, the routes quota.

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{Filter, RouteState};
use aws_sdk_ec2::Client;
use peerwire_emulator::scenario::Scenario;
use peerwire_emulator::EmulatorOptions;

use super::ec2_peering::{delete_peering, seen_status, GONE};
use super::*;

const ROUTE_BLACKHOLE: &str = "route-blackhole";
const ROUTE_QUOTA: &str = "route-quota";

// ---------------------------------------------------------------------------------------------
// route-blackhole

/// The requester's first route table sends the accepter's CIDR over `pcx`; returns the table.
pub(super) async fn route_over(scenario: &Scenario, pcx: &str) -> String {
    let table = scenario.requester.route_tables[0].clone();
    scenario
        .requester
        .ec2
        .create_route()
        .route_table_id(&table)
        .destination_cidr_block(&scenario.accepter.cidr)
        .vpc_peering_connection_id(pcx)
        .send()
        .await
        .unwrap();
    table
}

/// The state of the route over `pcx` in `table`.
pub(super) async fn route_state(ec2: &Client, table: &str, pcx: &str) -> Option<RouteState> {
    let described = ec2
        .describe_route_tables()
        .route_table_ids(table)
        .send()
        .await
        .unwrap();
    described.route_tables()[0]
        .routes()
        .iter()
        .find(|r| r.vpc_peering_connection_id() == Some(pcx))
        .and_then(|r| r.state().cloned())
}

async fn tables_with(ec2: &Client, filter: &str, value: &str) -> Vec<String> {
    ec2.describe_route_tables()
        .filters(Filter::builder().name(filter).values(value).build())
        .send()
        .await
        .unwrap()
        .route_tables()
        .iter()
        .filter_map(|t| t.route_table_id().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn route_blackhole_marks_routes_to_a_deleted_peering() {
    let (scenario, emulator) = world(&[]).await;
    let ec2 = &scenario.requester.ec2;
    let pcx = active_peering(&scenario).await;
    let table = route_over(&scenario, &pcx).await;
    assert_eq!(
        route_state(ec2, &table, &pcx).await,
        Some(RouteState::Active)
    );
    assert!(tables_with(ec2, "route.state", "blackhole")
        .await
        .is_empty());

    delete_peering(ec2, &pcx).await.unwrap();
    assert_eq!(
        route_state(ec2, &table, &pcx).await,
        Some(RouteState::Blackhole)
    );
    assert_eq!(
        tables_with(ec2, "route.state", "blackhole").await,
        std::slice::from_ref(&table)
    );
    assert_eq!(
        tables_with(ec2, "route.vpc-peering-connection-id", &pcx).await,
        std::slice::from_ref(&table)
    );

    // Once the peering is forgotten the route stays, still a blackhole.
    emulator.set("forget_after", "0").await.unwrap();
    assert_eq!(seen_status(ec2, &pcx).await, GONE);
    assert_eq!(
        route_state(ec2, &table, &pcx).await,
        Some(RouteState::Blackhole)
    );
}

#[tokio::test]
async fn without_route_blackhole_moto_keeps_the_route_active() {
    let (scenario, _emulator) = world(&[ROUTE_BLACKHOLE]).await;
    let ec2 = &scenario.requester.ec2;
    let pcx = active_peering(&scenario).await;
    let table = route_over(&scenario, &pcx).await;
    delete_peering(ec2, &pcx).await.unwrap();
    assert_eq!(seen_status(ec2, &pcx).await, "deleted");
    assert_eq!(
        route_state(ec2, &table, &pcx).await,
        Some(RouteState::Active)
    );
    let filtered = ec2
        .describe_route_tables()
        .filters(
            Filter::builder()
                .name("route.state")
                .values("blackhole")
                .build(),
        )
        .send()
        .await;
    assert!(filtered.is_err(), "moto 5.2.5 has no route.state filter");
}

// ---------------------------------------------------------------------------------------------
// route-quota

async fn add_route(ec2: &Client, table: &str, destination: &str, pcx: &str) -> Result<(), String> {
    let mut call = ec2
        .create_route()
        .route_table_id(table)
        .vpc_peering_connection_id(pcx);
    call = if destination.contains(':') {
        call.destination_ipv6_cidr_block(destination)
    } else {
        call.destination_cidr_block(destination)
    };
    call.send()
        .await
        .map(|_| ())
        .map_err(|e| e.code().unwrap_or("<no code>").to_owned())
}

#[tokio::test]
async fn route_quota_refuses_routes_past_the_limit_per_family() {
    let (scenario, emulator) =
        world_with(EmulatorOptions::new().setting("routes_per_table", "2")).await;
    let pcx = active_peering(&scenario).await;
    let ec2 = &scenario.requester.ec2;
    let table = &scenario.requester.route_tables[0];
    add_route(ec2, table, "10.1.0.0/16", &pcx).await.unwrap();
    add_route(ec2, table, "10.3.0.0/16", &pcx).await.unwrap();
    assert_eq!(
        add_route(ec2, table, "10.4.0.0/16", &pcx).await,
        Err("RouteLimitExceeded".into())
    );
    // IPv6 routes have their own quota.
    add_route(ec2, table, "2001:db8:1::/56", &pcx)
        .await
        .unwrap();
    add_route(ec2, table, "2001:db8:2::/56", &pcx)
        .await
        .unwrap();
    // The quota can be raised mid-test.
    emulator.set("routes_per_table", "3").await.unwrap();
    add_route(ec2, table, "10.4.0.0/16", &pcx).await.unwrap();
}

#[tokio::test]
async fn without_route_quota_moto_has_no_route_limit() {
    let (scenario, _emulator) = world_with(
        EmulatorOptions::new()
            .disable(ROUTE_QUOTA)
            .setting("routes_per_table", "2"),
    )
    .await;
    let pcx = active_peering(&scenario).await;
    let ec2 = &scenario.requester.ec2;
    let table = &scenario.requester.route_tables[0];
    for destination in ["10.1.0.0/16", "10.3.0.0/16", "10.4.0.0/16"] {
        add_route(ec2, table, destination, &pcx).await.unwrap();
    }
}

#[tokio::test]
async fn route_blackhole_marks_a_route_to_a_pending_peering_until_it_is_active() {
    // VPC Peering Guide, "Update your route tables for a VPC peering connection": a route to a
    // pending-acceptance peering "has a state of blackhole, and has no effect until the VPC
    // peering connection is in the active state".
    let (scenario, _emulator) = world(&[]).await;
    let ec2 = &scenario.requester.ec2;
    let pcx = scenario.request_peering(&[]).await.unwrap();
    let table = route_over(&scenario, &pcx).await;
    assert_eq!(
        route_state(ec2, &table, &pcx).await,
        Some(RouteState::Blackhole)
    );
    scenario.accept_directly(&pcx).await.unwrap();
    assert_eq!(
        route_state(ec2, &table, &pcx).await,
        Some(RouteState::Active)
    );
}

#[tokio::test]
async fn without_route_blackhole_moto_shows_a_route_to_a_pending_peering_active() {
    let (scenario, _emulator) = world(&[ROUTE_BLACKHOLE]).await;
    let pcx = scenario.request_peering(&[]).await.unwrap();
    let table = route_over(&scenario, &pcx).await;
    assert_eq!(
        route_state(&scenario.requester.ec2, &table, &pcx).await,
        Some(RouteState::Active)
    );
}

// ---------------------------------------------------------------------------------------------
// route-propagation

const ROUTE_PROPAGATION: &str = "route-propagation";

/// A virtual private gateway attached to the requester's VPC; its id.
async fn attached_vgw(scenario: &Scenario) -> String {
    scenario.requester.attached_vpn_gateway().await.unwrap()
}

/// (destination, gateway, origin) of every route of `table`.
async fn routes_of(ec2: &Client, table: &str) -> Vec<(String, String, String)> {
    let described = ec2
        .describe_route_tables()
        .route_table_ids(table)
        .send()
        .await
        .unwrap();
    described.route_tables()[0]
        .routes()
        .iter()
        .map(|r| {
            (
                r.destination_cidr_block().unwrap_or_default().to_owned(),
                r.gateway_id().unwrap_or_default().to_owned(),
                r.origin()
                    .map(|o| o.as_str().to_owned())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test]
async fn route_propagation_shows_a_vgws_routes_as_propagated_outside_the_routes_quota() {
    // VPC User Guide: propagated routes carry `Origin: EnableVgwRoutePropagation`; the quota
    // "Routes per route table (non-propagated routes)" does not count them; a static route to
    // the same destination takes priority, and both stand.
    let (scenario, emulator) = world(&[]).await;
    let ec2 = &scenario.requester.ec2;
    let vgw = attached_vgw(&scenario).await;
    emulator
        .set(
            "vgw_advertised_routes",
            &format!(r#"{{"{vgw}": ["10.0.0.0/8", "192.168.0.0/16"]}}"#),
        )
        .await
        .unwrap();
    let table = scenario.requester.route_tables[0].clone();
    ec2.enable_vgw_route_propagation()
        .gateway_id(&vgw)
        .route_table_id(&table)
        .send()
        .await
        .unwrap();

    let routes = routes_of(ec2, &table).await;
    let propagated = |destination: &str| {
        (
            destination.to_owned(),
            vgw.clone(),
            "EnableVgwRoutePropagation".to_owned(),
        )
    };
    assert!(routes.contains(&propagated("10.0.0.0/8")), "{routes:?}");
    assert!(routes.contains(&propagated("192.168.0.0/16")), "{routes:?}");
    assert!(routes
        .iter()
        .any(|(_, gateway, origin)| gateway == "local" && origin == "CreateRouteTable"));
    assert_eq!(
        tables_with(ec2, "route.origin", "EnableVgwRoutePropagation").await,
        std::slice::from_ref(&table)
    );

    // Not deletable with DeleteRoute: propagation is switched off instead.
    let deleted = ec2
        .delete_route()
        .route_table_id(&table)
        .destination_cidr_block("10.0.0.0/8")
        .send()
        .await;
    assert_eq!(error_code(deleted), "InvalidRoute.NotFound");

    // Outside the routes quota: one static route still fits a quota of one.
    emulator.set("routes_per_table", "1").await.unwrap();
    let pcx = active_peering(&scenario).await;
    add_route(ec2, &table, &scenario.accepter.cidr, &pcx)
        .await
        .unwrap();

    ec2.disable_vgw_route_propagation()
        .gateway_id(&vgw)
        .route_table_id(&table)
        .send()
        .await
        .unwrap();
    assert!(!routes_of(ec2, &table)
        .await
        .iter()
        .any(|(_, gateway, _)| gateway == &vgw));
}

#[tokio::test]
async fn without_route_propagation_moto_cannot_propagate_a_vgws_routes() {
    let (scenario, _emulator) = world(&[ROUTE_PROPAGATION]).await;
    let vgw = attached_vgw(&scenario).await;
    let enabled = scenario
        .requester
        .ec2
        .enable_vgw_route_propagation()
        .gateway_id(&vgw)
        .route_table_id(&scenario.requester.route_tables[0])
        .send()
        .await;
    assert!(enabled.is_err(), "{enabled:?}");
}
