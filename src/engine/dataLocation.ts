/**
 * Which data files a model file may name in its `activation-lens: data=…` comment: only files
 * inside its project, compared by real path (symlinks resolved on both sides), so that a model
 * file from someone else cannot make the tool read `/etc/passwd` or `../secrets.csv` and echo
 * it. The person's own choice (`--data`, the editor's file dialog) may be anywhere.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Files or folders that mark a project's top folder: version control, then package manifests. */
const PROJECT_MARKERS = ['.git', '.hg', '.svn', '.jj', 'package.json', 'pyproject.toml', 'setup.py', 'setup.cfg'];

/**
 * The project root of a model file: the nearest folder at or above the file's own that holds a
 * marker, else the file's own folder. Real paths.
 */
export function findProjectRoot(modelFile: string): string {
  const start = realPathOfPossiblyMissing(path.dirname(path.resolve(modelFile)));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (PROJECT_MARKERS.some((marker) => fs.existsSync(path.join(dir, marker)))) return dir;
    if (path.dirname(dir) === dir) return start;
  }
}

/**
 * The real path of `file`; for a file that does not exist, the real path of its nearest existing
 * folder joined with the rest, so that `link/../x` or a missing file behind a symlink is still
 * placed where it really is.
 */
export function realPathOfPossiblyMissing(file: string): string {
  const absolute = path.resolve(file);
  const rest: string[] = [];
  for (let dir = absolute; ; dir = path.dirname(dir)) {
    try {
      return path.join(fs.realpathSync.native(dir), ...rest);
    } catch {
      if (path.dirname(dir) === dir) return absolute;
      rest.unshift(path.basename(dir));
    }
  }
}

/** Whether `file` lies inside folder `root` (both real paths), not the folder itself. */
export function isInsideFolder(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

/** A data file named by a model file's comment, resolved; or why it may not be read. */
export type NamedDataFile = { readonly file: string } | { readonly refused: string };

/**
 * Resolves `named` (from a data comment of `modelFile`) relative to the model's folder and checks
 * that its real path lies inside one of `roots` (real paths of the allowed folders). The refusal
 * names the root but says nothing of the file itself: not even whether it exists.
 */
export function resolveCommentDataFile(named: string, modelFile: string, roots: readonly string[]): NamedDataFile {
  const file = realPathOfPossiblyMissing(path.resolve(path.dirname(path.resolve(modelFile)), named));
  if (roots.some((root) => isInsideFolder(realPathOfPossiblyMissing(root), file))) return { file };
  const where = roots.length === 1 ? `the project root ${roots[0]}` : `the workspace folders (${roots.join(', ')})`;
  return { refused: `data=${named} is outside ${where}, so a model file's comment may not name it` };
}
