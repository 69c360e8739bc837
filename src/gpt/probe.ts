import * as tf from '@tensorflow/tfjs';
import type { ProbePair, ScoredText } from '../corpus/counterfactual';
import type { GPT } from './model';
import type { CharTokenizer } from './tokenizer';

/**
 * Scoring text with the model: the log-probability of a continuation given a prompt,
 *
 *   log P(c₁ … cₘ | prompt) = Σᵢ log P(cᵢ | prompt, c₁ … cᵢ₋₁),
 *
 * each term read from the model's next-token distribution (log-softmax of its logits) at the
 * position before cᵢ. Many texts are scored in one forward pass: each is a row of a batch, padded
 * on the right to the longest row (the mask is causal, so padding after a row's end changes nothing
 * before it), and only the continuation's positions are summed.
 *
 * On top of it, the bias probe: two texts that differ only by swapped gendered words
 * (src/corpus/counterfactual.ts), scored both ways.
 */

export interface ContinuationScore {
  /** log P(continuation | prompt) in nats (natural log). */
  logProb: number;
  /** Tokens in the continuation (characters for the character tokenizer). */
  tokens: number;
  /** Characters of prompt and continuation outside the vocabulary (they took the fallback token). */
  unknown: number;
  /** Tokens cut from the prompt's start to fit the context. */
  cropped: number;
}

/**
 * log P(continuation | prompt) for every item, `batchSize` rows per forward pass. A prompt longer
 * than the context is cropped from the left; a continuation must fit the context on its own.
 */
export async function scoreContinuations(
  model: GPT,
  tokenizer: CharTokenizer,
  items: readonly ScoredText[],
  batchSize = 16,
): Promise<ContinuationScore[]> {
  const T = model.config.contextLength;
  const rows = items.map((item, i) => {
    const p = tokenizer.encode(item.prompt);
    const c = tokenizer.encode(item.continuation);
    if (p.ids.length === 0) throw new Error(`item ${i}: the prompt is empty (it needs at least one character)`);
    if (c.ids.length === 0) throw new Error(`item ${i}: the continuation is empty`);
    if (c.ids.length > T) throw new Error(`item ${i}: a continuation of ${c.ids.length} characters is longer than the context (${T})`);
    // The window holds T inputs, which predict T targets: at most T + 1 tokens in all.
    const full = [...p.ids, ...c.ids];
    const cropped = Math.max(0, full.length - (T + 1));
    return { ids: full.slice(cropped), continuation: c.ids.length, unknown: p.unknown + c.unknown, cropped };
  });
  const out: ContinuationScore[] = [];
  for (let start = 0; start < rows.length; start += batchSize) {
    const batch = rows.slice(start, start + batchSize);
    const B = batch.length;
    const L = Math.max(...batch.map((r) => r.ids.length - 1)); // inputs per row, ≤ T
    const x = new Int32Array(B * L).fill(tokenizer.fallbackId);
    const y = new Int32Array(B * L).fill(tokenizer.fallbackId);
    batch.forEach((r, b) => {
      x.set(r.ids.slice(0, -1), b * L);
      y.set(r.ids.slice(1), b * L);
    });
    const picked = tf.tidy(() => {
      const logits = model.forward(tf.tensor2d(x, [B, L], 'int32')); // (B·L, V)
      const logProbs = tf.logSoftmax(logits); // (B·L, V)
      const oneHot = tf.oneHot(tf.tensor1d(y, 'int32'), model.config.vocabSize); // (B·L, V)
      return tf.sum(tf.mul(logProbs, tf.cast(oneHot, 'float32')), -1); // (B·L,): log P(target) at each position
    });
    const values = (await picked.data()) as Float32Array;
    picked.dispose();
    batch.forEach((r, b) => {
      const n = r.ids.length - 1; // this row's inputs
      let sum = 0;
      for (let t = n - r.continuation; t < n; t++) sum += values[b * L + t];
      out.push({ logProb: sum, tokens: r.continuation, unknown: r.unknown, cropped: r.cropped });
    });
  }
  return out;
}

export interface PairScore {
  label: string;
  a: ScoredText;
  b: ScoredText;
  /** log P(a) and log P(b), each its continuation given its prompt, in nats. */
  logProbA: number;
  logProbB: number;
  /** log P(a) − log P(b): above 0 the model prefers the masculine side; e^gap is the odds ratio. */
  gap: number;
  /** P(a) / (P(a) + P(b)): the masculine side's share when the model must choose between the two. */
  shareA: number;
  unknown: number;
}

export interface ProbeResult {
  pairs: PairScore[];
  /** Mean of the gaps (signed: which way the model leans on average), nats. */
  meanGap: number;
  /** Mean of |gap| (how far from indifferent, whichever way), nats. */
  meanAbsGap: number;
  /** Pairs whose gap is above 0. */
  favourA: number;
}

/** Scores both sides of every pair in one batched pass and reports the gaps. */
export async function biasProbe(model: GPT, tokenizer: CharTokenizer, pairs: readonly ProbePair[]): Promise<ProbeResult> {
  if (pairs.length === 0) throw new Error('the probe needs at least one pair');
  const scores = await scoreContinuations(
    model,
    tokenizer,
    pairs.flatMap((p) => [p.a, p.b]),
  );
  const results = pairs.map((p, i) => {
    const a = scores[2 * i];
    const b = scores[2 * i + 1];
    const gap = a.logProb - b.logProb;
    return {
      label: p.label,
      a: { ...p.a },
      b: { ...p.b },
      logProbA: a.logProb,
      logProbB: b.logProb,
      gap,
      shareA: 1 / (1 + Math.exp(-gap)),
      unknown: a.unknown + b.unknown,
    };
  });
  return summarise(results);
}

export function summarise(pairs: PairScore[]): ProbeResult {
  const n = pairs.length;
  return {
    pairs,
    meanGap: pairs.reduce((s, p) => s + p.gap, 0) / n,
    meanAbsGap: pairs.reduce((s, p) => s + Math.abs(p.gap), 0) / n,
    favourA: pairs.filter((p) => p.gap > 0).length,
  };
}
