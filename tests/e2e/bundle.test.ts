/**
 * The main bundle — the entry script index.html loads and every chunk it imports statically — holds
 * no tfjs: tfjs and its backends load in the engine worker alone.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, inject, it } from 'vitest';

/** Strings minification keeps in tfjs (kernel names, its error text); none belongs in app code. */
const TFJS_MARKERS = ['tfjs-core', 'registerKernel', '@tensorflow', 'BatchMatMul', '_FusedMatMul', 'FusedConv2D', 'kernelName'];

describe('the main bundle', () => {
  it('holds no tfjs', () => {
    const dir = inject('buildDir');
    const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
    const entry = /<script[^>]+type="module"[^>]+src="\.?\/?([^"]+)"/.exec(html)?.[1];
    expect(entry, 'index.html loads no module script').toBeTruthy();
    // The entry and its static imports, transitively (dynamic import() chunks are loaded on demand).
    const main = new Set<string>();
    const queue = [path.join(dir, entry!)];
    for (const m of html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="\.?\/?([^"]+)"/g)) queue.push(path.join(dir, m[1]));
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (main.has(file)) continue;
      main.add(file);
      const code = readFileSync(file, 'utf8');
      for (const m of code.matchAll(/(?:\bfrom|\bimport)\s*["'](\.{1,2}\/[^"']+\.js)["']/g)) {
        const next = path.resolve(path.dirname(file), m[1]);
        if (existsSync(next)) queue.push(next);
      }
    }
    let raw = 0;
    let gzipped = 0;
    const found: string[] = [];
    for (const file of main) {
      const bytes = readFileSync(file);
      raw += bytes.length;
      gzipped += gzipSync(bytes, { level: 9 }).length;
      const text = bytes.toString('utf8');
      for (const marker of TFJS_MARKERS) if (text.includes(marker)) found.push(`${path.basename(file)} contains '${marker}'`);
    }
    const entryBytes = readFileSync(path.join(dir, entry!));
    console.log(
      `[e2e] main bundle: ${entry} ${(entryBytes.length / 1024).toFixed(1)} KiB, ${(gzipSync(entryBytes, { level: 9 }).length / 1024).toFixed(1)} KiB gzipped; ` +
        `with its ${main.size - 1} static import(s): ${(raw / 1024).toFixed(1)} KiB, ${(gzipped / 1024).toFixed(1)} KiB gzipped`,
    );
    expect(found).toEqual([]);
  });

  it('is a production build (React without its development code)', () => {
    const dir = inject('buildDir');
    const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
    const entry = /<script[^>]+type="module"[^>]+src="\.?\/?([^"]+)"/.exec(html)![1];
    const code = readFileSync(path.join(dir, entry), 'utf8');
    expect(code).not.toContain('react-devtools');
    expect(code).not.toContain('jsxDEV');
  });

  it('the markers do find tfjs where it is (the engine worker and its chunks)', () => {
    const dir = path.join(inject('buildDir'), 'assets');
    const withTfjs = readdirSync(dir)
      .filter((f) => f.endsWith('.js'))
      .filter((f) => TFJS_MARKERS.some((m) => readFileSync(path.join(dir, f), 'utf8').includes(m)));
    expect(withTfjs.length, 'no asset contains tfjs: the markers are stale').toBeGreaterThan(0);
  });
});
