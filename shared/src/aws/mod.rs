//! The AWS adapters: the only code that talks to AWS. They translate SDK responses into
//! [`peerwire_core::model`] values and plan steps into SDK calls, and depend on nothing above the
//! model, the plan and the outcome types.

pub mod apply;
pub mod calls;
pub mod clients;
pub mod error;
pub mod ledger;
pub mod observe;
pub mod organizations;
pub mod outcome_bus;
pub mod permissions;
pub mod policy_store;
pub mod quotas;
pub mod throttle;
