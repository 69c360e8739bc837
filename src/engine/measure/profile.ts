/**
 * A kernel profile of one training step of the reader's model, for the Frameworks chapter.
 *
 * The step runs on a *scratch* copy: a model with the same config whose variables start from the
 * reader's current weights (tfjs shares the buffers; an update gives the copy new ones and leaves
 * the originals alone), trained by its own AdamW with fresh moments. The reader's weights, optimizer
 * and step count are never touched. One warm-up step first (shaders compile, caches fill), then one
 * step under `tf.profile`, which records every kernel tfjs runs: its name, the shapes it made, the
 * bytes it added and — where the backend can time kernels — how long it took.
 */
import * as tf from '@tensorflow/tfjs';
import { modelConfigOf, type Hyperparameters } from '../../gpt/config';
import { GPT, type Params } from '../../gpt/model';
import { Rng } from '../../gpt/random';
import { batchAt, randomStarts, type Split } from '../../train/data';
import { Trainer } from '../../train/trainer';

export interface KernelRow {
  /** The tfjs kernel name: BatchMatMul, Softmax, Add, … */
  name: string;
  /** How many times the step ran it. */
  calls: number;
  /** Summed kernel time, in milliseconds (0 where the backend cannot time kernels). */
  timeMs: number;
  /** Summed bytes of the tensors it created. */
  bytesAdded: number;
  /** The distinct output shapes it produced (at most 4, most frequent first), e.g. "48×96". */
  outputShapes: string[];
  /**
   * Not a kernel but an operation with a custom gradient (tf.customGrad, as the model's fused
   * Linear): tfjs profiles it as a whole *and* profiles the kernels inside it, so its time and
   * memory are already counted in their rows. Kept out of the totals and the sort.
   */
  composite: boolean;
}

export interface ProfileReport {
  backend: string;
  /** Whether `timeMs` is measured: false on a WebGPU device without timestamp queries. */
  timed: boolean;
  /** What the times mean on this backend, in a sentence. */
  timingNote: string;
  /** Aggregated per kernel name, by time (by bytes when untimed), largest first; composite rows last. */
  kernels: KernelRow[];
  totals: {
    /** Kernel executions in the step (composite rows excluded, as in every total). */
    calls: number;
    distinctKernels: number;
    /** Sum of the kernel times. */
    timeMs: number;
    /** The profiled step's wall-clock time, read-back of the loss included. */
    wallMs: number;
    /** Tensors alive after the step that were not before it (the loss and the gradient norm it returns). */
    newTensors: number;
    newBytes: number;
    /** Most bytes tfjs held at any moment during the step. */
    peakBytes: number;
    bytesAdded: number;
  };
  /** The step's training loss (on the scratch copy, same weights as the reader's). */
  loss: number;
  config: { layers: number; heads: number; width: number; contextLength: number; batchSize: number; parameters: number };
}

/** Copies `params` into new variables (same values; the originals are never written). */
function copyParams(params: Params): Params {
  const out: Params = new Map();
  for (const [name, v] of params) out.set(name, tf.tidy(() => tf.variable(tf.clone(v), true)));
  return out;
}

const shapeText = (shape: number[]) => (shape.length === 0 ? 'scalar' : shape.join('×'));

/** Profiles one training step of a scratch copy of `params` under `hp`. */
export async function profileTrainingStep(params: Params, hp: Hyperparameters, split: Split, step: number): Promise<ProfileReport> {
  const model = new GPT(modelConfigOf(hp), copyParams(params));
  const trainer = new Trainer(model, split, hp);
  try {
    trainer.step = step; // the reader's learning rate at this step
    const rng = new Rng(hp.seed ^ 0x5eed);
    const batch = () => batchAt(split.train, randomStarts(rng, split.train.length, hp.contextLength, hp.batchSize), hp.contextLength);
    // Warm-up step: compile shaders, settle the memory pools.
    const warm = trainer.trainStep(batch());
    await warm[0].data();
    tf.dispose(warm);

    const profiled = batch();
    const t0 = performance.now();
    const info = await tf.profile(async () => {
      const [loss, norm] = trainer.trainStep(profiled);
      await loss.data();
      return [loss, norm];
    });
    const wallMs = performance.now() - t0;
    const [lossT, normT] = info.result as tf.Tensor[];
    const loss = (await lossT.data())[0];
    tf.dispose([lossT, normT]);

    const byName = new Map<string, { calls: number; timeMs: number; bytesAdded: number; shapes: Map<string, number> }>();
    let timed = false;
    for (const k of info.kernels) {
      const row = byName.get(k.name) ?? { calls: 0, timeMs: 0, bytesAdded: 0, shapes: new Map<string, number>() };
      row.calls += 1;
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      if (ms > 0) timed = true;
      row.timeMs += ms;
      row.bytesAdded += k.bytesAdded;
      for (const s of k.outputShapes) {
        const key = shapeText(s);
        row.shapes.set(key, (row.shapes.get(key) ?? 0) + 1);
      }
      byName.set(k.name, row);
    }
    const backend = tf.getBackend();
    const kernels: KernelRow[] = [...byName].map(([name, r]) => ({
      name,
      calls: r.calls,
      timeMs: r.timeMs,
      bytesAdded: r.bytesAdded,
      outputShapes: [...r.shapes].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([s]) => s),
      composite: tf.getKernel(name, backend) == null,
    }));
    kernels.sort(
      (a, b) =>
        Number(a.composite) - Number(b.composite) ||
        (timed ? b.timeMs - a.timeMs : 0) ||
        b.bytesAdded - a.bytesAdded ||
        a.name.localeCompare(b.name),
    );
    const counted = kernels.filter((k) => !k.composite);
    const timingNote = timed
      ? backend === 'webgpu' || backend === 'webgl'
        ? 'GPU time of each kernel, from the device’s timer queries.'
        : 'wall-clock time of each kernel on this thread.'
      : 'this device does not time GPU kernels (no timestamp queries), so the table is sorted by memory instead.';
    return {
      backend,
      timed,
      timingNote,
      kernels,
      totals: {
        calls: counted.reduce((s, k) => s + k.calls, 0),
        distinctKernels: counted.length,
        timeMs: counted.reduce((s, k) => s + k.timeMs, 0),
        wallMs,
        newTensors: info.newTensors,
        newBytes: info.newBytes,
        peakBytes: info.peakBytes,
        bytesAdded: counted.reduce((s, k) => s + k.bytesAdded, 0),
      },
      loss,
      config: {
        layers: hp.layers,
        heads: hp.heads,
        width: hp.width,
        contextLength: hp.contextLength,
        batchSize: hp.batchSize,
        parameters: [...params.values()].reduce((s, v) => s + v.size, 0),
      },
    };
  } finally {
    trainer.dispose();
    model.dispose();
  }
}
