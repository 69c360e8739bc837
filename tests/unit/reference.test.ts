import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareWithReference } from '../reference';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('agreement with PyTorch (fixture from scripts/torch/make_reference_fixture.py)', () => {
  it('matches logits, loss, gradient norm and one AdamW step on cpu to ~1e-4', async () => {
    const d = await compareWithReference();
    expect(d.logits).toBeLessThan(1e-4);
    expect(d.loss).toBeLessThan(1e-4);
    expect(d.gradNorm).toBeLessThan(1e-4);
    expect(d.weightsAfterStep).toBeLessThan(1e-4);
    expect(d.keyBiasAfterStep).toBeLessThan(1e-2); // zero-gradient slice: see tests/reference.ts
    expect(d.lossAfterStep).toBeLessThan(1e-4);
    // the step must have moved the loss, or the last check proves nothing
    expect(Math.abs(d.values.expectedLossAfterStep - d.values.expectedLoss)).toBeGreaterThan(1e-2);
  });
});
