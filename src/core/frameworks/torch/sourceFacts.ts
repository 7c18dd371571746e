/**
 * [issue 12] The facts the PyTorch fixers need about one model (sourceFacts.ts), read from the
 * syntax tree while the file is loaded: the class's `__init__` and `forward`, the statements
 * where an initialisation or a BatchNorm may go, and the call each layer's span is. The fixers
 * (fixes/torchPython.ts) then compute their edits from these facts and the text, without a parser.
 */
import type { Node } from 'web-tree-sitter';
import type { ModelSpec, SourceSpan } from '../../model';
import type { ImportTable } from '../../python/imports';
import { checkedRange } from '../../python/importFacts';
import { mentionsName } from '../../python/names';
import type { CallFacts, TextRange, TorchDefinitionFacts, TorchLayerFacts, TorchMethodFacts, TorchModelFacts, TorchStatementFacts } from '../../sourceFacts';

/** The dotted torch path a name stands for: through the file's imports, `nn` and `F` read as PyTorch's usual aliases. */
export function resolveTorchName(imports: ImportTable, parts: readonly string[]): string[] {
  const imported = imports.get(parts[0]);
  if (imported) return [...imported, ...parts.slice(1)];
  if (parts[0] === 'nn') return ['torch', 'nn', ...parts.slice(1)];
  if (parts[0] === 'F') return ['torch', 'nn', 'functional', ...parts.slice(1)];
  return [...parts];
}

/**
 * The facts of each model of a file, read from the file's tree (`root`): one reader per file, so
 * what it summarises of a block is read once however many models the block defines.
 */
export function torchModelFacts(root: Node, imports: ImportTable): (model: ModelSpec) => TorchModelFacts {
  const reader = new TorchFactReader(root, imports);
  return (model) => modelFacts(reader, model);
}

function modelFacts(reader: TorchFactReader, model: ModelSpec): TorchModelFacts {
  const modelNode = reader.nodeAt(model.span);
  const definition = modelNode ? reader.definition(modelNode) : undefined;
  const forward = modelNode?.type === 'class_definition' ? findMethod(modelNode, 'forward') : undefined;
  const forwardCalls = forward ? reader.callsByCallee(forward) : undefined;
  // Only activations are edited where they are written (a Linear/Conv is reached by its module path).
  const layers = model.layers.map((layer) => (layer.kind === 'activation' ? reader.layer(layer.source.span, forwardCalls) ?? null : null));
  return { ...(definition ? { definition } : {}), layers };
}

/** A function defined directly in a class body (decorated or not), by name. */
function findMethod(classNode: Node, name: string): Node | undefined {
  for (const statement of classNode.childForFieldName('body')?.namedChildren ?? []) {
    const definition = statement?.type === 'decorated_definition' ? statement.childForFieldName('definition') : statement;
    if (definition?.type === 'function_definition' && definition.childForFieldName('name')?.text === name) return definition;
  }
  return undefined;
}

/** The first parameter's text (`self`), as written. */
function firstParameter(fn: Node): string | undefined {
  return fn.childForFieldName('parameters')?.namedChildren.find((p): p is Node => !!p)?.text;
}

function firstPositional(args: Node | null): Node | undefined {
  return args?.namedChildren.find((a): a is Node => !!a && a.type !== 'comment' && a.type !== 'keyword_argument');
}

/** Module-call method names that (may) initialise weights in place, or walk modules to do so. */
const INITIALISING_CALLS = new Set(['apply', 'normal_', 'uniform_', 'fill_', 'zero_', 'modules']);

class TorchFactReader {
  constructor(
    private readonly root: Node,
    private readonly imports: ImportTable,
  ) {}

  /** The node exactly at `span`, or undefined (a span of another file, or no node of its own). */
  nodeAt(span: SourceSpan): Node | undefined {
    const node = this.root.descendantForIndex(span.start.offset, Math.max(span.start.offset, span.end.offset - 1));
    for (let current: Node | null = node; current; current = current.parent) {
      if (current.startIndex === span.start.offset && current.endIndex === span.end.offset) return current;
      if (current.startIndex < span.start.offset) break;
    }
    return undefined;
  }

  private range(node: Node): TextRange {
    return { start: node.startIndex, end: node.endIndex };
  }

  definition(modelNode: Node): TorchDefinitionFacts {
    if (modelNode.type === 'class_definition') {
      const initFn = findMethod(modelNode, '__init__');
      const forward = findMethod(modelNode, 'forward');
      const forwardSelf = forward ? firstParameter(forward) : undefined;
      return {
        kind: 'class',
        source: checkedRange(modelNode),
        ...(initFn ? { init: this.method(initFn) } : {}),
        ...(forwardSelf !== undefined ? { forwardSelf } : {}),
        memberNames: [...new Set([...modelNode.text.matchAll(/\.(\w+)/g)].map((m) => m[1]))],
      };
    }
    // An expression (nn.Sequential(...)): reachable by name only when a plain statement binds it.
    let parent = modelNode.parent;
    while (parent?.type === 'parenthesized_expression') parent = parent.parent;
    const target = parent?.type === 'assignment' ? parent.childForFieldName('left') : undefined;
    const statement = parent?.parent;
    const block = statement?.parent;
    const source = checkedRange(modelNode);
    if (target?.type !== 'identifier' || statement?.type !== 'expression_statement' || !block) return { kind: 'expression', source };
    const name = target.text;
    // The defining statement, then the later ones of its block that may initialise this model's weights.
    const later = this.blockStatements(block).filter(({ node: s, text }) => s.startIndex > statement.startIndex && mentionsName(text, name) && this.initialises(s));
    const statements = [statement, ...later.map(({ node }) => node)].map((s) => this.statement(s));
    return { kind: 'expression', source, binding: { name, statements } };
  }

  /** Per block, its statements and their text, read once per file (once per model was quadratic in node reads). */
  private readonly statementTexts = new Map<number, readonly { readonly node: Node; readonly text: string }[]>();

  private blockStatements(block: Node): readonly { readonly node: Node; readonly text: string }[] {
    let statements = this.statementTexts.get(block.id);
    if (!statements) {
      statements = block.namedChildren.filter((s): s is Node => !!s && s.type !== 'comment').map((node) => ({ node, text: node.text }));
      this.statementTexts.set(block.id, statements);
    }
    return statements;
  }

  private method(fn: Node): TorchMethodFacts {
    const statements = (fn.childForFieldName('body')?.namedChildren ?? []).filter((s): s is Node => !!s && s.type !== 'comment');
    return { self: firstParameter(fn) ?? 'self', statements: statements.map((s) => this.statement(s)) };
  }

  private statement(statement: Node): TorchStatementFacts {
    const expression = statement.type === 'expression_statement' ? statement.firstNamedChild : null;
    const left = expression?.type === 'assignment' ? expression.childForFieldName('left')?.text : undefined;
    return { ...checkedRange(statement), ...(left !== undefined ? { assigns: left.split(' ').join('') } : {}), initialises: this.initialises(statement) };
  }

  /** True for statements that (may) initialise weights: nn.init calls, `.apply(...)`, `.normal_()`-style calls, module loops. */
  private initialises(statement: Node): boolean {
    for (const call of statement.descendantsOfType('call')) {
      const callee = call?.childForFieldName('function');
      if (!callee) continue;
      const parts = callee.text.split('.').map((p) => p.trim());
      const path = resolveTorchName(this.imports, parts);
      if (path[0] === 'torch' && path[1] === 'nn' && path[2] === 'init') return true;
      if (INITIALISING_CALLS.has(parts[parts.length - 1])) return true;
    }
    return false;
  }

  /** The calls under `node`, by their callee's text with whitespace removed, in document order (one walk for every layer). */
  callsByCallee(node: Node): ReadonlyMap<string, readonly CallFacts[]> {
    const calls = new Map<string, CallFacts[]>();
    for (const call of node.descendantsOfType('call')) {
      const callee = call?.childForFieldName('function')?.text.replace(/\s/g, '');
      const facts = call && callee !== undefined ? this.call(call) : undefined;
      if (callee === undefined || !facts) continue;
      const same = calls.get(callee);
      if (same) same.push(facts);
      else calls.set(callee, [facts]);
    }
    return calls;
  }

  /** The call a layer's span is (or is the callee of), and where that call sits (`forwardCalls`: the class's forward, by callee). */
  layer(span: SourceSpan, forwardCalls: ReadonlyMap<string, readonly CallFacts[]> | undefined): TorchLayerFacts | undefined {
    const node = this.nodeAt(span);
    if (!node) return undefined;
    if (node.type === 'call') {
      const call = this.call(node);
      if (!call) return undefined;
      const container = node.parent?.type === 'argument_list' ? node.parent.parent : undefined;
      const argumentOf = node.parent?.type === 'argument_list' ? (container?.type === 'call' ? container.childForFieldName('function')?.text ?? '' : '') : undefined;
      const assignedTo = node.parent?.type === 'assignment' ? node.parent.childForFieldName('left')?.text.replace(/\s/g, '') : undefined;
      // A module attribute (`self.act = nn.ReLU()`) is applied where forward calls it.
      const forwardUses = assignedTo && forwardCalls ? forwardCalls.get(assignedTo) ?? [] : undefined;
      return {
        site: 'call',
        call,
        ...(argumentOf !== undefined ? { argumentOf } : {}),
        ...(assignedTo !== undefined ? { assignedTo } : {}),
        ...(forwardUses ? { forwardUses } : {}),
      };
    }
    if (node.type === 'attribute' || node.type === 'identifier') {
      const parent = node.parent;
      if (parent?.type !== 'call' || parent.childForFieldName('function')?.id !== node.id) return undefined;
      const call = this.call(parent);
      return call ? { site: 'callee', call } : undefined;
    }
    return undefined;
  }

  private call(node: Node): CallFacts | undefined {
    const callee = node.childForFieldName('function');
    if (!callee) return undefined;
    const object = callee.type === 'attribute' ? callee.childForFieldName('object') : null;
    const attribute = callee.type === 'attribute' ? callee.childForFieldName('attribute') : null;
    const args = node.childForFieldName('arguments');
    const input = firstPositional(args);
    return {
      ...checkedRange(node),
      callee: this.range(callee),
      ...(object ? { calleeObject: this.range(object) } : {}),
      ...(attribute ? { calleeAttribute: this.range(attribute) } : {}),
      ...(args ? { arguments: this.range(args) } : {}),
      ...(input ? { firstPositional: this.range(input) } : {}),
    };
  }
}
