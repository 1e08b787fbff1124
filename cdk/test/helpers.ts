/**
 * What the tests share: a stand-in for the Rust binaries, synthesis without credentials or
 * network, the SAM templates (the hub after the SAM transform that scripts/lint-templates runs,
 * the plain templates parsed by the same tool's YAML loader), and a normalizer that turns both
 * into comparable JSON.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { PEERWIRE_ID } from '../lib';

export const REPO = path.resolve(__dirname, '..', '..');
export const TOOLS_PYTHON = path.join(REPO, '.venv-tools', 'bin', 'python');

/** A stub `bootstrap` asset (a new one per stack): synthesis without building the Rust binaries. */
export function stubCode(): lambda.Code {
  return lambda.Code.fromAsset(path.join(__dirname, 'fixtures', 'bootstrap'));
}

/** An app that never bundles (RustFunction then needs no cargo-lambda) and a stack in it. */
export function stack(name = 'peerwire'): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return new Stack(app, name);
}

export type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

let transformEnsured = false;

/** Runs scripts/lint-templates --transform-only when its output is missing or older than template.yaml. */
function ensureTransform(): string {
  const out = path.join(REPO, 'target', 'lint-templates', 'template.transformed.json');
  const template = path.join(REPO, 'template.yaml');
  const stale = !fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(template).mtimeMs;
  if (stale || !fs.existsSync(TOOLS_PYTHON)) {
    if (!transformEnsured) {
      execFileSync(path.join(REPO, 'scripts', 'lint-templates'), ['--transform-only'], { cwd: REPO, stdio: 'inherit' });
      transformEnsured = true;
    }
  }
  return out;
}

/** template.yaml after the SAM transform. */
export function samHub(): Json {
  return JSON.parse(fs.readFileSync(ensureTransform(), 'utf-8'));
}

/** A plain CloudFormation YAML template (short-form tags included), as JSON. */
export function yamlTemplate(relative: string): Json {
  ensureTransform(); // installs .venv-tools when needed
  const json = execFileSync(
    TOOLS_PYTHON,
    [
      '-c',
      'import json,sys\nfrom samtranslator.yaml_helper import yaml_parse\nprint(json.dumps(yaml_parse(open(sys.argv[1]).read())))',
      path.join(REPO, relative),
    ],
    { encoding: 'utf-8' },
  );
  return JSON.parse(json);
}

// ---------------------------------------------------------------------------------------------
// Normalization
// ---------------------------------------------------------------------------------------------

const NO_VALUE = Symbol('AWS::NoValue');

interface Env {
  /** The canonical name of a resource (its SAM logical id). */
  canon(logicalId: string): string;
  /** A parameter's value (SAM) or undefined (not a parameter). */
  param(name: string): string | string[] | undefined;
  /** A condition's value (SAM). */
  condition(name: string): boolean;
}

function pseudo(name: string): Json {
  if (name === 'AWS::NoValue') return NO_VALUE;
  if (name === 'AWS::Partition') return 'aws';
  return `{{${name}}}`;
}

function reference(name: string, env: Env): Json {
  if (name.startsWith('AWS::')) return pseudo(name);
  const value = env.param(name);
  if (value !== undefined) return value;
  return `{{${env.canon(name)}}}`;
}

function text(value: Json): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`not a string: ${JSON.stringify(value)}`);
}

/** Resolves intrinsics to strings: resource references become {{CanonicalId}} / {{Id.Attr}}. */
export function resolve(value: Json, env: Env): Json {
  if (Array.isArray(value)) {
    return value.map((v) => resolve(v, env)).filter((v) => v !== NO_VALUE);
  }
  if (value === null || typeof value !== 'object') {
    return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
  }
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const [key] = keys;
    const args = value[key];
    switch (key) {
      case 'Ref':
        return reference(args, env);
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(args) ? args : String(args).split('.');
        return `{{${env.canon(id)}.${attr}}}`;
      }
      case 'Fn::Sub': {
        const [template, vars] = Array.isArray(args) ? args : [args, {}];
        return (template as string).replace(/\$\{([^}]+)\}/g, (_whole: string, name: string) => {
          if (name.startsWith('!')) return '${' + name.slice(1) + '}';
          if (name in vars) return text(resolve(vars[name], env));
          if (name.includes('.') && !name.startsWith('AWS::')) {
            const [id, attr] = name.split('.');
            return `{{${env.canon(id)}.${attr}}}`;
          }
          const v = reference(name, env);
          return Array.isArray(v) ? v.join(',') : text(v);
        });
      }
      case 'Fn::Join': {
        const items = resolve(args[1], env);
        return (Array.isArray(items) ? items : [items]).map(text).join(args[0]);
      }
      case 'Fn::Split': {
        const source = text(resolve(args[1], env));
        return source.includes('{{') ? `{{split(${args[0]},${source})}}` : source.split(args[0]);
      }
      case 'Fn::Select': {
        const index = Number(resolve(args[0], env));
        const list = resolve(args[1], env);
        return Array.isArray(list) ? list[index] : `{{select(${index},${list})}}`;
      }
      case 'Fn::If':
        return resolve(env.condition(args[0]) ? args[1] : args[2], env);
      case 'Condition':
        return String(env.condition(args));
      default:
        if (key.startsWith('Fn::')) throw new Error(`intrinsic ${key} is not known here`);
    }
  }
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    const r = resolve(v, env);
    if (r !== NO_VALUE) out[k] = r;
  }
  return out;
}

/** JSON with object keys sorted. */
export function stableText(value: Json): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
}

const asList = (v: Json) => (Array.isArray(v) ? v : [v]);

/** IAM documents compare as sets: lists sorted, scalars as one-element lists, no Version. */
function canonicalPolicy(value: Json): Json {
  if (Array.isArray(value)) return value.map(canonicalPolicy);
  if (value === null || typeof value !== 'object') return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'Version') continue;
    out[k] = canonicalPolicy(v);
  }
  if ('Effect' in out) {
    for (const k of ['Action', 'NotAction', 'Resource', 'NotResource']) {
      if (k in out) out[k] = [...asList(out[k])].sort();
    }
    if (out.Principal && typeof out.Principal === 'object') {
      for (const k of Object.keys(out.Principal)) out.Principal[k] = [...asList(out.Principal[k])].sort();
    }
    if (out.Condition) {
      for (const op of Object.keys(out.Condition)) {
        for (const key of Object.keys(out.Condition[op])) {
          out.Condition[op][key] = [...asList(out.Condition[op][key])].sort();
        }
      }
    }
  }
  if (Array.isArray(out.Statement)) {
    out.Statement = [...out.Statement].sort((a: Json, b: Json) => stableText(a).localeCompare(stableText(b)));
  }
  return out;
}

/** Properties that differ between SAM's and CDK's output without meaning anything. */
const IGNORED: Record<string, string[]> = {
  'AWS::Lambda::Function': ['Code', 'Tags'],
  '*': ['Tags'],
};

export interface Resource {
  type: string;
  properties: Json;
  deletionPolicy: string;
  updateReplacePolicy: string;
}

function shape(type: string, properties: Json, raw: Json): Resource {
  const props: Json = { ...properties };
  for (const k of [...(IGNORED[type] ?? []), ...IGNORED['*']]) delete props[k];
  if (type === 'AWS::IAM::Role' && Array.isArray(props.Policies)) {
    props.Policies = [...props.Policies].sort((a: Json, b: Json) => String(a.PolicyName).localeCompare(String(b.PolicyName)));
  }
  if (type === 'AWS::CloudWatch::Dashboard' && typeof props.DashboardBody === 'string') {
    props.DashboardBody = JSON.parse(props.DashboardBody);
  }
  return {
    type,
    properties: canonicalPolicy(props),
    deletionPolicy: raw.DeletionPolicy ?? 'Delete',
    updateReplacePolicy: raw.UpdateReplacePolicy ?? 'Delete',
  };
}

/** The resources of a synthesized CDK template, by their SAM logical id. */
export function cdkResources(template: Json): Record<string, Resource> {
  const ids: Record<string, string> = {};
  const unmarked: string[] = [];
  for (const [logicalId, r] of Object.entries<Json>(template.Resources ?? {})) {
    const id = r.Metadata?.[PEERWIRE_ID];
    if (id) ids[logicalId] = id;
    else if (r.Type !== 'AWS::CDK::Metadata') unmarked.push(`${logicalId} (${r.Type})`);
  }
  if (unmarked.length > 0) throw new Error(`CDK resources without a SAM id: ${unmarked.join(', ')}`);
  const env: Env = {
    canon: (id) => {
      if (!ids[id]) throw new Error(`reference to ${id}, which has no SAM id`);
      return ids[id];
    },
    param: () => undefined,
    condition: (name) => {
      throw new Error(`CDK template uses condition ${name}`);
    },
  };
  const out: Record<string, Resource> = {};
  for (const [logicalId, r] of Object.entries<Json>(template.Resources ?? {})) {
    if (!ids[logicalId]) continue;
    if (out[ids[logicalId]]) throw new Error(`two CDK resources claim ${ids[logicalId]}`);
    out[ids[logicalId]] = shape(r.Type, resolve(r.Properties ?? {}, env), r);
  }
  return out;
}

/** The values of a SAM template's outputs with these parameter values (resources as {{LogicalId}}). */
export function samOutputs(template: Json, parameters: Record<string, string>): Record<string, Json> {
  const env = samEnv(template, parameters);
  const out: Record<string, Json> = {};
  for (const [id, o] of Object.entries<Json>(template.Outputs ?? {})) {
    if (o.Condition && !env.condition(o.Condition)) continue;
    out[id] = resolve(o.Value, env);
  }
  return out;
}

/** The resources a SAM template deploys with these parameter values, by logical id. */
export function samResources(template: Json, parameters: Record<string, string>): Record<string, Resource> {
  const env = samEnv(template, parameters);
  const out: Record<string, Resource> = {};
  for (const [id, r] of Object.entries<Json>(template.Resources)) {
    if (r.Condition && !env.condition(r.Condition)) continue;
    out[id] = shape(r.Type, resolve(r.Properties ?? {}, env), r);
  }
  return out;
}

/** Parameter values (declared ones only; defaults filled in) and conditions of a SAM template. */
function samEnv(template: Json, parameters: Record<string, string>): Env {
  const declared: Json = template.Parameters ?? {};
  for (const name of Object.keys(parameters)) {
    if (!(name in declared)) throw new Error(`${name} is not a parameter of the SAM template`);
  }
  const values: Record<string, string | string[]> = {};
  for (const [name, d] of Object.entries<Json>(declared)) {
    const raw = parameters[name] ?? (d.Default === undefined ? undefined : String(d.Default));
    if (raw === undefined) throw new Error(`parameter ${name} has no default: give it`);
    values[name] = d.Type === 'CommaDelimitedList' ? raw.split(',').map((s: string) => s.trim()) : raw;
  }
  const conditions: Record<string, boolean> = {};
  const env: Env = {
    canon: (id) => {
      if (!(id in template.Resources)) throw new Error(`reference to a missing resource ${id}`);
      return id;
    },
    param: (name) => values[name],
    condition: (name) => {
      if (!(name in conditions)) conditions[name] = truth(template.Conditions[name], env);
      return conditions[name];
    },
  };
  return env;
}

function truth(definition: Json, env: Env): boolean {
  const [key] = Object.keys(definition);
  const args = definition[key];
  switch (key) {
    case 'Condition':
      return env.condition(args);
    case 'Fn::Equals': {
      const [a, b] = args.map((x: Json) => resolve(x, env));
      return JSON.stringify(a) === JSON.stringify(b);
    }
    case 'Fn::Not':
      return !truth(args[0], env);
    case 'Fn::And':
      return args.every((a: Json) => truth(a, env));
    case 'Fn::Or':
      return args.some((a: Json) => truth(a, env));
    default:
      throw new Error(`condition function ${key}`);
  }
}
