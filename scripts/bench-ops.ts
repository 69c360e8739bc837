/**
 * npm run bench:ops -- [--backend wasm|webgpu|cpu] [--config baby] [--batch-size N] [--reps N] [--json]
 *
 * Where a fast-path training step's time goes: each fused operation (bench/ops.ts) timed alone at
 * the shapes of one step of the config, on one backend. One row per operation:
 *   {"name":"op_time","backend","config","op","per_step","ms","ms_per_step","gflops"}
 * (`gflops` for products only), then {"name":"op_total","ms_per_step"}: the sum over a step, which
 * the measured step time (npm run bench) can be held against. Prints numbers; passes or fails nothing.
 */
import { isPresetName, PRESETS, resolveHyperparameters } from '../src/gpt/config';
import { BACKEND_NAMES, type BackendName } from '../src/engine/backends';
import { benchOps } from '../bench/ops';
import { prepareNodeBackend } from './lib/node-backends';
import { parseFlags, parseNumberFlag, runMain, UsageError } from './lib/cli';

const HELP = 'Usage: npm run bench:ops -- [--backend wasm|webgpu|cpu] [--config baby] [--batch-size N] [--reps N] [--json]';

async function main(): Promise<void> {
  const f = parseFlags(
    { backend: { type: 'string' }, config: { type: 'string' }, 'batch-size': { type: 'string' }, reps: { type: 'string' }, json: { type: 'boolean' } },
    HELP,
  );
  if (!f) return;
  const backend = (f.backend ?? 'wasm') as BackendName;
  if (!BACKEND_NAMES.includes(backend) || backend === 'webgl') throw new UsageError(`--backend: ${JSON.stringify(f.backend)} is not cpu, wasm or webgpu`);
  const config = f.config ?? 'baby';
  if (!isPresetName(config)) throw new UsageError(`--config: ${JSON.stringify(config)} is not one of ${Object.keys(PRESETS).join(', ')}`);
  const batchSize = parseNumberFlag('batch-size', f['batch-size'], true);
  const reps = parseNumberFlag('reps', f.reps, true) ?? (backend === 'webgpu' ? 20 : 5);
  if (reps < 1) throw new UsageError('--reps must be at least 1');
  const device = await prepareNodeBackend(backend);
  const hp = resolveHyperparameters(config, { vocabSize: 89, ...(batchSize ? { batchSize } : {}) });
  if (!f.json) process.stderr.write(`${device}\n${config}, batch ${hp.batchSize}\n`);
  const times = await benchOps(hp, reps);
  let total = 0;
  for (const t of times) {
    const perStepMs = t.ms * t.perStep;
    total += perStepMs;
    const gflops = t.flop > 0 ? t.flop / t.ms / 1e6 : null;
    const row = { name: 'op_time', backend, config, op: t.op, per_step: t.perStep, ms: +t.ms.toFixed(4), ms_per_step: +perStepMs.toFixed(3), gflops: gflops && +gflops.toFixed(1) };
    if (f.json) console.log(JSON.stringify(row));
    else console.log(`${t.op.padEnd(44)} ×${String(t.perStep).padStart(2)}  ${t.ms.toFixed(3).padStart(9)} ms  ${gflops ? gflops.toFixed(1).padStart(8) + ' GFLOP/s' : ''}`);
  }
  const totalRow = { name: 'op_total', backend, config, batch_size: hp.batchSize, ms_per_step: +total.toFixed(2), device };
  if (f.json) console.log(JSON.stringify(totalRow));
  else console.log(`sum over one step: ${total.toFixed(1)} ms`);
}

runMain(main);
