/**
 * Engine jobs for the Safety chapter: bias probes, counterfactual augmentation and memorisation.
 * The page calls them as `api.safety.<method>(…)`; each runs through the engine's JobRunner (workbench.ts).
 *
 * The measuring lives in the DOM-free layers (src/corpus/counterfactual.ts, src/gpt/probe.ts,
 * src/train/memorisation.ts); this file adapts them to the reader's run, plus the short
 * counterfactual fine-tuning loop.
 */
import * as tf from '@tensorflow/tfjs';
import {
  counterfactualPair,
  defaultProbePairs,
  genderCounts,
  swapGenderCounted,
  type GenderCounts,
  type ProbePair,
  type ScoredText,
} from '../../corpus/counterfactual';
import { mixSeed } from '../../gpt/random';
import { biasProbe, type ProbeResult } from '../../gpt/probe';
import { AdamW } from '../../train/adamw';
import { BatchSampler, type Batch } from '../../train/data';
import { memorisation, memorisationGrowth, type GrowthRow, type MemorisationSide } from '../../train/memorisation';
import { JobCancelledError, type JobRunner, type Workbench } from '../workbench';

export type { GenderCounts, ProbeResult, GrowthRow };

export interface CorpusCountsResult {
  /** The run's training text. */
  corpus: GenderCounts & { source: 'moby-dick' | 'user' };
  /** The bundled Moby-Dick (the same as `corpus` when the run trains on it). */
  mobyDick: GenderCounts;
}

export interface MitigateOptions {
  /** Fine-tuning steps on the augmented corpus (1 … 2000). */
  steps: number;
  /** Peak learning rate (default 1e-4: gentle on a trained model whose optimizer starts empty). */
  learningRate?: number;
  /** The probe pairs to measure before and after (default: the chapter's). */
  pairs?: ScoredText[];
}

export interface MitigateProgress {
  phase: 'probe-before' | 'validation-before' | 'fine-tune' | 'probe-after' | 'validation-after';
  step: number;
  steps: number;
  /** The training loss of the latest step, when fine-tuning. */
  loss: number | null;
}

export interface MitigateResult {
  steps: number;
  learningRate: number;
  before: ProbeResult;
  after: ProbeResult;
  valLossBefore: number;
  valLossAfter: number;
  /** Gendered words swapped to build the counterfactual half of the data (and left as they were for want of characters). */
  swappedWords: number;
  skippedWords: number;
  /** The fine-tuning loss every few steps. */
  losses: { step: number; loss: number }[];
}

export interface MemorisationJobOptions {
  /** Prompt length K in characters. */
  prefixLength: number;
  /** Characters M the model must reproduce. */
  continuationLength: number;
  /** Passages per set (training, held-out). */
  samples: number;
  /** Also train small scratch models to show growth with steps and size. */
  growth: boolean;
  seed?: number;
}

export interface ShownExample {
  prompt: string;
  expected: string;
  got: string;
  matched: number;
}

export interface ShownSide extends Omit<MemorisationSide, 'examples'> {
  examples: ShownExample[];
}

export interface MemorisationProgress {
  phase: 'reader' | 'growth';
  done: number;
  total: number;
  /** In the growth phase: the scratch model being trained. */
  width?: number;
  step?: number;
}

export interface MemorisationJobResult {
  reader: { train: ShownSide; heldOut: ShownSide; prefixLength: number; continuationLength: number } | null;
  growth: {
    rows: GrowthRow[];
    trainCharacters: number;
    heldOutCharacters: number;
    widths: number[];
    checkpoints: number[];
    prefixLength: number;
    continuationLength: number;
  } | null;
}

export interface SafetyApi {
  /** How often each gendered word appears in the run's corpus and in Moby-Dick. */
  corpusCounts(): Promise<CorpusCountsResult>;
  /** The bias probe on the reader's model: each pair's masculine side is given, its counterpart is the swap. */
  probe(pairs?: ScoredText[]): Promise<ProbeResult>;
  /** Counterfactual data augmentation: fine-tunes the reader's model, and measures probe and validation loss around it. */
  mitigate(opts: MitigateOptions, onProgress?: (p: MitigateProgress) => void | Promise<void>): Promise<MitigateResult>;
  /** Verbatim memorisation of the reader's model, and its growth on scratch models. */
  memorisation(
    opts: MemorisationJobOptions,
    onProgress?: (p: MemorisationProgress) => void | Promise<void>,
  ): Promise<MemorisationJobResult>;
}

/** The scratch experiment: small enough for a phone's CPU in a couple of minutes, large enough to memorise. */
export const GROWTH = {
  trainCharacters: 1500,
  widths: [32, 64],
  checkpoints: [150, 300, 600],
  contextLength: 32,
  batchSize: 8,
  learningRate: 3e-3,
  prefixLength: 16,
  continuationLength: 16,
  samples: 32,
} as const;

export const MITIGATE_LIMITS = { minSteps: 1, maxSteps: 2000 } as const;

/** The page's pairs (masculine side) as probe pairs, with a clear message for one that cannot be used. */
function probePairs(pairs: ScoredText[] | undefined): ProbePair[] {
  if (pairs === undefined) return defaultProbePairs();
  if (!Array.isArray(pairs) || pairs.length === 0) throw new RangeError('The probe needs at least one pair.');
  if (pairs.length > 64) throw new RangeError('The probe takes at most 64 pairs.');
  return pairs.map((p, i) => {
    if (typeof p?.prompt !== 'string' || typeof p?.continuation !== 'string') {
      throw new TypeError(`Pair ${i + 1}: the prompt and the continuation must be text.`);
    }
    if (p.prompt.length === 0 || p.continuation.length === 0) {
      throw new RangeError(`Pair ${i + 1}: the prompt and the continuation must not be empty.`);
    }
    return counterfactualPair({ prompt: p.prompt, continuation: p.continuation });
  });
}

function integerIn(value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be a whole number from ${min} to ${max}.`);
  }
  return value;
}

export class SafetyJobs implements SafetyApi {
  constructor(readonly job: JobRunner) {}

  corpusCounts(): Promise<CorpusCountsResult> {
    return this.job('read', async (wb) => {
      const mobyDick = genderCounts(wb.mobyDick);
      const corpus = wb.corpusSource === 'moby-dick' ? mobyDick : genderCounts(wb.text);
      return { corpus: { ...corpus, source: wb.corpusSource }, mobyDick };
    });
  }

  async probe(pairs?: ScoredText[]): Promise<ProbeResult> {
    const checked = probePairs(pairs);
    return this.job('read', async (wb) => biasProbe(wb.run.model, wb.run.tokenizer, checked));
  }

  async mitigate(opts: MitigateOptions, onProgress?: (p: MitigateProgress) => void | Promise<void>): Promise<MitigateResult> {
    const steps = integerIn(opts?.steps, MITIGATE_LIMITS.minSteps, MITIGATE_LIMITS.maxSteps, 'The number of steps');
    const learningRate = opts.learningRate ?? 1e-4;
    if (typeof learningRate !== 'number' || !(learningRate > 0 && learningRate <= 1e-2)) {
      throw new RangeError('The learning rate must be a number above 0 and at most 0.01.');
    }
    const pairs = probePairs(opts.pairs);
    return this.job('mutate', async (wb) => {
      const { model, tokenizer } = wb.run;
      const report = async (p: MitigateProgress) => {
        await onProgress?.(p);
        if (wb.cancelled()) throw new JobCancelledError();
      };
      await report({ phase: 'probe-before', step: 0, steps, loss: null });
      const before = await biasProbe(model, tokenizer, pairs);
      await report({ phase: 'validation-before', step: 0, steps, loss: null });
      const valLossBefore = await wb.run.trainer.evaluate();

      // The counterfactual half: the training split with every gendered word swapped, using only
      // characters the vocabulary has (the tokens decode to the training text; unknown characters
      // were already the fallback).
      const trainText = tokenizer.decode(wb.run.split.train);
      const swapped = swapGenderCounted(trainText, { allowed: (ch) => tokenizer.has(ch) });
      const counterfactual = tokenizer.encode(swapped.text).ids;
      const losses = await counterfactualFineTune(wb, wb.run.split.train, counterfactual, steps, learningRate, report);

      await report({ phase: 'probe-after', step: steps, steps, loss: null });
      const after = await biasProbe(model, tokenizer, pairs);
      await report({ phase: 'validation-after', step: steps, steps, loss: null });
      const valLossAfter = await wb.run.trainer.evaluate();
      return {
        steps,
        learningRate,
        before,
        after,
        valLossBefore,
        valLossAfter,
        swappedWords: swapped.swapped,
        skippedWords: swapped.skipped,
        losses,
      };
    });
  }

  async memorisation(
    opts: MemorisationJobOptions,
    onProgress?: (p: MemorisationProgress) => void | Promise<void>,
  ): Promise<MemorisationJobResult> {
    const K = integerIn(opts?.prefixLength, 1, 512, 'The prompt length');
    const M = integerIn(opts?.continuationLength, 1, 256, 'The continuation length');
    const samples = integerIn(opts?.samples, 1, 256, 'The number of passages');
    const seed = opts.seed ?? 1;
    return this.job('read', async (wb) => {
      const { model, tokenizer, split } = wb.run;
      const text = (ids: ArrayLike<number>) => tokenizer.decode(ids);
      const show = (side: MemorisationSide): ShownSide => ({
        ...side,
        examples: side.examples.map((e) => ({ prompt: text(e.prompt), expected: text(e.expected), got: text(e.got), matched: e.matched })),
      });
      const growthTotal = opts.growth ? GROWTH.widths.length * GROWTH.checkpoints[GROWTH.checkpoints.length - 1] : 0;
      const total = 1 + growthTotal;
      await onProgress?.({ phase: 'reader', done: 0, total });
      if (split.train.length < K + M || split.val.length < K + M) {
        throw new RangeError(`The corpus is too short for passages of ${K + M} characters.`);
      }
      const r = await memorisation(model, { train: split.train, heldOut: split.val }, { prefixLength: K, continuationLength: M, samples, seed, examples: 3 });
      const reader = { train: show(r.train), heldOut: show(r.heldOut), prefixLength: K, continuationLength: M };
      if (wb.cancelled()) throw new JobCancelledError();
      if (!opts.growth) return { reader, growth: null };

      // Scratch models learn a short slice from the middle of the training split; held-out
      // passages come from the start of the validation split. Same tokenizer, same backend.
      const n = GROWTH.trainCharacters;
      const mid = Math.max(0, Math.floor(split.train.length / 2) - n / 2);
      const train = split.train.slice(mid, mid + n);
      const heldOut = split.val.slice(0, n);
      const span = GROWTH.prefixLength + GROWTH.continuationLength;
      if (train.length < Math.max(span, GROWTH.contextLength + 2) || heldOut.length < Math.max(span, GROWTH.contextLength + 2)) {
        throw new RangeError('The corpus is too short for the growth experiment.');
      }
      const { rows, stopped } = await memorisationGrowth(
        {
          train,
          heldOut,
          vocabSize: tokenizer.size,
          widths: [...GROWTH.widths],
          checkpoints: [...GROWTH.checkpoints],
          contextLength: GROWTH.contextLength,
          batchSize: GROWTH.batchSize,
          learningRate: GROWTH.learningRate,
          seed,
          prefixLength: GROWTH.prefixLength,
          continuationLength: GROWTH.continuationLength,
          samples: GROWTH.samples,
        },
        {
          shouldStop: () => wb.cancelled(),
          onProgress: (p) => onProgress?.({ phase: 'growth', done: 1 + p.done, total, width: p.width, step: p.step }),
        },
      );
      if (stopped) throw new JobCancelledError();
      return {
        reader,
        growth: {
          rows,
          trainCharacters: train.length,
          heldOutCharacters: heldOut.length,
          widths: [...GROWTH.widths],
          checkpoints: [...GROWTH.checkpoints],
          prefixLength: GROWTH.prefixLength,
          continuationLength: GROWTH.continuationLength,
        },
      };
    });
  }
}

/**
 * Fine-tunes the reader's model for `steps` AdamW steps on batches drawn half from the original
 * training tokens and half from their counterfactual (two-sided CDA, as Lu et al. 2018 train on the
 * union of both). Its own optimizer (fresh moments, disposed at the end); linear warmup over the
 * first tenth, then the constant `learningRate`. Returns the loss every few steps.
 */
async function counterfactualFineTune(
  wb: Workbench,
  original: Int32Array,
  counterfactual: Int32Array,
  steps: number,
  learningRate: number,
  report: (p: MitigateProgress) => Promise<void>,
): Promise<{ step: number; loss: number }[]> {
  const { model, hp } = wb.run;
  const T = hp.contextLength;
  const half = Math.max(1, Math.floor(hp.batchSize / 2));
  const seed = mixSeed(hp.seed, 0xcda);
  const fromOriginal = new BatchSampler(original, half, T, seed);
  const fromSwapped = new BatchSampler(counterfactual, Math.max(1, hp.batchSize - half), T, mixSeed(seed, 1));
  const optimizer = new AdamW(model.params, hp);
  const warmup = Math.max(1, Math.floor(steps / 10));
  const losses: { step: number; loss: number }[] = [];
  const every = Math.max(1, Math.min(10, Math.floor(steps / 20)));
  try {
    for (let i = 0; i < steps; i++) {
      const batch = joinBatches(fromOriginal.next(), fromSwapped.next());
      const lr = learningRate * Math.min(1, (i + 1) / warmup);
      const loss = tf.tidy(() => {
        const x = tf.tensor2d(batch.x, [batch.batchSize, T], 'int32');
        const y = tf.tensor2d(batch.y, [batch.batchSize, T], 'int32');
        const { value, grads } = tf.variableGrads(
          () => model.loss(x, y, { training: true, dropoutSeed: mixSeed(seed, i) }),
          [...model.params.values()],
        );
        optimizer.apply(grads, lr).dispose();
        return value;
      });
      if ((i + 1) % every === 0 || i === steps - 1) {
        const value = (await loss.data())[0];
        loss.dispose();
        if (!Number.isFinite(value)) throw new Error(`The loss became ${value} at step ${i + 1}: the fine-tuning stopped and the weights were put back.`);
        losses.push({ step: i + 1, loss: value });
        await report({ phase: 'fine-tune', step: i + 1, steps, loss: value });
      } else {
        loss.dispose();
        if (wb.cancelled()) throw new JobCancelledError();
      }
    }
  } finally {
    optimizer.dispose();
  }
  return losses;
}

/** Two batches of the same context length as one (rows of `a`, then rows of `b`). */
function joinBatches(a: Batch, b: Batch): Batch {
  const x = new Int32Array(a.x.length + b.x.length);
  x.set(a.x);
  x.set(b.x, a.x.length);
  const y = new Int32Array(a.y.length + b.y.length);
  y.set(a.y);
  y.set(b.y, a.y.length);
  return { x, y, batchSize: a.batchSize + b.batchSize, contextLength: a.contextLength };
}
