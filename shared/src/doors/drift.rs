//! The drift door: keep wired peerings true after the network changes under them.
//!
//! CloudTrail EC2 changes, RDS failovers and a schedule only *locate* the peerings to re-check
//! (by VPC, route table, security group, peering, or DB instance/cluster → VPC); each then
//! gets the same wiring reconcile, and a repair is reported as `Peering Drift Repaired`.
//! Events from accounts the policy does not manage are ignored before any AWS call.

use serde_json::Value;

use super::Trigger;
use crate::app::App;
use crate::reconcile::{Mode, Phases, Report, Target};
use peerwire_core::error::Result;
use peerwire_core::events::{parse_drift_event, DriftTrigger, Event, EventError};
use peerwire_core::model::ApprovalDecision;
use peerwire_core::outcome::OutcomeKind;

impl Trigger for DriftTrigger {
    const MODE: Mode = Mode::new(Phases::WIRE, OutcomeKind::DriftRepaired);

    fn parse(event: &Value) -> std::result::Result<Event<Self>, EventError> {
        parse_drift_event(event)
    }

    fn target(&self) -> (Target, Option<ApprovalDecision>) {
        let (Self::NetworkChanged {
            account,
            region,
            locator,
            ..
        }
        | Self::DatabaseChanged {
            account,
            region,
            locator,
            ..
        }) = self
        else {
            return (Target::Sweep, None);
        };
        let located = Target::Located {
            account: account.clone(),
            region: region.clone(),
            locator: locator.clone(),
        };
        (located, None)
    }

    fn label(&self) -> &'static str {
        self.name()
    }

    fn actor(&self) -> Option<String> {
        match self {
            Self::NetworkChanged { actor, .. } => actor.clone(),
            Self::DatabaseChanged { .. } | Self::Sweep => None,
        }
    }
}

/// Handles one event with no deadline (tests, local invokes).
pub async fn handle_drift_event(app: &App, event: &Value) -> Result<Report<DriftTrigger>> {
    super::handle(app, event, None).await
}
