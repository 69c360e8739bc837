/**
 * The engine's runs take the fast path where it applies (src/engine/run.ts `makeTrainer`): on webgpu
 * without dropout a run trains with FastTrainer, and its checkpoint and resume record restore on
 * another backend (the reference path) to the same weights and the same next loss.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveHyperparameters } from '../../src/gpt/config';
import { disposeRun, restoreRun, saveCheckpoint, saveResume, startRun } from '../../src/engine/run';
import { FastTrainer } from '../../src/train/fastTrainer';
import { Trainer } from '../../src/train/trainer';
import { loadMobyDick } from '../../scripts/lib/corpus-node';
import { prepareNodeBackend } from '../../scripts/lib/node-backends';

const text = loadMobyDick().slice(0, 30_000);

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('a run on webgpu', () => {
  it('trains on the fast path without dropout, the reference path with it, and restores on cpu', { timeout: 600_000 }, async () => {
    await prepareNodeBackend('webgpu');
    const withDropout = startRun(text, resolveHyperparameters('tiny', { batchSize: 2, dropout: 0.1 }));
    expect(withDropout.trainer).toBeInstanceOf(Trainer);
    disposeRun(withDropout);

    const hp = resolveHyperparameters('tiny', { batchSize: 2, dropout: 0, warmupSteps: 2 });
    const run = startRun(text, hp);
    expect(run.trainer).toBeInstanceOf(FastTrainer);
    await run.trainer.run(4);
    const ckpt = await saveCheckpoint(run);
    const resume = await saveResume(run);
    const weights = (await run.model.params.get('transformer.h.0.attn.c_attn.weight')!.data()) as Float32Array;
    const next = await run.trainer.evaluate();
    disposeRun(run);

    await tf.setBackend('cpu');
    const back = restoreRun(text, ckpt, resume);
    expect(back.trainer).toBeInstanceOf(Trainer);
    expect(back.trainer.step).toBe(4);
    const again = (await back.model.params.get('transformer.h.0.attn.c_attn.weight')!.data()) as Float32Array;
    expect(Array.from(again)).toEqual(Array.from(weights));
    expect(Math.abs((await back.trainer.evaluate()) - next)).toBeLessThan(1e-3);
    disposeRun(back);
  });
});
