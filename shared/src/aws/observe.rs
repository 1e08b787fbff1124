//! Reads one side of a peering into the plain model, in as few calls as the API allows.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{self as ec2, Filter};
use ipnet::IpNet;

use crate::error::{AwsError, AwsErrorKind, Error, Result};
use crate::model::{
    Peering, PeeringSide, PeeringStatus, Route, RouteTable, RouteTarget, VpcNetwork,
};

/// `DescribeVpcPeeringConnections` pages hold 5 to 1000 results.
const PEERING_PAGE: i32 = 1000;
/// `DescribeRouteTables` pages hold 5 to 100 results.
const ROUTE_TABLE_PAGE: i32 = 100;

fn filter(name: &str, value: impl Into<String>) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// Re-reads one peering by ID. `None` when AWS no longer knows it (`*.NotFound`, or an empty
/// answer); AWS keeps deleted peerings visible for about 2 hours, so `None` is rare.
pub async fn describe_peering(
    ec2: &aws_sdk_ec2::Client,
    peering_id: &str,
) -> Result<Option<Peering>> {
    const OP: &str = "DescribeVpcPeeringConnections";
    let response = ec2
        .describe_vpc_peering_connections()
        .vpc_peering_connection_ids(peering_id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(OP, e));
    let response = match response {
        Ok(response) => response,
        Err(err) if err.kind == AwsErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err.into()),
    };
    response
        .vpc_peering_connections()
        .iter()
        .find(|pcx| pcx.vpc_peering_connection_id() == Some(peering_id))
        .map(peering_from_sdk)
        .transpose()
}

/// Every `pending-acceptance` request whose accepter is `accepter_account`, filtered and paged
/// server side.
pub async fn pending_requests(
    ec2: &aws_sdk_ec2::Client,
    accepter_account: &str,
) -> Result<Vec<Peering>> {
    peerings_in_status(ec2, accepter_account, &["pending-acceptance"]).await
}

/// Every peering in one of `statuses` (AWS status codes) whose accepter is `accepter_account`,
/// filtered and paged server side.
pub async fn peerings_in_status(
    ec2: &aws_sdk_ec2::Client,
    accepter_account: &str,
    statuses: &[&str],
) -> Result<Vec<Peering>> {
    let statuses = statuses.iter().map(|s| s.to_string()).collect();
    let filters = vec![
        Filter::builder()
            .name("status-code")
            .set_values(Some(statuses))
            .build(),
        filter("accepter-vpc-info.owner-id", accepter_account),
    ];
    peerings_where(ec2, filters).await
}

/// The VPC with its associated CIDRs and every route table of it: one `DescribeVpcs` and one
/// `DescribeRouteTables` filtered by `vpc-id` (paged), never one call per table.
pub async fn describe_vpc_network(
    ec2: &aws_sdk_ec2::Client,
    account: &str,
    vpc_id: &str,
) -> Result<VpcNetwork> {
    let vpcs = ec2
        .describe_vpcs()
        .vpc_ids(vpc_id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeVpcs", e))?;
    let vpc = vpcs
        .vpcs()
        .iter()
        .find(|vpc| vpc.vpc_id() == Some(vpc_id))
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

    const OP: &str = "DescribeRouteTables";
    let mut pages = ec2
        .describe_route_tables()
        .filters(filter("vpc-id", vpc_id))
        .max_results(ROUTE_TABLE_PAGE)
        .into_paginator()
        .send();
    let mut route_tables = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk(OP, e))?;
        for table in page.route_tables() {
            route_tables.push(route_table_from_sdk(table)?);
        }
    }
    route_tables.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(VpcNetwork {
        account: account.to_owned(),
        vpc_id: vpc_id.to_owned(),
        cidrs,
        route_tables,
    })
}

fn parse_net(operation: &'static str, text: &str) -> Result<IpNet> {
    text.parse::<IpNet>()
        .map(|net| net.trunc())
        .map_err(|e| Error::Response {
            operation,
            detail: format!("`{text}` is not a CIDR block: {e}"),
        })
}

fn missing(operation: &'static str, field: &str) -> Error {
    Error::Response {
        operation,
        detail: format!("{field} is missing"),
    }
}

fn side_from_sdk(
    info: Option<&ec2::VpcPeeringConnectionVpcInfo>,
    which: &str,
) -> Result<PeeringSide> {
    const OP: &str = "DescribeVpcPeeringConnections";
    let info = info.ok_or_else(|| missing(OP, &format!("{which}VpcInfo")))?;
    let mut cidrs = Vec::new();
    for block in info.cidr_block_set().iter().filter_map(|b| b.cidr_block()) {
        cidrs.push(parse_net(OP, block)?);
    }
    if let Some(primary) = info.cidr_block() {
        let primary = parse_net(OP, primary)?;
        if !cidrs.contains(&primary) {
            cidrs.insert(0, primary);
        }
    }
    for block in info
        .ipv6_cidr_block_set()
        .iter()
        .filter_map(|b| b.ipv6_cidr_block())
    {
        cidrs.push(parse_net(OP, block)?);
    }
    Ok(PeeringSide {
        account: info
            .owner_id()
            .ok_or_else(|| missing(OP, &format!("{which}VpcInfo.OwnerId")))?
            .to_owned(),
        vpc_id: info
            .vpc_id()
            .ok_or_else(|| missing(OP, &format!("{which}VpcInfo.VpcId")))?
            .to_owned(),
        region: info.region().unwrap_or_default().to_owned(),
        cidrs,
        allow_dns_resolution_from_remote_vpc: info
            .peering_options()
            .and_then(|o| o.allow_dns_resolution_from_remote_vpc())
            .unwrap_or(false),
    })
}

fn peering_from_sdk(pcx: &ec2::VpcPeeringConnection) -> Result<Peering> {
    const OP: &str = "DescribeVpcPeeringConnections";
    let id = pcx
        .vpc_peering_connection_id()
        .ok_or_else(|| missing(OP, "VpcPeeringConnectionId"))?;
    let status = pcx.status();
    let code = status
        .and_then(|s| s.code())
        .map(|c| c.as_str())
        .ok_or_else(|| missing(OP, "Status.Code"))?;
    let tags: BTreeMap<String, String> = pcx
        .tags()
        .iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect();
    Ok(Peering {
        id: id.to_owned(),
        status: PeeringStatus::from_code(code),
        status_message: status.and_then(|s| s.message()).map(str::to_owned),
        requester: side_from_sdk(pcx.requester_vpc_info(), "Requester")?,
        accepter: side_from_sdk(pcx.accepter_vpc_info(), "Accepter")?,
        tags,
    })
}

fn route_target(route: &ec2::Route) -> RouteTarget {
    let owned = |id: &str| id.to_owned();
    if let Some(id) = route.vpc_peering_connection_id() {
        RouteTarget::Peering(owned(id))
    } else if let Some(id) = route.transit_gateway_id() {
        RouteTarget::TransitGateway(owned(id))
    } else if let Some(id) = route.nat_gateway_id() {
        RouteTarget::NatGateway(owned(id))
    } else if let Some(id) = route.gateway_id() {
        if id == "local" {
            RouteTarget::Local
        } else {
            RouteTarget::Gateway(owned(id))
        }
    } else if let Some(id) = route.instance_id() {
        RouteTarget::Instance(owned(id))
    } else if let Some(id) = route.network_interface_id() {
        RouteTarget::NetworkInterface(owned(id))
    } else {
        let other = route
            .egress_only_internet_gateway_id()
            .or(route.local_gateway_id())
            .or(route.carrier_gateway_id())
            .or(route.core_network_arn())
            .unwrap_or("unknown");
        RouteTarget::Other(owned(other))
    }
}

fn route_table_from_sdk(table: &ec2::RouteTable) -> Result<RouteTable> {
    const OP: &str = "DescribeRouteTables";
    let id = table
        .route_table_id()
        .ok_or_else(|| missing(OP, "RouteTableId"))?;
    let mut main = false;
    let mut subnet_ids = Vec::new();
    for assoc in table.associations() {
        main |= assoc.main() == Some(true);
        if let Some(subnet) = assoc.subnet_id() {
            subnet_ids.push(subnet.to_owned());
        }
    }
    let mut routes = Vec::new();
    for route in table.routes() {
        let destination = match (
            route.destination_cidr_block(),
            route.destination_ipv6_cidr_block(),
        ) {
            (Some(v4), _) => parse_net(OP, v4)?,
            (None, Some(v6)) => parse_net(OP, v6)?,
            // Prefix-list destinations: not peerwire's, and their CIDRs need another call.
            (None, None) => continue,
        };
        routes.push(Route {
            destination,
            target: route_target(route),
            blackhole: route.state() == Some(&ec2::RouteState::Blackhole),
        });
    }
    Ok(RouteTable {
        id: id.to_owned(),
        main,
        subnet_ids,
        routes,
    })
}

/// `DescribeSubnets` and `DescribeSecurityGroups` pages hold 5 to 1000 results.
const PAGE: i32 = 1000;

/// Reads one side for wiring: the VPC and its route tables, subnets, DNS attributes, the DB
/// instances the policy names, and the security groups it selects (by id, by tag, and the
/// groups of those DB instances).
///
/// Calls: `DescribeVpcs`, `DescribeRouteTables`, `DescribeSubnets`, 2 × `DescribeVpcAttribute`
/// (AWS returns one attribute per call), `DescribeDBInstances` only when DB instances are
/// named, and one `DescribeSecurityGroups` per kind of selector in use (ids, tags).
pub async fn describe_side(
    ec2: &aws_sdk_ec2::Client,
    rds: &aws_sdk_rds::Client,
    account: &str,
    vpc_id: &str,
    scope: &crate::policy::SideWiring,
) -> Result<crate::model::SideState> {
    let network = describe_vpc_network(ec2, account, vpc_id).await?;
    let subnets = describe_subnets(ec2, vpc_id).await?;
    let dns_support = vpc_attribute(ec2, vpc_id, ec2::VpcAttributeName::EnableDnsSupport).await?;
    let dns_hostnames =
        vpc_attribute(ec2, vpc_id, ec2::VpcAttributeName::EnableDnsHostnames).await?;
    let db_instances = describe_db_instances(rds, vpc_id, &scope.db_instances).await?;

    let mut group_ids: Vec<String> = scope.security_group_ids.clone();
    group_ids.extend(
        db_instances
            .iter()
            .flat_map(|db| db.security_group_ids.iter().cloned()),
    );
    group_ids.sort();
    group_ids.dedup();
    let mut security_groups = Vec::new();
    if !group_ids.is_empty() {
        let request = ec2
            .describe_security_groups()
            .filters(filter("vpc-id", vpc_id))
            .filters(
                Filter::builder()
                    .name("group-id")
                    .set_values(Some(group_ids))
                    .build(),
            );
        security_groups.extend(security_groups_pages(request).await?);
    }
    if !scope.security_group_tags.is_empty() {
        let mut request = ec2
            .describe_security_groups()
            .filters(filter("vpc-id", vpc_id));
        for (key, value) in &scope.security_group_tags {
            request = request.filters(filter(&format!("tag:{key}"), value.clone()));
        }
        for group in security_groups_pages(request).await? {
            if !security_groups
                .iter()
                .any(|g: &crate::model::SecurityGroup| g.id == group.id)
            {
                security_groups.push(group);
            }
        }
    }
    security_groups.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(crate::model::SideState {
        network,
        subnets,
        security_groups,
        dns_support,
        dns_hostnames,
        db_instances,
    })
}

async fn describe_subnets(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &str,
) -> Result<Vec<crate::model::Subnet>> {
    const OP: &str = "DescribeSubnets";
    let mut pages = ec2
        .describe_subnets()
        .filters(filter("vpc-id", vpc_id))
        .max_results(PAGE)
        .into_paginator()
        .send();
    let mut subnets = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk(OP, e))?;
        for subnet in page.subnets() {
            subnets.push(crate::model::Subnet {
                id: subnet
                    .subnet_id()
                    .ok_or_else(|| missing(OP, "SubnetId"))?
                    .to_owned(),
                availability_zone: subnet.availability_zone().unwrap_or_default().to_owned(),
                cidr: subnet.cidr_block().map(|c| parse_net(OP, c)).transpose()?,
                tags: tags(subnet.tags()),
            });
        }
    }
    subnets.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(subnets)
}

fn tags(tags: &[ec2::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

async fn vpc_attribute(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &str,
    attribute: ec2::VpcAttributeName,
) -> Result<bool> {
    let response = ec2
        .describe_vpc_attribute()
        .vpc_id(vpc_id)
        .attribute(attribute.clone())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeVpcAttribute", e))?;
    let value = match attribute {
        ec2::VpcAttributeName::EnableDnsSupport => response.enable_dns_support(),
        _ => response.enable_dns_hostnames(),
    };
    Ok(value.and_then(|v| v.value()).unwrap_or(false))
}

async fn security_groups_pages(
    request: aws_sdk_ec2::operation::describe_security_groups::builders::DescribeSecurityGroupsFluentBuilder,
) -> Result<Vec<crate::model::SecurityGroup>> {
    const OP: &str = "DescribeSecurityGroups";
    let mut pages = request.max_results(PAGE).into_paginator().send();
    let mut groups = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk(OP, e))?;
        for group in page.security_groups() {
            groups.push(crate::model::SecurityGroup {
                id: group
                    .group_id()
                    .ok_or_else(|| missing(OP, "GroupId"))?
                    .to_owned(),
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
fn sg_rules(permissions: &[ec2::IpPermission]) -> Result<Vec<crate::model::SgRule>> {
    use crate::model::{RulePeer, SgRule};
    const OP: &str = "DescribeSecurityGroups";
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
                rules.push(rule(
                    RulePeer::Cidr {
                        cidr: parse_net(OP, cidr)?,
                    },
                    range.description(),
                ));
            }
        }
        for range in permission.ipv6_ranges() {
            if let Some(cidr) = range.cidr_ipv6() {
                rules.push(rule(
                    RulePeer::Cidr {
                        cidr: parse_net(OP, cidr)?,
                    },
                    range.description(),
                ));
            }
        }
        for pair in permission.user_id_group_pairs() {
            if let Some(group_id) = pair.group_id() {
                rules.push(rule(
                    RulePeer::Group {
                        account: pair.user_id().map(str::to_owned),
                        group_id: group_id.to_owned(),
                    },
                    pair.description(),
                ));
            }
        }
    }
    Ok(rules)
}

/// The named DB instances that live in `vpc_id`, with every subnet of their DB subnet group.
/// One `DescribeDBInstances` call filtered by identifier (AWS: up to 100 filter values).
async fn describe_db_instances(
    rds: &aws_sdk_rds::Client,
    vpc_id: &str,
    identifiers: &[String],
) -> Result<Vec<crate::model::DbInstance>> {
    const OP: &str = "DescribeDBInstances";
    if identifiers.is_empty() {
        return Ok(Vec::new());
    }
    let response = rds
        .describe_db_instances()
        .filters(
            aws_sdk_rds::types::Filter::builder()
                .name("db-instance-id")
                .set_values(Some(identifiers.to_vec()))
                .build(),
        )
        .send()
        .await;
    let response = match response {
        Ok(response) => response,
        Err(err) => {
            let err = AwsError::from_sdk(OP, err);
            if err.kind == AwsErrorKind::NotFound {
                return Ok(Vec::new());
            }
            return Err(err.into());
        }
    };
    let mut instances = Vec::new();
    for db in response.db_instances() {
        let Some(group) = db.db_subnet_group() else {
            continue;
        };
        if group.vpc_id() != Some(vpc_id) {
            continue;
        }
        let mut subnet_ids: Vec<String> = group
            .subnets()
            .iter()
            .filter_map(|s| s.subnet_identifier().map(str::to_owned))
            .collect();
        subnet_ids.sort();
        instances.push(crate::model::DbInstance {
            id: db.db_instance_identifier().unwrap_or_default().to_owned(),
            port: db
                .endpoint()
                .and_then(|e| e.port())
                .or(db.db_instance_port()),
            availability_zone: db.availability_zone().map(str::to_owned),
            subnet_ids,
            security_group_ids: db
                .vpc_security_groups()
                .iter()
                .filter_map(|g| g.vpc_security_group_id().map(str::to_owned))
                .collect(),
        });
    }
    Ok(instances)
}

/// The VPC of a route table; `None` when it no longer exists.
pub async fn route_table_vpc(
    ec2: &aws_sdk_ec2::Client,
    route_table_id: &str,
) -> Result<Option<String>> {
    let response = ec2
        .describe_route_tables()
        .filters(filter("route-table-id", route_table_id))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeRouteTables", e))?;
    Ok(response
        .route_tables()
        .first()
        .and_then(|t| t.vpc_id())
        .map(str::to_owned))
}

/// The VPC of a security group; `None` when it no longer exists.
pub async fn security_group_vpc(
    ec2: &aws_sdk_ec2::Client,
    group_id: &str,
) -> Result<Option<String>> {
    let response = ec2
        .describe_security_groups()
        .filters(filter("group-id", group_id))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeSecurityGroups", e))?;
    Ok(response
        .security_groups()
        .first()
        .and_then(|g| g.vpc_id())
        .map(str::to_owned))
}

async fn peerings_where(ec2: &aws_sdk_ec2::Client, filters: Vec<Filter>) -> Result<Vec<Peering>> {
    const OP: &str = "DescribeVpcPeeringConnections";
    let mut pages = ec2
        .describe_vpc_peering_connections()
        .set_filters(Some(filters))
        .max_results(PEERING_PAGE)
        .into_paginator()
        .send();
    let mut peerings = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk(OP, e))?;
        for pcx in page.vpc_peering_connections() {
            peerings.push(peering_from_sdk(pcx)?);
        }
    }
    Ok(peerings)
}

/// Active peerings with `vpc_id` on either side: one filtered describe per side (AWS ANDs
/// filters, so "requester or accepter" takes two calls).
pub async fn active_peerings_of_vpc(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &str,
) -> Result<Vec<Peering>> {
    active_peerings_where(ec2, "vpc-id", vpc_id).await
}

/// Active peerings with `account` on either side, in two filtered describes.
pub async fn active_peerings_of_account(
    ec2: &aws_sdk_ec2::Client,
    account: &str,
) -> Result<Vec<Peering>> {
    active_peerings_where(ec2, "owner-id", account).await
}

/// Active peerings whose requester or accepter `<key>` (`vpc-id`, `owner-id`) is `value`.
async fn active_peerings_where(
    ec2: &aws_sdk_ec2::Client,
    key: &str,
    value: &str,
) -> Result<Vec<Peering>> {
    let mut peerings: Vec<Peering> = Vec::new();
    for side in ["requester-vpc-info", "accepter-vpc-info"] {
        let filters = vec![
            filter("status-code", "active"),
            filter(&format!("{side}.{key}"), value),
        ];
        for peering in peerings_where(ec2, filters).await? {
            if !peerings.iter().any(|p| p.id == peering.id) {
                peerings.push(peering);
            }
        }
    }
    Ok(peerings)
}

fn rds_not_found(err: &AwsError) -> bool {
    err.kind == AwsErrorKind::NotFound
}

/// The VPC of a DB instance, through its DB subnet group; `None` when it no longer exists.
pub async fn db_instance_vpc(
    rds: &aws_sdk_rds::Client,
    identifier: &str,
) -> Result<Option<String>> {
    let response = rds
        .describe_db_instances()
        .db_instance_identifier(identifier)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeDBInstances", e));
    match response {
        Ok(response) => Ok(response
            .db_instances()
            .first()
            .and_then(|db| db.db_subnet_group())
            .and_then(|g| g.vpc_id())
            .map(str::to_owned)),
        Err(err) if rds_not_found(&err) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// The VPC of a DB cluster, through its DB subnet group; `None` when it no longer exists.
pub async fn db_cluster_vpc(rds: &aws_sdk_rds::Client, identifier: &str) -> Result<Option<String>> {
    let response = rds
        .describe_db_clusters()
        .db_cluster_identifier(identifier)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeDBClusters", e));
    let group = match response {
        Ok(response) => response
            .db_clusters()
            .first()
            .and_then(|c| c.db_subnet_group())
            .map(str::to_owned),
        Err(err) if rds_not_found(&err) => None,
        Err(err) => return Err(err.into()),
    };
    let Some(group) = group else {
        return Ok(None);
    };
    let response = rds
        .describe_db_subnet_groups()
        .db_subnet_group_name(&group)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeDBSubnetGroups", e));
    match response {
        Ok(response) => Ok(response
            .db_subnet_groups()
            .first()
            .and_then(|g| g.vpc_id())
            .map(str::to_owned)),
        Err(err) if rds_not_found(&err) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// What cleanup needs in one account: every route table with a route through `peering_id`
/// (one account-wide filtered describe, so it works even after AWS forgot the peering), and
/// the security groups of those tables' VPCs and of `vpc_id` (one describe filtered by VPC).
pub async fn cleanup_view(
    ec2: &aws_sdk_ec2::Client,
    peering_id: &str,
    vpc_id: Option<&str>,
) -> Result<crate::cleanup::CleanupView> {
    const OP: &str = "DescribeRouteTables";
    let mut pages = ec2
        .describe_route_tables()
        .filters(filter("route.vpc-peering-connection-id", peering_id))
        .max_results(ROUTE_TABLE_PAGE)
        .into_paginator()
        .send();
    let mut vpcs: Vec<String> = vpc_id.into_iter().map(str::to_owned).collect();
    let mut route_tables = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk(OP, e))?;
        for table in page.route_tables() {
            if let Some(vpc) = table.vpc_id() {
                if !vpcs.iter().any(|v| v == vpc) {
                    vpcs.push(vpc.to_owned());
                }
            }
            route_tables.push(route_table_from_sdk(table)?);
        }
    }
    let security_groups = if vpcs.is_empty() {
        Vec::new()
    } else {
        let request = ec2.describe_security_groups().filters(
            Filter::builder()
                .name("vpc-id")
                .set_values(Some(vpcs))
                .build(),
        );
        security_groups_pages(request).await?
    };
    Ok(crate::cleanup::CleanupView {
        route_tables,
        security_groups,
    })
}
