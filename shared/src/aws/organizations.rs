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
use crate::aws::error::from_sdk;
use peerwire_core::error::{AwsError, Result};
use peerwire_core::model::{AccountId, OrganizationalUnitId};
use peerwire_core::policy::Membership;

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
        .map_err(|e| from_sdk("DescribeAccount", e))?;
    let inactive = described.account().and_then(inactive_state);
    let mut ous = Vec::new();
    let mut child = account.to_string();
    for _ in 0..MAX_DEPTH {
        let parents = client
            .list_parents()
            .child_id(&child)
            .send()
            .await
            .map_err(|e| from_sdk("ListParents", e))?;
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
    Ok(Membership::Known { ous, inactive })
}

/// The state of an account that must match no rule by OU: `SUSPENDED`, `PENDING_CLOSURE` or
/// `CLOSED`, from `State` (Organizations API reference, Account: `PENDING_ACTIVATION | ACTIVE |
/// SUSPENDED | PENDING_CLOSURE | CLOSED`) or else from `Status` (`ACTIVE | SUSPENDED |
/// PENDING_CLOSURE`, which AWS retires on 2026-09-09 in favour of `State`). `None` for an
/// active account, and for one still being activated (a vended account's first minutes).
fn inactive_state(account: &aws_sdk_organizations::types::Account) -> Option<String> {
    let from_state = account.state().and_then(|state| match state {
        AccountState::Suspended | AccountState::PendingClosure | AccountState::Closed => {
            Some(state.as_str().to_owned())
        }
        _ => None,
    });
    let from_status = account.status().and_then(|status| match status {
        AccountStatus::Suspended | AccountStatus::PendingClosure => {
            Some(status.as_str().to_owned())
        }
        _ => None,
    });
    from_state.or(from_status)
}
