//! The request door: accept, reject or hold peering requests by policy.
//!
//! A CloudTrail request and an approval name one peering; a schedule sweeps every pending
//! request. Replays find the peering no longer pending: a `Skipped` outcome, no write.

use serde_json::Value;

use super::Trigger;
use crate::app::App;
use crate::reconcile::{Mode, Phases, Report, Target};
use peerwire_core::error::Result;
use peerwire_core::events::{parse_request_event, Event, EventError, RequestTrigger};
use peerwire_core::model::ApprovalDecision;
use peerwire_core::outcome::OutcomeKind;

impl Trigger for RequestTrigger {
    const MODE: Mode = Mode::new(Phases::DECIDE, OutcomeKind::Accepted);

    fn parse(event: &Value) -> std::result::Result<Event<Self>, EventError> {
        parse_request_event(event)
    }

    fn target(&self) -> (Target, Option<ApprovalDecision>) {
        match self {
            Self::PeeringRequested(peering) => (Target::Peering(peering.clone()), None),
            Self::Approval(decision) => (
                Target::Peering(decision.peering.clone()),
                Some(decision.clone()),
            ),
            Self::Sweep => (Target::Sweep, None),
        }
    }

    fn label(&self) -> &'static str {
        self.name()
    }
}

/// Handles one event with no deadline (tests, local invokes).
pub async fn handle_request_event(app: &App, event: &Value) -> Result<Report<RequestTrigger>> {
    super::handle(app, event, None).await
}
