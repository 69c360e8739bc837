import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelConfigOf, resolveHyperparameters } from '../../src/gpt/config';
import { GPT } from '../../src/gpt/model';
import { Rng } from '../../src/gpt/random';
import { generate } from '../../src/gpt/sample';
import { Trainer } from '../../src/train/trainer';
import { gradientCheck } from './gradcheck';

const hp = resolveHyperparameters('tiny', { vocabSize: 20 });

function randomBatch(seed: number, B: number, T: number, V: number) {
  const rng = new Rng(seed);
  const x = tf.tensor2d(Int32Array.from({ length: B * T }, () => rng.int(V)), [B, T], 'int32');
  const y = tf.tensor2d(Int32Array.from({ length: B * T }, () => rng.int(V)), [B, T], 'int32');
  return { x, y };
}

/** A tiny model whose LayerNorms and biases are not at their initial 1 and 0, so every path carries gradient. */
function perturbedModel(seed: number): GPT {
  const model = GPT.create(modelConfigOf(hp), seed);
  const rng = new Rng(seed + 1);
  tf.tidy(() => {
    for (const [name, p] of model.params) {
      if (name.endsWith('.bias') || name.includes('ln_')) {
        const noise = Float32Array.from({ length: p.size }, () => rng.normal() * 0.1);
        p.assign(tf.add(p, tf.tensor(noise, p.shape)));
      }
    }
  });
  return model;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('the GPT on cpu', () => {
  it('has the shapes and the loss of an untrained model', async () => {
    const model = GPT.create(modelConfigOf(hp), 1);
    const { x, y } = randomBatch(3, 4, 32, 20);
    const logits = tf.tidy(() => model.forward(x));
    expect(logits.shape).toEqual([4 * 32, 20]);
    const last = tf.tidy(() => model.forward(x, { lastOnly: true }));
    expect(last.shape).toEqual([4, 20]);
    // the last position of the full forward equals the lastOnly forward
    const full = (await logits.array()) as number[][];
    const only = (await last.array()) as number[][];
    for (let b = 0; b < 4; b++) for (let v = 0; v < 20; v++) expect(only[b][v]).toBeCloseTo(full[b * 32 + 31][v], 5);
    const loss = tf.tidy(() => model.loss(x, y));
    // small random weights give nearly uniform predictions: loss ≈ ln V
    expect((await loss.data())[0]).toBeCloseTo(Math.log(20), 1);
    tf.dispose([logits, last, loss, x, y]);
    model.dispose();
  });

  it('is causal: changing a later token leaves earlier logits alone', async () => {
    const model = perturbedModel(5);
    const a = Int32Array.from({ length: 32 }, (_, i) => i % 20);
    const b = a.slice();
    b[20] = (b[20] + 7) % 20;
    const la = tf.tidy(() => model.forward(tf.tensor2d(a, [1, 32], 'int32')));
    const lb = tf.tidy(() => model.forward(tf.tensor2d(b, [1, 32], 'int32')));
    const da = (await la.array()) as number[][];
    const db = (await lb.array()) as number[][];
    for (let t = 0; t < 20; t++) for (let v = 0; v < 20; v++) expect(db[t][v]).toBe(da[t][v]);
    expect(Math.abs(db[20][0] - da[20][0]) + Math.abs(db[25][3] - da[25][3])).toBeGreaterThan(1e-6);
    tf.dispose([la, lb]);
    model.dispose();
  });

  it('passes a finite-difference gradient check on every parameter group', async () => {
    const model = perturbedModel(11);
    const { x, y } = randomBatch(12, 4, 32, 20);
    const checks = await gradientCheck(model, x, y);
    expect(checks.length).toBe(model.params.size);
    const worst = checks.reduce((a, b) => (b.relativeError > a.relativeError ? b : a));
    for (const c of checks) expect(c.relativeError, `${c.name}: analytic ${c.analytic}, numeric ${c.numeric}`).toBeLessThanOrEqual(2e-2);
    expect(worst.relativeError).toBeLessThanOrEqual(2e-2);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('fails the gradient check when one gradient has its sign flipped (a planted bug)', async () => {
    const model = perturbedModel(11);
    const { x, y } = randomBatch(12, 4, 32, 20);
    const planted = 'transformer.h.1.mlp.c_fc.weight';
    const checks = await gradientCheck(model, x, y, {
      tamper: (grads) => {
        const key = model.params.get(planted)!.name;
        const flipped = tf.neg(grads[key]);
        grads[key].dispose();
        grads[key] = flipped;
      },
    });
    const failing = checks.filter((c) => c.relativeError > 2e-2).map((c) => c.name);
    expect(failing).toEqual([planted]);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('overfits one fixed batch to a loss below 0.05', async () => {
    const h = { ...hp, learningRate: 1e-2, minLearningRate: 1e-2, warmupSteps: 10, steps: 400, weightDecay: 0 };
    const model = GPT.create(modelConfigOf(h), 2);
    const rng = new Rng(4);
    const tokens = Int32Array.from({ length: 4 * 33 }, () => rng.int(20));
    const batch = {
      x: Int32Array.from({ length: 4 * 32 }, (_, i) => tokens[Math.floor(i / 32) * 33 + (i % 32)]),
      y: Int32Array.from({ length: 4 * 32 }, (_, i) => tokens[Math.floor(i / 32) * 33 + (i % 32) + 1]),
      batchSize: 4,
      contextLength: 32,
    };
    const data = Int32Array.from({ length: 2000 }, (_, i) => i % 20);
    const trainer = new Trainer(model, { train: data, val: data }, h);
    let loss = Infinity;
    for (let i = 0; i < 400 && loss >= 0.05; i++) {
      const [l, n] = trainer.trainStep(batch);
      if (i % 20 === 19) loss = (await l.data())[0];
      tf.dispose([l, n]);
    }
    expect(loss).toBeLessThan(0.05);
    trainer.dispose();
    model.dispose();
  });

  it('keeps the tensor count flat over training steps', async () => {
    const h = { ...hp, batchSize: 2, contextLength: 16 };
    const model = GPT.create(modelConfigOf(h), 3);
    const data = Int32Array.from({ length: 5000 }, (_, i) => (i * 7) % 20);
    const trainer = new Trainer(model, { train: data, val: data.subarray(0, 600) }, h);
    await trainer.run(10);
    await trainer.evaluate();
    const after10 = tf.memory().numTensors;
    const bytes10 = tf.memory().numBytes;
    await trainer.run(190);
    await trainer.evaluate();
    await generate(model, [1, 2, 3], 5, { temperature: 1, seed: 1 });
    expect(trainer.step).toBe(200);
    expect(tf.memory().numTensors).toBe(after10);
    expect(tf.memory().numBytes).toBe(bytes10);
    trainer.dispose();
    model.dispose();
  });

  it('frees every tensor when a model and its trainer are disposed', async () => {
    const before = tf.memory().numTensors;
    const model = GPT.create(modelConfigOf(hp), 3);
    const data = Int32Array.from({ length: 3000 }, (_, i) => (i * 7) % 20);
    const trainer = new Trainer(model, { train: data, val: data.subarray(0, 600) }, hp);
    await trainer.run(2);
    trainer.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('samples reproducibly with a seed', async () => {
    const model = perturbedModel(9);
    const a = await generate(model, [1, 2, 3], 40, { temperature: 1, seed: 42 });
    const b = await generate(model, [1, 2, 3], 40, { temperature: 1, seed: 42 });
    const c = await generate(model, [1, 2, 3], 40, { temperature: 1, seed: 43 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.every((t) => t >= 0 && t < 20)).toBe(true);
    model.dispose();
  });
});
