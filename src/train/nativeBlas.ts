/**
 * Native matrix products for the wasm backend: single-precision GEMM (cblas_sgemm) from the
 * machine's BLAS, called through koffi (an FFI for Node with prebuilt binaries in its npm
 * package). WebAssembly SIMD is 128 bits wide, so XNNPACK under wasm reaches ~15 GFLOP/s on one
 * core here; OpenBLAS on the same core reaches 30 (its generic kernels) to 90 (AVX-512) GFLOP/s,
 * and most of a training step is matrix products. The operands stay where they are: the wasm
 * heap is an ArrayBuffer, and koffi hands BLAS pointers into it.
 *
 * Optional at every level, and reported, never silent: without koffi or a BLAS library, or with
 * ACTIVATION_LENS_BLAS=off, the wasm kernels do the products themselves and the backend report
 * says why. ACTIVATION_LENS_BLAS=/path/to/library picks the library.
 *
 * Native code writes into memory it is given, so every call is bounds-checked here first: a
 * wrong leading dimension must be an exception, never a write past a buffer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';

/** C = alpha · op(A) · op(B) + beta · C, row-major; A, B, C are views whose first element is the matrix's. */
export interface NativeGemm {
  /** The library, in words (e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH … Haswell"). */
  readonly description: string;
  sgemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: Float32Array, lda: number, B: Float32Array, ldb: number, beta: number, C: Float32Array, ldc: number,
  ): void;
}

/** `file` in each absolute folder of PATH that is not the current folder. */
function onPathOutsideCwd(file: string): string[] {
  const cwd = path.resolve(process.cwd());
  return (process.env.PATH ?? '').split(path.delimiter)
    .filter((dir) => path.isAbsolute(dir) && path.resolve(dir) !== cwd)
    .map((dir) => path.join(dir, file))
    .filter((candidate) => fs.existsSync(candidate));
}

/** Where the usual single-precision BLAS libraries are, per platform (looked up by the loader). */
function candidateLibraries(): string[] {
  switch (process.platform) {
    case 'linux':
      return ['libopenblas.so.0', 'libopenblas.so', 'libopenblasp-r0.3.so', 'libmkl_rt.so'];
    case 'darwin':
      // Accelerate ships with macOS and exports the CBLAS interface.
      return ['/System/Library/Frameworks/Accelerate.framework/Accelerate', 'libopenblas.dylib', '/opt/homebrew/opt/openblas/lib/libopenblas.dylib'];
    case 'win32':
      // Windows' LoadLibrary looks in the current folder (the workspace, for the CLI) before
      // PATH: only absolute paths from PATH's own folders are tried.
      return ['libopenblas.dll', 'openblas.dll'].flatMap(onPathOutsideCwd);
    default:
      return ['libopenblas.so.0'];
  }
}

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

/** Elements a row-major rows × cols matrix with leading dimension ld spans. */
function span(rows: number, cols: number, ld: number): number {
  return rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
}

function checkOperand(name: string, view: Float32Array, rows: number, cols: number, ld: number): void {
  if (!Number.isInteger(ld) || ld < Math.max(1, cols)) throw new RangeError(`sgemm: leading dimension of ${name} (${ld}) is below its ${cols} columns`);
  const needed = span(rows, cols, ld);
  if (view.length < needed) throw new RangeError(`sgemm: ${name} holds ${view.length} floats, the product reads ${needed}`);
}

/**
 * OpenBLAS kernels for this CPU, from the instruction sets Linux reports (/proc/cpuinfo flags).
 * OpenBLAS picks its kernels from the CPU model number, and a model newer than the library
 * (e.g. a 2023 Xeon with Debian 12's OpenBLAS 0.3.21) gets its generic SSE3 kernels ("Prescott"):
 * here that was 30 GFLOP/s against 92 with the AVX-512 ones the CPU has. Undefined: leave the
 * choice to OpenBLAS (not Linux x86-64, or nothing better than its default is known).
 */
export function coreTypeFromFlags(cpuinfo: string): string | undefined {
  const line = /^flags\s*:(.*)$/m.exec(cpuinfo);
  if (!line) return undefined;
  const flags = new Set(line[1].trim().split(/\s+/));
  if (['avx512f', 'avx512bw', 'avx512vl', 'avx512dq', 'avx512cd'].every((f) => flags.has(f))) return 'SkylakeX';
  if (['avx2', 'fma'].every((f) => flags.has(f))) return 'Haswell';
  return undefined;
}

interface KoffiLib {
  func(definition: string): (...args: unknown[]) => unknown;
}
interface Koffi {
  load(path: string): KoffiLib;
}

/**
 * Sets OPENBLAS_CORETYPE for the moment OpenBLAS loads (it reads it once, then) when the user has
 * not, the library is OpenBLAS on Linux, and the CPU's flags name better kernels than its model
 * number may get. The variable must be in the C environment: in a worker thread process.env is
 * a private copy, so libc's setenv is called through koffi, and the variable is removed again
 * right after the load (restoreCoreType), leaving the process's environment as it was.
 */
/** The OpenBLAS kernels this CPU's flags call for (Linux x86-64), else undefined. */
function coreTypeForThisCpu(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  try {
    return coreTypeFromFlags(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return undefined;
  }
}

/** "(kernels: …)" for the report: OpenBLAS's choice, and a hint where it is below the CPU's. */
function describeKernels(core: string, cpuCore: string | undefined): string {
  if (!cpuCore) return ` (kernels: ${core})`;
  const isa = cpuCore === 'SkylakeX' ? 'AVX-512' : 'AVX2';
  if (core === cpuCore) return ` (kernels: ${core}, for this CPU's ${isa})`;
  const better = process.env.OPENBLAS_CORETYPE !== undefined ? `OPENBLAS_CORETYPE=${cpuCore} instead of ${process.env.OPENBLAS_CORETYPE}` : `OPENBLAS_CORETYPE=${cpuCore}`;
  return ` (kernels: ${core}, though this CPU has ${isa}: ${better} would be faster)`;
}

function chooseOpenBlasCore(koffi: Koffi, file: string, cpuCore: string | undefined): string | undefined {
  if (!/openblas/i.test(file) || process.env.OPENBLAS_CORETYPE !== undefined) return undefined;
  // Already loaded in this process (another trainer thread): its kernels are chosen, and the
  // environment is left alone.
  try {
    if (/libopenblas/.test(fs.readFileSync('/proc/self/maps', 'utf8'))) return undefined;
  } catch {
    // no /proc: go on
  }
  const core = cpuCore;
  if (!core) return undefined;
  const libc = koffi.load('libc.so.6');
  const setenv = libc.func('int setenv(const char *name, const char *value, int overwrite)');
  return setenv('OPENBLAS_CORETYPE', core, 0) === 0 ? core : undefined;
}

function restoreCoreType(koffi: Koffi): void {
  koffi.load('libc.so.6').func('int unsetenv(const char *name)')('OPENBLAS_CORETYPE');
}

/**
 * Loads koffi from `koffiEntry` (its resolved package entry) and the first BLAS library that
 * opens; returns the GEMM, or why there is none.
 */
export function loadNativeGemm(koffiEntry: string | undefined): { gemm?: NativeGemm; reason?: string } {
  const choice = process.env.ACTIVATION_LENS_BLAS?.trim();
  if (choice && /^(off|0|false|none)$/i.test(choice)) return { reason: 'native products turned off: --no-native-blas, the activationLens.nativeMatrixProducts setting or ACTIVATION_LENS_BLAS=off' };
  if (!koffiEntry) return { reason: 'koffi (the FFI that reaches a native BLAS) is not installed' };
  let koffi: Koffi;
  try {
    koffi = createRequire(koffiEntry)(koffiEntry) as Koffi;
  } catch (error) {
    return { reason: `koffi failed to load: ${(error as Error).message.split('\n')[0]}` };
  }
  const tried: string[] = [];
  // What this CPU's flags call for, read once: it picks OpenBLAS's kernels and describes them.
  const cpuCore = coreTypeForThisCpu();
  for (const file of choice ? [choice] : candidateLibraries()) {
    let lib: KoffiLib;
    let forcedCore: string | undefined;
    try {
      forcedCore = chooseOpenBlasCore(koffi, file, cpuCore);
      try {
        lib = koffi.load(file);
      } finally {
        if (forcedCore) restoreCoreType(koffi);
      }
    } catch {
      tried.push(file);
      continue;
    }
    let raw: (...args: unknown[]) => unknown;
    try {
      raw = lib.func('void cblas_sgemm(int order, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb, float beta, _Inout_ float *C, int ldc)');
    } catch {
      tried.push(`${file} (no cblas_sgemm)`);
      continue;
    }
    const optional = (definition: string): ((...args: unknown[]) => unknown) | undefined => {
      try {
        return lib.func(definition);
      } catch {
        return undefined;
      }
    };
    const config = optional('const char *openblas_get_config()');
    const setThreads = optional('void openblas_set_num_threads(int threads)') ?? optional('void MKL_Set_Num_Threads(int threads)');
    const coreName = optional('const char *openblas_get_corename()');
    const core = coreName ? String(coreName()) : undefined;
    const kernels = core ? describeKernels(core, /openblas/i.test(file) ? cpuCore : undefined) : '';
    const described = config ? `${String(config())}${kernels}` : file;
    // Always one thread per product. Several trainer threads call the library at once (replicas,
    // and several diagnoses in one editor), and OpenBLAS 0.3.21's own threading deadlocked under
    // that in the integration tests (callers parked on its mutex while one spun in exec_blas);
    // its idle workers also spin, taking the cores the editor needs. Parallelism comes from the
    // replicas instead (trainer.ts), each calling single-threaded products.
    setThreads?.(1);
    const gemm: NativeGemm = {
      description: described,
      sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) {
        if (![M, N, K].every((d) => Number.isInteger(d) && d >= 0)) throw new RangeError(`sgemm: bad sizes ${M}×${K}·${K}×${N}`);
        if (M === 0 || N === 0) return;
        checkOperand('A', A, transA ? K : M, transA ? M : K, lda);
        checkOperand('B', B, transB ? N : K, transB ? K : N, ldb);
        checkOperand('C', C, M, N, ldc);
        raw(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      },
    };
    return { gemm };
  }
  return { reason: `no BLAS library with cblas_sgemm was found (tried ${tried.join(', ')}; ACTIVATION_LENS_BLAS=/path names one)` };
}
