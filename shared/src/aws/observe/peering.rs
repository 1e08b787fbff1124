//! `DescribeVpcPeeringConnections`: one peering by id, or every peering matching filters,
//! filtered and paged server side.

use aws_sdk_ec2::types::{self as ec2, Filter};

use chrono::{DateTime, Utc};

use super::{filter, filter_any, missing, parse_net, required_id, tags, PAGE};
use crate::aws::error::from_sdk;
use peerwire_core::error::{AwsErrorKind, Result};
use peerwire_core::model::{
    Location, Peering, PeeringId, PeeringSide, PeeringStatus, Sides, TagView, VpcId,
};

const OP: &str = "DescribeVpcPeeringConnections";

/// Re-reads one peering by id, as `viewer` (the account and region of `ec2`) sees it: AWS
/// returns that owner's view's tags.
/// `None` when AWS no longer shows it (`*.NotFound`, or an empty answer); AWS keeps deleted
/// peerings visible for about 2 hours, so `None` is rare.
pub async fn describe_peering(
    ec2: &aws_sdk_ec2::Client,
    viewer: &Location,
    peering_id: &PeeringId,
) -> Result<Option<Peering>> {
    let response = ec2
        .describe_vpc_peering_connections()
        .vpc_peering_connection_ids(peering_id.as_str())
        .send()
        .await
        .map_err(|e| from_sdk(OP, e));
    let response = match response {
        Ok(response) => response,
        Err(err) if err.kind == AwsErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err.into()),
    };
    response
        .vpc_peering_connections()
        .iter()
        .find(|pcx| pcx.vpc_peering_connection_id() == Some(peering_id.as_str()))
        .map(|pcx| peering_from_sdk(pcx, viewer))
        .transpose()
}

/// Every peering in one of `statuses` whose accepter is `accepter_account`: one filtered,
/// paged describe.
pub async fn peerings_in_status(
    ec2: &aws_sdk_ec2::Client,
    viewer: &Location,
    statuses: &[&str],
) -> Result<Vec<Peering>> {
    let filters = vec![
        filter_any("status-code", statuses.iter().copied()),
        filter("accepter-vpc-info.owner-id", viewer.account.as_str()),
    ];
    peerings_where(ec2, viewer, filters).await
}

/// The peerings in one of `statuses` that have `vpc_id` on either side: one filtered describe
/// per side (AWS ANDs filters, so "requester or accepter" takes two calls).
pub async fn peerings_of_vpc(
    ec2: &aws_sdk_ec2::Client,
    viewer: &Location,
    vpc_id: &VpcId,
    statuses: &[&str],
) -> Result<Vec<Peering>> {
    either_side(ec2, viewer, "vpc-id", vpc_id.as_str(), statuses).await
}

/// The peerings in one of `statuses` whose accepter VPC is `vpc_id`: one filtered describe.
pub async fn peerings_accepted_by_vpc(
    ec2: &aws_sdk_ec2::Client,
    viewer: &Location,
    vpc_id: &VpcId,
    statuses: &[&str],
) -> Result<Vec<Peering>> {
    let filters = vec![
        filter_any("status-code", statuses.iter().copied()),
        filter("accepter-vpc-info.vpc-id", vpc_id.as_str()),
    ];
    peerings_where(ec2, viewer, filters).await
}

/// Active peerings with `vpc_id` on either side: one filtered describe per side (AWS ANDs
/// filters, so "requester or accepter" takes two calls).
pub async fn active_peerings_of_vpc(
    ec2: &aws_sdk_ec2::Client,
    viewer: &Location,
    vpc_id: &VpcId,
) -> Result<Vec<Peering>> {
    either_side(ec2, viewer, "vpc-id", vpc_id.as_str(), &["active"]).await
}

/// The peerings in one of `statuses` between the VPCs `a` and `b`, requested either way: one
/// filtered describe (each filter ORs its values, and AWS ANDs the two filters, so both ends
/// are in {a, b}; a VPC cannot peer with itself).
pub async fn peerings_between(
    ec2: &aws_sdk_ec2::Client,
    viewer: &Location,
    a: &VpcId,
    b: &VpcId,
    statuses: &[&str],
) -> Result<Vec<Peering>> {
    let pair = [a.as_str(), b.as_str()];
    let filters = vec![
        filter_any("status-code", statuses.iter().copied()),
        filter_any("requester-vpc-info.vpc-id", pair),
        filter_any("accepter-vpc-info.vpc-id", pair),
    ];
    peerings_where(ec2, viewer, filters).await
}

/// Active peerings with `account` on either side, in two filtered describes.
pub async fn active_peerings_of_account(
    ec2: &aws_sdk_ec2::Client,
    viewer: &Location,
) -> Result<Vec<Peering>> {
    either_side(
        ec2,
        viewer,
        "owner-id",
        viewer.account.as_str(),
        &["active"],
    )
    .await
}

/// Peerings in `statuses` whose requester or accepter `<key>` (`vpc-id`, `owner-id`) is
/// `value`.
async fn either_side(
    ec2: &aws_sdk_ec2::Client,
    viewer: &Location,
    key: &str,
    value: &str,
    statuses: &[&str],
) -> Result<Vec<Peering>> {
    let as_side = |side: &str| {
        let filters = vec![
            filter_any("status-code", statuses.iter().copied()),
            filter(&format!("{side}.{key}"), value),
        ];
        peerings_where(ec2, viewer, filters)
    };
    // The two describes are independent: both go out at once.
    let (as_requester, as_accepter) =
        tokio::try_join!(as_side("requester-vpc-info"), as_side("accepter-vpc-info"))?;
    let mut peerings: Vec<Peering> = Vec::new();
    for peering in as_requester.into_iter().chain(as_accepter) {
        if !peerings.iter().any(|p| p.id == peering.id) {
            peerings.push(peering);
        }
    }
    Ok(peerings)
}

async fn peerings_where(
    ec2: &aws_sdk_ec2::Client,
    viewer: &Location,
    filters: Vec<Filter>,
) -> Result<Vec<Peering>> {
    let mut pages = ec2
        .describe_vpc_peering_connections()
        .set_filters(Some(filters))
        .max_results(PAGE)
        .into_paginator()
        .send();
    let mut peerings = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| from_sdk(OP, e))?;
        for pcx in page.vpc_peering_connections() {
            peerings.push(peering_from_sdk(pcx, viewer)?);
        }
    }
    Ok(peerings)
}

fn side_from_sdk(
    info: Option<&ec2::VpcPeeringConnectionVpcInfo>,
    which: &str,
) -> Result<PeeringSide> {
    let info = info.ok_or_else(|| missing(OP, &format!("{which}VpcInfo")))?;
    let mut cidrs = Vec::new();
    for block in info.cidr_block_set().iter().filter_map(|b| b.cidr_block()) {
        cidrs.push(parse_net(OP, block)?);
    }
    if let Some(primary) = info.cidr_block() {
        let primary = parse_net(OP, primary)?;
        if !cidrs.contains(&primary) {
            cidrs.insert(0, primary);
        }
    }
    for block in info
        .ipv6_cidr_block_set()
        .iter()
        .filter_map(|b| b.ipv6_cidr_block())
    {
        cidrs.push(parse_net(OP, block)?);
    }
    Ok(PeeringSide {
        account: required_id(OP, &format!("{which}VpcInfo.OwnerId"), info.owner_id())?,
        vpc_id: required_id(OP, &format!("{which}VpcInfo.VpcId"), info.vpc_id())?,
        region: required_id(OP, &format!("{which}VpcInfo.Region"), info.region())?,
        cidrs,
        allow_dns_resolution_from_remote_vpc: info
            .peering_options()
            .and_then(|o| o.allow_dns_resolution_from_remote_vpc())
            .unwrap_or(false),
    })
}

fn peering_from_sdk(pcx: &ec2::VpcPeeringConnection, viewer: &Location) -> Result<Peering> {
    let status = pcx.status();
    let code = status
        .and_then(|s| s.code())
        .map(|c| c.as_str())
        .ok_or_else(|| missing(OP, "Status.Code"))?;
    let mut peering = Peering {
        id: required_id(
            OP,
            "VpcPeeringConnectionId",
            pcx.vpc_peering_connection_id(),
        )?,
        status: PeeringStatus::from_code(code),
        status_message: status.and_then(|s| s.message()).map(str::to_owned),
        sides: Sides::new(
            side_from_sdk(pcx.requester_vpc_info(), "Requester")?,
            side_from_sdk(pcx.accepter_vpc_info(), "Accepter")?,
        ),
        tags: Sides::default(),
        expires_at: pcx
            .expiration_time()
            .and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos())),
    };
    for side in peering.sides_viewed_by(&viewer.account, &viewer.region) {
        peering.tags[side] = TagView::Read(tags(pcx.tags()));
    }
    Ok(peering)
}

/// The peerings among `ids` that AWS still shows to the viewer: one describe filtered by id
/// (a filter, unlike `VpcPeeringConnectionIds`, does not fail on an id AWS forgot), in chunks
/// of 200 filter values.
pub async fn peerings_by_ids(
    ec2: &aws_sdk_ec2::Client,
    viewer: &Location,
    ids: &[PeeringId],
) -> Result<Vec<Peering>> {
    let mut found = Vec::new();
    for chunk in ids.chunks(200) {
        let filters = vec![filter_any(
            "vpc-peering-connection-id",
            chunk.iter().map(ToString::to_string),
        )];
        found.extend(peerings_where(ec2, viewer, filters).await?);
    }
    Ok(found)
}
