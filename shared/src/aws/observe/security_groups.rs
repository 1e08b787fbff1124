//! `DescribeSecurityGroups`: the groups a policy selects on one side, read into the model.

use aws_sdk_ec2::operation::describe_security_groups::builders::DescribeSecurityGroupsFluentBuilder;
use aws_sdk_ec2::types as ec2;

use super::{filter, filter_any, parse_net, required_id, tags, PAGE};
use crate::aws::error::from_sdk;
use peerwire_core::error::Result;
use peerwire_core::model::{DbInstance, RulePeer, SecurityGroup, SgRule, VpcId};
use peerwire_core::policy::SideWiring;

const OP: &str = "DescribeSecurityGroups";

/// The groups the scope selects by id (and the groups of the DB instances named): one
/// `DescribeSecurityGroups` filtered by `vpc-id` and `group-id`, none when no id is named.
pub(super) async fn groups_by_id(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &VpcId,
    scope: &SideWiring,
    db_instances: &[DbInstance],
) -> Result<Vec<SecurityGroup>> {
    let mut group_ids: Vec<&str> = scope
        .security_group_ids
        .iter()
        .chain(db_instances.iter().flat_map(|db| &db.security_group_ids))
        .map(|id| id.as_str())
        .collect();
    group_ids.sort_unstable();
    group_ids.dedup();
    if group_ids.is_empty() {
        return Ok(Vec::new());
    }
    let request = ec2
        .describe_security_groups()
        .filters(filter("vpc-id", vpc_id.as_str()))
        .filters(filter_any("group-id", group_ids));
    groups(request).await
}

/// The groups the scope selects by tags: one `DescribeSecurityGroups` filtered by `vpc-id` and
/// every tag (AWS ANDs filters), none without a tag selector.
pub(super) async fn groups_by_tags(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &VpcId,
    scope: &SideWiring,
) -> Result<Vec<SecurityGroup>> {
    if scope.security_group_tags.is_empty() {
        return Ok(Vec::new());
    }
    let mut request = ec2
        .describe_security_groups()
        .filters(filter("vpc-id", vpc_id.as_str()));
    for (key, value) in &scope.security_group_tags {
        request = request.filters(filter(&format!("tag:{key}"), value.clone()));
    }
    groups(request).await
}

/// The union of the groups selected by id and by tags, each once, sorted by id.
pub(super) fn selected(
    mut by_id: Vec<SecurityGroup>,
    by_tags: Vec<SecurityGroup>,
) -> Vec<SecurityGroup> {
    for group in by_tags {
        if !by_id.iter().any(|g| g.id == group.id) {
            by_id.push(group);
        }
    }
    by_id.sort_by(|a, b| a.id.cmp(&b.id));
    by_id
}

/// Every page of a security-group describe.
pub(super) async fn groups(
    request: DescribeSecurityGroupsFluentBuilder,
) -> Result<Vec<SecurityGroup>> {
    let mut pages = request.max_results(PAGE).into_paginator().send();
    let mut groups = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| from_sdk(OP, e))?;
        for group in page.security_groups() {
            groups.push(SecurityGroup {
                id: required_id(OP, "GroupId", group.group_id())?,
                name: group.group_name().unwrap_or_default().to_owned(),
                tags: tags(group.tags()),
                ingress: sg_rules(group.ip_permissions())?,
                egress: sg_rules(group.ip_permissions_egress())?,
            });
        }
    }
    Ok(groups)
}

/// Flattens IpPermissions into one rule per peer.
fn sg_rules(permissions: &[ec2::IpPermission]) -> Result<Vec<SgRule>> {
    let mut rules = Vec::new();
    for permission in permissions {
        let protocol = permission
            .ip_protocol()
            .unwrap_or("-1")
            .to_ascii_lowercase();
        let rule = |peer: RulePeer, description: Option<&str>| SgRule {
            protocol: protocol.clone(),
            from_port: permission.from_port(),
            to_port: permission.to_port(),
            peer,
            description: description.map(str::to_owned),
        };
        for range in permission.ip_ranges() {
            if let Some(cidr) = range.cidr_ip() {
                let cidr = parse_net(OP, cidr)?;
                rules.push(rule(RulePeer::Cidr { cidr }, range.description()));
            }
        }
        for range in permission.ipv6_ranges() {
            if let Some(cidr) = range.cidr_ipv6() {
                let cidr = parse_net(OP, cidr)?;
                rules.push(rule(RulePeer::Cidr { cidr }, range.description()));
            }
        }
        for pair in permission.user_id_group_pairs() {
            if let Some(group_id) = pair.group_id() {
                let peer = RulePeer::Group {
                    account: pair.user_id().and_then(|a| a.parse().ok()),
                    group_id: required_id(OP, "UserIdGroupPairs.GroupId", Some(group_id))?,
                };
                rules.push(rule(peer, pair.description()));
            }
        }
        for list in permission.prefix_list_ids() {
            if let Some(id) = list.prefix_list_id() {
                let peer = RulePeer::PrefixList {
                    prefix_list_id: required_id(OP, "PrefixListIds.PrefixListId", Some(id))?,
                };
                rules.push(rule(peer, list.description()));
            }
        }
    }
    Ok(rules)
}
