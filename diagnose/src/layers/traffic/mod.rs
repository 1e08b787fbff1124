//! Layer 8: traffic, from VPC flow logs. The other layers say what *should* happen; a flow log
//! says what did: every flow an interface accepted or rejected. A record cannot tell a security
//! group from a network ACL (both write `REJECT`), so each rejection is attributed here with the
//! static analysis: the ACL of the subnet that holds the address, evaluated for that very
//! address and port, and the rules the wiring plan would still add.
//!
//! Without a flow log to CloudWatch Logs the layer is `skipped`, with the command that creates
//! one: nothing was checked, so nothing is broken, and the diagnosis stays usable.

use std::net::IpAddr;

use ipnet::IpNet;

use peerwire::model::nacl::{
    evaluate_nacl, nacl_of_subnet, NaclVerdict, NetworkAcl, PortRange, EPHEMERAL_PORTS,
};
use peerwire::model::{Direction, RulePeer, Side, SubnetId};
use peerwire::plan::wiring::scoped_subnets;

use crate::facts::{join, plural, Facts};
use crate::flow::{readable, window_text, Counts, FlowCount, FlowDirection};
use crate::inspection::{SideNacls, Traffic};
use crate::{Layer, LayerId, Problem};

#[cfg(test)]
mod tests;

/// Rejected conversations reported one by one; the rest are counted in the last line.
const SHOWN: usize = 10;

pub(crate) fn layer(
    facts: &Facts<'_>,
    nacls: &SideNacls,
    traffic: &Traffic,
    counts: &Option<Counts>,
    dns_broken: bool,
) -> Layer {
    if !facts.active() {
        return Layer::skipped(LayerId::Traffic, facts.not_active("flow logs are"));
    }
    if facts.ports().is_empty() {
        return Layer::skipped(
            LayerId::Traffic,
            "the policy names no DB port (wiring.ports), so there is no traffic to look for",
        );
    }
    if traffic.sides.requester.is_none() && traffic.sides.accepter.is_none() {
        return Layer::skipped(LayerId::Traffic, "flow logs were not read");
    }
    let window = window_text(traffic.window);
    let mut problems = read_problems(facts, traffic);
    let Some(counts) = counts else {
        let mut layer = Layer::skipped(LayerId::Traffic, no_flow_log(facts, traffic));
        layer.fix = Some(enable_command(facts));
        if !problems.is_empty() {
            // A read that failed is worth a look even with nothing to count.
            layer = Layer::checked(LayerId::Traffic, problems, String::new());
        }
        return layer;
    };
    let source = format!(
        "{} from {} over the last {window}{}",
        plural(counts.records, "record", "records"),
        join(&counts.log_groups),
        if counts.truncated { ", a sample" } else { "" }
    );
    if counts.unreadable > 0 {
        problems.push(
            Problem::warning::<str>(
                None,
                None,
                format!(
                    "{} fit no flow-log format of the group (first: {})",
                    plural(counts.unreadable, "line", "lines"),
                    counts.unreadable_reason.as_deref().unwrap_or("")
                ),
            )
            .fix("check the flow log's LogFormat: it must carry ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${action}"),
        );
    }
    let rejected: Vec<&FlowCount> = counts.flows.iter().filter(|f| f.rejected > 0).collect();
    for flow in rejected.iter().take(SHOWN) {
        problems.push(rejection(facts, nacls, flow, &window));
    }
    if rejected.len() > SHOWN {
        let rest: u64 = rejected.iter().skip(SHOWN).map(|f| f.rejected).sum();
        problems.push(
            Problem::broken::<str>(
                None,
                None,
                format!(
                    "{} more rejected conversations ({rest} records)",
                    rejected.len() - SHOWN
                ),
            )
            .fix("see `--json` (traffic.flows) for every one"),
        );
    }
    if rejected.is_empty() {
        if let Some(problem) = quiet(counts, &source, dns_broken) {
            problems.push(problem);
        }
    }
    let ok = both_ways(counts, &source, dns_broken);
    Layer::checked(LayerId::Traffic, problems, ok)
}

/// A warning for each side whose flow logs could not be listed or read.
fn read_problems(facts: &Facts<'_>, traffic: &Traffic) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (side, read) in traffic.sides.iter() {
        let Some(read) = read else { continue };
        for error in &read.errors {
            problems.push(
                Problem::warning(
                    Some(side),
                    Some(&facts.view(side).vpc_id),
                    format!("the {side}'s flow logs could not be read: {error}"),
                )
                .fix(format!(
                    "grant the member role in account {} ec2:DescribeFlowLogs and \
                     logs:FilterLogEvents (docs/diagnose.md, Traffic)",
                    facts.account(side)
                )),
            );
        }
        for log in &read.flow_logs {
            if log.destination_type == "cloud-watch-logs"
                && log.traffic_type.as_deref() == Some("ACCEPT")
            {
                problems.push(
                    Problem::warning(
                        Some(side),
                        Some(&log.flow_log_id),
                        format!(
                            "flow log {} of {} records ACCEPT only: rejections are invisible to it",
                            log.flow_log_id, log.resource_id
                        ),
                    )
                    .fix("create one with --traffic-type ALL (or REJECT)"),
                );
            }
        }
    }
    problems
}

/// Why there is nothing to count: no flow log, or none delivered to CloudWatch Logs.
fn no_flow_log(facts: &Facts<'_>, traffic: &Traffic) -> String {
    let mut elsewhere = Vec::new();
    let mut looked = Vec::new();
    for (side, read) in traffic.sides.iter() {
        let Some(read) = read else { continue };
        looked.push(facts.view(side).vpc_id.to_string());
        for log in &read.flow_logs {
            if readable(std::slice::from_ref(log)).next().is_none() {
                elsewhere.push(format!(
                    "{} delivers to {}",
                    log.flow_log_id, log.destination_type
                ));
            }
        }
    }
    let more = if elsewhere.is_empty() {
        String::new()
    } else {
        format!(
            " ({}: only CloudWatch Logs can be searched here)",
            elsewhere.join(", ")
        )
    };
    format!(
        "no flow log to CloudWatch Logs for {} (nor for the subnets in scope){more}: traffic \
         not checked",
        looked.join(" or ")
    )
}

/// The command that creates a flow log of the accepter VPC (where the DB is): it sees both
/// the requests arriving and the replies leaving, accepted or rejected.
fn enable_command(facts: &Facts<'_>) -> String {
    let accepter = facts.view(Side::Accepter);
    format!(
        "aws ec2 create-flow-logs --region {} --resource-type VPC --resource-ids {} \
         --traffic-type ALL --log-destination-type cloud-watch-logs --log-group-name \
         /peerwire/flow-logs/{} --deliver-logs-permission-arn \
         arn:aws:iam::{}:role/<a role vpc-flow-logs.amazonaws.com may assume, allowed \
         logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents, logs:DescribeLogGroups \
         and logs:DescribeLogStreams>, run in account {}; records arrive 1 to 10 minutes later",
        accepter.region, accepter.vpc_id, accepter.vpc_id, accepter.account, accepter.account
    )
}

/// What the records say when nothing was rejected, if it is worth a warning.
fn quiet(counts: &Counts, source: &str, dns_broken: bool) -> Option<Problem> {
    let requests: u64 = accepted(counts, FlowDirection::Request);
    let replies: u64 = accepted(counts, FlowDirection::Reply);
    let dns = if dns_broken {
        " The DNS layer is broken: clients that resolve the endpoint to its public IP never use \
         the peering."
    } else {
        ""
    };
    if requests == 0 && replies == 0 {
        return Some(
            Problem::warning::<str>(
                None,
                None,
                format!(
                    "no traffic between the VPCs on the DB ports ({source}): if clients fail, \
                     they are not sending through the peering.{dns}"
                ),
            )
            .fix(
                "check what the clients connect to (the endpoint must resolve to the DB's \
                 private IP: layer dns), that they run in the subnets in scope, and re-run \
                 later: flow logs arrive 1 to 10 minutes late",
            ),
        );
    }
    if replies == 0 {
        return Some(
            Problem::warning::<str>(
                None,
                None,
                format!(
                    "requests are accepted ×{requests} but no reply was recorded ({source}): \
                     is the database listening on that port?"
                ),
            )
            .fix("check the DB instance's port and status"),
        );
    }
    None
}

fn accepted(counts: &Counts, direction: FlowDirection) -> u64 {
    counts
        .flows
        .iter()
        .filter(|f| f.direction == direction)
        .map(|f| f.accepted)
        .sum()
}

/// The finding when traffic flows both ways and nothing is rejected.
fn both_ways(counts: &Counts, source: &str, dns_broken: bool) -> String {
    let requests = accepted(counts, FlowDirection::Request);
    let replies = accepted(counts, FlowDirection::Reply);
    let next = if dns_broken {
        "look at DNS: it is broken above"
    } else {
        "look at DNS (the clients must resolve the endpoint to its private IP) or the \
         application (credentials, TLS, the database's own access rules)"
    };
    format!(
        "ACCEPT both ways, nothing rejected: {requests} request and {replies} reply records \
         ({source}); the network passes the traffic, so if the symptom persists, {next}"
    )
}

/// One rejected conversation, with the static layers' reason for it.
fn rejection(facts: &Facts<'_>, nacls: &SideNacls, flow: &FlowCount, window: &str) -> Problem {
    let side = flow.observed_on;
    let replies = match flow.direction {
        FlowDirection::Request => "",
        FlowDirection::Reply => " replies",
    };
    let head = format!(
        "REJECT {} ×{}{replies} over the last {window}, logged by the {side}",
        flow.path(),
        flow.rejected
    );
    let causes = attribute(facts, nacls, flow);
    let subnets = local_subnet(facts, flow).into_iter().collect::<Vec<_>>();
    match causes.first() {
        Some(first) => {
            let because = causes
                .iter()
                .map(|c| c.text.as_str())
                .collect::<Vec<_>>()
                .join("; and ");
            Problem::broken(
                Some(first.side),
                Some(&first.resource),
                format!("{head}; {because}"),
            )
            .fix(first.fix.clone())
            .subnets(subnets)
        }
        None => {
            let address = match side {
                Side::Accepter => flow.server,
                Side::Requester => flow.client,
            };
            Problem::broken::<str>(
                Some(side),
                None,
                format!(
                    "{head}; no static layer explains it: the interface's security groups are \
                     not the ones the policy selects, or the rules changed since"
                ),
            )
            .fix(format!(
                "check the security groups and the subnet's network ACL of {address}: aws ec2 \
                 describe-network-interfaces --filters Name=addr.private-ip-address,Values={address} \
                 in account {}",
                facts.account(side)
            ))
            .subnets(subnets)
        }
    }
}

/// A reason the static analysis gives for a rejection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cause {
    pub(crate) side: Side,
    /// `acl-…` or `sg-…`.
    pub(crate) resource: String,
    pub(crate) text: String,
    pub(crate) fix: String,
}

/// The subnet (of the side that logged it) whose interface logged the flow.
fn local_subnet(facts: &Facts<'_>, flow: &FlowCount) -> Option<SubnetId> {
    let address = match flow.observed_on {
        Side::Accepter => flow.server,
        Side::Requester => flow.client,
    };
    facts
        .subnet_of(flow.observed_on, address)
        .map(|s| s.id.clone())
}

/// Why the side that logged `flow` rejected it, as far as its ACLs and the wiring plan say.
/// Security groups are stateful: a reply is never theirs to reject, only an ACL's.
pub(crate) fn attribute(facts: &Facts<'_>, nacls: &SideNacls, flow: &FlowCount) -> Vec<Cause> {
    let side = flow.observed_on;
    let (local, remote) = match side {
        Side::Accepter => (flow.server, flow.client),
        Side::Requester => (flow.client, flow.server),
    };
    // Requests enter the accepter and leave the requester; replies the other way round.
    let direction = match (side, flow.direction) {
        (Side::Accepter, FlowDirection::Request) | (Side::Requester, FlowDirection::Reply) => {
            Direction::Ingress
        }
        _ => Direction::Egress,
    };
    let ports = match flow.direction {
        FlowDirection::Request => PortRange::single(flow.port),
        FlowDirection::Reply => EPHEMERAL_PORTS,
    };
    let mut causes = Vec::new();
    for acl in acls_for(facts, nacls, side, local) {
        if let Some(cause) = acl_cause(facts, side, acl, direction, remote, ports, flow) {
            causes.push(cause);
        }
    }
    if flow.direction == FlowDirection::Request {
        causes.extend(group_causes(facts, side, remote, flow.port));
    }
    causes
}

/// The ACL of the subnet holding `address`; when no known subnet holds it, every ACL that
/// serves a subnet in scope.
fn acls_for<'a>(
    facts: &Facts<'_>,
    nacls: &'a SideNacls,
    side: Side,
    address: IpAddr,
) -> Vec<&'a NetworkAcl> {
    let Some(acls) = nacls[side].as_deref() else {
        return Vec::new();
    };
    if let Some(subnet) = facts.subnet_of(side, address) {
        return nacl_of_subnet(acls, &subnet.id).into_iter().collect();
    }
    let Some(local) = facts.local(side) else {
        return Vec::new();
    };
    let mut found: Vec<&NetworkAcl> = Vec::new();
    for subnet in scoped_subnets(local, facts.scope(side)) {
        if let Some(acl) = nacl_of_subnet(acls, &subnet) {
            if !found.iter().any(|a| a.id == acl.id) {
                found.push(acl);
            }
        }
    }
    found
}

fn acl_cause(
    facts: &Facts<'_>,
    side: Side,
    acl: &NetworkAcl,
    direction: Direction,
    remote: IpAddr,
    ports: PortRange,
    flow: &FlowCount,
) -> Option<Cause> {
    let NaclVerdict::Denied { rule_number, .. } =
        evaluate_nacl(acl, direction, IpNet::from(remote), ports)
    else {
        return None;
    };
    let way = match direction {
        Direction::Ingress => "in from",
        Direction::Egress => "out to",
    };
    let what = match flow.direction {
        FlowDirection::Request => format!("tcp/{ports}"),
        FlowDirection::Reply => format!("the replies (tcp/{ports}, stateless)"),
    };
    // The fix opens the peer's whole VPC range, as layer 5 asks, not just this address.
    let range = facts
        .peer_cidrs(side)
        .into_iter()
        .find(|c| c.contains(&remote))
        .map_or_else(|| remote.to_string(), |c| c.to_string());
    let account = facts.account(side);
    let egress = direction.is_egress();
    let entry = rule_number.and_then(|n| {
        acl.entries
            .iter()
            .find(|e| e.rule_number == n && e.egress == egress)
    });
    let (text, fix) = match (rule_number, entry) {
        (Some(rule), Some(entry)) => (
            format!(
                "the {side}'s NACL {} denies {what} {way} {} (rule {rule})",
                acl.id, entry.cidr
            ),
            format!(
                "allow tcp/{ports} {way} {range} in {} (account {account}) with a rule \
                 numbered below {rule}, or remove rule {rule}",
                acl.id
            ),
        ),
        _ => (
            format!(
                "the {side}'s NACL {} has no rule allowing {what} {way} {remote}, so rule * \
                 denies it",
                acl.id
            ),
            format!(
                "add a rule allowing tcp/{ports} {way} {range} to {} (account {account})",
                acl.id
            ),
        ),
    };
    Some(Cause {
        side,
        resource: acl.id.to_string(),
        text,
        fix,
    })
}

/// The rules the wiring plan would still add on `side` for `port` to or from `remote`: the
/// accepter's DB groups admit, the requester's task groups allow out.
fn group_causes(facts: &Facts<'_>, side: Side, remote: IpAddr, port: u16) -> Vec<Cause> {
    let pcx = facts.pcx();
    let account = facts.account(side);
    let mut causes = Vec::new();
    for step in &facts.inspection.plan.steps {
        let Some(change) = step.rule_change().filter(|c| c.adds() && step.side == side) else {
            continue;
        };
        let (group_id, permissions) = (change.group_id, change.permissions);
        let ingress = change.direction == Direction::Ingress;
        let missing = permissions.iter().find(|p| {
            p.port == port
                && match &p.peer {
                    RulePeer::Cidr { cidr } => cidr.contains(&remote),
                    RulePeer::Group { .. } => true,
                    RulePeer::PrefixList { .. } => false,
                }
        });
        let Some(missing) = missing else { continue };
        let (verb, preposition, way) = if ingress {
            ("admit", "from", "inbound")
        } else {
            ("allow", "to", "outbound")
        };
        causes.push(Cause {
            side,
            resource: group_id.to_string(),
            text: format!(
                "the {side}'s security group {group_id} does not {verb} tcp/{port} {preposition} {}",
                missing.peer
            ),
            fix: format!(
                "allow {way} tcp/{port} {preposition} {} on {group_id} in account {account} \
                 (`peerwire apply {pcx}` adds it)",
                missing.peer
            ),
        });
    }
    causes
}
