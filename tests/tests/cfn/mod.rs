//! A small CloudFormation evaluator for the template tests: loads a template (the hub after the
//! SAM transform, or a plain YAML template with its short-form tags), evaluates its conditions
//! for given parameter values and resolves the intrinsic functions the templates use (`Ref`,
//! `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::If`, `Fn::Equals`,
//! `Fn::Not`, `Fn::And`, `Fn::Or`, `Condition`), the way CloudFormation would in a stack named
//! [`STACK_NAME`] in account [`HUB_ACCOUNT`], `us-east-1`.
//!
//! Physical names and attributes of resources are made up but shaped like AWS's (a role's ARN
//! carries its path, a rule's ARN its bus), so ARN conditions can be evaluated. An intrinsic it
//! does not know fails the test loudly instead of guessing.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Map, Value};
use serde_yaml::Value as Yaml;

pub const HUB_ACCOUNT: &str = "333333333333";
pub const REGION: &str = "us-east-1";
pub const STACK_NAME: &str = "peerwire";
pub const STACK_UUID: &str = "51af3dc0-da77-11e4-872e-1234567db123";

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

pub fn read(path: &str) -> String {
    let path = workspace_root().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn load_json(path: &str) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `template.yaml` after the SAM transform, as `scripts/lint-templates` writes it. Runs
/// `scripts/lint-templates --transform-only` when the file is missing or older than the
/// template (it installs the pinned tools into `.venv-tools` on first use).
pub fn transformed_hub() -> Value {
    // The tests of one binary run in threads: one transform at a time, none read half-written.
    static TRANSFORM: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = TRANSFORM.lock().unwrap_or_else(|e| e.into_inner());
    let root = workspace_root();
    let out = root.join("target/lint-templates/template.transformed.json");
    let modified = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let stale = match (modified(&out), modified(&root.join("template.yaml"))) {
        (Some(out), Some(template)) => out < template,
        _ => true,
    };
    if stale {
        let status = Command::new(root.join("scripts/lint-templates"))
            .arg("--transform-only")
            .current_dir(&root)
            .status()
            .expect("scripts/lint-templates runs");
        assert!(
            status.success(),
            "scripts/lint-templates --transform-only failed"
        );
    }
    load_json("target/lint-templates/template.transformed.json")
}

/// A YAML template with CloudFormation's short-form tags turned into their JSON form.
pub fn yaml_template(path: &str) -> Value {
    let yaml: Yaml = serde_yaml::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    yaml_to_json(&yaml)
}

fn yaml_to_json(yaml: &Yaml) -> Value {
    match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(*b),
        Yaml::Number(n) => serde_json::to_value(n).expect("number"),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Sequence(items) => Value::Array(items.iter().map(yaml_to_json).collect()),
        Yaml::Mapping(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.as_str().expect("string key").to_owned(), yaml_to_json(v)))
                .collect(),
        ),
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let value = yaml_to_json(&tagged.value);
            match tag {
                "Ref" => json!({ "Ref": value }),
                "Condition" => json!({ "Condition": value }),
                "GetAtt" => {
                    let text = value.as_str().expect("!GetAtt A.B").to_owned();
                    let (resource, attribute) = text.split_once('.').expect("!GetAtt A.B");
                    json!({ "Fn::GetAtt": [resource, attribute] })
                }
                other => json!({ format!("Fn::{other}"): value }),
            }
        }
    }
}

/// A template with parameter values: evaluates conditions and resolves intrinsics.
#[derive(Debug)]
pub struct Stack {
    pub template: Value,
    params: BTreeMap<String, Value>,
    pub stack_uuid: String,
}

impl Stack {
    /// `overrides` are parameter values as CloudFormation receives them (strings; a
    /// CommaDelimitedList as `a,b`); every other parameter takes its default, and a parameter
    /// without a default must be given.
    pub fn new(template: Value, overrides: &[(&str, &str)]) -> Self {
        Self::with_stack_uuid(template, overrides, STACK_UUID)
    }

    pub fn with_stack_uuid(template: Value, overrides: &[(&str, &str)], uuid: &str) -> Self {
        let mut params = BTreeMap::new();
        let declared = template["Parameters"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (name, _) in overrides {
            assert!(
                declared.contains_key(*name),
                "parameter {name} is not declared"
            );
        }
        for (name, declaration) in &declared {
            let given = overrides.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
            let raw = match (given, &declaration["Default"]) {
                (Some(v), _) => v.to_owned(),
                (None, Value::String(s)) => s.clone(),
                (None, Value::Number(n)) => n.to_string(),
                (None, Value::Null) => panic!("parameter {name} has no default: give a value"),
                (None, other) => panic!("parameter {name}: unexpected default {other}"),
            };
            let value = if declaration["Type"] == "CommaDelimitedList" {
                Value::Array(raw.split(',').map(|s| json!(s.trim())).collect())
            } else {
                Value::String(raw)
            };
            params.insert(name.clone(), value);
        }
        Self {
            template,
            params,
            stack_uuid: uuid.to_owned(),
        }
    }

    pub fn resources(&self) -> &Map<String, Value> {
        self.template["Resources"]
            .as_object()
            .expect("template has Resources")
    }

    /// The resources whose `Condition` holds, by logical id.
    pub fn deployed(&self) -> BTreeMap<String, &Value> {
        self.resources()
            .iter()
            .filter(|(_, r)| {
                r["Condition"]
                    .as_str()
                    .is_none_or(|condition| self.condition(condition))
            })
            .map(|(id, r)| (id.clone(), r))
            .collect()
    }

    /// The deployed resources of one type.
    pub fn of_type(&self, kind: &str) -> BTreeMap<String, &Value> {
        self.deployed()
            .into_iter()
            .filter(|(_, r)| r["Type"] == kind)
            .collect()
    }

    /// The resolved properties of a deployed resource.
    pub fn properties(&self, id: &str) -> Value {
        let resource = self
            .resources()
            .get(id)
            .unwrap_or_else(|| panic!("no resource {id}"));
        self.resolve(&resource["Properties"]).unwrap_or(Value::Null)
    }

    pub fn param(&self, name: &str) -> &Value {
        self.params
            .get(name)
            .unwrap_or_else(|| panic!("no parameter {name}"))
    }

    pub fn condition(&self, name: &str) -> bool {
        let definition = &self.template["Conditions"][name];
        assert!(!definition.is_null(), "no condition {name}");
        self.truth(definition)
    }

    fn truth(&self, value: &Value) -> bool {
        let (function, args) = single(value).unwrap_or_else(|| panic!("not a condition: {value}"));
        match function {
            "Condition" => self.condition(args.as_str().expect("condition name")),
            "Fn::Equals" => {
                let a = self.resolve(&args[0]).expect("Fn::Equals operand");
                let b = self.resolve(&args[1]).expect("Fn::Equals operand");
                scalar(&a) == scalar(&b)
            }
            "Fn::Not" => !self.truth(&args[0]),
            "Fn::And" => args.as_array().expect("list").iter().all(|a| self.truth(a)),
            "Fn::Or" => args.as_array().expect("list").iter().any(|a| self.truth(a)),
            other => panic!("condition function {other} is not known here"),
        }
    }

    /// Resolves every intrinsic function in `value`; `None` is `AWS::NoValue` (dropped from
    /// lists and objects).
    pub fn resolve(&self, value: &Value) -> Option<Value> {
        if let Some((function, args)) = single(value) {
            if function == "Ref" || function.starts_with("Fn::") || function == "Condition" {
                return self.intrinsic(function, args);
            }
        }
        Some(match value {
            Value::Array(items) => {
                Value::Array(items.iter().filter_map(|v| self.resolve(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter_map(|(k, v)| self.resolve(v).map(|v| (k.clone(), v)))
                    .collect(),
            ),
            other => other.clone(),
        })
    }

    fn intrinsic(&self, function: &str, args: &Value) -> Option<Value> {
        let text = |v: &Value| -> String {
            match self.resolve(v) {
                Some(Value::String(s)) => s,
                Some(other) => scalar(&other),
                None => panic!("AWS::NoValue where a string is needed"),
            }
        };
        Some(match function {
            "Ref" => return self.reference(args.as_str().expect("Ref name")),
            "Fn::GetAtt" => {
                let (resource, attribute) = match args {
                    Value::Array(a) => (
                        a[0].as_str().expect("GetAtt resource").to_owned(),
                        a[1].as_str().expect("GetAtt attribute").to_owned(),
                    ),
                    Value::String(s) => {
                        let (r, a) = s.split_once('.').expect("A.B");
                        (r.to_owned(), a.to_owned())
                    }
                    other => panic!("Fn::GetAtt {other}"),
                };
                json!(self.attribute(&resource, &attribute))
            }
            "Fn::Sub" => {
                let (template, vars) = match args {
                    Value::String(s) => (s.clone(), Map::new()),
                    Value::Array(a) => (
                        a[0].as_str().expect("Sub string").to_owned(),
                        a[1].as_object().cloned().unwrap_or_default(),
                    ),
                    other => panic!("Fn::Sub {other}"),
                };
                json!(self.substitute(&template, &vars))
            }
            "Fn::Join" => {
                let separator = args[0].as_str().expect("Join separator");
                let items = self.resolve(&args[1]).expect("Join list");
                let parts: Vec<String> = items
                    .as_array()
                    .expect("Join list")
                    .iter()
                    .map(scalar)
                    .collect();
                json!(parts.join(separator))
            }
            "Fn::Split" => {
                let separator = args[0].as_str().expect("Split separator");
                let source = text(&args[1]);
                json!(source.split(separator).collect::<Vec<_>>())
            }
            "Fn::Select" => {
                let index: usize = scalar(&self.resolve(&args[0]).expect("index"))
                    .parse()
                    .expect("Select index");
                let list = self.resolve(&args[1]).expect("Select list");
                list[index].clone()
            }
            "Fn::If" => {
                let branch = if self.condition(args[0].as_str().expect("If condition")) {
                    &args[1]
                } else {
                    &args[2]
                };
                return self.resolve(branch);
            }
            "Condition" => json!(self.condition(args.as_str().expect("condition"))),
            other => panic!("intrinsic {other} is not known here"),
        })
    }

    fn substitute(&self, template: &str, vars: &Map<String, Value>) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            if let Some(literal) = after.strip_prefix('!') {
                out.push_str("${");
                rest = literal;
                continue;
            }
            let end = after.find('}').expect("unterminated ${ in Fn::Sub");
            let name = &after[..end];
            let value = if let Some(v) = vars.get(name) {
                scalar(&self.resolve(v).expect("Sub variable"))
            } else if let Some((resource, attribute)) = name.split_once('.') {
                self.attribute(resource, attribute)
            } else {
                scalar(&self.reference(name).expect("Sub reference"))
            };
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }

    fn reference(&self, name: &str) -> Option<Value> {
        Some(match name {
            "AWS::NoValue" => return None,
            "AWS::AccountId" => json!(HUB_ACCOUNT),
            "AWS::Region" => json!(REGION),
            "AWS::Partition" => json!("aws"),
            "AWS::URLSuffix" => json!("amazonaws.com"),
            "AWS::StackName" => json!(STACK_NAME),
            "AWS::StackId" => json!(format!(
                "arn:aws:cloudformation:{REGION}:{HUB_ACCOUNT}:stack/{STACK_NAME}/{}",
                self.stack_uuid
            )),
            _ => {
                if let Some(value) = self.params.get(name) {
                    value.clone()
                } else {
                    json!(self.physical_id(name))
                }
            }
        })
    }

    fn resource(&self, id: &str) -> &Value {
        self.resources()
            .get(id)
            .unwrap_or_else(|| panic!("reference to a resource that does not exist: {id}"))
    }

    fn generated_name(id: &str) -> String {
        format!("{STACK_NAME}-{id}-1A2B3C4D5E6F")
    }

    /// What `Ref` returns for a resource.
    pub fn physical_id(&self, id: &str) -> String {
        let resource = self.resource(id);
        let kind = resource["Type"].as_str().unwrap_or_default();
        let named = |key: &str| {
            resource["Properties"]
                .get(key)
                .and_then(|v| self.resolve(v))
                .map(|v| scalar(&v))
                .unwrap_or_else(|| Self::generated_name(id))
        };
        match kind {
            "AWS::Events::EventBus" => named("Name"),
            "AWS::SNS::Topic" => format!(
                "arn:aws:sns:{REGION}:{HUB_ACCOUNT}:{}",
                Self::generated_name(id)
            ),
            "AWS::SQS::Queue" => format!(
                "https://sqs.{REGION}.amazonaws.com/{HUB_ACCOUNT}/{}",
                Self::generated_name(id)
            ),
            "AWS::Logs::LogGroup" => named("LogGroupName"),
            "AWS::CloudWatch::Dashboard" => named("DashboardName"),
            "AWS::CloudWatch::Alarm" => named("AlarmName"),
            "AWS::CloudFormation::StackSet" => {
                format!("{}:{}", named("StackSetName"), self.stack_uuid)
            }
            _ => Self::generated_name(id),
        }
    }

    /// What `Fn::GetAtt` returns.
    pub fn attribute(&self, id: &str, attribute: &str) -> String {
        let resource = self.resource(id);
        let kind = resource["Type"].as_str().unwrap_or_default();
        let name = self.physical_id(id);
        match (kind, attribute) {
            ("AWS::Events::EventBus", "Arn") => {
                format!("arn:aws:events:{REGION}:{HUB_ACCOUNT}:event-bus/{name}")
            }
            ("AWS::Events::EventBus", "Name") => name,
            ("AWS::IAM::Role", "Arn") => {
                let path = resource["Properties"]
                    .get("Path")
                    .and_then(|p| self.resolve(p))
                    .map(|p| scalar(&p))
                    .unwrap_or_else(|| "/".to_owned());
                let role = resource["Properties"]
                    .get("RoleName")
                    .and_then(|p| self.resolve(p))
                    .map(|p| scalar(&p))
                    .unwrap_or(name);
                format!("arn:aws:iam::{HUB_ACCOUNT}:role{path}{role}")
            }
            ("AWS::SQS::Queue", "Arn") => format!(
                "arn:aws:sqs:{REGION}:{HUB_ACCOUNT}:{}",
                Self::generated_name(id)
            ),
            ("AWS::SQS::Queue", "QueueName") => Self::generated_name(id),
            ("AWS::Events::Rule", "Arn") => {
                let bus = resource["Properties"]
                    .get("EventBusName")
                    .and_then(|b| self.resolve(b))
                    .map(|b| scalar(&b))
                    .unwrap_or_else(|| "default".to_owned());
                let bus = bus.rsplit('/').next().unwrap_or_default().to_owned();
                if bus == "default" {
                    format!("arn:aws:events:{REGION}:{HUB_ACCOUNT}:rule/{name}")
                } else {
                    format!("arn:aws:events:{REGION}:{HUB_ACCOUNT}:rule/{bus}/{name}")
                }
            }
            ("AWS::DynamoDB::Table", "Arn") => {
                format!("arn:aws:dynamodb:{REGION}:{HUB_ACCOUNT}:table/{name}")
            }
            ("AWS::Lambda::Function", "Arn") => {
                format!("arn:aws:lambda:{REGION}:{HUB_ACCOUNT}:function:{name}")
            }
            ("AWS::Logs::LogGroup", "Arn") => {
                format!("arn:aws:logs:{REGION}:{HUB_ACCOUNT}:log-group:{name}:*")
            }
            (kind, attribute) => panic!("Fn::GetAtt {id}.{attribute} ({kind}) is not known here"),
        }
    }
}

/// `{"Fn::X": args}` → `("Fn::X", args)`.
fn single(value: &Value) -> Option<(&str, &Value)> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    map.iter().next().map(|(k, v)| (k.as_str(), v))
}

/// A resolved scalar as CloudFormation compares and joins it.
pub fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("not a scalar: {other}"),
    }
}

/// A string or a list of strings as a list.
pub fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Null => Vec::new(),
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => vec![scalar(other)],
    }
}

/// The statements of an IAM role's inline policies (resolved).
pub fn role_statements(stack: &Stack, role: &str) -> Vec<Value> {
    let properties = stack.properties(role);
    properties["Policies"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| match &p["PolicyDocument"]["Statement"] {
            Value::Array(items) => items.clone(),
            Value::Null => Vec::new(),
            one => vec![one.clone()],
        })
        .collect()
}

/// Whether CloudFormation takes `value` for the parameter `name` of `template`: its
/// `AllowedPattern` (Java regular expression syntax, CloudFormation User Guide, "Using regular
/// expressions in CloudFormation templates"; the templates' patterns are anchored and use only
/// what `regex-lite` reads the same way), `MinLength` and `MaxLength`.
pub fn parameter_accepts(template: &Value, name: &str, value: &str) -> bool {
    let declaration = &template["Parameters"][name];
    assert!(!declaration.is_null(), "no parameter {name}");
    let length = value.chars().count() as u64;
    if declaration["MinLength"]
        .as_u64()
        .is_some_and(|min| length < min)
        || declaration["MaxLength"]
            .as_u64()
            .is_some_and(|max| length > max)
    {
        return false;
    }
    match declaration["AllowedPattern"].as_str() {
        None => true,
        Some(pattern) => regex_lite::Regex::new(pattern)
            .unwrap_or_else(|e| panic!("{name}: AllowedPattern {pattern}: {e}"))
            .is_match(value),
    }
}

/// A small evaluator of IAM `Condition` blocks, for the member role's trust policy and
/// conditions: every operator must hold (AND), every key of an operator must hold (AND), and
/// one of a key's values must match (OR) (IAM User Guide, "Conditions with multiple context keys
/// or values"). `ForAllValues:` holds when every value of the request matches, and when the
/// key is absent; `ForAnyValue:` when one does ("Multivalued context key examples"); `Null`
/// tests whether the key is absent. It knows exactly the operators below and fails on any
/// other, so a template change cannot slip past it unevaluated.
pub mod iam {
    use std::collections::BTreeMap;

    use serde_json::Value;

    use super::strings;

    /// `*` and `?` wildcards, whole string.
    pub fn glob(pattern: &str, text: &str) -> bool {
        let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
        let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
        while ti < t.len() {
            if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
                pi += 1;
                ti += 1;
            } else if pi < p.len() && p[pi] == '*' {
                star = Some(pi);
                mark = ti;
                pi += 1;
            } else if let Some(s) = star {
                pi = s + 1;
                mark += 1;
                ti = mark;
            } else {
                return false;
            }
        }
        while pi < p.len() && p[pi] == '*' {
            pi += 1;
        }
        pi == p.len()
    }

    /// ARN comparison: the six colon-separated parts, each with wildcards.
    pub fn arn_like(pattern: &str, arn: &str) -> bool {
        let p: Vec<&str> = pattern.splitn(6, ':').collect();
        let a: Vec<&str> = arn.splitn(6, ':').collect();
        p.len() == 6 && a.len() == 6 && p.iter().zip(&a).all(|(p, a)| glob(p, a))
    }

    /// The request context: each key (lowercase) with its values.
    pub type Context = BTreeMap<String, Vec<String>>;

    /// A context from `(key, values)` pairs.
    pub fn context(pairs: &[(&str, &[&str])]) -> Context {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    k.to_ascii_lowercase(),
                    v.iter().map(|s| (*s).to_owned()).collect(),
                )
            })
            .collect()
    }

    /// Whether a whole `Condition` block holds for `request` (an absent block holds).
    pub fn condition_holds(condition: &Value, request: &Context) -> bool {
        condition
            .as_object()
            .into_iter()
            .flatten()
            .all(|(operator, keys)| {
                keys.as_object()
                    .expect("a condition operator maps keys to values")
                    .iter()
                    .all(|(key, values)| holds(operator, key, &strings(values), request))
            })
    }

    fn holds(operator: &str, key: &str, values: &[String], request: &Context) -> bool {
        let present = request.get(&key.to_ascii_lowercase());
        if operator == "Null" {
            let wanted = match values {
                [v] => v == "true",
                other => panic!("Null takes one value: {other:?}"),
            };
            return present.is_none() == wanted;
        }
        let (set, base) = match operator.split_once(':') {
            Some((set @ ("ForAllValues" | "ForAnyValue"), base)) => (Some(set), base),
            _ => (None, operator),
        };
        let positive: fn(&str, &str) -> bool = match base {
            "StringEquals" => |p, v| p == v,
            "StringLike" => glob,
            "ArnEquals" | "ArnLike" => arn_like,
            other => panic!("the evaluator does not know the condition operator {other}: add it"),
        };
        let matches = |value: &String| values.iter().any(|p| positive(p, value));
        match (set, present) {
            (Some("ForAllValues"), None) => true,
            (Some("ForAllValues"), Some(context)) => context.iter().all(matches),
            (Some(_), None) => false,
            (Some(_), Some(context)) => context.iter().any(matches),
            (None, None) => false,
            (None, Some(context)) => context.iter().any(matches),
        }
    }
}
