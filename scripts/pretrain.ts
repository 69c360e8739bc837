/**
 * npm run pretrain — builds the checkpoint that ships with the site (public/models/base.safetensors):
 * the `base` preset (4 layers, 4 heads, width 128, context 128) pre-trained on Moby-Dick.
 *
 * The recipe is fixed below, in two stages, so the same backend gives the same file twice:
 *   1. 800 steps from scratch, batch 48, warmup 200, learning rate 1e-3 → 1e-4 (seed 1);
 *   2. 800 steps from stage 1's weights with a fresh optimizer, warmup 100, 5e-4 → 5e-5 (seed 2).
 * The batch is larger than the preset's 12 because the run is made once, on the fastest machine at
 * hand; the checkpoint records only the model's shapes, which are the preset's.
 *
 * The shipped file was made with `--backend webgpu` on an NVIDIA H200 through Dawn in Node
 * (~17,500 tokens/s, about 10 minutes in all; scripts/device/ has the commands used there). Its
 * validation loss (base preset's validation set: 20 batches of 12 windows of 128) is 1.6165, and
 * PyTorch computes the same for the file (scripts/torch/eval_checkpoint.py). On this project's 2-core
 * machines `--backend wasm` (the default here) takes about two hours.
 *
 * Extra flags go to both stages (for example `--backend webgpu`).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const COMMON = ['--preset', 'base', '--batch-size', '48', '--steps', '800', '--eval-every', '200', '--backend', 'wasm'];
export const STAGE_1 = [...COMMON, '--seed', '1', '--warmup', '200', '--lr', '1e-3', '--min-lr', '1e-4'];
export const STAGE_2 = [...COMMON, '--seed', '2', '--warmup', '100', '--lr', '5e-4', '--min-lr', '5e-5'];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = path.join(root, '.pretrain');
const target = path.join(root, 'public', 'models', 'base.safetensors');
mkdirSync(work, { recursive: true });
mkdirSync(path.dirname(target), { recursive: true });
const extra = process.argv.slice(2);

function train(args: string[]): void {
  const result = spawnSync(process.execPath, [...process.execArgv, path.join(root, 'scripts', 'train.ts'), ...args, ...extra], {
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const stage1 = path.join(work, 'stage1.safetensors');
const stage2 = path.join(work, 'stage2.safetensors');
train([...STAGE_1, '--out', stage1]);
train([...STAGE_2, '--init', stage1, '--out', stage2]);
copyFileSync(stage2, target); // the weights only: the resume records stay in .pretrain/
process.stderr.write(`wrote ${path.relative(root, target)}\n`);
