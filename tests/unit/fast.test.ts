/**
 * The fast path (src/gpt/fast, src/train/fastTrainer.ts) on cpu: it computes what the reference
 * computes (loss, every gradient, AdamW steps, validation loss, moments), keeps the model's
 * parameters in step with its flat buffer in both directions, and leaves no tensor behind.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelConfigOf, resolveHyperparameters, type Hyperparameters } from '../../src/gpt/config';
import { GPT, paramsToArrays } from '../../src/gpt/model';
import { Rng } from '../../src/gpt/random';
import { fastAgreement } from '../../src/gpt/fast/agreement';
import { flatLayout } from '../../src/gpt/fast/layout';
import { parameterCount } from '../../src/gpt/config';
import { Trainer } from '../../src/train/trainer';
import { FastTrainer } from '../../src/train/fastTrainer';

const hp: Hyperparameters = resolveHyperparameters('tiny', { vocabSize: 24, batchSize: 3, warmupSteps: 2, steps: 50 });
const rng = new Rng(11);
const tokens = Int32Array.from({ length: 6000 }, () => rng.int(hp.vocabSize));
const data = { train: tokens.subarray(0, 5000), val: tokens.subarray(5000) };

async function maxWeightDiff(a: GPT, b: GPT): Promise<number> {
  const wa = await paramsToArrays(a.params);
  const wb = await paramsToArrays(b.params);
  let worst = 0;
  for (const [name, x] of wa) {
    const y = wb.get(name)!.data;
    for (let i = 0; i < x.data.length; i++) worst = Math.max(worst, Math.abs(x.data[i] - y[i]));
  }
  return worst;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('the flat layout', () => {
  it('holds every parameter once, in the reference order, with decay on 2-D weights only', () => {
    const config = modelConfigOf(hp);
    const layout = flatLayout(config);
    expect(layout.size).toBe(parameterCount(config));
    let next = 0;
    for (const e of layout.entries) {
      expect(e.offset).toBe(next);
      next += e.size;
      const decayed = layout.decayMask.subarray(e.offset, e.offset + e.size);
      expect(decayed.every((d) => d === (e.shape.length >= 2 ? 1 : 0))).toBe(true);
    }
    const model = GPT.create(config, 1);
    expect(layout.entries.map((e) => e.name)).toEqual([...model.params.keys()]);
    model.dispose();
  });
});

describe('the fast path on cpu', () => {
  it('agrees with the reference on the loss, every gradient and one AdamW step', async () => {
    const before = tf.memory().numTensors;
    const d = await fastAgreement(hp);
    expect(d.loss).toBeLessThan(1e-5);
    expect(d.grads).toBeLessThan(1e-4);
    expect(d.gradNorm).toBeLessThan(1e-5);
    // One step moves weights by about the learning rate (1e-3); agreement must be far finer.
    expect(d.weightsAfterStep).toBeLessThan(1e-5);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trains like the reference over several steps, and sees weights changed from outside', async () => {
    const config = modelConfigOf(hp);
    const refModel = GPT.create(config, 4);
    const fastModel = GPT.create(config, 4);
    const ref = new Trainer(refModel, data, hp);
    const fast = new FastTrainer(fastModel, data, hp);
    await ref.run(6, undefined, 3);
    await fast.run(6, undefined, 3);
    expect(fast.step).toBe(6);
    expect(await maxWeightDiff(refModel, fastModel)).toBeLessThan(1e-5);
    expect(Math.abs((await fast.evaluate()) - (await ref.evaluate()))).toBeLessThan(1e-5);

    // A job edits the weights between runs (as a restored checkpoint or a mutate job does).
    for (const m of [refModel, fastModel]) {
      tf.tidy(() => m.params.get('transformer.ln_f.weight')!.assign(tf.fill([hp.width], 0.5)));
    }
    await ref.run(3, undefined, 3);
    await fast.run(3, undefined, 3);
    expect(await maxWeightDiff(refModel, fastModel)).toBeLessThan(1e-5);
    const lnf = (await fastModel.params.get('transformer.ln_f.weight')!.data()) as Float32Array;
    expect(Math.abs(lnf[0] - 0.5)).toBeLessThan(0.01); // trained on from 0.5, not from the old value

    // Moments export in the reference's format and agree with its moments.
    const rs = await ref.exportState();
    const fs = await fast.exportState();
    expect(fs.step).toBe(rs.step);
    expect(fs.dataPosition).toBe(rs.dataPosition);
    let worst = 0;
    for (const [name, mv] of rs.moments) {
      const f = fs.moments.get(name)!;
      for (let i = 0; i < mv.m.length; i++) worst = Math.max(worst, Math.abs(mv.m[i] - f.m[i]), Math.abs(mv.v[i] - f.v[i]));
    }
    expect(worst).toBeLessThan(1e-6);
    for (const t of [ref, fast]) t.dispose();
    for (const m of [refModel, fastModel]) m.dispose();
  });

  it('resumes from an exported state exactly as an unbroken run continues', async () => {
    const config = modelConfigOf(hp);
    const unbroken = GPT.create(config, 6);
    const a = new FastTrainer(unbroken, data, hp);
    await a.run(4, undefined, 2);
    const state = await a.exportState();
    const weights = await paramsToArrays(unbroken.params);
    await a.run(3, undefined, 3);

    const resumedModel = GPT.create(config, 99); // other weights, replaced below
    tf.tidy(() => {
      for (const [name, w] of weights) resumedModel.params.get(name)!.assign(tf.tensor(w.data, w.shape));
    });
    const b = new FastTrainer(resumedModel, data, hp);
    b.importState(state);
    await b.run(3, undefined, 3);
    expect(b.step).toBe(a.step);
    expect(await maxWeightDiff(unbroken, resumedModel)).toBe(0);
    a.dispose();
    b.dispose();
    unbroken.dispose();
    resumedModel.dispose();
  });

  it('keeps tensors and bytes flat over many steps and frees everything on dispose', async () => {
    const before = tf.memory();
    const model = GPT.create(modelConfigOf(hp), 2);
    const trainer = new FastTrainer(model, data, hp);
    await trainer.run(5, undefined, 5);
    const after5 = tf.memory();
    await trainer.run(25, undefined, 5);
    const after30 = tf.memory();
    expect(after30.numTensors).toBe(after5.numTensors);
    expect(after30.numBytes).toBe(after5.numBytes);
    trainer.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
  });

  it('refuses dropout with a message instead of training without it', () => {
    const withDropout = { ...hp, dropout: 0.1 };
    const model = GPT.create(modelConfigOf(withDropout), 1);
    expect(() => new FastTrainer(model, data, withDropout)).toThrow(/dropout/);
    model.dispose();
  });
});
