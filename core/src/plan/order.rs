//! Which steps of a plan must wait for another: the orderings AWS imposes, and nothing else,
//! so that everything else can go out at once. Each rule names where AWS says so.
//!
//! - A private hosted zone's association with a VPC of another account is a chain (Route 53
//!   Developer Guide, "Associating an Amazon VPC and a private hosted zone that you created
//!   with different AWS accounts": the zone owner authorizes, then the VPC owner associates,
//!   then the authorization may be deleted). peerwire records the association on the zone
//!   before it authorizes, so that an association it made is never left unrecorded (cleanup
//!   removes only recorded ones): record → authorize → associate → delete the authorization.
//! - Its cleanup is a chain too: the record is forgotten only once the disassociation went
//!   through (a refused one, such as the zone's last VPC, keeps the record).
//! - `enableDnsHostnames` after `enableDnsSupport` of the same VPC (EC2 API reference,
//!   ModifyVpcAttribute: "You can only enable DNS hostnames if you've enabled DNS support").
//!
//! Routes of different tables, rules of different groups, and the two sides' DNS options are
//! independent. (An accept before its re-read, and DNS options only on an active peering, are
//! orderings between phases, not within a plan: see the reconciler.)

use super::{Action, DnsAttribute, Ec2Action, PlanStep, ZoneAction};
use crate::model::{HostedZoneId, VpcId};

/// For each step of `steps`, the index of the step it must wait for, if any. A step's
/// prerequisite always comes before it in the plan.
pub fn prerequisites(steps: &[PlanStep]) -> Vec<Option<usize>> {
    steps
        .iter()
        .enumerate()
        .map(|(at, step)| {
            let wanted = match &step.action {
                Action::Route53(action) => previous_in_zone_chain(action),
                Action::Ec2(Ec2Action::EnableVpcDnsAttribute {
                    vpc_id,
                    attribute: DnsAttribute::EnableDnsHostnames,
                }) => Some(Wanted::DnsSupport(vpc_id)),
                Action::Ec2(
                    Ec2Action::EnableVpcDnsAttribute {
                        attribute: DnsAttribute::EnableDnsSupport,
                        ..
                    }
                    | Ec2Action::AcceptPeering { .. }
                    | Ec2Action::RejectPeering { .. }
                    | Ec2Action::CreateRoute { .. }
                    | Ec2Action::ReplaceBlackholeRoute { .. }
                    | Ec2Action::DeleteRoute { .. }
                    | Ec2Action::Authorize { .. }
                    | Ec2Action::Revoke { .. }
                    | Ec2Action::Remark { .. }
                    | Ec2Action::SetDnsResolution { .. },
                ) => None,
            }?;
            steps[..at].iter().rposition(|earlier| wanted.is(earlier))
        })
        .collect()
}

/// The step a step waits for.
enum Wanted<'a> {
    Zone {
        zone_id: &'a HostedZoneId,
        vpc_id: &'a VpcId,
        kind: ZoneKind,
    },
    DnsSupport(&'a VpcId),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ZoneKind {
    Record,
    Authorize,
    Associate,
    Disassociate,
}

/// The zone step before `action` in its chain, if it has one.
fn previous_in_zone_chain(action: &ZoneAction) -> Option<Wanted<'_>> {
    let (zone_id, vpc_id, kind) = match action {
        ZoneAction::Record { .. } | ZoneAction::Disassociate { .. } => return None,
        ZoneAction::Authorize {
            zone_id, vpc_id, ..
        } => (zone_id, vpc_id, ZoneKind::Record),
        ZoneAction::Associate {
            zone_id, vpc_id, ..
        } => (zone_id, vpc_id, ZoneKind::Authorize),
        ZoneAction::DeleteAuthorization {
            zone_id, vpc_id, ..
        } => (zone_id, vpc_id, ZoneKind::Associate),
        ZoneAction::Forget { zone_id, vpc_id } => (zone_id, vpc_id, ZoneKind::Disassociate),
    };
    Some(Wanted::Zone {
        zone_id,
        vpc_id,
        kind,
    })
}

impl Wanted<'_> {
    fn is(&self, step: &PlanStep) -> bool {
        match (self, &step.action) {
            (
                Self::DnsSupport(vpc),
                Action::Ec2(Ec2Action::EnableVpcDnsAttribute { vpc_id, attribute }),
            ) => vpc_id == *vpc && *attribute == DnsAttribute::EnableDnsSupport,
            (
                Self::Zone {
                    zone_id,
                    vpc_id,
                    kind,
                },
                Action::Route53(action),
            ) => {
                let (z, v, k) = match action {
                    ZoneAction::Record {
                        zone_id, vpc_id, ..
                    } => (zone_id, vpc_id, ZoneKind::Record),
                    ZoneAction::Authorize {
                        zone_id, vpc_id, ..
                    } => (zone_id, vpc_id, ZoneKind::Authorize),
                    ZoneAction::Associate {
                        zone_id, vpc_id, ..
                    } => (zone_id, vpc_id, ZoneKind::Associate),
                    ZoneAction::Disassociate {
                        zone_id, vpc_id, ..
                    } => (zone_id, vpc_id, ZoneKind::Disassociate),
                    ZoneAction::DeleteAuthorization { .. } | ZoneAction::Forget { .. } => {
                        return false
                    }
                };
                z == *zone_id && v == *vpc_id && k == *kind
            }
            (Self::DnsSupport(_), Action::Ec2(_) | Action::Route53(_))
            | (Self::Zone { .. }, Action::Ec2(_)) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Side;
    use crate::testing::id;

    fn zone(side: Side, action: ZoneAction) -> PlanStep {
        PlanStep::zone(side, action)
    }

    #[test]
    fn a_zone_association_is_a_chain_and_everything_else_is_free() {
        let (z, v, r): (HostedZoneId, VpcId, crate::model::Region) =
            (id("Z0000000000001"), id("vpc-11111111"), id("us-east-1"));
        let steps = vec![
            PlanStep::ec2(
                Side::Accepter,
                Ec2Action::CreateRoute {
                    route_table_id: id("rtb-22222222"),
                    destination: crate::testing::net("10.0.0.0/16"),
                    peering_id: id("pcx-12345678"),
                },
            ),
            zone(
                Side::Accepter,
                ZoneAction::Record {
                    zone_id: z.clone(),
                    vpc_id: v.clone(),
                    peering_id: id("pcx-12345678"),
                },
            ),
            zone(
                Side::Accepter,
                ZoneAction::Authorize {
                    zone_id: z.clone(),
                    vpc_id: v.clone(),
                    region: r.clone(),
                },
            ),
            zone(
                Side::Requester,
                ZoneAction::Associate {
                    zone_id: z.clone(),
                    vpc_id: v.clone(),
                    region: r.clone(),
                },
            ),
            zone(
                Side::Accepter,
                ZoneAction::DeleteAuthorization {
                    zone_id: z.clone(),
                    vpc_id: v.clone(),
                    region: r.clone(),
                },
            ),
            PlanStep::ec2(
                Side::Requester,
                Ec2Action::SetDnsResolution {
                    peering_id: id("pcx-12345678"),
                },
            ),
        ];
        assert_eq!(
            prerequisites(&steps),
            [None, None, Some(1), Some(2), Some(3), None]
        );
        // Without a record (already recorded), the authorization waits for nothing.
        assert_eq!(prerequisites(&steps[2..5]), [None, Some(0), Some(1)]);
    }

    #[test]
    fn forgetting_waits_for_the_disassociation_and_hostnames_for_dns_support() {
        let (z, v): (HostedZoneId, VpcId) = (id("Z0000000000001"), id("vpc-11111111"));
        let steps = vec![
            zone(
                Side::Requester,
                ZoneAction::Disassociate {
                    zone_id: z.clone(),
                    vpc_id: v.clone(),
                    region: id("us-east-1"),
                },
            ),
            zone(
                Side::Accepter,
                ZoneAction::Forget {
                    zone_id: z,
                    vpc_id: v,
                },
            ),
            PlanStep::ec2(
                Side::Accepter,
                Ec2Action::EnableVpcDnsAttribute {
                    vpc_id: id("vpc-22222222"),
                    attribute: DnsAttribute::EnableDnsSupport,
                },
            ),
            PlanStep::ec2(
                Side::Accepter,
                Ec2Action::EnableVpcDnsAttribute {
                    vpc_id: id("vpc-22222222"),
                    attribute: DnsAttribute::EnableDnsHostnames,
                },
            ),
            PlanStep::ec2(
                Side::Requester,
                Ec2Action::EnableVpcDnsAttribute {
                    vpc_id: id("vpc-11111111"),
                    attribute: DnsAttribute::EnableDnsHostnames,
                },
            ),
        ];
        assert_eq!(prerequisites(&steps), [None, Some(0), None, Some(2), None]);
    }
}
