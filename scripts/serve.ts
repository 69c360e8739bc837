/**
 * npm run serve -- --checkpoint model.safetensors --port 8080 [--host 127.0.0.1] [--backend wasm|cpu] [--block word,word]
 *
 * Serves a checkpoint through the OpenAI-style API of src/api (the same handler the page's Service
 * Worker uses) on this machine, so any OpenAI-compatible client can talk to a model you trained:
 *
 *   curl http://127.0.0.1:8080/v1/chat/completions -H 'Content-Type: application/json' \
 *     -d '{"model": "base", "messages": [{"role": "user", "content": "Call me Ishmael."}]}'
 *
 * Listens on 127.0.0.1 unless --host says otherwise; the API has no keys, so think before opening it
 * to a network. A bad checkpoint ends it with a one-line message and a non-zero exit.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createApiHandler, type ApiHandler } from '../src/api/handler';
import { normalizeFilterSettings, parseBlockList } from '../src/api/filter';
import { backendFromCheckpoint, type GptBackend } from '../src/api/modelBackend';
import { CheckpointError } from '../src/engine/checkpoint';
import { prepareNodeBackend } from './lib/node-backends';
import { parseFlags, parseNumberFlag, runMain, UsageError } from './lib/cli';

const HELP = `Usage: npm run serve -- --checkpoint FILE [options]
  --checkpoint FILE   the model to serve (a GPT Lab .safetensors checkpoint)
  --port N            port to listen on (default 8080; 0 picks a free one)
  --host ADDRESS      address to listen on (default 127.0.0.1: this machine only)
  --backend NAME      wasm | cpu (default wasm)
  --model NAME        the model's name in the API (default: the file's name without .safetensors)
  --block WORDS       switch the output filter on with these comma-separated words: a completion
                      ends before the first of them with finish_reason "content_filter"
                      (src/api/filter.ts; the Safety chapter shows how easily it is bypassed)
  --help`;

export interface ServerOptions {
  checkpointBytes: Uint8Array;
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The tfjs backend to switch to first; left as it is when absent. */
  backend?: 'wasm' | 'cpu';
  /** The model's name in the API; default 'gpt-lab'. */
  modelId?: string;
  /** When the model was made, Unix seconds; default now. */
  created?: number;
  /** One line per request (method, path, status, milliseconds); default silent. */
  log?: (line: string) => void;
  /** Words the output filter blocks (filter.ts); none: the filter is off. */
  blockedWords?: string[];
}

export interface RunningServer {
  /** `http://host:port` */
  url: string;
  port: number;
  host: string;
  model: GptBackend;
  server: Server;
  /** Stops listening, ends open connections and frees the model. */
  close(): Promise<void>;
}

/** Loads the checkpoint (a CheckpointError if it is bad) and serves it on host:port. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  if (options.backend) await prepareNodeBackend(options.backend);
  const model = backendFromCheckpoint(options.checkpointBytes, options.modelId ?? 'gpt-lab', options.created);
  const words = options.blockedWords ?? [];
  const filter = normalizeFilterSettings({ enabled: words.length > 0, blockedWords: words });
  const handler = createApiHandler(model, { outputFilter: () => filter });
  const log = options.log;
  let origin = '';
  const server = createServer((req, res) => {
    const started = performance.now();
    res.on('close', () => log?.(`${req.method} ${req.url} ${res.statusCode} ${Math.round(performance.now() - started)} ms`));
    serveOne(handler, origin, req, res).catch((e: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`server error: ${e instanceof Error ? e.message : String(e)}\n`);
      } else {
        res.destroy();
      }
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    model.dispose();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  origin = url;
  return {
    url,
    port,
    host,
    model,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          model.dispose();
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

/** Hop-by-hop headers, which belong to one connection and not to the request. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-connection', 'expect', 'host']);

/** IncomingMessage → Request → handler → Response → ServerResponse, the body streamed both ways. */
async function serveOne(handler: ApiHandler, origin: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const body = hasBody ? requestBody(req) : undefined;
  // The client going away before its answer is complete aborts the request's signal.
  const gone = new AbortController();
  res.once('close', () => res.writableFinished || gone.abort());
  // The origin is the server's own address, never the client's Host header.
  const request = new Request(new URL(req.url ?? '/', origin), {
    method,
    headers,
    body: body?.stream,
    duplex: 'half',
    signal: gone.signal,
  } as RequestInit);

  const response = await handler(request);
  if (body && !req.complete) {
    // Answered before the whole body came (a 413): read the rest into the void, so the client, still
    // sending, gets the answer rather than a reset connection; a body that never ends is cut off.
    body.detach();
    setTimeout(() => req.complete || req.socket.destroy(), 10_000).unref();
  }
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (response.body === null) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  // The client left (or the socket failed): stop reading, which stops the generation.
  res.on('close', () => {
    if (!res.writableFinished) reader.cancel().catch(() => undefined);
  });
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    if (res.destroyed) break;
    if (!res.write(value)) await drained(res);
  }
  res.end();
}

/** Resolves when `res` can take more data, or is closed. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * The request body as a web stream. Unlike `Readable.toWeb`, cancelling it (the handler stops
 * reading an oversized body) leaves the socket open, so the 413 can still be sent; `detach` stops
 * delivering and lets the rest of the body flow into the void.
 */
function requestBody(req: IncomingMessage): { stream: ReadableStream<Uint8Array>; detach: () => void } {
  let detached = false;
  const ignoreClosed = (f: () => void) => {
    try {
      f();
    } catch {
      // the stream was cancelled meanwhile
    }
  };
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const onData = (chunk: Buffer) => {
    ignoreClosed(() => controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    if ((controller.desiredSize ?? 0) <= 0) req.pause();
  };
  const detach = () => {
    if (detached) return;
    detached = true;
    req.off('data', onData);
    req.resume();
  };
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      req.on('data', onData);
      req.once('end', () => detached || ignoreClosed(() => controller.close()));
      req.once('error', (e) => detached || ignoreClosed(() => controller.error(e)));
      req.pause();
    },
    pull() {
      if (!detached) req.resume();
    },
    cancel: detach,
  });
  return { stream, detach };
}

async function main(): Promise<void> {
  const f = parseFlags(
    {
      checkpoint: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      backend: { type: 'string' },
      model: { type: 'string' },
      block: { type: 'string' },
    },
    HELP,
  );
  if (!f) return;
  if (!f.checkpoint) throw new UsageError(`--checkpoint is required\n${HELP}`);
  const port = parseNumberFlag('port', f.port, true) ?? 8080;
  if (port < 0 || port > 65535) throw new UsageError(`--port must be between 0 and 65535, not ${port}`);
  const backend = f.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'cpu') throw new UsageError(`--backend must be wasm or cpu, not ${JSON.stringify(backend)}`);

  let bytes: Uint8Array;
  let created: number;
  try {
    bytes = readFileSync(f.checkpoint);
    created = Math.floor(statSync(f.checkpoint).mtimeMs / 1000);
  } catch (e) {
    throw new UsageError(`cannot read the checkpoint ${f.checkpoint}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const modelId = f.model ?? basename(f.checkpoint).replace(/\.safetensors$/i, '');
  const blockedWords = f.block === undefined ? [] : parseBlockList(f.block);
  try {
    normalizeFilterSettings({ enabled: true, blockedWords });
  } catch (e) {
    throw new UsageError(`--block: ${(e as Error).message}`);
  }
  let running: RunningServer;
  try {
    running = await startServer({
      checkpointBytes: bytes,
      port,
      host: f.host ?? '127.0.0.1',
      backend,
      modelId,
      created,
      blockedWords,
      log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
    });
  } catch (e) {
    if (e instanceof CheckpointError) throw new CheckpointError(e.code, `${f.checkpoint} is not a usable checkpoint: ${e.message}`);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`port ${port} is already in use; pick another with --port`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UsageError(`cannot listen on ${f.host}: no such address on this machine`);
    throw e;
  }
  const { url } = running;
  process.stdout.write(
    `Serving ${modelId} (${f.checkpoint}, ${backend}) at ${url}/v1\n` +
      `Try:\n` +
      `  curl ${url}/v1/chat/completions -H 'Content-Type: application/json' \\\n` +
      `    -d '{"model": "${modelId}", "messages": [{"role": "user", "content": "Call me Ishmael."}], "max_tokens": 60}'\n` +
      (blockedWords.length > 0 ? `Output filter on: ${blockedWords.length} blocked word(s).\n` : '') +
      `Stop with Ctrl-C.\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.stderr.write('stopping\n');
      running.close().then(resolve, resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** Run as a script (not imported by a test). */
function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) runMain(main);
