/**
 * Direct Preference Optimization (src/train/preference.ts): the loss against values computed by
 * hand, response log-probabilities against a plain-JS sum over the model's own logits, the frozen
 * reference, and a short DPO run that widens the margin of the chosen answer.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pairCompletion, pairPrompt } from '../../src/corpus/sft';
import { modelConfigOf, resolveHyperparameters } from '../../src/gpt/config';
import { GPT } from '../../src/gpt/model';
import { CharTokenizer } from '../../src/gpt/tokenizer';
import { dpoLoss, dpoTune, frozenCopy, preferenceProblem, preferenceRows, responseLogProbs, type Preference } from '../../src/train/preference';
import { loadMobyDick } from '../../scripts/lib/corpus-node';

const tokenizer = CharTokenizer.fromText(loadMobyDick());

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function tinyModel(seed: number, contextLength = 48): GPT {
  return GPT.create(modelConfigOf(resolveHyperparameters('tiny', { vocabSize: tokenizer.size, contextLength })), seed);
}

async function values(t: tf.Tensor): Promise<number[]> {
  const v = Array.from(await t.data());
  t.dispose();
  return v;
}

describe('the DPO loss', () => {
  let start = 0;
  beforeAll(() => {
    start = tf.memory().numTensors;
  });
  afterAll(() => {
    expect(tf.memory().numTensors).toBe(start);
  });

  it('is −log σ(β·[(πw − refw) − (πl − refl)]) averaged over pairs, as computed by hand', async () => {
    const pc = [-3, -5, -10];
    const pr = [-4, -2, -9];
    const rc = [-3.5, -5, -12];
    const rr = [-3.5, -2.5, -8];
    const beta = 0.5;
    // Pair 0: (−3 + 3.5) − (−4 + 3.5) = 0.5 + 0.5 = 1 → z = 0.5.
    // Pair 1: (0) − (−2 + 2.5) = −0.5 → z = −0.25.  Pair 2: (2) − (−1) = 3 → z = 1.5.
    const zs = [0.5, -0.25, 1.5];
    const byHand = zs.reduce((a, z) => a - Math.log(sigmoid(z)), 0) / 3;
    const [value] = await values(tf.tidy(() => dpoLoss(tf.tensor1d(pc), tf.tensor1d(pr), tf.tensor1d(rc), tf.tensor1d(rr), beta)));
    expect(value).toBeCloseTo(byHand, 5);
    expect(byHand).toBeCloseTo((-Math.log(sigmoid(0.5)) - Math.log(sigmoid(-0.25)) - Math.log(sigmoid(1.5))) / 3, 12);
  });

  it('is ln 2 when the model is its own reference, and stays finite far from it', async () => {
    const same = tf.tensor1d([-7, -1.5]);
    const other = tf.tensor1d([-3, -20]);
    const [atStart] = await values(dpoLoss(same, other, same, other, 0.1));
    expect(atStart).toBeCloseTo(Math.LN2, 6);
    // z = −1000: −log σ(−1000) = 1000 (a naive log(sigmoid) would give Infinity).
    const [far] = await values(tf.tidy(() => dpoLoss(tf.tensor1d([-1000]), tf.tensor1d([0]), tf.tensor1d([0]), tf.tensor1d([0]), 1)));
    expect(far).toBeCloseTo(1000, 2);
    tf.dispose([same, other]);
  });
});

describe('response log-probabilities', () => {
  it('sum log p over the response tokens only, as a plain-JS sum over the model’s logits', async () => {
    const model = tinyModel(11);
    const prompt = Array.from(tokenizer.encode(pairPrompt('Hi!')).ids);
    const response = Array.from(tokenizer.encode(pairCompletion('Hello!')).ids);
    const [lp] = await values(tf.tidy(() => responseLogProbs(model, [{ prompt, response }])));
    const ids = [...prompt, ...response];
    const logits = tf.tidy(() => model.forward(tf.tensor2d(ids.slice(0, -1), [1, ids.length - 1], 'int32')));
    const rows = (await logits.array()) as number[][];
    logits.dispose();
    let byHand = 0;
    for (let t = prompt.length - 1; t < ids.length - 1; t++) {
      const row = rows[t];
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0));
      byHand += row[ids[t + 1]] - lse;
    }
    expect(lp).toBeCloseTo(byHand, 3);
    // An untrained model is near uniform: about response length × ln V.
    expect(lp / response.length).toBeCloseTo(-Math.log(tokenizer.size), 0);
    model.dispose();
  });

  it('of a row do not depend on the other rows of the batch or on padding', async () => {
    const model = tinyModel(12);
    const row = (q: string, a: string) => ({ prompt: tokenizer.encode(pairPrompt(q)).ids, response: tokenizer.encode(pairCompletion(a)).ids });
    const alone = await values(tf.tidy(() => responseLogProbs(model, [row('Hi!', 'Yes.')])));
    const together = await values(tf.tidy(() => responseLogProbs(model, [row('Hi!', 'Yes.'), row('What is a whale?', 'A fish.')])));
    expect(together[0]).toBeCloseTo(alone[0], 4);
    model.dispose();
  });
});

describe('the reference model', () => {
  it('is a frozen copy: equal weights, not trainable, unchanged when the model changes', async () => {
    const model = tinyModel(13);
    const ref = frozenCopy(model);
    const name = 'transformer.wte.weight';
    expect([...ref.params.values()].every((v) => !v.trainable)).toBe(true);
    expect(Array.from(await ref.params.get(name)!.data())).toEqual(Array.from(await model.params.get(name)!.data()));
    const w = model.params.get(name)!;
    w.assign(tf.tidy(() => tf.add(w, 1)));
    const refValues = await ref.params.get(name)!.data();
    const modelValues = await model.params.get(name)!.data();
    expect(modelValues[0] - refValues[0]).toBeCloseTo(1, 5);
    ref.dispose();
    model.dispose();
  });
});

describe('DPO tuning', () => {
  it('widens the margin of the chosen answers, lowers the loss from ln 2, and leaves no tensor behind', async () => {
    const before = tf.memory().numTensors;
    const model = tinyModel(14);
    const prefs: Preference[] = [
      { prompt: 'Hi!', chosen: 'Hello there.', rejected: 'Go away.' },
      { prompt: 'Ready?', chosen: 'Yes, sir.', rejected: 'Never.' },
    ];
    const losses: number[] = [];
    const result = await dpoTune(
      model,
      prefs,
      tokenizer,
      { beta: 0.5, steps: 12, learningRate: 3e-3, optimizer: resolveHyperparameters('tiny') },
      (_, l) => {
        losses.push(l);
      },
    );
    expect(result.lossBefore).toBeCloseTo(Math.LN2, 4);
    expect(result.marginAfter).toBeGreaterThan(result.marginBefore + 1);
    expect(result.lossAfter).toBeLessThan(result.lossBefore);
    expect(losses).toHaveLength(12);
    // The margin is the mean of log π(chosen) − log π(rejected), recomputed here.
    const rows = preferenceRows(prefs, tokenizer);
    const chosen = await values(tf.tidy(() => responseLogProbs(model, rows.chosen, tokenizer.fallbackId)));
    const rejected = await values(tf.tidy(() => responseLogProbs(model, rows.rejected, tokenizer.fallbackId)));
    const margin = (chosen[0] - rejected[0] + chosen[1] - rejected[1]) / 2;
    expect(result.marginAfter).toBeCloseTo(margin, 3);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a preference it cannot learn from, with the reason', async () => {
    const model = tinyModel(15, 32);
    expect(preferenceProblem({ prompt: 'Hi!', chosen: 'Same.', rejected: 'Same.' }, tokenizer, 32)).toMatch(/same text/);
    expect(preferenceProblem({ prompt: ' ', chosen: 'A', rejected: 'B' }, tokenizer, 32)).toMatch(/prompt is empty/);
    expect(preferenceProblem({ prompt: 'Hi!', chosen: 'A+B', rejected: 'B' }, tokenizer, 32)).toMatch(/chosen answer has characters/);
    expect(preferenceProblem({ prompt: 'Hi!', chosen: 'x'.repeat(30), rejected: 'B' }, tokenizer, 32)).toMatch(/more than the context of 32/);
    const before = await model.params.get('transformer.wte.weight')!.data();
    await expect(
      dpoTune(model, [{ prompt: 'Hi!', chosen: 'Same.', rejected: 'Same.' }], tokenizer, {
        beta: 0.1,
        steps: 2,
        learningRate: 1e-3,
        optimizer: resolveHyperparameters('tiny'),
      }),
    ).rejects.toThrow(/same text/);
    expect(Array.from(await model.params.get('transformer.wte.weight')!.data())).toEqual(Array.from(before));
    model.dispose();
  });
});
