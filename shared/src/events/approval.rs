//! peerwire's own events: approvals (source `peerwire.approval`) and the "accepted" outcome
//! the wiring function listens to (source `peerwire`).

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::Deserialize;
use serde_json::Value;

use super::{id, invalid, malformed, EventError, RequestTrigger};
use crate::model::PeeringRef;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApprovalDetail {
    peering_id: String,
    accepter_account: String,
    region: String,
    approved_by: String,
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

/// `Peering Approval Granted`: a person released a held request.
pub(super) fn granted(envelope: &EventBridgeEvent<Value>) -> Result<RequestTrigger, EventError> {
    let detail: ApprovalDetail = serde_json::from_value(envelope.detail.clone())
        .map_err(|e| malformed("approval detail", e))?;
    let approved_by = detail.approved_by.trim().to_owned();
    if approved_by.is_empty() || approved_by.len() > 256 {
        return Err(invalid(
            "detail.approved_by",
            "must name who approved (1-256 chars)",
        ));
    }
    Ok(RequestTrigger::Approval {
        peering: PeeringRef {
            peering_id: id("detail.peering_id", &detail.peering_id)?,
            account: id("detail.accepter_account", &detail.accepter_account)?,
            region: id("detail.region", &detail.region)?,
        },
        approved_by,
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
