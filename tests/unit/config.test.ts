import { describe, it, expect } from 'vitest';
import {
  ConfigError,
  DEFAULTS,
  LIMITS,
  MODEL_KEYS,
  PRESETS,
  checkHyperparameters,
  estimateBytes,
  flopsPerToken,
  isPresetName,
  modelConfigOf,
  parameterCount,
  resolveHyperparameters,
  validateHyperparameters,
  type Hyperparameters,
  type ModelConfig,
  type PresetName,
} from '../../src/gpt/config';
import { parameterShapes } from '../../src/gpt/shapes';

/** Moby-Dick as the npm package ships it has 89 distinct characters (see corpus.test.ts). */
const MOBY_VOCAB = 89;

/** A valid set: the `baby` preset with Moby-Dick's vocabulary. */
function valid(overrides: Partial<Record<keyof Hyperparameters, unknown>> = {}): Record<string, unknown> {
  return { ...resolveHyperparameters('baby', { vocabSize: MOBY_VOCAB }), ...overrides };
}

// ---------------------------------------------------------------------------------------------
// Presets
// ---------------------------------------------------------------------------------------------

describe('presets (the DESIGN.md table)', () => {
  const table: [PresetName, number, number, number, number, number][] = [
    // preset   layers heads width context batch
    ['tiny', 2, 2, 32, 32, 4],
    ['baby', 4, 4, 128, 64, 12],
    ['base', 4, 4, 128, 128, 12],
    ['small', 6, 6, 384, 256, 64],
  ];

  it.each(table)('%s resolves to layers %i, heads %i, width %i, context %i, batch %i', (name, layers, heads, width, contextLength, batchSize) => {
    const h = resolveHyperparameters(name);
    expect({ layers: h.layers, heads: h.heads, width: h.width, contextLength: h.contextLength, batchSize: h.batchSize }).toEqual({
      layers,
      heads,
      width,
      contextLength,
      batchSize,
    });
  });

  it('has exactly the four presets of the table', () => {
    expect(Object.keys(PRESETS).sort()).toEqual(['baby', 'base', 'small', 'tiny']);
  });

  it('baby carries the PyTorch-comparison training settings', () => {
    expect(resolveHyperparameters('baby')).toEqual({
      vocabSize: 0,
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
    });
  });

  it('defaults to baby when no preset is named', () => {
    expect(resolveHyperparameters()).toEqual(resolveHyperparameters('baby'));
  });

  it('a preset only overrides the architecture and batch: training settings stay the defaults', () => {
    const small = resolveHyperparameters('small');
    expect(small.learningRate).toBe(1e-3);
    expect(small.minLearningRate).toBe(1e-4);
    expect(small.warmupSteps).toBe(100);
    expect(small.steps).toBe(2000);
    expect(small.beta2).toBe(0.99);
    expect(small.weightDecay).toBe(0.1);
    expect(small.dropout).toBe(0);
  });

  it('explicit overrides win over the preset, which wins over the defaults', () => {
    const h = resolveHyperparameters('tiny', { layers: 3, learningRate: 5e-4, vocabSize: 7 });
    expect(h.layers).toBe(3);
    expect(h.heads).toBe(2); // from tiny
    expect(h.width).toBe(32); // from tiny
    expect(h.learningRate).toBe(5e-4);
    expect(h.vocabSize).toBe(7);
    expect(h.minLearningRate).toBe(1e-4); // default
  });

  it('resolving never mutates DEFAULTS or PRESETS', () => {
    resolveHyperparameters('small', { width: 999 });
    expect(DEFAULTS.width).toBe(128);
    expect(PRESETS.small.width).toBe(384);
  });

  it('isPresetName accepts the four names only (not inherited properties)', () => {
    expect(isPresetName('tiny')).toBe(true);
    expect(isPresetName('small')).toBe(true);
    expect(isPresetName('huge')).toBe(false);
    expect(isPresetName('Tiny')).toBe(false);
    expect(isPresetName('toString')).toBe(false);
    expect(isPresetName('__proto__')).toBe(false);
    expect(isPresetName('')).toBe(false);
  });

  it('modelConfigOf keeps exactly the architecture fields', () => {
    const m = modelConfigOf(resolveHyperparameters('base', { vocabSize: MOBY_VOCAB }));
    expect(m).toEqual({ vocabSize: 89, contextLength: 128, layers: 4, heads: 4, width: 128, dropout: 0 });
    expect(Object.keys(m).sort()).toEqual([...MODEL_KEYS].sort());
  });
});

// ---------------------------------------------------------------------------------------------
// Parameter count and FLOPs
// ---------------------------------------------------------------------------------------------

function model(preset: PresetName, vocabSize = MOBY_VOCAB): ModelConfig {
  return modelConfigOf(resolveHyperparameters(preset, { vocabSize }));
}

describe('parameterCount', () => {
  it('baby with the Moby-Dick vocabulary (89) has 812,928 parameters', () => {
    expect(parameterCount(model('baby'))).toBe(812_928);
  });

  it('small with the Moby-Dick vocabulary has 10,780,032 parameters (10,681,728 ≈ 10.7M without position embeddings)', () => {
    // By hand, C = 384: wte 89·384 = 34,176; wpe 256·384 = 98,304; per block 12C² + 13C = 1,774,464,
    // times 6 = 10,646,784; ln_f 2C = 768. DESIGN.md's "10.7M" is the count without wpe, as nanoGPT reports.
    const m = model('small');
    expect(parameterCount(m)).toBe(10_780_032);
    expect(parameterCount(m) - m.contextLength * m.width).toBe(10_681_728);
  });

  it('tiny and base with the Moby-Dick vocabulary', () => {
    expect(parameterCount(model('tiny'))).toBe(29_344);
    expect(parameterCount(model('base'))).toBe(821_120);
  });

  it('grows by width per extra vocabulary entry and per extra position', () => {
    const m = model('baby');
    expect(parameterCount({ ...m, vocabSize: 90 }) - parameterCount(m)).toBe(128);
    expect(parameterCount({ ...m, contextLength: 65 }) - parameterCount(m)).toBe(128);
  });

  it('does not depend on heads or dropout', () => {
    const m = model('baby');
    expect(parameterCount({ ...m, heads: 1, dropout: 0.5 })).toBe(parameterCount(m));
  });

  it.each(['tiny', 'baby', 'base', 'small'] as PresetName[])('%s agrees with the sum of the parameter shapes', (preset) => {
    const m = model(preset);
    let total = 0;
    for (const shape of parameterShapes(m).values()) total += shape.reduce((a, b) => a * b, 1);
    expect(parameterCount(m)).toBe(total);
  });
});

describe('flopsPerToken (6·N + 12·L·T·C, N without position embeddings)', () => {
  it('baby: 6·804,736 + 12·4·64·128 = 5,221,632', () => {
    expect(flopsPerToken(model('baby'))).toBe(5_221_632);
  });

  it('small: 6·10,681,728 + 12·6·256·384 = 71,168,256', () => {
    expect(flopsPerToken(model('small'))).toBe(71_168_256);
  });

  it('tiny: 6·28,320 + 12·2·32·32 = 194,496', () => {
    expect(flopsPerToken(model('tiny'))).toBe(194_496);
  });

  it('position embeddings add no 6·N term: one more position adds exactly 12·L·C', () => {
    const m = model('baby');
    expect(flopsPerToken({ ...m, contextLength: 65 }) - flopsPerToken(m)).toBe(12 * 4 * 128);
  });
});

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

describe('validateHyperparameters', () => {
  it.each(['tiny', 'baby', 'base'] as PresetName[])('%s with a real vocabulary gives no errors', (preset) => {
    expect(validateHyperparameters(resolveHyperparameters(preset, { vocabSize: MOBY_VOCAB }))).toEqual([]);
  });

  // `small`, the GPU showcase, is estimated at about 4.2 GiB (estimateBytes = 4,518,500,352): under the limit.
  it('small with a real vocabulary gives no errors', () => {
    expect(validateHyperparameters(resolveHyperparameters('small', { vocabSize: MOBY_VOCAB }))).toEqual([]);
  });

  it('the defaults alone are refused on vocabSize, which must come from the tokenizer', () => {
    expect(validateHyperparameters(DEFAULTS)).toEqual([{ field: 'vocabSize', message: 'must be at least 2' }]);
  });

  type Case = [string, Partial<Record<keyof Hyperparameters, unknown>>, string, string];
  const bad: Case[] = [
    // description, overrides, field, exact message
    ['layers 0', { layers: 0 }, 'layers', 'must be at least 1'],
    ['layers negative', { layers: -2 }, 'layers', 'must be at least 1'],
    ['layers fractional', { layers: 2.5 }, 'layers', 'must be a whole number'],
    ['layers above the limit', { layers: 49 }, 'layers', 'must be at most 48'],
    ['layers NaN', { layers: NaN }, 'layers', 'must be a number'],
    ['layers empty string', { layers: '' }, 'layers', 'must be a number, not string'],
    ['heads 0', { heads: 0 }, 'heads', 'must be at least 1'],
    ['heads negative', { heads: -4 }, 'heads', 'must be at least 1'],
    ['heads fractional', { heads: 1.5 }, 'heads', 'must be a whole number'],
    ['heads as a string', { heads: '4' }, 'heads', 'must be a number, not string'],
    ['width 0', { width: 0 }, 'width', 'must be at least 1'],
    ['width negative', { width: -128 }, 'width', 'must be at least 1'],
    ['width fractional', { width: 127.5 }, 'width', 'must be a whole number'],
    ['width Infinity', { width: Infinity }, 'width', 'must be finite'],
    ['width null', { width: null }, 'width', 'must be a number, not null'],
    ['width not divisible by heads', { width: 130 }, 'width', 'must divide evenly among 4 heads (130 / 4 is not whole)'],
    ['width 128 among 3 heads', { heads: 3 }, 'width', 'must divide evenly among 3 heads (128 / 3 is not whole)'],
    ['contextLength 0', { contextLength: 0 }, 'contextLength', 'must be at least 1'],
    ['contextLength negative', { contextLength: -64 }, 'contextLength', 'must be at least 1'],
    ['contextLength fractional', { contextLength: 63.9 }, 'contextLength', 'must be a whole number'],
    ['contextLength above the limit', { contextLength: 4097 }, 'contextLength', 'must be at most 4096'],
    ['batchSize 0', { batchSize: 0 }, 'batchSize', 'must be at least 1'],
    ['batchSize negative', { batchSize: -1 }, 'batchSize', 'must be at least 1'],
    ['batchSize fractional', { batchSize: 0.5 }, 'batchSize', 'must be a whole number'],
    ['batchSize boolean', { batchSize: true }, 'batchSize', 'must be a number, not boolean'],
    ['steps 0', { steps: 0 }, 'steps', 'must be at least 1'],
    ['steps negative', { steps: -10 }, 'steps', 'must be at least 1'],
    ['steps fractional', { steps: 100.5 }, 'steps', 'must be a whole number'],
    ['steps -Infinity', { steps: -Infinity }, 'steps', 'must be finite'],
    ['steps undefined', { steps: undefined }, 'steps', 'is missing'],
    ['vocabSize 1', { vocabSize: 1 }, 'vocabSize', 'must be at least 2'],
    ['vocabSize above the limit', { vocabSize: 65537 }, 'vocabSize', 'must be at most 65536'],
    ['dropout 1', { dropout: 1 }, 'dropout', 'must be less than 1'],
    ['dropout -0.1', { dropout: -0.1 }, 'dropout', 'must be at least 0'],
    ['dropout false', { dropout: false }, 'dropout', 'must be a number, not boolean'],
    ['learningRate 0', { learningRate: 0 }, 'learningRate', 'must be greater than 0'],
    ['learningRate negative', { learningRate: -1e-3 }, 'learningRate', 'must be greater than 0'],
    ['learningRate NaN', { learningRate: NaN }, 'learningRate', 'must be a number'],
    ['learningRate Infinity', { learningRate: Infinity }, 'learningRate', 'must be finite'],
    ['learningRate as a string', { learningRate: '1e-3' }, 'learningRate', 'must be a number, not string'],
    ['minLearningRate negative', { minLearningRate: -1e-4 }, 'minLearningRate', 'must be at least 0'],
    ['minLearningRate above learningRate', { minLearningRate: 2e-3 }, 'minLearningRate', 'must not exceed the learning rate (0.001)'],
    ['warmupSteps above steps', { warmupSteps: 2001 }, 'warmupSteps', 'must not exceed steps (2000)'],
    ['warmupSteps negative', { warmupSteps: -1 }, 'warmupSteps', 'must be at least 0'],
    ['beta1 1', { beta1: 1 }, 'beta1', 'must be less than 1'],
    ['beta1 negative', { beta1: -0.9 }, 'beta1', 'must be at least 0'],
    ['beta2 1', { beta2: 1 }, 'beta2', 'must be less than 1'],
    ['epsilon 0', { epsilon: 0 }, 'epsilon', 'must be greater than 0'],
    ['weightDecay negative', { weightDecay: -0.1 }, 'weightDecay', 'must be at least 0'],
    ['gradClip negative', { gradClip: -1 }, 'gradClip', 'must be at least 0'],
    ['seed negative', { seed: -1 }, 'seed', 'must be at least 0'],
    ['seed fractional', { seed: 1.5 }, 'seed', 'must be a whole number'],
    ['seed above 2^32 - 1', { seed: 2 ** 32 }, 'seed', 'must be at most 4294967295'],
    ['seed null', { seed: null }, 'seed', 'must be a number, not null'],
  ];

  it('the table has at least 25 bad values', () => {
    expect(bad.length).toBeGreaterThanOrEqual(25);
  });

  it.each(bad)('%s is reported on its own field', (_desc, overrides, field, message) => {
    expect(validateHyperparameters(valid(overrides))).toEqual([{ field, message }]);
  });

  it('a missing field (absent key, not just undefined) is reported as missing', () => {
    const h = valid();
    delete h.heads;
    expect(validateHyperparameters(h)).toEqual([{ field: 'heads', message: 'is missing' }]);
  });

  it('an empty object reports every one of the 17 fields as missing, in a stable order', () => {
    const errors = validateHyperparameters({});
    expect(errors).toHaveLength(17);
    expect(errors.every((e) => e.message === 'is missing')).toBe(true);
    expect(errors.map((e) => e.field)).toEqual([
      'vocabSize',
      'contextLength',
      'layers',
      'heads',
      'width',
      'dropout',
      'batchSize',
      'learningRate',
      'minLearningRate',
      'warmupSteps',
      'steps',
      'beta1',
      'beta2',
      'epsilon',
      'weightDecay',
      'gradClip',
      'seed',
    ]);
  });

  it.each<[string, Partial<Hyperparameters>]>([
    ['dropout 0', { dropout: 0 }],
    ['dropout just below 1', { dropout: 0.999 }],
    ['seed 0', { seed: 0 }],
    ['seed 2^32 - 1', { seed: 2 ** 32 - 1 }],
    ['warmupSteps equal to steps', { warmupSteps: 2000 }],
    ['warmupSteps 0', { warmupSteps: 0 }],
    ['minLearningRate equal to learningRate', { minLearningRate: 1e-3 }],
    ['minLearningRate 0', { minLearningRate: 0 }],
    ['beta1 and beta2 0', { beta1: 0, beta2: 0 }],
    ['gradClip 0 (clipping off)', { gradClip: 0 }],
    ['one head', { heads: 1 }],
    ['steps 1 with no warmup', { steps: 1, warmupSteps: 0 }],
    ['vocabSize 2', { vocabSize: 2 }],
  ])('accepts the boundary value: %s', (_desc, overrides) => {
    expect(validateHyperparameters(valid(overrides))).toEqual([]);
  });

  it('refuses a huge model with its estimated size in GiB, on the width field', () => {
    const huge = valid({ width: 4096, layers: 48, contextLength: 4096, batchSize: 4096 });
    const errors = validateHyperparameters(huge);
    expect(errors).toHaveLength(1);
    expect(errors[0].field).toBe('width');
    expect(errors[0].message).toMatch(/^this model would need about [\d.]+ GiB for training, more than the 8\.0 GiB allowed; make it smaller$/);
    expect(estimateBytes(huge as unknown as Hyperparameters)).toBeGreaterThan(LIMITS.maxBytes);
  });

  it('the size estimate of baby is well inside the budget and grows with the batch', () => {
    const baby = resolveHyperparameters('baby', { vocabSize: MOBY_VOCAB });
    expect(estimateBytes(baby)).toBeLessThan(LIMITS.maxBytes);
    // at least the weights, gradients and two AdamW moments in float32
    expect(estimateBytes(baby)).toBeGreaterThanOrEqual(16 * parameterCount(baby));
    expect(estimateBytes({ ...baby, batchSize: 24 })).toBeGreaterThan(estimateBytes(baby));
  });

  it('reports several bad fields at once, each on its own field, in field order', () => {
    const errors = validateHyperparameters(valid({ seed: -1, layers: 0, heads: '4', dropout: 1, learningRate: NaN }));
    expect(errors).toEqual([
      { field: 'layers', message: 'must be at least 1' },
      { field: 'heads', message: 'must be a number, not string' },
      { field: 'dropout', message: 'must be less than 1' },
      { field: 'learningRate', message: 'must be a number' },
      { field: 'seed', message: 'must be at least 0' },
    ]);
  });

  it('reports several cross-field problems at once', () => {
    const errors = validateHyperparameters(valid({ width: 130, minLearningRate: 0.01, warmupSteps: 5000 }));
    expect(errors).toEqual([
      { field: 'width', message: 'must divide evenly among 4 heads (130 / 4 is not whole)' },
      { field: 'minLearningRate', message: 'must not exceed the learning rate (0.001)' },
      { field: 'warmupSteps', message: 'must not exceed steps (2000)' },
    ]);
  });

  it('reports a cross-field problem together with an error on an unrelated field', () => {
    const errors = validateHyperparameters(valid({ width: 32, heads: 3, learningRate: -1 }));
    expect(errors).toEqual([
      { field: 'learningRate', message: 'must be greater than 0' },
      { field: 'width', message: 'must divide evenly among 3 heads (32 / 3 is not whole)' },
    ]);
    // but not one built on a field that is itself invalid
    expect(validateHyperparameters(valid({ heads: 0, learningRate: -1 })).map((e) => e.field)).toEqual(['heads', 'learningRate']);
  });

  it('does not modify its argument', () => {
    const h = valid({ layers: 0 });
    const copy = { ...h };
    validateHyperparameters(h);
    expect(h).toEqual(copy);
  });
});

describe('checkHyperparameters', () => {
  it('returns the same object when it is valid', () => {
    const h = resolveHyperparameters('tiny', { vocabSize: 10 });
    expect(checkHyperparameters(h)).toBe(h);
  });

  it('throws a ConfigError listing every bad field', () => {
    let caught: unknown;
    try {
      checkHyperparameters(valid({ layers: 0, seed: 1.5 }));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toBeInstanceOf(Error);
    const err = caught as ConfigError;
    expect(err.name).toBe('ConfigError');
    expect(err.errors).toEqual([
      { field: 'layers', message: 'must be at least 1' },
      { field: 'seed', message: 'must be a whole number' },
    ]);
    expect(err.message).toBe('layers: must be at least 1; seed: must be a whole number');
  });

  it('throws for the huge model with the GiB message', () => {
    expect(() => checkHyperparameters(valid({ width: 4096, layers: 48, contextLength: 4096, batchSize: 4096 }))).toThrow(
      /^width: this model would need about [\d.]+ GiB/,
    );
  });
});
