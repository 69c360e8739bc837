/**
 * The e2e harness: the built site in real Chromium (system Chromium through playwright-core).
 *
 * - As a vitest globalSetup (the default export) it builds the site once with `vite build` into a
 *   private folder (node_modules/.cache/gpt-lab-e2e/dist, so a build another person runs into dist/
 *   never changes the site under test), skips the build when nothing it reads has changed since the
 *   last one, and serves the folder under a base path (`/gpt-lab/`, since the site must work under
 *   any) from a small static server that sends the headers `preview.headers` in vite.config.ts sets
 *   (COOP/COEP). Test files get the site's address with `inject('baseURL')`.
 * - For test files it exports `openPage` (a fresh browser context and page that records console
 *   errors, page errors, every request, failed and refused requests and the main thread's long
 *   tasks) and `runAxe`. One browser per test file and per `webgpu` flag, closed by `closeBrowsers`.
 *
 * Environment: E2E_REBUILD=1 forces a build, E2E_SKIP_BUILD=1 serves the last build as it is,
 * E2E_CACHE_DIR=/path builds there instead (one folder per person working in the checkout),
 * E2E_NO_ISOLATION=1 serves without the COOP/COEP headers (as a plain static host would),
 * CHROMIUM=/path picks the browser (default /usr/bin/chromium).
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** E2E_CACHE_DIR gives several people (or agents) working in one checkout a build folder each. */
const CACHE_DIR = process.env.E2E_CACHE_DIR ? path.resolve(process.env.E2E_CACHE_DIR) : path.join(ROOT, 'node_modules/.cache/gpt-lab-e2e');
export const BUILD_DIR = path.join(CACHE_DIR, 'dist');
const STAMP = path.join(CACHE_DIR, 'stamp.json');
/** Bump when the way the harness builds changes, so that an older build is not reused. */
const HARNESS_BUILD_VERSION = 2;
/** The site is served under this path, not at the root: it must work under any base path. */
export const BASE_PATH = '/gpt-lab/';

declare module 'vitest' {
  interface ProvidedContext {
    baseURL: string;
    buildDir: string;
  }
}

// ---------------------------------------------------------------------------------------------
// Build

/** Everything `vite build` reads, as a fingerprint of paths, sizes and modification times. */
export function inputFingerprint(): string {
  const hash = createHash('sha256');
  const add = (file: string) => {
    const s = statSync(file);
    hash.update(`${path.relative(ROOT, file)}\0${s.size}\0${s.mtimeMs}\n`);
  };
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) add(full);
    }
  };
  // bench/ (the benchmark page imports it) and the Vite plugins under scripts/ are built too.
  for (const dir of ['src', 'public', 'bench']) walk(path.join(ROOT, dir));
  for (const file of ['index.html', 'bench.html', 'vite.config.ts', 'package.json', 'package-lock.json', 'tsconfig.json']) {
    const full = path.join(ROOT, file);
    if (existsSync(full)) add(full);
  }
  for (const file of readdirSync(path.join(ROOT, 'scripts'))) if (file.startsWith('vite-plugin-')) add(path.join(ROOT, 'scripts', file));
  return hash.digest('hex');
}

function fileHash(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // vitest sets NODE_ENV=test, and Vite builds with the NODE_ENV it finds: without this the site
    // under test would bundle React's development build.
    const env = { ...process.env, NODE_ENV: 'production' };
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output.slice(-6000)}`)),
    );
  });
}

/** Builds the site into BUILD_DIR unless the last build there was made from the same inputs. */
export async function ensureBuild(): Promise<string> {
  const index = path.join(BUILD_DIR, 'index.html');
  if (process.env.E2E_SKIP_BUILD === '1') {
    if (!existsSync(index)) throw new Error(`E2E_SKIP_BUILD=1 but there is no build in ${BUILD_DIR}`);
    console.log(`[e2e] serving the existing build in ${path.relative(ROOT, BUILD_DIR)} (E2E_SKIP_BUILD=1)`);
    return BUILD_DIR;
  }
  if (process.env.E2E_REBUILD !== '1' && existsSync(index) && existsSync(STAMP)) {
    const stamp = JSON.parse(readFileSync(STAMP, 'utf8')) as { harness?: number; inputs: string; index: string };
    if (stamp.harness === HARNESS_BUILD_VERSION && stamp.inputs === inputFingerprint() && stamp.index === fileHash(index)) {
      console.log(`[e2e] the build in ${path.relative(ROOT, BUILD_DIR)} is up to date`);
      return BUILD_DIR;
    }
  }
  const started = Date.now();
  // What `npm run build` runs first (public/data/moby-dick.txt, generated, not committed).
  await run('npx', ['tsx', 'scripts/prepare-corpus.ts']);
  // Fingerprint before building: an edit made during the build makes the next run build again.
  const inputs = inputFingerprint();
  await run('npx', ['vite', 'build', '--outDir', BUILD_DIR, '--emptyOutDir', '--logLevel', 'warn']);
  mkdirSync(path.dirname(STAMP), { recursive: true });
  writeFileSync(STAMP, JSON.stringify({ harness: HARNESS_BUILD_VERSION, inputs, index: fileHash(index) }));
  console.log(`[e2e] built the site in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return BUILD_DIR;
}

// ---------------------------------------------------------------------------------------------
// Static server

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
  '.safetensors': 'application/octet-stream',
};

/** The headers vite.config.ts gives `vite preview` (COOP/COEP), read from the config itself. */
async function previewHeaders(): Promise<Record<string, string>> {
  const { loadConfigFromFile } = await import('vite');
  const loaded = await loadConfigFromFile(
    { command: 'serve', mode: 'production', isPreview: true },
    path.join(ROOT, 'vite.config.ts'),
    ROOT,
    'silent',
  );
  const headers = (loaded?.config.preview?.headers ?? {}) as Record<string, string>;
  if (!headers['Cross-Origin-Embedder-Policy']) throw new Error('vite.config.ts preview.headers has no COEP header');
  return headers;
}

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `dir` at http://localhost:<free port><BASE_PATH>, on 127.0.0.1 and (where there is one) ::1. */
export async function serveStatic(dir: string, headers: Record<string, string>): Promise<StaticServer> {
  const handler: http.RequestListener = (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/' || url.pathname === BASE_PATH.slice(0, -1)) {
      res.writeHead(302, { Location: BASE_PATH + url.search });
      res.end();
      return;
    }
    let file: string | null = null;
    if (url.pathname.startsWith(BASE_PATH)) {
      const relative = decodeURIComponent(url.pathname.slice(BASE_PATH.length)) || 'index.html';
      const full = path.resolve(dir, relative);
      if (full.startsWith(dir + path.sep) && existsSync(full) && statSync(full).isFile()) file = full;
    }
    if (file == null) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' });
      res.end(`not found: ${url.pathname}`);
      return;
    }
    res.writeHead(200, {
      ...headers,
      'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream',
      'Content-Length': statSync(file).size,
      'Cache-Control': 'no-cache',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  };
  const v4 = http.createServer(handler);
  await new Promise<void>((resolve, reject) => v4.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (v4.address() as { port: number }).port;
  const servers = [v4];
  const v6 = http.createServer(handler);
  await new Promise<void>((resolve) =>
    v6
      .once('error', () => resolve())
      .listen(port, '::1', () => {
        servers.push(v6);
        resolve();
      }),
  );
  return {
    url: `http://localhost:${port}${BASE_PATH}`,
    close: () =>
      Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(() => {}),
  };
}

/** vitest globalSetup: build once, serve, hand the address to the test files. */
export default async function setup(project: { provide(key: string, value: unknown): void }) {
  const dir = await ensureBuild();
  // E2E_NO_ISOLATION=1 serves without COOP/COEP, as a plain static host would (no SharedArrayBuffer).
  const headers = process.env.E2E_NO_ISOLATION === '1' ? {} : await previewHeaders();
  const server = await serveStatic(dir, headers);
  console.log(`[e2e] serving ${path.relative(ROOT, dir)} at ${server.url}`);
  project.provide('baseURL', server.url);
  project.provide('buildDir', dir);
  return () => server.close();
}

// ---------------------------------------------------------------------------------------------
// Browser and pages

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-default-apps',
  '--disable-extensions',
];

const browsers = new Map<boolean, Promise<Browser>>();

/** One browser per test file for each flag: with `--enable-unsafe-webgpu` (SwiftShader adapter) or without. */
export function launchBrowser(webgpu: boolean): Promise<Browser> {
  let browser = browsers.get(webgpu);
  if (browser == null) {
    browser = import('playwright-core').then(({ chromium }) =>
      chromium.launch({
        executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
        args: [...CHROMIUM_ARGS, ...(webgpu ? ['--enable-unsafe-webgpu'] : [])],
      }),
    );
    browsers.set(webgpu, browser);
  }
  return browser;
}

export async function closeBrowsers(): Promise<void> {
  const all = [...browsers.values()];
  browsers.clear();
  await Promise.all(all.map(async (b) => (await b).close().catch(() => {})));
}

export interface PageOptions {
  /** Launch Chromium with --enable-unsafe-webgpu (a WebGPU adapter on SwiftShader). */
  webgpu?: boolean;
  width?: number;
  height?: number;
  colorScheme?: 'light' | 'dark';
  /** Allow these console-error texts (regular expressions), e.g. a 404 a test provokes on purpose. */
  allowConsole?: RegExp[];
  /** Start with this storage (`context.storageState({ indexedDB: true })` of another session). */
  storageState?: BrowserContextOptions['storageState'];
}

export interface Session {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  origin: string;
  /** Console errors and uncaught page errors, in order. */
  errors: string[];
  /** Every request URL the context made (pages and workers). */
  requests: string[];
  /** Requests to anything but the site's origin (refused by the harness). */
  external: string[];
  /** Same-origin requests that failed or answered 4xx/5xx. */
  failed: string[];
  /** Longest main-thread task (ms) that started at or after `since` (performance.now() of the page). */
  longestTask(since?: number): Promise<{ duration: number; count: number; attribution: string[] }>;
  /** Throws, listing them, if there were console errors, page errors, external or failed requests since the last call. */
  assertClean(what?: string): void;
  close(): Promise<void>;
}

/**
 * Injected before any script of every document: keeps every long task the page's main thread runs,
 * and, for the slow ones, the long animation frame around it with the scripts that ran in it (the
 * attribution a long task lacks).
 */
function longTaskObserver() {
  type Entry = { start: number; duration: number };
  type Frame = Entry & { scripts: string[] };
  const w = window as unknown as { __e2eLongTasks: Entry[] | null; __e2eFrames: Frame[] };
  w.__e2eLongTasks = [];
  w.__e2eFrames = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__e2eLongTasks?.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    w.__e2eLongTasks = null; // no long-task support: longestTask() reports count -1
  }
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries() as unknown as (Entry & { startTime: number; scripts?: Record<string, unknown>[] })[]) {
        if (e.duration < 100) continue;
        const scripts = (e.scripts ?? []).map(
          (sc) =>
            `${Math.round(Number(sc.duration))} ms ${String(sc.invoker ?? '')} ${String(sc.sourceFunctionName ?? '')} ${String(sc.sourceURL ?? '').replace(/^.*\//, '')}:${String(sc.sourceCharPosition ?? '')}`,
        );
        w.__e2eFrames.push({ start: e.startTime, duration: e.duration, scripts });
      }
    }).observe({ type: 'long-animation-frame', buffered: true });
  } catch {
    // no long-animation-frame support: no attribution
  }
}

/** A fresh context (empty storage) and page that record everything a test asserts on. */
export async function openPage(options: PageOptions = {}): Promise<Session> {
  const origin = new URL(await initSite()).origin;
  const browser = await launchBrowser(options.webgpu ?? false);
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    colorScheme: options.colorScheme ?? 'light',
    acceptDownloads: true,
    storageState: options.storageState,
  });
  const errors: string[] = [];
  const requests: string[] = [];
  const external: string[] = [];
  const failed: string[] = [];
  // Every request of every page and worker goes through here: a request outside the origin is
  // refused (and counted), so a test can never depend on the network.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    requests.push(url);
    const u = new URL(url);
    if ((u.protocol === 'http:' || u.protocol === 'https:') && u.origin !== origin) {
      external.push(url);
      return route.abort('blockedbyclient');
    }
    return route.continue();
  });
  context.on('requestfailed', (r) => {
    const reason = r.failure()?.errorText ?? 'failed';
    // ERR_ABORTED: cancelled, as when a test navigates away while a worker still fetches.
    if (new URL(r.url()).origin === origin && reason !== 'net::ERR_ABORTED') failed.push(`${r.url()} (${reason})`);
  });
  context.on('response', (r) => {
    if (r.status() >= 400) failed.push(`${r.url()} (HTTP ${r.status()})`);
  });
  await context.addInitScript(longTaskObserver);
  const page = await context.newPage();
  const allowed = options.allowConsole ?? [];
  // The page's console also carries its dedicated workers' messages (the engine worker's included).
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    if (allowed.some((re) => re.test(text))) return;
    const loc = m.location();
    errors.push(`console.error: ${text}${loc.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.stack ?? e.message}`));
  page.on('crash', () => errors.push('page crashed'));

  return {
    browser,
    context,
    page,
    origin,
    errors,
    requests,
    external,
    failed,
    async longestTask(since = 0) {
      return page.evaluate((t0) => {
        const w = window as unknown as {
          __e2eLongTasks: { start: number; duration: number }[] | null;
          __e2eFrames: { start: number; duration: number; scripts: string[] }[];
        };
        const tasks = w.__e2eLongTasks;
        if (tasks == null) return { duration: Number.NaN, count: -1, attribution: [] };
        const after = tasks.filter((t) => t.start >= t0);
        const duration = Math.max(0, ...after.map((t) => t.duration));
        // The slow animation frames after t0, longest first, with the scripts that ran in them.
        const attribution = w.__e2eFrames
          .filter((f) => f.start + f.duration >= t0)
          .sort((a, b) => b.duration - a.duration)
          .slice(0, 3)
          .map((f) => `frame of ${Math.round(f.duration)} ms at ${Math.round(f.start)}: ${f.scripts.join('; ') || 'no script (style, layout, paint or GC)'}`);
        return { duration, count: after.length, attribution };
      }, since);
    },
    assertClean(what = '') {
      // Reports what happened since the last call, so one failure does not fail every later check.
      const problems = [
        ...errors.splice(0),
        ...external.splice(0).map((u) => `request outside the origin: ${u}`),
        ...failed.splice(0).map((u) => `failed request: ${u}`),
      ];
      if (problems.length > 0) {
        throw new Error(`${what ? what + ': ' : ''}${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
      }
    },
    close: () => context.close(),
  };
}

let cachedBase: string | null = null;

/** The site's address (vitest's `inject` is imported lazily so that the globalSetup side stays light). */
export async function initSite(): Promise<string> {
  if (cachedBase == null) {
    const { inject } = await import('vitest');
    cachedBase = inject('baseURL');
  }
  return cachedBase;
}

/** The site's address with a query (`backend=wasm&…`) and a route (`#/training`); after initSite/openPage. */
export function siteURL(query = '', route = '#/'): string {
  if (cachedBase == null) throw new Error('siteURL() before initSite() or openPage()');
  const q = query === '' ? '' : query.startsWith('?') ? query : `?${query}`;
  return `${cachedBase}${q}${route}`;
}

// ---------------------------------------------------------------------------------------------
// Accessibility

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** Runs axe-core (node_modules/axe-core/axe.min.js) on the page with its default rules. */
export async function runAxe(page: Page): Promise<AxeViolation[]> {
  const hasAxe = await page.evaluate(() => 'axe' in window);
  // Evaluated through DevTools, not added as a <script>: the site's Content-Security-Policy refuses
  // inline scripts, and code the DevTools protocol runs is exempt from it.
  if (!hasAxe) await page.evaluate(readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8'));
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: AxeViolation[] }> } })
      .axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
}

/** Violations in a form that reads well in a failed assertion. */
export function describeViolations(violations: AxeViolation[]): string {
  return violations
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help}\n` +
        v.nodes
          .slice(0, 5)
          .map((n) => `    ${n.target.join(' ')}${n.failureSummary ? ` — ${n.failureSummary.replace(/\s+/g, ' ')}` : ''}`)
          .join('\n'),
    )
    .join('\n');
}
