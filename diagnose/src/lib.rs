//! Diagnose a peering layer by layer, in the order an engineer walks the field guides'
//! troubleshooting table: peering status, CIDR overlap, routes, security groups, network ACLs,
//! DNS, RDS, and what the VPC flow logs saw. Each [`Layer`] is `ok`, `warning`, `broken` or
//! `skipped`, with a finding and a fix.
//!
//! The rooms, each with one job; imports point down only (`inspect` → [`diagnose`] →
//! `layers` → `facts` and `flow` → `inspection`):
//!
//! - this file: the output ([`Diagnosis`], [`Layer`], [`Problem`]) and [`diagnose`], which is
//!   pure: it reads what was observed and never calls AWS.
//! - `inspection`: what `diagnose` reads, as plain values: the peering, the policy's view of
//!   it, both sides as observed and the wiring plan; the ACLs; the flow-log messages.
//! - `inspect`: the read path, the only code here that calls AWS. The reconciler's own dry
//!   run (the same observe, the same refusal, the same plan as the functions), the network
//!   ACLs, and the flow logs.
//! - `facts`: what the layers share (the route gaps of the plan, scopes, peer CIDRs).
//! - `layers`: one file per layer. Routes, security groups and DNS reuse the wiring plan:
//!   whatever the wiring door would still change is what is missing, so `diagnose`, `plan`
//!   and `apply` can never disagree.
//! - `flow`: VPC flow-log records, parsed and counted; pure.
//!
//! No Lambda links this crate; the CLI does.

use std::fmt;

use ipnet::IpNet;
use serde::Serialize;

use peerwire::model::{AccountId, PeeringId, PeeringSide, Region, Side, VpcId};

mod facts;
mod flow;
mod inspect;
mod inspection;
mod layers;

pub use flow::{parse_window, FlowCount, FlowDirection, TrafficSummary};
pub use inspect::{
    diagnose_peering, diagnose_peering_with, inspect, observe_nacls, observe_traffic,
    DiagnoseOptions,
};
pub use inspection::{FlowLogInfo, Inspection, SideFlowLogs, SideNacls, Traffic, ZoneRecords};

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;

/// Version of the JSON document (`docs/schemas/diagnosis.schema.json`). Adding a field keeps
/// it; renaming or removing one, or changing a meaning, bumps it. Version 2: the eighth layer
/// (`traffic`) and the `traffic` summary; v1 documents always had exactly seven layers.
pub const SCHEMA_VERSION: u32 = 2;

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
    Traffic,
}

impl LayerId {
    /// Every layer, in order.
    pub const ALL: [Self; 8] = [
        Self::PeeringStatus,
        Self::CidrOverlap,
        Self::Routes,
        Self::SecurityGroups,
        Self::NetworkAcls,
        Self::Dns,
        Self::Rds,
        Self::Traffic,
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
            Self::Traffic => "traffic",
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
            Self::Traffic => "Traffic",
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
    /// Not checked, and the finding says why (an earlier layer is broken, the policy gives
    /// nothing to check, or there is no flow log to read).
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
    pub(crate) fn new<R: AsRef<str> + ?Sized>(
        status: Status,
        side: Option<Side>,
        resource: Option<&R>,
        finding: String,
    ) -> Self {
        Self {
            status,
            side,
            resource: resource.map(|r| r.as_ref().to_owned()),
            subnets: Vec::new(),
            finding,
            fix: String::new(),
        }
    }

    pub(crate) fn broken<R: AsRef<str> + ?Sized>(
        side: Option<Side>,
        resource: Option<&R>,
        finding: String,
    ) -> Self {
        Self::new(Status::Broken, side, resource, finding)
    }

    pub(crate) fn warning<R: AsRef<str> + ?Sized>(
        side: Option<Side>,
        resource: Option<&R>,
        finding: String,
    ) -> Self {
        Self::new(Status::Warning, side, resource, finding)
    }

    pub(crate) fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = fix.into();
        self
    }

    pub(crate) fn subnets<S: ToString>(mut self, subnets: Vec<S>) -> Self {
        self.subnets = subnets.iter().map(ToString::to_string).collect();
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
    /// The first problem's fix; `None` when there is nothing to fix (a skipped layer may still
    /// say how to make it checkable, e.g. the command that enables a flow log).
    pub fix: Option<String>,
    pub problems: Vec<Problem>,
}

impl Layer {
    pub(crate) fn skipped(layer: LayerId, why: impl Into<String>) -> Self {
        Self {
            layer,
            title: layer.title().to_owned(),
            status: Status::Skipped,
            finding: why.into(),
            fix: None,
            problems: Vec::new(),
        }
    }

    pub(crate) fn checked(layer: LayerId, problems: Vec<Problem>, ok: String) -> Self {
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
    pub account: AccountId,
    pub vpc_id: VpcId,
    pub region: Region,
    pub cidrs: Vec<IpNet>,
}

/// The whole diagnosis of one peering: the JSON of `peerwire diagnose --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    pub peering_id: PeeringId,
    /// The AWS status code, e.g. `active`.
    pub status: String,
    pub status_message: Option<String>,
    pub requester: SideSummary,
    pub accepter: SideSummary,
    /// The policy rule that matches the peering, if any.
    pub rule: Option<String>,
    /// No layer is broken (warnings allowed).
    pub healthy: bool,
    /// Always the eight layers of [`LayerId::ALL`], in that order.
    pub layers: Vec<Layer>,
    /// What the flow logs counted; `None` when none was read.
    pub traffic: Option<TrafficSummary>,
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

/// Diagnoses an inspected peering, layer by layer, from its network ACLs and what its flow
/// logs recorded. Pure.
pub fn diagnose(inspection: &Inspection, nacls: &SideNacls, traffic: &Traffic) -> Diagnosis {
    let peering = &inspection.peering;
    let facts = facts::Facts::new(inspection);
    let counted = flow::count(traffic, &facts);
    let mut layers = vec![
        layers::status::layer(inspection),
        layers::overlap::layer(inspection),
        layers::routes::layer(&facts),
        layers::security_groups::layer(&facts),
        layers::nacls::layer(&facts, nacls),
        layers::dns::layer(&facts),
        layers::rds::layer(&facts),
    ];
    let dns_broken = layers
        .iter()
        .any(|l| l.layer == LayerId::Dns && l.status == Status::Broken);
    layers.push(layers::traffic::layer(
        &facts, nacls, traffic, &counted, dns_broken,
    ));
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
        requester: summary(&peering.sides.requester),
        accepter: summary(&peering.sides.accepter),
        rule: inspection.rule.clone(),
        healthy: layers.iter().all(|l| l.status != Status::Broken),
        layers,
        traffic: counted.map(|c| c.summary(traffic)),
    }
}
