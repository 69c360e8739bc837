/**
 * The contract between the page and the engine worker (DESIGN.md: one module Web Worker owns tfjs,
 * the model, the trainer and checkpoints; the page talks to it through Comlink). Types only: this
 * file is imported by both sides and pulls no tfjs into the main bundle.
 */
import type { FieldError, Hyperparameters } from '../gpt/config';
import type { BackendName } from './backends';
import type { InfraApi } from './jobs/infra';
import type { InspectApi } from './jobs/inspect';
import type { MeasureApi } from './jobs/measure';
import type { SafetyApi } from './jobs/safety';
import type { ServeApi } from './jobs/serve';
import type { TuningApi } from './jobs/tuning';

export type { BackendName, FieldError, Hyperparameters, InfraApi, InspectApi, MeasureApi, SafetyApi, ServeApi, TuningApi };

export type EngineState = 'starting' | 'idle' | 'training' | 'paused' | 'error';

/** One candidate of the backend ladder, as measured by the last calibration on this device. */
export interface BackendRate {
  name: BackendName;
  available: boolean;
  /** Why it is or is not available ('no WebGPU adapter', 'software adapter (SwiftShader)', …). */
  reason: string;
  /** Training tokens per second measured on the current model's shapes; null where not measured. */
  tokensPerSecond: number | null;
}

export interface BackendChoice {
  name: BackendName;
  /** Why this one runs: 'fastest in calibration', 'chosen in the URL (?backend=wasm)', 'chosen in the menu', 'fell back after the GPU device was lost'. */
  reason: string;
  rates: BackendRate[];
}

export interface CorpusInfo {
  source: 'moby-dick' | 'user';
  /** 'Moby-Dick' or the reader's file name / 'pasted text'. */
  name: string;
  characters: number;
  vocabularySize: number;
  /** Characters outside the model's vocabulary (they take the fallback token). */
  unknownChars: number;
}

export interface EngineStatus {
  state: EngineState;
  backend: BackendChoice | null;
  hp: Hyperparameters | null;
  step: number;
  parameters: number;
  corpus: CorpusInfo | null;
  /** Where the current weights came from. */
  origin: 'pretrained' | 'scratch' | 'restored' | 'imported';
  /** Step of the last autosave in IndexedDB, null before the first. */
  lastSavedStep: number | null;
  /** A notice the page must show (a fallback after a lost device, a failed autosave); null when none. */
  notice: string | null;
  /** What stopped the engine, in words for the reader; null when nothing did. */
  error: string | null;
}

export interface Metrics {
  step: number;
  trainLoss: number;
  /** Present on the steps where validation loss was measured. */
  valLoss: number | null;
  learningRate: number;
  tokensPerSecond: number;
  /** Seconds spent training in this run (evaluation and saving excluded). */
  elapsedSeconds: number;
  memory: { numTensors: number; numBytes: number };
}

export interface SampleRequest {
  prompt: string;
  maxTokens: number;
  temperature: number;
  topK?: number;
  topP?: number;
  seed?: number;
}

export interface SampleResult {
  prompt: string;
  text: string;
  /** Prompt characters outside the vocabulary (they took the fallback token). */
  unknownChars: number;
  step: number;
}

/** Callbacks the page hands to the engine (wrapped with Comlink.proxy). */
export interface EngineEvents {
  status(s: EngineStatus): void;
  metrics(m: Metrics): void;
  /** A sample drawn every few seconds while training, with the current sample temperature. */
  sample(s: SampleResult): void;
}

export interface StartOptions {
  /** 'auto' calibrates (or uses this device's cached calibration); a name forces that backend. */
  backend: BackendName | 'auto';
  /** Absolute URLs of the shipped checkpoint and the bundled corpus (same origin). */
  pretrainedUrl: string;
  corpusUrl: string;
  /**
   * A shared run: these hyperparameters (seed included), trained from scratch on Moby-Dick, so the
   * same URL gives the same losses on the same backend. Without it the engine resumes the run saved
   * in IndexedDB, or loads the pretrained checkpoint.
   */
  shared?: Hyperparameters;
}

export type CorpusChoice = { source: 'moby-dick' } | { source: 'user'; name: string; text: string };

export interface EngineApi {
  start(options: StartOptions, events: EngineEvents): Promise<EngineStatus>;
  status(): Promise<EngineStatus>;
  /** Measures every available backend on the current model and caches the result for this device. */
  calibrate(): Promise<BackendRate[]>;
  /** Moves the run to another backend (weights and optimizer state kept). */
  setBackend(name: BackendName): Promise<EngineStatus>;
  /**
   * Applies a validated set. A change of architecture (layers, heads, width, context length,
   * dropout) builds a new model from scratch — the page asks the reader first; any other change
   * applies to the running model. Returns field errors (and changes nothing) when the set is bad.
   */
  applyHyperparameters(hp: Hyperparameters): Promise<{ errors: FieldError[]; status: EngineStatus }>;
  /** Validates and switches the training text; the reader's text never leaves the worker. */
  setCorpus(choice: CorpusChoice): Promise<{ error: string | null; status: EngineStatus }>;
  /** Starts training in the background and returns at once; progress arrives as events. */
  train(): Promise<void>;
  /** Stops after the current step and autosaves. */
  pause(): Promise<EngineStatus>;
  /** One training step (while paused). */
  step(): Promise<Metrics>;
  /** A new model: from the shipped checkpoint or from scratch with the current hyperparameters. */
  reset(from: 'pretrained' | 'scratch'): Promise<EngineStatus>;
  setLearningRate(lr: number): Promise<void>;
  setSampleTemperature(t: number): Promise<void>;
  sample(request: SampleRequest): Promise<SampleResult>;
  /** The current weights as a .safetensors checkpoint (the engine's format). */
  exportCheckpoint(): Promise<Uint8Array>;
  /** Loads a checkpoint file; refuses a bad one with a message and leaves the running model as it was. */
  importCheckpoint(bytes: Uint8Array): Promise<{ error: string | null; status: EngineStatus }>;
  /** Asks the running chapter job (a comparison run, a fine-tuning run, a benchmark) to stop at its next step. */
  cancelJob(): Promise<void>;

  // Chapter jobs (src/engine/jobs/*), one namespace per chapter family: `api.inspect.attention(…)`.
  // Each pauses the reader's training while it runs and trains on afterwards (workbench.ts).
  readonly inspect: InspectApi;
  readonly tuning: TuningApi;
  readonly measure: MeasureApi;
  readonly infra: InfraApi;
  readonly safety: SafetyApi;
  readonly serve: ServeApi;
}

/** The namespaces of chapter jobs on EngineApi. */
export const JOB_NAMESPACES = ['inspect', 'tuning', 'measure', 'infra', 'safety', 'serve'] as const;
export type JobNamespace = (typeof JOB_NAMESPACES)[number];
