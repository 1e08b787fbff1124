//! Private DNS names across the peering: each private hosted zone a side's wiring names (owned
//! by that side's account) is associated with the peer VPC, so that its names resolve there.
//! Pure.
//!
//! A zone and a VPC of different accounts are associated in three calls (Route 53 Developer
//! Guide, "Associating an Amazon VPC and a private hosted zone that you created with different
//! AWS accounts"): the zone owner creates an authorization, the VPC owner associates, and the
//! zone owner deletes the authorization, which the association outlives. Before them, the
//! zone owner records the association in a zone tag: cleanup removes only associations
//! recorded so, and only when no live peering of that VPC still names the zone.

use super::{Finding, Plan, PlanStep, ZoneAction};
use crate::model::{
    HostedZone, Peering, Side, SideState, WiringState, ZONE_TAG_LIMIT, ZONE_TAG_PREFIX,
};
use crate::policy::Wiring;

/// The tag key recording that peerwire associated `vpc_id` with a zone.
pub fn zone_tag_key(vpc_id: &crate::model::VpcId) -> String {
    format!("{ZONE_TAG_PREFIX}{vpc_id}")
}

/// The steps that associate every zone the wiring names with the peer VPC, and what cannot
/// be. A zone already associated (by anyone) needs nothing. Both sides must be observed: the
/// zone owner authorizes, the VPC owner associates.
pub fn plan_zones(state: &WiringState, wiring: &Wiring) -> Plan {
    let mut plan = Plan::default();
    for owner in Side::BOTH {
        let zones = &wiring.side(owner).private_hosted_zones;
        let peer = owner.other();
        let (Some(local), Some(_)) = (&state.sides[owner], &state.sides[peer]) else {
            continue;
        };
        let vpc = &state.peering.sides[peer];
        for zone_id in zones {
            let Some(zone) = local.hosted_zones.iter().find(|z| &z.id == zone_id) else {
                plan.findings.push(Finding::ZoneNotAssociable {
                    side: owner,
                    zone_id: zone_id.clone(),
                    why: format!("not found in account {}", local.network.account),
                });
                continue;
            };
            if !zone.private {
                plan.findings.push(Finding::ZoneNotAssociable {
                    side: owner,
                    zone_id: zone_id.clone(),
                    why: "a public zone cannot be associated with a VPC".to_owned(),
                });
                continue;
            }
            if zone.is_associated(&vpc.vpc_id) {
                continue;
            }
            if !zone.associated_by_peerwire.contains(&vpc.vpc_id) {
                if zone.tag_count >= ZONE_TAG_LIMIT {
                    // The association would go unrecorded, and cleanup removes only recorded
                    // ones: it is not made.
                    plan.findings.push(Finding::ZoneNotAssociable {
                        side: owner,
                        zone_id: zone_id.clone(),
                        why: format!(
                            "it carries {} tags, Route 53's most ({ZONE_TAG_LIMIT}), so peerwire cannot record the association; remove a tag",
                            zone.tag_count
                        ),
                    });
                    continue;
                }
                plan.steps.push(PlanStep::zone(
                    owner,
                    ZoneAction::Record {
                        zone_id: zone_id.clone(),
                        vpc_id: vpc.vpc_id.clone(),
                        peering_id: state.peering.id.clone(),
                    },
                ));
            }
            let (zone_id, vpc_id, region) =
                (zone_id.clone(), vpc.vpc_id.clone(), vpc.region.clone());
            plan.steps.push(PlanStep::zone(
                owner,
                ZoneAction::Authorize {
                    zone_id: zone_id.clone(),
                    vpc_id: vpc_id.clone(),
                    region: region.clone(),
                },
            ));
            plan.steps.push(PlanStep::zone(
                peer,
                ZoneAction::Associate {
                    zone_id: zone_id.clone(),
                    vpc_id: vpc_id.clone(),
                    region: region.clone(),
                },
            ));
            plan.steps.push(PlanStep::zone(
                owner,
                ZoneAction::DeleteAuthorization {
                    zone_id,
                    vpc_id,
                    region,
                },
            ));
        }
    }
    plan
}

/// The cleanup of one zone for a gone `peering`, whose `owner` side owns `zone`: when peerwire
/// recorded associating the peer VPC and `still_needed` is false (no live peering of that VPC
/// names the zone any more), the association is removed and then the record (the record
/// waits for the removal: `plan::order`). An association peerwire did not record is never
/// touched, and the zone's last VPC is not disassociated (Route 53 API reference,
/// DisassociateVPCFromHostedZone: "You can't disassociate the last Amazon VPC from a private
/// hosted zone"): it is reported and its record kept.
pub fn plan_zone_cleanup(
    peering: &Peering,
    owner: Side,
    zone: &HostedZone,
    still_needed: bool,
) -> Plan {
    let peer = owner.other();
    let vpc = &peering.sides[peer];
    let mut plan = Plan::default();
    if still_needed || !zone.associated_by_peerwire.contains(&vpc.vpc_id) {
        return plan;
    }
    let steps = &mut plan.steps;
    if zone.is_associated(&vpc.vpc_id) {
        if zone.vpcs.len() == 1 {
            plan.findings.push(Finding::ZoneKept {
                side: peer,
                zone_id: zone.id.clone(),
                vpc_id: vpc.vpc_id.clone(),
                why: "it is the zone's last VPC, which Route 53 does not disassociate \
                      (LastVPCAssociation); associate another VPC or delete the zone"
                    .to_owned(),
            });
            return plan;
        }
        steps.push(PlanStep::zone(
            peer,
            ZoneAction::Disassociate {
                zone_id: zone.id.clone(),
                vpc_id: vpc.vpc_id.clone(),
                region: vpc.region.clone(),
            },
        ));
    }
    steps.push(PlanStep::zone(
        owner,
        ZoneAction::Forget {
            zone_id: zone.id.clone(),
            vpc_id: vpc.vpc_id.clone(),
        },
    ));
    plan
}

/// Whether `other`, a live peering of the same VPC, needs `zone` of the account on `owner`'s
/// side of `gone` associated with that VPC: `wiring` is `other`'s matching rule's.
pub fn needs_zone(
    gone: &Peering,
    owner: Side,
    zone: &HostedZone,
    other: &Peering,
    wiring: &Wiring,
) -> bool {
    let vpc = &gone.sides[owner.other()].vpc_id;
    let zone_account = &gone.sides[owner].account;
    Side::BOTH.iter().any(|&side| {
        &other.sides[side].account == zone_account
            && &other.sides[side.other()].vpc_id == vpc
            && wiring.side(side).private_hosted_zones.contains(&zone.id)
    })
}

/// The zones of `state`'s sides, for the diagnose DNS layer: each named zone and whether the
/// peer VPC is associated.
pub fn zone_states<'a>(
    state: &'a WiringState,
    wiring: &'a Wiring,
) -> impl Iterator<Item = (Side, &'a SideState, &'a HostedZone)> + 'a {
    Side::BOTH.into_iter().flat_map(move |owner| {
        state.sides[owner]
            .as_ref()
            .into_iter()
            .flat_map(move |local| {
                local
                    .hosted_zones
                    .iter()
                    .filter(move |z| wiring.side(owner).private_hosted_zones.contains(&z.id))
                    .map(move |z| (owner, local, z))
            })
    })
}

#[cfg(test)]
mod tests;
