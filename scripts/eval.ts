/**
 * `npm run eval`: the labelled benchmark of test/eval/. Runs the built CLI
 * (`node bin/activation-lens.js diagnose FILE --json`, product defaults, verification on) on every
 * file of test/eval/labels.json (two at a time at most) and scores its findings against the labels:
 * per finding code TP / FP / FN, precision, recall; overall; healthy files with any warning or
 * error; and how often the first suggestion of a labelled finding is of the expected kind.
 *
 *   node --import tsx scripts/eval.ts [--filter SUBSTRING] [--json] [--jobs 1|2] [--verbose]
 *
 * Builds nothing (the npm script builds first). Exit status: 0 when the benchmark ran, whatever
 * the scores; 2 for bad arguments, a missing CLI build or an invalid manifest; 1 when no file
 * could be run at all. A file the CLI refuses (no JSON, a parse error, a model error) counts as
 * FN for each of its labels and is listed.
 *
 * Scoring: only findings of the counted severities (warning, error) take part. A label is one
 * expected finding: one of its codes at one of its layers. It is a TP when at least one reported
 * finding matches it (further reported findings matching the same label are absorbed), else an FN
 * (credited to its first code). A reported finding that matches no label and no `tolerate` entry
 * is an FP. Findings of codes the benchmark does not score (unsupported-layer, parse-error) are
 * listed but not counted.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'bin', 'activation-lens.js');
const EVAL_DIR = path.join(ROOT, 'test', 'eval');
const CORPUS = path.join(EVAL_DIR, 'corpus');
const LABELS = path.join(EVAL_DIR, 'labels.json');
const FILE_TIMEOUT_MS = 15 * 60_000;

const SCORED_CODES = [
  'vanishing-gradient', 'exploding-gradient', 'saturated-activation', 'dead-relu',
  'not-zero-centred', 'input-not-normalized', 'non-finite', 'head-loss-mismatch',
] as const;
const FIX_KINDS = ['activation', 'initializer', 'bias', 'learning-rate', 'batchnorm', 'head-loss', 'input'] as const;
type FixKind = (typeof FIX_KINDS)[number];

type LayerRef = number | string;
type LayerSel = 'any' | 'head' | LayerRef[];

interface Expectation { codes: string[]; layers: LayerSel; fix?: FixKind; note?: string }
interface Tolerance { codes: string[]; layers: LayerSel }
interface FileLabel {
  framework: string; kind: string; arch?: string;
  expect: Expectation[]; tolerate?: Tolerance[]; severities?: string[]; note?: string;
}
interface Manifest { severities: string[]; files: Record<string, FileLabel> }

interface JsonLayer { index: number; name: string; kind?: string; activation?: string }
interface JsonSuggestion {
  id?: string; label?: string; activation?: string; initializer?: string; biasInitializer?: string;
  learningRateFactor?: number; learningRate?: number; loss?: unknown; dataTransform?: string;
  changes?: { layerIndex?: number; activation?: unknown; batchNormBeforeActivation?: boolean; biasInitializer?: unknown; kernelInitializer?: unknown }[];
  verified?: { improved?: boolean } | null;
}
interface JsonFinding { code: string; severity: string; layerIndex: number | null; message?: string; suggestions?: JsonSuggestion[] }
interface JsonModel { name: string; error?: unknown; layers?: JsonLayer[]; findings?: JsonFinding[] }
interface JsonDoc { models?: JsonModel[]; problems?: { code: string; message: string }[] }

interface Reported { model: string; code: string; severity: string; layerIndex: number | null; layerName?: string; suggestions: JsonSuggestion[]; layers: JsonLayer[] }

interface FileResult {
  file: string; label: FileLabel; ms: number; exitCode: number | null;
  refused?: string;
  tp: { code: string; label: number; fixKind?: string; expectedFix?: FixKind; reported: string }[];
  fn: { code: string; label: number }[];
  fp: { code: string; severity: string; layer: string }[];
  tolerated: string[];
  unscored: string[];
  warningsOrErrors: number;
}

// ---------------------------------------------------------------------------------------------
// Arguments and manifest

interface Options { filter?: string; json: boolean; jobs: number; verbose: boolean }

function usage(message: string): never {
  process.stderr.write(`eval: ${message}\nUsage: node --import tsx scripts/eval.ts [--filter SUBSTRING] [--json] [--jobs 1|2] [--verbose]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = { json: false, jobs: 2, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') o.json = true;
    else if (a === '--verbose') o.verbose = true;
    else if (a === '--filter') { o.filter = argv[++i]; if (o.filter === undefined) usage('--filter needs a value'); }
    else if (a.startsWith('--filter=')) o.filter = a.slice('--filter='.length);
    else if (a === '--jobs') {
      o.jobs = Number(argv[++i]);
      if (!Number.isInteger(o.jobs) || o.jobs < 1 || o.jobs > 2) usage('--jobs must be 1 or 2 (the machine has 2 cores)');
    } else if (a === '-h' || a === '--help') usage('help');
    else usage(`unknown argument ${a}`);
  }
  return o;
}

function validLayers(l: unknown): l is LayerSel {
  return l === 'any' || l === 'head' || (Array.isArray(l) && l.every((x) => typeof x === 'number' || typeof x === 'string'));
}

function loadManifest(): Manifest {
  let doc: Manifest;
  try {
    doc = JSON.parse(fs.readFileSync(LABELS, 'utf8')) as Manifest;
  } catch (e) {
    usage(`cannot read ${path.relative(ROOT, LABELS)}: ${(e as Error).message}`);
  }
  if (!doc.files || typeof doc.files !== 'object') usage('labels.json has no "files"');
  const problems: string[] = [];
  for (const [file, label] of Object.entries(doc.files)) {
    if (!fs.existsSync(path.join(CORPUS, file))) problems.push(`${file}: no such corpus file`);
    if (!Array.isArray(label.expect)) problems.push(`${file}: "expect" must be an array`);
    for (const e of [...(label.expect ?? []), ...(label.tolerate ?? [])]) {
      if (!Array.isArray(e.codes) || e.codes.length === 0) problems.push(`${file}: an entry without codes`);
      else for (const c of e.codes) if (!(SCORED_CODES as readonly string[]).includes(c)) problems.push(`${file}: unknown code ${c}`);
      if (!validLayers(e.layers)) problems.push(`${file}: bad layers ${JSON.stringify(e.layers)}`);
    }
    for (const e of label.expect ?? []) {
      if (e.fix !== undefined && !(FIX_KINDS as readonly string[]).includes(e.fix)) problems.push(`${file}: unknown fix kind ${e.fix}`);
    }
  }
  if (problems.length) usage(`invalid labels.json:\n  ${problems.join('\n  ')}`);
  doc.severities ??= ['warning', 'error'];
  return doc;
}

// ---------------------------------------------------------------------------------------------
// Running the CLI

interface RunOutput { code: number | null; signal: string | null; stdout: string; stderr: string; ms: number }

function runCli(file: string): Promise<RunOutput> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'diagnose', path.join(CORPUS, file), '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), FILE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: Date.now() - started });
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout: '', stderr: String(e), ms: Date.now() - started });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Scoring

function headIndices(layers: readonly JsonLayer[]): Set<number> {
  const out = new Set<number>();
  if (layers.length === 0) return out;
  const last = layers[layers.length - 1];
  out.add(last.index);
  // A separate activation module (nn.Softmax, F.softmax, Activation('softmax')) is the head together with the layer it follows.
  if (last.kind === 'activation' && layers.length > 1) out.add(layers[layers.length - 2].index);
  return out;
}

function matchesLayers(sel: LayerSel, f: Reported): boolean {
  if (sel === 'any') return true;
  if (f.layerIndex === null) return false;
  if (sel === 'head') return headIndices(f.layers).has(f.layerIndex);
  return sel.some((ref) => (typeof ref === 'number' ? ref === f.layerIndex : ref === f.layerName));
}

function matches(entry: { codes: string[]; layers: LayerSel }, f: Reported): boolean {
  return entry.codes.includes(f.code) && matchesLayers(entry.layers, f);
}

/** The kind of a suggestion, from the JSON fields (and its id where older CLIs leave fields out). */
export function fixKind(s: JsonSuggestion | undefined, layerActivation: string | undefined): string {
  if (!s) return 'none';
  const id = s.id ?? '';
  const changes = s.changes ?? [];
  if (s.learningRateFactor !== undefined || s.learningRate !== undefined || /^learning-rate|^lr\b/.test(id)) return 'learning-rate';
  if (s.loss !== undefined || /^(head|loss):/.test(id)) return 'head-loss';
  if (s.dataTransform !== undefined || /-inputs$/.test(id)) return 'input';
  if (changes.some((c) => c.batchNormBeforeActivation) || id === 'batchnorm') return 'batchnorm';
  if (s.activation !== undefined && s.activation !== layerActivation) return 'activation';
  if (s.biasInitializer !== undefined || /^bias/.test(id)) return 'bias';
  if (s.initializer !== undefined || changes.some((c) => c.kernelInitializer !== undefined)) return 'initializer';
  if (s.activation !== undefined) return 'activation';
  return `other(${id})`;
}

const SEVERITY_RANK: Record<string, number> = { info: 0, warning: 1, error: 2 };

function layerLabel(f: { layerIndex: number | null; layerName?: string }): string {
  return f.layerIndex === null ? 'model' : `${f.layerIndex}:${f.layerName ?? '?'}`;
}

function score(file: string, label: FileLabel, run: RunOutput, severities: readonly string[]): FileResult {
  const result: FileResult = { file, label, ms: run.ms, exitCode: run.code, tp: [], fn: [], fp: [], tolerated: [], unscored: [], warningsOrErrors: 0 };
  let doc: JsonDoc | undefined;
  try {
    doc = JSON.parse(run.stdout) as JsonDoc;
  } catch {
    const why = run.signal ? `killed by ${run.signal}` : `exit ${run.code}, no JSON`;
    result.refused = `${why}: ${run.stderr.trim().split('\n').slice(-2).join(' ').slice(0, 300)}`;
  }
  const reported: Reported[] = [];
  if (doc) {
    const models = doc.models ?? [];
    const errors = models.filter((m) => m.error !== undefined).map((m) => `${m.name}: ${typeof m.error === 'string' ? m.error : JSON.stringify(m.error)}`);
    if (models.length === 0) {
      result.refused = (doc.problems ?? []).map((p) => `${p.code}: ${p.message}`).join('; ') || 'no model found';
    } else if (errors.length) {
      result.refused = errors.join('; ').slice(0, 400);
    }
    for (const m of models) {
      const layers = m.layers ?? [];
      for (const f of m.findings ?? []) {
        const layer = f.layerIndex === null ? undefined : layers.find((l) => l.index === f.layerIndex);
        const r: Reported = { model: m.name, code: f.code, severity: f.severity, layerIndex: f.layerIndex, layerName: layer?.name, suggestions: f.suggestions ?? [], layers };
        if (!(SCORED_CODES as readonly string[]).includes(f.code)) {
          result.unscored.push(`${f.code}@${layerLabel(r)}`);
          continue;
        }
        if (!severities.includes(f.severity)) continue;
        reported.push(r);
      }
    }
  }
  result.warningsOrErrors = reported.filter((r) => r.severity === 'warning' || r.severity === 'error').length;

  const used = new Set<Reported>();
  label.expect.forEach((e, i) => {
    const hits = reported.filter((r) => matches(e, r));
    if (result.refused !== undefined || hits.length === 0) {
      result.fn.push({ code: e.codes[0], label: i });
      return;
    }
    hits.forEach((h) => used.add(h));
    // The finding the fix is judged on: the most severe match, first in the report's order among equals.
    const best = [...hits].sort((a, b) => (SEVERITY_RANK[b.severity] ?? 0) - (SEVERITY_RANK[a.severity] ?? 0))[0];
    const layerAct = best.layerIndex === null ? undefined : best.layers.find((l) => l.index === best.layerIndex)?.activation;
    result.tp.push({
      code: best.code, label: i, expectedFix: e.fix,
      fixKind: e.fix ? fixKind(best.suggestions[0], layerAct) : undefined,
      reported: `${best.code}/${best.severity}@${layerLabel(best)}`,
    });
  });
  for (const r of reported) {
    if (used.has(r)) continue;
    if ((label.tolerate ?? []).some((t) => matches(t, r))) { result.tolerated.push(`${r.code}@${layerLabel(r)}`); continue; }
    result.fp.push({ code: r.code, severity: r.severity, layer: layerLabel(r) });
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Reporting

interface CodeScore { code: string; tp: number; fp: number; fn: number; precision: number | null; recall: number | null }

function ratio(a: number, b: number): number | null {
  return b === 0 ? null : a / b;
}

function summarise(results: readonly FileResult[]) {
  const codes = new Map<string, CodeScore>();
  const get = (code: string) => {
    let s = codes.get(code);
    if (!s) { s = { code, tp: 0, fp: 0, fn: 0, precision: null, recall: null }; codes.set(code, s); }
    return s;
  };
  for (const c of SCORED_CODES) get(c);
  for (const r of results) {
    r.tp.forEach((t) => get(t.code).tp++);
    r.fn.forEach((t) => get(t.code).fn++);
    r.fp.forEach((t) => get(t.code).fp++);
  }
  const perCode = [...codes.values()].map((s) => ({ ...s, precision: ratio(s.tp, s.tp + s.fp), recall: ratio(s.tp, s.tp + s.fn) }));
  const tp = perCode.reduce((a, s) => a + s.tp, 0);
  const fp = perCode.reduce((a, s) => a + s.fp, 0);
  const fn = perCode.reduce((a, s) => a + s.fn, 0);
  const healthy = results.filter((r) => r.label.expect.length === 0);
  const healthyFlagged = healthy.filter((r) => r.refused === undefined && r.warningsOrErrors > 0);
  const fixJudged = results.flatMap((r) => r.tp.filter((t) => t.expectedFix !== undefined).map((t) => ({ file: r.file, ...t })));
  const fixLabels = results.reduce((a, r) => a + r.label.expect.filter((e) => e.fix !== undefined).length, 0);
  const fixRight = fixJudged.filter((t) => t.fixKind === t.expectedFix);
  return {
    files: results.length,
    perCode,
    overall: { tp, fp, fn, precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn) },
    healthy: {
      files: healthy.length,
      refused: healthy.filter((r) => r.refused !== undefined).map((r) => r.file),
      withWarningOrError: healthyFlagged.length,
      flagged: healthyFlagged.map((r) => ({ file: r.file, findings: r.fp.map((f) => `${f.code}/${f.severity}@${f.layer}`) })),
    },
    fixKind: {
      labelled: fixLabels,
      judged: fixJudged.length,
      expectedKind: fixRight.length,
      rateOfJudged: ratio(fixRight.length, fixJudged.length),
      rateOfLabelled: ratio(fixRight.length, fixLabels),
      mismatches: fixJudged.filter((t) => t.fixKind !== t.expectedFix).map((t) => ({ file: t.file, finding: t.reported, expected: t.expectedFix, got: t.fixKind })),
    },
    refused: results.filter((r) => r.refused !== undefined).map((r) => ({ file: r.file, reason: r.refused })),
  };
}

function pct(x: number | null): string {
  return x === null ? '   –  ' : `${(100 * x).toFixed(1).padStart(5)}%`;
}

function printText(results: readonly FileResult[], s: ReturnType<typeof summarise>, verbose: boolean, seconds: number): void {
  const w = (line = '') => process.stdout.write(`${line}\n`);
  w();
  w(`Activation Lens benchmark: ${s.files} files, ${seconds.toFixed(0)} s`);
  w();
  w(`${'code'.padEnd(22)} ${'TP'.padStart(4)} ${'FP'.padStart(4)} ${'FN'.padStart(4)}  precision  recall`);
  for (const c of s.perCode) {
    w(`${c.code.padEnd(22)} ${String(c.tp).padStart(4)} ${String(c.fp).padStart(4)} ${String(c.fn).padStart(4)}  ${pct(c.precision).padStart(9)}  ${pct(c.recall)}`);
  }
  const o = s.overall;
  w(`${'overall'.padEnd(22)} ${String(o.tp).padStart(4)} ${String(o.fp).padStart(4)} ${String(o.fn).padStart(4)}  ${pct(o.precision).padStart(9)}  ${pct(o.recall)}`);
  w();
  w(`healthy files with a warning or error: ${s.healthy.withWarningOrError} / ${s.healthy.files - s.healthy.refused.length}` +
    (s.healthy.refused.length ? ` (${s.healthy.refused.length} refused)` : ''));
  for (const h of s.healthy.flagged) w(`  ${h.file}: ${h.findings.join(', ')}`);
  const f = s.fixKind;
  w(`first suggestion of the expected kind: ${f.expectedKind} / ${f.judged} found labelled findings (${pct(f.rateOfJudged).trim()}); ${f.expectedKind} / ${f.labelled} of all labels with a fix (${pct(f.rateOfLabelled).trim()})`);
  for (const m of f.mismatches) w(`  ${m.file}: ${m.finding} expected ${m.expected}, got ${m.got}`);
  if (s.refused.length) {
    w();
    w(`refused by the CLI (their labels count as FN): ${s.refused.length}`);
    for (const r of s.refused) w(`  ${r.file}: ${r.reason}`);
  }
  w();
  w('per file:');
  for (const r of results) {
    const status = r.refused !== undefined ? 'REFUSED' : r.fn.length === 0 && r.fp.length === 0 ? 'ok' : 'MISS';
    const parts = [
      r.tp.length ? `TP ${r.tp.map((t) => t.reported).join(', ')}` : '',
      r.fn.length ? `FN ${r.fn.map((t) => t.code).join(', ')}` : '',
      r.fp.length ? `FP ${r.fp.map((t) => `${t.code}/${t.severity}@${t.layer}`).join(', ')}` : '',
      verbose && r.tolerated.length ? `tolerated ${r.tolerated.join(', ')}` : '',
      verbose && r.unscored.length ? `unscored ${r.unscored.join(', ')}` : '',
    ].filter(Boolean);
    w(`  ${status.padEnd(7)} ${r.file.padEnd(44)} ${(r.ms / 1000).toFixed(1).padStart(6)} s  ${parts.join('; ')}`);
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(path.join(ROOT, 'dist'))) usage('no dist/ build: run `node esbuild.mjs --quiet` first (npm run eval does)');
  const manifest = loadManifest();
  const files = Object.keys(manifest.files).filter((f) => options.filter === undefined || f.includes(options.filter));
  if (files.length === 0) usage(`no corpus file matches --filter ${options.filter}`);

  const started = Date.now();
  const results: FileResult[] = new Array(files.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const file = files[i];
      const label = manifest.files[file];
      const run = await runCli(file);
      results[i] = score(file, label, run, label.severities ?? manifest.severities);
      done++;
      if (!options.json) process.stderr.write(`[${done}/${files.length}] ${file} ${(run.ms / 1000).toFixed(1)} s${results[i].refused ? ' (refused)' : ''}\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.jobs, files.length) }, worker));
  const summary = summarise(results);
  const seconds = (Date.now() - started) / 1000;
  if (options.json) {
    const perFile = results.map((r) => ({
      file: r.file, framework: r.label.framework, kind: r.label.kind, seconds: r.ms / 1000, exitCode: r.exitCode,
      refused: r.refused ?? null, tp: r.tp, fn: r.fn, fp: r.fp, tolerated: r.tolerated, unscored: r.unscored,
    }));
    process.stdout.write(`${JSON.stringify({ seconds, filter: options.filter ?? null, ...summary, perFile }, null, 2)}\n`);
  } else {
    printText(results, summary, options.verbose, seconds);
  }
  // A benchmark, not a test: low scores do not fail it; a run where no file produced a report does.
  const ranAtAll = results.some((r) => r.refused === undefined || r.exitCode === 0 || r.exitCode === 1);
  process.exitCode = ranAtAll ? 0 : 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`eval: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
