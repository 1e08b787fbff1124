//! Layer 5: network ACLs. peerwire never changes them (they are the network owner's), so the
//! wiring plan says nothing about them: they are evaluated here, the way AWS does for each
//! packet (`evaluate_nacl`). They are stateless, unlike security groups: the DB's replies to
//! the client's ephemeral port need their own rules both ways.

use std::collections::BTreeMap;

use ipnet::IpNet;

use peerwire::model::nacl::{
    evaluate_nacl, nacl_of_subnet, NaclVerdict, PortRange, EPHEMERAL_PORTS,
};
use peerwire::model::{Direction, NetworkAclId, Side, SubnetId};
use peerwire::plan::wiring::scoped_subnets;

use crate::facts::{join, plural, ports_text, Facts};
use crate::inspection::SideNacls;
use crate::{Layer, LayerId, Problem};

#[cfg(test)]
mod tests;

/// One direction of traffic a side's ACLs must let through.
struct NaclNeed {
    direction: Direction,
    ports: PortRange,
    /// Return traffic, which only a stateless ACL needs a rule for.
    reply: bool,
}

/// Requester subnets send to the DB port and receive replies on ephemeral ports; accepter
/// subnets receive on the DB port and reply to ephemeral ports.
fn needs(side: Side, ports: &[u16]) -> Vec<NaclNeed> {
    let (request, reply) = match side {
        Side::Requester => (Direction::Egress, Direction::Ingress),
        Side::Accepter => (Direction::Ingress, Direction::Egress),
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

pub(crate) fn layer(facts: &Facts<'_>, nacls: &SideNacls) -> Layer {
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
    for side in Side::BOTH {
        let Some(local) = facts.local(side) else {
            ok.push(facts.unread(side));
            continue;
        };
        let Some(acls) = nacls[side].as_deref() else {
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
        let mut by_acl: BTreeMap<&NetworkAclId, Vec<SubnetId>> = BTreeMap::new();
        for subnet in scoped_subnets(local, facts.scope(side)) {
            match nacl_of_subnet(acls, &subnet) {
                Some(acl) => by_acl.entry(&acl.id).or_default().push(subnet),
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
        let needs = needs(side, facts.ports());
        let subnet_count: usize = by_acl.values().map(Vec::len).sum();
        for (acl_id, subnets) in &by_acl {
            let Some(acl) = acls.iter().find(|a| &a.id == *acl_id) else {
                continue;
            };
            for need in &needs {
                for peer in &peers {
                    if let NaclVerdict::Denied {
                        rule_number,
                        peer: denied_peer,
                        ports: denied_ports,
                    } = evaluate_nacl(acl, need.direction, *peer, need.ports)
                    {
                        problems.push(problem(
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

fn problem(
    side: Side,
    account: &str,
    acl_id: &NetworkAclId,
    subnets: &[SubnetId],
    need: &NaclNeed,
    peer: IpNet,
    (rule_number, denied_peer, denied_ports): (Option<i32>, IpNet, PortRange),
) -> Problem {
    let direction = need.direction.traffic();
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
            join(subnets)
        ),
    )
    .fix(fix)
    .subnets(subnets.to_vec())
}
