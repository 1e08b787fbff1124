//! A small DynamoDB table in the hub: what peerwire has already said or is already doing,
//! where EC2 itself offers no compare-and-set. Each item is a key, an optional list of ids,
//! and an `expires_at` (epoch seconds) that DynamoDB's TTL uses to delete it.
//!
//! - `claim`: a conditional `PutItem` that succeeds for one caller only while the item lives
//!   (DynamoDB's TTL deletes late, up to days, so the condition checks `expires_at` itself).
//!   Identical events handled at once: one claims the plan and applies and reports it.
//! - `hold`: shortens a claim once its work is done, so that a later identical plan (the same
//!   drift again) is not mistaken for a duplicate for long.
//! - `ids`/`set_ids`: the sweep's "not reached" list, so the next run starts with them.
//! - `add_ids`: an atomic `UpdateItem ... ADD` to a string set: the places (account and Region)
//!   peerwire ever wrote in, which the orphan sweep searches beyond the policy's scopes.
//!
//! Without a table (`PEERWIRE_LEDGER_TABLE` unset, e.g. local runs), every claim succeeds and
//! no list is kept: duplicates may each publish, and every reminder goes out.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;

use crate::aws::error::from_sdk;
use peerwire_core::error::Result;

const KEY: &str = "pk";
const EXPIRES: &str = "expires_at";
const IDS: &str = "ids";

/// The ledger, or its absence.
#[derive(Debug, Clone)]
pub struct Ledger {
    table: Option<(aws_sdk_dynamodb::Client, String)>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

impl Ledger {
    pub fn new(client: aws_sdk_dynamodb::Client, table: Option<String>) -> Self {
        Self {
            table: table.map(|t| (client, t)),
        }
    }

    /// No table: every claim succeeds.
    pub fn disabled() -> Self {
        Self { table: None }
    }

    /// Takes `key` for `ttl` unless someone holds it: `true` for the one caller that got it.
    pub async fn claim(&self, key: &str, ttl: Duration) -> Result<bool> {
        let Some((client, table)) = &self.table else {
            return Ok(true);
        };
        let now = now();
        let result = client
            .put_item()
            .table_name(table)
            .item(KEY, AttributeValue::S(key.to_owned()))
            .item(
                EXPIRES,
                AttributeValue::N((now + ttl.as_secs()).to_string()),
            )
            .condition_expression("attribute_not_exists(#k) OR #e < :now")
            .expression_attribute_names("#k", KEY)
            .expression_attribute_names("#e", EXPIRES)
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) => {
                let err = from_sdk("PutItem", err);
                if err.code.as_deref() == Some("ConditionalCheckFailedException") {
                    Ok(false)
                } else {
                    Err(err.into())
                }
            }
        }
    }

    /// Holds `key` (claimed or not) until `ttl` from now.
    pub async fn hold(&self, key: &str, ttl: Duration) -> Result<()> {
        let Some((client, table)) = &self.table else {
            return Ok(());
        };
        put(client, table, key, ttl, None).await
    }

    /// Gives `key` back (the claimed work failed and should be retried).
    pub async fn release(&self, key: &str) -> Result<()> {
        let Some((client, table)) = &self.table else {
            return Ok(());
        };
        client
            .delete_item()
            .table_name(table)
            .key(KEY, AttributeValue::S(key.to_owned()))
            .send()
            .await
            .map_err(|e| from_sdk("DeleteItem", e))?;
        Ok(())
    }

    /// The ids stored under `key`, empty when there are none (or no table).
    pub async fn ids(&self, key: &str) -> Result<Vec<String>> {
        let Some((client, table)) = &self.table else {
            return Ok(Vec::new());
        };
        let item = client
            .get_item()
            .table_name(table)
            .key(KEY, AttributeValue::S(key.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| from_sdk("GetItem", e))?;
        let Some(item) = item.item() else {
            return Ok(Vec::new());
        };
        let live = item
            .get(EXPIRES)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<u64>().ok())
            .is_some_and(|expires| expires >= now());
        Ok(match item.get(IDS) {
            Some(AttributeValue::Ss(ids)) if live => ids.clone(),
            _ => Vec::new(),
        })
    }

    /// Stores `ids` under `key` for `ttl` (an empty list deletes it).
    pub async fn set_ids(&self, key: &str, ids: &[String], ttl: Duration) -> Result<()> {
        let Some((client, table)) = &self.table else {
            return Ok(());
        };
        if ids.is_empty() {
            return self.release(key).await;
        }
        put(client, table, key, ttl, Some(ids)).await
    }
}

impl Ledger {
    /// Adds `ids` to the set under `key` (one `UpdateItem`, atomic against concurrent adders)
    /// and makes the item live `ttl` from now.
    pub async fn add_ids(&self, key: &str, ids: &[String], ttl: Duration) -> Result<()> {
        let Some((client, table)) = &self.table else {
            return Ok(());
        };
        if ids.is_empty() {
            return Ok(());
        }
        client
            .update_item()
            .table_name(table)
            .key(KEY, AttributeValue::S(key.to_owned()))
            .update_expression("ADD #i :ids SET #e = :expires")
            .expression_attribute_names("#i", IDS)
            .expression_attribute_names("#e", EXPIRES)
            .expression_attribute_values(":ids", AttributeValue::Ss(ids.to_vec()))
            .expression_attribute_values(
                ":expires",
                AttributeValue::N((now() + ttl.as_secs()).to_string()),
            )
            .send()
            .await
            .map_err(|e| from_sdk("UpdateItem", e))?;
        Ok(())
    }
}

/// An unconditional `PutItem` of `key`, living `ttl` from now, with `ids` when given.
async fn put(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &str,
    ttl: Duration,
    ids: Option<&[String]>,
) -> Result<()> {
    let mut request = client
        .put_item()
        .table_name(table)
        .item(KEY, AttributeValue::S(key.to_owned()))
        .item(
            EXPIRES,
            AttributeValue::N((now() + ttl.as_secs()).to_string()),
        );
    if let Some(ids) = ids {
        request = request.item(IDS, AttributeValue::Ss(ids.to_vec()));
    }
    request.send().await.map_err(|e| from_sdk("PutItem", e))?;
    Ok(())
}
