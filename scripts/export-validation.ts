/**
 * Writes the corpus and the fixed validation windows to files, so that a PyTorch script
 * (scripts/torch/eval_checkpoint.py, train_reference.py) measures validation loss on exactly the
 * windows the engine uses.
 *
 *   npx tsx scripts/export-validation.ts --context 64 --batch 12 --out-dir DIR
 *
 * DIR/corpus.txt   the corpus string, UTF-8, exactly as loadMobyDick() returns it
 * DIR/windows.json a list of VALIDATION_BATCHES lists of window starts into the validation tokens
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CharTokenizer } from '../src/gpt/tokenizer';
import { splitTokens, validationStarts } from '../src/train/data';
import { loadMobyDick } from './lib/corpus-node';

function positiveInt(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer, got ${JSON.stringify(value)}`);
    process.exit(2);
  }
  return n;
}

const { values } = parseArgs({
  options: {
    context: { type: 'string', default: '64' },
    batch: { type: 'string', default: '12' },
    'out-dir': { type: 'string' },
  },
});
if (!values['out-dir']) {
  console.error('usage: npx tsx scripts/export-validation.ts --context 64 --batch 12 --out-dir DIR');
  process.exit(2);
}
const contextLength = positiveInt('context', values.context);
const batchSize = positiveInt('batch', values.batch);
const outDir = values['out-dir'];

const text = loadMobyDick();
const tokenizer = CharTokenizer.fromText(text);
const { val } = splitTokens(tokenizer.encode(text).ids);
const windows = validationStarts(val.length, batchSize, contextLength);

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'corpus.txt'), text, 'utf8');
writeFileSync(join(outDir, 'windows.json'), JSON.stringify(windows) + '\n', 'utf8');
console.log(
  JSON.stringify({
    out_dir: outDir,
    characters: [...text].length,
    vocabulary: tokenizer.size,
    val_tokens: val.length,
    batches: windows.length,
    batch_size: batchSize,
    context_length: contextLength,
  }),
);
