/**
 * `npm run bench` in Chromium: builds the site (bench.html is one of its pages), serves it under
 * the e2e harness's base path, and drives system Chromium (playwright-core) through up to three
 * runs, each a fresh page whose worker measures one backend and reports rows in DESIGN.md's format:
 *   - wasm without cross-origin isolation (env `chromium`: no SharedArrayBuffer, so one thread),
 *   - wasm (and cpu, webgl) with COOP/COEP (env `chromium-isolated`),
 *   - webgpu with --enable-unsafe-webgpu (SwiftShader where there is no GPU; skipped, with the
 *     reason, where no adapter appears).
 * Both servers send the site's own headers (vite.config.ts `preview.headers`: the CSP included);
 * the plain one leaves out COOP/COEP, so isolation is the only difference.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import type { BackendName } from '../../src/engine/backends';
import type { BenchPageState } from '../../src/bench/request';
import type { BenchPathName, BenchRow } from '../../src/bench/rows';
import { closeBrowsers, inputFingerprint, launchBrowser, ROOT, serveStatic, type StaticServer } from '../../tests/e2e/harness';

export interface BrowserBenchOptions {
  backends: BackendName[];
  configs: string[];
  paths: BenchPathName[];
  /** Timed steps for a backend (the same defaults as Node's). */
  stepsFor: (backend: BackendName) => number;
  batchSize?: number;
  /** Untimed steps before the clock starts. */
  warmup?: number;
  /** wasm threads to ask for (the rows report the threads that started). */
  threads?: number;
  /** Compare the fast path with the reference on each backend before timing (a `fast_agreement` row). */
  check?: boolean;
  /** A row, as soon as the page reports it. */
  emit: (row: BenchRow) => void;
  /** Progress and the page's own lines for people (stderr). */
  log: (line: string) => void;
  /** Skipped backends and other notices that are printed even with --json (stderr). */
  warn: (line: string) => void;
  /** Chromium was not asked for by name: without it, say so and measure nothing rather than fail. */
  optional?: boolean;
}

/** How long one page may take before it is given up (SwiftShader on `baby` is slow). */
const PAGE_LIMIT_MS = 30 * 60_000;

interface Run {
  label: string;
  isolated: boolean;
  webgpu: boolean;
  backend: BackendName;
}

/** Which run measures which backend: wasm with and without isolation, the rest isolated. */
export function plannedRuns(backends: BackendName[]): Run[] {
  const runs: Run[] = [];
  if (backends.includes('wasm')) runs.push({ label: 'wasm, not cross-origin isolated', isolated: false, webgpu: false, backend: 'wasm' });
  for (const backend of backends) {
    if (backend === 'webgpu') runs.push({ label: 'webgpu (--enable-unsafe-webgpu)', isolated: true, webgpu: true, backend });
    else runs.push({ label: `${backend}, cross-origin isolated`, isolated: true, webgpu: false, backend });
  }
  return runs;
}

export async function runBrowserBench(o: BrowserBenchOptions): Promise<void> {
  const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) {
    const why = `no Chromium at ${chromium} (set CHROMIUM=/path, or: sudo apt-get install -y chromium)`;
    if (!o.optional) throw new Error(why[0].toUpperCase() + why.slice(1));
    o.warn(`chromium: skipped (${why})`);
    return;
  }
  const dir = await ensureSiteBuild(o.log);
  const headers = await siteHeaders();
  const { 'Cross-Origin-Opener-Policy': _coop, 'Cross-Origin-Embedder-Policy': _coep, ...plain } = headers;
  const servers = new Map<boolean, StaticServer>();
  try {
    for (const run of plannedRuns(o.backends)) {
      let server = servers.get(run.isolated);
      if (server == null) {
        server = await serveStatic(dir, run.isolated ? headers : plain);
        servers.set(run.isolated, server);
      }
      const query = new URLSearchParams({
        backends: run.backend,
        configs: o.configs.join(','),
        paths: o.paths.join(','),
        steps: String(o.stepsFor(run.backend)),
      });
      if (o.batchSize != null) query.set('batch-size', String(o.batchSize));
      if (o.warmup != null) query.set('warmup', String(o.warmup));
      if (o.threads != null && run.backend === 'wasm') query.set('threads', String(o.threads));
      if (o.check) query.set('check', '1');
      o.log(`\nchromium: ${run.label}`);
      await runPage(await launchBrowser(run.webgpu), `${server.url}bench.html?${query}`, o);
    }
  } finally {
    await closeBrowsers();
    await Promise.all([...servers.values()].map((s) => s.close()));
  }
}

/** Opens one benchmark page and relays its rows until it is done. Refuses requests off the origin. */
async function runPage(browser: Browser, url: string, o: BrowserBenchOptions): Promise<void> {
  const origin = new URL(url).origin;
  const context = await browser.newContext();
  const external: string[] = [];
  const problems: string[] = [];
  try {
    await context.route('**/*', (route) => {
      const u = new URL(route.request().url());
      if ((u.protocol === 'http:' || u.protocol === 'https:') && u.origin !== origin) {
        external.push(u.href);
        return route.abort('blockedbyclient');
      }
      return route.continue();
    });
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('crash', () => problems.push('the page crashed'));
    await page.goto(url);
    let rows = 0;
    let lines = 0;
    let skips = 0;
    let failures = 0;
    const deadline = Date.now() + PAGE_LIMIT_MS;
    let state: BenchPageState;
    while (true) {
      state = await page.evaluate(() => window.__bench);
      for (; rows < state.rows.length; rows++) o.emit(state.rows[rows]);
      for (; lines < state.log.length; lines++) o.log(state.log[lines]);
      for (; skips < state.skipped.length; skips++) o.warn(`chromium ${state.skipped[skips].backend}: skipped (${state.skipped[skips].reason})`);
      for (; failures < state.failed.length; failures++) {
        const f = state.failed[failures];
        o.warn(`chromium ${f.backend} ${f.config} ${f.path} path: failed (${f.reason})`);
      }
      if (state.done) break;
      if (problems.some((p) => p.startsWith('the page crashed'))) break;
      if (Date.now() > deadline) throw new Error(`the benchmark page did not finish within ${PAGE_LIMIT_MS / 60_000} minutes: ${url}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    if (external.length > 0) o.warn(`chromium: the page asked for ${external.length} address(es) off its origin (refused): ${external.slice(0, 3).join(', ')}`);
    if (state.error != null || !state.done) {
      throw new Error(`the benchmark page failed (${url}): ${state.error ?? 'it did not finish'}${problems.length ? `\n  ${problems.join('\n  ')}` : ''}`);
    }
    for (const p of problems) o.warn(`chromium: ${p}`);
  } finally {
    await context.close().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// The site's build, kept apart from the e2e tests' (they build the same config; this one also
// watches bench/ and bench.html, which the benchmark page bundles).

const CACHE_DIR = process.env.BENCH_CACHE_DIR ? path.resolve(process.env.BENCH_CACHE_DIR) : path.join(ROOT, 'node_modules/.cache/gpt-lab-bench');
const BUILD_DIR = path.join(CACHE_DIR, 'dist');
const STAMP = path.join(CACHE_DIR, 'stamp.json');

/** Builds the site into BUILD_DIR unless the last build there came from the same inputs. */
async function ensureSiteBuild(log: (line: string) => void): Promise<string> {
  const page = path.join(BUILD_DIR, 'bench.html');
  if (existsSync(page) && existsSync(STAMP) && JSON.parse(readFileSync(STAMP, 'utf8')).inputs === inputFingerprint()) return BUILD_DIR;
  log(`chromium: building the site into ${path.relative(ROOT, BUILD_DIR)} …`);
  const started = Date.now();
  await exec('npx', ['tsx', 'scripts/prepare-corpus.ts']); // as `npm run build` does first
  const inputs = inputFingerprint(); // before building: an edit made meanwhile means another build next time
  await exec('npx', ['vite', 'build', '--outDir', BUILD_DIR, '--emptyOutDir', '--logLevel', 'warn']);
  if (!existsSync(page)) throw new Error(`the build has no bench.html (is it an input in vite.config.ts?)`);
  mkdirSync(CACHE_DIR, { recursive: true });
  writeFileSync(STAMP, JSON.stringify({ inputs }));
  log(`chromium: built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return BUILD_DIR;
}

function exec(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // Vite builds with the NODE_ENV it finds: make it a production build whatever the caller set.
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output.slice(-4000)}`))));
  });
}

/** The headers vite.config.ts gives `vite preview`: COOP/COEP and the Content-Security-Policy. */
async function siteHeaders(): Promise<Record<string, string>> {
  const { loadConfigFromFile } = await import('vite');
  const loaded = await loadConfigFromFile({ command: 'serve', mode: 'production', isPreview: true }, path.join(ROOT, 'vite.config.ts'), ROOT, 'silent');
  const headers = (loaded?.config.preview?.headers ?? {}) as Record<string, string>;
  if (!headers['Cross-Origin-Embedder-Policy']) throw new Error('vite.config.ts preview.headers has no COEP header');
  return headers;
}
