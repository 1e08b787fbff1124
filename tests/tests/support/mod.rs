//! Shared by the reliability tests (faults, replay, hostile events): a fault-injecting HTTP
//! proxy in front of the emulator, and a reusable, resettable emulator world.

// Each test file uses a different part of this module.
#![allow(dead_code)]

pub mod proxy;
pub mod world;

use peerwire::doors::Door;
use peerwire::outcome::OutcomeKind;
use peerwire::Error;
use serde_json::Value;

/// The outcome kinds of one run of `door` on `event`, or its error.
pub async fn outcome_kinds(
    door: Door,
    app: &peerwire::App,
    event: &Value,
) -> Result<Vec<OutcomeKind>, Error> {
    let log = door.run(app, event, None).await?;
    Ok(log.outcomes.iter().map(|o| o.kind).collect())
}
