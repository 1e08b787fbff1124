//! peerwire: policy-gated, level-triggered VPC peering across accounts.
//!
//! The shape is one reconciler with many doors: an event *locates* peerings, [`aws::observe`]
//! reads both sides into [`model`], a pure planner ([`decision`], [`plan`]) decides against the
//! [`policy`], [`aws::apply`] executes only the difference, and [`outcome`] reports it.

pub mod app;
pub mod aws;
pub mod cidr;
pub mod cleanup;
pub mod config;
pub mod decision;
pub mod diagnose;
pub mod drift;
pub mod error;
pub mod events;
pub mod model;
pub mod outcome;
pub mod plan;
pub mod policy;
pub mod policy_store;
pub mod request;
pub mod run;
pub mod telemetry;
pub mod wire;
pub mod wiring;

pub use app::App;
pub use error::{Error, Result};
