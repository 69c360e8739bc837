/**
 * The Languages and Frameworks jobs (src/engine/jobs/measure.ts) through a real Engine on cpu:
 * the loop agrees with tf.matMul, the benchmark's ways agree with each other, tf.grad agrees with
 * finite differences (expression and attention head), the profile leaves the reader's run exactly
 * as it was, and bad requests are refused with a message naming the field.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHyperparameters, type Hyperparameters } from '../../src/gpt/config';
import { Engine } from '../../src/engine/engine';
import type { EngineEvents } from '../../src/engine/protocol';
import { disposeRun, saveCheckpoint, startRun } from '../../src/engine/run';
import { HEAD_INPUTS, headFiniteDifferences, headTensors } from '../../src/engine/measure/attention';
import { DEFAULT_INPUTS, EXPRESSION, finiteDifferences, relativeError, type ExpressionInputs } from '../../src/engine/measure/expression';
import { loopRows, maxAbsDiff, tripleLoop } from '../../src/engine/measure/loop';
import { matmulInputs } from '../../src/engine/measure/matmul';
import { loadMobyDick } from '../../scripts/lib/corpus-node';
import { configureNodeWasm } from '../../scripts/lib/node-backends';
import { CORPUS_URL, fakeHost, PRETRAINED_URL, TEST_ENGINE_OPTIONS } from './engineFixture';

const text = loadMobyDick().slice(0, 40_000);
const tiny: Hyperparameters = resolveHyperparameters('tiny', { batchSize: 2, steps: 10_000, warmupSteps: 5 });
const quiet: EngineEvents = { status() {}, metrics() {}, sample() {} };
let engine: Engine;

beforeAll(async () => {
  await tf.setBackend('cpu');
  configureNodeWasm();
  const run = startRun(text, tiny);
  const pretrained = await saveCheckpoint(run);
  disposeRun(run);
  engine = new Engine(fakeHost(text, () => pretrained), TEST_ENGINE_OPTIONS);
  const status = await engine.start({ backend: 'cpu', pretrainedUrl: PRETRAINED_URL, corpusUrl: CORPUS_URL }, quiet);
  expect(status.state).toBe('idle');
}, 60_000);

afterAll(async () => {
  await engine?.dispose();
  await tf.setBackend('cpu');
  expect(tf.memory().numTensors).toBe(0);
});

describe('the TypeScript triple loop', () => {
  it('gives the product tf.matMul gives, all rows or the first few', async () => {
    const n = 40;
    const { a, b } = matmulInputs(n, 3);
    const expected = tf.tidy(() => tf.matMul(tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n])).dataSync());
    const full = tripleLoop(a, b, n);
    expect(full.length).toBe(n * n);
    expect(maxAbsDiff(full, expected)).toBeLessThan(1e-5);
    const some = tripleLoop(a, b, n, 7);
    expect(some.length).toBe(7 * n);
    expect(maxAbsDiff(some, expected, 7 * n)).toBeLessThan(1e-5);
    // The comparison notices a wrong product: B transposed gives another matrix.
    const bt = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) bt[j * n + i] = b[i * n + j];
    expect(maxAbsDiff(tripleLoop(a, bt, n), expected)).toBeGreaterThan(0.1);
  });

  it('computes fewer rows only above n = 512, within the same flop budget', () => {
    expect(loopRows(512)).toBe(512);
    expect(loopRows(100)).toBe(100);
    expect(loopRows(1024)).toBe(128);
    expect(2 * loopRows(2048) * 2048 ** 2).toBeLessThanOrEqual(2 * 512 ** 3);
  });
});

describe('measure.matmul', () => {
  it('runs the loop, cpu and wasm on one product that agree, and says why webgpu cannot run in Node', async () => {
    const before = tf.memory().numTensors;
    const progress: string[] = [];
    const report = await engine.measure.matmul({ n: 48, ways: ['typescript', 'cpu', 'wasm', 'webgpu'] }, (p) => {
      progress.push(`${p.done}/${p.total} ${p.way}`);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.getBackend()).toBe('cpu'); // the reader's backend is back
    expect(report.n).toBe(48);
    expect(report.reference).toBe('cpu');
    const by = Object.fromEntries(report.ways.map((w) => [w.way, w]));
    for (const way of ['typescript', 'cpu', 'wasm'] as const) {
      const r = by[way];
      expect(r.available, `${way}: ${r.reason}`).toBe(true);
      expect(r.rows).toBe(48);
      expect(r.flops).toBe(2 * 48 ** 3);
      expect(Number.isFinite(r.gflops) && r.gflops > 0).toBe(true);
      // GFLOP/s is the flops over the median time.
      expect(r.gflops).toBeCloseTo(r.flops / (r.medianMs / 1000) / 1e9, 6);
      expect(r.samples).toBeGreaterThanOrEqual(1);
      expect(r.warmUpOnly).toBe(false);
      expect(r.bestMs).toBeLessThanOrEqual(r.medianMs);
    }
    expect(by.cpu.maxAbsDiff).toBeNull();
    expect(by.typescript.maxAbsDiff!).toBeLessThan(1e-4);
    expect(by.wasm.maxAbsDiff!).toBeLessThan(1e-4);
    expect(report.referenceMaxAbs!).toBeGreaterThan(1);
    expect(by.webgpu.available).toBe(false);
    expect(by.webgpu.reason).toMatch(/navigator\.gpu/);
    expect(report.shader).toBeNull();
    expect(progress[0]).toBe('0/4 typescript');
    expect(progress[progress.length - 1]).toBe('4/4 webgpu');
  }, 60_000);

  it('refuses bad sizes and ways with a message naming the field', async () => {
    const refused = async (req: unknown) => {
      try {
        await engine.measure.matmul(req as never);
      } catch (err) {
        return { field: (err as { field?: string }).field, message: (err as Error).message };
      }
      throw new Error('accepted');
    };
    expect(await refused({ n: 8, ways: ['cpu'] })).toEqual({ field: 'n', message: 'the size must lie between 16 and 2048' });
    expect(await refused({ n: 4096, ways: ['cpu'] })).toEqual({ field: 'n', message: 'the size must lie between 16 and 2048' });
    expect(await refused({ n: 100.5, ways: ['cpu'] })).toEqual({ field: 'n', message: 'the size must be a whole number' });
    expect(await refused({ n: 'big', ways: ['cpu'] })).toEqual({ field: 'n', message: 'the size must be a number' });
    expect(await refused({ n: 64, ways: [] })).toEqual({ field: 'ways', message: 'choose at least one way to run' });
    expect(await refused({ n: 64, ways: ['cuda'] })).toEqual({ field: 'ways', message: 'unknown way “cuda”' });
  });
});

describe('measure.grad', () => {
  const cases: ExpressionInputs[] = [DEFAULT_INPUTS, { a: -1.2, b: 0.3, c: 2 }, { a: 2.5, b: 1.1, c: -0.4 }];
  it.each(cases)('matches central finite differences at every node (%o)', async (inputs) => {
    const before = tf.memory().numTensors;
    const r = await engine.measure.grad(inputs);
    expect(tf.memory().numTensors).toBe(before);
    const fd = finiteDifferences(inputs);
    for (const node of EXPRESSION) {
      const err = relativeError(r.gradients[node.id], fd.get(node.id)!);
      expect(err, `${node.id}: tf ${r.gradients[node.id]} vs fd ${fd.get(node.id)}`).toBeLessThan(1e-4);
    }
    // And with the chain rule by hand: ∂f/∂a = b·(1 − w²)·a + w (a is read twice).
    const { a, b } = inputs;
    const w = Math.tanh(a * b + inputs.c);
    expect(r.values.f).toBeCloseTo(w * a, 5);
    expect(r.gradients.a).toBeCloseTo(b * (1 - w * w) * a + w, 5);
  });

  it('refuses an input that is not a number, naming it', async () => {
    await expect(engine.measure.grad({ ...DEFAULT_INPUTS, b: Number.NaN })).rejects.toMatchObject({ field: 'b', message: 'b must be a number' });
    await expect(engine.measure.grad({ ...DEFAULT_INPUTS, c: 50 })).rejects.toMatchObject({ field: 'c' });
  });
});

describe('measure.headGrad', () => {
  it.each([
    { seed: 1, causal: true },
    { seed: 7, causal: false },
  ])('gives ∂L/∂Q, ∂L/∂K, ∂L/∂V that match finite differences (%o)', async (req) => {
    const before = tf.memory().numTensors;
    const r = await engine.measure.headGrad(req);
    expect(tf.memory().numTensors).toBe(before);
    const t = headTensors(req.seed);
    expect(r.q).toEqual(t.q);
    const fd = headFiniteDifferences(t, req.causal);
    for (const name of HEAD_INPUTS) {
      const g = r.gradients[name];
      const f = fd[name];
      const diff = Math.sqrt(g.reduce((s, x, i) => s + (x - f[i]) ** 2, 0));
      const norm = Math.max(Math.sqrt(f.reduce((s, x) => s + x * x, 0)), 1e-6);
      expect(diff / norm, `${name}`).toBeLessThan(1e-4);
    }
    // Causal: the first query attends only to the first key, so its row of P is [1, 0, 0, 0] and Q's first row gets no gradient.
    if (req.causal) {
      expect(r.probs.slice(0, 4)).toEqual([1, 0, 0, 0]);
      expect(r.gradients.q.slice(0, 3).every((x) => Math.abs(x) < 1e-7)).toBe(true);
    }
  });
});

describe('measure.profile', () => {
  it('profiles one step of a scratch copy and leaves the reader’s weights, optimizer and step exactly as they were', async () => {
    const snapshot = () =>
      engine.runJob('read', async (wb) => ({
        step: wb.run.trainer.step,
        weights: new Map(await Promise.all([...wb.run.model.params].map(async ([k, v]) => [k, Array.from(await v.data())] as const))),
        moments: await wb.run.trainer.optimizer.exportMoments(),
        t: wb.run.trainer.optimizer.t,
      }));
    // Train a few steps first so the optimizer has state to disturb.
    await engine.step();
    const before = await snapshot();
    const tensors = tf.memory().numTensors;
    const report = await engine.measure.profile();
    expect(tf.memory().numTensors).toBe(tensors);
    const after = await snapshot();
    expect(after.step).toBe(before.step);
    expect(after.t).toBe(before.t);
    expect(after.weights).toEqual(before.weights); // bit-identical
    expect([...after.moments.keys()]).toEqual([...before.moments.keys()]);
    for (const [k, m] of before.moments) {
      expect(Array.from(after.moments.get(k)!.m)).toEqual(Array.from(m.m));
      expect(Array.from(after.moments.get(k)!.v)).toEqual(Array.from(m.v));
    }

    expect(report.backend).toBe('cpu');
    expect(report.timed).toBe(true);
    const names = report.kernels.map((k) => k.name);
    expect(names).toContain('BatchMatMul');
    expect(names).toContain('Softmax');
    expect(new Set(names).size).toBe(names.length); // one row per kernel name
    // The model's custom-gradient Linear shows as a composite row, kept out of the totals (its kernels have their own rows).
    const kernels = report.kernels.filter((k) => !k.composite);
    const composite = report.kernels.filter((k) => k.composite);
    expect(composite.length).toBeGreaterThan(0);
    expect(report.kernels.slice(-composite.length).every((k) => k.composite)).toBe(true);
    expect(report.totals.calls).toBe(kernels.reduce((s, k) => s + k.calls, 0));
    expect(report.totals.distinctKernels).toBe(kernels.length);
    expect(report.totals.timeMs).toBeCloseTo(kernels.reduce((s, k) => s + k.timeMs, 0), 9);
    for (let i = 1; i < kernels.length; i++) expect(kernels[i - 1].timeMs).toBeGreaterThanOrEqual(kernels[i].timeMs);
    expect(report.totals.newTensors).toBe(2); // the loss and the gradient norm the step returns
    expect(report.totals.peakBytes).toBeGreaterThan(0);
    expect(Number.isFinite(report.loss) && report.loss > 0).toBe(true);
    expect(report.config).toMatchObject({ layers: tiny.layers, heads: tiny.heads, width: tiny.width, contextLength: tiny.contextLength });
    // c_attn makes (B·T, 3C) outputs: tiny with the fixture's batch of 2 is (64, 96).
    const matmul = report.kernels.find((k) => k.name === 'BatchMatMul')!;
    expect(matmul.calls).toBeGreaterThan(10);
    expect(report.kernels.some((k) => k.outputShapes.includes(`${report.config.batchSize * report.config.contextLength}×${3 * report.config.width}`))).toBe(true);
  }, 60_000);
});
