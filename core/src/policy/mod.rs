//! The allowlist policy: which requesters may peer with which accepter VPCs.
//!
//! A policy is a YAML or JSON document. [`Policy::parse`] is the only way to build one from
//! text, and it validates everything up front so that evaluation never meets a malformed rule.
//! The policy can only ever lead to acceptance through a rule that names the requester account
//! explicitly: there are no wildcards and an unmatched request is rejected or held, never
//! accepted.

use std::collections::BTreeMap;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::model::{
    AccountId, DbIdentifier, HostedZoneId, OrganizationalUnitId, Region, SecurityGroupId, Side,
    SubnetId, VpcId,
};

mod document;
mod evaluate;

pub use document::PolicyError;
pub use evaluate::{Condition, Membership, RuleMatch};

/// The only document version this code reads.
pub const POLICY_VERSION: u32 = 1;

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
    pub regions: Vec<Region>,
    pub vpcs: Vec<VpcId>,
}

/// One allow rule. Every condition must hold for a peering to match.
///
/// Invariants after [`Policy::parse`]: `name` is non-empty and unique in the policy;
/// `requester_accounts` and `requester_ous` are not both empty (no wildcards, no "any account
/// of the organisation"); `allowed_cidrs` is
/// non-empty and canonical; `min_prefix_length` <= 32 and `min_ipv6_prefix_length` <= 128.
/// Empty `requester_vpcs`, `accepter_vpcs` and `regions` mean "any".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub name: String,
    /// Requester accounts named one by one.
    pub requester_accounts: Vec<AccountId>,
    /// Organizational units: a requester account in one of them, or below, matches (unless it
    /// is suspended). For vended accounts, which arrive in an OU with nobody editing the policy.
    pub requester_ous: Vec<OrganizationalUnitId>,
    pub requester_vpcs: Vec<VpcId>,
    /// Every requester CIDR must lie inside one of these.
    pub allowed_cidrs: Vec<IpNet>,
    /// Requester IPv4 CIDRs with a shorter prefix (a broader block) are refused.
    pub min_prefix_length: u8,
    /// Requester IPv6 CIDRs with a shorter prefix are refused. AWS gives VPCs a /56.
    pub min_ipv6_prefix_length: u8,
    pub accepter_vpcs: Vec<VpcId>,
    /// When non-empty, both the requester's and the accepter's region must be listed.
    pub regions: Vec<Region>,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Wiring {
    /// TCP ports of the database (e.g. 5432). Security-group rules are opened for these only.
    pub ports: Vec<u16>,
    pub requester: SideWiring,
    pub accepter: SideWiring,
    /// Source of the accepter's ingress rules: the requester CIDRs, or the requester's selected
    /// security groups (`account/sg-id`, same region only; falls back to CIDRs across regions).
    pub ingress_source: IngressSource,
    /// Turn on `enableDnsSupport`/`enableDnsHostnames` when off; otherwise only report them.
    pub fix_vpc_dns_attributes: bool,
}

impl Wiring {
    /// What the policy says about `side`.
    pub fn side(&self, side: Side) -> &SideWiring {
        match side {
            Side::Requester => &self.requester,
            Side::Accepter => &self.accepter,
        }
    }
}

/// What peerwire touches on one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SideWiring {
    /// `false`: peerwire has no role on this side and changes nothing there.
    pub manage: bool,
    /// Subnets in scope for routes. With no subnet selector and no DB instance, every subnet
    /// is in scope and the main route table is always included.
    pub subnet_ids: Vec<SubnetId>,
    pub subnet_tags: BTreeMap<String, String>,
    /// Groups to open: ingress on the accepter (DB groups), egress on the requester (tasks).
    pub security_group_ids: Vec<SecurityGroupId>,
    pub security_group_tags: BTreeMap<String, String>,
    /// RDS DB instance identifiers: every subnet of their DB subnet groups is routed, and
    /// their VPC security groups are opened.
    pub db_instances: Vec<DbIdentifier>,
    /// Route 53 private hosted zones this side's account owns, to associate with the peer VPC
    /// so that their names resolve there (`CreateVPCAssociationAuthorization` here,
    /// `AssociateVPCWithHostedZone` by the peer, then the authorization is deleted).
    pub private_hosted_zones: Vec<HostedZoneId>,
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
            private_hosted_zones: Vec::new(),
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
#[serde(try_from = "document::PolicyDoc")]
pub struct Policy {
    /// Always [`POLICY_VERSION`].
    pub version: u32,
    pub unmatched: UnmatchedAction,
    /// Non-empty.
    pub accepters: Vec<AccepterScope>,
    /// Tried in order; may be empty, and then nothing is ever accepted.
    pub rules: Vec<Rule>,
    /// Who may send approval decisions. Empty: nobody, and every approval is refused.
    pub approvers: Vec<Approver>,
}

/// Someone the policy lets approve or deny held requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Approver {
    /// Any principal of this account (the account that put the approval event).
    Account(AccountId),
    /// One principal: an IAM role or user ARN. An approval signed by a session of the role
    /// (`arn:aws:sts::<account>:assumed-role/<name>/<session>`) is that role's.
    Principal(String),
}

impl Policy {
    /// Parses and validates a policy document, YAML or JSON.
    ///
    /// In JSON, account IDs must be strings; YAML keeps unquoted ones verbatim.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        document::parse(text)
    }

    /// True when the accepter `account` in `region` (and `vpc_id`, when given) is inside one
    /// of the [`accepters`](Policy::accepters) scopes.
    pub fn covers_accepter(
        &self,
        account: &AccountId,
        region: &Region,
        vpc_id: Option<&VpcId>,
    ) -> bool {
        self.accepters.iter().any(|scope| {
            &scope.account == account
                && scope.regions.contains(region)
                && vpc_id.is_none_or(|vpc| scope.vpcs.is_empty() || scope.vpcs.contains(vpc))
        })
    }

    /// Whether the policy's accepter scopes include `account` in `region` at all.
    pub fn covers_accepter_account(&self, account: &AccountId) -> bool {
        self.accepters.iter().any(|scope| &scope.account == account)
    }

    /// `(account, region)` of every accepter scope, in policy order, each once: what a sweep
    /// scans.
    pub fn accepter_regions(&self) -> Vec<(AccountId, Region)> {
        let mut pairs: Vec<(AccountId, Region)> = Vec::new();
        for scope in &self.accepters {
            for region in &scope.regions {
                let pair = (scope.account.clone(), region.clone());
                if !pairs.contains(&pair) {
                    pairs.push(pair);
                }
            }
        }
        pairs
    }
}

#[cfg(test)]
mod tests;
