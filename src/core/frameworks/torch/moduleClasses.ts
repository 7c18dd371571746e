/**
 * The nn.Module subclasses of a PyTorch file (directly, through another class of the file, or
 * Lightning's), their methods with inheritance, and whether code constructs modules (issue 12:
 * split out of parse/torchPython.ts; the statement runner, forward and the loader share it).
 */
import type { Node } from 'web-tree-sitter';
import { dottedParts } from '../../python/imports';
import { type Evaluator, findMethod, isLightningModule } from './values';

/** The module classes of one file, found once when it is loaded. */
export class ModuleClassIndex {
  /** nn.Module subclasses with a `forward` (their own or inherited), by name: models, or parts of one. */
  readonly withForward = new Map<string, Node>();
  /** Node ids of every nn.Module subclass of the file, with `forward` or without. */
  readonly ids = new Set<number>();

  constructor(
    private readonly root: Node,
    private readonly evaluator: Evaluator,
  ) {
    this.findModuleClasses();
  }

  /** Classes deriving (directly or through another class of the file) from torch.nn.Module. */
  private findModuleClasses(): void {
    const classes = new Map<string, Node>();
    for (const node of this.root.descendantsOfType('class_definition')) {
      const name = node?.childForFieldName('name')?.text;
      if (node && name && !classes.has(name)) classes.set(name, node);
    }
    const isModule = (node: Node, seen: Set<string>): boolean => {
      for (const base of node.childForFieldName('superclasses')?.namedChildren ?? []) {
        const parts = base ? dottedParts(base) : undefined;
        if (!parts) continue;
        const path = this.evaluator.resolve(parts);
        if (path.join('.') === 'torch.nn.Module' || path.join('.') === 'torch.nn.modules.module.Module' || isLightningModule(path)) return true;
        const local = parts.length === 1 ? classes.get(parts[0]) : undefined;
        if (local && !seen.has(parts[0])) {
          seen.add(parts[0]);
          if (isModule(local, seen)) return true;
        }
      }
      return false;
    };
    for (const [name, node] of classes) {
      if (isModule(node, new Set([name])) && this.methodWithInheritance(node, 'forward')) {
        this.withForward.set(name, node);
        this.ids.add(node.id);
      } else if (isModule(node, new Set([name]))) {
        this.ids.add(node.id);
      }
    }
  }

  /** A method of a class of the file, its own or inherited from a base class of the file. */
  methodWithInheritance(classNode: Node, name: string, seen = new Set<number>()): Node | undefined {
    const own = findMethod(classNode, name);
    if (own || seen.has(classNode.id)) return own;
    seen.add(classNode.id);
    for (const base of classNode.childForFieldName('superclasses')?.namedChildren ?? []) {
      const local = base?.type === 'identifier' ? this.localClass(base.text) : undefined;
      const found = local ? this.methodWithInheritance(local, name, seen) : undefined;
      if (found) return found;
    }
    return undefined;
  }

  /** The first class of the file with that name (a base class named in `class Net(Base)`). */
  private localClass(name: string): Node | undefined {
    for (const node of this.root.descendantsOfType('class_definition')) {
      if (node?.childForFieldName('name')?.text === name) return node;
    }
    return undefined;
  }

  /** True when a node calls a torch.nn module constructor (`nn.Linear(...)`) or a module class of the file. */
  mentionsModuleConstructor(node: Node | null): boolean {
    if (!node) return false;
    return node.descendantsOfType('call').some((call) => {
      const callee = call?.childForFieldName('function');
      const parts = callee ? dottedParts(callee) : undefined;
      if (!parts) return false;
      const path = this.evaluator.resolve(parts);
      const isClass = path.length === 3 && path[0] === 'torch' && path[1] === 'nn' && path[2][0] >= 'A' && path[2][0] <= 'Z';
      return isClass || (parts.length === 1 && this.withForward.has(parts[0]));
    });
  }
}
