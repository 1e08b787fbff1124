//! Executes plan steps with the credentials of the side that owns each resource.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{
    AttributeBooleanValue, IpPermission, IpRange, Ipv6Range, PeeringConnectionOptionsRequest,
    PrefixListId, Tag, UserIdGroupPair,
};
use ipnet::IpNet;

use crate::aws::error::from_sdk;
use peerwire_core::error::{AwsError, AwsErrorKind, Error, Result};
use peerwire_core::model::{Direction, PeeringId, RulePeer, SecurityGroupId, Side, ROLLBACK_TAG};
use peerwire_core::plan::zones::zone_tag_key;
use peerwire_core::plan::{DnsAttribute, Ec2Action, Permission, ZoneAction};

/// Sets an IPv4 or IPv6 destination on a route request (CreateRoute, ReplaceRoute and
/// DeleteRoute builders are distinct types with the same setters) and sends it.
macro_rules! route_call {
    ($request:expr, $destination:expr, $operation:literal) => {{
        let request = match $destination {
            IpNet::V4(_) => $request.destination_cidr_block($destination.to_string()),
            IpNet::V6(_) => $request.destination_ipv6_cidr_block($destination.to_string()),
        };
        request
            .send()
            .await
            .map(drop)
            .map_err(|e| from_sdk($operation, e))
    }};
}

/// How a step ended, when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applied {
    Done,
    /// `RouteAlreadyExists`, `InvalidPermission.Duplicate`: converged (a concurrent run, or a
    /// person, got there first).
    AlreadyInPlace,
    /// A `*.NotFound` mid-run: the resource vanished after it was observed. The step is
    /// dropped; the next run re-observes and converges.
    Vanished {
        code: String,
    },
}

/// Executes `action` of a step of `side` through `ec2`, which must act as the account that
/// owns the resource. Transient and permanent errors are returned with their AWS code.
pub async fn execute(ec2: &aws_sdk_ec2::Client, side: Side, action: &Ec2Action) -> Result<Applied> {
    let result = match action {
        Ec2Action::AcceptPeering { peering_id, .. } => ec2
            .accept_vpc_peering_connection()
            .vpc_peering_connection_id(peering_id.as_str())
            .send()
            .await
            .map(drop)
            .map_err(|e| from_sdk("AcceptVpcPeeringConnection", e)),
        Ec2Action::RejectPeering { peering_id, .. } => ec2
            .reject_vpc_peering_connection()
            .vpc_peering_connection_id(peering_id.as_str())
            .send()
            .await
            .map(drop)
            .map_err(|e| from_sdk("RejectVpcPeeringConnection", e)),
        Ec2Action::CreateRoute {
            route_table_id,
            destination,
            peering_id,
        } => {
            let request = ec2
                .create_route()
                .route_table_id(route_table_id.as_str())
                .vpc_peering_connection_id(peering_id.as_str());
            route_call!(request, destination, "CreateRoute")
        }
        Ec2Action::ReplaceBlackholeRoute {
            route_table_id,
            destination,
            peering_id,
        } => {
            let request = ec2
                .replace_route()
                .route_table_id(route_table_id.as_str())
                .vpc_peering_connection_id(peering_id.as_str());
            route_call!(request, destination, "ReplaceRoute")
        }
        Ec2Action::Authorize {
            direction,
            group_id,
            permissions,
        } => return authorize(ec2, group_id, permissions, *direction).await,
        Ec2Action::SetDnsResolution { peering_id } => {
            let on = PeeringConnectionOptionsRequest::builder()
                .allow_dns_resolution_from_remote_vpc(true)
                .build();
            let request = ec2
                .modify_vpc_peering_connection_options()
                .vpc_peering_connection_id(peering_id.as_str());
            // AWS lets each owner set only its own side's option.
            let request = match side {
                Side::Requester => request.requester_peering_connection_options(on),
                Side::Accepter => request.accepter_peering_connection_options(on),
            };
            request
                .send()
                .await
                .map(drop)
                .map_err(|e| from_sdk("ModifyVpcPeeringConnectionOptions", e))
        }
        Ec2Action::EnableVpcDnsAttribute { vpc_id, attribute } => {
            // ModifyVpcAttribute takes exactly one attribute per call.
            let on = AttributeBooleanValue::builder().value(true).build();
            let request = ec2.modify_vpc_attribute().vpc_id(vpc_id.as_str());
            let request = match attribute {
                DnsAttribute::EnableDnsSupport => request.enable_dns_support(on),
                DnsAttribute::EnableDnsHostnames => request.enable_dns_hostnames(on),
            };
            request
                .send()
                .await
                .map(drop)
                .map_err(|e| from_sdk("ModifyVpcAttribute", e))
        }
        Ec2Action::DeleteRoute {
            route_table_id,
            destination,
            ..
        } => {
            let request = ec2.delete_route().route_table_id(route_table_id.as_str());
            route_call!(request, destination, "DeleteRoute")
        }
        Ec2Action::Revoke {
            direction,
            group_id,
            permissions,
        } => revoke(ec2, group_id, permissions, *direction).await,
        Ec2Action::Remark {
            direction,
            group_id,
            permissions,
        } => remark(ec2, group_id, permissions, *direction).await,
    };
    settle(result)
}

/// Executes a Route 53 action through `route53`, acting as the account of the step's side:
/// the zone owner for records and authorizations, the VPC owner for (dis)associations.
pub async fn execute_zone(
    route53: &aws_sdk_route53::Client,
    action: &ZoneAction,
) -> Result<Applied> {
    use aws_sdk_route53::types::{Tag, TagResourceType, Vpc, VpcRegion};
    let vpc = |vpc_id: &peerwire_core::model::VpcId, region: &peerwire_core::model::Region| {
        Vpc::builder()
            .vpc_id(vpc_id.as_str())
            .vpc_region(VpcRegion::from(region.as_str()))
            .build()
    };
    let result = match action {
        ZoneAction::Record {
            zone_id,
            vpc_id,
            peering_id,
        } => route53
            .change_tags_for_resource()
            .resource_type(TagResourceType::Hostedzone)
            .resource_id(zone_id.as_str())
            .add_tags(
                Tag::builder()
                    .key(zone_tag_key(vpc_id))
                    .value(peering_id.as_str())
                    .build(),
            )
            .send()
            .await
            .map(drop)
            .map_err(|e| from_sdk("ChangeTagsForResource", e)),
        ZoneAction::Forget { zone_id, vpc_id } => route53
            .change_tags_for_resource()
            .resource_type(TagResourceType::Hostedzone)
            .resource_id(zone_id.as_str())
            .remove_tag_keys(zone_tag_key(vpc_id))
            .send()
            .await
            .map(drop)
            .map_err(|e| from_sdk("ChangeTagsForResource", e)),
        ZoneAction::Authorize {
            zone_id,
            vpc_id,
            region,
        } => route53
            .create_vpc_association_authorization()
            .hosted_zone_id(zone_id.as_str())
            .vpc(vpc(vpc_id, region))
            .send()
            .await
            .map(drop)
            .map_err(|e| from_sdk("CreateVPCAssociationAuthorization", e)),
        ZoneAction::Associate {
            zone_id,
            vpc_id,
            region,
        } => route53
            .associate_vpc_with_hosted_zone()
            .hosted_zone_id(zone_id.as_str())
            .vpc(vpc(vpc_id, region))
            .comment("peerwire")
            .send()
            .await
            .map(drop)
            .map_err(|e| from_sdk("AssociateVPCWithHostedZone", e)),
        ZoneAction::DeleteAuthorization {
            zone_id,
            vpc_id,
            region,
        } => route53
            .delete_vpc_association_authorization()
            .hosted_zone_id(zone_id.as_str())
            .vpc(vpc(vpc_id, region))
            .send()
            .await
            .map(drop)
            .map_err(|e| from_sdk("DeleteVPCAssociationAuthorization", e)),
        ZoneAction::Disassociate {
            zone_id,
            vpc_id,
            region,
        } => route53
            .disassociate_vpc_from_hosted_zone()
            .hosted_zone_id(zone_id.as_str())
            .vpc(vpc(vpc_id, region))
            .comment("peerwire: the last peering that needed it is gone")
            .send()
            .await
            .map(drop)
            .map_err(|e| from_sdk("DisassociateVPCFromHostedZone", e)),
    };
    settle(result)
}

/// `CreateTags` of [`ROLLBACK_TAG`] on the accepter's view of a peering peerwire accepted and
/// must delete again, naming the `earlier` peering it collided with. Written before the
/// delete is attempted: the mark outlives this invocation, so the delete is finished by
/// whoever next sees the peering active, and nobody wires it meanwhile.
pub async fn mark_rollback(
    ec2: &aws_sdk_ec2::Client,
    peering_id: &PeeringId,
    earlier: &str,
) -> Result<Applied> {
    let result = ec2
        .create_tags()
        .resources(peering_id.as_str())
        .tags(Tag::builder().key(ROLLBACK_TAG).value(earlier).build())
        .send()
        .await
        .map(drop)
        .map_err(|e| from_sdk("CreateTags", e));
    settle(result)
}

/// `DeleteVpcPeeringConnection` by the accepter: only to roll back an accept that collided
/// with another one made at the same moment. Never used on a peering peerwire did not accept.
pub async fn delete_peering(ec2: &aws_sdk_ec2::Client, peering_id: &PeeringId) -> Result<Applied> {
    let result = ec2
        .delete_vpc_peering_connection()
        .vpc_peering_connection_id(peering_id.as_str())
        .send()
        .await
        .map(drop)
        .map_err(|e| from_sdk("DeleteVpcPeeringConnection", e));
    settle(result)
}

/// Maps "already there" and "gone" to outcomes; everything else stays an error.
fn settle(result: std::result::Result<(), AwsError>) -> Result<Applied> {
    match result {
        Ok(()) => Ok(Applied::Done),
        Err(err) if err.kind == AwsErrorKind::AlreadyExists => Ok(Applied::AlreadyInPlace),
        Err(err) if err.kind == AwsErrorKind::NotFound => Ok(Applied::Vanished {
            code: err.code.unwrap_or_default(),
        }),
        Err(err) => Err(Error::Aws(err)),
    }
}

/// One Revoke call for every permission of a group in `direction`.
async fn revoke(
    ec2: &aws_sdk_ec2::Client,
    group_id: &SecurityGroupId,
    permissions: &[Permission],
    direction: Direction,
) -> std::result::Result<(), AwsError> {
    let ip_permissions = Some(ip_permissions(permissions));
    match direction {
        Direction::Ingress => ec2
            .revoke_security_group_ingress()
            .group_id(group_id.as_str())
            .set_ip_permissions(ip_permissions)
            .send()
            .await
            .map(drop)
            .map_err(|e| from_sdk("RevokeSecurityGroupIngress", e)),
        Direction::Egress => ec2
            .revoke_security_group_egress()
            .group_id(group_id.as_str())
            .set_ip_permissions(ip_permissions)
            .send()
            .await
            .map(drop)
            .map_err(|e| from_sdk("RevokeSecurityGroupEgress", e)),
    }
}

/// One `UpdateSecurityGroupRuleDescriptions*` call giving every rule `permissions` name (by
/// protocol, port and peer, as AWS matches them) the permission's description.
async fn remark(
    ec2: &aws_sdk_ec2::Client,
    group_id: &SecurityGroupId,
    permissions: &[Permission],
    direction: Direction,
) -> std::result::Result<(), AwsError> {
    let ip_permissions = Some(ip_permissions(permissions));
    match direction {
        Direction::Ingress => ec2
            .update_security_group_rule_descriptions_ingress()
            .group_id(group_id.as_str())
            .set_ip_permissions(ip_permissions)
            .send()
            .await
            .map(drop)
            .map_err(|e| from_sdk("UpdateSecurityGroupRuleDescriptionsIngress", e)),
        Direction::Egress => ec2
            .update_security_group_rule_descriptions_egress()
            .group_id(group_id.as_str())
            .set_ip_permissions(ip_permissions)
            .send()
            .await
            .map(drop)
            .map_err(|e| from_sdk("UpdateSecurityGroupRuleDescriptionsEgress", e)),
    }
}

/// One Authorize call for every permission of a group. AWS refuses the whole batch when any
/// entry is a duplicate; then each permission is retried alone (rare: only after a race).
async fn authorize(
    ec2: &aws_sdk_ec2::Client,
    group_id: &SecurityGroupId,
    permissions: &[Permission],
    direction: Direction,
) -> Result<Applied> {
    let batch = authorize_call(ec2, group_id, permissions, direction).await;
    match settle(batch)? {
        Applied::AlreadyInPlace if permissions.len() > 1 => {
            let mut outcome = Applied::AlreadyInPlace;
            for permission in permissions {
                let single =
                    authorize_call(ec2, group_id, std::slice::from_ref(permission), direction)
                        .await;
                match settle(single)? {
                    Applied::Done => outcome = Applied::Done,
                    Applied::AlreadyInPlace => {}
                    vanished @ Applied::Vanished { .. } => return Ok(vanished),
                }
            }
            Ok(outcome)
        }
        other => Ok(other),
    }
}

async fn authorize_call(
    ec2: &aws_sdk_ec2::Client,
    group_id: &SecurityGroupId,
    permissions: &[Permission],
    direction: Direction,
) -> std::result::Result<(), AwsError> {
    let ip_permissions = ip_permissions(permissions);
    match direction {
        Direction::Ingress => ec2
            .authorize_security_group_ingress()
            .group_id(group_id.as_str())
            .set_ip_permissions(Some(ip_permissions))
            .send()
            .await
            .map(drop)
            .map_err(|e| from_sdk("AuthorizeSecurityGroupIngress", e)),
        Direction::Egress => ec2
            .authorize_security_group_egress()
            .group_id(group_id.as_str())
            .set_ip_permissions(Some(ip_permissions))
            .send()
            .await
            .map(drop)
            .map_err(|e| from_sdk("AuthorizeSecurityGroupEgress", e)),
    }
}

/// Groups permissions by port: one IpPermission per port with all its peers.
pub fn ip_permissions(permissions: &[Permission]) -> Vec<IpPermission> {
    let mut by_port: BTreeMap<u16, Vec<&Permission>> = BTreeMap::new();
    for permission in permissions {
        by_port.entry(permission.port).or_default().push(permission);
    }
    by_port
        .into_iter()
        .map(|(port, entries)| {
            let mut ip = IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(i32::from(port))
                .to_port(i32::from(port));
            for entry in entries {
                ip = match &entry.peer {
                    RulePeer::Cidr { cidr: IpNet::V4(_) } => ip.ip_ranges(
                        IpRange::builder()
                            .cidr_ip(peer_cidr(&entry.peer))
                            .description(&entry.description)
                            .build(),
                    ),
                    RulePeer::Cidr { cidr: IpNet::V6(_) } => ip.ipv6_ranges(
                        Ipv6Range::builder()
                            .cidr_ipv6(peer_cidr(&entry.peer))
                            .description(&entry.description)
                            .build(),
                    ),
                    RulePeer::PrefixList { prefix_list_id } => ip.prefix_list_ids(
                        PrefixListId::builder()
                            .prefix_list_id(prefix_list_id.as_str())
                            .description(&entry.description)
                            .build(),
                    ),
                    RulePeer::Group { account, group_id } => ip.user_id_group_pairs(
                        UserIdGroupPair::builder()
                            .set_user_id(account.as_ref().map(ToString::to_string))
                            .group_id(group_id.as_str())
                            .description(&entry.description)
                            .build(),
                    ),
                };
            }
            ip.build()
        })
        .collect()
}

fn peer_cidr(peer: &RulePeer) -> String {
    match peer {
        RulePeer::Cidr { cidr } => cidr.to_string(),
        RulePeer::Group { group_id, .. } => group_id.to_string(),
        RulePeer::PrefixList { prefix_list_id } => prefix_list_id.to_string(),
    }
}
