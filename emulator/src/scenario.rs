//! The two-account scenario of the field guides: ECS/Fargate tasks in account A (requester,
//! 10.0.0.0/16) must reach an RDS database in account B (accepter, 10.1.0.0/16).
//!
//! Seeding at scale lives beside it: many VPCs in many accounts and regions at once
//! ([`vpcs`]), and a hub of peerings between them with what a person does to them by hand
//! ([`hub`]). Both are re-exported here.

mod hub;
mod side;
mod vpcs;

use std::collections::HashMap;

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use aws_smithy_types::error::display::DisplayErrorContext;
use peerwire::config::RoleConfig;

use crate::{Emulator, EmulatorError, REGION};

pub use hub::{
    accept_peering_as_owner, delete_peering_as_owner, fill_egress, open_port,
    request_peering_between, routes_by_peering, Hub, HubPeering, HubSpec,
};
pub use side::RuleRow;
pub use vpcs::{
    location, seed_vpcs, seeder, subnet_cidrs, unlimited_writes, SeededVpc, Seeder, VpcSpec,
};

pub const REQUESTER_ACCOUNT: &str = "111111111111";
pub const ACCEPTER_ACCOUNT: &str = "222222222222";
pub const ROLE_ARN_TEMPLATE: &str = "arn:aws:iam::{account}:role/peerwire-member";
pub const EXTERNAL_ID: &str = "peerwire-emulator-external-id";

/// The tags the policy fixtures require on the requester's own view of a request
/// (`peerwire::testing::WIRING_POLICY`, `DEFAULT_POLICY`).
pub const PAYMENTS_TAGS: &[(&str, &str)] = &[("team", "payments")];

/// The database port every fixture opens.
pub const DB_PORT: i32 = 5432;

/// The member-role settings every emulated function uses.
pub fn roles() -> RoleConfig {
    RoleConfig {
        arn_template: ROLE_ARN_TEMPLATE.into(),
        external_id: EXTERNAL_ID.into(),
        session_name: "peerwire".into(),
    }
}

fn seed_err(operation: &str, err: impl std::error::Error) -> EmulatorError {
    EmulatorError::Seed(format!("{operation}: {}", DisplayErrorContext(err)))
}

/// The id `operation` answered with.
fn new_id(operation: &str, id: Option<&str>) -> Result<String, EmulatorError> {
    id.map(str::to_owned)
        .ok_or_else(|| EmulatorError::Seed(format!("{operation} returned no id")))
}

/// One side's seeded VPC.
#[derive(Debug, Clone)]
pub struct Side {
    /// Which side of the scenario's peerings this is.
    pub role: peerwire::model::Side,
    pub account: String,
    pub ec2: aws_sdk_ec2::Client,
    pub vpc_id: String,
    pub cidr: String,
    /// Subnets in AZs a, b, c. The first two have their own route tables, the last one uses
    /// the main route table.
    pub subnet_ids: Vec<String>,
    pub main_route_table: String,
    /// Explicitly associated route tables, in subnet order.
    pub route_tables: Vec<String>,
    /// The ECS task group (requester) or the DB group (accepter).
    pub security_group_id: String,
}

/// Both accounts, seeded.
#[derive(Debug)]
pub struct Scenario {
    pub requester: Side,
    pub accepter: Side,
    /// Seeding's own AWS context, separate from the product's call log.
    pub seeder: Seeder,
}

impl Scenario {
    /// Seeds account A (10.0.0.0/16, ECS-like) and account B (10.1.0.0/16, RDS-like), each with
    /// three private subnets in three AZs, three route tables (main included) and a group.
    pub async fn seed(emulator: &Emulator) -> Result<Self, EmulatorError> {
        Self::seed_with(Seeder::new(emulator).await).await
    }

    /// The same, through `seeder` (a world shares one seeder with its scenario).
    pub async fn seed_with(seeder: Seeder) -> Result<Self, EmulatorError> {
        let requester_ec2 = seeder.ec2(REQUESTER_ACCOUNT, REGION).await?;
        let accepter_ec2 = seeder.ec2(ACCEPTER_ACCOUNT, REGION).await?;
        let requester = seed_side(
            peerwire::model::Side::Requester,
            requester_ec2,
            REQUESTER_ACCOUNT,
            "10.0.0.0/16",
            "ecs-tasks",
            "ECS tasks of the payments service",
            "ecs-tasks",
        )
        .await?;
        let accepter = seed_side(
            peerwire::model::Side::Accepter,
            accepter_ec2,
            ACCEPTER_ACCOUNT,
            "10.1.0.0/16",
            "rds-db",
            "RDS PostgreSQL of the payments service",
            "rds-db",
        )
        .await?;
        Ok(Self {
            requester,
            accepter,
            seeder,
        })
    }

    /// `ec2`'s account asks to peer `from_vpc` with the accepter's VPC, tagging the request.
    pub async fn request_peering_with(
        &self,
        ec2: &aws_sdk_ec2::Client,
        from_vpc: &str,
        tags: &[(&str, &str)],
    ) -> Result<String, EmulatorError> {
        create_peering(
            ec2,
            from_vpc,
            [&self.accepter.vpc_id, &self.accepter.account, REGION],
            tags,
        )
        .await
    }

    /// A new VPC with `cidr` in `account`, which then asks to peer with the accepter.
    /// Returns (VPC id, peering id).
    pub async fn request_from_new_vpc(
        &self,
        account: &str,
        cidr: &str,
        tags: &[(&str, &str)],
    ) -> Result<(String, String), EmulatorError> {
        let ec2 = self.seeder.ec2(account, REGION).await?;
        let vpc = create_vpc(&ec2, cidr).await?;
        let pcx = self.request_peering_with(&ec2, &vpc, tags).await?;
        Ok((vpc, pcx))
    }

    /// The requester asks to peer its seeded VPC with the accepter's.
    pub async fn request_peering(&self, tags: &[(&str, &str)]) -> Result<String, EmulatorError> {
        self.request_peering_with(&self.requester.ec2, &self.requester.vpc_id, tags)
            .await
    }

    /// The accepter accepts `peering_id` directly, as a person would (no policy involved).
    pub async fn accept_directly(&self, peering_id: &str) -> Result<(), EmulatorError> {
        accept_peering(&self.accepter.ec2, peering_id).await
    }

    /// A Multi-AZ PostgreSQL instance `id` in the accepter VPC, its DB subnet group spanning
    /// all three accepter subnets (three AZs, three route tables), in the DB security group.
    pub async fn create_db(&self, id: &str) -> Result<(), EmulatorError> {
        let rds = self.seeder.rds(ACCEPTER_ACCOUNT, REGION).await?;
        let group = format!("{id}-subnets");
        rds.create_db_subnet_group()
            .db_subnet_group_name(&group)
            .db_subnet_group_description("payments database subnets in 3 AZs")
            .set_subnet_ids(Some(self.accepter.subnet_ids.clone()))
            .send()
            .await
            .map_err(|e| seed_err("CreateDBSubnetGroup", e))?;
        rds.create_db_instance()
            .db_instance_identifier(id)
            .engine("postgres")
            .db_instance_class("db.t3.micro")
            .allocated_storage(20)
            .master_username("payments")
            .master_user_password("not-a-secret-1")
            .db_subnet_group_name(&group)
            .vpc_security_group_ids(&self.accepter.security_group_id)
            .multi_az(true)
            .port(5432)
            .send()
            .await
            .map_err(|e| seed_err("CreateDBInstance", e))?;
        Ok(())
    }

    /// The peering's status code as the accepter sees it.
    pub async fn status(&self, peering_id: &str) -> Result<String, EmulatorError> {
        let response = self
            .accepter
            .ec2
            .describe_vpc_peering_connections()
            .vpc_peering_connection_ids(peering_id)
            .send()
            .await
            .map_err(|e| seed_err("DescribeVpcPeeringConnections", e))?;
        Ok(response
            .vpc_peering_connections()
            .first()
            .and_then(|p| p.status())
            .and_then(|s| s.code())
            .map(|c| c.as_str().to_owned())
            .unwrap_or_else(|| "not-found".into()))
    }
}

/// Creates a VPC with `cidr` in `ec2`'s account and returns its id.
pub async fn create_vpc(ec2: &aws_sdk_ec2::Client, cidr: &str) -> Result<String, EmulatorError> {
    let created = ec2
        .create_vpc()
        .cidr_block(cidr)
        .send()
        .await
        .map_err(|e| seed_err("CreateVpc", e))?;
    new_id("CreateVpc", created.vpc().and_then(|v| v.vpc_id()))
}

async fn seed_side(
    role: peerwire::model::Side,
    ec2: aws_sdk_ec2::Client,
    account: &str,
    cidr: &str,
    group_name: &str,
    group_description: &str,
    group_role: &str,
) -> Result<Side, EmulatorError> {
    let vpc_id = create_vpc(&ec2, cidr).await?;
    enable_dns_hostnames(&ec2, &vpc_id).await?;
    // 10.x.0.0/16 -> 10.x.1.0/24, 10.x.2.0/24, 10.x.3.0/24 in a, b, c.
    let prefix: Vec<&str> = cidr.split('.').take(2).collect();
    let mut subnet_ids = Vec::new();
    for (index, zone) in ["a", "b", "c"].iter().enumerate() {
        let cidr = format!("{}.{}.{}.0/24", prefix[0], prefix[1], index + 1);
        subnet_ids.push(create_subnet(&ec2, &vpc_id, &cidr, &format!("{REGION}{zone}")).await?);
    }
    let main_route_table = main_route_tables(&ec2, std::slice::from_ref(&vpc_id))
        .await?
        .remove(&vpc_id)
        .ok_or_else(|| EmulatorError::Seed("no main route table".into()))?;
    let mut route_tables = Vec::new();
    for subnet in &subnet_ids[..2] {
        route_tables.push(own_route_table(&ec2, &vpc_id, subnet).await?);
    }
    let security_group_id =
        create_tagged_group(&ec2, &vpc_id, group_name, group_description, group_role).await?;
    Ok(Side {
        role,
        account: account.to_owned(),
        ec2,
        vpc_id,
        cidr: cidr.to_owned(),
        subnet_ids,
        main_route_table,
        route_tables,
        security_group_id,
    })
}

// The single calls that seeding is made of, for both the two-account scenario and the VPCs
// seeded at scale.

/// Turns `enableDnsHostnames` on in `vpc_id` (AWS's default is off).
async fn enable_dns_hostnames(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &str,
) -> Result<(), EmulatorError> {
    ec2.modify_vpc_attribute()
        .vpc_id(vpc_id)
        .enable_dns_hostnames(
            aws_sdk_ec2::types::AttributeBooleanValue::builder()
                .value(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| seed_err("ModifyVpcAttribute", e))?;
    Ok(())
}

/// A subnet with `cidr` in `zone` of `vpc_id`; returns its id.
async fn create_subnet(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &str,
    cidr: &str,
    zone: &str,
) -> Result<String, EmulatorError> {
    let created = ec2
        .create_subnet()
        .vpc_id(vpc_id)
        .cidr_block(cidr)
        .availability_zone(zone)
        .send()
        .await
        .map_err(|e| seed_err("CreateSubnet", e))?;
    new_id("CreateSubnet", created.subnet().and_then(|s| s.subnet_id()))
}

/// A new route table of `vpc_id`, associated with `subnet`; returns its id.
async fn own_route_table(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &str,
    subnet: &str,
) -> Result<String, EmulatorError> {
    let table = create_route_table(ec2, vpc_id).await?;
    associate_route_table(ec2, &table, subnet).await?;
    Ok(table)
}

/// A new route table of `vpc_id`, associated with nothing; returns its id.
async fn create_route_table(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &str,
) -> Result<String, EmulatorError> {
    let created = ec2
        .create_route_table()
        .vpc_id(vpc_id)
        .send()
        .await
        .map_err(|e| seed_err("CreateRouteTable", e))?;
    new_id(
        "CreateRouteTable",
        created.route_table().and_then(|t| t.route_table_id()),
    )
}

/// Associates `subnet` with `table`.
async fn associate_route_table(
    ec2: &aws_sdk_ec2::Client,
    table: &str,
    subnet: &str,
) -> Result<(), EmulatorError> {
    ec2.associate_route_table()
        .route_table_id(table)
        .subnet_id(subnet)
        .send()
        .await
        .map_err(|e| seed_err("AssociateRouteTable", e))?;
    Ok(())
}

/// The main route table of each of `vpc_ids` (one account and region, at most 200 VPCs: one
/// filter's values), in one filtered `DescribeRouteTables`: VPC id → table id.
async fn main_route_tables(
    ec2: &aws_sdk_ec2::Client,
    vpc_ids: &[String],
) -> Result<HashMap<String, String>, EmulatorError> {
    let tables = ec2
        .describe_route_tables()
        .filters(
            Filter::builder()
                .name("vpc-id")
                .set_values(Some(vpc_ids.to_vec()))
                .build(),
        )
        .filters(
            Filter::builder()
                .name("association.main")
                .values("true")
                .build(),
        )
        .send()
        .await
        .map_err(|e| seed_err("DescribeRouteTables", e))?;
    Ok(tables
        .route_tables()
        .iter()
        .filter_map(|t| Some((t.vpc_id()?.to_owned(), t.route_table_id()?.to_owned())))
        .collect())
}

/// A security group `name` in `vpc_id`, tagged `role=<role>` in the same call; returns its id.
async fn create_tagged_group(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &str,
    name: &str,
    description: &str,
    role: &str,
) -> Result<String, EmulatorError> {
    let created = ec2
        .create_security_group()
        .vpc_id(vpc_id)
        .group_name(name)
        .description(description)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::SecurityGroup)
                .tags(Tag::builder().key("role").value(role).build())
                .build(),
        )
        .send()
        .await
        .map_err(|e| seed_err("CreateSecurityGroup", e))?;
    new_id("CreateSecurityGroup", created.group_id())
}

/// `CreateVpcPeeringConnection` from `from_vpc` (in `ec2`'s account) to `[VPC id, account,
/// region]`, tagging the requester's own view with `tags`; returns the peering id.
async fn create_peering<K: AsRef<str>, V: AsRef<str>>(
    ec2: &aws_sdk_ec2::Client,
    from_vpc: &str,
    [to_vpc, to_account, to_region]: [&str; 3],
    tags: &[(K, V)],
) -> Result<String, EmulatorError> {
    let mut request = ec2
        .create_vpc_peering_connection()
        .vpc_id(from_vpc)
        .peer_vpc_id(to_vpc)
        .peer_owner_id(to_account)
        .peer_region(to_region);
    if !tags.is_empty() {
        let mut spec =
            TagSpecification::builder().resource_type(ResourceType::VpcPeeringConnection);
        for (key, value) in tags {
            spec = spec.tags(
                Tag::builder()
                    .key(key.as_ref())
                    .value(value.as_ref())
                    .build(),
            );
        }
        request = request.tag_specifications(spec.build());
    }
    let created = request
        .send()
        .await
        .map_err(|e| seed_err("CreateVpcPeeringConnection", e))?;
    new_id(
        "CreateVpcPeeringConnection",
        created
            .vpc_peering_connection()
            .and_then(|p| p.vpc_peering_connection_id()),
    )
}

/// The owner in `ec2` accepts `peering_id` directly, as a person would (no policy involved).
async fn accept_peering(ec2: &aws_sdk_ec2::Client, peering_id: &str) -> Result<(), EmulatorError> {
    ec2.accept_vpc_peering_connection()
        .vpc_peering_connection_id(peering_id)
        .send()
        .await
        .map_err(|e| seed_err("AcceptVpcPeeringConnection", e))?;
    Ok(())
}
