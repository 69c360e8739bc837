/**
 * The page's side of the site's Service Worker (src/sw/sw.ts): registers it, scoped to the site's
 * base path, and answers the API requests it hands over by passing them to the engine worker.
 *
 * - Registration: `sw.js` sits beside index.html, so its scope is the directory of the page, the
 *   base path the site is served under (`/gpt-lab/`, or `/`). The worker calls `clients.claim()`,
 *   so the page that registered it is controlled as soon as it is active, on the first visit: no
 *   reload is needed for `fetch('v1/…')` to work.
 * - The bridge: the Service Worker cannot reach the engine, so for each `<base>/v1/…` request it
 *   posts this page a message with the request and a MessagePort. The page says `accepted` on the
 *   port and hands port and request to the engine: `api.serve.handle(request, port)`, which writes
 *   the answer onto the port (src/api/port.ts). An engine that is still starting is waited for up
 *   to ENGINE_WAIT_MS; after that, and when it failed, the answer is a 503 error object.
 * - Cross-origin isolation: where the host sends no COOP/COEP headers, the Service Worker adds them,
 *   but a page's isolation is fixed by the response that loaded it. So a page that finds itself
 *   controlled yet not isolated reloads itself, once: a flag in sessionStorage (per tab) makes sure
 *   it never reloads twice, whatever the host does. Isolation lets the wasm backend run threads
 *   (on a machine where tfjs would start two or more: src/engine/backends.ts); a browser that blocks
 *   storage simply stays unisolated and trains on one thread.
 */
import * as Comlink from 'comlink';
import { useSyncExternalStore } from 'react';
import { isBridgeMessage, notReadyResponse, writeResponse, type PortMessage } from '../api/port';
import type { EngineRemote } from '../engine/client';
import { engineApi, useLab } from './store';

export type ServiceWorkerState =
  /** This browser has no Service Workers (or the page is not a secure context). */
  | { kind: 'unsupported'; message: string }
  | { kind: 'starting'; message: string }
  /** The Service Worker controls this page: `fetch('v1/…')` reaches the engine. */
  | { kind: 'ready'; message: string }
  | { kind: 'failed'; message: string };

/** How long an API request waits for an engine that is still starting. */
const ENGINE_WAIT_MS = 60_000;
const RELOAD_KEY = 'gpt-lab-isolation-reload';

let state: ServiceWorkerState = { kind: 'starting', message: 'The Service Worker is starting.' };
const listeners = new Set<() => void>();
let started = false;

function setState(next: ServiceWorkerState): void {
  state = next;
  for (const l of listeners) l();
}

/** The Service Worker's state, for the APIs chapter. */
export function useServiceWorker(): ServiceWorkerState {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => state,
  );
}

/** Registers the Service Worker and starts answering its requests. Called once, from main.tsx. */
export function startServiceWorker(): void {
  if (started) return;
  started = true;
  if (!('serviceWorker' in navigator) || !window.isSecureContext) {
    setState({
      kind: 'unsupported',
      message: 'This browser (or this address: Service Workers need https or localhost) runs no Service Worker, so the page cannot answer fetch requests to v1/.',
    });
    return;
  }
  const container = navigator.serviceWorker;
  container.addEventListener('message', onMessage);
  container.startMessages();
  container.addEventListener('controllerchange', onControlled);
  const base = new URL('./', document.baseURI);
  container.register(new URL('sw.js', base).href, { scope: base.href }).then(
    () => {
      if (container.controller) onControlled();
    },
    (e: unknown) => {
      setState({ kind: 'failed', message: `The Service Worker could not be registered: ${e instanceof Error ? e.message : String(e)}` });
    },
  );
}

function onControlled(): void {
  if (!navigator.serviceWorker.controller) return;
  setState({ kind: 'ready', message: 'The Service Worker controls this page: requests to v1/ are answered by the lab’s model.' });
  reloadOnceForIsolation();
}

/** See the note at the top: at most one reload per tab, and only when it can make the page isolated. */
function reloadOnceForIsolation(): void {
  if (window.crossOriginIsolated) return;
  try {
    if (sessionStorage.getItem(RELOAD_KEY) !== null) return;
    sessionStorage.setItem(RELOAD_KEY, String(Date.now()));
  } catch {
    return; // no storage: no guard, so no reload
  }
  location.reload();
}

function onMessage(event: MessageEvent): void {
  if (!isBridgeMessage(event.data)) return;
  const port = event.ports[0];
  if (port === undefined) return;
  const { request } = event.data;
  port.postMessage({ type: 'accepted' } satisfies PortMessage);
  void readyEngine().then(async (api) => {
    if (api === null) {
      const why = useLab.getState().status?.error;
      await writeResponse(notReadyResponse(why ? `the model could not start: ${why}` : 'the model is still loading; try again in a moment'), port);
      port.close();
      return;
    }
    try {
      await api.serve.handle(request, Comlink.transfer(port, [port]));
    } catch {
      // The engine worker is gone (the port went with it): the Service Worker reports the closed port.
    }
  });
}

/** The engine once it has a model: at once, or when it gets one within ENGINE_WAIT_MS; null if not. */
function readyEngine(): Promise<EngineRemote | null> {
  const now = engineApi();
  if (now !== null) return Promise.resolve(now);
  return new Promise((resolve) => {
    const done = (api: EngineRemote | null) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(api);
    };
    const timer = setTimeout(() => done(engineApi()), ENGINE_WAIT_MS);
    const unsubscribe = useLab.subscribe((s) => {
      if (s.status?.state === 'error') done(null);
      else if (engineApi() !== null) done(engineApi());
    });
  });
}
