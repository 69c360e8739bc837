/**
 * The Languages chapter's matrix product, the same one four ways: what each way is, the checks on a
 * request, and the first way itself — three nested loops in plain TypeScript.
 *
 * No tfjs here: the page imports the names and the checks, the engine job (matmul.ts) runs them.
 */
import { MeasureInputError } from './expression';

export type MatmulWay = 'typescript' | 'cpu' | 'wasm' | 'webgpu';
export const MATMUL_WAYS: readonly MatmulWay[] = ['typescript', 'cpu', 'wasm', 'webgpu'];

export const WAY_LABELS: Record<MatmulWay, string> = {
  typescript: 'TypeScript loop',
  cpu: 'tfjs cpu (JavaScript)',
  wasm: 'tfjs wasm (C++ → WebAssembly, SIMD)',
  webgpu: 'tfjs webgpu (WGSL shader)',
};

/** The same, short enough for a chart's axis and a table's first column. */
export const WAY_SHORT: Record<MatmulWay, string> = {
  typescript: 'TypeScript loop',
  cpu: 'tfjs cpu',
  wasm: 'tfjs wasm',
  webgpu: 'tfjs webgpu',
};

export const MIN_N = 16;
export const MAX_N = 2048;
export const SUGGESTED_SIZES = [64, 128, 256, 512, 1024] as const;

/**
 * The loop computes at most this many flops per product (the cost of a 512 × 512 product): beyond
 * n = 512 it computes only the first rows of C, as many as fit, so that it stays within a few
 * seconds however large n is. GFLOP/s counts the rows it computed.
 */
export const LOOP_FLOP_BUDGET = 2 * 512 ** 3;

export interface MatmulRequest {
  /** The matrices are n × n. */
  n: number;
  /** Which ways to run, in this order. */
  ways: MatmulWay[];
}

export function checkSize(value: unknown): string | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'the size must be a number';
  if (!Number.isInteger(value)) return 'the size must be a whole number';
  if (value < MIN_N || value > MAX_N) return `the size must lie between ${MIN_N} and ${MAX_N}`;
  return null;
}

/** Throws MeasureInputError (field `n` or `ways`) on a bad request; returns a clean copy. */
export function validateMatmulRequest(req: Partial<Record<keyof MatmulRequest, unknown>>): MatmulRequest {
  const problem = checkSize(req.n);
  if (problem) throw new MeasureInputError('n', problem);
  const ways = req.ways ?? MATMUL_WAYS;
  if (!Array.isArray(ways) || ways.length === 0) throw new MeasureInputError('ways', 'choose at least one way to run');
  for (const w of ways) {
    if (!MATMUL_WAYS.includes(w as MatmulWay)) throw new MeasureInputError('ways', `unknown way “${String(w)}”`);
  }
  return { n: req.n as number, ways: [...new Set(ways as MatmulWay[])] };
}

/** Rows of C the loop computes for an n × n product (all of them up to n = 512). */
export function loopRows(n: number): number {
  return Math.max(1, Math.min(n, Math.floor(LOOP_FLOP_BUDGET / (2 * n * n))));
}

/**
 * C = A·B for row-major n × n matrices, rows [0, rows) of C only: the textbook triple loop, as
 * anyone would first write it. Each C[i][j] is a dot product of row i of A with column j of B; the
 * walk down a column of B jumps n floats at a time, which is what makes this order slow.
 */
export function tripleLoop(a: Float32Array, b: Float32Array, n: number, rows = n): Float32Array {
  const c = new Float32Array(rows * n);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += a[i * n + k] * b[k * n + j];
      c[i * n + j] = sum;
    }
  }
  return c;
}

/** Largest |x − y| over the first `count` entries. */
export function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>, count = Math.min(x.length, y.length)): number {
  let worst = 0;
  for (let i = 0; i < count; i++) {
    const d = Math.abs(x[i] - y[i]);
    if (!(d <= worst)) worst = d; // NaN propagates
  }
  return worst;
}
