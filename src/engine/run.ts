import { checkHyperparameters, ConfigError, DEFAULTS, estimateBytes, formatBytes, type Hyperparameters, type ModelConfig, modelConfigOf } from '../gpt/config';
import { GPT, paramsFromArrays, paramsToArrays } from '../gpt/model';
import { CharTokenizer } from '../gpt/tokenizer';
import { validateCorpus } from '../corpus/validate';
import { splitTokens, type Split } from '../train/data';
import * as tf from '@tensorflow/tfjs';
import { FastGPT } from '../gpt/fast/model';
import { fusedKernelsHere } from '../gpt/fast/ops';
import { FastTrainer } from '../train/fastTrainer';
import { Trainer } from '../train/trainer';
import { CheckpointError, readCheckpoint, readResume, writeCheckpoint, writeResume } from './checkpoint';
import { parameterShapes } from '../gpt/shapes';

/**
 * A training run: the corpus as tokens, the tokenizer, the model and its trainer. It is what the
 * command line drives today and what the engine worker will own; it saves to and restores from
 * the checkpoint + resume record pair of DESIGN.md.
 */
export interface Run {
  hp: Hyperparameters;
  tokenizer: CharTokenizer;
  split: Split;
  model: GPT;
  trainer: RunTrainer;
  /** Characters of the corpus outside the checkpoint's vocabulary (they took the fallback token). */
  unknownChars: number;
}

/** The reference trainer, or the fast path's: the same interface, the same checkpoints and moments. */
export type RunTrainer = Trainer | FastTrainer;

/**
 * The trainer for `model` on the current backend: the fast path (fused kernels, one flat AdamW)
 * where the backend has its fused kernels — webgpu (WGSL programs) and wasm once our SIMD module is
 * installed (src/gpt/simd) — and the configuration allows it (no dropout); else the reference path.
 * On cpu, and on wasm without our module, the fast path's stock-op fallback is slower than the
 * reference, so the reference runs there.
 */
export function makeTrainer(model: GPT, data: { train: Int32Array; val: Int32Array }, hp: Hyperparameters): RunTrainer {
  if (fusedKernelsHere() && FastGPT.unsupported(model.config) == null) return new FastTrainer(model, data, hp);
  return new Trainer(model, data, hp);
}

/**
 * What training may take on the wasm backend, by `estimateBytes`: WebAssembly's 32-bit memory
 * addresses at most 4 GiB, tfjs's own heap included, and a step past it fails with "memory access
 * out of bounds" (the `small` preset at batch 64 needs about 4.2 GiB).
 */
export const WASM_MAX_BYTES = 3 * 1024 ** 3;

/** `hp`, or a ConfigError on the batch size when the current backend cannot hold its training. */
export function checkBackendMemory(hp: Hyperparameters): Hyperparameters {
  const bytes = estimateBytes(hp);
  if (tf.getBackend() === 'wasm' && bytes > WASM_MAX_BYTES) {
    throw new ConfigError([
      {
        field: 'batchSize',
        message:
          `on the wasm backend this model would need about ${formatBytes(bytes)} for training, more than the ` +
          `${formatBytes(WASM_MAX_BYTES)} WebAssembly can address; lower the batch size or the context length, or train on WebGPU`,
      },
    ]);
  }
  return hp;
}

/** Starts a fresh run on `text`: validates corpus and hyperparameters before allocating anything. */
export function startRun(text: string, hp: Omit<Hyperparameters, 'vocabSize'> & { vocabSize?: number }): Run {
  validateCorpus(text, hp.contextLength);
  const tokenizer = CharTokenizer.fromText(text);
  const checked = checkBackendMemory(checkHyperparameters({ ...hp, vocabSize: tokenizer.size }));
  const { ids } = tokenizer.encode(text);
  const split = splitTokens(ids);
  const model = GPT.create(modelConfigOf(checked), checked.seed);
  return { hp: checked, tokenizer, split, model, trainer: makeTrainer(model, split, checked), unknownChars: 0 };
}

/** The weights as a `.safetensors` checkpoint. */
export async function saveCheckpoint(run: Run, valLoss?: number): Promise<Uint8Array> {
  return writeCheckpoint({
    config: modelConfigOf(run.hp),
    vocabulary: [...run.tokenizer.vocabulary],
    step: run.trainer.step,
    valLoss,
    weights: await paramsToArrays(run.model.params),
  });
}

/** What continuing needs beyond the weights: AdamW's moments, step, data position, hyperparameters. */
export async function saveResume(run: Run): Promise<Uint8Array> {
  const state = await run.trainer.exportState();
  return writeResume({
    step: state.step,
    hyperparameters: run.hp,
    rng: [state.dataPosition],
    dataPosition: state.step * run.hp.batchSize,
    moments: state.moments,
  });
}

/**
 * Restores a run from a checkpoint (and, to continue training exactly, its resume record) on
 * `text`. Both files are read and checked in full before any tensor is allocated.
 * `overrides` may change training fields (say, more steps); the architecture comes from the file.
 */
export function restoreRun(
  text: string,
  checkpointBytes: Uint8Array,
  resumeBytes?: Uint8Array,
  overrides: Partial<Hyperparameters> = {},
): Run {
  const ckpt = readCheckpoint(checkpointBytes);
  const resume = resumeBytes ? readResume(resumeBytes, parameterShapes(ckpt.config)) : undefined;
  if (resume) {
    const a = JSON.stringify(modelConfigOf(resume.hyperparameters));
    const b = JSON.stringify(modelConfigOf(ckpt.config));
    if (a !== b) throw new CheckpointError('foreign-format', `the resume record belongs to another model (${a}), not this checkpoint (${b})`);
    if (resume.step !== ckpt.step) {
      throw new CheckpointError('bad-step', `the resume record is from step ${resume.step} but the checkpoint from step ${ckpt.step}`);
    }
  }
  const base = resume?.hyperparameters ?? defaultsFor(ckpt.config);
  const hp = checkBackendMemory(checkHyperparameters({ ...base, ...overrides, ...modelConfigOf(ckpt.config) }));
  validateCorpus(text, hp.contextLength);
  const tokenizer = new CharTokenizer(ckpt.vocabulary);
  const { ids, unknown } = tokenizer.encode(text);
  const split = splitTokens(ids);
  const model = new GPT(modelConfigOf(hp), paramsFromArrays(hp, ckpt.weights));
  const trainer = makeTrainer(model, split, hp);
  trainer.step = ckpt.step;
  if (resume) {
    const moments = new Map([...resume.moments].map(([k, v]) => [k, { m: v.m, v: v.v }]));
    trainer.importState({ step: resume.step, dataPosition: resume.rng[0], moments });
  }
  return { hp, tokenizer, split, model, trainer, unknownChars: unknown };
}

/** A checkpoint without a resume record carries only the architecture: train it with the defaults. */
function defaultsFor(config: ModelConfig): Hyperparameters {
  return { ...DEFAULTS, ...config };
}

export function disposeRun(run: Run): void {
  run.trainer.dispose();
  run.model.dispose();
}
