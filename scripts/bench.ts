/**
 * npm run bench -- --json
 *
 * Measures training steps of the GPT on every backend Node has here (cpu, wasm, and webgpu when a
 * WebGPU adapter is found), against the plain-matmul ceiling of the same backend in the same run.
 * Both paths run in the same process, one after the other on the same backend: `reference`
 * (src/gpt/model.ts with Trainer) and `fast` (src/gpt/fast with FastTrainer).
 * Then the same in Chromium (scripts/lib/browser-bench.ts: the built site's bench.html, wasm without
 * and with cross-origin isolation, webgpu with --enable-unsafe-webgpu); `--envs node` or
 * `--envs chromium` runs one of the two.
 * Prints numbers; never passes or fails on them. With --json, one object per measurement
 * (src/bench/rows.ts builds them for both):
 *   {"name":"train_step","path":"reference"|"fast","backend","env":"node"|"chromium"|"chromium-isolated","threads",
 *    "config","batch_size","tokens_per_s","gflops","ceiling_gflops","ceiling_fraction","kernels_per_step","sync_kernels","device"}
 * then, when both paths ran, {"name":"train_step_ratio","backend","env","threads","config","fast_over_reference"}.
 * `kernels_per_step` counts GPU programs on webgpu (kernels on cpu and wasm) of one step as training
 * runs it between reports; `sync_kernels` is the fast path's write-back of the parameters, once per
 * report (every 10 steps; included in the timing).
 */
import * as tf from '@tensorflow/tfjs';
import { isPresetName, PRESETS, resolveHyperparameters, type PresetName } from '../src/gpt/config';
import { BACKEND_NAMES, type BackendName } from '../src/engine/backends';
import { matmulCeiling } from '../bench/matmul';
import type { BenchPath } from '../bench/trainStep';
import { benchConfig } from '../bench/configRun';
import { agreementHyperparameters, fastAgreement } from '../src/gpt/fast/agreement';
import { agreementRow, describeAgreementRow } from '../src/bench/rows';
import { runBrowserBench } from './lib/browser-bench';
import { prepareNodeBackend } from './lib/node-backends';
import { parseFlags, parseNumberFlag, runMain, UsageError } from './lib/cli';

/** Moby-Dick's vocabulary: the size every real run has. */
const VOCAB_SIZE = 89;
/** Timed steps per backend by default: the software GPU and the cpu backend are slow. */
const DEFAULT_STEPS: Record<BackendName, number> = { cpu: 3, wasm: 10, webgpu: 3, webgl: 10 };

const HELP =
  'Usage: npm run bench -- [--json] [--backends cpu,wasm,webgpu] [--configs baby,tiny] [--paths reference,fast] ' +
  '[--steps N] [--warmup N] [--batch-size N] [--check] [--envs node,chromium] [--threads N]\n' +
  '  --warmup   untimed steps before the clock starts (default 2; compiles shaders, lets WebAssembly tier up)\n' +
  '  --check    before timing, compare the fast path with the reference on each backend (tiny model) and print the differences (Node and Chromium)\n' +
  '  --envs     where to measure: node, chromium (the built site in system Chromium; default both). In Chromium,\n' +
  '             wasm runs without and with cross-origin isolation, webgpu with --enable-unsafe-webgpu; webgl is\n' +
  '             Chromium only; without --backends, Chromium measures wasm and webgpu\n' +
  '  --threads  Chromium wasm: threads to ask tfjs for (rows report the threads that started)';
const PATHS: readonly BenchPath[] = ['reference', 'fast'];

async function main(): Promise<void> {
  const values = parseFlags(
    {
      json: { type: 'boolean' },
      backends: { type: 'string' },
      configs: { type: 'string' },
      steps: { type: 'string' },
      paths: { type: 'string' },
      'batch-size': { type: 'string' },
      warmup: { type: 'string' },
      check: { type: 'boolean' },
      envs: { type: 'string' },
      threads: { type: 'string' },
    },
    HELP,
  );
  if (!values) return;
  const envs = (values.envs ?? 'node,chromium').split(',').map((s) => s.trim());
  for (const e of envs) if (e !== 'node' && e !== 'chromium') throw new UsageError(`--envs: ${JSON.stringify(e)} is not one of node, chromium`);
  const backends = (values.backends ?? 'cpu,wasm,webgpu').split(',').map((s) => s.trim()) as BackendName[];
  for (const b of backends) {
    if (!BACKEND_NAMES.includes(b) || (b === 'webgl' && envs.includes('node'))) {
      throw new UsageError(`--backends: ${JSON.stringify(b)} is not a Node backend (cpu, wasm, webgpu; webgl with --envs chromium)`);
    }
  }
  const configs = (values.configs ?? 'baby').split(',').map((s) => s.trim());
  for (const c of configs) if (!isPresetName(c)) throw new UsageError(`--configs: ${JSON.stringify(c)} is not one of ${Object.keys(PRESETS).join(', ')}`);
  const paths = (values.paths ?? 'reference,fast').split(',').map((s) => s.trim()) as BenchPath[];
  for (const p of paths) if (!PATHS.includes(p)) throw new UsageError(`--paths: ${JSON.stringify(p)} is not one of ${PATHS.join(', ')}`);
  const steps = parseNumberFlag('steps', values.steps, true);
  if (steps !== undefined && steps < 1) throw new UsageError('--steps must be at least 1');
  const warmup = parseNumberFlag('warmup', values.warmup, true) ?? 2;
  if (warmup < 0) throw new UsageError('--warmup must be 0 or more');
  const batchSize = parseNumberFlag('batch-size', values['batch-size'], true);
  if (batchSize !== undefined && batchSize < 1) throw new UsageError('--batch-size must be at least 1');
  const threads = parseNumberFlag('threads', values.threads, true);
  if (threads !== undefined && threads < 1) throw new UsageError('--threads must be at least 1');
  const explicit = values.backends !== undefined;

  const log = (s: string) => {
    if (!values.json) process.stderr.write(s + '\n');
  };
  for (const backend of envs.includes('node') ? backends : []) {
    let device: string;
    try {
      device = await prepareNodeBackend(backend);
      log(`\n${device}`);
    } catch (e) {
      // Without --backends, a missing WebGPU adapter is a fact to report, not a failure.
      if (explicit) throw e;
      log(`${backend}: skipped (${(e as Error).message})`);
      continue;
    }
    if (values.check) {
      const row = agreementRow({ backend, env: 'node', threads: 1, config: 'tiny' }, await fastAgreement(agreementHyperparameters()));
      if (values.json) process.stdout.write(JSON.stringify(row) + '\n');
      else log(describeAgreementRow(row));
    }
    const ceiling = await matmulCeiling();
    log(`  plain matmul: ${ceiling.tried.map((t) => `${t.size}² ${t.gflops.toFixed(1)} GFLOP/s in ${t.seconds.toFixed(2)} s`).join(', ')}`);
    for (const config of configs as PresetName[]) {
      await benchConfig({
        config,
        hp: resolveHyperparameters(config, { vocabSize: VOCAB_SIZE, ...(batchSize ? { batchSize } : {}) }),
        paths,
        steps: steps ?? DEFAULT_STEPS[backend],
        warmup,
        rowBase: { backend, env: 'node', threads: 1, ceilingGflops: ceiling.gflops, device },
        emit: (row, line) => (values.json ? process.stdout.write(JSON.stringify(row) + '\n') : log(line)),
        // Printed even with --json: a row that cannot run here is a fact about this backend.
        skipped: (reason) => process.stderr.write(`${backend} ${config}: skipped: ${reason}\n`),
        failed: (_path, err) => {
          throw err;
        },
      });
    }
    tf.disposeVariables();
  }

  if (envs.includes('chromium')) {
    // Without --backends, Chromium measures wasm (both ways) and webgpu; Node has covered cpu.
    const inBrowser = values.backends === undefined ? backends.filter((b) => b !== 'cpu') : backends;
    await runBrowserBench({
      backends: inBrowser,
      configs,
      paths,
      stepsFor: (backend) => steps ?? DEFAULT_STEPS[backend],
      batchSize,
      warmup,
      threads,
      check: Boolean(values.check),
      emit: (row) => {
        if (values.json) process.stdout.write(JSON.stringify(row) + '\n');
      },
      log,
      warn: (line) => process.stderr.write(line + '\n'),
      optional: values.envs === undefined,
    });
  }
}

runMain(main);
