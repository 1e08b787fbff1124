//! The two-account scenario of the field guides: ECS/Fargate tasks in account A (requester,
//! 10.0.0.0/16) must reach an RDS database in account B (accepter, 10.1.0.0/16).

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use aws_smithy_types::error::display::DisplayErrorContext;
use peerwire::aws::calls::CallLog;
use peerwire::aws::clients::AwsContext;
use peerwire::config::RoleConfig;

use crate::{Emulator, EmulatorError, REGION};

pub const REQUESTER_ACCOUNT: &str = "111111111111";
pub const ACCEPTER_ACCOUNT: &str = "222222222222";
pub const ROLE_ARN_TEMPLATE: &str = "arn:aws:iam::{account}:role/peerwire-member";
pub const EXTERNAL_ID: &str = "peerwire-emulator-external-id";

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

/// One side's seeded VPC.
#[derive(Debug, Clone)]
pub struct Side {
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
    pub seeder: AwsContext,
}

impl Scenario {
    /// Seeds account A (10.0.0.0/16, ECS-like) and account B (10.1.0.0/16, RDS-like), each with
    /// three private subnets in three AZs, three route tables (main included) and a group.
    pub async fn seed(emulator: &Emulator) -> Result<Self, EmulatorError> {
        let calls = CallLog::default();
        let seeder = AwsContext::new(emulator.hub_config(&calls).await, roles(), calls);
        let requester_ec2 = seeder.ec2(REQUESTER_ACCOUNT, REGION).await;
        let accepter_ec2 = seeder.ec2(ACCEPTER_ACCOUNT, REGION).await;
        let requester = seed_side(
            requester_ec2,
            REQUESTER_ACCOUNT,
            "10.0.0.0/16",
            "ecs-tasks",
            "ECS tasks of the payments service",
            "ecs-tasks",
        )
        .await?;
        let accepter = seed_side(
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
        let mut request = ec2
            .create_vpc_peering_connection()
            .vpc_id(from_vpc)
            .peer_vpc_id(&self.accepter.vpc_id)
            .peer_owner_id(&self.accepter.account)
            .peer_region(REGION);
        if !tags.is_empty() {
            let mut spec =
                TagSpecification::builder().resource_type(ResourceType::VpcPeeringConnection);
            for (key, value) in tags {
                spec = spec.tags(Tag::builder().key(*key).value(*value).build());
            }
            request = request.tag_specifications(spec.build());
        }
        let response = request
            .send()
            .await
            .map_err(|e| seed_err("CreateVpcPeeringConnection", e))?;
        response
            .vpc_peering_connection()
            .and_then(|p| p.vpc_peering_connection_id())
            .map(str::to_owned)
            .ok_or_else(|| EmulatorError::Seed("CreateVpcPeeringConnection returned no id".into()))
    }

    /// A new VPC with `cidr` in `account`, which then asks to peer with the accepter.
    /// Returns (VPC id, peering id).
    pub async fn request_from_new_vpc(
        &self,
        account: &str,
        cidr: &str,
        tags: &[(&str, &str)],
    ) -> Result<(String, String), EmulatorError> {
        let ec2 = self.seeder.ec2(account, REGION).await;
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
        self.accepter
            .ec2
            .accept_vpc_peering_connection()
            .vpc_peering_connection_id(peering_id)
            .send()
            .await
            .map_err(|e| seed_err("AcceptVpcPeeringConnection", e))?;
        Ok(())
    }

    /// A Multi-AZ PostgreSQL instance `id` in the accepter VPC, its DB subnet group spanning
    /// all three accepter subnets (three AZs, three route tables), in the DB security group.
    pub async fn create_db(&self, id: &str) -> Result<(), EmulatorError> {
        let rds = self.seeder.rds(ACCEPTER_ACCOUNT, REGION).await;
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
    ec2.create_vpc()
        .cidr_block(cidr)
        .send()
        .await
        .map_err(|e| seed_err("CreateVpc", e))?
        .vpc()
        .and_then(|v| v.vpc_id())
        .map(str::to_owned)
        .ok_or_else(|| EmulatorError::Seed("CreateVpc returned no id".into()))
}

async fn seed_side(
    ec2: aws_sdk_ec2::Client,
    account: &str,
    cidr: &str,
    group_name: &str,
    group_description: &str,
    group_role: &str,
) -> Result<Side, EmulatorError> {
    let vpc_id = create_vpc(&ec2, cidr).await?;
    ec2.modify_vpc_attribute()
        .vpc_id(&vpc_id)
        .enable_dns_hostnames(
            aws_sdk_ec2::types::AttributeBooleanValue::builder()
                .value(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| seed_err("ModifyVpcAttribute", e))?;
    // 10.x.0.0/16 -> 10.x.1.0/24, 10.x.2.0/24, 10.x.3.0/24 in a, b, c.
    let prefix: Vec<&str> = cidr.split('.').take(2).collect();
    let mut subnet_ids = Vec::new();
    for (index, zone) in ["a", "b", "c"].iter().enumerate() {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(format!("{}.{}.{}.0/24", prefix[0], prefix[1], index + 1))
            .availability_zone(format!("{REGION}{zone}"))
            .send()
            .await
            .map_err(|e| seed_err("CreateSubnet", e))?;
        subnet_ids.push(
            subnet
                .subnet()
                .and_then(|s| s.subnet_id())
                .map(str::to_owned)
                .ok_or_else(|| EmulatorError::Seed("CreateSubnet returned no id".into()))?,
        );
    }
    let main = ec2
        .describe_route_tables()
        .filters(Filter::builder().name("vpc-id").values(&vpc_id).build())
        .filters(
            Filter::builder()
                .name("association.main")
                .values("true")
                .build(),
        )
        .send()
        .await
        .map_err(|e| seed_err("DescribeRouteTables", e))?;
    let main_route_table = main
        .route_tables()
        .first()
        .and_then(|t| t.route_table_id())
        .map(str::to_owned)
        .ok_or_else(|| EmulatorError::Seed("no main route table".into()))?;
    let mut route_tables = Vec::new();
    for subnet in &subnet_ids[..2] {
        let table = ec2
            .create_route_table()
            .vpc_id(&vpc_id)
            .send()
            .await
            .map_err(|e| seed_err("CreateRouteTable", e))?
            .route_table()
            .and_then(|t| t.route_table_id())
            .map(str::to_owned)
            .ok_or_else(|| EmulatorError::Seed("CreateRouteTable returned no id".into()))?;
        ec2.associate_route_table()
            .route_table_id(&table)
            .subnet_id(subnet)
            .send()
            .await
            .map_err(|e| seed_err("AssociateRouteTable", e))?;
        route_tables.push(table);
    }
    let security_group_id = ec2
        .create_security_group()
        .vpc_id(&vpc_id)
        .group_name(group_name)
        .description(group_description)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::SecurityGroup)
                .tags(Tag::builder().key("role").value(group_role).build())
                .build(),
        )
        .send()
        .await
        .map_err(|e| seed_err("CreateSecurityGroup", e))?
        .group_id()
        .map(str::to_owned)
        .ok_or_else(|| EmulatorError::Seed("CreateSecurityGroup returned no id".into()))?;
    Ok(Side {
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
