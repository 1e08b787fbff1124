//! The benchmark world: one patched moto server on loopback, VPCs with any number of route
//! tables seeded through the member roles, and the product's [`App`] pointed at it with its
//! own call log.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_ec2::types::{AttributeBooleanValue, Filter, ResourceType, Tag, TagSpecification};
use aws_smithy_types::error::display::DisplayErrorContext;
use peerwire::aws::calls::CallLog;
use peerwire::aws::clients::{default_https_client, AwsContext};
use peerwire::aws::throttle::WriteBudget;
use peerwire::config::{Config, PolicySource};
use peerwire::App;
use peerwire_emulator::scenario::{self, ACCEPTER_ACCOUNT, REQUESTER_ACCOUNT};
use peerwire_emulator::{Emulator, REGION};
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::record::TimedLog;

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T> = std::result::Result<T, Error>;

/// The integration tests' `WIRING_POLICY` (tests/src/lib.rs): account A's 10.0.0.0/8 VPCs
/// tagged team=payments may peer with account B; PostgreSQL 5432 from the groups tagged
/// role=ecs-tasks to the groups tagged role=rds-db; every subnet of both VPCs routed.
pub const WIRING_POLICY: &str = r#"
version: 1
unmatched: reject
accepters:
  - account: "222222222222"
    regions: [us-east-1]
rules:
  - name: payments-ecs-to-rds
    requester_accounts: ["111111111111"]
    allowed_cidrs: ["10.0.0.0/8"]
    min_prefix_length: 16
    regions: [us-east-1]
    required_tags: { team: payments }
    wiring:
      ports: [5432]
      requester:
        security_group_tags: { role: ecs-tasks }
      accepter:
        security_group_tags: { role: rds-db }
"#;

pub const PEERING_TAGS: &[(&str, &str)] = &[("team", "payments")];

/// How fast the product's EC2 clients may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Budget {
    /// The product default: EC2's bucket, a burst of 50 then 5 per second.
    Ec2,
    /// No limit (the limiter never waits).
    Unlimited,
}

impl Budget {
    pub fn write_budget(self) -> WriteBudget {
        match self {
            Budget::Ec2 => WriteBudget::default(),
            Budget::Unlimited => unlimited(),
        }
    }
}

fn unlimited() -> WriteBudget {
    WriteBudget {
        burst: u32::MAX,
        per_second: 1e12,
    }
}

fn sdk_err(operation: &str, err: impl std::error::Error) -> Error {
    format!("{operation}: {}", DisplayErrorContext(err)).into()
}

/// One seeded VPC.
#[derive(Debug, Clone)]
pub struct Vpc {
    pub account: String,
    pub vpc_id: String,
    /// The group tagged `role=<role>`.
    pub security_group_id: String,
}

/// A server and its seeder.
#[derive(Debug)]
pub struct World {
    /// Seeding's own context and call log, never counted.
    pub seeder: AwsContext,
    policy: PathBuf,
    // Last: the server outlives the clients.
    pub emulator: Emulator,
}

impl World {
    pub async fn start() -> Result<Self> {
        let emulator = Emulator::start().await?;
        let calls = CallLog::default();
        // Seeding is not measured: give it no write limit.
        let seeder = AwsContext::new(emulator.hub_config(&calls).await, scenario::roles(), calls)
            .with_write_budget(unlimited());
        let policy = std::env::temp_dir().join(format!(
            "peerwire-bench-policy-{}-{}.yaml",
            std::process::id(),
            emulator.endpoint_url().rsplit(':').next().unwrap_or("0")
        ));
        std::fs::write(&policy, WIRING_POLICY)?;
        Ok(Self {
            seeder,
            policy,
            emulator,
        })
    }

    pub fn policy_path(&self) -> &Path {
        &self.policy
    }

    pub fn endpoint(&self) -> &str {
        self.emulator.endpoint_url()
    }

    /// The product, as a function builds it at cold start, with a fresh call log (and the
    /// timed recorder when given). Policy from the file, reused for 60 s as in production.
    pub async fn app(&self, budget: Budget, timed: Option<&TimedLog>) -> App {
        app_for(self.endpoint(), &self.policy, budget, timed).await
    }

    /// The requester's seeded VPC (10.0.0.0/16, role=ecs-tasks) and the accepter's
    /// (10.1.0.0/16, role=rds-db), each with `tables` route tables.
    pub async fn seed_pair(&self, tables: usize) -> Result<(Vpc, Vpc)> {
        let requester = self
            .seed_vpc(REQUESTER_ACCOUNT, "10.0.0.0/16", tables, "ecs-tasks")
            .await?;
        let accepter = self
            .seed_vpc(ACCEPTER_ACCOUNT, "10.1.0.0/16", tables, "rds-db")
            .await?;
        Ok((requester, accepter))
    }

    /// A VPC with DNS hostnames on, `tables` route tables (the main one plus `tables - 1`
    /// explicit ones), one subnet per table (the first on the main table) and one security
    /// group tagged `role=<role>`. Subnets are /24s up to 255 tables, /26s beyond (1,024 fit).
    pub async fn seed_vpc(
        &self,
        account: &str,
        cidr: &str,
        tables: usize,
        role: &str,
    ) -> Result<Vpc> {
        let tables = tables.max(1);
        let ec2 = self.seeder.ec2(account, REGION).await;
        let vpc_id = peerwire_emulator::scenario::create_vpc(&ec2, cidr).await?;
        ec2.modify_vpc_attribute()
            .vpc_id(&vpc_id)
            .enable_dns_hostnames(AttributeBooleanValue::builder().value(true).build())
            .send()
            .await
            .map_err(|e| sdk_err("ModifyVpcAttribute", e))?;
        // The main table serves the first subnet; each other subnet gets its own table.
        ec2.describe_route_tables()
            .filters(Filter::builder().name("vpc-id").values(&vpc_id).build())
            .filters(
                Filter::builder()
                    .name("association.main")
                    .values("true")
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_err("DescribeRouteTables", e))?
            .route_tables()
            .first()
            .ok_or("no main route table")?;
        let octets: Vec<&str> = cidr.split('.').take(2).collect();
        let prefix = format!(
            "{}.{}",
            octets.first().unwrap_or(&"10"),
            octets.get(1).unwrap_or(&"0")
        );
        let subnet_cidr = move |i: usize| {
            if tables <= 255 {
                format!("{prefix}.{i}.0/24")
            } else {
                format!("{prefix}.{}.{}/26", i / 4, (i % 4) * 64)
            }
        };

        // Subnets and tables in parallel (a few at a time): 1,000 tables are 3,000 calls.
        let limit = Arc::new(Semaphore::new(6));
        let mut tasks = JoinSet::new();
        for i in 0..tables {
            let (ec2, vpc_id, limit) = (ec2.clone(), vpc_id.clone(), limit.clone());
            let cidr = subnet_cidr(i);
            let zone = format!("{REGION}{}", ["a", "b", "c"][i % 3]);
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await?;
                let subnet = ec2
                    .create_subnet()
                    .vpc_id(&vpc_id)
                    .cidr_block(&cidr)
                    .availability_zone(zone)
                    .send()
                    .await
                    .map_err(|e| sdk_err("CreateSubnet", e))?
                    .subnet()
                    .and_then(|s| s.subnet_id())
                    .map(str::to_owned)
                    .ok_or("CreateSubnet returned no id")?;
                if i == 0 {
                    return Ok::<_, Error>(());
                }
                let table = ec2
                    .create_route_table()
                    .vpc_id(&vpc_id)
                    .send()
                    .await
                    .map_err(|e| sdk_err("CreateRouteTable", e))?
                    .route_table()
                    .and_then(|t| t.route_table_id())
                    .map(str::to_owned)
                    .ok_or("CreateRouteTable returned no id")?;
                ec2.associate_route_table()
                    .route_table_id(&table)
                    .subnet_id(&subnet)
                    .send()
                    .await
                    .map_err(|e| sdk_err("AssociateRouteTable", e))?;
                Ok(())
            });
        }
        while let Some(done) = tasks.join_next().await {
            done??;
        }

        let security_group_id = ec2
            .create_security_group()
            .vpc_id(&vpc_id)
            .group_name(format!("{role}-{vpc_id}"))
            .description(format!("{role} (benchmark)"))
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::SecurityGroup)
                    .tags(Tag::builder().key("role").value(role).build())
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_err("CreateSecurityGroup", e))?
            .group_id()
            .map(str::to_owned)
            .ok_or("CreateSecurityGroup returned no id")?;
        Ok(Vpc {
            account: account.to_owned(),
            vpc_id,
            security_group_id,
        })
    }

    /// `from` asks to peer with `to`, tagged team=payments; returns the peering id.
    pub async fn request(&self, from: &Vpc, to: &Vpc) -> Result<String> {
        let ec2 = self.seeder.ec2(&from.account, REGION).await;
        let mut spec =
            TagSpecification::builder().resource_type(ResourceType::VpcPeeringConnection);
        for (key, value) in PEERING_TAGS {
            spec = spec.tags(Tag::builder().key(*key).value(*value).build());
        }
        ec2.create_vpc_peering_connection()
            .vpc_id(&from.vpc_id)
            .peer_vpc_id(&to.vpc_id)
            .peer_owner_id(&to.account)
            .peer_region(REGION)
            .tag_specifications(spec.build())
            .send()
            .await
            .map_err(|e| sdk_err("CreateVpcPeeringConnection", e))?
            .vpc_peering_connection()
            .and_then(|p| p.vpc_peering_connection_id())
            .map(str::to_owned)
            .ok_or_else(|| "CreateVpcPeeringConnection returned no id".into())
    }

    /// The accepter accepts directly, as a person would.
    pub async fn accept(&self, peering_id: &str) -> Result<()> {
        self.seeder
            .ec2(ACCEPTER_ACCOUNT, REGION)
            .await
            .accept_vpc_peering_connection()
            .vpc_peering_connection_id(peering_id)
            .send()
            .await
            .map_err(|e| sdk_err("AcceptVpcPeeringConnection", e))?;
        Ok(())
    }

    /// Opens TCP `port` from `cidr` in `vpc`'s tagged group, as a person would.
    pub async fn open_port(&self, vpc: &Vpc, port: i32, cidr: &str) -> Result<()> {
        self.seeder
            .ec2(&vpc.account, REGION)
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
            .map_err(|e| sdk_err("AuthorizeSecurityGroupIngress", e))?;
        Ok(())
    }

    /// Routes through `peering_id` in `vpc`, as its owner sees them.
    pub async fn routes_via(&self, vpc: &Vpc, peering_id: &str) -> Result<usize> {
        let ec2 = self.seeder.ec2(&vpc.account, REGION).await;
        let tables = ec2
            .describe_route_tables()
            .filters(Filter::builder().name("vpc-id").values(&vpc.vpc_id).build())
            .send()
            .await
            .map_err(|e| sdk_err("DescribeRouteTables", e))?;
        Ok(tables
            .route_tables()
            .iter()
            .flat_map(|t| t.routes())
            .filter(|r| r.vpc_peering_connection_id() == Some(peering_id))
            .count())
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.policy);
    }
}

/// The product's [`App`] against `endpoint`, built as `App::from_env` would (hub credentials
/// of the emulator, member roles through STS, the policy file), with a fresh call log.
pub async fn app_for(
    endpoint: &str,
    policy: &Path,
    budget: Budget,
    timed: Option<&TimedLog>,
) -> App {
    let calls = CallLog::default();
    let mut http = calls.wrap(default_https_client());
    if let Some(timed) = timed {
        http = timed.wrap(http);
    }
    let hub = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "emulator"))
        .http_client(http)
        .load()
        .await;
    let config = Config {
        policy: PolicySource::File(policy.to_owned()),
        policy_ttl: Duration::from_secs(60),
        roles: scenario::roles(),
        outcome_bus: "default".into(),
        ledger_table: None,
        organizations_role_arn: None,
    };
    let aws =
        AwsContext::new(hub, scenario::roles(), calls).with_write_budget(budget.write_budget());
    App::new(&config, aws)
}

/// The CloudTrail `AcceptVpcPeeringConnection` event for `peering_id`.
pub fn accepted_event(n: usize, peering_id: &str) -> Value {
    peerwire_emulator::samples::cloudtrail_accept_peering(
        &event_id(n),
        peering_id,
        ACCEPTER_ACCOUNT,
        REGION,
    )
}

/// The CloudTrail `CreateVpcPeeringConnection` event for a request from `from` to `to`.
pub fn requested_event(n: usize, peering_id: &str, from: &Vpc, to: &Vpc) -> Value {
    let id = event_id(n);
    peerwire_emulator::samples::cloudtrail_create_peering(
        &peerwire_emulator::samples::PeeringRequestEvent {
            event_id: &id,
            peering_id,
            requester_account: &from.account,
            requester_vpc: &from.vpc_id,
            accepter_account: &to.account,
            accepter_vpc: &to.vpc_id,
            region: REGION,
        },
    )
}

/// The scheduled sweep event.
pub fn sweep_event(n: usize) -> Value {
    peerwire_emulator::samples::schedule_sweep(&event_id(n))
}

fn event_id(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}
