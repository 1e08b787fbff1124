//! Shared by the reliability tests (faults, replay, hostile events): a fault-injecting HTTP
//! proxy in front of the emulator, and a reusable, resettable emulator world.

// Each test file uses a different part of this module.
#![allow(dead_code)]

pub mod proxy;
pub mod world;

use peerwire::outcome::OutcomeKind;
use peerwire::Error;
use serde_json::Value;

/// The four doors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Door {
    Request,
    Wiring,
    Drift,
    Cleanup,
}

impl Door {
    pub const ALL: [Door; 4] = [Door::Request, Door::Wiring, Door::Drift, Door::Cleanup];

    pub fn name(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::Wiring => "wiring",
            Self::Drift => "drift",
            Self::Cleanup => "cleanup",
        }
    }

    /// Whether this door's parser takes `event` (no AWS call).
    pub fn accepts(self, event: &Value) -> bool {
        match self {
            Self::Request => peerwire::events::parse_request_event(event).is_ok(),
            Self::Wiring => peerwire::events::parse_wiring_event(event).is_ok(),
            Self::Drift => peerwire::events::parse_drift_event(event).is_ok(),
            Self::Cleanup => peerwire::events::parse_cleanup_event(event).is_ok(),
        }
    }

    /// Runs the door's handler; the outcome kinds of the run, or its error.
    pub async fn run(self, app: &peerwire::App, event: &Value) -> Result<Vec<OutcomeKind>, Error> {
        let kinds = |outcomes: &[peerwire::outcome::Outcome]| {
            outcomes.iter().map(|o| o.kind).collect::<Vec<_>>()
        };
        Ok(match self {
            Self::Request => kinds(
                &peerwire::doors::request::handle_request_event(app, event)
                    .await?
                    .run
                    .outcomes,
            ),
            Self::Wiring => kinds(
                &peerwire::doors::wiring::handle_wiring_event(app, event)
                    .await?
                    .run
                    .outcomes,
            ),
            Self::Drift => kinds(
                &peerwire::doors::drift::handle_drift_event(app, event)
                    .await?
                    .run
                    .outcomes,
            ),
            Self::Cleanup => kinds(
                &peerwire::doors::cleanup::handle_cleanup_event(app, event)
                    .await?
                    .run
                    .outcomes,
            ),
        })
    }
}
