/**
 * `npm run demo`: the example app's access keys through create, scheduled rotation, rotation by
 * serial and delete, against the
 * local emulator of Lightsail and Secrets Manager. Runs the synthesized assets as CloudFormation
 * would (the Provider framework from cdk.out invoking the bundled handler); needs no AWS account.
 */
import { performance } from 'perf_hooks';
import type { StoredAccessKey } from '../lib/contract';
import { AwsEmulator } from '../local/emulator';
import { emittedTexts, leaks } from '../local/leaks';
import { RotationDriver, ROTATION_STEPS } from '../local/rotation-driver';
import { CfnResponse, StackDriver, SynthesizedStack } from '../local/stack-driver';
import { synthesize } from '../local/synth';
import { ExampleStack } from './example-stack';

const STACK_NAME = 'LightsailBucketAccessKeyExample';
const BUCKET_NAME = 'cdk-lightsail-access-key-example';

function synthesizeExample(serial: number): SynthesizedStack {
  return synthesize((app) => new ExampleStack(app, STACK_NAME, {
    bucketName: BUCKET_NAME,
    serial,
    env: { account: '123456789012', region: 'us-east-1' },
  }));
}

function masked(secretString: string | undefined): string {
  if (secretString === undefined) {
    return '(no value)';
  }
  const value = JSON.parse(secretString) as StoredAccessKey;
  return JSON.stringify({ ...value, secretAccessKey: `${'*'.repeat(8)} (${value.secretAccessKey.length} characters, masked)` });
}

class Demo {
  private step = 0;
  private failures = 0;

  constructor(private readonly emulator: AwsEmulator, private readonly driver: StackDriver) {}

  async run(title: string, logicalId: string, secretArn: string, send: () => Promise<CfnResponse>): Promise<string> {
    const started = performance.now();
    const response = await send();
    this.report(title, `${logicalId} (Custom::LightsailBucketAccessKey)`, response.Status, started, response.Reason);
    console.log(`    physical id     ${response.PhysicalResourceId}`);
    this.showSecret(secretArn);
    return response.PhysicalResourceId;
  }

  async rotate(rotation: RotationDriver, secretArn: string): Promise<void> {
    const started = performance.now();
    const outcome = await rotation.rotate(secretArn);
    const status = outcome.failedStep ? 'FAILED' : 'SUCCESS';
    this.report(`Scheduled rotation by Secrets Manager (${ROTATION_STEPS.join(', ')})`, `rotation function, version ${outcome.token}`,
      status, started, outcome.failedStep && `${outcome.failedStep}: ${outcome.errorMessage}`);
    this.showSecret(secretArn);
  }

  private report(title: string, subject: string, status: string, started: number, reason?: string): void {
    this.step++;
    console.log(`\n[${this.step}] ${title}`);
    console.log(`    resource        ${subject}`);
    console.log(`    result          ${status} in ${Math.round(performance.now() - started)} ms`);
    if (status === 'FAILED') {
      this.failures++;
      console.log(`    reason          ${(reason ?? '').split('\n')[0]}`);
    }
  }

  private showSecret(secretArn: string): void {
    console.log(`    secret          ${secretArn}`);
    console.log(`    secret value    ${masked(this.emulator.currentSecretValue(secretArn))}`);
    console.log(`    bucket keys     ${this.emulator.accessKeys(BUCKET_NAME).map((key) => key.accessKeyId).join(', ') || '(none)'}`);
  }

  get failed(): boolean {
    return this.failures > 0;
  }

  leakReport(stacks: SynthesizedStack[]): boolean {
    const texts = emittedTexts(this.driver, stacks);
    const found = leaks(this.emulator, texts);
    console.log(`\nLeak check: ${this.emulator.issuedSecretAccessKeys().length} secret access key(s) handed out; ` +
      `searched ${texts.length} texts (cdk.out files, ${this.driver.responseBodies.length} responses, ` +
      `${this.driver.logLines.length} log lines): ${found.length === 0 ? 'none found' : `FOUND in ${found.join(', ')}`}`);
    return found.length === 0;
  }
}

async function main(): Promise<boolean> {
  console.log('Synthesizing the example app (serial 1, then serial 2 for the rotation)...');
  const first = synthesizeExample(1);
  const rotated = synthesizeExample(2);
  const emulator = await AwsEmulator.start();
  try {
    const driver = new StackDriver(emulator, first);
    const demo = new Demo(emulator, driver);
    console.log(`Local emulator at ${emulator.endpoint}; bucket "${BUCKET_NAME}" and the key's empty secret provisioned.`);

    for (const logicalId of driver.keyLogicalIds()) {
      const secretArn = driver.secretArn(logicalId);
      const firstKey = await demo.run('Create (stack create)', logicalId, secretArn, () => driver.create(logicalId));
      await demo.rotate(new RotationDriver(emulator, driver), secretArn);
      const secondKey = await demo.run('Update, serial 1 -> 2 (rotation by serial)', logicalId, secretArn,
        () => driver.update(logicalId, firstKey, rotated.template, first.template));
      await demo.run('Delete of the old key (clean-up after the update succeeded)', logicalId, secretArn,
        () => driver.delete(logicalId, firstKey, first.template));
      await demo.run('Delete (stack delete)', logicalId, secretArn, () => driver.delete(logicalId, secondKey, rotated.template));
    }
    const clean = demo.leakReport([first, rotated]);
    return !demo.failed && clean;
  } finally {
    await emulator.stop();
  }
}

main().then((ok) => {
  console.log(ok ? '\nDemo finished: every step succeeded.' : '\nDemo FAILED.');
  process.exitCode = ok ? 0 : 1;
}, (error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
