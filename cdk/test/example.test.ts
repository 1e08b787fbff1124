import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { buildApp } from '../examples/hub-and-members';
import { REPO } from './helpers';

/** The example app, with a stub bootstrap for each binary. */
function synthExample(outdir: string) {
  const app = new App({ outdir });
  const stacks = buildApp(app, { code: () => lambda.Code.fromAsset(path.join(__dirname, 'fixtures', 'bootstrap')) });
  app.synth();
  return stacks;
}

test('the example app synthesizes its three stacks without credentials', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'peerwire-example-'));
  const { hub, member, rollout } = synthExample(outdir);
  Template.fromStack(hub).resourceCountIs('AWS::Lambda::Function', 4);
  Template.fromStack(hub).hasParameter('ExternalId', { NoEcho: true });
  Template.fromStack(member).resourceCountIs('AWS::Events::Rule', 5);
  Template.fromStack(rollout).resourceCountIs('AWS::CloudFormation::StackSet', 2);
  fs.rmSync(outdir, { recursive: true, force: true });
});

test('cfn-lint finds no error in the synthesized templates', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'peerwire-lint-'));
  synthExample(outdir);
  const templates = fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json')).map((f) => path.join(outdir, f));
  expect(templates).toHaveLength(3);
  const cfnLint = path.join(REPO, '.venv-tools', 'bin', 'cfn-lint');
  if (!fs.existsSync(cfnLint)) {
    execFileSync(path.join(REPO, 'scripts', 'lint-templates'), ['--transform-only'], { cwd: REPO, stdio: 'inherit' });
  }
  try {
    // W3005: CDK makes a function depend on its role explicitly as well as through GetAtt.
    execFileSync(cfnLint, ['--regions', 'us-east-1', '--ignore-checks', 'W3005', '--', ...templates], { encoding: 'utf-8' });
    fs.rmSync(outdir, { recursive: true, force: true });
  } catch (err: any) {
    // cfn-lint's exit code is a bit mask: 2 = errors, 4 = warnings, 8 = informational.
    const output = `${err.stdout ?? ''}${err.stderr ?? ''}`;
    if (typeof err.status !== 'number' || (err.status & 2) !== 0 || err.status === 1) {
      throw new Error(`cfn-lint (exit ${err.status}):\n${output}`);
    }
    console.warn(`cfn-lint warnings (exit ${err.status}):\n${output}`);
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});
