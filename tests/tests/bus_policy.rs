//! Who may put what on the hub bus, decided by the bus policy `template.yaml` generates.
//!
//! Neither AWS's policy engine nor an emulator of it runs here (moto ignores bus policies), so
//! this file carries a small, explicit evaluator of IAM policies: explicit Deny wins; a
//! principal of the bus's account needs an Allow in its identity policy or in the bus policy, a
//! principal of another account needs both; statements match on `Action`, `Resource`,
//! `Principal` and `Condition`. It knows exactly the condition operators the hub's bus policy
//! and the identity policies below use (`StringEquals`, `StringLike`, `ArnEquals`, `ArnLike`,
//! their `Not` forms, the `ForAllValues:`/`ForAnyValue:` set forms) and fails on any other, so a
//! template change cannot slip past it unevaluated.
//!
//! The statements come from the SAM-transformed template (`scripts/lint-templates
//! --transform-only`), resolved for a hub stack in account 333333333333 with an organization,
//! a listed member account, and as `ApproverPrincipalArns` the two patterns the template
//! documents for an IAM Identity Center permission set (read from the parameter's description),
//! a named role and an approval workflow's role. The principals: approvers (IAM Identity Center
//! roles of an instance in us-east-1, with no Region segment, and of one elsewhere: IAM Identity
//! Center User Guide, "Referencing permission sets in resource policies, Amazon EKS Cluster
//! config maps, and AWS KMS key policies"), a hub administrator (`*` on `*`), each function
//! role (its identity policy from the template), a member account's forwarder role (its
//! identity policy from `templates/member-forwarder.yaml`), and a Step Functions workflow's role.
//! `ArnLike`/`ArnNotLike` compare "each of the six colon-delimited components of the ARN"
//! separately, with `*` and `?` wildcards (IAM User Guide, "IAM JSON policy elements: Condition
//! operators"): a `*` in the resource part spans `/`.

use std::collections::BTreeSet;

use crate::cfn::iam::{arn_like, glob};
use crate::cfn::{
    role_statements, scalar, strings, transformed_hub, yaml_template, Stack, HUB_ACCOUNT,
};
use serde_json::{json, Value};

const ORG: &str = "o-a1b2c3d4e5";
const MEMBER: &str = "111111111111";
const LISTED_MEMBER: &str = "444444444444";
const OUTSIDER: &str = "999999999999";
/// An Identity Center approver of an instance outside us-east-1: a Region segment in the path.
const APPROVER: &str =
    "arn:aws:iam::333333333333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_PeeringApprover_0a1b2c3d4e5f6a7b";
/// The same permission set's role for an instance in us-east-1: no Region segment.
const APPROVER_US_EAST_1: &str =
    "arn:aws:iam::333333333333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PeeringApprover_1234567890abcdef";
/// The role of the ticket workflow (`examples/approval-workflow.asl.json`).
const WORKFLOW: &str = "arn:aws:iam::333333333333:role/service-role/peerwire-approval-workflow";
const ADMIN: &str = "arn:aws:iam::333333333333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_AdministratorAccess_9f8e7d6c5b4a3f2e";
const FUNCTION_ROLES: [&str; 4] = [
    "PeeringRequestFunctionRole",
    "PeeringWiringFunctionRole",
    "DriftRecheckFunctionRole",
    "PeeringCleanupFunctionRole",
];

fn hub(overrides: &[(&str, &str)]) -> Stack {
    Stack::new(transformed_hub(), overrides)
}

/// The Identity Center patterns the template documents for `ApproverPrincipalArns` (its
/// description's example, the one docs/deploy.md and the CDK example give).
fn documented_patterns() -> Vec<String> {
    let text = yaml_template("template.yaml")["Parameters"]["ApproverPrincipalArns"]["Description"]
        .as_str()
        .unwrap()
        .to_owned();
    let patterns: Vec<String> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|word| word.starts_with("arn:aws:iam::"))
        .map(|word| word.trim_end_matches(['.', ')']).to_owned())
        .collect();
    assert_eq!(patterns.len(), 2, "{patterns:?}");
    patterns
}

fn organization_hub_with(patterns: &[String]) -> Stack {
    let mut approvers = patterns.to_vec();
    approvers.push("arn:aws:iam::333333333333:role/peerwire-approver".to_owned());
    approvers.push(WORKFLOW.to_owned());
    let approvers = approvers.join(",");
    hub(&[
        ("ExternalId", "test-external-id"),
        ("OrgId", ORG),
        ("MemberAccountIds", LISTED_MEMBER),
        ("ApproverPrincipalArns", &approvers),
    ])
}

fn organization_hub() -> Stack {
    organization_hub_with(&documented_patterns())
}

/// One `PutEvents` call on the hub bus.
#[derive(Debug, Clone)]
struct Request {
    principal_arn: String,
    account: String,
    org: Option<&'static str>,
    sources: Vec<&'static str>,
    detail_types: Vec<&'static str>,
}

impl Request {
    fn new(principal_arn: &str, account: &str, sources: &[&'static str]) -> Self {
        Self {
            principal_arn: principal_arn.to_owned(),
            account: account.to_owned(),
            org: Some(ORG).filter(|_| account != OUTSIDER),
            sources: sources.to_vec(),
            detail_types: vec!["anything"],
        }
    }

    /// The request context for a condition key (keys are case-insensitive).
    fn context(&self, key: &str) -> Option<Vec<String>> {
        let all = |v: &[&str]| Some(v.iter().map(|s| (*s).to_owned()).collect());
        match key.to_ascii_lowercase().as_str() {
            "aws:principalarn" => Some(vec![self.principal_arn.clone()]),
            "aws:principalaccount" => Some(vec![self.account.clone()]),
            "aws:principalorgid" => self.org.map(|o| vec![o.to_owned()]),
            "events:source" => all(&self.sources),
            "events:detail-type" => all(&self.detail_types),
            other => panic!("the evaluator does not know the condition key {other}: add it"),
        }
    }
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Decision {
    Allow,
    ImplicitDeny,
    ExplicitDeny,
}

/// One condition operator on one key: `true` when the condition holds.
fn condition_holds(operator: &str, key: &str, values: &[String], request: &Request) -> bool {
    let (set, base) = match operator.split_once(':') {
        Some((set @ ("ForAllValues" | "ForAnyValue"), base)) => (Some(set), base),
        _ => (None, operator),
    };
    let (negated, positive): (bool, fn(&str, &str) -> bool) = match base {
        "StringEquals" => (false, |p, v| p == v),
        "StringNotEquals" => (true, |p, v| p == v),
        "StringLike" => (false, glob),
        "StringNotLike" => (true, glob),
        "ArnEquals" | "ArnLike" => (false, arn_like),
        "ArnNotEquals" | "ArnNotLike" => (true, arn_like),
        other => panic!("the evaluator does not know the condition operator {other}: add it"),
    };
    // A context value matches the condition when it matches one of its values (or, negated,
    // none of them).
    let matches = |value: &str| values.iter().any(|p| positive(p, value)) != negated;
    match (set, request.context(key)) {
        // ForAllValues: every value of the request matches; true when there is none.
        (Some("ForAllValues"), None) => true,
        (Some("ForAllValues"), Some(context)) => context.iter().all(|v| matches(v)),
        // ForAnyValue: at least one value of the request matches.
        (Some(_), None) => false,
        (Some(_), Some(context)) => context.iter().any(|v| matches(v)),
        // A single-valued operator on an absent key: only the negated forms hold.
        (None, None) => negated,
        (None, Some(context)) => context.iter().any(|v| matches(v)),
    }
}

fn principal_matches(principal: &Value, request: &Request) -> bool {
    match principal {
        Value::String(s) => s == "*",
        Value::Object(map) => map.iter().any(|(kind, ids)| {
            kind == "AWS"
                && strings(ids).iter().any(|id| {
                    id == "*"
                        || id == &request.account
                        || id == &format!("arn:aws:iam::{}:root", request.account)
                        || id == &request.principal_arn
                })
        }),
        _ => false,
    }
}

/// Whether `statement` applies to `request` (Effect aside); `resource_policy` checks
/// `Principal`.
fn applies(statement: &Value, request: &Request, bus: &str, resource_policy: bool) -> bool {
    let action = strings(&statement["Action"])
        .iter()
        .any(|a| glob(&a.to_ascii_lowercase(), "events:putevents"));
    let resource = strings(&statement["Resource"])
        .iter()
        .any(|r| r == "*" || arn_like(r, bus));
    if !action || !resource {
        return false; // a statement about something else: its conditions do not matter
    }
    if resource_policy && !principal_matches(&statement["Principal"], request) {
        return false;
    }
    statement["Condition"]
        .as_object()
        .into_iter()
        .flatten()
        .all(|(operator, keys)| {
            keys.as_object()
                .expect("condition block")
                .iter()
                .all(|(key, values)| condition_holds(operator, key, &strings(values), request))
        })
}

fn decide(bus_policy: &[Value], identity: &[Value], request: &Request, bus: &str) -> Decision {
    let matching = |statements: &[Value], effect: &str, resource_policy: bool| {
        statements
            .iter()
            .any(|s| s["Effect"] == effect && applies(s, request, bus, resource_policy))
    };
    if matching(bus_policy, "Deny", true) || matching(identity, "Deny", false) {
        return Decision::ExplicitDeny;
    }
    let by_bus = matching(bus_policy, "Allow", true);
    let by_identity = matching(identity, "Allow", false);
    let allowed = if request.account == HUB_ACCOUNT {
        by_bus || by_identity
    } else {
        by_bus && by_identity
    };
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// The statements of the deployed `AWS::Events::EventBusPolicy` resources, each with its
/// statement id as `Sid`.
fn bus_policy(stack: &Stack) -> Vec<Value> {
    stack
        .of_type("AWS::Events::EventBusPolicy")
        .keys()
        .map(|id| {
            let properties = stack.properties(id);
            assert_eq!(
                properties["EventBusName"],
                json!(stack.physical_id("HubBus")),
                "{id} is on the hub bus"
            );
            assert!(
                properties["Statement"].is_object(),
                "{id} uses a Statement (not the legacy Principal/Condition form)"
            );
            let mut statement = properties["Statement"].clone();
            statement["Sid"] = properties["StatementId"].clone();
            statement
        })
        .collect()
}

fn bus_arn(stack: &Stack) -> String {
    stack.attribute("HubBus", "Arn")
}

fn admin_identity() -> Vec<Value> {
    vec![json!({ "Effect": "Allow", "Action": "*", "Resource": "*" })]
}

fn approver_identity(bus: &str) -> Vec<Value> {
    vec![json!({
        "Effect": "Allow", "Action": "events:PutEvents", "Resource": bus,
        "Condition": { "ForAllValues:StringEquals": { "events:source": "peerwire.approval" } }
    })]
}

/// The member forwarder role's identity policy, from its template, pointed at `bus`.
fn forwarder_identity(bus: &str) -> (String, Vec<Value>) {
    let forwarder = Stack::new(
        yaml_template("templates/member-forwarder.yaml"),
        &[("HubBusArn", bus)],
    );
    let statements = role_statements(&forwarder, "ForwarderRole");
    assert!(!statements.is_empty());
    (
        "arn:aws:iam::111111111111:role/StackSet-peerwire-member-forwarder-ForwarderRole-0A1B2C3D4E5F"
            .to_owned(),
        statements,
    )
}

fn function_role(stack: &Stack, role: &str) -> (String, Vec<Value>) {
    (stack.attribute(role, "Arn"), role_statements(stack, role))
}

#[test]
fn approvals_come_only_from_approvers() {
    let stack = organization_hub();
    let bus = bus_arn(&stack);
    let policy = bus_policy(&stack);
    let approval = |arn: &str, account: &str| Request {
        detail_types: vec!["Peering Approval Granted"],
        ..Request::new(arn, account, &["peerwire.approval"])
    };

    // An approver of the first pattern, and one named exactly.
    assert_eq!(
        decide(
            &policy,
            &approver_identity(&bus),
            &approval(APPROVER, HUB_ACCOUNT),
            &bus
        ),
        Decision::Allow
    );
    let named = "arn:aws:iam::333333333333:role/peerwire-approver";
    assert_eq!(
        decide(
            &policy,
            &approver_identity(&bus),
            &approval(named, HUB_ACCOUNT),
            &bus
        ),
        Decision::Allow
    );
    // A denial is the same source: the same rule.
    let denial = Request {
        detail_types: vec!["Peering Approval Denied"],
        ..approval(APPROVER, HUB_ACCOUNT)
    };
    assert_eq!(
        decide(&policy, &approver_identity(&bus), &denial, &bus),
        Decision::Allow
    );

    // The hub's administrators may do anything, except this.
    assert_eq!(
        decide(
            &policy,
            &admin_identity(),
            &approval(ADMIN, HUB_ACCOUNT),
            &bus
        ),
        Decision::ExplicitDeny
    );
    // A role whose name only resembles an approver's, in a path the pattern does not cover.
    let lookalike =
        "arn:aws:iam::333333333333:role/AWSReservedSSO_PeeringApprover_0a1b2c3d4e5f6a7b";
    assert_eq!(
        decide(
            &policy,
            &admin_identity(),
            &approval(lookalike, HUB_ACCOUNT),
            &bus
        ),
        Decision::ExplicitDeny
    );
    // No function may approve, whatever its identity policy says.
    for role in FUNCTION_ROLES {
        let (arn, _) = function_role(&stack, role);
        assert_eq!(
            decide(
                &policy,
                &admin_identity(),
                &approval(&arn, HUB_ACCOUNT),
                &bus
            ),
            Decision::ExplicitDeny,
            "{role}"
        );
    }
    // Nor a member account, even with a forwarder allowed to put on the bus.
    let (forwarder, identity) = forwarder_identity(&bus);
    assert_eq!(
        decide(&policy, &identity, &approval(&forwarder, MEMBER), &bus),
        Decision::ExplicitDeny
    );
    // An approval hidden in a batch with a forwarded event is denied too.
    let batch = Request::new(APPROVER, HUB_ACCOUNT, &["aws.ec2", "peerwire.approval"]);
    assert_eq!(
        decide(
            &policy,
            &admin_identity(),
            &Request {
                principal_arn: ADMIN.into(),
                ..batch
            },
            &bus
        ),
        Decision::ExplicitDeny
    );
}

#[test]
fn the_documented_patterns_admit_identity_center_approvers_of_every_region() {
    let stack = organization_hub();
    let bus = bus_arn(&stack);
    let policy = bus_policy(&stack);
    let put = |arn: &str, detail_type: &'static str| Request {
        detail_types: vec![detail_type],
        ..Request::new(arn, HUB_ACCOUNT, &["peerwire.approval"])
    };
    // Both documented shapes: with the Region segment and without (us-east-1).
    for approver in [APPROVER, APPROVER_US_EAST_1] {
        for detail_type in ["Peering Approval Granted", "Peering Approval Denied"] {
            assert_eq!(
                decide(
                    &policy,
                    &approver_identity(&bus),
                    &put(approver, detail_type),
                    &bus
                ),
                Decision::Allow,
                "{approver} {detail_type}"
            );
        }
    }
    // Outside the pattern: another permission set, in either shape; a role of the same name
    // outside the reserved path; the pattern's role in another account.
    for outsider in [
        "arn:aws:iam::333333333333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_9f8e7d6c5b4a3f2e",
        ADMIN,
        "arn:aws:iam::333333333333:role/AWSReservedSSO_PeeringApprover_1234567890abcdef",
        "arn:aws:iam::333333333333:role/team/AWSReservedSSO_PeeringApprover_1234567890abcdef",
        "arn:aws:iam::444444444444:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PeeringApprover_1234567890abcdef",
    ] {
        let account = outsider.split(':').nth(4).unwrap();
        let request = Request {
            detail_types: vec!["Peering Approval Granted"],
            ..Request::new(outsider, account, &["peerwire.approval"])
        };
        assert_eq!(
            decide(&policy, &admin_identity(), &request, &bus),
            Decision::ExplicitDeny,
            "{outsider}"
        );
    }
}

#[test]
fn the_old_pattern_alone_refused_every_approver_of_an_instance_in_us_east_1() {
    // What the template documented before: a Region segment required.
    let old = vec![
        "arn:aws:iam::333333333333:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_PeeringApprover_*"
            .to_owned(),
    ];
    let stack = organization_hub_with(&old);
    let bus = bus_arn(&stack);
    let policy = bus_policy(&stack);
    let approval = Request::new(APPROVER_US_EAST_1, HUB_ACCOUNT, &["peerwire.approval"]);
    assert_eq!(
        decide(&policy, &approver_identity(&bus), &approval, &bus),
        Decision::ExplicitDeny
    );
    let elsewhere = Request::new(APPROVER, HUB_ACCOUNT, &["peerwire.approval"]);
    assert_eq!(
        decide(&policy, &approver_identity(&bus), &elsewhere, &bus),
        Decision::Allow
    );
}

#[test]
fn a_workflow_role_listed_as_approver_may_approve_and_nothing_else() {
    let stack = organization_hub();
    let bus = bus_arn(&stack);
    let policy = bus_policy(&stack);
    // Its identity policy: docs/deploy.md, section 6 (the approvers' statement).
    let identity = approver_identity(&bus);
    for detail_type in ["Peering Approval Granted", "Peering Approval Denied"] {
        let answer = Request {
            detail_types: vec![detail_type],
            ..Request::new(WORKFLOW, HUB_ACCOUNT, &["peerwire.approval"])
        };
        assert_eq!(decide(&policy, &identity, &answer, &bus), Decision::Allow);
    }
    // Not an outcome: only the functions send those.
    let forged = Request::new(WORKFLOW, HUB_ACCOUNT, &["peerwire"]);
    assert_eq!(
        decide(&policy, &admin_identity(), &forged, &bus),
        Decision::ExplicitDeny
    );
    // A workflow role not listed is refused, whatever its identity policy.
    let other = "arn:aws:iam::333333333333:role/service-role/other-workflow";
    let answer = Request::new(other, HUB_ACCOUNT, &["peerwire.approval"]);
    assert_eq!(
        decide(&policy, &admin_identity(), &answer, &bus),
        Decision::ExplicitDeny
    );
}

#[test]
fn without_approvers_nobody_can_approve() {
    let stack = hub(&[("ExternalId", "test-external-id"), ("OrgId", ORG)]);
    let bus = bus_arn(&stack);
    let policy = bus_policy(&stack);
    for principal in [APPROVER, ADMIN] {
        let request = Request::new(principal, HUB_ACCOUNT, &["peerwire.approval"]);
        assert_eq!(
            decide(&policy, &admin_identity(), &request, &bus),
            Decision::ExplicitDeny,
            "{principal}"
        );
    }
}

#[test]
fn outcome_events_come_only_from_the_four_functions() {
    let stack = organization_hub();
    let bus = bus_arn(&stack);
    let policy = bus_policy(&stack);
    for role in FUNCTION_ROLES {
        let (arn, identity) = function_role(&stack, role);
        let outcome = Request::new(&arn, HUB_ACCOUNT, &["peerwire"]);
        assert_eq!(
            decide(&policy, &identity, &outcome, &bus),
            Decision::Allow,
            "{role}"
        );
        // Its own identity policy allows source peerwire only.
        let other = Request::new(&arn, HUB_ACCOUNT, &["custom.app"]);
        assert_eq!(
            decide(&policy, &identity, &other, &bus),
            Decision::ImplicitDeny,
            "{role}"
        );
    }
    // A forged "Peering Request Accepted" would start a wiring run: nobody else may send one.
    for principal in [ADMIN, APPROVER] {
        let forged = Request::new(principal, HUB_ACCOUNT, &["peerwire"]);
        assert_eq!(
            decide(&policy, &admin_identity(), &forged, &bus),
            Decision::ExplicitDeny,
            "{principal}"
        );
    }
    let (forwarder, identity) = forwarder_identity(&bus);
    let forged = Request::new(&forwarder, MEMBER, &["peerwire"]);
    assert_eq!(
        decide(&policy, &identity, &forged, &bus),
        Decision::ExplicitDeny
    );
}

#[test]
fn members_forward_aws_events_and_nothing_else() {
    let stack = organization_hub();
    let bus = bus_arn(&stack);
    let policy = bus_policy(&stack);
    let (forwarder, identity) = forwarder_identity(&bus);
    for source in ["aws.ec2", "aws.rds"] {
        // A member of the organization, and an account listed in MemberAccountIds.
        let member = Request::new(&forwarder, MEMBER, &[source]);
        assert_eq!(
            decide(&policy, &identity, &member, &bus),
            Decision::Allow,
            "{source}"
        );
        let listed = Request {
            principal_arn: forwarder.replace(MEMBER, LISTED_MEMBER),
            org: None,
            ..Request::new(&forwarder, LISTED_MEMBER, &[source])
        };
        assert_eq!(
            decide(&policy, &identity, &listed, &bus),
            Decision::Allow,
            "{source}"
        );
        // An account of neither: no Allow in the bus policy.
        let outsider = Request {
            principal_arn: forwarder.replace(MEMBER, OUTSIDER),
            ..Request::new(&forwarder, OUTSIDER, &[source])
        };
        assert_eq!(
            decide(&policy, &identity, &outsider, &bus),
            Decision::ImplicitDeny,
            "{source}"
        );
    }
    // Any other source from a member: not allowed by the bus policy.
    let custom = Request::new(&forwarder, MEMBER, &["custom.app"]);
    assert_eq!(
        decide(&policy, &identity, &custom, &bus),
        Decision::ImplicitDeny
    );
    let mixed = Request::new(&forwarder, MEMBER, &["aws.ec2", "custom.app"]);
    assert_eq!(
        decide(&policy, &identity, &mixed, &bus),
        Decision::ImplicitDeny
    );
}

#[test]
fn without_org_or_member_accounts_no_other_account_may_put() {
    let stack = hub(&[("ExternalId", "test-external-id")]);
    let bus = bus_arn(&stack);
    let policy = bus_policy(&stack);
    assert!(
        policy.iter().all(|s| s["Effect"] == "Deny"),
        "only the two Deny statements: {policy:?}"
    );
    let (forwarder, identity) = forwarder_identity(&bus);
    let member = Request::new(&forwarder, MEMBER, &["aws.ec2"]);
    assert_eq!(
        decide(&policy, &identity, &member, &bus),
        Decision::ImplicitDeny
    );
}

#[test]
fn statement_ids_are_unique_within_and_across_hub_stacks() {
    let first = organization_hub();
    let ids = |stack: &Stack| -> Vec<String> {
        bus_policy(stack)
            .iter()
            .map(|s| scalar(&s["Sid"]))
            .collect()
    };
    let one = ids(&first);
    assert_eq!(
        one.len(),
        4,
        "org, accounts, approvers-only, functions-only: {one:?}"
    );
    let unique: BTreeSet<&String> = one.iter().collect();
    assert_eq!(unique.len(), one.len(), "{one:?}");
    for id in &one {
        assert!(id.len() <= 64, "{id}: StatementId is at most 64 characters");
        assert!(
            id.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{id}"
        );
    }
    // A second hub stack in the same account (another stack id): no id in common.
    let second = Stack::with_stack_uuid(
        first.template.clone(),
        &[
            ("ExternalId", "test-external-id"),
            ("OrgId", ORG),
            ("MemberAccountIds", LISTED_MEMBER),
            ("ApproverPrincipalArns", APPROVER),
            ("HubBusName", "peerwire-hub-2"),
        ],
        "7e0a1b2c-3d4e-11f0-9a8b-0a1b2c3d4e5f",
    );
    let two: BTreeSet<String> = ids(&second).into_iter().collect();
    assert!(
        one.iter().all(|id| !two.contains(id)),
        "{one:?} and {two:?} collide"
    );
}

#[test]
fn the_evaluator_knows_its_operators() {
    // The building blocks the verdicts above rest on.
    assert!(glob("a*c", "abbc") && !glob("a*c", "abcd") && glob("a?c", "abc"));
    assert!(arn_like(
        "arn:aws:iam::333333333333:role/x/*/y_*",
        "arn:aws:iam::333333333333:role/x/eu-west-1/y_1"
    ));
    assert!(!arn_like(
        "arn:aws:iam::*:role/y",
        "arn:aws:iam::333333333333:role/z"
    ));
    let request = Request::new(ADMIN, HUB_ACCOUNT, &["aws.ec2", "peerwire"]);
    let v = |s: &str| vec![s.to_owned()];
    assert!(condition_holds(
        "ForAnyValue:StringEquals",
        "events:source",
        &v("peerwire"),
        &request
    ));
    assert!(!condition_holds(
        "ForAllValues:StringEquals",
        "events:source",
        &v("peerwire"),
        &request
    ));
    assert!(condition_holds(
        "ArnNotLike",
        "aws:PrincipalArn",
        &v("arn:aws:iam::*:role/other"),
        &request
    ));
    assert!(!condition_holds(
        "ArnNotEquals",
        "aws:principalarn",
        &v(ADMIN),
        &request
    ));
    let outsider = Request::new(ADMIN, OUTSIDER, &["aws.ec2"]);
    assert!(!condition_holds(
        "StringEquals",
        "aws:PrincipalOrgID",
        &v(ORG),
        &outsider
    ));
}
