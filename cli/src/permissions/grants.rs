//! Where the member role grants each action, who needs it, and how to grant a denied one.
//! `tests/tests/templates.rs` holds [`granted_by`] and [`policy_of`] equal to the template.

use peerwire::aws::permissions::DIAGNOSE_READS;
use peerwire::doors::Door;

/// Where the member role's statements are.
const TEMPLATE: &str = "templates/member-role.yaml";

/// The inline policies of the member role: the reads (always there), the writes on managed
/// VPCs (only when `ManagedVpcArns` names VPCs), the association of listed VPCs with a peer's
/// zone (only when `ZoneAssociationVpcs` names VPCs), the sharing of listed zones (only when
/// `HostedZoneArns` names zones).
const READ_POLICY: &str = "peerwire-member-read";
const WRITE_POLICY: &str = "peerwire-member-write";
const ZONE_ASSOCIATIONS_POLICY: &str = "peerwire-member-zone-associations";
const ZONES_POLICY: &str = "peerwire-member-zones";

/// What to do once the parameter is right.
const UPDATE: &str = "update the member stack (or the rollout's StackSet) to the current template";

/// The functions (and `peerwire diagnose`) that need `action`.
pub(super) fn needed_by(action: &str) -> Vec<&'static str> {
    let mut by: Vec<&'static str> = [Door::Request, Door::Wiring, Door::Drift, Door::Cleanup]
        .into_iter()
        .filter(|door| door.job().actions().iter().any(|a| a.name == action))
        .map(Door::function_name)
        .collect();
    if DIAGNOSE_READS.iter().any(|a| a.name == action) {
        by.push("peerwire diagnose");
    }
    by
}

/// The statements of `templates/member-role.yaml` that grant `action` (all of them are needed
/// for a write whose call names several resources).
pub fn granted_by(action: &str) -> &'static [&'static str] {
    match action {
        "ec2:DescribeVpcPeeringConnections"
        | "ec2:DescribeVpcs"
        | "ec2:DescribeVpcAttribute"
        | "ec2:DescribeRouteTables"
        | "ec2:DescribeSubnets"
        | "ec2:DescribeSecurityGroups"
        | "ec2:DescribeManagedPrefixLists"
        | "ec2:DescribeNetworkAcls" => &["ReadNetwork"],
        "rds:DescribeDBInstances" | "rds:DescribeDBClusters" | "rds:DescribeDBSubnetGroups" => {
            &["ReadDatabases"]
        }
        "servicequotas:GetServiceQuota" => &["ReadNetworkQuotas"],
        "ec2:DescribeFlowLogs" => &["ReadFlowLogs"],
        "logs:FilterLogEvents" => &["ReadFlowLogRecords"],
        "route53:GetHostedZone"
        | "route53:ListTagsForResources"
        | "route53:ListResourceRecordSets" => &["ReadHostedZones"],
        "ec2:AcceptVpcPeeringConnection" => {
            &["AcceptOrRejectIntoManagedVpcs", "AcceptWithManagedVpcs"]
        }
        "ec2:RejectVpcPeeringConnection" => &["AcceptOrRejectIntoManagedVpcs"],
        "ec2:DeleteVpcPeeringConnection" => &["RollBackAcceptIntoManagedVpcs"],
        "ec2:CreateTags" => &["MarkRollBackIntoManagedVpcs"],
        "ec2:ModifyVpcPeeringConnectionOptions" => {
            &["PeeringOptionsAsAccepter", "PeeringOptionsAsRequester"]
        }
        "ec2:CreateRoute" | "ec2:ReplaceRoute" => &[
            "RoutesInManagedVpcs",
            "RouteTargetPeeringAsAccepter",
            "RouteTargetPeeringAsRequester",
        ],
        "ec2:DeleteRoute" => &["RoutesInManagedVpcs"],
        "ec2:AuthorizeSecurityGroupIngress" | "ec2:AuthorizeSecurityGroupEgress" => &[
            "SecurityGroupRulesInManagedVpcs",
            "SecurityGroupRuleResources",
        ],
        "ec2:RevokeSecurityGroupIngress"
        | "ec2:RevokeSecurityGroupEgress"
        | "ec2:UpdateSecurityGroupRuleDescriptionsIngress"
        | "ec2:UpdateSecurityGroupRuleDescriptionsEgress" => &["SecurityGroupRulesInManagedVpcs"],
        "ec2:ModifyVpcAttribute" => &["VpcDnsAttributesOfManagedVpcs"],
        "route53:AssociateVPCWithHostedZone" | "route53:DisassociateVPCFromHostedZone" => {
            &["AssociateManagedVpcsWithZones"]
        }
        "route53:ChangeTagsForResource"
        | "route53:CreateVPCAssociationAuthorization"
        | "route53:DeleteVPCAssociationAuthorization" => &["ShareListedHostedZones"],
        _ => &[],
    }
}

/// The inline policy of the member role that holds `statement`.
pub fn policy_of(statement: &str) -> &'static str {
    match statement {
        "ReadNetwork" | "ReadDatabases" | "ReadNetworkQuotas" | "ReadFlowLogs"
        | "ReadFlowLogRecords" | "ReadHostedZones" => READ_POLICY,
        "ShareListedHostedZones" => ZONES_POLICY,
        "AssociateManagedVpcsWithZones" => ZONE_ASSOCIATIONS_POLICY,
        _ => WRITE_POLICY,
    }
}

/// How to grant a denied action: its statements, and the parameter that makes their policy
/// exist (`vpc_arn`: the VPC the check aimed at).
pub(super) fn fix(action: &str, partition: &str, vpc_arn: &str) -> String {
    let statements = granted_by(action);
    let policy = statements.first().map_or(READ_POLICY, |s| policy_of(s));
    let grant = format!(
        "{TEMPLATE} grants it in statement {} (policy {policy})",
        statements.join(", ")
    );
    let what = match policy {
        WRITE_POLICY => format!(
            "; that policy exists only when ManagedVpcArns names VPCs: set ManagedVpcArns to \
             include {vpc_arn} (or arn:{partition}:ec2:*:*:vpc/* for every VPC of the account) \
             and {UPDATE}"
        ),
        ZONE_ASSOCIATIONS_POLICY => format!(
            "; that policy exists only when ZoneAssociationVpcs names VPCs, and it allows only \
             those (route53:VPCs): set ZoneAssociationVpcs to include {} (or *@<region> for \
             every VPC of the account in a region) and {UPDATE}",
            zone_association_entry(vpc_arn)
        ),
        ZONES_POLICY => format!(
            "; that policy exists only when HostedZoneArns names zones: set HostedZoneArns to \
             include arn:{partition}:route53:::hostedzone/<zone-id> of each private hosted zone \
             the policy's private_hosted_zones name on this account's side (or \
             arn:{partition}:route53:::hostedzone/* for every zone of the account) and {UPDATE}"
        ),
        _ if action == "logs:FilterLogEvents" => format!(
            "; it covers only the log groups FlowLogGroupNamePattern matches (default \
             /peerwire/flow-logs/*): set FlowLogGroupNamePattern to match the flow log's log \
             group and {UPDATE}"
        ),
        _ => format!("; {UPDATE}"),
    };
    format!(
        "{grant}{what}. If it is deployed so, a service control policy or a permissions \
         boundary denies {action}."
    )
}

/// The `ZoneAssociationVpcs` entry of a VPC, `<vpc-id>@<region>`, from its ARN
/// (`arn:<partition>:ec2:<region>:<account>:vpc/<vpc-id>`); `<vpc-id>@<region>` when the ARN is
/// not one.
fn zone_association_entry(vpc_arn: &str) -> String {
    let parts: Vec<&str> = vpc_arn.splitn(6, ':').collect();
    match (
        parts.get(3),
        parts.get(5).and_then(|r| r.strip_prefix("vpc/")),
    ) {
        (Some(region), Some(vpc)) if !region.is_empty() && !vpc.is_empty() => {
            format!("{vpc}@{region}")
        }
        _ => "<vpc-id>@<region>".to_owned(),
    }
}
