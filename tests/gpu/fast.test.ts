/**
 * The fast path on wasm and on webgpu (Dawn; SwiftShader where there is no GPU, which also takes the
 * barrier-free kernel variants) computes what the reference computes on the same backend: the loss,
 * every parameter's gradient and one clipped AdamW step of a tiny model; and its training keeps
 * tensors and bytes flat. Tiny sizes: SwiftShader is about a hundred times slower than a GPU.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { modelConfigOf, resolveHyperparameters } from '../../src/gpt/config';
import { GPT } from '../../src/gpt/model';
import { Rng } from '../../src/gpt/random';
import { fastAgreement } from '../../src/gpt/fast/agreement';
import { FastTrainer } from '../../src/train/fastTrainer';
import * as ops from '../../src/gpt/fast/ops';
import { gemmSplits } from '../../src/gpt/fast/programs';
import type { BackendName } from '../../src/engine/backends';
import { prepareNodeBackend } from '../../scripts/lib/node-backends';
import { countWebGPUPrograms } from '../../bench/counters';

const hp = resolveHyperparameters('tiny', { vocabSize: 24, batchSize: 3, warmupSteps: 0 });

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('the tiled WebGPU kernels (those a real GPU takes)', () => {
  it('compute what the barrier-free variants compute, at sizes that are not multiples of a tile', { timeout: 600_000 }, async () => {
    await prepareNodeBackend('webgpu');
    const N = 40;
    const C = 12;
    const V = 7;
    const before = tf.memory().numTensors;
    const th = tf.randomNormal([5000], 0, 1, 'float32', 1);
    const x = tf.randomNormal([N, C], 0, 1, 'float32', 2);
    const x3 = tf.randomNormal([N, 3 * C], 0, 1, 'float32', 3);
    const x4 = tf.randomNormal([N, 4 * C], 0, 1, 'float32', 4);
    const logits = tf.randomNormal([N, V], 0, 1, 'float32', 5);
    const targets = tf.tensor1d(Int32Array.from({ length: N }, (_, i) => (i * 3) % V), 'int32');
    const ln = ops.layerNorm(x, th, 3, 50, N, C);
    // A weight gradient summed over more rows than a batch here has: the tiled variant splits K.
    const R = 4100;
    const long1 = tf.randomNormal([R, C], 0, 1, 'float32', 6);
    const long2 = tf.randomNormal([R, C + 3], 0, 1, 'float32', 7);
    expect(gemmSplits(C, C + 4, R)).toBeGreaterThan(1);
    const cases: [string, () => tf.Tensor][] = [
      ['linear with bias', () => ops.gemm({ t: ln, off: 0, rows: N, cols: C }, { t: th, off: 100, rows: 3 * C, cols: C, trans: true }, { bias: { theta: th, off: 7 } })],
      ['GELU, bias and residual', () => ops.gemm({ t: x4, off: 0, rows: N, cols: 4 * C }, { t: th, off: 9, rows: C, cols: 4 * C, trans: true }, { geluA: true, residual: x, bias: { theta: th, off: 1 } })],
      ['backward through GELU', () => ops.gemm({ t: x, off: 0, rows: N, cols: C }, { t: th, off: 11, rows: C, cols: 4 * C }, { geluGradOf: x4 })],
      ['weight and bias gradient', () => ops.gemm({ t: x3, off: 0, rows: N, cols: 3 * C, trans: true }, { t: ln, off: 0, rows: N, cols: C }, { onesB: true, splitLast: true })],
      ['weight gradient through GELU', () => ops.gemm({ t: x, off: 0, rows: N, cols: C, trans: true }, { t: x4, off: 0, rows: N, cols: 4 * C }, { geluB: true, onesB: true, splitLast: true })],
      ['odd sizes: 13×7 by 7×9', () => ops.gemm({ t: th, off: 5, rows: 13, cols: 7 }, { t: th, off: 200, rows: 7, cols: 9 })],
      ['odd sizes, both read transposed, ones column', () => ops.gemm({ t: th, off: 5, rows: 7, cols: 13, trans: true }, { t: th, off: 200, rows: 9, cols: 7, trans: true }, { onesB: true })],
      ['LayerNorm', () => ops.layerNorm(x, th, 3, 50, N, C)],
      ['LayerNorm backward', () => ops.layerNormBackward(x3.slice([0, 0], [N, C]), x, ln, th, 3, N, C, x)],
      ['cross-entropy', () => ops.crossEntropy(logits, targets, N, V)],
      ['weight gradient split along K', () => ops.gemm({ t: long1, off: 0, rows: R, cols: C, trans: true }, { t: long2, off: 0, rows: R, cols: C + 3 }, { geluB: true, onesB: true, splitLast: true })],
      ['attention (direct: unrolled over the head)', () => ops.attention(x3, { B: 4, T: 10, heads: 3, C })],
      ['attention backward (tiled: three programs)', () => ops.attentionBackward(x3, ops.attention(x3, { B: 4, T: 10, heads: 3, C }), x, { B: 4, T: 10, heads: 3, C })],
    ];
    // A shader that fails to compile runs nothing, and its output could still hold an earlier
    // result from the buffer pool: every validation error (a WGSL compile error among them) fails.
    const device = (tf.backend() as unknown as { device: GPUDevice }).device;
    device.pushErrorScope('validation');
    try {
      for (const [name, f] of cases) {
        const values = async (v: ops.KernelVariant) => {
          ops.setKernelVariant(v);
          const r = tf.tidy(f);
          const data = (await r.data()) as Float32Array;
          r.dispose();
          return data;
        };
        const a = await values('direct');
        const b = await values('tiled');
        let diff = 0;
        let scale = 0;
        for (let i = 0; i < a.length; i++) {
          diff = Math.max(diff, Math.abs(a[i] - b[i]));
          scale = Math.max(scale, Math.abs(a[i]));
        }
        expect(scale, name).toBeGreaterThan(0.1);
        expect(diff / scale, name).toBeLessThan(1e-5);
      }
    } finally {
      const error = await device.popErrorScope();
      expect(error?.message ?? null).toBeNull();
      ops.setKernelVariant('auto');
      tf.dispose([th, x, x3, x4, logits, targets, ln, long1, long2]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe.each(['wasm', 'webgpu'] as BackendName[])('the fast path on %s', (backend) => {
  it('agrees with the reference on the loss, every gradient and one AdamW step', { timeout: 600_000 }, async () => {
    await prepareNodeBackend(backend);
    expect(tf.getBackend()).toBe(backend);
    const before = tf.memory().numTensors;
    const d = await fastAgreement(hp);
    expect(d.loss).toBeLessThan(1e-4);
    expect(d.grads).toBeLessThan(1e-4);
    expect(d.gradNorm).toBeLessThan(1e-4);
    // One step moves weights by about the learning rate (1e-3 here); agreement must be far finer.
    expect(d.weightsAfterStep).toBeLessThan(1e-5);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps tensors and bytes flat over many steps, with a fixed number of GPU programs per step', { timeout: 600_000 }, async () => {
    await prepareNodeBackend(backend);
    const rng = new Rng(4);
    const tokens = Int32Array.from({ length: 3000 }, () => rng.int(hp.vocabSize));
    const before = tf.memory();
    const model = GPT.create(modelConfigOf(hp), 2);
    const trainer = new FastTrainer(model, { train: tokens.subarray(0, 2500), val: tokens.subarray(2500) }, hp);
    await trainer.run(3, undefined, 3);
    const after3 = tf.memory();
    const counter = backend === 'webgpu' ? countWebGPUPrograms() : null;
    await trainer.run(6, undefined, 3);
    const programs = counter?.read();
    counter?.restore();
    const after9 = tf.memory();
    expect(after9.numTensors).toBe(after3.numTensors);
    expect(after9.numBytes).toBe(after3.numBytes);
    if (programs !== undefined) {
      // SwiftShader: 2 layers of 24 programs (8 forward, 16 backward: attention's backward as three,
      // and GELU applied once before each of the two products that read GELU(u)), 16 around them; a
      // write-back of the 28 parameters at each of the 2 reports (every 3 steps) and at the end.
      // (A real GPU takes 2 fewer a layer: its tiled products apply GELU as they load.)
      expect(programs).toBe(6 * (2 * 24 + 16) + 3 * 28);
    }
    trainer.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
  });
});
