//! peerwire: policy-gated, level-triggered VPC peering across accounts.
//!
//! One reconciler with many doors. The module tree is the flow:
//!
//! **event → door → locate → observe → plan → apply → report**
//!
//! - [`events`] (from `peerwire-core`): typed EventBridge events; an event only says where to
//!   look.
//! - [`doors`]: one per function; event → target + the phases it may run.
//! - [`reconcile`]: locate, observe (through [`aws::observe`]), plan, apply, report; sweeps.
//! - [`plan`] (from `peerwire-core`): pure planners over [`model`] and [`policy`].
//! - [`aws`]: the adapters, the only code that talks to AWS.
//! - [`outcome`] (from `peerwire-core`): what is reported, as events and logs.
//!
//! Imports point down only: doors → reconcile → aws → peerwire-core. The pure modules live in
//! `peerwire-core`, which does not link the AWS SDK; they are re-exported here so that every
//! path (`peerwire::model::PeeringId`, ...) reads the same from either crate.

pub mod app;
pub mod aws;
pub mod config;
pub mod doors;
pub mod reconcile;
pub mod telemetry;

#[cfg(any(test, feature = "testing"))]
pub use peerwire_core::testing;
pub use peerwire_core::{error, events, model, outcome, plan, policy};

pub use app::App;
pub use error::{Error, Result};
