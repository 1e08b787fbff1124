//! Layer 2: CIDR overlap. VPC peering cannot carry overlapping ranges (AWS fails the request),
//! and a narrower accepter route elsewhere takes part of the requester's addresses away from
//! the peering: longest prefix wins.

use peerwire::model::{Side, VpcNetwork};
use peerwire::plan::request::{find_overlaps, OverlapSource};

use crate::facts::join;
use crate::inspection::Inspection;
use crate::{Layer, LayerId, Problem};

pub(crate) fn layer(inspection: &Inspection) -> Layer {
    let p = &inspection.peering;
    let network = inspection
        .accepter_network
        .clone()
        .unwrap_or_else(|| VpcNetwork {
            account: p.sides.accepter.account.clone(),
            vpc_id: p.sides.accepter.vpc_id.clone(),
            cidrs: p.sides.accepter.cidrs.clone(),
            route_tables: Vec::new(),
        });
    if p.sides.requester.cidrs.is_empty() {
        return Layer::skipped(
            LayerId::CidrOverlap,
            "the peering reports no requester CIDR",
        );
    }
    if network.cidrs.is_empty() {
        return Layer::skipped(
            LayerId::CidrOverlap,
            "the accepter VPC's CIDRs are not known (not readable, and not reported before the \
             peering is active)",
        );
    }
    let mut problems = Vec::new();
    for overlap in find_overlaps(p, &network) {
        match &overlap.source {
            OverlapSource::VpcCidr { vpc_id } => problems.push(
                Problem::broken(Some(Side::Accepter), Some(vpc_id), overlap.to_string()).fix(
                    "VPC peering cannot carry overlapping ranges: re-address one VPC or use \
                     AWS PrivateLink",
                ),
            ),
            // A route exactly to the requester CIDR is a route conflict (the routes layer);
            // a broader one loses to the more specific peering route. A narrower one takes
            // part of the requester's addresses away from the peering.
            OverlapSource::Route {
                route_table_id,
                target,
            } if overlap.conflicting.prefix_len() > overlap.requester_cidr.prefix_len() => {
                problems.push(
                    Problem::broken(
                        Some(Side::Accepter),
                        Some(route_table_id),
                        format!(
                            "accepter route table {route_table_id} sends {} (part of the \
                             requester's {}) to {target}, not through {}",
                            overlap.conflicting, overlap.requester_cidr, p.id
                        ),
                    )
                    .fix(format!(
                        "remove or re-point that route in account {} if the peering should \
                         carry that traffic; peerwire never changes a route it does not own",
                        p.sides.accepter.account
                    )),
                );
            }
            OverlapSource::Route { .. } => {}
            OverlapSource::Peering { peering_id } => problems.push(
                Problem::broken(Some(Side::Accepter), Some(peering_id), overlap.to_string()).fix(
                    "a VPC routes a range through one peering only: delete the other peering, \
                     or re-address one VPC",
                ),
            ),
        }
    }
    let ok = format!(
        "requester {} and accepter {} do not overlap",
        join(&p.sides.requester.cidrs),
        join(&network.cidrs)
    );
    Layer::checked(LayerId::CidrOverlap, problems, ok)
}
