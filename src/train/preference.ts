import * as tf from '@tensorflow/tfjs';
import { pairCompletion, pairPrompt } from '../corpus/sft';
import { GPT, type Params } from '../gpt/model';
import type { CharTokenizer } from '../gpt/tokenizer';
import { AdamW, type AdamWSettings } from './adamw';
import { maskedWindows, windowLength } from './finetune';

/**
 * Direct Preference Optimization (Rafailov et al., 2023). Given a prompt x, a preferred response
 * y_w and a dispreferred one y_l, DPO lowers
 *
 *     L = −log σ( β · [ (log πθ(y_w|x) − log π_ref(y_w|x)) − (log πθ(y_l|x) − log π_ref(y_l|x)) ] )
 *
 * where πθ is the model being tuned, π_ref a frozen copy of it from before tuning, and
 * log π(y|x) the sum of the log-probabilities of the response's tokens after the prompt. The term
 * in brackets is how much more the tuned model favours y_w over y_l than the reference did; β sets
 * how strongly the tuned model is held near the reference (the KL penalty of RLHF, in disguise).
 * At the start πθ = π_ref, the bracket is 0 and the loss is ln 2.
 */

/** One preference: for `prompt` (a question), `chosen` was preferred to `rejected` (answers). */
export interface Preference {
  prompt: string;
  chosen: string;
  rejected: string;
}

/** Prompt and response as token ids. */
export interface ResponseRow {
  prompt: ArrayLike<number>;
  response: ArrayLike<number>;
}

/**
 * log π(response | prompt) for each row: the sum over the response's tokens of the log-probability
 * the model gives each, as a (B,) tensor (inside tf.tidy, or dispose it). Every row must fit the
 * context: prompt + response ≤ T + 1 tokens.
 */
export function responseLogProbs(model: GPT, rows: readonly ResponseRow[], padId = 0): tf.Tensor1D {
  const V = model.config.vocabSize;
  const windows = rows.map((r) => ({ prompt: r.prompt, completion: r.response }));
  const T = windowLength(windows, model.config.contextLength);
  const batch = maskedWindows(windows, T, padId);
  const B = batch.batchSize;
  const x = tf.tensor2d(batch.x, [B, T], 'int32');
  const y = tf.tensor1d(batch.y, 'int32');
  const logProbs = tf.logSoftmax(model.forward(x)); // (B·T, V)
  const picked = tf.sum(tf.mul(logProbs, tf.cast(tf.oneHot(y, V), 'float32')), -1); // (B·T,)
  const masked = tf.mul(picked, tf.tensor1d(batch.weights, 'float32')); // response targets only
  return tf.sum(tf.reshape(masked, [B, T]), 1) as tf.Tensor1D; // (B,)
}

/**
 * The DPO loss, averaged over the batch, from the four log-probabilities of each pair (B,).
 * −log σ(z) is written as softplus(−z), which stays finite for large |z|.
 */
export function dpoLoss(policyChosen: tf.Tensor1D, policyRejected: tf.Tensor1D, refChosen: tf.Tensor1D, refRejected: tf.Tensor1D, beta: number): tf.Scalar {
  return tf.tidy(() => {
    const z = tf.mul(tf.sub(tf.sub(policyChosen, refChosen), tf.sub(policyRejected, refRejected)), beta);
    return tf.mean(tf.softplus(tf.neg(z))) as tf.Scalar;
  });
}

/** A copy of `model` whose weights no optimizer can change (non-trainable variables). Dispose it. */
export function frozenCopy(model: GPT): GPT {
  const params: Params = new Map();
  for (const [name, v] of model.params) params.set(name, tf.tidy(() => tf.variable(v.clone(), false)));
  return new GPT(model.config, params);
}

/** A preference as token rows, in the chat format: the question as the prompt, answers as completions. */
export function preferenceRows(prefs: readonly Preference[], tokenizer: CharTokenizer): { chosen: ResponseRow[]; rejected: ResponseRow[] } {
  const rows = (answer: (p: Preference) => string) =>
    prefs.map((p) => ({ prompt: tokenizer.encode(pairPrompt(p.prompt)).ids, response: tokenizer.encode(pairCompletion(answer(p))).ids }));
  return { chosen: rows((p) => p.chosen), rejected: rows((p) => p.rejected) };
}

/** Why a preference cannot be trained on, in words; null when it can. */
export function preferenceProblem(p: Preference, tokenizer: CharTokenizer, contextLength: number): string | null {
  for (const [field, value] of [['prompt', p.prompt], ['chosen answer', p.chosen], ['rejected answer', p.rejected]] as const) {
    if (typeof value !== 'string') return `The ${field} must be text.`;
  }
  if (p.prompt.trim() === '') return 'The prompt is empty.';
  if (p.chosen === p.rejected) return 'The chosen and the rejected answer are the same text: there is nothing to prefer.';
  for (const [field, value] of [['prompt', p.prompt], ['chosen answer', p.chosen], ['rejected answer', p.rejected]] as const) {
    const outside = [...new Set([...value].filter((c) => !tokenizer.has(c)))];
    if (outside.length > 0) return `The ${field} has characters outside the model’s vocabulary: ${outside.slice(0, 5).map((c) => JSON.stringify(c)).join(', ')}.`;
  }
  const promptLength = pairPrompt(p.prompt).length;
  for (const [field, value] of [['chosen answer', p.chosen], ['rejected answer', p.rejected]] as const) {
    const length = promptLength + pairCompletion(value).length;
    if (length > contextLength + 1) return `The prompt and the ${field} are ${length} characters together, more than the context of ${contextLength} holds.`;
  }
  return null;
}

export interface DpoOptions {
  /** Strength of the pull towards the reference: 0.1 in the DPO paper's dialogue runs. */
  beta: number;
  /** Gradient steps, each over every preference. */
  steps: number;
  learningRate: number;
  optimizer: AdamWSettings;
}

export const DEFAULT_DPO: Omit<DpoOptions, 'optimizer'> = { beta: 0.1, steps: 8, learningRate: 3e-4 };

export interface DpoResult {
  /** Mean over the pairs of log πθ(y_w|x) − log πθ(y_l|x), in nats, before and after. */
  marginBefore: number;
  marginAfter: number;
  /** The DPO loss before (ln 2: the model is its own reference) and after. */
  lossBefore: number;
  lossAfter: number;
  /** The loss after each step. */
  losses: number[];
}

/**
 * Tunes `model` in place on `prefs` (each checked with `preferenceProblem` first) with DPO. The
 * reference is a frozen copy of the model as it is when this is called; its log-probabilities are
 * computed once, then the copy is let go. `cancelled` is checked between steps.
 */
export async function dpoTune(
  model: GPT,
  prefs: readonly Preference[],
  tokenizer: CharTokenizer,
  opts: DpoOptions,
  onStep?: (step: number, loss: number) => void | Promise<void>,
  cancelled: () => boolean = () => false,
  cancelError: () => Error = () => new Error('Stopped.'),
): Promise<DpoResult> {
  if (prefs.length === 0) throw new Error('There are no preferences to learn from.');
  for (const p of prefs) {
    const problem = preferenceProblem(p, tokenizer, model.config.contextLength);
    if (problem) throw new Error(problem);
  }
  const pad = tokenizer.fallbackId;
  const { chosen, rejected } = preferenceRows(prefs, tokenizer);
  const reference = frozenCopy(model);
  const refChosen = tf.tidy(() => responseLogProbs(reference, chosen, pad));
  const refRejected = tf.tidy(() => responseLogProbs(reference, rejected, pad));
  reference.dispose();
  const margin = async () => {
    const m = tf.tidy(() => tf.mean(tf.sub(responseLogProbs(model, chosen, pad), responseLogProbs(model, rejected, pad))));
    const value = (await m.data())[0];
    m.dispose();
    return value;
  };
  const lossNow = async () => {
    const l = tf.tidy(() => dpoLoss(responseLogProbs(model, chosen, pad), responseLogProbs(model, rejected, pad), refChosen, refRejected, opts.beta));
    const value = (await l.data())[0];
    l.dispose();
    return value;
  };
  const optimizer = new AdamW(model.params, opts.optimizer);
  try {
    const marginBefore = await margin();
    const lossBefore = await lossNow();
    const losses: number[] = [];
    for (let s = 0; s < opts.steps; s++) {
      if (cancelled()) throw cancelError();
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(
          () => dpoLoss(responseLogProbs(model, chosen, pad), responseLogProbs(model, rejected, pad), refChosen, refRejected, opts.beta),
          [...model.params.values()],
        );
        optimizer.apply(grads, opts.learningRate).dispose();
        return value;
      });
      const value = (await loss.data())[0];
      loss.dispose();
      if (!Number.isFinite(value)) throw new Error(`The preference loss became ${value}; lower the learning rate.`);
      losses.push(value);
      await onStep?.(s + 1, value);
    }
    return { marginBefore, marginAfter: await margin(), lossBefore, lossAfter: await lossNow(), losses };
  } finally {
    optimizer.dispose();
    refChosen.dispose();
    refRejected.dispose();
  }
}
