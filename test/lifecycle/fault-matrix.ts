/**
 * Every fault kind on every call the handler makes in a phase of the lifecycle. Whatever the
 * outcome, no key may be left that the secret does not hold, and the secret must keep a working key;
 * a failed Delete must succeed when CloudFormation retries it.
 */
import type { FaultSpec } from '../../local/emulator';
import { AwsEmulator } from '../../local/emulator';
import { emittedTexts, leaks } from '../../local/leaks';
import { CfnResponse, StackDriver, SynthesizedStack } from '../../local/stack-driver';
import { currentKey, expectSecretHoldsEveryKey, expectSuccess, keyId, keyIds, synthesizeKeyStack } from './fixture';

export type Phase = 'create' | 'rotate' | 'delete' | 'rollback';

const BUCKET = 'lifecycle-bucket';

/** The calls the handler makes in each phase (checked against a run without faults). */
export const OPERATIONS: Record<Phase, string[]> = {
  create: ['GetSecretValue', 'GetBuckets', 'GetBucketAccessKeys', 'CreateBucketAccessKey', 'PutSecretValue'],
  rotate: ['GetSecretValue', 'GetBuckets', 'GetBucketAccessKeys', 'CreateBucketAccessKey', 'PutSecretValue'],
  // GetBucketAccessKeys: read with the secret, in one round; used only to restore a previous key.
  delete: ['DeleteBucketAccessKey', 'GetSecretValue', 'GetBucketAccessKeys'],
  rollback: ['DeleteBucketAccessKey', 'GetSecretValue', 'GetBucketAccessKeys', 'UpdateSecretVersionStage'],
};

type FaultName = 'throttled twice' | 'failing with 5xx' | 'denied twice' | 'acting, then answering 5xx';

const FAULTS: Record<FaultName, Omit<FaultSpec, 'operation'>> = {
  'throttled twice': { kind: 'throttling', times: 2 },
  'failing with 5xx': { kind: 'server', times: 20 },
  // IAM propagating: retried within the event's IAM window (a denial for good: test/lambda, and the IAM tests).
  'denied twice': { kind: 'access-denied', times: 2 },
  'acting, then answering 5xx': { kind: 'server', times: 1, afterEffect: true },
};

interface World {
  readonly driver: StackDriver;
  readonly logicalId: string;
  readonly secretArn: string;
  /** The key before the phase (rotate, delete, rollback). */
  readonly oldKey?: string;
  /** The key the rotation made (rollback). */
  readonly newKey?: string;
}

interface Stacks {
  readonly first: SynthesizedStack;
  readonly bumped: SynthesizedStack;
}

async function arrange(emulator: AwsEmulator, stacks: Stacks, phase: Phase): Promise<World> {
  emulator.reset();
  const driver = new StackDriver(emulator, stacks.first);
  const logicalId = keyId(driver);
  const secretArn = driver.secretArn(logicalId);
  if (phase === 'create') {
    return { driver, logicalId, secretArn };
  }
  const oldKey = expectSuccess(await driver.create(logicalId));
  if (phase !== 'rollback') {
    return { driver, logicalId, secretArn, oldKey };
  }
  const newKey = expectSuccess(await driver.update(logicalId, oldKey, stacks.bumped.template, stacks.first.template));
  return { driver, logicalId, secretArn, oldKey, newKey };
}

function act(world: World, stacks: Stacks, phase: Phase): Promise<CfnResponse> {
  const { driver, logicalId } = world;
  switch (phase) {
    case 'create': return driver.create(logicalId);
    case 'rotate': return driver.update(logicalId, world.oldKey!, stacks.bumped.template, stacks.first.template);
    case 'delete': return driver.delete(logicalId, world.oldKey!);
    case 'rollback': return driver.delete(logicalId, world.newKey!, stacks.bumped.template);
  }
}

/** What CloudFormation's view and the bucket must agree on once the phase has ended, either way. */
async function expectConsistent(emulator: AwsEmulator, stacks: Stacks, phase: Phase, world: World, response: CfnResponse): Promise<void> {
  const keys = keyIds(emulator, BUCKET);
  switch (phase) {
    case 'create':
      expect(keys).toEqual(response.Status === 'SUCCESS' ? [response.PhysicalResourceId] : []);
      break;
    case 'rotate':
      expect(keys).toEqual(response.Status === 'SUCCESS' ? [world.oldKey!, response.PhysicalResourceId].sort() : [world.oldKey!]);
      expect(currentKey(emulator, world.secretArn)?.accessKeyId).toBe(response.Status === 'SUCCESS' ? response.PhysicalResourceId : world.oldKey);
      break;
    case 'delete':
    case 'rollback': {
      if (response.Status === 'FAILED') {
        // DELETE_FAILED / UPDATE_ROLLBACK_FAILED: nothing lost meanwhile, and once the cause is
        // fixed, CloudFormation's retry succeeds.
        expectSecretHoldsEveryKey(emulator, BUCKET, world.secretArn);
        emulator.clearFaults();
        const template = phase === 'delete' ? stacks.first.template : stacks.bumped.template;
        const physicalId = phase === 'delete' ? world.oldKey! : world.newKey!;
        expectSuccess(await world.driver.delete(world.logicalId, physicalId, template));
      }
      expect(keyIds(emulator, BUCKET)).toEqual(phase === 'delete' ? [] : [world.oldKey!]);
      if (phase === 'rollback') {
        expect(currentKey(emulator, world.secretArn)?.accessKeyId).toBe(world.oldKey);
      }
      return;
    }
  }
  expectSecretHoldsEveryKey(emulator, BUCKET, world.secretArn);
}

function expectOutcome(phase: Phase, fault: FaultName, operation: string, response: CfnResponse): void {
  switch (fault) {
    case 'throttled twice':
    case 'denied twice':
      expectSuccess(response);
      break;
    case 'failing with 5xx':
      if (phase === 'delete' && operation === 'GetBucketAccessKeys') {
        expectSuccess(response); // no previous key to restore: the answer was not needed
        break;
      }
      expect(response.Status).toBe('FAILED');
      expect(response.Reason).toMatch(new RegExp(`${BUCKET}|arn:aws:secretsmanager`));
      break;
    case 'acting, then answering 5xx':
      // Reads and idempotent writes are retried into success. A Create that acted but lost its
      // answer is not repeated: its key is named in the failure, for a human to delete.
      if (operation === 'CreateBucketAccessKey') {
        expect(response.Status).toBe('FAILED');
        expect(response.Reason).toMatch(/appeared on the bucket during the failed call/);
      } else if (operation !== 'UpdateSecretVersionStage') {
        expectSuccess(response);
      }
      break;
  }
}

export function describeFaultMatrix(phases: Phase[]): void {
  jest.setTimeout(30_000);
  let emulator: AwsEmulator;
  let stacks: Stacks;
  const drivers: StackDriver[] = [];

  beforeAll(async () => {
    emulator = await AwsEmulator.start();
    stacks = { first: synthesizeKeyStack({ serial: 1 }), bumped: synthesizeKeyStack({ serial: 2 }) };
  });

  afterAll(async () => {
    // Whatever failed and however: no secret access key in cdk.out, a response or a log line.
    const texts = drivers.flatMap((driver) => emittedTexts(driver, [stacks.first, stacks.bumped]));
    expect(drivers.length).toBeGreaterThan(0);
    expect(leaks(emulator, texts)).toEqual([]);
    await emulator.stop();
  });

  describe.each(phases)('%s', (phase) => {
    test('the listed operations are exactly the calls the handler makes', async () => {
      const world = await arrange(emulator, stacks, phase);
      const before = emulator.calls().length;
      expectSuccess(await act(world, stacks, phase));
      const made = new Set(emulator.calls().slice(before).map((call) => call.operation));
      expect([...made].sort()).toEqual([...OPERATIONS[phase]].sort());
    });

    const cases = OPERATIONS[phase].flatMap((operation) => (Object.keys(FAULTS) as FaultName[]).map((fault) => [operation, fault] as const));
    test.each(cases)('%s %s', async (operation, fault) => {
      const world = await arrange(emulator, stacks, phase);
      drivers.push(world.driver);
      emulator.injectFault({ operation, ...FAULTS[fault] });

      const response = await act(world, stacks, phase);

      expectOutcome(phase, fault, operation, response);
      if (fault === 'acting, then answering 5xx' && operation === 'CreateBucketAccessKey') {
        return; // the one key nobody holds, reported above
      }
      await expectConsistent(emulator, stacks, phase, world, response);
    });
  });
}
