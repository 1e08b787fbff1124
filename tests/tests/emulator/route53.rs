//! Route 53 private zones across accounts (`route53.py`).

use peerwire_emulator::scenario::{Scenario, ACCEPTER_ACCOUNT, REQUESTER_ACCOUNT};
use peerwire_emulator::{Emulator, EmulatorOptions, HttpAnswer, REGION};

const ROUTE53_VPC_ASSOCIATION_AUTHORIZATION: &str = "route53-vpc-association-authorization";
// ---------------------------------------------------------------------------------------------
// route53-vpc-association-authorization

const R53: &str = "/2013-04-01";

fn r53_request(root: &str, inner: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="https://route53.amazonaws.com/doc/2013-04-01/">{inner}</{root}>"#
    )
}

fn vpc_xml(vpc: &str) -> String {
    format!("<VPC><VPCRegion>{REGION}</VPCRegion><VPCId>{vpc}</VPCId></VPC>")
}

/// The text of the first `<tag>` element.
fn xml_text(body: &str, tag: &str) -> Option<String> {
    let start = body.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    Some(body[start..end].to_owned())
}

/// Account A's private zone for its VPC; returns the zone id without `/hostedzone/`.
async fn private_zone(emulator: &Emulator, scenario: &Scenario) -> String {
    let body = r53_request(
        "CreateHostedZoneRequest",
        &format!(
            "<Name>db.payments.internal</Name><CallerReference>peerwire-test</CallerReference>{}\
             <HostedZoneConfig><PrivateZone>true</PrivateZone></HostedZoneConfig>",
            vpc_xml(&scenario.requester.vpc_id)
        ),
    );
    let answer = emulator
        .call_rest(
            REQUESTER_ACCOUNT,
            "route53",
            "POST",
            &format!("{R53}/hostedzone"),
            &body,
        )
        .await
        .unwrap();
    assert_eq!(answer.status, 201, "{answer:?}");
    xml_text(&answer.body, "Id")
        .unwrap()
        .trim_start_matches("/hostedzone/")
        .to_owned()
}

async fn r53(
    emulator: &Emulator,
    account: &str,
    method: &str,
    path: &str,
    body: &str,
) -> HttpAnswer {
    emulator
        .call_rest(account, "route53", method, &format!("{R53}{path}"), body)
        .await
        .unwrap()
}

async fn associate(emulator: &Emulator, account: &str, zone: &str, vpc: &str) -> HttpAnswer {
    let body = r53_request("AssociateVPCWithHostedZoneRequest", &vpc_xml(vpc));
    r53(
        emulator,
        account,
        "POST",
        &format!("/hostedzone/{zone}/associatevpc"),
        &body,
    )
    .await
}

async fn authorize(emulator: &Emulator, account: &str, zone: &str, vpc: &str) -> HttpAnswer {
    let body = r53_request("CreateVPCAssociationAuthorizationRequest", &vpc_xml(vpc));
    let path = format!("/hostedzone/{zone}/authorizevpcassociation");
    r53(emulator, account, "POST", &path, &body).await
}

fn code_of(answer: &HttpAnswer) -> String {
    xml_text(&answer.body, "Code").unwrap_or_else(|| answer.status.to_string())
}

#[tokio::test]
async fn route53_vpc_association_authorization_lets_another_account_associate_its_vpc() {
    let emulator = Emulator::start().await.unwrap();
    let scenario = Scenario::seed(&emulator).await.unwrap();
    let zone = private_zone(&emulator, &scenario).await;
    let theirs = scenario.accepter.vpc_id.as_str();

    let unauthorized = associate(&emulator, ACCEPTER_ACCOUNT, &zone, theirs).await;
    assert_eq!(
        (unauthorized.status, code_of(&unauthorized)),
        (401, "NotAuthorizedException".to_owned())
    );
    // Only the zone's account authorizes.
    let foreign = authorize(&emulator, ACCEPTER_ACCOUNT, &zone, theirs).await;
    assert_eq!(code_of(&foreign), "NoSuchHostedZone");

    let authorized = authorize(&emulator, REQUESTER_ACCOUNT, &zone, theirs).await;
    assert_eq!(authorized.status, 200, "{authorized:?}");
    let listing = format!("/hostedzone/{zone}/authorizevpcassociation");
    let listed = r53(&emulator, REQUESTER_ACCOUNT, "GET", &listing, "").await;
    assert!(listed.body.contains(theirs), "{listed:?}");

    let associated = associate(&emulator, ACCEPTER_ACCOUNT, &zone, theirs).await;
    assert_eq!(associated.status, 200, "{associated:?}");
    let described = r53(
        &emulator,
        REQUESTER_ACCOUNT,
        "GET",
        &format!("/hostedzone/{zone}"),
        "",
    )
    .await;
    assert!(described.body.contains(theirs), "{described:?}");
    assert!(described.body.contains(&scenario.requester.vpc_id));
    let by_vpc = r53(
        &emulator,
        ACCEPTER_ACCOUNT,
        "GET",
        &format!("/hostedzonesbyvpc?vpcid={theirs}&vpcregion={REGION}"),
        "",
    )
    .await;
    assert!(by_vpc.body.contains(&zone), "{by_vpc:?}");
    assert_eq!(
        xml_text(&by_vpc.body, "OwningAccount").as_deref(),
        Some(REQUESTER_ACCOUNT)
    );

    // The authorization can go once used; the association stays.
    let deauthorize = format!("/hostedzone/{zone}/deauthorizevpcassociation");
    let body = r53_request("DeleteVPCAssociationAuthorizationRequest", &vpc_xml(theirs));
    let removed = r53(&emulator, REQUESTER_ACCOUNT, "POST", &deauthorize, &body).await;
    assert_eq!(removed.status, 200, "{removed:?}");
    let again = r53(&emulator, REQUESTER_ACCOUNT, "POST", &deauthorize, &body).await;
    assert_eq!(code_of(&again), "VPCAssociationAuthorizationNotFound");
    let listed = r53(&emulator, REQUESTER_ACCOUNT, "GET", &listing, "").await;
    assert!(!listed.body.contains(theirs), "{listed:?}");
    let described = r53(
        &emulator,
        REQUESTER_ACCOUNT,
        "GET",
        &format!("/hostedzone/{zone}"),
        "",
    )
    .await;
    assert!(described.body.contains(theirs), "{described:?}");

    // The VPC's account may take its VPC out again.
    let body = r53_request("DisassociateVPCFromHostedZoneRequest", &vpc_xml(theirs));
    let path = format!("/hostedzone/{zone}/disassociatevpc");
    let gone = r53(&emulator, ACCEPTER_ACCOUNT, "POST", &path, &body).await;
    assert_eq!(gone.status, 200, "{gone:?}");
    let described = r53(
        &emulator,
        REQUESTER_ACCOUNT,
        "GET",
        &format!("/hostedzone/{zone}"),
        "",
    )
    .await;
    assert!(!described.body.contains(theirs), "{described:?}");
}

#[tokio::test]
async fn without_route53_vpc_association_authorization_moto_hides_the_zone_from_the_vpc_owner() {
    let emulator = Emulator::start_with(
        &EmulatorOptions::new().disable(ROUTE53_VPC_ASSOCIATION_AUTHORIZATION),
    )
    .await
    .unwrap();
    let scenario = Scenario::seed(&emulator).await.unwrap();
    let zone = private_zone(&emulator, &scenario).await;
    let theirs = scenario.accepter.vpc_id.as_str();
    let authorized = authorize(&emulator, REQUESTER_ACCOUNT, &zone, theirs).await;
    assert_eq!(
        authorized.status, 404,
        "moto has no CreateVPCAssociationAuthorization"
    );
    let associated = associate(&emulator, ACCEPTER_ACCOUNT, &zone, theirs).await;
    assert_eq!(code_of(&associated), "NoSuchHostedZone");
}

// ---------------------------------------------------------------------------------------------
// route53-zone-tag-limit

const ROUTE53_ZONE_TAG_LIMIT: &str = "route53-zone-tag-limit";

/// `ChangeTagsForResource` adding `count` tags `key-<n>` to `zone`.
async fn add_tags(emulator: &Emulator, zone: &str, first: usize, count: usize) -> HttpAnswer {
    let tags: String = (first..first + count)
        .map(|n| format!("<Tag><Key>key-{n}</Key><Value>v</Value></Tag>"))
        .collect();
    let body = r53_request(
        "ChangeTagsForResourceRequest",
        &format!("<AddTags>{tags}</AddTags>"),
    );
    r53(
        emulator,
        REQUESTER_ACCOUNT,
        "POST",
        &format!("/tags/hostedzone/{zone}"),
        &body,
    )
    .await
}

#[tokio::test]
async fn route53_zone_tag_limit_refuses_a_tag_past_the_limit() {
    // The limit is a setting (default 50): docs/emulator.md says what AWS documents of it.
    let emulator = Emulator::start().await.unwrap();
    let scenario = Scenario::seed(&emulator).await.unwrap();
    let zone = private_zone(&emulator, &scenario).await;
    emulator.set("route53_tags_per_zone", "3").await.unwrap();
    assert_eq!(add_tags(&emulator, &zone, 0, 3).await.status, 200);
    let refused = add_tags(&emulator, &zone, 3, 1).await;
    assert_eq!(refused.status, 400, "{refused:?}");
    assert_eq!(
        xml_text(&refused.body, "Code").as_deref(),
        Some("InvalidInput")
    );
}

#[tokio::test]
async fn without_route53_zone_tag_limit_moto_takes_any_number_of_tags() {
    let emulator = Emulator::start_with_disabled(&[ROUTE53_ZONE_TAG_LIMIT])
        .await
        .unwrap();
    let scenario = Scenario::seed(&emulator).await.unwrap();
    let zone = private_zone(&emulator, &scenario).await;
    emulator.set("route53_tags_per_zone", "3").await.unwrap();
    assert_eq!(add_tags(&emulator, &zone, 0, 4).await.status, 200);
}
