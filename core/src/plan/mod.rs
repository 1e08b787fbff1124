//! The plan: an ordered list of steps, each owned by one side, and the findings reported without
//! a change. Every planner is a pure function of the observed state and the policy:
//! [`request`] decides a pending request, [`wiring`] wires an active peering, [`cleanup`]
//! removes what peerwire made for a gone one. The reconciler applies a plan, `peerwire plan`
//! prints it, diagnose explains it; all three read the same steps.

pub mod cleanup;
mod finding;
pub mod order;
pub mod quota;
mod reason;
pub mod request;
pub mod routes;
mod step;
pub mod wiring;
pub mod zones;

use serde::Serialize;

pub use finding::Finding;
pub use reason::{ApprovalRefusal, Overlap, OverlapSource, Reason};
pub use step::{
    describe_permissions, marked_peering, rule_marker, Action, DnsAttribute, Ec2Action, Permission,
    PlanStep, RouteChange, RouteChangeKind, RuleChange, RuleChangeKind, ZoneAction,
    ZoneAssociation, RULE_MARKER_PREFIX,
};

/// What a peering takes: the steps to apply, in order, then what to report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Plan {
    pub steps: Vec<PlanStep>,
    pub findings: Vec<Finding>,
}

impl Plan {
    /// Nothing to write and nothing blocking: the peering is converged.
    pub fn is_converged(&self) -> bool {
        self.steps.is_empty() && !self.is_blocked()
    }

    /// A finding blocks the wiring (a route conflict).
    pub fn is_blocked(&self) -> bool {
        self.findings.iter().any(Finding::is_blocking)
    }
}
