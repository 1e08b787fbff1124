//! Why a request was accepted, rejected, held or skipped: typed, so that tests and tools match
//! on what happened, and `Display` gives the sentence outcome events carry.

use std::fmt;

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use serde::{Serialize, Serializer};

use crate::model::{
    AccountId, PeeringId, PeeringStatus, Region, RouteTableId, RouteTarget, Side, VpcId,
};
use crate::policy::Condition;

/// One reason behind a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The peering is not `pending-acceptance`: nothing to decide.
    NotPending {
        status: PeeringStatus,
        message: Option<String>,
    },
    /// The accepter VPC is outside the policy's accepters.
    NotInAccepters {
        account: AccountId,
        region: Region,
        vpc_id: VpcId,
    },
    /// The accepter network given is not the peering's accepter VPC (a caller's mistake).
    WrongAccepterNetwork { given: VpcId, accepter: VpcId },
    /// A condition of the closest rule failed, or could not be checked.
    Rule(Condition),
    /// A requester CIDR collides with the accepter VPC, a route of it, or another peering.
    Overlap(Overlap),
    /// A requester route table sends an accepter CIDR elsewhere: wiring could never finish on
    /// the requester side.
    RequesterRouteConflict {
        route_table_id: RouteTableId,
        destination: IpNet,
        target: RouteTarget,
        accepter_cidr: IpNet,
    },
    /// A route of `side` more specific than a CIDR of the other side, through another target:
    /// it wins for that part of the range (longest prefix match), which the peering will not
    /// carry. Reported, not a refusal.
    Shadowed {
        side: Side,
        route_table_id: RouteTableId,
        destination: IpNet,
        target: RouteTarget,
        peer_cidr: IpNet,
    },
    /// The rule matched and accepts without approval.
    Matched { rule: String },
    /// The rule matched, requires approval, and an approver granted it.
    Approved { rule: String, by: String },
    /// The rule matched and requires an approval that has not come.
    ApprovalRequired { rule: String },
    /// An approver denied the request.
    DeniedBy { by: String, reason: String },
    /// An approval came but cannot be taken.
    ApprovalRefused {
        by: String,
        refusal: ApprovalRefusal,
    },
}

/// Why an approval cannot be taken: not from an approver, or not about this request as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalRefusal {
    /// The sender is not one of the policy's `approvers`.
    NotAnApprover { by: String, from: Option<AccountId> },
    /// It names another requester account than the peering's.
    OtherRequester { named: AccountId, actual: AccountId },
    /// The requester CIDRs the approver saw are not the peering's now.
    CidrsChanged { seen: Vec<IpNet>, now: Vec<IpNet> },
    /// Sent before this request was made: about an earlier request of the same id.
    BeforeRequest {
        at: DateTime<Utc>,
        made: DateTime<Utc>,
    },
    /// Sent after the request expired.
    AfterExpiry {
        at: DateTime<Utc>,
        expires: DateTime<Utc>,
    },
}

fn join(items: &[IpNet]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for ApprovalRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAnApprover { by, from } => {
                let from = from.as_ref().map_or_else(
                    || "an unknown account".to_owned(),
                    |a| format!("account {a}"),
                );
                write!(f, "{by} (from {from}) is not an approver of the policy")
            }
            Self::OtherRequester { named, actual } => write!(
                f,
                "it names requester account {named}, but the peering's requester is {actual}"
            ),
            Self::CidrsChanged { seen, now } => write!(
                f,
                "it approved requester CIDRs {}, but the peering now reports {}",
                join(seen),
                join(now)
            ),
            Self::BeforeRequest { at, made } => write!(
                f,
                "it was sent at {at}, before this request was made ({made}): it is about an earlier request"
            ),
            Self::AfterExpiry { at, expires } => write!(
                f,
                "it was sent at {at}, after the request expired ({expires})"
            ),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPending { status, message } => match message {
                Some(message) if !message.trim().is_empty() => {
                    write!(f, "peering is {status} ({message})")
                }
                _ => write!(f, "peering is {status}"),
            },
            Self::NotInAccepters {
                account,
                region,
                vpc_id,
            } => write!(
                f,
                "accepter account {account} region {region} VPC {vpc_id} is not in the policy's accepters"
            ),
            Self::WrongAccepterNetwork { given, accepter } => write!(
                f,
                "the accepter network given is {given}, not the peering's accepter VPC {accepter}; no decision"
            ),
            Self::Rule(condition) => condition.fmt(f),
            Self::Overlap(overlap) => overlap.fmt(f),
            Self::RequesterRouteConflict {
                route_table_id,
                destination,
                target,
                accepter_cidr,
            } => write!(
                f,
                "the requester's route table {route_table_id} sends {destination} to {target}: a route to accepter CIDR {accepter_cidr} through the peering could never be added there"
            ),
            Self::Shadowed {
                side,
                route_table_id,
                destination,
                target,
                peer_cidr,
            } => write!(
                f,
                "the {side}'s route table {route_table_id} sends {destination} to {target}, more specific than peer CIDR {peer_cidr}: that part of the range will not use the peering"
            ),
            Self::Matched { rule } => write!(f, "matched rule {rule}"),
            Self::Approved { rule, by } => write!(
                f,
                "matched rule {rule}, which requires approval; approved by {by}"
            ),
            Self::ApprovalRequired { rule } => write!(f, "rule {rule} requires approval"),
            Self::DeniedBy { by, reason } => write!(f, "denied by {by}: {reason}"),
            Self::ApprovalRefused { by, refusal } => {
                write!(f, "the approval from {by} was refused: {refusal}")
            }
        }
    }
}

/// As its sentence: outcome events and `plan --json` carry reasons as text.
impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Where a conflicting accepter-side block comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum OverlapSource {
    /// A CIDR associated with the accepter VPC (primary or secondary).
    VpcCidr { vpc_id: VpcId },
    /// A route in one of the accepter's route tables that already sends this range elsewhere.
    Route {
        route_table_id: RouteTableId,
        target: RouteTarget,
    },
    /// Another peering of the accepter VPC (active, provisioning, or an earlier request)
    /// already joins this range.
    Peering { peering_id: PeeringId },
}

/// A requester CIDR that shares addresses with something on the accepter side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overlap {
    pub requester_cidr: IpNet,
    pub conflicting: IpNet,
    pub source: OverlapSource,
}

impl fmt::Display for Overlap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            OverlapSource::VpcCidr { vpc_id } => write!(
                f,
                "requester CIDR {} overlaps accepter VPC {vpc_id} CIDR {}",
                self.requester_cidr, self.conflicting
            ),
            OverlapSource::Route {
                route_table_id,
                target,
            } => write!(
                f,
                "requester CIDR {} overlaps route {} via {target} in route table {route_table_id}",
                self.requester_cidr, self.conflicting
            ),
            OverlapSource::Peering { peering_id } => write!(
                f,
                "requester CIDR {} collides with {} of peering {peering_id}, which holds it first",
                self.requester_cidr, self.conflicting
            ),
        }
    }
}
