/**
 * Engine jobs for the Training chapter: comparison runs on scratch models, supervised fine-tuning and preference tuning of the reader's model.
 * The page calls them as `api.tuning.<method>(…)`; each runs through the engine's JobRunner (workbench.ts).
 *
 * A thin adapter: the maths lives in src/train (finetune.ts, preference.ts, trainer.ts). Every
 * argument is checked here first, so a bad one is refused with a message before anything changes.
 */
import * as tf from '@tensorflow/tfjs';
import { pairPrompt, SFT_PAIRS, SHOWCASE_QUESTIONS, validatePair, type PairError, type QAPair } from '../../corpus/sft';
import { modelConfigOf, parameterCount, validateHyperparameters, type Hyperparameters } from '../../gpt/config';
import { GPT } from '../../gpt/model';
import { Rng } from '../../gpt/random';
import { generate } from '../../gpt/sample';
import type { CharTokenizer } from '../../gpt/tokenizer';
import { batchAt, randomStarts } from '../../train/data';
import { answer, checkPairs, DEFAULT_FINETUNE, evaluatePairs, finetune, pairsThatFit } from '../../train/finetune';
import { DEFAULT_DPO, dpoTune, preferenceProblem, type Preference } from '../../train/preference';
import { learningRateAt } from '../../train/schedule';
import { NonFiniteLossError, Trainer } from '../../train/trainer';
import { JobCancelledError, type JobRunner } from '../workbench';

export type { PairError, Preference, QAPair };

/** One training batch of the reader's run, decoded: what "a batch" is. */
export interface BatchExample {
  batchSize: number;
  contextLength: number;
  vocabSize: number;
  /** Each window as text: the input characters and the targets (the same text shifted by one). */
  rows: { input: string; target: string }[];
  /** ln(vocabulary size): the loss of a model that spreads its guess evenly over every character. */
  uniformLoss: number;
  /** The loss on this batch of a model of the same shape, freshly initialised (untrained). */
  freshLoss: number;
  /** The loss on this batch of the reader's model as it is now. */
  modelLoss: number;
  /** The reader's step when the batch was drawn. */
  step: number;
}

/** What a comparison run may change; the rest comes from the reader's current settings. */
export interface CompareSettings {
  learningRate: number;
  batchSize: number;
  width: number;
  layers: number;
  contextLength: number;
  /** Length of the short run. */
  steps: number;
}

export interface CompareProgress {
  step: number;
  steps: number;
  loss: number;
  learningRate: number;
}

export interface CompareRunResult {
  /** The settings in words, for the chart's legend. */
  label: string;
  settings: CompareSettings;
  /** Heads and warmup, as the run used them. */
  heads: number;
  warmupSteps: number;
  parameters: number;
  /** The training loss at each reported step. */
  steps: number[];
  losses: number[];
  /** The learning rate the optimizer followed at every step (warmup, then cosine). */
  schedule: number[];
  /** Text sampled from the run's model early, half-way and at the end. */
  samples: { step: number; text: string }[];
  /** Validation loss at the end; null when the run diverged. */
  valLoss: number | null;
  /** The step at which the loss became NaN or infinite (the run stopped there), else null. */
  diverged: number | null;
  seconds: number;
  backend: string;
}

export interface FinetuneRequest {
  /** The reader's own pairs, added to the built-in ones. */
  pairs?: QAPair[];
  /** Optimizer steps (1 to 2000); default 60. */
  steps?: number;
  /** Peak learning rate; default 3e-4. */
  learningRate?: number;
  /** Pairs per step; default 8. */
  batchSize?: number;
  /** Train on the reader's pairs only, without the built-in set. */
  readerPairsOnly?: boolean;
  /** Sampling of the before/after answers (the same for both, so they compare). */
  temperature?: number;
  seed?: number;
}

export interface FinetuneProgress {
  step: number;
  steps: number;
  loss: number;
}

export interface FinetuneResult {
  steps: number;
  /** Built-in pairs trained on, and those left out because they do not fit this model's context. */
  builtInUsed: number;
  builtInLeftOut: number;
  readerPairs: number;
  /** Masked loss (answers only) over every pair trained on, before and after. */
  lossBefore: number;
  lossAfter: number;
  /** Loss of each step's batch. */
  losses: number[];
  answers: { question: string; before: string; after: string }[];
  seconds: number;
  backend: string;
}

export interface PreferencePair {
  prompt: string;
  answers: [string, string];
  seeds: [number, number];
}

export interface PreferenceRequest {
  choices: Preference[];
  /** DPO's β; default 0.1. */
  beta?: number;
  /** Gradient steps over the choices; default 8. */
  steps?: number;
  learningRate?: number;
}

export interface PreferenceResult {
  /** Mean of log π(chosen) − log π(rejected) over the choices, in nats, before and after. */
  marginBefore: number;
  marginAfter: number;
  lossBefore: number;
  lossAfter: number;
  losses: number[];
  /** For up to two of the prompts: two samples with fixed seeds, before and after the step. */
  samples: { prompt: string; seeds: [number, number]; before: [string, string]; after: [string, string] }[];
  seconds: number;
}

export interface TuningApi {
  /** One real training batch of the reader's run, decoded, with three losses to compare. */
  batchExample(): Promise<BatchExample>;
  /**
   * A short run from scratch on a separate model with these settings (the rest from the reader's);
   * the reader's model is not touched. Validated first: a bad setting is refused with a message.
   */
  compareRun(settings: CompareSettings, onProgress?: (p: CompareProgress) => void): Promise<CompareRunResult>;
  /** The problems of one question–answer pair for the reader's model, each on its field. */
  checkPair(pair: QAPair): Promise<PairError[]>;
  /** Supervised fine-tuning of the reader's model on the built-in pairs and theirs. */
  finetune(request: FinetuneRequest, onProgress?: (p: FinetuneProgress) => void): Promise<FinetuneResult>;
  /** Two answers of the reader's model to `prompt`, sampled with different seeds. */
  preferencePair(prompt: string, seed?: number): Promise<PreferencePair>;
  /** A DPO step on the reader's picks, with the model before it as the reference. */
  preferenceStep(request: PreferenceRequest, onProgress?: (step: number, loss: number) => void): Promise<PreferenceResult>;
}

/** Limits that keep a job short on a slow machine. */
export const TUNING_LIMITS = {
  maxCompareSteps: 2000,
  maxFinetuneSteps: 2000,
  maxReaderPairs: 100,
  maxPreferences: 32,
  maxPreferenceSteps: 100,
  /** The sampling temperature the chapter's answers use unless told. */
  temperature: 0.5,
};

/** Answers shown before and after fine-tuning are at most this long. */
const ANSWER_CHARS = 90;
/** Characters of each early/middle/late sample of a comparison run. */
const SAMPLE_CHARS = 80;

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

function isReal(v: unknown, minOpen: number, max: number): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > minOpen && v <= max;
}

function optionalInt(name: string, v: unknown, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (!isInt(v, min, max)) throw new RangeError(`${name} must be a whole number from ${min} to ${max} (got ${String(v)}).`);
  return v;
}

function optionalReal(name: string, v: unknown, minOpen: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (!isReal(v, minOpen, max)) throw new RangeError(`${name} must be a number above ${minOpen} and at most ${max} (got ${String(v)}).`);
  return v;
}

function labelOf(s: CompareSettings): string {
  return `lr ${s.learningRate.toExponential(0)} · batch ${s.batchSize} · width ${s.width} · layers ${s.layers} · context ${s.contextLength}`;
}

/** A short prompt for samples that the tokenizer knows entirely. */
function samplePrompt(tokenizer: CharTokenizer, text: string): string {
  for (const p of ['Call me Ishmael.', 'The ', '\n']) if ([...p].every((c) => tokenizer.has(c))) return p;
  return [...text][0];
}

async function sampleText(model: GPT, tokenizer: CharTokenizer, prompt: string, chars: number, seed: number, temperature = 0.8): Promise<string> {
  const ids = await generate(model, Array.from(tokenizer.encode(prompt).ids), chars, { temperature, seed });
  return prompt + tokenizer.decode(ids);
}

export class TuningJobs implements TuningApi {
  constructor(readonly job: JobRunner) {}

  batchExample(): Promise<BatchExample> {
    return this.job('read', async (wb) => {
      const { hp, split, tokenizer, model, trainer } = wb.run;
      const rng = new Rng(hp.seed * 7919 + trainer.step);
      const B = Math.min(hp.batchSize, 4);
      const batch = batchAt(split.train, randomStarts(rng, split.train.length, hp.contextLength, B), hp.contextLength);
      const T = hp.contextLength;
      const rows = Array.from({ length: B }, (_, b) => ({
        input: tokenizer.decode(batch.x.subarray(b * T, (b + 1) * T)),
        target: tokenizer.decode(batch.y.subarray(b * T, (b + 1) * T)),
      }));
      const lossOf = async (m: GPT) => {
        const l = tf.tidy(() => m.loss(tf.tensor2d(batch.x, [B, T], 'int32'), tf.tensor2d(batch.y, [B, T], 'int32')));
        const v = (await l.data())[0];
        l.dispose();
        return v;
      };
      const fresh = GPT.create(modelConfigOf(hp), hp.seed + 1);
      try {
        return {
          batchSize: B,
          contextLength: T,
          vocabSize: hp.vocabSize,
          rows,
          uniformLoss: Math.log(hp.vocabSize),
          freshLoss: await lossOf(fresh),
          modelLoss: await lossOf(model),
          step: trainer.step,
        };
      } finally {
        fresh.dispose();
      }
    });
  }

  compareRun(settings: CompareSettings, onProgress?: (p: CompareProgress) => void): Promise<CompareRunResult> {
    return this.job('read', async (wb) => {
      const s = checkCompareSettings(settings);
      const base = wb.run.hp;
      // Heads as the reader has them when they divide the width; else the most that do, up to them.
      let heads = Math.min(base.heads, s.width);
      while (s.width % heads !== 0) heads--;
      const warmupSteps = Math.min(base.warmupSteps, Math.floor(s.steps / 10));
      const hp: Hyperparameters = {
        ...base,
        ...s,
        heads,
        warmupSteps,
        minLearningRate: s.learningRate / 10,
        dropout: 0,
        vocabSize: wb.run.tokenizer.size,
      };
      const errors = validateHyperparameters(hp);
      if (errors.length > 0) throw new RangeError(errors.map((e) => `${e.field} ${e.message}`).join('; '));
      const { train, val } = wb.run.split;
      if (train.length < hp.contextLength + 2 || val.length < hp.contextLength + 2) {
        throw new RangeError(`The text is too short for a context length of ${hp.contextLength}.`);
      }
      const started = performance.now();
      const model = GPT.create(modelConfigOf(hp), hp.seed);
      const trainer = new Trainer(model, { train, val }, hp);
      const prompt = samplePrompt(wb.run.tokenizer, wb.text);
      const sampleAt = [...new Set([Math.max(1, Math.round(hp.steps / 10)), Math.round(hp.steps / 2), hp.steps])];
      const result: Pick<CompareRunResult, 'steps' | 'losses' | 'samples'> = { steps: [], losses: [], samples: [] };
      let diverged: number | null = null;
      try {
        let reported = 0;
        run: for (const target of sampleAt) {
          while (trainer.step < target) {
            if (wb.cancelled()) throw new JobCancelledError();
            const chunk = Math.min(5, target - trainer.step);
            try {
              await trainer.run(
                chunk,
                async (r) => {
                  result.steps.push(r.step);
                  result.losses.push(r.trainLoss);
                  if (r.step > reported) {
                    reported = r.step;
                    await onProgress?.({ step: r.step, steps: hp.steps, loss: r.trainLoss, learningRate: r.learningRate });
                  }
                },
                chunk,
              );
            } catch (err) {
              // Too high a learning rate: the run ends here, and the chart shows where it broke.
              if (!(err instanceof NonFiniteLossError)) throw err;
              diverged = err.step;
              break run;
            }
          }
          result.samples.push({ step: trainer.step, text: await sampleText(model, wb.run.tokenizer, prompt, SAMPLE_CHARS, 1) });
        }
        const valLoss = diverged == null ? await trainer.evaluate() : null;
        return {
          label: labelOf(s),
          settings: s,
          heads,
          warmupSteps,
          parameters: parameterCount(hp),
          ...result,
          schedule: Array.from({ length: hp.steps }, (_, i) => learningRateAt(i, hp)),
          valLoss,
          diverged,
          seconds: (performance.now() - started) / 1000,
          backend: wb.backend,
        };
      } finally {
        trainer.dispose();
        model.dispose();
      }
    });
  }

  checkPair(pair: QAPair): Promise<PairError[]> {
    return this.job('read', async (wb) => validatePair(pair ?? {}, new Set(wb.run.tokenizer.vocabulary), wb.run.hp.contextLength));
  }

  finetune(request: FinetuneRequest, onProgress?: (p: FinetuneProgress) => void): Promise<FinetuneResult> {
    return this.job('mutate', async (wb) => {
      const { model, tokenizer, hp } = wb.run;
      const req = request ?? {};
      const steps = optionalInt('steps', req.steps, 1, TUNING_LIMITS.maxFinetuneSteps, DEFAULT_FINETUNE.steps);
      const learningRate = optionalReal('learningRate', req.learningRate, 0, 1, DEFAULT_FINETUNE.learningRate);
      const batchSize = optionalInt('batchSize', req.batchSize, 1, 64, DEFAULT_FINETUNE.batchSize);
      const temperature = optionalReal('temperature', req.temperature, -1, 5, TUNING_LIMITS.temperature);
      const seed = optionalInt('seed', req.seed, 0, 2 ** 32 - 1, 1);
      if (req.pairs !== undefined && !Array.isArray(req.pairs)) throw new TypeError('pairs must be a list of {question, answer}.');
      const readerPairs = (req.pairs ?? []) as QAPair[];
      if (readerPairs.length > TUNING_LIMITS.maxReaderPairs) throw new RangeError(`At most ${TUNING_LIMITS.maxReaderPairs} pairs of your own, please.`);
      checkPairs(readerPairs, tokenizer, hp.contextLength); // before anything changes
      const builtIn = req.readerPairsOnly ? { fit: [], leftOut: 0 } : pairsThatFit(SFT_PAIRS, tokenizer, hp.contextLength);
      const pairs = [...builtIn.fit, ...readerPairs.map((p) => ({ question: p.question, answer: p.answer }))];
      if (pairs.length === 0) {
        throw new RangeError(
          `None of the ${SFT_PAIRS.length} built-in pairs fits this model’s context of ${hp.contextLength} characters, and you added none: add a short pair of your own.`,
        );
      }
      const started = performance.now();
      // The reader's questions first, then the showcase, then (for a short context) built-in ones that fit.
      const questions = [...new Set([...readerPairs.map((p) => p.question), ...SHOWCASE_QUESTIONS, ...builtIn.fit.map((p) => p.question)])]
        .filter((q) => pairPrompt(q).length + 8 <= hp.contextLength)
        .slice(0, 6);
      // One seed per question (the same before and after), so that the answers do not share their random draws.
      const answerAll = () =>
        Promise.all(questions.map((q, i) => answer(model, tokenizer, q, { maxChars: ANSWER_CHARS, temperature, seed: seed + i })));
      const before = await answerAll();
      const lossBefore = await evaluatePairs(model, pairs, tokenizer);
      const history = await finetune(
        model,
        pairs,
        tokenizer,
        { steps, batchSize, learningRate, seed, optimizer: hp },
        (p) => {
          void onProgress?.({ step: p.step, steps: p.steps, loss: p.loss });
        },
        () => wb.cancelled(),
        () => new JobCancelledError(),
      );
      const lossAfter = await evaluatePairs(model, pairs, tokenizer);
      const after = await answerAll();
      return {
        steps,
        builtInUsed: builtIn.fit.length,
        builtInLeftOut: builtIn.leftOut,
        readerPairs: readerPairs.length,
        lossBefore,
        lossAfter,
        losses: history.map((h) => h.loss),
        answers: questions.map((question, i) => ({ question, before: before[i], after: after[i] })),
        seconds: (performance.now() - started) / 1000,
        backend: wb.backend,
      };
    });
  }

  preferencePair(prompt: string, seed?: number): Promise<PreferencePair> {
    return this.job('read', async (wb) => {
      const { model, tokenizer, hp } = wb.run;
      checkPrompt(prompt, tokenizer, hp.contextLength);
      const first = optionalInt('seed', seed, 0, 2 ** 31, 1);
      const room = answerRoom(prompt, hp.contextLength);
      const seeds: [number, number] = [first, first + 1];
      const a = await answer(model, tokenizer, prompt, { maxChars: room, temperature: 1, seed: seeds[0] });
      let b = await answer(model, tokenizer, prompt, { maxChars: room, temperature: 1, seed: seeds[1] });
      // Two identical samples leave nothing to choose between: draw again a few times.
      for (let i = 2; i < 6 && b === a; i++) {
        seeds[1] = first + i;
        b = await answer(model, tokenizer, prompt, { maxChars: room, temperature: 1, seed: seeds[1] });
      }
      return { prompt, answers: [a, b], seeds };
    });
  }

  preferenceStep(request: PreferenceRequest, onProgress?: (step: number, loss: number) => void): Promise<PreferenceResult> {
    return this.job('mutate', async (wb) => {
      const { model, tokenizer, hp } = wb.run;
      const req = request ?? ({} as PreferenceRequest);
      if (!Array.isArray(req.choices) || req.choices.length === 0) throw new RangeError('Pick the better answer of at least one pair first.');
      if (req.choices.length > TUNING_LIMITS.maxPreferences) throw new RangeError(`At most ${TUNING_LIMITS.maxPreferences} picks at a time.`);
      const beta = optionalReal('beta', req.beta, 0, 10, DEFAULT_DPO.beta);
      const steps = optionalInt('steps', req.steps, 1, TUNING_LIMITS.maxPreferenceSteps, DEFAULT_DPO.steps);
      const learningRate = optionalReal('learningRate', req.learningRate, 0, 1, DEFAULT_DPO.learningRate);
      const choices = req.choices.map((c) => ({ prompt: c?.prompt, chosen: c?.chosen, rejected: c?.rejected }) as Preference);
      choices.forEach((c, i) => {
        const problem = preferenceProblem(c, tokenizer, hp.contextLength);
        if (problem) throw new RangeError(`Pick ${i + 1}: ${problem}`);
      });
      const started = performance.now();
      const prompts = [...new Set(choices.map((c) => c.prompt))].slice(0, 2);
      const seeds: [number, number] = [1, 2];
      const sampleBoth = (prompt: string) =>
        Promise.all(seeds.map((s) => answer(model, tokenizer, prompt, { maxChars: answerRoom(prompt, hp.contextLength), temperature: 1, seed: s }))) as Promise<[string, string]>;
      const before = await Promise.all(prompts.map(sampleBoth));
      const result = await dpoTune(
        model,
        choices,
        tokenizer,
        { beta, steps, learningRate, optimizer: hp },
        (s, l) => {
          void onProgress?.(s, l);
        },
        () => wb.cancelled(),
        () => new JobCancelledError(),
      );
      const after = await Promise.all(prompts.map(sampleBoth));
      return {
        ...result,
        samples: prompts.map((prompt, i) => ({ prompt, seeds, before: before[i], after: after[i] })),
        seconds: (performance.now() - started) / 1000,
      };
    });
  }
}

/** Characters an answer to `prompt` may have so that the reply and its end fit the context. */
function answerRoom(prompt: string, contextLength: number): number {
  return Math.min(ANSWER_CHARS, contextLength + 1 - pairPrompt(prompt).length - 3);
}

function checkPrompt(prompt: unknown, tokenizer: CharTokenizer, contextLength: number): asserts prompt is string {
  if (typeof prompt !== 'string') throw new TypeError('The prompt must be text.');
  if (prompt.trim() === '') throw new RangeError('The prompt is empty: write a question.');
  if (/[\r\n]/.test(prompt)) throw new RangeError('The prompt must be one line.');
  const outside = [...new Set([...prompt].filter((c) => !tokenizer.has(c)))];
  if (outside.length > 0) {
    throw new RangeError(`The prompt has characters the model has never seen: ${outside.slice(0, 5).map((c) => `“${c}”`).join(', ')}.`);
  }
  if (answerRoom(prompt, contextLength) < 4) {
    throw new RangeError(
      `The prompt is too long for the model’s context of ${contextLength} characters: with its chat labels it leaves no room for an answer.`,
    );
  }
}

function checkCompareSettings(s: CompareSettings): CompareSettings {
  if (s == null || typeof s !== 'object') throw new TypeError('The settings of the run are missing.');
  const problems: string[] = [];
  const need = (ok: boolean, message: string) => {
    if (!ok) problems.push(message);
  };
  need(isReal(s.learningRate, 0, 1), 'the learning rate must be a number above 0 and at most 1');
  need(isInt(s.batchSize, 1, 256), 'the batch size must be a whole number from 1 to 256');
  need(isInt(s.width, 4, 1024), 'the width must be a whole number from 4 to 1024');
  need(isInt(s.layers, 1, 12), 'the layers must be a whole number from 1 to 12');
  need(isInt(s.contextLength, 2, 512), 'the context length must be a whole number from 2 to 512');
  need(isInt(s.steps, 1, TUNING_LIMITS.maxCompareSteps), `the steps must be a whole number from 1 to ${TUNING_LIMITS.maxCompareSteps}`);
  if (problems.length > 0) throw new RangeError(`This run cannot start: ${problems.join('; ')}.`);
  return { learningRate: s.learningRate, batchSize: s.batchSize, width: s.width, layers: s.layers, contextLength: s.contextLength, steps: s.steps };
}

