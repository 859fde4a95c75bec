import { randomUUID } from 'crypto';
import type { AwsEmulator } from './emulator';
import { invokeInChildProcess } from './lambda-runner';
import type { StackDriver } from './stack-driver';

export type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
export const ROTATION_STEPS: RotationStep[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];

export interface RotationOutcome {
  readonly token: string;
  /** The step whose invocation failed; the rotation stops there, as Secrets Manager's does. */
  readonly failedStep?: RotationStep;
  readonly errorMessage?: string;
}

/**
 * Plays Secrets Manager's RotateSecret for a key's secret: labels a new version AWSPENDING, then
 * invokes the stack's rotation function (the bundled asset, in a child process) for each step.
 */
export class RotationDriver {
  constructor(private readonly emulator: AwsEmulator, private readonly driver: StackDriver) {}

  /** `beforeStep` lets a test inject a fault into one step. */
  public async rotate(secretArn: string, token: string = randomUUID(), beforeStep?: (step: RotationStep) => void): Promise<RotationOutcome> {
    const template = this.driver.stack.template;
    const [functionId] = Object.entries(template.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function' && /^Rotates/.test(String(resource.Properties?.Description)))
      .map(([logicalId]) => logicalId);
    if (!functionId) {
      throw new Error('the stack has no rotation function');
    }
    const spec = this.driver.functionSpec(template, functionId);
    this.emulator.beginRotation(secretArn, token);
    for (const step of ROTATION_STEPS) {
      beforeStep?.(step);
      const invocation = await invokeInChildProcess(spec, { SecretId: secretArn, ClientRequestToken: token, Step: step });
      this.driver.logLines.push(...invocation.logLines);
      if (invocation.functionError) {
        return { token, failedStep: step, errorMessage: (invocation.payload as { errorMessage?: string }).errorMessage };
      }
    }
    return { token };
  }
}
