//! The integration harness: one test's world ([`peerwire_emulator::world::World`]: a patched
//! moto server of its own, so tests run in parallel and never share state, the two-account
//! scenario, an outcome bus captured through SQS) and the product's [`App`] pointed at it with
//! its own call log; plus what the tests read of a run ([`decision`], [`only`], [`about`]).
//!
//! Test-only code: panicking on a broken fixture is the right failure here.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::ops::Deref;

use peerwire::aws::calls::CallLog;
use peerwire::events::{CleanupTrigger, DriftTrigger, RequestTrigger, WiringTrigger};
use peerwire::outcome::{Outcome, OutcomeKind};
use peerwire::plan::request::Decision;
use peerwire::plan::Reason;
use peerwire::reconcile::{Reconciled, Report, RunLog};
use peerwire::App;
use peerwire_emulator::world::{World, WorldOptions};
use peerwire_emulator::EmulatorOptions;
use serde_json::Value;

pub use peerwire_emulator::scenario::{
    ACCEPTER_ACCOUNT, DB_PORT, PAYMENTS_TAGS as TAGS, REQUESTER_ACCOUNT,
};
pub use peerwire_emulator::world::LEDGER_TABLE;
pub use peerwire_emulator::REGION;

pub use peerwire::testing::{DEFAULT_POLICY, WIRING_POLICY};

pub mod browser;
pub mod schema;

/// One method per door: `$door(&event)` runs it as its function would, and unwraps.
macro_rules! doors {
    ($($(#[$doc:meta])* $door:ident => $trigger:ty;)*) => {
        $(
            $(#[$doc])*
            pub async fn $door(&self, event: &Value) -> Report<$trigger> {
                let run = peerwire::doors::handle::<$trigger>(&self.app, event, None);
                run.await.expect(stringify!($door))
            }
        )*
    };
}

/// One test's world and the product in it. Derefs to the [`World`]: `env.scenario`,
/// `env.emulator`, `env.event_id()`, `env.request_event(..)`, ...
#[derive(Debug)]
pub struct TestEnv {
    // First: the product's clients go before the server.
    pub app: App,
    pub world: World,
}

impl Deref for TestEnv {
    type Target = World;

    fn deref(&self) -> &World {
        &self.world
    }
}

/// What a test's world has beyond the default: emulator settings, a ledger table, an
/// Organizations role.
#[derive(Debug, Default, Clone)]
pub struct EnvOptions {
    pub emulator: EmulatorOptions,
    /// Create the ledger table (DynamoDB) and configure the functions with it.
    pub ledger: bool,
    /// Configure `PEERWIRE_ORGANIZATIONS_ROLE_ARN`.
    pub organizations_role_arn: Option<String>,
}

impl EnvOptions {
    /// The emulator started with `key` at `value`.
    pub fn setting(key: &str, value: &str) -> Self {
        Self {
            emulator: EmulatorOptions::new().setting(key, value),
            ..Self::default()
        }
    }

    /// With the hub's Organizations role, for rules that name OUs.
    pub fn organizations() -> Self {
        Self {
            organizations_role_arn: Some(format!(
                "arn:aws:iam::{}:role/peerwire-organizations",
                peerwire_emulator::HUB_ACCOUNT
            )),
            ..Self::default()
        }
    }

    /// With the ledger table.
    pub fn ledger() -> Self {
        Self {
            ledger: true,
            ..Self::default()
        }
    }
}

impl TestEnv {
    /// A fresh emulator, seeded, with `policy` in force.
    pub async fn new(policy: &str) -> Self {
        Self::with(policy, EnvOptions::default()).await
    }

    /// A fresh emulator started with `options`, seeded, with `policy` in force.
    pub async fn with(policy: &str, options: EnvOptions) -> Self {
        let world = World::start(
            policy,
            WorldOptions {
                emulator: options.emulator,
                outcome_capture: true,
                ledger: options.ledger,
            },
        )
        .await
        .expect("world starts");
        let mut app = world.product();
        if let Some(arn) = &options.organizations_role_arn {
            app = app.organizations_role(arn);
        }
        Self {
            app: app.build().await,
            world,
        }
    }

    /// Replaces the policy; it applies from the next event on (the test TTL is 0).
    pub fn set_policy(&self, policy: &str) {
        self.world.set_policy(policy).expect("policy file");
    }

    /// Every AWS call the product made so far.
    pub fn calls(&self) -> &CallLog {
        self.app.aws.calls()
    }

    /// The outcome events delivered to the bus since the last call.
    pub async fn delivered_outcomes(&self) -> Vec<Value> {
        self.world
            .delivered_outcomes()
            .await
            .expect("outcomes drain")
    }

    /// A peering a person accepted (tagged as the policies require), not wired.
    pub async fn active_peering(&self) -> String {
        self.world.active().await.expect("request and accept")
    }

    /// A tagged request from the seeded requester VPC, pending acceptance.
    pub async fn pending_peering(&self) -> String {
        self.world.pending().await.expect("request")
    }

    doors! {
        /// The request function (`peering-request`) handles `event`, which it must not refuse.
        request_door => RequestTrigger;
        /// The wiring function (`peering-wiring`) handles `event`, which it must not refuse.
        wiring_door => WiringTrigger;
        /// The drift function (`drift-recheck`) handles `event`, which it must not refuse.
        drift_door => DriftTrigger;
        /// The cleanup function (`peering-cleanup`) handles `event`, which it must not refuse.
        cleanup_door => CleanupTrigger;
    }

    /// A new VPC with `cidr` in `account` asks, tagged, to peer with the accepter:
    /// (VPC id, peering id).
    pub async fn request_from(&self, account: &str, cidr: &str) -> (String, String) {
        let request = self.scenario.request_from_new_vpc(account, cidr, TAGS);
        request.await.expect("a VPC and its request")
    }

    /// The wiring function handles the accepted event of `pcx`.
    pub async fn wire(&self, pcx: &str) -> Report<WiringTrigger> {
        let accepted = self.accepted_event(pcx);
        self.wiring_door(&accepted).await
    }

    /// The operations of every call the product made so far, in order.
    pub fn operations(&self) -> Vec<String> {
        let calls = self.calls().calls().into_iter();
        calls.map(|c| c.operation).collect()
    }

    /// The operations of every EC2 write the product made so far, in order.
    pub fn written(&self) -> Vec<String> {
        let writes = self.calls().ec2_writes().into_iter();
        writes.map(|c| c.operation).collect()
    }

    /// Each (operation, calls) of `expected` is how many times the product called it.
    pub fn assert_counts(&self, expected: &[(&str, usize)]) {
        for (operation, times) in expected {
            assert_eq!(self.calls().count(operation), *times, "{operation}");
        }
    }

    /// Forgets the calls made and the outcomes delivered so far.
    pub async fn settle(&self) {
        self.calls().take();
        self.delivered_outcomes().await;
    }

    /// A peering a person accepted and the wiring function wired; the call log and the
    /// delivered outcomes start empty.
    pub async fn wired_peering(&self) -> String {
        let pcx = self.active_peering().await;
        self.wire(&pcx).await;
        self.settle().await;
        pcx
    }

    /// The requester deletes `pcx`.
    pub async fn delete_peering(&self, pcx: &str) {
        self.scenario
            .delete_peering(pcx)
            .await
            .expect("delete peering");
    }

    /// The peering's status as the accepter sees it.
    pub async fn status(&self, pcx: &str) -> String {
        self.scenario.status(pcx).await.expect("status")
    }

    /// `AllowDnsResolutionFromRemoteVpc` of `pcx` as the accepter reads it: (requester side,
    /// accepter side).
    pub async fn dns_options(&self, pcx: &str) -> (bool, bool) {
        self.scenario
            .accepter
            .dns_options(pcx)
            .await
            .expect("describe peering")
            .expect("the peering")
    }
}

/// `policy` with `from` replaced by `to` (which must change it).
pub fn edited(policy: &str, from: &str, to: &str) -> String {
    let edited = policy.replace(from, to);
    assert_ne!(
        edited, policy,
        "the policy text this test edits has changed"
    );
    edited
}

/// [`WIRING_POLICY`] whose accepter is the DB instance `payments-db` (its own group, its DB
/// subnet group's tables), not the groups tagged `role=rds-db`.
pub fn db_instance_policy() -> String {
    edited(
        WIRING_POLICY,
        "      accepter:\n        security_group_tags: { role: rds-db }",
        "      accepter:\n        db_instances: [payments-db]",
    )
}

/// [`DEFAULT_POLICY`] whose rule requires an approval.
pub fn held_policy() -> String {
    edited(
        DEFAULT_POLICY,
        "required_tags: { team: payments }",
        "required_tags: { team: payments }\n    approval: required",
    )
}

/// The first outcome of a run, which must be of `kind`.
pub fn first_of(outcomes: &[Outcome], kind: OutcomeKind) -> &Outcome {
    let first = outcomes.first();
    assert_eq!(first.map(|o| o.kind), Some(kind), "{outcomes:?}");
    &outcomes[0]
}

/// The one outcome of a run.
pub fn only(outcomes: &[Outcome]) -> &Outcome {
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    &outcomes[0]
}

/// The outcome about `pcx`.
pub fn about<'a>(outcomes: &'a [Outcome], pcx: &str) -> &'a Outcome {
    outcomes
        .iter()
        .find(|o| o.peering_id.as_ref().is_some_and(|p| p == pcx))
        .unwrap_or_else(|| panic!("no outcome about {pcx}: {outcomes:?}"))
}

/// The decision of a run that decided one request.
pub fn decision(run: &RunLog) -> &Decision {
    let decided: Vec<&Decision> = run
        .reconciled
        .iter()
        .filter_map(Reconciled::decision)
        .collect();
    assert_eq!(decided.len(), 1, "{:?}", run.reconciled);
    decided[0]
}

/// The decision a run made about `pcx`.
pub fn decision_about<'a>(run: &'a RunLog, pcx: &str) -> &'a Decision {
    run.reconciled
        .iter()
        .filter(|r| r.peering_id().as_str() == pcx)
        .find_map(Reconciled::decision)
        .unwrap_or_else(|| panic!("no decision about {pcx}: {:?}", run.reconciled))
}

/// The reason of `decision` that `pick` picks (fails naming every reason when none does).
pub fn reason<'a, T>(decision: &'a Decision, pick: impl Fn(&'a Reason) -> Option<T>) -> T {
    decision
        .reasons
        .iter()
        .find_map(pick)
        .unwrap_or_else(|| panic!("no such reason in {:?}", decision.reasons))
}
