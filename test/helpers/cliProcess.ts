/**
 * Runs the built CLI (dist/cli.js through bin/activation-lens.js; `npm run build` first) as a
 * child process and measures it: exit code or signal, stdout, stderr, wall time and peak RSS.
 *
 * Node has no wait4-style rusage for children, so the child is started with a tiny preload
 * (`--require`, written to a temp folder once per test process) that writes
 * `process.resourceUsage()` to an extra pipe (fd 3) on exit; its maxRSS is the peak of the whole
 * process, worker threads included. A child killed by the OS, by V8's out-of-memory abort or by
 * the watchdogs below runs no exit hook: then `usageReported` is false, the exit code is null,
 * and that is a failure in itself. On Linux the child's /proc status (VmHWM, the peak RSS so far)
 * is also polled, so a child that is killed still has a peak, and one that grows past
 * `killAtRssBytes` is killed before it can take the CI machine's memory. A wall-clock watchdog
 * kills one that runs past `timeoutMs`, so a hang fails the test instead of hanging CI.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.join(__dirname, '..', '..');
export const CLI_BIN = path.join(REPO_ROOT, 'bin', 'activation-lens.js');

export interface CliRun {
  /** Null when the process ended by a signal. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly wallMs: number;
  /** Peak resident set size of the child (bytes): resourceUsage's maxRSS, or the polled VmHWM. */
  readonly maxRssBytes: number;
  /** Whether the exit hook reported the child's resource usage (false: it was killed or aborted). */
  readonly usageReported: boolean;
  /** Set when a watchdog of this helper killed the child. */
  readonly killedFor?: 'time' | 'memory';
}

export interface CliRunOptions {
  readonly cwd?: string;
  /** Kill the child after this long (default 30 s). */
  readonly timeoutMs?: number;
  /** Kill the child once its RSS passes this (Linux only; default 4 GiB). */
  readonly killAtRssBytes?: number;
  /** Extra environment variables (merged over this process's environment). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Captured output per stream is cut after this many bytes (default 4 MiB). */
  readonly maxOutputBytes?: number;
}

const PRELOAD_SOURCE = `'use strict';
const fs = require('node:fs');
process.on('exit', () => {
  try { fs.writeSync(3, JSON.stringify(process.resourceUsage())); } catch { /* no pipe: ignore */ }
});
`;

let preloadFile: string | undefined;

/** The preload, written once per test process into its own temp folder. */
function preload(): string {
  if (preloadFile && fs.existsSync(preloadFile)) return preloadFile;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-cli-preload-'));
  preloadFile = path.join(dir, 'resource-usage.cjs');
  fs.writeFileSync(preloadFile, PRELOAD_SOURCE);
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return preloadFile;
}

/** VmHWM (peak RSS so far) of a live process from /proc, in bytes; 0 where there is no /proc. */
function polledPeakRss(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Collects a stream up to `max` bytes (the rest is counted and dropped). */
function collector(max: number): { push(chunk: Buffer): void; text(): string } {
  const chunks: Buffer[] = [];
  let kept = 0;
  let dropped = 0;
  return {
    push(chunk) {
      const room = max - kept;
      if (room > 0) {
        const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
        chunks.push(part);
        kept += part.length;
      }
      dropped += Math.max(0, chunk.length - Math.max(0, room));
    },
    text() {
      const body = Buffer.concat(chunks).toString('utf8');
      return dropped > 0 ? `${body}\n[… ${dropped} more bytes not captured]` : body;
    },
  };
}

/** Runs `node bin/activation-lens.js ...args` in `cwd` and measures it. Never rejects for the child's failures. */
export function runCliProcess(args: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const killAtRss = options.killAtRssBytes ?? 4 * 2 ** 30;
  const maxOutput = options.maxOutputBytes ?? 4 * 2 ** 20;
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ['--require', preload(), CLI_BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  const stdout = collector(maxOutput);
  const stderr = collector(maxOutput);
  const usage = collector(64 * 1024);
  child.stdout?.on('data', (c: Buffer) => stdout.push(c));
  child.stderr?.on('data', (c: Buffer) => stderr.push(c));
  const usagePipe = child.stdio[3] as NodeJS.ReadableStream | null;
  usagePipe?.on('data', (c: Buffer) => usage.push(c));
  usagePipe?.on('error', () => undefined);

  let killedFor: CliRun['killedFor'];
  let polledPeak = 0;
  const kill = (why: 'time' | 'memory') => {
    if (killedFor || child.exitCode !== null || child.signalCode !== null) return;
    killedFor = why;
    child.kill('SIGKILL');
  };
  const watchdog = setTimeout(() => kill('time'), timeoutMs);
  const poller = setInterval(() => {
    if (child.pid === undefined) return;
    polledPeak = Math.max(polledPeak, polledPeakRss(child.pid));
    if (polledPeak > killAtRss) kill('memory');
  }, 50);

  return new Promise((resolve, reject) => {
    child.on('error', (error) => {
      clearTimeout(watchdog);
      clearInterval(poller);
      reject(error);
    });
    // 'close': the process has ended and all its pipes (the usage pipe too) are drained.
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      clearInterval(poller);
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      let reportedRss = 0;
      let usageReported = false;
      try {
        const parsed = JSON.parse(usage.text()) as { maxRSS?: number };
        if (typeof parsed.maxRSS === 'number') {
          reportedRss = parsed.maxRSS * 1024; // resourceUsage's maxRSS is in kilobytes
          usageReported = true;
        }
      } catch {
        // no report: killed, aborted or crashed before its exit hook
      }
      resolve({
        exitCode: code,
        signal,
        stdout: stdout.text(),
        stderr: stderr.text(),
        wallMs,
        maxRssBytes: Math.max(reportedRss, polledPeak),
        usageReported,
        killedFor,
      });
    });
  });
}

/** MiB with one decimal, for messages. */
export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** A one-line summary of a run plus the tails of its output, for assertion messages. */
export function describeRun(run: CliRun, tailChars = 600): string {
  const how = run.exitCode !== null ? `exit ${run.exitCode}` : `signal ${run.signal ?? '?'}`;
  const killed = run.killedFor ? `, killed by the test for ${run.killedFor}` : '';
  const usage = run.usageReported ? '' : ', no exit hook ran';
  const tail = (s: string) => (s.length > tailChars ? `…${s.slice(-tailChars)}` : s).trim();
  return `${how}${killed}${usage}, ${(run.wallMs / 1000).toFixed(2)} s, peak RSS ${mib(run.maxRssBytes)}\n` +
    `  stderr: ${tail(run.stderr) || '(empty)'}\n  stdout: ${tail(run.stdout) || '(empty)'}`;
}

/**
 * Text that only a library or the runtime writes: stack traces, typed-array and DataView
 * internals, TensorFlow.js and tree-sitter names, JSON.parse's messages, raw errno codes, V8's
 * out-of-memory report. None of it belongs in the CLI's output.
 */
export const INTERNAL_TEXT: readonly RegExp[] = [
  /Maximum call stack/i,
  /Float32Array|Float64Array|Int32Array|Uint8Array|BigInt64Array/,
  /DataView/,
  /typed array/i,
  /Based on the provided shape/,
  // TensorFlow.js's own words and package paths (the product names @tensorflow/tfjs-node and the
  // other optional backends in its backend reports, and "tfjs-source" is one of its format names).
  /tfjs-(core|layers|converter|data)\b|tfjs-backend-\w+\/dist|@tensorflow\/tfjs\/dist/,
  /Error when checking|tensor should have \d+ values|Arrays must be of the same length/,
  /\bnode_modules\b/,
  /tree-sitter/i,
  /\bat Object\./,
  /^\s+at .*(:\d+:\d+\)?|<anonymous>\)?|\(native\))$/m,
  /\bat (async )?[\w$.<>]+ \([^)\n]*:\d+:\d+\)/,
  /\bat (node:|file:\/\/)/,
  /RangeError/,
  /TypeError/,
  /ReferenceError/,
  /SyntaxError/,
  /Unexpected token '.', /,
  /" is not valid JSON/,
  /Unexpected end of JSON input/,
  /(in|after) JSON at position/,
  /\bENOENT\b|\bEACCES\b|\bEISDIR\b|\bEMFILE\b|\bERR_[A-Z_]+\b/,
  /heap out of memory/i,
  /Allocation failed/i,
  /FATAL ERROR/,
  /internal error/i,
  /Cannot read properties of/,
  /is not a function/,
  /undefined is not/,
  /\[object Object\]/,
  /Invalid array length/,
  /Array buffer allocation failed/,
  /Aborted\b|core dumped/,
  /Emscripten|RuntimeError: /,
];

/**
 * The product's own account of the backends it tried (the text report's "Backend …" line, the
 * JSON's `backend` object) names optional packages such as @tensorflow/tfjs-node on purpose; it
 * is left out before the patterns are matched.
 */
function withoutBackendReport(text: string): string {
  return text
    .replace(/^\s*Backend \S+ on [^\n]*$/gm, '')
    .replace(/"backend": \{[^{}]*(\{[^{}]*\}[^{}]*)*\}/g, '"backend": {}');
}

/** The internal-text patterns found in a run's output (empty when clean). */
export function internalText(run: Pick<CliRun, 'stdout' | 'stderr'>): string[] {
  const text = withoutBackendReport(`${run.stdout}\n${run.stderr}`);
  const found: string[] = [];
  for (const pattern of INTERNAL_TEXT) {
    const m = pattern.exec(text);
    if (m) found.push(`${pattern} matched "${m[0].slice(0, 80)}"`);
  }
  return found;
}

/**
 * Catch-all wording that hides what went wrong: the product's own last-resort messages. A hostile
 * input deserves a message that says what is wrong with it.
 */
export const VAGUE_TEXT: readonly RegExp[] = [/an unexpected error/i, /unknown error/i, /something went wrong/i];

/** The catch-all messages found in a run's output (empty when none). */
export function vagueText(run: Pick<CliRun, 'stdout' | 'stderr'>): string[] {
  const text = `${run.stdout}\n${run.stderr}`;
  return VAGUE_TEXT.flatMap((pattern) => {
    const m = pattern.exec(text);
    if (!m) return [];
    const line = text.slice(text.lastIndexOf('\n', m.index) + 1, text.indexOf('\n', m.index) < 0 ? undefined : text.indexOf('\n', m.index));
    return [`${pattern} matched "${line.trim().slice(0, 160)}"`];
  });
}

/** `name:line:column:` positions in a text, for the given file name (any file when omitted). */
export function positions(text: string, fileName?: string): { file: string; line: number; column: number }[] {
  const escaped = fileName ? fileName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : '[^\\s:"\'`]+';
  const re = new RegExp(`(?:^|[\\s"'(/])(${escaped}):(\\d+):(\\d+):`, 'gm');
  const out: { file: string; line: number; column: number }[] = [];
  for (const m of text.matchAll(re)) out.push({ file: m[1], line: Number(m[2]), column: Number(m[3]) });
  return out;
}
