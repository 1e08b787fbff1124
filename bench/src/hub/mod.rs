//! The hub at scale: P peerings across A requester accounts and R regions into one accepter
//! account (one accepter VPC per region), every VPC with T route tables, accepted by a person,
//! so that the `peering-wiring` sweep does all the work.
//!
//! Three worlds, each on its own emulator, each sweep in a child process of this binary
//! (`hub-sweep`, the product alone in a process, as in Lambda):
//!
//! 1. **Fresh, then converged**: calls per operation against the minimum derived from first
//!    principles, the wall time against the floor the EC2 write bucket sets, and peak RSS;
//!    then a second sweep of the same process, which must only read; then `peerwire status` in a
//!    new process, against its own minimum (the converged reads and the orphan search).
//! 2. **Deadline**: the first sweep's deadline stops it early, the next sweep finishes; every
//!    peering is reported `Peering Wired` exactly once across both, and the second starts with
//!    what the first did not reach (the ledger's cursor).
//! 3. **Faults**: a requester account whose member role cannot be assumed, one whose role may
//!    not `CreateRoute`, and one requester group whose outbound rules are at the quota; every
//!    other peering converges in one sweep.

//!
//! `world` seeds a hub and runs the sweeps in a child; `minimum` derives what a sweep cannot do
//! with less (calls, wall time); `fresh`, `deadline` and `faults` are the three runs.

mod deadline;
mod faults;
mod fresh;
mod minimum;
mod world;

use std::time::Instant;

use peerwire_emulator::scenario::{HubSpec, ACCEPTER_ACCOUNT};
use serde_json::Value;

use crate::world::{Budget, Result, PEERING_TAGS, WIRING_POLICY};

/// The shape of a hub.
#[derive(Debug, Clone)]
pub struct Shape {
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    /// Requester VPCs per account and region.
    pub vpcs: usize,
    /// Route tables (and subnets) per VPC, both sides.
    pub tables: usize,
}

impl Shape {
    /// `peerings` spread over at most `accounts` requester accounts in `regions`: every
    /// account gets the same number of VPCs in every region.
    pub fn new(
        peerings: usize,
        accounts: usize,
        regions: Vec<String>,
        tables: usize,
    ) -> Result<Self> {
        let r = regions.len();
        if r == 0 || peerings < r {
            return Err("at least one peering per region".into());
        }
        let a = accounts.clamp(1, peerings / r);
        if !peerings.is_multiple_of(a * r) {
            return Err(format!(
                "{peerings} peerings do not spread evenly over {a} accounts × {r} regions"
            )
            .into());
        }
        Ok(Self {
            accounts: (1..=a)
                .map(|k| format!("{}", 300_000_000_000u64 + k as u64))
                .collect(),
            regions,
            vpcs: peerings / (a * r),
            tables: tables.max(1),
        })
    }

    pub fn peerings(&self) -> usize {
        self.accounts.len() * self.regions.len() * self.vpcs
    }

    fn per_region(&self) -> usize {
        self.accounts.len() * self.vpcs
    }

    /// Routes per table and rules per group: AWS's defaults (50, 60) do not hold one route
    /// and one rule per peer of a 250-peer accepter VPC, so the hub has them raised (both
    /// are adjustable, to 1,000) to the next 50 above its peers per region plus 10.
    pub fn quota(&self) -> usize {
        (self.per_region() + 10).div_ceil(50).max(2) * 50
    }

    fn spec(&self) -> HubSpec {
        HubSpec {
            accepter_account: ACCEPTER_ACCOUNT.to_owned(),
            regions: self.regions.clone(),
            requester_accounts: self.accounts.clone(),
            vpcs_per_account_region: self.vpcs,
            route_tables: self.tables,
            peering_tags: PEERING_TAGS
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// `WIRING_POLICY` with its one rule naming every requester account, and the accepter and
    /// the rule covering every region.
    pub fn policy(&self) -> Result<String> {
        let accounts = self
            .accounts
            .iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let regions = self.regions.join(", ");
        let mut policy = WIRING_POLICY.to_owned();
        for (from, to) in [
            (
                "requester_accounts: [\"111111111111\"]".to_owned(),
                format!("requester_accounts: [{accounts}]"),
            ),
            (
                "regions: [us-east-1]".to_owned(),
                format!("regions: [{regions}]"),
            ),
        ] {
            if !policy.contains(&from) {
                return Err(format!("WIRING_POLICY has no `{from}` any more").into());
            }
            policy = policy.replace(&from, &to);
        }
        peerwire::policy::Policy::parse(&policy)
            .map_err(|e| format!("the hub policy does not parse: {e}"))?;
        Ok(policy)
    }
}

/// What `hub` runs.
#[derive(Debug, Clone)]
pub struct Args {
    pub shape: Shape,
    pub budget: Budget,
    /// The deadline run's first sweep gets `SAFETY_MARGIN + cut × (fresh sweep's wall)`.
    pub cut: f64,
    pub deadline: bool,
    pub faults: bool,
    pub parallel: usize,
    /// Added to every call at the emulator once a world is seeded.
    pub latency_ms: u64,
}

/// Runs the three worlds in turn and prints each one's figures (Markdown on stdout, progress on
/// stderr).
pub async fn run(args: Args) -> Result<()> {
    let shape = &args.shape;
    let policy = shape.policy()?;
    let all = Instant::now();
    println!(
        "# Hub of {} peerings\n\n{} requester accounts × {} regions ({}) × {} VPCs each, into \
         account {ACCEPTER_ACCOUNT} (one accepter VPC per region); {} route tables (and subnets) \
         per VPC, both sides; the policy fixture `WIRING_POLICY` with its rule naming the {} \
         accounts and regions (tags required on the requester's view: read through its role). \
         Peerings accepted by a person; quotas raised to {} routes per table and {} rules per \
         group. Write budget: {}. Ledger table and outcome capture configured. Latency added to \
         every call of the sweeps (not the seeding): {} ms.\n",
        shape.peerings(),
        shape.accounts.len(),
        shape.regions.len(),
        shape.regions.join(", "),
        shape.vpcs,
        shape.tables,
        shape.accounts.len(),
        shape.quota(),
        shape.quota(),
        args.budget,
        args.latency_ms
    );
    let wall = fresh::run(&args, &policy).await?;
    if args.deadline {
        deadline::run(&args, &policy, wall).await?;
    }
    if args.faults {
        faults::run(&args, &policy).await?;
    }
    println!("Whole benchmark: {:.0} s.", secs(all));
    Ok(())
}

fn secs(since: Instant) -> f64 {
    since.elapsed().as_secs_f64()
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(kb: &Value) -> String {
    kb.as_f64()
        .map(|kb| format!("{:.1} MiB", kb / 1024.0))
        .unwrap_or_else(|| "?".into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_hub_spreads_evenly_and_names_every_account_in_the_policy() {
        let regions = || vec!["us-east-1".to_owned(), "us-west-2".to_owned()];
        let hub = Shape::new(500, 50, regions(), 3).unwrap();
        assert_eq!((hub.accounts.len(), hub.vpcs, hub.peerings()), (50, 5, 500));
        assert_eq!(hub.quota(), 300);
        let smoke = Shape::new(20, 50, regions(), 3).unwrap();
        assert_eq!((smoke.accounts.len(), smoke.vpcs), (10, 1));
        assert!(Shape::new(21, 50, regions(), 3).is_err());
        let policy = hub.policy().unwrap();
        assert!(policy.contains("\"300000000050\""));
        assert!(policy.contains("regions: [us-east-1, us-west-2]"));
    }

    #[test]
    fn budgets_parse() {
        assert_eq!("ec2".parse::<Budget>().unwrap(), Budget::Ec2);
        assert_eq!("scaled".parse::<Budget>().unwrap(), Budget::Scaled(4.0));
        let b = "scaled:2".parse::<Budget>().unwrap().write_budget();
        assert_eq!((b.burst, b.per_second), (100, 10.0));
        assert!("fast".parse::<Budget>().is_err());
    }
}
