//! VPC flow-log records, parsed and counted. Pure: the messages come from `inspect`.
//!
//! A flow log writes one line per flow, per network interface, per aggregation interval (1 or
//! 10 minutes), its fields in the order of the flow log's `LogFormat`: the default (version 2)
//! is the 14 fields of [`DEFAULT_FORMAT`]; a custom format may name others, in any order.
//! Records with `log-status` `NODATA` or `SKIPDATA` carry `-` for every address and port.
//!
//! A record says `ACCEPT` or `REJECT`, never *which* rule rejected: security groups and network
//! ACLs both produce `REJECT`. The traffic layer attributes each rejection with the static
//! layers' analysis instead.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;
use serde::Serialize;

use peerwire::model::Side;

use crate::facts::Facts;
use crate::inspection::{FlowLogInfo, Traffic};

#[cfg(test)]
pub(crate) mod tests;

/// The default flow-log format (version 2), used when `LogFormat` is absent.
pub(crate) const DEFAULT_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} \
     ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} \
     ${log-status}";

/// The fields a record must carry for the traffic layer.
const NEEDED: [&str; 6] = [
    "srcaddr", "dstaddr", "srcport", "dstport", "protocol", "action",
];

/// IANA protocol number of TCP, as flow logs write it.
const TCP: u8 = 6;

/// Parses a window such as `15m`, `90s`, `2h` or `1d` (a number and a unit). At least a
/// second, at most 7 days: CloudWatch Logs searches get slow and costly beyond that.
pub fn parse_window(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let bad = || format!("`{text}` is not a window like 15m, 90s, 2h or 1d");
    let number: u64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => number,
        "m" => number.saturating_mul(60),
        "h" => number.saturating_mul(3600),
        "d" => number.saturating_mul(86_400),
        _ => return Err(bad()),
    };
    if seconds == 0 || seconds > 7 * 86_400 {
        return Err(format!("`{text}` is outside 1s..7d"));
    }
    Ok(Duration::from_secs(seconds))
}

/// `15m`, `2h`, `90s`: a window as people write it.
pub(crate) fn window_text(window: Duration) -> String {
    let seconds = window.as_secs();
    if seconds >= 86_400 && seconds.is_multiple_of(86_400) {
        format!("{}d", seconds / 86_400)
    } else if seconds >= 3600 && seconds.is_multiple_of(3600) {
        format!("{}h", seconds / 3600)
    } else if seconds >= 60 && seconds.is_multiple_of(60) {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}

/// The field names of a flow log's format, in record order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogFormat {
    fields: Vec<String>,
}

impl LogFormat {
    /// Reads `${field} ${field} …`; `None` or blank is the default format. Refuses a format
    /// without the fields the traffic layer needs, naming them.
    pub(crate) fn parse(format: Option<&str>) -> Result<Self, String> {
        let text = format
            .filter(|f| !f.trim().is_empty())
            .unwrap_or(DEFAULT_FORMAT);
        let mut fields = Vec::new();
        for token in text.split_whitespace() {
            let Some(name) = token.strip_prefix("${").and_then(|t| t.strip_suffix('}')) else {
                return Err(format!(
                    "`{token}` is not a ${{field}} of a flow-log format"
                ));
            };
            fields.push(name.to_owned());
        }
        let format = Self { fields };
        let missing: Vec<String> = NEEDED
            .iter()
            .filter(|name| format.index(name).is_none())
            .map(|name| format!("${{{name}}}"))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "the flow log's format lacks {}, which the traffic layer needs",
                missing.join(" ")
            ));
        }
        Ok(format)
    }

    /// Where `name` sits; `srcaddr`/`dstaddr` fall back to `pkt-srcaddr`/`pkt-dstaddr`.
    fn index(&self, name: &str) -> Option<usize> {
        let at = |n: &str| self.fields.iter().position(|f| f == n);
        at(name).or_else(|| match name {
            "srcaddr" | "dstaddr" => at(&format!("pkt-{name}")),
            _ => None,
        })
    }

    /// A CloudWatch Logs space-delimited filter pattern that keeps TCP records whose `port_field`
    /// (`dstport` for requests, `srcport` for replies) is one of `ports`, so that only those
    /// leave CloudWatch. Every record of a format has exactly one token per field.
    pub(crate) fn filter_pattern(&self, port_field: &str, ports: &[u16]) -> String {
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|field| {
                let name = field.replace('-', "_");
                if field == port_field && !ports.is_empty() {
                    ports
                        .iter()
                        .map(|p| format!("{name}={p}"))
                        .collect::<Vec<_>>()
                        .join(" || ")
                } else if field == "protocol" {
                    format!("{name}={TCP}")
                } else {
                    name
                }
            })
            .collect();
        format!("[{}]", fields.join(", "))
    }
}

/// Whether a flow log accepted or rejected the traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub(crate) enum Action {
    Accept,
    Reject,
}

/// The part of a record the traffic layer reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FlowRecord {
    pub(crate) src: IpAddr,
    pub(crate) dst: IpAddr,
    pub(crate) src_port: u16,
    pub(crate) dst_port: u16,
    pub(crate) protocol: u8,
    pub(crate) action: Action,
}

/// Parses one record in `format`. `Ok(None)` for a record without traffic (`NODATA`,
/// `SKIPDATA`, or `-` in an address or port); `Err` for a line that does not fit the format.
pub(crate) fn parse_record(format: &LogFormat, line: &str) -> Result<Option<FlowRecord>, String> {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    if tokens.len() != format.fields.len() {
        return Err(format!(
            "{} fields where the format has {}",
            tokens.len(),
            format.fields.len()
        ));
    }
    let field = |name: &str| format.index(name).and_then(|i| tokens.get(i).copied());
    if matches!(field("log-status"), Some("NODATA" | "SKIPDATA")) {
        return Ok(None);
    }
    let values: Vec<&str> = NEEDED.iter().filter_map(|n| field(n)).collect();
    if values.len() != NEEDED.len() {
        return Err("the format lacks a needed field".to_owned());
    }
    if values.contains(&"-") {
        return Ok(None);
    }
    let address = |text: &str| {
        text.parse::<IpAddr>()
            .map_err(|_| format!("`{text}` is not an address"))
    };
    let number = |text: &str| {
        text.parse::<u16>()
            .map_err(|_| format!("`{text}` is not a port"))
    };
    let action = match values[5] {
        "ACCEPT" => Action::Accept,
        "REJECT" => Action::Reject,
        other => return Err(format!("`{other}` is not ACCEPT or REJECT")),
    };
    Ok(Some(FlowRecord {
        src: address(values[0])?,
        dst: address(values[1])?,
        src_port: number(values[2])?,
        dst_port: number(values[3])?,
        protocol: values[4]
            .parse()
            .map_err(|_| format!("`{}` is not a protocol number", values[4]))?,
        action,
    }))
}

/// Which way a record goes, with the requester as the client and the accepter as the server
/// (the tasks connect to the database, never the other way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FlowDirection {
    /// Client to the DB port.
    Request,
    /// The DB port back to the client's ephemeral port.
    Reply,
}

/// The records of one conversation, as one side's interfaces logged them over the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowCount {
    /// The side whose flow log recorded them: its interfaces accepted or rejected them.
    pub observed_on: Side,
    pub direction: FlowDirection,
    /// The requester address.
    pub client: IpAddr,
    /// The accepter address.
    pub server: IpAddr,
    /// The DB port.
    pub port: u16,
    /// Records saying `ACCEPT`.
    pub accepted: u64,
    /// Records saying `REJECT`.
    pub rejected: u64,
}

impl FlowCount {
    /// `10.0.3.12 → 10.1.2.5:5432`, or `10.1.2.5:5432 → 10.0.3.12` for replies.
    pub(crate) fn path(&self) -> String {
        match self.direction {
            FlowDirection::Request => {
                format!("{} → {}", self.client, socket(self.server, self.port))
            }
            FlowDirection::Reply => {
                format!("{} → {}", socket(self.server, self.port), self.client)
            }
        }
    }
}

fn socket(address: IpAddr, port: u16) -> String {
    match address {
        IpAddr::V4(_) => format!("{address}:{port}"),
        IpAddr::V6(_) => format!("[{address}]:{port}"),
    }
}

/// What the flow logs recorded, counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Every conversation between the two VPCs on a DB port, most rejected first.
    pub(crate) flows: Vec<FlowCount>,
    /// The log groups read.
    pub(crate) log_groups: Vec<String>,
    /// Records read, whatever they were about.
    pub(crate) records: usize,
    /// Lines that fit none of the group's formats (first reason kept).
    pub(crate) unreadable: usize,
    pub(crate) unreadable_reason: Option<String>,
    /// A bounded read stopped early: the counts are a sample.
    pub(crate) truncated: bool,
}

/// What the flow logs counted, as `--json` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrafficSummary {
    /// How far back the logs were read.
    pub window_seconds: u64,
    /// The CloudWatch Logs groups read.
    pub log_groups: Vec<String>,
    /// Records read, whatever they were about.
    pub records: usize,
    /// Lines that fit none of the flow log formats.
    pub unreadable: usize,
    /// More matched than was read: the counts are a sample.
    pub truncated: bool,
    /// Every conversation between the two VPCs on a DB port, most rejected first.
    pub flows: Vec<FlowCount>,
}

impl Counts {
    pub(crate) fn summary(self, traffic: &Traffic) -> TrafficSummary {
        TrafficSummary {
            window_seconds: traffic.window.as_secs(),
            log_groups: self.log_groups,
            records: self.records,
            unreadable: self.unreadable,
            truncated: self.truncated,
            flows: self.flows,
        }
    }
}

/// The flow logs of a side that can be read here: delivered to CloudWatch Logs.
pub(crate) fn readable(logs: &[FlowLogInfo]) -> impl Iterator<Item = (&FlowLogInfo, &str)> {
    logs.iter().filter_map(|log| {
        let group = log.log_group.as_deref()?;
        (log.destination_type == "cloud-watch-logs").then_some((log, group))
    })
}

/// The side that logged it, the direction, the client, the server and the DB port.
type FlowKey = (Side, FlowDirection, IpAddr, IpAddr, u16);

/// Counts the records of both sides between the two VPCs on the policy's DB ports. `None`
/// when no side has a flow log to CloudWatch Logs that was read.
pub(crate) fn count(traffic: &Traffic, facts: &Facts<'_>) -> Option<Counts> {
    let requester = facts.own_cidrs(Side::Requester);
    let accepter = facts.own_cidrs(Side::Accepter);
    let inside = |cidrs: &[IpNet], address: &IpAddr| cidrs.iter().any(|c| c.contains(address));
    let ports = facts.ports();
    let mut read_any = false;
    let mut groups = BTreeSet::new();
    // (side, direction, client, server, port) → (accepted, rejected).
    let mut tallies: BTreeMap<FlowKey, (u64, u64)> = BTreeMap::new();
    let mut counts = Counts {
        flows: Vec::new(),
        log_groups: Vec::new(),
        records: 0,
        unreadable: 0,
        unreadable_reason: None,
        truncated: false,
    };
    for (side, read) in traffic.sides.iter() {
        let Some(read) = read else { continue };
        let mut formats: BTreeMap<&str, Vec<LogFormat>> = BTreeMap::new();
        for (log, group) in readable(&read.flow_logs) {
            read_any = true;
            groups.insert(group.to_owned());
            if let Ok(format) = LogFormat::parse(log.log_format.as_deref()) {
                formats.entry(group).or_default().push(format);
            }
        }
        counts.truncated |= read.truncated;
        for (group, message) in &read.messages {
            counts.records += 1;
            let formats = formats
                .get(group.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let mut parsed = Err("no readable format for the group".to_owned());
            for format in formats {
                parsed = parse_record(format, message);
                if parsed.is_ok() {
                    break;
                }
            }
            let record = match parsed {
                Ok(Some(record)) => record,
                Ok(None) => continue,
                Err(reason) => {
                    counts.unreadable += 1;
                    counts
                        .unreadable_reason
                        .get_or_insert_with(|| format!("{reason}: {message}"));
                    continue;
                }
            };
            if record.protocol != TCP {
                continue;
            }
            let key = if inside(requester, &record.src)
                && inside(accepter, &record.dst)
                && ports.contains(&record.dst_port)
            {
                (
                    side,
                    FlowDirection::Request,
                    record.src,
                    record.dst,
                    record.dst_port,
                )
            } else if inside(accepter, &record.src)
                && inside(requester, &record.dst)
                && ports.contains(&record.src_port)
            {
                (
                    side,
                    FlowDirection::Reply,
                    record.dst,
                    record.src,
                    record.src_port,
                )
            } else {
                continue;
            };
            let tally = tallies.entry(key).or_default();
            match record.action {
                Action::Accept => tally.0 += 1,
                Action::Reject => tally.1 += 1,
            }
        }
    }
    if !read_any {
        return None;
    }
    counts.log_groups = groups.into_iter().collect();
    counts.flows = tallies
        .into_iter()
        .map(
            |((observed_on, direction, client, server, port), (accepted, rejected))| FlowCount {
                observed_on,
                direction,
                client,
                server,
                port,
                accepted,
                rejected,
            },
        )
        .collect();
    // Most rejected first; the map's order (side, direction, addresses) breaks ties.
    counts.flows.sort_by_key(|f| std::cmp::Reverse(f.rejected));
    Some(counts)
}

impl fmt::Display for FlowDirection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Request => "request",
            Self::Reply => "reply",
        })
    }
}
