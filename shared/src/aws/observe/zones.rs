//! Route 53 private hosted zones as their owner sees them: the VPCs associated with each, and
//! the associations peerwire recorded in the zone's tags.
//!
//! Route 53 is global: one client per account, whatever the VPCs' regions. A zone is visible to
//! its owner only (another account's `GetHostedZone` is `NoSuchHostedZone`), so zones are read
//! through the owner's member role.

use aws_sdk_route53::types::TagResourceType;

use super::{missing, required_id};
use crate::aws::error::from_sdk;
use peerwire_core::error::{AwsErrorKind, Result};
use peerwire_core::model::{DnsRecord, HostedZone, HostedZoneId, ZoneVpc, ZONE_TAG_PREFIX};

/// `ListTagsForResources` takes at most 10 resource ids per call.
const TAGS_BATCH: usize = 10;

/// The zones `ids` that exist in this account, in that order: one `GetHostedZone` per zone (it
/// lists every associated VPC, any account or region) and one `ListTagsForResources` per 10
/// zones. A zone that is not found is left out (the plan reports it).
pub async fn describe_zones(
    route53: &aws_sdk_route53::Client,
    ids: &[HostedZoneId],
) -> Result<Vec<HostedZone>> {
    const OP: &str = "GetHostedZone";
    let mut zones = Vec::with_capacity(ids.len());
    for id in ids {
        let response = match route53.get_hosted_zone().id(id.as_str()).send().await {
            Ok(response) => response,
            Err(e) => {
                let err = from_sdk(OP, e);
                // Not this account's zone, or gone: the plan reports it; the rest is read.
                if err.kind == AwsErrorKind::NotFound {
                    continue;
                }
                return Err(err.into());
            }
        };
        let zone = response
            .hosted_zone()
            .ok_or_else(|| missing(OP, "HostedZone"))?;
        let mut vpcs = Vec::new();
        for vpc in response.vpcs() {
            vpcs.push(ZoneVpc {
                vpc_id: required_id(OP, "VPC.VPCId", vpc.vpc_id())?,
                region: required_id(OP, "VPC.VPCRegion", vpc.vpc_region().map(|r| r.as_str()))?,
            });
        }
        vpcs.sort();
        zones.push(HostedZone {
            id: id.clone(),
            name: zone.name().to_owned(),
            private: zone.config().is_some_and(|c| c.private_zone()),
            vpcs,
            associated_by_peerwire: Vec::new(),
            tag_count: 0,
        });
    }
    for batch in zones.chunks_mut(TAGS_BATCH) {
        const TAGS_OP: &str = "ListTagsForResources";
        let response = route53
            .list_tags_for_resources()
            .resource_type(TagResourceType::Hostedzone)
            .set_resource_ids(Some(batch.iter().map(|z| z.id.to_string()).collect()))
            .send()
            .await
            .map_err(|e| from_sdk(TAGS_OP, e))?;
        for set in response.resource_tag_sets() {
            let Some(zone) = batch
                .iter_mut()
                .find(|z| Some(z.id.as_str()) == set.resource_id())
            else {
                continue;
            };
            zone.tag_count = set.tags().len();
            for tag in set.tags() {
                let vpc = tag.key().and_then(|k| k.strip_prefix(ZONE_TAG_PREFIX));
                if let Some(vpc) = vpc.and_then(|v| v.parse().ok()) {
                    zone.associated_by_peerwire.push(vpc);
                }
            }
            zone.associated_by_peerwire.sort();
        }
    }
    Ok(zones)
}

/// At most this many `ListResourceRecordSets` pages (300 records each) are read for a
/// diagnosis: a zone for a database holds a handful.
const RECORD_PAGES: usize = 10;

/// The record sets of `zone_id`, for diagnose's DNS layer: `ListResourceRecordSets` pages of
/// 300, at most [`RECORD_PAGES`] of them.
pub async fn zone_records(
    route53: &aws_sdk_route53::Client,
    zone_id: &HostedZoneId,
) -> Result<Vec<DnsRecord>> {
    const OP: &str = "ListResourceRecordSets";
    let mut records = Vec::new();
    let mut next: Option<(
        String,
        Option<aws_sdk_route53::types::RrType>,
        Option<String>,
    )> = None;
    for _ in 0..RECORD_PAGES {
        let mut request = route53
            .list_resource_record_sets()
            .hosted_zone_id(zone_id.as_str())
            .max_items(300);
        if let Some((name, kind, identifier)) = next.take() {
            request = request
                .start_record_name(name)
                .set_start_record_type(kind)
                .set_start_record_identifier(identifier);
        }
        let page = request.send().await.map_err(|e| from_sdk(OP, e))?;
        for set in page.resource_record_sets() {
            records.push(DnsRecord {
                name: set.name().to_owned(),
                kind: set.r#type().as_str().to_owned(),
                values: set
                    .resource_records()
                    .iter()
                    .map(|r| r.value().to_owned())
                    .collect(),
                alias_target: set.alias_target().map(|a| a.dns_name().to_owned()),
            });
        }
        if !page.is_truncated() {
            break;
        }
        let Some(name) = page.next_record_name() else {
            break;
        };
        next = Some((
            name.to_owned(),
            page.next_record_type().cloned(),
            page.next_record_identifier().map(str::to_owned),
        ));
    }
    Ok(records)
}
