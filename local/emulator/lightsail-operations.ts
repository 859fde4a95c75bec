/**
 * Lightsail's operations, as CreateBucketAccessKey and DeleteBucketAccessKey answer them and
 * GetOperation reports them (Operation.status: NotStarted | Started | Failed | Completed |
 * Succeeded). By default an operation has succeeded by the time it is answered, its effect done; a
 * test can make the next one of a type stay Started for some polls, or fail.
 */
import { epochSeconds, newUuid } from './ids';
import type { JsonObject, Place } from './types';

/**
 * How the next operation of a type ends: it stays Started for `startedPolls` GetOperation answers
 * (default 0), then succeeds, or fails. A failed create takes its key away again; a failed delete
 * leaves the key; a delete's key counts against the bucket's limit until its operation succeeds.
 */
export interface OperationOutcome {
  readonly operationType: 'CreateBucketAccessKey' | 'DeleteBucketAccessKey';
  readonly startedPolls?: number;
  readonly fails?: boolean;
}

interface OperationRecord {
  readonly answer: JsonObject;
  pollsLeft: number;
  readonly fails: boolean;
  /** Runs once, when the operation ends: what it does to the bucket. */
  settle?: () => void;
}

export class LightsailOperations {
  private readonly records = new Map<string, OperationRecord>();
  private outcomes: OperationOutcome[] = [];

  constructor(private readonly place: Place) {}

  clear(): void {
    this.records.clear();
    this.outcomes = [];
  }

  queueOutcome(outcome: OperationOutcome): void {
    const polls = outcome.startedPolls ?? 0;
    if (!Number.isInteger(polls) || polls < 0) {
      throw new Error(`OperationOutcome.startedPolls must be a non-negative integer, got ${outcome.startedPolls}`);
    }
    this.outcomes.push(outcome);
  }

  /**
   * A new operation, as the call answers it. Without a queued outcome it has succeeded (`effect(false)`
   * runs now); with one it is Started, and `effect(fails)` runs when a poll finds it ended.
   */
  start(resourceName: string, operationType: OperationOutcome['operationType'], details: string,
    effect: (fails: boolean) => (() => void) | undefined): JsonObject {
    const index = this.outcomes.findIndex((candidate) => candidate.operationType === operationType);
    const outcome = index < 0 ? undefined : this.outcomes.splice(index, 1)[0];
    const now = epochSeconds();
    const answer: JsonObject = {
      id: newUuid(),
      resourceName,
      resourceType: 'Bucket',
      createdAt: now,
      location: { availabilityZone: 'all', regionName: this.place.region },
      isTerminal: false,
      operationDetails: details,
      operationType,
      status: 'Started',
      statusChangedAt: now,
    };
    const fails = outcome?.fails ?? false;
    const record: OperationRecord = { answer, pollsLeft: outcome?.startedPolls ?? 0, fails, settle: effect(fails) };
    this.records.set(String(answer.id), record);
    if (outcome === undefined) {
      this.finish(record);
    }
    return { ...answer };
  }

  /** GetOperation: the operation as it is now (a poll may end it); undefined for an unknown id. */
  poll(id: string): JsonObject | undefined {
    const record = this.records.get(id);
    if (!record) {
      return undefined;
    }
    if (record.pollsLeft > 0) {
      record.pollsLeft -= 1;
    } else {
      this.finish(record);
    }
    return { ...record.answer };
  }

  private finish(record: OperationRecord): void {
    record.settle?.();
    record.settle = undefined;
    Object.assign(record.answer, {
      isTerminal: true,
      status: record.fails ? 'Failed' : 'Succeeded',
      statusChangedAt: epochSeconds(),
      ...(record.fails ? { errorCode: 'InternalError', errorDetails: `The ${String(record.answer.operationType)} operation failed.` } : {}),
    });
  }
}
