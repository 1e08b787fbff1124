//! The plan: an ordered list of steps, each carrying the reason it exists. It is a pure function
//! of the observed state and the policy; the adapters execute it, `plan` prints it.

use serde::Serialize;

use crate::decision::{Decision, Verdict};
use crate::model::Peering;

/// One change to make. Every step is owned by exactly one side of the peering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum PlanStep {
    /// Accepter side: `AcceptVpcPeeringConnection`.
    AcceptPeering { peering_id: String, rule: String },
    /// Accepter side: `RejectVpcPeeringConnection`. Final: the requester must ask again.
    RejectPeering {
        peering_id: String,
        reasons: Vec<String>,
    },
}

impl PlanStep {
    /// The AWS operation this step calls.
    pub fn operation(&self) -> &'static str {
        match self {
            Self::AcceptPeering { .. } => "AcceptVpcPeeringConnection",
            Self::RejectPeering { .. } => "RejectVpcPeeringConnection",
        }
    }
}

/// The steps that carry out an accept decision: at most one write. Hold and skip write nothing.
pub fn plan_request(peering: &Peering, decision: &Decision) -> Vec<PlanStep> {
    match decision.verdict {
        Verdict::Accept => vec![PlanStep::AcceptPeering {
            peering_id: peering.id.clone(),
            rule: decision.rule.clone().unwrap_or_default(),
        }],
        Verdict::Reject => vec![PlanStep::RejectPeering {
            peering_id: peering.id.clone(),
            reasons: decision.reasons.clone(),
        }],
        Verdict::Hold | Verdict::Skip => Vec::new(),
    }
}
