/**
 * Runs diagnoses and holds their results. One trainer worker serves the window; runs go through
 * one queue so two diagnoses never interleave, and a new request for a file cancels the one
 * still running or waiting for that file (cancel-and-restart). Results remember the document
 * version they were computed from, so edits can mark them stale and fixes can refuse them.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LoadResult } from '../core/model';
import { detectFormat } from '../core/parse/index';
import { StaticReader } from '../engine/loadFile';
import { diagnoseLoaded, problemToFinding, type DiagnoseEvent, type FileDiagnosis } from '../engine/diagnose';
import { TrainerClient, TrainingError } from '../engine/trainerClient';
import { RUNNING_CONTEXT_KEY } from './commands';
import { toDiagnoseOptions, type ConfigService } from './config';
import { Disposable } from './dispose';
import { dataResolverFor, readInputShape, type DataChoices } from './dataResolver';
import { cellUris, isCellUri, notebookJson, notebookOfCell, notebookProgram, openNotebook } from './notebooks';

/** What a diagnosis reads: a text document, or a notebook (its code cells). */
export type DiagnoseTarget = vscode.TextDocument | vscode.NotebookDocument;

export function isNotebook(target: DiagnoseTarget): target is vscode.NotebookDocument {
  return 'notebookType' in target;
}

/** A target as the service reads it. */
interface Subject {
  readonly uri: vscode.Uri;
  readonly version: number;
  /** What the reader reads (a notebook: its nbformat JSON). */
  readonly readText: string;
  /** What the spans are offsets into (a notebook: its code cells joined). */
  readonly text: string;
  /** Changes when the text does (the cache key of a read). */
  readonly stamp: string;
  readonly isClosed: boolean;
  readonly cellUris?: readonly vscode.Uri[];
}

function subjectOf(target: DiagnoseTarget): Subject {
  if (isNotebook(target)) {
    const readText = notebookJson(target);
    return { uri: target.uri, version: target.version, readText, text: notebookProgram(target), stamp: readText, isClosed: target.isClosed, cellUris: cellUris(target) };
  }
  const text = target.getText();
  return { uri: target.uri, version: target.version, readText: text, text, stamp: String(target.version), isClosed: target.isClosed };
}

/** What one finished diagnosis of one document produced. */
export interface AnalysisResult {
  readonly uri: vscode.Uri;
  /** The document version the results describe. */
  readonly version: number;
  /** The text that was analysed (fix edits are computed against it). */
  readonly text: string;
  readonly loaded: LoadResult;
  readonly diagnosis: FileDiagnosis;
  /** False when only the static checks ran (untrusted workspace). */
  readonly trained: boolean;
  readonly durationMs: number;
  /** The document changed after the analysis. */
  readonly stale: boolean;
  /** Notebook results: each notebook cell's document, by cell index (spans map through loaded.cells). */
  readonly cellUris?: readonly vscode.Uri[];
  /** Notebook results: loaded.cells. */
  readonly cells?: LoadResult['cells'];
}

export type DiagnoseOutcome =
  | { readonly status: 'done'; readonly result: AnalysisResult }
  | { readonly status: 'cancelled'; readonly message: string }
  | { readonly status: 'failed'; readonly message: string; readonly crashed: boolean }
  | { readonly status: 'unsupported'; readonly message: string };

/** What the status bar shows. */
export interface ServiceState {
  /** The backend of the last run, or the configured choice before any run. */
  readonly backend: string;
  readonly running?: { readonly file: string; readonly detail: string };
  readonly last?: { readonly file: string; readonly summary: string };
}

interface Run {
  readonly source: vscode.CancellationTokenSource;
}

/** Minimum time between two progress reports, ms (the worker reports every step). */
const PROGRESS_INTERVAL_MS = 100;

export class AnalysisService extends Disposable {
  private readonly client: TrainerClient;
  private readonly results = new Map<string, AnalysisResult>();
  private readonly reader: StaticReader;
  /** The latest read of each open document, by version. */
  private readonly reads = new Map<string, { readonly stamp: string; readonly result: Promise<LoadResult | 'cancelled'> }>();
  private readonly runs = new Map<string, Run>();
  private queue: Promise<unknown> = Promise.resolve();
  private stateValue: ServiceState;

  private readonly resultsChanged = this._register(new vscode.EventEmitter<vscode.Uri>());
  /** Fires when a document's results are published, marked stale or dropped. */
  readonly onDidChangeResults = this.resultsChanged.event;
  private readonly stateChanged = this._register(new vscode.EventEmitter<ServiceState>());
  readonly onDidChangeState = this.stateChanged.event;

  constructor(
    private readonly config: ConfigService,
    workerPath?: string,
    /** Data chosen per model file (workspace state); absent: only comments and settings. */
    private readonly dataChoices?: DataChoices,
    /** Folders searched first for optional backends (Install GPU Backend puts one there). */
    backendSearchDirs: readonly string[] = [],
    /** The reader worker's bundle (dist/loader.js next to this bundle by default). */
    loaderPath?: string,
  ) {
    super();
    this.client = new TrainerClient(workerPath, backendSearchDirs);
    this._register({ dispose: () => void this.client.dispose() });
    this.reader = new StaticReader(loaderPath);
    this._register({ dispose: () => void this.reader.dispose() });
    this.stateValue = { backend: config.get().backend };
    this._register(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length === 0) return;
        if (isCellUri(e.document.uri)) {
          const notebook = notebookOfCell(e.document.uri);
          if (notebook) this.markStale(notebook);
        } else this.markStale(e.document);
      }),
    );
    this._register(
      vscode.workspace.onDidChangeNotebookDocument((e) => {
        if (e.contentChanges.length > 0 || e.cellChanges.some((c) => c.document)) this.markStale(e.notebook);
      }),
    );
    this._register(vscode.workspace.onDidCloseNotebookDocument((n) => this.forget(n.uri)));
    this._register(vscode.workspace.onDidCloseTextDocument((d) => {
      if (!isCellUri(d.uri)) this.forget(d.uri);
    }));
    this._register(
      config.onDidChange((c) => {
        if (!this.stateValue.last && !this.stateValue.running) this.setState({ ...this.stateValue, backend: c.backend });
      }),
    );
  }

  /**
   * The models of a document, read in the reader worker (never on the extension host's thread: a
   * hostile file may fail to read but cannot block or crash the editor). The last read of each
   * document is kept for its version, so CodeLens and a diagnosis share one read.
   */
  async readModels(target: DiagnoseTarget, token?: vscode.CancellationToken): Promise<LoadResult | 'cancelled'> {
    return this.readSubject(subjectOf(target), token);
  }

  private async readSubject(subject: Subject, token?: vscode.CancellationToken): Promise<LoadResult | 'cancelled'> {
    const key = subject.uri.toString();
    let pending = this.reads.get(key);
    // Values from outside the file: the chosen data's input shape (a changed choice is a new
    // read) and the workspace folder, whose Python modules the file may import (read, never run).
    const data = readInputShape({ uri: subject.uri }, subject.text, this.dataChoices);
    const stamp = `${subject.stamp}\0${data.key}`;
    if (!pending || pending.stamp !== stamp) {
      // Shared by every caller, so one caller's cancellation (CodeLens requests are cancelled on
      // each keystroke) does not end it for the others; the loaders' budgets bound its length.
      const isFile = subject.uri.scheme === 'file';
      const projectRoot = isFile ? vscode.workspace.getWorkspaceFolder(subject.uri)?.uri.fsPath : undefined;
      const result = data.shape().then((inputShape) => this.reader.read(subject.readText, isFile ? subject.uri.fsPath : subject.uri.path, {
        ...(projectRoot ? { projectRoot } : {}),
        ...(inputShape ? { inputShape } : {}),
      }));
      pending = { stamp, result };
      this.reads.set(key, pending);
    }
    if (!token) return pending.result;
    let subscription: vscode.Disposable | undefined;
    const cancelled = new Promise<'cancelled'>((resolve) => {
      subscription = token.onCancellationRequested(() => resolve('cancelled'));
      if (token.isCancellationRequested) resolve('cancelled');
    });
    try {
      return await Promise.race([pending.result, cancelled]);
    } finally {
      subscription?.dispose();
    }
  }

  get state(): ServiceState {
    return this.stateValue;
  }

  /** The latest results of a document (possibly stale); a notebook cell's are its notebook's. */
  resultFor(uri: vscode.Uri): AnalysisResult | undefined {
    if (isCellUri(uri)) {
      const notebook = notebookOfCell(uri);
      return notebook ? this.results.get(notebook.uri.toString()) : undefined;
    }
    return this.results.get(uri.toString());
  }

  /** Whether a result still describes its document (or notebook) as it is now. */
  isCurrent(result: AnalysisResult): boolean {
    if (result.stale) return false;
    if (result.cellUris) {
      const notebook = openNotebook(result.uri);
      return !!notebook && notebookProgram(notebook) === result.text && notebook.getCells().length === result.cellUris.length;
    }
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === result.uri.toString());
    return !!document && document.version === result.version;
  }

  /** Every document with results. */
  allResults(): AnalysisResult[] {
    return [...this.results.values()];
  }

  isRunning(uri?: vscode.Uri): boolean {
    return uri ? this.runs.has(uri.toString()) : this.runs.size > 0;
  }

  /** Diagnoses a document; a newer request for the same document cancels this one. */
  async diagnose(target: DiagnoseTarget): Promise<DiagnoseOutcome> {
    const key = target.uri.toString();
    this.runs.get(key)?.source.cancel();
    const run: Run = { source: new vscode.CancellationTokenSource() };
    this.runs.set(key, run);
    void vscode.commands.executeCommand('setContext', RUNNING_CONTEXT_KEY, true);
    const job = this.queue.then(() => this.runOne(target, run.source.token));
    this.queue = job.catch(() => undefined);
    try {
      return await job;
    } finally {
      if (this.runs.get(key) === run) this.runs.delete(key);
      run.source.dispose();
      if (this.runs.size === 0) void vscode.commands.executeCommand('setContext', RUNNING_CONTEXT_KEY, false);
    }
  }

  /** Cancels every running or queued diagnosis (or only that of one document). */
  cancel(uri?: vscode.Uri): void {
    for (const [key, run] of this.runs) {
      if (!uri || key === uri.toString()) run.source.cancel();
    }
  }

  /** Drops the results of one document, or of all. */
  clear(uri?: vscode.Uri): void {
    const uris = uri ? [uri] : [...this.results.values()].map((r) => r.uri);
    for (const u of uris) {
      if (this.results.delete(u.toString())) this.resultsChanged.fire(u);
    }
  }

  /** Test hook: ends the trainer worker as a crash would (the next run starts a fresh one). */
  async killTrainerForTesting(): Promise<boolean> {
    const worker = (this.client as unknown as { worker?: { terminate(): Promise<number> } }).worker;
    if (!worker) return false;
    await worker.terminate();
    return true;
  }

  private forget(uri: vscode.Uri): void {
    this.reads.delete(uri.toString());
    this.cancel(uri);
    this.clear(uri);
  }

  private markStale(target: DiagnoseTarget): void {
    const key = target.uri.toString();
    const result = this.results.get(key);
    if (!result || result.stale) return;
    if (isNotebook(target) ? this.isCurrent(result) : result.version === target.version) return;
    this.results.set(key, { ...result, stale: true });
    this.resultsChanged.fire(target.uri);
  }

  private setState(state: ServiceState): void {
    this.stateValue = state;
    this.stateChanged.fire(state);
  }

  private publish(result: AnalysisResult): void {
    this.results.set(result.uri.toString(), result);
    this.resultsChanged.fire(result.uri);
  }

  private async runOne(target: DiagnoseTarget, token: vscode.CancellationToken): Promise<DiagnoseOutcome> {
    if (token.isCancellationRequested) return { status: 'cancelled', message: 'Superseded by a newer diagnosis of the same file.' };
    if (target.isClosed) return { status: 'cancelled', message: 'The document was closed.' };
    const started = Date.now();
    const subject = subjectOf(target);
    const document = { uri: target.uri };
    const { text, version } = subject;
    const fileLabel = vscode.workspace.asRelativePath(document.uri, false);
    const baseName = path.basename(document.uri.path);
    if (!isNotebook(target) && detectFormat(text, document.uri.path) === undefined) {
      return {
        status: 'unsupported',
        message: `${baseName} is not a model definition Activation Lens can read: it reads Keras and PyTorch models in Python, TensorFlow.js models in JavaScript/TypeScript, and Keras / TF.js saved models (.json; .keras and .h5 through the CLI).`,
      };
    }
    const read = await this.readSubject(subject, token);
    if (read === 'cancelled') return { status: 'cancelled', message: `Diagnosis of ${baseName} was cancelled.` };
    const loaded = read;
    const base = { uri: document.uri, version, text, loaded, stale: false, ...(subject.cellUris ? { cellUris: subject.cellUris, cells: loaded.cells ?? [] } : {}) };
    const staticDiagnosis: FileDiagnosis = {
      file: fileLabel,
      format: loaded.format,
      problems: loaded.problems.map((p) => problemToFinding(p)),
      models: loaded.models.map((model) => ({
        model,
        findings: model.problems.map((p) => problemToFinding(p)),
        whatIfs: [],
        error: { kind: 'untrusted', message: 'Training runs only in a trusted workspace; the static checks ran.' },
      })),
    };
    if (loaded.models.length === 0 || !vscode.workspace.isTrusted) {
      const result: AnalysisResult = { ...base, diagnosis: { ...staticDiagnosis, models: staticDiagnosis.models }, trained: false, durationMs: Date.now() - started };
      this.publish(result);
      this.setState({ ...this.stateValue, running: undefined, last: { file: baseName, summary: summarize(result) } });
      return { status: 'done', result };
    }

    const config = this.config.get(document.uri);
    const options = toDiagnoseOptions(config);
    const modelNames = loaded.models.map((m) => m.name);
    try {
      const diagnosis = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Activation Lens: ${baseName}`, cancellable: true },
        async (progress, progressToken) => {
          const cancelSubscription = progressToken.onCancellationRequested(() => this.cancel(document.uri));
          let lastReport = 0;
          let modelIndex = -1;
          let phase = '';
          const report = (detail: string, increment?: number) => {
            progress.report({ message: detail, increment });
            this.setState({ ...this.stateValue, running: { file: baseName, detail } });
          };
          const onEvent = (event: DiagnoseEvent) => {
            if (event.kind === 'model-start') {
              const index = modelNames.indexOf(event.model);
              const increment = index !== modelIndex && modelIndex >= 0 ? 100 / modelNames.length : undefined;
              modelIndex = index;
              phase = event.phase === 'baseline' ? 'training' : event.phase === 'reference' ? 'training the canonical reference' : `verifying ${event.label ?? ''}`.trim();
              report(`${event.model} (model ${index + 1}/${modelNames.length}): ${phase}…`, increment);
              lastReport = Date.now();
              return;
            }
            const now = Date.now();
            if (now - lastReport < PROGRESS_INTERVAL_MS && event.step !== event.steps) return;
            lastReport = now;
            report(`${event.model} (model ${modelIndex + 1}/${modelNames.length}): ${phase}, step ${event.step}/${event.steps}`);
          };
          report(`starting the trainer (${config.backend} backend)…`);
          this.client.setNativeProducts(config.nativeMatrixProducts);
          try {
            return await diagnoseLoaded(fileLabel, loaded, this.client, options, onEvent, token,
              this.dataChoices ? dataResolverFor(document, text, this.dataChoices, config.dataMaxRows) : undefined);
          } finally {
            cancelSubscription.dispose();
          }
        },
      );
      // A newer request (or a cancel) that arrived while the last step or the rules were finishing
      // supersedes this run: its results are dropped rather than published over the newer ones.
      if (token.isCancellationRequested) {
        this.setState({ ...this.stateValue, running: undefined });
        return { status: 'cancelled', message: `Diagnosis of ${baseName} was cancelled.` };
      }
      const result: AnalysisResult = { ...base, diagnosis, trained: true, durationMs: Date.now() - started };
      this.publish(result);
      const backend = diagnosis.models.find((m) => m.stats)?.stats?.backend.name ?? this.stateValue.backend;
      this.setState({ backend, running: undefined, last: { file: baseName, summary: summarize(result) } });
      return { status: 'done', result };
    } catch (error) {
      this.setState({ ...this.stateValue, running: undefined });
      if (error instanceof TrainingError && error.kind === 'cancelled') {
        return { status: 'cancelled', message: `Diagnosis of ${baseName} was cancelled.` };
      }
      const crashed = error instanceof TrainingError && error.kind === 'crashed';
      const message = crashed
        ? `${(error as Error).message}. The next diagnosis starts a fresh trainer.`
        : `Diagnosis of ${baseName} failed: ${(error as Error).message}`;
      return { status: 'failed', message, crashed };
    }
  }
}

/** "3 findings (1 error)" or "no findings". */
export function summarize(result: AnalysisResult): string {
  const all = [...result.diagnosis.problems, ...result.diagnosis.models.flatMap((m) => m.findings)];
  if (all.length === 0) return 'no findings';
  const errors = all.filter((f) => f.severity === 'error').length;
  return `${all.length} finding${all.length === 1 ? '' : 's'}${errors ? ` (${errors} error${errors === 1 ? '' : 's'})` : ''}`;
}
