//! Parsing, validation and matching of the policy document.

use std::collections::BTreeMap;

use super::*;
use crate::model::TagView;
use crate::testing::{id, net, peering, policy, requester_tags, ECS_TO_RDS, REQUESTER};

fn invalid_field(text: &str) -> (String, String) {
    match Policy::parse(text) {
        Err(PolicyError::Invalid { field, reason }) => (field, reason),
        other => panic!("expected Invalid, got {other:?}\n{text}"),
    }
}

fn syntax(text: &str) -> String {
    match Policy::parse(text) {
        Err(PolicyError::Syntax(message)) => message,
        other => panic!("expected Syntax, got {other:?}\n{text}"),
    }
}

/// ECS_TO_RDS with one line of the rule replaced or added.
fn with_rule_line(line: &str) -> String {
    format!("{ECS_TO_RDS}    {line}\n")
}

fn unmatched_reasons(m: RuleMatch) -> (Option<String>, Vec<String>) {
    match m {
        RuleMatch::Unmatched {
            closest_rule,
            reasons,
        } => (
            closest_rule,
            reasons.iter().map(ToString::to_string).collect(),
        ),
        RuleMatch::Matched { rule, .. } | RuleMatch::Unverified { rule, .. } => {
            panic!("unexpectedly matched {rule}")
        }
    }
}

fn matched(rule: &str, approval: Approval) -> RuleMatch {
    RuleMatch::Matched {
        rule: rule.to_owned(),
        approval,
    }
}

// ---- parsing ----

#[test]
fn the_documented_example_parses_with_defaults() {
    let p = policy(
        r#"
version: 1
unmatched: hold
accepters:
  - account: "222222222222"
    regions: [us-east-1, eu-central-2]
    vpcs: [vpc-0123456789abcdef0]
  - account: "333333333333"
    regions: [us-gov-west-1]
rules:
  - name: ecs-to-rds
    requester_accounts: ["111111111111", "012345678901"]
    requester_vpcs: [vpc-1a2b3c4d]
    allowed_cidrs: ["10.0.0.0/8", "2600:1f18::/32"]
    min_prefix_length: 20
    min_ipv6_prefix_length: 48
    accepter_vpcs: [vpc-0123456789abcdef0]
    regions: [us-east-1]
    required_tags: {team: payments}
    approval: required
  - name: minimal
    requester_accounts: ["444444444444"]
    allowed_cidrs: ["172.16.0.0/12"]
"#,
    );
    assert_eq!(p.version, 1);
    assert_eq!(p.unmatched, UnmatchedAction::Hold);
    assert_eq!(p.accepters.len(), 2);
    assert_eq!(p.accepters[0].vpcs, vec!["vpc-0123456789abcdef0"]);
    assert!(p.accepters[1].vpcs.is_empty());
    let r = &p.rules[0];
    assert_eq!(r.requester_accounts, vec!["111111111111", "012345678901"]);
    assert_eq!(
        r.allowed_cidrs,
        vec![net("10.0.0.0/8"), net("2600:1f18::/32")]
    );
    assert_eq!((r.min_prefix_length, r.min_ipv6_prefix_length), (20, 48));
    assert_eq!(
        r.required_tags.get("team").map(String::as_str),
        Some("payments")
    );
    assert_eq!(r.approval, Approval::Required);
    let m = &p.rules[1];
    assert_eq!((m.min_prefix_length, m.min_ipv6_prefix_length), (16, 56));
    assert_eq!(m.approval, Approval::Auto);
    assert!(m.requester_vpcs.is_empty() && m.accepter_vpcs.is_empty());
    assert!(m.regions.is_empty() && m.required_tags.is_empty());
}

#[test]
fn unmatched_defaults_to_reject_and_rules_may_be_absent() {
    let p = policy(
        r#"
version: 1
accepters: [{account: "222222222222", regions: [us-east-1]}]
"#,
    );
    assert_eq!(p.unmatched, UnmatchedAction::Reject);
    assert!(p.rules.is_empty());
    let (closest, reasons) = unmatched_reasons(p.evaluate(
        &peering(REQUESTER, &["10.1.0.0/16"]),
        &Membership::NotLooked,
    ));
    assert_eq!(closest, None);
    assert_eq!(
        reasons,
        vec!["requester account 111111111111 is not named by any rule (the policy has no rules)"]
    );
}

#[test]
fn yaml_and_json_parse_to_the_same_policy() {
    let json = r#"{
	"version": 1,
	"unmatched": "reject",
	"accepters": [{"account": "222222222222", "regions": ["us-east-1"]}],
	"rules": [
		{"name": "ecs-to-rds", "requester_accounts": ["111111111111"], "allowed_cidrs": ["10.0.0.0/8"]}
	]
}"#;
    assert_eq!(policy(json), policy(ECS_TO_RDS));
    // Single-line JSON goes through the same path.
    assert_eq!(policy(&json.replace(['\n', '\t'], "")), policy(ECS_TO_RDS));
}

#[test]
fn serde_deserialization_validates_too() {
    let bad = r#"{"version": 1, "accepters": [{"account": "*", "regions": ["us-east-1"]}]}"#;
    let err = serde_json::from_str::<Policy>(bad)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(err.contains("accepters[0].account"), "{err}");
    let p: Policy = serde_saphyr::from_str(ECS_TO_RDS).unwrap();
    assert_eq!(p, policy(ECS_TO_RDS));
}

#[test]
fn serialized_policy_reads_back_identically() {
    let p = policy(ECS_TO_RDS);
    let text = serde_json::to_string(&p).unwrap();
    assert_eq!(policy(&text), p);
}

#[test]
fn unknown_keys_are_rejected_everywhere() {
    for (text, key) in [
        (format!("{ECS_TO_RDS}extra: 1\n"), "extra"),
        (
            with_rule_line("allowed_cidr: [\"10.0.0.0/8\"]"),
            "allowed_cidr",
        ),
        (
            with_rule_line("requester_account: [\"111111111111\"]"),
            "requester_account",
        ),
        (
            ECS_TO_RDS.replace(
                "    regions: [us-east-1]\n",
                "    regions: [us-east-1]\n    region: us-east-1\n",
            ),
            "region",
        ),
    ] {
        let message = syntax(&text);
        assert!(
            message.contains(&format!("unknown field `{key}`")),
            "{message}"
        );
    }
}

#[test]
fn wildcard_requester_account_is_refused() {
    for wildcard in ["*", "1111111111*", "11111111111?", "any", "ANY"] {
        let text = ECS_TO_RDS.replace("[\"111111111111\"]", &format!("[\"{wildcard}\"]"));
        let (field, reason) = invalid_field(&text);
        assert_eq!(field, "rules[0].requester_accounts[0]", "{wildcard}");
        assert!(reason.contains("wildcards are never allowed"), "{reason}");
    }
    let (field, _) = invalid_field(&ECS_TO_RDS.replace("\"222222222222\"", "\"*\""));
    assert_eq!(field, "accepters[0].account");
}

#[test]
fn parse_errors_name_the_field() {
    let rule = |line: &str| with_rule_line(line);
    for (text, expected_field, reason_part) in [
            (ECS_TO_RDS.replace("version: 1", "version: 2"), "version", "version 2 is not supported"),
            (
                ECS_TO_RDS.replace("[\"111111111111\"]", "[\"111111111111\", \"11111111111\"]"),
                "rules[0].requester_accounts[1]",
                "`11111111111` is not a 12-digit AWS account ID",
            ),
            (
                ECS_TO_RDS.replace("[\"111111111111\"]", "[\"11111111111a\"]"),
                "rules[0].requester_accounts[0]",
                "12-digit",
            ),
            (
                ECS_TO_RDS.replace("[\"111111111111\"]", "[]"),
                "rules[0].requester_accounts",
                "at least one requester account",
            ),
            (
                ECS_TO_RDS.replace("[\"10.0.0.0/8\"]", "[]"),
                "rules[0].allowed_cidrs",
                "at least one allowed CIDR",
            ),
            (
                ECS_TO_RDS.replace("[\"10.0.0.0/8\"]", "[\"10.0.0.0/8\", \"10.1.2.3/16\"]"),
                "rules[0].allowed_cidrs[1]",
                "did you mean 10.1.0.0/16",
            ),
            (
                ECS_TO_RDS.replace("[\"10.0.0.0/8\"]", "[\"10.0.0.0\"]"),
                "rules[0].allowed_cidrs[0]",
                "prefix length is missing",
            ),
            (rule("min_prefix_length: 33"), "rules[0].min_prefix_length", "above 32"),
            (rule("min_ipv6_prefix_length: 129"), "rules[0].min_ipv6_prefix_length", "above 128"),
            (rule("requester_vpcs: [vpc-123]"), "rules[0].requester_vpcs[0]", "not a VPC ID"),
            (
                rule("accepter_vpcs: [vpc-22222222, vpc-0123456789ABCDEF0]"),
                "rules[0].accepter_vpcs[1]",
                "not a VPC ID",
            ),
            (rule("regions: [us-east-1, US-WEST-2]"), "rules[0].regions[1]", "not an AWS region"),
            (rule("required_tags: {\"\": x}"), "rules[0].required_tags.", "tag key"),
            (
                ECS_TO_RDS.replace("name: ecs-to-rds", "name: \"  \""),
                "rules[0].name",
                "rule name is required",
            ),
            (
                ECS_TO_RDS.replace("regions: [us-east-1]", "regions: []"),
                "accepters[0].regions",
                "at least one region",
            ),
            (
                ECS_TO_RDS.replace("regions: [us-east-1]", "regions: [useast1]"),
                "accepters[0].regions[0]",
                "not an AWS region",
            ),
            (
                ECS_TO_RDS.replace("regions: [us-east-1]", "regions: [us-east-1]\n    vpcs: [vpc-gggggggg]"),
                "accepters[0].vpcs[0]",
                "not a VPC ID",
            ),
            (
                ECS_TO_RDS.replace("\"222222222222\"", "\"2222\""),
                "accepters[0].account",
                "12-digit",
            ),
            (
                "version: 1\naccepters: []\n".to_owned(),
                "accepters",
                "at least one accepter",
            ),
            (
                format!(
                    "{ECS_TO_RDS}  - name: ecs-to-rds\n    requester_accounts: [\"333333333333\"]\n    allowed_cidrs: [\"10.0.0.0/8\"]\n"
                ),
                "rules[1].name",
                "already used by rules[0]",
            ),
        ] {
            let (field, reason) = invalid_field(&text);
            assert_eq!(field, expected_field, "{reason}\n{text}");
            assert!(reason.contains(reason_part), "{field}: {reason}");
        }
}

#[test]
fn syntax_errors_name_the_problem() {
    for (text, part) in [
        ("version: 1\n".to_owned(), "missing field `accepters`"),
        (
            ECS_TO_RDS.replace("version: 1\n", ""),
            "missing field `version`",
        ),
        (
            ECS_TO_RDS.replace("unmatched: reject", "unmatched: accept"),
            "unknown variant `accept`",
        ),
        (with_rule_line("approval: maybe"), "unknown variant `maybe`"),
        // JSON numbers would lose leading zeros.
        (
            r#"{"version": 1, "accepters": [{"account": 12345678901, "regions": ["us-east-1"]}]}"#
                .to_owned(),
            "expected a 12-digit account ID as a quoted string",
        ),
        (
            with_rule_line("min_prefix_length: 300"),
            "min_prefix_length",
        ),
        ("{\"version\": 1,".to_owned(), "EOF"),
        ("".to_owned(), ""),
        ("- just\n- a list\n".to_owned(), "expected mapping"),
    ] {
        let message = syntax(&text);
        assert!(message.contains(part), "{part:?} not in {message:?}");
    }
}

#[test]
fn unquoted_yaml_account_ids_are_read_verbatim() {
    // YAML hands the scalar's text to a string field, so leading zeros survive.
    let text = ECS_TO_RDS
        .replace("\"222222222222\"", "222222222222")
        .replace("[\"111111111111\"]", "[012345678901]");
    let p = policy(&text);
    assert_eq!(p.accepters[0].account, "222222222222");
    assert_eq!(p.rules[0].requester_accounts, vec!["012345678901"]);
    let (field, _) = invalid_field(&ECS_TO_RDS.replace("[\"111111111111\"]", "[1.11e11]"));
    assert_eq!(field, "rules[0].requester_accounts[0]");
}

#[test]
fn region_names() {
    for ok in [
        "us-east-1",
        "eu-central-2",
        "us-gov-west-1",
        "ap-southeast-7",
        "us-isob-east-1",
        "cn-north-1",
    ] {
        assert!(ok.parse::<Region>().is_ok(), "{ok}");
    }
    for bad in [
        "",
        "us-east",
        "us-east-",
        "US-EAST-1",
        "us_east_1",
        "us--east-1",
        "1-east-1",
        "us-east-1a",
        "*",
        "us-east-*",
    ] {
        assert!(bad.parse::<Region>().is_err(), "{bad:?}");
    }
}

#[test]
fn vpc_ids() {
    for ok in ["vpc-1a2b3c4d", "vpc-0123456789abcdef0"] {
        assert!(ok.parse::<VpcId>().is_ok(), "{ok}");
    }
    for bad in [
        "",
        "vpc-",
        "vpc-1a2b3c4",
        "vpc-1a2b3c4d5",
        "vpc-0123456789ABCDEF0",
        "vpc-0123456789abcdef",
        "subnet-1a2b3c4d",
        "vpc-*",
        "VPC-1a2b3c4d",
    ] {
        assert!(bad.parse::<VpcId>().is_err(), "{bad:?}");
    }
}

#[test]
fn accepter_scope_table() {
    let p = policy(
        r#"
version: 1
accepters:
  - account: "222222222222"
    regions: [us-east-1, eu-west-1]
  - account: "333333333333"
    regions: [us-west-2]
    vpcs: [vpc-33333333]
"#,
    );
    for (account, region, vpc, expected) in [
        ("222222222222", "us-east-1", None, true),
        (
            "222222222222",
            "eu-west-1",
            Some("vpc-0123456789abcdef0"),
            true,
        ), // no vpcs = all
        ("222222222222", "us-west-2", None, false),
        ("333333333333", "us-west-2", Some("vpc-33333333"), true),
        ("333333333333", "us-west-2", Some("vpc-44444444"), false),
        ("333333333333", "us-west-2", None, true), // account/region scan without a VPC
        ("333333333333", "us-east-1", Some("vpc-33333333"), false),
        ("444444444444", "us-east-1", None, false),
    ] {
        let vpc_id: Option<VpcId> = vpc.map(id);
        assert_eq!(
            p.covers_accepter(&id(account), &id(region), vpc_id.as_ref()),
            expected,
            "{account} {region} {vpc:?}"
        );
    }
}

// ---- evaluation: the troubleshooting table ----

#[test]
fn a_named_account_inside_the_allowed_ranges_matches() {
    let p = policy(ECS_TO_RDS);
    assert_eq!(
        p.evaluate(
            &peering(REQUESTER, &["10.1.0.0/16"]),
            &Membership::NotLooked
        ),
        matched("ecs-to-rds", Approval::Auto)
    );
    // Secondary CIDRs, all inside, at exactly the minimum prefix or narrower.
    assert_eq!(
        p.evaluate(
            &peering(REQUESTER, &["10.1.0.0/16", "10.200.8.0/24", "10.0.0.0/28"]),
            &Membership::NotLooked
        ),
        matched("ecs-to-rds", Approval::Auto)
    );
}

#[test]
fn a_request_from_an_unknown_account_never_matches() {
    let (closest, reasons) = unmatched_reasons(policy(ECS_TO_RDS).evaluate(
        &peering("999999999999", &["10.1.0.0/16"]),
        &Membership::NotLooked,
    ));
    assert_eq!(closest, None);
    assert_eq!(
        reasons,
        vec!["requester account 999999999999 is not named by any rule"]
    );
}

#[test]
fn a_cidr_outside_the_allowed_ranges_is_refused() {
    let (closest, reasons) = unmatched_reasons(policy(ECS_TO_RDS).evaluate(
        &peering(REQUESTER, &["10.1.0.0/16", "192.168.0.0/16"]),
        &Membership::NotLooked,
    ));
    assert_eq!(closest.as_deref(), Some("ecs-to-rds"));
    assert_eq!(
            reasons,
            vec!["requester CIDR 192.168.0.0/16 is outside the allowed ranges 10.0.0.0/8 of rule ecs-to-rds"]
        );
}

#[test]
fn a_slash_12_is_refused_when_min_prefix_is_16() {
    let (_, reasons) = unmatched_reasons(policy(ECS_TO_RDS).evaluate(
        &peering(REQUESTER, &["10.0.0.0/12"]),
        &Membership::NotLooked,
    ));
    assert_eq!(
        reasons,
        vec!["requester CIDR 10.0.0.0/12 is broader than /16 (rule ecs-to-rds)"]
    );
    let p = policy(&with_rule_line("min_prefix_length: 12"));
    assert_eq!(
        p.evaluate(
            &peering(REQUESTER, &["10.0.0.0/12"]),
            &Membership::NotLooked
        ),
        matched("ecs-to-rds", Approval::Auto)
    );
}

#[test]
fn a_cidr_both_outside_and_too_broad_gets_both_reasons() {
    let (_, reasons) = unmatched_reasons(policy(ECS_TO_RDS).evaluate(
        &peering(REQUESTER, &["172.16.0.0/12"]),
        &Membership::NotLooked,
    ));
    assert_eq!(
            reasons,
            vec![
                "requester CIDR 172.16.0.0/12 is outside the allowed ranges 10.0.0.0/8 of rule ecs-to-rds",
                "requester CIDR 172.16.0.0/12 is broader than /16 (rule ecs-to-rds)",
            ]
        );
}

#[test]
fn a_peering_without_requester_cidrs_never_matches() {
    let (_, reasons) = unmatched_reasons(
        policy(ECS_TO_RDS).evaluate(&peering(REQUESTER, &[]), &Membership::NotLooked),
    );
    assert_eq!(reasons, vec!["the peering reports no requester CIDR"]);
}

#[test]
fn ipv6_cidrs_use_the_ipv6_minimum_and_must_be_allowed_too() {
    let p = policy(&ECS_TO_RDS.replace("[\"10.0.0.0/8\"]", "[\"10.0.0.0/8\", \"2600:1f18::/32\"]"));
    assert_eq!(
        p.evaluate(
            &peering(REQUESTER, &["10.1.0.0/16", "2600:1f18:abcd:1200::/56"]),
            &Membership::NotLooked
        ),
        matched("ecs-to-rds", Approval::Auto)
    );
    let (_, reasons) = unmatched_reasons(p.evaluate(
        &peering(REQUESTER, &["10.1.0.0/16", "2600:1f18:ab00::/40"]),
        &Membership::NotLooked,
    ));
    assert_eq!(
        reasons,
        vec!["requester CIDR 2600:1f18:ab00::/40 is broader than /56 (rule ecs-to-rds)"]
    );
    // An IPv6 block the rule does not list is refused even though every IPv4 block is fine.
    let (_, reasons) = unmatched_reasons(policy(ECS_TO_RDS).evaluate(
        &peering(REQUESTER, &["10.1.0.0/16", "2600:1f18:abcd:1200::/56"]),
        &Membership::NotLooked,
    ));
    assert_eq!(
            reasons,
            vec!["requester CIDR 2600:1f18:abcd:1200::/56 is outside the allowed ranges 10.0.0.0/8 of rule ecs-to-rds"]
        );
}

#[test]
fn a_missing_or_different_tag_is_refused() {
    let p = policy(&with_rule_line(
        "required_tags: {team: payments, env: prod}",
    ));
    let mut request = peering(REQUESTER, &["10.1.0.0/16"]);
    requester_tags(&mut request).insert("env".to_owned(), "dev".to_owned());
    let (_, reasons) = unmatched_reasons(p.evaluate(&request, &Membership::NotLooked));
    assert_eq!(
        reasons,
        vec![
            "tag env=prod is required by rule ecs-to-rds; the requester's view has env=dev",
            "tag team=payments is required by rule ecs-to-rds; the requester's view has team=(missing)",
        ]
    );
    requester_tags(&mut request).insert("env".to_owned(), "prod".to_owned());
    requester_tags(&mut request).insert("team".to_owned(), "payments".to_owned());
    requester_tags(&mut request).insert("extra".to_owned(), "ignored".to_owned());
    assert_eq!(
        p.evaluate(&request, &Membership::NotLooked),
        matched("ecs-to-rds", Approval::Auto)
    );
}

#[test]
fn only_the_requesters_own_tags_count() {
    let p = policy(&with_rule_line("required_tags: {team: payments}"));
    let mut request = peering(REQUESTER, &["10.1.0.0/16"]);
    // The accepter tagged its own view: AWS never shows that to the requester, and it says
    // nothing about the request.
    let mut accepter_tags = BTreeMap::new();
    accepter_tags.insert("team".to_owned(), "payments".to_owned());
    request.tags.accepter = TagView::Read(accepter_tags);
    assert!(matches!(
        p.evaluate(&request, &Membership::NotLooked),
        RuleMatch::Unmatched { .. }
    ));
    requester_tags(&mut request).insert("team".to_owned(), "payments".to_owned());
    assert_eq!(
        p.evaluate(&request, &Membership::NotLooked),
        matched("ecs-to-rds", Approval::Auto)
    );
}

#[test]
fn tags_nobody_could_read_hold_instead_of_failing() {
    let p = policy(&with_rule_line("required_tags: {team: payments}"));
    let mut request = peering(REQUESTER, &["10.1.0.0/16"]);
    request.tags.requester = TagView::Unreadable("AccessDenied".to_owned());
    let RuleMatch::Unverified { rule, reasons } = p.evaluate(&request, &Membership::NotLooked)
    else {
        panic!("expected unverified")
    };
    assert_eq!(rule, "ecs-to-rds");
    assert!(
        matches!(&reasons[..], [Condition::TagsUnreadable { why, key, .. }] if why == "AccessDenied" && key == "team"),
        "{reasons:?}"
    );
    // Any other failing condition still refuses outright.
    request.sides.requester.cidrs = vec![net("172.16.0.0/16")];
    assert!(matches!(
        p.evaluate(&request, &Membership::NotLooked),
        RuleMatch::Unmatched { .. }
    ));
}

#[test]
fn a_rule_may_allow_an_ou_and_everything_below_it_but_not_a_suspended_account() {
    let p = policy(
        r#"
version: 1
accepters: [{account: "222222222222", regions: [us-east-1]}]
rules:
  - name: vended
    requester_ous: [ou-ab12-00000001]
    allowed_cidrs: ["10.0.0.0/8"]
"#,
    );
    let request = peering("555555555555", &["10.1.0.0/16"]);
    let inside = Membership::Known {
        ous: vec![id("ou-ab12-00000009"), id("ou-ab12-00000001")],
        inactive: None,
    };
    assert_eq!(
        p.evaluate(&request, &inside),
        matched("vended", Approval::Auto)
    );
    assert!(p.manages_account(&id("555555555555"), &inside));
    let outside = Membership::Known {
        ous: vec![id("ou-ab12-00000002")],
        inactive: None,
    };
    assert!(matches!(
        p.evaluate(&request, &outside),
        RuleMatch::Unmatched { .. }
    ));
    let suspended = Membership::Known {
        ous: vec![id("ou-ab12-00000001")],
        inactive: Some("SUSPENDED".to_owned()),
    };
    let RuleMatch::Unmatched { reasons, .. } = p.evaluate(&request, &suspended) else {
        panic!("a suspended account matched")
    };
    assert!(
        matches!(&reasons[..], [Condition::AccountNotActive { account, .. }] if *account == request.sides.requester.account),
        "{reasons:?}"
    );
    assert!(matches!(
        p.evaluate(&request, &Membership::Unknown("no role".to_owned())),
        RuleMatch::Unverified { .. }
    ));
    assert!(p.needs_membership(&id("555555555555")));
}

#[test]
fn a_rule_names_accounts_or_ous_and_never_a_wildcard() {
    let (field, reason) = invalid_field(
        r#"
version: 1
accepters: [{account: "222222222222", regions: [us-east-1]}]
rules:
  - name: nobody
    allowed_cidrs: ["10.0.0.0/8"]
"#,
    );
    assert_eq!(field, "rules[0].requester_accounts");
    assert!(reason.contains("OU"), "{reason}");
    let (field, _) = invalid_field(&with_rule_line("requester_ous: [r-ab12]"));
    assert_eq!(field, "rules[0].requester_ous[0]");
}

#[test]
fn approvers_are_accounts_or_iam_principals() {
    let p = policy(&format!(
        "{ECS_TO_RDS}approvers: [\"333333333333\", \"arn:aws:iam::444444444444:role/PeeringApprover\"]\n"
    ));
    assert!(p.is_approver(Some(&id("333333333333")), "anyone"));
    assert!(p.is_approver(
        Some(&id("444444444444")),
        "arn:aws:sts::444444444444:assumed-role/PeeringApprover/bob"
    ));
    // `approved_by` is the sender's word: from another account it proves nothing.
    assert!(!p.is_approver(
        Some(&id("999999999999")),
        "arn:aws:sts::444444444444:assumed-role/PeeringApprover/bob"
    ));
    assert!(!p.is_approver(
        Some(&id("444444444444")),
        "arn:aws:sts::444444444444:assumed-role/OtherRole/bob"
    ));
    assert!(!p.is_approver(Some(&id("999999999999")), "alice@example.com"));
    let (field, _) = invalid_field(&format!("{ECS_TO_RDS}approvers: [\"*\"]\n"));
    assert_eq!(field, "approvers[0]");
    // No approvers: nobody may approve.
    assert!(!policy(ECS_TO_RDS).is_approver(Some(&id("333333333333")), "x"));
}

#[test]
fn both_regions_must_be_listed() {
    let p = policy(&with_rule_line("regions: [us-east-1]"));
    let mut request = peering(REQUESTER, &["10.1.0.0/16"]);
    assert_eq!(
        p.evaluate(&request, &Membership::NotLooked),
        matched("ecs-to-rds", Approval::Auto)
    );
    request.sides.requester.region = id("eu-west-1");
    let (_, reasons) = unmatched_reasons(p.evaluate(&request, &Membership::NotLooked));
    assert_eq!(
        reasons,
        vec!["requester region eu-west-1 is not among us-east-1 of rule ecs-to-rds"]
    );
    request.sides.requester.region = id("us-east-1");
    request.sides.accepter.region = id("us-west-2");
    let (_, reasons) = unmatched_reasons(p.evaluate(&request, &Membership::NotLooked));
    assert_eq!(
        reasons,
        vec!["accepter region us-west-2 is not among us-east-1 of rule ecs-to-rds"]
    );
}

#[test]
fn requester_and_accepter_vpcs_are_checked_when_listed() {
    let p = policy(&with_rule_line(
        "requester_vpcs: [vpc-1a1a1a1a]\n    accepter_vpcs: [vpc-2b2b2b2b, vpc-3c3c3c3c]",
    ));
    let mut request = peering(REQUESTER, &["10.1.0.0/16"]);
    let (_, reasons) = unmatched_reasons(p.evaluate(&request, &Membership::NotLooked));
    assert_eq!(
        reasons,
        vec![
            "requester VPC vpc-11111111 is not among vpc-1a1a1a1a of rule ecs-to-rds",
            "accepter VPC vpc-22222222 is not among vpc-2b2b2b2b, vpc-3c3c3c3c of rule ecs-to-rds",
        ]
    );
    request.sides.requester.vpc_id = id("vpc-1a1a1a1a");
    request.sides.accepter.vpc_id = id("vpc-3c3c3c3c");
    assert_eq!(
        p.evaluate(&request, &Membership::NotLooked),
        matched("ecs-to-rds", Approval::Auto)
    );
}

#[test]
fn rules_are_tried_in_order_and_the_closest_is_the_first_naming_the_account() {
    let p = policy(
        r#"
version: 1
accepters: [{account: "222222222222", regions: [us-east-1]}]
rules:
  - name: other-team
    requester_accounts: ["333333333333"]
    allowed_cidrs: ["10.0.0.0/8"]
  - name: narrow
    requester_accounts: ["111111111111"]
    allowed_cidrs: ["10.1.0.0/16"]
    approval: required
  - name: broad
    requester_accounts: ["333333333333", "111111111111"]
    allowed_cidrs: ["10.0.0.0/8"]
"#,
    );
    assert_eq!(
        p.evaluate(
            &peering(REQUESTER, &["10.1.0.0/16"]),
            &Membership::NotLooked
        ),
        matched("narrow", Approval::Required)
    );
    assert_eq!(
        p.evaluate(
            &peering(REQUESTER, &["10.2.0.0/16"]),
            &Membership::NotLooked
        ),
        matched("broad", Approval::Auto)
    );
    let (closest, reasons) = unmatched_reasons(p.evaluate(
        &peering(REQUESTER, &["192.168.0.0/16"]),
        &Membership::NotLooked,
    ));
    assert_eq!(closest.as_deref(), Some("narrow"));
    assert_eq!(
            reasons,
            vec!["requester CIDR 192.168.0.0/16 is outside the allowed ranges 10.1.0.0/16 of rule narrow"]
        );
}

#[test]
fn private_hosted_zones_are_zone_ids_and_need_both_sides_managed() {
    let zones = |accepter: &str, requester: &str| {
        format!("{ECS_TO_RDS}    wiring:\n      accepter:\n{accepter}      requester:\n{requester}")
    };
    let p = policy(&zones(
        "        private_hosted_zones: [/hostedzone/Z0123456789ABCDEFGHIJ]\n",
        "        manage: true\n",
    ));
    assert_eq!(
        p.rules[0].wiring.accepter.private_hosted_zones[0].as_str(),
        "Z0123456789ABCDEFGHIJ"
    );
    let (field, _) = invalid_field(&zones(
        "        private_hosted_zones: [orders.db.internal]\n",
        "        manage: true\n",
    ));
    assert_eq!(field, "rules[0].wiring.accepter.private_hosted_zones[0]");
    let (field, reason) = invalid_field(&zones(
        "        private_hosted_zones: [Z0123456789ABCDEFGHIJ]\n",
        "        manage: false\n",
    ));
    assert_eq!(field, "rules[0].wiring.accepter.private_hosted_zones");
    assert!(reason.contains("both sides"), "{reason}");
}
