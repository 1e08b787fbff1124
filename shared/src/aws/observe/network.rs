//! One side's network: the VPC with its CIDRs, its route tables, subnets and DNS attributes,
//! and (with the security-group and RDS readers) everything the wiring plan needs.

use aws_sdk_ec2::types as ec2;

use super::rds::describe_db_instances;
use super::security_groups::{groups_by_id, groups_by_tags, selected};
use super::{filter, missing, parse_net, required_id, tags, PAGE, ROUTE_TABLE_PAGE};
use crate::aws::error::from_sdk;
use peerwire_core::error::{AwsError, AwsErrorKind, Error, Result};
use std::collections::BTreeMap;

use peerwire_core::model::{
    AccountId, PrefixListId, Route, RouteTable, RouteTarget, SideState, Subnet, TargetId, VpcId,
    VpcNetwork,
};
use peerwire_core::policy::SideWiring;

/// The VPC with its associated CIDRs and every route table of it: one `DescribeVpcs` and one
/// `DescribeRouteTables` filtered by `vpc-id` (paged), never one call per table. The two go
/// out together: neither needs the other's answer.
pub async fn describe_vpc_network(
    ec2: &aws_sdk_ec2::Client,
    account: &AccountId,
    vpc_id: &VpcId,
) -> Result<VpcNetwork> {
    let (cidrs, route_tables) = tokio::try_join!(
        Box::pin(vpc_cidrs(ec2, account, vpc_id)),
        Box::pin(route_tables(ec2, vpc_id))
    )?;
    Ok(VpcNetwork {
        account: account.clone(),
        vpc_id: vpc_id.clone(),
        cidrs,
        route_tables,
    })
}

/// The VPC whose CIDRs are already known (a request shows the requester's whole
/// `CidrBlockSet` and `Ipv6CidrBlockSet`) with every route table of it: one
/// `DescribeRouteTables` filtered by `vpc-id` (paged).
pub async fn describe_vpc_routes(
    ec2: &aws_sdk_ec2::Client,
    account: &AccountId,
    vpc_id: &VpcId,
    cidrs: Vec<ipnet::IpNet>,
) -> Result<VpcNetwork> {
    Ok(VpcNetwork {
        account: account.clone(),
        vpc_id: vpc_id.clone(),
        cidrs,
        route_tables: route_tables(ec2, vpc_id).await?,
    })
}

/// Every associated IPv4 and IPv6 CIDR of the VPC, primary first: one `DescribeVpcs`.
async fn vpc_cidrs(
    ec2: &aws_sdk_ec2::Client,
    account: &AccountId,
    vpc_id: &VpcId,
) -> Result<Vec<ipnet::IpNet>> {
    let vpcs = ec2
        .describe_vpcs()
        .vpc_ids(vpc_id.as_str())
        .send()
        .await
        .map_err(|e| from_sdk("DescribeVpcs", e))?;
    let vpc = vpcs
        .vpcs()
        .iter()
        .find(|vpc| vpc.vpc_id() == Some(vpc_id.as_str()))
        .ok_or_else(|| {
            Error::Aws(AwsError {
                operation: "DescribeVpcs",
                kind: AwsErrorKind::NotFound,
                code: Some("InvalidVpcID.NotFound".into()),
                message: Some(format!("VPC {vpc_id} is not visible to account {account}")),
            })
        })?;
    let mut cidrs = Vec::new();
    for assoc in vpc.cidr_block_association_set() {
        let associated = assoc
            .cidr_block_state()
            .and_then(|s| s.state())
            .is_none_or(|s| *s == ec2::VpcCidrBlockStateCode::Associated);
        if let (true, Some(block)) = (associated, assoc.cidr_block()) {
            cidrs.push(parse_net("DescribeVpcs", block)?);
        }
    }
    if cidrs.is_empty() {
        if let Some(block) = vpc.cidr_block() {
            cidrs.push(parse_net("DescribeVpcs", block)?);
        }
    }
    for assoc in vpc.ipv6_cidr_block_association_set() {
        let associated = assoc
            .ipv6_cidr_block_state()
            .and_then(|s| s.state())
            .is_none_or(|s| *s == ec2::VpcCidrBlockStateCode::Associated);
        if let (true, Some(block)) = (associated, assoc.ipv6_cidr_block()) {
            cidrs.push(parse_net("DescribeVpcs", block)?);
        }
    }
    Ok(cidrs)
}

/// Every route table of the VPC, sorted by id: `DescribeRouteTables` filtered by `vpc-id`.
async fn route_tables(ec2: &aws_sdk_ec2::Client, vpc_id: &VpcId) -> Result<Vec<RouteTable>> {
    const OP: &str = "DescribeRouteTables";
    let mut pages = ec2
        .describe_route_tables()
        .filters(filter("vpc-id", vpc_id.as_str()))
        .max_results(ROUTE_TABLE_PAGE)
        .into_paginator()
        .send();
    let mut route_tables = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| from_sdk(OP, e))?;
        for table in page.route_tables() {
            route_tables.push(route_table_from_sdk(table)?);
        }
    }
    route_tables.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(route_tables)
}

fn route_target(route: &ec2::Route) -> RouteTarget {
    if let Some(id) = route
        .vpc_peering_connection_id()
        .and_then(|id| id.parse().ok())
    {
        return RouteTarget::Peering(id);
    }
    if route.gateway_id() == Some("local") {
        return RouteTarget::Local;
    }
    let (kind, id): (fn(TargetId) -> RouteTarget, Option<&str>) =
        if let Some(id) = route.transit_gateway_id() {
            (RouteTarget::TransitGateway, Some(id))
        } else if let Some(id) = route.nat_gateway_id() {
            (RouteTarget::NatGateway, Some(id))
        } else if let Some(id) = route.gateway_id() {
            (RouteTarget::Gateway, Some(id))
        } else if let Some(id) = route.instance_id() {
            (RouteTarget::Instance, Some(id))
        } else if let Some(id) = route.network_interface_id() {
            (RouteTarget::NetworkInterface, Some(id))
        } else {
            let other = route
                .egress_only_internet_gateway_id()
                .or(route.local_gateway_id())
                .or(route.carrier_gateway_id())
                .or(route.core_network_arn());
            (RouteTarget::Other, other)
        };
    kind(
        id.and_then(|id| id.parse().ok())
            .unwrap_or_else(TargetId::unknown),
    )
}

/// A route table from `DescribeRouteTables`, with its routes to CIDR blocks and its routes to
/// managed prefix lists kept apart.
pub(super) fn route_table_from_sdk(table: &ec2::RouteTable) -> Result<RouteTable> {
    const OP: &str = "DescribeRouteTables";
    let id = required_id(OP, "RouteTableId", table.route_table_id())?;
    let mut main = false;
    let mut subnet_ids = Vec::new();
    for assoc in table.associations() {
        main |= assoc.main() == Some(true);
        if let Some(subnet) = assoc.subnet_id() {
            subnet_ids.push(required_id(OP, "Associations.SubnetId", Some(subnet))?);
        }
    }
    let mut routes = Vec::new();
    let mut prefix_list_routes = Vec::new();
    for route in table.routes() {
        let destination = match (
            route.destination_cidr_block(),
            route.destination_ipv6_cidr_block(),
            route.destination_prefix_list_id(),
        ) {
            (Some(v4), _, _) => parse_net(OP, v4)?,
            (None, Some(v6), _) => parse_net(OP, v6)?,
            (None, None, Some(list)) => {
                prefix_list_routes.push(required_id(OP, "DestinationPrefixListId", Some(list))?);
                continue;
            }
            (None, None, None) => return Err(missing(OP, "Routes.DestinationCidrBlock")),
        };
        routes.push(Route {
            destination,
            target: route_target(route),
            blackhole: route.state() == Some(&ec2::RouteState::Blackhole),
            propagated: route.origin() == Some(&ec2::RouteOrigin::EnableVgwRoutePropagation),
        });
    }
    Ok(RouteTable {
        id,
        main,
        subnet_ids,
        routes,
        prefix_list_routes,
    })
}

/// Whether a side's subnets are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubnetReads {
    /// Always (diagnose names subnets, their ACLs and flows).
    Always,
    /// Only when the scope selects subnets: with every subnet in scope, the tables in scope
    /// are the main table and every table a subnet is associated with, which the route tables
    /// already show.
    WhenSelected,
}

/// Reads one side for wiring: the VPC and its route tables, subnets, DNS attributes, the DB
/// instances the policy names, and the security groups it selects (by id, by tag, and the
/// groups of those DB instances).
///
/// Calls: `DescribeVpcs`, `DescribeRouteTables`, `DescribeSubnets` (unless skipped, see
/// [`SubnetReads`]), 2 × `DescribeVpcAttribute` (AWS returns one attribute per call),
/// `DescribeDBInstances` only when DB instances are named, and one `DescribeSecurityGroups`
/// per kind of selector in use (ids, tags). They all go out at once, except the groups of the
/// DB instances, which wait for the instances.
///
/// `known`: the VPC and its route tables as this run already read them (a decision reads both
/// VPCs before the same run wires the peering it accepted); then neither is read again.
pub async fn describe_side(
    ec2: &aws_sdk_ec2::Client,
    rds: &aws_sdk_rds::Client,
    account: &AccountId,
    vpc_id: &VpcId,
    scope: &SideWiring,
    subnet_reads: SubnetReads,
    known: Option<VpcNetwork>,
) -> Result<SideState> {
    let network = async {
        match known {
            Some(network) => Ok(network),
            None => describe_vpc_network(ec2, account, vpc_id).await,
        }
    };
    let read_subnets = match subnet_reads {
        SubnetReads::Always => true,
        SubnetReads::WhenSelected => !scope.all_subnets(),
    };
    let subnets = async {
        if read_subnets {
            describe_subnets(ec2, vpc_id).await
        } else {
            Ok(Vec::new())
        }
    };
    // Ordering: the groups of named DB instances are known only from the instances.
    let databases = async {
        let db_instances = describe_db_instances(rds, vpc_id, &scope.db_instances).await?;
        let by_id = groups_by_id(ec2, vpc_id, scope, &db_instances).await?;
        Ok::<_, Error>((db_instances, by_id))
    };
    // Boxed: SDK request futures are large, and six of them side by side are larger.
    let (network, subnets, dns_support, dns_hostnames, by_tags, (db_instances, by_id)) = tokio::try_join!(
        Box::pin(network),
        Box::pin(subnets),
        Box::pin(vpc_attribute(
            ec2,
            vpc_id,
            ec2::VpcAttributeName::EnableDnsSupport
        )),
        Box::pin(vpc_attribute(
            ec2,
            vpc_id,
            ec2::VpcAttributeName::EnableDnsHostnames
        )),
        Box::pin(groups_by_tags(ec2, vpc_id, scope)),
        Box::pin(databases),
    )?;
    let security_groups = selected(by_id, by_tags);
    Ok(SideState {
        network,
        subnets,
        security_groups,
        dns_support,
        dns_hostnames,
        db_instances,
        quotas: None,
        hosted_zones: Vec::new(),
    })
}

async fn describe_subnets(ec2: &aws_sdk_ec2::Client, vpc_id: &VpcId) -> Result<Vec<Subnet>> {
    const OP: &str = "DescribeSubnets";
    let mut pages = ec2
        .describe_subnets()
        .filters(filter("vpc-id", vpc_id.as_str()))
        .max_results(PAGE)
        .into_paginator()
        .send();
    let mut subnets = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| from_sdk(OP, e))?;
        for subnet in page.subnets() {
            subnets.push(Subnet {
                id: required_id(OP, "SubnetId", subnet.subnet_id())?,
                availability_zone: subnet.availability_zone().unwrap_or_default().to_owned(),
                cidr: subnet.cidr_block().map(|c| parse_net(OP, c)).transpose()?,
                tags: tags(subnet.tags()),
            });
        }
    }
    subnets.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(subnets)
}

async fn vpc_attribute(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &VpcId,
    attribute: ec2::VpcAttributeName,
) -> Result<bool> {
    let response = ec2
        .describe_vpc_attribute()
        .vpc_id(vpc_id.as_str())
        .attribute(attribute.clone())
        .send()
        .await
        .map_err(|e| from_sdk("DescribeVpcAttribute", e))?;
    let value = match attribute {
        ec2::VpcAttributeName::EnableDnsSupport => response.enable_dns_support(),
        _ => response.enable_dns_hostnames(),
    };
    Ok(value.and_then(|v| v.value()).unwrap_or(false))
}

/// The maximum entries of each managed prefix list in `ids`: one filtered, paged
/// `DescribeManagedPrefixLists`. AWS counts a route to a prefix list at that size.
pub async fn prefix_list_sizes(
    ec2: &aws_sdk_ec2::Client,
    ids: &[PrefixListId],
) -> Result<BTreeMap<PrefixListId, u32>> {
    const OP: &str = "DescribeManagedPrefixLists";
    let mut sizes = BTreeMap::new();
    if ids.is_empty() {
        return Ok(sizes);
    }
    let mut pages = ec2
        .describe_managed_prefix_lists()
        .filters(super::filter_any(
            "prefix-list-id",
            ids.iter().map(ToString::to_string),
        ))
        .max_results(100)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| from_sdk(OP, e))?;
        for list in page.prefix_lists() {
            let id = required_id(OP, "PrefixListId", list.prefix_list_id())?;
            let entries = list
                .max_entries()
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(1);
            sizes.insert(id, entries);
        }
    }
    Ok(sizes)
}
