/**
 * npm run soak -- [--steps 10000] [--every 500] [--preset tiny] [--dropout 0.1]
 *
 * A leak test: trains a tiny GPT on Moby-Dick on the `cpu` backend in Node for many steps (with the
 * validation pass and a short sample in each window, the other paths a long session runs), reading
 * `tf.memory()` every `--every` steps. Prints one JSON line per reading,
 *   {"step","num_tensors","num_bytes","loss","val_loss","seconds"}
 * then a summary line {"summary":…}. Exits 1 if the tensor count or the bytes grew between the first
 * reading after warm-up (the first window: the optimizer's moments and any lazily made constants
 * exist by then) and the last one; exit 2 on a usage error.
 */
import * as tf from '@tensorflow/tfjs';
import { isPresetName, PRESETS, resolveHyperparameters, type PresetName } from '../src/gpt/config';
import { disposeRun, startRun } from '../src/engine/run';
import { generate } from '../src/gpt/sample';
import { loadMobyDick } from './lib/corpus-node';
import { prepareNodeBackend } from './lib/node-backends';
import { parseFlags, parseNumberFlag, runMain, UsageError } from './lib/cli';

const HELP = `Usage: npm run soak -- [--steps N] [--every N] [--preset tiny] [--dropout P]
  --steps N     training steps (default 10000)
  --every N     read tf.memory() every N steps (default 500)
  --preset P    the model size (default tiny)
  --dropout P   dropout rate (default 0.1, so the dropout path runs too)
  --help`;

interface Reading {
  step: number;
  num_tensors: number;
  num_bytes: number;
  loss: number;
  val_loss: number;
  seconds: number;
}

async function main(): Promise<void> {
  const values = parseFlags(
    {
      steps: { type: 'string' },
      every: { type: 'string' },
      preset: { type: 'string' },
      dropout: { type: 'string' },
    },
    HELP,
  );
  if (!values) return;
  const steps = parseNumberFlag('steps', values.steps, true) ?? 10_000;
  const every = parseNumberFlag('every', values.every, true) ?? 500;
  const dropout = parseNumberFlag('dropout', values.dropout, false) ?? 0.1;
  if (every < 1) throw new UsageError('--every must be at least 1');
  if (steps < 2 * every) throw new UsageError(`--steps must be at least twice --every (${2 * every}): one window warms up, the next is compared`);
  const preset = values.preset ?? 'tiny';
  if (!isPresetName(preset)) throw new UsageError(`--preset: ${JSON.stringify(preset)} is not one of ${Object.keys(PRESETS).join(', ')}`);

  process.stderr.write(`${await prepareNodeBackend('cpu')}\n`);
  const run = startRun(loadMobyDick(), resolveHyperparameters(preset as PresetName, { steps, dropout, seed: 1 }));
  process.stderr.write(
    `soak: ${preset} (${run.hp.layers} layers, width ${run.hp.width}, context ${run.hp.contextLength}, batch ${run.hp.batchSize}, ` +
      `dropout ${run.hp.dropout}), ${steps} steps, tf.memory() every ${every}\n`,
  );
  const readings: Reading[] = [];
  const started = performance.now();
  try {
    while (run.trainer.step < steps) {
      let loss = NaN;
      await run.trainer.run(Math.min(every, steps - run.trainer.step), (r) => {
        loss = r.trainLoss;
      }, 50);
      const valLoss = await run.trainer.evaluate();
      // A short sample, as the lab's 'Sample now' does: generation must free what it makes too.
      await generate(run.model, Array.from(run.tokenizer.encode('Call me ').ids), 16, { seed: run.trainer.step });
      const m = tf.memory();
      const reading: Reading = {
        step: run.trainer.step,
        num_tensors: m.numTensors,
        num_bytes: m.numBytes,
        loss: Math.round(loss * 1e4) / 1e4,
        val_loss: Math.round(valLoss * 1e4) / 1e4,
        seconds: Math.round((performance.now() - started) / 100) / 10,
      };
      readings.push(reading);
      process.stdout.write(JSON.stringify(reading) + '\n');
    }
  } finally {
    disposeRun(run);
  }
  const base = readings[0];
  const last = readings[readings.length - 1];
  const maxTensors = Math.max(...readings.map((r) => r.num_tensors));
  const maxBytes = Math.max(...readings.map((r) => r.num_bytes));
  const leftAfterDispose = tf.memory();
  const flat = last.num_tensors <= base.num_tensors && last.num_bytes <= base.num_bytes;
  const summary = {
    steps: last.step,
    backend: tf.getBackend(),
    baseline_step: base.step,
    baseline_tensors: base.num_tensors,
    baseline_bytes: base.num_bytes,
    final_tensors: last.num_tensors,
    final_bytes: last.num_bytes,
    max_tensors: maxTensors,
    max_bytes: maxBytes,
    after_dispose_tensors: leftAfterDispose.numTensors,
    after_dispose_bytes: leftAfterDispose.numBytes,
    first_loss: base.loss,
    final_loss: last.loss,
    final_val_loss: last.val_loss,
    seconds: last.seconds,
    flat,
  };
  process.stdout.write(JSON.stringify({ summary }) + '\n');
  if (!flat) {
    throw new Error(
      `tf.memory() grew: ${base.num_tensors} → ${last.num_tensors} tensors, ${base.num_bytes} → ${last.num_bytes} bytes ` +
        `between step ${base.step} and step ${last.step}`,
    );
  }
}

runMain(main);
