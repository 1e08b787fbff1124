//! What reconciling one peering came to: one variant per phase result, so that a reader (the
//! report, the metrics, the CLI) handles each kind of result on purpose.

use serde::Serialize;

use super::apply::AppliedStep;
use peerwire_core::model::{Peering, PeeringId, VpcNetwork, WiringState};
use peerwire_core::outcome::Outcome;
use peerwire_core::plan::request::Decision;
use peerwire_core::plan::Plan;

/// The result of one peering's reconcile.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "phase", rename_all = "kebab-case")]
pub enum Reconciled {
    /// Decide phase: a pending request accepted, rejected, held or skipped.
    Decided(Box<Decided>),
    /// Wire phase: an active peering's plan, applied (empty when converged).
    Wired(Box<Wired>),
    /// Clean phase: what peerwire made for a gone peering, removed.
    Cleaned(Box<Cleaned>),
    /// Nothing for this run to do, and why: outside the policy, no rule, a rule that cannot be
    /// verified, an expired request, or a state none of the run's phases works on.
    LeftAlone(Box<LeftAlone>),
    /// Another invocation is applying the same plan (the same event delivered twice at once):
    /// this one writes and reports nothing.
    Duplicate { peering_id: PeeringId, plan: Plan },
}

/// A decided request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decided {
    pub peering: Peering,
    pub decision: Decision,
    pub plan: Plan,
    /// Empty in a dry run.
    pub applied: Vec<AppliedStep>,
    pub outcome: Option<Outcome>,
    /// The accepter VPC as observed for the decision.
    #[serde(skip)]
    pub accepter_network: Option<VpcNetwork>,
    /// The peering this run accepted, as the re-read after the accept shows it, with the
    /// requester's tags the decision read: what the run wires next. `None` unless the accept
    /// went through and stays (not rolled back), and in a dry run.
    #[serde(skip)]
    pub accepted_now: Option<Peering>,
}

impl Decided {
    /// The peering to wire next, when this run accepted it.
    pub fn accepted_now(&self) -> Option<Peering> {
        self.accepted_now.clone()
    }
}

/// A wired (or converged) active peering.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wired {
    pub peering: Peering,
    /// The policy rule whose wiring was applied.
    pub rule: String,
    pub plan: Plan,
    /// Empty in a dry run.
    pub applied: Vec<AppliedStep>,
    /// `None` when converged: nothing written, nothing to report.
    pub outcome: Option<Outcome>,
    /// Both sides as observed (before this run's writes).
    #[serde(skip)]
    pub state: Option<WiringState>,
}

/// A gone peering's leftovers, removed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cleaned {
    pub peering_id: PeeringId,
    /// `None` when AWS no longer shows the peering.
    pub peering: Option<Peering>,
    pub plan: Plan,
    /// Empty in a dry run.
    pub applied: Vec<AppliedStep>,
    /// `None` when nothing was left to clean.
    pub outcome: Option<Outcome>,
}

/// A peering the run leaves alone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeftAlone {
    pub peering_id: PeeringId,
    /// `None` when AWS does not show the peering to the account asked.
    pub peering: Option<Peering>,
    pub why: String,
    /// The rule, when one matched but cannot be verified.
    pub rule: Option<String>,
    /// What is reported about it, if anything (an expiry, an unverifiable rule, a replayed
    /// request).
    pub outcome: Option<Outcome>,
}

impl Reconciled {
    pub fn peering_id(&self) -> &PeeringId {
        match self {
            Self::Decided(d) => &d.peering.id,
            Self::Wired(w) => &w.peering.id,
            Self::Cleaned(c) => &c.peering_id,
            Self::LeftAlone(l) => &l.peering_id,
            Self::Duplicate { peering_id, .. } => peering_id,
        }
    }

    /// The peering as observed, when AWS showed it.
    pub fn peering(&self) -> Option<&Peering> {
        match self {
            Self::Decided(d) => Some(&d.peering),
            Self::Wired(w) => Some(&w.peering),
            Self::Cleaned(c) => c.peering.as_ref(),
            Self::LeftAlone(l) => l.peering.as_ref(),
            Self::Duplicate { .. } => None,
        }
    }

    /// The plan made for the peering; `None` when it was left alone.
    pub fn plan(&self) -> Option<&Plan> {
        match self {
            Self::Decided(d) => Some(&d.plan),
            Self::Wired(w) => Some(&w.plan),
            Self::Cleaned(c) => Some(&c.plan),
            Self::Duplicate { plan, .. } => Some(plan),
            Self::LeftAlone(_) => None,
        }
    }

    /// Each step applied and how it ended (none in a dry run).
    pub fn applied(&self) -> &[AppliedStep] {
        match self {
            Self::Decided(d) => &d.applied,
            Self::Wired(w) => &w.applied,
            Self::Cleaned(c) => &c.applied,
            Self::LeftAlone(_) | Self::Duplicate { .. } => &[],
        }
    }

    /// What is reported, if anything.
    pub fn outcome(&self) -> Option<&Outcome> {
        match self {
            Self::Decided(d) => d.outcome.as_ref(),
            Self::Wired(w) => w.outcome.as_ref(),
            Self::Cleaned(c) => c.outcome.as_ref(),
            Self::LeftAlone(l) => l.outcome.as_ref(),
            Self::Duplicate { .. } => None,
        }
    }

    /// The matched policy rule, when one matched.
    pub fn rule(&self) -> Option<&str> {
        match self {
            Self::Decided(d) => d.decision.rule.as_deref(),
            Self::Wired(w) => Some(&w.rule),
            Self::LeftAlone(l) => l.rule.as_deref(),
            Self::Cleaned(_) | Self::Duplicate { .. } => None,
        }
    }

    /// The decision, for a decided request.
    pub fn decision(&self) -> Option<&Decision> {
        match self {
            Self::Decided(d) => Some(&d.decision),
            Self::Wired(_) | Self::Cleaned(_) | Self::LeftAlone(_) | Self::Duplicate { .. } => None,
        }
    }

    /// Why the peering was left alone, when it was.
    pub fn left_alone(&self) -> Option<&str> {
        match self {
            Self::LeftAlone(l) => Some(&l.why),
            Self::Decided(_) | Self::Wired(_) | Self::Cleaned(_) | Self::Duplicate { .. } => None,
        }
    }

    /// Both sides as observed for the wire phase.
    pub fn wiring_state(&self) -> Option<&WiringState> {
        match self {
            Self::Wired(w) => w.state.as_ref(),
            Self::Decided(_) | Self::Cleaned(_) | Self::LeftAlone(_) | Self::Duplicate { .. } => {
                None
            }
        }
    }

    /// Drops what was observed of the sides: a sweep keeps no copy of a hub's accepter side per
    /// peering.
    pub fn forget_observations(&mut self) {
        match self {
            Self::Decided(d) => d.accepter_network = None,
            Self::Wired(w) => w.state = None,
            Self::Cleaned(_) | Self::LeftAlone(_) | Self::Duplicate { .. } => {}
        }
    }
}
