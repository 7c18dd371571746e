/**
 * Fuzzing the Python loaders through loadModelFile: seeded mutations of the Keras and PyTorch
 * fixtures (truncation, token deletion, random bytes, huge numbers, deep nesting, shuffled
 * lines). Every input must come back as a LoadResult (never a throw) whose problems and spans
 * have valid positions, each within the time budget. The budget (1 s of wall time per input)
 * guards against runaway parsing — a deeply nested input once took 27–87 s — and is not a speed
 * claim: typical maxima are 10–30 ms and are printed, and wall time on a shared 2-core CI machine
 * includes GC pauses and other processes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LoadResult, SourceSpan } from '../../src/core/model';
import { loadModelFile } from '../../src/core/parse/index';
import { loadTorchPython } from '../../src/core/parse/torchPython';
import { mulberry32 as prng } from '../helpers/seededRandom';

const SEED = 20240611;
const COUNT = 2400;
const BUDGET_MS = 1000;


function fixtures(): { name: string; text: string }[] {
  const roots = ['keras', 'torch'].map((d) => path.join(__dirname, '..', 'fixtures', d));
  const files: { name: string; text: string }[] = [];
  for (const root of roots) {
    for (const dir of [root, path.join(root, 'broken')]) {
      if (!fs.existsSync(dir)) continue;
      for (const f of fs.readdirSync(dir)) if (f.endsWith('.py')) files.push({ name: f, text: fs.readFileSync(path.join(dir, f), 'utf8') });
    }
  }
  return files;
}

/** Token boundaries by character class (no regular expressions): identifiers/numbers, spaces, punctuation. */
function tokens(text: string): [number, number][] {
  const kind = (c: string) => ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_' || c === '.' ? 1 : c === ' ' || c === '\n' || c === '\t' ? 2 : 3);
  const result: [number, number][] = [];
  let start = 0;
  for (let i = 1; i <= text.length; i++) {
    if (i === text.length || kind(text[i]) !== kind(text[start]) || kind(text[start]) === 3) {
      result.push([start, i]);
      start = i;
    }
  }
  return result;
}

function numbers(text: string): [number, number][] {
  return tokens(text).filter(([s, e]) => {
    const t = text.slice(s, e);
    return t.length > 0 && t.length < 8 && [...t].every((c) => c >= '0' && c <= '9');
  });
}

const HUGE = ['1e308', '10**400', '9'.repeat(400), '2**1000', '-1', '0', '1e-308', '1_000_000_000', '0x7fffffff', '-(10**30)', 'float("inf")', '3.5'];
const JUNK = ['\u0000', '\uFFFF', '\uD800', '(', ')', '[', ']', ':', '"', "'", '"""', '\\', '\t', '\r\n', '#', '@', 'λ', '🙂', ',', '=', '*', '**', 'lambda', 'def ', 'class '];

function mutate(text: string, rand: () => number): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const at = () => Math.floor(rand() * (text.length + 1));
  switch (Math.floor(rand() * 8)) {
    case 0:
      return text.slice(0, at());
    case 1: {
      const all = tokens(text);
      if (all.length === 0) return text;
      let result = text;
      for (let n = 1 + Math.floor(rand() * 3); n > 0; n--) {
        const left = tokens(result);
        if (left.length === 0) break;
        const [s, e] = pick(left);
        result = result.slice(0, s) + result.slice(e);
      }
      return result;
    }
    case 2: {
      let result = text;
      for (let n = 1 + Math.floor(rand() * 5); n > 0; n--) {
        const i = Math.floor(rand() * (result.length + 1));
        const junk = rand() < 0.5 ? pick(JUNK) : String.fromCharCode(Math.floor(rand() * 0x3000));
        result = result.slice(0, i) + junk + result.slice(i);
      }
      return result;
    }
    case 3: {
      const nums = numbers(text);
      if (nums.length === 0) return text + '\nx = 10**400\n';
      let result = text;
      for (const [s, e] of nums.filter(() => rand() < 0.5).reverse()) result = result.slice(0, s) + pick(HUGE) + result.slice(e);
      return result;
    }
    case 4: {
      const nums = numbers(text);
      const depth = 50 + Math.floor(rand() * 950);
      const [open, close] = pick([['(', ')'], ['[', ']'], ['-', ''], ['nn.Sequential(', ')'], ['f(', ')']] as const);
      if (nums.length === 0) return `${text}\nx = ${open.repeat(depth)}1${close.repeat(depth)}\n`;
      const [s, e] = pick(nums);
      return text.slice(0, s) + open.repeat(depth) + text.slice(s, e) + close.repeat(depth) + text.slice(e);
    }
    case 5: {
      const lines = text.split('\n');
      for (let n = 0; n < 3; n++) {
        const i = Math.floor(rand() * lines.length);
        const j = Math.floor(rand() * lines.length);
        [lines[i], lines[j]] = [lines[j], lines[i]];
      }
      return lines.join('\n');
    }
    case 6: {
      // Duplicate a region many times (long files, repeated layers).
      const s = at();
      const e = Math.min(text.length, s + Math.floor(rand() * 200));
      return text.slice(0, e) + text.slice(s, e).repeat(1 + Math.floor(rand() * 50)) + text.slice(e);
    }
    default: {
      // Indentation damage.
      const lines = text.split('\n');
      const i = Math.floor(rand() * lines.length);
      lines[i] = rand() < 0.5 ? `   ${lines[i]}` : lines[i].trimStart();
      return lines.join('\n');
    }
  }
}

function checkSpan(span: SourceSpan, text: string, where: string): void {
  for (const p of [span.start, span.end]) {
    assert.ok(Number.isInteger(p.line) && p.line >= 1, `${where}: line ${p.line}`);
    assert.ok(Number.isInteger(p.column) && p.column >= 1, `${where}: column ${p.column}`);
    assert.ok(Number.isInteger(p.offset) && p.offset >= 0 && p.offset <= text.length, `${where}: offset ${p.offset}`);
  }
  assert.ok(span.end.offset >= span.start.offset, `${where}: reversed span`);
}

function checkResult(result: LoadResult, text: string, where: string): void {
  assert.ok(result && Array.isArray(result.models) && Array.isArray(result.problems), `${where}: not a LoadResult`);
  for (const problem of result.problems) {
    assert.ok(['parse-error', 'unsupported-layer', 'unknown-input-shape'].includes(problem.code), `${where}: code ${problem.code}`);
    assert.equal(typeof problem.message, 'string');
    checkSpan(problem.span, text, `${where} problem`);
  }
  for (const model of result.models) {
    checkSpan(model.span, text, `${where} model`);
    for (const problem of model.problems) checkSpan(problem.span, text, `${where} model problem`);
    assert.ok(model.inputShape.every((d: number) => Number.isInteger(d) && d > 0), `${where}: input shape ${model.inputShape.join(',')}`);
    for (const layer of model.layers) {
      checkSpan(layer.source.span, text, `${where} layer ${layer.name}`);
      for (const v of [layer.units, layer.filters, ...(layer.kernelSize ?? []), ...(layer.strides ?? [])]) {
        if (v !== undefined) assert.ok(Number.isFinite(v) && v > 0, `${where}: layer ${layer.name} has ${v}`);
      }
    }
  }
}

interface FuzzReport {
  readonly count: number;
  readonly withModels: number;
  readonly mean: number;
  readonly p99: number;
  readonly max: number;
  readonly slowest: string;
}

async function fuzz(sources: readonly { name: string; text: string }[], count: number, seed: number, load: (text: string, name: string) => Promise<LoadResult>): Promise<FuzzReport> {
  const rand = prng(seed);
  // Warm up: parser start-up is not part of a file's cost.
  await load(sources[0].text, 'warmup.py');
  const times: number[] = [];
  let slowest = { ms: 0, name: '' };
  let withModels = 0;
  for (let i = 0; i < count; i++) {
    const source = sources[Math.floor(rand() * sources.length)];
    let text = mutate(source.text, rand);
    if (rand() < 0.3) text = mutate(text, rand);
    const where = `#${i} from ${source.name}`;
    const t0 = performance.now();
    let result: LoadResult;
    try {
      result = await load(text, source.name);
    } catch (error) {
      assert.fail(`${where} threw: ${(error as Error).stack}`);
    }
    const ms = performance.now() - t0;
    times.push(ms);
    if (ms > slowest.ms) slowest = { ms, name: where };
    checkResult(result, text, where);
    if (result.models.length > 0) withModels++;
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  return { count, withModels, mean, p99: times[Math.floor(times.length * 0.99)], max: slowest.ms, slowest: slowest.name };
}

function describe(label: string, r: FuzzReport): string {
  return `${label}: ${r.count} inputs, ${r.withModels} still with models; mean ${r.mean.toFixed(2)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms (${r.slowest})`;
}

const ALL = fixtures();
const TORCH = ALL.filter((f) => f.text.includes('torch'));

test(`${COUNT} seeded mutations of the PyTorch and Keras fixtures through the PyTorch loader: never throw, valid positions, each < ${BUDGET_MS} ms`, async () => {
  assert.ok(ALL.length >= 40 && TORCH.length >= 20, `only ${ALL.length} fixtures (${TORCH.length} PyTorch)`);
  // Two thirds from the PyTorch fixtures, a third from the Keras ones (arbitrary Python for this loader).
  const torchReport = await fuzz(TORCH, Math.round((COUNT * 2) / 3), SEED, loadTorchPython);
  const kerasReport = await fuzz(ALL.filter((f) => !TORCH.includes(f)), Math.round(COUNT / 3), SEED + 1, loadTorchPython);
  console.log(describe('fuzz torch loader (PyTorch fixtures)', torchReport));
  console.log(describe('fuzz torch loader (Keras fixtures)', kerasReport));
  assert.ok(torchReport.max < BUDGET_MS && kerasReport.max < BUDGET_MS, `slowest input: ${describe('torch', torchReport)}; ${describe('keras', kerasReport)}`);
});

test(
  `${COUNT} seeded mutations of all Python fixtures through loadModelFile (dispatch + every Python loader), each < ${BUDGET_MS} ms`,
  {
    // The Keras loader once took 27–87 s on deeply nested inputs (parent lookups in web-tree-sitter
    // cost O(depth)); it now refuses syntax trees deeper than 120 levels.
  },
  async () => {
    const report = await fuzz(ALL, COUNT, SEED + 2, (text, name) => loadModelFile(text, name));
    console.log(describe('fuzz loadModelFile', report));
    assert.ok(report.max < BUDGET_MS, describe('slowest', report));
  },
);
