/**
 * The Languages chapter's benchmark: one n × n matrix product, C = A·B, timed four ways — the plain
 * TypeScript loop and tfjs on its cpu, wasm and webgpu backends — on the same inputs, with the
 * results checked against each other. Also captures the WGSL source of the webgpu matmul kernel.
 *
 * Timing: a warm-up product first (it compiles shaders, fills caches, wakes the JIT), then samples
 * until there are enough (at least 3 and 200 ms, at most 8, or one sample once 1.5 s are spent). On
 * the CPU ways a warm-up that took over 2 s is the only run (its time, warm-up costs included, is
 * reported); webgpu always gets a timed run after the warm-up, which compiled its shader.
 * A sample runs `k` products back to back and waits for the last result to be read back (`await
 * t.data()`, asynchronous, so the GPU is never waited on synchronously); `k` is chosen from the
 * warm-up so a sample lasts about 30 ms, which keeps the fixed cost of one read-back from swamping
 * small sizes. GFLOP/s = 2n³ / (median seconds per product) / 1e9.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../gpt/random';
import type { BackendName } from '../backends';
import { JobCancelledError } from '../workbench';
import { loopRows, maxAbsDiff, tripleLoop, validateMatmulRequest, WAY_LABELS, type MatmulRequest, type MatmulWay } from './loop';
import { captureWebGPUPrograms, type CapturedProgram } from './wgsl';

export interface WayResult {
  way: MatmulWay;
  label: string;
  /** False when the backend cannot run here (then only `reason` says something). */
  available: boolean;
  /** What ran (backend report), or why it could not. */
  reason: string;
  /** Rows of C computed: n, except for the loop above n = 512. */
  rows: number;
  /** Flops of one product as computed: 2 · rows · n². */
  flops: number;
  /** Median and best milliseconds per product. */
  medianMs: number;
  bestMs: number;
  gflops: number;
  samples: number;
  productsPerSample: number;
  /** True when the warm-up took over SLOW_MS and was the only run: its time includes the warm-up's extra costs. */
  warmUpOnly: boolean;
  /** Largest |C − C_reference| over the rows both computed; null for the reference itself. */
  maxAbsDiff: number | null;
}

export interface MatmulReport {
  n: number;
  ways: WayResult[];
  /** The way the others are compared with: tfjs cpu when it ran, else the first that ran. */
  reference: MatmulWay | null;
  /** The largest |C| entry of the reference, to judge the differences against. */
  referenceMaxAbs: number | null;
  /** The webgpu matmul kernel, when webgpu ran. */
  shader: CapturedProgram | null;
  /** The backend the reader's model runs on (unchanged by the benchmark). */
  homeBackend: string;
}

export interface MatmulProgress {
  way: MatmulWay;
  /** Ways finished so far, of `total`. */
  done: number;
  total: number;
  message: string;
}

/** What the benchmark needs from the engine (the workbench gives all three). */
export interface BackendAccess {
  availableBackends(): Promise<{ name: BackendName; available: boolean; reason: string }[]>;
  withBackend<T>(name: BackendName, fn: () => Promise<T>): Promise<T>;
  cancelled(): boolean;
}

/** The inputs, uniform in [−1, 1), the same for every way. */
export function matmulInputs(n: number, seed = 1): { a: Float32Array; b: Float32Array } {
  const rng = new Rng(seed);
  const fill = () => {
    const x = new Float32Array(n * n);
    for (let i = 0; i < x.length; i++) x[i] = rng.next() * 2 - 1;
    return x;
  };
  return { a: fill(), b: fill() };
}

interface Timing {
  medianMs: number;
  bestMs: number;
  samples: number;
  productsPerSample: number;
  warmUpOnly: boolean;
}

const SAMPLE_TARGET_MS = 30;
/** A warm-up product slower than this is the only one run (so a large n stays within seconds per way). */
export const SLOW_MS = 2000;

/**
 * Times `sample(k)` (which runs k products and waits for the last) after `warmMs`, the warm-up's
 * duration, has picked k. See the file comment for the rule.
 */
async function timeSamples(
  warmMs: number,
  sample: (k: number) => Promise<void>,
  cancelled: () => boolean,
  warmUpMayCount: boolean,
): Promise<Timing> {
  // On a CPU a product that took seconds is not repeated: its one (warm-up) run is the measurement.
  // Not on the GPU, whose first run also compiles the shader, a cost that has nothing to do with n.
  if (warmUpMayCount && warmMs >= SLOW_MS) return { medianMs: warmMs, bestMs: warmMs, samples: 1, productsPerSample: 1, warmUpOnly: true };
  const k = Math.max(1, Math.min(16, Math.round(SAMPLE_TARGET_MS / Math.max(warmMs, 0.01))));
  const perProduct: number[] = [];
  const started = performance.now();
  for (;;) {
    if (cancelled()) throw new JobCancelledError();
    const t0 = performance.now();
    await sample(k);
    perProduct.push((performance.now() - t0) / k);
    const spent = performance.now() - started;
    if (perProduct.length >= 8) break;
    if (perProduct.length >= 3 && spent >= 200) break;
    if (spent >= 1500) break;
  }
  const sorted = perProduct.slice().sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  const medianMs = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { medianMs, bestMs: sorted[0], samples: perProduct.length, productsPerSample: k, warmUpOnly: false };
}

/** The plain loop: a warm-up on a few rows (the JIT compiles the loop), then timed products. */
async function runLoop(a: Float32Array, b: Float32Array, n: number, cancelled: () => boolean) {
  const rows = loopRows(n);
  tripleLoop(a, b, n, Math.min(rows, 4));
  const t0 = performance.now();
  const c = tripleLoop(a, b, n, rows);
  const warmMs = performance.now() - t0;
  const timing = await timeSamples(
    warmMs,
    async (k) => {
      for (let i = 0; i < k; i++) tripleLoop(a, b, n, rows);
      await new Promise((r) => setTimeout(r, 0)); // let a cancel message in
    },
    cancelled,
    true,
  );
  return { rows, c, timing };
}

/** One tfjs backend (the current one): warm-up product (kept for the comparison), then samples. */
async function runTf(a: Float32Array, b: Float32Array, n: number, cancelled: () => boolean, warmUpMayCount: boolean) {
  const ta = tf.tensor2d(a, [n, n]);
  const tb = tf.tensor2d(b, [n, n]);
  try {
    const t0 = performance.now();
    const first = tf.matMul(ta, tb);
    const c = (await first.data()) as Float32Array;
    first.dispose();
    const warmMs = performance.now() - t0;
    const timing = await timeSamples(
      warmMs,
      async (k) => {
        for (let i = 0; i < k - 1; i++) tf.matMul(ta, tb).dispose();
        const last = tf.matMul(ta, tb);
        await last.data();
        last.dispose();
      },
      cancelled,
      warmUpMayCount,
    );
    return { c, timing };
  } finally {
    tf.dispose([ta, tb]);
  }
}

/** The webgpu kernel of one matMul of this size: the program tfjs dispatched, with its WGSL. */
async function captureShader(n: number): Promise<CapturedProgram | null> {
  const ta = tf.zeros([n, n]);
  const tb = tf.zeros([n, n]);
  try {
    const { result, programs } = captureWebGPUPrograms(() => tf.matMul(ta, tb));
    await result.data();
    result.dispose();
    return programs.find((p) => /matmul/i.test(p.name)) ?? programs[0] ?? null;
  } finally {
    tf.dispose([ta, tb]);
  }
}

/** Runs the benchmark. `homeBackend` is the reader's backend (reported, never changed). */
export async function runMatmulBenchmark(
  request: Partial<Record<keyof MatmulRequest, unknown>>,
  access: BackendAccess,
  homeBackend: string,
  onProgress?: (p: MatmulProgress) => void | Promise<void>,
): Promise<MatmulReport> {
  const { n, ways } = validateMatmulRequest(request);
  const { a, b } = matmulInputs(n);
  const reports = await access.availableBackends();
  const results: WayResult[] = [];
  const outputs = new Map<MatmulWay, Float32Array>();
  let shader: CapturedProgram | null = null;
  const fullFlops = 2 * n ** 3;

  for (const [index, way] of ways.entries()) {
    if (access.cancelled()) throw new JobCancelledError();
    await onProgress?.({ way, done: index, total: ways.length, message: `Timing ${WAY_LABELS[way]} at n = ${n}…` });
    const base = { way, label: WAY_LABELS[way], maxAbsDiff: null };
    if (way === 'typescript') {
      const { rows, c, timing } = await runLoop(a, b, n, access.cancelled);
      const flops = 2 * rows * n * n;
      const reason =
        rows === n ? 'plain loops in the engine worker' : `plain loops in the engine worker; only the first ${rows} of ${n} rows, to stay within a few seconds`;
      results.push({ ...base, available: true, reason, rows, flops, ...timing, gflops: flops / (timing.medianMs / 1000) / 1e9 });
      outputs.set(way, c);
      continue;
    }
    const report = reports.find((r) => r.name === way);
    if (report == null || !report.available) {
      results.push(unavailable(base, report?.reason ?? 'not part of this build'));
      continue;
    }
    try {
      const measured = await access.withBackend(way, async () => {
        const run = await runTf(a, b, n, access.cancelled, way !== 'webgpu');
        const captured = way === 'webgpu' ? await captureShader(n) : null;
        return { ...run, captured };
      });
      if (measured.captured) shader = measured.captured;
      const { timing } = measured;
      results.push({
        ...base,
        available: true,
        // The probe's words for cpu compare it with the other backends; here it sits beside a plain loop.
        reason: way === 'cpu' ? 'tfjs’s JavaScript kernels, in the engine worker' : report.reason,
        rows: n,
        flops: fullFlops,
        ...timing,
        gflops: fullFlops / (timing.medianMs / 1000) / 1e9,
      });
      outputs.set(way, measured.c);
    } catch (err) {
      if (err instanceof JobCancelledError) throw err;
      results.push(unavailable(base, `could not run here: ${err instanceof Error ? err.message : String(err)}`));
    }
  }

  const reference: MatmulWay | null = outputs.has('cpu') ? 'cpu' : (ways.find((w) => outputs.has(w)) ?? null);
  let referenceMaxAbs: number | null = null;
  if (reference != null) {
    const ref = outputs.get(reference)!;
    referenceMaxAbs = maxAbsDiff(ref, new Float32Array(ref.length));
    for (const r of results) {
      const c = outputs.get(r.way);
      if (c == null || r.way === reference) continue;
      r.maxAbsDiff = maxAbsDiff(c, ref, Math.min(c.length, ref.length));
    }
  }
  await onProgress?.({ way: ways[ways.length - 1], done: ways.length, total: ways.length, message: 'Done.' });
  return { n, ways: results, reference, referenceMaxAbs, shader, homeBackend };
}

function unavailable(base: { way: MatmulWay; label: string; maxAbsDiff: null }, reason: string): WayResult {
  return { ...base, available: false, reason, rows: 0, flops: 0, medianMs: NaN, bestMs: NaN, gflops: NaN, samples: 0, productsPerSample: 0, warmUpOnly: false };
}
