//! The cleanup door: when a peering is deleted or rejected, remove on both sides the routes
//! whose target is that peering (blackholes now) and the security-group rules peerwire made
//! for it, recognised by their exact description marker. Everything else stays, including a
//! rule a person added for the same CIDR.

use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;

use crate::app::App;
use crate::aws::apply::{self, Applied};
use crate::aws::observe;
use crate::error::Result;
use crate::events::{parse_cleanup_event, CleanupTrigger, PeeringRef};
use crate::model::{Peering, RouteTable, RouteTarget, RulePeer, SecurityGroup, SgRule};
use crate::outcome::{Outcome, OutcomeKind};
use crate::plan::{rule_marker, Finding, Permission, PlanStep, Side};
use crate::policy::Policy;
use crate::run::RunLog;
use crate::wiring::{describe_finding, describe_step};

/// Peering states after which nothing can flow and peerwire's changes are removed.
pub const GONE: &[&str] = &["deleted", "rejected", "expired", "failed"];

/// What the cleanup of one side sees: tables routing to the peering, and the groups of the
/// VPCs involved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanupView {
    pub route_tables: Vec<RouteTable>,
    pub security_groups: Vec<SecurityGroup>,
}

/// The removal steps for one side: a `DeleteRoute` per route targeting `peering_id`, and one
/// revoke per group and direction carrying every rule whose description is exactly the
/// peering's marker. Pure.
pub fn plan_cleanup(peering_id: &str, side: Side, view: &CleanupView) -> Vec<PlanStep> {
    let mut steps = Vec::new();
    for table in &view.route_tables {
        for route in &table.routes {
            if matches!(&route.target, RouteTarget::Peering(id) if id == peering_id) {
                steps.push(PlanStep::DeleteRoute {
                    side,
                    route_table_id: table.id.clone(),
                    destination: route.destination,
                    peering_id: peering_id.to_owned(),
                });
            }
        }
    }
    let marker = rule_marker(peering_id);
    let ours = |rules: &[SgRule]| -> Vec<Permission> {
        rules
            .iter()
            .filter(|r| r.description.as_deref() == Some(marker.as_str()))
            .filter(|r| r.protocol == "tcp" && r.from_port == r.to_port)
            .filter_map(|r| {
                Some(Permission {
                    port: u16::try_from(r.from_port?).ok()?,
                    peer: r.peer.clone(),
                    description: marker.clone(),
                })
            })
            .collect()
    };
    for group in &view.security_groups {
        let ingress = ours(&group.ingress);
        if !ingress.is_empty() {
            steps.push(PlanStep::RevokeIngress {
                side,
                group_id: group.id.clone(),
                permissions: ingress,
            });
        }
    }
    for group in &view.security_groups {
        let egress = ours(&group.egress);
        if !egress.is_empty() {
            steps.push(PlanStep::RevokeEgress {
                side,
                group_id: group.id.clone(),
                permissions: egress,
            });
        }
    }
    steps
}

/// Rules not made by peerwire that reference a group of `peer_account` (the other side of a
/// gone peering): AWS keeps them as stale references. Reported, never removed. Pure.
pub fn stale_references(
    peering_id: &str,
    side: Side,
    peer_account: &str,
    view: &CleanupView,
) -> Vec<Finding> {
    let marker = rule_marker(peering_id);
    let mut findings = Vec::new();
    for group in &view.security_groups {
        for (egress, rules) in [(false, &group.ingress), (true, &group.egress)] {
            for rule in rules {
                let foreign = matches!(&rule.peer, RulePeer::Group { account: Some(a), .. } if a == peer_account);
                if foreign && rule.description.as_deref() != Some(marker.as_str()) {
                    findings.push(Finding::StaleGroupReference {
                        side,
                        group_id: group.id.clone(),
                        referenced: rule.peer.clone(),
                        egress,
                    });
                }
            }
        }
    }
    findings
}

/// What one invocation did; also the Lambda's response.
#[derive(Debug, Serialize)]
pub struct CleanupReport {
    pub correlation_id: String,
    pub trigger: CleanupTrigger,
    #[serde(flatten)]
    pub run: RunLog,
}

/// Handles one EventBridge event for the cleanup door. A replay finds nothing left to remove:
/// reads only, no outcome.
pub async fn handle_cleanup_event(app: &App, event: &Value) -> Result<CleanupReport> {
    let parsed = parse_cleanup_event(event)?;
    let span = tracing::info_span!(
        "cleanup",
        correlation_id = %parsed.correlation_id,
        trigger = parsed.trigger.name()
    );
    async move {
        let policy = app.policies.current().await?;
        let mut log = RunLog::default();
        let door = Door {
            app,
            policy: &policy,
            trigger: parsed.trigger.name(),
            correlation_id: &parsed.correlation_id,
        };
        match &parsed.trigger {
            CleanupTrigger::PeeringGone {
                peering_id,
                account,
                region,
            } => {
                let target = PeeringRef {
                    peering_id: peering_id.clone(),
                    accepter_account: account.clone(),
                    region: region.clone(),
                };
                if policy.manages_account(account) {
                    let result = door.one(&target, &mut log).await;
                    log.record(&target, door.trigger, door.correlation_id, result);
                } else {
                    log.ignore(peering_id, "account not managed by the policy");
                }
            }
            CleanupTrigger::Sweep => door.sweep(&mut log).await,
        }
        let log = log.finish(app, "cleanup").await?;
        Ok(CleanupReport {
            correlation_id: parsed.correlation_id.clone(),
            trigger: parsed.trigger.clone(),
            run: log,
        })
    }
    .instrument(span)
    .await
}

struct Door<'a> {
    app: &'a App,
    policy: &'a Policy,
    trigger: &'a str,
    correlation_id: &'a str,
}

impl Door<'_> {
    async fn one(&self, target: &PeeringRef, log: &mut RunLog) -> Result<Option<Outcome>> {
        let ec2 = self
            .app
            .aws
            .ec2(&target.accepter_account, &target.region)
            .await;
        match observe::describe_peering(&ec2, &target.peering_id).await? {
            Some(peering) => self.clean(&peering, log).await,
            // AWS forgets deleted peerings after about 2 hours: clean the caller's side only.
            None => {
                let side = if self
                    .policy
                    .accepters
                    .iter()
                    .any(|a| a.account == target.accepter_account)
                {
                    Side::Accepter
                } else {
                    Side::Requester
                };
                let (steps, findings) = self
                    .clean_side(
                        &target.peering_id,
                        side,
                        (&target.accepter_account, &target.region),
                        None,
                        None,
                    )
                    .await?;
                Ok(self.outcome(&target.peering_id, None, steps, findings))
            }
        }
    }

    async fn sweep(&self, log: &mut RunLog) {
        for scope in &self.policy.accepters {
            for region in &scope.regions {
                let mut target = PeeringRef {
                    peering_id: String::new(),
                    accepter_account: scope.account.clone(),
                    region: region.clone(),
                };
                let ec2 = self.app.aws.ec2(&scope.account, region).await;
                let gone = match observe::peerings_in_status(&ec2, &scope.account, GONE).await {
                    Ok(gone) => gone,
                    Err(err) => {
                        log.record(&target, self.trigger, self.correlation_id, Err(err));
                        continue;
                    }
                };
                for peering in gone {
                    target.peering_id = peering.id.clone();
                    let result = self.clean(&peering, log).await;
                    log.record(&target, self.trigger, self.correlation_id, result);
                }
            }
        }
    }

    /// Cleans both sides of a peering that is gone; never touches a live one.
    async fn clean(&self, peering: &Peering, log: &mut RunLog) -> Result<Option<Outcome>> {
        if !GONE.contains(&peering.status.code()) {
            log.ignore(&peering.id, &crate::request::status_reason(peering));
            return Ok(None);
        }
        let (mut done, mut stale) = (Vec::new(), Vec::new());
        for (side, view, peer) in [
            (Side::Requester, &peering.requester, &peering.accepter),
            (Side::Accepter, &peering.accepter, &peering.requester),
        ] {
            if !self.policy.manages_account(&view.account) {
                continue;
            }
            let (steps, findings) = self
                .clean_side(
                    &peering.id,
                    side,
                    (&view.account, &view.region),
                    Some(&view.vpc_id),
                    Some(&peer.account),
                )
                .await?;
            done.extend(steps);
            stale.extend(findings);
        }
        Ok(self.outcome(&peering.id, Some(peering), done, stale))
    }

    /// Observes one account's leftovers of the peering and removes them; also returns the
    /// stale references to `peer_account`'s groups that are not peerwire's.
    async fn clean_side(
        &self,
        peering_id: &str,
        side: Side,
        (account, region): (&str, &str),
        vpc_id: Option<&str>,
        peer_account: Option<&str>,
    ) -> Result<(Vec<PlanStep>, Vec<Finding>)> {
        let ec2 = self.app.aws.ec2(account, region).await;
        let view = observe::cleanup_view(&ec2, peering_id, vpc_id).await?;
        let stale = peer_account
            .map(|peer| stale_references(peering_id, side, peer, &view))
            .unwrap_or_default();
        for finding in &stale {
            tracing::warn!(peering_id, finding = %describe_finding(finding), "stale reference");
        }
        let mut done = Vec::new();
        for step in plan_cleanup(peering_id, side, &view) {
            let result = apply::execute(&ec2, &step).await?;
            tracing::info!(peering_id, step = %describe_step(&step), result = ?result, "cleanup applied");
            if result == Applied::Done {
                done.push(step);
            }
        }
        Ok((done, stale))
    }

    fn outcome(
        &self,
        peering_id: &str,
        peering: Option<&Peering>,
        removed: Vec<PlanStep>,
        stale: Vec<Finding>,
    ) -> Option<Outcome> {
        if removed.is_empty() {
            tracing::info!(peering_id, "nothing left to clean up");
            return None;
        }
        let mut outcome = match peering {
            Some(peering) => Outcome::about(
                OutcomeKind::CleanedUp,
                peering,
                self.trigger,
                self.correlation_id,
            ),
            None => {
                let mut outcome = Outcome::about_ref(
                    OutcomeKind::CleanedUp,
                    &PeeringRef {
                        peering_id: peering_id.to_owned(),
                        accepter_account: String::new(),
                        region: String::new(),
                    },
                    self.trigger,
                    self.correlation_id,
                );
                outcome.observed_status = Some("not-found".into());
                outcome
            }
        };
        outcome.reasons = removed
            .iter()
            .map(|s| format!("removed: {}", describe_step(s)))
            .chain(stale.iter().map(describe_finding))
            .collect();
        outcome.changes = removed;
        outcome.findings = stale;
        Some(outcome)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::{Route, RulePeer};

    const PCX: &str = "pcx-0123456789abcdef0";

    fn net(s: &str) -> ipnet::IpNet {
        s.parse().unwrap()
    }

    fn rule(cidr: &str, port: i32, description: Option<&str>) -> SgRule {
        SgRule {
            protocol: "tcp".into(),
            from_port: Some(port),
            to_port: Some(port),
            peer: RulePeer::Cidr { cidr: net(cidr) },
            description: description.map(str::to_owned),
        }
    }

    fn view() -> CleanupView {
        CleanupView {
            route_tables: vec![RouteTable {
                id: "rtb-11111111".into(),
                main: false,
                subnet_ids: vec![],
                routes: vec![
                    Route {
                        destination: net("10.0.0.0/16"),
                        target: RouteTarget::Peering(PCX.into()),
                        blackhole: true,
                    },
                    Route {
                        destination: net("10.9.0.0/16"),
                        target: RouteTarget::Peering("pcx-99999999".into()),
                        blackhole: false,
                    },
                    Route {
                        destination: net("0.0.0.0/0"),
                        target: RouteTarget::NatGateway("nat-1".into()),
                        blackhole: false,
                    },
                ],
            }],
            security_groups: vec![SecurityGroup {
                id: "sg-11111111".into(),
                name: "db".into(),
                tags: BTreeMap::new(),
                ingress: vec![
                    rule("10.0.0.0/16", 5432, Some(&rule_marker(PCX))),
                    rule("10.0.0.0/16", 6432, Some("added by alice")),
                    rule("10.2.0.0/16", 5432, Some(&rule_marker("pcx-99999999"))),
                ],
                egress: vec![rule("10.0.0.0/16", 5432, Some(&rule_marker(PCX)))],
            }],
        }
    }

    #[test]
    fn removes_exactly_the_routes_to_the_peering_and_peerwires_rules() {
        let steps = plan_cleanup(PCX, Side::Accepter, &view());
        assert_eq!(steps.len(), 3, "{steps:?}");
        assert!(
            matches!(&steps[0], PlanStep::DeleteRoute { destination, .. } if *destination == net("10.0.0.0/16"))
        );
        assert!(
            matches!(&steps[1], PlanStep::RevokeIngress { permissions, .. }
            if permissions.len() == 1 && permissions[0].port == 5432)
        );
        assert!(
            matches!(&steps[2], PlanStep::RevokeEgress { permissions, .. } if permissions.len() == 1)
        );
    }

    #[test]
    fn a_rule_a_person_added_for_the_same_cidr_stays() {
        let steps = plan_cleanup(PCX, Side::Accepter, &view());
        for step in &steps {
            if let PlanStep::RevokeIngress { permissions, .. }
            | PlanStep::RevokeEgress { permissions, .. } = step
            {
                assert!(permissions
                    .iter()
                    .all(|p| p.description == rule_marker(PCX)));
                assert!(permissions.iter().all(|p| p.port == 5432));
            }
        }
    }

    #[test]
    fn another_peerings_routes_and_rules_stay() {
        let steps = plan_cleanup("pcx-0000000000000000a", Side::Requester, &view());
        assert!(steps.is_empty(), "{steps:?}");
    }

    #[test]
    fn nothing_left_means_no_step() {
        assert!(plan_cleanup(PCX, Side::Accepter, &CleanupView::default()).is_empty());
    }

    #[test]
    fn a_persons_reference_to_the_peer_group_is_reported_stale_and_peerwires_is_not() {
        let mut view = view();
        let group_rule = |description: Option<&str>| SgRule {
            protocol: "tcp".into(),
            from_port: Some(5432),
            to_port: Some(5432),
            peer: RulePeer::Group {
                account: Some("111111111111".into()),
                group_id: "sg-22222222".into(),
            },
            description: description.map(str::to_owned),
        };
        view.security_groups[0]
            .ingress
            .push(group_rule(Some("bob's app")));
        view.security_groups[0]
            .egress
            .push(group_rule(Some(&rule_marker(PCX))));
        let stale = stale_references(PCX, Side::Accepter, "111111111111", &view);
        assert_eq!(stale.len(), 1, "{stale:?}");
        assert!(matches!(
            &stale[0],
            Finding::StaleGroupReference { egress: false, .. }
        ));
        assert!(stale_references(PCX, Side::Accepter, "999999999999", &view).is_empty());
    }
}
