/**
 * [issue 12] The one place where the facts the fixers need (sourceFacts.ts) are gathered: the
 * last step of reading a Python source file, while its syntax tree is still alive. Each Python
 * model gets the file's imports, a PyTorch model also its class and layer calls
 * (frameworks/torch/sourceFacts.ts); the fixers then never parse the file again.
 */
import type { Node } from 'web-tree-sitter';
import type { LoadResult } from '../model';
import { pythonImportFacts } from '../python/importFacts';
import { torchModelFacts } from '../frameworks/torch/sourceFacts';
import { importTableOf } from '../sourceFacts';

/** `result` with `sourceFacts` on each of its Python models. */
export function withSourceFacts(result: LoadResult, root: Node): LoadResult {
  const python = result.models.some((m) => m.format === 'keras-python' || m.format === 'pytorch-python');
  if (!python) return result;
  const imports = pythonImportFacts(root);
  const torchFacts = torchModelFacts(root, importTableOf(imports));
  const models = result.models.map((model) => {
    if (model.format === 'pytorch-python') return { ...model, sourceFacts: { imports, torch: torchFacts(model) } };
    return model.format === 'keras-python' ? { ...model, sourceFacts: { imports } } : model;
  });
  return { ...result, models };
}
