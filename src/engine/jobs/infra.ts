/**
 * Engine jobs for the Infrastructure chapter: the reader's hardware and memory, the matmul ceiling
 * of the backend in use, simulated data-parallel training, and the export for real infrastructure
 * (a .tar with the checkpoint, the text and a plain-PyTorch training script).
 * The page calls them as `api.infra.<method>(…)`; each runs through the engine's JobRunner (workbench.ts).
 * The logic lives in src/train/dataParallel.ts and src/engine/tar.ts; this file adapts it.
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULTS, modelConfigOf, parameterCount, type Hyperparameters, type ModelConfig } from '../../gpt/config';
import { GPT } from '../../gpt/model';
import { Rng } from '../../gpt/random';
import { batchAt, randomStarts, VALIDATION_BATCHES, VALIDATION_SEED } from '../../train/data';
import { dataParallelStep, type DataParallelResult } from '../../train/dataParallel';
import type { BackendName } from '../backends';
import { saveCheckpoint } from '../run';
import { writeTar } from '../tar';
import { JobCancelledError, type JobRunner, type Workbench } from '../workbench';

// ---------------------------------------------------------------------------------------------
// Contract

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software adapter (SwiftShader, WARP): correct, but a CPU pretending to be a GPU. */
  isFallbackAdapter: boolean;
}

export interface HardwareReport {
  /** The backend the reader's model runs on. */
  backend: BackendName;
  webgpu: {
    /** navigator.gpu exists here. */
    present: boolean;
    /** The adapter `requestAdapter()` gave, or null (with `reason`). */
    adapter: AdapterInfo | null;
    /** The adapter's limits (GPUSupportedLimits), as plain numbers; empty without an adapter. */
    limits: Record<string, number>;
    features: string[];
    reason: string;
  };
  /** tfjs's own count of what it holds now (on the GPU too, where it can tell). */
  memory: { numTensors: number; numBytes: number; numBytesInGPU: number | null; unreliable: boolean };
  model: {
    parameters: number;
    /** Weights in float32: P · 4. */
    weightBytes: number;
    /** AdamW's two moments: P · 4 · 2. */
    optimizerBytes: number;
    /** The gradient that exists during a step: P · 4. */
    gradientBytes: number;
  };
  /** Logical processors the browser reports (navigator.hardwareConcurrency), null where unknown. */
  hardwareConcurrency: number | null;
  /** Rounded gigabytes of RAM (navigator.deviceMemory, Chromium only), null where unknown. */
  deviceMemoryGB: number | null;
  /** The page is cross-origin isolated (SharedArrayBuffer, multi-threaded WebAssembly possible). */
  crossOriginIsolated: boolean;
}

export interface MatmulTime {
  size: number;
  seconds: number;
  gflops: number;
}

export interface CeilingReport extends MatmulTime {
  backend: BackendName;
  /** Every size timed, in order; the ceiling is the largest one under `budgetSeconds`. */
  tried: MatmulTime[];
  budgetSeconds: number;
}

export interface CeilingOptions {
  /** Square sizes to try, smallest first (default 512, 1024, 2048). */
  sizes?: number[];
  /** A size counts when it runs in under this many seconds (default 2). */
  budgetSeconds?: number;
}

export interface DataParallelRequest {
  /** Virtual workers, 1 to 8. */
  workers: number;
  /** 'reader': a scratch copy of the reader's model and batch size; 'tiny': a 2-layer model of width 32. */
  model?: 'reader' | 'tiny';
  /** Keep every message of the ring (for drawing it). */
  trace?: boolean;
}

export interface DataParallelReport extends DataParallelResult {
  model: 'reader' | 'tiny';
  config: ModelConfig;
  backend: BackendName;
}

export type DataParallelProgress = { phase: 'worker' | 'single' | 'all-reduce' | 'update'; worker?: number; workers: number };

export interface PyTorchExport {
  /** The .tar archive. */
  bytes: Uint8Array;
  fileName: string;
  /** What is inside, with sizes. */
  files: { name: string; bytes: number }[];
  step: number;
  valLoss: number;
}

export interface InfraApi {
  /** The machine: WebGPU adapter and limits, backend, tfjs memory, the model's and optimizer's bytes. */
  hardware(): Promise<HardwareReport>;
  /** GFLOP/s of the largest plain square matmul that runs in under 2 s on the reader's backend. */
  ceiling(options?: CeilingOptions): Promise<CeilingReport>;
  /** One simulated data-parallel step with a ring all-reduce, against the same step on one worker. */
  dataParallel(request: DataParallelRequest, onProgress?: (p: DataParallelProgress) => unknown): Promise<DataParallelReport>;
  /**
   * A .tar with model.safetensors (the reader's weights, validation loss in its metadata),
   * config.json, train.txt, the training script `script` (train_gpt_lab.py) and README.txt.
   */
  exportForPyTorch(options: { script: string }): Promise<PyTorchExport>;
}

// ---------------------------------------------------------------------------------------------
// The bundle for PyTorch (also built by scripts/torch/check-load.ts)

export const EXPORT_FOLDER = 'gpt-lab-export';

export interface BundleInput {
  checkpoint: Uint8Array;
  hyperparameters: Hyperparameters;
  step: number;
  valLoss: number;
  text: string;
  corpusName: string;
  script: string;
  backend: string;
}

/** config.json: everything the script needs beside the checkpoint (the checkpoint has the architecture). */
export function exportConfig(input: BundleInput): Record<string, unknown> {
  return {
    format: 'gpt-lab-export/1',
    hyperparameters: input.hyperparameters,
    step: input.step,
    val_loss: input.valLoss,
    corpus: { name: input.corpusName, characters: [...input.text].length, file: 'train.txt' },
    split: { train_fraction: 0.9 },
    validation: { batches: VALIDATION_BATCHES, seed: VALIDATION_SEED, batch_size: input.hyperparameters.batchSize },
    trained_on: input.backend,
  };
}

export function exportReadme(input: BundleInput): string {
  const hp = input.hyperparameters;
  return `GPT Lab export — continue training this model with PyTorch
===========================================================

model.safetensors   your model: ${hp.layers} layers, ${hp.heads} heads, width ${hp.width}, context ${hp.contextLength},
                    vocabulary ${hp.vocabSize}; step ${input.step}, validation loss ${input.valLoss.toFixed(4)}
config.json         its training settings (batch size ${hp.batchSize}, AdamW betas ${hp.beta1}/${hp.beta2},
                    weight decay ${hp.weightDecay}, clipping ${hp.gradClip}) and the validation set
train.txt           the training text (${input.corpusName}); the first 90% trains, the last 10% validates
train_gpt_lab.py    a plain-PyTorch training script (PyTorch 1.13 or newer; no other package)

On one machine (CPU, or the first GPU it finds):

    python3 train_gpt_lab.py --steps 1000

On every GPU of one machine (here 4), one process each, gradients averaged by DistributedDataParallel:

    torchrun --standalone --nproc_per_node 4 train_gpt_lab.py --steps 1000 --amp

On two CPU processes (gloo), to try the distributed path without a GPU:

    python3 -m torch.distributed.run --standalone --nproc_per_node 2 train_gpt_lab.py --steps 50 --device cpu

On two machines with 8 GPUs each (run on both; MASTER is the first machine's address):

    torchrun --nnodes 2 --nproc_per_node 8 --rdzv_backend c10d --rdzv_endpoint MASTER:29500 train_gpt_lab.py --steps 1000 --amp

The script evaluates the validation loss first (it should match ${input.valLoss.toFixed(4)}: the same
windows as GPT Lab's), trains, evaluates again and writes model-continued.safetensors in GPT Lab's
format. Open that file in GPT Lab (the lab's "Import checkpoint" button) to keep working with it.
\`python3 train_gpt_lab.py --help\` lists every option.
`;
}

/** The .tar the reader downloads. */
export function buildPyTorchBundle(input: BundleInput): { bytes: Uint8Array; files: { name: string; bytes: number }[] } {
  if (typeof input.script !== 'string' || input.script.trim().length === 0) throw new Error('the training script is empty');
  const utf8 = new TextEncoder();
  const mtime = Math.floor(Date.now() / 1000);
  const entries = [
    { name: 'model.safetensors', data: input.checkpoint },
    { name: 'config.json', data: utf8.encode(JSON.stringify(exportConfig(input), null, 2) + '\n') },
    { name: 'train.txt', data: utf8.encode(input.text) },
    { name: 'train_gpt_lab.py', data: utf8.encode(input.script), mode: 0o755 },
    { name: 'README.txt', data: utf8.encode(exportReadme(input)) },
  ];
  const bytes = writeTar([
    { name: `${EXPORT_FOLDER}/`, mtime },
    ...entries.map((e) => ({ ...e, name: `${EXPORT_FOLDER}/${e.name}`, mtime })),
  ]);
  return { bytes, files: entries.map((e) => ({ name: e.name, bytes: e.data.length })) };
}

// ---------------------------------------------------------------------------------------------
// Jobs

/** The tiny model of the simulation: small enough for any backend, the reader's vocabulary. */
const TINY_SIMULATION = { layers: 2, heads: 2, width: 32, contextLength: 32, dropout: 0, batchSize: 8 };
const MAX_WORKERS = 8;

export class InfraJobs implements InfraApi {
  constructor(readonly job: JobRunner) {}

  hardware(): Promise<HardwareReport> {
    return this.job('read', async (wb) => {
      const P = parameterCount(wb.run.hp);
      const mem = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
      const nav = typeof navigator !== 'undefined' ? (navigator as Navigator & { deviceMemory?: number }) : undefined;
      return {
        backend: wb.backend,
        webgpu: await describeWebGPU(),
        memory: {
          numTensors: mem.numTensors,
          numBytes: mem.numBytes,
          numBytesInGPU: typeof mem.numBytesInGPU === 'number' ? mem.numBytesInGPU : null,
          unreliable: mem.unreliable === true,
        },
        model: { parameters: P, weightBytes: 4 * P, optimizerBytes: 8 * P, gradientBytes: 4 * P },
        hardwareConcurrency: typeof nav?.hardwareConcurrency === 'number' ? nav.hardwareConcurrency : null,
        deviceMemoryGB: typeof nav?.deviceMemory === 'number' ? nav.deviceMemory : null,
        crossOriginIsolated: globalThis.crossOriginIsolated === true,
      };
    });
  }

  ceiling(options: CeilingOptions = {}): Promise<CeilingReport> {
    const sizes = options.sizes ?? [512, 1024, 2048];
    const budgetSeconds = options.budgetSeconds ?? 2;
    if (!Array.isArray(sizes) || sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 8 || n > 4096)) {
      return Promise.reject(new RangeError('Matrix sizes must be whole numbers from 8 to 4096.'));
    }
    if (!(budgetSeconds > 0)) return Promise.reject(new RangeError('The time budget must be a positive number of seconds.'));
    return this.job('read', async (wb) => {
      const tried: MatmulTime[] = [];
      let best: MatmulTime | null = null;
      for (const n of [...sizes].sort((a, b) => a - b)) {
        if (wb.cancelled()) throw new JobCancelledError();
        // A product of twice the size costs eight times as much: skip what cannot fit the budget.
        const last = tried[tried.length - 1];
        if (last && last.seconds * (n / last.size) ** 3 > budgetSeconds * 1.5) break;
        const t = await timeSquareMatmul(n);
        tried.push(t);
        if (t.seconds >= budgetSeconds) break;
        best = t;
      }
      const ceiling = best ?? tried[0];
      return { ...ceiling, backend: wb.backend, tried, budgetSeconds };
    });
  }

  dataParallel(request: DataParallelRequest, onProgress?: (p: DataParallelProgress) => unknown): Promise<DataParallelReport> {
    const workers = Number(request?.workers);
    if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
      return Promise.reject(new RangeError(`The number of workers must be a whole number from 1 to ${MAX_WORKERS}.`));
    }
    const which = request.model ?? 'reader';
    if (which !== 'reader' && which !== 'tiny') return Promise.reject(new RangeError('The model must be "reader" or "tiny".'));
    return this.job('read', async (wb) => {
      const { model, batchSize, config } = scratchModel(wb, which, workers);
      try {
        const T = config.contextLength;
        const starts = randomStarts(new Rng(2024 + workers), wb.run.split.train.length, T, batchSize);
        const batch = batchAt(wb.run.split.train, starts, T);
        const result = await dataParallelStep(model, batch, {
          workers,
          learningRate: wb.run.hp.learningRate,
          optimizer: { ...wb.run.trainer.optimizer.settings },
          trace: request.trace === true,
          checkCancelled: () => {
            if (wb.cancelled()) throw new JobCancelledError();
          },
          onProgress: async (p) => {
            await onProgress?.({ ...p, workers });
          },
        });
        return { ...result, model: which, config, backend: wb.backend };
      } finally {
        model.dispose();
      }
    });
  }

  exportForPyTorch(options: { script: string }): Promise<PyTorchExport> {
    const script = options?.script;
    if (typeof script !== 'string' || script.trim().length === 0) {
      return Promise.reject(new Error('The training script to put in the export is missing.'));
    }
    return this.job('read', async (wb) => {
      const run = wb.run;
      // The file must say how good the model is: measure it now if the lab has not at this step.
      const valLoss = wb.valLoss ?? (await run.trainer.evaluate());
      const checkpoint = await saveCheckpoint(run, valLoss);
      const { bytes, files } = buildPyTorchBundle({
        checkpoint,
        hyperparameters: { ...DEFAULTS, ...run.hp },
        step: run.trainer.step,
        valLoss,
        text: wb.text,
        corpusName: wb.corpusSource === 'moby-dick' ? 'Moby-Dick' : 'your text',
        script,
        backend: wb.backend,
      });
      return { bytes, fileName: `gpt-lab-step${run.trainer.step}.tar`, files, step: run.trainer.step, valLoss };
    });
  }
}

/** A scratch GPT for the simulation, on the current backend; the caller disposes it. */
function scratchModel(wb: Workbench, which: 'reader' | 'tiny', workers: number): { model: GPT; batchSize: number; config: ModelConfig } {
  const hp = wb.run.hp;
  if (which === 'tiny') {
    const config = modelConfigOf({ ...TINY_SIMULATION, vocabSize: hp.vocabSize });
    return { model: GPT.create(config, 1), batchSize: Math.max(TINY_SIMULATION.batchSize, workers), config };
  }
  const config = { ...modelConfigOf(hp), dropout: 0 };
  return { model: copyModel(wb.run.model, config), batchSize: Math.max(hp.batchSize, workers), config };
}

/** A copy of `source` with new variables on the same device (the reader's weights stay untouched). */
function copyModel(source: GPT, config: ModelConfig): GPT {
  const params = new Map<string, tf.Variable>();
  for (const [name, v] of source.params) params.set(name, tf.tidy(() => tf.variable(tf.clone(v), true)));
  return new GPT(config, params);
}

/** Times one plain n×n · n×n product after a warm-up run, waiting for the result. */
async function timeSquareMatmul(n: number): Promise<MatmulTime> {
  const a = tf.randomUniform([n, n], -1, 1, 'float32', 1);
  const b = tf.randomUniform([n, n], -1, 1, 'float32', 2);
  try {
    const warm = tf.matMul(a, b);
    await warm.data();
    warm.dispose();
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    await c.data();
    const seconds = (performance.now() - t0) / 1000;
    c.dispose();
    return { size: n, seconds, gflops: (2 * n ** 3) / seconds / 1e9 };
  } finally {
    tf.dispose([a, b]);
  }
}

/** What the WebGPU API of this browser (or worker) says about its adapter. */
async function describeWebGPU(): Promise<HardwareReport['webgpu']> {
  const gpu = typeof navigator !== 'undefined' ? (navigator as Navigator & { gpu?: GPU }).gpu : undefined;
  if (gpu == null) return { present: false, adapter: null, limits: {}, features: [], reason: 'no WebGPU here (navigator.gpu is missing)' };
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return { present: true, adapter: null, limits: {}, features: [], reason: `requestAdapter() failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (adapter == null) return { present: true, adapter: null, limits: {}, features: [], reason: 'WebGPU is here but offered no adapter' };
  const info: Partial<GPUAdapterInfo> = adapter.info ?? {};
  const legacy = adapter as GPUAdapter & { isFallbackAdapter?: boolean };
  const limits: Record<string, number> = {};
  // GPUSupportedLimits keeps its values as getters on its prototype: walk them with for…in.
  for (const key in adapter.limits) {
    const value = (adapter.limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') limits[key] = value;
  }
  const isFallbackAdapter = info.isFallbackAdapter ?? legacy.isFallbackAdapter ?? false;
  return {
    present: true,
    adapter: {
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      device: info.device ?? '',
      description: info.description ?? '',
      isFallbackAdapter,
    },
    limits,
    features: [...adapter.features].map(String).sort(),
    reason: isFallbackAdapter ? 'a software (fallback) adapter: correct but slow' : 'a hardware adapter',
  };
}
