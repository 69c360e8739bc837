/**
 * Data parallelism, simulated (src/train/dataParallel.ts): the ring all-reduce sums, moves the
 * bytes the textbook says, and N workers on shards of a batch take the same step as one worker on
 * the whole batch.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelConfigOf, resolveHyperparameters } from '../../src/gpt/config';
import { GPT } from '../../src/gpt/model';
import { Rng } from '../../src/gpt/random';
import { CharTokenizer } from '../../src/gpt/tokenizer';
import { batchAt, randomStarts } from '../../src/train/data';
import {
  dataParallelStep,
  difference,
  flatGradient,
  ringAllReduce,
  ringBytesPerWorker,
  shardSizes,
} from '../../src/train/dataParallel';
import { loadMobyDick } from '../../scripts/lib/corpus-node';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** N buffers of `length` seeded random values. */
function randomBuffers(N: number, length: number, seed: number, integers = false): Float32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: N }, () =>
    Float32Array.from({ length }, () => (integers ? rng.int(2001) - 1000 : rng.normal())),
  );
}

/** The element-wise sum, in float64. */
function plainSum(buffers: Float32Array[]): Float64Array {
  const out = new Float64Array(buffers[0].length);
  for (const b of buffers) for (let i = 0; i < b.length; i++) out[i] += b[i];
  return out;
}

describe('ring all-reduce', () => {
  const cases: [number, number][] = [
    [1, 7],
    [2, 9],
    [3, 10],
    [4, 4],
    [4, 1023],
    [5, 3],
    [7, 100],
    [8, 1001],
  ];

  it.each(cases)('with %i workers and %i values leaves the exact sum in every buffer (integers, so no rounding)', (N, P) => {
    const buffers = randomBuffers(N, P, 10 * N + P, true);
    const expected = plainSum(buffers);
    ringAllReduce(buffers);
    for (const b of buffers) expect(Array.from(b)).toEqual(Array.from(expected));
  });

  it.each(cases)('with %i workers and %i values matches the float64 sum of random normals within float32 rounding', (N, P) => {
    const buffers = randomBuffers(N, P, 7 * N + P);
    const expected = plainSum(buffers);
    ringAllReduce(buffers);
    for (const b of buffers) {
      for (let i = 0; i < P; i++) expect(Math.abs(b[i] - expected[i])).toBeLessThanOrEqual(1e-5 * N);
    }
    // All workers hold bit-identical results: the all-gather copies, it does not re-add.
    for (const b of buffers.slice(1)) expect(difference(b, buffers[0]).maxAbs).toBe(0);
  });

  it.each(cases)('with %i workers and %i values sends 2·(N−1)/N of the buffer per worker', (N, P) => {
    const stats = ringAllReduce(randomBuffers(N, P, 3), { trace: true });
    const bytes = P * 4;
    expect(stats.rounds).toBe(2 * (N - 1));
    // Every round moves each chunk exactly once, so the total is exact whatever P is.
    expect(stats.totalBytes).toBe(2 * (N - 1) * bytes);
    expect(stats.expectedBytesPerWorker).toBeCloseTo((2 * (N - 1) * bytes) / N, 9);
    const largestChunk = Math.max(...stats.chunkStarts.slice(1).map((s, c) => s - stats.chunkStarts[c])) * 4;
    for (const sent of stats.bytesSentPerWorker) {
      if (P % N === 0) expect(sent).toBe(stats.expectedBytesPerWorker);
      else expect(Math.abs(sent - stats.expectedBytesPerWorker)).toBeLessThanOrEqual(2 * (N - 1) * largestChunk);
    }
    // Only neighbours talk: i sends to i+1, and each worker sends 2(N−1) messages.
    expect(stats.messages!.every((m) => m.to === (m.from + 1) % N)).toBe(true);
    expect(stats.messages!.length).toBe(2 * N * (N - 1));
    expect(stats.messages!.reduce((a, m) => a + m.bytes, 0)).toBe(stats.totalBytes);
  });

  it('sends exactly 2·(N−1)/N · P · 4 bytes per worker when N divides P', () => {
    for (const N of [2, 4, 8]) {
      const P = 64 * N;
      const stats = ringAllReduce(randomBuffers(N, P, N));
      expect(new Set(stats.bytesSentPerWorker)).toEqual(new Set([(2 * (N - 1) * P * 4) / N]));
      expect(ringBytesPerWorker(P, N)).toBe((2 * (N - 1) * P * 4) / N);
    }
  });

  it('refuses buffers of different lengths', () => {
    expect(() => ringAllReduce([new Float32Array(3), new Float32Array(4)])).toThrow(/worker 1's buffer has 4 values/);
  });
});

describe('shards', () => {
  it('split the batch as evenly as possible and refuse more workers than windows', () => {
    expect(shardSizes(12, 5)).toEqual([3, 3, 2, 2, 2]);
    expect(shardSizes(8, 8)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(() => shardSizes(3, 4)).toThrow(/4 workers need a batch of at least 4/);
  });
});

describe('a data-parallel step', () => {
  const text = loadMobyDick().slice(0, 20_000);
  const tokenizer = CharTokenizer.fromText(text);
  const tokens = tokenizer.encode(text).ids;
  const hp = resolveHyperparameters('tiny', { vocabSize: tokenizer.size, contextLength: 16 });
  let model: GPT;

  beforeAll(() => {
    model = GPT.create(modelConfigOf(hp), 5);
  });
  afterAll(() => {
    model.dispose();
    expect(tf.memory().numTensors).toBe(0);
  });

  const batchOf = (B: number, seed: number) => batchAt(tokens, randomStarts(new Rng(seed), tokens.length, hp.contextLength, B), hp.contextLength);
  const optimizer = { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.1, gradClip: 1.0 };

  it.each([1, 2, 3, 4, 6])('with %i workers gives the single-batch gradient and update, and leaves the weights and tensors as they were', async (N) => {
    const batch = batchOf(6, 40 + N);
    const before = (await model.params.get('transformer.h.0.attn.c_attn.weight')!.data()).slice();
    const tensors = tf.memory().numTensors;
    const r = await dataParallelStep(model, batch, { workers: N, learningRate: 1e-3, optimizer, trace: true });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(Array.from(await model.params.get('transformer.h.0.attn.c_attn.weight')!.data())).toEqual(Array.from(before));

    expect(r.parameters).toBe([...model.params.values()].reduce((a, v) => a + v.size, 0));
    expect(r.perWorker.map((w) => w.windows).reduce((a, b) => a + b, 0)).toBe(6);
    expect(r.parallelLoss).toBeCloseTo(r.singleLoss, 5);
    expect(r.gradient.norm).toBeGreaterThan(0);
    expect(r.gradient.relative).toBeLessThan(1e-5);
    expect(r.update.norm).toBeGreaterThan(0);
    expect(r.update.relative).toBeLessThan(1e-3);
    expect(r.equal).toBe(true);
    expect(r.ring.totalBytes).toBe(2 * (N - 1) * r.parameters * 4);
    expect(r.perWorker.map((w) => w.bytesSent)).toEqual(r.ring.bytesSentPerWorker);
  });

  it('would notice a wrong reduction: the plain mean of uneven shards is not the batch gradient', async () => {
    // 5 windows on 2 workers (3 + 2): averaging the two shard gradients with 1/2 each, instead of
    // 3/5 and 2/5, gives another gradient, so the comparison above can fail.
    const batch = batchOf(5, 99);
    const a = await flatGradient(model, { ...batch, x: batch.x.slice(0, 3 * 16), y: batch.y.slice(0, 3 * 16), batchSize: 3 });
    const b = await flatGradient(model, { ...batch, x: batch.x.slice(3 * 16), y: batch.y.slice(3 * 16), batchSize: 2 });
    const whole = await flatGradient(model, batch);
    const plainMean = a.gradient.map((g, i) => (g + b.gradient[i]) / 2);
    const weighted = a.gradient.map((g, i) => (3 * g + 2 * b.gradient[i]) / 5);
    expect(difference(plainMean, whole.gradient).relative).toBeGreaterThan(1e-3);
    expect(difference(weighted, whole.gradient).relative).toBeLessThan(1e-5);
  });
});
