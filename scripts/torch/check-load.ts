/**
 * The GPT Lab side of scripts/torch/check-graduate.sh, with the engine's own code:
 *
 *   npx tsx scripts/torch/check-load.ts bundle --checkpoint FILE --out EXPORT.tar [--corpus FILE] [--batch-size N]
 *     Builds the archive the Infrastructure chapter's export button downloads (buildPyTorchBundle,
 *     src/engine/jobs/infra.ts): the checkpoint re-saved with the validation loss the engine measures
 *     now, config.json, the text, scripts/torch/train_gpt_lab.py and README.txt.
 *
 *   npx tsx scripts/torch/check-load.ts load --checkpoint FILE [--corpus FILE] [--batch-size N]
 *     Reads a checkpoint as the lab's Import does (readCheckpoint, restoreRun) and measures its
 *     validation loss with the trainer's own evaluate().
 *
 * Each prints one JSON line. Moby-Dick is the text unless --corpus names another; the wasm backend.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCheckpoint } from '../../src/engine/checkpoint';
import { buildPyTorchBundle } from '../../src/engine/jobs/infra';
import { disposeRun, restoreRun, saveCheckpoint } from '../../src/engine/run';
import { DEFAULTS } from '../../src/gpt/config';
import { loadMobyDick } from '../lib/corpus-node';
import { parseFlags, parseNumberFlag, runMain, UsageError, writeFileAtomic } from '../lib/cli';
import { prepareNodeBackend } from '../lib/node-backends';

const HELP = `Usage: npx tsx scripts/torch/check-load.ts bundle|load --checkpoint FILE [--out FILE.tar] [--corpus FILE] [--batch-size N]`;
const HERE = path.dirname(fileURLToPath(import.meta.url));

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command !== 'bundle' && command !== 'load') throw new UsageError(`the first argument must be bundle or load\n${HELP}`);
  const f = parseFlags(
    { checkpoint: { type: 'string' }, out: { type: 'string' }, corpus: { type: 'string' }, 'batch-size': { type: 'string' } },
    HELP,
    rest,
  );
  if (!f) return;
  if (!f.checkpoint || !existsSync(f.checkpoint)) throw new UsageError(`--checkpoint: no file at ${f.checkpoint ?? '(missing)'}`);
  const text = f.corpus ? readFileSync(f.corpus, 'utf8') : loadMobyDick();
  const batchSize = parseNumberFlag('batch-size', f['batch-size'], true) ?? DEFAULTS.batchSize;
  const backend = await prepareNodeBackend('wasm');

  const bytes = new Uint8Array(readFileSync(f.checkpoint));
  const file = readCheckpoint(bytes); // every check the lab's Import makes
  const run = restoreRun(text, bytes, undefined, { batchSize });
  try {
    const valLoss = await run.trainer.evaluate();
    if (command === 'load') {
      process.stdout.write(
        JSON.stringify({ checkpoint: f.checkpoint, step: file.step, val_loss_in_file: file.valLoss ?? null, val_loss_gpt_lab: valLoss, batch_size: batchSize, backend }) + '\n',
      );
      return;
    }
    if (!f.out) throw new UsageError('bundle needs --out FILE.tar');
    const { bytes: tar, files } = buildPyTorchBundle({
      checkpoint: await saveCheckpoint(run, valLoss),
      hyperparameters: { ...run.hp },
      step: run.trainer.step,
      valLoss,
      text,
      corpusName: f.corpus ? path.basename(f.corpus) : 'Moby-Dick',
      script: readFileSync(path.join(HERE, 'train_gpt_lab.py'), 'utf8'),
      backend: 'wasm',
    });
    writeFileAtomic(f.out, tar);
    process.stdout.write(JSON.stringify({ out: f.out, bytes: tar.length, files, step: run.trainer.step, val_loss: valLoss, batch_size: batchSize, backend }) + '\n');
  } finally {
    disposeRun(run);
  }
}

runMain(main);
