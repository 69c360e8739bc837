/**
 * The benchmark's row format (src/bench/rows.ts), shared by Node and the browser page, and the
 * page's address parser (src/bench/request.ts).
 */
import { describe, expect, it } from 'vitest';
import { parseBenchQuery } from '../../src/bench/request';
import { describeTrainStepRow, ratioRow, trainStepRow } from '../../src/bench/rows';

const result = { tokensPerSecond: 1234.56, gflops: 6.789, kernelsPerStep: 98, syncKernels: 52 };
const base = { backend: 'wasm', env: 'chromium-isolated' as const, threads: 2, config: 'baby', batchSize: 12, ceilingGflops: 20, device: 'wasm: test' };

describe('trainStepRow', () => {
  it('has DESIGN.md keys in order, rounded as Node prints them', () => {
    const row = trainStepRow({ ...base, path: 'fast', result });
    expect(Object.keys(row)).toEqual([
      'name', 'path', 'backend', 'env', 'threads', 'config', 'batch_size', 'tokens_per_s', 'gflops',
      'ceiling_gflops', 'ceiling_fraction', 'kernels_per_step', 'sync_kernels', 'device',
    ]);
    expect(row).toMatchObject({ name: 'train_step', tokens_per_s: 1235, gflops: 6.79, ceiling_gflops: 20, kernels_per_step: 98, sync_kernels: 52, threads: 2 });
    expect(row.ceiling_fraction).toBeCloseTo(6.789 / 20, 2);
    expect(describeTrainStepRow(row, 0.5)).toContain('1235 tokens/s, 6.79 GFLOP/s (34.0% of the 20 GFLOP/s ceiling), 98 kernels per step (+52 per write-back');
  });

  it('gives a ratio row only when both paths ran, from the unrounded rates', () => {
    const fast = trainStepRow({ ...base, path: 'fast', result });
    const reference = trainStepRow({ ...base, path: 'reference', result: { ...result, tokensPerSecond: 400.4, syncKernels: 0 } });
    expect(ratioRow(undefined, fast)).toBeNull();
    expect(ratioRow(reference, undefined)).toBeNull();
    expect(ratioRow(reference, fast, { reference: 400.4, fast: 1234.56 })).toEqual({
      name: 'train_step_ratio', backend: 'wasm', env: 'chromium-isolated', threads: 2, config: 'baby', fast_over_reference: 3.08,
    });
  });
});

describe('parseBenchQuery', () => {
  it('reads every parameter, with defaults for the rest', () => {
    expect(parseBenchQuery('?backends=wasm,webgpu&configs=tiny,baby&paths=fast&steps=5&batch-size=16&threads=2&check=1')).toEqual({
      backends: ['wasm', 'webgpu'], configs: ['tiny', 'baby'], paths: ['fast'], steps: 5, warmup: 2, vocabSize: 89, batchSize: 16, threads: 2, check: true,
    });
    expect(parseBenchQuery('')).toEqual({ backends: ['wasm'], configs: ['tiny'], paths: ['reference', 'fast'], steps: 3, warmup: 2, vocabSize: 89 });
  });

  it('names the bad parameter', () => {
    expect(() => parseBenchQuery('?backends=metal')).toThrow(/backends: "metal" is not one of/);
    expect(() => parseBenchQuery('?configs=huge')).toThrow(/configs: "huge"/);
    expect(() => parseBenchQuery('?paths=quick')).toThrow(/paths: "quick"/);
    expect(() => parseBenchQuery('?steps=0')).toThrow(/steps must be a whole number of at least 1/);
    expect(() => parseBenchQuery('?threads=1.5')).toThrow(/threads must be a whole number/);
    expect(() => parseBenchQuery('?step=3')).toThrow(/unknown parameter "step"/);
    expect(() => parseBenchQuery('?check=yes')).toThrow(/check must be 1 or 0, not "yes"/);
  });
});
