/**
 * [issue 12] What the Python fixers need to know about a model's source besides its layer spans,
 * gathered while the file is read (the loader has the syntax tree then; parse/sourceFacts.ts) and
 * carried in `ModelSpec.sourceFacts`. The fixers compute their edits from these facts and the
 * text alone, so they never parse: a ModelSpec that crossed the worker boundary as JSON still
 * yields the same edits. Plain data only (offsets, strings, booleans; `null` for a missing entry
 * of a list, as JSON writes it). Places are offset ranges, not SourceSpans: they are spliced,
 * never shown, and a large class would otherwise carry every line and column twice.
 *
 * Every range that an edit depends on comes with the digest of the text it covered, so a fixer
 * given a text that changed since the read refuses instead of splicing at stale offsets.
 */
import type { ImportTable } from './python/imports';

/** A range of the text: 0-based offsets in UTF-16 code units, `end` exclusive (as in SourcePosition.offset). */
export interface TextRange {
  readonly start: number;
  readonly end: number;
}

/** A range and the digest (`textDigest`) of the text it covered when the file was read. */
export interface CheckedRange extends TextRange {
  readonly digest: number;
}

/** A local name an import binds and the dotted path it stands for (`F` → torch.nn.functional). */
export interface ImportBinding {
  readonly local: string;
  readonly path: readonly string[];
}

/** A `from a.b import …` statement (dotted module names only; relative imports are not listed). */
export interface FromImport extends CheckedRange {
  readonly module: readonly string[];
}

/** The file's imports, as the fixers write names and add import lines. */
export interface PythonImportFacts {
  /**
   * Every import binding, nested ones too, in the order of a Map filled statement by statement
   * (a name bound twice keeps its first place and its last path), as python/imports.ts collects them.
   */
  readonly bindings: readonly ImportBinding[];
  /** Every `from … import …` statement with a dotted module, in document order. */
  readonly fromImports: readonly FromImport[];
  /** The last import statement at module level: a new import line goes after it. */
  readonly lastTopLevelImport?: CheckedRange;
}

/** A call expression (its range and digest), with the ranges of its parts that edits splice or copy. */
export interface CallFacts extends CheckedRange {
  /** The function part: `nn.ReLU`, `torch.sigmoid`, `x.sigmoid`, `F.relu`. */
  readonly callee: TextRange;
  /** `x` in `x.sigmoid()`, `nn` in `nn.ReLU()`: present when the callee is an attribute. */
  readonly calleeObject?: TextRange;
  /** `sigmoid` in `x.sigmoid()`: present when the callee is an attribute. */
  readonly calleeAttribute?: TextRange;
  /** The argument list with its parentheses. */
  readonly arguments?: TextRange;
  /** The first argument that is neither a keyword argument nor a comment: the tensor input of a functional call. */
  readonly firstPositional?: TextRange;
}

/** Where a PyTorch layer's span sits in the syntax: what activation and BatchNorm edits start from. */
export interface TorchLayerFacts {
  /**
   * 'call': the layer's span is a whole call (a module constructor `nn.ReLU()`, a tensor method
   * `x.sigmoid()`); 'callee': it is the function part of a call (functional `torch.sigmoid(x)`).
   */
  readonly site: 'call' | 'callee';
  readonly call: CallFacts;
  /** The callee of the call whose argument list holds this call (`nn.Sequential` for an item), '' when that is no call. */
  readonly argumentOf?: string;
  /** `self.act` for `self.act = nn.ReLU()`: the target the call is assigned to, whitespace removed. */
  readonly assignedTo?: string;
  /** The calls of `assignedTo` in the class's forward, in document order. */
  readonly forwardUses?: readonly CallFacts[];
}

/** A statement of a block, as initialiser and BatchNorm edits choose where to insert. */
export interface TorchStatementFacts extends CheckedRange {
  /** The left side of an assignment statement, spaces removed (`self.fc1`). */
  readonly assigns?: string;
  /** May initialise weights: an nn.init call, `.apply(...)`, `.normal_()`-style calls, a `.modules()` loop. */
  readonly initialises: boolean;
}

/** A method of a model class: its first parameter (`self`) and its body's statements (comments left out). */
export interface TorchMethodFacts {
  readonly self: string;
  readonly statements: readonly TorchStatementFacts[];
}

/** The model's definition: a class, or an expression (`nn.Sequential(...)`) possibly bound to a name. */
export type TorchDefinitionFacts =
  | {
      readonly kind: 'class';
      /** The whole class: `init` and `memberNames` hold while its text does. */
      readonly source: CheckedRange;
      readonly init?: TorchMethodFacts;
      /** The first parameter of forward, when the class has one. */
      readonly forwardSelf?: string;
      /** Every name written after a dot in the class (`fc1`, `bn1`, `relu`), so a new attribute never clashes. */
      readonly memberNames: readonly string[];
    }
  | {
      readonly kind: 'expression';
      readonly source: CheckedRange;
      /**
       * `name = nn.Sequential(...)` as a statement of its own: the name, and the statements
       * where its initialisation may go: that statement first, then the later ones of its block
       * that mention the name and may initialise weights (an init after those would be overridden).
       */
      readonly binding?: { readonly name: string; readonly statements: readonly TorchStatementFacts[] };
    };

/** What the PyTorch fixers read about one model. */
export interface TorchModelFacts {
  /** Absent when the model's span is no node of the file (the model came from another module). */
  readonly definition?: TorchDefinitionFacts;
  /**
   * By layer index: the call each activation layer is. Null for the other layers (a Linear/Conv
   * is reached by its module path, not edited where it is written) and where the span is no call.
   */
  readonly layers: readonly (TorchLayerFacts | null)[];
}

/** `ModelSpec.sourceFacts`: the facts of a Python model's source. */
export interface SourceFacts {
  readonly imports: PythonImportFacts;
  /** PyTorch models only. */
  readonly torch?: TorchModelFacts;
}

/** FNV-1a (32 bits) of the UTF-16 code units of `text`: cheap, deterministic, enough to notice an edit. */
export function textDigest(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** True while `text` still holds, in the checked range, what it held when the facts were gathered. */
export function stillHolds(text: string, checked: CheckedRange): boolean {
  return checked.end <= text.length && textDigest(text.slice(checked.start, checked.end)) === checked.digest;
}

/** The bindings as the table names are resolved with (a Map in the order the facts keep). */
export function importTableOf(facts: PythonImportFacts): ImportTable {
  return new Map(facts.bindings.map((b) => [b.local, b.path]));
}
