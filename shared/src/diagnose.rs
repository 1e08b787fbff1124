//! Diagnose a peering layer by layer, in the order an engineer walks the field guides'
//! troubleshooting table: peering status, CIDR overlap, routes, security groups, network ACLs,
//! DNS, RDS. Each [`Layer`] is `ok`, `warning`, `broken` or `skipped`, with a finding and a fix.
//!
//! [`diagnose`] is pure: it reads an [`Inspection`] (the peering, the policy's wiring for it, both
//! sides as observed, the wiring plan) and the network ACLs of both sides, and never calls AWS.
//! Routes, security groups and DNS reuse [`plan_wiring`]: whatever the wiring door would still
//! change is what is missing, so `diagnose`, `plan` and `apply` can never disagree. Network ACLs
//! are not the wiring's business (peerwire never changes them) and are evaluated here by
//! [`evaluate_nacl`]: entries in rule-number order, first match wins, and rule `*` denies.
//!
//! The read path shared by `peerwire diagnose`, `plan` and `apply`: [`locate`] the peering,
//! [`inspect`] both sides (the wiring door's own observe and plan), then for a diagnosis
//! [`observe_nacls`]; [`diagnose_peering`] does all of it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use ipnet::IpNet;
use serde::Serialize;

use crate::app::App;
use crate::aws::{nacl, observe};
use crate::decision::{find_overlaps, OverlapSource};
use crate::error::{AwsErrorKind, Error, Result};
use crate::model::{
    Peering, PeeringSide, PeeringStatus, RouteTarget, SideState, VpcNetwork, WiringState,
};
use crate::plan::{describe_permissions, DnsAttribute, Finding, PlanStep, Side, WiringPlan};
use crate::policy::{Policy, RuleMatch, SideWiring, Wiring};
use crate::wire::observe_wiring;
use crate::wiring::{plan_wiring, route_table_of, scoped_subnets, tables_in_scope};

// ------------------------------------------------------------------------------ NACL model

/// What a network ACL entry does with the traffic it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NaclAction {
    Allow,
    Deny,
}

/// The protocol of a network ACL entry, as far as TCP traffic is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NaclProtocol {
    /// `-1`: every protocol, every port.
    All,
    /// `6`.
    Tcp,
    /// Any other IANA protocol number (UDP, ICMP, ...): never matches TCP.
    Other(String),
}

/// An inclusive TCP port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PortRange {
    pub from: u16,
    pub to: u16,
}

impl PortRange {
    /// `from..=to`, swapped when given backwards.
    pub const fn new(from: u16, to: u16) -> Self {
        if from <= to {
            Self { from, to }
        } else {
            Self { from: to, to: from }
        }
    }

    /// One port.
    pub const fn single(port: u16) -> Self {
        Self {
            from: port,
            to: port,
        }
    }

    /// Every port.
    pub const ALL: Self = Self { from: 0, to: 65535 };

    fn intersect(self, other: Self) -> Option<Self> {
        let from = self.from.max(other.from);
        let to = self.to.min(other.to);
        (from <= to).then_some(Self { from, to })
    }

    /// `self` without `inner` (which lies inside `self`): zero, one or two ranges.
    fn without(self, inner: Self) -> Vec<Self> {
        let mut rest = Vec::new();
        if inner.from > self.from {
            rest.push(Self::new(self.from, inner.from - 1));
        }
        if inner.to < self.to {
            rest.push(Self::new(inner.to + 1, self.to));
        }
        rest
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from == self.to {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{}-{}", self.from, self.to)
        }
    }
}

/// The ports a client picks for its side of a TCP connection, which the server's replies are
/// addressed to. NACLs are stateless, so replies need their own rule: AWS's guidance is to
/// allow 1024-65535, which covers Linux (32768-60999), Windows (49152-65535) and NAT/ELB.
pub const EPHEMERAL_PORTS: PortRange = PortRange {
    from: 1024,
    to: 65535,
};

/// The number AWS gives the catch-all rule `*` that ends every ACL and denies.
pub const CATCH_ALL_RULE: i32 = 32767;

/// One entry of a network ACL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NaclEntry {
    /// Evaluated lowest first; the first entry that matches decides.
    pub rule_number: i32,
    /// Outbound when true.
    pub egress: bool,
    pub protocol: NaclProtocol,
    /// `None`: every port (protocol `-1`, or an entry AWS reports without a range).
    pub ports: Option<PortRange>,
    /// The source (inbound) or destination (outbound) range, IPv4 or IPv6.
    pub cidr: IpNet,
    pub action: NaclAction,
}

/// A network ACL with its entries and the subnets associated with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetworkAcl {
    pub id: String,
    /// The VPC's default ACL: every subnet not explicitly associated elsewhere uses it.
    pub default: bool,
    pub subnet_ids: Vec<String>,
    pub entries: Vec<NaclEntry>,
}

/// Which way traffic crosses a subnet's ACL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    fn name(self) -> &'static str {
        match self {
            Self::Inbound => "inbound",
            Self::Outbound => "outbound",
        }
    }

    /// "from" for inbound traffic, "to" for outbound.
    fn preposition(self) -> &'static str {
        match self {
            Self::Inbound => "from",
            Self::Outbound => "to",
        }
    }
}

/// Whether an ACL lets a whole CIDR × port range of TCP traffic through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum NaclVerdict {
    Allowed,
    /// Some of the traffic is denied: `peer` × `ports` is the first part found, and
    /// `rule_number` the entry that denies it (`None`: no entry matched, rule `*` denies).
    Denied {
        rule_number: Option<i32>,
        peer: IpNet,
        ports: PortRange,
    },
}

/// Evaluates `acl` for TCP traffic `direction` from/to every address of `peer` on every port
/// of `ports`, the way AWS does for each packet: entries of that direction in rule-number
/// order, the first entry whose protocol, range and ports match decides, and traffic no entry
/// matches is denied. Allowed only when every address × port is allowed.
pub fn evaluate_nacl(
    acl: &NetworkAcl,
    direction: Direction,
    peer: IpNet,
    ports: PortRange,
) -> NaclVerdict {
    let egress = direction == Direction::Outbound;
    let mut entries: Vec<&NaclEntry> = acl.entries.iter().filter(|e| e.egress == egress).collect();
    entries.sort_by_key(|e| e.rule_number);
    // The traffic not decided yet, as disjoint blocks of addresses × ports.
    let mut open: Vec<(IpNet, PortRange)> = vec![(peer.trunc(), ports)];
    for entry in entries {
        let entry_ports = match entry.protocol {
            NaclProtocol::All => PortRange::ALL,
            NaclProtocol::Tcp => entry.ports.unwrap_or(PortRange::ALL),
            NaclProtocol::Other(_) => continue,
        };
        let mut undecided = Vec::with_capacity(open.len());
        for (net, range) in open {
            // Two CIDRs overlap only when one contains the other.
            let shared_net = if entry.cidr.contains(&net) {
                Some(net)
            } else if net.contains(&entry.cidr) {
                Some(entry.cidr.trunc())
            } else {
                None
            };
            let (Some(shared_net), Some(shared_ports)) = (shared_net, range.intersect(entry_ports))
            else {
                undecided.push((net, range));
                continue;
            };
            if entry.action == NaclAction::Deny {
                return NaclVerdict::Denied {
                    rule_number: (entry.rule_number != CATCH_ALL_RULE).then_some(entry.rule_number),
                    peer: shared_net,
                    ports: shared_ports,
                };
            }
            undecided.extend(without_net(net, shared_net).into_iter().map(|n| (n, range)));
            undecided.extend(
                range
                    .without(shared_ports)
                    .into_iter()
                    .map(|p| (shared_net, p)),
            );
        }
        open = undecided;
        if open.is_empty() {
            return NaclVerdict::Allowed;
        }
    }
    match open.first() {
        Some((net, range)) => NaclVerdict::Denied {
            rule_number: None,
            peer: *net,
            ports: *range,
        },
        None => NaclVerdict::Allowed,
    }
}

/// `net` without `inner` (a block inside it), as the CIDR blocks left over.
fn without_net(net: IpNet, inner: IpNet) -> Vec<IpNet> {
    let mut rest = Vec::new();
    let mut current = net;
    while current.prefix_len() < inner.prefix_len() {
        let Ok(halves) = current.subnets(current.prefix_len() + 1) else {
            break;
        };
        let mut next = None;
        for half in halves {
            if half.contains(&inner) {
                next = Some(half);
            } else {
                rest.push(half);
            }
        }
        match next {
            Some(half) => current = half,
            None => break,
        }
    }
    rest
}

/// The ACL a subnet uses: the one listing its association, else the VPC's default ACL.
pub fn nacl_of_subnet<'a>(acls: &'a [NetworkAcl], subnet_id: &str) -> Option<&'a NetworkAcl> {
    acls.iter()
        .find(|acl| acl.subnet_ids.iter().any(|s| s == subnet_id))
        .or_else(|| acls.iter().find(|acl| acl.default))
}

/// The network ACLs of both VPCs; `None` for a side that was not read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct SideNacls {
    pub requester: Option<Vec<NetworkAcl>>,
    pub accepter: Option<Vec<NetworkAcl>>,
}

impl SideNacls {
    fn side(&self, side: Side) -> Option<&[NetworkAcl]> {
        match side {
            Side::Requester => self.requester.as_deref(),
            Side::Accepter => self.accepter.as_deref(),
        }
    }
}

// ------------------------------------------------------------------------------ the output

/// Version of the JSON document (`docs/schemas/diagnosis.schema.json`). Adding a field keeps
/// it; renaming or removing one, or changing a meaning, bumps it.
pub const SCHEMA_VERSION: u32 = 1;

/// The layers, in the order they are checked and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayerId {
    PeeringStatus,
    CidrOverlap,
    Routes,
    SecurityGroups,
    NetworkAcls,
    Dns,
    Rds,
}

impl LayerId {
    /// Every layer, in order.
    pub const ALL: [Self; 7] = [
        Self::PeeringStatus,
        Self::CidrOverlap,
        Self::Routes,
        Self::SecurityGroups,
        Self::NetworkAcls,
        Self::Dns,
        Self::Rds,
    ];

    /// The JSON name, e.g. `network-acls`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PeeringStatus => "peering-status",
            Self::CidrOverlap => "cidr-overlap",
            Self::Routes => "routes",
            Self::SecurityGroups => "security-groups",
            Self::NetworkAcls => "network-acls",
            Self::Dns => "dns",
            Self::Rds => "rds",
        }
    }

    /// The name people read, e.g. `Network ACLs`.
    pub fn title(self) -> &'static str {
        match self {
            Self::PeeringStatus => "Peering status",
            Self::CidrOverlap => "CIDR overlap",
            Self::Routes => "Routes",
            Self::SecurityGroups => "Security groups",
            Self::NetworkAcls => "Network ACLs",
            Self::Dns => "DNS",
            Self::Rds => "RDS",
        }
    }
}

impl fmt::Display for LayerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a layer (or one problem in it) fares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// Worth a look; traffic may still flow.
    Warning,
    /// Traffic does not flow (for some or all of it).
    Broken,
    /// Not checked, and the finding says why (an earlier layer is broken, or the policy gives
    /// nothing to check).
    Skipped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warning => "warning",
            Self::Broken => "broken",
            Self::Skipped => "skipped",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing wrong in a layer, naming the resource and the subnets it affects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `broken` or `warning`.
    pub status: Status,
    /// The side that owns the resource; its account must make the fix.
    pub side: Option<Side>,
    /// The resource at fault: `pcx-…`, `rtb-…`, `sg-…`, `acl-…`, `vpc-…` or a DB instance id.
    pub resource: Option<String>,
    /// The subnets affected, when subnets are what suffers.
    pub subnets: Vec<String>,
    pub finding: String,
    pub fix: String,
}

impl Problem {
    fn new(status: Status, side: Option<Side>, resource: Option<&str>, finding: String) -> Self {
        Self {
            status,
            side,
            resource: resource.map(str::to_owned),
            subnets: Vec::new(),
            finding,
            fix: String::new(),
        }
    }

    fn broken(side: Option<Side>, resource: Option<&str>, finding: String) -> Self {
        Self::new(Status::Broken, side, resource, finding)
    }

    fn warning(side: Option<Side>, resource: Option<&str>, finding: String) -> Self {
        Self::new(Status::Warning, side, resource, finding)
    }

    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = fix.into();
        self
    }

    fn subnets(mut self, subnets: Vec<String>) -> Self {
        self.subnets = subnets;
        self
    }
}

/// One layer of the diagnosis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layer {
    pub layer: LayerId,
    pub title: String,
    /// The worst status of its problems; `ok` without problems; `skipped` when not checked.
    pub status: Status,
    /// One line: what holds when ok, why it was skipped, else the first problem (and how many
    /// more there are).
    pub finding: String,
    /// The first problem's fix; `None` when there is nothing to fix.
    pub fix: Option<String>,
    pub problems: Vec<Problem>,
}

impl Layer {
    fn skipped(layer: LayerId, why: impl Into<String>) -> Self {
        Self {
            layer,
            title: layer.title().to_owned(),
            status: Status::Skipped,
            finding: why.into(),
            fix: None,
            problems: Vec::new(),
        }
    }

    fn checked(layer: LayerId, problems: Vec<Problem>, ok: String) -> Self {
        let status = problems
            .iter()
            .map(|p| p.status)
            .max()
            .unwrap_or(Status::Ok);
        let (finding, fix) = match problems.first() {
            None => (ok, None),
            Some(first) if problems.len() == 1 => (first.finding.clone(), Some(first.fix.clone())),
            Some(first) => (
                format!("{} (+{} more)", first.finding, problems.len() - 1),
                Some(first.fix.clone()),
            ),
        };
        Self {
            layer,
            title: layer.title().to_owned(),
            status,
            finding,
            fix,
            problems,
        }
    }
}

/// One side of the peering, as the diagnosis reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SideSummary {
    pub account: String,
    pub vpc_id: String,
    pub region: String,
    pub cidrs: Vec<IpNet>,
}

/// The whole diagnosis of one peering: the JSON of `peerwire diagnose --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    pub peering_id: String,
    /// The AWS status code, e.g. `active`.
    pub status: String,
    pub status_message: Option<String>,
    pub requester: SideSummary,
    pub accepter: SideSummary,
    /// The policy rule that matches the peering, if any.
    pub rule: Option<String>,
    /// No layer is broken (warnings allowed).
    pub healthy: bool,
    /// Always the seven layers of [`LayerId::ALL`], in that order.
    pub layers: Vec<Layer>,
}

impl Diagnosis {
    pub fn layer(&self, id: LayerId) -> Option<&Layer> {
        self.layers.iter().find(|l| l.layer == id)
    }

    /// The broken layers, in order.
    pub fn broken(&self) -> Vec<LayerId> {
        self.layers
            .iter()
            .filter(|l| l.status == Status::Broken)
            .map(|l| l.layer)
            .collect()
    }
}

// ------------------------------------------------------------------------------ the input

/// What the policy says about one peering.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PolicyView {
    rule: Option<String>,
    unmatched: Vec<String>,
    covered: bool,
    wiring: Wiring,
}

fn policy_view(policy: &Policy, peering: &Peering) -> PolicyView {
    let accepter = &peering.accepter;
    let covered =
        policy.covers_accepter(&accepter.account, &accepter.region, Some(&accepter.vpc_id));
    match policy.evaluate(peering) {
        RuleMatch::Matched { rule, .. } => {
            let wiring = policy
                .rules
                .iter()
                .find(|r| r.name == rule)
                .map(|r| r.wiring.clone())
                .unwrap_or_default();
            PolicyView {
                rule: Some(rule),
                unmatched: Vec::new(),
                covered,
                wiring,
            }
        }
        RuleMatch::Unmatched { reasons, .. } => PolicyView {
            rule: None,
            unmatched: reasons,
            covered,
            wiring: Wiring::default(),
        },
    }
}

/// A peering, what the policy says about it, and both sides as observed: what `plan`, `apply`
/// and `diagnose` all start from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub peering: Peering,
    /// The policy rule that matches the peering; `None` when none does.
    pub rule: Option<String>,
    /// Why no rule matches (empty when one does).
    pub unmatched: Vec<String>,
    /// Whether the accepter VPC is inside the policy's `accepters`.
    pub covered: bool,
    /// The matched rule's wiring; when no rule matches, the default scope (every subnet of
    /// both VPCs, no DB port), so that routes and DNS can still be checked.
    pub wiring: Wiring,
    /// Both sides as observed; `None` unless the peering is active.
    pub state: Option<WiringState>,
    /// `plan_wiring(state, wiring)`: what the wiring door would still change.
    pub plan: WiringPlan,
    /// The accepter VPC as observed, for the overlap check; `None` when it was not read.
    pub accepter_network: Option<VpcNetwork>,
}

impl Inspection {
    /// Puts the pieces together and plans. `accepter_network` defaults to the observed
    /// accepter side's network.
    pub fn new(
        peering: Peering,
        policy: &Policy,
        state: Option<WiringState>,
        accepter_network: Option<VpcNetwork>,
    ) -> Self {
        let view = policy_view(policy, &peering);
        let plan = state
            .as_ref()
            .map(|s| plan_wiring(s, &view.wiring))
            .unwrap_or_default();
        let accepter_network = accepter_network.or_else(|| {
            state
                .as_ref()
                .and_then(|s| s.accepter.as_ref())
                .map(|a| a.network.clone())
        });
        Self {
            peering,
            rule: view.rule,
            unmatched: view.unmatched,
            covered: view.covered,
            wiring: view.wiring,
            state,
            plan,
            accepter_network,
        }
    }

    /// Why the wiring door would leave this peering alone, if it would: the same checks, in
    /// the same order, as the door's reconcile.
    pub fn refusal(&self) -> Option<String> {
        let accepter = &self.peering.accepter;
        if !self.covered {
            return Some(format!(
                "the accepter VPC {} ({} in {}) is not in the policy's accepters",
                accepter.vpc_id, accepter.account, accepter.region
            ));
        }
        if self.peering.status != PeeringStatus::Active {
            return Some(crate::request::status_reason(&self.peering));
        }
        if self.rule.is_none() {
            return Some(format!(
                "no policy rule matches this peering: {}",
                self.unmatched.join("; ")
            ));
        }
        None
    }
}

// ------------------------------------------------------------------------------ diagnose

/// Diagnoses an inspected peering, layer by layer. Pure.
pub fn diagnose(inspection: &Inspection, nacls: &SideNacls) -> Diagnosis {
    let peering = &inspection.peering;
    let facts = Facts::new(inspection);
    let layers = vec![
        peering_status_layer(inspection),
        cidr_overlap_layer(inspection),
        routes_layer(&facts),
        security_groups_layer(&facts),
        network_acls_layer(&facts, nacls),
        dns_layer(&facts),
        rds_layer(&facts),
    ];
    let summary = |side: &PeeringSide| SideSummary {
        account: side.account.clone(),
        vpc_id: side.vpc_id.clone(),
        region: side.region.clone(),
        cidrs: side.cidrs.clone(),
    };
    Diagnosis {
        schema_version: SCHEMA_VERSION,
        peering_id: peering.id.clone(),
        status: peering.status.code().to_owned(),
        status_message: peering.status_message.clone(),
        requester: summary(&peering.requester),
        accepter: summary(&peering.accepter),
        rule: inspection.rule.clone(),
        healthy: layers.iter().all(|l| l.status != Status::Broken),
        layers,
    }
}

const SIDES: [Side; 2] = [Side::Requester, Side::Accepter];

/// What the layers after the first two share.
struct Facts<'a> {
    inspection: &'a Inspection,
    peering: &'a Peering,
    /// Route problems the plan found, by side and route table.
    route_gaps: BTreeMap<(Side, String), Vec<RouteGap>>,
}

/// A peer CIDR a route table does not send through the peering.
#[derive(Debug, Clone)]
struct RouteGap {
    destination: IpNet,
    kind: GapKind,
}

#[derive(Debug, Clone)]
enum GapKind {
    Missing,
    Blackhole,
    Conflict {
        target: RouteTarget,
        blackhole: bool,
    },
}

impl<'a> Facts<'a> {
    fn new(inspection: &'a Inspection) -> Self {
        let mut route_gaps: BTreeMap<(Side, String), Vec<RouteGap>> = BTreeMap::new();
        for step in &inspection.plan.steps {
            let (side, table, destination, kind) = match step {
                PlanStep::CreateRoute {
                    side,
                    route_table_id,
                    destination,
                    ..
                } => (side, route_table_id, destination, GapKind::Missing),
                PlanStep::ReplaceBlackholeRoute {
                    side,
                    route_table_id,
                    destination,
                    ..
                } => (side, route_table_id, destination, GapKind::Blackhole),
                _ => continue,
            };
            route_gaps
                .entry((*side, table.clone()))
                .or_default()
                .push(RouteGap {
                    destination: *destination,
                    kind,
                });
        }
        for finding in &inspection.plan.findings {
            if let Finding::RouteConflict {
                side,
                route_table_id,
                destination,
                target,
                blackhole,
            } = finding
            {
                route_gaps
                    .entry((*side, route_table_id.clone()))
                    .or_default()
                    .push(RouteGap {
                        destination: *destination,
                        kind: GapKind::Conflict {
                            target: target.clone(),
                            blackhole: *blackhole,
                        },
                    });
            }
        }
        Self {
            inspection,
            peering: &inspection.peering,
            route_gaps,
        }
    }

    fn active(&self) -> bool {
        self.peering.status == PeeringStatus::Active
    }

    fn not_active(&self, what: &str) -> String {
        format!(
            "the peering is {}; {what} checked once it is active",
            self.peering.status
        )
    }

    fn pcx(&self) -> &str {
        &self.peering.id
    }

    fn view(&self, side: Side) -> &'a PeeringSide {
        match side {
            Side::Requester => &self.peering.requester,
            Side::Accepter => &self.peering.accepter,
        }
    }

    fn account(&self, side: Side) -> &'a str {
        &self.view(side).account
    }

    fn scope(&self, side: Side) -> &'a SideWiring {
        match side {
            Side::Requester => &self.inspection.wiring.requester,
            Side::Accepter => &self.inspection.wiring.accepter,
        }
    }

    /// The observed side; `None` when the policy leaves it alone or it was not read.
    fn local(&self, side: Side) -> Option<&'a SideState> {
        let state = self.inspection.state.as_ref()?;
        match side {
            Side::Requester => state.requester.as_ref(),
            Side::Accepter => state.accepter.as_ref(),
        }
    }

    /// Why a side has no observed state.
    fn unread(&self, side: Side) -> String {
        if self.scope(side).manage {
            format!("{side} side not read")
        } else {
            format!("{side} side not managed by the policy (manage: false), not checked")
        }
    }

    /// The other side's VPC CIDRs as `side` must reach them, as the planner computes them:
    /// the observed VPC when there is one, else what the peering reports; IPv6 only when
    /// `side` has IPv6 too.
    fn peer_cidrs(&self, side: Side) -> Vec<IpNet> {
        let remote = match side {
            Side::Requester => Side::Accepter,
            Side::Accepter => Side::Requester,
        };
        let remote_cidrs = match self.local(remote) {
            Some(other) => &other.network.cidrs,
            None => &self.view(remote).cidrs,
        };
        let local_cidrs = match self.local(side) {
            Some(local) => &local.network.cidrs,
            None => &self.view(side).cidrs,
        };
        let local_ipv6 = local_cidrs.iter().any(|c| matches!(c, IpNet::V6(_)));
        let unique: BTreeSet<IpNet> = remote_cidrs
            .iter()
            .map(IpNet::trunc)
            .filter(|c| local_ipv6 || matches!(c, IpNet::V4(_)))
            .collect();
        unique.into_iter().collect()
    }

    fn ports(&self) -> &'a [u16] {
        &self.inspection.wiring.ports
    }
}

/// The scoped subnets that use `table_id`.
fn subnets_on_table(local: &SideState, scope: &SideWiring, table_id: &str) -> Vec<String> {
    scoped_subnets(local, scope)
        .into_iter()
        .filter(|s| route_table_of(local, s).is_some_and(|t| t.id == table_id))
        .collect()
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

// ---------------------------------------------------------------- 1. peering status

fn peering_status_layer(inspection: &Inspection) -> Layer {
    let p = &inspection.peering;
    let id = &p.id;
    let accepter = &p.accepter.account;
    let because = match p.status_message.as_deref() {
        Some(m) if !m.is_empty() => format!(" ({m})"),
        _ => String::new(),
    };
    let pcx = Some(id.as_str());
    let mut problems = Vec::new();
    match &p.status {
        PeeringStatus::Active => {}
        PeeringStatus::PendingAcceptance => {
            let fix = match &inspection.rule {
                Some(rule) => format!(
                    "accept it in account {accepter}: peerwire accepts it under rule `{rule}` on \
                     the next CloudTrail event or sweep (a rule with `approval: required` waits \
                     for an approval event)"
                ),
                None => format!(
                    "no policy rule matches it ({}), so peerwire will not accept it: fix the \
                     request or the policy, or accept it in account {accepter} by hand",
                    inspection.unmatched.join("; ")
                ),
            };
            problems.push(
                Problem::broken(
                    Some(Side::Accepter),
                    pcx,
                    format!(
                        "{id} is pending acceptance by account {accepter}: no traffic flows \
                         until it is accepted"
                    ),
                )
                .fix(fix),
            );
        }
        PeeringStatus::Failed => {
            let overlap = because.to_ascii_lowercase().contains("overlap");
            let fix = if overlap {
                "overlapping CIDRs cannot peer: re-address one VPC or use AWS PrivateLink, then \
                 request a new peering"
            } else {
                "fix the cause and request a new peering; a failed peering cannot be revived"
            };
            problems.push(Problem::broken(None, pcx, format!("{id} failed{because}")).fix(fix));
        }
        PeeringStatus::Rejected => problems.push(
            Problem::broken(
                Some(Side::Accepter),
                pcx,
                format!("{id} was rejected by account {accepter}{because}"),
            )
            .fix(
                "a rejected peering cannot be accepted: see the Peering Request Rejected outcome \
                 for peerwire's reasons, fix the cause and request a new peering",
            ),
        ),
        PeeringStatus::Expired => problems.push(
            Problem::broken(
                Some(Side::Accepter),
                pcx,
                format!("{id} expired: account {accepter} did not accept it within 7 days"),
            )
            .fix("request a new peering and accept it within 7 days"),
        ),
        PeeringStatus::Deleted | PeeringStatus::Deleting => problems.push(
            Problem::broken(None, pcx, format!("{id} is {}{because}", p.status)).fix(
                "request a new peering if the VPCs should still talk; routes through this one \
                 are blackholes now",
            ),
        ),
        PeeringStatus::InitiatingRequest | PeeringStatus::Provisioning => problems.push(
            Problem::warning(
                None,
                pcx,
                format!("{id} is {}: AWS is still setting it up{because}", p.status),
            )
            .fix("re-check in a minute"),
        ),
        PeeringStatus::Other(code) => problems.push(
            Problem::warning(
                None,
                pcx,
                format!("{id} reports status `{code}`, which peerwire does not know"),
            )
            .fix("check the peering in the VPC console"),
        ),
    }
    if p.status == PeeringStatus::Active {
        if !inspection.covered {
            problems.push(
                Problem::warning(
                    Some(Side::Accepter),
                    Some(&p.accepter.vpc_id),
                    format!(
                        "the accepter VPC {} ({accepter} in {}) is outside the policy's \
                         accepters: peerwire does not wire this peering",
                        p.accepter.vpc_id, p.accepter.region
                    ),
                )
                .fix("add the accepter to the policy's `accepters` if peerwire should wire it"),
            );
        }
        if inspection.rule.is_none() {
            problems.push(
                Problem::warning(
                    None,
                    pcx,
                    format!(
                        "no policy rule matches {id} ({}): peerwire does not wire it, and the \
                         checks below use the default scope (every subnet, no DB port)",
                        inspection.unmatched.join("; ")
                    ),
                )
                .fix("fix the rule or the peering's tags if peerwire should wire it"),
            );
        }
    }
    let ok = match &inspection.rule {
        Some(rule) => format!("{id} is active (policy rule `{rule}`)"),
        None => format!("{id} is active"),
    };
    Layer::checked(LayerId::PeeringStatus, problems, ok)
}

// ---------------------------------------------------------------- 2. CIDR overlap

fn cidr_overlap_layer(inspection: &Inspection) -> Layer {
    let p = &inspection.peering;
    let network = inspection
        .accepter_network
        .clone()
        .unwrap_or_else(|| VpcNetwork {
            account: p.accepter.account.clone(),
            vpc_id: p.accepter.vpc_id.clone(),
            cidrs: p.accepter.cidrs.clone(),
            route_tables: Vec::new(),
        });
    if p.requester.cidrs.is_empty() {
        return Layer::skipped(
            LayerId::CidrOverlap,
            "the peering reports no requester CIDR",
        );
    }
    if network.cidrs.is_empty() {
        return Layer::skipped(
            LayerId::CidrOverlap,
            "the accepter VPC's CIDRs are not known (not readable, and not reported before the \
             peering is active)",
        );
    }
    let mut problems = Vec::new();
    for overlap in find_overlaps(p, &network) {
        match &overlap.source {
            OverlapSource::VpcCidr { vpc_id } => problems.push(
                Problem::broken(Some(Side::Accepter), Some(vpc_id), overlap.to_string()).fix(
                    "VPC peering cannot carry overlapping ranges: re-address one VPC or use \
                     AWS PrivateLink",
                ),
            ),
            // A route exactly to the requester CIDR is a route conflict (the routes layer);
            // a broader one loses to the more specific peering route. A narrower one takes
            // part of the requester's addresses away from the peering.
            OverlapSource::Route {
                route_table_id,
                target,
            } if overlap.conflicting.prefix_len() > overlap.requester_cidr.prefix_len() => {
                problems.push(
                    Problem::broken(
                        Some(Side::Accepter),
                        Some(route_table_id),
                        format!(
                            "accepter route table {route_table_id} sends {} (part of the \
                         requester's {}) to {target}, not through {}",
                            overlap.conflicting, overlap.requester_cidr, p.id
                        ),
                    )
                    .fix(format!(
                        "remove or re-point that route in account {} if the peering should \
                         carry that traffic; peerwire never changes a route it does not own",
                        p.accepter.account
                    )),
                );
            }
            OverlapSource::Route { .. } => {}
        }
    }
    let ok = format!(
        "requester {} and accepter {} do not overlap",
        join(&p.requester.cidrs),
        join(&network.cidrs)
    );
    Layer::checked(LayerId::CidrOverlap, problems, ok)
}

// ---------------------------------------------------------------- 3. routes

/// "subnets subnet-a, subnet-b" or what the table is when no scoped subnet uses it.
fn describe_served(local: &SideState, table_id: &str, subnets: &[String]) -> String {
    if !subnets.is_empty() {
        return format!("subnets {}", subnets.join(", "));
    }
    let main = local
        .network
        .route_tables
        .iter()
        .any(|t| t.id == table_id && t.main);
    if main {
        "the main table: new subnets land here".to_owned()
    } else {
        "no subnet in scope".to_owned()
    }
}

fn route_gap_problem(
    facts: &Facts<'_>,
    side: Side,
    table: &str,
    gap: &RouteGap,
    served: String,
    subnets: Vec<String>,
) -> Problem {
    let pcx = facts.pcx();
    let account = facts.account(side);
    let destination = gap.destination;
    let problem = match &gap.kind {
        GapKind::Missing => Problem::broken(
            Some(side),
            Some(table),
            format!(
                "{side} route table {table} ({served}) has no route to {destination} through {pcx}"
            ),
        )
        .fix(format!(
            "add route {destination} -> {pcx} to {table} in account {account} (`peerwire apply \
             {pcx}` does it)"
        )),
        GapKind::Blackhole => Problem::broken(
            Some(side),
            Some(table),
            format!(
                "{side} route table {table} ({served}): the route to {destination} through \
                 {pcx} is a blackhole"
            ),
        )
        .fix(format!(
            "replace the route in {table} in account {account} (`peerwire apply {pcx}` does it)"
        )),
        GapKind::Conflict { target, blackhole } => {
            let dead = if *blackhole { " (a blackhole)" } else { "" };
            Problem::broken(
                Some(side),
                Some(table),
                format!(
                    "{side} route table {table} ({served}) sends {destination} to \
                     {target}{dead}, not through {pcx}"
                ),
            )
            .fix(format!(
                "remove or re-point the route to {destination} via {target} in {table} \
                 (account {account}), or move these subnets to another table; peerwire never \
                 replaces a route it does not own"
            ))
        }
    };
    problem.subnets(subnets)
}

fn routes_layer(facts: &Facts<'_>) -> Layer {
    if !facts.active() {
        return Layer::skipped(LayerId::Routes, facts.not_active("routes are"));
    }
    let mut problems = Vec::new();
    let mut ok = Vec::new();
    for side in SIDES {
        let Some(local) = facts.local(side) else {
            ok.push(facts.unread(side));
            continue;
        };
        let scope = facts.scope(side);
        for ((gap_side, table), gaps) in &facts.route_gaps {
            if *gap_side != side {
                continue;
            }
            let subnets = subnets_on_table(local, scope, table);
            let served = describe_served(local, table, &subnets);
            for gap in gaps {
                problems.push(route_gap_problem(
                    facts,
                    side,
                    table,
                    gap,
                    served.clone(),
                    subnets.clone(),
                ));
            }
        }
        for finding in &facts.inspection.plan.findings {
            if let Finding::NothingSelected { side: s, what } = finding {
                if *s == side && what == "subnets" {
                    problems.push(
                        Problem::warning(
                            Some(side),
                            Some(&local.network.vpc_id),
                            format!(
                                "the policy selects {side} subnets (wiring.{side}.subnet_ids / \
                                 subnet_tags), but none matched in {}",
                                local.network.vpc_id
                            ),
                        )
                        .fix("check the subnet ids and tags in the policy"),
                    );
                }
            }
        }
        let tables = tables_in_scope(local, scope);
        ok.push(format!(
            "{side}: {} {} through {}",
            plural(tables.len(), "route table routes", "route tables route"),
            join(&facts.peer_cidrs(side)),
            facts.pcx()
        ));
    }
    if facts.local(Side::Requester).is_none() && facts.local(Side::Accepter).is_none() {
        return Layer::skipped(LayerId::Routes, ok.join("; "));
    }
    Layer::checked(LayerId::Routes, problems, ok.join("; "))
}

// ---------------------------------------------------------------- 4. security groups

fn ports_text(ports: &[u16]) -> String {
    ports
        .iter()
        .map(|p| format!("tcp/{p}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn security_groups_layer(facts: &Facts<'_>) -> Layer {
    if !facts.active() {
        return Layer::skipped(LayerId::SecurityGroups, facts.not_active("rules are"));
    }
    if facts.ports().is_empty() {
        return Layer::skipped(
            LayerId::SecurityGroups,
            "the policy names no DB port (wiring.ports), so there is no rule to check",
        );
    }
    let pcx = facts.pcx();
    let mut problems = Vec::new();
    for step in &facts.inspection.plan.steps {
        match step {
            PlanStep::AuthorizeIngress {
                side,
                group_id,
                permissions,
            } => problems.push(
                Problem::broken(
                    Some(*side),
                    Some(group_id),
                    format!(
                        "{side} DB group {group_id} does not admit {}",
                        describe_permissions(permissions, "from")
                    ),
                )
                .fix(format!(
                    "allow inbound {} on {group_id} in account {} (`peerwire apply {pcx}` adds \
                     it)",
                    describe_permissions(permissions, "from"),
                    facts.account(*side)
                )),
            ),
            PlanStep::AuthorizeEgress {
                side,
                group_id,
                permissions,
            } => problems.push(
                Problem::broken(
                    Some(*side),
                    Some(group_id),
                    format!(
                        "{side} task group {group_id} does not allow {}",
                        describe_permissions(permissions, "to")
                    ),
                )
                .fix(format!(
                    "allow outbound {} on {group_id} in account {} (`peerwire apply {pcx}` adds \
                     it); in awsvpc mode the task's group decides, not the host's",
                    describe_permissions(permissions, "to"),
                    facts.account(*side)
                )),
            ),
            _ => {}
        }
    }
    for finding in &facts.inspection.plan.findings {
        if let Finding::NothingSelected { side, what } = finding {
            if what == "security groups" {
                problems.push(
                    Problem::warning(
                        Some(*side),
                        None,
                        format!(
                            "the policy selects {side} security groups, but none matched: \
                             nothing to check on that side"
                        ),
                    )
                    .fix(format!(
                        "check wiring.{side}.security_group_ids / security_group_tags (and the \
                         DB instances) in the policy"
                    )),
                );
            }
        }
    }
    let mut ok = Vec::new();
    for side in SIDES {
        let Some(local) = facts.local(side) else {
            ok.push(facts.unread(side));
            continue;
        };
        if local.security_groups.is_empty() {
            continue;
        }
        let ids: Vec<&str> = local
            .security_groups
            .iter()
            .map(|g| g.id.as_str())
            .collect();
        let one = ids.len() == 1;
        let (verb, preposition) = match side {
            Side::Accepter => (if one { "admits" } else { "admit" }, "from the requester"),
            Side::Requester => (if one { "allows" } else { "allow" }, "to the accepter"),
        };
        ok.push(format!(
            "{side} {} {verb} {} {preposition}",
            ids.join(", "),
            ports_text(facts.ports())
        ));
    }
    if ok.is_empty() {
        ok.push("no security group selected on either side".to_owned());
    }
    Layer::checked(LayerId::SecurityGroups, problems, ok.join("; "))
}

// ---------------------------------------------------------------- 5. network ACLs

/// One direction of traffic a side's ACLs must let through.
struct NaclNeed {
    direction: Direction,
    ports: PortRange,
    /// Return traffic, which only a stateless ACL needs a rule for.
    reply: bool,
}

/// Requester subnets send to the DB port and receive replies on ephemeral ports; accepter
/// subnets receive on the DB port and reply to ephemeral ports.
fn nacl_needs(side: Side, ports: &[u16]) -> Vec<NaclNeed> {
    let (request, reply) = match side {
        Side::Requester => (Direction::Outbound, Direction::Inbound),
        Side::Accepter => (Direction::Inbound, Direction::Outbound),
    };
    let mut needs: Vec<NaclNeed> = ports
        .iter()
        .map(|&port| NaclNeed {
            direction: request,
            ports: PortRange::single(port),
            reply: false,
        })
        .collect();
    needs.push(NaclNeed {
        direction: reply,
        ports: EPHEMERAL_PORTS,
        reply: true,
    });
    needs
}

fn network_acls_layer(facts: &Facts<'_>, nacls: &SideNacls) -> Layer {
    if !facts.active() {
        return Layer::skipped(LayerId::NetworkAcls, facts.not_active("network ACLs are"));
    }
    if facts.ports().is_empty() {
        return Layer::skipped(
            LayerId::NetworkAcls,
            "the policy names no DB port (wiring.ports), so there is no traffic to check",
        );
    }
    let mut problems = Vec::new();
    let mut ok = Vec::new();
    for side in SIDES {
        let Some(local) = facts.local(side) else {
            ok.push(facts.unread(side));
            continue;
        };
        let Some(acls) = nacls.side(side) else {
            problems.push(
                Problem::warning(
                    Some(side),
                    Some(&local.network.vpc_id),
                    format!("the {side} network ACLs were not read"),
                )
                .fix("re-run the diagnosis"),
            );
            continue;
        };
        let account = facts.account(side);
        let mut by_acl: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for subnet in scoped_subnets(local, facts.scope(side)) {
            match nacl_of_subnet(acls, &subnet) {
                Some(acl) => by_acl.entry(acl.id.as_str()).or_default().push(subnet),
                None => problems.push(
                    Problem::warning(
                        Some(side),
                        Some(&subnet),
                        format!("{side} subnet {subnet} has no network ACL that peerwire can see"),
                    )
                    .fix("check the subnet's network ACL association"),
                ),
            }
        }
        let peers = facts.peer_cidrs(side);
        let needs = nacl_needs(side, facts.ports());
        let subnet_count: usize = by_acl.values().map(Vec::len).sum();
        for (acl_id, subnets) in &by_acl {
            let Some(acl) = acls.iter().find(|a| a.id == *acl_id) else {
                continue;
            };
            for need in &needs {
                for peer in &peers {
                    let verdict = evaluate_nacl(acl, need.direction, *peer, need.ports);
                    if let NaclVerdict::Denied {
                        rule_number,
                        peer: denied_peer,
                        ports: denied_ports,
                    } = verdict
                    {
                        problems.push(nacl_problem(
                            side,
                            account,
                            acl_id,
                            subnets,
                            need,
                            *peer,
                            (rule_number, denied_peer, denied_ports),
                        ));
                    }
                }
            }
        }
        let (out, back) = match side {
            Side::Requester => ("out to", "back from"),
            Side::Accepter => ("in from", "back to"),
        };
        ok.push(format!(
            "{side}: {} on {} allow {} {out} and tcp/{EPHEMERAL_PORTS} {back} {}",
            plural(subnet_count, "subnet", "subnets"),
            plural(by_acl.len(), "ACL", "ACLs"),
            ports_text(facts.ports()),
            join(&peers)
        ));
    }
    if facts.local(Side::Requester).is_none() && facts.local(Side::Accepter).is_none() {
        return Layer::skipped(LayerId::NetworkAcls, ok.join("; "));
    }
    Layer::checked(LayerId::NetworkAcls, problems, ok.join("; "))
}

fn nacl_problem(
    side: Side,
    account: &str,
    acl_id: &str,
    subnets: &[String],
    need: &NaclNeed,
    peer: IpNet,
    (rule_number, denied_peer, denied_ports): (Option<i32>, IpNet, PortRange),
) -> Problem {
    let direction = need.direction.name();
    let preposition = need.direction.preposition();
    let traffic = format!("{direction} tcp/{} {preposition} {peer}", need.ports);
    let reply = if need.reply {
        " (return traffic: network ACLs are stateless)"
    } else {
        ""
    };
    let part = if denied_peer != peer.trunc() || denied_ports != need.ports {
        format!(" (at least tcp/{denied_ports} {preposition} {denied_peer})")
    } else {
        String::new()
    };
    let (why, fix) = match rule_number {
        Some(rule) => (
            format!("is denied by rule {rule}{part}"),
            format!(
                "allow {traffic} in {acl_id} (account {account}) with a rule numbered below \
                 {rule}, or remove rule {rule}"
            ),
        ),
        None => (
            format!("is allowed by no rule, so rule * denies it{part}"),
            format!("add a rule allowing {traffic} to {acl_id} (account {account})"),
        ),
    };
    Problem::broken(
        Some(side),
        Some(acl_id),
        format!(
            "{side} network ACL {acl_id} (subnets {}): {traffic}{reply} {why}",
            subnets.join(", ")
        ),
    )
    .fix(fix)
    .subnets(subnets.to_vec())
}

// ---------------------------------------------------------------- 6. DNS

fn attribute_flag(attribute: DnsAttribute) -> &'static str {
    match attribute {
        DnsAttribute::EnableDnsSupport => "--enable-dns-support",
        DnsAttribute::EnableDnsHostnames => "--enable-dns-hostnames",
    }
}

fn dns_option_problem(facts: &Facts<'_>, side: Side, status: Status) -> Problem {
    let pcx = facts.pcx();
    let effect = match side {
        Side::Accepter => {
            "the requester's tasks resolve the accepter's DNS names (the RDS endpoint) to public \
             IPs, and their traffic never enters the peering"
        }
        Side::Requester => "the accepter VPC resolves the requester's DNS names to public IPs",
    };
    let by_peerwire = if status == Status::Broken {
        format!(" (`peerwire apply {pcx}` does it)")
    } else {
        String::new()
    };
    Problem::new(
        status,
        Some(side),
        Some(pcx),
        format!("{side} has not allowed DNS resolution from the remote VPC on {pcx}: {effect}"),
    )
    .fix(format!(
        "aws ec2 modify-vpc-peering-connection-options --vpc-peering-connection-id {pcx} \
         --{side}-peering-connection-options AllowDnsResolutionFromRemoteVpc=true, run in \
         account {}{by_peerwire}",
        facts.account(side)
    ))
}

fn dns_attribute_problem(
    facts: &Facts<'_>,
    side: Side,
    vpc_id: &str,
    attribute: DnsAttribute,
    peerwire_fixes: bool,
) -> Problem {
    let how = if peerwire_fixes {
        format!("`peerwire apply {}` does it", facts.pcx())
    } else {
        "or set wiring.fix_vpc_dns_attributes: true and let peerwire do it".to_owned()
    };
    Problem::broken(
        Some(side),
        Some(vpc_id),
        format!(
            "{side} VPC {vpc_id} has {} off: names do not resolve to private IPs across the \
             peering",
            attribute.aws_name()
        ),
    )
    .fix(format!(
        "aws ec2 modify-vpc-attribute --vpc-id {vpc_id} {} '{{\"Value\":true}}' in account {} \
         ({how})",
        attribute_flag(attribute),
        facts.account(side)
    ))
}

fn dns_layer(facts: &Facts<'_>) -> Layer {
    if !facts.active() {
        return Layer::skipped(
            LayerId::Dns,
            facts.not_active("DNS options exist only on an active peering and are"),
        );
    }
    let mut problems = Vec::new();
    // VPC attributes first: the peering option has no effect while either is off.
    for step in &facts.inspection.plan.steps {
        if let PlanStep::EnableVpcDnsAttribute {
            side,
            vpc_id,
            attribute,
        } = step
        {
            problems.push(dns_attribute_problem(
                facts, *side, vpc_id, *attribute, true,
            ));
        }
    }
    for finding in &facts.inspection.plan.findings {
        if let Finding::DnsAttributeOff {
            side,
            vpc_id,
            attribute,
        } = finding
        {
            problems.push(dns_attribute_problem(
                facts, *side, vpc_id, *attribute, false,
            ));
        }
    }
    for side in SIDES {
        let planned =
            facts.inspection.plan.steps.iter().any(
                |step| matches!(step, PlanStep::SetDnsResolution { side: s, .. } if *s == side),
            );
        if planned {
            problems.push(dns_option_problem(facts, side, Status::Broken));
        } else if !facts.view(side).allow_dns_resolution_from_remote_vpc {
            // Not managed by peerwire: worth knowing, not peerwire's to fix.
            problems.push(dns_option_problem(facts, side, Status::Warning));
        }
    }
    let mut ok = vec![format!(
        "both sides allow DNS resolution from the remote VPC on {}",
        facts.pcx()
    )];
    for side in SIDES {
        match facts.local(side) {
            Some(local) => ok.push(format!(
                "{side} {} has enableDnsSupport and enableDnsHostnames on",
                local.network.vpc_id
            )),
            None => ok.push(facts.unread(side)),
        }
    }
    Layer::checked(LayerId::Dns, problems, ok.join("; "))
}

// ---------------------------------------------------------------- 7. RDS

fn rds_layer(facts: &Facts<'_>) -> Layer {
    let named: Vec<(Side, &String)> = SIDES
        .iter()
        .flat_map(|&side| {
            facts
                .scope(side)
                .db_instances
                .iter()
                .map(move |db| (side, db))
        })
        .collect();
    if named.is_empty() {
        return Layer::skipped(
            LayerId::Rds,
            "the policy names no DB instance (wiring.*.db_instances)",
        );
    }
    if !facts.active() {
        return Layer::skipped(LayerId::Rds, facts.not_active("DB subnets are"));
    }
    let pcx = facts.pcx();
    let mut problems = Vec::new();
    let mut ok = Vec::new();
    for (side, name) in named {
        let Some(local) = facts.local(side) else {
            ok.push(facts.unread(side));
            continue;
        };
        let account = facts.account(side);
        let region = &facts.view(side).region;
        let Some(db) = local.db_instances.iter().find(|db| &db.id == name) else {
            problems.push(
                Problem::broken(
                    Some(side),
                    Some(name),
                    format!(
                        "DB instance {name} is not in {side} VPC {} (account {account}, \
                         {region})",
                        local.network.vpc_id
                    ),
                )
                .fix(format!(
                    "check the identifier in wiring.{side}.db_instances, and that the instance's \
                     DB subnet group is in {}",
                    local.network.vpc_id
                )),
            );
            continue;
        };
        let mut db_problems = Vec::new();
        for subnet_id in &db.subnet_ids {
            let zone = local
                .subnets
                .iter()
                .find(|s| &s.id == subnet_id)
                .map(|s| s.availability_zone.clone())
                .unwrap_or_default();
            let Some(table) = route_table_of(local, subnet_id) else {
                db_problems.push(
                    Problem::broken(
                        Some(side),
                        Some(name),
                        format!("{name}: subnet {subnet_id} has no route table"),
                    )
                    .fix(format!("associate {subnet_id} with a route table"))
                    .subnets(vec![subnet_id.clone()]),
                );
                continue;
            };
            let Some(gaps) = facts.route_gaps.get(&(side, table.id.clone())) else {
                continue;
            };
            let destinations: Vec<IpNet> = gaps.iter().map(|g| g.destination).collect();
            let primary = db.availability_zone.as_deref() == Some(zone.as_str());
            let impact = if primary {
                format!("the primary runs in {zone}: the tasks cannot reach it now")
            } else {
                format!("a Multi-AZ failover to {zone} cuts the tasks off")
            };
            db_problems.push(
                Problem::broken(
                    Some(side),
                    Some(name),
                    format!(
                        "{name}: DB subnet {subnet_id} ({zone}) uses route table {}, which does \
                         not route {} through {pcx}: {impact}",
                        table.id,
                        join(&destinations)
                    ),
                )
                .fix(format!(
                    "route {} -> {pcx} in {} (account {account}); `peerwire apply {pcx}` does \
                     it",
                    join(&destinations),
                    table.id
                ))
                .subnets(vec![subnet_id.clone()]),
            );
        }
        if let Some(port) = db.port.and_then(|p| u16::try_from(p).ok()) {
            if !facts.ports().is_empty() && !facts.ports().contains(&port) {
                db_problems.push(
                    Problem::warning(
                        Some(side),
                        Some(name),
                        format!(
                            "{name} listens on tcp/{port}, but the policy opens {}",
                            ports_text(facts.ports())
                        ),
                    )
                    .fix(format!("add {port} to wiring.ports in the policy")),
                );
            }
        }
        if db_problems.is_empty() {
            let primary = db
                .availability_zone
                .as_deref()
                .map(|az| format!(" (primary in {az})"))
                .unwrap_or_default();
            ok.push(format!(
                "{name}{primary}: all {} of its DB subnet group route {} through {pcx}",
                plural(db.subnet_ids.len(), "subnet", "subnets"),
                join(&facts.peer_cidrs(side))
            ));
        }
        problems.extend(db_problems);
    }
    Layer::checked(LayerId::Rds, problems, ok.join("; "))
}

// ------------------------------------------------------------------------------ AWS

/// Where to look for a peering: `(account, region)` pairs, tried in order. With `account`, that
/// account in `region`, else in the policy's regions for it, else in `default_region`; without,
/// every accepter account of the policy in its regions (only `region` when given).
pub fn locate_candidates(
    policy: &Policy,
    account: Option<&str>,
    region: Option<&str>,
    default_region: Option<&str>,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |a: &str, r: &str| {
        let pair = (a.to_owned(), r.to_owned());
        if !out.contains(&pair) {
            out.push(pair);
        }
    };
    match (account, region) {
        (Some(account), Some(region)) => push(account, region),
        (Some(account), None) => {
            let regions: Vec<&str> = policy
                .accepters
                .iter()
                .filter(|s| s.account == account)
                .flat_map(|s| s.regions.iter().map(String::as_str))
                .chain(default_region)
                .collect();
            for region in regions {
                push(account, region);
            }
        }
        (None, region) => {
            for scope in &policy.accepters {
                let regions = scope
                    .regions
                    .iter()
                    .map(String::as_str)
                    .filter(|r| region.is_none_or(|wanted| wanted == *r));
                for r in regions {
                    push(&scope.account, r);
                }
            }
            if let Some(region) = region {
                for scope in &policy.accepters {
                    push(&scope.account, region);
                }
            }
        }
    }
    out
}

/// Reads `peering_id` from the first of `candidates` that sees it (`DescribeVpcPeeringConnections`
/// through that account's member role). `None` when none does.
pub async fn locate(
    app: &App,
    peering_id: &str,
    candidates: &[(String, String)],
) -> Result<Option<Peering>> {
    for (account, region) in candidates {
        let ec2 = app.aws.ec2(account, region).await;
        if let Some(peering) = observe::describe_peering(&ec2, peering_id).await? {
            return Ok(Some(peering));
        }
    }
    Ok(None)
}

/// Observes what the policy's wiring scope covers on both sides, exactly as the wiring door
/// does ([`observe_wiring`]), and plans. Only an active peering is observed; for any other, the
/// accepter VPC alone is read (with the accepter's role) for the overlap check. Reads only.
pub async fn inspect(app: &App, policy: &Policy, peering: Peering) -> Result<Inspection> {
    let view = policy_view(policy, &peering);
    if peering.status == PeeringStatus::Active {
        let state = observe_wiring(app, &peering, &view.wiring).await?;
        return Ok(Inspection::new(peering, policy, Some(state), None));
    }
    let accepter_network = if view.wiring.accepter.manage {
        let accepter = &peering.accepter;
        let ec2 = app.aws.ec2(&accepter.account, &accepter.region).await;
        match observe::describe_vpc_network(&ec2, &accepter.account, &accepter.vpc_id).await {
            Ok(network) => Some(network),
            // A deleted peering may outlive its VPC: nothing to compare then.
            Err(Error::Aws(err)) if err.kind == AwsErrorKind::NotFound => None,
            Err(err) => return Err(err),
        }
    } else {
        None
    };
    Ok(Inspection::new(peering, policy, None, accepter_network))
}

/// The network ACLs of every observed side: one `DescribeNetworkAcls` per side.
pub async fn observe_nacls(app: &App, inspection: &Inspection) -> Result<SideNacls> {
    let mut nacls = SideNacls::default();
    let Some(state) = &inspection.state else {
        return Ok(nacls);
    };
    for side in SIDES {
        let (observed, view) = match side {
            Side::Requester => (&state.requester, &inspection.peering.requester),
            Side::Accepter => (&state.accepter, &inspection.peering.accepter),
        };
        let Some(observed) = observed else {
            continue;
        };
        let ec2 = app.aws.ec2(&view.account, &view.region).await;
        let acls = nacl::describe_network_acls(&ec2, &observed.network.vpc_id).await?;
        match side {
            Side::Requester => nacls.requester = Some(acls),
            Side::Accepter => nacls.accepter = Some(acls),
        }
    }
    Ok(nacls)
}

/// Inspects `peering`, reads both sides' network ACLs and diagnoses. Reads only.
pub async fn diagnose_peering(app: &App, policy: &Policy, peering: Peering) -> Result<Diagnosis> {
    let inspection = inspect(app, policy, peering).await?;
    let nacls = observe_nacls(app, &inspection).await?;
    Ok(diagnose(&inspection, &nacls))
}

// ------------------------------------------------------------------------------ tests

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::{DbInstance, Route, RouteTable, RulePeer, SecurityGroup, SgRule, Subnet};

    const PCX: &str = "pcx-0aaa1111bbbb2222c";
    const REQUESTER: &str = "111111111111";
    const ACCEPTER: &str = "222222222222";
    const REQ_CIDR: &str = "10.0.0.0/16";
    const ACC_CIDR: &str = "10.1.0.0/16";

    /// ECS tasks (tag role=ecs-tasks) to PostgreSQL on `payments-db`, as in the field guides.
    const POLICY: &str = r#"
version: 1
accepters:
  - account: "222222222222"
    regions: [us-east-1]
rules:
  - name: payments-ecs-to-rds
    requester_accounts: ["111111111111"]
    allowed_cidrs: ["10.0.0.0/8"]
    regions: [us-east-1]
    wiring:
      ports: [5432]
      requester:
        security_group_tags: { role: ecs-tasks }
      accepter:
        db_instances: [payments-db]
"#;

    fn net(s: &str) -> IpNet {
        crate::cidr::parse_cidr(s).unwrap_or_else(|e| panic!("test CIDR {s}: {e}"))
    }

    fn policy() -> Policy {
        Policy::parse(POLICY).unwrap()
    }

    fn peering_side(account: &str, vpc: &str, cidr: &str) -> PeeringSide {
        PeeringSide {
            account: account.to_owned(),
            vpc_id: vpc.to_owned(),
            region: "us-east-1".to_owned(),
            cidrs: vec![net(cidr)],
            allow_dns_resolution_from_remote_vpc: true,
        }
    }

    fn peering(status: PeeringStatus) -> Peering {
        Peering {
            id: PCX.to_owned(),
            status,
            status_message: None,
            requester: peering_side(REQUESTER, "vpc-req", REQ_CIDR),
            accepter: peering_side(ACCEPTER, "vpc-acc", ACC_CIDR),
            tags: BTreeMap::new(),
        }
    }

    fn route(destination: &str, target: RouteTarget) -> Route {
        Route {
            destination: net(destination),
            target,
            blackhole: false,
        }
    }

    fn to_pcx(destination: &str) -> Route {
        route(destination, RouteTarget::Peering(PCX.to_owned()))
    }

    fn table(id: &str, main: bool, subnets: &[&str], routes: Vec<Route>) -> RouteTable {
        RouteTable {
            id: id.to_owned(),
            main,
            subnet_ids: subnets.iter().map(|s| (*s).to_owned()).collect(),
            routes,
        }
    }

    fn subnet(id: &str, az: &str) -> Subnet {
        Subnet {
            id: id.to_owned(),
            availability_zone: az.to_owned(),
            cidr: None,
            tags: BTreeMap::new(),
        }
    }

    fn tcp(port: i32, cidr: &str) -> SgRule {
        SgRule {
            protocol: "tcp".to_owned(),
            from_port: Some(port),
            to_port: Some(port),
            peer: RulePeer::Cidr { cidr: net(cidr) },
            description: Some(format!("peerwire:{PCX}")),
        }
    }

    fn all_traffic() -> SgRule {
        SgRule {
            protocol: "-1".to_owned(),
            from_port: None,
            to_port: None,
            peer: RulePeer::Cidr {
                cidr: net("0.0.0.0/0"),
            },
            description: None,
        }
    }

    fn group(id: &str, ingress: Vec<SgRule>, egress: Vec<SgRule>) -> SecurityGroup {
        SecurityGroup {
            id: id.to_owned(),
            name: id.to_owned(),
            tags: BTreeMap::new(),
            ingress,
            egress,
        }
    }

    /// Three subnets in a, b, c; a and b on their own tables, c on the main one; every table
    /// routes the peer through the peering.
    fn side(account: &str, vpc: &str, cidr: &str, peer: &str, prefix: &str) -> SideState {
        let s = |n: &str| format!("subnet-{prefix}{n}");
        let t = |n: &str| format!("rtb-{prefix}{n}");
        let local = route(cidr, RouteTarget::Local);
        SideState {
            network: VpcNetwork {
                account: account.to_owned(),
                vpc_id: vpc.to_owned(),
                cidrs: vec![net(cidr)],
                route_tables: vec![
                    table(
                        &t("a"),
                        false,
                        &[&s("a")],
                        vec![local.clone(), to_pcx(peer)],
                    ),
                    table(
                        &t("b"),
                        false,
                        &[&s("b")],
                        vec![local.clone(), to_pcx(peer)],
                    ),
                    table(&t("main"), true, &[], vec![local, to_pcx(peer)]),
                ],
            },
            subnets: vec![
                subnet(&s("a"), "us-east-1a"),
                subnet(&s("b"), "us-east-1b"),
                subnet(&s("c"), "us-east-1c"),
            ],
            security_groups: Vec::new(),
            dns_support: true,
            dns_hostnames: true,
            db_instances: Vec::new(),
        }
    }

    /// A peering wired end to end: routes everywhere, the DB group admits 5432 from the tasks,
    /// the task group allows all egress, DNS on, `payments-db` in subnets a, b, c.
    fn wired() -> WiringState {
        let mut requester = side(REQUESTER, "vpc-req", REQ_CIDR, ACC_CIDR, "r");
        requester.security_groups = vec![group("sg-tasks", vec![], vec![all_traffic()])];
        let mut accepter = side(ACCEPTER, "vpc-acc", ACC_CIDR, REQ_CIDR, "a");
        accepter.security_groups = vec![group("sg-db", vec![tcp(5432, REQ_CIDR)], vec![])];
        accepter.db_instances = vec![DbInstance {
            id: "payments-db".to_owned(),
            port: Some(5432),
            availability_zone: Some("us-east-1a".to_owned()),
            subnet_ids: vec!["subnet-aa".into(), "subnet-ab".into(), "subnet-ac".into()],
            security_group_ids: vec!["sg-db".to_owned()],
        }];
        WiringState {
            peering: peering(PeeringStatus::Active),
            requester: Some(requester),
            accepter: Some(accepter),
        }
    }

    fn entry(
        rule: i32,
        egress: bool,
        protocol: NaclProtocol,
        ports: Option<(u16, u16)>,
        cidr: &str,
        action: NaclAction,
    ) -> NaclEntry {
        NaclEntry {
            rule_number: rule,
            egress,
            protocol,
            ports: ports.map(|(from, to)| PortRange::new(from, to)),
            cidr: net(cidr),
            action,
        }
    }

    /// A VPC's default ACL: rule 100 allows everything both ways, rule * denies.
    fn default_acl(id: &str) -> NetworkAcl {
        use NaclAction::*;
        use NaclProtocol::All;
        NetworkAcl {
            id: id.to_owned(),
            default: true,
            subnet_ids: Vec::new(),
            entries: vec![
                entry(100, false, All, None, "0.0.0.0/0", Allow),
                entry(CATCH_ALL_RULE, false, All, None, "0.0.0.0/0", Deny),
                entry(100, true, All, None, "0.0.0.0/0", Allow),
                entry(CATCH_ALL_RULE, true, All, None, "0.0.0.0/0", Deny),
            ],
        }
    }

    fn default_nacls() -> SideNacls {
        SideNacls {
            requester: Some(vec![default_acl("acl-req")]),
            accepter: Some(vec![default_acl("acl-acc")]),
        }
    }

    fn run(state: WiringState) -> Diagnosis {
        run_with(state, default_nacls())
    }

    fn run_with(state: WiringState, nacls: SideNacls) -> Diagnosis {
        let inspection = Inspection::new(state.peering.clone(), &policy(), Some(state), None);
        diagnose(&inspection, &nacls)
    }

    fn layer(d: &Diagnosis, id: LayerId) -> &Layer {
        d.layer(id).unwrap_or_else(|| panic!("layer {id} missing"))
    }

    fn accepter(state: &mut WiringState) -> &mut SideState {
        state.accepter.as_mut().unwrap()
    }

    fn requester(state: &mut WiringState) -> &mut SideState {
        state.requester.as_mut().unwrap()
    }

    fn assert_only_broken(d: &Diagnosis, expected: &[LayerId]) {
        assert_eq!(d.broken(), expected, "{:#?}", d.layers);
        assert!(!d.healthy);
    }

    // ------------------------------------------------------------ NACL evaluation

    fn acl(entries: Vec<NaclEntry>) -> NetworkAcl {
        NetworkAcl {
            id: "acl-1".to_owned(),
            default: false,
            subnet_ids: Vec::new(),
            entries,
        }
    }

    use NaclAction::{Allow, Deny};
    use NaclProtocol::{All, Tcp};

    #[test]
    fn the_default_acl_allows_everything_both_ways() {
        let acl = default_acl("acl-1");
        for direction in [Direction::Inbound, Direction::Outbound] {
            assert_eq!(
                evaluate_nacl(&acl, direction, net(REQ_CIDR), PortRange::single(5432)),
                NaclVerdict::Allowed
            );
            assert_eq!(
                evaluate_nacl(&acl, direction, net(REQ_CIDR), EPHEMERAL_PORTS),
                NaclVerdict::Allowed
            );
        }
    }

    #[test]
    fn traffic_no_rule_allows_is_denied_by_rule_star() {
        let acl = acl(vec![entry(
            100,
            false,
            Tcp,
            Some((5432, 5432)),
            REQ_CIDR,
            Allow,
        )]);
        assert_eq!(
            evaluate_nacl(
                &acl,
                Direction::Inbound,
                net(REQ_CIDR),
                PortRange::single(5432)
            ),
            NaclVerdict::Allowed
        );
        // The DB's replies leave on ephemeral ports: nothing allows them.
        assert_eq!(
            evaluate_nacl(&acl, Direction::Outbound, net(REQ_CIDR), EPHEMERAL_PORTS),
            NaclVerdict::Denied {
                rule_number: None,
                peer: net(REQ_CIDR),
                ports: EPHEMERAL_PORTS
            }
        );
    }

    #[test]
    fn a_lower_numbered_deny_wins_over_a_later_allow() {
        let acl = acl(vec![
            entry(100, false, All, None, "0.0.0.0/0", Allow),
            entry(50, false, Tcp, Some((5432, 5432)), REQ_CIDR, Deny),
        ]);
        assert_eq!(
            evaluate_nacl(
                &acl,
                Direction::Inbound,
                net(REQ_CIDR),
                PortRange::single(5432)
            ),
            NaclVerdict::Denied {
                rule_number: Some(50),
                peer: net(REQ_CIDR),
                ports: PortRange::single(5432)
            }
        );
    }

    #[test]
    fn first_match_wins_a_deny_after_a_matching_allow_never_applies() {
        let acl = acl(vec![
            entry(100, false, Tcp, Some((5432, 5432)), REQ_CIDR, Allow),
            entry(200, false, All, None, "0.0.0.0/0", Deny),
        ]);
        assert_eq!(
            evaluate_nacl(
                &acl,
                Direction::Inbound,
                net(REQ_CIDR),
                PortRange::single(5432)
            ),
            NaclVerdict::Allowed
        );
    }

    #[test]
    fn an_allow_for_part_of_the_peer_leaves_the_rest_to_the_next_rules() {
        // Only 10.0.1.0/24 (one task subnet) is allowed; the rest of 10.0.0.0/16 falls to *.
        let acl = acl(vec![entry(
            100,
            false,
            Tcp,
            Some((5432, 5432)),
            "10.0.1.0/24",
            Allow,
        )]);
        let verdict = evaluate_nacl(
            &acl,
            Direction::Inbound,
            net(REQ_CIDR),
            PortRange::single(5432),
        );
        let NaclVerdict::Denied {
            rule_number, peer, ..
        } = verdict
        else {
            panic!("{verdict:?}")
        };
        assert_eq!(rule_number, None);
        assert!(net(REQ_CIDR).contains(&peer) && !peer.contains(&net("10.0.1.0/24")));

        // A deny for one /24 behind a broad allow changes nothing: the allow matched first.
        let acl = acl_with_deny_after_allow();
        assert_eq!(
            evaluate_nacl(
                &acl,
                Direction::Inbound,
                net(REQ_CIDR),
                PortRange::single(5432)
            ),
            NaclVerdict::Allowed
        );
    }

    fn acl_with_deny_after_allow() -> NetworkAcl {
        acl(vec![
            entry(100, false, Tcp, Some((5432, 5432)), "10.0.0.0/8", Allow),
            entry(110, false, Tcp, Some((5432, 5432)), "10.0.5.0/24", Deny),
        ])
    }

    #[test]
    fn a_deny_for_one_task_subnet_before_the_allow_breaks_that_subnet_only() {
        let acl = acl(vec![
            entry(90, false, Tcp, Some((5432, 5432)), "10.0.5.0/24", Deny),
            entry(100, false, Tcp, Some((5432, 5432)), "10.0.0.0/8", Allow),
        ]);
        assert_eq!(
            evaluate_nacl(
                &acl,
                Direction::Inbound,
                net(REQ_CIDR),
                PortRange::single(5432)
            ),
            NaclVerdict::Denied {
                rule_number: Some(90),
                peer: net("10.0.5.0/24"),
                ports: PortRange::single(5432)
            }
        );
    }

    #[test]
    fn ephemeral_ports_split_over_two_allows_are_all_allowed() {
        let acl = acl(vec![
            entry(100, true, Tcp, Some((1024, 32767)), REQ_CIDR, Allow),
            entry(110, true, Tcp, Some((32768, 65535)), "10.0.0.0/8", Allow),
        ]);
        assert_eq!(
            evaluate_nacl(&acl, Direction::Outbound, net(REQ_CIDR), EPHEMERAL_PORTS),
            NaclVerdict::Allowed
        );
        // Linux's range only (32768-60999) leaves 1024-32767 to rule *.
        let acl = acl_linux_only();
        assert_eq!(
            evaluate_nacl(&acl, Direction::Outbound, net(REQ_CIDR), EPHEMERAL_PORTS),
            NaclVerdict::Denied {
                rule_number: None,
                peer: net(REQ_CIDR),
                ports: PortRange::new(1024, 32767)
            }
        );
    }

    fn acl_linux_only() -> NetworkAcl {
        acl(vec![entry(
            100,
            true,
            Tcp,
            Some((32768, 60999)),
            REQ_CIDR,
            Allow,
        )])
    }

    #[test]
    fn udp_and_the_other_direction_never_count_for_tcp_traffic() {
        let acl = acl(vec![
            entry(
                100,
                false,
                NaclProtocol::Other("17".to_owned()),
                Some((5432, 5432)),
                REQ_CIDR,
                Allow,
            ),
            entry(110, true, Tcp, Some((5432, 5432)), REQ_CIDR, Allow),
        ]);
        assert!(matches!(
            evaluate_nacl(
                &acl,
                Direction::Inbound,
                net(REQ_CIDR),
                PortRange::single(5432)
            ),
            NaclVerdict::Denied {
                rule_number: None,
                ..
            }
        ));
    }

    #[test]
    fn the_explicit_catch_all_entry_reads_as_rule_star() {
        let acl = acl(vec![entry(
            CATCH_ALL_RULE,
            false,
            All,
            None,
            "0.0.0.0/0",
            Deny,
        )]);
        assert!(matches!(
            evaluate_nacl(
                &acl,
                Direction::Inbound,
                net(REQ_CIDR),
                PortRange::single(5432)
            ),
            NaclVerdict::Denied {
                rule_number: None,
                ..
            }
        ));
    }

    #[test]
    fn a_subnet_without_its_own_acl_uses_the_default_acl() {
        let mut custom = acl(vec![]);
        custom.subnet_ids = vec!["subnet-1".to_owned()];
        let acls = vec![custom, default_acl("acl-default")];
        assert_eq!(
            nacl_of_subnet(&acls, "subnet-1").map(|a| a.id.as_str()),
            Some("acl-1")
        );
        assert_eq!(
            nacl_of_subnet(&acls, "subnet-2").map(|a| a.id.as_str()),
            Some("acl-default")
        );
    }

    #[test]
    fn without_net_leaves_the_complement() {
        let rest = without_net(net("10.0.0.0/16"), net("10.0.1.0/24"));
        let covered: u64 = rest
            .iter()
            .map(|n| 1u64 << (32 - n.prefix_len()))
            .sum::<u64>()
            + 256;
        assert_eq!(covered, 1 << 16);
        assert!(rest.iter().all(|n| !n.contains(&net("10.0.1.0/24"))));
    }

    // ------------------------------------------------------------ the troubleshooting table

    #[test]
    fn a_wired_peering_diagnoses_clean() {
        let d = run(wired());
        for l in &d.layers {
            assert_eq!(l.status, Status::Ok, "{l:#?}");
            assert!(l.problems.is_empty());
            assert!(l.fix.is_none());
        }
        assert!(d.healthy);
        assert_eq!(
            d.layers.iter().map(|l| l.layer).collect::<Vec<_>>(),
            LayerId::ALL
        );
        assert_eq!(d.rule.as_deref(), Some("payments-ecs-to-rds"));
        assert!(
            layer(&d, LayerId::Rds).finding.contains("all 3 subnets"),
            "{:?}",
            layer(&d, LayerId::Rds)
        );
    }

    #[test]
    fn peering_shows_pending_not_accepted_yet_accept_in_account_b() {
        let p = peering(PeeringStatus::PendingAcceptance);
        let inspection = Inspection::new(p, &policy(), None, None);
        let d = diagnose(&inspection, &SideNacls::default());

        let status = layer(&d, LayerId::PeeringStatus);
        assert_eq!(status.status, Status::Broken);
        assert!(status
            .finding
            .contains("pending acceptance by account 222222222222"));
        assert!(status
            .fix
            .as_deref()
            .unwrap_or("")
            .contains("payments-ecs-to-rds"));
        assert_eq!(layer(&d, LayerId::CidrOverlap).status, Status::Ok);
        for id in [
            LayerId::Routes,
            LayerId::SecurityGroups,
            LayerId::NetworkAcls,
            LayerId::Dns,
            LayerId::Rds,
        ] {
            let l = layer(&d, id);
            assert_eq!(l.status, Status::Skipped, "{l:?}");
            assert!(l.finding.contains("pending-acceptance"), "{l:?}");
        }
        assert_only_broken(&d, &[LayerId::PeeringStatus]);
    }

    #[test]
    fn peering_shows_failed_overlapping_cidrs_re_address_or_use_privatelink() {
        let mut p = peering(PeeringStatus::Failed);
        p.status_message = Some("Overlapping CIDR range".to_owned());
        p.requester.cidrs = vec![net(ACC_CIDR)];
        let network = VpcNetwork {
            account: ACCEPTER.to_owned(),
            vpc_id: "vpc-acc".to_owned(),
            cidrs: vec![net(ACC_CIDR)],
            route_tables: Vec::new(),
        };
        let inspection = Inspection::new(p, &policy(), None, Some(network));
        let d = diagnose(&inspection, &SideNacls::default());

        let status = layer(&d, LayerId::PeeringStatus);
        assert!(
            status.finding.contains("failed (Overlapping CIDR range)"),
            "{status:?}"
        );
        assert!(status.fix.as_deref().unwrap_or("").contains("PrivateLink"));
        let overlap = layer(&d, LayerId::CidrOverlap);
        assert_eq!(overlap.status, Status::Broken);
        assert!(
            overlap.finding.contains("overlaps accepter VPC vpc-acc"),
            "{overlap:?}"
        );
        assert_only_broken(&d, &[LayerId::PeeringStatus, LayerId::CidrOverlap]);
    }

    #[test]
    fn rejected_and_expired_peerings_are_named_with_their_cause() {
        for (status, words) in [
            (PeeringStatus::Rejected, "was rejected"),
            (PeeringStatus::Expired, "within 7 days"),
            (PeeringStatus::Deleted, "is deleted"),
        ] {
            let inspection = Inspection::new(peering(status), &policy(), None, None);
            let d = diagnose(&inspection, &SideNacls::default());
            let l = layer(&d, LayerId::PeeringStatus);
            assert_eq!(l.status, Status::Broken);
            assert!(l.finding.contains(words), "{l:?}");
        }
    }

    #[test]
    fn connection_times_out_missing_route_names_the_table_and_its_subnets() {
        let mut s = wired();
        requester(&mut s).network.route_tables[1].routes.pop();

        let d = run(s);

        let routes = layer(&d, LayerId::Routes);
        assert_eq!(routes.status, Status::Broken);
        assert_eq!(routes.problems.len(), 1);
        let p = &routes.problems[0];
        assert_eq!(p.side, Some(Side::Requester));
        assert_eq!(p.resource.as_deref(), Some("rtb-rb"));
        assert_eq!(p.subnets, ["subnet-rb"]);
        assert!(
            p.finding.contains("has no route to 10.1.0.0/16 through"),
            "{p:?}"
        );
        assert!(p.fix.contains("peerwire apply"));
        // A requester table: the DB subnets are fine.
        assert_only_broken(&d, &[LayerId::Routes]);
    }

    #[test]
    fn intermittent_failures_one_db_subnet_unrouted_breaks_failover() {
        let mut s = wired();
        accepter(&mut s).network.route_tables[1].routes.pop();

        let d = run(s);

        assert_only_broken(&d, &[LayerId::Routes, LayerId::Rds]);
        let rds = layer(&d, LayerId::Rds);
        assert_eq!(rds.problems[0].subnets, ["subnet-ab"]);
        assert!(
            rds.finding
                .contains("payments-db: DB subnet subnet-ab (us-east-1b)"),
            "{rds:?}"
        );
        assert!(rds.finding.contains("failover to us-east-1b"), "{rds:?}");
    }

    #[test]
    fn the_primary_s_own_subnet_unrouted_means_unreachable_now() {
        let mut s = wired();
        accepter(&mut s).network.route_tables[0].routes.pop();
        let d = run(s);
        assert!(layer(&d, LayerId::Rds)
            .finding
            .contains("the tasks cannot reach it now"));
    }

    #[test]
    fn a_route_to_the_peer_through_a_transit_gateway_is_named_as_the_conflict() {
        let mut s = wired();
        accepter(&mut s).network.route_tables[2].routes[1] =
            route(REQ_CIDR, RouteTarget::TransitGateway("tgw-1".to_owned()));

        let d = run(s);

        let routes = layer(&d, LayerId::Routes);
        assert_eq!(routes.status, Status::Broken);
        assert!(routes.finding.contains("rtb-amain"), "{routes:?}");
        assert!(
            routes.finding.contains("sends 10.0.0.0/16 to tgw-1"),
            "{routes:?}"
        );
        assert!(
            routes.finding.contains("subnet-ac"),
            "the main table serves subnet c"
        );
        // The DB subnet c uses the main table too.
        assert_eq!(layer(&d, LayerId::Rds).status, Status::Broken);
    }

    #[test]
    fn a_narrower_route_elsewhere_takes_part_of_the_tasks_away() {
        let mut s = wired();
        accepter(&mut s).network.route_tables[0].routes.push(route(
            "10.0.5.0/24",
            RouteTarget::TransitGateway("tgw-1".to_owned()),
        ));
        let d = run(s);
        let overlap = layer(&d, LayerId::CidrOverlap);
        assert_eq!(overlap.status, Status::Broken, "{overlap:?}");
        assert!(overlap.finding.contains("10.0.5.0/24"));
    }

    #[test]
    fn connection_refused_db_group_without_the_ingress_rule() {
        let mut s = wired();
        accepter(&mut s).security_groups[0].ingress.clear();

        let d = run(s);

        assert_only_broken(&d, &[LayerId::SecurityGroups]);
        let sg = layer(&d, LayerId::SecurityGroups);
        assert_eq!(sg.problems[0].resource.as_deref(), Some("sg-db"));
        assert_eq!(sg.problems[0].side, Some(Side::Accepter));
        assert!(
            sg.finding
                .contains("does not admit tcp/5432 from 10.0.0.0/16"),
            "{sg:?}"
        );
    }

    #[test]
    fn a_locked_down_task_group_without_egress_to_the_db_port() {
        let mut s = wired();
        requester(&mut s).security_groups[0].egress = vec![tcp(443, "0.0.0.0/0")];

        let d = run(s);

        let sg = layer(&d, LayerId::SecurityGroups);
        assert_eq!(sg.status, Status::Broken);
        assert!(sg
            .finding
            .contains("task group sg-tasks does not allow tcp/5432 to 10.1.0.0/16"));
    }

    #[test]
    fn a_deny_on_the_db_subnets_acl_names_the_acl_the_rule_and_the_subnets() {
        let mut nacls = default_nacls();
        if let Some(acls) = nacls.accepter.as_mut() {
            acls[0]
                .entries
                .push(entry(50, false, Tcp, Some((5432, 5432)), REQ_CIDR, Deny));
        }

        let d = run_with(wired(), nacls);

        assert_only_broken(&d, &[LayerId::NetworkAcls]);
        let l = layer(&d, LayerId::NetworkAcls);
        assert_eq!(l.problems.len(), 1, "{l:#?}");
        let p = &l.problems[0];
        assert_eq!(p.resource.as_deref(), Some("acl-acc"));
        assert_eq!(p.subnets, ["subnet-aa", "subnet-ab", "subnet-ac"]);
        assert!(
            p.finding
                .contains("inbound tcp/5432 from 10.0.0.0/16 is denied by rule 50"),
            "{p:?}"
        );
        assert!(p.fix.contains("below 50"), "{p:?}");
    }

    #[test]
    fn a_stateless_acl_without_the_return_path_is_broken_on_the_ephemeral_ports() {
        let mut nacls = default_nacls();
        // The tasks' subnets allow 5432 out, but nothing comes back in.
        nacls.requester = Some(vec![NetworkAcl {
            id: "acl-tasks".to_owned(),
            default: true,
            subnet_ids: Vec::new(),
            entries: vec![entry(100, true, Tcp, Some((5432, 5432)), ACC_CIDR, Allow)],
        }]);

        let d = run_with(wired(), nacls);

        let l = layer(&d, LayerId::NetworkAcls);
        assert_eq!(l.status, Status::Broken);
        assert_eq!(l.problems.len(), 1, "{l:#?}");
        assert!(
            l.finding
                .contains("inbound tcp/1024-65535 from 10.1.0.0/16 (return traffic"),
            "{l:?}"
        );
        assert!(l.finding.contains("rule * denies it"), "{l:?}");
    }

    #[test]
    fn dns_resolves_to_a_public_ip_accepter_option_off() {
        let mut s = wired();
        s.peering.accepter.allow_dns_resolution_from_remote_vpc = false;

        let d = run(s);

        assert_only_broken(&d, &[LayerId::Dns]);
        let dns = layer(&d, LayerId::Dns);
        assert_eq!(dns.problems[0].side, Some(Side::Accepter));
        assert!(dns.finding.contains("RDS endpoint"), "{dns:?}");
        assert!(dns
            .fix
            .as_deref()
            .unwrap_or("")
            .contains("--accepter-peering-connection-options"));
    }

    #[test]
    fn a_vpc_with_dns_hostnames_off_is_broken_and_fixed_by_hand_unless_the_policy_allows() {
        let mut s = wired();
        accepter(&mut s).dns_hostnames = false;

        let d = run(s);

        let dns = layer(&d, LayerId::Dns);
        assert_eq!(dns.status, Status::Broken);
        assert!(
            dns.finding.contains("vpc-acc has enableDnsHostnames off"),
            "{dns:?}"
        );
        assert!(dns
            .fix
            .as_deref()
            .unwrap_or("")
            .contains("fix_vpc_dns_attributes"));
    }

    #[test]
    fn a_db_instance_the_policy_names_but_the_vpc_lacks_is_broken() {
        let mut s = wired();
        accepter(&mut s).db_instances.clear();
        let d = run(s);
        let rds = layer(&d, LayerId::Rds);
        assert_eq!(rds.status, Status::Broken);
        assert!(rds
            .finding
            .contains("DB instance payments-db is not in accepter VPC vpc-acc"));
    }

    #[test]
    fn a_db_listening_on_another_port_than_the_policy_opens_is_a_warning() {
        let mut s = wired();
        accepter(&mut s).db_instances[0].port = Some(3306);
        let d = run(s);
        let rds = layer(&d, LayerId::Rds);
        assert_eq!(rds.status, Status::Warning);
        assert!(d.healthy, "a warning is not broken");
    }

    #[test]
    fn a_peering_no_rule_matches_is_checked_in_the_default_scope_with_a_warning() {
        let mut s = wired();
        s.peering.requester.account = "333333333333".to_owned();
        let inspection = Inspection::new(s.peering.clone(), &policy(), Some(s), None);
        let d = diagnose(&inspection, &default_nacls());

        assert_eq!(d.rule, None);
        assert_eq!(layer(&d, LayerId::PeeringStatus).status, Status::Warning);
        assert_eq!(layer(&d, LayerId::Routes).status, Status::Ok);
        assert_eq!(layer(&d, LayerId::SecurityGroups).status, Status::Skipped);
        assert_eq!(layer(&d, LayerId::NetworkAcls).status, Status::Skipped);
        assert_eq!(layer(&d, LayerId::Rds).status, Status::Skipped);
        assert!(inspection
            .refusal()
            .unwrap_or_default()
            .contains("no policy rule"));
    }

    #[test]
    fn the_json_names_are_stable() {
        let d = run(wired());
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["schema_version"], 1);
        assert_eq!(json["layers"][4]["layer"], "network-acls");
        assert_eq!(json["layers"][0]["status"], "ok");
        assert_eq!(json["requester"]["cidrs"][0], REQ_CIDR);
    }

    #[test]
    fn candidates_are_the_policy_accepters_unless_an_account_is_given() {
        let p = policy();
        assert_eq!(
            locate_candidates(&p, None, None, Some("eu-west-1")),
            [(ACCEPTER.to_owned(), "us-east-1".to_owned())]
        );
        assert_eq!(
            locate_candidates(&p, Some(REQUESTER), None, Some("eu-west-1")),
            [(REQUESTER.to_owned(), "eu-west-1".to_owned())]
        );
        assert_eq!(
            locate_candidates(&p, Some(ACCEPTER), None, Some("us-east-1")),
            [(ACCEPTER.to_owned(), "us-east-1".to_owned())]
        );
        assert_eq!(
            locate_candidates(&p, None, Some("eu-west-1"), None),
            [(ACCEPTER.to_owned(), "eu-west-1".to_owned())]
        );
    }
}
