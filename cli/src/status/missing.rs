//! One plan step as `peerwire status` says it: what is missing (or left behind), where, not
//! what the call is. "route 10.2.0.0/16 missing in rtb-…" is what a person looks for in the
//! console; `peerwire plan` prints the steps as calls.

use peerwire::plan::{describe_permissions, Action, Ec2Action, PlanStep, ZoneAction};

/// What `step` would put right, as a finding: `route 10.2.0.0/16 missing in rtb-1`.
pub fn missing(step: &PlanStep) -> String {
    match &step.action {
        Action::Ec2(action) => ec2(action),
        Action::Route53(action) => zone(action),
    }
}

fn ec2(action: &Ec2Action) -> String {
    match action {
        Ec2Action::AcceptPeering { rule, .. } if rule.is_empty() => {
            "request not accepted yet".to_owned()
        }
        Ec2Action::AcceptPeering { rule, .. } => {
            format!("request not accepted yet (rule `{rule}` accepts it)")
        }
        Ec2Action::RejectPeering { reasons, .. } => {
            let reasons: Vec<String> = reasons.iter().map(ToString::to_string).collect();
            format!("request not rejected yet: {}", reasons.join("; "))
        }
        Ec2Action::CreateRoute {
            route_table_id,
            destination,
            ..
        } => format!("route {destination} missing in {route_table_id}"),
        Ec2Action::ReplaceBlackholeRoute {
            route_table_id,
            destination,
            peering_id,
        } => format!(
            "route {destination} in {route_table_id} is a blackhole; it should go through {peering_id}"
        ),
        Ec2Action::DeleteRoute {
            route_table_id,
            destination,
            peering_id,
        } => format!("route {destination} -> {peering_id} left in {route_table_id}"),
        Ec2Action::Authorize {
            direction,
            group_id,
            permissions,
        } => format!(
            "{direction} rule missing in {group_id}: {}",
            describe_permissions(permissions, direction.preposition())
        ),
        Ec2Action::Revoke {
            direction,
            group_id,
            permissions,
        } => format!(
            "{direction} rule left in {group_id}: {}",
            describe_permissions(permissions, direction.preposition())
        ),
        Ec2Action::Remark {
            direction,
            group_id,
            permissions,
        } => format!(
            "{direction} rule in {group_id} not marked for this peering: {}",
            describe_permissions(permissions, direction.preposition())
        ),
        Ec2Action::SetDnsResolution { .. } => {
            "DNS resolution from the remote VPC is off".to_owned()
        }
        Ec2Action::EnableVpcDnsAttribute { vpc_id, attribute } => {
            format!("{} is off in {vpc_id}", attribute.aws_name())
        }
    }
}

fn zone(action: &ZoneAction) -> String {
    match action {
        ZoneAction::Record {
            zone_id, vpc_id, ..
        } => format!("peerwire's record of {vpc_id} on hosted zone {zone_id} missing"),
        ZoneAction::Authorize {
            zone_id, vpc_id, ..
        } => format!("authorization of {vpc_id} on hosted zone {zone_id} missing"),
        ZoneAction::Associate {
            zone_id, vpc_id, ..
        } => format!("{vpc_id} not associated with hosted zone {zone_id}"),
        ZoneAction::DeleteAuthorization {
            zone_id, vpc_id, ..
        } => format!("used authorization of {vpc_id} left on hosted zone {zone_id}"),
        ZoneAction::Disassociate {
            zone_id, vpc_id, ..
        } => format!("{vpc_id} still associated with hosted zone {zone_id}"),
        ZoneAction::Forget { zone_id, vpc_id } => {
            format!("peerwire's record of {vpc_id} left on hosted zone {zone_id}")
        }
    }
}

#[cfg(test)]
mod tests {
    use peerwire::model::Side;
    use peerwire::testing::id;

    use super::*;

    #[test]
    fn a_missing_route_names_the_cidr_and_the_table() {
        let step = PlanStep::ec2(
            Side::Accepter,
            Ec2Action::CreateRoute {
                route_table_id: id("rtb-11111111"),
                destination: "10.2.0.0/16".parse().unwrap(),
                peering_id: id("pcx-12345678"),
            },
        );
        assert_eq!(missing(&step), "route 10.2.0.0/16 missing in rtb-11111111");
    }

    #[test]
    fn a_leftover_route_names_the_gone_peering() {
        let step = PlanStep::ec2(
            Side::Requester,
            Ec2Action::DeleteRoute {
                route_table_id: id("rtb-22222222"),
                destination: "10.1.0.0/16".parse().unwrap(),
                peering_id: id("pcx-12345678"),
            },
        );
        assert_eq!(
            missing(&step),
            "route 10.1.0.0/16 -> pcx-12345678 left in rtb-22222222"
        );
    }
}
