//! The cleanup door: when a peering is deleted or rejected, remove on both sides the routes
//! whose target is that peering and the security-group rules peerwire made for it. A replay
//! finds nothing left: reads only, no outcome.

use serde_json::Value;

use super::Trigger;
use crate::app::App;
use crate::reconcile::{Mode, Phases, Report, Target};
use peerwire_core::error::Result;
use peerwire_core::events::{parse_cleanup_event, CleanupTrigger, Event, EventError};
use peerwire_core::model::ApprovalDecision;
use peerwire_core::outcome::OutcomeKind;

impl Trigger for CleanupTrigger {
    const MODE: Mode = Mode::new(Phases::CLEAN, OutcomeKind::CleanedUp);

    fn parse(event: &Value) -> std::result::Result<Event<Self>, EventError> {
        parse_cleanup_event(event)
    }

    fn target(&self) -> (Target, Option<ApprovalDecision>) {
        match self {
            Self::PeeringGone(peering) => (Target::Peering(peering.clone()), None),
            Self::Sweep => (Target::Sweep, None),
        }
    }

    fn label(&self) -> &'static str {
        self.name()
    }
}

/// Handles one event with no deadline (tests, local invokes).
pub async fn handle_cleanup_event(app: &App, event: &Value) -> Result<Report<CleanupTrigger>> {
    super::handle(app, event, None).await
}
