/**
 * Failed updates rolled back end to end by the local CloudFormation, through the Provider framework
 * and the bundled handler (issue 14 §1). The rule: the stack ends UPDATE_ROLLBACK_COMPLETE holding its
 * old key, which exists and is the secret's AWSCURRENT value, and no key is left that the secret does
 * not hold.
 */
import { Stack } from 'aws-cdk-lib';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { LightsailBucketAccessKey } from '../../lib';
import { AwsEmulator } from '../../local/emulator';
import { LocalCloudFormation } from '../../local/cloudformation';
import { emittedTexts, leaks } from '../../local/leaks';
import type { SynthesizedStack } from '../../local/stack-driver';
import { synthesize } from '../../local/synth';
import { ACCOUNT, REGION, currentKey, expectSecretHoldsEveryKey, keyIds } from './fixture';

jest.setTimeout(90_000);

const BUCKET = 'rollback-bucket';
/** Holds the access key id (not a secret): it waits for the key and changes with it, so it is updated after it. */
const PARAMETER = 'KeyIdParameter';

function synthesizeStack(serial: number): SynthesizedStack {
  return synthesize((app) => {
    const stack = new Stack(app, 'Rollback', { env: { account: ACCOUNT, region: REGION } });
    const bucket = new lightsail.CfnBucket(stack, 'Bucket', { bucketName: BUCKET, bundleId: 'small_1_0' });
    const key = new LightsailBucketAccessKey(stack, 'Key', { bucket, serial });
    new ssm.CfnParameter(stack, 'Parameter', { type: 'String', value: key.accessKeyId }).overrideLogicalId(PARAMETER);
    return stack;
  });
}

let emulator: AwsEmulator;
let first: SynthesizedStack;
let bumped: SynthesizedStack;
const engines: LocalCloudFormation[] = [];

beforeAll(async () => {
  emulator = await AwsEmulator.start();
  first = synthesizeStack(1);
  bumped = synthesizeStack(2);
});

afterAll(async () => {
  const texts = engines.flatMap((engine) => [
    ...emittedTexts(engine.driver, [first, bumped]),
    ...engine.log.events.map((event, index) => ({ where: `stack event ${index}`, text: JSON.stringify(event) })),
  ]);
  expect(leaks(emulator, texts)).toEqual([]);
  await emulator.stop();
});

interface Deployed {
  readonly engine: LocalCloudFormation;
  readonly key: string;
  readonly oldKey: string;
  readonly secretArn: string;
}

async function deployFirst(): Promise<Deployed> {
  emulator.reset();
  const engine = LocalCloudFormation.forStack(emulator, first);
  engines.push(engine);
  expect(await engine.deploy()).toBe('CREATE_COMPLETE');
  const key = engine.driver.keyLogicalIds()[0];
  return { engine, key, oldKey: engine.physicalId(key), secretArn: String(engine.states.get(key)!.properties.SecretArn) };
}

/** The key's events as "STACK-STATUS RESOURCE-STATUS physical-id". */
function keyEvents(engine: LocalCloudFormation, key: string): string[] {
  return engine.log.of(key).map((event) => `${event.stackStatus} ${event.status} ${event.physicalId ?? '-'}`);
}

/** The rule every rollback must end in. */
function expectRolledBackToOldKey({ engine, key, oldKey, secretArn }: Deployed, foreign: string[] = []): void {
  const failures = engine.log.events.filter((event) => event.stackStatus.startsWith('UPDATE_ROLLBACK') && event.status.endsWith('_FAILED'));
  expect({ status: engine.status, rollbackFailures: failures.map((event) => `${event.logicalId}: ${event.reason}`) })
    .toEqual({ status: 'UPDATE_ROLLBACK_COMPLETE', rollbackFailures: [] });
  expect(engine.physicalId(key)).toBe(oldKey);
  expect(keyIds(emulator, BUCKET)).toEqual([oldKey, ...foreign].sort());
  expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(oldKey);
  expectSecretHoldsEveryKey(emulator, BUCKET, secretArn, foreign);
}

test('an update that fails after the key was replaced: the rollback deletes the new key and the secret holds the old one again', async () => {
  const deployed = await deployFirst();
  const { engine, key, oldKey } = deployed;

  expect(await engine.deploy(bumped.template, { failures: { [PARAMETER]: 'injected: the parameter fails after the key' } })).toBe('UPDATE_ROLLBACK_COMPLETE');

  const [newKey] = engine.log.of(key).filter((event) => event.status === 'UPDATE_COMPLETE').map((event) => event.physicalId);
  expect(newKey).not.toBe(oldKey);
  expect(keyEvents(engine, key)).toEqual([
    `CREATE_IN_PROGRESS CREATE_IN_PROGRESS -`,
    `CREATE_IN_PROGRESS CREATE_COMPLETE ${oldKey}`,
    `UPDATE_IN_PROGRESS UPDATE_IN_PROGRESS ${oldKey}`,
    `UPDATE_IN_PROGRESS UPDATE_COMPLETE ${newKey}`,
    // Back to the old physical id without a call; the replacement goes in the rollback's cleanup.
    `UPDATE_ROLLBACK_IN_PROGRESS UPDATE_COMPLETE ${oldKey}`,
    `UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS DELETE_IN_PROGRESS ${newKey}`,
    `UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS DELETE_COMPLETE ${newKey}`,
  ]);
  expectRolledBackToOldKey(deployed);

  // The stack is usable again: the same update without the fault goes through.
  expect(await engine.deploy(bumped.template)).toBe('UPDATE_COMPLETE');
  expect(keyIds(emulator, BUCKET)).toEqual([engine.physicalId(key)]);
});

test('a serial bump the handler fails (the bucket has no free slot) is rolled back with an Update back to the old key', async () => {
  const deployed = await deployFirst();
  const { engine, key, oldKey } = deployed;
  const foreign = emulator.addForeignAccessKey(BUCKET).accessKeyId;

  await engine.deploy(bumped.template);

  expect(keyEvents(engine, key).slice(2)).toEqual([
    `UPDATE_IN_PROGRESS UPDATE_IN_PROGRESS ${oldKey}`,
    // The Provider framework answers a failed Update with the event's own id (aws/aws-cdk#17040).
    `UPDATE_IN_PROGRESS UPDATE_FAILED ${oldKey}`,
    `UPDATE_ROLLBACK_IN_PROGRESS UPDATE_IN_PROGRESS ${oldKey}`,
    `UPDATE_ROLLBACK_IN_PROGRESS UPDATE_COMPLETE ${oldKey}`,
  ]);
  expectRolledBackToOldKey(deployed, [foreign]);
});

test('a serial bump whose new key could not be stored is rolled back to the old key, without minting another', async () => {
  const deployed = await deployFirst();
  const { engine } = deployed;
  emulator.injectFault({ operation: 'PutSecretValue', kind: 'server', times: 100 });

  // The outage is over by the time CloudFormation rolls back.
  await engine.deploy(bumped.template, { onRollback: () => emulator.clearFaults() });

  expect(engine.log.events.find((event) => event.status === 'UPDATE_FAILED')?.logicalId).toBe(deployed.key);
  expectRolledBackToOldKey(deployed);
});

test('a serial bump whose answer CloudFormation never got is rolled back to the old key, and the key it never heard of goes', async () => {
  const deployed = await deployFirst();
  const { engine, key } = deployed;

  await engine.deploy(bumped.template, { lostResponses: [key] });

  expect(engine.log.of(key).find((event) => event.status === 'UPDATE_FAILED')?.reason).toContain('CloudFormation did not receive a response from your Custom Resource');
  expectRolledBackToOldKey(deployed);
});
