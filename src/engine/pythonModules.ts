/**
 * The workspace Python modules a model file imports, for the static reader (LoadContext
 * .readPythonModule): `config` → config.py, `pkg.mod` → pkg/mod.py or pkg/mod/__init__.py, looked
 * up in the model's own folder first (where `python model.py` puts the script's folder on
 * sys.path), then in the project root (where `python -m pkg.model` runs from). `.mod` / `..mod`
 * are relative to the model's folder, as a package's relative import is.
 *
 * A model file may come from someone else, so the lookup is a read, never a run, and refuses
 * (undefined) anything that is not plainly a source file of this project: names that are not
 * Python identifiers, files whose real path (symlinks resolved) leaves the allowed root or does
 * not end in `.py`, installed packages (node_modules, site-packages, dist-packages, virtual
 * environments), files above MAX_SOURCE_BYTES, and any module beyond the MAX_MODULES_READ-th
 * read for one file. Synchronous: it runs inside the reader worker, off the caller's thread.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_SOURCE_BYTES } from '../core/parse/limits';
import { isInsideFolder, realPathOfPossiblyMissing } from './dataLocation';

/** Modules read for one model file at most: far above a real project's local imports. */
export const MAX_MODULES_READ = 32;
/** Distinct names looked up at most (found or not): bounds the file-system calls one file costs. */
export const MAX_MODULE_LOOKUPS = 256;

/** Folders that hold installed code, never the project's own. */
const INSTALLED = new Set(['node_modules', 'site-packages', 'dist-packages', '__pypackages__', '.venv', 'venv', '.tox']);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface ModuleRoots {
  /** The model file's folder (absolute). */
  readonly modelFolder: string;
  /**
   * The project root (VS Code: the workspace folder; CLI: --root or the nearest folder with a
   * project marker): modules are also looked up there, and no module may lie outside it. Absent:
   * the model's folder is both.
   */
  readonly projectRoot?: string;
}

/** Whether any folder between `root` and `file` (both real paths) holds installed code. */
function underInstalledFolder(root: string, file: string): boolean {
  return path.relative(root, path.dirname(file)).split(path.sep).some((part) => INSTALLED.has(part));
}

/** The text of `file` when it is an allowed module source, else undefined. */
function readAllowed(file: string, root: string): string | undefined {
  let real: string;
  try {
    real = fs.realpathSync.native(file);
  } catch {
    return undefined;
  }
  if (!real.endsWith('.py') || !isInsideFolder(root, real) || underInstalledFolder(root, real)) return undefined;
  let fd: number | undefined;
  try {
    fd = fs.openSync(real, 'r');
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() || stat.size > MAX_SOURCE_BYTES) return undefined;
    // Read what fstat promised and no more: the file may grow between the check and the read.
    const buffer = Buffer.alloc(stat.size);
    const read = fs.readSync(fd, buffer, 0, stat.size, 0);
    return new TextDecoder().decode(buffer.subarray(0, read));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The candidate files for `dottedName`, in lookup order. */
function candidates(dottedName: string, bases: readonly string[], modelFolder: string): string[] {
  const dots = /^\.*/.exec(dottedName)![0].length;
  const parts = dottedName.slice(dots).split('.');
  if (parts.some((p) => !IDENTIFIER.test(p))) return [];
  // `from . import x` / `from .. import x` name a package; `.x` a module next to the file.
  let folders = bases;
  if (dots > 0) {
    let folder = modelFolder;
    for (let i = 1; i < dots; i++) folder = path.dirname(folder);
    folders = [folder];
  }
  return folders.flatMap((base) => [path.join(base, ...parts) + '.py', path.join(base, ...parts, '__init__.py')]);
}

/** A reader of the workspace Python modules for one model file (one reader per read: its caps count per file). */
export function pythonModuleReader(roots: ModuleRoots): (dottedName: string) => string | undefined {
  const modelFolder = realPathOfPossiblyMissing(roots.modelFolder);
  const root = realPathOfPossiblyMissing(roots.projectRoot ?? roots.modelFolder);
  // The model's folder counts only when it lies in the root (a file opened from elsewhere reads
  // modules from the root alone); the root itself is both a base and the fence.
  const bases = [...new Set([...(modelFolder === root || isInsideFolder(root, modelFolder) ? [modelFolder] : []), root])];
  const cache = new Map<string, string | undefined>();
  let read = 0;
  return (dottedName) => {
    if (cache.has(dottedName)) return cache.get(dottedName);
    if (cache.size >= MAX_MODULE_LOOKUPS || read >= MAX_MODULES_READ) return undefined;
    let text: string | undefined;
    for (const file of candidates(dottedName, bases, modelFolder)) {
      text = readAllowed(file, root);
      if (text !== undefined) break;
    }
    if (text !== undefined) read++;
    cache.set(dottedName, text);
    return text;
  };
}
