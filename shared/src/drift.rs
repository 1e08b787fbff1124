//! The drift door: keep wired peerings true after the network changes under them.
//!
//! CloudTrail EC2 changes, RDS failovers and a schedule only *locate* the peerings to re-check
//! (by VPC, route table, security group, peering, or DB instance/cluster → VPC). Each one then
//! goes through the same reconcile as wiring; a repair is reported as "Peering Drift Repaired"
//! naming what was missing.

use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;

use crate::app::App;
use crate::aws::observe;
use crate::error::Result;
use crate::events::{parse_drift_event, DriftTrigger, Locator, PeeringRef};
use crate::model::Peering;
use crate::outcome::OutcomeKind;
use crate::run::RunLog;
use crate::wire::Reconcile;

/// What one invocation did; also the Lambda's response.
#[derive(Debug, Serialize)]
pub struct DriftReport {
    pub correlation_id: String,
    pub trigger: DriftTrigger,
    #[serde(flatten)]
    pub run: RunLog,
}

/// Handles one EventBridge event for the drift door. Events from accounts the policy does not
/// manage are ignored before any AWS call.
pub async fn handle_drift_event(app: &App, event: &Value) -> Result<DriftReport> {
    let parsed = parse_drift_event(event)?;
    let span = tracing::info_span!(
        "drift",
        correlation_id = %parsed.correlation_id,
        trigger = parsed.trigger.name()
    );
    async move {
        let policy = app.policies.current().await?;
        let mut log = RunLog::default();
        let run = Reconcile {
            app,
            policy: &policy,
            trigger: parsed.trigger.name(),
            correlation_id: &parsed.correlation_id,
            changed: OutcomeKind::DriftRepaired,
        };
        match &parsed.trigger {
            DriftTrigger::Sweep => run.sweep(&mut log).await,
            DriftTrigger::NetworkChanged {
                account,
                region,
                locator,
                ..
            } if policy.manages_account(account) => {
                let located = locate_network(app, account, region, locator).await;
                reconcile_all(&run, account, region, located, &mut log).await;
            }
            DriftTrigger::DatabaseChanged {
                account,
                region,
                identifier,
                cluster,
                ..
            } if policy.manages_account(account) => {
                let located = locate_database(app, account, region, identifier, *cluster).await;
                reconcile_all(&run, account, region, located, &mut log).await;
            }
            DriftTrigger::NetworkChanged { account, .. }
            | DriftTrigger::DatabaseChanged { account, .. } => {
                log.ignore(account, "account not managed by the policy");
            }
        }
        let log = log.finish(app, "drift").await?;
        Ok(DriftReport {
            correlation_id: parsed.correlation_id.clone(),
            trigger: parsed.trigger.clone(),
            run: log,
        })
    }
    .instrument(span)
    .await
}

async fn reconcile_all(
    run: &Reconcile<'_>,
    account: &str,
    region: &str,
    located: Result<Vec<Peering>>,
    log: &mut RunLog,
) {
    let mut target = PeeringRef {
        peering_id: String::new(),
        accepter_account: account.to_owned(),
        region: region.to_owned(),
    };
    let peerings = match located {
        Ok(peerings) => peerings,
        Err(err) => {
            log.record(&target, run.trigger, run.correlation_id, Err(err));
            return;
        }
    };
    tracing::info!(peerings = peerings.len(), "located peerings to re-check");
    for peering in peerings {
        target.peering_id = peering.id.clone();
        let result = run.reconcile(peering, log).await;
        log.record(&target, run.trigger, run.correlation_id, result);
    }
}

/// Resolves a CloudTrail change to the active peerings of the VPC it touched. A resource that
/// no longer exists locates nothing: its deletion is someone else's event.
async fn locate_network(
    app: &App,
    account: &str,
    region: &str,
    locator: &Locator,
) -> Result<Vec<Peering>> {
    let ec2 = app.aws.ec2(account, region).await;
    let vpc = match locator {
        Locator::Vpc(vpc) => Some(vpc.clone()),
        Locator::RouteTable(id) => observe::route_table_vpc(&ec2, id).await?,
        Locator::SecurityGroup(id) => observe::security_group_vpc(&ec2, id).await?,
        Locator::Peering(id) => {
            return Ok(observe::describe_peering(&ec2, id)
                .await?
                .into_iter()
                .collect());
        }
        Locator::Account => return observe::active_peerings_of_account(&ec2, account).await,
    };
    match vpc {
        Some(vpc) => observe::active_peerings_of_vpc(&ec2, &vpc).await,
        None => Ok(Vec::new()),
    }
}

/// Resolves an RDS event to the active peerings of the DB's VPC (through its subnet group).
async fn locate_database(
    app: &App,
    account: &str,
    region: &str,
    identifier: &str,
    cluster: bool,
) -> Result<Vec<Peering>> {
    let rds = app.aws.rds(account, region).await;
    let vpc = if cluster {
        observe::db_cluster_vpc(&rds, identifier).await?
    } else {
        observe::db_instance_vpc(&rds, identifier).await?
    };
    match vpc {
        Some(vpc) => {
            let ec2 = app.aws.ec2(account, region).await;
            observe::active_peerings_of_vpc(&ec2, &vpc).await
        }
        None => Ok(Vec::new()),
    }
}
