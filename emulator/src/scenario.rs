//! The two-account scenario of the field guides: ECS/Fargate tasks in account A (requester,
//! 10.0.0.0/16) must reach an RDS database in account B (accepter, 10.1.0.0/16).

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use aws_smithy_types::error::display::DisplayErrorContext;
use peerwire::aws::calls::CallLog;
use peerwire::aws::clients::AwsContext;
use peerwire::aws::throttle::WriteBudget;
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

// ---------------------------------------------------------------------------------------------
// Seeding at scale: many VPCs in many accounts and regions (benchmarks, the hub), with as few
// calls as the EC2 API allows and many calls in flight at once.

/// A write budget that never waits: seeding is not what is measured.
pub fn unlimited_writes() -> WriteBudget {
    WriteBudget {
        burst: u32::MAX,
        per_second: 1e12,
    }
}

/// A seeding context reaching every member account through its role, as [`Scenario::seed`]
/// does, but with no write limit and its own call log (never counted with the product's).
pub async fn seeder(emulator: &Emulator) -> AwsContext {
    let calls = CallLog::default();
    AwsContext::new(emulator.hub_config(&calls).await, roles(), calls)
        .with_write_budget(unlimited_writes())
}

/// One VPC to seed: `route_tables` route tables (the main one plus `route_tables - 1` explicit
/// ones), one subnet per table (the first on the main table, the others each associated with
/// their own table) in AZs a, b, c in turn, and one security group tagged `role=<group_role>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpcSpec {
    pub account: String,
    pub region: String,
    /// IPv4, e.g. `10.16.0.0/20`.
    pub cidr: String,
    /// At least 1.
    pub route_tables: usize,
    pub group_role: String,
    /// Turn `enableDnsHostnames` on (one `ModifyVpcAttribute`); AWS's default is off.
    pub dns_hostnames: bool,
}

impl VpcSpec {
    /// A VPC with DNS hostnames on, as the benchmarks and the hub use.
    pub fn new(account: &str, region: &str, cidr: &str, route_tables: usize, role: &str) -> Self {
        Self {
            account: account.to_owned(),
            region: region.to_owned(),
            cidr: cidr.to_owned(),
            route_tables: route_tables.max(1),
            group_role: role.to_owned(),
            dns_hostnames: true,
        }
    }
}

/// A VPC seeded from a [`VpcSpec`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededVpc {
    pub account: String,
    pub region: String,
    pub vpc_id: String,
    pub cidr: String,
    /// Subnet `i` is served by `route_tables[i]`.
    pub subnet_ids: Vec<String>,
    /// The main table first, then the explicit ones.
    pub route_tables: Vec<String>,
    /// The group tagged `role=<group_role>`.
    pub security_group_id: String,
}

/// The subnets of `count` route tables inside `vpc_cidr`: /24s while they fit, else the
/// largest equal blocks that do (10.0.0.0/16 holds 256 /24s, or 1,024 /26s). At most /28, as
/// in AWS.
pub fn subnet_cidrs(vpc_cidr: &str, count: usize) -> Result<Vec<String>, EmulatorError> {
    let bad = || EmulatorError::Seed(format!("not an IPv4 CIDR: {vpc_cidr}"));
    let (address, prefix) = vpc_cidr.split_once('/').ok_or_else(bad)?;
    let prefix: u32 = prefix.parse().map_err(|_| bad())?;
    let address: std::net::Ipv4Addr = address.parse().map_err(|_| bad())?;
    if prefix > 28 {
        return Err(bad());
    }
    let count = count.max(1);
    // The smallest k with 2^k >= count.
    let bits = usize::BITS - (count - 1).leading_zeros();
    let subnet_prefix = if prefix + bits <= 24 {
        24
    } else {
        prefix + bits
    };
    if subnet_prefix > 28 {
        return Err(EmulatorError::Seed(format!(
            "{count} subnets do not fit {vpc_cidr} (at least /28 each)"
        )));
    }
    let base = u32::from(address);
    let step = 1u32 << (32 - subnet_prefix);
    (0..count)
        .map(|i| {
            let offset = u32::try_from(i)
                .ok()
                .and_then(|i| i.checked_mul(step))
                .ok_or_else(bad)?;
            Ok(format!(
                "{}/{subnet_prefix}",
                std::net::Ipv4Addr::from(base.wrapping_add(offset))
            ))
        })
        .collect()
}

/// Runs `work` on every item, at most `limit` at once; the results in item order.
async fn in_parallel<T, R, F, Fut>(
    items: Vec<T>,
    limit: usize,
    work: F,
) -> Result<Vec<R>, EmulatorError>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = Result<R, EmulatorError>> + Send + 'static,
{
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(limit.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, item) in items.into_iter().enumerate() {
        let future = work(item);
        let limit = limit.clone();
        tasks.spawn(async move {
            let _permit = limit
                .acquire_owned()
                .await
                .map_err(|e| EmulatorError::Seed(e.to_string()))?;
            future.await.map(|r| (index, r))
        });
    }
    let mut results: Vec<Option<R>> = Vec::new();
    results.resize_with(tasks.len(), || None);
    while let Some(done) = tasks.join_next().await {
        let (index, result) = done.map_err(|e| EmulatorError::Seed(e.to_string()))??;
        if let Some(slot) = results.get_mut(index) {
            *slot = Some(result);
        }
    }
    results
        .into_iter()
        .map(|r| r.ok_or_else(|| EmulatorError::Seed("a seeding task was lost".into())))
        .collect()
}

/// Seeds every VPC of `specs` through `seeder` (see [`seeder`]), `parallel` calls at once.
///
/// Calls per VPC: `CreateVpc`, `ModifyVpcAttribute` (DNS hostnames, when asked),
/// `CreateSecurityGroup` (tagged in the same call), `CreateSubnet` per table, and
/// `CreateRouteTable` + `AssociateRouteTable` per explicit table; plus one
/// `DescribeRouteTables` per account, region and 200 VPCs for the main tables. The EC2 API
/// has no batch form of any of these.
pub async fn seed_vpcs(
    seeder: &AwsContext,
    specs: &[VpcSpec],
    parallel: usize,
) -> Result<Vec<SeededVpc>, EmulatorError> {
    let mut clients = std::collections::BTreeMap::new();
    for spec in specs {
        if let std::collections::btree_map::Entry::Vacant(slot) =
            clients.entry((spec.account.clone(), spec.region.clone()))
        {
            slot.insert(seeder.ec2(&spec.account, &spec.region).await);
        }
    }
    let client = |spec: &VpcSpec| {
        clients
            .get(&(spec.account.clone(), spec.region.clone()))
            .cloned()
            .ok_or_else(|| EmulatorError::Seed("no client".into()))
    };

    // 1. The VPCs.
    let mut jobs = Vec::with_capacity(specs.len());
    for spec in specs {
        jobs.push((client(spec)?, spec.cidr.clone()));
    }
    let vpc_ids = in_parallel(jobs, parallel, |(ec2, cidr)| async move {
        create_vpc(&ec2, &cidr).await
    })
    .await?;

    // 2. DNS hostnames and the tagged group of each VPC.
    let mut jobs = Vec::with_capacity(specs.len());
    for (spec, vpc_id) in specs.iter().zip(&vpc_ids) {
        jobs.push((client(spec)?, spec.clone(), vpc_id.clone()));
    }
    let group_ids = in_parallel(jobs, parallel, |(ec2, spec, vpc_id)| async move {
        if spec.dns_hostnames {
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
        }
        let role = &spec.group_role;
        ec2.create_security_group()
            .vpc_id(&vpc_id)
            .group_name(format!("{role}-{vpc_id}"))
            .description(format!("{role} (seeded)"))
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::SecurityGroup)
                    .tags(Tag::builder().key("role").value(role).build())
                    .build(),
            )
            .send()
            .await
            .map_err(|e| seed_err("CreateSecurityGroup", e))?
            .group_id()
            .map(str::to_owned)
            .ok_or_else(|| EmulatorError::Seed("CreateSecurityGroup returned no id".into()))
    })
    .await?;

    // 3. One subnet per table; every subnet but the first gets its own table.
    let mut jobs = Vec::new();
    for (spec, vpc_id) in specs.iter().zip(&vpc_ids) {
        let cidrs = subnet_cidrs(&spec.cidr, spec.route_tables)?;
        for (i, cidr) in cidrs.into_iter().enumerate() {
            let zone = format!("{}{}", spec.region, ["a", "b", "c"][i % 3]);
            jobs.push((client(spec)?, vpc_id.clone(), cidr, zone, i > 0));
        }
    }
    let subnets = in_parallel(
        jobs,
        parallel,
        |(ec2, vpc_id, cidr, zone, own_table)| async move {
            let subnet = ec2
                .create_subnet()
                .vpc_id(&vpc_id)
                .cidr_block(&cidr)
                .availability_zone(zone)
                .send()
                .await
                .map_err(|e| seed_err("CreateSubnet", e))?
                .subnet()
                .and_then(|s| s.subnet_id())
                .map(str::to_owned)
                .ok_or_else(|| EmulatorError::Seed("CreateSubnet returned no id".into()))?;
            if !own_table {
                return Ok((subnet, None));
            }
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
                .subnet_id(&subnet)
                .send()
                .await
                .map_err(|e| seed_err("AssociateRouteTable", e))?;
            Ok((subnet, Some(table)))
        },
    )
    .await?;

    // 4. The main tables, read back in one filtered describe per account, region and 200 VPCs.
    let mut main_tables: std::collections::HashMap<String, String> =
        std::collections::HashMap::new();
    for ((account, region), ec2) in &clients {
        let vpcs: Vec<&String> = specs
            .iter()
            .zip(&vpc_ids)
            .filter(|(s, _)| &s.account == account && &s.region == region)
            .map(|(_, v)| v)
            .collect();
        for chunk in vpcs.chunks(200) {
            let tables = ec2
                .describe_route_tables()
                .filters(
                    Filter::builder()
                        .name("vpc-id")
                        .set_values(Some(chunk.iter().map(|v| (*v).clone()).collect()))
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
            for table in tables.route_tables() {
                if let (Some(vpc), Some(id)) = (table.vpc_id(), table.route_table_id()) {
                    main_tables.insert(vpc.to_owned(), id.to_owned());
                }
            }
        }
    }

    let mut subnets = subnets.into_iter();
    let mut seeded = Vec::with_capacity(specs.len());
    for ((spec, vpc_id), security_group_id) in specs.iter().zip(vpc_ids).zip(group_ids) {
        let main = main_tables
            .get(&vpc_id)
            .cloned()
            .ok_or_else(|| EmulatorError::Seed(format!("no main route table in {vpc_id}")))?;
        let mut subnet_ids = Vec::with_capacity(spec.route_tables);
        let mut route_tables = vec![main];
        for _ in 0..spec.route_tables {
            let (subnet, table) = subnets
                .next()
                .ok_or_else(|| EmulatorError::Seed("a subnet is missing".into()))?;
            subnet_ids.push(subnet);
            route_tables.extend(table);
        }
        seeded.push(SeededVpc {
            account: spec.account.clone(),
            region: spec.region.clone(),
            vpc_id,
            cidr: spec.cidr.clone(),
            subnet_ids,
            route_tables,
            security_group_id,
        });
    }
    Ok(seeded)
}

/// `from`'s account asks to peer `from` with `to` (same region or not), tagging its own view of
/// the request with `tags`. Returns the peering id.
pub async fn request_peering_between(
    seeder: &AwsContext,
    from: &SeededVpc,
    to: &SeededVpc,
    tags: &[(&str, &str)],
) -> Result<String, EmulatorError> {
    let ec2 = seeder.ec2(&from.account, &from.region).await;
    let tags: Vec<(String, String)> = tags
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    create_peering(ec2, from.vpc_id.clone(), to.clone(), tags).await
}

/// `CreateVpcPeeringConnection` from `from_vpc` (in `ec2`'s account) to `to`, tagged.
async fn create_peering(
    ec2: aws_sdk_ec2::Client,
    from_vpc: String,
    to: SeededVpc,
    tags: Vec<(String, String)>,
) -> Result<String, EmulatorError> {
    let mut request = ec2
        .create_vpc_peering_connection()
        .vpc_id(from_vpc)
        .peer_vpc_id(&to.vpc_id)
        .peer_owner_id(&to.account)
        .peer_region(&to.region);
    if !tags.is_empty() {
        let mut spec =
            TagSpecification::builder().resource_type(ResourceType::VpcPeeringConnection);
        for (key, value) in tags {
            spec = spec.tags(Tag::builder().key(key).value(value).build());
        }
        request = request.tag_specifications(spec.build());
    }
    request
        .send()
        .await
        .map_err(|e| seed_err("CreateVpcPeeringConnection", e))?
        .vpc_peering_connection()
        .and_then(|p| p.vpc_peering_connection_id())
        .map(str::to_owned)
        .ok_or_else(|| EmulatorError::Seed("CreateVpcPeeringConnection returned no id".into()))
}

/// The owner of `accepter` accepts `peering_id` directly, as a person would.
pub async fn accept_peering_as_owner(
    seeder: &AwsContext,
    accepter: &SeededVpc,
    peering_id: &str,
) -> Result<(), EmulatorError> {
    seeder
        .ec2(&accepter.account, &accepter.region)
        .await
        .accept_vpc_peering_connection()
        .vpc_peering_connection_id(peering_id)
        .send()
        .await
        .map_err(|e| seed_err("AcceptVpcPeeringConnection", e))?;
    Ok(())
}

/// Opens TCP `port` from `cidr` in `vpc`'s tagged group, as a person would.
pub async fn open_port(
    seeder: &AwsContext,
    vpc: &SeededVpc,
    port: i32,
    cidr: &str,
) -> Result<(), EmulatorError> {
    seeder
        .ec2(&vpc.account, &vpc.region)
        .await
        .authorize_security_group_ingress()
        .group_id(&vpc.security_group_id)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(port)
                .to_port(port)
                .ip_ranges(
                    aws_sdk_ec2::types::IpRange::builder()
                        .cidr_ip(cidr)
                        .description("opened by hand before peerwire")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .map_err(|e| seed_err("AuthorizeSecurityGroupIngress", e))?;
    Ok(())
}

/// Fills the outbound rules of `vpc`'s tagged group: the default allow-all rule is revoked and
/// `rules` TCP 443 rules to distinct 192.168.x.y/32 addresses take its place, in one
/// `AuthorizeSecurityGroupEgress` (at most 65,536). The group is then full when `rules` is the
/// rules-per-group quota.
pub async fn fill_egress(
    seeder: &AwsContext,
    vpc: &SeededVpc,
    rules: usize,
) -> Result<(), EmulatorError> {
    use aws_sdk_ec2::types::{IpPermission, IpRange};
    if rules > 65_536 {
        return Err(EmulatorError::Seed(format!(
            "{rules} rules do not fit 192.168.0.0/16"
        )));
    }
    let ec2 = seeder.ec2(&vpc.account, &vpc.region).await;
    ec2.revoke_security_group_egress()
        .group_id(&vpc.security_group_id)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("-1")
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .send()
        .await
        .map_err(|e| seed_err("RevokeSecurityGroupEgress", e))?;
    if rules == 0 {
        return Ok(());
    }
    let mut permission = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(443)
        .to_port(443);
    for i in 0..rules {
        permission = permission.ip_ranges(
            IpRange::builder()
                .cidr_ip(format!("192.168.{}.{}/32", i / 256, i % 256))
                .build(),
        );
    }
    ec2.authorize_security_group_egress()
        .group_id(&vpc.security_group_id)
        .ip_permissions(permission.build())
        .send()
        .await
        .map_err(|e| seed_err("AuthorizeSecurityGroupEgress", e))?;
    Ok(())
}

/// Routes in `vpc`'s tables, as its owner sees them, counted by the peering they go through:
/// one filtered `DescribeRouteTables` per 200 VPCs of one account and region.
pub async fn routes_by_peering(
    seeder: &AwsContext,
    vpcs: &[&SeededVpc],
) -> Result<std::collections::HashMap<String, usize>, EmulatorError> {
    let mut groups: std::collections::BTreeMap<(&str, &str), Vec<&str>> =
        std::collections::BTreeMap::new();
    for vpc in vpcs {
        groups
            .entry((vpc.account.as_str(), vpc.region.as_str()))
            .or_default()
            .push(vpc.vpc_id.as_str());
    }
    let mut counts = std::collections::HashMap::new();
    for ((account, region), ids) in groups {
        let ec2 = seeder.ec2(account, region).await;
        for chunk in ids.chunks(200) {
            let tables = ec2
                .describe_route_tables()
                .filters(
                    Filter::builder()
                        .name("vpc-id")
                        .set_values(Some(chunk.iter().map(|v| (*v).to_owned()).collect()))
                        .build(),
                )
                .send()
                .await
                .map_err(|e| seed_err("DescribeRouteTables", e))?;
            for route in tables.route_tables().iter().flat_map(|t| t.routes()) {
                if let Some(pcx) = route.vpc_peering_connection_id() {
                    *counts.entry(pcx.to_owned()).or_insert(0) += 1;
                }
            }
        }
    }
    Ok(counts)
}

/// A hub: one accepter VPC per region in one account, and in every region
/// `vpcs_per_account_region` requester VPCs in each requester account, each asking to peer
/// with its region's accepter VPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubSpec {
    pub accepter_account: String,
    pub regions: Vec<String>,
    pub requester_accounts: Vec<String>,
    pub vpcs_per_account_region: usize,
    /// Route tables (and subnets) of every VPC, both sides.
    pub route_tables: usize,
    /// Tags on each requester's own view of its request.
    pub peering_tags: Vec<(String, String)>,
}

/// One peering of a hub: indexes into [`Hub::requesters`] and [`Hub::accepters`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubPeering {
    pub peering_id: String,
    pub requester: usize,
    pub accepter: usize,
}

/// A seeded hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hub {
    /// One per region, in `regions` order: 10.1.0.0/16, 10.2.0.0/16, ... (group `rds-db`).
    pub accepters: Vec<SeededVpc>,
    /// Region by region, account by account: /20s from 10.16.0.0/20 up (group `ecs-tasks`).
    pub requesters: Vec<SeededVpc>,
    /// Requested, in `requesters` order; accepted once [`Hub::accept_all`] ran.
    pub peerings: Vec<HubPeering>,
}

impl HubSpec {
    /// The accepter VPCs' specs, one per region.
    pub fn accepter_specs(&self) -> Vec<VpcSpec> {
        self.regions
            .iter()
            .enumerate()
            .map(|(r, region)| {
                VpcSpec::new(
                    &self.accepter_account,
                    region,
                    &format!("10.{}.0.0/16", r + 1),
                    self.route_tables,
                    "rds-db",
                )
            })
            .collect()
    }

    /// The requester VPCs' specs: region by region, account by account, distinct /20s from
    /// 10.16.0.0/20 up (3,824 fit below 10.255.255.255).
    pub fn requester_specs(&self) -> Result<Vec<VpcSpec>, EmulatorError> {
        let mut specs = Vec::new();
        for region in &self.regions {
            for account in &self.requester_accounts {
                for _ in 0..self.vpcs_per_account_region {
                    let i = specs.len();
                    let second = 16 + i / 16;
                    if second > 255 {
                        return Err(EmulatorError::Seed(format!(
                            "more than {} requester VPCs do not fit 10.16.0.0-10.255.255.255",
                            (256 - 16) * 16
                        )));
                    }
                    specs.push(VpcSpec::new(
                        account,
                        region,
                        &format!("10.{second}.{}.0/20", (i % 16) * 16),
                        self.route_tables,
                        "ecs-tasks",
                    ));
                }
            }
        }
        Ok(specs)
    }
}

impl Hub {
    /// Seeds every VPC of `spec` and has every requester ask to peer (not yet accepted),
    /// `parallel` calls at once.
    pub async fn seed(
        seeder: &AwsContext,
        spec: &HubSpec,
        parallel: usize,
    ) -> Result<Self, EmulatorError> {
        let accepters = seed_vpcs(seeder, &spec.accepter_specs(), parallel).await?;
        let requesters = seed_vpcs(seeder, &spec.requester_specs()?, parallel).await?;
        let mut jobs = Vec::with_capacity(requesters.len());
        for (index, requester) in requesters.iter().enumerate() {
            let accepter = spec
                .regions
                .iter()
                .position(|r| r == &requester.region)
                .ok_or_else(|| EmulatorError::Seed("requester in an unknown region".into()))?;
            let to = accepters
                .get(accepter)
                .cloned()
                .ok_or_else(|| EmulatorError::Seed("no accepter in that region".into()))?;
            let ec2 = seeder.ec2(&requester.account, &requester.region).await;
            jobs.push((ec2, requester.vpc_id.clone(), to, index, accepter));
        }
        let tags = spec.peering_tags.clone();
        let peerings = in_parallel(jobs, parallel, |(ec2, from, to, requester, accepter)| {
            let tags = tags.clone();
            async move {
                Ok(HubPeering {
                    peering_id: create_peering(ec2, from, to, tags).await?,
                    requester,
                    accepter,
                })
            }
        })
        .await?;
        Ok(Self {
            accepters,
            requesters,
            peerings,
        })
    }

    /// The accepter account accepts every request directly, as a person would, `parallel`
    /// at once.
    pub async fn accept_all(
        &self,
        seeder: &AwsContext,
        parallel: usize,
    ) -> Result<(), EmulatorError> {
        let mut jobs = Vec::with_capacity(self.peerings.len());
        for peering in &self.peerings {
            let accepter = self
                .accepters
                .get(peering.accepter)
                .ok_or_else(|| EmulatorError::Seed("no such accepter".into()))?;
            let ec2 = seeder.ec2(&accepter.account, &accepter.region).await;
            jobs.push((ec2, peering.peering_id.clone()));
        }
        in_parallel(jobs, parallel, |(ec2, id)| async move {
            ec2.accept_vpc_peering_connection()
                .vpc_peering_connection_id(&id)
                .send()
                .await
                .map_err(|e| seed_err("AcceptVpcPeeringConnection", e))?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// The requester VPC of `peering`.
    pub fn requester_of(&self, peering: &HubPeering) -> Option<&SeededVpc> {
        self.requesters.get(peering.requester)
    }

    /// The accepter VPC of `peering`.
    pub fn accepter_of(&self, peering: &HubPeering) -> Option<&SeededVpc> {
        self.accepters.get(peering.accepter)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn subnets_are_24s_while_they_fit_then_smaller() {
        assert_eq!(
            subnet_cidrs("10.0.0.0/16", 3).unwrap(),
            ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]
        );
        let many = subnet_cidrs("10.0.0.0/16", 1000).unwrap();
        assert_eq!(many.len(), 1000);
        assert_eq!(many[5], "10.0.1.64/26");
        assert_eq!(many[999], "10.0.249.192/26");
        assert_eq!(
            subnet_cidrs("10.16.16.0/20", 3).unwrap(),
            ["10.16.16.0/24", "10.16.17.0/24", "10.16.18.0/24"]
        );
        assert!(subnet_cidrs("10.0.0.0/24", 32).is_err());
        assert!(subnet_cidrs("not a cidr", 1).is_err());
    }

    #[test]
    fn a_hub_gives_every_requester_its_own_20() {
        let spec = HubSpec {
            accepter_account: ACCEPTER_ACCOUNT.into(),
            regions: vec!["us-east-1".into(), "us-west-2".into()],
            requester_accounts: (1..=50)
                .map(|k| format!("{}", 300_000_000_000u64 + k))
                .collect(),
            vpcs_per_account_region: 5,
            route_tables: 3,
            peering_tags: Vec::new(),
        };
        let specs = spec.requester_specs().unwrap();
        assert_eq!(specs.len(), 500);
        let cidrs: std::collections::BTreeSet<&str> =
            specs.iter().map(|s| s.cidr.as_str()).collect();
        assert_eq!(cidrs.len(), 500);
        assert_eq!(specs[0].cidr, "10.16.0.0/20");
        assert_eq!(specs[499].cidr, "10.47.48.0/20");
        assert_eq!(spec.accepter_specs()[1].cidr, "10.2.0.0/16");
    }
}
