//! Clients for the hub account and for each member account reached through STS.
//!
//! Built once per process (at cold start) and shared by every invocation. Credentials for a
//! member role are assumed on first use and cached for the life of the process; the SDK's
//! identity cache refreshes them before they expire.

use std::collections::HashMap;

use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_types::region::Region;
use tokio::sync::Mutex;

use super::calls::CallLog;
use super::throttle::{WriteBudget, WriteLimiter};
use crate::config::RoleConfig;
use peerwire_core::model::{AccountId, Location};

/// The hub's clients plus a cache of member-account clients.
#[derive(Debug)]
pub struct AwsContext {
    base: SdkConfig,
    roles: RoleConfig,
    calls: CallLog,
    /// One SDK config per member role: its credential provider and identity cache are shared
    /// by every region's client, so a role is assumed once, not once per region.
    role_configs: Mutex<HashMap<String, SdkConfig>>,
    ec2: Mutex<HashMap<Location, aws_sdk_ec2::Client>>,
    rds: Mutex<HashMap<Location, aws_sdk_rds::Client>>,
    write_budget: WriteBudget,
    /// Narrows every member role to one function's job (see `aws::permissions`).
    session_policy: Option<String>,
    events: aws_sdk_eventbridge::Client,
}

impl AwsContext {
    /// Loads the hub configuration from the standard AWS environment (`AWS_REGION`,
    /// `AWS_ENDPOINT_URL`, profiles, the Lambda role) and records every call in a new log.
    pub async fn from_env(roles: RoleConfig) -> Self {
        let calls = CallLog::default();
        let http = calls.wrap(default_https_client());
        // A stalled connection must fail the attempt (and be retried) well before the Lambda
        // timeout, not hang until it.
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(std::time::Duration::from_secs(3))
            .operation_attempt_timeout(std::time::Duration::from_secs(10))
            .operation_timeout(std::time::Duration::from_secs(30))
            .build();
        let base = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .timeout_config(timeouts)
            .load()
            .await;
        Self::new(base, roles, calls)
    }

    /// Uses `base` as the hub configuration. Its HTTP client should come from
    /// [`CallLog::wrap`] on `calls` for the call log to see anything.
    pub fn new(base: SdkConfig, roles: RoleConfig, calls: CallLog) -> Self {
        let events = aws_sdk_eventbridge::Client::new(&base);
        Self {
            base,
            roles,
            calls,
            role_configs: Mutex::default(),
            ec2: Mutex::default(),
            rds: Mutex::default(),
            write_budget: WriteBudget::default(),
            session_policy: None,
            events,
        }
    }

    /// Assumes every member role with `policy` as the session policy: the function can then do
    /// no more than its own job, whatever the member role allows.
    pub fn with_session_policy(mut self, policy: Option<String>) -> Self {
        self.session_policy = policy;
        self
    }

    /// Replaces the EC2 write budget of every member account and region (default: EC2's own
    /// bucket, a burst of 50 then 5 per second). Applies to clients created afterwards.
    pub fn with_write_budget(mut self, budget: WriteBudget) -> Self {
        self.write_budget = budget;
        self
    }

    /// The hub's own configuration (its region is the default region).
    pub fn base(&self) -> &SdkConfig {
        &self.base
    }

    /// Every AWS call made through this context.
    pub fn calls(&self) -> &CallLog {
        &self.calls
    }

    /// The hub's EventBridge client, for outcome events.
    pub fn events(&self) -> &aws_sdk_eventbridge::Client {
        &self.events
    }

    /// An EC2 client acting as the account of `at` in its region, through the member role
    /// with the configured ExternalId.
    pub async fn ec2(&self, at: &Location) -> aws_sdk_ec2::Client {
        if let Some(client) = self.ec2.lock().await.get(at) {
            return client.clone();
        }
        let config = self.role_config(&at.account).await;
        let mut ec2_config = aws_sdk_ec2::config::Builder::from(&config).region(region_of(at));
        // EC2 budgets mutating calls per account and region: one bucket per client.
        if let Some(http) = config.http_client() {
            let limiter = WriteLimiter::new(self.write_budget).with_reads(WriteBudget::EC2_READS);
            ec2_config = ec2_config.http_client(limiter.wrap(http));
        }
        let ec2_config = ec2_config.build();
        let client = aws_sdk_ec2::Client::from_conf(ec2_config);
        self.ec2.lock().await.insert(at.clone(), client.clone());
        client
    }

    /// An RDS client acting as the account of `at` in its region, sharing the EC2 client's
    /// credentials.
    pub async fn rds(&self, at: &Location) -> aws_sdk_rds::Client {
        if let Some(client) = self.rds.lock().await.get(at) {
            return client.clone();
        }
        let config = self.role_config(&at.account).await;
        let rds_config = aws_sdk_rds::config::Builder::from(&config)
            .region(region_of(at))
            .build();
        let client = aws_sdk_rds::Client::from_conf(rds_config);
        self.rds.lock().await.insert(at.clone(), client.clone());
        client
    }

    /// The SDK configuration acting as `account` through its member role (assumed once, shared
    /// by every client of that account): for clients of services this crate does not build,
    /// such as diagnose's CloudWatch Logs reads.
    pub async fn role_config(&self, account: &AccountId) -> SdkConfig {
        self.assumed(
            &self.roles.role_arn(account.as_str()),
            self.session_policy.as_deref(),
        )
        .await
    }

    /// A Service Quotas client acting as the account of `at` in its region (the member role
    /// may read the VPC quotas peerwire checks before it writes).
    pub async fn servicequotas(&self, at: &Location) -> aws_sdk_servicequotas::Client {
        let config = self.role_config(&at.account).await;
        let config = aws_sdk_servicequotas::config::Builder::from(&config)
            .region(region_of(at))
            .build();
        aws_sdk_servicequotas::Client::from_conf(config)
    }

    /// A Route 53 client acting as the account of `at`. Route 53 is global: the region only
    /// picks the partition (the SDK's endpoint rules send every region of a partition to its
    /// one global endpoint), so passing the VPC's region is right in every partition.
    pub async fn route53(&self, at: &Location) -> aws_sdk_route53::Client {
        let config = self.role_config(&at.account).await;
        let config = aws_sdk_route53::config::Builder::from(&config)
            .region(region_of(at))
            .build();
        aws_sdk_route53::Client::from_conf(config)
    }

    /// An AWS Organizations client through `role_arn` (a role in the management or
    /// delegated-administrator account), with the configured ExternalId, at the endpoint of
    /// the hub's partition ([`organizations_region`]).
    pub async fn organizations(&self, role_arn: &str) -> aws_sdk_organizations::Client {
        let config = self.assumed(role_arn, None).await;
        let hub = self.base.region().map_or("us-east-1", |r| r.as_ref());
        let config = aws_sdk_organizations::config::Builder::from(&config)
            .region(Region::new(organizations_region(hub)))
            .build();
        aws_sdk_organizations::Client::from_conf(config)
    }

    /// The hub configuration acting as `role_arn`, assumed once per process and role (with
    /// `session_policy` narrowing it, when given); its identity cache refreshes the credentials
    /// before they expire.
    async fn assumed(&self, role_arn: &str, session_policy: Option<&str>) -> SdkConfig {
        let role_arn = role_arn.to_owned();
        let mut configs = self.role_configs.lock().await;
        if let Some(config) = configs.get(&role_arn) {
            return config.clone();
        }
        let mut builder = AssumeRoleProvider::builder(role_arn.clone())
            .external_id(self.roles.external_id.clone())
            .session_name(self.roles.session_name.clone());
        if let Some(policy) = session_policy {
            builder = builder.policy(policy);
        }
        let provider = builder.configure(&self.base).build().await;
        let config = self
            .base
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
        configs.insert(role_arn, config.clone());
        config
    }
}

/// The region of the one endpoint that serves AWS Organizations in the partition of
/// `hub_region`. Organizations User Guide, "Region support for AWS Organizations": "The service
/// endpoints for Organizations are located: In US East (N. Virginia) for commercial
/// organizations; In AWS GovCloud (US-West) for AWS GovCloud (US) organizations; In China
/// (Ningxia) for China organizations".
pub fn organizations_region(hub_region: &str) -> &'static str {
    if hub_region.starts_with("cn-") {
        "cn-northwest-1"
    } else if hub_region.starts_with("us-gov-") {
        "us-gov-west-1"
    } else {
        "us-east-1"
    }
}

fn region_of(at: &Location) -> Region {
    Region::new(at.region.as_str().to_owned())
}

/// The SDK's default HTTPS client (rustls with aws-lc), built explicitly so it can be wrapped.
pub fn default_https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .build_https()
}

#[cfg(test)]
mod tests {
    use super::organizations_region;

    #[test]
    fn organizations_is_reached_in_the_hubs_partition() {
        assert_eq!(organizations_region("eu-west-1"), "us-east-1");
        assert_eq!(organizations_region("us-east-1"), "us-east-1");
        assert_eq!(organizations_region("cn-north-1"), "cn-northwest-1");
        assert_eq!(organizations_region("us-gov-east-1"), "us-gov-west-1");
    }
}
