//! peerwire's own events: approvals (source `peerwire.approval`) and the "accepted" outcome
//! the wiring function listens to (source `peerwire`).

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::Deserialize;
use serde_json::Value;

use super::{id, invalid, malformed, EventError, APPROVAL_DETAIL_TYPE, DENIAL_DETAIL_TYPE};
use crate::model::cidr;
use crate::model::{ApprovalAnswer, ApprovalDecision, PeeringRef};

/// The detail of `Peering Approval Granted` and `Peering Approval Denied`: the request, what
/// the approver saw of it, who decided, and (denied) why (`docs/schemas/approval-*.json`). Read
/// by [`decision`]; [`approval_event`] writes the same fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApprovalDetail {
    peering_id: String,
    accepter_account: String,
    region: String,
    requester_account: String,
    requester_cidrs: Vec<String>,
    #[serde(default)]
    approved_by: Option<String>,
    #[serde(default)]
    denied_by: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AcceptedOutcomeDetail {
    peering_id: String,
    accepter: AcceptedOutcomeSide,
}

#[derive(Debug, Deserialize)]
struct AcceptedOutcomeSide {
    account: String,
    region: String,
}

/// What a sender puts on the hub bus for an answer: the `PutEvents` entry's `DetailType` and
/// `Detail` (source [`super::APPROVAL_SOURCE`]). `peerwire approve`/`deny` and the documented
/// workflow send exactly this; [`decision`] reads it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalEvent {
    pub detail_type: &'static str,
    pub detail: Value,
}

/// The approval event for `decision.answer` about `decision.peering`, bound to the requester
/// account and CIDRs the sender read, signed `decision.by`. The envelope's `account` and `time` are EventBridge's, not the
/// sender's: `decision.sent_from` and `decision.at` are not written.
pub fn approval_event(decision: &ApprovalDecision) -> ApprovalEvent {
    let cidrs: Vec<String> = decision
        .requester_cidrs
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut detail = serde_json::json!({
        "peering_id": decision.peering.peering_id.as_str(),
        "accepter_account": decision.peering.account.as_str(),
        "region": decision.peering.region.as_str(),
        "requester_account": decision.requester_account.as_str(),
        "requester_cidrs": cidrs,
    });
    let detail_type = match &decision.answer {
        ApprovalAnswer::Granted => {
            detail["approved_by"] = Value::from(decision.by.as_str());
            APPROVAL_DETAIL_TYPE
        }
        ApprovalAnswer::Denied { reason } => {
            detail["denied_by"] = Value::from(decision.by.as_str());
            detail["reason"] = Value::from(reason.as_str());
            DENIAL_DETAIL_TYPE
        }
    };
    ApprovalEvent {
        detail_type,
        detail,
    }
}

/// An approver's answer, bound to the requester account and CIDRs the approver saw.
pub(super) fn decision(envelope: &EventBridgeEvent<Value>) -> Result<ApprovalDecision, EventError> {
    let detail: ApprovalDetail = serde_json::from_value(envelope.detail.clone())
        .map_err(|e| malformed("approval detail", e))?;
    let granted = envelope.detail_type == APPROVAL_DETAIL_TYPE;
    let (field, by) = if granted {
        ("detail.approved_by", detail.approved_by)
    } else {
        ("detail.denied_by", detail.denied_by)
    };
    let by = by.map(|b| b.trim().to_owned()).unwrap_or_default();
    if by.is_empty() || by.len() > 256 {
        return Err(invalid(field, "must name who decided (1-256 chars)"));
    }
    let answer = if granted {
        ApprovalAnswer::Granted
    } else {
        let reason = detail
            .reason
            .map(|r| r.trim().to_owned())
            .unwrap_or_default();
        if reason.is_empty() || reason.len() > 1024 {
            return Err(invalid("detail.reason", "a denial says why (1-1024 chars)"));
        }
        ApprovalAnswer::Denied { reason }
    };
    if detail.requester_cidrs.is_empty() {
        return Err(invalid(
            "detail.requester_cidrs",
            "the requester CIDRs the approver saw are required",
        ));
    }
    let requester_cidrs = detail
        .requester_cidrs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            cidr::parse_cidr(text)
                .map_err(|e| invalid(&format!("detail.requester_cidrs[{i}]"), e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let sent_from = envelope
        .account
        .as_deref()
        .map(|a| id("account", a))
        .transpose()?;
    Ok(ApprovalDecision {
        peering: PeeringRef {
            peering_id: id("detail.peering_id", &detail.peering_id)?,
            account: id("detail.accepter_account", &detail.accepter_account)?,
            region: id("detail.region", &detail.region)?,
        },
        requester_account: id("detail.requester_account", &detail.requester_account)?,
        requester_cidrs,
        by,
        sent_from,
        at: envelope.time,
        answer,
    })
}

/// peerwire's `Peering Request Accepted` outcome: the peering in its accepter account.
pub(super) fn accepted_outcome(
    envelope: &EventBridgeEvent<Value>,
) -> Result<PeeringRef, EventError> {
    let detail: AcceptedOutcomeDetail = serde_json::from_value(envelope.detail.clone())
        .map_err(|e| malformed("outcome detail", e))?;
    Ok(PeeringRef {
        peering_id: id("detail.peering_id", &detail.peering_id)?,
        account: id("detail.accepter.account", &detail.accepter.account)?,
        region: id("detail.accepter.region", &detail.accepter.region)?,
    })
}
