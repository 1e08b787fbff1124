//! Matching a peering against the rules. Pure: everything a rule looks at is in the peering
//! (both owners' tags as far as they were read) and in the requester account's [`Membership`].
//!
//! A condition that cannot be checked (the requester's tags could not be read, the OU lookup
//! failed) never counts as met and never as failed: the rule is [`RuleMatch::Unverified`],
//! which holds a request instead of rejecting it on facts nobody could read.

use std::fmt;

use ipnet::IpNet;
use serde::Serialize;

use super::{Approval, Approver, Policy, Rule, Wiring};
use crate::model::cidr;
use crate::model::{AccountId, OrganizationalUnitId, Peering, Region, Side, TagView, VpcId};

/// What AWS Organizations says about the requester account, for rules that name OUs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Membership {
    /// Not looked up: no rule names an OU, or every rule that could apply names the account.
    NotLooked,
    /// The OUs the account sits in, from its parent up to the root, and, when it is not
    /// active, its state (`SUSPENDED`, `PENDING_CLOSURE`, `CLOSED`): such an account never
    /// matches by OU.
    Known {
        ous: Vec<OrganizationalUnitId>,
        inactive: Option<String>,
    },
    /// The lookup was needed but failed or is not configured: why.
    Unknown(String),
}

/// The outcome of matching a peering against the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum RuleMatch {
    /// The first rule whose every condition holds.
    Matched { rule: String, approval: Approval },
    /// The first rule that would match, but a condition of it could not be checked.
    Unverified {
        rule: String,
        reasons: Vec<Condition>,
    },
    /// No rule matched. `closest_rule` is the first rule naming the requester account, and
    /// `reasons` lists each condition of it that failed (or why no rule applies at all).
    Unmatched {
        closest_rule: Option<String>,
        reasons: Vec<Condition>,
    },
}

/// A condition of a rule that a peering fails, or that could not be checked. `Display` is the
/// sentence outcome events carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// No rule names the requester account (or any OU).
    NoRuleNamesAccount {
        account: AccountId,
        no_rules: bool,
    },
    AccountNotNamed {
        account: AccountId,
        rule: String,
    },
    /// The account is suspended, closing or closed (its Organizations state).
    AccountNotActive {
        account: AccountId,
        rule: String,
        state: String,
    },
    AccountOutsideOus {
        account: AccountId,
        rule: String,
        ous: Vec<OrganizationalUnitId>,
    },
    /// Unverified: the OU lookup failed or is not configured.
    OusUnreadable {
        account: AccountId,
        rule: String,
        ous: Vec<OrganizationalUnitId>,
        why: String,
    },
    /// Unverified: the OUs were not looked up.
    OusNotLooked {
        account: AccountId,
        rule: String,
    },
    RequesterVpcNotAllowed {
        vpc_id: VpcId,
        allowed: Vec<VpcId>,
        rule: String,
    },
    NoRequesterCidr,
    CidrOutsideAllowed {
        cidr: IpNet,
        allowed: Vec<IpNet>,
        rule: String,
    },
    CidrTooBroad {
        cidr: IpNet,
        min_prefix_length: u8,
        rule: String,
    },
    AccepterVpcNotAllowed {
        vpc_id: VpcId,
        allowed: Vec<VpcId>,
        rule: String,
    },
    RegionNotAllowed {
        side: Side,
        region: Region,
        allowed: Vec<Region>,
        rule: String,
    },
    TagMismatch {
        key: String,
        wanted: String,
        found: Option<String>,
        rule: String,
    },
    /// Unverified: the requester's own view could not be described.
    TagsUnreadable {
        key: String,
        wanted: String,
        rule: String,
        why: String,
    },
    /// Unverified: the requester's own view was not described.
    TagsNotRead {
        key: String,
        wanted: String,
        rule: String,
    },
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoRuleNamesAccount { account, no_rules } => {
                write!(f, "requester account {account} is not named by any rule")?;
                if *no_rules {
                    f.write_str(" (the policy has no rules)")?;
                }
                Ok(())
            }
            Self::AccountNotNamed { account, rule } => {
                write!(f, "requester account {account} is not named by rule {rule}")
            }
            Self::AccountNotActive {
                account,
                rule,
                state,
            } => write!(
                f,
                "requester account {account} is {state} in the organization (rule {rule})"
            ),
            Self::AccountOutsideOus { account, rule, ous } => write!(
                f,
                "requester account {account} is neither named by rule {rule} nor in its OUs {}",
                join(ous)
            ),
            Self::OusUnreadable {
                account,
                rule,
                ous,
                why,
            } => write!(
                f,
                "whether requester account {account} is in the OUs {} of rule {rule} could not be read: {why}",
                join(ous)
            ),
            Self::OusNotLooked { account, rule } => write!(
                f,
                "the OUs of requester account {account} were not looked up (rule {rule})"
            ),
            Self::RequesterVpcNotAllowed {
                vpc_id,
                allowed,
                rule,
            } => write!(
                f,
                "requester VPC {vpc_id} is not among {} of rule {rule}",
                join(allowed)
            ),
            Self::NoRequesterCidr => f.write_str("the peering reports no requester CIDR"),
            Self::CidrOutsideAllowed {
                cidr,
                allowed,
                rule,
            } => write!(
                f,
                "requester CIDR {cidr} is outside the allowed ranges {} of rule {rule}",
                join(allowed)
            ),
            Self::CidrTooBroad {
                cidr,
                min_prefix_length,
                rule,
            } => write!(
                f,
                "requester CIDR {cidr} is broader than /{min_prefix_length} (rule {rule})"
            ),
            Self::AccepterVpcNotAllowed {
                vpc_id,
                allowed,
                rule,
            } => write!(
                f,
                "accepter VPC {vpc_id} is not among {} of rule {rule}",
                join(allowed)
            ),
            Self::RegionNotAllowed {
                side,
                region,
                allowed,
                rule,
            } => write!(
                f,
                "{side} region {region} is not among {} of rule {rule}",
                join(allowed)
            ),
            Self::TagMismatch {
                key,
                wanted,
                found,
                rule,
            } => write!(
                f,
                "tag {key}={wanted} is required by rule {rule}; the requester's view has {key}={}",
                found.as_deref().unwrap_or("(missing)")
            ),
            Self::TagsUnreadable {
                key,
                wanted,
                rule,
                why,
            } => write!(
                f,
                "tag {key}={wanted} is required by rule {rule}, but the requester's tags could not be read: {why}"
            ),
            Self::TagsNotRead { key, wanted, rule } => write!(
                f,
                "tag {key}={wanted} is required by rule {rule}, but the requester's tags were not read"
            ),
        }
    }
}

/// As its sentence: outcome events and `plan --json` carry reasons as text.
impl Serialize for Condition {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One rule against one peering: what failed, and what could not be checked.
#[derive(Debug, Default)]
struct Check {
    failed: Vec<Condition>,
    unverified: Vec<Condition>,
}

impl Policy {
    /// Matches a peering against the rules, in order; the first rule that fully matches wins,
    /// and a rule that might match but cannot be checked stops the search (a later rule must
    /// not win in its place).
    ///
    /// Looks only at the rules: status, accepter scope and CIDR overlaps are the caller's
    /// (see [`crate::plan::request::decide_request`]).
    pub fn evaluate(&self, peering: &Peering, membership: &Membership) -> RuleMatch {
        for rule in &self.rules {
            let check = rule.check(peering, membership);
            if check.failed.is_empty() {
                return if check.unverified.is_empty() {
                    RuleMatch::Matched {
                        rule: rule.name.clone(),
                        approval: rule.approval,
                    }
                } else {
                    RuleMatch::Unverified {
                        rule: rule.name.clone(),
                        reasons: check.unverified,
                    }
                };
            }
        }
        let account = &peering.sides.requester.account;
        let closest = self
            .rules
            .iter()
            .find(|rule| rule.requester_accounts.contains(account))
            .or_else(|| {
                self.rules
                    .iter()
                    .find(|rule| !rule.requester_ous.is_empty())
            });
        match closest {
            Some(rule) => RuleMatch::Unmatched {
                closest_rule: Some(rule.name.clone()),
                reasons: rule.check(peering, membership).failed,
            },
            None => RuleMatch::Unmatched {
                closest_rule: None,
                reasons: vec![Condition::NoRuleNamesAccount {
                    account: account.clone(),
                    no_rules: self.rules.is_empty(),
                }],
            },
        }
    }

    /// The wiring a peering gets: that of the first rule it matches, with the rule's name.
    /// `None` when no rule matches or the match cannot be verified (a person accepted it, or
    /// the policy changed): peerwire does not wire what it would not have accepted.
    pub fn wiring_for(
        &self,
        peering: &Peering,
        membership: &Membership,
    ) -> Option<(&str, &Wiring)> {
        match self.evaluate(peering, membership) {
            RuleMatch::Matched { rule, .. } => self
                .rules
                .iter()
                .find(|r| r.name == rule)
                .map(|r| (r.name.as_str(), &r.wiring)),
            RuleMatch::Unverified { .. } | RuleMatch::Unmatched { .. } => None,
        }
    }

    /// Whether evaluating `peering` needs its requester's own tags: some rule that could
    /// apply to the requester account requires tags.
    pub fn needs_requester_tags(&self, peering: &Peering) -> bool {
        let account = &peering.sides.requester.account;
        self.rules.iter().any(|rule| {
            !rule.required_tags.is_empty()
                && (rule.requester_accounts.contains(account) || !rule.requester_ous.is_empty())
        })
    }

    /// Whether some rule that could apply to the requester of `peering` manages the requester
    /// side: the decision then reads the requester VPC, and may start before the rule is known
    /// (when no such rule exists, nothing is read there).
    pub fn may_manage_requester(&self, peering: &Peering) -> bool {
        let account = &peering.sides.requester.account;
        self.rules.iter().any(|rule| {
            rule.wiring.requester.manage
                && (rule.requester_accounts.contains(account) || !rule.requester_ous.is_empty())
        })
    }

    /// Whether the requester account's OU membership matters: some rule names OUs and does
    /// not name the account itself.
    pub fn needs_membership(&self, account: &AccountId) -> bool {
        self.rules.iter().any(|rule| {
            !rule.requester_ous.is_empty() && !rule.requester_accounts.contains(account)
        })
    }

    /// Whether peerwire may act in `account` at all: an accepter account, a requester account
    /// some rule names, or an account inside an OU some rule names. Events from any other
    /// account are ignored without a call.
    pub fn manages_account(&self, account: &AccountId, membership: &Membership) -> bool {
        self.covers_accepter_account(account)
            || self
                .rules
                .iter()
                .any(|rule| rule.requester_accounts.contains(account) || in_ous(rule, membership))
    }

    /// Whether an approval sent from `account` (the EventBridge envelope's) and signed
    /// `approved_by` comes from someone the policy lists as an approver.
    ///
    /// `account` is EventBridge's (the account that called `PutEvents`); `approved_by` is what
    /// the sender wrote. So a listed principal counts only when the event also came from that
    /// principal's own account: another account cannot sign as it.
    pub fn is_approver(&self, account: Option<&AccountId>, approved_by: &str) -> bool {
        self.approvers.iter().any(|approver| match approver {
            Approver::Account(allowed) => account == Some(allowed),
            Approver::Principal(arn) => {
                account.is_some_and(|sent| principal_account(arn) == Some(sent.as_str()))
                    && same_principal(arn, approved_by)
            }
        })
    }
}

/// The account of an IAM ARN (`arn:<partition>:iam::<account>:...`).
fn principal_account(arn: &str) -> Option<&str> {
    arn.split_once(":iam::")?
        .1
        .split_once(':')
        .map(|(account, _)| account)
}

/// `listed` is `signed`, or `listed` is an IAM role and `signed` one of its STS sessions.
fn same_principal(listed: &str, signed: &str) -> bool {
    if listed == signed {
        return true;
    }
    // arn:aws:iam::111111111111:role/path/Name  ~  arn:aws:sts::111111111111:assumed-role/Name/session
    let role = listed.split_once(":iam::").and_then(|(partition, rest)| {
        let (account, resource) = rest.split_once(":role/")?;
        let name = resource.rsplit('/').next()?;
        Some((partition, account, name))
    });
    let session = signed.split_once(":sts::").and_then(|(partition, rest)| {
        let (account, resource) = rest.split_once(":assumed-role/")?;
        let (name, session) = resource.split_once('/')?;
        (!session.is_empty()).then_some((partition, account, name))
    });
    matches!((role, session), (Some(r), Some(s)) if r == s)
}

fn in_ous(rule: &Rule, membership: &Membership) -> bool {
    match membership {
        Membership::Known { ous, inactive } => {
            inactive.is_none() && rule.requester_ous.iter().any(|ou| ous.contains(ou))
        }
        Membership::NotLooked | Membership::Unknown(_) => false,
    }
}

impl Rule {
    /// Every condition of this rule that `peering` fails, and every one that could not be
    /// checked.
    fn check(&self, peering: &Peering, membership: &Membership) -> Check {
        let rule = || self.name.clone();
        let requester = &peering.sides.requester;
        let accepter = &peering.sides.accepter;
        let mut check = Check::default();
        if !self.requester_accounts.contains(&requester.account) {
            let account = requester.account.clone();
            match (self.requester_ous.is_empty(), membership) {
                (true, _) => check.failed.push(Condition::AccountNotNamed {
                    account,
                    rule: rule(),
                }),
                (
                    false,
                    Membership::Known {
                        inactive: Some(state),
                        ..
                    },
                ) => {
                    check.failed.push(Condition::AccountNotActive {
                        account,
                        rule: rule(),
                        state: state.clone(),
                    });
                }
                (false, Membership::Known { .. }) if in_ous(self, membership) => {}
                (false, Membership::Known { .. }) => {
                    check.failed.push(Condition::AccountOutsideOus {
                        account,
                        rule: rule(),
                        ous: self.requester_ous.clone(),
                    })
                }
                (false, Membership::Unknown(why)) => {
                    check.unverified.push(Condition::OusUnreadable {
                        account,
                        rule: rule(),
                        ous: self.requester_ous.clone(),
                        why: why.clone(),
                    })
                }
                (false, Membership::NotLooked) => check.unverified.push(Condition::OusNotLooked {
                    account,
                    rule: rule(),
                }),
            }
        }
        let out = &mut check.failed;
        if !self.requester_vpcs.is_empty() && !self.requester_vpcs.contains(&requester.vpc_id) {
            out.push(Condition::RequesterVpcNotAllowed {
                vpc_id: requester.vpc_id.clone(),
                allowed: self.requester_vpcs.clone(),
                rule: rule(),
            });
        }
        if requester.cidrs.is_empty() {
            // Nothing to check the ranges against; never let that pass as "all inside".
            out.push(Condition::NoRequesterCidr);
        }
        for cidr in &requester.cidrs {
            if !cidr::within_any(cidr, &self.allowed_cidrs) {
                out.push(Condition::CidrOutsideAllowed {
                    cidr: *cidr,
                    allowed: self.allowed_cidrs.clone(),
                    rule: rule(),
                });
            }
            let min = match cidr {
                IpNet::V4(_) => self.min_prefix_length,
                IpNet::V6(_) => self.min_ipv6_prefix_length,
            };
            if cidr.prefix_len() < min {
                out.push(Condition::CidrTooBroad {
                    cidr: *cidr,
                    min_prefix_length: min,
                    rule: rule(),
                });
            }
        }
        if !self.accepter_vpcs.is_empty() && !self.accepter_vpcs.contains(&accepter.vpc_id) {
            out.push(Condition::AccepterVpcNotAllowed {
                vpc_id: accepter.vpc_id.clone(),
                allowed: self.accepter_vpcs.clone(),
                rule: rule(),
            });
        }
        if !self.regions.is_empty() {
            for side in Side::BOTH {
                let region = &peering.sides[side].region;
                if !self.regions.contains(region) {
                    out.push(Condition::RegionNotAllowed {
                        side,
                        region: region.clone(),
                        allowed: self.regions.clone(),
                        rule: rule(),
                    });
                }
            }
        }
        // Tags are the requester's own: AWS shows the accepter only its own view's tags, and a
        // tag the accepter put on its view says nothing about the request.
        for (key, wanted) in &self.required_tags {
            let (key, wanted) = (key.clone(), wanted.clone());
            match &peering.tags.requester {
                TagView::Read(tags) => {
                    let found = tags.get(&key);
                    if found != Some(&wanted) {
                        check.failed.push(Condition::TagMismatch {
                            found: found.cloned(),
                            key,
                            wanted,
                            rule: rule(),
                        });
                    }
                }
                TagView::Unreadable(why) => check.unverified.push(Condition::TagsUnreadable {
                    key,
                    wanted,
                    rule: rule(),
                    why: why.clone(),
                }),
                TagView::NotRead => check.unverified.push(Condition::TagsNotRead {
                    key,
                    wanted,
                    rule: rule(),
                }),
            }
        }
        check
    }
}

fn join(items: &[impl fmt::Display]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_matches_its_sessions_and_nothing_else() {
        let role = "arn:aws:iam::333333333333:role/approvers/PeeringApprover";
        assert!(same_principal(role, role));
        assert!(same_principal(
            role,
            "arn:aws:sts::333333333333:assumed-role/PeeringApprover/bob@example.com"
        ));
        assert!(!same_principal(
            role,
            "arn:aws:sts::444444444444:assumed-role/PeeringApprover/bob"
        ));
        assert!(!same_principal(
            role,
            "arn:aws:sts::333333333333:assumed-role/PeeringApproverX/bob"
        ));
        assert!(!same_principal(role, "alice@example.com"));
        assert!(!same_principal(
            "arn:aws:iam::333333333333:user/alice",
            "arn:aws:sts::333333333333:assumed-role/alice/x"
        ));
    }
}
