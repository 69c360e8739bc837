/**
 * The site's one Service Worker (DESIGN.md), scoped to the site's base path. It does two things and
 * nothing else (in particular it caches nothing):
 *
 * 1. It answers `<base>/v1/*` with the OpenAI-style API of the reader's live model. It cannot reach
 *    the engine worker itself (a Service Worker belongs to no page), so it reads the request into
 *    plain data, posts it with a MessagePort to the page that asked (or, for a request that no page
 *    made, such as one typed in the address bar, to any open page of the site), and turns what
 *    comes back on the port into a streaming Response (src/api/port.ts says how; the page's side
 *    is src/app/serviceWorker.ts). No page open, or none answering: 503 with an error object.
 * 2. It adds the cross-origin-isolation headers (COOP `same-origin`, COEP `require-corp`) and the
 *    site's Content-Security-Policy to the site's own responses where the host did not send them,
 *    so that a static host that cannot set headers still gets an isolated page (after one reload:
 *    a page's isolation is decided by the response that loaded it). These headers mean something
 *    only on the responses that make a document or a worker, so only those are handled here (a
 *    dedicated worker of an isolated page must carry COEP itself, or it is not allowed to start;
 *    a worker's script is left alone once the host has been seen sending the headers itself);
 *    every other request — scripts, styles, the checkpoint, the corpus, a worker's imports — goes
 *    to the network as if there were no Service Worker.
 *
 * Requests to other origins are not touched (and the site makes none).
 *
 * Built by vite.config.ts to `sw.js` at the site root, as a classic script: it imports nothing at
 * run time (types only), so it needs no module support from the browser.
 */
import type { BridgeMessage, PortMessage, PortReply, ServeRequest } from '../api/port';
import { MAX_BODY_BYTES, readBodyUpTo } from '../api/body';

/** The site's Content-Security-Policy (vite.config.ts CONTENT_SECURITY_POLICY), put in by the build. */
declare const __GPT_LAB_CSP__: string;

const sw = self as unknown as ServiceWorkerGlobalScope;

/** How long a page has to take a request before the answer is a 503. */
const ACCEPT_TIMEOUT_MS = 10_000;

/**
 * Whether the host sent COEP itself with the last page it served (learned from each navigation;
 * unknown after the browser restarts this worker, and then worker scripts are handled, to be safe).
 */
let hostSendsIsolation: boolean | null = null;

/** Added to the site's own responses where the host did not send them. */
const SITE_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Content-Security-Policy': __GPT_LAB_CSP__,
};

/** Take over at once: a new version replaces the old without waiting for every tab to close. */
sw.addEventListener('install', () => {
  void sw.skipWaiting();
});

/** Control the pages already open (the first visit included), so their `fetch('v1/…')` reaches us. */
sw.addEventListener('activate', (event) => {
  event.waitUntil(sw.clients.claim());
});

sw.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== sw.location.origin) return; // not ours: the browser does as it would without us
  const scope = new URL(sw.registration.scope).pathname; // '/gpt-lab/'
  if (!url.pathname.startsWith(scope)) return;
  const rest = url.pathname.slice(scope.length);
  if (rest === 'v1' || rest.startsWith('v1/')) {
    event.respondWith(answerApi(event, scope.replace(/\/$/, '')));
    return;
  }
  // A page (navigation) or a worker's own script: the response that makes a new client, which has
  // a reserved id. The modules a module worker imports have the destination 'worker' too, but
  // make no client, and are left alone.
  const isWorkerScript = (request.destination === 'worker' || request.destination === 'sharedworker') && event.resultingClientId !== '';
  if (request.mode !== 'navigate' && !isWorkerScript) return;
  // A host that sent the headers with its last page sends them with its workers too: leave those be.
  if (isWorkerScript && hostSendsIsolation === true) return;
  // (DevTools can ask for this combination, which fetch() refuses.)
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  event.respondWith(withSiteHeaders(request));
});

// ---------------------------------------------------------------------------------------------
// 2. The site's own responses, with the headers the host did not send
// ---------------------------------------------------------------------------------------------

async function withSiteHeaders(request: Request): Promise<Response> {
  // A worker script is fetched on a signal of its own: when its page goes away mid-load, the fetch
  // finishes here instead of failing (the page has stopped waiting for it anyway).
  const response = await fetch(request.mode === 'navigate' ? request : new Request(request, { signal: null }));
  // Only a plain same-origin answer is rebuilt: an opaque or redirected one keeps what it is.
  if (response.type !== 'basic' || response.redirected || response.status === 0) return response;
  if (request.mode === 'navigate') hostSendsIsolation = response.headers.has('Cross-Origin-Embedder-Policy');
  const missing = Object.entries(SITE_HEADERS).filter(([name]) => !response.headers.has(name));
  if (missing.length === 0) return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of missing) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

// ---------------------------------------------------------------------------------------------
// 1. The API, answered by a page's engine
// ---------------------------------------------------------------------------------------------

async function answerApi(event: FetchEvent, basePath: string): Promise<Response> {
  const { request } = event;
  let body: Uint8Array | null = null;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    body = await readBodyUpTo(request, MAX_BODY_BYTES);
    if (body === null) return tooLarge();
  }
  const client = await pageFor(event);
  if (client === null) {
    return apiError(503, 'no page of GPT Lab is open to answer: the model runs in the page, so open the site in a tab first', 'model_not_ready');
  }
  const channel = new MessageChannel();
  const serveRequest: ServeRequest = { method: request.method, path: request.url, basePath, headers: [...request.headers], body };
  const message: BridgeMessage = { type: 'gpt-lab-api-request', request: serveRequest };
  client.postMessage(message, body ? [channel.port2, body.buffer as ArrayBuffer] : [channel.port2]);
  return responseFrom(channel.port1, event);
}

/** The page that made the request; else (an address typed in the bar, a worker's fetch) any open page of the site. */
async function pageFor(event: FetchEvent): Promise<Client | null> {
  if (event.clientId) {
    const client = await sw.clients.get(event.clientId);
    if (client?.type === 'window') return client;
  }
  const pages = (await sw.clients.matchAll({ type: 'window', includeUncontrolled: true })) as WindowClient[];
  return pages.find((p) => p.focused) ?? pages.find((p) => p.visibilityState === 'visible') ?? pages[0] ?? null;
}

/**
 * A Response from the messages on `port`: it resolves at `head`, its body streams the `chunk`s
 * and closes at `end`. A reader that goes away sends `cancel` back (the generation stops).
 */
function responseFrom(port: MessagePort, event: FetchEvent): Promise<Response> {
  return new Promise<Response>((resolve) => {
    let controller: ReadableStreamDefaultController<Uint8Array> | null = null;
    let settled = false;
    let finish: () => void = () => {};
    // Keeps the Service Worker alive until the last chunk, however long the stream.
    event.waitUntil(new Promise<void>((r) => (finish = r)));
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      port.onmessage = null;
      port.close();
      finish();
    };
    const fail = (status: number, message: string) => {
      if (!settled) {
        settled = true;
        resolve(apiError(status, message, status === 503 ? 'model_not_ready' : 'server_error'));
      } else {
        try {
          controller?.error(new Error(message));
        } catch {
          // already closed
        }
      }
      close();
    };
    const timer = setTimeout(() => fail(503, 'no page of GPT Lab took the request in time; reload the page and try again'), ACCEPT_TIMEOUT_MS);
    const cancel = () => {
      try {
        port.postMessage({ type: 'cancel' } satisfies PortReply);
      } catch {
        // the port is closed
      }
      close();
    };
    event.request.signal?.addEventListener('abort', cancel, { once: true });
    // Where the browser reports it: the page or the engine worker holding the other end is gone.
    port.addEventListener('close', () => closed || fail(503, 'the page answering this request was closed'));

    port.onmessage = (e: MessageEvent) => {
      const m = e.data as PortMessage;
      switch (m.type) {
        case 'accepted':
          clearTimeout(timer);
          break;
        case 'head': {
          clearTimeout(timer);
          if (settled) break;
          settled = true;
          const body = new ReadableStream<Uint8Array>({
            start(c) {
              controller = c;
            },
            cancel,
          });
          const status = m.status >= 200 && m.status <= 599 ? m.status : 500;
          const nullBody = status === 204 || status === 205 || status === 304 || event.request.method === 'HEAD';
          resolve(new Response(nullBody ? null : body, { status, headers: m.headers }));
          if (nullBody) close();
          break;
        }
        case 'chunk':
          controller?.enqueue(m.bytes);
          break;
        case 'end':
          try {
            controller?.close();
          } catch {
            // cancelled meanwhile
          }
          close();
          break;
        case 'fail':
          fail(500, m.message);
          break;
      }
    };
    port.start();
  });
}

function tooLarge(): Response {
  return apiError(413, `the request body is larger than ${MAX_BODY_BYTES} bytes`, 'request_too_large');
}

/** An OpenAI-style error object, as the handler makes them (src/api/errors.ts). */
function apiError(status: number, message: string, code: string): Response {
  const type = status >= 500 ? 'server_error' : 'invalid_request_error';
  return new Response(JSON.stringify({ error: { message, type, param: null, code } }), {
    status,
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Security-Policy': "default-src 'none'",
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
    },
  });
}
