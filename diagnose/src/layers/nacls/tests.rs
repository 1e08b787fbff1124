//! How an ACL is evaluated (`evaluate_nacl`, as AWS does per packet, for whole ranges), and
//! the network-ACL rows of the troubleshooting table.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ipnet::IpNet;

use peerwire::model::nacl::{
    evaluate_nacl, nacl_of_subnet, NaclAction, NaclEntry, NaclProtocol, NaclVerdict, NetworkAcl,
    PortRange, CATCH_ALL_RULE, EPHEMERAL_PORTS,
};
use peerwire::model::{Direction, SubnetId};
use peerwire::testing::{id, net};

use crate::fixtures::*;
use crate::LayerId;
use crate::Status;

use NaclAction::{Allow, Deny};
use NaclProtocol::{All, Tcp};

fn acl(entries: Vec<NaclEntry>) -> NetworkAcl {
    NetworkAcl {
        id: id("acl-00000001"),
        default: false,
        subnet_ids: Vec::new(),
        entries,
    }
}

#[test]
fn the_default_acl_allows_everything_both_ways() {
    let acl = default_acl("acl-00000001");
    for direction in [Direction::Ingress, Direction::Egress] {
        assert_eq!(
            evaluate_nacl(&acl, direction, net(REQ_CIDR), PortRange::single(5432)),
            NaclVerdict::Allowed
        );
        assert_eq!(
            evaluate_nacl(&acl, direction, net(REQ_CIDR), EPHEMERAL_PORTS),
            NaclVerdict::Allowed
        );
    }
}

#[test]
fn traffic_no_rule_allows_is_denied_by_rule_star() {
    let acl = acl(vec![entry(
        100,
        false,
        Tcp,
        Some((5432, 5432)),
        REQ_CIDR,
        Allow,
    )]);
    assert_eq!(
        evaluate_nacl(
            &acl,
            Direction::Ingress,
            net(REQ_CIDR),
            PortRange::single(5432)
        ),
        NaclVerdict::Allowed
    );
    // The DB's replies leave on ephemeral ports: nothing allows them.
    assert_eq!(
        evaluate_nacl(&acl, Direction::Egress, net(REQ_CIDR), EPHEMERAL_PORTS),
        NaclVerdict::Denied {
            rule_number: None,
            peer: net(REQ_CIDR),
            ports: EPHEMERAL_PORTS
        }
    );
}

#[test]
fn a_lower_numbered_deny_wins_over_a_later_allow() {
    let acl = acl(vec![
        entry(100, false, All, None, "0.0.0.0/0", Allow),
        entry(50, false, Tcp, Some((5432, 5432)), REQ_CIDR, Deny),
    ]);
    assert_eq!(
        evaluate_nacl(
            &acl,
            Direction::Ingress,
            net(REQ_CIDR),
            PortRange::single(5432)
        ),
        NaclVerdict::Denied {
            rule_number: Some(50),
            peer: net(REQ_CIDR),
            ports: PortRange::single(5432)
        }
    );
}

#[test]
fn first_match_wins_a_deny_after_a_matching_allow_never_applies() {
    let acl = acl(vec![
        entry(100, false, Tcp, Some((5432, 5432)), REQ_CIDR, Allow),
        entry(200, false, All, None, "0.0.0.0/0", Deny),
    ]);
    assert_eq!(
        evaluate_nacl(
            &acl,
            Direction::Ingress,
            net(REQ_CIDR),
            PortRange::single(5432)
        ),
        NaclVerdict::Allowed
    );
}

#[test]
fn an_allow_for_part_of_the_peer_leaves_the_rest_to_the_next_rules() {
    // Only 10.0.1.0/24 (one task subnet) is allowed; the rest of 10.0.0.0/16 falls to *.
    let acl = acl(vec![entry(
        100,
        false,
        Tcp,
        Some((5432, 5432)),
        "10.0.1.0/24",
        Allow,
    )]);
    let verdict = evaluate_nacl(
        &acl,
        Direction::Ingress,
        net(REQ_CIDR),
        PortRange::single(5432),
    );
    let NaclVerdict::Denied {
        rule_number, peer, ..
    } = verdict
    else {
        panic!("{verdict:?}")
    };
    assert_eq!(rule_number, None);
    assert!(net(REQ_CIDR).contains(&peer) && !peer.contains(&net("10.0.1.0/24")));

    // A deny for one /24 behind a broad allow changes nothing: the allow matched first.
    let acl = acl_with_deny_after_allow();
    assert_eq!(
        evaluate_nacl(
            &acl,
            Direction::Ingress,
            net(REQ_CIDR),
            PortRange::single(5432)
        ),
        NaclVerdict::Allowed
    );
}

fn acl_with_deny_after_allow() -> NetworkAcl {
    acl(vec![
        entry(100, false, Tcp, Some((5432, 5432)), "10.0.0.0/8", Allow),
        entry(110, false, Tcp, Some((5432, 5432)), "10.0.5.0/24", Deny),
    ])
}

#[test]
fn a_deny_for_one_task_subnet_before_the_allow_breaks_that_subnet_only() {
    let acl = acl(vec![
        entry(90, false, Tcp, Some((5432, 5432)), "10.0.5.0/24", Deny),
        entry(100, false, Tcp, Some((5432, 5432)), "10.0.0.0/8", Allow),
    ]);
    assert_eq!(
        evaluate_nacl(
            &acl,
            Direction::Ingress,
            net(REQ_CIDR),
            PortRange::single(5432)
        ),
        NaclVerdict::Denied {
            rule_number: Some(90),
            peer: net("10.0.5.0/24"),
            ports: PortRange::single(5432)
        }
    );
}

#[test]
fn ephemeral_ports_split_over_two_allows_are_all_allowed() {
    let acl = acl(vec![
        entry(100, true, Tcp, Some((1024, 32767)), REQ_CIDR, Allow),
        entry(110, true, Tcp, Some((32768, 65535)), "10.0.0.0/8", Allow),
    ]);
    assert_eq!(
        evaluate_nacl(&acl, Direction::Egress, net(REQ_CIDR), EPHEMERAL_PORTS),
        NaclVerdict::Allowed
    );
    // Linux's range only (32768-60999) leaves 1024-32767 to rule *.
    let acl = acl_linux_only();
    assert_eq!(
        evaluate_nacl(&acl, Direction::Egress, net(REQ_CIDR), EPHEMERAL_PORTS),
        NaclVerdict::Denied {
            rule_number: None,
            peer: net(REQ_CIDR),
            ports: PortRange::new(1024, 32767)
        }
    );
}

fn acl_linux_only() -> NetworkAcl {
    acl(vec![entry(
        100,
        true,
        Tcp,
        Some((32768, 60999)),
        REQ_CIDR,
        Allow,
    )])
}

#[test]
fn udp_and_the_other_direction_never_count_for_tcp_traffic() {
    let acl = acl(vec![
        entry(
            100,
            false,
            NaclProtocol::Other("17".to_owned()),
            Some((5432, 5432)),
            REQ_CIDR,
            Allow,
        ),
        entry(110, true, Tcp, Some((5432, 5432)), REQ_CIDR, Allow),
    ]);
    assert!(matches!(
        evaluate_nacl(
            &acl,
            Direction::Ingress,
            net(REQ_CIDR),
            PortRange::single(5432)
        ),
        NaclVerdict::Denied {
            rule_number: None,
            ..
        }
    ));
}

#[test]
fn the_explicit_catch_all_entry_reads_as_rule_star() {
    let acl = acl(vec![entry(
        CATCH_ALL_RULE,
        false,
        All,
        None,
        "0.0.0.0/0",
        Deny,
    )]);
    assert!(matches!(
        evaluate_nacl(
            &acl,
            Direction::Ingress,
            net(REQ_CIDR),
            PortRange::single(5432)
        ),
        NaclVerdict::Denied {
            rule_number: None,
            ..
        }
    ));
}

#[test]
fn a_subnet_without_its_own_acl_uses_the_default_acl() {
    let mut custom = acl(vec![]);
    custom.subnet_ids = vec![id("subnet-00000001")];
    let acls = vec![custom, default_acl("acl-0000000d")];
    let of = |subnet: &str| {
        let subnet: SubnetId = id(subnet);
        nacl_of_subnet(&acls, &subnet).map(|a| a.id.to_string())
    };
    assert_eq!(of("subnet-00000001").as_deref(), Some("acl-00000001"));
    assert_eq!(of("subnet-00000002").as_deref(), Some("acl-0000000d"));
}

/// What the evaluation leaves undecided after a partial allow is exactly the rest of the
/// range: allowing each denied part in turn ends with the whole /16 allowed, the parts
/// disjoint from the first allow and adding up to the /16 without it.
#[test]
fn a_partial_allow_leaves_exactly_the_complement_to_the_next_rules() {
    let mut acl = acl(vec![entry(
        100,
        false,
        Tcp,
        Some((5432, 5432)),
        "10.0.1.0/24",
        Allow,
    )]);
    let mut rest: Vec<IpNet> = Vec::new();
    loop {
        match evaluate_nacl(
            &acl,
            Direction::Ingress,
            net(REQ_CIDR),
            PortRange::single(5432),
        ) {
            NaclVerdict::Allowed => break,
            NaclVerdict::Denied { peer, .. } => {
                assert!(rest.len() < 64, "{rest:?}");
                rest.push(peer);
                let next = 101 + i32::try_from(rest.len()).unwrap();
                acl.entries.push(entry(
                    next,
                    false,
                    Tcp,
                    Some((5432, 5432)),
                    &peer.to_string(),
                    Allow,
                ));
            }
        }
    }
    let covered: u64 = rest
        .iter()
        .map(|n| 1u64 << (32 - n.prefix_len()))
        .sum::<u64>()
        + 256;
    assert_eq!(covered, 1 << 16);
    assert!(rest.iter().all(|n| !n.contains(&net("10.0.1.0/24"))));
}

#[test]
fn a_deny_on_the_db_subnets_acl_names_the_acl_the_rule_and_the_subnets() {
    let mut nacls = default_nacls();
    if let Some(acls) = nacls.accepter.as_mut() {
        acls[0]
            .entries
            .push(entry(50, false, Tcp, Some((5432, 5432)), REQ_CIDR, Deny));
    }

    let d = run_with(wired(), nacls);

    assert_only_broken(&d, &[LayerId::NetworkAcls]);
    let l = layer(&d, LayerId::NetworkAcls);
    assert_eq!(l.problems.len(), 1, "{l:#?}");
    let p = &l.problems[0];
    assert_eq!(p.resource.as_deref(), Some(ACC_ACL));
    assert_eq!(
        p.subnets,
        ['a', 'b', 'c'].map(|n| subnet_id('2', n)).to_vec()
    );
    assert!(
        p.finding
            .contains("inbound tcp/5432 from 10.0.0.0/16 is denied by rule 50"),
        "{p:?}"
    );
    assert!(p.fix.contains("below 50"), "{p:?}");
}

#[test]
fn a_stateless_acl_without_the_return_path_is_broken_on_the_ephemeral_ports() {
    let mut nacls = default_nacls();
    // The tasks' subnets allow 5432 out, but nothing comes back in.
    nacls.requester = Some(vec![NetworkAcl {
        id: id("acl-1000000e"),
        default: true,
        subnet_ids: Vec::new(),
        entries: vec![entry(100, true, Tcp, Some((5432, 5432)), ACC_CIDR, Allow)],
    }]);

    let d = run_with(wired(), nacls);

    let l = layer(&d, LayerId::NetworkAcls);
    assert_eq!(l.status, Status::Broken);
    assert_eq!(l.problems.len(), 1, "{l:#?}");
    assert!(
        l.finding
            .contains("inbound tcp/1024-65535 from 10.1.0.0/16 (return traffic"),
        "{l:?}"
    );
    assert!(l.finding.contains("rule * denies it"), "{l:?}");
}
