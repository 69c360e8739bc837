import * as tf from '@tensorflow/tfjs';
import { formatPair, pairPrompt, validatePair, type PairError, type QAPair } from '../corpus/sft';
import type { GPT } from '../gpt/model';
import { Rng } from '../gpt/random';
import { generate } from '../gpt/sample';
import type { CharTokenizer } from '../gpt/tokenizer';
import { AdamW, type AdamWSettings } from './adamw';
import { learningRateAt } from './schedule';

/**
 * Supervised fine-tuning (SFT): training a pre-trained model on question–answer pairs with the loss
 * masked to the answers. Each pair becomes one window of the context length:
 *
 *     text     U s e r :   W h o ? \n A s s i s t a n t :   A   G P T . \n \n
 *     inputs   the text without its last character, padded to T
 *     targets  the text without its first character, padded to T
 *     weights  0 where the target is still the prompt, 1 where it is the answer, 0 on the padding
 *
 * so the loss is the mean cross-entropy over answer characters only: the model learns to write
 * answers, not to predict the reader's questions. Causal attention means the padding after a pair
 * cannot change what the model computes for the pair itself.
 */

export { formatPair, validatePair, type PairError, type QAPair };

/** A bad pair, with its problems on their fields; nothing was trained. */
export class PairValidationError extends Error {
  readonly index: number;
  readonly errors: PairError[];
  constructor(index: number, errors: PairError[]) {
    super(`Pair ${index + 1}: ${errors.map((e) => e.message).join(' ')}`);
    this.name = 'PairValidationError';
    this.index = index;
    this.errors = errors;
  }
}

/** Throws a PairValidationError for the first bad pair of `pairs`. */
export function checkPairs(pairs: readonly QAPair[], tokenizer: CharTokenizer, contextLength: number): void {
  const vocabulary = new Set(tokenizer.vocabulary);
  pairs.forEach((p, i) => {
    const errors = validatePair(p, vocabulary, contextLength);
    if (errors.length > 0) throw new PairValidationError(i, errors);
  });
}

/** The pairs that fit a model, and how many did not (too long for its context, or foreign characters). */
export function pairsThatFit(pairs: readonly QAPair[], tokenizer: CharTokenizer, contextLength: number): { fit: QAPair[]; leftOut: number } {
  const vocabulary = new Set(tokenizer.vocabulary);
  const fit = pairs.filter((p) => validatePair(p, vocabulary, contextLength).length === 0);
  return { fit, leftOut: pairs.length - fit.length };
}

/** B windows of length T with per-position loss weights, as plain arrays. */
export interface MaskedBatch {
  /** (B, T) input ids. */
  x: Int32Array;
  /** (B, T) target ids. */
  y: Int32Array;
  /** (B·T) loss weights: 1 on answer targets, 0 elsewhere. */
  weights: Float32Array;
  batchSize: number;
  contextLength: number;
}

/**
 * One window per (prompt, completion): targets from the completion get weight 1. Both are token
 * ids; prompt + completion must have at most T + 1 tokens (the last one is only ever a target).
 * Padding repeats `padId` with weight 0.
 */
export function maskedWindows(rows: readonly { prompt: ArrayLike<number>; completion: ArrayLike<number> }[], contextLength: number, padId: number): MaskedBatch {
  const B = rows.length;
  const T = contextLength;
  const x = new Int32Array(B * T).fill(padId);
  const y = new Int32Array(B * T).fill(padId);
  const weights = new Float32Array(B * T);
  rows.forEach((row, b) => {
    const ids = [...Array.from(row.prompt), ...Array.from(row.completion)];
    if (row.prompt.length < 1) throw new Error('a window needs at least one prompt token');
    if (ids.length > T + 1) throw new Error(`a pair of ${ids.length} tokens does not fit a window of ${T}`);
    for (let t = 0; t < ids.length - 1; t++) {
      x[b * T + t] = ids[t];
      y[b * T + t] = ids[t + 1];
      // The target at t is token t+1: an answer token when t+1 ≥ the prompt's length.
      weights[b * T + t] = t + 1 >= row.prompt.length ? 1 : 0;
    }
  });
  return { x, y, weights, batchSize: B, contextLength: T };
}

/** Window lengths are rounded up to a multiple of this, so that a run sees only a few shapes. */
export const WINDOW_BUCKET = 16;

/**
 * The window length a batch of rows needs: its longest row less one (the last token is only a
 * target), rounded up to a multiple of WINDOW_BUCKET, at most the context length. Short pairs train
 * in short windows, which costs less; the rounding keeps the number of distinct shapes small (a GPU
 * backend compiles and caches its programs and buffers per shape).
 */
export function windowLength(rows: readonly { prompt: ArrayLike<number>; completion: ArrayLike<number> }[], contextLength: number): number {
  const longest = rows.reduce((m, r) => Math.max(m, r.prompt.length + r.completion.length), 2);
  return Math.min(contextLength, Math.ceil((longest - 1) / WINDOW_BUCKET) * WINDOW_BUCKET);
}

/** The masked windows of question–answer pairs for `tokenizer` (pairs checked beforehand). */
export function pairBatch(pairs: readonly QAPair[], tokenizer: CharTokenizer, contextLength: number): MaskedBatch {
  const rows = pairs.map((p) => {
    const prompt = tokenizer.encode(pairPrompt(p.question)).ids;
    const all = tokenizer.encode(formatPair(p)).ids;
    return { prompt, completion: all.subarray(prompt.length) };
  });
  return maskedWindows(rows, windowLength(rows, contextLength), tokenizer.fallbackId);
}

/** The masked loss of `batch` as a scalar (call inside tf.tidy, or dispose it). */
export function maskedLoss(model: GPT, batch: MaskedBatch, training = false): tf.Scalar {
  const x = tf.tensor2d(batch.x, [batch.batchSize, batch.contextLength], 'int32');
  const y = tf.tensor2d(batch.y, [batch.batchSize, batch.contextLength], 'int32');
  const w = tf.tensor1d(batch.weights, 'float32');
  return model.loss(x, y, { training, dropoutSeed: 0 }, w);
}

/** The mean masked loss over every pair of `pairs`, in batches of `batchSize`. */
export async function evaluatePairs(model: GPT, pairs: readonly QAPair[], tokenizer: CharTokenizer, batchSize = 16): Promise<number> {
  if (pairs.length === 0) throw new Error('there are no pairs to measure the loss on');
  const T = model.config.contextLength;
  // Weighted by answer characters, so that the result is the mean over every answer character.
  let total = 0;
  let count = 0;
  for (let i = 0; i < pairs.length; i += batchSize) {
    const batch = pairBatch(pairs.slice(i, i + batchSize), tokenizer, T);
    const weight = batch.weights.reduce((a, b) => a + b, 0);
    const loss = tf.tidy(() => maskedLoss(model, batch));
    total += (await loss.data())[0] * weight;
    count += weight;
    loss.dispose();
  }
  return total / count;
}

export interface FinetuneOptions {
  steps: number;
  /** Pairs per step. */
  batchSize: number;
  /** Peak learning rate (a short warmup, then a cosine to a tenth of it). */
  learningRate: number;
  seed: number;
  optimizer: AdamWSettings;
}

export const DEFAULT_FINETUNE: Omit<FinetuneOptions, 'optimizer'> = { steps: 60, batchSize: 8, learningRate: 3e-4, seed: 1 };

export interface FinetuneProgress {
  /** Steps done. */
  step: number;
  steps: number;
  /** Masked loss of the step's batch. */
  loss: number;
  learningRate: number;
}

/**
 * Fine-tunes `model` in place on `pairs` (already checked) with AdamW for `opts.steps` steps, each
 * on `batchSize` pairs drawn at random. Calls `onProgress` after every step (the loss is read back
 * every step: fine-tuning runs are short). `cancelled` is checked between steps; when it returns
 * true the loop throws whatever `cancelError()` makes, the weights as they were at that step.
 */
export async function finetune(
  model: GPT,
  pairs: readonly QAPair[],
  tokenizer: CharTokenizer,
  opts: FinetuneOptions,
  onProgress?: (p: FinetuneProgress) => void | Promise<void>,
  cancelled: () => boolean = () => false,
  cancelError: () => Error = () => new Error('Stopped.'),
): Promise<FinetuneProgress[]> {
  if (pairs.length === 0) throw new Error('There are no pairs to fine-tune on.');
  if (!Number.isInteger(opts.steps) || opts.steps < 1) throw new RangeError('steps must be a whole number of at least 1');
  const T = model.config.contextLength;
  const rng = new Rng(opts.seed);
  const optimizer = new AdamW(model.params, opts.optimizer);
  const schedule = {
    learningRate: opts.learningRate,
    minLearningRate: opts.learningRate / 10,
    warmupSteps: Math.min(10, Math.floor(opts.steps / 10)),
    steps: opts.steps,
  };
  const history: FinetuneProgress[] = [];
  try {
    for (let s = 0; s < opts.steps; s++) {
      if (cancelled()) throw cancelError();
      const chosen = Array.from({ length: Math.min(opts.batchSize, pairs.length) }, () => pairs[rng.int(pairs.length)]);
      const batch = pairBatch(chosen, tokenizer, T);
      const lr = learningRateAt(s, schedule);
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => maskedLoss(model, batch, true), [...model.params.values()]);
        optimizer.apply(grads, lr).dispose();
        return value;
      });
      const value = (await loss.data())[0];
      loss.dispose();
      if (!Number.isFinite(value)) throw new Error(`The fine-tuning loss became ${value} at step ${s + 1}; lower the learning rate.`);
      const report = { step: s + 1, steps: opts.steps, loss: value, learningRate: lr };
      history.push(report);
      await onProgress?.(report);
    }
  } finally {
    optimizer.dispose();
  }
  return history;
}

/**
 * The model's answer to `question` in the chat format: sampled character by character after
 * `User: <question>\nAssistant:` until a line break, `maxChars`, or the context is full.
 */
export async function answer(
  model: GPT,
  tokenizer: CharTokenizer,
  question: string,
  opts: { maxChars?: number; temperature?: number; seed?: number } = {},
): Promise<string> {
  const prompt = tokenizer.encode(pairPrompt(question)).ids;
  const room = model.config.contextLength - prompt.length;
  const maxChars = Math.max(0, Math.min(opts.maxChars ?? 80, room));
  if (maxChars === 0) return '';
  const newline = tokenizer.has('\n') ? tokenizer.encode('\n').ids[0] : -1;
  const ids = await generate(model, Array.from(prompt), maxChars, { temperature: opts.temperature ?? 0.5, seed: opts.seed ?? 1 }, (id) => id !== newline);
  const text = tokenizer.decode(ids);
  const cut = text.indexOf('\n');
  const reply = cut === -1 ? text : text.slice(0, cut);
  return reply.startsWith(' ') ? reply.slice(1) : reply;
}
