/** The local CloudFormation: order, updates, cleanup, rollback and stack deletion on the key's own stack. */
import { AwsEmulator } from '../../local/emulator';
import { LocalCloudFormation } from '../../local/cloudformation';
import { dependencyGraph } from '../../local/cfn-order';
import { StackDriver } from '../../local/stack-driver';
import type { Template } from '../../local/template';
import { emittedTexts, leaks } from '../../local/leaks';
import type { SynthesizedStack } from '../../local/stack-driver';
import { currentKey, expectSecretHoldsEveryKey, keyIds, synthesizeKeyStack, synthesizeManyKeysStack } from '../lifecycle/fixture';

jest.setTimeout(60_000);

const BUCKET = 'lifecycle-bucket';
let emulator: AwsEmulator;
let first: SynthesizedStack;
let bumped: SynthesizedStack;
let many: SynthesizedStack;
const engines: LocalCloudFormation[] = [];

beforeAll(async () => {
  emulator = await AwsEmulator.start();
  first = synthesizeKeyStack({ serial: 1 });
  bumped = synthesizeKeyStack({ serial: 2 });
  many = synthesizeManyKeysStack({ buckets: 1, keysPerBucket: 2 });
});

afterAll(async () => {
  const texts = engines.flatMap((engine) => emittedTexts(engine.driver, [first, bumped, many]));
  expect(leaks(emulator, texts)).toEqual([]);
  await emulator.stop();
});

function engineFor(stack: SynthesizedStack): LocalCloudFormation {
  emulator.reset();
  const engine = LocalCloudFormation.forStack(emulator, stack);
  engines.push(engine);
  return engine;
}

function keyOf(engine: LocalCloudFormation): string {
  return engine.driver.keyLogicalIds()[0];
}

test('create, serial bump with cleanup of the old key, destroy', async () => {
  const engine = engineFor(first);
  expect(await engine.deploy()).toBe('CREATE_COMPLETE');
  const key = keyOf(engine);
  const firstKey = engine.physicalId(key);
  const secretArn = String(engine.states.get(key)!.properties.SecretArn);
  expect(keyIds(emulator, BUCKET)).toEqual([firstKey]);

  expect(await engine.deploy(bumped.template)).toBe('UPDATE_COMPLETE');
  const secondKey = engine.physicalId(key);
  expect(secondKey).not.toBe(firstKey);
  expect(keyIds(emulator, BUCKET)).toEqual([secondKey]);
  expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(secondKey);
  expectSecretHoldsEveryKey(emulator, BUCKET, secretArn);
  // The old key's Delete ran in the cleanup, after the update, with the old properties.
  expect(engine.log.of(key).map((event) => `${event.stackStatus} ${event.status} ${event.physicalId}`).slice(-2)).toEqual([
    `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS DELETE_IN_PROGRESS ${firstKey}`,
    `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS DELETE_COMPLETE ${firstKey}`,
  ]);

  expect(await engine.destroy()).toBe('DELETE_COMPLETE');
  expect(engine.states.size).toBe(0);
  expect(() => emulator.secretVersions(secretArn)).toThrow();
  expect(() => emulator.accessKeys(BUCKET)).toThrow();
  // The key goes before its secret and its bucket.
  const deletes = engine.log.events.filter((event) => event.status === 'DELETE_COMPLETE' && event.stackStatus === 'DELETE_IN_PROGRESS').map((event) => event.logicalId);
  expect(deletes.indexOf(key)).toBeLessThan(deletes.indexOf('Bucket'));
  expect(deletes.indexOf(key)).toBeLessThan(deletes.findIndex((logicalId) => logicalId.startsWith('KeySecret')));
  // IAM is on under the engine too: the handler's requests were judged against its role's policies.
  expect(emulator.iamCounts().allowed).toBeGreaterThan(0);
  expect(emulator.iamCounts().denied).toBe(0);
});

test('every resource is created after what it references, and independent custom resources run at once', async () => {
  const engine = engineFor(many);
  expect(await engine.deploy()).toBe('CREATE_COMPLETE');

  const completed = engine.log.events.filter((event) => event.status === 'CREATE_COMPLETE' && event.logicalId !== 'Scale').map((event) => event.logicalId);
  const started = (logicalId: string) => engine.log.events.findIndex((event) => event.logicalId === logicalId && event.status === 'CREATE_IN_PROGRESS');
  const finished = (logicalId: string) => engine.log.events.findIndex((event) => event.logicalId === logicalId && event.status === 'CREATE_COMPLETE');
  for (const [logicalId, dependencies] of dependencyGraph(many.template)) {
    for (const dependency of dependencies) {
      expect([logicalId, dependency, finished(dependency) < started(logicalId)]).toEqual([logicalId, dependency, true]);
    }
  }
  expect(completed).toHaveLength(Object.keys(many.template.Resources).length);
  const keys = engine.driver.keyLogicalIds();
  expect(keys).toHaveLength(2);
  expect(Math.max(...keys.map(started))).toBeLessThan(Math.min(...keys.map(finished)));
});

test('serial concurrency runs one resource at a time', async () => {
  const engine = engineFor(many);
  expect(await engine.deploy(many.template, { concurrency: 'serial' })).toBe('CREATE_COMPLETE');

  const statuses = engine.log.events.filter((event) => event.logicalId !== 'Scale').map((event) => event.status);
  expect(statuses.every((status, index) => status === (index % 2 === 0 ? 'CREATE_IN_PROGRESS' : 'CREATE_COMPLETE'))).toBe(true);
});

test('a failed first deployment deletes what it created, the Provider framework\'s CREATE_FAILED marker included', async () => {
  const engine = engineFor(first);
  emulator.injectFault({ operation: 'CreateBucketAccessKey', kind: 'server' });

  expect(await engine.deploy()).toBe('ROLLBACK_COMPLETE');

  const key = keyOf(engine);
  const failed = engine.log.of(key).find((event) => event.status === 'CREATE_FAILED')!;
  expect(failed.reason).toContain(`Could not create an access key for Lightsail bucket "${BUCKET}"`);
  expect(engine.log.of(key).map((event) => event.status)).toEqual(['CREATE_IN_PROGRESS', 'CREATE_FAILED', 'DELETE_IN_PROGRESS', 'DELETE_COMPLETE']);
  expect(engine.log.of(key)[3].physicalId).toMatch(/CREATE_FAILED/);
  expect(engine.states.size).toBe(0);
  expect(() => emulator.accessKeys(BUCKET)).toThrow();
  await expect(engine.deploy()).rejects.toThrow('is in ROLLBACK_COMPLETE state and can not be updated');
});

test('a rollback step that fails ends in UPDATE_ROLLBACK_FAILED and cleans nothing up', async () => {
  const engine = engineFor(first);
  await engine.deploy();
  const key = keyOf(engine);
  const oldKey = engine.physicalId(key);
  const policy = 'LightsailBucketAccessKeyProviderHandlerRoleDefaultPolicy36EA25FB';
  const moved = synthesizeKeyStack({ serial: 1, bucketName: 'lifecycle-other-bucket' });

  const status = await engine.deploy(moved.template, { failures: { [key]: 'injected' }, rollbackFailures: { [policy]: 'injected in the rollback' } });

  expect(status).toBe('UPDATE_ROLLBACK_FAILED');
  expect(engine.log.of(policy).pop()).toEqual(expect.objectContaining({ status: 'UPDATE_FAILED', reason: 'injected in the rollback' }));
  // The new bucket stays until continue-update-rollback; the key was never touched.
  expect(emulator.accessKeys('lifecycle-other-bucket')).toEqual([]);
  expect(keyIds(emulator, BUCKET)).toEqual([oldKey]);
  await expect(engine.deploy(first.template)).rejects.toThrow('UPDATE_ROLLBACK_FAILED');
});

test('a cleanup Delete that fails is recorded and the stack still ends UPDATE_COMPLETE', async () => {
  const engine = engineFor(first);
  await engine.deploy();
  const key = keyOf(engine);
  const oldKey = engine.physicalId(key);

  expect(await engine.deploy(bumped.template, { cleanupFailures: { [key]: 'injected' } })).toBe('UPDATE_COMPLETE');

  expect(engine.log.of(key).pop()).toEqual(expect.objectContaining({
    status: 'DELETE_FAILED', physicalId: oldKey, stackStatus: 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', reason: 'injected',
  }));
  // What CloudFormation leaves behind: the old key, which the stack no longer knows.
  expect(keyIds(emulator, BUCKET)).toEqual([oldKey, engine.physicalId(key)].sort());
});

test('a key removed from the template is deleted in the cleanup with its old properties, then its secret', async () => {
  const engine = engineFor(first);
  await engine.deploy();
  const key = keyOf(engine);
  const secretId = Object.keys(first.template.Resources).find((logicalId) => logicalId.startsWith('KeySecret'))!;
  const secretArn = engine.physicalId(secretId);
  const withoutKey = { Resources: Object.fromEntries(Object.entries(first.template.Resources).filter(([logicalId]) => logicalId !== key && logicalId !== secretId)) };

  expect(await engine.deploy(withoutKey)).toBe('UPDATE_COMPLETE');

  expect(keyIds(emulator, BUCKET)).toEqual([]);
  expect(() => emulator.secretVersions(secretArn)).toThrow();
  const cleanup = engine.log.events.filter((event) => event.stackStatus === 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS' && event.status === 'DELETE_COMPLETE');
  expect(cleanup.map((event) => event.logicalId)).toEqual([key, secretId]);
});

test('the policy hook sees every IAM change in CloudFormation\'s order: policies before the key, restored in the rollback', async () => {
  emulator.reset();
  const policy = 'LightsailBucketAccessKeyProviderHandlerRoleDefaultPolicy36EA25FB';
  const calls: string[] = [];
  const driver = Object.assign(new StackDriver(emulator, first, { provisionTemplate: false }), {
    applyPolicies: (template: Template, resolved: Record<string, Record<string, unknown>>) => {
      expect(template.Resources[policy]?.Type ?? 'AWS::IAM::Policy').toBe('AWS::IAM::Policy');
      calls.push(JSON.stringify(resolved[policy]?.PolicyDocument));
    },
  });
  const engine = new LocalCloudFormation(emulator, driver);
  engines.push(engine);
  await engine.deploy();
  const key = keyOf(engine);
  expect(calls.length).toBeGreaterThan(0);
  const created = calls[calls.length - 1];
  expect(created).toContain(engine.states.get('Bucket')!.attributes.BucketArn);
  const keyCreated = engine.log.events.findIndex((event) => event.logicalId === key && event.status === 'CREATE_IN_PROGRESS');
  expect(engine.log.events.findIndex((event) => event.logicalId === policy && event.status === 'CREATE_COMPLETE')).toBeLessThan(keyCreated);
  calls.length = 0;

  // Moved to another bucket: the handler's policy names the new bucket, then the move fails.
  const moved = synthesizeKeyStack({ serial: 1, bucketName: 'lifecycle-other-bucket' });
  expect(await engine.deploy(moved.template, { failures: { [key]: 'injected' } })).toBe('UPDATE_ROLLBACK_COMPLETE');

  expect(calls).toHaveLength(2);
  expect(calls[0]).not.toBe(created);
  expect(calls[1]).toBe(created);
  const updated = (logicalId: string, status: string) => engine.log.events.findIndex((event) => event.logicalId === logicalId && event.status === status && event.stackStatus === 'UPDATE_IN_PROGRESS');
  expect(updated(policy, 'UPDATE_COMPLETE')).toBeLessThan(updated(key, 'UPDATE_IN_PROGRESS'));
});

