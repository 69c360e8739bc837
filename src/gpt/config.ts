/**
 * The GPT's hyperparameters: one flat object, its defaults, the named presets, and validation.
 *
 * Glossary used in shape comments across src/gpt and src/train:
 *   B  batch size            T  time (positions in a window, ≤ contextLength)
 *   C  channels (= width)    nh number of heads      hs head size (= C / nh)
 *   V  vocabulary size       N  rows after folding batch into rows (= B·T)
 *
 * A preset is a small named override of the defaults, never a second code path.
 */

/** The architecture: everything that decides the shapes of the parameters. */
export interface ModelConfig {
  /** Number of distinct tokens (characters). Set from the tokenizer, not by hand. */
  vocabSize: number;
  /** Longest window the model sees; also the number of learned position embeddings. */
  contextLength: number;
  /** Number of transformer blocks. */
  layers: number;
  /** Attention heads per block; `width` must divide evenly among them. */
  heads: number;
  /** Channels of the residual stream (the embedding size). */
  width: number;
  /** Probability of zeroing an activation during training; 0 turns dropout off. */
  dropout: number;
}

/** How the model is trained: nothing here changes a parameter's shape. */
export interface TrainConfig {
  /** Windows per optimizer step. */
  batchSize: number;
  /** Peak learning rate, reached at the end of warmup. */
  learningRate: number;
  /** The floor the cosine schedule decays to. */
  minLearningRate: number;
  /** Steps of linear warmup from 0 to `learningRate`. */
  warmupSteps: number;
  /** Length of the run: the cosine reaches `minLearningRate` here. */
  steps: number;
  /** AdamW's first-moment decay. */
  beta1: number;
  /** AdamW's second-moment decay. */
  beta2: number;
  /** AdamW's epsilon. */
  epsilon: number;
  /** Decoupled weight decay, applied to 2-D weights only. */
  weightDecay: number;
  /** Global gradient-norm clipping threshold; 0 turns clipping off. */
  gradClip: number;
  /** Seed of every random choice: initial weights, batches, dropout. */
  seed: number;
}

export type Hyperparameters = ModelConfig & TrainConfig;

/** Defaults: the `baby` preset, the size compared against PyTorch. */
export const DEFAULTS: Hyperparameters = {
  vocabSize: 0, // filled in from the tokenizer
  contextLength: 64,
  layers: 4,
  heads: 4,
  width: 128,
  dropout: 0,
  batchSize: 12,
  learningRate: 1e-3,
  minLearningRate: 1e-4,
  warmupSteps: 100,
  steps: 2000,
  beta1: 0.9,
  beta2: 0.99,
  epsilon: 1e-8,
  weightDecay: 0.1,
  gradClip: 1.0,
  seed: 1,
};

export const PRESETS = {
  /** Tests, SwiftShader and end-to-end runs. */
  tiny: { layers: 2, heads: 2, width: 32, contextLength: 32, batchSize: 4 },
  /** The comparison with PyTorch (the defaults). */
  baby: { layers: 4, heads: 4, width: 128, contextLength: 64, batchSize: 12 },
  /** The shipped checkpoint, chat fine-tuning and the API. */
  base: { layers: 4, heads: 4, width: 128, contextLength: 128, batchSize: 12 },
  /** A GPU showcase (10.7M parameters). */
  small: { layers: 6, heads: 6, width: 384, contextLength: 256, batchSize: 64 },
} as const satisfies Record<string, Partial<Hyperparameters>>;

export type PresetName = keyof typeof PRESETS;

export function isPresetName(name: string): name is PresetName {
  return Object.prototype.hasOwnProperty.call(PRESETS, name);
}

/** The defaults with a preset and then explicit overrides applied, in that order. */
export function resolveHyperparameters(
  preset: PresetName = 'baby',
  overrides: Partial<Hyperparameters> = {},
): Hyperparameters {
  return { ...DEFAULTS, ...PRESETS[preset], ...overrides };
}

export const MODEL_KEYS = ['vocabSize', 'contextLength', 'layers', 'heads', 'width', 'dropout'] as const;

export function modelConfigOf(h: ModelConfig): ModelConfig {
  return {
    vocabSize: h.vocabSize,
    contextLength: h.contextLength,
    layers: h.layers,
    heads: h.heads,
    width: h.width,
    dropout: h.dropout,
  };
}

/** A bad value, reported on its own field. */
export interface FieldError {
  field: keyof Hyperparameters | string;
  message: string;
}

export class ConfigError extends Error {
  readonly errors: FieldError[];
  constructor(errors: FieldError[]) {
    super(errors.map((e) => `${e.field}: ${e.message}`).join('; '));
    this.name = 'ConfigError';
    this.errors = errors;
  }
}

/** Limits that keep a reader's tab alive; the byte budget is checked by `estimateBytes`. */
export const LIMITS = {
  maxVocabSize: 65536,
  maxContextLength: 4096,
  maxLayers: 48,
  maxHeads: 64,
  maxWidth: 4096,
  maxBatchSize: 4096,
  maxSteps: 10_000_000,
  /**
   * What the model, its gradients, the optimizer state and one step's activations may take. The
   * `small` preset (the GPU showcase) needs about 4.2 GiB by `estimateBytes`; beyond 8 GiB a
   * browser tab is lost on most machines.
   */
  maxBytes: 8 * 1024 ** 3,
};

type Rule = (v: number) => string | null;
const isNum: Rule = (v) => (typeof v !== 'number' || Number.isNaN(v) ? 'must be a number' : Number.isFinite(v) ? null : 'must be finite');
const int = (min: number, max: number): Rule => (v) =>
  isNum(v) ?? (!Number.isInteger(v) ? 'must be a whole number' : v < min ? `must be at least ${min}` : v > max ? `must be at most ${max}` : null);
const real = (min: number, max: number, minOpen = false, maxOpen = false): Rule => (v) =>
  isNum(v) ??
  ((minOpen ? v <= min : v < min)
    ? `must be ${minOpen ? 'greater than' : 'at least'} ${min}`
    : (maxOpen ? v >= max : v > max)
      ? `must be ${maxOpen ? 'less than' : 'at most'} ${max}`
      : null);

const RULES: Record<keyof Hyperparameters, Rule> = {
  vocabSize: int(2, LIMITS.maxVocabSize),
  contextLength: int(1, LIMITS.maxContextLength),
  layers: int(1, LIMITS.maxLayers),
  heads: int(1, LIMITS.maxHeads),
  width: int(1, LIMITS.maxWidth),
  dropout: real(0, 1, false, true),
  batchSize: int(1, LIMITS.maxBatchSize),
  learningRate: real(0, 10, true),
  minLearningRate: real(0, 10),
  warmupSteps: int(0, LIMITS.maxSteps),
  steps: int(1, LIMITS.maxSteps),
  beta1: real(0, 1, false, true),
  beta2: real(0, 1, false, true),
  epsilon: real(0, 1, true),
  weightDecay: real(0, 10),
  gradClip: real(0, 1e6),
  seed: int(0, 2 ** 32 - 1),
};

/** Parameters of the model (position embeddings included; the head is tied to `wte`). */
export function parameterCount(c: ModelConfig): number {
  const C = c.width;
  const perBlock = 2 * 2 * C + (3 * C * C + 3 * C) + (C * C + C) + (4 * C * C + 4 * C) + (4 * C * C + C);
  return c.vocabSize * C + c.contextLength * C + c.layers * perBlock + 2 * C;
}

/** Training FLOPs per token: 6·N + 12·L·T·C, N without position embeddings. */
export function flopsPerToken(c: ModelConfig): number {
  const n = parameterCount(c) - c.contextLength * c.width;
  return 6 * n + 12 * c.layers * c.contextLength * c.width;
}

/**
 * Bytes training will hold: weights, gradients and two AdamW moments (4 copies of float32), plus
 * one step's activations (a generous count of the tensors the backward pass keeps per block).
 */
export function estimateBytes(h: Hyperparameters): number {
  const params = parameterCount(h);
  const B = h.batchSize;
  const T = h.contextLength;
  const C = h.width;
  const perBlockActivations = B * T * C * 16 + B * h.heads * T * T * 3;
  const activations = h.layers * perBlockActivations + B * T * h.vocabSize * 3 + B * T * C * 4;
  return 4 * (4 * params + activations);
}

export function formatBytes(n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GiB` : `${(n / 1024 ** 2).toFixed(0)} MiB`;
}

/** Every problem with `h`, each on its own field; empty when the set is usable. Allocates nothing. */
export function validateHyperparameters(h: Partial<Record<keyof Hyperparameters, unknown>>): FieldError[] {
  const errors: FieldError[] = [];
  for (const key of Object.keys(RULES) as (keyof Hyperparameters)[]) {
    const value = h[key];
    if (value === undefined) {
      errors.push({ field: key, message: 'is missing' });
      continue;
    }
    if (typeof value !== 'number') {
      errors.push({ field: key, message: `must be a number, not ${value === null ? 'null' : typeof value}` });
      continue;
    }
    const problem = RULES[key](value);
    if (problem) errors.push({ field: key, message: problem });
  }
  // Checks across fields run wherever the fields involved are each valid, so the reader sees them
  // together with the other errors rather than one round later.
  const bad = new Set(errors.map((e) => e.field));
  const valid = (...keys: (keyof Hyperparameters)[]) => keys.every((k) => !bad.has(k));
  const v = h as Hyperparameters;
  if (valid('width', 'heads') && v.width % v.heads !== 0) {
    errors.push({ field: 'width', message: `must divide evenly among ${v.heads} heads (${v.width} / ${v.heads} is not whole)` });
  }
  if (valid('minLearningRate', 'learningRate') && v.minLearningRate > v.learningRate) {
    errors.push({ field: 'minLearningRate', message: `must not exceed the learning rate (${v.learningRate})` });
  }
  if (valid('warmupSteps', 'steps') && v.warmupSteps > v.steps) {
    errors.push({ field: 'warmupSteps', message: `must not exceed steps (${v.steps})` });
  }
  if (errors.length > 0) return errors;
  const bytes = estimateBytes(v);
  if (bytes > LIMITS.maxBytes) {
    errors.push({
      field: 'width',
      message: `this model would need about ${formatBytes(bytes)} for training, more than the ${formatBytes(LIMITS.maxBytes)} allowed; make it smaller`,
    });
  }
  return errors;
}

/** Returns `h` typed as valid, or throws a ConfigError listing every bad field. */
export function checkHyperparameters(h: Partial<Record<keyof Hyperparameters, unknown>>): Hyperparameters {
  const errors = validateHyperparameters(h);
  if (errors.length > 0) throw new ConfigError(errors);
  return h as Hyperparameters;
}
