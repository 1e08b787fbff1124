//! What [`diagnose`](crate::diagnose) reads, as plain values: the peering and the policy's view
//! of it, both sides as observed with the wiring plan, the network ACLs, and the flow-log
//! messages. Built by `inspect` from AWS, or by hand in tests.

use std::time::Duration;

use peerwire::model::nacl::NetworkAcl;
use peerwire::model::{DnsRecord, HostedZoneId, Peering, Sides, VpcNetwork, WiringState};
use peerwire::plan::wiring::plan_wiring;
use peerwire::plan::Plan;
use peerwire::policy::{Membership, Policy, RuleMatch, Wiring};

/// The network ACLs of both VPCs; `None` for a side that was not read.
pub type SideNacls = Sides<Option<Vec<NetworkAcl>>>;

/// A peering, what the policy says about it, and both sides as observed: what
/// [`diagnose`](crate::diagnose) reads. `inspect` builds it from the reconciler's own dry run,
/// so diagnose, `plan` and the functions can never disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub peering: Peering,
    /// The policy rule that matches the peering; `None` when none does.
    pub rule: Option<String>,
    /// Why no rule matches, or why the rule that would could not be verified (empty when one
    /// matches).
    pub unmatched: Vec<String>,
    /// Whether the accepter VPC is inside the policy's `accepters`.
    pub covered: bool,
    /// The matched rule's wiring; when no rule matches, the default scope (every subnet of
    /// both VPCs, no DB port), so that routes and DNS can still be checked.
    pub wiring: Wiring,
    /// Both sides as observed; `None` unless the peering is active.
    pub state: Option<WiringState>,
    /// `plan_wiring(state, wiring)`: what the wiring function would still change.
    pub plan: Plan,
    /// The accepter VPC as observed, for the overlap check; `None` when it was not read.
    pub accepter_network: Option<VpcNetwork>,
    /// Why the reconciler leaves this peering alone, when it does (its own words). Only the
    /// reconciler knows: `inspect` sets it, [`Inspection::new`] leaves it `None`.
    pub refusal: Option<String>,
    /// The records of each private hosted zone the wiring names, read through the zone owner's
    /// role (`inspect` fills it; [`Inspection::new`] leaves it empty).
    pub zone_records: Vec<ZoneRecords>,
}

/// The record sets of one hosted zone, or why they could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneRecords {
    pub zone_id: HostedZoneId,
    pub records: Result<Vec<DnsRecord>, String>,
}

impl Inspection {
    /// Puts the pieces together and plans the wiring. `membership` is the requester account's
    /// place in the organization, for rules that name OUs (`Membership::NotLooked` when none
    /// does). `accepter_network` defaults to the observed accepter side's network. Pure.
    pub fn new(
        peering: Peering,
        policy: &Policy,
        membership: &Membership,
        state: Option<WiringState>,
        accepter_network: Option<VpcNetwork>,
    ) -> Self {
        let accepter = &peering.sides.accepter;
        let covered =
            policy.covers_accepter(&accepter.account, &accepter.region, Some(&accepter.vpc_id));
        let (rule, wiring) = match policy.wiring_for(&peering, membership) {
            Some((rule, wiring)) => (Some(rule.to_owned()), wiring.clone()),
            None => (None, Wiring::default()),
        };
        let unmatched = match policy.evaluate(&peering, membership) {
            RuleMatch::Matched { .. } => Vec::new(),
            RuleMatch::Unmatched { reasons, .. } => {
                reasons.iter().map(ToString::to_string).collect()
            }
            // Not wired either: the rule could not be checked (an OU lookup failed, say).
            RuleMatch::Unverified { rule, reasons } => reasons
                .into_iter()
                .map(|r| format!("rule `{rule}` could not be verified: {r}"))
                .collect(),
        };
        let plan = state
            .as_ref()
            .map(|s| plan_wiring(s, &wiring))
            .unwrap_or_default();
        let accepter_network = accepter_network.or_else(|| {
            state
                .as_ref()
                .and_then(|s| s.sides.accepter.as_ref())
                .map(|a| a.network.clone())
        });
        Self {
            peering,
            rule,
            unmatched,
            covered,
            wiring,
            state,
            plan,
            accepter_network,
            refusal: None,
            zone_records: Vec::new(),
        }
    }
}

/// A flow log of one side, as `DescribeFlowLogs` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowLogInfo {
    pub flow_log_id: String,
    /// The VPC, subnet or network interface it captures.
    pub resource_id: String,
    /// `cloud-watch-logs`, `s3` or `kinesis-data-firehose`: only the first can be queried here.
    pub destination_type: String,
    /// The CloudWatch Logs group it delivers to (`cloud-watch-logs` only).
    pub log_group: Option<String>,
    /// Its `LogFormat`; `None` for the default (version 2) format.
    pub log_format: Option<String>,
    /// `ACCEPT`, `REJECT` or `ALL`.
    pub traffic_type: Option<String>,
}

/// What was found and read of one side's flow logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SideFlowLogs {
    /// Every flow log of the VPC and of the subnets in scope.
    pub flow_logs: Vec<FlowLogInfo>,
    /// The log messages read, each with the log group it came from.
    pub messages: Vec<(String, String)>,
    /// More events matched than the bounded read took: the counts are a sample.
    pub truncated: bool,
    /// Reads that failed, in words (a missing permission, throttling, a bad filter pattern).
    pub errors: Vec<String>,
}

/// What the flow logs of both sides recorded over a window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Traffic {
    /// How far back the logs were read (from the moment they were read).
    pub window: Duration,
    /// `None` for a side whose flow logs were not looked for (not read, or not active).
    pub sides: Sides<Option<SideFlowLogs>>,
}
