/**
 * Data comments reach only files inside the model's project root, by real path: `../`, absolute
 * paths and symlinks out of the project are refused without saying whether the file exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findProjectRoot, isInsideFolder, resolveCommentDataFile } from '../../src/engine/dataLocation';

function layout(): { top: string; project: string; model: string } {
  const top = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'al-root-')));
  const project = path.join(top, 'project');
  fs.mkdirSync(path.join(project, 'models', 'deep'), { recursive: true });
  fs.mkdirSync(path.join(project, '.git'));
  fs.writeFileSync(path.join(project, 'train.csv'), 'x,label\n1,0\n');
  fs.writeFileSync(path.join(top, 'secret.csv'), 'token\n');
  const model = path.join(project, 'models', 'deep', 'net.py');
  fs.writeFileSync(model, 'model = None\n');
  return { top, project, model };
}

test('the project root is the nearest folder with a VCS or package marker, else the model folder', () => {
  const { top, project, model } = layout();
  assert.equal(findProjectRoot(model), project);
  fs.writeFileSync(path.join(project, 'models', 'pyproject.toml'), '');
  assert.equal(findProjectRoot(model), path.join(project, 'models'));
  const loose = path.join(top, 'loose');
  fs.mkdirSync(loose);
  // tmpdir has no marker above it on a clean machine; a marker further up would also be a root.
  const root = findProjectRoot(path.join(loose, 'net.py'));
  assert.ok(root === loose || isInsideFolder(root, loose), root);
});

test('a comment may name files inside the root only, by real path', () => {
  const { top, project, model } = layout();
  const roots = [project];
  assert.deepEqual(resolveCommentDataFile('../../train.csv', model, roots), { file: path.join(project, 'train.csv') });
  for (const named of ['../../../secret.csv', path.join(top, 'secret.csv'), '/etc/passwd', '../../../project-evil/x.csv', '../../..']) {
    const resolved = resolveCommentDataFile(named, model, roots);
    assert.ok('refused' in resolved, `${named} was accepted`);
    assert.match(resolved.refused, /outside the project root/);
  }
  // A symlink inside the project that points out of it is outside, even for a file not yet there.
  fs.symlinkSync(top, path.join(project, 'up'));
  assert.ok('refused' in resolveCommentDataFile('../../up/secret.csv', model, roots));
  assert.ok('refused' in resolveCommentDataFile('../../up/missing.csv', model, roots));
  // …and one pointing inside is fine.
  fs.symlinkSync(path.join(project, 'train.csv'), path.join(project, 'models', 'alias.csv'));
  assert.deepEqual(resolveCommentDataFile('../alias.csv', model, roots), { file: path.join(project, 'train.csv') });
});

test('a root reached through a symlink compares by its real path', () => {
  const { top, project, model } = layout();
  const linkToProject = path.join(top, 'link-to-project');
  fs.symlinkSync(project, linkToProject);
  const viaLink = path.join(linkToProject, 'models', 'deep', 'net.py');
  assert.deepEqual(resolveCommentDataFile('../../train.csv', viaLink, [linkToProject]), { file: path.join(project, 'train.csv') });
  assert.ok('refused' in resolveCommentDataFile('../../../secret.csv', model, [linkToProject]));
  assert.equal(isInsideFolder('/a/b', '/a/b'), false);
  assert.equal(isInsideFolder('/a/b', '/a/b/..c'), true);
  assert.equal(isInsideFolder('/a/b', '/a/bc'), false);
});
