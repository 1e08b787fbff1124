//! Layer 6, custom names: each private hosted zone the wiring names must be associated with the
//! peer VPC, or its names (`orders.db.internal`) do not resolve there at all; and a name for
//! the database should follow it (a CNAME or alias to the RDS endpoint), not pin an address
//! that a failover or a replacement changes.

use ipnet::IpNet;

use peerwire::model::{DnsRecord, HostedZone, Side};
use peerwire::plan::zones::zone_states;
use peerwire::plan::Finding;

use crate::facts::Facts;
use crate::Problem;

/// RDS endpoints are names under this domain.
const RDS_DOMAIN: &str = ".rds.amazonaws.com";

/// The problems and the ok lines of the zones.
pub(crate) fn check(facts: &Facts<'_>) -> (Vec<Problem>, Vec<String>) {
    let inspection = facts.inspection;
    let mut problems = Vec::new();
    let unassociated = inspection.plan.steps.iter().filter_map(|step| {
        let association = step.zone_association().filter(|a| a.adds)?;
        Some((
            &step.side,
            association.zone_id,
            association.vpc_id,
            association.region,
        ))
    });
    for (side, zone_id, vpc_id, region) in unassociated {
        let owner = side.other();
        problems.push(
            Problem::broken(
                Some(*side),
                Some(zone_id),
                format!(
                    "hosted zone {} is not associated with the {side} VPC {vpc_id}: its names do not resolve there",
                    zone_name(facts, owner, zone_id.as_str())
                ),
            )
            .fix(format!(
                "`peerwire apply {pcx}` does it; by hand: aws route53 \
                 create-vpc-association-authorization --hosted-zone-id {zone_id} --vpc \
                 VPCRegion={region},VPCId={vpc_id} in account {owner_account}, then aws \
                 route53 associate-vpc-with-hosted-zone --hosted-zone-id {zone_id} --vpc \
                 VPCRegion={region},VPCId={vpc_id} in account {vpc_account}, then delete \
                 the authorization",
                pcx = facts.pcx(),
                owner_account = facts.account(owner),
                vpc_account = facts.account(*side),
            )),
        );
    }
    for finding in &inspection.plan.findings {
        if let Finding::ZoneNotAssociable { side, zone_id, .. } = finding {
            problems.push(
                Problem::broken(Some(*side), Some(zone_id), finding.to_string()).fix(format!(
                    "name a private hosted zone of account {} in wiring.{side}.private_hosted_zones",
                    facts.account(*side)
                )),
            );
        }
    }
    let mut ok = Vec::new();
    let Some(state) = &inspection.state else {
        return (problems, ok);
    };
    for (owner, local, zone) in zone_states(state, &inspection.wiring) {
        let peer_vpc = &inspection.peering.sides[owner.other()].vpc_id;
        if zone.is_associated(peer_vpc) {
            ok.push(format!(
                "hosted zone {} of the {owner} is associated with {peer_vpc}",
                zone.name
            ));
        }
        let records = inspection
            .zone_records
            .iter()
            .find(|r| r.zone_id == zone.id)
            .map(|r| &r.records);
        match records {
            Some(Ok(records)) => {
                records_check(
                    zone,
                    owner,
                    &local.network.cidrs,
                    records,
                    &mut problems,
                    &mut ok,
                );
            }
            Some(Err(err)) => problems.push(Problem::warning(
                Some(owner),
                Some(&zone.id),
                format!(
                    "the records of hosted zone {} could not be read: {err}",
                    zone.name
                ),
            )),
            None => {}
        }
    }
    (problems, ok)
}

fn zone_name(facts: &Facts<'_>, owner: Side, zone_id: &str) -> String {
    facts
        .local(owner)
        .and_then(|l| l.hosted_zones.iter().find(|z| z.id.as_str() == zone_id))
        .map_or_else(|| zone_id.to_owned(), |z| format!("{} ({zone_id})", z.name))
}

/// An A record to an address of the owner's VPC pins what a failover moves: a warning. A
/// CNAME or alias to an RDS endpoint follows the database: said as ok.
fn records_check(
    zone: &HostedZone,
    owner: Side,
    vpc_cidrs: &[IpNet],
    records: &[DnsRecord],
    problems: &mut Vec<Problem>,
    ok: &mut Vec<String>,
) {
    for record in records {
        let follows_rds = record
            .alias_target
            .iter()
            .chain(record.values.iter().filter(|_| record.kind == "CNAME"))
            .any(|target| target.trim_end_matches('.').ends_with(RDS_DOMAIN));
        if follows_rds {
            ok.push(format!("{} follows the RDS endpoint", record.name));
            continue;
        }
        if record.kind != "A" || record.alias_target.is_some() {
            continue;
        }
        let pinned: Vec<&String> = record
            .values
            .iter()
            .filter(|v| {
                v.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| vpc_cidrs.iter().any(|c| c.contains(&ip)))
            })
            .collect();
        if !pinned.is_empty() {
            problems.push(
                Problem::warning(
                    Some(owner),
                    Some(&zone.id),
                    format!(
                        "{} in hosted zone {} is an A record to {}: an RDS failover or \
                         replacement changes that address and the name goes stale",
                        record.name,
                        zone.name,
                        pinned
                            .iter()
                            .map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .fix(format!(
                    "make {} a CNAME to the DB instance's endpoint (…{RDS_DOMAIN})",
                    record.name
                )),
            );
        }
    }
}
