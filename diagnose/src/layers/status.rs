//! Layer 1: the peering's own status. Nothing crosses a peering that is not `active`, and AWS
//! never revives a failed, rejected, expired or deleted one: the fix is a new request.

use peerwire::model::{PeeringStatus, Side};

use crate::inspection::Inspection;
use crate::{Layer, LayerId, Problem};

pub(crate) fn layer(inspection: &Inspection) -> Layer {
    let p = &inspection.peering;
    let id = &p.id;
    let accepter = &p.sides.accepter.account;
    let because = match p.status_message.as_deref() {
        Some(m) if !m.is_empty() => format!(" ({m})"),
        _ => String::new(),
    };
    let pcx = Some(id.as_str());
    let mut problems = Vec::new();
    match &p.status {
        PeeringStatus::Active => {}
        PeeringStatus::PendingAcceptance => {
            let fix = match &inspection.rule {
                Some(rule) => format!(
                    "accept it in account {accepter}: peerwire accepts it under rule `{rule}` on \
                     the next CloudTrail event or sweep (a rule with `approval: required` waits \
                     for an approval event)"
                ),
                None => format!(
                    "no policy rule matches it ({}), so peerwire will not accept it: fix the \
                     request or the policy, or accept it in account {accepter} by hand",
                    inspection.unmatched.join("; ")
                ),
            };
            problems.push(
                Problem::broken(
                    Some(Side::Accepter),
                    pcx,
                    format!(
                        "{id} is pending acceptance by account {accepter}: no traffic flows \
                         until it is accepted"
                    ),
                )
                .fix(fix),
            );
        }
        PeeringStatus::Failed => {
            let overlap = because.to_ascii_lowercase().contains("overlap");
            let fix = if overlap {
                "overlapping CIDRs cannot peer: re-address one VPC or use AWS PrivateLink, then \
                 request a new peering"
            } else {
                "fix the cause and request a new peering; a failed peering cannot be revived"
            };
            problems.push(Problem::broken(None, pcx, format!("{id} failed{because}")).fix(fix));
        }
        PeeringStatus::Rejected => problems.push(
            Problem::broken(
                Some(Side::Accepter),
                pcx,
                format!("{id} was rejected by account {accepter}{because}"),
            )
            .fix(
                "a rejected peering cannot be accepted: see the Peering Request Rejected outcome \
                 for peerwire's reasons, fix the cause and request a new peering",
            ),
        ),
        PeeringStatus::Expired => problems.push(
            Problem::broken(
                Some(Side::Accepter),
                pcx,
                format!("{id} expired: account {accepter} did not accept it within 7 days"),
            )
            .fix("request a new peering and accept it within 7 days"),
        ),
        PeeringStatus::Deleted | PeeringStatus::Deleting => problems.push(
            Problem::broken(None, pcx, format!("{id} is {}{because}", p.status)).fix(
                "request a new peering if the VPCs should still talk; routes through this one \
                 are blackholes now",
            ),
        ),
        PeeringStatus::NotFound => problems.push(
            Problem::broken(None, pcx, format!("{id} is not visible any more")).fix(
                "AWS forgets a deleted, rejected or failed peering after about 2 hours: request \
                 a new peering if the VPCs should still talk",
            ),
        ),
        PeeringStatus::InitiatingRequest | PeeringStatus::Provisioning => problems.push(
            Problem::warning(
                None,
                pcx,
                format!("{id} is {}: AWS is still setting it up{because}", p.status),
            )
            .fix("re-check in a minute"),
        ),
        PeeringStatus::Other(code) => problems.push(
            Problem::warning(
                None,
                pcx,
                format!("{id} reports status `{code}`, which peerwire does not know"),
            )
            .fix("check the peering in the VPC console"),
        ),
    }
    if p.status == PeeringStatus::Active {
        if !inspection.covered {
            problems.push(
                Problem::warning(
                    Some(Side::Accepter),
                    Some(&p.sides.accepter.vpc_id),
                    format!(
                        "the accepter VPC {} ({accepter} in {}) is outside the policy's \
                         accepters: peerwire does not wire this peering",
                        p.sides.accepter.vpc_id, p.sides.accepter.region
                    ),
                )
                .fix("add the accepter to the policy's `accepters` if peerwire should wire it"),
            );
        }
        if inspection.rule.is_none() {
            problems.push(
                Problem::warning(
                    None,
                    pcx,
                    format!(
                        "no policy rule matches {id} ({}): peerwire does not wire it, and the \
                         checks below use the default scope (every subnet, no DB port)",
                        inspection.unmatched.join("; ")
                    ),
                )
                .fix("fix the rule or the peering's tags if peerwire should wire it"),
            );
        }
    }
    let ok = match &inspection.rule {
        Some(rule) => format!("{id} is active (policy rule `{rule}`)"),
        None => format!("{id} is active"),
    };
    Layer::checked(LayerId::PeeringStatus, problems, ok)
}
