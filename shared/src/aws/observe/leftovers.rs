//! What is left of peerings in one account: the route tables that route through them, and
//! the security groups where peerwire's marked rules for them would be. Read by the clean
//! phase for a gone peering, and by the orphan sweep for peerings AWS forgot.

use super::network::route_table_from_sdk;
use super::security_groups::groups;
use super::{filter, filter_any, ROUTE_TABLE_PAGE};
use crate::aws::error::from_sdk;
use peerwire_core::error::Result;
use peerwire_core::model::{Leftovers, PeeringId, VpcId};

/// What is left of `peering_id` in one account: every route table with a route through it
/// (one account-wide filtered describe, so it works even after AWS forgot the peering), and
/// the security groups of those tables' VPCs and of `vpc_id` (one describe filtered by VPC).
pub async fn leftovers(
    ec2: &aws_sdk_ec2::Client,
    peering_id: &PeeringId,
    vpc_id: Option<&VpcId>,
) -> Result<Leftovers> {
    const ROUTES_OP: &str = "DescribeRouteTables";
    let mut pages = ec2
        .describe_route_tables()
        .filters(filter(
            "route.vpc-peering-connection-id",
            peering_id.as_str(),
        ))
        .max_results(ROUTE_TABLE_PAGE)
        .into_paginator()
        .send();
    let mut vpcs: Vec<String> = vpc_id.into_iter().map(ToString::to_string).collect();
    let mut route_tables = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| from_sdk(ROUTES_OP, e))?;
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
        groups(
            ec2.describe_security_groups()
                .filters(filter_any("vpc-id", vpcs)),
        )
        .await?
    };
    Ok(Leftovers {
        route_tables,
        security_groups,
    })
}

/// What may be left in one account of peerings AWS no longer shows: every route table with a
/// blackhole route (the `route.state` filter), and every security group of the account (a
/// marked rule can be anywhere; EC2 cannot filter rules by description). Two paged describes.
pub async fn orphan_candidates(ec2: &aws_sdk_ec2::Client) -> Result<Leftovers> {
    const ROUTES_OP: &str = "DescribeRouteTables";
    let mut pages = ec2
        .describe_route_tables()
        .filters(filter("route.state", "blackhole"))
        .max_results(ROUTE_TABLE_PAGE)
        .into_paginator()
        .send();
    let mut route_tables = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| from_sdk(ROUTES_OP, e))?;
        for table in page.route_tables() {
            route_tables.push(route_table_from_sdk(table)?);
        }
    }
    Ok(Leftovers {
        route_tables,
        security_groups: groups(ec2.describe_security_groups()).await?,
    })
}
