/**
 * The shared static Python evaluator (src/core/python): Python semantics of constants, statements,
 * functions, classes and imported workspace modules, and the one step budget, without any
 * framework host. Each case evaluates `RESULT` after running a module.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getParser } from '../../src/core/parse/treeSitter';
import { PythonInterpreter } from '../../src/core/python/interpreter';
import { Budget, PythonBudgetExceeded, pythonStr, type Value } from '../../src/core/python/values';
import type { PythonHost } from '../../src/core/python/host';
import type { LoadContext } from '../../src/core/model';

async function run<H = never>(source: string, options: { context?: LoadContext; budget?: Budget; host?: PythonHost<H> } = {}): Promise<{ value: Value<H>; steps: number }> {
  const parser = await getParser('python');
  const tree = parser.parse(source);
  assert.ok(tree);
  const interpreter = new PythonInterpreter<H>(tree.rootNode, { parser, ...options });
  try {
    interpreter.runModule();
    const value = interpreter.moduleEnv.lookup('RESULT');
    assert.ok(value, 'RESULT is bound');
    return { value, steps: interpreter.budget.steps };
  } finally {
    interpreter.dispose();
  }
}

/** The value as Python would print it, or `unknown: <reason>`. */
async function result(source: string, context?: LoadContext): Promise<string> {
  const { value } = await run(source, { context });
  if (value.kind === 'unknown') return `unknown: ${value.reason}`;
  return pythonStr(value);
}

const table: [string, string, string][] = [
  ['floor division and modulo follow the divisor sign', 'RESULT = (-7 // 2, -7 % 3, 7 % -3, 2 ** 10)', '(-4, 2, -2, 1024)'],
  ['true division is a float', 'RESULT = 6 / 3', '2.0'],
  ['bools are ints', 'RESULT = 30 + True', '31'],
  ['chained comparison true', 'N = 10\ni = 3\nRESULT = 0 < i < N', 'True'],
  ['chained comparison false on its second link', 'RESULT = 0 < 12 < 10', 'False'],
  ['and/or return an operand', "RESULT = (0 or 'x', 3 and 4, None or 0)", "('x', 4, 0)"],
  ['not', 'RESULT = not []', 'True'],
  ['conditional expression', "MODE = 'tanh'\nRESULT = 64 if MODE in ('relu', 'tanh') else 8", '64'],
  ['not in a dict tests its keys', "OPTS = {'a': 1}\nRESULT = 'b' not in OPTS", 'True'],
  ['f-string with a format spec', "lr = 0.001\nn = 7\nRESULT = f'run_{n:03d}_{lr:.1e}_{n}'", 'run_007_1.0e-03_7'],
  ['str.format and %', "RESULT = '{}-{:d}'.format('a', 5) + ' %d%%' % 50", 'a-5 50%'],
  ['list, tuple, set, dict literals', "RESULT = (len([1, *[2, 3]]), len({4, 4, 8}), {'a': 1, **{'b': 2}}['b'])", '(3, 2, 2)'],
  ['comprehension with a condition', 'RESULT = [k for k in range(100) if k % 7 == 0][5]', '35'],
  ['comprehension with two for clauses', 'RESULT = len([(a, b) for a in range(4) for b in range(a)])', '6'],
  ['dict comprehension', 'SQUARES = {k: k * k for k in range(10)}\nRESULT = SQUARES[7]', '49'],
  ['generator over zip, summed', 'RESULT = sum(a * b for a, b in zip([1, 2, 3], [4, 5, 6]))', '32'],
  ['slices with negative steps and indices', 'S = [8, 16, 32, 64, 128]\nRESULT = (S[::-1][1], S[-2], S[1:4:2], S[:-3])', '(64, 64, [16, 64], [8, 16])'],
  ['builtins', "RESULT = (max(16, min(100, 72)), abs(-8), int('64'), float(2), len('abc'), round(2.5), round(3.5), round(0.125, 2))", '(72, 8, 64, 2.0, 3, 2, 4, 0.12)'],
  ['enumerate, list, tuple, dict', "RESULT = (list(enumerate('ab')), tuple(range(3)), dict([('k', 1)], j=2))", "([(0, 'a'), (1, 'b')], (0, 1, 2), {'k': 1, 'j': 2})"],
  ['tuple unpacking binds each name', 'img_rows, img_cols = 28, 28\nRESULT = img_rows * img_cols', '784'],
  ['starred unpacking', 'first, *rest = [1, 2, 3, 4]\nRESULT = (first, rest[-1], len(rest))', '(1, 4, 3)'],
  ['augmented assignment; a list += extends in place', 'a = [1]\nb = a\nb += [2]\nx = 5\nx //= 2\nRESULT = (a, x)', '([1, 2], 2)'],
  ['if / elif / else on known conditions', "BACKEND = 'tf'\nif BACKEND == 'th':\n    C = 1\nelif BACKEND == 'tf':\n    C = 2\nelse:\n    C = 3\nRESULT = C", '2'],
  ['an unknown condition makes the names it sets unknown', 'import sys\nC = 1\nif sys.argv[1]:\n    C = 2\nRESULT = C', 'unknown'],
  ['for with break and else', 'W = 1\nfor i in range(20):\n    W = W * 2\n    if W >= 1024:\n        break\nelse:\n    W = 0\nRESULT = W', '1024'],
  ['while with a constant bound', 'WIDTH = 3\nwhile WIDTH < 50:\n    WIDTH = WIDTH * 2\nRESULT = WIDTH', '96'],
  ['function with defaults and keywords', 'def hidden(n, extra=0, factor=1):\n    return (n + extra) * factor\nRESULT = (hidden(12), hidden(10, extra=3, factor=2))', '(12, 26)'],
  ['function with *args and **kwargs', 'def total(*parts, **kw):\n    result = 0\n    for p in parts:\n        result += p\n    return result + kw["bonus"]\nRESULT = total(8, 16, 24, bonus=1)', '49'],
  ['lambda and closure', 'double = lambda x: x * 2\ndef scaled(k):\n    def f(x):\n        return k * x\n    return f\nRESULT = (double(21), scaled(4)(11))', '(42, 44)'],
  ['late binding of a module constant', 'def hidden():\n    return SIZE * 2\nSIZE = 16\nRESULT = hidden()', '32'],
  ['class attribute and inheritance', 'class Base:\n    HIDDEN = 32\nclass Config(Base):\n    DROP = 0.5\nRESULT = (Config.HIDDEN, Config.DROP)', '(32, 0.5)'],
  ['dataclass-style config with an override', 'from dataclasses import dataclass\n@dataclass\nclass Cfg:\n    hidden: int = 64\n    layers: int = 2\ncfg = Cfg(layers=3)\nRESULT = (cfg.hidden, cfg.layers)', '(64, 3)'],
  ['a class with __init__ binds constructor arguments', 'class HP:\n    def __init__(self, hidden_dim=128, output_dim=10):\n        self.hidden = hidden_dim * 2\n        self.out = output_dim\n    def total(self):\n        return self.hidden + self.out\nhp = HP(hidden_dim=256, output_dim=16)\nRESULT = (hp.hidden, hp.total())', '(512, 528)'],
  ['dict methods and item assignment', "cfg = {'units': 8}\ncfg['units'] = 16\ncfg.update(act='relu')\nRESULT = (cfg.get('units'), cfg.get('missing', 3), list(cfg.keys()))", "(16, 3, ['units', 'act'])"],
];

for (const [name, source, expected] of table) {
  test(`Python evaluator: ${name}`, async () => {
    const got = await result(source);
    if (expected === 'unknown') assert.match(got, /^unknown: /);
    else assert.equal(got, expected);
  });
}

test('Python evaluator: dict() keywords and pairs', async () => {
  assert.equal(await result("RESULT = dict([('k', 1)], j=2)"), "{'k': 1, 'j': 2}");
});

test('Python evaluator: with/try run their bodies; a name set only in an except handler is unknown', async () => {
  assert.equal(await result("with open('f') as fh:\n    A = 3\ntry:\n    B = 4\nfinally:\n    C = 6\nRESULT = (A, B, C)"), '(3, 4, 6)');
  const handler = await result('try:\n    B = 4\nexcept ValueError:\n    B = 5\nRESULT = B');
  assert.match(handler, /^unknown: .*`except` handler at 3:1/);
});

test('Python evaluator: an unknown condition says where the name was set and why', async () => {
  const got = await result('import sys\nC = 1\nif sys.argv[1]:\n    C = 2\nRESULT = C');
  assert.match(got, /`C` is only known at run time: it is set under `if sys.argv\[1\]` \(3:4\)/);
});

test('Python evaluator: a parameter with no argument and no default is unknown and named', async () => {
  const got = await result('def f(units):\n    return units\nRESULT = f()');
  assert.match(got, /the parameter `units` of `f` is not given at `f\(\)` \(3:10\)/);
});

test('Python evaluator: the budget is a step count and names the construct and its position', async () => {
  const source = 'total = 0\nfor i in range(5000):\n    for j in range(5000):\n        total += j\nRESULT = total';
  const first = await run(source, { budget: new Budget(20_000) }).then(
    () => assert.fail('the budget must run out'),
    (error: unknown) => error,
  );
  assert.ok(first instanceof PythonBudgetExceeded);
  assert.match(first.message, /more than 20,000 evaluation steps/);
  assert.match(first.message, /\(\d+:\d+\)/);
  // Deterministic: the same node every run.
  const second = await run(source, { budget: new Budget(20_000) }).catch((error: unknown) => error);
  assert.ok(second instanceof PythonBudgetExceeded);
  assert.equal(second.node.startIndex, first.node.startIndex);
  assert.equal(second.message, first.message);
});

test('Python evaluator: deep recursion hits the nesting limit, not the stack', async () => {
  const error = await run('def f(n):\n    return f(n + 1)\nRESULT = f(0)').catch((e: unknown) => e);
  assert.ok(error instanceof PythonBudgetExceeded);
  assert.match(error.message, /levels deep/);
});

test('Python evaluator: constants imported from workspace modules, both spellings, read statically', async () => {
  const modules: Record<string, string> = {
    config: 'HIDDEN = 64\nLAYERS = [HIDDEN, HIDDEN // 2]\ndef width(k):\n    return HIDDEN * k\n',
    'pkg.settings': 'from config import HIDDEN\nOUT = HIDDEN + 1\n',
  };
  const read: string[] = [];
  const context: LoadContext = {
    readPythonModule: (name) => {
      read.push(name);
      return modules[name];
    },
  };
  assert.equal(await result('from config import HIDDEN, LAYERS\nRESULT = (HIDDEN, LAYERS[1])', context), '(64, 32)');
  assert.equal(await result('import config\nRESULT = config.width(3)', context), '192');
  assert.equal(await result('from pkg.settings import OUT\nimport pkg.settings as s\nRESULT = (OUT, s.OUT)', context), '(65, 65)');
  assert.equal(read.filter((n) => n === 'pkg.settings').length, 1, 'each module is read once per file');
  // No such module: the name stays a reference (not a number), never a crash.
  assert.match(await result('from missing import X\nRESULT = X + 1', context), /^unknown: /);
});

test('Python evaluator: circular workspace imports terminate', async () => {
  const modules: Record<string, string> = {
    a: 'from b import B\nA = 1\nA2 = B\n',
    b: 'from a import A\nB = 2\nB2 = A\n',
  };
  const context: LoadContext = { readPythonModule: (name) => modules[name] };
  assert.equal(await result('from a import A, A2\nfrom b import B\nRESULT = (A, A2, B)', context), '(1, 2, 2)');
});

test('Python evaluator: a host resolves framework calls; an inert training loop is not stepped through', async () => {
  type Layer = { readonly layer: string; readonly units: number };
  const host: PythonHost<Layer> = {
    call: (call) => {
      if (call.path?.join('.') !== 'fw.Dense') return undefined;
      const units = call.args().positional[0];
      return units?.kind === 'number' ? { kind: 'host', host: { layer: 'Dense', units: units.value } } : undefined;
    },
    mayChangeModel: (node) => node.text.includes('Dense('),
  };
  const source = 'import fw\nunits = 0\nfor i in range(3):\n    units += 16\nRESULT = fw.Dense(units)\nfor epoch in range(200):\n    for step in range(1000):\n        loss = epoch * step\n';
  const { value, steps } = await run<Layer>(source, { host });
  assert.deepEqual(value, { kind: 'host', host: { layer: 'Dense', units: 48 } });
  assert.ok(steps < 200, `the training loop was stepped through (${steps} steps)`);
});
