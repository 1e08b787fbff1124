//! Loads the policy from SSM (or a file for local runs) and reuses it for a short TTL, so a
//! burst of events costs one `GetParameter`, and an edit takes effect within the TTL.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use crate::aws::error::from_sdk;
use crate::config::PolicySource;
use peerwire_core::error::{Error, Result};
use peerwire_core::policy::Policy;

/// The current policy, cached for `ttl`.
#[derive(Debug)]
pub struct PolicyStore {
    source: PolicySource,
    ttl: Duration,
    ssm: aws_sdk_ssm::Client,
    cached: Mutex<Option<(Instant, Arc<Policy>)>>,
}

impl PolicyStore {
    pub fn new(source: PolicySource, ttl: Duration, ssm: aws_sdk_ssm::Client) -> Self {
        Self {
            source,
            ttl,
            ssm,
            cached: Mutex::default(),
        }
    }

    /// The policy, re-read when the cached copy is older than the TTL. An invalid document is
    /// a permanent error: nothing is accepted under a policy that does not parse.
    pub async fn current(&self) -> Result<Arc<Policy>> {
        let mut cached = self.cached.lock().await;
        if let Some((loaded, policy)) = cached.as_ref() {
            if loaded.elapsed() < self.ttl {
                return Ok(policy.clone());
            }
        }
        let text = match &self.source {
            PolicySource::File(path) => tokio::fs::read_to_string(path).await.map_err(|e| {
                Error::Config(format!("cannot read policy file {}: {e}", path.display()))
            })?,
            PolicySource::SsmParameter(name) => self
                .ssm
                .get_parameter()
                .name(name)
                .with_decryption(true)
                .send()
                .await
                .map_err(|e| from_sdk("GetParameter", e))?
                .parameter()
                .and_then(|p| p.value())
                .map(str::to_owned)
                .ok_or_else(|| Error::Response {
                    operation: "GetParameter",
                    detail: format!("parameter {name} has no value"),
                })?,
        };
        let policy = Arc::new(Policy::parse(&text)?);
        *cached = Some((Instant::now(), policy.clone()));
        Ok(policy)
    }
}
