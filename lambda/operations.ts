/**
 * Lightsail answers CreateBucketAccessKey and DeleteBucketAccessKey with `operations`. A key counts
 * as made, and a slot as freed, only once each operation has finished, as Terraform's AWS provider
 * waits for them (internal/service/lightsail: Pending "Started", Target "Completed" or "Succeeded",
 * polled every few seconds). Operation.status is NotStarted | Started | Failed | Completed | Succeeded.
 */
import { GetOperationCommand, LightsailClient, Operation } from '@aws-sdk/client-lightsail';
import { callAws, phaseTimeLeft } from './retry';
import { describeError } from './sdk-errors';

const UNFINISHED = ['NotStarted', 'Started'];
const FINISHED = ['Completed', 'Succeeded'];
/** Polls wait 0.5, 1, 2, 4, then 5 s. */
const FIRST_POLL_MS = 500;
const MAX_POLL_MS = 5_000;

/** "operation <id> (<type> on <resource>)", for failure reasons. */
function named(operation: Operation): string {
  return `Lightsail operation ${operation.id ?? '(without an id)'} (${operation.operationType ?? 'unknown type'} on ${operation.resourceName ?? 'an unnamed resource'})`;
}

/** Waits until every operation has finished; throws an error that names an operation that failed or did not finish in time. */
export async function followOperations(client: LightsailClient, operations: Operation[] | undefined): Promise<void> {
  for (const operation of operations ?? []) {
    await follow(client, operation);
  }
}

async function follow(client: LightsailClient, operation: Operation): Promise<void> {
  let current = operation;
  // Stryker disable next-line StringLiteral: any text that is not a status does for an operation without one.
  for (let poll = 0; UNFINISHED.includes(current.status ?? ''); poll++) {
    const wait = Math.min(MAX_POLL_MS, FIRST_POLL_MS * 2 ** poll);
    if (!operation.id || phaseTimeLeft() < wait) {
      throw new Error(`${named(operation)} was still ${current.status} ${operation.id ? "when the event's time ran out" : 'and cannot be followed'}`);
    }
    await new Promise((wake) => setTimeout(wake, wait));
    current = await readOperation(client, operation);
  }
  // Stryker disable next-line StringLiteral: as above.
  if (!FINISHED.includes(current.status ?? '')) {
    const details = [current.errorCode, current.errorDetails].filter(Boolean).join(': ');
    throw new Error(`${named(operation)} ${current.status === 'Failed' ? 'failed' : `ended ${current.status ?? 'without a status'}`}` +
      (details ? ` (${details})` : ''));
  }
}

async function readOperation(client: LightsailClient, operation: Operation): Promise<Operation> {
  try {
    const answer = await callAws({ action: 'lightsail:GetOperation', resource: `Lightsail operation ${operation.id}` },
      (abortSignal) => client.send(new GetOperationCommand({ operationId: operation.id }), { abortSignal }));
    return answer.operation ?? {};
  } catch (error) {
    throw new Error(`Could not follow ${named(operation)}: ${describeError(error)}`);
  }
}
