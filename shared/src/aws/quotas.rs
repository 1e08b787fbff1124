//! The VPC quotas of an account and region, read from Service Quotas through the member role
//! once per process (they change rarely, and a raise takes effect for later runs), with the
//! AWS defaults when the role may not read them. Only read once a plan would add routes or
//! rules: a converged peering costs no quota call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as SyncMutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::clients::AwsContext;
use crate::aws::error::from_sdk;
use peerwire_core::error::{AwsError, AwsErrorKind, Result};
use peerwire_core::model::{Location, Quotas};

/// Service Quotas codes of the quotas a wiring plan must respect.
const ROUTES_PER_TABLE: &str = "L-93826ACB";
const RULES_PER_GROUP: &str = "L-0EA8095F";

/// How long read quotas are reused.
const FRESH: Duration = Duration::from_secs(3600);

/// Quotas per account and region, cached for the process. One cell per account and region:
/// the first asker reads while concurrent askers (a sweep's peerings of one account) wait for
/// its answer instead of reading again.
#[derive(Debug, Default)]
pub struct QuotaBook {
    cells: SyncMutex<HashMap<Location, Cell>>,
}

/// The quotas of one account and region as read, and when; empty until the first read.
type Cell = Arc<Mutex<Option<(Instant, Quotas)>>>;

impl QuotaBook {
    /// The quotas of the account of `at` in its region: two `GetServiceQuota` calls the first
    /// time. When the member role may not read them (or Service Quotas does not know them),
    /// the AWS defaults, saying so.
    pub async fn quotas(&self, aws: &AwsContext, at: &Location) -> Result<Quotas> {
        let cell = self
            .cells
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(at.clone())
            .or_default()
            .clone();
        let mut cached = cell.lock().await;
        if let Some((at, quotas)) = cached.as_ref() {
            if at.elapsed() < FRESH {
                return Ok(quotas.clone());
            }
        }
        let client = aws.servicequotas(at).await;
        let read = |code: &'static str| {
            let client = client.clone();
            async move {
                let answer = client
                    .get_service_quota()
                    .service_code("vpc")
                    .quota_code(code)
                    .send()
                    .await
                    .map_err(|e| from_sdk("GetServiceQuota", e))?;
                Ok::<Option<u32>, AwsError>(
                    answer
                        .quota()
                        .and_then(|q| q.value())
                        .filter(|v| v.is_finite() && *v >= 0.0)
                        .map(|v| v as u32),
                )
            }
        };
        // The two quotas are independent reads: both go out at once.
        let quotas = match tokio::join!(read(ROUTES_PER_TABLE), read(RULES_PER_GROUP)) {
            (Ok(Some(routes)), Ok(Some(rules))) => Quotas {
                routes_per_table: routes,
                rules_per_group: rules,
                prefix_list_entries: Default::default(),
                source: "Service Quotas".to_owned(),
            },
            (Err(err), _) | (_, Err(err)) if err.is_transient() => return Err(err.into()),
            (Err(err), _) | (_, Err(err)) => Quotas::defaults(match err.kind {
                AwsErrorKind::AccessDenied => {
                    "the member role may not read Service Quotas".to_owned()
                }
                _ => err.to_string(),
            }),
            _ => Quotas::defaults("Service Quotas gave no value"),
        };
        *cached = Some((Instant::now(), quotas.clone()));
        Ok(quotas)
    }
}
