/**
 * The `activationLens.*` settings as one typed, read-only object (mirrors
 * `contributes.configuration` in package.json), re-read when they change.
 */
import * as vscode from 'vscode';
import { DEFAULT_DIAGNOSE_OPTIONS, DEFAULT_EARLY_STOP, DEFAULT_TRAINING, type DiagnoseOptions } from '../engine/diagnose';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../core/analysis/types';
import { BACKEND_NAMES, type BackendChoice, type OptimizerName } from '../core/stats';
import { OPTIMIZER_NAMES } from '../core/model';
import type { ExplicitSettings } from '../core/trainingSetup';
import { Disposable } from './dispose';

export const CONFIG_SECTION = 'activationLens';

export interface Config {
  readonly backend: BackendChoice;
  readonly steps: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly optimizer: OptimizerName;
  /** Optimiser / rate set by the user at some level (not only the default): they then win over the file's. */
  readonly explicit: ExplicitSettings;
  readonly seed: number;
  /** Retrain each suggestion before offering it. */
  readonly verify: boolean;
  /** End training once the findings stop changing (at least 30 steps). */
  readonly stopWhenStable: boolean;
  readonly parameterCap: number;
  /** Threads sharing each batch on the wasm/cpu backends (0 in the settings: automatic). */
  readonly trainingThreads: number;
  /** The wasm backend's matrix products in the machine's BLAS when there is one. */
  readonly nativeMatrixProducts: boolean;
  /** Rows of a data file read at most. */
  readonly dataMaxRows: number;
  readonly thresholds: Thresholds;
  readonly diagnoseOnSave: boolean;
  readonly codeLensEnabled: boolean;
}

const OPTIMIZERS: readonly OptimizerName[] = OPTIMIZER_NAMES;

function positiveInteger(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : fallback;
}

function positiveNumber(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}

/** Thresholds from the `thresholds` object setting; unknown keys and non-numbers are ignored. */
function readThresholds(value: unknown): Thresholds {
  const result: Record<string, number> = { ...DEFAULT_THRESHOLDS };
  if (value && typeof value === 'object') {
    for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
      if (key in DEFAULT_THRESHOLDS && typeof raw === 'number' && Number.isFinite(raw)) result[key] = raw;
    }
  }
  return result as unknown as Thresholds;
}

/** True when a setting has a value at any level besides its default (user, workspace, folder, language). */
function isSetByUser(c: vscode.WorkspaceConfiguration, key: string): boolean {
  const i = c.inspect(key);
  return !!i && [i.globalValue, i.workspaceValue, i.workspaceFolderValue, i.globalLanguageValue, i.workspaceLanguageValue, i.workspaceFolderLanguageValue]
    .some((v) => v !== undefined);
}

/** Reads the settings for a resource (thresholds and training may differ per folder). */
export function readConfig(scope?: vscode.Uri): Readonly<Config> {
  const c = vscode.workspace.getConfiguration(CONFIG_SECTION, scope);
  const backend = c.get<string>('backend', 'auto');
  const optimizer = c.get<string>('optimizer', DEFAULT_TRAINING.optimizer);
  const seed = c.get<number>('seed', DEFAULT_TRAINING.seed);
  return Object.freeze({
    backend: backend === 'auto' || (BACKEND_NAMES as readonly string[]).includes(backend) ? (backend as BackendChoice) : 'auto',
    steps: positiveInteger(c.get('steps'), DEFAULT_TRAINING.steps),
    batchSize: positiveInteger(c.get('batchSize'), DEFAULT_TRAINING.batchSize),
    learningRate: positiveNumber(c.get('learningRate'), DEFAULT_TRAINING.learningRate),
    optimizer: (OPTIMIZERS as readonly string[]).includes(optimizer) ? (optimizer as OptimizerName) : DEFAULT_TRAINING.optimizer,
    explicit: { optimizer: isSetByUser(c, 'optimizer'), learningRate: isSetByUser(c, 'learningRate') },
    seed: Number.isInteger(seed) && seed >= 0 ? seed : DEFAULT_TRAINING.seed,
    verify: c.get<boolean>('verifySuggestions', true),
    stopWhenStable: c.get<boolean>('stopWhenStable', true),
    parameterCap: positiveInteger(c.get('parameterCap'), DEFAULT_DIAGNOSE_OPTIONS.parameterCap),
    trainingThreads: Math.min(16, positiveInteger(c.get('trainingThreads'), DEFAULT_TRAINING.threads ?? 1)),
    nativeMatrixProducts: c.get<boolean>('nativeMatrixProducts', true) !== false,
    dataMaxRows: positiveInteger(c.get('dataMaxRows'), 10_000),
    thresholds: readThresholds(c.get('thresholds')),
    diagnoseOnSave: c.get<boolean>('diagnoseOnSave', false),
    codeLensEnabled: c.get<boolean>('codeLens.enabled', true),
  });
}

/** The engine's options for a configuration. */
export function toDiagnoseOptions(config: Readonly<Config>): DiagnoseOptions {
  return {
    ...DEFAULT_DIAGNOSE_OPTIONS,
    backend: config.backend,
    verify: config.verify,
    earlyStop: config.stopWhenStable ? DEFAULT_EARLY_STOP : undefined,
    explicit: config.explicit,
    parameterCap: config.parameterCap,
    thresholds: config.thresholds,
    training: {
      ...DEFAULT_TRAINING,
      steps: config.steps,
      batchSize: config.batchSize,
      learningRate: config.learningRate,
      optimizer: config.optimizer,
      seed: config.seed,
      threads: config.trainingThreads,
    },
  };
}

/** Holds the window-level configuration and tells listeners when `activationLens.*` changes. */
export class ConfigService extends Disposable {
  private current: Readonly<Config> = readConfig();
  private readonly changed = this._register(new vscode.EventEmitter<Readonly<Config>>());
  readonly onDidChange = this.changed.event;

  constructor() {
    super();
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(CONFIG_SECTION)) return;
        this.current = readConfig();
        this.changed.fire(this.current);
      }),
    );
  }

  /** The window-level settings, or those of a resource's folder. */
  get(scope?: vscode.Uri): Readonly<Config> {
    return scope ? readConfig(scope) : this.current;
  }
}
