import * as tf from '@tensorflow/tfjs';
import { parameterCount, resolveHyperparameters, type Hyperparameters } from '../gpt/config';
import { GPT } from '../gpt/model';
import { mixSeed, Rng } from '../gpt/random';
import { Trainer } from './trainer';

/**
 * Verbatim memorisation, measured the way Carlini et al. (2021, 2023) measure it: take a passage,
 * give the model its first K tokens, let it continue greedily (always the most likely next token)
 * for M tokens, and compare with the passage's real next M tokens. Do it for passages the model
 * trained on and for held-out passages it never saw: the difference is memorisation, not just
 * skill at English (a model that merely writes plausible English continues both kinds equally well).
 *
 * Two measures per set of passages: the fraction whose M tokens all match ("exact"), and the mean
 * length of the matching start ("matched": a softer measure that a character-level model, which
 * rarely gets 32 characters right, still moves).
 *
 * Also the growth experiment: small scratch models trained on a short slice of the corpus, measured
 * at several step counts and two widths — memorisation grows with training and with size.
 */

export interface MemorisationExample {
  prompt: number[];
  expected: number[];
  got: number[];
  /** Length of the matching start of `got` and `expected`. */
  matched: number;
}

export interface MemorisationSide {
  /** Fraction of passages whose whole continuation was reproduced. */
  exact: number;
  /** Mean length of the matching start, in tokens. */
  meanMatched: number;
  /** Fraction of continuation tokens equal position by position (a third, looser measure). */
  tokenAccuracy: number;
  samples: number;
  examples: MemorisationExample[];
}

/** `count` window starts in [0, tokenCount − span], drawn with `seed` (repeats are possible but rare). */
export function sampleStarts(tokenCount: number, span: number, count: number, seed: number): number[] {
  if (tokenCount < span) throw new Error(`${tokenCount} tokens cannot hold a passage of ${span}`);
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => rng.int(tokenCount - span + 1));
}

/**
 * Greedy continuation of N prompts of equal length K, all at once: each step is one forward pass
 * of the N rows (the last `contextLength` tokens of each) and an argmax. Returns (N, M) row-major.
 */
export async function greedyContinue(model: GPT, prompts: Int32Array, N: number, K: number, M: number): Promise<Int32Array> {
  if (prompts.length !== N * K) throw new Error(`expected ${N}×${K} prompt tokens, got ${prompts.length}`);
  if (K < 1) throw new Error('the prompt needs at least one token');
  const T = model.config.contextLength;
  const width = K + M;
  const seq = new Int32Array(N * width); // (N, K + M): prompts, then what the model writes
  for (let n = 0; n < N; n++) seq.set(prompts.subarray(n * K, (n + 1) * K), n * width);
  for (let i = 0; i < M; i++) {
    const end = K + i;
    const L = Math.min(end, T);
    const x = new Int32Array(N * L);
    for (let n = 0; n < N; n++) x.set(seq.subarray(n * width + end - L, n * width + end), n * L);
    const next = tf.tidy(() => tf.argMax(model.forward(tf.tensor2d(x, [N, L], 'int32'), { lastOnly: true }), -1)); // (N,)
    const ids = await next.data();
    next.dispose();
    for (let n = 0; n < N; n++) seq[n * width + end] = ids[n];
  }
  const out = new Int32Array(N * M);
  for (let n = 0; n < N; n++) out.set(seq.subarray(n * width + K, (n + 1) * width), n * M);
  return out;
}

export interface MemorisationOptions {
  /** K: prompt tokens. */
  prefixLength: number;
  /** M: tokens the model must reproduce. */
  continuationLength: number;
  /** Passages per set. */
  samples: number;
  seed: number;
  /** Examples kept in the result (the first few passages). */
  examples?: number;
}

/** Prompts the model with passages of `tokens` starting at `starts` and compares its greedy continuations. */
export async function measurePassages(
  model: GPT,
  tokens: Int32Array,
  starts: readonly number[],
  K: number,
  M: number,
  keepExamples = 3,
): Promise<MemorisationSide> {
  const N = starts.length;
  const prompts = new Int32Array(N * K);
  starts.forEach((s, n) => prompts.set(tokens.subarray(s, s + K), n * K));
  const got = await greedyContinue(model, prompts, N, K, M);
  let exact = 0;
  let matchedSum = 0;
  let equal = 0;
  const examples: MemorisationExample[] = [];
  starts.forEach((s, n) => {
    const expected = tokens.subarray(s + K, s + K + M);
    const row = got.subarray(n * M, (n + 1) * M);
    let matched = 0;
    while (matched < M && row[matched] === expected[matched]) matched++;
    for (let j = 0; j < M; j++) if (row[j] === expected[j]) equal++;
    if (matched === M) exact++;
    matchedSum += matched;
    if (examples.length < keepExamples) {
      examples.push({ prompt: [...tokens.subarray(s, s + K)], expected: [...expected], got: [...row], matched });
    }
  });
  return { exact: exact / N, meanMatched: matchedSum / N, tokenAccuracy: equal / (N * M), samples: N, examples };
}

export interface MemorisationReport {
  train: MemorisationSide;
  heldOut: MemorisationSide;
  prefixLength: number;
  continuationLength: number;
}

/** Passages from the training tokens against passages from the held-out tokens, same count and lengths. */
export async function memorisation(
  model: GPT,
  data: { train: Int32Array; heldOut: Int32Array },
  opts: MemorisationOptions,
): Promise<MemorisationReport> {
  const { prefixLength: K, continuationLength: M, samples, seed } = opts;
  const trainStarts = sampleStarts(data.train.length, K + M, samples, mixSeed(seed, 1));
  const heldStarts = sampleStarts(data.heldOut.length, K + M, samples, mixSeed(seed, 2));
  return {
    train: await measurePassages(model, data.train, trainStarts, K, M, opts.examples),
    heldOut: await measurePassages(model, data.heldOut, heldStarts, K, M, opts.examples),
    prefixLength: K,
    continuationLength: M,
  };
}

// ---------------------------------------------------------------------------------------------
// Growth with training steps and model size, on scratch models

export interface GrowthOptions {
  /** The short training text (tokens) the scratch models learn, and held-out tokens of the same kind. */
  train: Int32Array;
  heldOut: Int32Array;
  vocabSize: number;
  /** Model widths to compare (the other settings are the `tiny` preset's, context `contextLength`). */
  widths: number[];
  /** Step counts at which to measure, increasing. */
  checkpoints: number[];
  contextLength: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  prefixLength: number;
  continuationLength: number;
  samples: number;
}

export interface GrowthRow {
  width: number;
  parameters: number;
  step: number;
  trainLoss: number;
  valLoss: number;
  train: Omit<MemorisationSide, 'examples'>;
  heldOut: Omit<MemorisationSide, 'examples'>;
}

export interface GrowthHooks {
  /** True to stop: the experiment ends after the current step with the rows it has. */
  shouldStop?(): boolean;
  /** After every few steps and every measurement. */
  onProgress?(p: { width: number; step: number; done: number; total: number; row?: GrowthRow }): void | Promise<void>;
}

/** The scratch models' hyperparameters for one width. */
export function growthHyperparameters(o: GrowthOptions, width: number): Hyperparameters {
  const last = o.checkpoints[o.checkpoints.length - 1];
  return resolveHyperparameters('tiny', {
    width,
    contextLength: o.contextLength,
    batchSize: o.batchSize,
    vocabSize: o.vocabSize,
    learningRate: o.learningRate,
    minLearningRate: o.learningRate / 10,
    warmupSteps: Math.min(20, Math.floor(last / 10)),
    steps: last,
    weightDecay: 0,
    dropout: 0,
    seed: o.seed,
  });
}

/**
 * Trains one scratch model per width on `train`, measuring memorisation at each checkpoint; every
 * model is disposed before the next is built. Returns the rows measured (all of them unless stopped).
 */
export async function memorisationGrowth(o: GrowthOptions, hooks: GrowthHooks = {}): Promise<{ rows: GrowthRow[]; stopped: boolean }> {
  const checkpoints = [...o.checkpoints].sort((a, b) => a - b);
  if (checkpoints.length === 0 || checkpoints[0] < 1) throw new Error('the checkpoints must be step counts ≥ 1');
  const span = o.prefixLength + o.continuationLength;
  const trainStarts = sampleStarts(o.train.length, span, o.samples, mixSeed(o.seed, 11));
  const heldStarts = sampleStarts(o.heldOut.length, span, o.samples, mixSeed(o.seed, 12));
  const total = o.widths.length * checkpoints[checkpoints.length - 1];
  const rows: GrowthRow[] = [];
  const strip = ({ examples: _examples, ...rest }: MemorisationSide) => rest;
  let stopped = false;
  for (const [wi, width] of o.widths.entries()) {
    const hp = growthHyperparameters(o, width);
    const model = GPT.create(hp, hp.seed);
    const trainer = new Trainer(model, { train: o.train, val: o.heldOut }, hp);
    try {
      let lastLoss = NaN;
      for (const target of checkpoints) {
        await trainer.run(
          target - trainer.step,
          async (r) => {
            lastLoss = r.trainLoss;
            if (hooks.shouldStop?.()) {
              stopped = true;
              trainer.stop();
            }
            await hooks.onProgress?.({ width, step: r.step, done: wi * checkpoints[checkpoints.length - 1] + r.step, total });
          },
          10,
        );
        if (stopped) break;
        const row: GrowthRow = {
          width,
          parameters: parameterCount(hp),
          step: trainer.step,
          trainLoss: lastLoss,
          valLoss: await trainer.evaluate(),
          train: strip(await measurePassages(model, o.train, trainStarts, o.prefixLength, o.continuationLength, 0)),
          heldOut: strip(await measurePassages(model, o.heldOut, heldStarts, o.prefixLength, o.continuationLength, 0)),
        };
        rows.push(row);
        await hooks.onProgress?.({ width, step: trainer.step, done: wi * checkpoints[checkpoints.length - 1] + trainer.step, total, row });
        if (hooks.shouldStop?.()) {
          stopped = true;
          break;
        }
      }
    } finally {
      trainer.dispose();
      model.dispose();
    }
    if (stopped) break;
  }
  return { rows, stopped };
}
