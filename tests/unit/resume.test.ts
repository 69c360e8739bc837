import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveHyperparameters } from '../../src/gpt/config';
import { paramsToArrays } from '../../src/gpt/model';
import { CheckpointError } from '../../src/engine/checkpoint';
import { disposeRun, restoreRun, saveCheckpoint, saveResume, startRun } from '../../src/engine/run';
import { loadMobyDick } from '../../scripts/lib/corpus-node';

const text = loadMobyDick().slice(0, 60_000);
const hp = resolveHyperparameters('tiny', { steps: 24, warmupSteps: 4, batchSize: 2, contextLength: 16 });

async function losses(run: ReturnType<typeof startRun>, steps: number): Promise<number[]> {
  const out: number[] = [];
  await run.trainer.run(steps, (r) => void out.push(r.trainLoss), 1);
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('checkpoints of a real run', () => {
  it('round-trips the weights exactly', async () => {
    const run = startRun(text, hp);
    await run.trainer.run(3);
    const bytes = await saveCheckpoint(run, 3.21);
    const restored = restoreRun(text, bytes);
    const a = await paramsToArrays(run.model.params);
    const b = await paramsToArrays(restored.model.params);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [name, t] of a) expect(Buffer.from(b.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true);
    expect(restored.trainer.step).toBe(3);
    expect(restored.tokenizer.vocabulary).toEqual(run.tokenizer.vocabulary);
    // and writing the restored run gives the same bytes
    expect(Buffer.from(await saveCheckpoint(restored, 3.21)).equals(Buffer.from(bytes))).toBe(true);
    disposeRun(run);
    disposeRun(restored);
  });

  it('resumes on the same curve as an unbroken run', async () => {
    const unbroken = startRun(text, hp);
    const expected = await losses(unbroken, 24);
    const valUnbroken = await unbroken.trainer.evaluate();

    const first = startRun(text, hp);
    const head = await losses(first, 10);
    const ckpt = await saveCheckpoint(first);
    const resume = await saveResume(first);
    disposeRun(first);
    const second = restoreRun(text, ckpt, resume);
    const tail = await losses(second, 14);
    expect([...head, ...tail]).toEqual(expected);
    expect(await second.trainer.evaluate()).toBe(valUnbroken);

    // without the resume record the moments restart from zero: a different curve
    const bare = restoreRun(text, ckpt);
    const bareTail = await losses(bare, 14);
    expect(bareTail).not.toEqual(tail);
    disposeRun(unbroken);
    disposeRun(second);
    disposeRun(bare);
  });

  it('refuses a resume record that belongs to another checkpoint', async () => {
    const a = startRun(text, hp);
    await a.trainer.run(2);
    const ckptA = await saveCheckpoint(a);
    await a.trainer.run(1);
    const resumeLater = await saveResume(a);
    expect(() => restoreRun(text, ckptA, resumeLater)).toThrow(CheckpointError);
    expect(() => restoreRun(text, ckptA, resumeLater)).toThrow(/resume record is from step 3 but the checkpoint from step 2/);
    disposeRun(a);
  });
});
