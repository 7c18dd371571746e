/**
 * Trainer worker entry (dist/worker.js). Runs in a worker thread so training never blocks the
 * caller's event loop. One backend selection per worker; requests are handled one at a time.
 */
import { parentPort } from 'node:worker_threads';
import * as os from 'node:os';
import type { ErrorMessage, FromReplica, FromWorker, ReplicaInitRequest, ToWorker, TrainRequest } from '../protocol/workerMessages';
import type { BackendChoice, BackendReport } from '../core/stats';
import { BackendUnavailableError, selectBackend } from './backends';
import { stabilityStopper } from '../core/analysis/stability';
import { UnsupportedModelError } from './buildModel';
import { GradientReplicas } from './replicas';
import { serveReplicaRun } from './replicaRunner';
import { CancelledError, DataMismatchError, ModelTooLargeError, trainAndMeasure } from './trainer';

const port = parentPort;
if (!port) throw new Error('worker.js must run as a worker thread');

/** Nice value of the trainer thread (0 normal, 19 lowest). */
const TRAINER_NICE = 15;

// On Linux a nice value is per thread, so this lowers only the trainer's priority: when cores
// are scarce the editor's thread (or the CLI's) wins, and training takes what is left. Elsewhere
// setpriority(0) would reach the whole process, so it is left alone there.
if (process.platform === 'linux') {
  try {
    os.setPriority(0, TRAINER_NICE);
  } catch {
    // not permitted in this environment; training still works at normal priority
  }
}

let backend: { choice: BackendChoice; report: BackendReport } | undefined;
let queue: Promise<void> = Promise.resolve();
/** This trainer's data-parallel replicas (copies of this worker), kept for later runs. */
let replicas: GradientReplicas | undefined;

/** Backends that compute on this thread's core, where more threads mean more cores used. */
const SHARES_BATCHES: ReadonlySet<string> = new Set(['wasm', 'cpu']);

/** The replicas for this request, started or restarted as needed; undefined on one thread. */
function replicasFor(request: TrainRequest, report: BackendReport): GradientReplicas | undefined {
  const wanted = Math.max(1, Math.floor(request.options.threads ?? 1)) - 1;
  if (wanted === 0 || !SHARES_BATCHES.has(report.name)) return undefined;
  if (replicas && (replicas.count !== wanted || replicas.backend !== report.name || !replicas.healthy)) {
    void replicas.dispose();
    replicas = undefined;
  }
  // __filename is this bundle (dist/worker.js): a replica is another instance of it.
  replicas ??= new GradientReplicas(wanted, __filename, report.name, request.backendSearchDirs ?? []);
  return replicas;
}

function post(message: FromWorker): void {
  port!.postMessage(message);
}

function classify(error: unknown): Pick<ErrorMessage, 'kind' | 'message'> {
  if (error instanceof CancelledError) return { kind: 'cancelled', message: error.message };
  if (error instanceof ModelTooLargeError) return { kind: 'too-large', message: error.message };
  if (error instanceof UnsupportedModelError) return { kind: 'unsupported', message: error.message };
  if (error instanceof DataMismatchError) return { kind: 'data', message: error.message };
  if (error instanceof BackendUnavailableError) return { kind: 'backend', message: error.message };
  // An error nobody classified comes from inside TensorFlow.js or the trainer: its text names
  // kernels and tensors, not the person's model, so it stays in the debug log.
  if (process.env.ACTIVATION_LENS_DEBUG) console.error('activation-lens trainer:', error);
  return {
    kind: 'internal',
    message: 'Training stopped on an internal error of the trainer, not a problem of this model. Set ACTIVATION_LENS_DEBUG=1 to log its details, and please report it.',
  };
}

async function handleTrain(request: TrainRequest): Promise<void> {
  const cancelFlag = new Int32Array(request.cancelFlag);
  try {
    if (!backend || backend.choice !== request.backend) {
      backend = { choice: request.backend, report: await selectBackend(request.backend, { extraModuleDirs: request.backendSearchDirs ?? [] }) };
    }
    const stats = await trainAndMeasure(request.model, request.options, backend.report, request.parameterCap, {
      replicas: replicasFor(request, backend.report),
      isCancelled: () => Atomics.load(cancelFlag, 0) === 1,
      onProgress: (step, steps, loss) => post({ type: 'progress', requestId: request.requestId, step, steps, loss }),
      shouldStop: request.earlyStop
        ? stabilityStopper(request.model, request.earlyStop.thresholds, request.earlyStop.patience, request.earlyStop.minSteps)
        : undefined,
    }, request.data);
    post({ type: 'result', requestId: request.requestId, stats });
  } catch (error) {
    post({ type: 'error', requestId: request.requestId, ...classify(error) });
  }
}

/** Replica role: select the trainer's backend, then say so (or why not). */
async function handleReplicaInit(request: ReplicaInitRequest): Promise<void> {
  const reply = (message: FromReplica): void => port!.postMessage(message);
  try {
    const report = await selectBackend(request.backend, { extraModuleDirs: [...request.backendSearchDirs] });
    reply({ type: 'replica-ready', backend: report.name });
  } catch (error) {
    reply({ type: 'replica-failed', message: `could not start the ${request.backend} backend: ${error instanceof Error ? error.message : String(error)}` });
  }
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'train':
      queue = queue.then(() => handleTrain(message));
      break;
    case 'replica-init':
      queue = queue.then(() => handleReplicaInit(message));
      break;
    case 'replica-run':
      queue = queue
        .then(() => serveReplicaRun(message, (reply) => port.postMessage(reply)))
        .catch((error: unknown) => {
          const reply: FromReplica = { type: 'replica-failed', runId: message.runId, message: error instanceof Error ? error.message : String(error) };
          port.postMessage(reply);
        });
      break;
  }
});
