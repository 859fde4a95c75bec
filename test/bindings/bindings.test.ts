/**
 * The bindings as users get them: each twin app (test/bindings/app.ts and its Python, Java and Go
 * twins), installed by test/bindings/install.sh against what `npm run package` built into dist/,
 * synthesizes the same templates as the TypeScript twin with the same aws-cdk-lib version, and the
 * library's errors reach each language as that language's exception with TypeScript's message.
 * Run with `npm run test:bindings` (it installs first).
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';

const ROOT = path.join(__dirname, '..', '..');
const ENGINES = path.join(ROOT, '.engines', 'bindings');
const run = promisify(execFile);

/** The aws-cdk-lib versions the twins pin (install.sh reads the same files). */
const PYTHON_JAVA_CDK = /^aws-cdk-lib==(\S+)$/m.exec(fs.readFileSync(path.join(__dirname, 'python', 'requirements.txt'), 'utf-8'))![1];
const GO_CDK = (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'aws-cdk-lib', 'package.json'), 'utf-8')) as { version: string }).version;

interface Twin {
  readonly command: string;
  readonly args: (outdir: string) => string[];
  readonly cwd: string;
  /** The aws-cdk-lib version this twin runs with: its templates are compared with TypeScript's on the same version. */
  readonly cdkVersion: string;
}

const typescript = (cdkVersion: string): Twin => ({
  command: process.execPath,
  args: (outdir) => ['app.js', outdir],
  cwd: path.join(ENGINES, `ts-${cdkVersion}`),
  cdkVersion,
});

const TWINS: Record<string, Twin> = {
  [`typescript-${PYTHON_JAVA_CDK}`]: typescript(PYTHON_JAVA_CDK),
  [`typescript-${GO_CDK}`]: typescript(GO_CDK),
  python: {
    command: path.join(ENGINES, 'venv', 'bin', 'python'),
    args: (outdir) => ['app.py', outdir],
    cwd: path.join(__dirname, 'python'),
    cdkVersion: PYTHON_JAVA_CDK,
  },
  java: {
    command: 'java',
    args: (outdir) => ['-cp', [path.join(ENGINES, 'java-target', 'classes'), fs.readFileSync(path.join(ENGINES, 'java-classpath.txt'), 'utf-8').trim()].join(path.delimiter), 'twin.App', outdir],
    cwd: path.join(__dirname, 'java'),
    cdkVersion: PYTHON_JAVA_CDK,
  },
  go: {
    command: path.join(ENGINES, 'go-twin'),
    args: (outdir) => [outdir],
    cwd: path.join(__dirname, 'go'),
    cdkVersion: GO_CDK,
  },
};
const LANGUAGES = ['python', 'java', 'go'];
const STACKS = ['Keys', 'Consumer', 'Imported'];

interface ErrorLine { readonly case: string; readonly type: string; readonly name?: string; readonly message: string }
interface Result { readonly outdir: string; readonly errors: Record<string, ErrorLine> }
const results: Record<string, Result> = {};

beforeAll(async () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'twins-'));
  // All twins at once: each spends most of its time starting its runtime and the jsii kernel.
  await Promise.all(Object.entries(TWINS).map(async ([name, twin]) => {
    const outdir = path.join(scratch, name);
    const { stdout } = await run(twin.command, twin.args(outdir), {
      cwd: twin.cwd,
      env: { ...process.env, JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1' },
      maxBuffer: 64 * 1024 * 1024,
    }).catch((error: Error & { stderr?: string }) => {
      throw new Error(`the ${name} twin failed: ${error.message}\n${error.stderr ?? ''}`);
    });
    const errors = Object.fromEntries(stdout.split('\n').filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as ErrorLine).map((line) => [line.case, line]));
    results[name] = { outdir, errors };
  }));
}, 600_000);

const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(file, 'utf-8'));
const typescriptFor = (language: string): Result => results[`typescript-${TWINS[language].cdkVersion}`];

/**
 * Normalization 1, "call stacks": aws-cdk-lib records where each annotation was added (`trace`) and
 * where each construct was created (`aws:cdk:creationStack` entries), as JavaScript call stacks,
 * which name the app's file and, in another language, the jsii runtime's. Everything else of the
 * metadata (annotations' kinds and messages, the constructs they are on, logical ids) must be equal.
 */
function withoutTraces(metadata: unknown): unknown {
  return JSON.parse(JSON.stringify(metadata, (key, value: unknown) => {
    if (key === 'trace') {
      return undefined;
    }
    if (Array.isArray(value)) {
      return value.filter((entry: { type?: string } | null) => entry?.type !== 'aws:cdk:creationStack');
    }
    return value;
  }));
}

describe.each(LANGUAGES)('the %s twin', (language) => {
  test.each(STACKS)('synthesizes stack %s exactly as TypeScript does (no normalization; asset hashes included)', (stack) => {
    const expected = readJson(path.join(typescriptFor(language).outdir, `${stack}.template.json`));
    const actual = readJson(path.join(results[language].outdir, `${stack}.template.json`));
    expect(actual).toEqual(expected);
  });

  test('references the same assets, each one byte for byte the bundle that was built', () => {
    const assetsOf = (outdir: string) => STACKS.map((stack) => readJson(path.join(outdir, `${stack}.assets.json`)));
    expect(assetsOf(results[language].outdir)).toEqual(assetsOf(typescriptFor(language).outdir));
    const handler = path.join(ROOT, 'lambda', 'dist', 'on-event', 'index.js');
    const copies = fs.readdirSync(results[language].outdir).filter((entry) => entry.startsWith('asset.'))
      .map((entry) => path.join(results[language].outdir, entry, 'index.js')).filter((file) => fs.existsSync(file))
      .filter((file) => fs.readFileSync(file).equals(fs.readFileSync(handler)));
    expect(copies).toHaveLength(1);
  });

  test('records the same annotations, the acknowledged warnings included (normalized: call stacks)', () => {
    for (const stack of STACKS) {
      const expected = withoutTraces(readJson(path.join(typescriptFor(language).outdir, `${stack}.metadata.json`)));
      expect(withoutTraces(readJson(path.join(results[language].outdir, `${stack}.metadata.json`)))).toEqual(expected);
    }
    // noFreeSlot, acknowledged on the stack through the constant, is gone; the key by name that
    // nobody acknowledged keeps its bucketNameScope warning.
    const keys = readJson(path.join(results[language].outdir, 'Keys.metadata.json')) as Record<string, Array<{ type: string; data: unknown }>>;
    const warnings = Object.entries(keys).flatMap(([construct, entries]) => entries
      .filter((entry) => entry.type === 'aws:cdk:warning').map((entry) => `${construct} ${String(entry.data).replace(/^[\s\S]*\[ack: /, '[ack: ')}`));
    expect(warnings).toContain('/Keys/Legacy [ack: cdk-lightsail-bucket-access-key:bucketNameScope]');
    expect(warnings.filter((warning) => warning.includes('noFreeSlot'))).toEqual([]);
  });
});

/** The exception each language raises for an error of the library, by case. */
const EXCEPTION_TYPES: Record<string, Record<string, string>> = {
  python: { invalidProp: 'RuntimeError', threeKeysOnOneBucket: 'RuntimeError' },
  java: { invalidProp: 'software.amazon.jsii.JsiiError', threeKeysOnOneBucket: 'java.lang.RuntimeException' },
  go: { invalidProp: '*errors.errorString', threeKeysOnOneBucket: '*errors.errorString' },
};

/**
 * Normalization 2, "error name": the jsii kernel puts the JavaScript error's name before its message
 * when the name is not plain `Error` (aws-cdk-lib's validation errors). Normalization 3, "Java
 * stack": Java's exception message goes on with the JavaScript stack, after a newline.
 */
function expectedMessage(language: string, typescriptError: ErrorLine): RegExp {
  const message = typescriptError.name === 'Error' ? typescriptError.message : `${typescriptError.name}: ${typescriptError.message}`;
  const escaped = message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(language === 'java' ? `^${escaped}(\\n[\\s\\S]*)?$` : `^${escaped}$`);
}

describe.each(LANGUAGES)('errors reach %s', (language) => {
  test.each([
    ['invalidProp', 'an invalid prop (a bucket name Lightsail refuses), at construction', /"bucketName" "Not_A_Bucket" is not a valid Lightsail bucket name/],
    ['threeKeysOnOneBucket', 'three keys on one bucket, at synthesis', /would get 3 access keys from this app \(Errors\/One, Errors\/Two, Errors\/Three\)/],
  ])('%s: %s, as the language\'s exception with TypeScript\'s message', (errorCase, _what, gist) => {
    const typescriptError = typescriptFor(language).errors[errorCase];
    expect(typescriptError.message).toMatch(gist);
    const error = results[language].errors[errorCase];
    expect(error.type).toBe(EXCEPTION_TYPES[language][errorCase]);
    expect(error.message).toMatch(expectedMessage(language, typescriptError));
  });
});

test('the Java twin pins the aws-cdk-lib version the Python twin pins', () => {
  const pom = fs.readFileSync(path.join(__dirname, 'java', 'pom.xml'), 'utf-8');
  expect(pom).toContain(`<artifactId>aws-cdk-lib</artifactId>\n      <version>${PYTHON_JAVA_CDK}</version>`);
});
