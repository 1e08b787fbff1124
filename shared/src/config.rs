//! Configuration from the environment, read once at cold start.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `PEERWIRE_POLICY_PARAMETER` | SSM parameter holding the policy (String or SecureString) | — |
//! | `PEERWIRE_POLICY_FILE` | policy file, for local runs; wins over the parameter | — |
//! | `PEERWIRE_POLICY_TTL_SECONDS` | how long a loaded policy is reused | `60` |
//! | `PEERWIRE_ROLE_ARN_TEMPLATE` | member role ARN, `{account}` is replaced | `arn:aws:iam::{account}:role/peerwire-member` |
//! | `PEERWIRE_EXTERNAL_ID` | ExternalId sent on every AssumeRole | required |
//! | `PEERWIRE_OUTCOME_BUS` | EventBridge bus name or ARN for outcome events | `default` |
//! | `PEERWIRE_EC2_WRITE_BURST` | EC2 writes sent at once per account and region | `50` |
//! | `PEERWIRE_EC2_WRITES_PER_SECOND` | sustained EC2 writes per second per account and region | `5` |
//! | `PEERWIRE_LEDGER_TABLE` | DynamoDB table of claims and reminders (see `aws::ledger`) | none: no deduplication |
//! | `PEERWIRE_ORGANIZATIONS_ROLE_ARN` | role in the management or delegated-admin account for OU rules | none: OU rules stay unverified |

use std::path::PathBuf;
use std::time::Duration;

use peerwire_core::error::{Error, Result};

/// A token bucket: `burst` writes at once, then `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WriteBudget {
    pub burst: u32,
    pub per_second: f64,
}

impl Default for WriteBudget {
    /// EC2's default bucket for mutating actions: a burst of 50, refilled at 5 per second.
    fn default() -> Self {
        Self {
            burst: 50,
            per_second: 5.0,
        }
    }
}

impl WriteBudget {
    /// EC2's default bucket for non-mutating actions (`Describe*`): a burst of 100, refilled at
    /// 20 per second.
    pub const EC2_READS: Self = Self {
        burst: 100,
        per_second: 20.0,
    };
}

/// Where the policy document lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    File(PathBuf),
    SsmParameter(String),
}

/// How member accounts are reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleConfig {
    /// Contains `{account}` exactly where the 12-digit account ID goes.
    pub arn_template: String,
    /// STS requires 2 to 1224 characters of `[\w+=,.@:/-]`.
    pub external_id: String,
    pub session_name: String,
}

impl RoleConfig {
    /// The member role ARN in `account`.
    pub fn role_arn(&self, account: &str) -> String {
        self.arn_template.replace("{account}", account)
    }
}

/// The whole configuration of a peerwire function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub policy: PolicySource,
    pub policy_ttl: Duration,
    pub roles: RoleConfig,
    pub outcome_bus: String,
    /// The DynamoDB table of the ledger; `None` keeps no ledger.
    pub ledger_table: Option<String>,
    /// The role to read AWS Organizations through, for rules that allow by OU.
    pub organizations_role_arn: Option<String>,
}

pub const DEFAULT_ROLE_ARN_TEMPLATE: &str = "arn:aws:iam::{account}:role/peerwire-member";

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `var`, so tests need not touch the process environment.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let nonempty = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let policy = match (
            nonempty("PEERWIRE_POLICY_FILE"),
            nonempty("PEERWIRE_POLICY_PARAMETER"),
        ) {
            (Some(file), _) => PolicySource::File(PathBuf::from(file)),
            (None, Some(name)) => PolicySource::SsmParameter(name),
            (None, None) => {
                return Err(Error::Config(
                    "set PEERWIRE_POLICY_PARAMETER (or PEERWIRE_POLICY_FILE for local runs)".into(),
                ))
            }
        };
        let policy_ttl = match nonempty("PEERWIRE_POLICY_TTL_SECONDS") {
            Some(text) => Duration::from_secs(text.trim().parse().map_err(|_| {
                Error::Config(format!(
                    "PEERWIRE_POLICY_TTL_SECONDS must be whole seconds, got `{text}`"
                ))
            })?),
            None => Duration::from_secs(60),
        };
        let arn_template = nonempty("PEERWIRE_ROLE_ARN_TEMPLATE")
            .unwrap_or_else(|| DEFAULT_ROLE_ARN_TEMPLATE.to_owned());
        if !arn_template.contains("{account}") || !arn_template.starts_with("arn:") {
            return Err(Error::Config(format!(
                "PEERWIRE_ROLE_ARN_TEMPLATE must be a role ARN containing {{account}}, got `{arn_template}`"
            )));
        }
        let external_id = nonempty("PEERWIRE_EXTERNAL_ID").ok_or_else(|| {
            Error::Config("PEERWIRE_EXTERNAL_ID is required: every member role demands it".into())
        })?;
        if external_id.len() < 2 || external_id.len() > 1224 {
            return Err(Error::Config(
                "PEERWIRE_EXTERNAL_ID must be 2 to 1224 characters (STS limit)".into(),
            ));
        }
        Ok(Self {
            policy,
            policy_ttl,
            roles: RoleConfig {
                arn_template,
                external_id,
                session_name: "peerwire".to_owned(),
            },
            outcome_bus: nonempty("PEERWIRE_OUTCOME_BUS").unwrap_or_else(|| "default".to_owned()),
            ledger_table: nonempty("PEERWIRE_LEDGER_TABLE"),
            organizations_role_arn: nonempty("PEERWIRE_ORGANIZATIONS_ROLE_ARN"),
        })
    }
}

/// The EC2 write budget from `PEERWIRE_EC2_WRITE_BURST` and `PEERWIRE_EC2_WRITES_PER_SECOND`
/// (default: EC2's own bucket, 50 then 5 per second).
pub fn write_budget_from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<WriteBudget> {
    let nonempty = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    let number = |name: &str, default: f64| -> Result<f64> {
        match nonempty(name) {
            None => Ok(default),
            Some(text) => text
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or_else(|| {
                    Error::Config(format!("{name} must be a positive number, got `{text}`"))
                }),
        }
    };
    let defaults = WriteBudget::default();
    let write_budget = WriteBudget {
        burst: number("PEERWIRE_EC2_WRITE_BURST", f64::from(defaults.burst))?.max(1.0) as u32,
        per_second: number("PEERWIRE_EC2_WRITES_PER_SECOND", defaults.per_second)?,
    };
    Ok(write_budget)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_apply() {
        let cfg = config(&[
            ("PEERWIRE_POLICY_PARAMETER", "/peerwire/policy"),
            ("PEERWIRE_EXTERNAL_ID", "peerwire-ext"),
        ])
        .unwrap();
        assert_eq!(
            cfg.policy,
            PolicySource::SsmParameter("/peerwire/policy".into())
        );
        assert_eq!(cfg.outcome_bus, "default");
        assert_eq!(cfg.policy_ttl, Duration::from_secs(60));
        assert_eq!(
            cfg.roles.role_arn("222222222222"),
            "arn:aws:iam::222222222222:role/peerwire-member"
        );
    }

    #[test]
    fn external_id_is_required() {
        let err = config(&[("PEERWIRE_POLICY_FILE", "p.yaml")]).unwrap_err();
        assert!(err.to_string().contains("PEERWIRE_EXTERNAL_ID"), "{err}");
    }

    #[test]
    fn a_policy_source_is_required() {
        let err = config(&[("PEERWIRE_EXTERNAL_ID", "x1")]).unwrap_err();
        assert!(
            err.to_string().contains("PEERWIRE_POLICY_PARAMETER"),
            "{err}"
        );
    }

    #[test]
    fn role_template_needs_the_account_placeholder() {
        let err = config(&[
            ("PEERWIRE_POLICY_FILE", "p.yaml"),
            ("PEERWIRE_EXTERNAL_ID", "x1"),
            (
                "PEERWIRE_ROLE_ARN_TEMPLATE",
                "arn:aws:iam::111111111111:role/x",
            ),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("{account}"), "{err}");
    }

    #[test]
    fn the_write_budget_defaults_to_ec2s_bucket_and_refuses_nonsense() {
        let none = |_: &str| None;
        assert_eq!(
            write_budget_from_lookup(none).unwrap(),
            WriteBudget::default()
        );
        let set = |name: &str| match name {
            "PEERWIRE_EC2_WRITE_BURST" => Some("20".to_owned()),
            "PEERWIRE_EC2_WRITES_PER_SECOND" => Some("2.5".to_owned()),
            _ => None,
        };
        let budget = write_budget_from_lookup(set).unwrap();
        assert_eq!((budget.burst, budget.per_second), (20, 2.5));
        let bad = |name: &str| (name == "PEERWIRE_EC2_WRITES_PER_SECOND").then(|| "-1".to_owned());
        assert!(write_budget_from_lookup(bad).is_err());
    }
}
