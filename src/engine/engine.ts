/**
 * The engine: the one object that owns the reader's run — backend, corpus, tokenizer, model,
 * trainer and checkpoints — and implements the page's contract (`EngineApi`, protocol.ts).
 *
 * It runs in the engine worker (engine.worker.ts) and, unchanged, in Node tests on the cpu
 * backend: it touches no DOM or browser global. What differs by host (fetching files, IndexedDB,
 * backend set-up) comes in through `EngineHost`.
 *
 * Concurrency, in one paragraph: every method that changes the run goes through one queue
 * (`exclusive`), so two never interleave. Training is a background loop outside the queue; it runs
 * the trainer in short chunks, so `pause` (which stops the loop and waits for it) takes effect
 * within a step. The loop never waits on the queue; when it fails (a NaN loss, a lost GPU) it
 * leaves the failure behind and queues the recovery.
 */
import * as tf from '@tensorflow/tfjs';
import { validateCorpus } from '../corpus/validate';
import {
  ConfigError,
  MODEL_KEYS,
  modelConfigOf,
  parameterCount,
  validateHyperparameters,
  type FieldError,
  type Hyperparameters,
  type ModelConfig,
  type TrainConfig,
  DEFAULTS,
} from '../gpt/config';
import { generate } from '../gpt/sample';
import { CharTokenizer } from '../gpt/tokenizer';
import { NonFiniteLossError, type StepReport } from '../train/trainer';
import { BACKEND_NAMES, currentBackend, probeBackend, probeBackends, useBackend, type BackendName, type BackendReport } from './backends';
import { calibrate, DEFAULT_START_TIMEOUT_MS, fastest } from './calibrate';
import { CheckpointError, readCheckpoint } from './checkpoint';
import type {
  BackendChoice,
  BackendRate,
  CorpusChoice,
  CorpusInfo,
  EngineApi,
  EngineEvents,
  EngineState,
  EngineStatus,
  Metrics,
  SampleRequest,
  SampleResult,
  StartOptions,
} from './protocol';
import { disposeRun, restoreRun, saveCheckpoint, saveResume, startRun, type Run } from './run';
import type { KeyValueCache, RunStorage } from './storage';
import { InfraJobs } from './jobs/infra';
import { InspectJobs } from './jobs/inspect';
import { MeasureJobs } from './jobs/measure';
import { SafetyJobs } from './jobs/safety';
import { ServeJobs } from './jobs/serve';
import { TuningJobs } from './jobs/tuning';
import type { JobKind, Workbench } from './workbench';

/** What the engine needs from the place it runs in (the worker, or a Node test). */
export interface EngineHost {
  /** The bytes at `url` (the shipped checkpoint, the bundled corpus); throws with a reason. */
  fetchBytes(url: string): Promise<Uint8Array>;
  /** Where the reader's run is autosaved. */
  storage: RunStorage;
  /** Calibration results, keyed by device and model shapes. */
  calibrationCache: KeyValueCache<BackendRate[]>;
  /** Names the device in the calibration key (`navigator.userAgent`). */
  userAgent: string;
  /** Called before switching tfjs to `name` (Node installs WebGPU or finds the wasm binaries here). */
  prepareBackend?(name: BackendName): Promise<void>;
}

/** Pacing and defaults; the defaults are the app's, tests shorten them. */
export interface EngineOptions {
  /** Trainer steps per chunk of the loop: pause, step and learning-rate changes land between chunks. */
  chunkSteps: number;
  /** Validation loss every this many steps (and on pause). */
  evalEvery: number;
  /** Autosave every this many steps (and on pause). */
  saveEvery: number;
  /** A text sample every this many milliseconds while training. */
  sampleEveryMs: number;
  /** Characters in each of those samples. */
  sampleLength: number;
  /** How long calibration times each backend. */
  calibrationMs: number;
  /** A backend that has not started after this many milliseconds is reported unavailable, and the next one is tried. */
  backendStartMs: number;
  /** Training settings for continuing from a checkpoint without a resume record (the shipped one, an imported one). */
  continueTraining: Partial<TrainConfig>;
  /** Such a run is planned for this many more steps than the checkpoint has. */
  continueSteps: number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  chunkSteps: 10,
  evalEvery: 100,
  saveEvery: 200,
  sampleEveryMs: 5000,
  sampleLength: 200,
  calibrationMs: 1500,
  backendStartMs: DEFAULT_START_TIMEOUT_MS,
  // A gentle rate for a model that has learned already. Its optimizer starts with empty moments and
  // no warmup, so Adam's first updates move every weight by about the learning rate: at 5e-4 that
  // knocked the shipped model's validation loss from 1.62 to 1.91; at 1e-4 to 1.65, regained in a
  // few dozen steps (measured with `npm run train -- --init public/models/base.safetensors`).
  continueTraining: { learningRate: 1e-4, minLearningRate: 1e-5 },
  continueSteps: 2000,
};

const MOBY_DICK: CorpusChoice = { source: 'moby-dick' };
const MOBY_DICK_PROMPT = 'Call me Ishmael.';
const SAVE_FAILED = 'Autosave failed';

interface Snapshot {
  checkpoint: Uint8Array;
  resume: Uint8Array;
  step: number;
}

/** How a run came to be, and what to record about it when it is installed. */
interface Plan {
  origin: EngineStatus['origin'];
  config: ModelConfig;
  corpus: CorpusChoice;
  text: string;
  build(): Run;
  lastSavedStep: number | null;
  elapsedSeconds: number;
  /** Names it in a notice when it cannot be loaded. */
  label: string;
}

export class Engine implements EngineApi {
  private readonly host: EngineHost;
  private readonly opts: EngineOptions;

  private events: EngineEvents | null = null;
  private state: EngineState = 'starting';
  private run: Run | null = null;
  private choice: BackendChoice | null = null;
  private origin: EngineStatus['origin'] = 'pretrained';
  private corpus: CorpusChoice = MOBY_DICK;
  private text = '';
  private mobyDick: string | null = null;
  private pretrainedUrl = '';
  private pretrainedBytes: Uint8Array | null = null;
  private reports: BackendReport[] | null = null;
  /** wasm's report, probed once it started (`reports` and cached rates are from before). */
  private runningReport: BackendReport | null = null;
  private lastSavedStep: number | null = null;
  private notice: string | null = null;
  private error: string | null = null;
  /** Weights and optimizer state to go back to after a NaN or a lost device (in memory: always there). */
  private lastGood: Snapshot | null = null;
  private valLoss: { step: number; value: number } | null = null;
  private lastReport: StepReport | null = null;
  private elapsedSeconds = 0;
  private sampleTemperature = 0.8;

  private queue: Promise<unknown> = Promise.resolve();
  private loopDone: Promise<void> | null = null;
  private stopping = false;
  /** What ended the loop, until `recover` deals with it. */
  private failure: unknown = null;
  private readonly watchedDevices = new WeakSet<object>();
  /** The WebGPU device tfjs trains on, while the run is on webgpu (to ask whether it was lost). */
  private gpuDevice: GPUDevice | null = null;
  /** Set by `cancelJob`, cleared when the next job starts. */
  private jobCancelled = false;

  /** Runs a chapter job alone, with training paused around it (workbench.ts). */
  readonly runJob = <T>(kind: JobKind, fn: (wb: Workbench) => Promise<T>): Promise<T> => this.exclusive(() => this.job(kind, fn));

  readonly inspect = new InspectJobs(this.runJob);
  readonly tuning = new TuningJobs(this.runJob);
  readonly measure = new MeasureJobs(this.runJob);
  readonly infra = new InfraJobs(this.runJob);
  readonly safety = new SafetyJobs(this.runJob);
  readonly serve = new ServeJobs(this.runJob);

  constructor(host: EngineHost, options: Partial<EngineOptions> = {}) {
    this.host = host;
    this.opts = { ...DEFAULT_ENGINE_OPTIONS, ...options };
  }

  // -------------------------------------------------------------------------------------------
  // EngineApi

  start(options: StartOptions, events: EngineEvents): Promise<EngineStatus> {
    this.events = events;
    return this.exclusive(async () => {
      await this.halt();
      this.dropRun();
      this.state = 'starting';
      this.notice = null;
      this.error = null;
      this.lastGood = null;
      this.pretrainedBytes = null;
      this.pretrainedUrl = options.pretrainedUrl;
      this.emitStatus();
      try {
        this.mobyDick = decodeText(await this.host.fetchBytes(options.corpusUrl), 'the bundled corpus');
        let plan = (options.shared ? this.sharedPlan(options.shared) : await this.storedPlan()) ?? (await this.pretrainedPlan());
        await this.chooseBackend(options.backend, plan.config);
        let run: Run;
        try {
          run = plan.build();
        } catch (err) {
          if (plan.origin === 'pretrained') throw err;
          this.notice = `${plan.label} could not be loaded (${messageOf(err)}); the pretrained model was loaded instead.`;
          plan = await this.pretrainedPlan();
          run = plan.build();
        }
        this.install(run, plan);
        await this.save(false);
        this.state = 'idle';
      } catch (err) {
        this.state = 'error';
        this.error = messageOf(err);
      }
      return this.emitStatus();
    });
  }

  async status(): Promise<EngineStatus> {
    return this.snapshotStatus();
  }

  calibrate(): Promise<BackendRate[]> {
    return this.exclusive(async () => {
      const run = this.requireRun();
      const config = modelConfigOf(run.hp);
      const wasTraining = await this.halt();
      const reports = await this.probe();
      // Calibration switches tfjs between backends and back; the run's tensors stay where they are.
      const rates = await this.measureRates(config, reports);
      await this.host.calibrationCache.set(this.deviceKey(config, reports), rates).catch(() => undefined);
      if (this.choice) this.choice = { ...this.choice, rates };
      if (wasTraining) this.startLoop();
      this.emitStatus();
      return rates;
    });
  }

  setBackend(name: BackendName): Promise<EngineStatus> {
    return this.exclusive(async () => {
      this.requireRun();
      const wasTraining = await this.halt();
      const snap = await this.snapshotOrRecover();
      if (snap == null) return this.emitStatus();
      try {
        await this.activate(name);
        this.swapRun(restoreRun(this.text, snap.checkpoint, snap.resume, this.run!.hp));
        this.choice = { name, reason: 'chosen in the menu', rates: this.choice?.rates ?? [] };
      } catch (err) {
        // The run was not touched: it stays on the backend it was on.
        this.notice = messageOf(err);
        const back = this.choice?.name;
        if (back != null && currentBackend() !== back) await useBackend(back);
      }
      if (wasTraining) this.startLoop();
      return this.emitStatus();
    });
  }

  applyHyperparameters(hp: Hyperparameters): Promise<{ errors: FieldError[]; status: EngineStatus }> {
    return this.exclusive(async () => {
      const run = this.requireRun();
      // Only the known fields are read: anything else in the object (a typo, `__proto__`) is dropped,
      // never copied into the running set.
      const next = Object.fromEntries(
        (Object.keys(DEFAULTS) as (keyof Hyperparameters)[]).map((k) => [k, k === 'vocabSize' ? run.tokenizer.size : hp[k]]),
      ) as unknown as Hyperparameters;
      const errors = validateHyperparameters(next);
      if (errors.length > 0) return { errors, status: this.snapshotStatus() };
      const architectureChanged = MODEL_KEYS.some((k) => next[k] !== run.hp[k]);
      if (architectureChanged) {
        // A new model from scratch, built before the old one is let go: if building fails, nothing changed.
        let fresh: Run;
        try {
          validateCorpus(this.text, next.contextLength);
          fresh = startRun(this.text, next);
        } catch (err) {
          // Too short a text for this context length, or a limit only the real vocabulary reveals.
          const errors = err instanceof ConfigError ? err.errors : [{ field: 'contextLength', message: messageOf(err) }];
          return { errors, status: this.snapshotStatus() };
        }
        const wasTraining = await this.halt();
        this.install(fresh, this.planLike('scratch'));
        this.state = 'idle';
        await this.saveOrRecover();
        if (wasTraining) this.startLoop();
      } else if (next.batchSize !== run.hp.batchSize) {
        // The batch sampler and validation batches depend on the batch size: rebuild the trainer,
        // keeping weights and optimizer state.
        const wasTraining = await this.halt();
        const snap = await this.snapshotOrRecover();
        if (snap == null) return { errors: [], status: this.emitStatus() };
        this.swapRun(restoreRun(this.text, snap.checkpoint, snap.resume, next));
        if (wasTraining) this.startLoop();
      } else {
        // Everything else applies from the next step on.
        Object.assign(run.hp, next);
        Object.assign(run.trainer.hp, next);
        const { beta1, beta2, epsilon, weightDecay, gradClip } = next;
        Object.assign(run.trainer.optimizer.settings, { beta1, beta2, epsilon, weightDecay, gradClip });
      }
      return { errors: [], status: this.emitStatus() };
    });
  }

  setCorpus(choice: CorpusChoice): Promise<{ error: string | null; status: EngineStatus }> {
    return this.exclusive(async () => {
      const run = this.requireRun();
      const text = choice.source === 'moby-dick' ? this.requireMobyDick() : choice.text;
      let fresh: Run;
      try {
        if (typeof text !== 'string') throw new Error('The text must be a string.');
        validateCorpus(text, run.hp.contextLength);
        // A new text is a new vocabulary, so a new model: from scratch, with the current settings.
        fresh = startRun(text, run.hp);
      } catch (err) {
        return { error: messageOf(err), status: this.snapshotStatus() };
      }
      const corpus: CorpusChoice = choice.source === 'moby-dick' ? MOBY_DICK : { source: 'user', name: choice.name, text };
      const wasTraining = await this.halt();
      this.install(fresh, { ...this.planLike('scratch'), corpus, text });
      this.notice =
        `Training on ${corpusName(corpus)} now: its ${fresh.tokenizer.size} different characters make a new vocabulary, ` +
        'so the model starts from scratch.';
      this.state = 'idle';
      await this.saveOrRecover();
      if (wasTraining) this.startLoop();
      return { error: null, status: this.emitStatus() };
    });
  }

  train(): Promise<void> {
    return this.exclusive(async () => {
      if (this.run == null || this.loopDone != null) return;
      this.error = null;
      this.startLoop();
    });
  }

  pause(): Promise<EngineStatus> {
    return this.exclusive(async () => {
      const wasTraining = await this.halt();
      if (wasTraining && this.run) {
        await this.evaluateOnPause();
        await this.saveOrRecover();
        if (this.state === 'training') this.state = 'paused';
      }
      return this.emitStatus();
    });
  }

  step(): Promise<Metrics> {
    return this.exclusive(async () => {
      this.requireRun();
      await this.halt(); // (a failure it finds is recovered from: the run may be another one now)
      const run = this.requireRun();
      const before = run.trainer.step;
      let metrics: Metrics | null;
      try {
        metrics = await this.trainChunk(run, 1);
        if (crossed(before, run.trainer.step, this.opts.saveEvery)) await this.save(true);
      } catch (err) {
        this.failure = err;
        await this.recover();
        throw err;
      }
      this.state = 'paused';
      this.emitStatus();
      return metrics!;
    });
  }

  reset(from: 'pretrained' | 'scratch'): Promise<EngineStatus> {
    return this.exclusive(async () => {
      const run = this.requireRun();
      await this.halt(); // a reset stops training
      if (this.state === 'training') this.state = 'paused';
      try {
        if (from === 'pretrained') {
          const plan = await this.pretrainedPlan();
          this.install(plan.build(), plan);
        } else {
          this.install(startRun(this.text, run.hp), this.planLike('scratch'));
        }
      } catch (err) {
        this.notice = `Could not reset the model: ${messageOf(err)}`;
        return this.emitStatus();
      }
      this.state = 'idle';
      await this.saveOrRecover();
      return this.emitStatus();
    });
  }

  async setLearningRate(lr: number): Promise<void> {
    const run = this.requireRun();
    const bad = validateHyperparameters({ ...run.hp, learningRate: lr, minLearningRate: Math.min(run.hp.minLearningRate, lr) });
    const problem = bad.find((e) => e.field === 'learningRate');
    if (problem) throw new RangeError(`The learning rate ${problem.message}.`);
    run.trainer.setLearningRate(lr);
    run.hp.learningRate = lr;
    run.hp.minLearningRate = run.trainer.hp.minLearningRate;
    this.emitStatus();
  }

  async setSampleTemperature(t: number): Promise<void> {
    if (!Number.isFinite(t) || t < 0) throw new RangeError('The temperature must be a number ≥ 0.');
    this.sampleTemperature = t;
  }

  sample(request: SampleRequest): Promise<SampleResult> {
    return this.exclusive(() => this.draw(this.requireRun(), request));
  }

  exportCheckpoint(): Promise<Uint8Array> {
    return this.exclusive(async () => {
      this.requireRun();
      const wasTraining = await this.halt();
      try {
        return await saveCheckpoint(this.requireRun(), this.currentValLoss());
      } finally {
        if (wasTraining) this.startLoop();
      }
    });
  }

  importCheckpoint(bytes: Uint8Array): Promise<{ error: string | null; status: EngineStatus }> {
    return this.exclusive(async () => {
      this.requireRun();
      let fresh: Run;
      try {
        if (!(bytes instanceof Uint8Array)) throw new CheckpointError('not-safetensors', 'the file is not a byte array');
        const step = readCheckpoint(bytes).step;
        fresh = restoreRun(this.text, bytes, undefined, this.continueHp(step));
      } catch (err) {
        return { error: `This checkpoint cannot be loaded: ${messageOf(err)}`, status: this.snapshotStatus() };
      }
      await this.halt();
      this.install(fresh, this.planLike('imported'));
      this.state = 'idle';
      await this.saveOrRecover();
      return { error: null, status: this.emitStatus() };
    });
  }

  async cancelJob(): Promise<void> {
    this.jobCancelled = true;
  }

  /** Stops training and frees the model (for tests and scripts; the worker simply ends). */
  dispose(): Promise<void> {
    return this.exclusive(async () => {
      await this.halt();
      this.dropRun();
      this.state = 'starting';
    });
  }

  // -------------------------------------------------------------------------------------------
  // Chapter jobs

  /** The body of `runJob`, inside the queue. */
  private async job<T>(kind: JobKind, fn: (wb: Workbench) => Promise<T>): Promise<T> {
    this.requireRun();
    const wasTraining = await this.halt();
    const run = this.requireRun(); // (a failure `halt` found may have replaced the run)
    this.jobCancelled = false;
    const backend = this.choice?.name ?? currentBackend();
    if (backend == null) throw new Error('The engine has no backend yet: call start() first.');
    const wb: Workbench = {
      run,
      text: this.text,
      corpusSource: this.corpus.source,
      mobyDick: this.requireMobyDick(),
      backend,
      valLoss: this.currentValLoss() ?? null,
      cancelled: () => this.jobCancelled,
      withBackend: (name, body) => this.withBackend(name, body),
      availableBackends: async () => (await this.probe()).map((r) => ({ name: r.name, available: r.available, reason: r.reason })),
    };
    if (kind === 'read') {
      try {
        return await fn(wb);
      } finally {
        if (wasTraining && this.run === run && this.state !== 'error') this.startLoop();
      }
    }
    // A mutating job: the weights before it are the last good state to go back to if it fails.
    if (this.lastGood == null || this.lastGood.step !== run.trainer.step) await this.save(false);
    let result: T;
    try {
      result = await fn(wb);
    } catch (err) {
      try {
        this.restoreLastGood();
      } catch (restoreErr) {
        this.state = 'error';
        this.error = `${messageOf(err)}; restoring the weights failed too: ${messageOf(restoreErr)}`;
      }
      if (this.state === 'training') this.state = 'paused';
      this.emitStatus();
      throw err;
    }
    this.valLoss = null;
    if (this.state === 'training') this.state = 'paused';
    await this.saveOrRecover();
    this.emitStatus();
    return result;
  }

  /** Runs `fn` on backend `name`, then puts the reader's backend back (their tensors stay where they are). */
  private async withBackend<T>(name: BackendName, fn: () => Promise<T>): Promise<T> {
    const home = this.choice?.name ?? currentBackend();
    if (name === home) return fn();
    await this.host.prepareBackend?.(name);
    await useBackend(name);
    try {
      return await fn();
    } finally {
      if (home != null && currentBackend() !== home) await useBackend(home);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Start: where the run comes from, and which backend runs it

  /** A shared link: these hyperparameters, from scratch, on Moby-Dick. Null (with a notice) when invalid. */
  private sharedPlan(shared: Hyperparameters): Plan | null {
    const text = this.requireMobyDick();
    const vocabSize = CharTokenizer.fromText(text).size;
    const hp = { ...shared, vocabSize };
    const errors = validateHyperparameters(hp);
    if (errors.length > 0) {
      const list = errors.map((e) => `${e.field} ${e.message}`).join('; ');
      this.notice = `The shared settings are not valid (${list}); the pretrained model was loaded instead.`;
      return null;
    }
    return {
      origin: 'scratch',
      config: modelConfigOf(hp),
      corpus: MOBY_DICK,
      text,
      build: () => startRun(text, hp),
      lastSavedStep: null,
      elapsedSeconds: 0,
      label: 'The shared run',
    };
  }

  /** The run autosaved in this browser, or null when there is none (or it cannot be read). */
  private async storedPlan(): Promise<Plan | null> {
    let record;
    try {
      record = await this.host.storage.load();
      if (record == null) return null;
      const { meta } = record;
      const text = meta.corpus.source === 'user' ? meta.corpus.text : this.requireMobyDick();
      if (typeof text !== 'string') throw new Error('the saved run has lost its text');
      const config = readCheckpoint(record.checkpoint).config;
      const { checkpoint, resume } = record;
      return {
        origin: 'restored',
        config,
        corpus: meta.corpus,
        text,
        build: () => restoreRun(text, checkpoint, resume),
        lastSavedStep: meta.step,
        elapsedSeconds: meta.elapsedSeconds ?? 0,
        label: 'The saved run',
      };
    } catch (err) {
      this.notice = `The saved run could not be read (${messageOf(err)}); the pretrained model was loaded instead.`;
      return null;
    }
  }

  /** The checkpoint that ships with the site, on Moby-Dick. */
  private async pretrainedPlan(): Promise<Plan> {
    this.pretrainedBytes ??= await this.host.fetchBytes(this.pretrainedUrl).catch((err: unknown) => {
      throw new Error(`Could not load the pretrained model: ${messageOf(err)}`);
    });
    const bytes = this.pretrainedBytes;
    const text = this.requireMobyDick();
    const ckpt = readCheckpoint(bytes);
    const overrides = this.continueHp(ckpt.step);
    return {
      origin: 'pretrained',
      config: ckpt.config,
      corpus: MOBY_DICK,
      text,
      build: () => restoreRun(text, bytes, undefined, overrides),
      lastSavedStep: null,
      elapsedSeconds: 0,
      label: 'The pretrained model',
    };
  }

  /** What installing a model built here (not loaded) records: the current corpus, a fresh clock. */
  private planLike(origin: EngineStatus['origin']): Plan {
    return {
      origin,
      config: modelConfigOf(this.run!.hp),
      corpus: this.corpus,
      text: this.text,
      build: () => {
        throw new Error('not buildable');
      },
      lastSavedStep: null,
      elapsedSeconds: 0,
      label: '',
    };
  }

  private continueHp(step: number): Partial<Hyperparameters> {
    return { ...this.opts.continueTraining, steps: step + this.opts.continueSteps };
  }

  private async chooseBackend(wanted: BackendName | 'auto', config: ModelConfig): Promise<void> {
    const reports = await this.probe();
    if (wanted !== 'auto') {
      try {
        await this.activate(wanted);
        const cached = await this.cachedRates(config, reports);
        this.choice = { name: wanted, reason: `chosen in the URL (?backend=${wanted})`, rates: cached ?? ratesOf(reports) };
        return;
      } catch (err) {
        this.notice = `${messageOf(err)} The engine picked a backend itself.`;
      }
    }
    let rates = await this.cachedRates(config, reports);
    if (rates == null) {
      rates = await this.measureRates(config, reports);
      await this.host.calibrationCache.set(this.deviceKey(config, reports), rates).catch(() => undefined);
    }
    const best = fastest(rates);
    const ranked = [
      ...rates.filter((r) => r.available && r.tokensPerSecond != null).sort((a, b) => b.tokensPerSecond! - a.tokensPerSecond!),
      ...rates.filter((r) => r.available && r.tokensPerSecond == null),
    ];
    for (const r of ranked) {
      try {
        await this.activate(r.name);
      } catch {
        continue;
      }
      const reason =
        r.tokensPerSecond == null
          ? `the only backend left that starts (${r.reason})`
          : r === best
            ? `fastest in calibration: ${Math.round(r.tokensPerSecond)} tokens/s`
            : `fastest in calibration that starts: ${Math.round(r.tokensPerSecond)} tokens/s`;
      this.choice = { name: r.name, reason, rates };
      return;
    }
    throw new Error('No tfjs backend could start here.');
  }

  private async probe(): Promise<BackendReport[]> {
    this.reports ??= await probeBackends();
    return this.reports;
  }

  private measureRates(config: ModelConfig, reports: BackendReport[]): Promise<BackendRate[]> {
    return calibrate(config, {
      reports,
      budgetMs: this.opts.calibrationMs,
      startTimeoutMs: this.opts.backendStartMs,
      prepare: this.host.prepareBackend?.bind(this.host),
    });
  }

  private async cachedRates(config: ModelConfig, reports: BackendReport[]): Promise<BackendRate[] | null> {
    const cached = await this.host.calibrationCache.get(this.deviceKey(config, reports)).catch(() => undefined);
    return Array.isArray(cached) && cached.length > 0 ? cached : null;
  }

  /** One device (browser + GPU adapter) and one set of model shapes. */
  private deviceKey(config: ModelConfig, reports: BackendReport[]): string {
    const a = reports.find((r) => r.name === 'webgpu')?.adapter;
    const adapter = a ? a.description || [a.vendor, a.architecture, a.device].filter(Boolean).join(' ') || 'unnamed adapter' : 'no adapter';
    const shapes = `${config.layers}L ${config.heads}H ${config.width}C ${config.contextLength}T ${config.vocabSize}V`;
    return `${this.host.userAgent} | ${adapter} | ${shapes}`;
  }

  /**
   * Switches tfjs to `name` (throws a BackendError saying why it cannot, or that it did not start
   * within `backendStartMs`) and watches a GPU device.
   */
  private async activate(name: BackendName): Promise<void> {
    await useBackend(name, { prepare: this.host.prepareBackend?.bind(this.host), timeoutMs: this.opts.backendStartMs });
    // wasm's report as it stands once it runs (the threads tfjs started and those our products run
    // on), in place of the prediction made before it started. The others' reports do not change.
    this.runningReport = name === 'wasm' ? await probeBackend(name).catch(() => null) : null;
    this.gpuDevice = null;
    if (name === 'webgpu') this.watchDevice();
  }

  /** When tfjs's WebGPU device is lost, move the run down the ladder. */
  private watchDevice(): void {
    const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
    if (device?.lost == null) return;
    this.gpuDevice = device;
    if (this.watchedDevices.has(device)) return;
    this.watchedDevices.add(device);
    void device.lost.then((info) => {
      // tfjs 4.22 never destroys its own device (its dispose frees buffers only), but a host may
      // when it shuts down: a destroyed device tfjs no longer trains on is no loss. One it still
      // trains on is, whoever destroyed it (a driver reset can surface as 'destroyed' too).
      const inUse = (tf.engine().registry.webgpu as unknown as { device?: GPUDevice } | undefined)?.device === device;
      if (info.reason === 'destroyed' && !inUse) return;
      void this.exclusive(async () => {
        if (this.choice?.name !== 'webgpu' || this.run == null) return;
        const wasTraining = await this.halt(); // a failed loop may have recovered already
        if (this.choice?.name === 'webgpu') await this.fallBack(info.message || 'device lost');
        if (wasTraining && this.loopDone == null && this.state !== 'error') this.startLoop();
        this.emitStatus();
      });
    });
  }

  // -------------------------------------------------------------------------------------------
  // The training loop

  private startLoop(): void {
    this.stopping = false;
    this.state = 'training';
    this.notice = this.notice?.startsWith('The loss became') ? null : this.notice;
    this.emitStatus();
    this.loopDone = this.loop().then((failure) => {
      this.loopDone = null;
      if (failure == null) return;
      this.failure = failure;
      void this.exclusive(async () => {
        if (await this.recover()) this.startLoop();
      });
    });
  }

  /**
   * Trains until stopped, or until the planned steps (`hp.steps`, which may change meanwhile) are
   * done; a run already past them trains on until paused. Resolves with what ended it, if it failed.
   */
  private async loop(): Promise<unknown> {
    const run = this.run!;
    const open = run.trainer.step >= run.hp.steps;
    const left = () => (open ? Infinity : run.hp.steps - run.trainer.step);
    let lastSample = performance.now();
    // Samples must not starve training on a slow device (a software GPU draws a character in a
    // fraction of a second or more): the first is short, later ones are sized so one takes about a
    // fifth of the interval, and the next waits at least four times as long as the last one took.
    let sampleTokens = Math.min(40, this.opts.sampleLength);
    let sampleCostMs = 0;
    try {
      while (!this.stopping && left() > 0) {
        // Let the page's messages in (pause, a new learning rate): on CPU backends a read-back
        // resolves without ever leaving the microtask queue.
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (this.stopping) break;
        const before = run.trainer.step;
        await this.trainChunk(run, Math.min(this.opts.chunkSteps, left()));
        if (this.stopping) break;
        if (crossed(before, run.trainer.step, this.opts.saveEvery)) await this.save(true);
        if (performance.now() - lastSample >= Math.max(this.opts.sampleEveryMs, 4 * sampleCostMs)) {
          const started = performance.now();
          const s = await this.draw(run, {
            prompt: this.samplePrompt(run),
            maxTokens: sampleTokens,
            temperature: this.sampleTemperature,
            seed: run.trainer.step,
          });
          this.fire('sample', s);
          lastSample = performance.now();
          sampleCostMs = lastSample - started;
          const msPerToken = sampleCostMs / sampleTokens;
          sampleTokens = Math.max(20, Math.min(this.opts.sampleLength, Math.floor(this.opts.sampleEveryMs / 5 / msPerToken)));
        }
      }
      if (!this.stopping) {
        // The planned steps are done.
        await this.evaluateOnPause();
        await this.save(true);
        this.state = 'paused';
        this.emitStatus();
      }
      return null;
    } catch (err) {
      return err ?? new Error('training failed');
    }
  }

  /** Up to `steps` steps; emits Metrics at each report (with validation loss when one is due). */
  private async trainChunk(run: Run, steps: number): Promise<Metrics | null> {
    let previous = run.trainer.step;
    let last: Metrics | null = null;
    let mark = performance.now();
    await run.trainer.run(
      steps,
      async (r) => {
        this.elapsedSeconds += (performance.now() - mark) / 1000;
        this.lastReport = r;
        const valLoss = crossed(previous, r.step, this.opts.evalEvery) ? await this.evaluate(run) : null;
        previous = r.step;
        last = this.metricsOf(r, valLoss);
        this.fire('metrics', last);
        mark = performance.now();
      },
      this.reportEvery(),
    );
    return last;
  }

  /** Loss is read back every step on CPU backends, every few on a GPU (each read waits for it). */
  private reportEvery(): number {
    const name = this.choice?.name ?? currentBackend();
    return name === 'webgpu' || name === 'webgl' ? 5 : name === 'wasm' ? 2 : 1;
  }

  private async evaluate(run: Run): Promise<number> {
    const value = await run.trainer.evaluate();
    this.valLoss = { step: run.trainer.step, value };
    return value;
  }

  /** On pause: the validation loss of where training stopped, sent with that step's metrics. */
  private async evaluateOnPause(): Promise<void> {
    const run = this.run!;
    if (this.valLoss?.step === run.trainer.step) return;
    const value = await this.evaluate(run);
    if (this.lastReport?.step === run.trainer.step) this.fire('metrics', this.metricsOf(this.lastReport, value));
  }

  private metricsOf(r: StepReport, valLoss: number | null): Metrics {
    const { numTensors, numBytes } = tf.memory();
    return {
      step: r.step,
      trainLoss: r.trainLoss,
      valLoss,
      learningRate: r.learningRate,
      tokensPerSecond: r.tokensPerSecond,
      elapsedSeconds: this.elapsedSeconds,
      memory: { numTensors, numBytes },
    };
  }

  /** Stops the loop and waits for it. True when training should go on after the caller's change. */
  private async halt(): Promise<boolean> {
    const wasTraining = this.loopDone != null;
    if (wasTraining) {
      this.stopping = true;
      this.run?.trainer.stop();
      await this.loopDone;
    }
    if (this.failure != null) return this.recover();
    return wasTraining;
  }

  /**
   * Deals with what ended the loop: a NaN pauses and restores the last good weights; a lost device
   * moves the run down the ladder. True when training may go on.
   */
  private async recover(): Promise<boolean> {
    const failure = this.failure;
    this.failure = null;
    if (failure == null) return false;
    try {
      if (failure instanceof NonFiniteLossError) {
        const step = this.restoreLastGood();
        this.state = 'paused';
        const value = /became (\S+) at/.exec(failure.message)?.[1] ?? 'NaN';
        this.notice =
          `The loss became ${value} at step ${failure.step}, so training paused and the weights of step ${step}, ` +
          'the last good ones, were restored. If it happens again, lower the learning rate or load another checkpoint.';
        this.emitStatus();
        return false;
      }
      if (isDeviceLost(failure) || (await this.deviceWasLost())) {
        await this.fallBack(messageOf(failure));
        return this.state !== 'error';
      }
      this.state = 'error';
      this.error = messageOf(failure);
    } catch (err) {
      this.state = 'error';
      this.error = `${messageOf(failure)}; recovering failed too: ${messageOf(err)}`;
    }
    this.emitStatus();
    return false;
  }

  /**
   * Whether the run's WebGPU device is gone. A read-back on a lost device fails with whatever words
   * the browser chose ("AbortError: … destroyed …"), and may fail before `device.lost` settles, so
   * an unrecognized failure on webgpu waits briefly for that promise before it is called an error.
   */
  private async deviceWasLost(): Promise<boolean> {
    const device = this.gpuDevice;
    if (device == null || this.choice?.name !== 'webgpu') return false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const lost = await Promise.race([
      device.lost.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 1000))),
    ]);
    clearTimeout(timer);
    return lost;
  }

  /** Back to the last good weights and optimizer state, keeping the current settings. Returns its step. */
  private restoreLastGood(): number {
    const good = this.lastGood;
    if (good == null) throw new Error('there are no saved weights to go back to');
    this.swapRun(restoreRun(this.text, good.checkpoint, good.resume, this.run?.hp));
    return good.step;
  }

  /** The GPU is gone: the next backend down the ladder takes the run, from the last checkpoint. */
  private async fallBack(why: string): Promise<void> {
    const from = this.choice?.name ?? currentBackend() ?? 'webgpu';
    const reports = await this.probe();
    const ladder = BACKEND_NAMES.slice(BACKEND_NAMES.indexOf(from) + 1).filter(
      (n) => reports.find((r) => r.name === n)?.available,
    );
    for (const name of ladder) {
      try {
        await this.activate(name);
      } catch {
        continue;
      }
      const step = this.restoreLastGood();
      this.choice = { name, reason: 'fell back after the GPU device was lost', rates: this.choice?.rates ?? [] };
      this.notice = `The GPU device was lost; training moved to ${name} and resumed from step ${step}.`;
      if (this.state === 'training') this.state = 'paused';
      this.emitStatus();
      return;
    }
    this.state = 'error';
    this.error = `The GPU device was lost (${why}) and no other backend could start.`;
    this.emitStatus();
  }

  // -------------------------------------------------------------------------------------------
  // Runs, saves and samples

  /** Makes `run` the reader's run, recording where it came from; the old run is disposed. */
  private install(run: Run, plan: Plan): void {
    this.swapRun(run);
    this.origin = plan.origin;
    this.corpus = plan.corpus;
    this.text = plan.text;
    this.lastSavedStep = plan.lastSavedStep;
    this.elapsedSeconds = plan.elapsedSeconds;
  }

  /** Replaces the model and trainer only (same run, other tensors: a restore or a backend move). */
  private swapRun(run: Run): void {
    const old = this.run;
    this.run = run;
    this.valLoss = null;
    this.lastReport = null;
    if (old != null && old !== run) {
      try {
        disposeRun(old);
      } catch {
        // A lost device may refuse to free its buffers; they are gone with it anyway.
      }
    }
  }

  private dropRun(): void {
    if (this.run == null) return;
    try {
      disposeRun(this.run);
    } catch {
      // as in swapRun
    }
    this.run = null;
  }

  /** Checkpoint + resume bytes of the run as it is now. NaN weights surface as a NonFiniteLossError. */
  private async snapshot(): Promise<Snapshot> {
    const run = this.requireRun();
    try {
      const checkpoint = await saveCheckpoint(run, this.currentValLoss());
      const resume = await saveResume(run);
      return { checkpoint, resume, step: run.trainer.step };
    } catch (err) {
      if (err instanceof CheckpointError && err.code === 'non-finite') throw new NonFiniteLossError(run.trainer.step, NaN);
      throw err;
    }
  }

  /**
   * Keeps the run as the last good state and, with `persist`, writes it to storage. A failed write
   * (a full disk) sets a notice and nothing else: training goes on.
   */
  private async save(persist: boolean): Promise<void> {
    const snap = await this.snapshot();
    this.lastGood = snap;
    if (!persist) return;
    try {
      await this.host.storage.save({
        checkpoint: snap.checkpoint,
        resume: snap.resume,
        meta: { step: snap.step, savedAt: Date.now(), origin: this.origin, corpus: this.corpus, elapsedSeconds: this.elapsedSeconds },
      });
      this.lastSavedStep = snap.step;
      if (this.notice?.startsWith(SAVE_FAILED)) this.notice = null;
    } catch (err) {
      this.notice = `${SAVE_FAILED}: ${describeSaveFailure(err)}. Training goes on; export a checkpoint to keep your work.`;
    }
    this.emitStatus();
  }

  /** `snapshot()`, or null when the weights turned out NaN (they were restored, and training paused). */
  private async snapshotOrRecover(): Promise<Snapshot | null> {
    try {
      return await this.snapshot();
    } catch (err) {
      this.failure = err;
      await this.recover();
      return null;
    }
  }

  /** `save(true)` where a NaN found in the weights is dealt with at once. */
  private async saveOrRecover(): Promise<void> {
    try {
      await this.save(true);
    } catch (err) {
      this.failure = err;
      await this.recover();
    }
  }

  private currentValLoss(): number | undefined {
    const run = this.run;
    const v = this.valLoss;
    return run && v && v.step === run.trainer.step && Number.isFinite(v.value) ? v.value : undefined;
  }

  private async draw(run: Run, request: SampleRequest): Promise<SampleResult> {
    const prompt = String(request.prompt ?? '');
    const { ids, unknown } = run.tokenizer.encode(prompt);
    // An empty prompt starts from a new line (or the fallback token when the text has none).
    const start = ids.length > 0 ? Array.from(ids) : [run.tokenizer.encode('\n').ids[0]];
    const maxTokens = Math.max(0, Math.min(4096, Math.floor(Number(request.maxTokens) || 0)));
    const out = await generate(run.model, start, maxTokens, {
      temperature: request.temperature,
      topK: request.topK,
      topP: request.topP,
      seed: request.seed ?? Math.floor(Math.random() * 2 ** 32),
    });
    return { prompt, text: run.tokenizer.decode(out), unknownChars: unknown, step: run.trainer.step };
  }

  /** 'Call me Ishmael.' on Moby-Dick; the start of the reader's own text otherwise. */
  private samplePrompt(run: Run): string {
    if (this.corpus.source === 'moby-dick' && [...MOBY_DICK_PROMPT].every((c) => run.tokenizer.has(c))) return MOBY_DICK_PROMPT;
    const firstLine = this.text.trimStart().split('\n')[0] ?? '';
    return [...firstLine].slice(0, 24).join('') || this.text.slice(0, 1);
  }

  // -------------------------------------------------------------------------------------------
  // Status and plumbing

  private snapshotStatus(): EngineStatus {
    const run = this.run;
    const corpus: CorpusInfo | null = run
      ? {
          source: this.corpus.source,
          name: corpusName(this.corpus),
          characters: this.text.length,
          vocabularySize: run.tokenizer.size,
          unknownChars: run.unknownChars,
        }
      : null;
    return {
      state: this.state,
      backend: this.choice
        ? {
            ...this.choice,
            rates: this.choice.rates.map((r) => (r.name === this.runningReport?.name ? { ...r, reason: this.runningReport.reason } : { ...r })),
          }
        : null,
      hp: run ? { ...run.hp } : null,
      step: run?.trainer.step ?? 0,
      parameters: run ? parameterCount(run.hp) : 0,
      corpus,
      origin: this.origin,
      lastSavedStep: this.lastSavedStep,
      notice: this.notice,
      error: this.error,
    };
  }

  private emitStatus(): EngineStatus {
    const s = this.snapshotStatus();
    this.fire('status', s);
    return s;
  }

  /**
   * Calls an event callback; a page that went away (a rejected Comlink call) is not our failure.
   * Called as a plain method call: a Comlink proxy forwards `.call`/`.apply` as remote calls.
   */
  private fire<K extends keyof EngineEvents>(kind: K, value: Parameters<EngineEvents[K]>[0]): void {
    const events = this.events as Record<K, (v: typeof value) => unknown> | null;
    if (events == null) return;
    try {
      void Promise.resolve(events[kind](value)).catch(() => undefined);
    } catch {
      // ignored, as above
    }
  }

  /** Runs `fn` after every change queued before it. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.queue.then(fn);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private requireRun(): Run {
    if (this.run == null) {
      throw new Error(this.state === 'error' && this.error ? this.error : 'The engine has no model yet: call start() first.');
    }
    return this.run;
  }

  private requireMobyDick(): string {
    if (this.mobyDick == null) throw new Error('The bundled corpus is not loaded yet: call start() first.');
    return this.mobyDick;
  }
}

/** True when `every` divides some step in (before, after]. */
function crossed(before: number, after: number, every: number): boolean {
  return every > 0 && Math.floor(after / every) > Math.floor(before / every);
}

function ratesOf(reports: BackendReport[]): BackendRate[] {
  return reports.map((r) => ({ name: r.name, available: r.available, reason: r.reason, tokensPerSecond: null }));
}

function corpusName(c: CorpusChoice): string {
  return c.source === 'moby-dick' ? 'Moby-Dick' : c.name;
}

function decodeText(bytes: Uint8Array, what: string): string {
  const text = new TextDecoder('utf-8').decode(bytes);
  if (text.length === 0) throw new Error(`${what} is empty`);
  return text;
}

/** A lost WebGPU device or WebGL context, as tfjs and browsers word it. */
export function isDeviceLost(err: unknown): boolean {
  return /device (was |is |has been )?lost|lost (the )?device|context (was |is )?lost|CONTEXT_LOST|DEVICE_REMOVED/i.test(messageOf(err));
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Why a save failed, in the reader's words: a full disk is named as such (IndexedDB says it in its own way). */
function describeSaveFailure(err: unknown): string {
  // A DOMException's name says more than its message, which Chromium leaves empty for a full quota.
  const raw = messageOf(err).trim().replace(/\.$/, '');
  const name = err instanceof Error && err.name !== 'Error' && !raw.includes(err.name) ? err.name : '';
  const message = [name, raw].filter(Boolean).join(': ') || 'no reason given';
  if (/quota/i.test(message)) return `the browser has no more room to store this site's data (${message})`;
  return message;
}
