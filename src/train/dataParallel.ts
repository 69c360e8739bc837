import * as tf from '@tensorflow/tfjs';
import type { GPT } from '../gpt/model';
import { AdamW, type AdamWSettings } from './adamw';
import type { Batch } from './data';

/**
 * Data-parallel training, simulated: N virtual workers in one process, each with a copy of the
 * same weights and a shard of the batch. Each computes the gradient of the loss on its shard; a
 * ring all-reduce then sums their flat gradient buffers, chunk by chunk between neighbours, exactly
 * as NCCL or Gloo would between GPUs; every worker ends with the same averaged gradient and takes
 * the same optimizer step. The point to see: that step equals the step of one worker on the whole
 * batch, up to float32 rounding, while each worker sent only 2·(N−1)/N of the gradient's bytes.
 *
 * Glossary: N workers, P parameters (the length of a flat gradient buffer), B windows in the batch,
 * n_k windows in worker k's shard (Σ n_k = B).
 */

/** One message of the ring: in `step`, worker `from` sends chunk `chunk` to worker `to`. */
export interface RingMessage {
  phase: 'reduce-scatter' | 'all-gather';
  step: number;
  from: number;
  to: number;
  chunk: number;
  bytes: number;
}

export interface RingStats {
  workers: number;
  /** Values in each buffer (P). */
  length: number;
  /** Chunk c covers [chunkStarts[c], chunkStarts[c + 1]) of every buffer; N + 1 entries. */
  chunkStarts: number[];
  /** Communication rounds: N−1 of reduce-scatter, then N−1 of all-gather. */
  rounds: number;
  /** Bytes each worker sent (it receives as many from its other neighbour). */
  bytesSentPerWorker: number[];
  totalBytes: number;
  /** 2·(N−1)/N · P · 4: what each worker sends when N divides P (within one chunk otherwise). */
  expectedBytesPerWorker: number;
  /** Every message, in order; omitted unless asked for (it has 2·N·(N−1) entries). */
  messages?: RingMessage[];
}

const FLOAT_BYTES = 4;

/** Bytes each worker sends in a ring all-reduce of `values` float32 values among `workers`. */
export function ringBytesPerWorker(values: number, workers: number, bytesPerValue = FLOAT_BYTES): number {
  return workers <= 1 ? 0 : ((2 * (workers - 1)) / workers) * values * bytesPerValue;
}

/**
 * Ring all-reduce, in place: afterwards every buffer holds the element-wise sum of all of them.
 *
 * The buffers are cut into N chunks (as even as P allows). Worker i talks only to its neighbours:
 * it sends to i+1 and receives from i−1.
 * - Reduce-scatter, N−1 rounds: in round s worker i sends chunk (i − s) mod N; the receiver adds
 *   it into its own copy of that chunk. After the last round worker i holds the complete sum of
 *   chunk (i + 1) mod N.
 * - All-gather, N−1 rounds: in round s worker i sends chunk (i + 1 − s) mod N, complete now; the
 *   receiver overwrites its copy. Afterwards every worker has every complete chunk.
 * In every round all N workers send at once, one chunk each, so a round moves P values in all and
 * takes the time of one chunk on one link: the total time does not grow with N.
 */
export function ringAllReduce(buffers: Float32Array[], options: { trace?: boolean } = {}): RingStats {
  const N = buffers.length;
  if (N === 0) throw new Error('the ring needs at least one worker');
  const P = buffers[0].length;
  for (const [k, b] of buffers.entries()) {
    if (b.length !== P) throw new Error(`worker ${k}'s buffer has ${b.length} values, worker 0's has ${P}`);
  }
  const chunkStarts = Array.from({ length: N + 1 }, (_, c) => Math.floor((c * P) / N));
  const bytesSentPerWorker = new Array<number>(N).fill(0);
  const messages: RingMessage[] = [];
  const mod = (a: number) => ((a % N) + N) % N;

  const round = (phase: RingMessage['phase'], step: number, chunkOf: (i: number) => number, combine: 'add' | 'copy') => {
    // Everybody sends at the same time: take the outgoing chunks (copies, as a network would)
    // before anyone applies what they received.
    const outgoing = buffers.map((buf, i) => {
      const c = chunkOf(i);
      return { c, data: buf.slice(chunkStarts[c], chunkStarts[c + 1]) };
    });
    outgoing.forEach(({ c, data }, i) => {
      const to = mod(i + 1);
      const target = buffers[to];
      const start = chunkStarts[c];
      if (combine === 'add') for (let j = 0; j < data.length; j++) target[start + j] += data[j];
      else target.set(data, start);
      const bytes = data.length * FLOAT_BYTES;
      bytesSentPerWorker[i] += bytes;
      if (options.trace) messages.push({ phase, step, from: i, to, chunk: c, bytes });
    });
  };

  for (let s = 0; s < N - 1; s++) round('reduce-scatter', s, (i) => mod(i - s), 'add');
  for (let s = 0; s < N - 1; s++) round('all-gather', s, (i) => mod(i + 1 - s), 'copy');

  const stats: RingStats = {
    workers: N,
    length: P,
    chunkStarts,
    rounds: 2 * (N - 1),
    bytesSentPerWorker,
    totalBytes: bytesSentPerWorker.reduce((a, b) => a + b, 0),
    expectedBytesPerWorker: ringBytesPerWorker(P, N),
  };
  if (options.trace) stats.messages = messages;
  return stats;
}

/** Sizes of N shards of B windows, as even as possible (the first B mod N get one more). */
export function shardSizes(batchSize: number, workers: number): number[] {
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError('The number of workers must be a whole number ≥ 1.');
  if (batchSize < workers) throw new RangeError(`${workers} workers need a batch of at least ${workers} windows; this one has ${batchSize}.`);
  return Array.from({ length: workers }, (_, k) => Math.floor(batchSize / workers) + (k < batchSize % workers ? 1 : 0));
}

/** Windows [from, from + count) of a batch. */
function shardOf(batch: Batch, from: number, count: number): Batch {
  const T = batch.contextLength;
  return {
    x: batch.x.slice(from * T, (from + count) * T),
    y: batch.y.slice(from * T, (from + count) * T),
    batchSize: count,
    contextLength: T,
  };
}

/**
 * The loss on `batch` and its gradient with respect to every parameter, concatenated in the
 * model's parameter order into one flat buffer (what DDP calls a bucket, here one for the whole
 * model). Dropout is off: a shard and the whole batch must see the same function.
 */
export async function flatGradient(model: GPT, batch: Batch): Promise<{ loss: number; gradient: Float32Array }> {
  const vars = [...model.params.values()];
  const { value, grads } = tf.tidy(() => {
    const x = tf.tensor2d(batch.x, [batch.batchSize, batch.contextLength], 'int32');
    const y = tf.tensor2d(batch.y, [batch.batchSize, batch.contextLength], 'int32');
    return tf.variableGrads(() => model.loss(x, y), vars);
  });
  try {
    const loss = (await value.data())[0];
    return { loss, gradient: await flatten(vars.map((v) => grads[v.name])) };
  } finally {
    tf.dispose([value, ...Object.values(grads)]);
  }
}

/**
 * The values of `tensors`, one after another, in one Float32Array. Read one by one rather than
 * through one tf.concat: WebGPU caps the buffers a single kernel may bind.
 */
async function flatten(tensors: tf.Tensor[]): Promise<Float32Array> {
  const out = new Float32Array(tensors.reduce((a, t) => a + t.size, 0));
  let offset = 0;
  for (const t of tensors) {
    out.set((await t.data()) as Float32Array, offset);
    offset += t.size;
  }
  return out;
}

/** Agreement of two buffers: largest absolute difference and ‖a − b‖ / ‖b‖. */
export interface Difference {
  maxAbs: number;
  relative: number;
  /** ‖b‖, the size of what is compared. */
  norm: number;
}

export function difference(a: Float32Array, b: Float32Array): Difference {
  if (a.length !== b.length) throw new Error(`cannot compare ${a.length} values with ${b.length}`);
  let maxAbs = 0;
  let diff2 = 0;
  let norm2 = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    maxAbs = Math.max(maxAbs, Math.abs(d));
    diff2 += d * d;
    norm2 += b[i] * b[i];
  }
  const norm = Math.sqrt(norm2);
  return { maxAbs, relative: norm > 0 ? Math.sqrt(diff2) / norm : Math.sqrt(diff2), norm };
}

export interface WorkerReport {
  worker: number;
  /** Windows in this worker's shard. */
  windows: number;
  /** Mean loss on its shard. */
  loss: number;
  bytesSent: number;
}

export interface DataParallelResult {
  workers: number;
  batchSize: number;
  contextLength: number;
  parameters: number;
  /** Bytes of one flat float32 gradient (P · 4). */
  gradientBytes: number;
  perWorker: WorkerReport[];
  /** Mean loss on the whole batch (one worker). */
  singleLoss: number;
  /** The shards' losses averaged with their weights n_k / B: the same number, computed in pieces. */
  parallelLoss: number;
  ring: RingStats;
  /** All-reduced gradient against the single-batch gradient. */
  gradient: Difference;
  /** Weights after one AdamW step from each gradient, compared as updates (new − old). */
  update: Difference;
  /** True when both differences are within float32 tolerance (relative 1e-4 for the gradient, 1e-3 for the update). */
  equal: boolean;
}

export interface DataParallelOptions {
  workers: number;
  /** The optimizer step both sides take (fresh AdamW moments, so the two start alike). */
  learningRate: number;
  optimizer: AdamWSettings;
  /** Keep the ring's message list (for drawing it). */
  trace?: boolean;
  /** Called after each worker's gradient and at each later phase; may be async. */
  onProgress?: (p: { phase: 'worker' | 'single' | 'all-reduce' | 'update'; worker?: number }) => void | Promise<void>;
  /** Checked between workers; throwing from it (a cancelled job) stops the simulation. */
  checkCancelled?: () => void;
}

/** Tolerances for calling two float32 results equal (summation order differs between the two paths). */
export const GRADIENT_TOLERANCE = 1e-4;
export const UPDATE_TOLERANCE = 1e-3;

/**
 * One data-parallel step on `model` with `batch`, against the same step on the whole batch.
 * The model's weights are the same afterwards as before (both steps are undone).
 *
 * Worker k scales its shard's gradient by n_k / B before the all-reduce, so that the sum is the
 * gradient of the mean loss over the whole batch even when the shards are uneven (with equal
 * shards this is the familiar "sum, then divide by N").
 */
export async function dataParallelStep(model: GPT, batch: Batch, opts: DataParallelOptions): Promise<DataParallelResult> {
  const sizes = shardSizes(batch.batchSize, opts.workers);
  const N = sizes.length;
  const B = batch.batchSize;
  const check = opts.checkCancelled ?? (() => undefined);

  const buffers: Float32Array[] = [];
  const losses: number[] = [];
  let from = 0;
  for (let k = 0; k < N; k++) {
    check();
    const { loss, gradient } = await flatGradient(model, shardOf(batch, from, sizes[k]));
    from += sizes[k];
    const share = sizes[k] / B;
    for (let i = 0; i < gradient.length; i++) gradient[i] *= share;
    buffers.push(gradient);
    losses.push(loss);
    await opts.onProgress?.({ phase: 'worker', worker: k });
  }
  check();
  const single = await flatGradient(model, batch);
  await opts.onProgress?.({ phase: 'single' });

  const ring = ringAllReduce(buffers, { trace: opts.trace });
  await opts.onProgress?.({ phase: 'all-reduce' });
  // Every worker holds the same sum now (the all-gather copied it): worker 0's stands for all.
  const reduced = buffers[0];
  for (let k = 1; k < N; k++) {
    const d = difference(buffers[k], reduced);
    if (d.maxAbs !== 0) throw new Error(`after the all-reduce worker ${k} disagrees with worker 0 (by ${d.maxAbs})`);
  }

  check();
  const parallelUpdate = await updateFrom(model, reduced, opts);
  const singleUpdate = await updateFrom(model, single.gradient, opts);
  await opts.onProgress?.({ phase: 'update' });

  const gradient = difference(reduced, single.gradient);
  const update = difference(parallelUpdate, singleUpdate);
  const P = single.gradient.length;
  return {
    workers: N,
    batchSize: B,
    contextLength: batch.contextLength,
    parameters: P,
    gradientBytes: P * FLOAT_BYTES,
    perWorker: sizes.map((windows, k) => ({ worker: k, windows, loss: losses[k], bytesSent: ring.bytesSentPerWorker[k] })),
    singleLoss: single.loss,
    parallelLoss: losses.reduce((a, l, k) => a + (l * sizes[k]) / B, 0),
    ring,
    gradient,
    update,
    equal: gradient.relative <= GRADIENT_TOLERANCE && update.relative <= UPDATE_TOLERANCE,
  };
}

/**
 * The change one AdamW step (fresh moments, the lab's optimizer with clipping and weight decay)
 * makes to the weights given the flat gradient `flat`; the weights are put back afterwards.
 */
async function updateFrom(model: GPT, flat: Float32Array, opts: DataParallelOptions): Promise<Float32Array> {
  const vars = [...model.params.values()];
  const before = await flatten(vars);
  const saved = vars.map((v) => tf.clone(v));
  const optimizer = new AdamW(model.params, opts.optimizer);
  try {
    const grads: tf.NamedTensorMap = {};
    let offset = 0;
    for (const v of vars) {
      grads[v.name] = tf.tensor(flat.subarray(offset, offset + v.size), v.shape, 'float32');
      offset += v.size;
    }
    if (offset !== flat.length) throw new Error(`the gradient has ${flat.length} values, the model ${offset}`);
    try {
      optimizer.apply(grads, opts.learningRate).dispose();
    } finally {
      tf.dispose(Object.values(grads));
    }
    const after = await flatten(vars);
    for (let i = 0; i < after.length; i++) after[i] -= before[i];
    return after;
  } finally {
    vars.forEach((v, i) => v.assign(saved[i]));
    tf.dispose(saved);
    optimizer.dispose();
  }
}
