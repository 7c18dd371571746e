/**
 * Keras 1 / early Keras 2 spellings read as their current equivalents (issue 12):
 * `Dense(output_dim=1)`, `Convolution2D(32, 3, 3, border_mode='same', subsample=(2, 2))`,
 * `nb_filter=`, `init=`, `MaxPooling1D(pool_length=2)`, `Dropout(p=0.5)`. Each one read gets a
 * note at the argument, saying what it was read as, so the user sees the translation.
 */
import type { Node } from 'web-tree-sitter';
import { shorten } from './pythonValues';
import { UnsoundModel, type Arguments } from './pythonTypes';
import { KERAS1_CONVOLUTION_CLASSES, KERAS1_KEYWORDS, type LayerClassKey } from './vocabulary';

/**
 * Where a translation is reported: `note` at the argument; `show` writes an argument's value as
 * the note quotes it (`10` for `nb_classes` when it is known, else its text).
 */
export interface LegacyNote {
  note(node: Node, message: string): void;
  show(node: Node): string;
}

/** Keras 1 keywords that only the legacy signature of a 2D convolution uses. */
const KERAS1_MARKERS = ['nb_filter', 'nb_row', 'nb_col', 'border_mode', 'subsample', 'init', 'dim_ordering', 'W_regularizer', 'b_regularizer'];

/**
 * The arguments with Keras 1 keywords renamed to the current ones (and Keras 1's positional
 * `Convolution2D(nb_filter, nb_row, nb_col)` turned into `filters, kernel_size=(nb_row, nb_col)`),
 * before positional binding. Unchanged when the call uses none.
 */
export function readKeras1Spellings(className: string, key: LayerClassKey, args: Arguments, legacy: LegacyNote | undefined): Arguments {
  const renames = KERAS1_KEYWORDS[key];
  const show = (node: Node): string => legacy?.show(node) ?? shorten(node.text);
  const keyword = new Map(args.keyword);
  let positional = args.positional;
  const composed = new Map(args.composed ?? []);
  if (renames) {
    for (const [old, current] of Object.entries(renames)) {
      const given = keyword.get(old);
      if (!given) continue;
      if (keyword.has(current)) {
        throw new UnsoundModel('parse-error', `\`${className}\` gets both \`${old}\` (the Keras 1 name of \`${current}\`) and \`${current}\`.`, given.argument);
      }
      keyword.delete(old);
      keyword.set(current, given);
      legacy?.note(given.argument, `\`${old}\` is the Keras 1 name of \`${current}\`; read as ${current}=${show(given.value)}.`);
    }
  }
  if (key === 'conv2d') {
    const row = keyword.get('nb_row');
    const col = keyword.get('nb_col');
    if (row || col) {
      if (!row || !col) throw new UnsoundModel('parse-error', `\`${className}\` gets ${row ? '`nb_row`' : '`nb_col`'} without ${row ? '`nb_col`' : '`nb_row`'} (Keras 1's kernel height and width).`, (row ?? col)!.argument);
      if (keyword.has('kernel_size')) throw new UnsoundModel('parse-error', `\`${className}\` gets both \`nb_row\`/\`nb_col\` (Keras 1's kernel size) and \`kernel_size\`.`, row.argument);
      keyword.delete('nb_row');
      keyword.delete('nb_col');
      composed.set('kernel_size', [row.value, col.value]);
      legacy?.note(row.argument, `\`nb_row\`, \`nb_col\` are the Keras 1 names of \`kernel_size\`; read as kernel_size=(${show(row.value)}, ${show(col.value)}).`);
    }
    // Keras 1's `Convolution2D(32, 3, 3)` is (nb_filter, nb_row, nb_col). In Keras 2.3+ and Keras 3
    // the third positional argument of `Conv2D` is `strides`, so a modern `Conv2D(64, 3, 2)` stays
    // modern: the Keras 1 reading is taken for the Keras 1 class name, or when the call also uses a
    // Keras 1 keyword.
    const legacyCall = KERAS1_CONVOLUTION_CLASSES.has(className) || KERAS1_MARKERS.some((name) => args.keyword.has(name));
    if (legacyCall && positional.length >= 3 && !composed.has('kernel_size') && !keyword.has('kernel_size') && positional.slice(1, 3).every(isIntegerLike)) {
      if (positional.length > 3) {
        throw new UnsoundModel('parse-error', `\`${className}(${shorten(positional.map((p) => p.text).join(', '))})\` uses Keras 1's positional order; pass the arguments after \`nb_col\` by keyword.`, positional[3]);
      }
      composed.set('kernel_size', [positional[1], positional[2]]);
      legacy?.note(positional[1], `\`${className}(${positional.map((p) => shorten(p.text)).join(', ')})\` is Keras 1's (nb_filter, nb_row, nb_col); read as filters=${show(positional[0])}, kernel_size=(${show(positional[1])}, ${show(positional[2])}).`);
      positional = positional.slice(0, 1);
    }
  }
  if (keyword.size === args.keyword.size && positional === args.positional && composed.size === (args.composed?.size ?? 0) && [...keyword.keys()].every((k) => args.keyword.has(k))) return args;
  return { positional, keyword, splats: args.splats, composed };
}

/** Not a tuple or list literal: one kernel dimension (`3`, `nb_conv`, `kernel_size[0]`), as Keras 1 wrote them. */
function isIntegerLike(node: Node): boolean {
  return node.type !== 'tuple' && node.type !== 'list' && node.type !== 'parenthesized_expression' && node.type !== 'string';
}
