/**
 * The engine (src/engine/engine.ts) in Node on the cpu backend, with the tiny preset: how a run
 * starts (pretrained, shared, restored), trains in the background, pauses and autosaves, refuses
 * bad input without touching the model, and recovers from a NaN and from a lost device.
 */
import * as tf from '@tensorflow/tfjs';
import * as Comlink from 'comlink';
import { describe, expect, it } from 'vitest';
import { type Hyperparameters } from '../../src/gpt/config';
import { readCheckpoint } from '../../src/engine/checkpoint';
import { calibrate } from '../../src/engine/calibrate';
import { Engine, type EngineHost, type EngineOptions } from '../../src/engine/engine';
import type { BackendRate, EngineApi, EngineEvents, EngineStatus, Metrics, SampleResult } from '../../src/engine/protocol';
import { type Run } from '../../src/engine/run';
import { MemoryCache, MemoryRunStorage, type KeyValueCache } from '../../src/engine/storage';
import { configureNodeWasm } from '../../scripts/lib/node-backends';
import { CORPUS_URL, fakeHost, PRETRAINED_URL, TEST_ENGINE_OPTIONS, liveEngineSuite } from './engineFixture';

// The "shipped" checkpoint: a tiny model trained 3 steps on the same text.
const { text, tiny, checkpoint, track } = liveEngineSuite({ chars: 60_000, steps: 500, pretrainSteps: 3 });

class Recorder implements EngineEvents {
  statuses: EngineStatus[] = [];
  metricsSeen: Metrics[] = [];
  samples: SampleResult[] = [];
  status(s: EngineStatus) {
    this.statuses.push(s);
  }
  metrics(m: Metrics) {
    this.metricsSeen.push(m);
  }
  sample(s: SampleResult) {
    this.samples.push(s);
  }
  get lastStep(): number {
    return this.metricsSeen.at(-1)?.step ?? -1;
  }
}

function makeHost(storage = new MemoryRunStorage(), cache: KeyValueCache<BackendRate[]> = new MemoryCache()): EngineHost {
  return fakeHost(text, checkpoint, storage, cache);
}

async function startEngine(
  opts: { host?: EngineHost; shared?: Hyperparameters; backend?: 'auto' | 'cpu' | 'wasm'; options?: Partial<EngineOptions> } = {},
) {
  const engine = new Engine(opts.host ?? makeHost(), { ...TEST_ENGINE_OPTIONS, ...opts.options });
  track(engine);
  const events = new Recorder();
  const status = await engine.start(
    { backend: opts.backend ?? 'cpu', pretrainedUrl: PRETRAINED_URL, corpusUrl: CORPUS_URL, shared: opts.shared },
    events,
  );
  return { engine, events, status };
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Trains in the background until at least `steps` more steps are reported, then pauses. */
async function trainFor(engine: Engine, events: Recorder, steps: number): Promise<EngineStatus> {
  const target = (await engine.status()).step + steps;
  await engine.train();
  await waitFor(`step ${target}`, () => events.lastStep >= target);
  return engine.pause();
}

/** The weights of an exported checkpoint, as raw bytes per tensor. */
function weightsOf(bytes: Uint8Array): Map<string, Buffer> {
  const ckpt = readCheckpoint(bytes);
  return new Map([...ckpt.weights].map(([name, t]) => [name, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)]));
}

async function expectSameWeights(engine: Engine, expected: Uint8Array): Promise<void> {
  const actual = weightsOf(await engine.exportCheckpoint());
  const wanted = weightsOf(expected);
  expect([...actual.keys()]).toEqual([...wanted.keys()]);
  for (const [name, data] of wanted) expect(actual.get(name)!.equals(data), name).toBe(true);
}

function runOf(engine: Engine): Run {
  return (engine as unknown as { run: Run }).run;
}

describe('starting', () => {
  it('loads the pretrained checkpoint when nothing is saved', async () => {
    const { status, events } = await startEngine();
    expect(status).toMatchObject({
      state: 'idle',
      origin: 'pretrained',
      step: 3,
      lastSavedStep: null,
      notice: null,
      error: null,
      backend: { name: 'cpu', reason: 'chosen in the URL (?backend=cpu)' },
      corpus: { source: 'moby-dick', name: 'Moby-Dick', characters: text.length, unknownChars: 0 },
    });
    expect(status.hp).toMatchObject({ layers: 2, width: 32, batchSize: 2, learningRate: 5e-4, steps: 2003 });
    expect(status.parameters).toBeGreaterThan(0);
    expect(events.statuses.map((s) => s.state)).toEqual(['starting', 'idle']);
  });

  it('starts a shared run from scratch, and the same settings give the same losses', async () => {
    const shared = { ...tiny, seed: 7 };
    const a = await startEngine({ shared });
    const b = await startEngine({ shared });
    expect(a.status).toMatchObject({ origin: 'scratch', step: 0, state: 'idle' });
    expect(a.status.hp).toMatchObject({ ...shared, vocabSize: a.status.corpus!.vocabularySize });
    const losses = async (e: Engine) => [(await e.step()).trainLoss, (await e.step()).trainLoss, (await e.step()).trainLoss];
    expect(await losses(a.engine)).toEqual(await losses(b.engine));
  });

  it('refuses invalid shared settings with a notice and loads the pretrained model', async () => {
    const { status } = await startEngine({ shared: { ...tiny, heads: 3 } });
    expect(status.origin).toBe('pretrained');
    expect(status.notice).toMatch(/shared settings are not valid \(width must divide evenly among 3 heads/);
  });

  it('reports a missing pretrained file as an error state', async () => {
    const host = makeHost();
    host.fetchBytes = async (url) => {
      if (url === CORPUS_URL) return new TextEncoder().encode(text);
      throw new Error('HTTP 404');
    };
    const { status } = await startEngine({ host });
    expect(status.state).toBe('error');
    expect(status.error).toMatch(/Could not load the pretrained model: HTTP 404/);
  });

  it('chooses the fastest backend of a cached calibration', async () => {
    const rates: BackendRate[] = [
      { name: 'webgpu', available: false, reason: 'no WebGPU', tokensPerSecond: null },
      { name: 'webgl', available: false, reason: 'no WebGL', tokensPerSecond: null },
      { name: 'wasm', available: false, reason: 'failed in calibration: test', tokensPerSecond: null },
      { name: 'cpu', available: true, reason: 'plain JavaScript', tokensPerSecond: 1234.4 },
    ];
    const asked: string[] = [];
    const cache = {
      get: async (key: string) => {
        asked.push(key);
        return rates;
      },
      set: async () => undefined,
    };
    const { status } = await startEngine({ host: makeHost(undefined, cache), backend: 'auto' });
    expect(status.backend).toEqual({ name: 'cpu', reason: 'fastest in calibration: 1234 tokens/s', rates });
    expect(asked[0]).toMatch(/^vitest \| no adapter \| 2L 2H 32C 32T \d+V$/);
  });
});

describe('training, pausing and resuming', () => {
  it('trains in the background, evaluates, autosaves on pause; a new engine resumes at the saved step', async () => {
    const storage = new MemoryRunStorage();
    const { engine, events } = await startEngine({ host: makeHost(storage) });
    await engine.train();
    expect((await engine.status()).state).toBe('training');
    await waitFor('step 14', () => events.lastStep >= 14);
    const paused = await engine.pause();
    expect(paused.state).toBe('paused');
    expect(paused.step).toBeGreaterThanOrEqual(14);
    expect(paused.lastSavedStep).toBe(paused.step);

    const m = events.metricsSeen;
    // Every step on cpu; the step where training paused comes again, with its validation loss.
    const steps = m.map((x) => x.step);
    expect(steps.slice(0, -1)).toEqual(Array.from({ length: m.length - 1 }, (_, i) => 4 + i));
    expect(steps.at(-1)).toBe(paused.step);
    expect(m.find((x) => x.step === 10)!.valLoss).toBeGreaterThan(0);
    expect(m.at(-1)!.valLoss).toBeGreaterThan(0); // measured on pause
    for (const x of m) {
      expect(x.trainLoss).toBeGreaterThan(0);
      expect(x.tokensPerSecond).toBeGreaterThan(0);
      expect(x.memory.numTensors).toBeGreaterThan(0);
    }
    expect(m.at(-1)!.elapsedSeconds).toBeGreaterThan(0);

    const record = (await storage.load())!;
    expect(record.meta).toMatchObject({ step: paused.step, origin: 'pretrained', corpus: { source: 'moby-dick' } });
    expect(readCheckpoint(record.checkpoint).valLoss).toBe(m.at(-1)!.valLoss);
    await expectSameWeights(engine, record.checkpoint);

    const again = await startEngine({ host: makeHost(storage) });
    expect(again.status).toMatchObject({ origin: 'restored', step: paused.step, lastSavedStep: paused.step, state: 'idle' });
    expect(again.status.hp).toEqual(paused.hp);
    await expectSameWeights(again.engine, record.checkpoint);
    // The resume record carried the optimizer and the data position: both continue on one curve.
    expect((await again.engine.step()).trainLoss).toBe((await engine.step()).trainLoss);
  });

  it('keeps the tensor count flat across train/pause cycles', async () => {
    const { engine, events } = await startEngine();
    await trainFor(engine, events, 3);
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      await trainFor(engine, events, 2);
      await engine.sample({ prompt: 'The', maxTokens: 5, temperature: 1, seed: 1 });
      counts.push(tf.memory().numTensors);
    }
    expect(counts[1]).toBe(counts[0]);
    expect(counts[2]).toBe(counts[0]);
  });

  it('sends samples while training', async () => {
    const { engine, events } = await startEngine({ options: { sampleEveryMs: 0 } });
    await trainFor(engine, events, 5);
    expect(events.samples.length).toBeGreaterThan(0);
    const s = events.samples[0];
    expect(s.prompt).toBe('Call me Ishmael.');
    expect([...s.text]).toHaveLength(20);
  });

  it('goes on training when an autosave fails, with a notice', async () => {
    const storage = new MemoryRunStorage();
    storage.failure = new Error('QuotaExceededError: the storage quota is used up');
    const { engine, events } = await startEngine({ host: makeHost(storage) });
    await engine.train();
    await waitFor('step 15', () => events.lastStep >= 15); // past the autosave at step 10
    const during = await engine.status();
    expect(during.state).toBe('training');
    expect(during.notice).toBe(
      "Autosave failed: the browser has no more room to store this site's data (QuotaExceededError: the storage quota is used up). " +
        'Training goes on; export a checkpoint to keep your work.',
    );
    expect(during.lastSavedStep).toBeNull();
    storage.failure = null;
    const paused = await engine.pause();
    expect(paused.notice).toBeNull();
    expect(paused.lastSavedStep).toBe(paused.step);
  });
});

describe('changes refused or applied', () => {
  it('refuses a bad hyperparameter on its field and leaves the model untouched', async () => {
    const { engine, status } = await startEngine();
    const before = await engine.exportCheckpoint();
    const result = await engine.applyHyperparameters({ ...status.hp!, learningRate: -1 });
    expect(result.errors).toEqual([{ field: 'learningRate', message: 'must be greater than 0' }]);
    expect(result.status).toEqual(status);
    await expectSameWeights(engine, before);
    const heads = await engine.applyHyperparameters({ ...status.hp!, heads: 3 });
    expect(heads.errors.map((e) => e.field)).toEqual(['width']);
    expect((await engine.status()).hp).toEqual(status.hp);
  });

  it('applies training settings in place and rebuilds from scratch for a new architecture', async () => {
    const storage = new MemoryRunStorage();
    const { engine, status } = await startEngine({ host: makeHost(storage) });
    const before = await engine.exportCheckpoint();

    const inPlace = await engine.applyHyperparameters({ ...status.hp!, learningRate: 2e-3, weightDecay: 0 });
    expect(inPlace.errors).toEqual([]);
    expect(inPlace.status).toMatchObject({ origin: 'pretrained', step: 3 });
    expect(inPlace.status.hp).toMatchObject({ learningRate: 2e-3, weightDecay: 0 });
    expect(runOf(engine).trainer.hp.learningRate).toBe(2e-3);
    expect(runOf(engine).trainer.optimizer.settings.weightDecay).toBe(0);
    await expectSameWeights(engine, before);

    const batch = await engine.applyHyperparameters({ ...inPlace.status.hp!, batchSize: 3 });
    expect(batch.status).toMatchObject({ origin: 'pretrained', step: 3, hp: { batchSize: 3, learningRate: 2e-3 } });
    await expectSameWeights(engine, before);

    const arch = await engine.applyHyperparameters({ ...batch.status.hp!, layers: 1 });
    expect(arch.errors).toEqual([]);
    expect(arch.status).toMatchObject({ origin: 'scratch', step: 0, lastSavedStep: 0, hp: { layers: 1, batchSize: 3 } });
    expect(arch.status.parameters).toBeLessThan(status.parameters);
    expect((await storage.load())!.meta).toMatchObject({ step: 0, origin: 'scratch' });

    await engine.setLearningRate(3e-3);
    expect((await engine.status()).hp!.learningRate).toBe(3e-3);
    await expect(engine.setLearningRate(-1)).rejects.toThrow(/learning rate must be greater than 0/);
  });

  it('refuses empty and binary text, and starts from scratch on the reader\'s own text', async () => {
    const storage = new MemoryRunStorage();
    const { engine, status } = await startEngine({ host: makeHost(storage) });
    const before = await engine.exportCheckpoint();
    const empty = await engine.setCorpus({ source: 'user', name: 'empty.txt', text: '' });
    expect(empty.error).toMatch(/empty/);
    expect(empty.status).toEqual(status);
    const binary = await engine.setCorpus({ source: 'user', name: 'a.bin', text: 'ab\u0000cd'.repeat(200) });
    expect(binary.error).toMatch(/binary/);
    await expectSameWeights(engine, before);

    const mine = 'the cat sat on the mat. '.repeat(40);
    const own = await engine.setCorpus({ source: 'user', name: 'pasted text', text: mine });
    expect(own.error).toBeNull();
    expect(own.status).toMatchObject({
      origin: 'scratch',
      step: 0,
      corpus: { source: 'user', name: 'pasted text', characters: mine.length, vocabularySize: new Set(mine).size },
    });
    expect(own.status.notice).toMatch(/new vocabulary/);

    // The reader's text is saved with the run, so a reload trains on it again.
    const again = await startEngine({ host: makeHost(storage) });
    expect(again.status).toMatchObject({ origin: 'restored', corpus: { source: 'user', name: 'pasted text' } });

    const back = await engine.setCorpus({ source: 'moby-dick' });
    expect(back.status).toMatchObject({ origin: 'scratch', corpus: { source: 'moby-dick', vocabularySize: status.corpus!.vocabularySize } });
  });

  it('refuses a garbage checkpoint and loads a good one', async () => {
    const { engine, events } = await startEngine();
    await trainFor(engine, events, 2);
    const before = await engine.exportCheckpoint();
    const status = await engine.status();
    const garbage = await engine.importCheckpoint(new TextEncoder().encode('this is not a checkpoint at all'));
    expect(garbage.error).toMatch(/^This checkpoint cannot be loaded: /);
    expect(garbage.status).toEqual(status);
    await expectSameWeights(engine, before);

    const good = await engine.importCheckpoint(checkpoint());
    expect(good.error).toBeNull();
    expect(good.status).toMatchObject({ origin: 'imported', step: 3, state: 'idle' });
    await expectSameWeights(engine, checkpoint());
  });

  it('resets to the pretrained model or to scratch', async () => {
    const { engine, events } = await startEngine();
    await trainFor(engine, events, 2);
    expect(await engine.reset('scratch')).toMatchObject({ origin: 'scratch', step: 0 });
    expect(await engine.reset('pretrained')).toMatchObject({ origin: 'pretrained', step: 3 });
    await expectSameWeights(engine, checkpoint());
  });

  it('samples deterministically with a seed and counts unknown characters', async () => {
    const { engine } = await startEngine();
    const request = { prompt: 'Call me ☃', maxTokens: 30, temperature: 0.8, seed: 5 };
    const a = await engine.sample(request);
    const b = await engine.sample(request);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ prompt: 'Call me ☃', unknownChars: 1, step: 3 });
    expect([...a.text]).toHaveLength(30);
    const empty = await engine.sample({ prompt: '', maxTokens: 3, temperature: 0 });
    expect([...empty.text]).toHaveLength(3);
  });
});

describe('recovery', () => {
  it('pauses on a NaN loss and restores the last good weights', async () => {
    const { engine, events } = await startEngine();
    const saved = await trainFor(engine, events, 3);
    const good = await engine.exportCheckpoint();
    const w = runOf(engine).model.params.get('transformer.ln_f.weight')!;
    tf.tidy(() => w.assign(tf.fill(w.shape, NaN)));
    await engine.train();
    await waitFor('the NaN to be dealt with', async () => (await engine.status()).notice != null);
    const status = await engine.status();
    expect(status.state).toBe('paused');
    expect(status.step).toBe(saved.step);
    expect(status.notice).toMatch(/^The loss became NaN at step \d+, so training paused and the weights of step \d+, the last good ones, were restored\./);
    expect(status.notice).toContain(`the weights of step ${saved.step}, the last good ones`);
    await expectSameWeights(engine, good);
    // and training goes on from there
    const after = await trainFor(engine, events, 2);
    expect(after.notice).toBeNull();
    expect(events.metricsSeen.at(-1)!.trainLoss).toBeGreaterThan(0);
  });

  it('moves down the ladder when the device is lost, from the last checkpoint', async () => {
    const host = makeHost();
    host.prepareBackend = async (name) => void (name === 'wasm' && configureNodeWasm());
    const { engine, events, status } = await startEngine({ host, backend: 'wasm' });
    expect(status.backend!.name).toBe('wasm');
    const saved = await trainFor(engine, events, 3);
    // The fault goes where a step runs: the fast path (wasm with our SIMD kernels) steps through stepFlat.
    const trainer = runOf(engine).trainer as unknown as { trainStep: () => never; stepFlat?: () => never };
    const lost = () => {
      throw new Error('GPU device was lost: test');
    };
    trainer.trainStep = lost;
    if (trainer.stepFlat) trainer.stepFlat = lost;
    await engine.train();
    await waitFor('the fallback', async () => (await engine.status()).backend?.name === 'cpu');
    const moved = await engine.status();
    expect(moved.backend!.reason).toBe('fell back after the GPU device was lost');
    expect(moved.notice).toBe(`The GPU device was lost; training moved to cpu and resumed from step ${saved.step}.`);
    expect(tf.getBackend()).toBe('cpu');
    await waitFor('training to go on', () => events.lastStep > saved.step + 2);
    expect((await engine.pause()).state).toBe('paused');
  });
});

describe('calibration', () => {
  it('measures wasm, skips cpu, and is what an auto start picks from', async () => {
    const prepare = async (name: string) => void (name === 'wasm' && configureNodeWasm());
    const config = { vocabSize: 40, contextLength: 16, layers: 1, heads: 2, width: 16, dropout: 0 };
    const rates = await calibrate(config, { budgetMs: 100, prepare });
    expect(rates.map((r) => r.name)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(rates[0]).toMatchObject({ available: false, tokensPerSecond: null });
    expect(rates[2].tokensPerSecond).toBeGreaterThan(0);
    expect(rates[3]).toMatchObject({ available: true, tokensPerSecond: null });
    expect(rates[3].reason).toMatch(/not measured, since WebAssembly works/);
    expect(tf.getBackend()).toBe('cpu'); // the backend active before

    const cache = new MemoryCache<BackendRate[]>();
    const host = makeHost(undefined, cache);
    host.prepareBackend = prepare;
    const { status } = await startEngine({ host, backend: 'auto' });
    expect(status.backend!.name).toBe('wasm');
    expect(status.backend!.reason).toMatch(/^fastest in calibration: \d+ tokens\/s$/);
    expect([...cache.values.values()]).toEqual([status.backend!.rates]);
  });
});

describe('through Comlink', () => {
  it('answers calls and sends events across a message channel, as the worker does', async () => {
    const { port1, port2 } = new MessageChannel();
    const engine = new Engine(makeHost(), TEST_ENGINE_OPTIONS);
    track(engine);
    Comlink.expose(engine, port1);
    const api = Comlink.wrap<EngineApi>(port2);
    const events = new Recorder();
    const started = await api.start({ backend: 'cpu', pretrainedUrl: PRETRAINED_URL, corpusUrl: CORPUS_URL }, Comlink.proxy(events));
    expect(started.origin).toBe('pretrained');
    await api.train();
    await waitFor('metrics through the channel', () => events.lastStep >= 5);
    expect((await api.pause()).state).toBe('paused');
    await waitFor('the paused status', () => events.statuses.at(-1)?.state === 'paused');
    expect(await api.exportCheckpoint()).toBeInstanceOf(Uint8Array);
    await expect(api.setLearningRate(-1)).rejects.toThrow(/learning rate must be greater than 0/);
    port1.close();
    port2.close();
  });
});
