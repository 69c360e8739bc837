/**
 * The rows `npm run bench -- --json` prints (DESIGN.md's format), built in one place so that Node
 * (scripts/bench.ts) and the browser benchmark page (bench.html, src/bench/bench.worker.ts) print the
 * same keys in the same order. Pure: no tfjs, no DOM.
 */
import type { TrainStepResult } from '../../bench/trainStep';
import type { Agreement } from '../gpt/fast/agreement';

/**
 * Where a measurement ran: Node, or Chromium without or with cross-origin isolation (only an
 * isolated page gets SharedArrayBuffer, which threads need).
 */
export type BenchEnv = 'node' | 'chromium' | 'chromium-isolated';

export type BenchPathName = 'reference' | 'fast';

export interface TrainStepRow {
  name: 'train_step';
  path: BenchPathName;
  backend: string;
  env: BenchEnv;
  /** Threads the backend really started with (wasm's getThreadsCount), never the number asked for. */
  threads: number;
  config: string;
  batch_size: number;
  tokens_per_s: number;
  gflops: number;
  ceiling_gflops: number;
  ceiling_fraction: number;
  kernels_per_step: number;
  sync_kernels: number;
  device: string;
}

export interface RatioRow {
  name: 'train_step_ratio';
  backend: string;
  env: BenchEnv;
  threads: number;
  config: string;
  fast_over_reference: number;
}

/** `--check`: the fast path against the reference on one backend (src/gpt/fast/agreement.ts). */
export interface AgreementRow {
  name: 'fast_agreement';
  backend: string;
  env: BenchEnv;
  threads: number;
  config: string;
  loss_rel: number;
  grads_rel: number;
  worst_grad: string;
  grad_norm_rel: number;
  weights_after_step_abs: number;
  learning_rate: number;
}

export type BenchRow = TrainStepRow | RatioRow | AgreementRow;

export function agreementRow(m: { backend: string; env: BenchEnv; threads: number; config: string }, d: Agreement): AgreementRow {
  return {
    name: 'fast_agreement',
    backend: m.backend,
    env: m.env,
    threads: m.threads,
    config: m.config,
    loss_rel: d.loss,
    grads_rel: d.grads,
    worst_grad: d.worstGrad,
    grad_norm_rel: d.gradNorm,
    weights_after_step_abs: d.weightsAfterStep,
    learning_rate: d.learningRate,
  };
}

export function describeAgreementRow(row: AgreementRow): string {
  return (
    `  fast vs reference (${row.config}): loss ${row.loss_rel.toExponential(1)}, gradients ${row.grads_rel.toExponential(1)} (relative), ` +
    `weights after a step ${row.weights_after_step_abs.toExponential(1)}`
  );
}

export interface TrainStepRowInput {
  path: BenchPathName;
  backend: string;
  env: BenchEnv;
  threads: number;
  config: string;
  batchSize: number;
  result: Pick<TrainStepResult, 'tokensPerSecond' | 'gflops' | 'kernelsPerStep' | 'syncKernels'>;
  ceilingGflops: number;
  device: string;
}

export function trainStepRow(m: TrainStepRowInput): TrainStepRow {
  return {
    name: 'train_step',
    path: m.path,
    backend: m.backend,
    env: m.env,
    threads: m.threads,
    config: m.config,
    batch_size: m.batchSize,
    tokens_per_s: Math.round(m.result.tokensPerSecond),
    gflops: round(m.result.gflops),
    ceiling_gflops: round(m.ceilingGflops),
    ceiling_fraction: round(m.result.gflops / m.ceilingGflops),
    kernels_per_step: m.result.kernelsPerStep,
    sync_kernels: m.result.syncKernels,
    device: m.device,
  };
}

/**
 * The fast path over the reference, from the two rows of one (env, backend, threads, config), or
 * null unless both paths ran. Uses the unrounded rates when given.
 */
export function ratioRow(reference: TrainStepRow | undefined, fast: TrainStepRow | undefined, rates?: { reference: number; fast: number }): RatioRow | null {
  if (reference == null || fast == null) return null;
  const ratio = rates ? rates.fast / rates.reference : fast.tokens_per_s / reference.tokens_per_s;
  if (!Number.isFinite(ratio)) return null;
  return {
    name: 'train_step_ratio',
    backend: fast.backend,
    env: fast.env,
    threads: fast.threads,
    config: fast.config,
    fast_over_reference: round(ratio),
  };
}

/** One line for people (what the bench prints without --json). */
export function describeTrainStepRow(row: TrainStepRow, secondsPerStep: number): string {
  return (
    `  ${row.config} training step, ${row.path} path: ${row.tokens_per_s} tokens/s, ${row.gflops} GFLOP/s ` +
    `(${(100 * row.ceiling_fraction).toFixed(1)}% of the ${row.ceiling_gflops} GFLOP/s ceiling), ` +
    `${row.kernels_per_step} ${row.backend === 'webgpu' ? 'GPU programs' : 'kernels'} per step` +
    `${row.path === 'fast' ? ` (+${row.sync_kernels} per write-back, every 10 steps)` : ''}, ${secondsPerStep.toFixed(3)} s per step`
  );
}

export function describeRatioRow(row: RatioRow): string {
  return `  ${row.config}: fast path ${row.fast_over_reference}x the reference`;
}

export function round(x: number): number {
  return Math.round(x * 100) / 100;
}
