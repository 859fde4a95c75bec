import type { AwsEmulator } from './emulator';
import type { StackDriver, SynthesizedStack } from './stack-driver';
import { assemblyFiles } from './synth';

export interface EmittedText {
  readonly where: string;
  readonly text: string;
}

/** Every byte the system emitted: the cloud assemblies, the responses to CloudFormation, all logs. */
export function emittedTexts(driver: StackDriver, stacks: SynthesizedStack[]): EmittedText[] {
  return [
    ...stacks.flatMap((stack) => assemblyFiles(stack.directory).map(({ file, text }) => ({ where: `${stack.directory}/${file}`, text }))),
    ...driver.responseBodies.map((text, index) => ({ where: `response ${index}`, text })),
    ...driver.logLines.map((text, index) => ({ where: `log line ${index}`, text })),
  ];
}

/** Where any secret access key the emulator handed out shows up. */
export function leaks(emulator: AwsEmulator, texts: EmittedText[]): string[] {
  const secrets = emulator.issuedSecretAccessKeys();
  return texts.flatMap(({ where, text }) => secrets.filter((secret) => text.includes(secret)).map(() => where));
}
