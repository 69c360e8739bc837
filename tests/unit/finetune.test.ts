/**
 * Supervised fine-tuning (src/train/finetune.ts) and its data (src/corpus/sft.ts): the masked loss
 * against values computed by hand, the mask itself, pair validation, the built-in set, and a short
 * fine-tuning run that lowers the masked loss without leaking tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatPair, PAIR_OVERHEAD, pairPrompt, SFT_PAIRS, SHOWCASE_QUESTIONS, validatePair } from '../../src/corpus/sft';
import { modelConfigOf, PRESETS, resolveHyperparameters } from '../../src/gpt/config';
import { crossEntropy, GPT } from '../../src/gpt/model';
import { CharTokenizer } from '../../src/gpt/tokenizer';
import {
  checkPairs,
  evaluatePairs,
  finetune,
  maskedLoss,
  maskedWindows,
  pairBatch,
  PairValidationError,
  pairsThatFit,
  type MaskedBatch,
  windowLength,
} from '../../src/train/finetune';
import { loadMobyDick } from '../../scripts/lib/corpus-node';

const moby = loadMobyDick();
const mobyVocabulary = new Set([...moby]);
const tokenizer = CharTokenizer.fromText(moby);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** log-softmax of one row, in plain JS. */
function logSoftmax(row: number[]): number[] {
  const max = Math.max(...row);
  const lse = max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0));
  return row.map((v) => v - lse);
}

/** The weighted mean of −log p(target) computed in plain JS from logits (N rows of V). */
function jsMaskedLoss(logits: number[][], targets: ArrayLike<number>, weights: ArrayLike<number>): number {
  let total = 0;
  let weight = 0;
  logits.forEach((row, i) => {
    total += -logSoftmax(row)[targets[i]] * weights[i];
    weight += weights[i];
  });
  return total / weight;
}

function tinyModel(seed = 3, contextLength = 128): GPT {
  return GPT.create(modelConfigOf(resolveHyperparameters('tiny', { vocabSize: tokenizer.size, contextLength })), seed);
}

describe('the masked loss', () => {
  it('is the weighted mean cross-entropy, as computed by hand', async () => {
    // Three positions, vocabulary of 3. By hand: row 0 = [ln 1, ln 2, ln 1] has log-softmax at target 1 of
    // ln 2 − ln 4; row 1 = [0, 0, 0] gives −ln 3 at any target; row 2 is weighted 0 and must not count.
    const logits = [
      [0, Math.log(2), 0],
      [0, 0, 0],
      [5, -3, 1],
    ];
    const targets = [1, 2, 1];
    const weights = [1, 1, 0];
    const byHand = (-(Math.log(2) - Math.log(4)) + Math.log(3)) / 2; // (ln 2 + ln 3) / 2
    expect(byHand).toBeCloseTo((Math.log(2) + Math.log(3)) / 2, 12);
    const loss = tf.tidy(() => crossEntropy(tf.tensor2d(logits), tf.tensor1d(targets, 'int32'), 3, tf.tensor1d(weights)));
    expect((await loss.data())[0]).toBeCloseTo(byHand, 5);
    loss.dispose();
  });

  it('builds windows with weight 1 exactly on the answer targets', () => {
    // prompt [7, 8, 9], completion [4, 5]: inputs 7 8 9 4, targets 8 9 4 5; targets 4 and 5 are the answer.
    const b = maskedWindows([{ prompt: [7, 8, 9], completion: [4, 5] }], 6, 0);
    expect(Array.from(b.x)).toEqual([7, 8, 9, 4, 0, 0]);
    expect(Array.from(b.y)).toEqual([8, 9, 4, 5, 0, 0]);
    expect(Array.from(b.weights)).toEqual([0, 0, 1, 1, 0, 0]);
    expect(() => maskedWindows([{ prompt: [1, 2, 3], completion: [4, 5, 6] }], 4, 0)).toThrow(/does not fit/);
    // A batch's windows are as long as its longest pair needs (less its last token), rounded up to 16.
    const row = (n: number) => ({ prompt: new Array(n - 5).fill(1), completion: [2, 3, 4, 5, 6] });
    expect(windowLength([row(20), row(30)], 128)).toBe(32); // 29 → 32
    expect(windowLength([row(17)], 128)).toBe(16); // exactly 16
    expect(windowLength([row(30)], 24)).toBe(24); // never past the context
  });

  it('matches a plain-JS masked cross-entropy over the model’s own logits', async () => {
    const model = tinyModel();
    const pairs = SFT_PAIRS.slice(10, 13);
    const batch = pairBatch(pairs, tokenizer, 128);
    const [logits, loss] = tf.tidy(() => {
      const x = tf.tensor2d(batch.x, [batch.batchSize, batch.contextLength], 'int32');
      return [model.forward(x), maskedLoss(model, batch)] as const;
    });
    const rows = (await logits.array()) as number[][];
    const expected = jsMaskedLoss(rows, batch.y, batch.weights);
    expect((await loss.data())[0]).toBeCloseTo(expected, 4);
    // The answer targets counted are exactly the answers' characters, plus the space and the blank line.
    const answerChars = pairs.reduce((n, p) => n + p.answer.length + 3, 0);
    expect(batch.weights.reduce((a, b) => a + b, 0)).toBe(answerChars);
    tf.dispose([logits, loss]);
    model.dispose();
  });

  it('ignores the prompt: changing its targets (or the padding) leaves the loss as it was, changing an answer target does not', async () => {
    const model = tinyModel();
    const batch = pairBatch([SFT_PAIRS[20], SFT_PAIRS[40]], tokenizer, 128);
    const lossOf = async (b: MaskedBatch) => {
      const l = tf.tidy(() => maskedLoss(model, b));
      const v = (await l.data())[0];
      l.dispose();
      return v;
    };
    const base = await lossOf(batch);
    const promptChanged = { ...batch, y: batch.y.slice() };
    const answerChanged = { ...batch, y: batch.y.slice() };
    let firstAnswer = -1;
    for (let i = 0; i < batch.y.length; i++) {
      if (batch.weights[i] === 0) promptChanged.y[i] = (batch.y[i] + 5) % tokenizer.size;
      else if (firstAnswer === -1) firstAnswer = i;
    }
    answerChanged.y[firstAnswer] = (batch.y[firstAnswer] + 5) % tokenizer.size;
    expect(await lossOf(promptChanged)).toBeCloseTo(base, 6);
    // An answer target does count: the loss moves by exactly what the plain-JS loss predicts.
    const logits = tf.tidy(() => model.forward(tf.tensor2d(batch.x, [batch.batchSize, batch.contextLength], 'int32')));
    const rows = (await logits.array()) as number[][];
    logits.dispose();
    const predicted = jsMaskedLoss(rows, answerChanged.y, batch.weights);
    expect(Math.abs(predicted - jsMaskedLoss(rows, batch.y, batch.weights))).toBeGreaterThan(1e-5);
    expect(await lossOf(answerChanged)).toBeCloseTo(predicted, 5);
    model.dispose();
  });
});

describe('pair validation', () => {
  const check = (question: string, answer: string, contextLength = 128) => validatePair({ question, answer }, mobyVocabulary, contextLength);

  it('accepts a good pair and counts the chat labels in its length', () => {
    expect(check('What is a whale?', 'A great fish of the sea.')).toEqual([]);
    expect(PAIR_OVERHEAD).toBe('User: \nAssistant: \n\n'.length);
    expect(formatPair({ question: 'Hi!', answer: 'Hello!' })).toBe('User: Hi!\nAssistant: Hello!\n\n');
  });

  it('names the empty field', () => {
    expect(check('', 'An answer.')).toEqual([{ field: 'question', message: expect.stringMatching(/question is empty/) }]);
    expect(check('A question?', '   ')).toEqual([{ field: 'answer', message: expect.stringMatching(/answer is empty/) }]);
  });

  it('names the characters outside the vocabulary', () => {
    const [e] = check('What is 2+2?', 'Four.');
    expect(e.field).toBe('question');
    expect(e.message).toContain('“+”');
  });

  it('refuses a line break, which would end the turn', () => {
    expect(check('One\ntwo?', 'Three.')[0].message).toMatch(/one line/);
  });

  it('says by how much a pair is longer than the context', () => {
    const answer = 'x'.repeat(20); // 20 + 3 + 20 = 43 characters for a context of 32: 11 too many
    const [e] = check('Why?', answer, 32);
    expect(e.field).toBe('answer');
    expect(e.message).toContain(`is ${PAIR_OVERHEAD + 4 + 20} characters, ${PAIR_OVERHEAD + 24 - 32} more than the model’s context of 32`);
    expect(check('Why?', 'x'.repeat(32 - PAIR_OVERHEAD - 4), 32)).toEqual([]);
  });

  it('refuses a bad pair of a list by its number, before anything is trained', () => {
    const bad = [{ question: 'Fine?', answer: 'Yes.' }, { question: 'Empty?', answer: '' }];
    let caught: unknown;
    try {
      checkPairs(bad, tokenizer, 128);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PairValidationError);
    expect((caught as PairValidationError).index).toBe(1);
    expect((caught as Error).message).toMatch(/^Pair 2: The answer is empty/);
  });
});

describe('the built-in fine-tuning set', () => {
  it('has at least 150 distinct pairs, each in Moby-Dick’s characters and within the base context of 128', () => {
    expect(SFT_PAIRS.length).toBeGreaterThanOrEqual(150);
    expect(new Set(SFT_PAIRS.map((p) => p.question)).size).toBe(SFT_PAIRS.length);
    expect(PRESETS.base.contextLength).toBe(128);
    for (const p of SFT_PAIRS) {
      expect(validatePair(p, mobyVocabulary, 128), JSON.stringify(p)).toEqual([]);
      expect(formatPair(p).length).toBeLessThanOrEqual(128);
      for (const ch of formatPair(p)) expect(mobyVocabulary.has(ch), `${JSON.stringify(ch)} in ${p.question}`).toBe(true);
    }
    for (const q of SHOWCASE_QUESTIONS) expect(SFT_PAIRS.some((p) => p.question === q)).toBe(true);
  });

  it('says how many pairs fit a small context, never dropping them silently', () => {
    const { fit, leftOut } = pairsThatFit(SFT_PAIRS, tokenizer, 32);
    const expected = SFT_PAIRS.filter((p) => formatPair(p).length <= 32).length;
    expect(fit.length).toBe(expected);
    expect(fit.length + leftOut).toBe(SFT_PAIRS.length);
    expect(fit.length).toBeGreaterThan(0);
    expect(pairsThatFit(SFT_PAIRS, tokenizer, 128)).toEqual({ fit: [...SFT_PAIRS], leftOut: 0 });
  });
});

describe('fine-tuning', () => {
  it('lowers the masked loss on its pairs and leaves no tensor behind', async () => {
    const before = tf.memory().numTensors;
    const model = tinyModel(5, 48);
    const pairs = SFT_PAIRS.filter((p) => formatPair(p).length <= 48).slice(0, 12);
    const lossBefore = await evaluatePairs(model, pairs, tokenizer);
    const seen: number[] = [];
    const history = await finetune(
      model,
      pairs,
      tokenizer,
      { steps: 20, batchSize: 6, learningRate: 3e-3, seed: 1, optimizer: resolveHyperparameters('tiny') },
      (p) => {
        seen.push(p.step);
      },
    );
    const lossAfter = await evaluatePairs(model, pairs, tokenizer);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(history).toHaveLength(20);
    expect(lossAfter).toBeLessThan(lossBefore - 0.3);
    // A prompt is built the same way the answers are asked for.
    expect(pairPrompt('Hi!')).toBe('User: Hi!\nAssistant:');
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops between steps when cancelled, with the error it is given', async () => {
    const before = tf.memory().numTensors;
    const model = tinyModel(6, 48);
    let steps = 0;
    await expect(
      finetune(
        model,
        SFT_PAIRS.slice(0, 6),
        tokenizer,
        { steps: 50, batchSize: 2, learningRate: 1e-3, seed: 1, optimizer: resolveHyperparameters('tiny') },
        () => {
          steps++;
        },
        () => steps >= 3,
        () => new Error('halted'),
      ),
    ).rejects.toThrow('halted');
    expect(steps).toBe(3);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
