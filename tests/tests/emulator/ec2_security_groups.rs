//! The security-group patches (`ec2_security_groups.py`): cross-account group references, rule descriptions, the rules quota.

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{Filter, IpPermission, IpRange, Ipv6Range, UserIdGroupPair};
use aws_sdk_ec2::Client;
use peerwire_emulator::scenario::{Scenario, REQUESTER_ACCOUNT};
use peerwire_emulator::EmulatorOptions;

use super::*;

const CROSS_ACCOUNT_SG_REFERENCE: &str = "cross-account-sg-reference";
const SG_RULE_REFERENCE_DESCRIPTION: &str = "sg-rule-reference-description";
const SG_RULE_QUOTA: &str = "sg-rule-quota";

// ---------------------------------------------------------------------------------------------
// cross-account-sg-reference

/// The accepter lets the requester's task group reach its DB group on 5432.
async fn authorize_from_requester_group(
    scenario: &Scenario,
) -> Result<
    aws_sdk_ec2::operation::authorize_security_group_ingress::AuthorizeSecurityGroupIngressOutput,
    aws_sdk_ec2::error::SdkError<
        aws_sdk_ec2::operation::authorize_security_group_ingress::AuthorizeSecurityGroupIngressError,
    >,
>{
    scenario
        .accepter
        .ec2
        .authorize_security_group_ingress()
        .group_id(&scenario.accepter.security_group_id)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(5432)
                .to_port(5432)
                .user_id_group_pairs(
                    UserIdGroupPair::builder()
                        .user_id(REQUESTER_ACCOUNT)
                        .group_id(&scenario.requester.security_group_id)
                        .description("ECS tasks of the payments service")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
}

#[tokio::test]
async fn cross_account_sg_reference_is_allowed_over_an_active_peering() {
    let (scenario, _emulator) = world(&[]).await;
    active_peering(&scenario).await;
    authorize_from_requester_group(&scenario).await.unwrap();

    let groups = scenario
        .accepter
        .ec2
        .describe_security_groups()
        .group_ids(&scenario.accepter.security_group_id)
        .send()
        .await
        .unwrap();
    let pairs: Vec<(Option<&str>, Option<&str>)> = groups.security_groups()[0]
        .ip_permissions()
        .iter()
        .filter(|p| p.from_port() == Some(5432))
        .flat_map(|p| p.user_id_group_pairs())
        .map(|pair| (pair.user_id(), pair.group_id()))
        .collect();
    assert_eq!(
        pairs,
        [(
            Some(REQUESTER_ACCOUNT),
            Some(scenario.requester.security_group_id.as_str())
        )]
    );

    let rules = scenario
        .accepter
        .ec2
        .describe_security_group_rules()
        .filters(
            Filter::builder()
                .name("group-id")
                .values(&scenario.accepter.security_group_id)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let referenced: Vec<(Option<&str>, Option<&str>)> = rules
        .security_group_rules()
        .iter()
        .filter_map(|r| r.referenced_group_info())
        .map(|g| (g.user_id(), g.group_id()))
        .collect();
    assert_eq!(
        referenced,
        [(
            Some(REQUESTER_ACCOUNT),
            Some(scenario.requester.security_group_id.as_str())
        )]
    );
}

#[tokio::test]
async fn cross_account_sg_reference_is_refused_without_an_active_peering() {
    let (scenario, _emulator) = world(&[]).await;
    // Pending is not enough: only an active peering joins the two networks.
    let pcx = scenario.request_peering(&[]).await.unwrap();
    assert_eq!(scenario.status(&pcx).await.unwrap(), "pending-acceptance");
    let (code, message) = error_of(authorize_from_requester_group(&scenario).await);
    assert_eq!(code, "InvalidGroup.NotFound");
    assert!(message.contains("different networks"), "{message}");
}

#[tokio::test]
async fn without_cross_account_sg_reference_moto_cannot_find_the_peer_group() {
    let (scenario, _emulator) = world(&[CROSS_ACCOUNT_SG_REFERENCE]).await;
    active_peering(&scenario).await;
    let (code, message) = error_of(authorize_from_requester_group(&scenario).await);
    assert_eq!(code, "InvalidGroup.NotFound");
    assert!(
        message.contains(&scenario.requester.security_group_id),
        "{message}"
    );
}

// ---------------------------------------------------------------------------------------------
// sg-rule-reference-description

/// The requester's group lets its own members talk on 8080 (a self-reference, described), then
/// returns (DescribeSecurityGroups' pair description, DescribeSecurityGroupRules' description).
async fn self_reference_descriptions(scenario: &Scenario) -> (Option<String>, Option<String>) {
    let group = &scenario.requester.security_group_id;
    scenario
        .requester
        .ec2
        .authorize_security_group_ingress()
        .group_id(group)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(8080)
                .to_port(8080)
                .user_id_group_pairs(
                    UserIdGroupPair::builder()
                        .group_id(group)
                        .description("tasks of the same service")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let groups = scenario
        .requester
        .ec2
        .describe_security_groups()
        .group_ids(group)
        .send()
        .await
        .unwrap();
    let pair = groups.security_groups()[0]
        .ip_permissions()
        .iter()
        .filter(|p| p.from_port() == Some(8080))
        .flat_map(|p| p.user_id_group_pairs())
        .find_map(|pair| pair.description().map(str::to_owned));
    let rules = scenario
        .requester
        .ec2
        .describe_security_group_rules()
        .filters(Filter::builder().name("group-id").values(group).build())
        .send()
        .await
        .unwrap();
    // The group-id filter works in plain moto too: only this group's rules come back.
    assert!(rules
        .security_group_rules()
        .iter()
        .all(|r| r.group_id() == Some(group.as_str())));
    let rule = rules
        .security_group_rules()
        .iter()
        .find(|r| r.from_port() == Some(8080))
        .expect("the self-reference rule");
    assert_eq!(
        rule.referenced_group_info().and_then(|g| g.group_id()),
        Some(group.as_str())
    );
    (pair, rule.description().map(str::to_owned))
}

#[tokio::test]
async fn sg_rule_reference_description_is_described_by_describe_security_group_rules() {
    let (scenario, _emulator) = world(&[]).await;
    let (pair, rule) = self_reference_descriptions(&scenario).await;
    assert_eq!(pair.as_deref(), Some("tasks of the same service"));
    assert_eq!(rule.as_deref(), Some("tasks of the same service"));
}

#[tokio::test]
async fn without_sg_rule_reference_description_moto_drops_it_from_the_rule() {
    let (scenario, _emulator) = world(&[SG_RULE_REFERENCE_DESCRIPTION]).await;
    let (pair, rule) = self_reference_descriptions(&scenario).await;
    assert_eq!(pair.as_deref(), Some("tasks of the same service"));
    assert_eq!(rule, None);
}

// ---------------------------------------------------------------------------------------------
// sg-rule-quota

fn ipv4_rules(cidrs: &[String]) -> IpPermission {
    let mut rule = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(5432)
        .to_port(5432);
    for cidr in cidrs {
        rule = rule.ip_ranges(IpRange::builder().cidr_ip(cidr).build());
    }
    rule.build()
}

fn ipv6_rules(cidrs: &[String]) -> IpPermission {
    let mut rule = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(5432)
        .to_port(5432);
    for cidr in cidrs {
        rule = rule.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(cidr).build());
    }
    rule.build()
}

fn v4(range: std::ops::Range<u32>) -> Vec<String> {
    range.map(|i| format!("10.0.{i}.0/24")).collect()
}

fn v6(range: std::ops::Range<u32>) -> Vec<String> {
    range.map(|i| format!("2001:db8:{i:x}::/64")).collect()
}

/// Adds `rule` to `group` (inbound, or outbound when `egress`): Ok, or the error code.
async fn add_rule(
    ec2: &Client,
    group: &str,
    rule: IpPermission,
    egress: bool,
) -> Result<(), String> {
    let code = |e: &dyn ProvideErrorMetadata| e.code().unwrap_or("<no code>").to_owned();
    if egress {
        ec2.authorize_security_group_egress()
            .group_id(group)
            .ip_permissions(rule)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| code(&e))
    } else {
        ec2.authorize_security_group_ingress()
            .group_id(group)
            .ip_permissions(rule)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| code(&e))
    }
}

const RULE_LIMIT: &str = "RulesPerSecurityGroupLimitExceeded";

#[tokio::test]
async fn sg_rule_quota_counts_ipv4_and_ipv6_rules_apart() {
    let (scenario, _emulator) =
        world_with(EmulatorOptions::new().setting("sg_rules_per_group", "3")).await;
    let ec2 = &scenario.accepter.ec2;
    let group = &scenario.accepter.security_group_id;
    // A rule that references a group counts once for IPv4 and once for IPv6.
    let self_reference = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(5432)
        .to_port(5432)
        .user_id_group_pairs(UserIdGroupPair::builder().group_id(group).build())
        .build();
    add_rule(ec2, group, self_reference, false).await.unwrap();
    add_rule(ec2, group, ipv4_rules(&v4(1..3)), false)
        .await
        .unwrap();
    assert_eq!(
        add_rule(ec2, group, ipv4_rules(&v4(3..4)), false).await,
        Err(RULE_LIMIT.into())
    );
    add_rule(ec2, group, ipv6_rules(&v6(1..3)), false)
        .await
        .unwrap();
    assert_eq!(
        add_rule(ec2, group, ipv6_rules(&v6(3..4)), false).await,
        Err(RULE_LIMIT.into())
    );
    // Outbound rules have their own quota; the default allow-all egress rule is one of them.
    add_rule(ec2, group, ipv4_rules(&v4(1..3)), true)
        .await
        .unwrap();
    assert_eq!(
        add_rule(ec2, group, ipv4_rules(&v4(3..4)), true).await,
        Err(RULE_LIMIT.into())
    );
}

#[tokio::test]
async fn sg_rule_quota_default_is_60_per_family() {
    let (scenario, _emulator) = world(&[]).await;
    let ec2 = &scenario.accepter.ec2;
    let group = &scenario.accepter.security_group_id;
    add_rule(ec2, group, ipv4_rules(&v4(0..60)), false)
        .await
        .unwrap();
    assert_eq!(
        add_rule(ec2, group, ipv4_rules(&v4(60..61)), false).await,
        Err(RULE_LIMIT.into())
    );
    add_rule(ec2, group, ipv6_rules(&v6(0..60)), false)
        .await
        .unwrap();
}

#[tokio::test]
async fn without_sg_rule_quota_moto_ignores_the_setting_and_adds_families_together() {
    let (scenario, _emulator) = world_with(
        EmulatorOptions::new()
            .disable(SG_RULE_QUOTA)
            .setting("sg_rules_per_group", "3"),
    )
    .await;
    let ec2 = &scenario.accepter.ec2;
    let group = &scenario.accepter.security_group_id;
    add_rule(ec2, group, ipv4_rules(&v4(0..4)), false)
        .await
        .expect("moto ignores sg_rules_per_group");
    add_rule(ec2, group, ipv4_rules(&v4(4..60)), false)
        .await
        .unwrap();
    assert_eq!(
        add_rule(ec2, group, ipv6_rules(&v6(0..1)), false).await,
        Err(RULE_LIMIT.into()),
        "moto counts IPv6 rules against the IPv4 ones"
    );
}

// ---------------------------------------------------------------------------------------------
// sg-rule-description-update

const SG_RULE_DESCRIPTION_UPDATE: &str = "sg-rule-description-update";

/// Re-describes the accepter's rule from the requester's group (EC2 API reference,
/// UpdateSecurityGroupRuleDescriptionsIngress: "You can replace an existing description").
async fn redescribe_requester_group_rule(scenario: &Scenario, description: &str) {
    scenario
        .accepter
        .ec2
        .update_security_group_rule_descriptions_ingress()
        .group_id(&scenario.accepter.security_group_id)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(5432)
                .to_port(5432)
                .user_id_group_pairs(
                    UserIdGroupPair::builder()
                        .user_id(REQUESTER_ACCOUNT)
                        .group_id(&scenario.requester.security_group_id)
                        .description(description)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// The description of the accepter's rule from the requester's group.
async fn requester_group_rule_description(scenario: &Scenario) -> Option<String> {
    let described = scenario
        .accepter
        .ec2
        .describe_security_groups()
        .group_ids(&scenario.accepter.security_group_id)
        .send()
        .await
        .unwrap();
    described.security_groups()[0]
        .ip_permissions()
        .iter()
        .flat_map(|p| p.user_id_group_pairs())
        .find(|pair| pair.group_id() == Some(scenario.requester.security_group_id.as_str()))
        .and_then(|pair| pair.description().map(str::to_owned))
}

#[tokio::test]
async fn sg_rule_description_update_rewrites_a_cross_account_group_rules_description() {
    let (scenario, _emulator) = world(&[]).await;
    active_peering(&scenario).await;
    authorize_from_requester_group(&scenario).await.unwrap();
    redescribe_requester_group_rule(&scenario, "peerwire:pcx-0123456789abcdef0").await;
    assert_eq!(
        requester_group_rule_description(&scenario).await.as_deref(),
        Some("peerwire:pcx-0123456789abcdef0")
    );
}

#[tokio::test]
async fn without_sg_rule_description_update_moto_keeps_the_old_description() {
    let (scenario, _emulator) = world(&[SG_RULE_DESCRIPTION_UPDATE]).await;
    active_peering(&scenario).await;
    authorize_from_requester_group(&scenario).await.unwrap();
    redescribe_requester_group_rule(&scenario, "peerwire:pcx-0123456789abcdef0").await;
    assert_eq!(
        requester_group_rule_description(&scenario).await.as_deref(),
        Some("ECS tasks of the payments service")
    );
}
