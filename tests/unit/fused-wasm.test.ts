/**
 * The fast path's fused kernels on the wasm backend (src/gpt/simd/fused.ts over
 * src/gpt/simd/assembly/fused.ts) compute what the stock-op compositions of src/gpt/fast/ops.ts
 * compute (the same functions with our module removed): every operation, every epilogue and
 * transpose of the product, at sizes that fill no SIMD vector or tile (13 rows, 6-wide heads, 7
 * classes) and at sizes that do; and they leave no tensor behind.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMD_BINARY } from '../../scripts/build-simd';
import { prepareNodeBackend } from '../../scripts/lib/node-backends';
import * as ops from '../../src/gpt/fast/ops';
import { FAST_KERNELS } from '../../src/gpt/fast/ops';
import { installSimdKernels, uninstallSimdKernels } from '../../src/gpt/simd/install';
import { setGemmRoute, type GemmRoute } from '../../src/gpt/simd/fused';
import { ConfigError, estimateBytes, resolveHyperparameters } from '../../src/gpt/config';
import { disposeRun, startRun, WASM_MAX_BYTES } from '../../src/engine/run';

const bytes = new Uint8Array(readFileSync(SIMD_BINARY));

beforeAll(async () => {
  await prepareNodeBackend('wasm');
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

/** Values of `f` on our fused kernels, then on the stock compositions (our module removed). */
async function bothWays(f: () => tf.Tensor): Promise<[Float32Array, Float32Array]> {
  const once = async () => {
    const r = tf.tidy(f);
    const data = (await r.data()) as Float32Array;
    r.dispose();
    return data;
  };
  await installSimdKernels(bytes);
  expect(tf.getKernel(FAST_KERNELS.gemm, 'wasm')).toBeDefined();
  const fused = await once();
  uninstallSimdKernels();
  expect(tf.getKernel(FAST_KERNELS.gemm, 'wasm')).toBeUndefined();
  const stock = await once();
  await installSimdKernels(bytes);
  return [fused, stock];
}

function relativeDiff(a: Float32Array, b: Float32Array): { diff: number; scale: number } {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { diff: diff / scale, scale };
}

describe.each([
  { label: 'odd sizes', N: 13, T: 13, C: 12, heads: 2, V: 7 },
  { label: 'vector-filling sizes', N: 32, T: 16, C: 32, heads: 4, V: 16 },
])('the fused wasm kernels at $label', ({ N, T, C, heads, V }) => {
  it('give what the stock compositions give, for every operation', async () => {
    const before = tf.memory().numTensors;
    const B = N / T;
    const th = tf.randomNormal([8000], 0, 0.5, 'float32', 1);
    const x = tf.randomNormal([N, C], 0, 1, 'float32', 2);
    const x3 = tf.randomNormal([N, 3 * C], 0, 1, 'float32', 3);
    const x4 = tf.randomNormal([N, 4 * C], 0, 1, 'float32', 4);
    const dy = tf.randomNormal([N, C], 0, 1, 'float32', 5);
    const logits = tf.randomNormal([N, V], 0, 2, 'float32', 6);
    const ids = tf.tensor1d(Int32Array.from({ length: N }, (_, i) => (i * 5 + 1) % V), 'int32');
    const state = tf.tidy(() => tf.abs(tf.randomNormal([3 * 500], 0, 1, 'float32', 7)));
    const g = tf.randomNormal([500], 0, 3, 'float32', 8);
    const mask = tf.tensor1d(Float32Array.from({ length: 500 }, (_, i) => (i % 3 === 0 ? 0 : 1)));
    const shape = { B, T, heads, C };
    const rows = (t: tf.Tensor, cols: number) => ({ t, off: 0, rows: N, cols });
    const lnOf = () => ops.layerNorm(x, th, 3, 50, N, C);
    const attOf = () => ops.attention(x3, shape);
    const step = { lr: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8, wd: 0.1, bc1: 0.19, bc2: 0.0199 };
    const cases: [string, () => tf.Tensor][] = [
      ['linear with bias (B transposed)', () => ops.gemm(rows(lnOf(), C), { t: th, off: 100, rows: 3 * C, cols: C, trans: true }, { bias: { theta: th, off: 7 } })],
      ['GELU of A, bias and residual', () => ops.gemm(rows(x4, 4 * C), { t: th, off: 9, rows: C, cols: 4 * C, trans: true }, { geluA: true, residual: x, bias: { theta: th, off: 1 } })],
      ['backward through GELU', () => ops.gemm(rows(x, C), { t: th, off: 11, rows: C, cols: 4 * C }, { geluGradOf: x4 })],
      ['weight and bias gradient (A transposed)', () => ops.gemm({ ...rows(x3, 3 * C), trans: true }, rows(lnOf(), C), { onesB: true, splitLast: true })],
      ['weight gradient through GELU of B', () => ops.gemm({ ...rows(x, C), trans: true }, rows(x4, 4 * C), { geluB: true, onesB: true, splitLast: true })],
      ['the tied head', () => ops.gemm(rows(x, C), { t: th, off: 5, rows: V, cols: C, trans: true })],
      ['LayerNorm', lnOf],
      ['LayerNorm backward with a residual', () => ops.layerNormBackward(dy, x, lnOf(), th, 3, N, C, x)],
      ['LayerNorm backward', () => ops.layerNormBackward(dy, x, lnOf(), th, 3, N, C)],
      ['LayerNorm parameter gradients', () => ops.layerNormParamGrads(dy, x, lnOf(), N, C)],
      ['attention', attOf],
      ['attention backward', () => ops.attentionBackward(x3, attOf(), dy, shape)],
      ['embedding', () => ops.embed(ids, th, 20, 20 + V * C, N, T, V, C)],
      ['embedding backward', () => ops.embedBackward(tf.randomNormal([V * C], 0, 1, 'float32', 9), dy, ids, N, T, T + 3, V, C)],
      ['cross-entropy', () => ops.crossEntropy(logits, ids, N, V)],
      ['mean', () => ops.meanOf(x4, 5, 3 * C)],
      ['a parameter’s slice of θ', () => ops.sliceFlat(th, 37, 3 * C + 1)],
      ['AdamW with clipping', () => ops.adamWFlat(state, g, mask, 500, { ...step, clip: 1 }).state],
      ['AdamW without clipping', () => ops.adamWFlat(state, g, mask, 500, { ...step, clip: 0 }).state],
      ['the gradient norm', () => ops.adamWFlat(state, g, mask, 500, { ...step, clip: 1 }).norm],
    ];
    try {
      for (const [name, f] of cases) {
        const [fused, stock] = await bothWays(f);
        const { diff, scale } = relativeDiff(fused, stock);
        expect(scale, name).toBeGreaterThan(0.01);
        expect(diff, name).toBeLessThan(2e-5);
      }
    } finally {
      tf.dispose([th, x, x3, x4, dy, logits, ids, state, g, mask]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the fused wasm product with its core on the stock kernel (the multi-threaded route)', () => {
  it('gives what our own loops give, for every operand layout and epilogue', async () => {
    await installSimdKernels(bytes);
    const before = tf.memory().numTensors;
    const N = 13;
    const C = 12;
    const th = tf.randomNormal([4000], 0, 0.5, 'float32', 1);
    const x = tf.randomNormal([N, C], 0, 1, 'float32', 2);
    const x3 = tf.randomNormal([N, 3 * C], 0, 1, 'float32', 3);
    const x4 = tf.randomNormal([N, 4 * C], 0, 1, 'float32', 4);
    const rows = (t: tf.Tensor, cols: number) => ({ t, off: 0, rows: N, cols });
    const cases: [string, () => tf.Tensor][] = [
      ['B transposed, bias', () => ops.gemm(rows(x, C), { t: th, off: 100, rows: 3 * C, cols: C, trans: true }, { bias: { theta: th, off: 7 } })],
      ['GELU of A, residual', () => ops.gemm(rows(x4, 4 * C), { t: th, off: 9, rows: C, cols: 4 * C, trans: true }, { geluA: true, residual: x, bias: { theta: th, off: 1 } })],
      ['GELU′ epilogue', () => ops.gemm(rows(x, C), { t: th, off: 11, rows: C, cols: 4 * C }, { geluGradOf: x4 })],
      ['A transposed, ones column', () => ops.gemm({ ...rows(x3, 3 * C), trans: true }, rows(x, C), { onesB: true, splitLast: true })],
      ['GELU of B', () => ops.gemm({ ...rows(x, C), trans: true }, rows(x4, 4 * C), { geluB: true, onesB: true, splitLast: true })],
    ];
    try {
      for (const [name, f] of cases) {
        const values = async (r: GemmRoute) => {
          setGemmRoute(r);
          const t = tf.tidy(f);
          const d = (await t.data()) as Float32Array;
          t.dispose();
          return d;
        };
        const { diff, scale } = relativeDiff(await values('stock'), await values('ours'));
        expect(scale, name).toBeGreaterThan(0.1);
        expect(diff, name).toBeLessThan(1e-5);
      }
    } finally {
      setGemmRoute('auto');
      tf.dispose([th, x, x3, x4]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the fused wasm kernels', () => {
  it('compare against a planted error: a wrong offset is caught', async () => {
    // The comparison above is only worth something if a small mistake shows: read θ one value off.
    const th = tf.randomNormal([4000], 0, 0.5, 'float32', 1);
    const x = tf.randomNormal([13, 12], 0, 1, 'float32', 2);
    await installSimdKernels(bytes);
    const fused = tf.tidy(() => ops.layerNorm(x, th, 3, 50, 13, 12));
    uninstallSimdKernels();
    const stock = tf.tidy(() => ops.layerNorm(x, th, 4, 50, 13, 12));
    await installSimdKernels(bytes);
    const { diff } = relativeDiff((await fused.data()) as Float32Array, (await stock.data()) as Float32Array);
    expect(diff).toBeGreaterThan(1e-2);
    tf.dispose([th, x, fused, stock]);
  });
});

describe('a model too large for the wasm backend', () => {
  it('is refused on its batch size with a message, before anything is allocated', () => {
    const before = tf.memory().numTensors;
    const text = 'Call me Ishmael. Some years ago, never mind how long precisely. '.repeat(200);
    const hp = resolveHyperparameters('small');
    expect(estimateBytes(hp)).toBeGreaterThan(WASM_MAX_BYTES);
    let error: unknown = null;
    try {
      startRun(text, hp);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const fields = (error as ConfigError).errors;
    expect(fields.map((f) => f.field)).toEqual(['batchSize']);
    expect(fields[0].message).toMatch(/wasm backend .* GiB .* WebGPU/);
    expect(tf.memory().numTensors).toBe(before);
    // Smaller batches of the same model fit, and start.
    const run = startRun(text, { ...hp, batchSize: 4, contextLength: 64 });
    expect(run.model.config.layers).toBe(6);
    disposeRun(run);
    expect(tf.memory().numTensors).toBe(before);
  });
});
