//! The one reconciler. Every function and the CLI enter here: a door turns its event into a
//! [`Target`] and chooses the [`Phases`] that may run; this module owns the rest of the flow,
//! **locate → observe → plan → apply → report**, for one peering or for a sweep of many.
//!
//! Level-triggered: the target only says where to look. Each peering is re-read, its plan is a
//! pure function of what was observed and the policy (`peerwire_core::plan`), and only the difference
//! is applied. A converged peering costs reads only: no write and no outcome.
//!
//! - `locate`: a target → the peerings to look at; a peering in a transient state is waited
//!   for briefly.
//! - `snapshot`: what one run has observed of each side, shared by every peering of the run
//!   and updated with what the run wrote, so that two peerings' plans never fight.
//! - `decide`, `wire`, `clean`: the three phases, each observe → plan → apply for its state.
//! - `apply`: executes a plan step by step; a step that fails permanently is reported and the
//!   others still run.
//! - [`report`]: the run's outcomes (published as they happen) and its error policy.
//! - `sweep`: every peering of the policy's accepters, with bounded concurrency and a deadline.
//! - `survey`: the same sweep over every phase in a dry run, orphans included: the fleet as
//!   `peerwire status` shows it.

mod apply;
mod clean;
mod decide;
mod locate;
pub mod metrics;
mod orphans;
mod reconciled;
pub mod report;
mod snapshot;
mod survey;
mod sweep;
mod wire;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::app::App;
use crate::aws::observe;
use peerwire_core::error::{Error, Result};
use peerwire_core::events::Locator;
use peerwire_core::model::{
    AccountId, ApprovalDecision, Location, Peering, PeeringId, PeeringRef, PeeringStatus, Region,
    Side, TagView, WiringState,
};
use peerwire_core::outcome::{Outcome, OutcomeKind};
use peerwire_core::plan::Plan;
use peerwire_core::policy::{Membership, Policy, Wiring};

pub use apply::{AppliedStep, StepResult};
pub use orphans::Orphan;
pub use reconciled::{Cleaned, Decided, LeftAlone, Reconciled, Wired};
pub use survey::{survey, Survey, SurveyProgress, SURVEY};

/// How long a claim on a plan holds: enough for the claiming invocation to apply it.
const PLAN_CLAIM: Duration = Duration::from_secs(600);

/// How long a claim holds once its plan is applied: a duplicate delivery of the same event
/// observed before the writes and reaches its claim within seconds; after this, an identical
/// plan is new drift (a person removed the same route again) and must be applied.
const PLAN_AFTERGLOW: Duration = Duration::from_secs(60);

/// How long a run waits, in all, for a peering an event named to leave a transient state.
const SETTLE_WAIT: Duration = Duration::from_secs(15);
pub use report::{Failure, Report, Reporter, RunLog};
use snapshot::Snapshot;

/// Which phases of the reconcile a door may run. A phase only runs on a peering in the state
/// it is for: decide on `pending-acceptance`, wire on `active`, clean on a gone peering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Phases {
    /// Accept, reject or hold a pending request (the request function), and wire a peering
    /// the run has just accepted, with what the decision already read.
    pub decide: bool,
    /// Make an active peering carry traffic (wiring and drift-recheck).
    pub wire: bool,
    /// Remove what peerwire made for a gone peering (cleanup).
    pub clean: bool,
}

impl Phases {
    pub const DECIDE: Self = Self {
        decide: true,
        wire: false,
        clean: false,
    };
    pub const WIRE: Self = Self {
        decide: false,
        wire: true,
        clean: false,
    };
    pub const CLEAN: Self = Self {
        decide: false,
        wire: false,
        clean: true,
    };
    /// What the CLI's `plan` and `apply` run: whichever phase the peering's state calls for.
    pub const ALL: Self = Self {
        decide: true,
        wire: true,
        clean: true,
    };

    /// The AWS status codes a sweep lists for these phases.
    pub fn sweep_statuses(self) -> Vec<&'static str> {
        let mut codes = Vec::new();
        if self.decide {
            codes.push("pending-acceptance");
            codes.push("expired");
        }
        if self.wire {
            codes.push("active");
        }
        if self.clean {
            codes.extend(PeeringStatus::GONE_CODES);
        }
        codes
    }
}

/// How one run reconciles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    pub phases: Phases,
    /// The outcome a wiring change is reported as: `Wired`, or `DriftRepaired` for drift.
    pub changed: OutcomeKind,
    /// Observe and plan only: no write, no outcome published (`peerwire plan`).
    pub dry_run: bool,
}

impl Mode {
    pub const fn new(phases: Phases, changed: OutcomeKind) -> Self {
        Self {
            phases,
            changed,
            dry_run: false,
        }
    }
}

/// What an event asks to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One peering, as an account of it (and a region) sees it.
    Peering(PeeringRef),
    /// Every active peering of the VPC a changed resource belongs to.
    Located {
        account: AccountId,
        region: Region,
        locator: Locator,
    },
    /// Every peering of the policy's accepter scopes in the statuses the phases work on.
    Sweep,
}

/// One run: what every peering of it shares.
#[derive(Debug)]
pub struct Run<'a> {
    pub app: &'a App,
    pub policy: Arc<Policy>,
    /// `cloudtrail`, `sweep`, `approval`, ... (the trigger's name, in every outcome).
    pub trigger: &'static str,
    /// The EventBridge id of the event that started the run.
    pub correlation_id: String,
    pub mode: Mode,
    /// An approver's answer that came with the event (request function only).
    pub approval: Option<ApprovalDecision>,
    /// When the function must have answered; no new peering is started too close to it.
    pub deadline: Option<Instant>,
    /// Who made the change that triggered the run (`userIdentity.arn`), when the event says.
    pub actor: Option<String>,
    snapshot: Snapshot,
    /// The places (`account/region`) a write of this run went through, added to the ledger's
    /// set once, when the run ends ([`Self::remember_places`]).
    written: std::sync::Mutex<Vec<String>>,
}

impl<'a> Run<'a> {
    /// A run under the current policy.
    pub async fn start(
        app: &'a App,
        trigger: &'static str,
        correlation_id: &str,
        mode: Mode,
    ) -> Result<Self> {
        Ok(Self {
            app,
            policy: app.policies.current().await?,
            trigger,
            correlation_id: correlation_id.to_owned(),
            mode,
            approval: None,
            deadline: None,
            actor: None,
            snapshot: Snapshot::default(),
            written: std::sync::Mutex::default(),
        })
    }

    pub fn with_approval(mut self, approval: Option<ApprovalDecision>) -> Self {
        self.approval = approval;
        self
    }

    pub fn with_deadline(mut self, deadline: Option<Instant>) -> Self {
        self.deadline = deadline;
        self
    }

    pub fn with_actor(mut self, actor: Option<String>) -> Self {
        self.actor = actor;
        self
    }

    /// Locates `target`, reconciles every peering found, and reports: the door's whole job.
    /// Transient errors fail the run only after every other peering has been handled and its
    /// outcome published.
    pub async fn handle(&self, target: &Target) -> Result<RunLog> {
        let log = Reporter::new(
            self.app,
            self.mode.dry_run,
            matches!(target, Target::Peering(_)),
        );
        match target {
            Target::Sweep => sweep::sweep(self, &log).await,
            target => {
                for located in locate::locate(self, target, &log).await {
                    self.reconcile_and_record(located, &log, true).await;
                }
            }
        }
        // Ordering: once every peering is done, so that a sweep that writes in a place for
        // hundreds of peerings records it with one ledger write, not one per peering.
        self.remember_places().await;
        let (log, transient) = log.finish().await;
        if !self.mode.dry_run {
            metrics::emit(&log);
        }
        match transient {
            Some(err) => Err(err),
            None => Ok(log),
        }
    }

    /// Reconciles one located peering and files the result in `log`. A peering an event
    /// named that is in a transient state is waited for first ([`Self::settle`]); a sweep
    /// leaves it to the next sweep.
    async fn reconcile_and_record(&self, located: locate::Located, log: &Reporter<'_>, wait: bool) {
        let (id, location) = located.where_();
        let result = match located {
            locate::Located::Peering(peering) if wait => match self.settle(*peering).await {
                Ok(peering) => self.reconcile(peering).await,
                Err(err) => Err(err),
            },
            locate::Located::Peering(peering) => self.reconcile(*peering).await,
            locate::Located::Forgotten(reference) => self.forgotten(&reference).await,
        };
        match result {
            Ok(reconciled) => {
                let accepted = match &reconciled {
                    Reconciled::Decided(decided) => decided.accepted_now(),
                    Reconciled::Wired(_)
                    | Reconciled::Cleaned(_)
                    | Reconciled::LeftAlone(_)
                    | Reconciled::Duplicate { .. } => None,
                };
                log.reconciled(reconciled).await;
                // Ordering: wiring starts once the accept's outcome is filed (published with
                // the wiring's, or before it when a batch fills).
                if let Some(peering) = accepted {
                    match Box::pin(self.wire_accepted(peering)).await {
                        Ok(wired) => log.reconciled(wired).await,
                        Err(err) => log.failed(self, Some(&id), Some(&location), err).await,
                    }
                }
            }
            Err(err) => log.failed(self, Some(&id), Some(&location), err).await,
        }
    }

    /// The wire phase on a peering this run has just accepted, as the re-read after the
    /// accept showed it: waited for while AWS provisions it, then wired with what the decision
    /// read (its requester's tags, both VPCs), so a request and its wiring cost one process's
    /// reads. The wiring function still re-checks it on the acceptance's events, and finds it
    /// converged.
    async fn wire_accepted(&self, accepted: Peering) -> Result<Reconciled> {
        let requester_tags = accepted.tags.requester.clone();
        let mut peering = self.settle(accepted).await?;
        if peering.tags.requester == TagView::NotRead {
            peering.tags.requester = requester_tags;
        }
        if peering.status != PeeringStatus::Active {
            let reason = peering.status_reason();
            return Ok(self.left_alone(peering, reason, None));
        }
        self.wire(peering, OutcomeKind::Wired).await
    }

    /// A peering an event named, once it has left a transient state. AWS passes through
    /// `initiating-request`, `provisioning` and `deleting` in seconds, and CloudTrail events
    /// (and peerwire's own "accepted" outcome) commonly arrive during them: the run waits with a
    /// short backoff inside the function's deadline, then fails as retryable if the peering
    /// has still not settled.
    pub async fn settle(&self, mut peering: Peering) -> Result<Peering> {
        let mut wait = Duration::from_secs(1);
        let mut waited = Duration::ZERO;
        let viewer = self.viewer_of(&peering);
        while peering.status.is_transient() {
            let room = self.deadline.map_or(Duration::MAX, |d| {
                d.saturating_duration_since(Instant::now())
            });
            if waited + wait > SETTLE_WAIT || wait + sweep::SAFETY_MARGIN > room {
                return Err(Error::NotSettled {
                    peering_id: peering.id.to_string(),
                    status: peering.status.to_string(),
                });
            }
            tracing::info!(peering_id = %peering.id, status = %peering.status, "waiting for the peering to settle");
            tokio::time::sleep(wait).await;
            waited += wait;
            wait *= 2;
            match locate::describe(self.app, &viewer, &peering.id).await? {
                Some(now) => peering = now,
                None => break,
            }
        }
        Ok(peering)
    }

    /// The account and region whose view a peering was read from: its accepter's.
    fn viewer_of(&self, peering: &Peering) -> Location {
        Location::owners(peering).accepter
    }

    /// The requester account's OU membership, looked up only when a rule needs it.
    pub(crate) async fn membership(&self, account: &AccountId) -> Result<Membership> {
        if !self.policy.needs_membership(account) {
            return Ok(Membership::NotLooked);
        }
        self.app
            .organisation
            .membership(&self.app.aws, account)
            .await
    }

    /// Whether peerwire may act in `account`: named by the policy, or in one of its OUs.
    pub(crate) async fn manages(&self, account: &AccountId) -> Result<bool> {
        if self.policy.manages_account(account, &Membership::NotLooked) {
            return Ok(true);
        }
        let membership = self.membership(account).await?;
        Ok(self.policy.manages_account(account, &membership))
    }

    /// `peering` with its requester's own tags, read through the requester's member role when
    /// a rule needs them and the peering was read from the accepter's side (AWS shows each
    /// owner only its own view's tags). One `DescribeVpcPeeringConnections`; when the
    /// requester has no member role, the tags stay unreadable and the request is held.
    pub(crate) async fn with_requester_tags(&self, mut peering: Peering) -> Result<Peering> {
        if peering.tags.requester != TagView::NotRead || !self.policy.needs_requester_tags(&peering)
        {
            return Ok(peering);
        }
        let requester = peering.sides.requester.clone();
        let at = Location::owners(&peering).requester;
        if let Some(why) = self.snapshot.unusable_role(&at) {
            peering.tags.requester = TagView::Unreadable(why);
            return Ok(peering);
        }
        let ec2 = self.app.aws.ec2(&at).await;
        peering.tags.requester = match observe::describe_peering(&ec2, &at, &peering.id).await {
            Ok(Some(view)) => view.tags.requester,
            Ok(None) => TagView::Unreadable(format!(
                "account {} does not see the peering",
                requester.account
            )),
            Err(err) if err.is_transient() => return Err(err),
            Err(err) => {
                let why = format!(
                    "no usable member role in requester account {}: {err}",
                    requester.account
                );
                self.snapshot.role_unusable(&at, why.clone());
                TagView::Unreadable(why)
            }
        };
        Ok(peering)
    }

    /// Observes, plans, applies and reports one peering, within the run's phases.
    pub async fn reconcile(&self, peering: Peering) -> Result<Reconciled> {
        let phases = self.mode.phases;
        let status = peering.status.clone();
        // Boxed: each phase is a large future, and a test runtime polls the whole run on a
        // 2 MB thread stack.
        if phases.decide && status == PeeringStatus::PendingAcceptance {
            return Box::pin(self.decide(peering)).await;
        }
        if phases.decide && status == PeeringStatus::Expired {
            return Box::pin(self.expired(peering)).await;
        }
        // Before wiring: a peering peerwire accepted and must delete again is deleted, by the
        // retried request or by the wiring function, whichever sees it active first.
        if (phases.decide || phases.wire)
            && status == PeeringStatus::Active
            && peering.rollback_pending().is_some()
        {
            return Box::pin(self.finish_rollback(peering)).await;
        }
        if phases.wire && status == PeeringStatus::Active {
            return Box::pin(self.wire(peering, self.mode.changed)).await;
        }
        if phases.clean && status.is_gone() {
            return Box::pin(self.clean(peering)).await;
        }
        let reason = peering.status_reason();
        if phases == Phases::DECIDE {
            // A request that is no longer pending: nothing to decide. Reported, so that a
            // replayed request event is visibly a no-op.
            let mut outcome = self.outcome(OutcomeKind::Skipped, &peering);
            outcome.reasons.push(reason.clone());
            return Ok(self.left_alone(peering, reason, Some(outcome)));
        }
        Ok(self.left_alone(peering, reason, None))
    }

    /// Applies `plan`, computed earlier for `peering`, step by step through each side's role:
    /// what a run does after planning, for a plan kept from a dry run.
    pub async fn apply_plan(&self, peering: &Peering, plan: &Plan) -> Vec<AppliedStep> {
        apply::apply(self, &Location::owners(peering), plan).await
    }

    fn outcome(&self, kind: OutcomeKind, peering: &Peering) -> Outcome {
        Outcome::about(kind, peering, self.trigger, &self.correlation_id)
    }

    /// A digest of a plan's steps, stable across processes: the ledger key under which one
    /// invocation claims to apply it.
    fn plan_key(peering_id: &PeeringId, plan: &Plan) -> String {
        let text = serde_json::to_string(&plan.steps).unwrap_or_default();
        // FNV-1a: tiny, and the same in every process and version (the std hasher is not).
        let digest = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
        format!("plan#{peering_id}#{digest:016x}")
    }

    /// Claims `plan` for this invocation: `false` when an identical invocation (the same event
    /// delivered twice at once) is already applying it, so only one applies and reports.
    async fn claim(&self, peering_id: &PeeringId, plan: &Plan) -> Result<bool> {
        if self.mode.dry_run || plan.steps.is_empty() {
            return Ok(true);
        }
        let key = Self::plan_key(peering_id, plan);
        let claimed = self.app.ledger.claim(&key, PLAN_CLAIM).await?;
        if !claimed {
            tracing::info!(peering_id = %peering_id, key, "another invocation is applying the same plan");
        }
        Ok(claimed)
    }

    /// Gives back the claim on `plan`, which this invocation will not apply after all (another
    /// peering's writes changed what it must do). A claim that cannot be given back expires.
    async fn unclaim(&self, peering_id: &PeeringId, plan: &Plan) {
        if self.mode.dry_run || plan.steps.is_empty() {
            return;
        }
        let key = Self::plan_key(peering_id, plan);
        if let Err(err) = self.app.ledger.release(&key).await {
            tracing::warn!(%err, key, "could not give the plan claim back; it expires on its own");
        }
    }

    /// After applying a claimed plan: a step that failed transiently gives the claim back, so
    /// that the retried invocation applies it; otherwise the claim is cut to
    /// [`PLAN_AFTERGLOW`].
    async fn settle_claim(&self, peering_id: &PeeringId, plan: &Plan, applied: &[AppliedStep]) {
        if self.mode.dry_run || plan.steps.is_empty() {
            return;
        }
        let key = Self::plan_key(peering_id, plan);
        let settled = if applied.iter().any(|a| a.result.transient_error().is_some()) {
            self.app.ledger.release(&key).await
        } else {
            self.app.ledger.hold(&key, PLAN_AFTERGLOW).await
        };
        if let Err(err) = settled {
            tracing::warn!(%err, key, "could not settle the plan claim; it expires on its own");
        }
    }

    fn skipped_duplicate(&self, peering_id: PeeringId, plan: Plan) -> Reconciled {
        Reconciled::Duplicate { peering_id, plan }
    }

    /// `peering`, unless its accepter VPC is outside the policy's accepters; then what the run
    /// says of it (nothing to do there, and nothing more to read).
    fn in_accepters(&self, peering: Peering) -> std::result::Result<Peering, Box<Reconciled>> {
        let accepter = &peering.sides.accepter;
        if self
            .policy
            .covers_accepter(&accepter.account, &accepter.region, Some(&accepter.vpc_id))
        {
            Ok(peering)
        } else {
            let why = "accepter VPC not in the policy's accepters".to_owned();
            Err(Box::new(self.left_alone(peering, why, None)))
        }
    }

    fn left_alone(&self, peering: Peering, why: String, outcome: Option<Outcome>) -> Reconciled {
        Reconciled::LeftAlone(Box::new(LeftAlone {
            peering_id: peering.id.clone(),
            peering: Some(peering),
            why,
            rule: None,
            outcome,
        }))
    }
}

/// Both sides of `peering` as `wiring` scopes them, read through their member roles, outside
/// any run: for diagnose, which explains a peering the reconciler leaves alone.
pub async fn observe_sides(app: &App, peering: &Peering, wiring: &Wiring) -> Result<WiringState> {
    Snapshot::with_every_subnet()
        .wiring_state(app, peering, wiring)
        .await
}

/// The side `account` is on when all that is known is the account: the accepter when the
/// policy names it as an accepter, else the requester.
fn side_of(policy: &Policy, account: &AccountId) -> Side {
    if policy.covers_accepter_account(account) {
        Side::Accepter
    } else {
        Side::Requester
    }
}
