/**
 * The command-line interface: `activation-lens diagnose FILE [options]`. Text for people, --json
 * for scripts (the contract in architecture.md). Exit codes: 0 no finding at --fail-on severity,
 * 1 one reached it, 2 usage or unreadable input, 130 interrupted.
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { isBinaryModel, loadModelBytes } from '../engine/loadFile';
import { BACKEND_NAMES, type BackendChoice, type OptimizerName } from '../core/stats';
import { OPTIMIZER_NAMES } from '../core/model';
import { DEFAULT_THRESHOLDS, SEVERITY_RANK, type Severity, type Thresholds } from '../core/analysis/types';
import { DEFAULT_DIAGNOSE_OPTIONS, DEFAULT_EARLY_STOP, DEFAULT_TRAINING, diagnoseLoaded, type DiagnoseEvent, type DiagnoseOptions } from '../engine/diagnose';
import { TrainerClient, TrainingError, type CancellationSignal } from '../engine/trainerClient';
import { at, renderText, toJson } from './output';
import * as path from 'node:path';
import { DEFAULT_READ_OPTIONS, isDataError, readDataset } from '../core/data/dataset';
import { findDataDirective, type DataDirective } from '../core/data/directive';
import { isNotebookFile, readNotebook } from '../core/parse/notebook';
import { MAX_SOURCE_BYTES, textFileLimit } from '../core/parse/limits';
import { dataInputShape, firstDataComment } from '../engine/dataShape';
import { findProjectRoot, resolveCommentDataFile } from '../engine/dataLocation';
import type { DataResolver, FileDiagnosis, ModelData } from '../engine/diagnose';
import { toReportData } from '../engine/report';
import { standalonePage } from '../engine/reportHtml';

/**
 * Data for each model: --data for all of them (the person's own choice: any file), else each
 * model's own `activation-lens: data=` comment (relative to the model file, and only inside the
 * project root: a model file may come from someone else). Each file is read once. `forRead` is
 * the data the static reader takes its input shape from, before the models are known: --data,
 * else the file's first data comment (dataShape.ts).
 */
export function cliDataResolver(request: CliRequest, signal: AbortSignal): { resolve: (text: string) => DataResolver; forRead: (text: string) => Promise<ModelData | undefined> } {
  const roots = [request.root ?? findProjectRoot(request.file)];
  const cache = new Map<string, Promise<ModelData | { error: string }>>();
  const read = (file: string, target: string | undefined, source: ModelData['source']) => {
    const key = `${file}\0${target ?? ''}`;
    let pending = cache.get(key);
    if (!pending) {
      pending = readDataset(file, { target, maxRows: request.maxRows, signal }).then((result) =>
        isDataError(result)
          ? { error: `${file}${result.line ? `:${result.line}:${result.column ?? 1}` : ''}: ${result.error}` }
          : { dataset: result, source });
      cache.set(key, pending);
    }
    return pending;
  };
  const fromDirective = (directive: DataDirective | undefined) => {
    if (!directive?.data) return undefined;
    const named = resolveCommentDataFile(directive.data, request.file, roots);
    if ('refused' in named) return { error: `the data comment on line ${directive.line}: ${named.refused} (--root DIR sets the root; --data FILE may name any file)` };
    return read(named.file, directive.target ?? request.target, 'comment');
  };
  return {
    resolve: (text) => async (model) => (request.data ? read(request.data, request.target, 'cli') : fromDirective(findDataDirective(text, model.span.start.line))),
    // A data file that cannot be read gives no shape here; its model reports the error when it trains.
    forRead: async (text) => {
      const data = await (request.data ? read(request.data, request.target, 'cli') : fromDirective(firstDataComment(text)));
      return data && 'dataset' in data ? data : undefined;
    },
  };
}

/**
 * The text of a model file for its data comments, before the reader has checked it: undefined
 * for a binary file or one above its size limit (the reader refuses those); a notebook's code
 * cells joined as the reader joins them.
 */
export function commentText(bytes: Uint8Array, file: string): string | undefined {
  if (isBinaryModel(bytes) || bytes.length > Math.max(MAX_SOURCE_BYTES, textFileLimit(file).limit)) return undefined;
  const text = new TextDecoder().decode(bytes);
  if (!isNotebookFile(file)) return text;
  const notebook = readNotebook(text, file);
  return 'code' in notebook ? undefined : notebook.program;
}

export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

/** Training-error kinds caused by the input rather than by the tool (see runCli). */
const INPUT_ERRORS: ReadonlySet<string> = new Set(['data', 'too-large', 'unsupported', 'backend']);

const USAGE = `Usage: activation-lens diagnose FILE [options]

Reads the model(s) defined in FILE (Keras or PyTorch in Python, TensorFlow.js in JS/TS, Keras /
TF.js saved models: .json, .keras, .h5), trains each briefly and reports
vanishing/exploding gradients, saturation, dead ReLUs and off-centre activations, with
suggestions verified by retraining.

Options:
  --json                 machine-readable output on stdout
  --steps N              training steps (default ${DEFAULT_TRAINING.steps})
  --batch-size N         batch size (default ${DEFAULT_TRAINING.batchSize})
  --seed N               random seed for weights and synthetic data (default ${DEFAULT_TRAINING.seed})
  --learning-rate X      (default: the file's, else its optimiser's default in the framework,
                         else ${DEFAULT_TRAINING.learningRate})
  --optimizer NAME       ${OPTIMIZER_NAMES.join(' | ')} (default: the file's, else ${DEFAULT_TRAINING.optimizer})
  --backend NAME         auto | ${BACKEND_NAMES.join(' | ')} (default auto)
  --threads N            training threads sharing each batch on the wasm/cpu backends
                         (default ${DEFAULT_TRAINING.threads ?? 1}: min(2, cores); 1 trains on one thread)
  --data FILE            train on your data (CSV/TSV, .npy, .npz, JSON) instead of synthetic N(0, 1)
                         inputs; without it, a "# activation-lens: data=FILE target=COL" comment
                         above a model names its data (relative to the model file, inside
                         the project root only). The data's sample shape is also the input
                         shape of a model whose file knows it only at run time
  --root DIR             the project root for data comments and for the Python modules the
                         file imports (read, never run) (default: the nearest folder above
                         the model file with .git, .hg, .svn, package.json, pyproject.toml,
                         setup.py or setup.cfg, else the model file's folder)
  --target NAME          the target column (default: label, target, y or class, else the last)
  --max-rows N           read at most N rows of the data (default ${DEFAULT_READ_OPTIONS.maxRows})
  --report FILE.html     also write the report: a self-contained HTML page with the charts
                         (and FILE.json, the same document as --json)
  --early-stop           end training once the findings have not changed for 3 probes (30 steps;
                         never before step 30); suggestions then retrain for as many steps
  --fresh-init           saved models with trained weights: diagnose a fresh initialisation instead
  --no-verify            do not retrain suggestions (faster; suggestions are unverified)
  --no-native-blas       keep the wasm backend's matrix products in WebAssembly instead of
                         the machine's BLAS (OpenBLAS / Accelerate, when found)
  --fail-on SEVERITY     error | warning | info | none: exit 1 when a finding reaches it (default error)
  --parameter-cap N      refuse models with more trainable parameters (default ${DEFAULT_DIAGNOSE_OPTIONS.parameterCap})
  --threshold NAME=X     override a rule threshold (repeatable), one of:
                         ${Object.keys(DEFAULT_THRESHOLDS).join(', ')}
  -h, --help             this text`;

class UsageError extends Error {}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} needs a positive integer, got "${value}"`);
  return n;
}

/** --threads: 1…16 (each thread holds its own copy of the model and a wasm instance). */
function threadCount(value: string | undefined): number {
  const n = positiveInt('threads', value, DEFAULT_TRAINING.threads ?? 1);
  if (n > 16) throw new UsageError(`--threads is at most 16, got ${n}`);
  return n;
}

function positiveNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} needs a positive number, got "${value}"`);
  return n;
}

function parseThresholds(pairs: readonly string[]): Thresholds {
  const result: Record<string, number> = { ...DEFAULT_THRESHOLDS };
  for (const pair of pairs) {
    const [key, raw] = pair.split('=');
    if (!(key in DEFAULT_THRESHOLDS)) throw new UsageError(`Unknown threshold "${key}" (known: ${Object.keys(DEFAULT_THRESHOLDS).join(', ')})`);
    const n = Number(raw);
    if (raw === undefined || !Number.isFinite(n)) throw new UsageError(`--threshold ${key} needs a number, got "${raw ?? ''}"`);
    result[key] = n;
  }
  return result as unknown as Thresholds;
}

export interface CliRequest {
  readonly file: string;
  readonly data?: string;
  /** Data comments may name files inside this folder only (default: the model's project root). */
  readonly root?: string;
  readonly target?: string;
  readonly report?: string;
  readonly freshInit: boolean;
  readonly maxRows: number;
  readonly json: boolean;
  readonly failOn: Severity | 'none';
  /** The wasm backend's matrix products in the machine's BLAS (off: --no-native-blas). */
  readonly nativeProducts: boolean;
  readonly options: DiagnoseOptions;
}

export function parseCli(argv: readonly string[]): CliRequest | 'help' {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      steps: { type: 'string' },
      'batch-size': { type: 'string' },
      threads: { type: 'string' },
      seed: { type: 'string' },
      'learning-rate': { type: 'string' },
      optimizer: { type: 'string' },
      backend: { type: 'string' },
      'no-verify': { type: 'boolean', default: false },
      'no-native-blas': { type: 'boolean', default: false },
      'early-stop': { type: 'boolean', default: false },
      'fresh-init': { type: 'boolean', default: false },
      'fail-on': { type: 'string' },
      'parameter-cap': { type: 'string' },
      threshold: { type: 'string', multiple: true },
      data: { type: 'string' },
      root: { type: 'string' },
      target: { type: 'string' },
      report: { type: 'string' },
      'max-rows': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const [command, file, ...rest] = positionals;
  if (command !== 'diagnose') throw new UsageError(command ? `Unknown command "${command}"` : 'Missing command "diagnose"');
  if (!file) throw new UsageError('Missing FILE');
  if (rest.length) throw new UsageError(`Unexpected argument "${rest[0]}"`);
  const backend = (values.backend ?? 'auto') as BackendChoice;
  if (backend !== 'auto' && !BACKEND_NAMES.includes(backend)) throw new UsageError(`Unknown backend "${backend}"`);
  const optimizer = (values.optimizer ?? DEFAULT_TRAINING.optimizer) as OptimizerName;
  if (!(OPTIMIZER_NAMES as readonly string[]).includes(optimizer)) throw new UsageError(`Unknown optimizer "${optimizer}" (one of ${OPTIMIZER_NAMES.join(', ')})`);
  const failOn = (values['fail-on'] ?? 'error') as Severity | 'none';
  if (!['error', 'warning', 'info', 'none'].includes(failOn)) throw new UsageError(`--fail-on takes error, warning, info or none, got "${failOn}"`);
  const seedRaw = values.seed ?? String(DEFAULT_TRAINING.seed);
  const seed = Number(seedRaw);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed needs a non-negative integer, got "${seedRaw}"`);
  return {
    file,
    data: values.data,
    root: values.root,
    target: values.target,
    report: values.report,
    freshInit: values['fresh-init'] ?? false,
    maxRows: positiveInt('max-rows', values['max-rows'], DEFAULT_READ_OPTIONS.maxRows),
    json: values.json ?? false,
    failOn,
    nativeProducts: !values['no-native-blas'],
    options: {
      ...DEFAULT_DIAGNOSE_OPTIONS,
      backend,
      verify: !values['no-verify'],
      earlyStop: values['early-stop'] ? DEFAULT_EARLY_STOP : undefined,
      // A flag wins over the optimiser and rate the file states; without one the file's are used.
      explicit: { optimizer: values.optimizer !== undefined, learningRate: values['learning-rate'] !== undefined },
      parameterCap: positiveInt('parameter-cap', values['parameter-cap'], DEFAULT_DIAGNOSE_OPTIONS.parameterCap),
      thresholds: parseThresholds(values.threshold ?? []),
      training: {
        ...DEFAULT_TRAINING,
        steps: positiveInt('steps', values.steps, DEFAULT_TRAINING.steps),
        batchSize: positiveInt('batch-size', values['batch-size'], DEFAULT_TRAINING.batchSize),
        seed,
        learningRate: positiveNumber('learning-rate', values['learning-rate'], DEFAULT_TRAINING.learningRate),
        optimizer,
        threads: threadCount(values.threads),
      },
    },
  };
}

/**
 * Ctrl-C as a cancellation signal for every phase (reading the model, reading data, training):
 * the first one cancels cleanly, a second one exits at once. Each phase runs off the main thread
 * or yields to it, so the handler runs within a second.
 */
function interruptSignal(): CancellationSignal & { readonly abort: AbortSignal; dispose(): void } {
  let requested = false;
  const listeners = new Set<() => void>();
  const controller = new AbortController();
  const onSigint = () => {
    if (requested) process.exit(EXIT_INTERRUPTED);
    requested = true;
    controller.abort();
    for (const l of listeners) l();
  };
  process.on('SIGINT', onSigint);
  return {
    abort: controller.signal,
    get isCancellationRequested() {
      return requested;
    },
    onCancellationRequested(listener) {
      listeners.add(listener);
      return { dispose: () => listeners.delete(listener) };
    },
    dispose: () => process.off('SIGINT', onSigint),
  };
}

function progressPrinter(enabled: boolean): (event: DiagnoseEvent) => void {
  if (!enabled) return () => undefined;
  return (event) => {
    if (event.kind === 'model-start') {
      process.stderr.write(`\r\x1b[K${event.model}: ${event.phase === 'baseline' ? 'training' : event.phase === 'reference' ? 'training the canonical reference' : `verifying ${event.label}`}…`);
    } else if (event.step === event.steps || event.step % 10 === 0) {
      process.stderr.write(`\r\x1b[K${event.model}: step ${event.step}/${event.steps}, loss ${event.loss.toFixed(3)}`);
    }
  };
}

export async function runCli(argv: readonly string[]): Promise<number> {
  let request: CliRequest | 'help';
  try {
    request = parseCli(argv);
  } catch (error) {
    process.stderr.write(`activation-lens: ${(error as Error).message}\n\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  if (request === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  const signal = interruptSignal();
  const client = new TrainerClient();
  try {
    const bytes = readModelFile(request.file);
    if (typeof bytes === 'string') {
      process.stderr.write(`activation-lens: ${bytes}\n`);
      return EXIT_USAGE;
    }
    const data = cliDataResolver(request, signal.abort);
    // The chosen data's shape is the input shape of models whose file leaves it to run time.
    const early = commentText(bytes, request.file);
    const forRead = early !== undefined || request.data ? await data.forRead(early ?? '') : undefined;
    const loaded = await loadModelBytes(bytes, request.file, {
      freshInit: request.freshInit,
      signal: signal.abort,
      projectRoot: request.root ?? findProjectRoot(request.file),
      ...(forRead ? { inputShape: dataInputShape(forRead.dataset) } : {}),
    });
    if (loaded === 'cancelled') {
      process.stderr.write('activation-lens: cancelled\n');
      return EXIT_INTERRUPTED;
    }
    if (loaded.models.length === 0) {
      for (const p of loaded.problems) {
        process.stderr.write(`${at(request.file, loaded.cells, p.span)}: ${p.code}: ${p.message}\n`);
      }
      if (loaded.problems.length === 0) process.stderr.write(`${request.file}:1:1: no model definition found\n`);
      if (request.json) process.stdout.write(`${JSON.stringify({ file: request.file, format: loaded.format, models: [], problems: loaded.problems }, null, 2)}\n`);
      return EXIT_USAGE;
    }
    // Decoded here only once the reader accepted the file (and so its size): for data comments.
    // A notebook's comments are read in its code cells joined as the reader joined them.
    const text = loaded.cells ? loaded.cells.map((c) => c.source).join('\n') : isBinaryModel(bytes) ? '' : new TextDecoder().decode(bytes);
    client.setNativeProducts(request.nativeProducts);
    const diagnosis = await diagnoseLoaded(request.file, loaded, client, request.options,
      progressPrinter(process.stderr.isTTY === true), signal, data.resolve(text));
    if (signal.isCancellationRequested) throw new TrainingError('cancelled', 'cancelled');
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    process.stdout.write(request.json ? `${JSON.stringify(toJson(diagnosis), null, 2)}\n` : renderText(diagnosis));
    if (request.report) {
      try {
        writeReport(request.report, diagnosis, request.options);
      } catch (error) {
        // The diagnosis above stands; only the report file is missing, and the reason is said.
        process.stderr.write(`activation-lens: could not write the report ${request.report}: ${(error as Error).message}\n`);
        return EXIT_USAGE;
      }
    }
    const failing = request.failOn !== 'none' && [...diagnosis.problems, ...diagnosis.models.flatMap((m) => m.findings)]
      .some((f) => SEVERITY_RANK[f.severity] >= SEVERITY_RANK[request.failOn as Severity]);
    // A model that could not be trained because of its input (data that does not fit or cannot be
    // read, a model too large, a layer that cannot be built, a backend asked for but missing) is
    // unreadable input: exit 2, as for a file that does not parse. Other failures exit 1.
    if (diagnosis.models.some((m) => m.error && INPUT_ERRORS.has(m.error.kind))) return EXIT_USAGE;
    const trainingFailed = diagnosis.models.some((m) => m.error);
    return failing || trainingFailed ? EXIT_FINDINGS : EXIT_OK;
  } catch (error) {
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    if (error instanceof TrainingError && error.kind === 'cancelled') {
      process.stderr.write('activation-lens: cancelled\n');
      return EXIT_INTERRUPTED;
    }
    process.stderr.write(`activation-lens: ${(error as Error).message}\n`);
    return EXIT_USAGE;
  } finally {
    signal.dispose();
    await client.dispose();
  }
}

/**
 * Model files larger than this are refused before they are read (bytes). A saved model within the
 * default parameter cap (20 M float32 weights, 80 MB) stays well below it even with optimizer
 * state; reading a larger one whole would cost the memory the CLI promises to stay under.
 */
const MAX_MODEL_FILE_BYTES = 256 * 2 ** 20;

/** The model file's bytes, or why it cannot be read (with its position, 1:1, for a whole file). */
function readModelFile(file: string): Uint8Array | string {
  try {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) return `cannot read ${file}: it is a directory`;
    if (stat.size > MAX_MODEL_FILE_BYTES) {
      return `${file}:1:1: the file is ${(stat.size / 2 ** 20).toFixed(0)} MiB, above the ${MAX_MODEL_FILE_BYTES / 2 ** 20} MiB that model files may have`;
    }
    return new Uint8Array(fs.readFileSync(file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : `the file could not be read (${code ?? 'unknown error'})`;
    return `cannot read ${file}: ${reason}`;
  }
}

/** Writes FILE.html (self-contained: Chart.js and the data inlined) and FILE.json. */
function writeReport(file: string, diagnosis: FileDiagnosis, options: DiagnoseOptions): void {
  const script = fs.readFileSync(path.join(__dirname, 'webview.js'), 'utf8');
  const style = fs.readFileSync(path.join(__dirname, '..', 'media', 'report.css'), 'utf8');
  fs.writeFileSync(file, standalonePage(toReportData(diagnosis, options.thresholds), script, style));
  const jsonFile = file.replace(/\.html?$/i, '') + '.json';
  fs.writeFileSync(jsonFile, `${JSON.stringify(toJson(diagnosis), null, 2)}\n`);
  process.stderr.write(`Report written to ${file} and ${jsonFile}\n`);
}

/** Entry point of the `activation-lens` bin. */
export function main(): void {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`activation-lens: internal error: ${(error as Error).message}\n`);
      process.exitCode = EXIT_USAGE;
    },
  );
}
