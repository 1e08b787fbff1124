//! Reads the network ACLs of a VPC into the plain NACL model of [`peerwire_core::model::nacl`]: one
//! `DescribeNetworkAcls` filtered by `vpc-id` and paged, never one call per subnet or per ACL.

use aws_sdk_ec2::types as ec2;
use ipnet::IpNet;

use super::{filter, missing, required_id, PAGE};
use crate::aws::error::from_sdk;
use peerwire_core::error::{Error, Result};
use peerwire_core::model::nacl::{NaclAction, NaclEntry, NaclProtocol, NetworkAcl, PortRange};
use peerwire_core::model::{SubnetId, VpcId};

const OP: &str = "DescribeNetworkAcls";

/// Every network ACL of `vpc_id`, with its entries and the subnets associated with it, sorted
/// by ACL id. A subnet is associated with exactly one ACL (the VPC's default one unless it was
/// moved), and AWS lists that association on the ACL.
pub async fn describe_network_acls(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &VpcId,
) -> Result<Vec<NetworkAcl>> {
    let mut pages = ec2
        .describe_network_acls()
        .filters(filter("vpc-id", vpc_id.as_str()))
        .max_results(PAGE)
        .into_paginator()
        .send();
    let mut acls = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| from_sdk(OP, e))?;
        for acl in page.network_acls() {
            acls.push(acl_from_sdk(acl)?);
        }
    }
    acls.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(acls)
}

fn acl_from_sdk(acl: &ec2::NetworkAcl) -> Result<NetworkAcl> {
    let id = required_id(OP, "NetworkAclId", acl.network_acl_id())?;
    let mut subnet_ids: Vec<SubnetId> = acl
        .associations()
        .iter()
        .filter_map(|a| a.subnet_id()?.parse().ok())
        .collect();
    subnet_ids.sort();
    subnet_ids.dedup();
    let mut entries = Vec::new();
    for entry in acl.entries() {
        entries.push(entry_from_sdk(&id, entry)?);
    }
    entries.sort_by_key(|e| (e.egress, e.rule_number));
    Ok(NetworkAcl {
        id,
        default: acl.is_default().unwrap_or(false),
        subnet_ids,
        entries,
    })
}

fn entry_from_sdk(
    acl_id: &peerwire_core::model::NetworkAclId,
    entry: &ec2::NetworkAclEntry,
) -> Result<NaclEntry> {
    let rule_number = entry
        .rule_number()
        .ok_or_else(|| missing(OP, &format!("{acl_id} Entries.RuleNumber")))?;
    let block = entry
        .cidr_block()
        .or(entry.ipv6_cidr_block())
        .ok_or_else(|| missing(OP, &format!("{acl_id} rule {rule_number} CidrBlock")))?;
    let cidr = block
        .parse::<IpNet>()
        .map(|net| net.trunc())
        .map_err(|e| Error::Response {
            operation: OP,
            detail: format!("`{block}` is not a CIDR block: {e}"),
        })?;
    // AWS spells protocols as IANA numbers ("6"), "-1" for all; accept names too.
    let protocol = match entry.protocol().unwrap_or("-1").trim() {
        "-1" | "all" => NaclProtocol::All,
        "6" | "tcp" | "TCP" => NaclProtocol::Tcp,
        other => NaclProtocol::Other(other.to_owned()),
    };
    let ports = entry.port_range().map(|range| {
        let clamp = |port: Option<i32>, default: u16| {
            port.map_or(default, |p| {
                u16::try_from(p.clamp(0, 65535)).unwrap_or(default)
            })
        };
        PortRange::new(clamp(range.from(), 0), clamp(range.to(), 65535))
    });
    // Anything but an explicit allow is treated as a deny: a diagnosis must not call an
    // unknown action open.
    let action = match entry.rule_action() {
        Some(ec2::RuleAction::Allow) => NaclAction::Allow,
        _ => NaclAction::Deny,
    };
    Ok(NaclEntry {
        rule_number,
        egress: entry.egress().unwrap_or(false),
        protocol,
        ports,
        cidr,
        action,
    })
}
