//! `DescribeDBInstances`: the named databases of one side with every subnet of their DB subnet
//! group (a Multi-AZ failover can move the primary into any of them).

use aws_sdk_rds::types::Filter;

use crate::aws::error::from_sdk;
use peerwire_core::error::{AwsErrorKind, Result};
use peerwire_core::model::{DbIdentifier, DbInstance, VpcId};

/// The named DB instances that live in `vpc_id`. One `DescribeDBInstances` call filtered by
/// identifier (AWS: up to 100 filter values).
pub(super) async fn describe_db_instances(
    rds: &aws_sdk_rds::Client,
    vpc_id: &VpcId,
    identifiers: &[DbIdentifier],
) -> Result<Vec<DbInstance>> {
    const OP: &str = "DescribeDBInstances";
    if identifiers.is_empty() {
        return Ok(Vec::new());
    }
    let response = rds
        .describe_db_instances()
        .filters(
            Filter::builder()
                .name("db-instance-id")
                .set_values(Some(identifiers.iter().map(ToString::to_string).collect()))
                .build(),
        )
        .send()
        .await;
    let response = match response {
        Ok(response) => response,
        Err(err) => {
            let err = from_sdk(OP, err);
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
        if group.vpc_id() != Some(vpc_id.as_str()) {
            continue;
        }
        let Some(id) = db.db_instance_identifier().and_then(|id| id.parse().ok()) else {
            continue;
        };
        let mut subnet_ids: Vec<_> = group
            .subnets()
            .iter()
            .filter_map(|s| s.subnet_identifier()?.parse().ok())
            .collect();
        subnet_ids.sort();
        instances.push(DbInstance {
            id,
            port: db
                .endpoint()
                .and_then(|e| e.port())
                .or(db.db_instance_port()),
            availability_zone: db.availability_zone().map(str::to_owned),
            subnet_ids,
            security_group_ids: db
                .vpc_security_groups()
                .iter()
                .filter_map(|g| g.vpc_security_group_id()?.parse().ok())
                .collect(),
        });
    }
    Ok(instances)
}
