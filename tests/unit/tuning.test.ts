/**
 * The Training chapter's jobs (src/engine/jobs/tuning.ts) through the real Engine on cpu, with the
 * `tiny` preset (context 32): fine-tuning, a preference step, refusals that change nothing, and
 * comparison runs and batches that leave the reader's weights alone.
 */
import { describe, expect, it } from 'vitest';
import { formatPair, SFT_PAIRS } from '../../src/corpus/sft';
import { Engine } from '../../src/engine/engine';
import { liveEngineSuite } from './engineFixture';

const { text, started } = liveEngineSuite({ chars: 60_000 });

/** Every weight of the reader's model, concatenated. */
async function weights(engine: Engine): Promise<Float32Array> {
  return engine.runJob('read', async (wb) => {
    const parts = await Promise.all([...wb.run.model.params.values()].map(async (v) => (await v.data()) as Float32Array));
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  });
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('fine-tuning the reader’s model', () => {
  it('trains on the built-in pairs that fit plus the reader’s, lowers the masked loss and changes the answers', async () => {
    const engine = await started();
    const before = await weights(engine);
    const progress: number[] = [];
    const result = await engine.tuning.finetune(
      { pairs: [{ question: 'Hi?', answer: 'Ahoy.' }], steps: 30, learningRate: 3e-3, seed: 2 },
      (p) => {
        progress.push(p.step);
      },
    );
    const fitting = SFT_PAIRS.filter((p) => formatPair(p).length <= 32).length;
    expect(result.builtInUsed).toBe(fitting);
    expect(result.builtInLeftOut).toBe(SFT_PAIRS.length - fitting);
    expect(result.readerPairs).toBe(1);
    expect(progress).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(result.losses).toHaveLength(30);
    expect(result.lossAfter).toBeLessThan(result.lossBefore - 0.5);
    expect(result.answers.length).toBeGreaterThan(0);
    expect(result.answers[0].question).toBe('Hi?');
    // Same seed, same temperature: a different answer can only come from different weights.
    expect(result.answers.some((a) => a.before !== a.after)).toBe(true);
    expect(maxDifference(before, await weights(engine))).toBeGreaterThan(1e-4);
    const status = await engine.status();
    expect(status.state).not.toBe('error');
  });

  it('refuses a bad pair with its message and leaves the model as it was', async () => {
    const engine = await started();
    const before = await weights(engine);
    await expect(engine.tuning.finetune({ pairs: [{ question: 'Fine?', answer: 'Yes.' }, { question: '', answer: 'Empty.' }], steps: 5 })).rejects.toThrow(
      /^Pair 2: The question is empty/,
    );
    await expect(engine.tuning.finetune({ pairs: [{ question: 'Why is the sea so wide?', answer: 'Because.' }], steps: 5 })).rejects.toThrow(
      /more than the model’s context of 32/,
    );
    await expect(engine.tuning.finetune({ steps: 0 })).rejects.toThrow(/steps must be a whole number from 1/);
    expect(await engine.tuning.checkPair({ question: 'Hi?', answer: '2+2' })).toEqual([
      { field: 'answer', message: expect.stringContaining('“+”') },
    ]);
    expect(Array.from(await weights(engine))).toEqual(Array.from(before));
  });
});

describe('a preference step', () => {
  it('raises the margin of the chosen answer and changes the samples', async () => {
    const engine = await started();
    const pair = await engine.tuning.preferencePair('Hi!', 3);
    expect(pair.answers[0]).not.toBe(pair.answers[1]);
    const [chosen, rejected] = pair.answers;
    const result = await engine.tuning.preferenceStep({
      choices: [
        { prompt: 'Hi!', chosen, rejected },
        { prompt: 'Ready?', chosen: 'Yes.', rejected: 'No.' },
      ],
      steps: 10,
      learningRate: 3e-3,
      beta: 0.5,
    });
    expect(result.lossBefore).toBeCloseTo(Math.LN2, 4);
    expect(result.marginAfter).toBeGreaterThan(result.marginBefore + 0.5);
    expect(result.lossAfter).toBeLessThan(result.lossBefore);
    expect(result.samples.map((s) => s.prompt)).toEqual(['Hi!', 'Ready?']);
    const changed = result.samples.some((s) => s.before[0] !== s.after[0] || s.before[1] !== s.after[1]);
    expect(changed).toBe(true);
  });

  it('refuses picks it cannot learn from, and an empty prompt, changing nothing', async () => {
    const engine = await started();
    const before = await weights(engine);
    await expect(engine.tuning.preferenceStep({ choices: [] })).rejects.toThrow(/at least one pair/);
    await expect(engine.tuning.preferenceStep({ choices: [{ prompt: 'Hi!', chosen: 'A', rejected: 'A' }] })).rejects.toThrow(/^Pick 1: .*same text/);
    await expect(engine.tuning.preferencePair('   ')).rejects.toThrow(/prompt is empty/);
    await expect(engine.tuning.preferencePair('What is the meaning of all this?')).rejects.toThrow(/too long for the model’s context of 32/);
    expect(Array.from(await weights(engine))).toEqual(Array.from(before));
  });
});

describe('comparison runs and batches', () => {
  it('train a scratch model with the reader’s chosen settings and leave the reader’s weights untouched', async () => {
    const engine = await started();
    const before = await weights(engine);
    const stepBefore = (await engine.status()).step;
    const seen: number[] = [];
    const run = await engine.tuning.compareRun({ learningRate: 3e-3, batchSize: 2, width: 16, layers: 1, contextLength: 16, steps: 20 }, (p) => {
      seen.push(p.step);
    });
    expect(run.settings.width).toBe(16);
    expect(run.steps[run.steps.length - 1]).toBe(20);
    expect(seen[seen.length - 1]).toBe(20);
    expect(run.losses.every(Number.isFinite)).toBe(true);
    expect(run.losses[0]).toBeGreaterThan(run.losses[run.losses.length - 1]);
    expect(run.schedule).toHaveLength(20);
    expect(Math.max(...run.schedule)).toBeCloseTo(3e-3, 8);
    expect(run.samples.map((s) => s.step)).toEqual([2, 10, 20]);
    expect(run.label).toContain('width 16');
    expect(run.valLoss).not.toBeNull();
    expect(Array.from(await weights(engine))).toEqual(Array.from(before));
    expect((await engine.status()).step).toBe(stepBefore);
    await expect(engine.tuning.compareRun({ learningRate: -1, batchSize: 2, width: 16, layers: 1, contextLength: 16, steps: 20 })).rejects.toThrow(
      /learning rate must be a number above 0/,
    );
  });

  it('show one real batch whose targets are its inputs shifted by one, with the untrained loss near ln V', async () => {
    const engine = await started();
    const batch = await engine.tuning.batchExample();
    const V = (await engine.status()).hp!.vocabSize;
    expect(batch.uniformLoss).toBeCloseTo(Math.log(V), 10);
    expect(Math.abs(batch.freshLoss - Math.log(V))).toBeLessThan(0.15);
    for (const row of batch.rows) {
      expect([...row.input]).toHaveLength(batch.contextLength);
      expect(row.input.slice(1)).toBe(row.target.slice(0, -1));
      expect(text).toContain(row.input + row.target.slice(-1));
    }
  });
});
