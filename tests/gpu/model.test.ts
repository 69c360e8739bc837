/**
 * The GPT on wasm and on webgpu (Dawn; SwiftShader where there is no GPU) computes what it computes
 * on cpu: the PyTorch fixture's logits, loss and AdamW step, and a tiny model's loss and first
 * training step. Tiny sizes: SwiftShader is about a hundred times slower than a GPU.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { modelConfigOf, resolveHyperparameters } from '../../src/gpt/config';
import { GPT, paramsToArrays } from '../../src/gpt/model';
import { Rng } from '../../src/gpt/random';
import { Trainer } from '../../src/train/trainer';
import type { BackendName } from '../../src/engine/backends';
import { prepareNodeBackend } from '../../scripts/lib/node-backends';
import { compareWithReference } from '../reference';

const hp = resolveHyperparameters('tiny', { vocabSize: 24, batchSize: 3 });

/** Loss before, and every weight after, one training step of a seeded tiny model on the current backend. */
async function oneStep(): Promise<{ loss: number; gradNorm: number; weights: Map<string, Float32Array> }> {
  const model = GPT.create(modelConfigOf(hp), 5);
  const rng = new Rng(8);
  const tokens = Int32Array.from({ length: 4000 }, () => rng.int(hp.vocabSize));
  const trainer = new Trainer(model, { train: tokens, val: tokens.subarray(0, 1000) }, hp);
  const batch = {
    x: tokens.slice(0, 3 * 32),
    y: tokens.slice(1, 3 * 32 + 1),
    batchSize: 3,
    contextLength: 32,
  };
  const [loss, norm] = trainer.trainStep(batch);
  const result = {
    loss: (await loss.data())[0],
    gradNorm: (await norm.data())[0],
    weights: new Map([...(await paramsToArrays(model.params))].map(([k, v]) => [k, v.data])),
  };
  tf.dispose([loss, norm]);
  trainer.dispose();
  model.dispose();
  return result;
}

let cpuStep: Awaited<ReturnType<typeof oneStep>>;

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe.each(['wasm', 'webgpu'] as BackendName[])('the GPT on %s', (backend) => {
  it('agrees with cpu on the loss and one AdamW step of a tiny model', async () => {
    await tf.setBackend('cpu');
    cpuStep ??= await oneStep();
    await prepareNodeBackend(backend);
    expect(tf.getBackend()).toBe(backend);
    const step = await oneStep();
    expect(Math.abs(step.loss - cpuStep.loss)).toBeLessThan(1e-4);
    expect(Math.abs(step.gradNorm - cpuStep.gradNorm) / cpuStep.gradNorm).toBeLessThan(1e-4);
    let worst = 0;
    for (const [name, w] of cpuStep.weights) {
      const ours = step.weights.get(name)!;
      for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(ours[i] - w[i]));
    }
    // One step moves weights by about the learning rate (1e-3 here, at warmup's first step 1e-5)
    // in Adam's sign-like first update; agreement must be far finer than that.
    expect(worst).toBeLessThan(1e-6);
  });

  it('matches the PyTorch fixture', async () => {
    await prepareNodeBackend(backend);
    const d = await compareWithReference();
    expect(d.logits).toBeLessThan(1e-4);
    expect(d.loss).toBeLessThan(1e-4);
    expect(d.gradNorm).toBeLessThan(1e-4);
    expect(d.weightsAfterStep).toBeLessThan(1e-4);
    expect(d.lossAfterStep).toBeLessThan(1e-4);
  });
});
