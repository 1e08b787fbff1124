//! Reads AWS into the plain model, in as few calls as the API allows: filtered and paged
//! describes, never one call per resource. One module per kind of thing read; each translates
//! SDK values into `peerwire_core::model` and nothing else.

mod leftovers;
mod locate;
mod nacl;
mod network;
mod peering;
mod rds;
mod security_groups;
mod zones;

use std::collections::BTreeMap;
use std::str::FromStr;

use aws_sdk_ec2::types::{self as ec2, Filter};
use ipnet::IpNet;

use peerwire_core::error::{Error, Result};
use peerwire_core::model::IdError;

pub use leftovers::{leftovers, orphan_candidates};
pub use locate::{db_cluster_vpc, db_instance_vpc, route_table_vpc, security_group_vpc};
pub use nacl::describe_network_acls;
pub use network::{
    describe_side, describe_vpc_network, describe_vpc_routes, prefix_list_sizes, SubnetReads,
};
pub use peering::{
    active_peerings_of_account, active_peerings_of_vpc, describe_peering, peerings_accepted_by_vpc,
    peerings_between, peerings_by_ids, peerings_in_status, peerings_of_vpc,
};
pub use zones::{describe_zones, zone_records};

/// `DescribeVpcPeeringConnections`, `DescribeSubnets`, `DescribeSecurityGroups` and
/// `DescribeNetworkAcls` pages hold 5 to 1000 results.
const PAGE: i32 = 1000;
/// `DescribeRouteTables` pages hold 5 to 100 results.
const ROUTE_TABLE_PAGE: i32 = 100;

fn filter(name: &str, value: impl Into<String>) -> Filter {
    Filter::builder().name(name).values(value).build()
}

fn filter_any(name: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.into_iter().map(Into::into).collect()))
        .build()
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

/// A required id field of a response, parsed into its type.
fn required_id<T: FromStr<Err = IdError>>(
    operation: &'static str,
    field: &str,
    value: Option<&str>,
) -> Result<T> {
    let value = value.ok_or_else(|| missing(operation, field))?;
    value.parse().map_err(|e: IdError| Error::Response {
        operation,
        detail: format!("{field}: {e}"),
    })
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
