//! The accept decision: table-driven cases, and a property test against an independent
//! reading of the policy.

use std::cell::Cell;
use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::test_runner::{Config as ProptestConfig, TestRunner};

use super::*;
use crate::model::RouteTarget;
use crate::model::{
    ApprovalAnswer, OrganizationalUnitId, PeeringSide, Route, RouteTable, Sides, TagView,
};
use crate::plan::{ApprovalRefusal, Reason};
use crate::policy::Condition;
use crate::policy::{AccepterScope, Rule};
use crate::testing::{id, net, peering, policy, ACCEPTER, ACCEPTER_VPC, ECS_TO_RDS, REQUESTER};

const PEERING_ID: &str = "pcx-0123456789abcdef0";

fn route(destination: &str, target: RouteTarget) -> Route {
    Route {
        destination: net(destination),
        target,
        blackhole: false,
        propagated: false,
    }
}

/// The accepter VPC 172.31.0.0/16 with a main table: local, and a default route via NAT.
fn accepter() -> VpcNetwork {
    VpcNetwork {
        account: id(ACCEPTER),
        vpc_id: id(ACCEPTER_VPC),
        cidrs: vec![net("172.31.0.0/16")],
        route_tables: vec![RouteTable {
            prefix_list_routes: Vec::new(),
            id: id("rtb-0a0a0a0a"),
            main: true,
            subnet_ids: vec![],
            routes: vec![
                route("172.31.0.0/16", RouteTarget::Local),
                route("0.0.0.0/0", RouteTarget::NatGateway(id("nat-0a0a0a0a"))),
            ],
        }],
    }
}

fn with_routes(routes: Vec<Route>) -> VpcNetwork {
    let mut network = accepter();
    network.route_tables.push(RouteTable {
        prefix_list_routes: Vec::new(),
        id: id("rtb-0b0b0b0b"),
        main: false,
        subnet_ids: vec![id("subnet-0b0b0b0b")],
        routes,
    });
    network
}

/// The approvals account of the fixtures, which the tests' policies list as an approver.
const APPROVERS: &str = "333333333333";

/// A valid approval of `request`, as an approver sends it.
fn approval_of(request: &Peering) -> ApprovalDecision {
    ApprovalDecision {
        peering: crate::model::PeeringRef {
            peering_id: request.id.clone(),
            account: request.sides.accepter.account.clone(),
            region: request.sides.accepter.region.clone(),
        },
        requester_account: request.sides.requester.account.clone(),
        requester_cidrs: request.sides.requester.cidrs.clone(),
        by: "alice@example.com".to_owned(),
        sent_from: Some(id(APPROVERS)),
        at: None,
        answer: ApprovalAnswer::Granted,
    }
}

/// Decides with no sibling peering, no requester check, no OU, and (when `approved`) a valid
/// approval from an approver the policy lists.
fn decide(request: &Peering, network: &VpcNetwork, text: &str, approved: bool) -> Decision {
    let mut policy = policy(text);
    policy.approvers = vec![crate::policy::Approver::Account(id(APPROVERS))];
    let approval = approved.then(|| approval_of(request));
    let facts = RequestFacts {
        accepter: network,
        siblings: &[],
        requester: None,
        membership: &Membership::NotLooked,
        approval: approval.as_ref(),
    };
    decide_request(request, &facts, &policy)
}

/// A decision as outcome events show it: the verdict, the rule, the reasons' sentences. The
/// table cases compare against it, so that the wording of each reason is tested too.
#[derive(Debug)]
struct Shown {
    verdict: Verdict,
    rule: Option<String>,
    reasons: Vec<String>,
}

impl PartialEq<Shown> for Decision {
    fn eq(&self, shown: &Shown) -> bool {
        self.verdict == shown.verdict
            && self.rule == shown.rule
            && self.reason_lines() == shown.reasons
    }
}

fn verdict(verdict: Verdict, rule: Option<&str>, reasons: &[&str]) -> Shown {
    Shown {
        verdict,
        rule: rule.map(str::to_owned),
        reasons: reasons.iter().map(|r| (*r).to_owned()).collect(),
    }
}

fn ok_request() -> Peering {
    peering(REQUESTER, &["10.1.0.0/16"])
}

const HELD_RULE: &str = r#"
version: 1
accepters: [{account: "222222222222", regions: [us-east-1]}]
rules:
  - name: needs-ok
    requester_accounts: ["111111111111"]
    allowed_cidrs: ["10.0.0.0/8"]
    approval: required
"#;

// ---- verdicts ----

#[test]
fn a_named_account_inside_the_ranges_is_accepted() {
    assert_eq!(
        decide(&ok_request(), &accepter(), ECS_TO_RDS, false),
        verdict(
            Verdict::Accept,
            Some("ecs-to-rds"),
            &["matched rule ecs-to-rds"]
        )
    );
}

#[test]
fn a_request_from_an_unknown_account_is_never_accepted() {
    let request = peering("999999999999", &["10.1.0.0/16"]);
    for approved in [false, true] {
        assert_eq!(
            decide(&request, &accepter(), ECS_TO_RDS, approved),
            verdict(
                Verdict::Reject,
                None,
                &["requester account 999999999999 is not named by any rule"]
            )
        );
    }
}

#[test]
fn a_cidr_outside_the_allowed_ranges_is_refused() {
    let request = peering(REQUESTER, &["192.168.0.0/16"]);
    assert_eq!(
            decide(&request, &accepter(), ECS_TO_RDS, false),
            verdict(
                Verdict::Reject,
                None,
                &["requester CIDR 192.168.0.0/16 is outside the allowed ranges 10.0.0.0/8 of rule ecs-to-rds"]
            )
        );
}

#[test]
fn a_slash_12_is_refused_when_min_prefix_is_16() {
    let request = peering(REQUESTER, &["10.0.0.0/12"]);
    assert_eq!(
        decide(&request, &accepter(), ECS_TO_RDS, false),
        verdict(
            Verdict::Reject,
            None,
            &["requester CIDR 10.0.0.0/12 is broader than /16 (rule ecs-to-rds)"]
        )
    );
}

#[test]
fn a_request_without_requester_cidrs_is_refused() {
    let request = peering(REQUESTER, &[]);
    let d = decide(&request, &accepter(), ECS_TO_RDS, true);
    assert_eq!(d.verdict, Verdict::Reject);
    assert_eq!(d.reasons, [Reason::Rule(Condition::NoRequesterCidr)]);
}

#[test]
fn unmatched_requests_are_held_when_the_policy_says_hold() {
    let text = ECS_TO_RDS.replace("unmatched: reject", "unmatched: hold");
    let request = peering("999999999999", &["10.1.0.0/16"]);
    let d = decide(&request, &accepter(), &text, false);
    assert_eq!(d.verdict, Verdict::Hold);
    assert_eq!(d.rule, None);
}

#[test]
fn approval_does_not_accept_an_unmatched_request() {
    let hold = ECS_TO_RDS.replace("unmatched: reject", "unmatched: hold");
    for text in [ECS_TO_RDS, hold.as_str(), HELD_RULE] {
        for request in [
            peering("999999999999", &["10.1.0.0/16"]),
            peering(REQUESTER, &["192.168.0.0/16"]),
            peering(REQUESTER, &["10.0.0.0/12"]),
        ] {
            let without = decide(&request, &accepter(), text, false);
            let with = decide(&request, &accepter(), text, true);
            assert_ne!(with.verdict, Verdict::Accept, "{request:?}");
            assert_eq!(with, without, "approval changed an unmatched decision");
        }
    }
}

#[test]
fn held_rule_is_accepted_once_approved() {
    assert_eq!(
        decide(&ok_request(), &accepter(), HELD_RULE, false),
        verdict(
            Verdict::Hold,
            Some("needs-ok"),
            &["rule needs-ok requires approval"]
        )
    );
    assert_eq!(
        decide(&ok_request(), &accepter(), HELD_RULE, true),
        verdict(
            Verdict::Accept,
            Some("needs-ok"),
            &["matched rule needs-ok, which requires approval; approved by alice@example.com"]
        )
    );
}

#[test]
fn an_approved_held_rule_is_still_refused_on_overlap() {
    let network = with_routes(vec![route(
        "10.1.0.0/16",
        RouteTarget::TransitGateway(id("tgw-0c0c0c0c")),
    )]);
    let d = decide(&ok_request(), &network, HELD_RULE, true);
    assert_eq!(d.verdict, Verdict::Reject);
    assert_eq!(d.rule.as_deref(), Some("needs-ok"));
}

#[test]
fn already_active_is_skipped() {
    let mut request = ok_request();
    request.status = PeeringStatus::Active;
    assert_eq!(
        decide(&request, &accepter(), ECS_TO_RDS, true),
        verdict(Verdict::Skip, None, &["peering is active"])
    );
}

#[test]
fn every_status_but_pending_acceptance_is_skipped_with_its_message() {
    for (status, message, reason) in [
        (
            PeeringStatus::Failed,
            Some("Overlapping CIDR range"),
            "peering is failed (Overlapping CIDR range)",
        ),
        (PeeringStatus::Rejected, Some(""), "peering is rejected"),
        (PeeringStatus::Provisioning, None, "peering is provisioning"),
        (
            PeeringStatus::InitiatingRequest,
            None,
            "peering is initiating-request",
        ),
        (PeeringStatus::Expired, None, "peering is expired"),
        (PeeringStatus::Deleted, None, "peering is deleted"),
        (
            PeeringStatus::Other("new-state".to_owned()),
            None,
            "peering is new-state",
        ),
    ] {
        let mut request = ok_request();
        request.status = status;
        request.status_message = message.map(str::to_owned);
        assert_eq!(
            decide(&request, &accepter(), ECS_TO_RDS, true),
            verdict(Verdict::Skip, None, &[reason])
        );
    }
}

#[test]
fn an_accepter_outside_the_policys_accepters_is_skipped() {
    let scoped = ECS_TO_RDS.replace(
        "regions: [us-east-1]",
        "regions: [us-east-1]\n    vpcs: [vpc-33333333]",
    );
    for (account, region, text) in [
        ("333333333333", "us-east-1", ECS_TO_RDS),
        (ACCEPTER, "eu-west-1", ECS_TO_RDS),
        (ACCEPTER, "us-east-1", scoped.as_str()),
    ] {
        let mut request = ok_request();
        request.sides.accepter.account = id(account);
        request.sides.accepter.region = id(region);
        let d = decide(&request, &accepter(), text, true);
        assert_eq!(d.verdict, Verdict::Skip, "{account} {region}");
        assert_eq!(
                d.reason_lines(),
                vec![format!(
                    "accepter account {account} region {region} VPC vpc-22222222 is not in the policy's accepters"
                )]
            );
        assert!(
            matches!(&d.reasons[..], [Reason::NotInAccepters { account: a, .. }] if a == account)
        );
    }
}

#[test]
fn a_network_of_another_vpc_is_skipped() {
    let mut network = accepter();
    network.vpc_id = id("vpc-33333333");
    let d = decide(&ok_request(), &network, ECS_TO_RDS, true);
    assert_eq!(d.verdict, Verdict::Skip);
    assert!(
        matches!(&d.reasons[..], [Reason::WrongAccepterNetwork { accepter, .. }] if accepter == "vpc-22222222"),
        "{d:?}"
    );
}

// ---- overlaps ----

#[test]
fn overlap_with_the_primary_accepter_cidr_is_refused() {
    let request = peering(REQUESTER, &["10.1.0.0/16"]);
    let mut network = accepter();
    network.cidrs = vec![net("10.1.0.0/16")];
    assert_eq!(
        decide(&request, &network, ECS_TO_RDS, true),
        verdict(
            Verdict::Reject,
            Some("ecs-to-rds"),
            &["requester CIDR 10.1.0.0/16 overlaps accepter VPC vpc-22222222 CIDR 10.1.0.0/16"]
        )
    );
}

#[test]
fn overlap_with_a_secondary_accepter_cidr_is_refused() {
    let request = peering(REQUESTER, &["10.1.0.0/16", "10.2.0.0/16"]);
    let mut network = accepter();
    network.cidrs.push(net("10.2.128.0/20"));
    let d = decide(&request, &network, ECS_TO_RDS, true);
    assert_eq!(d.verdict, Verdict::Reject);
    assert_eq!(
        d.reason_lines(),
        vec!["requester CIDR 10.2.0.0/16 overlaps accepter VPC vpc-22222222 CIDR 10.2.128.0/20"]
    );
    assert!(matches!(
        &d.reasons[..],
        [Reason::Overlap(Overlap { source: OverlapSource::VpcCidr { .. }, conflicting, .. })]
            if *conflicting == net("10.2.128.0/20")
    ));
}

#[test]
fn a_transit_gateway_route_to_the_requester_cidr_is_an_overlap_naming_the_table() {
    let request = peering(REQUESTER, &["10.50.0.0/16"]);
    let network = with_routes(vec![route(
        "10.50.0.0/16",
        RouteTarget::TransitGateway(id("tgw-0c0c0c0c")),
    )]);
    assert_eq!(
            decide(&request, &network, ECS_TO_RDS, true),
            verdict(
                Verdict::Reject,
                Some("ecs-to-rds"),
                &["requester CIDR 10.50.0.0/16 overlaps route 10.50.0.0/16 via tgw-0c0c0c0c in route table rtb-0b0b0b0b"]
            )
        );
}

#[test]
fn a_narrower_vpn_route_inside_the_requester_cidr_only_shadows_and_is_reported() {
    let request = peering(REQUESTER, &["10.50.0.0/16"]);
    let network = with_routes(vec![route(
        "10.50.7.0/24",
        RouteTarget::Gateway(id("vgw-0d0d0d0d")),
    )]);
    assert_eq!(find_overlaps(&request, &network), vec![]);
    let d = decide(&request, &network, ECS_TO_RDS, true);
    assert_eq!(d.verdict, Verdict::Accept, "{d:?}");
    assert_eq!(
        d.reasons[1],
        Reason::Shadowed {
            side: Side::Accepter,
            route_table_id: id("rtb-0b0b0b0b"),
            destination: net("10.50.7.0/24"),
            target: RouteTarget::Gateway(id("vgw-0d0d0d0d")),
            peer_cidr: net("10.50.0.0/16"),
        }
    );
    assert_eq!(
        d.reason_lines()[1],
        "the accepter's route table rtb-0b0b0b0b sends 10.50.7.0/24 to vgw-0d0d0d0d, more specific than peer CIDR 10.50.0.0/16: that part of the range will not use the peering"
    );
}

#[test]
fn a_corporate_supernet_to_a_transit_gateway_is_no_conflict_on_either_side() {
    // The VPC Peering Guide's "One VPC that accesses two VPCs using longest prefix matches":
    // the more specific route wins.
    let mut request = peering(REQUESTER, &["10.50.0.0/16"]);
    request.sides.accepter.cidrs = vec![net("172.31.0.0/16")];
    let supernet = || {
        route(
            "10.0.0.0/8",
            RouteTarget::TransitGateway(id("tgw-0c0c0c0c")),
        )
    };
    let network = with_routes(vec![supernet()]);
    assert_eq!(find_overlaps(&request, &network), vec![]);
    let mut requester = with_routes(vec![route(
        "172.16.0.0/12",
        RouteTarget::TransitGateway(id("tgw-0c0c0c0c")),
    )]);
    requester.vpc_id = id("vpc-11111111");
    assert_eq!(requester_route_conflicts(&request, &requester), vec![]);
    let mut f = facts(&network, &[]);
    f.requester = Some(&requester);
    let d = decide_with(&request, f, ECS_TO_RDS);
    assert_eq!(d.verdict, Verdict::Accept, "{d:?}");
    assert_eq!(
        d.reasons,
        [Reason::Matched {
            rule: "ecs-to-rds".to_owned()
        }]
    );
}

#[test]
fn a_propagated_route_to_exactly_the_requester_cidr_conflicts() {
    // A static peering route would take priority over it (route priority), taking the range
    // from the VPN: never.
    let request = peering(REQUESTER, &["10.50.0.0/16"]);
    let network = with_routes(vec![crate::testing::propagated(
        "10.50.0.0/16",
        "vgw-0d0d0d0d",
    )]);
    let overlaps = find_overlaps(&request, &network);
    assert_eq!(overlaps.len(), 1, "{overlaps:?}");
    assert_eq!(
        decide(&request, &network, ECS_TO_RDS, true).verdict,
        Verdict::Reject
    );
}

#[test]
fn a_default_route_via_nat_or_internet_gateway_is_not_an_overlap() {
    let request = peering(REQUESTER, &["10.1.0.0/16", "2600:1f18:abcd:1200::/56"]);
    let network = with_routes(vec![
        route("0.0.0.0/0", RouteTarget::NatGateway(id("nat-0e0e0e0e"))),
        route("0.0.0.0/0", RouteTarget::Gateway(id("igw-0e0e0e0e"))),
        route("::/0", RouteTarget::Other(id("eigw-0e0e0e0e"))),
    ]);
    assert_eq!(find_overlaps(&request, &network), vec![]);
}

#[test]
fn local_routes_and_our_own_peering_routes_are_not_overlaps() {
    let request = peering(REQUESTER, &["10.1.0.0/16"]);
    let mut network = with_routes(vec![
        route("10.1.0.0/16", RouteTarget::Peering(id(PEERING_ID))), // a re-run
        route("10.1.0.0/16", RouteTarget::Local),
    ]);
    assert_eq!(find_overlaps(&request, &network), vec![]);
    // Only blackholed routes of *other* peerings are leftovers; ours blackholed is ours.
    network.route_tables[1].routes[0].blackhole = true;
    assert_eq!(find_overlaps(&request, &network), vec![]);
}

#[test]
fn a_blackhole_route_of_a_deleted_peering_is_not_an_overlap() {
    let request = peering(REQUESTER, &["10.1.0.0/16"]);
    let mut old = route("10.1.0.0/16", RouteTarget::Peering(id("pcx-0f0f0f0f")));
    old.blackhole = true;
    assert_eq!(find_overlaps(&request, &with_routes(vec![old])), vec![]);
}

#[test]
fn a_live_route_through_another_peering_is_an_overlap() {
    let request = peering(REQUESTER, &["10.1.0.0/16"]);
    let network = with_routes(vec![route(
        "10.1.0.0/16",
        RouteTarget::Peering(id("pcx-0f0f0f0f")),
    )]);
    let d = decide(&request, &network, ECS_TO_RDS, false);
    assert_eq!(
            d.reason_lines(),
            vec!["requester CIDR 10.1.0.0/16 overlaps route 10.1.0.0/16 via pcx-0f0f0f0f in route table rtb-0b0b0b0b"]
        );
}

#[test]
fn a_blackholed_transit_gateway_route_is_still_an_overlap() {
    let request = peering(REQUESTER, &["10.1.0.0/16"]);
    let mut stale = route(
        "10.1.0.0/16",
        RouteTarget::TransitGateway(id("tgw-0c0c0c0c")),
    );
    stale.blackhole = true;
    assert_eq!(find_overlaps(&request, &with_routes(vec![stale])).len(), 1);
}

#[test]
fn an_ipv6_overlap_is_found_and_families_never_mix() {
    let request = peering(REQUESTER, &["10.1.0.0/16", "2600:1f18:abcd:1200::/56"]);
    let mut network = accepter();
    network.cidrs = vec![net("2600:1f18:abcd:1200::/56"), net("::ffff:10.1.0.0/112")];
    let overlaps = find_overlaps(&request, &network);
    assert_eq!(overlaps.len(), 1);
    assert_eq!(overlaps[0].requester_cidr, net("2600:1f18:abcd:1200::/56"));
}

#[test]
fn identical_overlaps_are_reported_once() {
    let request = peering(REQUESTER, &["10.1.0.0/16", "10.1.0.0/16"]);
    let tgw = route(
        "10.1.0.0/16",
        RouteTarget::TransitGateway(id("tgw-0c0c0c0c")),
    );
    let mut network = with_routes(vec![tgw.clone(), tgw]);
    network.cidrs.push(net("10.1.0.0/16"));
    assert_eq!(find_overlaps(&request, &network).len(), 2); // the VPC CIDR and the route
}

#[test]
fn an_overlapping_unmatched_request_gives_every_reason() {
    let request = peering(REQUESTER, &["192.168.0.0/16"]);
    let mut network = accepter();
    network.cidrs.push(net("192.168.0.0/20"));
    assert_eq!(
            decide(&request, &network, ECS_TO_RDS, true),
            verdict(
                Verdict::Reject,
                None,
                &[
                    "requester CIDR 192.168.0.0/16 overlaps accepter VPC vpc-22222222 CIDR 192.168.0.0/20",
                    "requester CIDR 192.168.0.0/16 is outside the allowed ranges 10.0.0.0/8 of rule ecs-to-rds",
                ]
            )
        );
}

#[test]
fn decisions_serialize_with_lowercase_verdicts() {
    let d = decide(&ok_request(), &accepter(), ECS_TO_RDS, false);
    assert_eq!(
        serde_json::to_value(&d).unwrap(),
        serde_json::json!({"verdict": "accept", "rule": "ecs-to-rds", "reasons": ["matched rule ecs-to-rds"]})
    );
    assert_eq!(Verdict::Skip.to_string(), "skip");
}

// ---- property: nothing is accepted that an independent reading of the policy refuses ----

const POOL: [&str; 5] = [
    "111111111111",
    "222222222222",
    "333333333333",
    "444444444444",
    "555555555555",
];
const UNKNOWN: [&str; 2] = ["999999999999", "012345678901"];
const ACCEPTER_ACCOUNT: &str = "777777777777";
const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const REQUESTER_VPCS: [&str; 2] = ["vpc-1111111a", "vpc-1111111b"];
const ACCEPTER_VPCS: [&str; 2] = ["vpc-2222222a", "vpc-2222222b"];
const TAG_VALUES: [&str; 2] = ["a", "b"];
const OUS: [&str; 3] = ["ou-ab12-00000001", "ou-ab12-00000002", "ou-ab12-00000003"];

fn v4(base: u32, host_bits: u32, prefix: u8) -> IpNet {
    // Independent of ipnet's truncation: mask by hand.
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    };
    let addr = (base | (host_bits & !base)) & mask;
    IpNet::V4(ipnet::Ipv4Net::new(addr.into(), prefix).unwrap())
}

/// Mostly inside 10.0.0.0/8, sometimes anywhere.
fn requester_cidr() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        6 => (0u32..(1 << 24), 16u8..=28).prop_map(|(host, p)| v4(10 << 24, host, p)),
        2 => (0u32..(1 << 24), 8u8..=28).prop_map(|(host, p)| v4(10 << 24, host, p)),
        1 => (any::<u32>(), 8u8..=28).prop_map(|(addr, p)| v4(0, addr, p)),
    ]
}

fn allowed_cidr() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        Just(net("10.0.0.0/8")),
        Just(net("10.0.0.0/9")),
        Just(net("10.128.0.0/9")),
        Just(net("172.16.0.0/12")),
        (0u32..(1 << 24), 8u8..=20).prop_map(|(host, p)| v4(10 << 24, host, p)),
    ]
}

/// Mostly clear of 10.0.0.0/8 so that some requests have no overlap.
fn accepter_cidr() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        3 => (0u32..(1 << 20), 16u8..=24).prop_map(|(host, p)| v4(0xAC10_0000, host, p)),
        3 => (0u32..(1 << 16), 16u8..=24).prop_map(|(host, p)| v4(0xC0A8_0000, host, p)),
        1 => (0u32..(1 << 24), 16u8..=24).prop_map(|(host, p)| v4(10 << 24, host, p)),
    ]
}

fn route_target() -> impl Strategy<Value = RouteTarget> {
    prop_oneof![
        Just(RouteTarget::Local),
        Just(RouteTarget::Peering(id(PEERING_ID))),
        Just(RouteTarget::Peering(id("pcx-0f0f0f0f"))),
        Just(RouteTarget::NatGateway(id("nat-0e0e0e0e"))),
        Just(RouteTarget::Gateway(id("igw-0e0e0e0e"))),
        Just(RouteTarget::TransitGateway(id("tgw-0c0c0c0c"))),
    ]
}

/// A block nested with `c` (a subnet, a supernet or `c` itself): the interesting conflicts.
fn related(c: IpNet) -> impl Strategy<Value = IpNet> {
    let (_, first, last) = span(&c);
    let (first, hostmask) = (first as u32, (last - first) as u32);
    let prefix = c.prefix_len();
    (
        any::<u32>(),
        prefix.saturating_sub(4)..=(prefix + 4).min(32),
    )
        .prop_map(move |(host, p)| v4(first, host & hostmask, p))
}

fn any_route(requester: Vec<IpNet>) -> impl Strategy<Value = Route> {
    let destination = prop_oneof![
        2 => Just(net("0.0.0.0/0")),
        1 => Just(net("::/0")),
        1 => (0u32..(1 << 24), 12u8..=28).prop_map(|(host, p)| v4(10 << 24, host, p)),
        2 => accepter_cidr(),
        1 => select(requester).prop_flat_map(related),
    ];
    (destination, route_target(), prop::bool::weighted(0.2)).prop_map(
        |(destination, target, blackhole)| Route {
            destination,
            target,
            blackhole,
            propagated: false,
        },
    )
}

fn any_rule() -> impl Strategy<Value = Rule> {
    (
        (
            subsequence(POOL.to_vec(), 0..=3),
            subsequence(OUS.to_vec(), 0..=1),
        ),
        subsequence(REQUESTER_VPCS.to_vec(), 0..=1),
        prop::collection::vec(allowed_cidr(), 1..=3),
        8u8..=24,
        subsequence(ACCEPTER_VPCS.to_vec(), 0..=1),
        subsequence(REGIONS.to_vec(), 0..=2),
        (
            prop::option::weighted(0.3, select(TAG_VALUES.to_vec())),
            prop::bool::weighted(0.3),
        ),
    )
        .prop_map(
            |(
                (mut accounts, ous),
                requester_vpcs,
                allowed_cidrs,
                min_prefix_length,
                accepter_vpcs,
                regions,
                (tag, required),
            )| Rule {
                name: String::new(),
                requester_ous: ous.into_iter().map(id).collect(),
                requester_accounts: {
                    if accounts.is_empty() {
                        accounts.push(POOL[0]);
                    }
                    accounts.into_iter().map(id).collect()
                },
                requester_vpcs: requester_vpcs.into_iter().map(id).collect(),
                allowed_cidrs,
                min_prefix_length,
                min_ipv6_prefix_length: 56,
                accepter_vpcs: accepter_vpcs.into_iter().map(id).collect(),
                regions: regions.into_iter().map(id).collect(),
                required_tags: tag
                    .map(|v| ("team".to_owned(), v.to_owned()))
                    .into_iter()
                    .collect(),
                approval: if required {
                    Approval::Required
                } else {
                    Approval::Auto
                },
                wiring: Default::default(),
            },
        )
}

fn any_policy() -> impl Strategy<Value = Policy> {
    (
        prop::collection::vec(any_rule(), 1..=4),
        any::<bool>(),
        subsequence(REGIONS.to_vec(), 2..=3),
        subsequence(ACCEPTER_VPCS.to_vec(), 0..=2),
    )
        .prop_map(|(mut rules, hold, regions, vpcs)| {
            for (i, rule) in rules.iter_mut().enumerate() {
                rule.name = format!("rule-{i}");
            }
            Policy {
                version: 1,
                unmatched: if hold {
                    UnmatchedAction::Hold
                } else {
                    UnmatchedAction::Reject
                },
                accepters: vec![AccepterScope {
                    account: id(ACCEPTER_ACCOUNT),
                    regions: regions.into_iter().map(id).collect(),
                    vpcs: vpcs.into_iter().map(id).collect(),
                }],
                approvers: vec![crate::policy::Approver::Account(id(APPROVERS))],
                rules,
            }
        })
}

/// Mostly us-east-1, so that rules listing regions still match now and then.
fn region() -> impl Strategy<Value = &'static str> {
    prop_oneof![2 => Just(REGIONS[0]), 1 => select(REGIONS.to_vec())]
}

fn any_peering() -> impl Strategy<Value = Peering> {
    let account = prop_oneof![9 => select(POOL.to_vec()), 1 => select(UNKNOWN.to_vec())];
    let accepter_account = prop_oneof![19 => Just(ACCEPTER_ACCOUNT), 1 => Just("888888888888")];
    let status = prop_oneof![
        18 => Just(PeeringStatus::PendingAcceptance),
        1 => Just(PeeringStatus::Active),
        1 => Just(PeeringStatus::Rejected),
    ];
    let side = |account, vpc, region, cidrs: Vec<IpNet>| PeeringSide {
        account: id(account),
        vpc_id: id(vpc),
        region: id(region),
        cidrs,
        allow_dns_resolution_from_remote_vpc: false,
    };
    (
        (account, select(REQUESTER_VPCS.to_vec()), region()),
        prop::collection::vec(requester_cidr(), 1..=3),
        (accepter_account, select(ACCEPTER_VPCS.to_vec()), region()),
        status,
        (
            prop::option::weighted(0.7, select(TAG_VALUES.to_vec())),
            prop::option::weighted(0.3, select(TAG_VALUES.to_vec())),
        ),
    )
        .prop_map(
            move |(
                (req_account, req_vpc, req_region),
                cidrs,
                (acc_account, acc_vpc, acc_region),
                status,
                (team, env),
            )| {
                let mut tags = BTreeMap::new();
                if let Some(team) = team {
                    tags.insert("team".to_owned(), team.to_owned());
                }
                if let Some(env) = env {
                    tags.insert("env".to_owned(), env.to_owned());
                }
                Peering {
                    id: id(PEERING_ID),
                    status,
                    status_message: None,
                    sides: Sides::new(
                        side(req_account, req_vpc, req_region, cidrs),
                        side(acc_account, acc_vpc, acc_region, vec![]),
                    ),
                    tags: Sides::new(TagView::Read(tags), TagView::NotRead),
                    expires_at: None,
                }
            },
        )
}

fn any_network(p: &Peering) -> impl Strategy<Value = (bool, Vec<IpNet>, Vec<Vec<Route>>)> {
    let requester = p.sides.requester.cidrs.clone();
    let vpc_cidr = prop_oneof![
        9 => accepter_cidr(),
        1 => select(requester.clone()).prop_flat_map(related),
    ];
    (
        prop::bool::weighted(0.95),
        prop::collection::vec(vpc_cidr, 1..=2),
        prop::collection::vec(prop::collection::vec(any_route(requester), 0..=3), 1..=2),
    )
}

fn build_network(
    peering: &Peering,
    (same_vpc, cidrs, tables): (bool, Vec<IpNet>, Vec<Vec<Route>>),
) -> VpcNetwork {
    VpcNetwork {
        account: peering.sides.accepter.account.clone(),
        vpc_id: if same_vpc {
            peering.sides.accepter.vpc_id.clone()
        } else {
            id("vpc-0a0a0a0a")
        },
        cidrs,
        route_tables: tables
            .into_iter()
            .enumerate()
            .map(|(i, routes)| RouteTable {
                prefix_list_routes: Vec::new(),
                id: id(&format!("rtb-{i:08x}")),
                main: i == 0,
                subnet_ids: vec![],
                routes,
            })
            .collect(),
    }
}

// The oracle: a second, deliberately naive reading of the policy with integer ranges.

/// (is IPv4, first address, last address).
fn span(n: &IpNet) -> (bool, u128, u128) {
    let (v4, bits, width) = match n.addr() {
        std::net::IpAddr::V4(a) => (true, u128::from(u32::from(a)), 32u32),
        std::net::IpAddr::V6(a) => (false, u128::from(a), 128u32),
    };
    let host = u32::from(n.prefix_len());
    let size_bits = width - host;
    let hostmask = if size_bits == 128 {
        u128::MAX
    } else {
        (1u128 << size_bits) - 1
    };
    let first = bits & !hostmask;
    (v4, first, first | hostmask)
}

fn oracle_inside(inner: &IpNet, outer: &IpNet) -> bool {
    let (f1, a1, b1) = span(inner);
    let (f2, a2, b2) = span(outer);
    f1 == f2 && a2 <= a1 && b1 <= b2
}

fn oracle_intersect(x: &IpNet, y: &IpNet) -> bool {
    let (f1, a1, b1) = span(x);
    let (f2, a2, b2) = span(y);
    f1 == f2 && a1 <= b2 && a2 <= b1
}

/// What Organizations says of the requester account in a case: OUs it is in and whether it is
/// suspended, or the lookup failed.
fn any_membership() -> impl Strategy<Value = Membership> {
    prop_oneof![
        8 => (subsequence(OUS.to_vec(), 0..=2), prop::bool::weighted(0.2)).prop_map(
            |(ous, suspended)| Membership::Known {
                ous: ous.into_iter().map(id::<OrganizationalUnitId>).collect(),
                inactive: suspended.then(|| "SUSPENDED".to_owned()),
            }
        ),
        1 => Just(Membership::Unknown("lookup failed".to_owned())),
    ]
}

fn oracle_account(rule: &Rule, p: &Peering, membership: &Membership) -> bool {
    rule.requester_accounts.contains(&p.sides.requester.account)
        || match membership {
            Membership::Known { ous, inactive } => {
                inactive.is_none() && rule.requester_ous.iter().any(|ou| ous.contains(ou))
            }
            Membership::NotLooked | Membership::Unknown(_) => false,
        }
}

fn oracle_rule_matches(rule: &Rule, p: &Peering, membership: &Membership) -> bool {
    fn listed<T: PartialEq>(list: &[T], value: &T) -> bool {
        list.is_empty() || list.contains(value)
    }
    oracle_account(rule, p, membership)
        && listed(&rule.requester_vpcs, &p.sides.requester.vpc_id)
        && !p.sides.requester.cidrs.is_empty()
        && p.sides.requester.cidrs.iter().all(|c| {
            let min = if c.addr().is_ipv4() {
                rule.min_prefix_length
            } else {
                rule.min_ipv6_prefix_length
            };
            c.prefix_len() >= min && rule.allowed_cidrs.iter().any(|a| oracle_inside(c, a))
        })
        && listed(&rule.accepter_vpcs, &p.sides.accepter.vpc_id)
        && listed(&rule.regions, &p.sides.requester.region)
        && listed(&rule.regions, &p.sides.accepter.region)
        && rule
            .required_tags
            .iter()
            .all(|(k, v)| p.tags.requester.read().and_then(|t| t.get(k)) == Some(v))
}

fn oracle_vpc_conflict(p: &Peering, n: &VpcNetwork) -> bool {
    p.sides
        .requester
        .cidrs
        .iter()
        .any(|c| n.cidrs.iter().any(|v| oracle_intersect(c, v)))
}

fn oracle_route_conflict(p: &Peering, n: &VpcNetwork) -> bool {
    // Longest prefix match: only a route to exactly a requester CIDR, through another target,
    // takes the range from the peering (a broader one loses, a narrower one only shadows).
    let harmless = |r: &Route| match &r.target {
        RouteTarget::Local => true,
        RouteTarget::Peering(id) if *id == p.id => true,
        RouteTarget::Peering(_) if r.blackhole => true,
        _ => false,
    };
    n.route_tables
        .iter()
        .flat_map(|t| &t.routes)
        .filter(|r| !harmless(r))
        .any(|r| {
            p.sides
                .requester
                .cidrs
                .iter()
                .any(|c| span(c) == span(&r.destination))
        })
}

fn oracle_in_scope(policy: &Policy, p: &Peering) -> bool {
    policy.accepters.iter().any(|s| {
        s.account == p.sides.accepter.account
            && s.regions.contains(&p.sides.accepter.region)
            && (s.vpcs.is_empty() || s.vpcs.contains(&p.sides.accepter.vpc_id))
    })
}

fn check_case(
    policy: &Policy,
    p: &Peering,
    network: &VpcNetwork,
    membership: &Membership,
    approved: bool,
) -> Result<Verdict, TestCaseError> {
    let approval = approved.then(|| approval_of(p));
    let facts = RequestFacts {
        accepter: network,
        siblings: &[],
        requester: None,
        membership,
        approval: approval.as_ref(),
    };
    let d = decide_request(p, &facts, policy);
    prop_assert!(!d.reasons.is_empty(), "a decision without reasons: {d:?}");
    let pending = p.status == PeeringStatus::PendingAcceptance;
    let decidable =
        pending && oracle_in_scope(policy, p) && network.vpc_id == p.sides.accepter.vpc_id;
    prop_assert_eq!(
        d.verdict == Verdict::Skip,
        !decidable,
        "skip mismatch: {:?}",
        d
    );
    let first_match = policy
        .rules
        .iter()
        .find(|r| oracle_rule_matches(r, p, membership));
    // A rule that names OUs, not the account, cannot be checked when the lookup failed: the
    // decision may then hold where the oracle sees a later rule.
    let unverifiable = matches!(membership, Membership::Unknown(_))
        && policy.rules.iter().any(|r| !r.requester_ous.is_empty());
    let conflict = oracle_vpc_conflict(p, network) || oracle_route_conflict(p, network);
    if d.verdict == Verdict::Accept {
        prop_assert!(pending);
        prop_assert!(oracle_in_scope(policy, p));
        prop_assert!(
            !oracle_vpc_conflict(p, network),
            "accepted over a VPC CIDR overlap: {d:?}"
        );
        prop_assert!(!conflict, "accepted over a route conflict: {d:?}");
        let name = d.rule.clone().unwrap_or_default();
        let rule = policy.rules.iter().find(|r| r.name == name);
        prop_assert!(rule.is_some(), "accepted without a rule: {d:?}");
        let rule = rule.unwrap();
        prop_assert!(oracle_account(rule, p, membership));
        prop_assert!(
            oracle_rule_matches(rule, p, membership),
            "rule {name} does not match: {d:?}"
        );
        prop_assert_eq!(
            first_match.map(|r| &r.name),
            Some(&name),
            "not the first matching rule"
        );
        if !approved {
            prop_assert_eq!(
                rule.approval,
                Approval::Auto,
                "accepted a held rule without approval"
            );
        }
    }
    // Completeness: a clean match is not refused.
    if decidable && !conflict && !unverifiable {
        if let Some(rule) = first_match {
            if approved || rule.approval == Approval::Auto {
                prop_assert_eq!(d.verdict, Verdict::Accept, "clean match refused: {:?}", d);
            }
        }
    }
    Ok(d.verdict)
}

#[test]
fn nothing_is_accepted_that_an_independent_reading_of_the_policy_refuses() {
    let config = ProptestConfig {
        source_file: Some(file!()),
        ..ProptestConfig::with_cases(10_000)
    };
    let mut runner = TestRunner::new(config);
    let accepted = Cell::new(0u32);
    let refused = Cell::new(0u32);
    let strategy = (
        any_policy(),
        any_peering().prop_flat_map(|p| {
            let network = any_network(&p);
            (Just(p), network)
        }),
        any_membership(),
    );
    let result = runner.run(&strategy, |(policy, (p, network), membership)| {
        let network = build_network(&p, network);
        let without = check_case(&policy, &p, &network, &membership, false)?;
        let with = check_case(&policy, &p, &network, &membership, true)?;
        if without == Verdict::Accept {
            prop_assert_eq!(with, Verdict::Accept, "approval withdrew an acceptance");
        }
        if policy
            .rules
            .iter()
            .all(|r| !oracle_rule_matches(r, &p, &membership))
        {
            prop_assert_eq!(with, without, "approval changed an unmatched request");
        }
        match with {
            Verdict::Accept => accepted.set(accepted.get() + 1),
            Verdict::Reject | Verdict::Hold => refused.set(refused.get() + 1),
            Verdict::Skip => {}
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // Guard against a vacuous property: the generators must produce both outcomes.
    assert!(accepted.get() >= 100, "only {} accepted", accepted.get());
    assert!(refused.get() >= 100, "only {} refused", refused.get());
}

// ---- siblings, requester side, approvals bound to what was approved ----

fn decide_with(request: &Peering, facts: RequestFacts<'_>, text: &str) -> Decision {
    let mut policy = policy(text);
    policy.approvers = vec![crate::policy::Approver::Account(id(APPROVERS))];
    decide_request(request, &facts, &policy)
}

fn facts<'a>(network: &'a VpcNetwork, siblings: &'a [Peering]) -> RequestFacts<'a> {
    RequestFacts {
        accepter: network,
        siblings,
        requester: None,
        membership: &Membership::NotLooked,
        approval: None,
    }
}

fn sibling(pcx: &str, status: PeeringStatus, cidr: &str, expires: Option<i64>) -> Peering {
    let mut other = peering("444444444444", &[cidr]);
    other.id = id(pcx);
    other.status = status;
    other.expires_at = expires.and_then(|s| chrono::DateTime::from_timestamp(s, 0));
    other
}

#[test]
fn an_active_peering_of_the_accepter_vpc_with_the_same_cidr_wins() {
    let request = ok_request();
    let siblings = [sibling(
        "pcx-0f0f0f01",
        PeeringStatus::Active,
        "10.1.0.0/16",
        None,
    )];
    let network = accepter();
    let d = decide_with(&request, facts(&network, &siblings), ECS_TO_RDS);
    assert_eq!(d.verdict, Verdict::Reject);
    assert!(
        matches!(&d.reasons[..], [Reason::Overlap(Overlap { source: OverlapSource::Peering { peering_id }, .. })]
            if peering_id == "pcx-0f0f0f01"),
        "{d:?}"
    );
}

#[test]
fn of_two_pending_requests_with_one_cidr_the_earlier_wins_on_both_sides() {
    let mut ours = ok_request();
    ours.expires_at = chrono::DateTime::from_timestamp(2_000, 0);
    let earlier = sibling(
        "pcx-0f0f0f02",
        PeeringStatus::PendingAcceptance,
        "10.1.0.0/16",
        Some(1_000),
    );
    let later = sibling(
        "pcx-0f0f0f03",
        PeeringStatus::PendingAcceptance,
        "10.1.0.0/16",
        Some(3_000),
    );
    let network = accepter();
    let lost = decide_with(
        &ours,
        facts(&network, std::slice::from_ref(&earlier)),
        ECS_TO_RDS,
    );
    assert_eq!(lost.verdict, Verdict::Reject, "{lost:?}");
    let won = decide_with(
        &ours,
        facts(&network, std::slice::from_ref(&later)),
        ECS_TO_RDS,
    );
    assert_eq!(won.verdict, Verdict::Accept, "{won:?}");
    // A sibling that is gone, or another range, is no collision.
    let gone = sibling("pcx-0f0f0f04", PeeringStatus::Rejected, "10.1.0.0/16", None);
    let other = sibling("pcx-0f0f0f05", PeeringStatus::Active, "10.9.0.0/16", None);
    let d = decide_with(&ours, facts(&network, &[gone, other]), ECS_TO_RDS);
    assert_eq!(d.verdict, Verdict::Accept, "{d:?}");
}

#[test]
fn a_request_the_requester_side_could_never_route_is_held() {
    let mut request = ok_request();
    request.sides.accepter.cidrs = vec![net("172.31.0.0/16")];
    let mut requester = accepter();
    requester.vpc_id = id("vpc-11111111");
    requester.route_tables[0].routes.push(route(
        "172.31.0.0/16",
        RouteTarget::TransitGateway(id("tgw-0c0c0c0c")),
    ));
    let network = accepter();
    let mut f = facts(&network, &[]);
    f.requester = Some(&requester);
    let d = decide_with(&request, f, ECS_TO_RDS);
    assert_eq!(d.verdict, Verdict::Hold, "{d:?}");
    assert!(
        matches!(&d.reasons[..], [Reason::RequesterRouteConflict { accepter_cidr, .. }]
            if *accepter_cidr == net("172.31.0.0/16")),
        "{d:?}"
    );
}

#[test]
fn an_approval_from_someone_else_or_for_other_cidrs_releases_nothing() {
    let request = ok_request();
    let network = accepter();
    let mut stranger = approval_of(&request);
    stranger.sent_from = Some(id("999999999999"));
    let mut f = facts(&network, &[]);
    f.approval = Some(&stranger);
    let d = decide_with(&request, f, HELD_RULE);
    assert_eq!(d.verdict, Verdict::Hold, "{d:?}");
    assert!(
        d.reasons.iter().any(|r| matches!(
            r,
            Reason::ApprovalRefused {
                refusal: ApprovalRefusal::NotAnApprover { .. },
                ..
            }
        )),
        "{d:?}"
    );

    let mut stale = approval_of(&request);
    stale.requester_cidrs = vec![net("10.7.0.0/16")];
    f.approval = Some(&stale);
    let d = decide_with(&request, f, HELD_RULE);
    assert_eq!(d.verdict, Verdict::Hold, "{d:?}");
    assert!(
        d.reasons
            .iter()
            .any(|r| matches!(r, Reason::ApprovalRefused {
            refusal: ApprovalRefusal::CidrsChanged { now, .. },
            ..
        } if *now == [net("10.1.0.0/16")])),
        "{d:?}"
    );

    let mut old = approval_of(&request);
    let mut dated = request.clone();
    dated.expires_at = chrono::DateTime::from_timestamp(10 * 86_400, 0);
    old.at = chrono::DateTime::from_timestamp(86_400, 0);
    f.approval = Some(&old);
    let d = decide_with(&dated, f, HELD_RULE);
    assert_eq!(d.verdict, Verdict::Hold, "{d:?}");
    assert!(
        d.reasons.iter().any(|r| matches!(
            r,
            Reason::ApprovalRefused {
                refusal: ApprovalRefusal::BeforeRequest { .. },
                ..
            }
        )),
        "{d:?}"
    );
}

#[test]
fn a_valid_denial_rejects_with_the_approvers_reason() {
    let request = ok_request();
    let network = accepter();
    let mut denial = approval_of(&request);
    denial.answer = ApprovalAnswer::Denied {
        reason: "database migration".to_owned(),
    };
    let mut f = facts(&network, &[]);
    f.approval = Some(&denial);
    let d = decide_with(&request, f, HELD_RULE);
    assert_eq!(d.verdict, Verdict::Reject);
    assert_eq!(
        d.reasons,
        [Reason::DeniedBy {
            by: "alice@example.com".to_owned(),
            reason: "database migration".to_owned()
        }]
    );
    assert_eq!(
        d.reason_lines(),
        ["denied by alice@example.com: database migration"]
    );
}
