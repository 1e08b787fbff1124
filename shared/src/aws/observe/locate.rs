//! Which VPC a changed resource belongs to, so that a drift event can be turned into the
//! peerings to re-check. A resource that no longer exists locates nothing (`None`): its
//! deletion is someone else's event.

use super::filter;
use crate::aws::error::from_sdk;
use peerwire_core::error::{AwsError, AwsErrorKind, Result};
use peerwire_core::model::{DbIdentifier, RouteTableId, SecurityGroupId, VpcId};

/// The VPC of a route table.
pub async fn route_table_vpc(
    ec2: &aws_sdk_ec2::Client,
    route_table_id: &RouteTableId,
) -> Result<Option<VpcId>> {
    let response = ec2
        .describe_route_tables()
        .filters(filter("route-table-id", route_table_id.as_str()))
        .send()
        .await
        .map_err(|e| from_sdk("DescribeRouteTables", e))?;
    Ok(response
        .route_tables()
        .first()
        .and_then(|t| t.vpc_id()?.parse().ok()))
}

/// The VPC of a security group.
pub async fn security_group_vpc(
    ec2: &aws_sdk_ec2::Client,
    group_id: &SecurityGroupId,
) -> Result<Option<VpcId>> {
    let response = ec2
        .describe_security_groups()
        .filters(filter("group-id", group_id.as_str()))
        .send()
        .await
        .map_err(|e| from_sdk("DescribeSecurityGroups", e))?;
    Ok(response
        .security_groups()
        .first()
        .and_then(|g| g.vpc_id()?.parse().ok()))
}

/// A not-found answer from RDS means "nothing to locate", anything else is an error.
fn unless_not_found<T>(result: std::result::Result<T, AwsError>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(err) if err.kind == AwsErrorKind::NotFound => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// The VPC of a DB instance, through its DB subnet group.
pub async fn db_instance_vpc(
    rds: &aws_sdk_rds::Client,
    identifier: &DbIdentifier,
) -> Result<Option<VpcId>> {
    let response = rds
        .describe_db_instances()
        .db_instance_identifier(identifier.as_str())
        .send()
        .await
        .map_err(|e| from_sdk("DescribeDBInstances", e));
    Ok(unless_not_found(response)?.and_then(|response| {
        response
            .db_instances()
            .first()?
            .db_subnet_group()?
            .vpc_id()?
            .parse()
            .ok()
    }))
}

/// The VPC of a DB cluster, through its DB subnet group (two calls: the cluster names its
/// group, the group names its VPC).
pub async fn db_cluster_vpc(
    rds: &aws_sdk_rds::Client,
    identifier: &DbIdentifier,
) -> Result<Option<VpcId>> {
    let response = rds
        .describe_db_clusters()
        .db_cluster_identifier(identifier.as_str())
        .send()
        .await
        .map_err(|e| from_sdk("DescribeDBClusters", e));
    let group = unless_not_found(response)?.and_then(|response| {
        response
            .db_clusters()
            .first()?
            .db_subnet_group()
            .map(str::to_owned)
    });
    let Some(group) = group else {
        return Ok(None);
    };
    let response = rds
        .describe_db_subnet_groups()
        .db_subnet_group_name(&group)
        .send()
        .await
        .map_err(|e| from_sdk("DescribeDBSubnetGroups", e));
    Ok(unless_not_found(response)?
        .and_then(|response| response.db_subnet_groups().first()?.vpc_id()?.parse().ok()))
}
