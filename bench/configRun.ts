import type { Hyperparameters } from '../src/gpt/config';
import { checkBackendMemory } from '../src/engine/run';
import { describeRatioRow, describeTrainStepRow, ratioRow, trainStepRow, type BenchRow, type TrainStepRow, type TrainStepRowInput } from '../src/bench/rows';
import { benchTrainStep, type BenchPath } from './trainStep';

export interface ConfigRun {
  /** The preset's name, for the rows. */
  config: string;
  hp: Hyperparameters;
  paths: readonly BenchPath[];
  steps: number;
  warmup: number;
  /** What every row of this backend carries. */
  rowBase: Pick<TrainStepRowInput, 'backend' | 'env' | 'threads' | 'ceilingGflops' | 'device'>;
  /** A row as soon as it is measured, with its line for people. */
  emit: (row: BenchRow, line: string) => void;
  /** The config does not fit this backend's memory (checkBackendMemory), so nothing ran. */
  skipped: (reason: string) => void;
  /** A path that threw, and why; the other paths go on. */
  failed: (path: BenchPath, err: unknown) => void;
}

/**
 * One config's training step on the current backend, each path in turn, then their ratio: the loop
 * `npm run bench` runs in Node (scripts/bench.ts) and in the benchmark page's worker alike.
 */
export async function benchConfig(c: ConfigRun): Promise<void> {
  try {
    checkBackendMemory(c.hp);
  } catch (err) {
    c.skipped((err as Error).message);
    return;
  }
  const done = new Map<BenchPath, { row: TrainStepRow; rate: number }>();
  for (const path of c.paths) {
    let r: Awaited<ReturnType<typeof benchTrainStep>>;
    try {
      r = await benchTrainStep(c.hp, c.steps, c.warmup, path);
    } catch (err) {
      c.failed(path, err);
      continue;
    }
    const row = trainStepRow({ ...c.rowBase, path, config: c.config, batchSize: c.hp.batchSize, result: r });
    done.set(path, { row, rate: r.tokensPerSecond });
    c.emit(row, describeTrainStepRow(row, r.secondsPerStep));
  }
  const ref = done.get('reference');
  const fast = done.get('fast');
  const ratio = ratioRow(ref?.row, fast?.row, ref && fast ? { reference: ref.rate, fast: fast.rate } : undefined);
  if (ratio) c.emit(ratio, describeRatioRow(ratio));
}
