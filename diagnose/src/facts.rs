//! What the layers after the first two share: the route gaps the wiring plan found, each side's
//! scope and observed state, and the peer CIDRs each side must reach, computed the way the
//! planner computes them so that a layer never disagrees with `peerwire plan`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use peerwire::model::{
    PeeringSide, PeeringStatus, RouteTableId, RouteTarget, Side, SideState, Subnet, SubnetId,
};
use peerwire::plan::wiring::{reachable_peer_cidrs, scoped_subnets};
use peerwire::plan::{Finding, RouteChangeKind};
use peerwire::policy::SideWiring;

use crate::inspection::Inspection;

/// What the layers share, computed once per diagnosis.
#[derive(Debug)]
pub(crate) struct Facts<'a> {
    pub(crate) inspection: &'a Inspection,
    /// Route problems the plan found, by side and route table.
    pub(crate) route_gaps: BTreeMap<(Side, RouteTableId), Vec<RouteGap>>,
}

/// A peer CIDR a route table does not send through the peering.
#[derive(Debug, Clone)]
pub(crate) struct RouteGap {
    pub(crate) destination: IpNet,
    pub(crate) kind: GapKind,
}

#[derive(Debug, Clone)]
pub(crate) enum GapKind {
    Missing,
    Blackhole,
    Conflict {
        target: RouteTarget,
        blackhole: bool,
        propagated: bool,
    },
    /// A more specific route through another target wins for part of `peer_cidr`; the gap's
    /// destination is that route's.
    Shadowed {
        target: RouteTarget,
        peer_cidr: IpNet,
    },
}

impl<'a> Facts<'a> {
    pub(crate) fn new(inspection: &'a Inspection) -> Self {
        let mut route_gaps: BTreeMap<(Side, RouteTableId), Vec<RouteGap>> = BTreeMap::new();
        for step in &inspection.plan.steps {
            let Some(route) = step.route_change() else {
                continue;
            };
            let (side, table, destination) = (&step.side, route.route_table_id, route.destination);
            let kind = match route.kind {
                RouteChangeKind::Create => GapKind::Missing,
                RouteChangeKind::ReplaceBlackhole => GapKind::Blackhole,
                // A wiring plan never deletes a route.
                RouteChangeKind::Delete => continue,
            };
            route_gaps
                .entry((*side, table.clone()))
                .or_default()
                .push(RouteGap {
                    destination: *destination,
                    kind,
                });
        }
        for finding in &inspection.plan.findings {
            let (side, table, destination, kind) = match finding {
                Finding::RouteConflict {
                    side,
                    route_table_id,
                    destination,
                    target,
                    blackhole,
                    propagated,
                } => (
                    side,
                    route_table_id,
                    destination,
                    GapKind::Conflict {
                        target: target.clone(),
                        blackhole: *blackhole,
                        propagated: *propagated,
                    },
                ),
                Finding::RouteShadowed {
                    side,
                    route_table_id,
                    destination,
                    target,
                    peer_cidr,
                } => (
                    side,
                    route_table_id,
                    destination,
                    GapKind::Shadowed {
                        target: target.clone(),
                        peer_cidr: *peer_cidr,
                    },
                ),
                // Not about a route table (the other layers read them).
                Finding::DnsAttributeOff { .. }
                | Finding::NothingSelected { .. }
                | Finding::QuotaExceeded { .. }
                | Finding::StaleGroupReference { .. }
                | Finding::UnprovenRoute { .. }
                | Finding::RulesKept { .. }
                | Finding::SideUnreachable { .. }
                | Finding::ZoneKept { .. }
                | Finding::ZoneNotAssociable { .. } => continue,
            };
            route_gaps
                .entry((*side, table.clone()))
                .or_default()
                .push(RouteGap {
                    destination: *destination,
                    kind,
                });
        }
        Self {
            inspection,
            route_gaps,
        }
    }

    pub(crate) fn active(&self) -> bool {
        self.inspection.peering.status == PeeringStatus::Active
    }

    pub(crate) fn not_active(&self, what: &str) -> String {
        format!(
            "the peering is {}; {what} checked once it is active",
            self.inspection.peering.status
        )
    }

    pub(crate) fn pcx(&self) -> &'a str {
        self.inspection.peering.id.as_str()
    }

    pub(crate) fn view(&self, side: Side) -> &'a PeeringSide {
        &self.inspection.peering.sides[side]
    }

    pub(crate) fn account(&self, side: Side) -> &'a str {
        self.view(side).account.as_str()
    }

    pub(crate) fn scope(&self, side: Side) -> &'a SideWiring {
        self.inspection.wiring.side(side)
    }

    /// The observed side; `None` when the policy leaves it alone or it was not read.
    pub(crate) fn local(&self, side: Side) -> Option<&'a SideState> {
        let state = self.inspection.state.as_ref()?;
        state.sides[side].as_ref()
    }

    /// Why a side has no observed state.
    pub(crate) fn unread(&self, side: Side) -> String {
        if self.scope(side).manage {
            format!("{side} side not read")
        } else {
            format!("{side} side not managed by the policy (manage: false), not checked")
        }
    }

    /// The VPC CIDRs of `side` itself: observed when read, else as the peering reports them.
    pub(crate) fn own_cidrs(&self, side: Side) -> &'a [IpNet] {
        match self.local(side) {
            Some(local) => &local.network.cidrs,
            None => &self.view(side).cidrs,
        }
    }

    /// The other side's VPC CIDRs as `side` must reach them, as the planner computes them:
    /// the observed VPC when there is one, else what the peering reports; IPv6 only when
    /// `side` has IPv6 too.
    pub(crate) fn peer_cidrs(&self, side: Side) -> Vec<IpNet> {
        reachable_peer_cidrs(self.own_cidrs(side.other()), self.own_cidrs(side))
    }

    pub(crate) fn ports(&self) -> &'a [u16] {
        &self.inspection.wiring.ports
    }

    /// The subnet of `side` whose CIDR holds `address`, when the side was read.
    pub(crate) fn subnet_of(&self, side: Side, address: IpAddr) -> Option<&'a Subnet> {
        self.local(side)?
            .subnets
            .iter()
            .find(|s| s.cidr.is_some_and(|c| c.contains(&address)))
    }
}

/// The scoped subnets that use `table_id`.
pub(crate) fn subnets_on_table(
    local: &SideState,
    scope: &SideWiring,
    table_id: &RouteTableId,
) -> Vec<SubnetId> {
    scoped_subnets(local, scope)
        .into_iter()
        .filter(|s| {
            local
                .network
                .route_table_of(s)
                .is_some_and(|t| &t.id == table_id)
        })
        .collect()
}

pub(crate) fn join<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `tcp/5432, tcp/3306`.
pub(crate) fn ports_text(ports: &[u16]) -> String {
    ports
        .iter()
        .map(|p| format!("tcp/{p}"))
        .collect::<Vec<_>>()
        .join(", ")
}
