//! An approver's answer about a held request, bound to what the approver saw.

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use serde::Serialize;

use super::ids::AccountId;
use super::peering::PeeringRef;

/// Granted or denied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "answer", rename_all = "kebab-case")]
pub enum ApprovalAnswer {
    Granted,
    Denied { reason: String },
}

/// An approval event: which request, what the approver saw of it (the requester account and
/// CIDRs: an approval no longer matching the peering approves nothing), who signed it and from
/// which account it was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalDecision {
    pub peering: PeeringRef,
    pub requester_account: AccountId,
    pub requester_cidrs: Vec<IpNet>,
    /// `approved_by` or `denied_by`: usually the approver's STS session ARN.
    pub by: String,
    /// The account that put the event on the bus (the envelope's `account`).
    pub sent_from: Option<AccountId>,
    /// When the event was sent (the envelope's `time`).
    pub at: Option<DateTime<Utc>>,
    pub answer: ApprovalAnswer,
}
