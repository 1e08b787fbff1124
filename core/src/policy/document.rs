//! The policy document as written, and its validation into a [`Policy`].
//!
//! Every value is checked here, once, with the field path in the error
//! (`rules[0].wiring.accepter.security_group_ids[1]`), so that evaluation never meets a
//! malformed rule. Ids parse through their one `FromStr` in [`crate::model::ids`].

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

use super::{
    AccepterScope, Approval, Approver, IngressSource, Policy, Rule, SideWiring, UnmatchedAction,
    Wiring, POLICY_VERSION,
};
use crate::model::cidr;
use crate::model::AccountId;

const DEFAULT_MIN_PREFIX_LENGTH: u8 = 16;
const DEFAULT_MIN_IPV6_PREFIX_LENGTH: u8 = 56;
/// AWS tag limits: keys 1–128 characters, values 0–256.
const MAX_TAG_KEY_CHARS: usize = 128;
const MAX_TAG_VALUE_CHARS: usize = 256;

/// Why a policy document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The document is not well-formed YAML/JSON for the schema (unknown key, wrong type,
    /// missing field). The parser's message names the field and the line.
    #[error("the policy document cannot be read: {0}")]
    Syntax(String),
    /// A value breaks a rule of the schema; `field` is a path like
    /// `rules[0].requester_accounts[1]`.
    #[error("policy field `{field}`: {reason}")]
    Invalid { field: String, reason: String },
}

/// Parses YAML or JSON text into a validated policy.
pub(super) fn parse(text: &str) -> Result<Policy, PolicyError> {
    // JSON is YAML, but serde_json gives JSON-shaped error positions and reads JSON indented
    // with tabs, which YAML forbids.
    let doc: PolicyDoc = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| PolicyError::Syntax(e.to_string()))?
    } else {
        serde_saphyr::from_str(text).map_err(|e| PolicyError::Syntax(e.to_string()))?
    };
    Policy::try_from(doc)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PolicyDoc {
    version: u32,
    #[serde(default)]
    unmatched: UnmatchedAction,
    accepters: Vec<AccepterDoc>,
    #[serde(default)]
    rules: Vec<RuleDoc>,
    #[serde(default)]
    approvers: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccepterDoc {
    account: AccountText,
    regions: Vec<String>,
    #[serde(default)]
    vpcs: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDoc {
    name: String,
    #[serde(default)]
    requester_accounts: Vec<AccountText>,
    #[serde(default)]
    requester_ous: Vec<String>,
    #[serde(default)]
    requester_vpcs: Vec<String>,
    allowed_cidrs: Vec<String>,
    #[serde(default = "default_min_prefix_length")]
    min_prefix_length: u8,
    #[serde(default = "default_min_ipv6_prefix_length")]
    min_ipv6_prefix_length: u8,
    #[serde(default)]
    accepter_vpcs: Vec<String>,
    #[serde(default)]
    regions: Vec<String>,
    #[serde(default)]
    required_tags: BTreeMap<String, String>,
    #[serde(default)]
    approval: Approval,
    #[serde(default)]
    wiring: WiringDoc,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WiringDoc {
    #[serde(default)]
    ports: Vec<u16>,
    requester: Option<SideWiringDoc>,
    accepter: Option<SideWiringDoc>,
    #[serde(default)]
    ingress_source: IngressSource,
    #[serde(default)]
    fix_vpc_dns_attributes: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SideWiringDoc {
    #[serde(default = "yes")]
    manage: bool,
    #[serde(default)]
    subnet_ids: Vec<String>,
    #[serde(default)]
    subnet_tags: BTreeMap<String, String>,
    #[serde(default)]
    security_group_ids: Vec<String>,
    #[serde(default)]
    security_group_tags: BTreeMap<String, String>,
    #[serde(default)]
    db_instances: Vec<String>,
    #[serde(default)]
    private_hosted_zones: Vec<String>,
}

fn yes() -> bool {
    true
}

fn default_min_prefix_length() -> u8 {
    DEFAULT_MIN_PREFIX_LENGTH
}

fn default_min_ipv6_prefix_length() -> u8 {
    DEFAULT_MIN_IPV6_PREFIX_LENGTH
}

/// An account ID as written. Read as a string so that YAML keeps an unquoted `012345678901`
/// verbatim; a JSON number is refused (it would have lost its leading zeros).
#[derive(Debug)]
struct AccountText(String);

impl<'de> Deserialize<'de> for AccountText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = AccountText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a 12-digit account ID as a quoted string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<AccountText, E> {
                Ok(AccountText(v.to_owned()))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

impl TryFrom<PolicyDoc> for Policy {
    type Error = PolicyError;

    fn try_from(doc: PolicyDoc) -> Result<Self, PolicyError> {
        if doc.version != POLICY_VERSION {
            return Err(invalid(
                "version",
                format!(
                    "version {} is not supported; this peerwire reads version {POLICY_VERSION}",
                    doc.version
                ),
            ));
        }
        if doc.accepters.is_empty() {
            return Err(invalid(
                "accepters",
                "at least one accepter account is required",
            ));
        }
        let accepters = doc
            .accepters
            .into_iter()
            .enumerate()
            .map(|(i, a)| accepter_scope(&format!("accepters[{i}]"), a))
            .collect::<Result<Vec<_>, _>>()?;
        let mut names = BTreeMap::new();
        let mut rules = Vec::with_capacity(doc.rules.len());
        for (i, doc) in doc.rules.into_iter().enumerate() {
            let path = format!("rules[{i}]");
            let rule = rule(&path, doc)?;
            if let Some(first) = names.insert(rule.name.clone(), i) {
                return Err(invalid(
                    &format!("{path}.name"),
                    format!(
                        "rule name `{}` is already used by rules[{first}]",
                        rule.name
                    ),
                ));
            }
            rules.push(rule);
        }
        let approvers = doc
            .approvers
            .iter()
            .enumerate()
            .map(|(i, text)| approver(&format!("approvers[{i}]"), text))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy {
            version: doc.version,
            unmatched: doc.unmatched,
            accepters,
            rules,
            approvers,
        })
    }
}

fn invalid(field: &str, reason: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// Every value of `path.key[i]`, parsed as `T`; the first that does not parse is the error.
fn parse_all<T: FromStr>(path: &str, key: &str, values: &[String]) -> Result<Vec<T>, PolicyError>
where
    T::Err: fmt::Display,
{
    values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            value
                .parse()
                .map_err(|e: T::Err| invalid(&format!("{path}.{key}[{i}]"), e.to_string()))
        })
        .collect()
}

fn accepter_scope(path: &str, doc: AccepterDoc) -> Result<AccepterScope, PolicyError> {
    let account = account_id(&format!("{path}.account"), doc.account)?;
    if doc.regions.is_empty() {
        return Err(invalid(
            &format!("{path}.regions"),
            "at least one region is required",
        ));
    }
    Ok(AccepterScope {
        account,
        regions: parse_all(path, "regions", &doc.regions)?,
        vpcs: parse_all(path, "vpcs", &doc.vpcs)?,
    })
}

fn rule(path: &str, doc: RuleDoc) -> Result<Rule, PolicyError> {
    let name = doc.name.trim().to_owned();
    if name.is_empty() {
        return Err(invalid(&format!("{path}.name"), "a rule name is required"));
    }
    if doc.requester_accounts.is_empty() && doc.requester_ous.is_empty() {
        return Err(invalid(
            &format!("{path}.requester_accounts"),
            "at least one requester account or OU is required (wildcards and \"any account of \
             the organisation\" are not allowed)",
        ));
    }
    let requester_ous = parse_all(path, "requester_ous", &doc.requester_ous)?;
    let requester_accounts = doc
        .requester_accounts
        .into_iter()
        .enumerate()
        .map(|(i, a)| account_id(&format!("{path}.requester_accounts[{i}]"), a))
        .collect::<Result<Vec<_>, _>>()?;
    let requester_vpcs = parse_all(path, "requester_vpcs", &doc.requester_vpcs)?;
    if doc.allowed_cidrs.is_empty() {
        return Err(invalid(
            &format!("{path}.allowed_cidrs"),
            "at least one allowed CIDR is required",
        ));
    }
    let allowed_cidrs = doc
        .allowed_cidrs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            cidr::parse_cidr(text)
                .map_err(|e| invalid(&format!("{path}.allowed_cidrs[{i}]"), e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if doc.min_prefix_length > 32 {
        return Err(invalid(
            &format!("{path}.min_prefix_length"),
            format!("{} is above 32, the IPv4 maximum", doc.min_prefix_length),
        ));
    }
    if doc.min_ipv6_prefix_length > 128 {
        return Err(invalid(
            &format!("{path}.min_ipv6_prefix_length"),
            format!(
                "{} is above 128, the IPv6 maximum",
                doc.min_ipv6_prefix_length
            ),
        ));
    }
    let accepter_vpcs = parse_all(path, "accepter_vpcs", &doc.accepter_vpcs)?;
    let regions = parse_all(path, "regions", &doc.regions)?;
    for (key, value) in &doc.required_tags {
        let field = format!("{path}.required_tags.{key}");
        let key_chars = key.chars().count();
        if key_chars == 0 || key_chars > MAX_TAG_KEY_CHARS {
            return Err(invalid(
                &field,
                format!("a tag key has 1 to {MAX_TAG_KEY_CHARS} characters"),
            ));
        }
        if value.chars().count() > MAX_TAG_VALUE_CHARS {
            return Err(invalid(
                &field,
                format!("a tag value has at most {MAX_TAG_VALUE_CHARS} characters"),
            ));
        }
    }
    Ok(Rule {
        name,
        requester_accounts,
        requester_ous,
        requester_vpcs,
        allowed_cidrs,
        min_prefix_length: doc.min_prefix_length,
        min_ipv6_prefix_length: doc.min_ipv6_prefix_length,
        accepter_vpcs,
        regions,
        required_tags: doc.required_tags,
        approval: doc.approval,
        wiring: wiring(&format!("{path}.wiring"), doc.wiring)?,
    })
}

fn wiring(path: &str, doc: WiringDoc) -> Result<Wiring, PolicyError> {
    for (i, port) in doc.ports.iter().enumerate() {
        if *port == 0 {
            return Err(invalid(
                &format!("{path}.ports[{i}]"),
                "ports are 1 to 65535",
            ));
        }
    }
    // No `requester:`/`accepter:` key: the side's defaults (managed, every subnet, no group).
    let side = |name: &str, doc: Option<SideWiringDoc>| -> Result<SideWiring, PolicyError> {
        let Some(doc) = doc else {
            return Ok(SideWiring::default());
        };
        let path = format!("{path}.{name}");
        Ok(SideWiring {
            manage: doc.manage,
            subnet_ids: parse_all(&path, "subnet_ids", &doc.subnet_ids)?,
            subnet_tags: doc.subnet_tags,
            security_group_ids: parse_all(&path, "security_group_ids", &doc.security_group_ids)?,
            security_group_tags: doc.security_group_tags,
            db_instances: parse_all(&path, "db_instances", &doc.db_instances)?,
            private_hosted_zones: parse_all(
                &path,
                "private_hosted_zones",
                &doc.private_hosted_zones
                    .iter()
                    .map(|z| z.trim_start_matches("/hostedzone/").to_owned())
                    .collect::<Vec<_>>(),
            )?,
        })
    };
    let wiring = Wiring {
        ports: doc.ports,
        requester: side("requester", doc.requester)?,
        accepter: side("accepter", doc.accepter)?,
        ingress_source: doc.ingress_source,
        fix_vpc_dns_attributes: doc.fix_vpc_dns_attributes,
    };
    // A zone is authorized by its owner and associated by the peer VPC's owner: both sides'
    // roles take part.
    for (name, side, other) in [
        ("requester", &wiring.requester, &wiring.accepter),
        ("accepter", &wiring.accepter, &wiring.requester),
    ] {
        if !side.private_hosted_zones.is_empty() && (!side.manage || !other.manage) {
            return Err(invalid(
                &format!("{path}.{name}.private_hosted_zones"),
                "associating a zone with the peer VPC takes both sides' member roles: both sides must be managed",
            ));
        }
    }
    Ok(wiring)
}

fn account_id(field: &str, text: AccountText) -> Result<AccountId, PolicyError> {
    let value = text.0;
    if value.contains(['*', '?']) || value.eq_ignore_ascii_case("any") {
        // A wildcard would accept requests from anyone who learns the VPC ID (peer phishing).
        return Err(invalid(
            field,
            format!("`{value}`: wildcards are never allowed; name each requester account"),
        ));
    }
    value
        .parse()
        .map_err(|e: crate::model::IdError| invalid(field, e.to_string()))
}

/// An approver: a 12-digit account ID, or an IAM role or user ARN. No wildcards.
fn approver(field: &str, text: &str) -> Result<Approver, PolicyError> {
    let text = text.trim();
    if text.contains(['*', '?']) {
        return Err(invalid(
            field,
            format!("`{text}`: wildcards are never allowed; name each approver"),
        ));
    }
    if let Ok(account) = text.parse::<AccountId>() {
        return Ok(Approver::Account(account));
    }
    let iam = text.strip_prefix("arn:").and_then(|rest| {
        let (_partition, rest) = rest.split_once(':')?;
        rest.strip_prefix("iam::")
    });
    let principal = iam
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(account, resource)| {
            account.parse::<AccountId>().is_ok()
                && (resource.starts_with("role/") || resource.starts_with("user/"))
                && resource.len() > 5
        });
    if principal {
        Ok(Approver::Principal(text.to_owned()))
    } else {
        Err(invalid(
            field,
            format!("`{text}` is neither a 12-digit account ID nor an IAM role or user ARN"),
        ))
    }
}
