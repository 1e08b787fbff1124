//! The allowlist policy: which requesters may peer with which accepter VPCs.
//!
//! A policy is a YAML or JSON document. [`Policy::parse`] is the only way to build one from
//! text, and it validates everything up front so that evaluation never meets a malformed rule.
//! The policy can only ever lead to acceptance through a rule that names the requester account
//! explicitly: there are no wildcards and an unmatched request is rejected or held, never
//! accepted.

use std::collections::BTreeMap;
use std::fmt;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::cidr;
use crate::model::{AccountId, Peering};

/// The only document version this code reads.
pub const POLICY_VERSION: u32 = 1;
const DEFAULT_MIN_PREFIX_LENGTH: u8 = 16;
const DEFAULT_MIN_IPV6_PREFIX_LENGTH: u8 = 56;
/// AWS tag limits: keys 1–128 characters, values 0–256.
const MAX_TAG_KEY_CHARS: usize = 128;
const MAX_TAG_VALUE_CHARS: usize = 256;

/// Why a policy document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The document is not well-formed YAML/JSON for the schema (unknown key, wrong type,
    /// missing field). The serde message names the field and the line.
    #[error("the policy document cannot be read: {0}")]
    Syntax(String),
    /// A value breaks a rule of the schema; `field` is a path like
    /// `rules[0].requester_accounts[1]`.
    #[error("policy field `{field}`: {reason}")]
    Invalid { field: String, reason: String },
}

/// What happens to a pending request that no rule matches. There is deliberately no "accept".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnmatchedAction {
    /// Reject the request (the requester sees `rejected` for 2 days).
    #[default]
    Reject,
    /// Leave it pending for a human; AWS expires it after 7 days.
    Hold,
}

/// Whether a matching request is accepted at once or waits for an approval event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Approval {
    #[default]
    Auto,
    Required,
}

/// An account and regions where peerwire acts as accepter (and that the sweep scans).
///
/// Invariants after [`Policy::parse`]: `account` is 12 digits, `regions` is non-empty and holds
/// region names, `vpcs` holds VPC IDs; an empty `vpcs` means every VPC of the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccepterScope {
    pub account: AccountId,
    pub regions: Vec<String>,
    pub vpcs: Vec<String>,
}

/// One allow rule. Every condition must hold for a peering to match.
///
/// Invariants after [`Policy::parse`]: `name` is non-empty and unique in the policy;
/// `requester_accounts` is non-empty, 12-digit IDs only (no wildcards); `allowed_cidrs` is
/// non-empty and canonical; `min_prefix_length` <= 32 and `min_ipv6_prefix_length` <= 128.
/// Empty `requester_vpcs`, `accepter_vpcs` and `regions` mean "any".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub name: String,
    pub requester_accounts: Vec<AccountId>,
    pub requester_vpcs: Vec<String>,
    /// Every requester CIDR must lie inside one of these.
    pub allowed_cidrs: Vec<IpNet>,
    /// Requester IPv4 CIDRs with a shorter prefix (a broader block) are refused.
    pub min_prefix_length: u8,
    /// Requester IPv6 CIDRs with a shorter prefix are refused. AWS gives VPCs a /56.
    pub min_ipv6_prefix_length: u8,
    pub accepter_vpcs: Vec<String>,
    /// When non-empty, both the requester's and the accepter's region must be listed.
    pub regions: Vec<String>,
    /// Each key must be on the peering with exactly this value.
    pub required_tags: BTreeMap<String, String>,
    pub approval: Approval,
    /// How an accepted peering of this rule is wired; see [`Wiring`].
    pub wiring: Wiring,
}

/// How peerwire wires an active peering on both sides.
///
/// The default (no `wiring:` key) routes every peer CIDR in every route table of both VPCs
/// (the main table included) and enables DNS resolution on both sides, but adds no
/// security-group rule: rules need `ports` and selected groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Wiring {
    /// TCP ports of the database (e.g. 5432). Security-group rules are opened for these only.
    #[serde(default)]
    pub ports: Vec<u16>,
    #[serde(default)]
    pub requester: SideWiring,
    #[serde(default)]
    pub accepter: SideWiring,
    /// Source of the accepter's ingress rules: the requester CIDRs, or the requester's selected
    /// security groups (`account/sg-id`, same region only; falls back to CIDRs across regions).
    #[serde(default)]
    pub ingress_source: IngressSource,
    /// Turn on `enableDnsSupport`/`enableDnsHostnames` when off; otherwise only report them.
    #[serde(default)]
    pub fix_vpc_dns_attributes: bool,
}

/// What peerwire touches on one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SideWiring {
    /// `false`: peerwire has no role on this side and changes nothing there.
    #[serde(default = "yes")]
    pub manage: bool,
    /// Subnets in scope for routes. With no subnet selector and no DB instance, every subnet
    /// is in scope and the main route table is always included.
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    #[serde(default)]
    pub subnet_tags: BTreeMap<String, String>,
    /// Groups to open: ingress on the accepter (DB groups), egress on the requester (tasks).
    #[serde(default)]
    pub security_group_ids: Vec<String>,
    #[serde(default)]
    pub security_group_tags: BTreeMap<String, String>,
    /// RDS DB instance identifiers: every subnet of their DB subnet groups is routed, and
    /// their VPC security groups are opened.
    #[serde(default)]
    pub db_instances: Vec<String>,
}

fn yes() -> bool {
    true
}

impl Default for SideWiring {
    fn default() -> Self {
        Self {
            manage: true,
            subnet_ids: Vec::new(),
            subnet_tags: BTreeMap::new(),
            security_group_ids: Vec::new(),
            security_group_tags: BTreeMap::new(),
            db_instances: Vec::new(),
        }
    }
}

impl SideWiring {
    /// No subnet selector and no DB instance: every subnet is in scope.
    pub fn all_subnets(&self) -> bool {
        self.subnet_ids.is_empty() && self.subnet_tags.is_empty() && self.db_instances.is_empty()
    }

    /// Whether any security group is selected, directly or through DB instances.
    pub fn selects_groups(&self) -> bool {
        !self.security_group_ids.is_empty()
            || !self.security_group_tags.is_empty()
            || !self.db_instances.is_empty()
    }
}

/// Where the accepter's ingress rules admit traffic from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum IngressSource {
    #[default]
    Cidr,
    SecurityGroup,
}

/// A validated policy document. Build it with [`Policy::parse`]; deserializing it with serde
/// runs the same validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PolicyDoc")]
pub struct Policy {
    /// Always [`POLICY_VERSION`].
    pub version: u32,
    pub unmatched: UnmatchedAction,
    /// Non-empty.
    pub accepters: Vec<AccepterScope>,
    /// Tried in order; may be empty, and then nothing is ever accepted.
    pub rules: Vec<Rule>,
}

/// The outcome of matching a peering against the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum RuleMatch {
    /// The first rule whose every condition holds.
    Matched { rule: String, approval: Approval },
    /// No rule matched. `closest_rule` is the first rule naming the requester account, and
    /// `reasons` lists each condition of it that failed (or why no rule applies at all).
    Unmatched {
        closest_rule: Option<String>,
        reasons: Vec<String>,
    },
}

impl Policy {
    /// Parses and validates a policy document, YAML or JSON.
    ///
    /// In JSON, account IDs must be strings; YAML keeps unquoted ones verbatim.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        // serde_yaml reads most JSON, but not JSON indented with tabs; serde_json also gives
        // JSON-shaped error positions.
        let doc: PolicyDoc = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| PolicyError::Syntax(e.to_string()))?
        } else {
            serde_yaml::from_str(text).map_err(|e| PolicyError::Syntax(e.to_string()))?
        };
        Policy::try_from(doc)
    }

    /// True when the accepter `account` in `region` (and `vpc_id`, when given) is inside one
    /// of the [`accepters`](Policy::accepters) scopes.
    pub fn covers_accepter(&self, account: &str, region: &str, vpc_id: Option<&str>) -> bool {
        self.accepters.iter().any(|scope| {
            scope.account == account
                && scope.regions.iter().any(|r| r == region)
                && match vpc_id {
                    Some(vpc) => scope.vpcs.is_empty() || scope.vpcs.iter().any(|v| v == vpc),
                    None => true,
                }
        })
    }

    /// Whether peerwire may act in `account` at all: an accepter account, or a requester
    /// account some rule names. Events from any other account are ignored without a call.
    pub fn manages_account(&self, account: &str) -> bool {
        self.accepters.iter().any(|a| a.account == account)
            || self
                .rules
                .iter()
                .any(|r| r.requester_accounts.iter().any(|a| a == account))
    }

    /// Matches a peering against the rules, in order; the first fully matching rule wins.
    ///
    /// Looks only at the rules: status, accepter scope and CIDR overlaps are the caller's
    /// (see [`crate::decision::decide_request`]).
    pub fn evaluate(&self, peering: &Peering) -> RuleMatch {
        for rule in &self.rules {
            if rule.failures(peering).is_empty() {
                return RuleMatch::Matched {
                    rule: rule.name.clone(),
                    approval: rule.approval,
                };
            }
        }
        let account = &peering.requester.account;
        match self
            .rules
            .iter()
            .find(|rule| rule.requester_accounts.contains(account))
        {
            Some(rule) => RuleMatch::Unmatched {
                closest_rule: Some(rule.name.clone()),
                reasons: rule.failures(peering),
            },
            None => {
                let mut reason = format!("requester account {account} is not named by any rule");
                if self.rules.is_empty() {
                    reason.push_str(" (the policy has no rules)");
                }
                RuleMatch::Unmatched {
                    closest_rule: None,
                    reasons: vec![reason],
                }
            }
        }
    }
}

impl Rule {
    /// Every condition of this rule that `peering` fails, as a readable sentence; empty when
    /// the rule matches.
    fn failures(&self, peering: &Peering) -> Vec<String> {
        let name = &self.name;
        let requester = &peering.requester;
        let accepter = &peering.accepter;
        let mut out = Vec::new();
        if !self.requester_accounts.contains(&requester.account) {
            out.push(format!(
                "requester account {} is not named by rule {name}",
                requester.account
            ));
        }
        if !self.requester_vpcs.is_empty() && !self.requester_vpcs.contains(&requester.vpc_id) {
            out.push(format!(
                "requester VPC {} is not among {} of rule {name}",
                requester.vpc_id,
                self.requester_vpcs.join(", ")
            ));
        }
        if requester.cidrs.is_empty() {
            // Nothing to check the ranges against; never let that pass as "all inside".
            out.push("the peering reports no requester CIDR".to_owned());
        }
        for cidr in &requester.cidrs {
            if !cidr::within_any(cidr, &self.allowed_cidrs) {
                out.push(format!(
                    "requester CIDR {cidr} is outside the allowed ranges {} of rule {name}",
                    join(&self.allowed_cidrs)
                ));
            }
            let min = match cidr {
                IpNet::V4(_) => self.min_prefix_length,
                IpNet::V6(_) => self.min_ipv6_prefix_length,
            };
            if cidr.prefix_len() < min {
                out.push(format!(
                    "requester CIDR {cidr} is broader than /{min} (rule {name})"
                ));
            }
        }
        if !self.accepter_vpcs.is_empty() && !self.accepter_vpcs.contains(&accepter.vpc_id) {
            out.push(format!(
                "accepter VPC {} is not among {} of rule {name}",
                accepter.vpc_id,
                self.accepter_vpcs.join(", ")
            ));
        }
        if !self.regions.is_empty() {
            for (side, region) in [
                ("requester", &requester.region),
                ("accepter", &accepter.region),
            ] {
                if !self.regions.contains(region) {
                    out.push(format!(
                        "{side} region {region} is not among {} of rule {name}",
                        self.regions.join(", ")
                    ));
                }
            }
        }
        for (key, wanted) in &self.required_tags {
            let found = peering.tags.get(key);
            if found != Some(wanted) {
                out.push(format!(
                    "tag {key}={wanted} is required by rule {name}; the peering has {key}={}",
                    found.map_or("(missing)", String::as_str)
                ));
            }
        }
        out
    }
}

fn join(items: &[impl fmt::Display]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

// ---- the document as written, before validation ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyDoc {
    version: u32,
    #[serde(default)]
    unmatched: UnmatchedAction,
    accepters: Vec<AccepterDoc>,
    #[serde(default)]
    rules: Vec<RuleDoc>,
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
    requester_accounts: Vec<AccountText>,
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
    wiring: Wiring,
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
        Ok(Policy {
            version: doc.version,
            unmatched: doc.unmatched,
            accepters,
            rules,
        })
    }
}

fn invalid(field: &str, reason: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

fn accepter_scope(path: &str, doc: AccepterDoc) -> Result<AccepterScope, PolicyError> {
    let account = account_id(&format!("{path}.account"), doc.account)?;
    if doc.regions.is_empty() {
        return Err(invalid(
            &format!("{path}.regions"),
            "at least one region is required",
        ));
    }
    check_all(path, "regions", &doc.regions, check_region)?;
    check_all(path, "vpcs", &doc.vpcs, check_vpc_id)?;
    Ok(AccepterScope {
        account,
        regions: doc.regions,
        vpcs: doc.vpcs,
    })
}

fn rule(path: &str, doc: RuleDoc) -> Result<Rule, PolicyError> {
    let name = doc.name.trim().to_owned();
    if name.is_empty() {
        return Err(invalid(&format!("{path}.name"), "a rule name is required"));
    }
    if doc.requester_accounts.is_empty() {
        return Err(invalid(
            &format!("{path}.requester_accounts"),
            "at least one requester account is required (wildcards are not allowed)",
        ));
    }
    let requester_accounts = doc
        .requester_accounts
        .into_iter()
        .enumerate()
        .map(|(i, a)| account_id(&format!("{path}.requester_accounts[{i}]"), a))
        .collect::<Result<Vec<_>, _>>()?;
    check_all(path, "requester_vpcs", &doc.requester_vpcs, check_vpc_id)?;
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
    check_all(path, "accepter_vpcs", &doc.accepter_vpcs, check_vpc_id)?;
    check_all(path, "regions", &doc.regions, check_region)?;
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
        requester_vpcs: doc.requester_vpcs,
        allowed_cidrs,
        min_prefix_length: doc.min_prefix_length,
        min_ipv6_prefix_length: doc.min_ipv6_prefix_length,
        accepter_vpcs: doc.accepter_vpcs,
        regions: doc.regions,
        required_tags: doc.required_tags,
        approval: doc.approval,
        wiring: check_wiring(&format!("{path}.wiring"), doc.wiring)?,
    })
}

fn check_wiring(path: &str, wiring: Wiring) -> Result<Wiring, PolicyError> {
    for (i, port) in wiring.ports.iter().enumerate() {
        if *port == 0 {
            return Err(invalid(
                &format!("{path}.ports[{i}]"),
                "ports are 1 to 65535",
            ));
        }
    }
    for (side, scope) in [
        ("requester", &wiring.requester),
        ("accepter", &wiring.accepter),
    ] {
        let path = format!("{path}.{side}");
        check_all(&path, "subnet_ids", &scope.subnet_ids, |v| {
            prefixed_id(v, "subnet-")
        })?;
        check_all(
            &path,
            "security_group_ids",
            &scope.security_group_ids,
            |v| prefixed_id(v, "sg-"),
        )?;
        check_all(&path, "db_instances", &scope.db_instances, |v| {
            let ok = !v.is_empty()
                && v.len() <= 63
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if ok {
                Ok(())
            } else {
                Err(format!("`{v}` is not a DB instance identifier"))
            }
        })?;
    }
    Ok(wiring)
}

fn prefixed_id(value: &str, prefix: &str) -> Result<(), String> {
    let ok = value.strip_prefix(prefix).is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{value}` is not an ID ({prefix} and 8 or 17 lowercase hex digits)"
        ))
    }
}

fn check_all(
    path: &str,
    key: &str,
    values: &[String],
    check: fn(&str) -> Result<(), String>,
) -> Result<(), PolicyError> {
    for (i, value) in values.iter().enumerate() {
        check(value).map_err(|reason| invalid(&format!("{path}.{key}[{i}]"), reason))?;
    }
    Ok(())
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
    if value.len() != 12 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(
            field,
            format!("`{value}` is not a 12-digit AWS account ID"),
        ));
    }
    Ok(value)
}

/// AWS region names: lowercase words and a trailing number (`us-east-1`, `us-gov-west-1`).
fn check_region(value: &str) -> Result<(), String> {
    let parts: Vec<&str> = value.split('-').collect();
    let ok = parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty())
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{value}` is not an AWS region name (like us-east-1)"
        ))
    }
}

/// VPC IDs: `vpc-` and 8 (older) or 17 lowercase hex digits.
fn check_vpc_id(value: &str) -> Result<(), String> {
    let ok = value.strip_prefix("vpc-").is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{value}` is not a VPC ID (vpc- and 8 or 17 lowercase hex digits)"
        ))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{PeeringSide, PeeringStatus};

    pub(crate) const REQUESTER: &str = "111111111111";
    pub(crate) const ACCEPTER: &str = "222222222222";
    pub(crate) const ACCEPTER_VPC: &str = "vpc-22222222";

    /// A pending request from `account` (vpc-11111111, us-east-1) to the accepter VPC
    /// vpc-22222222 of 222222222222 in us-east-1.
    pub(crate) fn peering(account: &str, cidrs: &[&str]) -> Peering {
        Peering {
            id: "pcx-0123456789abcdef0".to_owned(),
            status: PeeringStatus::PendingAcceptance,
            status_message: None,
            requester: PeeringSide {
                account: account.to_owned(),
                vpc_id: "vpc-11111111".to_owned(),
                region: "us-east-1".to_owned(),
                cidrs: cidrs.iter().map(|c| net(c)).collect(),
                allow_dns_resolution_from_remote_vpc: false,
            },
            accepter: PeeringSide {
                account: ACCEPTER.to_owned(),
                vpc_id: ACCEPTER_VPC.to_owned(),
                region: "us-east-1".to_owned(),
                cidrs: vec![],
                allow_dns_resolution_from_remote_vpc: false,
            },
            tags: BTreeMap::new(),
        }
    }

    pub(crate) fn net(s: &str) -> IpNet {
        cidr::parse_cidr(s).unwrap()
    }

    pub(crate) fn policy(yaml: &str) -> Policy {
        Policy::parse(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
    }

    /// The policy from the documentation: one rule for 111111111111 into 10.0.0.0/8.
    pub(crate) const ECS_TO_RDS: &str = r#"
version: 1
unmatched: reject
accepters:
  - account: "222222222222"
    regions: [us-east-1]
rules:
  - name: ecs-to-rds
    requester_accounts: ["111111111111"]
    allowed_cidrs: ["10.0.0.0/8"]
"#;

    fn invalid_field(text: &str) -> (String, String) {
        match Policy::parse(text) {
            Err(PolicyError::Invalid { field, reason }) => (field, reason),
            other => panic!("expected Invalid, got {other:?}\n{text}"),
        }
    }

    fn syntax(text: &str) -> String {
        match Policy::parse(text) {
            Err(PolicyError::Syntax(message)) => message,
            other => panic!("expected Syntax, got {other:?}\n{text}"),
        }
    }

    /// ECS_TO_RDS with one line of the rule replaced or added.
    fn with_rule_line(line: &str) -> String {
        format!("{ECS_TO_RDS}    {line}\n")
    }

    fn unmatched_reasons(m: RuleMatch) -> (Option<String>, Vec<String>) {
        match m {
            RuleMatch::Unmatched {
                closest_rule,
                reasons,
            } => (closest_rule, reasons),
            RuleMatch::Matched { rule, .. } => panic!("unexpectedly matched {rule}"),
        }
    }

    fn matched(rule: &str, approval: Approval) -> RuleMatch {
        RuleMatch::Matched {
            rule: rule.to_owned(),
            approval,
        }
    }

    // ---- parsing ----

    #[test]
    fn the_documented_example_parses_with_defaults() {
        let p = policy(
            r#"
version: 1
unmatched: hold
accepters:
  - account: "222222222222"
    regions: [us-east-1, eu-central-2]
    vpcs: [vpc-0123456789abcdef0]
  - account: "333333333333"
    regions: [us-gov-west-1]
rules:
  - name: ecs-to-rds
    requester_accounts: ["111111111111", "012345678901"]
    requester_vpcs: [vpc-1a2b3c4d]
    allowed_cidrs: ["10.0.0.0/8", "2600:1f18::/32"]
    min_prefix_length: 20
    min_ipv6_prefix_length: 48
    accepter_vpcs: [vpc-0123456789abcdef0]
    regions: [us-east-1]
    required_tags: {team: payments}
    approval: required
  - name: minimal
    requester_accounts: ["444444444444"]
    allowed_cidrs: ["172.16.0.0/12"]
"#,
        );
        assert_eq!(p.version, 1);
        assert_eq!(p.unmatched, UnmatchedAction::Hold);
        assert_eq!(p.accepters.len(), 2);
        assert_eq!(p.accepters[0].vpcs, vec!["vpc-0123456789abcdef0"]);
        assert!(p.accepters[1].vpcs.is_empty());
        let r = &p.rules[0];
        assert_eq!(r.requester_accounts, vec!["111111111111", "012345678901"]);
        assert_eq!(
            r.allowed_cidrs,
            vec![net("10.0.0.0/8"), net("2600:1f18::/32")]
        );
        assert_eq!((r.min_prefix_length, r.min_ipv6_prefix_length), (20, 48));
        assert_eq!(
            r.required_tags.get("team").map(String::as_str),
            Some("payments")
        );
        assert_eq!(r.approval, Approval::Required);
        let m = &p.rules[1];
        assert_eq!((m.min_prefix_length, m.min_ipv6_prefix_length), (16, 56));
        assert_eq!(m.approval, Approval::Auto);
        assert!(m.requester_vpcs.is_empty() && m.accepter_vpcs.is_empty());
        assert!(m.regions.is_empty() && m.required_tags.is_empty());
    }

    #[test]
    fn unmatched_defaults_to_reject_and_rules_may_be_absent() {
        let p = policy(
            r#"
version: 1
accepters: [{account: "222222222222", regions: [us-east-1]}]
"#,
        );
        assert_eq!(p.unmatched, UnmatchedAction::Reject);
        assert!(p.rules.is_empty());
        let (closest, reasons) =
            unmatched_reasons(p.evaluate(&peering(REQUESTER, &["10.1.0.0/16"])));
        assert_eq!(closest, None);
        assert_eq!(
            reasons,
            vec![
                "requester account 111111111111 is not named by any rule (the policy has no rules)"
            ]
        );
    }

    #[test]
    fn yaml_and_json_parse_to_the_same_policy() {
        let json = r#"{
	"version": 1,
	"unmatched": "reject",
	"accepters": [{"account": "222222222222", "regions": ["us-east-1"]}],
	"rules": [
		{"name": "ecs-to-rds", "requester_accounts": ["111111111111"], "allowed_cidrs": ["10.0.0.0/8"]}
	]
}"#;
        assert_eq!(policy(json), policy(ECS_TO_RDS));
        // Single-line JSON goes through the same path.
        assert_eq!(policy(&json.replace(['\n', '\t'], "")), policy(ECS_TO_RDS));
    }

    #[test]
    fn serde_deserialization_validates_too() {
        let bad = r#"{"version": 1, "accepters": [{"account": "*", "regions": ["us-east-1"]}]}"#;
        let err = serde_json::from_str::<Policy>(bad)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(err.contains("accepters[0].account"), "{err}");
        let p: Policy = serde_yaml::from_str(ECS_TO_RDS).unwrap();
        assert_eq!(p, policy(ECS_TO_RDS));
    }

    #[test]
    fn serialized_policy_reads_back_identically() {
        let p = policy(ECS_TO_RDS);
        let text = serde_json::to_string(&p).unwrap();
        assert_eq!(policy(&text), p);
    }

    #[test]
    fn unknown_keys_are_rejected_everywhere() {
        for (text, key) in [
            (format!("{ECS_TO_RDS}extra: 1\n"), "extra"),
            (
                with_rule_line("allowed_cidr: [\"10.0.0.0/8\"]"),
                "allowed_cidr",
            ),
            (
                with_rule_line("requester_account: [\"111111111111\"]"),
                "requester_account",
            ),
            (
                ECS_TO_RDS.replace(
                    "    regions: [us-east-1]\n",
                    "    regions: [us-east-1]\n    region: us-east-1\n",
                ),
                "region",
            ),
        ] {
            let message = syntax(&text);
            assert!(
                message.contains(&format!("unknown field `{key}`")),
                "{message}"
            );
        }
    }

    #[test]
    fn wildcard_requester_account_is_refused() {
        for wildcard in ["*", "1111111111*", "11111111111?", "any", "ANY"] {
            let text = ECS_TO_RDS.replace("[\"111111111111\"]", &format!("[\"{wildcard}\"]"));
            let (field, reason) = invalid_field(&text);
            assert_eq!(field, "rules[0].requester_accounts[0]", "{wildcard}");
            assert!(reason.contains("wildcards are never allowed"), "{reason}");
        }
        let (field, _) = invalid_field(&ECS_TO_RDS.replace("\"222222222222\"", "\"*\""));
        assert_eq!(field, "accepters[0].account");
    }

    #[test]
    fn parse_errors_name_the_field() {
        let rule = |line: &str| with_rule_line(line);
        for (text, expected_field, reason_part) in [
            (ECS_TO_RDS.replace("version: 1", "version: 2"), "version", "version 2 is not supported"),
            (
                ECS_TO_RDS.replace("[\"111111111111\"]", "[\"111111111111\", \"11111111111\"]"),
                "rules[0].requester_accounts[1]",
                "`11111111111` is not a 12-digit AWS account ID",
            ),
            (
                ECS_TO_RDS.replace("[\"111111111111\"]", "[\"11111111111a\"]"),
                "rules[0].requester_accounts[0]",
                "12-digit",
            ),
            (
                ECS_TO_RDS.replace("[\"111111111111\"]", "[]"),
                "rules[0].requester_accounts",
                "at least one requester account",
            ),
            (
                ECS_TO_RDS.replace("[\"10.0.0.0/8\"]", "[]"),
                "rules[0].allowed_cidrs",
                "at least one allowed CIDR",
            ),
            (
                ECS_TO_RDS.replace("[\"10.0.0.0/8\"]", "[\"10.0.0.0/8\", \"10.1.2.3/16\"]"),
                "rules[0].allowed_cidrs[1]",
                "did you mean 10.1.0.0/16",
            ),
            (
                ECS_TO_RDS.replace("[\"10.0.0.0/8\"]", "[\"10.0.0.0\"]"),
                "rules[0].allowed_cidrs[0]",
                "prefix length is missing",
            ),
            (rule("min_prefix_length: 33"), "rules[0].min_prefix_length", "above 32"),
            (rule("min_ipv6_prefix_length: 129"), "rules[0].min_ipv6_prefix_length", "above 128"),
            (rule("requester_vpcs: [vpc-123]"), "rules[0].requester_vpcs[0]", "not a VPC ID"),
            (
                rule("accepter_vpcs: [vpc-22222222, vpc-0123456789ABCDEF0]"),
                "rules[0].accepter_vpcs[1]",
                "not a VPC ID",
            ),
            (rule("regions: [us-east-1, US-WEST-2]"), "rules[0].regions[1]", "not an AWS region"),
            (rule("required_tags: {\"\": x}"), "rules[0].required_tags.", "tag key"),
            (
                ECS_TO_RDS.replace("name: ecs-to-rds", "name: \"  \""),
                "rules[0].name",
                "rule name is required",
            ),
            (
                ECS_TO_RDS.replace("regions: [us-east-1]", "regions: []"),
                "accepters[0].regions",
                "at least one region",
            ),
            (
                ECS_TO_RDS.replace("regions: [us-east-1]", "regions: [useast1]"),
                "accepters[0].regions[0]",
                "not an AWS region",
            ),
            (
                ECS_TO_RDS.replace("regions: [us-east-1]", "regions: [us-east-1]\n    vpcs: [vpc-gggggggg]"),
                "accepters[0].vpcs[0]",
                "not a VPC ID",
            ),
            (
                ECS_TO_RDS.replace("\"222222222222\"", "\"2222\""),
                "accepters[0].account",
                "12-digit",
            ),
            (
                "version: 1\naccepters: []\n".to_owned(),
                "accepters",
                "at least one accepter",
            ),
            (
                format!(
                    "{ECS_TO_RDS}  - name: ecs-to-rds\n    requester_accounts: [\"333333333333\"]\n    allowed_cidrs: [\"10.0.0.0/8\"]\n"
                ),
                "rules[1].name",
                "already used by rules[0]",
            ),
        ] {
            let (field, reason) = invalid_field(&text);
            assert_eq!(field, expected_field, "{reason}\n{text}");
            assert!(reason.contains(reason_part), "{field}: {reason}");
        }
    }

    #[test]
    fn syntax_errors_name_the_problem() {
        for (text, part) in [
            ("version: 1\n".to_owned(), "missing field `accepters`"),
            (ECS_TO_RDS.replace("version: 1\n", ""), "missing field `version`"),
            (ECS_TO_RDS.replace("unmatched: reject", "unmatched: accept"), "unknown variant `accept`"),
            (with_rule_line("approval: maybe"), "unknown variant `maybe`"),
            // JSON numbers would lose leading zeros.
            (
                r#"{"version": 1, "accepters": [{"account": 12345678901, "regions": ["us-east-1"]}]}"#
                    .to_owned(),
                "expected a 12-digit account ID as a quoted string",
            ),
            (with_rule_line("min_prefix_length: 300"), "min_prefix_length"),
            ("{\"version\": 1,".to_owned(), "EOF"),
            ("".to_owned(), ""),
            ("- just\n- a list\n".to_owned(), "invalid type"),
        ] {
            let message = syntax(&text);
            assert!(message.contains(part), "{part:?} not in {message:?}");
        }
    }

    #[test]
    fn unquoted_yaml_account_ids_are_read_verbatim() {
        // YAML hands the scalar's text to a string field, so leading zeros survive.
        let text = ECS_TO_RDS
            .replace("\"222222222222\"", "222222222222")
            .replace("[\"111111111111\"]", "[012345678901]");
        let p = policy(&text);
        assert_eq!(p.accepters[0].account, "222222222222");
        assert_eq!(p.rules[0].requester_accounts, vec!["012345678901"]);
        let (field, _) = invalid_field(&ECS_TO_RDS.replace("[\"111111111111\"]", "[1.11e11]"));
        assert_eq!(field, "rules[0].requester_accounts[0]");
    }

    #[test]
    fn region_names() {
        for ok in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-7",
            "us-isob-east-1",
            "cn-north-1",
        ] {
            assert_eq!(check_region(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "us-east",
            "us-east-",
            "US-EAST-1",
            "us_east_1",
            "us--east-1",
            "1-east-1",
            "us-east-1a",
            "*",
            "us-east-*",
        ] {
            assert!(check_region(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn vpc_ids() {
        for ok in ["vpc-1a2b3c4d", "vpc-0123456789abcdef0"] {
            assert_eq!(check_vpc_id(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "vpc-",
            "vpc-1a2b3c4",
            "vpc-1a2b3c4d5",
            "vpc-0123456789ABCDEF0",
            "vpc-0123456789abcdef",
            "subnet-1a2b3c4d",
            "vpc-*",
            "VPC-1a2b3c4d",
        ] {
            assert!(check_vpc_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn accepter_scope_table() {
        let p = policy(
            r#"
version: 1
accepters:
  - account: "222222222222"
    regions: [us-east-1, eu-west-1]
  - account: "333333333333"
    regions: [us-west-2]
    vpcs: [vpc-33333333]
"#,
        );
        for (account, region, vpc, expected) in [
            ("222222222222", "us-east-1", None, true),
            (
                "222222222222",
                "eu-west-1",
                Some("vpc-0123456789abcdef0"),
                true,
            ), // no vpcs = all
            ("222222222222", "us-west-2", None, false),
            ("333333333333", "us-west-2", Some("vpc-33333333"), true),
            ("333333333333", "us-west-2", Some("vpc-44444444"), false),
            ("333333333333", "us-west-2", None, true), // account/region scan without a VPC
            ("333333333333", "us-east-1", Some("vpc-33333333"), false),
            ("444444444444", "us-east-1", None, false),
            ("", "", None, false),
        ] {
            assert_eq!(
                p.covers_accepter(account, region, vpc),
                expected,
                "{account} {region} {vpc:?}"
            );
        }
    }

    // ---- evaluation: the troubleshooting table ----

    #[test]
    fn a_named_account_inside_the_allowed_ranges_matches() {
        let p = policy(ECS_TO_RDS);
        assert_eq!(
            p.evaluate(&peering(REQUESTER, &["10.1.0.0/16"])),
            matched("ecs-to-rds", Approval::Auto)
        );
        // Secondary CIDRs, all inside, at exactly the minimum prefix or narrower.
        assert_eq!(
            p.evaluate(&peering(
                REQUESTER,
                &["10.1.0.0/16", "10.200.8.0/24", "10.0.0.0/28"]
            )),
            matched("ecs-to-rds", Approval::Auto)
        );
    }

    #[test]
    fn a_request_from_an_unknown_account_never_matches() {
        let (closest, reasons) = unmatched_reasons(
            policy(ECS_TO_RDS).evaluate(&peering("999999999999", &["10.1.0.0/16"])),
        );
        assert_eq!(closest, None);
        assert_eq!(
            reasons,
            vec!["requester account 999999999999 is not named by any rule"]
        );
    }

    #[test]
    fn a_cidr_outside_the_allowed_ranges_is_refused() {
        let (closest, reasons) = unmatched_reasons(
            policy(ECS_TO_RDS).evaluate(&peering(REQUESTER, &["10.1.0.0/16", "192.168.0.0/16"])),
        );
        assert_eq!(closest.as_deref(), Some("ecs-to-rds"));
        assert_eq!(
            reasons,
            vec!["requester CIDR 192.168.0.0/16 is outside the allowed ranges 10.0.0.0/8 of rule ecs-to-rds"]
        );
    }

    #[test]
    fn a_slash_12_is_refused_when_min_prefix_is_16() {
        let (_, reasons) =
            unmatched_reasons(policy(ECS_TO_RDS).evaluate(&peering(REQUESTER, &["10.0.0.0/12"])));
        assert_eq!(
            reasons,
            vec!["requester CIDR 10.0.0.0/12 is broader than /16 (rule ecs-to-rds)"]
        );
        let p = policy(&with_rule_line("min_prefix_length: 12"));
        assert_eq!(
            p.evaluate(&peering(REQUESTER, &["10.0.0.0/12"])),
            matched("ecs-to-rds", Approval::Auto)
        );
    }

    #[test]
    fn a_cidr_both_outside_and_too_broad_gets_both_reasons() {
        let (_, reasons) =
            unmatched_reasons(policy(ECS_TO_RDS).evaluate(&peering(REQUESTER, &["172.16.0.0/12"])));
        assert_eq!(
            reasons,
            vec![
                "requester CIDR 172.16.0.0/12 is outside the allowed ranges 10.0.0.0/8 of rule ecs-to-rds",
                "requester CIDR 172.16.0.0/12 is broader than /16 (rule ecs-to-rds)",
            ]
        );
    }

    #[test]
    fn a_peering_without_requester_cidrs_never_matches() {
        let (_, reasons) = unmatched_reasons(policy(ECS_TO_RDS).evaluate(&peering(REQUESTER, &[])));
        assert_eq!(reasons, vec!["the peering reports no requester CIDR"]);
    }

    #[test]
    fn ipv6_cidrs_use_the_ipv6_minimum_and_must_be_allowed_too() {
        let p =
            policy(&ECS_TO_RDS.replace("[\"10.0.0.0/8\"]", "[\"10.0.0.0/8\", \"2600:1f18::/32\"]"));
        assert_eq!(
            p.evaluate(&peering(
                REQUESTER,
                &["10.1.0.0/16", "2600:1f18:abcd:1200::/56"]
            )),
            matched("ecs-to-rds", Approval::Auto)
        );
        let (_, reasons) = unmatched_reasons(
            p.evaluate(&peering(REQUESTER, &["10.1.0.0/16", "2600:1f18:ab00::/40"])),
        );
        assert_eq!(
            reasons,
            vec!["requester CIDR 2600:1f18:ab00::/40 is broader than /56 (rule ecs-to-rds)"]
        );
        // An IPv6 block the rule does not list is refused even though every IPv4 block is fine.
        let (_, reasons) = unmatched_reasons(policy(ECS_TO_RDS).evaluate(&peering(
            REQUESTER,
            &["10.1.0.0/16", "2600:1f18:abcd:1200::/56"],
        )));
        assert_eq!(
            reasons,
            vec!["requester CIDR 2600:1f18:abcd:1200::/56 is outside the allowed ranges 10.0.0.0/8 of rule ecs-to-rds"]
        );
    }

    #[test]
    fn a_missing_or_different_tag_is_refused() {
        let p = policy(&with_rule_line(
            "required_tags: {team: payments, env: prod}",
        ));
        let mut request = peering(REQUESTER, &["10.1.0.0/16"]);
        request.tags.insert("env".to_owned(), "dev".to_owned());
        let (_, reasons) = unmatched_reasons(p.evaluate(&request));
        assert_eq!(
            reasons,
            vec![
                "tag env=prod is required by rule ecs-to-rds; the peering has env=dev",
                "tag team=payments is required by rule ecs-to-rds; the peering has team=(missing)",
            ]
        );
        request.tags.insert("env".to_owned(), "prod".to_owned());
        request
            .tags
            .insert("team".to_owned(), "payments".to_owned());
        request
            .tags
            .insert("extra".to_owned(), "ignored".to_owned());
        assert_eq!(p.evaluate(&request), matched("ecs-to-rds", Approval::Auto));
    }

    #[test]
    fn both_regions_must_be_listed() {
        let p = policy(&with_rule_line("regions: [us-east-1]"));
        let mut request = peering(REQUESTER, &["10.1.0.0/16"]);
        assert_eq!(p.evaluate(&request), matched("ecs-to-rds", Approval::Auto));
        request.requester.region = "eu-west-1".to_owned();
        let (_, reasons) = unmatched_reasons(p.evaluate(&request));
        assert_eq!(
            reasons,
            vec!["requester region eu-west-1 is not among us-east-1 of rule ecs-to-rds"]
        );
        request.requester.region = "us-east-1".to_owned();
        request.accepter.region = "us-west-2".to_owned();
        let (_, reasons) = unmatched_reasons(p.evaluate(&request));
        assert_eq!(
            reasons,
            vec!["accepter region us-west-2 is not among us-east-1 of rule ecs-to-rds"]
        );
    }

    #[test]
    fn requester_and_accepter_vpcs_are_checked_when_listed() {
        let p = policy(&with_rule_line(
            "requester_vpcs: [vpc-1a1a1a1a]\n    accepter_vpcs: [vpc-2b2b2b2b, vpc-3c3c3c3c]",
        ));
        let mut request = peering(REQUESTER, &["10.1.0.0/16"]);
        let (_, reasons) = unmatched_reasons(p.evaluate(&request));
        assert_eq!(
            reasons,
            vec![
                "requester VPC vpc-11111111 is not among vpc-1a1a1a1a of rule ecs-to-rds",
                "accepter VPC vpc-22222222 is not among vpc-2b2b2b2b, vpc-3c3c3c3c of rule ecs-to-rds",
            ]
        );
        request.requester.vpc_id = "vpc-1a1a1a1a".to_owned();
        request.accepter.vpc_id = "vpc-3c3c3c3c".to_owned();
        assert_eq!(p.evaluate(&request), matched("ecs-to-rds", Approval::Auto));
    }

    #[test]
    fn rules_are_tried_in_order_and_the_closest_is_the_first_naming_the_account() {
        let p = policy(
            r#"
version: 1
accepters: [{account: "222222222222", regions: [us-east-1]}]
rules:
  - name: other-team
    requester_accounts: ["333333333333"]
    allowed_cidrs: ["10.0.0.0/8"]
  - name: narrow
    requester_accounts: ["111111111111"]
    allowed_cidrs: ["10.1.0.0/16"]
    approval: required
  - name: broad
    requester_accounts: ["333333333333", "111111111111"]
    allowed_cidrs: ["10.0.0.0/8"]
"#,
        );
        assert_eq!(
            p.evaluate(&peering(REQUESTER, &["10.1.0.0/16"])),
            matched("narrow", Approval::Required)
        );
        assert_eq!(
            p.evaluate(&peering(REQUESTER, &["10.2.0.0/16"])),
            matched("broad", Approval::Auto)
        );
        let (closest, reasons) =
            unmatched_reasons(p.evaluate(&peering(REQUESTER, &["192.168.0.0/16"])));
        assert_eq!(closest.as_deref(), Some("narrow"));
        assert_eq!(
            reasons,
            vec!["requester CIDR 192.168.0.0/16 is outside the allowed ranges 10.1.0.0/16 of rule narrow"]
        );
    }
}
