//! From a target to the peerings to look at. Out-of-scope targets are ignored before any AWS
//! call; a failure to locate is reported against the account and region it happened in.

use super::report::Reporter;
use super::{Run, Target};
use crate::app::App;
use crate::aws::observe;
use peerwire_core::error::Result;
use peerwire_core::events::Locator;
use peerwire_core::model::{Location, Peering, PeeringId, PeeringRef, VpcId};

/// A peering found, or one AWS no longer shows to the account that reported it.
#[derive(Debug)]
pub(super) enum Located {
    Peering(Box<Peering>),
    Forgotten(PeeringRef),
}

impl Located {
    /// The peering's id, and where a failure about it is reported: its accepter, or the
    /// account that reported a forgotten one.
    pub(super) fn where_(&self) -> (PeeringId, Location) {
        match self {
            Self::Peering(peering) => (peering.id.clone(), Location::owners(peering).accepter),
            Self::Forgotten(reference) => {
                (reference.peering_id.clone(), Location::of_ref(reference))
            }
        }
    }
}

/// Re-reads one peering as the account of `at` sees it in its region.
pub(super) async fn describe(
    app: &App,
    at: &Location,
    peering_id: &PeeringId,
) -> Result<Option<Peering>> {
    let ec2 = app.aws.ec2(at).await;
    observe::describe_peering(&ec2, at, peering_id).await
}

/// The peerings `target` names. A sweep is not located here (see `sweep`).
pub(super) async fn locate(run: &Run<'_>, target: &Target, log: &Reporter<'_>) -> Vec<Located> {
    match target {
        Target::Sweep => Vec::new(),
        Target::Peering(reference) => {
            let in_scope = if run.mode.phases.clean {
                match run.manages(&reference.account).await {
                    Ok(managed) => managed,
                    Err(err) => {
                        let location = Location::of_ref(reference);
                        log.failed(run, Some(&reference.peering_id), Some(&location), err)
                            .await;
                        return Vec::new();
                    }
                }
            } else {
                run.policy
                    .covers_accepter(&reference.account, &reference.region, None)
            };
            if !in_scope {
                let why = if run.mode.phases.clean {
                    "account not managed by the policy"
                } else {
                    "accepter not in the policy's accepters"
                };
                log.ignore(reference.peering_id.as_str(), why).await;
                return Vec::new();
            }
            let at = Location::of_ref(reference);
            match describe(run.app, &at, &reference.peering_id).await {
                Ok(Some(peering)) => vec![Located::Peering(Box::new(peering))],
                Ok(None) => vec![Located::Forgotten(reference.clone())],
                Err(err) if run.mode.phases.clean && err.is_access_denied() => {
                    match through_accepters(run, reference).await {
                        Some(peering) => vec![Located::Peering(Box::new(peering))],
                        None => {
                            log.failed(run, Some(&reference.peering_id), Some(&at), err)
                                .await;
                            Vec::new()
                        }
                    }
                }
                Err(err) => {
                    log.failed(run, Some(&reference.peering_id), Some(&at), err)
                        .await;
                    Vec::new()
                }
            }
        }
        Target::Located {
            account,
            region,
            locator,
        } => {
            let location = Location::new(account.clone(), region.clone());
            match run.manages(account).await {
                Ok(true) => {}
                Ok(false) => {
                    log.ignore(account.as_str(), "account not managed by the policy")
                        .await;
                    return Vec::new();
                }
                Err(err) => {
                    log.failed(run, None, Some(&location), err).await;
                    return Vec::new();
                }
            }
            match peerings_of(run.app, &location, locator).await {
                Ok(peerings) => {
                    tracing::info!(peerings = peerings.len(), "located peerings to re-check");
                    peerings
                        .into_iter()
                        .map(|p| Located::Peering(Box::new(p)))
                        .collect()
                }
                Err(err) => {
                    log.failed(run, None, Some(&location), err).await;
                    Vec::new()
                }
            }
        }
    }
}

/// A gone peering whose reporting account peerwire cannot read (its member role is missing
/// or denied), as one of the policy's accepter scopes in the same region sees it: either
/// owner may describe a peering (both are its owners), so the reachable side is still
/// cleaned. Scopes that fail are skipped; the first that shows the peering wins. Costs one
/// describe per scope tried, and only on this failure path.
async fn through_accepters(run: &Run<'_>, reference: &PeeringRef) -> Option<Peering> {
    let mut scopes = run.policy.accepter_regions();
    scopes.retain(|(account, _)| *account != reference.account);
    // Same region first: most peerings are; an inter-Region one is seen by its accepter in
    // the accepter's Region, under the same id.
    scopes.sort_by_key(|(_, region)| *region != reference.region);
    for (account, region) in scopes {
        let at = Location::new(account, region);
        match describe(run.app, &at, &reference.peering_id).await {
            Ok(Some(peering)) => {
                tracing::info!(peering_id = %peering.id, account = %at.account, "located through an accepter");
                return Some(peering);
            }
            Ok(None) => {}
            Err(err) => tracing::warn!(account = %at.account, %err, "accepter scope not readable"),
        }
    }
    None
}

/// The active peerings of the VPC `locator` points at (or the one peering it names, in any
/// state). A resource that no longer exists locates nothing: its deletion is someone else's
/// event.
async fn peerings_of(app: &App, at: &Location, locator: &Locator) -> Result<Vec<Peering>> {
    let ec2 = app.aws.ec2(at).await;
    let viewer = at;
    let vpc: Option<VpcId> = match locator {
        Locator::Vpc(vpc) => Some(vpc.clone()),
        Locator::RouteTable(id) => observe::route_table_vpc(&ec2, id).await?,
        Locator::SecurityGroup(id) => observe::security_group_vpc(&ec2, id).await?,
        Locator::Peering(id) => {
            return Ok(observe::describe_peering(&ec2, viewer, id)
                .await?
                .into_iter()
                .collect());
        }
        Locator::Account => return observe::active_peerings_of_account(&ec2, viewer).await,
        Locator::Database {
            identifier,
            cluster,
        } => {
            let rds = app.aws.rds(at).await;
            if *cluster {
                observe::db_cluster_vpc(&rds, identifier).await?
            } else {
                observe::db_instance_vpc(&rds, identifier).await?
            }
        }
    };
    match vpc {
        Some(vpc) => observe::active_peerings_of_vpc(&ec2, viewer, &vpc).await,
        None => Ok(Vec::new()),
    }
}
