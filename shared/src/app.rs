//! What a function builds once at cold start and lends to every invocation.

use crate::aws::clients::AwsContext;
use crate::aws::ledger::Ledger;
use crate::aws::organizations::Directory;
use crate::aws::outcome_bus::OutcomeBus;
use crate::aws::permissions::Job;
use crate::aws::policy_store::PolicyStore;
use crate::aws::quotas::QuotaBook;
use crate::config::Config;
use peerwire_core::error::Result;

/// Clients, policy and outcome bus of one process.
#[derive(Debug)]
pub struct App {
    pub aws: AwsContext,
    pub policies: PolicyStore,
    pub outcomes: OutcomeBus,
    pub ledger: Ledger,
    pub organisation: Directory,
    pub quotas: QuotaBook,
}

impl App {
    /// Reads the configuration and the AWS environment for a process doing `job` in member
    /// accounts (its session policy). Called once per cold start.
    pub async fn from_env(job: Job) -> Result<Self> {
        let config = Config::from_env()?;
        let aws = AwsContext::from_env(config.roles.clone())
            .await
            .with_write_budget(crate::config::write_budget_from_lookup(|name| {
                std::env::var(name).ok()
            })?)
            .with_session_policy(job.session_policy());
        Ok(Self::new(&config, aws))
    }

    /// Builds the app on an existing AWS context (tests point it at the emulator).
    pub fn new(config: &Config, aws: AwsContext) -> Self {
        let ssm = aws_sdk_ssm::Client::new(aws.base());
        let dynamodb = aws_sdk_dynamodb::Client::new(aws.base());
        Self {
            policies: PolicyStore::new(config.policy.clone(), config.policy_ttl, ssm),
            outcomes: OutcomeBus::new(aws.events().clone(), config.outcome_bus.clone()),
            ledger: Ledger::new(dynamodb, config.ledger_table.clone()),
            // An account moved between OUs counts from the next policy reload on.
            organisation: Directory::new(config.organizations_role_arn.clone(), config.policy_ttl),
            quotas: QuotaBook::default(),
            aws,
        }
    }
}
