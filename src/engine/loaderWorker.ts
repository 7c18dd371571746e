/**
 * Reader worker entry (dist/loader.js): reads model files off the caller's thread, one request
 * at a time, under the heap and stack limits its creator sets (loadFile.ts). A hostile file then
 * costs a terminated worker, never a frozen or crashed editor or CLI; libhdf5 looping forever on a
 * damaged .h5 costs the same.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parentPort } from 'node:worker_threads';
import type { LoadResult } from '../core/model';
import { loadModelFile } from '../core/parse/index';
import { pythonModuleReader } from './pythonModules';

/** A read request: the file's text or bytes and its name. */
export interface LoaderRequest {
  readonly id: number;
  readonly input: string | Uint8Array;
  readonly fileName: string;
  readonly freshInit: boolean;
  /** The model's own folder: TF.js weight shards are read from there and nowhere else. */
  readonly siblingFolder: string;
  /**
   * The project root: workspace Python modules the file imports are read from the model's folder
   * and from here, never from outside it (pythonModules.ts).
   */
  readonly projectRoot?: string;
  /** One example's shape (no batch axis) of the data the person chose, when known. */
  readonly inputShape?: readonly number[];
}

/** The answer: the result, or the name of the exception that stopped the loader. */
export interface LoaderReply {
  readonly id: number;
  readonly result?: LoadResult;
  readonly errorName?: string;
}

function siblingReader(folder: string): (name: string) => Uint8Array | undefined {
  return (name) => {
    const target = path.resolve(folder, name);
    if (path.dirname(target) !== folder) return undefined;
    try {
      return new Uint8Array(fs.readFileSync(target));
    } catch {
      return undefined;
    }
  };
}

parentPort?.on('message', (request: LoaderRequest) => {
  const reply = (body: Omit<LoaderReply, 'id'>) => parentPort?.postMessage({ id: request.id, ...body } satisfies LoaderReply);
  loadModelFile(request.input, request.fileName, {
    freshInit: request.freshInit,
    readSibling: siblingReader(request.siblingFolder),
    // A fresh module reader per request: its caps count per model file.
    readPythonModule: pythonModuleReader({ modelFolder: request.siblingFolder, projectRoot: request.projectRoot }),
    ...(request.inputShape ? { inputShape: request.inputShape } : {}),
  }).then(
    (result) => reply({ result }),
    (error: unknown) => reply({ errorName: error instanceof Error ? error.name : typeof error }),
  );
});
