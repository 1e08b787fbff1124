//! Layer 6: DNS. Across a peering, a public DNS name (the RDS endpoint) resolves to the private
//! IP only when the side that owns it allows resolution from the remote VPC, and only while both
//! VPCs have `enableDnsSupport` and `enableDnsHostnames` on; otherwise clients get the public
//! IP and their traffic never enters the peering. Custom names (private hosted zones) are
//! checked by [`super::zones`].

use peerwire::model::{Side, VpcId};
use peerwire::plan::{Action, DnsAttribute, Ec2Action, Finding, PlanStep};

use crate::facts::Facts;
use crate::{Layer, LayerId, Problem, Status};

fn attribute_flag(attribute: DnsAttribute) -> &'static str {
    match attribute {
        DnsAttribute::EnableDnsSupport => "--enable-dns-support",
        DnsAttribute::EnableDnsHostnames => "--enable-dns-hostnames",
    }
}

fn option_problem(facts: &Facts<'_>, side: Side, status: Status) -> Problem {
    let pcx = facts.pcx();
    let effect = match side {
        Side::Accepter => {
            "the requester's tasks resolve the accepter's DNS names (the RDS endpoint) to public \
             IPs, and their traffic never enters the peering"
        }
        Side::Requester => "the accepter VPC resolves the requester's DNS names to public IPs",
    };
    let by_peerwire = if status == Status::Broken {
        format!(" (`peerwire apply {pcx}` does it)")
    } else {
        String::new()
    };
    Problem::new(
        status,
        Some(side),
        Some(pcx),
        format!("{side} has not allowed DNS resolution from the remote VPC on {pcx}: {effect}"),
    )
    .fix(format!(
        "aws ec2 modify-vpc-peering-connection-options --vpc-peering-connection-id {pcx} \
         --{side}-peering-connection-options AllowDnsResolutionFromRemoteVpc=true, run in \
         account {}{by_peerwire}",
        facts.account(side)
    ))
}

fn attribute_problem(
    facts: &Facts<'_>,
    side: Side,
    vpc_id: &VpcId,
    attribute: DnsAttribute,
    peerwire_fixes: bool,
) -> Problem {
    let how = if peerwire_fixes {
        format!("`peerwire apply {}` does it", facts.pcx())
    } else {
        "or set wiring.fix_vpc_dns_attributes: true and let peerwire do it".to_owned()
    };
    Problem::broken(
        Some(side),
        Some(vpc_id),
        format!(
            "{side} VPC {vpc_id} has {} off: names do not resolve to private IPs across the \
             peering",
            attribute.aws_name()
        ),
    )
    .fix(format!(
        "aws ec2 modify-vpc-attribute --vpc-id {vpc_id} {} '{{\"Value\":true}}' in account {} \
         ({how})",
        attribute_flag(attribute),
        facts.account(side)
    ))
}

pub(crate) fn layer(facts: &Facts<'_>) -> Layer {
    if !facts.active() {
        return Layer::skipped(
            LayerId::Dns,
            facts.not_active("DNS options exist only on an active peering and are"),
        );
    }
    let plan = &facts.inspection.plan;
    let mut problems = Vec::new();
    // VPC attributes first: the peering option has no effect while either is off.
    for step in &plan.steps {
        if let PlanStep {
            side,
            action: Action::Ec2(Ec2Action::EnableVpcDnsAttribute { vpc_id, attribute }),
        } = step
        {
            problems.push(attribute_problem(facts, *side, vpc_id, *attribute, true));
        }
    }
    for finding in &plan.findings {
        if let Finding::DnsAttributeOff {
            side,
            vpc_id,
            attribute,
        } = finding
        {
            problems.push(attribute_problem(facts, *side, vpc_id, *attribute, false));
        }
    }
    for side in Side::BOTH {
        let planned = plan
            .steps
            .iter()
            .any(|step| matches!(step, PlanStep { side: s, action: Action::Ec2(Ec2Action::SetDnsResolution { .. }) } if *s == side));
        if planned {
            problems.push(option_problem(facts, side, Status::Broken));
        } else if !facts.view(side).allow_dns_resolution_from_remote_vpc {
            // Not managed by peerwire: worth knowing, not peerwire's to fix.
            problems.push(option_problem(facts, side, Status::Warning));
        }
    }
    let (zone_problems, zone_ok) = super::zones::check(facts);
    problems.extend(zone_problems);
    let mut ok = vec![format!(
        "both sides allow DNS resolution from the remote VPC on {}",
        facts.pcx()
    )];
    for side in Side::BOTH {
        match facts.local(side) {
            Some(local) => ok.push(format!(
                "{side} {} has enableDnsSupport and enableDnsHostnames on",
                local.network.vpc_id
            )),
            None => ok.push(facts.unread(side)),
        }
    }
    ok.extend(zone_ok);
    Layer::checked(LayerId::Dns, problems, ok.join("; "))
}
