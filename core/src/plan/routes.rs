//! How the routes a table already has stand to a route peerwire would add, one rule for the
//! decision, the wiring and diagnose alike. AWS picks the most specific route that matches
//! the traffic ("longest prefix match", VPC User Guide, "How route priority works"), and a
//! static route to a destination takes priority over a propagated one to the same destination:
//!
//! - a **broader** route (a corporate `10.0.0.0/8` to a transit or virtual private gateway,
//!   a default route) loses to the peering route: no conflict;
//! - an **identical** destination through another target conflicts: peerwire never replaces
//!   it, and never adds a static route that would win over a propagated one (that would take
//!   the range from the VPN or Direct Connect);
//! - a **narrower** route through another target wins for its part of the peer's range: it
//!   shadows that part, and is reported.

use ipnet::IpNet;

use crate::model::cidr::{cover, Cover};
use crate::model::{PeeringId, Route, RouteTable, RouteTarget};

/// The routes of one table that a route to a block through a peering would meet.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Standing<'a> {
    /// Same destination, another target.
    pub conflicts: Vec<&'a Route>,
    /// More specific, another target: they win for part of the block.
    pub shadows: Vec<&'a Route>,
}

/// The routes of `table` that a route to `block` through `peering_id` would conflict with or
/// be shadowed by. Routes through `peering_id` itself are neither; a `local` route (the VPC's
/// own CIDR) conflicts only when identical (the VPCs overlap) and is never a shadow.
pub fn standing<'a>(table: &'a RouteTable, block: &IpNet, peering_id: &PeeringId) -> Standing<'a> {
    let mut standing = Standing::default();
    for route in &table.routes {
        let ours = match &route.target {
            RouteTarget::Local => {
                if cover(&route.destination, block) == Cover::Identical {
                    standing.conflicts.push(route);
                }
                true
            }
            RouteTarget::Peering(id) => id == peering_id,
            RouteTarget::Gateway(_)
            | RouteTarget::NatGateway(_)
            | RouteTarget::TransitGateway(_)
            | RouteTarget::NetworkInterface(_)
            | RouteTarget::Instance(_)
            | RouteTarget::Other(_) => false,
        };
        if ours {
            continue;
        }
        match cover(&route.destination, block) {
            Cover::Identical => standing.conflicts.push(route),
            Cover::Narrower => standing.shadows.push(route),
            Cover::Broader | Cover::Disjoint => {}
        }
    }
    standing
}

/// A route the decision does not hold against a request: a blackhole route through another
/// peering (what a deleted peering left, which routes nothing and which cleanup removes), or a
/// `local` route (the VPC's own CIDR, checked as an overlap of the VPCs).
pub fn ignored_by_decisions(route: &Route) -> bool {
    match &route.target {
        RouteTarget::Peering(_) => route.blackhole,
        RouteTarget::Local => true,
        RouteTarget::Gateway(_)
        | RouteTarget::NatGateway(_)
        | RouteTarget::TransitGateway(_)
        | RouteTarget::NetworkInterface(_)
        | RouteTarget::Instance(_)
        | RouteTarget::Other(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{id, local, net, route, table, to_peering};

    #[test]
    fn broader_routes_lose_identical_ones_conflict_narrower_ones_shadow() {
        let pcx: PeeringId = id("pcx-0123456789abcdef0");
        let tgw = || RouteTarget::TransitGateway(id("tgw-0a0a0a0a"));
        let t = table(
            "rtb-0b0b0b0b",
            false,
            &[],
            vec![
                local("10.1.0.0/16"),
                route("10.0.0.0/8", tgw()),
                route("0.0.0.0/0", RouteTarget::Gateway(id("igw-0c0c0c0c"))),
                route("10.0.5.0/24", tgw()),
                route("10.0.0.0/16", RouteTarget::Gateway(id("vgw-0d0d0d0d"))),
                to_peering("10.0.0.0/16", "pcx-0123456789abcdef0"),
                route("10.9.0.0/16", tgw()),
            ],
        );
        let s = standing(&t, &net("10.0.0.0/16"), &pcx);
        let destinations = |routes: &[&Route]| -> Vec<String> {
            routes.iter().map(|r| r.destination.to_string()).collect()
        };
        assert_eq!(destinations(&s.conflicts), ["10.0.0.0/16"]);
        assert_eq!(destinations(&s.shadows), ["10.0.5.0/24"]);
    }
}
