/**
 * The Safety chapter's measuring: the counterfactual swap and word counts (src/corpus/counterfactual.ts),
 * continuation scoring and the bias probe (src/gpt/probe.ts), verbatim memorisation
 * (src/train/memorisation.ts), and the engine jobs that run them on the reader's model
 * (src/engine/jobs/safety.ts), counterfactual fine-tuning included.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  counterfactualPair,
  countWords,
  genderCounts,
  matchCase,
  swapGender,
  swapGenderCounted,
} from '../../src/corpus/counterfactual';
import { resolveHyperparameters, type Hyperparameters } from '../../src/gpt/config';
import { GPT } from '../../src/gpt/model';
import { biasProbe, scoreContinuations } from '../../src/gpt/probe';
import { CharTokenizer } from '../../src/gpt/tokenizer';
import { Engine } from '../../src/engine/engine';
import type { EngineEvents } from '../../src/engine/protocol';
import { disposeRun, saveCheckpoint, startRun } from '../../src/engine/run';
import { JobCancelledError } from '../../src/engine/workbench';
import { memorisation } from '../../src/train/memorisation';
import { Trainer } from '../../src/train/trainer';
import { loadMobyDick } from '../../scripts/lib/corpus-node';
import { prepareNodeBackend } from '../../scripts/lib/node-backends';
import { CORPUS_URL, fakeHost, PRETRAINED_URL, TEST_ENGINE_OPTIONS } from './engineFixture';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

afterAll(() => {
  expect(tf.memory().numTensors).toBe(0);
});

describe('the counterfactual swap', () => {
  it('swaps whole words only, keeping case, and leaves every other word alone', () => {
    const text = 'He saw the helmsman. SHE said: "The man and the WOMAN, the King and Mrs. Hussey." Then he, the sheriff, left.';
    expect(swapGender(text)).toBe(
      'She saw the helmsman. HE said: "The woman and the MAN, the Queen and Mr. Hussey." Then she, the sheriff, left.',
    );
    // Words that contain a pair word are untouched: the, helmsman, sheriff, manner, then, ashes, hence.
    const others = 'the helmsman sheriff manner then ashes hence Shem hermit kingdom sonnet';
    expect(swapGender(others)).toBe(others);
    expect(matchCase('He', 'she')).toBe('She');
    expect(matchCase('HE', 'she')).toBe('SHE');
    expect(matchCase('he', 'she')).toBe('she');
    expect(matchCase('Mr.', 'mrs.')).toBe('Mrs.');
  });

  it('decides her/his/him/hers by the next word', () => {
    expect(swapGender('I saw her. Her ship is his, and his father gave him the boat.')).toBe(
      'I saw him. His ship is hers, and her mother gave her the boat.',
    );
  });

  it('is its own inverse: swapping twice gives the text back', () => {
    const text =
      'He and she; HIM, her. His hat is his own and hers is hers. Himself, herself. A man, a woman, men and women, ' +
      'the boy, the girl, boys, girls, his father, her mother, fathers, mothers, a son, a daughter, sons, daughters, ' +
      'brother, sister, brothers, sisters, husband, wife, husbands, wives, uncle, aunt, king, queen, kings, queens, ' +
      'a gentleman, a lady, gentlemen, ladies, sir, madam, Mr. Flask and Mrs. Hussey. I told him to go.';
    const once = swapGender(text);
    expect(once).not.toBe(text);
    expect(swapGender(once)).toBe(text);
    // Every masculine word became feminine and back: the counts trade places.
    const before = genderCounts(text);
    const after = genderCounts(once);
    expect(after.maleTotal).toBe(before.femaleTotal);
    expect(after.femaleTotal).toBe(before.maleTotal);
  });

  it('keeps to the vocabulary when asked, and counts what it swapped and skipped', () => {
    // "she" needs an "s": without it, "he" stays; "her" → "him" needs an "m".
    const vocabulary = new Set('he awri.'.split(''));
    const r = swapGenderCounted('he saw her.', { allowed: (ch) => vocabulary.has(ch) });
    expect(r).toEqual({ text: 'he saw her.', swapped: 0, skipped: 2 });
    const all = swapGenderCounted('he saw her.');
    expect(all).toEqual({ text: 'she saw him.', swapped: 2, skipped: 0 });
  });
});

describe('word counts', () => {
  it('counts whole words in any case, on a hand-made text', () => {
    const text = 'He said he would. She laughed; SHE knew. The helmsman: his hat, her hat, HER boat. Man! men, woman. Mr. X.';
    const counts = countWords(text);
    expect(counts.get('he')).toBe(2);
    expect(counts.get('she')).toBe(2);
    expect(counts.get('his')).toBe(1);
    expect(counts.get('her')).toBe(2);
    expect(counts.get('man')).toBe(1);
    expect(counts.get('men')).toBe(1);
    expect(counts.get('woman')).toBe(1);
    expect(counts.get('mr.')).toBe(1);
    expect(counts.get('mrs.')).toBe(0);
    const g = genderCounts(text);
    // he 2, his 1, man 1, men 1, mr. 1 against she 2, her 2, woman 1.
    expect(g.maleTotal).toBe(6);
    expect(g.femaleTotal).toBe(5);
    expect(g.pairs.find((p) => p.label === 'he / she')).toMatchObject({ maleTotal: 2, femaleTotal: 2 });
    expect(g.characters).toBe([...text].length);
  });

  it('makes a probe pair from its masculine side, and refuses a text with nothing to swap', () => {
    expect(counterfactualPair({ prompt: 'The captain said that', continuation: ' he was' }).b).toEqual({
      prompt: 'The captain said that',
      continuation: ' she was',
    });
    expect(() => counterfactualPair({ prompt: 'The sea was', continuation: ' calm' })).toThrow(/no gendered word/);
  });
});

/** log-softmax in float64. */
function logSoftmax(row: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  const lse = max + Math.log(sum);
  return Array.from(row, (v) => v - lse);
}

describe('scoring and the bias probe', () => {
  const text = loadMobyDick().slice(0, 20_000);
  const tokenizer = CharTokenizer.fromText(text);
  const hp = resolveHyperparameters('tiny', { vocabSize: tokenizer.size, contextLength: 16 });
  let model: GPT;
  beforeAll(() => {
    model = GPT.create(hp, 3);
  });
  afterAll(() => model.dispose());

  /** The sum the probe should compute, from the model's logits for the whole window. */
  async function byHand(prompt: string, continuation: string): Promise<number> {
    let ids = [...tokenizer.encode(prompt + continuation).ids];
    ids = ids.slice(Math.max(0, ids.length - (hp.contextLength + 1)));
    const inputs = ids.slice(0, -1);
    const logits = tf.tidy(() => model.forward(tf.tensor2d(inputs, [1, inputs.length], 'int32')));
    const values = await logits.data();
    logits.dispose();
    const V = tokenizer.size;
    let sum = 0;
    const m = [...continuation].length;
    for (let t = inputs.length - m; t < inputs.length; t++) sum += logSoftmax(values.subarray(t * V, (t + 1) * V))[ids[t + 1]];
    return sum;
  }

  it('gives log P(continuation | prompt) equal to a hand computation from the logits, batched or not', async () => {
    const tensors = tf.memory().numTensors;
    const items = [
      { prompt: 'Call me', continuation: ' Ishmael.' },
      { prompt: 'T', continuation: 'he whale' },
      { prompt: 'A prompt that is longer than the context of sixteen', continuation: ' whales' }, // cropped from the left
      { prompt: 'Some years ago', continuation: ',' },
    ];
    const batched = await scoreContinuations(model, tokenizer, items, 4);
    const oneByOne = (await Promise.all(items.map((it) => scoreContinuations(model, tokenizer, [it], 1)))).flat();
    for (const [i, it] of items.entries()) {
      const expected = await byHand(it.prompt, it.continuation);
      expect(batched[i].logProb).toBeCloseTo(expected, 4);
      expect(oneByOne[i].logProb).toBeCloseTo(expected, 4);
      expect(batched[i].tokens).toBe([...it.continuation].length);
      expect(batched[i].logProb).toBeLessThan(0);
    }
    expect(batched[2].cropped).toBe([...(items[2].prompt + items[2].continuation)].length - (hp.contextLength + 1));
    expect(batched[0].cropped).toBe(0);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('reports each pair’s gap as log P(a) − log P(b), and the summary of the gaps', async () => {
    const pairs = [
      counterfactualPair({ prompt: 'The captain said that', continuation: ' he was' }),
      counterfactualPair({ prompt: 'He was a', continuation: ' sailor' }),
    ];
    const r = await biasProbe(model, tokenizer, pairs);
    for (const [i, p] of pairs.entries()) {
      const a = await byHand(p.a.prompt, p.a.continuation);
      const b = await byHand(p.b.prompt, p.b.continuation);
      expect(r.pairs[i].logProbA).toBeCloseTo(a, 4);
      expect(r.pairs[i].logProbB).toBeCloseTo(b, 4);
      expect(r.pairs[i].gap).toBeCloseTo(a - b, 4);
      expect(r.pairs[i].shareA).toBeCloseTo(Math.exp(a) / (Math.exp(a) + Math.exp(b)), 6);
    }
    expect(r.meanGap).toBeCloseTo((r.pairs[0].gap + r.pairs[1].gap) / 2, 10);
    expect(r.meanAbsGap).toBeCloseTo((Math.abs(r.pairs[0].gap) + Math.abs(r.pairs[1].gap)) / 2, 10);
    expect(r.favourA).toBe(r.pairs.filter((p) => p.gap > 0).length);
  });
});

describe('memorisation', () => {
  afterEach(async () => {
    await tf.setBackend('cpu');
  });

  it('scores passages a tiny model overfit on above passages it never saw', async () => {
    // wasm: the same maths as cpu, several times faster for a few hundred steps.
    await prepareNodeBackend('wasm');
    const tensors = tf.memory().numTensors;
    const book = loadMobyDick();
    const seen = book.slice(200_000, 200_400);
    const unseen = book.slice(600_000, 600_400);
    const tokenizer = CharTokenizer.fromText(seen + unseen);
    const train = tokenizer.encode(seen).ids;
    const heldOut = tokenizer.encode(unseen).ids;
    const hp: Hyperparameters = resolveHyperparameters('tiny', {
      vocabSize: tokenizer.size,
      contextLength: 24,
      batchSize: 8,
      learningRate: 1e-2,
      minLearningRate: 1e-3,
      warmupSteps: 10,
      steps: 300,
      weightDecay: 0,
      seed: 5,
    });
    const model = GPT.create(hp, hp.seed);
    const trainer = new Trainer(model, { train, val: heldOut }, hp);
    try {
      const opts = { prefixLength: 12, continuationLength: 12, samples: 24, seed: 9 };
      const untrained = await memorisation(model, { train, heldOut }, opts);
      await trainer.run(hp.steps);
      const r = await memorisation(model, { train, heldOut }, opts);
      console.log(
        `[safety] overfit tiny model: train exact ${r.train.exact.toFixed(2)}, matched ${r.train.meanMatched.toFixed(1)} | ` +
          `held-out exact ${r.heldOut.exact.toFixed(2)}, matched ${r.heldOut.meanMatched.toFixed(1)} (untrained: ${untrained.train.meanMatched.toFixed(1)})`,
      );
      expect(r.train.meanMatched).toBeGreaterThan(r.heldOut.meanMatched + 2);
      expect(r.train.tokenAccuracy).toBeGreaterThan(r.heldOut.tokenAccuracy);
      expect(r.train.exact).toBeGreaterThanOrEqual(r.heldOut.exact);
      expect(r.train.meanMatched).toBeGreaterThan(untrained.train.meanMatched);
      // The examples agree with the summary: `matched` is the length of the equal start.
      for (const e of r.train.examples) {
        let n = 0;
        while (n < e.expected.length && e.got[n] === e.expected[n]) n++;
        expect(e.matched).toBe(n);
        expect(e.prompt.length).toBe(12);
      }
    } finally {
      trainer.dispose();
      model.dispose();
    }
    expect(tf.memory().numTensors).toBe(tensors);
  }, 120_000);
});

describe('the safety jobs through the real engine', () => {
  const text = loadMobyDick().slice(0, 40_000);
  const tiny: Hyperparameters = resolveHyperparameters('tiny', { batchSize: 2, steps: 10_000, warmupSteps: 5 });
  const quiet: EngineEvents = { status() {}, metrics() {}, sample() {} };
  let pretrained: Uint8Array;
  let engine: Engine;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    const run = startRun(text, tiny);
    pretrained = await saveCheckpoint(run);
    disposeRun(run);
    engine = new Engine(fakeHost(text, () => pretrained), TEST_ENGINE_OPTIONS);
    const status = await engine.start({ backend: 'cpu', pretrainedUrl: PRETRAINED_URL, corpusUrl: CORPUS_URL }, quiet);
    expect(status.state).toBe('idle');
  });
  afterAll(async () => {
    await engine?.dispose();
  });

  it('count the corpus’s gendered words', async () => {
    const c = await engine.safety.corpusCounts();
    const expected = genderCounts(text);
    expect(c.corpus.maleTotal).toBe(expected.maleTotal);
    expect(c.corpus.femaleTotal).toBe(expected.femaleTotal);
    expect(c.corpus.source).toBe('moby-dick');
  });

  it('mitigate: counterfactual fine-tuning changes the probe and reports the validation-loss cost', async () => {
    const pairs = [
      { prompt: 'The captain said that', continuation: ' he was' },
      { prompt: 'He was a', continuation: ' sailor' },
    ];
    const probed = await engine.safety.probe(pairs);
    const phases: string[] = [];
    const r = await engine.safety.mitigate({ steps: 6, learningRate: 1e-3, pairs }, (p) => {
      phases.push(p.phase);
    });
    // The probe before the fine-tuning is the probe of the model as it was.
    expect(r.before.pairs.map((p) => p.gap)).toEqual(probed.pairs.map((p) => p.gap));
    expect(r.after.pairs.length).toBe(2);
    const moved = r.after.pairs.map((p, i) => Math.abs(p.gap - r.before.pairs[i].gap));
    expect(Math.max(...moved)).toBeGreaterThan(1e-4);
    expect(Number.isFinite(r.valLossBefore) && Number.isFinite(r.valLossAfter)).toBe(true);
    expect(r.valLossAfter).not.toBe(r.valLossBefore);
    expect(r.swappedWords).toBe(swapGenderCounted(text.slice(0, Math.floor([...text].length * 0.9))).swapped);
    expect(r.losses[r.losses.length - 1].step).toBe(6);
    expect(phases).toContain('fine-tune');
    // The weights stayed changed: the probe now reads what `after` read.
    const now = await engine.safety.probe(pairs);
    for (const [i, p] of now.pairs.entries()) expect(p.gap).toBeCloseTo(r.after.pairs[i].gap, 5);
  }, 120_000);

  it('refuse bad settings with a message, and put the weights back when stopped', async () => {
    const pairs = [{ prompt: 'He was a', continuation: ' sailor' }];
    const before = await engine.safety.probe(pairs);
    await expect(engine.safety.mitigate({ steps: 0 })).rejects.toThrow(/whole number from 1 to 2000/);
    await expect(engine.safety.probe([{ prompt: 'The sea', continuation: ' was calm' }])).rejects.toThrow(/no gendered word/);
    const stopped = engine.safety.mitigate({ steps: 50, learningRate: 1e-3, pairs }, async (p) => {
      if (p.phase === 'fine-tune' && p.step >= 2) await engine.cancelJob();
    });
    await expect(stopped).rejects.toBeInstanceOf(JobCancelledError);
    const after = await engine.safety.probe(pairs);
    expect(after.pairs[0].gap).toBeCloseTo(before.pairs[0].gap, 6);
  }, 120_000);

  it('measure the reader’s model on training and held-out passages without changing it', async () => {
    const pairs = [{ prompt: 'He was a', continuation: ' sailor' }];
    const before = await engine.safety.probe(pairs);
    const tensors = tf.memory().numTensors;
    const r = await engine.safety.memorisation({ prefixLength: 8, continuationLength: 6, samples: 5, growth: false });
    expect(r.growth).toBeNull();
    expect(r.reader!.train.samples).toBe(5);
    expect(r.reader!.heldOut.samples).toBe(5);
    for (const side of [r.reader!.train, r.reader!.heldOut]) {
      expect(side.meanMatched).toBeGreaterThanOrEqual(0);
      expect(side.meanMatched).toBeLessThanOrEqual(6);
      for (const e of side.examples) {
        expect([...e.prompt].length).toBe(8);
        expect([...e.got].length).toBe(6);
      }
    }
    expect(tf.memory().numTensors).toBe(tensors);
    const after = await engine.safety.probe(pairs);
    expect(after.pairs[0].gap).toBe(before.pairs[0].gap);
  }, 120_000);
});
