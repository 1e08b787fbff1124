//! Layer 4: security groups. The DB groups must admit the DB ports from the requester and the
//! task groups must allow them out: groups are stateful, so replies need no rule. In `awsvpc`
//! mode an ECS task's own group decides, not the host's.

use peerwire::model::{Direction, Side};
use peerwire::plan::{describe_permissions, Finding};

use crate::facts::{ports_text, Facts};
use crate::{Layer, LayerId, Problem};

pub(crate) fn layer(facts: &Facts<'_>) -> Layer {
    if !facts.active() {
        return Layer::skipped(LayerId::SecurityGroups, facts.not_active("rules are"));
    }
    if facts.ports().is_empty() {
        return Layer::skipped(
            LayerId::SecurityGroups,
            "the policy names no DB port (wiring.ports), so there is no rule to check",
        );
    }
    let pcx = facts.pcx();
    let mut problems = Vec::new();
    for step in &facts.inspection.plan.steps {
        // (what the group is, what it lacks, the direction and its preposition, a note)
        // A wiring plan only adds rules; a revoke is cleanup's.
        let Some(change) = step.rule_change().filter(|c| c.adds()) else {
            continue;
        };
        let (side, group_id, permissions) = (&step.side, change.group_id, change.permissions);
        let (group, verb, note) = match change.direction {
            Direction::Ingress => ("DB group", "admit", ""),
            Direction::Egress => (
                "task group",
                "allow",
                "; in awsvpc mode the task's group decides, not the host's",
            ),
        };
        let (direction, preposition) = (change.direction.traffic(), change.direction.preposition());
        let wanted = describe_permissions(permissions, preposition);
        problems.push(
            Problem::broken(
                Some(*side),
                Some(group_id),
                format!("{side} {group} {group_id} does not {verb} {wanted}"),
            )
            .fix(format!(
                "allow {direction} {wanted} on {group_id} in account {} (`peerwire apply {pcx}` \
                 adds it){note}",
                facts.account(*side)
            )),
        );
    }
    for finding in &facts.inspection.plan.findings {
        if let Finding::NothingSelected { side, what } = finding {
            if what == "security groups" {
                problems.push(
                    Problem::warning::<str>(
                        Some(*side),
                        None,
                        format!(
                            "the policy selects {side} security groups, but none matched: \
                             nothing to check on that side"
                        ),
                    )
                    .fix(format!(
                        "check wiring.{side}.security_group_ids / security_group_tags (and the \
                         DB instances) in the policy"
                    )),
                );
            }
        }
    }
    let mut ok = Vec::new();
    for side in Side::BOTH {
        let Some(local) = facts.local(side) else {
            ok.push(facts.unread(side));
            continue;
        };
        if local.security_groups.is_empty() {
            continue;
        }
        let ids: Vec<&str> = local
            .security_groups
            .iter()
            .map(|g| g.id.as_str())
            .collect();
        let one = ids.len() == 1;
        let (verb, preposition) = match side {
            Side::Accepter => (if one { "admits" } else { "admit" }, "from the requester"),
            Side::Requester => (if one { "allows" } else { "allow" }, "to the accepter"),
        };
        ok.push(format!(
            "{side} {} {verb} {} {preposition}",
            ids.join(", "),
            ports_text(facts.ports())
        ));
    }
    if ok.is_empty() {
        ok.push("no security group selected on either side".to_owned());
    }
    Layer::checked(LayerId::SecurityGroups, problems, ok.join("; "))
}
