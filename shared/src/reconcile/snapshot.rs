//! What one run has observed of each side, shared by every peering of the run.
//!
//! A hub's accepter VPC serves hundreds of peerings: it is read once per run, and every
//! peering of it is planned against the same state. After each apply the run writes what it
//! did into the snapshot, so the next peering's plan starts from the state AWS now has, and a
//! side is locked from planning until its writes are recorded, so that two peerings' plans
//! never fight over the same route table or group.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex as SyncMutex};

use tokio::sync::{Mutex, OwnedMutexGuard};

use super::apply::AppliedStep;
use crate::app::App;
use crate::aws::observe;
use peerwire_core::error::Result;
use peerwire_core::model::{
    Direction, Location, Peering, PrefixListId, Route, RouteTarget, RulePeer, SecurityGroupId,
    SgRule, Side, SideState, Sides, VpcId, VpcNetwork, WiringState,
};
use peerwire_core::plan::{Action, DnsAttribute, Ec2Action, Permission, PlanStep, ZoneAction};
use peerwire_core::policy::{SideWiring, Wiring};

/// One VPC, where it is owned.
type VpcKey = (Location, VpcId);

/// A side as a policy scope selects it: the same VPC may be read with different selectors by
/// two rules.
type SideKey = (Location, VpcId, String);

/// One observation per key, filled once: the async lock lets the first reader observe while
/// the others wait for its answer instead of reading again.
type Cells<K, V> = SyncMutex<HashMap<K, Arc<Mutex<Option<V>>>>>;

/// The run's observations. Cheap to create; filled as peerings are reconciled.
#[derive(Debug, Default)]
pub(super) struct Snapshot {
    networks: Cells<VpcKey, VpcNetwork>,
    /// Requester VPCs read for a decision; `None` inside when the requester could not be read.
    requesters: Cells<VpcKey, Option<VpcNetwork>>,
    siblings: Cells<VpcKey, Vec<Peering>>,
    sides: Cells<SideKey, SideState>,
    locks: SyncMutex<HashMap<VpcKey, Arc<Mutex<()>>>>,
    /// Member roles that could not be used this run (missing, denied, wrong ExternalId),
    /// and why: asked once per run, not once per peering.
    unusable_roles: SyncMutex<HashMap<Location, String>>,
    /// Read every side's subnets, even where the wiring does not need them (diagnose).
    every_subnet: bool,
}

/// The managed prefix lists a side routes to or references in a group: they count at their
/// maximum entries, in a route table and in a group.
fn prefix_lists(local: &SideState) -> Vec<PrefixListId> {
    let mut lists: Vec<PrefixListId> = local
        .network
        .route_tables
        .iter()
        .flat_map(|t| t.prefix_list_routes.iter().cloned())
        .chain(local.security_groups.iter().flat_map(|g| {
            g.ingress
                .iter()
                .chain(&g.egress)
                .filter_map(|r| match &r.peer {
                    RulePeer::PrefixList { prefix_list_id } => Some(prefix_list_id.clone()),
                    RulePeer::Cidr { .. } | RulePeer::Group { .. } => None,
                })
        }))
        .collect();
    lists.sort();
    lists.dedup();
    lists
}

/// Held while a peering is planned and applied: its sides' locks, in a fixed order.
#[derive(Debug)]
pub(super) struct SideLocks(#[allow(dead_code)] Vec<OwnedMutexGuard<()>>);

fn slot<K: Eq + std::hash::Hash + Clone, V: Default>(
    map: &SyncMutex<HashMap<K, Arc<V>>>,
    key: &K,
) -> Arc<V> {
    let mut map = map
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    map.entry(key.clone()).or_default().clone()
}

fn scope_key(scope: &SideWiring) -> String {
    serde_json::to_string(scope).unwrap_or_default()
}

fn vpc_key(peering: &Peering, side: Side) -> VpcKey {
    let owners = Location::owners(peering);
    (owners[side].clone(), peering.sides[side].vpc_id.clone())
}

/// The observation under `key`, made by `read` for the first asker only; the others wait for
/// its answer. A failed read is not kept: the next asker reads again.
async fn once<K, V, F, R>(cells: &Cells<K, V>, key: &K, read: F) -> Result<V>
where
    K: Eq + std::hash::Hash + Clone,
    V: Clone,
    F: FnOnce() -> R,
    R: std::future::Future<Output = Result<V>>,
{
    let cell = slot(cells, key);
    let mut cached = cell.lock().await;
    if let Some(value) = cached.as_ref() {
        return Ok(value.clone());
    }
    let value = read().await?;
    *cached = Some(value.clone());
    Ok(value)
}

impl Snapshot {
    /// A snapshot for diagnose, which names subnets: every side's subnets are read.
    pub(super) fn with_every_subnet() -> Self {
        Self {
            every_subnet: true,
            ..Self::default()
        }
    }

    /// The accepter VPC of `peering` with its route tables, read once per run.
    pub(super) async fn accepter_network(
        &self,
        app: &App,
        peering: &Peering,
    ) -> Result<VpcNetwork> {
        let key = vpc_key(peering, Side::Accepter);
        once(&self.networks, &key, || async {
            let (location, vpc_id) = &key;
            let ec2 = app.aws.ec2(location).await;
            observe::describe_vpc_network(&ec2, &location.account, vpc_id).await
        })
        .await
    }

    /// The requester VPC of `peering` with its route tables, read once per run through the
    /// requester's member role; `None` when that role is missing or denied (the requester side
    /// is then not checked). Its CIDRs are the request's (`CidrBlockSet`,
    /// `Ipv6CidrBlockSet`), so only the route tables are read.
    pub(super) async fn requester_network(
        &self,
        app: &App,
        peering: &Peering,
    ) -> Result<Option<VpcNetwork>> {
        let key = vpc_key(peering, Side::Requester);
        let cidrs = peering.sides.requester.cidrs.clone();
        once(&self.requesters, &key, || async {
            let (location, vpc_id) = &key;
            let ec2 = app.aws.ec2(location).await;
            let read = if cidrs.is_empty() {
                observe::describe_vpc_network(&ec2, &location.account, vpc_id).await
            } else {
                observe::describe_vpc_routes(&ec2, &location.account, vpc_id, cidrs).await
            };
            match read {
                Ok(network) => Ok(Some(network)),
                Err(err) if err.is_transient() => Err(err),
                Err(err) => {
                    tracing::info!(%err, "requester VPC not readable; its routes are not checked");
                    Ok(None)
                }
            }
        })
        .await
    }

    /// The accepter VPC's peerings that hold or may hold a CIDR (active, provisioning,
    /// pending-acceptance), read once per run and kept current with the run's own decisions.
    pub(super) async fn siblings(&self, app: &App, peering: &Peering) -> Result<Vec<Peering>> {
        let key = vpc_key(peering, Side::Accepter);
        once(&self.siblings, &key, || {
            read_siblings(app, &key, &SIBLING_STATUSES, false)
        })
        .await
    }

    /// The accepter VPC's live peerings where it is the accepter, read afresh (after an
    /// accept, to see a colliding one accepted at the same time by another invocation).
    pub(super) async fn live_siblings(&self, app: &App, peering: &Peering) -> Result<Vec<Peering>> {
        let key = vpc_key(peering, Side::Accepter);
        read_siblings(app, &key, &["active", "provisioning"], true).await
    }

    /// Records what the run decided for `peering`: later decisions of the run see it live
    /// once accepted, and no longer see it at all once rejected (a rejected request holds no
    /// CIDR, so it must not make a later request lose).
    pub(super) async fn decided(&self, peering: &Peering, accepted: bool) {
        let key = vpc_key(peering, Side::Accepter);
        let cell = slot(&self.siblings, &key);
        let mut cached = cell.lock().await;
        if let Some(siblings) = cached.as_mut() {
            siblings.retain(|s| s.id != peering.id);
            if accepted {
                let mut live = peering.clone();
                live.status = peerwire_core::model::PeeringStatus::Provisioning;
                siblings.push(live);
            }
        }
    }

    /// Why `at`'s member role could not be used earlier in this run, if it could not.
    pub(super) fn unusable_role(&self, at: &Location) -> Option<String> {
        self.unusable_roles
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(at)
            .cloned()
    }

    /// Records that `at`'s member role cannot be used, for the rest of the run.
    pub(super) fn role_unusable(&self, at: &Location, why: String) {
        self.unusable_roles
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(at.clone(), why);
    }

    /// Locks both sides of `peering` (always in the same order, so two peerings never wait on
    /// each other).
    pub(super) async fn lock_sides(&self, peering: &Peering) -> SideLocks {
        let mut keys: Vec<VpcKey> = Side::BOTH.iter().map(|s| vpc_key(peering, *s)).collect();
        keys.sort();
        keys.dedup();
        let mut guards = Vec::with_capacity(keys.len());
        for key in keys {
            guards.push(slot(&self.locks, &key).lock_owned().await);
        }
        SideLocks(guards)
    }

    /// Both sides of `peering` as `wiring` scopes them; each side read once per run. A side
    /// the policy does not manage is not read at all.
    pub(super) async fn wiring_state(
        &self,
        app: &App,
        peering: &Peering,
        wiring: &Wiring,
    ) -> Result<WiringState> {
        // The two sides are read at once: different accounts, different roles, no ordering.
        let read = |side: Side| async move {
            let scope = wiring.side(side);
            if scope.manage {
                self.side_state(app, peering, side, scope).await.map(Some)
            } else {
                Ok(None)
            }
        };
        // Boxed: each side's read is a large future (see `reconcile`).
        let (requester, accepter) = tokio::try_join!(
            Box::pin(read(Side::Requester)),
            Box::pin(read(Side::Accepter))
        )?;
        Ok(WiringState {
            peering: peering.clone(),
            sides: Sides {
                requester,
                accepter,
            },
        })
    }

    async fn side_state(
        &self,
        app: &App,
        peering: &Peering,
        side: Side,
        scope: &SideWiring,
    ) -> Result<SideState> {
        let vpc = vpc_key(peering, side);
        // What a decision of this run read of the VPC: the accepter's, or the requester's
        // (whose CIDRs are the request's own).
        let known = match side {
            Side::Accepter => self.read(&self.networks, &vpc).await,
            Side::Requester => self.read(&self.requesters, &vpc).await.flatten(),
        };
        let key = (vpc.0, vpc.1, scope_key(scope));
        once(&self.sides, &key, || async {
            let (location, vpc_id, _) = &key;
            let ec2 = app.aws.ec2(location).await;
            let rds = app.aws.rds(location).await;
            let subnets = if self.every_subnet {
                observe::SubnetReads::Always
            } else {
                observe::SubnetReads::WhenSelected
            };
            let zones = async {
                if scope.private_hosted_zones.is_empty() {
                    return Ok(Vec::new());
                }
                let route53 = app.aws.route53(location).await;
                observe::describe_zones(&route53, &scope.private_hosted_zones).await
            };
            let (mut state, hosted_zones) = tokio::try_join!(
                observe::describe_side(
                    &ec2,
                    &rds,
                    &location.account,
                    vpc_id,
                    scope,
                    subnets,
                    known
                ),
                zones
            )?;
            state.hosted_zones = hosted_zones;
            Ok(state)
        })
        .await
    }

    /// Fills in the quotas of the sides of `state` on which `plan` adds routes or rules (two
    /// `GetServiceQuota` per account and region and process, and the sizes of the prefix lists
    /// the side's tables route to), in `state` and in every cached view of those VPCs.
    pub(super) async fn with_quotas(
        &self,
        app: &App,
        peering: &Peering,
        state: &mut WiringState,
        sides: &[Side],
    ) -> Result<()> {
        // Each side's quotas (and prefix-list sizes) are read at once: they are independent.
        let wanted: Vec<(Side, Vec<PrefixListId>)> = sides
            .iter()
            .filter_map(|side| {
                let local = state.sides[*side].as_ref()?;
                local.quotas.is_none().then(|| (*side, prefix_lists(local)))
            })
            .collect();
        let reads = wanted.into_iter().map(|(side, lists)| async move {
            let (location, vpc_id) = vpc_key(peering, side);
            let (quotas, sizes) =
                tokio::try_join!(app.quotas.quotas(&app.aws, &location), async {
                    if lists.is_empty() {
                        return Ok(BTreeMap::new());
                    }
                    let ec2 = app.aws.ec2(&location).await;
                    observe::prefix_list_sizes(&ec2, &lists).await
                })?;
            Ok::<_, peerwire_core::error::Error>((side, location, vpc_id, quotas, sizes))
        });
        for read in futures_util::future::join_all(reads).await {
            let (side, location, vpc_id, mut quotas, sizes) = read?;
            quotas.prefix_list_entries = sizes;
            if let Some(local) = state.sides[side].as_mut() {
                local.quotas = Some(quotas.clone());
            }
            for cell in self.cells_of(&(location, vpc_id)) {
                if let Some(cached) = cell.lock().await.as_mut() {
                    cached.quotas = Some(quotas.clone());
                }
            }
        }
        Ok(())
    }

    /// What `cells` holds for `key`, when it was read (without reading it).
    async fn read<V: Clone>(&self, cells: &Cells<VpcKey, V>, key: &VpcKey) -> Option<V> {
        let cell = cells
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .cloned()?;
        let value = cell.lock().await.clone();
        value
    }

    /// Every cached view (whatever the scope) of one VPC.
    fn cells_of(&self, vpc: &VpcKey) -> Vec<Arc<Mutex<Option<SideState>>>> {
        let sides = self
            .sides
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        sides
            .iter()
            .filter(|((location, vpc_id, _), _)| (location, vpc_id) == (&vpc.0, &vpc.1))
            .map(|(_, cell)| cell.clone())
            .collect()
    }

    /// Writes what `applied` did into every cached view of the VPCs it touched.
    pub(super) async fn record(&self, peering: &Peering, applied: &[AppliedStep]) {
        for done in applied {
            if !done.result.went_through() {
                continue;
            }
            let vpc = vpc_key(peering, done.step.side);
            for cell in self.cells_of(&vpc) {
                if let Some(state) = cell.lock().await.as_mut() {
                    record_step(state, &done.step);
                }
            }
            let network = self
                .networks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&vpc)
                .cloned();
            if let Some(cell) = network {
                if let Some(network) = cell.lock().await.as_mut() {
                    record_route(network, &done.step);
                }
            }
        }
    }
}

/// The rules in `direction` of `state`'s group `group_id`, when the side has that group.
fn rules_of<'a>(
    state: &'a mut SideState,
    group_id: &SecurityGroupId,
    direction: Direction,
) -> Option<&'a mut Vec<SgRule>> {
    state
        .security_groups
        .iter_mut()
        .find(|g| &g.id == group_id)
        .map(|g| g.rules_mut(direction))
}

/// `state` after `step` went through.
fn record_step(state: &mut SideState, step: &PlanStep) {
    record_route(&mut state.network, step);
    let rule = |p: &Permission| SgRule {
        protocol: "tcp".to_owned(),
        from_port: Some(i32::from(p.port)),
        to_port: Some(i32::from(p.port)),
        peer: p.peer.clone(),
        description: Some(p.description.clone()),
    };
    match &step.action {
        Action::Ec2(action) => match action {
            Ec2Action::Authorize {
                direction,
                group_id,
                permissions,
            } => {
                if let Some(rules) = rules_of(state, group_id, *direction) {
                    rules.extend(permissions.iter().map(rule));
                }
            }
            Ec2Action::Revoke {
                direction,
                group_id,
                permissions,
            } => {
                if let Some(rules) = rules_of(state, group_id, *direction) {
                    rules.retain(|r| !permissions.iter().any(|p| *r == rule(p)));
                }
            }
            Ec2Action::Remark {
                direction,
                group_id,
                permissions,
            } => {
                if let Some(rules) = rules_of(state, group_id, *direction) {
                    for r in rules.iter_mut() {
                        let new = permissions.iter().find(|p| {
                            let wanted = rule(p);
                            r.protocol == wanted.protocol
                                && r.from_port == wanted.from_port
                                && r.to_port == wanted.to_port
                                && r.peer == wanted.peer
                        });
                        if let Some(p) = new {
                            r.description = Some(p.description.clone());
                        }
                    }
                }
            }
            Ec2Action::EnableVpcDnsAttribute { attribute, .. } => match attribute {
                DnsAttribute::EnableDnsSupport => state.dns_support = true,
                DnsAttribute::EnableDnsHostnames => state.dns_hostnames = true,
            },
            // Routes are recorded in the network (above); the rest is not part of a side's
            // observed state (the peering's own status and options are read per peering).
            Ec2Action::CreateRoute { .. }
            | Ec2Action::ReplaceBlackholeRoute { .. }
            | Ec2Action::DeleteRoute { .. }
            | Ec2Action::AcceptPeering { .. }
            | Ec2Action::RejectPeering { .. }
            | Ec2Action::SetDnsResolution { .. } => {}
        },
        Action::Route53(action) => {
            let zones = &mut state.hosted_zones;
            match action {
                ZoneAction::Record {
                    zone_id, vpc_id, ..
                } => {
                    if let Some(zone) = zone_mut(zones, zone_id) {
                        zone.associated_by_peerwire.push(vpc_id.clone());
                    }
                }
                ZoneAction::Forget { zone_id, vpc_id } => {
                    if let Some(zone) = zone_mut(zones, zone_id) {
                        zone.associated_by_peerwire.retain(|v| v != vpc_id);
                    }
                }
                // These are made by (or for) the VPC's owner, while the zone is observed on
                // its owner's side: the next run reads the association from the zone.
                ZoneAction::Associate { .. }
                | ZoneAction::Disassociate { .. }
                | ZoneAction::Authorize { .. }
                | ZoneAction::DeleteAuthorization { .. } => {}
            }
        }
    }
}

fn zone_mut<'a>(
    zones: &'a mut [peerwire_core::model::HostedZone],
    id: &peerwire_core::model::HostedZoneId,
) -> Option<&'a mut peerwire_core::model::HostedZone> {
    zones.iter_mut().find(|z| &z.id == id)
}

/// `network` after a route step went through.
fn record_route(network: &mut VpcNetwork, step: &PlanStep) {
    let Some(
        Ec2Action::CreateRoute {
            route_table_id,
            destination,
            peering_id,
        }
        | Ec2Action::ReplaceBlackholeRoute {
            route_table_id,
            destination,
            peering_id,
        },
    ) = step.ec2_action()
    else {
        return;
    };
    if let Some(table) = network
        .route_tables
        .iter_mut()
        .find(|t| &t.id == route_table_id)
    {
        table.routes.retain(|r| &r.destination != destination);
        table.routes.push(Route {
            destination: *destination,
            target: RouteTarget::Peering(peering_id.clone()),
            blackhole: false,
            propagated: false,
        });
    }
}

/// The statuses in which a peering holds, or may come to hold, its CIDRs in a VPC.
const SIBLING_STATUSES: [&str; 3] = ["active", "provisioning", "pending-acceptance"];

/// The peerings of a VPC in `statuses`, as its owner sees them: where the VPC is the
/// accepter, and (unless `accepter_only`) where it is the requester.
async fn read_siblings(
    app: &App,
    (location, vpc_id): &VpcKey,
    statuses: &[&str],
    accepter_only: bool,
) -> Result<Vec<Peering>> {
    let ec2 = app.aws.ec2(location).await;
    if accepter_only {
        observe::peerings_accepted_by_vpc(&ec2, location, vpc_id, statuses).await
    } else {
        observe::peerings_of_vpc(&ec2, location, vpc_id, statuses).await
    }
}
