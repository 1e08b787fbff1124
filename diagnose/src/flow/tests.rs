//! Flow-log records: windows, formats (default and custom), records, filter patterns, counts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use peerwire::model::Side;

use super::*;
use crate::facts::Facts;
use crate::fixtures::{inspection, wired};
use crate::inspection::{FlowLogInfo, SideFlowLogs, Traffic};

/// A version 5 custom format: other fields, another order, and the packet addresses.
const CUSTOM: &str = "${version} ${vpc-id} ${subnet-id} ${interface-id} ${account-id} ${type} \
     ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${protocol} \
     ${bytes} ${packets} ${start} ${end} ${action} ${tcp-flags} ${log-status}";

/// A default-format record.
pub(crate) fn record(src: &str, dst: &str, sport: u16, dport: u16, action: &str) -> String {
    format!(
        "2 222222222222 eni-0a1b2c3d4e5f60718 {src} {dst} {sport} {dport} 6 20 4249 1418530010 \
         1418530070 {action} OK"
    )
}

#[test]
fn windows_read_as_people_write_them() {
    for (text, seconds) in [
        ("15m", 900),
        ("90s", 90),
        ("2h", 7200),
        ("1d", 86_400),
        (" 5m ", 300),
    ] {
        assert_eq!(
            parse_window(text),
            Ok(Duration::from_secs(seconds)),
            "{text}"
        );
    }
    for bad in [
        "",
        "15",
        "m",
        "15 m",
        "-5m",
        "1.5h",
        "15M",
        "0m",
        "8d",
        "99999999999999999999s",
    ] {
        assert!(parse_window(bad).is_err(), "{bad:?}");
    }
    for text in ["15m", "90s", "2h", "1d", "61s"] {
        assert_eq!(window_text(parse_window(text).unwrap()), text);
    }
}

#[test]
fn the_default_format_is_the_14_fields_of_version_2() {
    for absent in [None, Some(""), Some("  ")] {
        let format = LogFormat::parse(absent).unwrap();
        assert_eq!(format.fields.len(), 14);
        assert_eq!(format.fields[3], "srcaddr");
        assert_eq!(format.fields[12], "action");
    }
}

#[test]
fn a_custom_format_without_a_needed_field_is_refused_naming_it() {
    let err = LogFormat::parse(Some("${version} ${srcaddr} ${dstaddr} ${action}")).unwrap_err();
    assert!(
        err.contains("lacks ${srcport} ${dstport} ${protocol}"),
        "{err}"
    );
    let err = LogFormat::parse(Some("${version} srcaddr")).unwrap_err();
    assert!(err.contains("`srcaddr`"), "{err}");
    // The packet addresses stand in for the interface's.
    let format = LogFormat::parse(Some(
        "${pkt-srcaddr} ${pkt-dstaddr} ${srcport} ${dstport} ${protocol} ${action}",
    ))
    .unwrap();
    let parsed = parse_record(&format, "10.0.1.10 10.1.1.5 49761 5432 6 ACCEPT").unwrap();
    assert_eq!(
        parsed.map(|r| r.dst.to_string()).as_deref(),
        Some("10.1.1.5")
    );
}

#[test]
fn default_records_parse_and_nodata_carries_no_traffic() {
    let format = LogFormat::parse(None).unwrap();
    let parsed = parse_record(
        &format,
        &record("10.0.1.10", "10.1.1.5", 49761, 5432, "REJECT"),
    )
    .unwrap()
    .unwrap();
    assert_eq!(parsed.src.to_string(), "10.0.1.10");
    assert_eq!(parsed.dst.to_string(), "10.1.1.5");
    assert_eq!(
        (parsed.src_port, parsed.dst_port, parsed.protocol),
        (49761, 5432, 6)
    );
    assert_eq!(parsed.action, Action::Reject);
    for empty in [
        "2 222222222222 eni-0a1b2c3d4e5f60718 - - - - - - - 1431280876 1431280934 - NODATA",
        "2 222222222222 eni-0a1b2c3d4e5f60718 - - - - - - - 1431280876 1431280934 - SKIPDATA",
    ] {
        assert_eq!(parse_record(&format, empty), Ok(None), "{empty}");
    }
    // An ICMP record has no ports: `-`.
    let icmp = "2 222222222222 eni-0a1b2c3d4e5f60718 10.0.1.10 10.1.1.5 - - 1 1 84 1 2 ACCEPT OK";
    assert_eq!(parse_record(&format, icmp), Ok(None));
}

#[test]
fn a_line_that_does_not_fit_the_format_is_an_error_not_a_record() {
    let format = LogFormat::parse(None).unwrap();
    for (line, why) in [
        (
            "2 222222222222 eni-1 10.0.1.10 10.1.1.5 1 5432 6",
            "8 fields",
        ),
        (
            &*record("10.0.1.x", "10.1.1.5", 1, 5432, "ACCEPT"),
            "not an address",
        ),
        (
            &*record("10.0.1.10", "10.1.1.5", 1, 5432, "DROP"),
            "not ACCEPT",
        ),
        (
            "2 2 eni-1 10.0.1.10 10.1.1.5 1 70000 6 1 1 1 2 ACCEPT OK",
            "not a port",
        ),
    ] {
        let err = parse_record(&format, line).unwrap_err();
        assert!(err.contains(why), "{line}: {err}");
    }
}

#[test]
fn custom_records_are_read_by_field_name_not_position() {
    let format = LogFormat::parse(Some(CUSTOM)).unwrap();
    let line = "5 vpc-22222222 subnet-2000000a eni-0a1b2c3d4e5f60718 222222222222 IPv4 10.0.1.10 \
                10.1.1.5 49761 5432 10.0.1.10 10.1.1.5 6 4249 20 1418530010 1418530070 ACCEPT 2 \
                OK";
    let parsed = parse_record(&format, line).unwrap().unwrap();
    assert_eq!(parsed.src.to_string(), "10.0.1.10");
    assert_eq!(parsed.dst_port, 5432);
    assert_eq!(parsed.action, Action::Accept);
}

#[test]
fn the_filter_pattern_keeps_tcp_to_or_from_the_db_ports_only() {
    let format = LogFormat::parse(None).unwrap();
    assert_eq!(
        format.filter_pattern("dstport", &[5432]),
        "[version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport=5432, \
         protocol=6, packets, bytes, start, end, action, log_status]"
    );
    let replies = format.filter_pattern("srcport", &[5432, 3306]);
    assert!(
        replies.contains("srcport=5432 || srcport=3306, dstport, protocol=6"),
        "{replies}"
    );
    let custom = LogFormat::parse(Some(CUSTOM)).unwrap();
    assert!(custom
        .filter_pattern("dstport", &[5432])
        .starts_with("[version, vpc_id, subnet_id, interface_id"));
}

fn flow_log(group: &str, format: Option<&str>) -> FlowLogInfo {
    FlowLogInfo {
        flow_log_id: "fl-0123456789abcdef0".to_owned(),
        resource_id: "vpc-22222222".to_owned(),
        destination_type: "cloud-watch-logs".to_owned(),
        log_group: Some(group.to_owned()),
        log_format: format.map(str::to_owned),
        traffic_type: Some("ALL".to_owned()),
    }
}

/// `lines` as the accepter's flow log read them from group `flows`.
pub(crate) fn accepter_read(lines: &[String]) -> Traffic {
    let read = SideFlowLogs {
        flow_logs: vec![flow_log("flows", None)],
        messages: lines
            .iter()
            .map(|l| ("flows".to_owned(), l.clone()))
            .collect(),
        truncated: false,
        errors: Vec::new(),
    };
    Traffic {
        window: Duration::from_secs(900),
        sides: peerwire::model::Sides::new(None, Some(read)),
    }
}

#[test]
fn records_are_counted_by_side_direction_addresses_and_port() {
    let lines = vec![
        record("10.0.1.10", "10.1.1.5", 49761, 5432, "REJECT"),
        record("10.0.1.10", "10.1.1.5", 49762, 5432, "REJECT"),
        record("10.0.1.10", "10.1.1.5", 49763, 5432, "ACCEPT"),
        record("10.1.1.5", "10.0.1.10", 5432, 49763, "ACCEPT"),
        record("10.0.2.20", "10.1.1.5", 40000, 5432, "ACCEPT"),
        // Not about the peering on a DB port: another port, another network, the DB calling
        // out, UDP, and a line that fits no format.
        record("10.0.1.10", "10.1.1.5", 49761, 443, "REJECT"),
        record("192.168.1.1", "10.1.1.5", 49761, 5432, "REJECT"),
        record("10.1.1.5", "10.0.1.10", 40000, 5432, "REJECT"),
        "2 222222222222 eni-0a1b2c3d4e5f60718 10.0.1.10 10.1.1.5 5000 5432 17 1 1 1 2 ACCEPT OK"
            .to_owned(),
        "garbage".to_owned(),
    ];
    let inspection = inspection(wired());
    let facts = Facts::new(&inspection);
    let counts = count(&accepter_read(&lines), &facts).unwrap();

    assert_eq!(counts.records, 10);
    assert_eq!(counts.unreadable, 1);
    assert!(counts
        .unreadable_reason
        .as_deref()
        .unwrap_or("")
        .contains("garbage"));
    assert_eq!(counts.log_groups, ["flows"]);
    let seen: Vec<(Side, FlowDirection, String, String, u16, u64, u64)> = counts
        .flows
        .iter()
        .map(|f| {
            (
                f.observed_on,
                f.direction,
                f.client.to_string(),
                f.server.to_string(),
                f.port,
                f.accepted,
                f.rejected,
            )
        })
        .collect();
    let expected = |direction, client: &str, accepted, rejected| {
        (
            Side::Accepter,
            direction,
            client.to_owned(),
            "10.1.1.5".to_owned(),
            5432,
            accepted,
            rejected,
        )
    };
    assert_eq!(
        seen,
        [
            expected(FlowDirection::Request, "10.0.1.10", 1, 2),
            expected(FlowDirection::Request, "10.0.2.20", 1, 0),
            expected(FlowDirection::Reply, "10.0.1.10", 1, 0),
        ]
    );
    assert_eq!(counts.flows[0].path(), "10.0.1.10 → 10.1.1.5:5432");
    assert_eq!(counts.flows[2].path(), "10.1.1.5:5432 → 10.0.1.10");
}

#[test]
fn only_flow_logs_delivered_to_cloudwatch_logs_are_counted() {
    let inspection = inspection(wired());
    let facts = Facts::new(&inspection);
    let mut traffic = accepter_read(&[]);
    assert!(
        count(&traffic, &facts).is_some(),
        "an empty group still counts"
    );
    if let Some(read) = traffic.sides.accepter.as_mut() {
        read.flow_logs[0].destination_type = "s3".to_owned();
    }
    assert_eq!(count(&traffic, &facts), None);
    assert_eq!(count(&Traffic::default(), &facts), None);
}

#[test]
fn a_group_with_a_custom_format_is_read_with_it() {
    let inspection = inspection(wired());
    let facts = Facts::new(&inspection);
    let line = "5 vpc-22222222 subnet-2000000a eni-0a1b2c3d4e5f60718 222222222222 IPv4 10.0.1.10 \
                10.1.1.5 49761 5432 10.0.1.10 10.1.1.5 6 4249 20 1418530010 1418530070 REJECT 2 \
                OK";
    let mut traffic = accepter_read(&[line.to_owned()]);
    if let Some(read) = traffic.sides.accepter.as_mut() {
        read.flow_logs[0].log_format = Some(CUSTOM.to_owned());
        read.truncated = true;
    }
    let counts = count(&traffic, &facts).unwrap();
    assert_eq!(counts.unreadable, 0);
    assert_eq!(counts.flows.len(), 1);
    assert_eq!(counts.flows[0].rejected, 1);
    assert!(counts.truncated);
}
