/**
 * The engine's chapter-job runner (src/engine/workbench.ts): a job runs alone with the reader's
 * training paused and trains on afterwards; a mutating job is autosaved, and rolled back when it
 * throws; cancelJob reaches the job; withBackend always comes home.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../src/engine/checkpoint';
import { Engine } from '../../src/engine/engine';
import type { EngineStatus } from '../../src/engine/protocol';
import { MemoryRunStorage } from '../../src/engine/storage';
import { JobCancelledError } from '../../src/engine/workbench';
import { configureNodeWasm } from '../../scripts/lib/node-backends';
import { liveEngineSuite } from './engineFixture';

const { started } = liveEngineSuite();

async function weights(engine: Engine): Promise<Float32Array> {
  return engine.runJob('read', async (wb) => (await wb.run.model.params.get('transformer.wte.weight')!.data()) as Float32Array);
}

describe('chapter jobs', () => {
  it('pause the reader’s training while they run and train on afterwards', async () => {
    const engine = await started();
    await engine.train();
    await waitForStep(engine, 3);
    const seen = await engine.runJob('read', async (wb) => {
      const step = wb.run.trainer.step;
      await new Promise((r) => setTimeout(r, 150));
      return { step, after: wb.run.trainer.step, state: (await engine.status()).state };
    });
    expect(seen.after).toBe(seen.step); // nothing trained while the job held the model
    await waitForStep(engine, seen.step + 2); // and training went on by itself
    expect((await engine.status()).state).toBe('training');
    await engine.pause();
  });

  it('autosave what a mutating job did, and report it paused', async () => {
    const storage = new MemoryRunStorage();
    const engine = await started(storage);
    await engine.runJob('mutate', async (wb) => {
      const w = wb.run.model.params.get('transformer.wte.weight')!;
      tf.tidy(() => w.assign(tf.add(w, 1)));
    });
    const saved = await storage.load();
    expect(saved).not.toBeNull();
    const after = await weights(engine);
    const ckpt = readCheckpoint(saved!.checkpoint);
    expect(Array.from(ckpt.weights.get('transformer.wte.weight')!.data.slice(0, 8))).toEqual(Array.from(after.slice(0, 8)));
  });

  it('put the weights back when a mutating job throws', async () => {
    const engine = await started();
    const before = await weights(engine);
    await expect(
      engine.runJob('mutate', async (wb) => {
        const w = wb.run.model.params.get('transformer.wte.weight')!;
        tf.tidy(() => w.assign(tf.mul(w, 0)));
        throw new Error('half-way failure');
      }),
    ).rejects.toThrow('half-way failure');
    expect(Array.from(await weights(engine))).toEqual(Array.from(before));
    const status: EngineStatus = await engine.status();
    expect(status.state).not.toBe('error');
  });

  it('let the page cancel a long job', async () => {
    const engine = await started();
    const job = engine.runJob('read', async (wb) => {
      for (let i = 0; i < 1000; i++) {
        if (wb.cancelled()) throw new JobCancelledError();
        await new Promise((r) => setTimeout(r, 5));
      }
      return 'finished';
    });
    await new Promise((r) => setTimeout(r, 30));
    await engine.cancelJob();
    await expect(job).rejects.toBeInstanceOf(JobCancelledError);
    // The next job starts uncancelled.
    expect(await engine.runJob('read', async (wb) => wb.cancelled())).toBe(false);
  });

  it('come back to the reader’s backend after borrowing another', async () => {
    const engine = await started();
    configureNodeWasm();
    const seen = await engine.runJob('read', async (wb) => {
      const inside = await wb.withBackend('wasm', async () => tf.getBackend());
      await expect(
        wb.withBackend('wasm', async () => {
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      return { inside, home: wb.backend, after: tf.getBackend() };
    });
    expect(seen).toEqual({ inside: 'wasm', home: 'cpu', after: 'cpu' });
  });
});

async function waitForStep(engine: Engine, step: number, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while ((await engine.status()).step < step) {
    if (Date.now() > until) throw new Error(`step ${step} not reached`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
