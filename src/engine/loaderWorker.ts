/**
 * Loader worker entry (dist/loader.js): loads binary model files (.keras, .h5) off the caller's
 * thread. libhdf5 can loop forever on some damaged files; here that costs a terminated worker,
 * not a frozen editor or CLI.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadModelFile } from '../core/parse/index';

interface LoaderRequest {
  readonly bytes: Uint8Array;
  readonly fileName: string;
  readonly freshInit: boolean;
}

const request = workerData as LoaderRequest;
loadModelFile(request.bytes, request.fileName, { freshInit: request.freshInit }).then(
  (result) => parentPort?.postMessage({ result }),
  (error: unknown) => parentPort?.postMessage({ error: error instanceof Error ? error.message : String(error) }),
);
