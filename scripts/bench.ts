/**
 * npm run bench -- --json
 *
 * Measures training steps of the GPT on every backend Node has here (cpu, wasm, and webgpu when a
 * WebGPU adapter is found), against the plain-matmul ceiling of the same backend in the same run.
 * Prints numbers; never passes or fails on them. With --json, one object per measurement:
 *   {"name":"train_step","path":"reference","backend","env":"node","threads","config","tokens_per_s",
 *    "gflops","ceiling_gflops","kernels_per_step"}
 */
import * as tf from '@tensorflow/tfjs';
import { isPresetName, PRESETS, resolveHyperparameters, type PresetName } from '../src/gpt/config';
import { BACKEND_NAMES, type BackendName } from '../src/engine/backends';
import { matmulCeiling } from '../bench/matmul';
import { benchTrainStep } from '../bench/trainStep';
import { prepareNodeBackend } from './lib/node-backends';
import { parseFlags, parseNumberFlag, runMain, UsageError } from './lib/cli';

/** Moby-Dick's vocabulary: the size every real run has. */
const VOCAB_SIZE = 89;
/** Timed steps per backend by default: the software GPU and the cpu backend are slow. */
const DEFAULT_STEPS: Record<BackendName, number> = { cpu: 3, wasm: 10, webgpu: 3, webgl: 10 };

const HELP = `Usage: npm run bench -- [--json] [--backends cpu,wasm,webgpu] [--configs baby,tiny] [--steps N]`;

async function main(): Promise<void> {
  const values = parseFlags(
    {
      json: { type: 'boolean' },
      backends: { type: 'string' },
      configs: { type: 'string' },
      steps: { type: 'string' },
    },
    HELP,
  );
  if (!values) return;
  const backends = (values.backends ?? 'cpu,wasm,webgpu').split(',').map((s) => s.trim()) as BackendName[];
  for (const b of backends) {
    if (!BACKEND_NAMES.includes(b) || b === 'webgl') throw new UsageError(`--backends: ${JSON.stringify(b)} is not a Node backend (cpu, wasm, webgpu)`);
  }
  const configs = (values.configs ?? 'baby').split(',').map((s) => s.trim());
  for (const c of configs) if (!isPresetName(c)) throw new UsageError(`--configs: ${JSON.stringify(c)} is not one of ${Object.keys(PRESETS).join(', ')}`);
  const steps = parseNumberFlag('steps', values.steps, true);
  if (steps !== undefined && steps < 1) throw new UsageError('--steps must be at least 1');
  const explicit = values.backends !== undefined;

  const log = (s: string) => {
    if (!values.json) process.stderr.write(s + '\n');
  };
  for (const backend of backends) {
    try {
      log(`\n${await prepareNodeBackend(backend)}`);
    } catch (e) {
      // Without --backends, a missing WebGPU adapter is a fact to report, not a failure.
      if (explicit) throw e;
      log(`${backend}: skipped (${(e as Error).message})`);
      continue;
    }
    const ceiling = await matmulCeiling();
    log(`  plain matmul: ${ceiling.tried.map((t) => `${t.size}² ${t.gflops.toFixed(1)} GFLOP/s in ${t.seconds.toFixed(2)} s`).join(', ')}`);
    for (const config of configs as PresetName[]) {
      const hp = resolveHyperparameters(config, { vocabSize: VOCAB_SIZE });
      const r = await benchTrainStep(hp, steps ?? DEFAULT_STEPS[backend]);
      const row = {
        name: 'train_step',
        path: 'reference',
        backend,
        env: 'node',
        threads: 1,
        config,
        tokens_per_s: Math.round(r.tokensPerSecond),
        gflops: round(r.gflops),
        ceiling_gflops: round(ceiling.gflops),
        ceiling_fraction: round(r.gflops / ceiling.gflops),
        kernels_per_step: r.kernelsPerStep,
      };
      if (values.json) process.stdout.write(JSON.stringify(row) + '\n');
      else
        log(
          `  ${config} training step: ${row.tokens_per_s} tokens/s, ${row.gflops} GFLOP/s ` +
            `(${(100 * row.ceiling_fraction).toFixed(1)}% of the ${row.ceiling_gflops} GFLOP/s ceiling), ` +
            `${row.kernels_per_step} ${backend === 'webgpu' ? 'GPU programs' : 'kernels'} per step, ${r.secondsPerStep.toFixed(3)} s per step`,
        );
    }
    tf.disposeVariables();
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

runMain(main);
