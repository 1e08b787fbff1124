//! The wiring door: make an accepted peering carry traffic, on both sides. The accepted
//! peering, or on a schedule every active one.

use serde_json::Value;

use super::Trigger;
use crate::app::App;
use crate::reconcile::{Mode, Phases, Report, Target};
use peerwire_core::error::Result;
use peerwire_core::events::{parse_wiring_event, Event, EventError, WiringTrigger};
use peerwire_core::model::ApprovalDecision;
use peerwire_core::outcome::OutcomeKind;

impl Trigger for WiringTrigger {
    const MODE: Mode = Mode::new(Phases::WIRE, OutcomeKind::Wired);

    fn parse(event: &Value) -> std::result::Result<Event<Self>, EventError> {
        parse_wiring_event(event)
    }

    fn target(&self) -> (Target, Option<ApprovalDecision>) {
        let target = match self {
            Self::PeeringAccepted(peering) => Target::Peering(peering.clone()),
            Self::Sweep => Target::Sweep,
        };
        (target, None)
    }

    fn label(&self) -> &'static str {
        self.name()
    }
}

/// Handles one event with no deadline (tests, local invokes).
pub async fn handle_wiring_event(app: &App, event: &Value) -> Result<Report<WiringTrigger>> {
    super::handle(app, event, None).await
}
