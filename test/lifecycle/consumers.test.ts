/**
 * Consumers of the key in its own stack, deployed by the local CloudFormation (issue 14 §3). The rule:
 * whatever valid order CloudFormation picks, a consumer reads a secret value that holds a key that
 * exists, when it is created and when a serial bump updates it in the same deployment: then it ends up
 * with the NEW key, never the one the cleanup deletes.
 *
 * The order is picked against the stack: the consumer runs as early as its dependencies allow, before
 * anything it does not wait for (DeployOptions.eager). A consumer that waits only for the empty secret
 * then reads it before the key's custom resource has written a value.
 */
import type { StoredAccessKey } from '../../lib/contract';
import { AwsEmulator } from '../../local/emulator';
import { LocalCloudFormation } from '../../local/cloudformation';
import type { ResolvedReference } from '../../local/dynamic-references';
import { emittedTexts, leaks } from '../../local/leaks';
import type { SynthesizedStack } from '../../local/stack-driver';
import { CONSUMERS, CONSUMER_BUCKET, synthesizeConsumerStack } from './consumer-stack';
import { currentKey, keyIds } from './fixture';

jest.setTimeout(60_000);

let emulator: AwsEmulator;
let first: SynthesizedStack;
let bumped: SynthesizedStack;
const engines: LocalCloudFormation[] = [];

beforeAll(async () => {
  emulator = await AwsEmulator.start();
  first = synthesizeConsumerStack({ serial: 1 });
  bumped = synthesizeConsumerStack({ serial: 2 });
});

afterAll(async () => {
  const texts = engines.flatMap((engine) => [
    ...emittedTexts(engine.driver, [first, bumped]),
    ...engine.log.events.map((event, index) => ({ where: `stack event ${index}`, text: JSON.stringify(event) })),
  ]);
  expect(leaks(emulator, texts)).toEqual([]);
  await emulator.stop();
});

function engineFor(stack: SynthesizedStack): LocalCloudFormation {
  emulator.reset();
  const engine = LocalCloudFormation.forStack(emulator, stack);
  engines.push(engine);
  return engine;
}

function keyLogicalId(engine: LocalCloudFormation): string {
  return engine.driver.keyLogicalIds()[0];
}

function secretArn(engine: LocalCloudFormation): string {
  return String(engine.states.get(keyLogicalId(engine))!.properties.SecretArn);
}

/** Why the stack failed, for a readable assertion message. */
function failures(engine: LocalCloudFormation): string[] {
  return engine.log.events.filter((event) => event.status.endsWith('_FAILED')).map((event) => `${event.logicalId}: ${event.reason}`);
}

/** The value a consumer got for the secret access key: from its dynamic references, or its task's start. */
function secretAccessKeyRead(engine: LocalCloudFormation, consumer: string): string | undefined {
  const reads: ResolvedReference[] = consumer === CONSUMERS.service
    ? engine.secretReads.filter((read) => read.logicalId === consumer).flatMap((read) => read.references)
    : engine.resolvedReferences(consumer);
  return reads.filter((reference) => reference.jsonKey === 'secretAccessKey').map((reference) => reference.value).pop();
}

/** Which key a value is the secret access key of, so that a failure names it without printing it. */
function whose(value: string | undefined, keys: Record<string, StoredAccessKey>): string {
  const [name] = Object.entries(keys).filter(([, key]) => key.secretAccessKey === value).map(([keyName]) => keyName);
  return name ?? (value === undefined ? 'nothing read' : 'no key of this stack');
}

/** The key the stack holds now: the secret's current value, which must name a key of the bucket. */
function heldKey(engine: LocalCloudFormation): StoredAccessKey {
  const key = currentKey(emulator, secretArn(engine));
  expect(key).toBeDefined();
  expect(keyIds(emulator, CONSUMER_BUCKET)).toContain(key!.accessKeyId);
  expect(engine.physicalId(keyLogicalId(engine))).toBe(key!.accessKeyId);
  return key!;
}

const EARLY_CONSUMERS: Array<[string, string[]]> = [
  ['the Lightsail container service', [CONSUMERS.containerService]],
  ['the Lambda function', [CONSUMERS.function]],
  ['the ECS service (its tasks start)', [CONSUMERS.taskDefinition, CONSUMERS.service]],
];

test.each(EARLY_CONSUMERS)('%s, created as early as it may be, reads a key that exists', async (_name, eager) => {
  const engine = engineFor(first);
  const consumer = eager[eager.length - 1];

  const status = await engine.deploy(first.template, { eager });

  expect({ status, failures: failures(engine) }).toEqual({ status: 'CREATE_COMPLETE', failures: [] });
  expect(whose(secretAccessKeyRead(engine, consumer), { 'the held key': heldKey(engine) })).toBe('the held key');
});

test('the container service gets the access key id and the secret access key of one key', async () => {
  const engine = engineFor(first);

  expect(await engine.deploy(first.template, { eager: [CONSUMERS.containerService] })).toBe('CREATE_COMPLETE');

  const values = Object.fromEntries(engine.resolvedReferences(CONSUMERS.containerService).map((reference) => [reference.jsonKey, reference.value]));
  const key = heldKey(engine);
  expect(values.accessKeyId).toBe(key.accessKeyId);
  expect(whose(values.secretAccessKey, { 'the held key': key })).toBe('the held key');
});

test.each(EARLY_CONSUMERS)('a serial bump that updates %s in the same deployment gives it the NEW key', async (_name, eager) => {
  const engine = engineFor(first);
  const consumer = eager[eager.length - 1];
  // The first deployment in an order where the consumers come last, so that only the bump's order is tested.
  expect(await engine.deploy(first.template, { late: Object.values(CONSUMERS) })).toBe('CREATE_COMPLETE');
  const oldKey = heldKey(engine);

  const status = await engine.deploy(bumped.template, { eager });

  expect({ status, failures: failures(engine) }).toEqual({ status: 'UPDATE_COMPLETE', failures: [] });
  const newKey = heldKey(engine);
  expect(newKey.accessKeyId).not.toBe(oldKey.accessKeyId);
  expect(keyIds(emulator, CONSUMER_BUCKET)).toEqual([newKey.accessKeyId]);
  expect(whose(secretAccessKeyRead(engine, consumer), { 'the new key': newKey, 'the old key, which the cleanup deleted': oldKey }))
    .toBe('the new key');
});

test('a task started after a serial bump reads the AWSCURRENT key, not the one the task definition was deployed with', async () => {
  const engine = engineFor(first);
  expect(await engine.deploy(first.template, { late: Object.values(CONSUMERS) })).toBe('CREATE_COMPLETE');
  expect(await engine.deploy(bumped.template, { late: Object.values(CONSUMERS) })).toBe('UPDATE_COMPLETE');

  const environment = engine.startTask(CONSUMERS.taskDefinition);

  expect(Object.keys(environment)).toEqual(['app']);
  expect(Object.keys(environment.app)).toEqual(['AWS_SECRET_ACCESS_KEY']);
  expect(whose(environment.app.AWS_SECRET_ACCESS_KEY, { 'the held key': heldKey(engine) })).toBe('the held key');
});
