//! Seeding at scale: many VPCs in many accounts and regions (benchmarks, the hub), with as few
//! calls as the EC2 API allows and many calls in flight at once.

use std::collections::{BTreeMap, HashMap};

use peerwire::aws::calls::CallLog;
use peerwire::aws::clients::AwsContext;
use peerwire::aws::throttle::WriteBudget;
use peerwire::model::Location;

use super::{
    create_subnet, create_tagged_group, create_vpc, enable_dns_hostnames, main_route_tables,
    own_route_table, roles,
};
use crate::{Emulator, EmulatorError};

/// A write budget that never waits: seeding is not what is measured.
pub fn unlimited_writes() -> WriteBudget {
    WriteBudget {
        burst: u32::MAX,
        per_second: 1e12,
    }
}

/// Seeding's clients: the product's own [`AwsContext`] (member roles through STS with the
/// ExternalId, as production reaches accounts), with no write limit and its own call log (never
/// counted with the product's), addressed by the scenario's account and region strings.
/// Cloning shares the context (its clients and cached credentials).
#[derive(Debug, Clone)]
pub struct Seeder(std::sync::Arc<AwsContext>);

impl Seeder {
    /// A seeder on `emulator`.
    pub async fn new(emulator: &Emulator) -> Self {
        let calls = CallLog::default();
        Self(std::sync::Arc::new(
            AwsContext::new(emulator.hub_config(&calls).await, roles(), calls)
                .with_write_budget(unlimited_writes()),
        ))
    }

    /// An EC2 client acting as `account` in `region`.
    pub async fn ec2(
        &self,
        account: &str,
        region: &str,
    ) -> Result<aws_sdk_ec2::Client, EmulatorError> {
        Ok(self.0.ec2(&location(account, region)?).await)
    }

    /// An RDS client acting as `account` in `region`.
    pub async fn rds(
        &self,
        account: &str,
        region: &str,
    ) -> Result<aws_sdk_rds::Client, EmulatorError> {
        Ok(self.0.rds(&location(account, region)?).await)
    }

    /// The SDK configuration acting as `account`, for clients of other services.
    pub async fn role_config(&self, account: &str) -> Result<aws_config::SdkConfig, EmulatorError> {
        let account = account
            .parse()
            .map_err(|e: peerwire::model::IdError| EmulatorError::Seed(e.to_string()))?;
        Ok(self.0.role_config(&account).await)
    }

    /// The context itself, for clients of other services.
    pub fn context(&self) -> &AwsContext {
        &self.0
    }
}

/// `account` in `region`, typed.
pub fn location(account: &str, region: &str) -> Result<Location, EmulatorError> {
    let bad = |e: peerwire::model::IdError| EmulatorError::Seed(e.to_string());
    Ok(Location::new(
        account.parse().map_err(bad)?,
        region.parse().map_err(bad)?,
    ))
}

/// A seeder on `emulator` (see [`Seeder`]).
pub async fn seeder(emulator: &Emulator) -> Seeder {
    Seeder::new(emulator).await
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

impl SeededVpc {
    /// What a peering request names as its peer: [VPC id, owner, region].
    pub(super) fn target(&self) -> [&str; 3] {
        [&self.vpc_id, &self.account, &self.region]
    }
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
pub(super) async fn in_parallel<T, R, F, Fut>(
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
    seeder: &Seeder,
    specs: &[VpcSpec],
    parallel: usize,
) -> Result<Vec<SeededVpc>, EmulatorError> {
    let mut clients = BTreeMap::new();
    for spec in specs {
        if let std::collections::btree_map::Entry::Vacant(slot) =
            clients.entry((spec.account.clone(), spec.region.clone()))
        {
            slot.insert(seeder.ec2(&spec.account, &spec.region).await?);
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
            enable_dns_hostnames(&ec2, &vpc_id).await?;
        }
        let role = &spec.group_role;
        let name = format!("{role}-{vpc_id}");
        create_tagged_group(&ec2, &vpc_id, &name, &format!("{role} (seeded)"), role).await
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
            let subnet = create_subnet(&ec2, &vpc_id, &cidr, &zone).await?;
            let table = if own_table {
                Some(own_route_table(&ec2, &vpc_id, &subnet).await?)
            } else {
                None
            };
            Ok((subnet, table))
        },
    )
    .await?;

    // 4. The main tables, read back in one filtered describe per account, region and 200 VPCs.
    let mut main_tables: HashMap<String, String> = HashMap::new();
    for ((account, region), ec2) in &clients {
        let vpcs: Vec<String> = specs
            .iter()
            .zip(&vpc_ids)
            .filter(|(s, _)| &s.account == account && &s.region == region)
            .map(|(_, v)| v.clone())
            .collect();
        for chunk in vpcs.chunks(200) {
            main_tables.extend(main_route_tables(ec2, chunk).await?);
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
}
