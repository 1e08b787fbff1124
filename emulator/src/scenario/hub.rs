//! Peerings between seeded VPCs, and a hub of them: one accepter VPC per region and many
//! requester VPCs across accounts, every request made at once; plus what a person does to
//! seeded VPCs by hand (accept, open a port, fill a group's outbound rules) and the routes
//! through each peering, read back.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_ec2::types::Filter;

use super::side::{all_traffic_anywhere, tcp_permission};
use super::vpcs::in_parallel;
use super::{accept_peering, create_peering, seed_err, seed_vpcs, SeededVpc, Seeder, VpcSpec};
use crate::EmulatorError;

/// `from`'s account asks to peer `from` with `to` (same region or not), tagging its own view of
/// the request with `tags`. Returns the peering id.
pub async fn request_peering_between(
    seeder: &Seeder,
    from: &SeededVpc,
    to: &SeededVpc,
    tags: &[(&str, &str)],
) -> Result<String, EmulatorError> {
    let ec2 = seeder.ec2(&from.account, &from.region).await?;
    create_peering(&ec2, &from.vpc_id, to.target(), tags).await
}

/// The owner of `accepter` accepts `peering_id` directly, as a person would.
pub async fn accept_peering_as_owner(
    seeder: &Seeder,
    accepter: &SeededVpc,
    peering_id: &str,
) -> Result<(), EmulatorError> {
    let ec2 = seeder.ec2(&accepter.account, &accepter.region).await?;
    accept_peering(&ec2, peering_id).await
}

/// The owner of `vpc` deletes `peering_id`, as a person would.
pub async fn delete_peering_as_owner(
    seeder: &Seeder,
    vpc: &SeededVpc,
    peering_id: &str,
) -> Result<(), EmulatorError> {
    seeder
        .ec2(&vpc.account, &vpc.region)
        .await?
        .delete_vpc_peering_connection()
        .vpc_peering_connection_id(peering_id)
        .send()
        .await
        .map_err(|e| seed_err("DeleteVpcPeeringConnection", e))?;
    Ok(())
}

/// Opens TCP `port` from `cidr` in `vpc`'s tagged group, as a person would.
pub async fn open_port(
    seeder: &Seeder,
    vpc: &SeededVpc,
    port: i32,
    cidr: &str,
) -> Result<(), EmulatorError> {
    seeder
        .ec2(&vpc.account, &vpc.region)
        .await?
        .authorize_security_group_ingress()
        .group_id(&vpc.security_group_id)
        .ip_permissions(tcp_permission(
            port,
            cidr,
            Some("opened by hand before peerwire"),
        ))
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
    seeder: &Seeder,
    vpc: &SeededVpc,
    rules: usize,
) -> Result<(), EmulatorError> {
    use aws_sdk_ec2::types::{IpPermission, IpRange};
    if rules > 65_536 {
        return Err(EmulatorError::Seed(format!(
            "{rules} rules do not fit 192.168.0.0/16"
        )));
    }
    let ec2 = seeder.ec2(&vpc.account, &vpc.region).await?;
    ec2.revoke_security_group_egress()
        .group_id(&vpc.security_group_id)
        .ip_permissions(all_traffic_anywhere())
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
    seeder: &Seeder,
    vpcs: &[&SeededVpc],
) -> Result<HashMap<String, usize>, EmulatorError> {
    let mut groups: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for vpc in vpcs {
        groups
            .entry((vpc.account.as_str(), vpc.region.as_str()))
            .or_default()
            .push(vpc.vpc_id.as_str());
    }
    let mut counts = HashMap::new();
    for ((account, region), ids) in groups {
        let ec2 = seeder.ec2(account, region).await?;
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
        seeder: &Seeder,
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
            let ec2 = seeder.ec2(&requester.account, &requester.region).await?;
            jobs.push((ec2, requester.vpc_id.clone(), to, index, accepter));
        }
        let tags = spec.peering_tags.clone();
        let peerings = in_parallel(jobs, parallel, |(ec2, from, to, requester, accepter)| {
            let tags = tags.clone();
            async move {
                Ok(HubPeering {
                    peering_id: create_peering(&ec2, &from, to.target(), &tags).await?,
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
    pub async fn accept_all(&self, seeder: &Seeder, parallel: usize) -> Result<(), EmulatorError> {
        let mut jobs = Vec::with_capacity(self.peerings.len());
        for peering in &self.peerings {
            let accepter = self
                .accepters
                .get(peering.accepter)
                .ok_or_else(|| EmulatorError::Seed("no such accepter".into()))?;
            let ec2 = seeder.ec2(&accepter.account, &accepter.region).await?;
            jobs.push((ec2, peering.peering_id.clone()));
        }
        in_parallel(jobs, parallel, |(ec2, id)| async move {
            accept_peering(&ec2, &id).await
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
    use crate::scenario::ACCEPTER_ACCOUNT;

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
