import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import type { SynthesizedStack } from './stack-driver';
import type { Template } from './template';

/** Synthesizes one stack of a fresh app into its own temporary cloud assembly folder. */
export function synthesize(build: (app: App) => Stack, context: Record<string, unknown> = {}): SynthesizedStack {
  // Asset metadata, as the CDK CLI enables it, tells which asset folder each function runs.
  const app = new App({
    outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-out-')),
    context: { 'aws:cdk:enable-asset-metadata': true, ...context },
  });
  const stack = build(app);
  const assembly = app.synth();
  return {
    directory: assembly.directory,
    stackName: stack.stackName,
    template: assembly.getStackByName(stack.stackName).template as Template,
  };
}

/** Every file of a cloud assembly, with its path relative to the folder. */
export function assemblyFiles(directory: string): Array<{ file: string; text: string }> {
  return fs.readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .map((file) => ({ file: path.relative(directory, file), text: fs.readFileSync(file, 'latin1') }));
}
