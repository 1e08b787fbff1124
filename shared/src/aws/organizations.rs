//! Which organizational units an account sits in, through AWS Organizations: for rules that
//! allow by OU (vended accounts arrive in an OU, and nobody edits the policy for them).
//!
//! Calls, per account and at most once per cache lifetime: `ListParents` from the account up
//! to the root (one call per level; OUs nest at most 5 deep), and `DescribeAccount` for its
//! status. Made through a role in the management or delegated-administrator account
//! (`PEERWIRE_ORGANIZATIONS_ROLE_ARN`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_organizations::types::{AccountState, AccountStatus, ParentType};
use tokio::sync::Mutex;

use super::clients::AwsContext;
use crate::error::{AwsError, Result};
use crate::model::{AccountId, OrganizationalUnitId};
use crate::policy::Membership;

/// AWS Organizations allows OUs five levels deep; a longer walk is a loop.
const MAX_DEPTH: usize = 8;

/// The organisation's answers, cached per account.
#[derive(Debug)]
pub struct Directory {
    role_arn: Option<String>,
    ttl: Duration,
    cache: Mutex<HashMap<AccountId, (Instant, Membership)>>,
}

impl Directory {
    /// `role_arn`: the role to ask through; `None` disables OU rules (they stay unverified).
    pub fn new(role_arn: Option<String>, ttl: Duration) -> Self {
        Self {
            role_arn,
            ttl,
            cache: Mutex::default(),
        }
    }

    /// The OUs `account` sits in (parent first) and whether it is suspended; `Unknown` when
    /// the lookup is not configured or fails permanently. A transient failure is an error, so
    /// that the run is retried instead of holding the request.
    pub async fn membership(&self, aws: &AwsContext, account: &AccountId) -> Result<Membership> {
        let Some(role_arn) = &self.role_arn else {
            return Ok(Membership::Unknown(
                "no organisation role is configured (PEERWIRE_ORGANIZATIONS_ROLE_ARN)".to_owned(),
            ));
        };
        if let Some((at, known)) = self.cache.lock().await.get(account) {
            if at.elapsed() < self.ttl {
                return Ok(known.clone());
            }
        }
        let client = aws.organizations(role_arn).await;
        let membership = match lookup(&client, account).await {
            Ok(membership) => membership,
            Err(err) if err.is_transient() => return Err(err.into()),
            Err(err) => Membership::Unknown(err.to_string()),
        };
        self.cache
            .lock()
            .await
            .insert(account.clone(), (Instant::now(), membership.clone()));
        Ok(membership)
    }
}

async fn lookup(
    client: &aws_sdk_organizations::Client,
    account: &AccountId,
) -> std::result::Result<Membership, AwsError> {
    let described = client
        .describe_account()
        .account_id(account.as_str())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeAccount", e))?;
    let suspended = described.account().is_some_and(|a| {
        a.status() == Some(&AccountStatus::Suspended)
            || matches!(
                a.state(),
                Some(AccountState::Suspended | AccountState::Closed)
            )
    });
    let mut ous = Vec::new();
    let mut child = account.to_string();
    for _ in 0..MAX_DEPTH {
        let parents = client
            .list_parents()
            .child_id(&child)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ListParents", e))?;
        // Every account and OU has exactly one parent.
        let Some(parent) = parents.parents().first() else {
            break;
        };
        let Some(id) = parent.id() else {
            break;
        };
        if parent.r#type() != Some(&ParentType::OrganizationalUnit) {
            break; // the root
        }
        if let Ok(ou) = id.parse::<OrganizationalUnitId>() {
            ous.push(ou);
        }
        child = id.to_owned();
    }
    Ok(Membership::Known { ous, suspended })
}
