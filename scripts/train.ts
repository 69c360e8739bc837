/**
 * npm run train -- --preset baby --steps 2000 --seed 1 --backend wasm --eval-every 250 --out model.safetensors --json
 *
 * Trains the GPT on Moby-Dick (or --corpus FILE) in Node. With --json, one JSON object per
 * evaluation: {"step","train_loss","val_loss","tokens_per_s","backend","path"} (`path`: the fast path where the
 * backend has its fused kernels, else the reference; see makeTrainer); without it, a progress bar.
 * --resume FILE continues from a checkpoint and the resume record beside it (FILE with
 * `.resume.safetensors` in place of `.safetensors`), on the same curve as an unbroken run.
 * --init FILE starts a new run (step 0, fresh optimizer, this command's schedule) from a checkpoint's weights.
 * --until K stops at step K (the schedule still runs to --steps), so a run can be split in two.
 * Ctrl-C saves and stops after the current step.
 */
import { existsSync, readFileSync } from 'node:fs';
import { type Hyperparameters, isPresetName, PRESETS, resolveHyperparameters } from '../src/gpt/config';
import { BACKEND_NAMES, type BackendName } from '../src/engine/backends';
import { disposeRun, restoreRun, type Run, saveCheckpoint, saveResume, startRun } from '../src/engine/run';
import { loadMobyDick } from './lib/corpus-node';
import { prepareNodeBackend } from './lib/node-backends';
import { FastTrainer } from '../src/train/fastTrainer';
import { parseFlags, parseNumberFlag, progressBar, runMain, UsageError, writeFileAtomic } from './lib/cli';

const HELP = `Usage: npm run train -- [options]
  --preset NAME       ${Object.keys(PRESETS).join(' | ')} (default baby)
  --steps N           length of the run and of the learning-rate schedule (default from preset: 2000)
  --until K           stop at step K (default: --steps)
  --seed N            seed of weights, batches and dropout (default 1)
  --backend NAME      cpu | wasm | webgpu (default wasm)
  --eval-every N      measure validation loss every N steps (default 250)
  --out FILE          write the checkpoint here (and FILE's .resume.safetensors beside it)
  --resume FILE       continue from a checkpoint and its resume record
  --init FILE         start a new run (step 0, fresh optimizer) from a checkpoint's weights
  --corpus FILE       train on this UTF-8 text file instead of Moby-Dick
  --lr X  --min-lr X  --warmup N  --batch-size N  --weight-decay X  --dropout X
  --layers N  --heads N  --width N  --context-length N
  --json              one JSON line per evaluation
  --help`;

export function resumePathFor(checkpoint: string): string {
  return checkpoint.replace(/(\.safetensors)?$/u, '.resume.safetensors');
}

async function main(): Promise<void> {
  const f = parseFlags(
    {
      preset: { type: 'string' },
      steps: { type: 'string' },
      until: { type: 'string' },
      seed: { type: 'string' },
      backend: { type: 'string' },
      'eval-every': { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'string' },
      init: { type: 'string' },
      corpus: { type: 'string' },
      lr: { type: 'string' },
      'min-lr': { type: 'string' },
      warmup: { type: 'string' },
      'batch-size': { type: 'string' },
      'weight-decay': { type: 'string' },
      dropout: { type: 'string' },
      layers: { type: 'string' },
      heads: { type: 'string' },
      width: { type: 'string' },
      'context-length': { type: 'string' },
      json: { type: 'boolean' },
    },
    HELP,
  );
  if (!f) return;
  const presetName = f.preset ?? 'baby';
  if (!isPresetName(presetName)) throw new UsageError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}, not ${JSON.stringify(presetName)}`);
  const backend = (f.backend ?? 'wasm') as BackendName;
  if (!BACKEND_NAMES.includes(backend) || backend === 'webgl') {
    throw new UsageError(`--backend must be cpu, wasm or webgpu in Node, not ${JSON.stringify(f.backend)}`);
  }
  const evalEvery = parseNumberFlag('eval-every', f['eval-every'], true) ?? 250;
  if (evalEvery < 1) throw new UsageError('--eval-every must be at least 1');
  const overrides: Partial<Hyperparameters> = {};
  const set = <K extends keyof Hyperparameters>(key: K, flag: string, integer: boolean) => {
    const v = parseNumberFlag(flag, (f as Record<string, string | undefined>)[flag], integer);
    if (v !== undefined) overrides[key] = v as Hyperparameters[K];
  };
  set('steps', 'steps', true);
  set('seed', 'seed', true);
  set('learningRate', 'lr', false);
  set('minLearningRate', 'min-lr', false);
  set('warmupSteps', 'warmup', true);
  set('batchSize', 'batch-size', true);
  set('weightDecay', 'weight-decay', false);
  set('dropout', 'dropout', false);
  set('layers', 'layers', true);
  set('heads', 'heads', true);
  set('width', 'width', true);
  set('contextLength', 'context-length', true);

  let text: string;
  if (f.corpus) {
    if (!existsSync(f.corpus)) throw new UsageError(`--corpus: no file at ${f.corpus}`);
    const bytes = readFileSync(f.corpus);
    text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  } else {
    text = loadMobyDick();
  }

  const backendLine = await prepareNodeBackend(backend);
  let run: Run;
  if (f.resume && f.init) throw new UsageError('--resume and --init exclude each other');
  const arch = ['layers', 'heads', 'width', 'contextLength', 'dropout'].filter((k) => k in overrides);
  if (f.init) {
    if (!existsSync(f.init)) throw new UsageError(`--init: no file at ${f.init}`);
    if (arch.length > 0) throw new UsageError(`--init keeps the checkpoint's architecture; drop ${arch.map((k) => '--' + k).join(', ')}`);
    run = restoreRun(text, new Uint8Array(readFileSync(f.init)), undefined, resolveHyperparameters(presetName, overrides));
    run.trainer.step = 0;
  } else if (f.resume) {
    if (!existsSync(f.resume)) throw new UsageError(`--resume: no file at ${f.resume}`);
    const resumePath = resumePathFor(f.resume);
    if (!existsSync(resumePath)) throw new UsageError(`--resume: the resume record ${resumePath} is missing (it is written beside every checkpoint)`);
    if (arch.length > 0) throw new UsageError(`--resume keeps the checkpoint's architecture; drop ${arch.map((k) => '--' + k).join(', ')}`);
    run = restoreRun(text, new Uint8Array(readFileSync(f.resume)), new Uint8Array(readFileSync(resumePath)), overrides);
  } else {
    const hp = resolveHyperparameters(presetName, overrides);
    run = startRun(text, hp);
  }
  const until = parseNumberFlag('until', f.until, true) ?? run.hp.steps;
  if (until <= run.trainer.step) throw new UsageError(`--until ${until}: the run is already at step ${run.trainer.step}`);

  if (!f.json) {
    process.stderr.write(
      `GPT Lab training on ${backendLine}\n` +
        `  ${run.hp.layers} layers, ${run.hp.heads} heads, width ${run.hp.width}, context ${run.hp.contextLength}, ` +
        `vocabulary ${run.hp.vocabSize}, batch ${run.hp.batchSize}; steps ${run.trainer.step} → ${until}; ` +
        `${run.trainer instanceof FastTrainer ? 'fast' : 'reference'} path\n`,
    );
  }

  const save = async (valLoss?: number) => {
    if (!f.out) return;
    writeFileAtomic(f.out, await saveCheckpoint(run, valLoss));
    writeFileAtomic(resumePathFor(f.out), await saveResume(run));
  };
  let interrupted = false;
  process.on('SIGINT', () => {
    interrupted = true;
    run.trainer.stop();
  });

  let lastLoss = NaN;
  const started = performance.now();
  try {
    while (run.trainer.step < until && !interrupted) {
      const from = run.trainer.step;
      const nextEval = Math.min(until, (Math.floor(from / evalEvery) + 1) * evalEvery);
      const t0 = performance.now();
      await run.trainer.run(nextEval - from, (r) => {
        lastLoss = r.trainLoss;
        if (!f.json) {
          const elapsed = (performance.now() - started) / 1000;
          process.stderr.write(
            `\r${progressBar(r.step, until)}  loss ${r.trainLoss.toFixed(4)}  ${r.tokensPerSecond.toFixed(0)} tok/s  ${elapsed.toFixed(0)} s `,
          );
        }
      });
      // Training steps only: evaluation and saving stay out of the rate.
      const path = run.trainer instanceof FastTrainer ? 'fast' : 'reference';
      const tokensPerSecond = ((run.trainer.step - from) * run.hp.batchSize * run.hp.contextLength) / ((performance.now() - t0) / 1000);
      const valLoss = await run.trainer.evaluate();
      await save(valLoss);
      const line = { step: run.trainer.step, train_loss: round(lastLoss), val_loss: round(valLoss), tokens_per_s: Math.round(tokensPerSecond), backend, path };
      if (f.json) process.stdout.write(JSON.stringify(line) + '\n');
      else process.stderr.write(`\n  step ${line.step}: train loss ${line.train_loss}, validation loss ${line.val_loss}, ${line.tokens_per_s} tokens/s\n`);
    }
    if (interrupted && !f.json) process.stderr.write(`\nstopped at step ${run.trainer.step}${f.out ? `; saved to ${f.out}` : ''}\n`);
  } finally {
    disposeRun(run);
  }
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

runMain(main);
