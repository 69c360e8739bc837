/**
 * The Transformers chapter's engine jobs (src/engine/jobs/inspect.ts over src/gpt/inspect.ts), on
 * the cpu backend through the real Engine: attention rows are distributions with nothing above the
 * diagonal, the step-by-step head agrees with the model's own forward pass, the next-token
 * distributions follow their definitions, the parameter counts add up, and no job leaks a tensor.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parameterCount, resolveHyperparameters, type Hyperparameters } from '../../src/gpt/config';
import { Engine } from '../../src/engine/engine';
import type { EngineEvents } from '../../src/engine/protocol';
import { disposeRun, saveCheckpoint, startRun } from '../../src/engine/run';
import { blockParts, cosineMatrix, pca2, partsTotal } from '../../src/gpt/inspect';
import { parameterShapes } from '../../src/gpt/shapes';
import { loadMobyDick } from '../../scripts/lib/corpus-node';
import { CORPUS_URL, fakeHost, PRETRAINED_URL, TEST_ENGINE_OPTIONS } from './engineFixture';

const text = loadMobyDick().slice(0, 40_000);
// Three heads (width 48) so that a head other than the first is tried, a context that holds PROMPT,
// and dropout on, to show that looking inside never applies it.
const hp: Hyperparameters = resolveHyperparameters('tiny', { heads: 3, width: 48, contextLength: 64, batchSize: 2, steps: 1000, warmupSteps: 2, dropout: 0.1 });
const quiet: EngineEvents = { status() {}, metrics() {}, sample() {} };
const PROMPT = 'Call me Ishmael. Some years ago—never mind how long';
let engine: Engine;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const run = startRun(text, hp);
  await run.trainer.run(4); // a few steps, so the weights are not the symmetric initial ones
  const pretrained = await saveCheckpoint(run);
  disposeRun(run);
  engine = new Engine(fakeHost(text, () => pretrained), TEST_ENGINE_OPTIONS);
  const status = await engine.start({ backend: 'cpu', pretrainedUrl: PRETRAINED_URL, corpusUrl: CORPUS_URL }, quiet);
  expect(status.state).toBe('idle');
});

afterAll(async () => {
  await engine?.dispose();
  expect(tf.memory().numTensors).toBe(0);
});

/** Runs `fn` and checks that the engine holds as many tensors afterwards as before. */
async function noLeak<T>(fn: () => Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const out = await fn();
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

function softmax(xs: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(xs));
  const e = Array.from(xs, (x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

describe('attention', () => {
  it('every row of every head is a distribution over the positions before it (and the position itself)', async () => {
    const a = await noLeak(() => engine.inspect.attention({ prompt: PROMPT, layer: 1, head: 2 }));
    const T = [...PROMPT].length;
    expect(a.T).toBe(T);
    expect(a.forward).toHaveLength(hp.layers);
    let nonUniform = 0;
    for (const probs of [a.probs, ...a.forward]) {
      expect(probs.length % (T * T)).toBe(0);
      for (let h = 0; h < probs.length / (T * T); h++) {
        for (let i = 0; i < T; i++) {
          let sum = 0;
          for (let j = 0; j < T; j++) {
            const p = probs[h * T * T + i * T + j];
            if (j > i) expect(p).toBe(0);
            else expect(p).toBeGreaterThan(0);
            sum += p;
          }
          expect(sum).toBeCloseTo(1, 5);
          if (i > 0 && Math.abs(probs[h * T * T + i * T] - 1 / (i + 1)) > 1e-3) nonUniform++;
        }
      }
    }
    expect(nonUniform, 'attention is uniform everywhere: the check would not see a wrong head').toBeGreaterThan(0);
  });

  it('the step-by-step head is the forward pass’s head, and its weighted sum is probs · v', async () => {
    for (const [layer, head] of [
      [0, 0],
      [1, 2],
    ]) {
      const a = await noLeak(() => engine.inspect.attention({ prompt: PROMPT, layer, head }));
      const { T, headSize: hs } = a;
      // The same head, as GPT.forward reported it through onAttention.
      const fwd = a.forward[layer].subarray(head * T * T, (head + 1) * T * T);
      let worst = 0;
      for (let i = 0; i < T * T; i++) worst = Math.max(worst, Math.abs(a.probs[i] - fwd[i]));
      expect(worst).toBeLessThan(1e-5);
      // Another head differs (so the comparison above could fail).
      const other = a.forward[layer].subarray(((head + 1) % a.heads) * T * T, (((head + 1) % a.heads) + 1) * T * T);
      let apart = 0;
      for (let i = 0; i < T * T; i++) apart = Math.max(apart, Math.abs(a.probs[i] - other[i]));
      expect(apart).toBeGreaterThan(1e-4);
      // scores = q·kᵀ/√hs, probs = softmax over j ≤ i, weighted = probs · v.
      for (let i = 0; i < T; i++) {
        for (let j = 0; j <= i; j++) {
          let dot = 0;
          for (let d = 0; d < hs; d++) dot += a.q[i * hs + d] * a.k[j * hs + d];
          expect(a.scores[i * T + j]).toBeCloseTo(dot / Math.sqrt(hs), 4);
        }
        const row = softmax(Array.from(a.scores.subarray(i * T, i * T + i + 1)));
        row.forEach((p, j) => expect(a.probs[i * T + j]).toBeCloseTo(p, 5));
        for (let d = 0; d < hs; d++) {
          let s = 0;
          for (let j = 0; j < T; j++) s += a.probs[i * T + j] * a.v[j * hs + d];
          expect(a.weighted[i * hs + d]).toBeCloseTo(s, 5);
        }
      }
    }
  });

  it('crops a long prompt to the context (its last characters) and refuses a bad layer, head or empty prompt', async () => {
    const long = 'x'.repeat(10) + PROMPT.repeat(2);
    const a = await noLeak(() => engine.inspect.attention({ prompt: long, layer: 0, head: 0 }));
    expect(a.T).toBe(hp.contextLength);
    expect(a.cropped).toBe([...long].length - hp.contextLength);
    expect(a.chars.join('')).toBe([...long].slice(-hp.contextLength).join(''));
    await noLeak(async () => {
      await expect(engine.inspect.attention({ prompt: PROMPT, layer: hp.layers, head: 0 })).rejects.toThrow(/layer/);
      await expect(engine.inspect.attention({ prompt: PROMPT, layer: 0, head: -1 })).rejects.toThrow(/head/);
      await expect(engine.inspect.attention({ prompt: '', layer: 0, head: 0 })).rejects.toThrow(/at least one character/);
    });
  });
});

describe('next token', () => {
  it('is softmax(logits / T), sums to 1, and top-k leaves k tokens, top-p the fewest reaching p', async () => {
    const temperature = 0.7;
    const n = await noLeak(() => engine.inspect.nextToken({ prompt: PROMPT, temperature, topK: 5, topP: 1 }));
    expect(n.logits).toHaveLength(n.vocabulary.length);
    const want = softmax(Array.from(n.logits, (x) => x / temperature));
    want.forEach((p, i) => expect(n.tempered[i]).toBeCloseTo(p, 6));
    softmax(n.logits).forEach((p, i) => expect(n.plain[i]).toBeCloseTo(p, 6));
    for (const d of [n.plain, n.tempered, n.topK, n.final]) expect(d.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(n.topK.filter((p) => p > 0)).toHaveLength(5);
    // The five kept are the five with the highest logits, renormalised.
    const top5 = Array.from(n.logits.keys()).sort((a, b) => n.logits[b] - n.logits[a]).slice(0, 5);
    const kept = top5.reduce((s, i) => s + n.tempered[i], 0);
    for (const i of top5) expect(n.topK[i]).toBeCloseTo(n.tempered[i] / kept, 9);

    const p = await noLeak(() => engine.inspect.nextToken({ prompt: PROMPT, temperature: 1, topK: 0, topP: 0.5 }));
    const sorted = Array.from(p.plain).sort((a, b) => b - a);
    let keep = 0;
    for (let c = 0; c < 0.5; keep++) c += sorted[keep];
    expect(p.final.filter((x) => x > 0)).toHaveLength(keep);
    expect(p.final.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);

    await expect(engine.inspect.nextToken({ prompt: PROMPT, temperature: -1, topK: 0, topP: 1 })).rejects.toThrow(/temperature/);
    await expect(engine.inspect.nextToken({ prompt: PROMPT, temperature: 1, topK: 0, topP: 0 })).rejects.toThrow(/Top-p/);
  });

  it('the last row of the forward pass gives the same logits with or without the rest of the prompt window', async () => {
    const n = await engine.inspect.nextToken({ prompt: PROMPT, temperature: 1, topK: 0, topP: 1 });
    const full = await engine.runJob('read', async (wb) => {
      const ids = Array.from(wb.run.tokenizer.encode(PROMPT).ids);
      const logits = tf.tidy(() => wb.run.model.forward(tf.tensor2d(ids, [1, ids.length], 'int32')));
      const data = await logits.data();
      logits.dispose();
      return data.slice((ids.length - 1) * wb.run.tokenizer.size);
    });
    n.logits.forEach((x, i) => expect(x).toBeCloseTo(full[i], 4));
  });

  it('samples text with a seed: the same seed gives the same text', async () => {
    const req = { prompt: PROMPT, temperature: 0.8, topK: 10, topP: 0.9, maxTokens: 12, seed: 7 };
    const a = await noLeak(() => engine.inspect.sample(req));
    const b = await engine.inspect.sample(req);
    expect([...a.text]).toHaveLength(12);
    expect(b.text).toBe(a.text);
    await expect(engine.inspect.sample({ ...req, maxTokens: 0 })).rejects.toThrow(/1 to 1000/);
  });
});

describe('the block and the embeddings', () => {
  it('counts parameters per part that add up to the model’s, and measures every activation', async () => {
    const b = await noLeak(() => engine.inspect.block({ prompt: PROMPT }));
    const live = (await engine.status()).hp!;
    expect(b.config.vocabSize).toBe(live.vocabSize);
    expect(b.total).toBe(parameterCount(live));
    let fromShapes = 0;
    for (const shape of parameterShapes(live).values()) fromShapes += shape.reduce((x, y) => x * y, 1);
    expect(b.total).toBe(fromShapes);
    const C = hp.width;
    const byKey = Object.fromEntries(b.parts.map((p) => [p.key, p]));
    expect(byKey.c_attn.parameters).toBe(3 * C * C + 3 * C);
    expect(byKey.c_fc.output).toEqual([b.T, 4 * C]);
    expect(byKey.lm_head.output).toEqual([b.T, live.vocabSize]);
    for (const name of ['ln_1', 'attention', 'residual_1', 'ln_2', 'mlp_hidden', 'mlp', 'residual_2']) {
      expect(b.rms[name]).toHaveLength(hp.layers);
      for (const v of b.rms[name]) expect(Number.isFinite(v) && v > 0).toBe(true);
    }
    // LayerNorm with its initial-ish scale 1 and shift 0 gives rows of RMS close to 1.
    expect(b.rms.ln_1[0]).toBeGreaterThan(0.5);
    expect(b.rms.ln_1[0]).toBeLessThan(2);
    for (const preset of ['tiny', 'baby', 'base', 'small'] as const) {
      const c = { ...resolveHyperparameters(preset), vocabSize: 89 };
      const { total, expected } = partsTotal(c);
      expect(total).toBe(expected);
      expect(blockParts(c, 1).find((p) => p.key === 'wpe')!.parameters).toBe(c.contextLength * c.width);
    }
  });

  it('projects the embeddings onto their two main directions and finds each character’s neighbours', async () => {
    const e = await noLeak(() => engine.inspect.embeddings());
    expect(e.token).toHaveLength(e.V * e.C);
    expect(e.tokenXY).toHaveLength(e.V * 2);
    expect(e.tokenExplained[0]).toBeGreaterThanOrEqual(e.tokenExplained[1]);
    expect(e.tokenExplained[0] + e.tokenExplained[1]).toBeLessThanOrEqual(1 + 1e-9);
    // The neighbours are sorted by cosine similarity, which cosineMatrix computes.
    const sim = cosineMatrix(e.token, e.V, e.C);
    for (let i = 0; i < e.V; i++) {
      for (let r = 0; r < e.n; r++) {
        expect(e.neighbours[i * e.n + r]).not.toBe(i);
        expect(e.neighbourSimilarity[i * e.n + r]).toBeCloseTo(sim[i * e.V + e.neighbours[i * e.n + r]], 5);
        if (r > 0) expect(e.neighbourSimilarity[i * e.n + r]).toBeLessThanOrEqual(e.neighbourSimilarity[i * e.n + r - 1]);
      }
    }
    for (let i = 0; i < e.P; i++) expect(e.positionSimilarity[i * e.P + i]).toBeCloseTo(1, 5);
  });

  it('pca2 finds the direction of a line and the variance along it', () => {
    // Points on the line t·(3, 4)/5 plus a small, orthogonal wobble ±0.1·(−4, 3)/5.
    const rows = 21;
    const m = new Float64Array(rows * 2);
    for (let i = 0; i < rows; i++) {
      const t = i - 10;
      const w = i % 2 === 0 ? 0.1 : -0.1;
      m[i * 2] = (3 * t - 4 * w) / 5;
      m[i * 2 + 1] = (4 * t + 3 * w) / 5;
    }
    const { xy, explained } = pca2(m, rows, 2);
    const meanT = 0;
    for (let i = 0; i < rows; i++) expect(Math.abs(xy[i * 2])).toBeCloseTo(Math.abs(i - 10 - meanT), 1);
    expect(explained[0]).toBeGreaterThan(0.999);
    expect(explained[0] + explained[1]).toBeCloseTo(1, 9);
  });

  it('tokens: ids, and unknown characters counted, not dropped', async () => {
    const t = await noLeak(() => engine.inspect.tokens('Whale ☃!'));
    expect(t.chars).toEqual([...'Whale ☃!']);
    expect(t.ids).toHaveLength(8);
    expect(t.unknown).toBe(1);
    expect(t.unknownAt[6]).toBe(true);
    expect(t.ids[6]).toBe(t.fallbackId);
    expect(t.vocabulary[t.ids[0]]).toBe('W');
  });
});
