//! The read path, the only code of this crate that calls AWS, always through each side's member
//! role: the reconciler's own dry run, the network ACLs, and the VPC flow logs.

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::config::Region as LogsRegion;
use aws_sdk_ec2::types::{Filter, FlowLog};

use peerwire::aws::observe;
use peerwire::error::AwsError;
use peerwire::model::{Peering, PeeringStatus, Side, SideState};
use peerwire::outcome::OutcomeKind;
use peerwire::plan::wiring::{plan_wiring, scoped_subnets};
use peerwire::plan::zones::zone_states;
use peerwire::policy::Membership;
use peerwire::reconcile::{observe_sides, Mode, Phases, Reconciled, Run};
use peerwire::{App, Result};

use crate::flow::{readable, LogFormat};
use crate::inspection::{FlowLogInfo, Inspection, SideFlowLogs, SideNacls, Traffic, ZoneRecords};
use crate::{diagnose, Diagnosis};

/// What diagnose may run of the reconciler: deciding and wiring, in a dry run. (A gone
/// peering is explained by its status alone.)
const DIAGNOSE: Mode = Mode {
    phases: Phases {
        decide: true,
        wire: true,
        clean: false,
    },
    changed: OutcomeKind::Wired,
    dry_run: true,
};

/// How a diagnosis reads what is not configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnoseOptions {
    /// How far back the flow logs are read (`--since`).
    pub traffic_window: Duration,
}

impl Default for DiagnoseOptions {
    fn default() -> Self {
        Self {
            traffic_window: Duration::from_secs(15 * 60),
        }
    }
}

/// Runs the reconciler on `peering` in a dry run and keeps what it observed and planned. An
/// active peering the reconciler leaves alone (outside the accepters, or no rule) is still
/// observed, with the default scope, so its layers can be explained. Reads only.
pub async fn inspect(app: &App, peering: Peering) -> Result<Inspection> {
    let run = Run::start(app, "diagnose", "diagnose", DIAGNOSE).await?;
    let reconciled = run.reconcile(peering.clone()).await?;
    // The reconciler's view of the peering: with the requester's own tags when a rule needed
    // them (AWS shows each owner only its own tag set).
    let peering = reconciled.peering().cloned().unwrap_or(peering);
    // The reconciler looked it up already when a rule needed it (the directory caches it).
    let requester = &peering.sides.requester.account;
    let membership = if run.policy.needs_membership(requester) {
        app.organisation
            .membership(&app.aws, requester)
            .await
            .unwrap_or_else(|err| Membership::Unknown(err.to_string()))
    } else {
        Membership::NotLooked
    };
    let (state, accepter_network) = match &reconciled {
        Reconciled::Wired(wired) => (wired.state.clone(), None),
        Reconciled::Decided(decided) => (None, decided.accepter_network.clone()),
        Reconciled::Cleaned(_) | Reconciled::LeftAlone(_) | Reconciled::Duplicate { .. } => {
            (None, None)
        }
    };
    let mut inspection =
        Inspection::new(peering, &run.policy, &membership, state, accepter_network);
    if inspection.state.is_none() && inspection.peering.status == PeeringStatus::Active {
        let state = observe_sides(app, &inspection.peering, &inspection.wiring).await?;
        inspection.plan = plan_wiring(&state, &inspection.wiring);
        inspection.accepter_network = state.sides.accepter.as_ref().map(|a| a.network.clone());
        inspection.state = Some(state);
    }
    if let Some(plan) = reconciled.plan() {
        // The reconciler's own plan (with the rule's wiring) is the one to show.
        inspection.plan = plan.clone();
    }
    inspection.refusal = reconciled.left_alone().map(str::to_owned);
    inspection.zone_records = observe_zone_records(app, &inspection).await;
    Ok(inspection)
}

/// The records of every hosted zone the wiring names and the zone owner's side found: one
/// `ListResourceRecordSets` (or a few pages) per zone, through the owner's role. A read that
/// fails is kept as its error; the DNS layer warns about it.
async fn observe_zone_records(app: &App, inspection: &Inspection) -> Vec<ZoneRecords> {
    let Some(state) = &inspection.state else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (owner, _, zone) in zone_states(state, &inspection.wiring) {
        let view = &inspection.peering.sides[owner];
        let route53 = app.aws.route53(&view.location()).await;
        let records = observe::zone_records(&route53, &zone.id)
            .await
            .map_err(|e| e.to_string());
        found.push(ZoneRecords {
            zone_id: zone.id.clone(),
            records,
        });
    }
    found
}

/// The network ACLs of every observed side: one `DescribeNetworkAcls` per side.
pub async fn observe_nacls(app: &App, inspection: &Inspection) -> Result<SideNacls> {
    let mut nacls = SideNacls::default();
    let Some(state) = &inspection.state else {
        return Ok(nacls);
    };
    for (side, observed) in state.sides.iter() {
        let Some(observed) = observed else {
            continue;
        };
        let view = &inspection.peering.sides[side];
        let ec2 = app.aws.ec2(&view.location()).await;
        nacls[side] = Some(observe::describe_network_acls(&ec2, &observed.network.vpc_id).await?);
    }
    Ok(nacls)
}

/// At most this many events are read per log group and direction: a busy VPC logs millions
/// of records a day, and a sample of the last ones names the rejections as well.
const MAX_EVENTS: usize = 10_000;
/// At most this many `FilterLogEvents` pages per log group and direction (a page may be empty
/// while CloudWatch Logs is still searching).
const MAX_PAGES: usize = 10;
/// All flow-log reads of one diagnosis stop after this long; what was read is counted.
const READ_BUDGET: Duration = Duration::from_secs(30);

/// The flow logs of every observed side and what they recorded over `window`, between the two
/// VPCs on the policy's DB ports. Per side: one `DescribeFlowLogs` filtered by `resource-id`
/// (the VPC and its subnets in scope), then, for each flow log to CloudWatch Logs, two
/// `FilterLogEvents` series (requests to the DB ports, replies from them) with a filter
/// pattern, so that only those records leave CloudWatch. Never fails: a read that fails is
/// kept as an error, and the traffic layer turns it into a warning.
pub async fn observe_traffic(app: &App, inspection: &Inspection, window: Duration) -> Traffic {
    let mut traffic = Traffic {
        window,
        sides: Default::default(),
    };
    let ports = &inspection.wiring.ports;
    let Some(state) = &inspection.state else {
        return traffic;
    };
    if ports.is_empty() || inspection.peering.status != PeeringStatus::Active {
        return traffic;
    }
    let end = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let span = (millis(end.saturating_sub(window)), millis(end));
    let deadline = Instant::now() + READ_BUDGET;
    for (side, observed) in state.sides.iter() {
        let Some(observed) = observed else { continue };
        let read = read_side(app, inspection, side, observed, span, deadline).await;
        traffic.sides[side] = Some(read);
    }
    traffic
}

fn millis(at: Duration) -> i64 {
    i64::try_from(at.as_millis()).unwrap_or(i64::MAX)
}

async fn read_side(
    app: &App,
    inspection: &Inspection,
    side: Side,
    observed: &SideState,
    span: (i64, i64),
    deadline: Instant,
) -> SideFlowLogs {
    let view = &inspection.peering.sides[side];
    let mut read = SideFlowLogs::default();
    let ec2 = app.aws.ec2(&view.location()).await;
    let mut resources = vec![observed.network.vpc_id.to_string()];
    resources.extend(
        scoped_subnets(observed, inspection.wiring.side(side))
            .into_iter()
            .map(|s| s.to_string()),
    );
    // DescribeFlowLogs takes at most 200 values per filter.
    resources.truncate(200);
    match describe_flow_logs(&ec2, resources).await {
        Ok(logs) => read.flow_logs = logs,
        Err(err) => {
            read.errors.push(err.to_string());
            return read;
        }
    }
    let mut groups: Vec<(&str, Vec<LogFormat>)> = Vec::new();
    for (log, group) in readable(&read.flow_logs) {
        let format = match LogFormat::parse(log.log_format.as_deref()) {
            Ok(format) => format,
            Err(why) => {
                read.errors
                    .push(format!("flow log {}: {why}", log.flow_log_id));
                continue;
            }
        };
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, formats)) => formats.push(format),
            None => groups.push((group, vec![format])),
        }
    }
    if groups.is_empty() {
        return read;
    }
    // Through the side's member role, like every EC2 call of the side.
    let logs = {
        let config = app.aws.role_config(&view.account).await;
        let config = aws_sdk_cloudwatchlogs::config::Builder::from(&config)
            .region(LogsRegion::new(view.region.to_string()))
            .build();
        aws_sdk_cloudwatchlogs::Client::from_conf(config)
    };
    let ports = &inspection.wiring.ports;
    let mut messages = Vec::new();
    let mut errors = Vec::new();
    let mut truncated = false;
    for (group, formats) in &groups {
        let mut seen = HashSet::new();
        // One format per group is the rule; with several, each one's pattern is tried.
        for format in formats {
            for port_field in ["dstport", "srcport"] {
                let pattern = format.filter_pattern(port_field, ports);
                let search = Search {
                    group,
                    pattern: &pattern,
                    span,
                    deadline,
                };
                match search.run(&logs).await {
                    Ok((events, cut)) => {
                        truncated |= cut;
                        for (id, message) in events {
                            if seen.insert(id) {
                                messages.push(((*group).to_owned(), message));
                            }
                        }
                    }
                    Err(err) => errors.push(format!("log group {group}: {err}")),
                }
            }
        }
    }
    read.messages = messages;
    read.truncated = truncated;
    read.errors.extend(errors);
    read
}

async fn describe_flow_logs(
    ec2: &aws_sdk_ec2::Client,
    resources: Vec<String>,
) -> std::result::Result<Vec<FlowLogInfo>, AwsError> {
    let mut pages = ec2
        .describe_flow_logs()
        .filter(
            Filter::builder()
                .name("resource-id")
                .set_values(Some(resources))
                .build(),
        )
        .into_paginator()
        .send();
    let mut logs = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| peerwire::aws::error::from_sdk("DescribeFlowLogs", e))?;
        logs.extend(page.flow_logs().iter().map(flow_log_info));
    }
    logs.sort_by(|a, b| a.flow_log_id.cmp(&b.flow_log_id));
    Ok(logs)
}

fn flow_log_info(log: &FlowLog) -> FlowLogInfo {
    // A flow log created with a log group ARN as its destination may report only the ARN.
    let log_group = log.log_group_name().map(str::to_owned).or_else(|| {
        log.log_destination()
            .and_then(|arn| arn.split(":log-group:").nth(1))
            .map(|name| name.trim_end_matches(":*").to_owned())
    });
    FlowLogInfo {
        flow_log_id: log.flow_log_id().unwrap_or_default().to_owned(),
        resource_id: log.resource_id().unwrap_or_default().to_owned(),
        destination_type: log
            .log_destination_type()
            .map_or("cloud-watch-logs", |t| t.as_str())
            .to_owned(),
        log_group,
        log_format: log.log_format().map(str::to_owned),
        traffic_type: log.traffic_type().map(|t| t.as_str().to_owned()),
    }
}

/// One bounded `FilterLogEvents` series over a log group.
struct Search<'a> {
    group: &'a str,
    pattern: &'a str,
    /// Start and end, in milliseconds since the epoch.
    span: (i64, i64),
    deadline: Instant,
}

impl Search<'_> {
    /// `(event id, message)` pairs, and whether the bounds cut the series short. A pattern
    /// CloudWatch Logs refuses is dropped and the series read unfiltered (counting filters
    /// again anyway).
    async fn run(
        &self,
        logs: &aws_sdk_cloudwatchlogs::Client,
    ) -> std::result::Result<(Vec<(String, String)>, bool), AwsError> {
        match self.pages(logs, Some(self.pattern)).await {
            Err(err) if err.code.as_deref() == Some("InvalidParameterException") => {
                self.pages(logs, None).await
            }
            other => other,
        }
    }

    async fn pages(
        &self,
        logs: &aws_sdk_cloudwatchlogs::Client,
        pattern: Option<&str>,
    ) -> std::result::Result<(Vec<(String, String)>, bool), AwsError> {
        let mut events = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            if Instant::now() >= self.deadline {
                return Ok((events, true));
            }
            let page = logs
                .filter_log_events()
                .log_group_name(self.group)
                .start_time(self.span.0)
                .end_time(self.span.1)
                .set_filter_pattern(pattern.map(str::to_owned))
                .limit(i32::try_from(MAX_EVENTS).unwrap_or(i32::MAX))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| peerwire::aws::error::from_sdk("FilterLogEvents", e))?;
            for event in page.events() {
                if let (Some(id), Some(message)) = (event.event_id(), event.message()) {
                    events.push((id.to_owned(), message.to_owned()));
                }
            }
            if events.len() >= MAX_EVENTS {
                return Ok((events, page.next_token().is_some()));
            }
            match page.next_token() {
                Some(next) => token = Some(next.to_owned()),
                None => return Ok((events, false)),
            }
        }
        Ok((events, true))
    }
}

/// Inspects `peering`, reads both sides' network ACLs and flow logs, and diagnoses, with the
/// default options. Reads only.
pub async fn diagnose_peering(app: &App, peering: Peering) -> Result<Diagnosis> {
    diagnose_peering_with(app, peering, &DiagnoseOptions::default()).await
}

/// [`diagnose_peering`] with `options` (`--since`). Reads only.
pub async fn diagnose_peering_with(
    app: &App,
    peering: Peering,
    options: &DiagnoseOptions,
) -> Result<Diagnosis> {
    // Boxed: the SDK futures are large, and a caller's own future (the demo's, a test's)
    // would otherwise carry all of them on a thread's stack.
    let inspection = Box::pin(inspect(app, peering)).await?;
    let nacls = Box::pin(observe_nacls(app, &inspection)).await?;
    let traffic = Box::pin(observe_traffic(app, &inspection, options.traffic_window)).await;
    Ok(diagnose(&inspection, &nacls, &traffic))
}
