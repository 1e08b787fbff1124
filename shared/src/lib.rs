//! peerwire: policy-gated, level-triggered VPC peering across accounts.
//!
//! One reconciler with many doors. The module tree is the flow:
//!
//! **event → door → locate → observe → plan → apply → report**
//!
//! - [`events`]: typed EventBridge events; an event only says where to look.
//! - [`doors`]: one per function; event → target + the phases it may run.
//! - [`reconcile`]: locate, observe (through [`aws::observe`]), plan, apply, report; sweeps.
//! - [`plan`]: pure planners over [`model`] and [`policy`]: decide, wire, clean.
//! - [`aws`]: the adapters, the only code that talks to AWS.
//! - [`outcome`]: what is reported, as events and logs.
//!
//! Imports point down only: doors → reconcile → plan/aws → model.

pub mod app;
pub mod aws;
pub mod config;
pub mod doors;
pub mod error;
pub mod events;
pub mod model;
pub mod outcome;
pub mod plan;
pub mod policy;
pub mod reconcile;
pub mod telemetry;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use app::App;
pub use error::{Error, Result};
