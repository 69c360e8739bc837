/**
 * GPT Lab's WebAssembly SIMD kernels (src/gpt/simd): the committed binary is what its source
 * compiles to, and on the wasm backend the replaced kernels give the products and sums a plain
 * loop gives — batched, transposed either way, broadcast, with sizes that do not fill a tile — and
 * leave a training step's loss and gradients as the stock kernels had them.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileSimdKernels, SIMD_BINARY, SIMD_SHARED_BINARY } from '../../scripts/build-simd';
import { prepareNodeBackend } from '../../scripts/lib/node-backends';
import { resolveHyperparameters, modelConfigOf } from '../../src/gpt/config';
import { GPT } from '../../src/gpt/model';
import { Rng } from '../../src/gpt/random';
import { installSimdKernels, simdKernelsInstalled, uninstallSimdKernels } from '../../src/gpt/simd/install';

const bytes = new Uint8Array(readFileSync(SIMD_BINARY));
let restore: (() => void) | null = null;

beforeAll(async () => {
  await prepareNodeBackend('wasm');
  uninstallSimdKernels(); // Node's wasm set-up installs them; these tests install and remove them themselves
});

afterAll(async () => {
  restore?.();
  await tf.setBackend('cpu');
});

function random(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** The product by definition: batch items of op(A)·op(B), broadcasting a batch of one. */
function reference(a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], tA: boolean, tB: boolean): Float32Array {
  const ar = aShape.length;
  const br = bShape.length;
  const M = tA ? aShape[ar - 1] : aShape[ar - 2];
  const K = tA ? aShape[ar - 2] : aShape[ar - 1];
  const N = tB ? bShape[br - 2] : bShape[br - 1];
  const aItems = aShape.slice(0, -2).reduce((x, y) => x * y, 1);
  const bItems = bShape.slice(0, -2).reduce((x, y) => x * y, 1);
  const items = Math.max(aItems, bItems);
  const out = new Float32Array(items * M * N);
  for (let p = 0; p < items; p++) {
    const ao = (aItems === 1 ? 0 : p) * M * K;
    const bo = (bItems === 1 ? 0 : p) * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = tA ? a[ao + k * M + i] : a[ao + i * K + k];
          const bv = tB ? b[bo + j * K + k] : b[bo + k * N + j];
          s += av * bv;
        }
        out[p * M * N + i * N + j] = s;
      }
    }
  }
  return out;
}

function maxDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  expect(x.length).toBe(y.length);
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  return d;
}

describe('the SIMD kernels', () => {
  it('are built from their source: the committed binaries are what the compiler gives', () => {
    const fresh = compileSimdKernels();
    expect(fresh.length).toBe(bytes.length);
    expect(Buffer.from(fresh).equals(Buffer.from(bytes))).toBe(true);
    const shared = new Uint8Array(readFileSync(SIMD_SHARED_BINARY));
    expect(Buffer.from(compileSimdKernels(true)).equals(Buffer.from(shared))).toBe(true);
  }, 120_000);

  it('come in a variant for the shared memory of tfjs’s threaded binary, with the same kernels', async () => {
    // The threaded binary's memory: shared, at most 65536 pages (4 GiB).
    const memory = new WebAssembly.Memory({ initial: 32, maximum: 65536, shared: true });
    const shared = new Uint8Array(readFileSync(SIMD_SHARED_BINARY));
    const { instance } = await WebAssembly.instantiate(shared, { env: { memory } });
    await expect(WebAssembly.instantiate(bytes, { env: { memory } })).rejects.toThrow();
    const plain = await WebAssembly.instantiate(bytes, { env: { memory: new WebAssembly.Memory({ initial: 32 }) } });
    expect(Object.keys(instance.exports).sort()).toEqual(Object.keys(plain.instance.exports).sort());
    // One product through the shared build: [1 2; 3 4]·[5 6; 7 8] = [19 22; 43 50].
    const f = new Float32Array(memory.buffer);
    f.set([1, 2, 3, 4, 5, 6, 7, 8], 0);
    (instance.exports.gemm as (...a: number[]) => void)(0, 16, 32, 2, 2, 2, 2, 1, 2, 2);
    expect(Array.from(f.subarray(8, 12))).toEqual([19, 22, 43, 50]);
  });

  it('install on the wasm backend only, and come off again', async () => {
    await tf.setBackend('cpu');
    await expect(installSimdKernels(bytes)).rejects.toThrow(/wasm backend/);
    await tf.setBackend('wasm');
    const off = await installSimdKernels(bytes);
    expect(simdKernelsInstalled()).toBe(true);
    off();
    expect(simdKernelsInstalled()).toBe(false);
    restore = await installSimdKernels(bytes);
  });

  const cases: [string, number[], number[], boolean, boolean][] = [
    ['attention scores q·kᵀ (B, nh, T, hs)', [2, 3, 16, 8], [2, 3, 16, 8], false, true],
    ['attention output p·v', [2, 3, 16, 16], [2, 3, 16, 8], false, false],
    ['its gradient pᵀ·dy', [2, 3, 16, 16], [2, 3, 16, 8], true, false],
    ['both transposed', [3, 12, 20], [3, 8, 12], true, true],
    ['a 2-D gradient dyᵀ·x', [40, 24], [40, 12], true, false],
    ['rows and columns that fill no tile', [2, 7, 5], [2, 5, 6], false, false],
    ['columns a multiple of 4 but not 8, odd rows', [2, 9, 11], [2, 11, 12], false, false],
    ['a broadcast right-hand matrix', [4, 10, 6], [1, 6, 8], false, false],
    ['a broadcast left-hand matrix, transposed', [1, 6, 10], [5, 8, 6], true, true],
  ];
  it.each(cases)('multiply like the definition: %s', (_name, aShape, bShape, tA, tB) => {
    const rng = new Rng(aShape.reduce((x, y) => x * 31 + y, 7));
    const a = random(aShape.reduce((x, y) => x * y, 1), rng);
    const b = random(bShape.reduce((x, y) => x * y, 1), rng);
    const before = tf.memory().numTensors;
    const got = tf.tidy(() => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), tA, tB));
    const values = got.dataSync();
    got.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(maxDiff(values, reference(a, aShape, b, bShape, tA, tB))).toBeLessThan(1e-4);
  });

  it('sum the rows of a matrix, and leave other sums to the stock kernel', () => {
    const rng = new Rng(3);
    const x = random(37 * 13, rng);
    const expected = new Float32Array(13);
    for (let i = 0; i < 37; i++) for (let j = 0; j < 13; j++) expected[j] += x[i * 13 + j];
    const [cols, kept, rows] = tf.tidy(() => {
      const t = tf.tensor2d(x, [37, 13]);
      return [tf.sum(t, 0), tf.sum(t, 0, true), tf.sum(t, 1)];
    });
    expect(maxDiff(cols.dataSync(), expected)).toBeLessThan(1e-4);
    expect(kept.shape).toEqual([1, 13]);
    const rowSums = Array.from({ length: 37 }, (_, i) => x.slice(i * 13, i * 13 + 13).reduce((s, v) => s + v, 0));
    expect(maxDiff(rows.dataSync(), rowSums)).toBeLessThan(1e-4);
    tf.dispose([cols, kept, rows]);
  });

  it('leave a training step’s loss and gradients as the stock kernels give them', async () => {
    const hp = { ...resolveHyperparameters('tiny', { batchSize: 3 }), vocabSize: 20 };
    const model = GPT.create(modelConfigOf(hp), 5);
    const rng = new Rng(11);
    const x = Int32Array.from({ length: 3 * hp.contextLength }, () => rng.int(20));
    const y = Int32Array.from({ length: 3 * hp.contextLength }, () => rng.int(20));
    const measure = () =>
      tf.tidy(() => {
        const idx = tf.tensor2d(x, [3, hp.contextLength], 'int32');
        const tgt = tf.tensor2d(y, [3, hp.contextLength], 'int32');
        const vars = [...model.params.values()];
        const { value, grads } = tf.variableGrads(() => model.loss(idx, tgt), vars);
        return [value, ...vars.map((v) => grads[v.name])];
      });
    const ours = measure();
    restore?.();
    const stock = measure();
    restore = await installSimdKernels(bytes);
    for (let i = 0; i < ours.length; i++) {
      const o = ours[i].dataSync();
      const s = stock[i].dataSync();
      let scale = 0;
      for (const v of s) scale = Math.max(scale, Math.abs(v));
      expect(maxDiff(o, s)).toBeLessThanOrEqual(1e-5 + 1e-4 * scale);
    }
    tf.dispose([...ours, ...stock]);
    model.dispose();
  });
});
