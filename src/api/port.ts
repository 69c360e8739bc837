/**
 * The API over a MessagePort: how a response made in the engine worker reaches the site's Service
 * Worker, which cannot talk to the engine itself.
 *
 *   page ─fetch('v1/…')─▶ Service Worker ─{request, port}─▶ page (src/app/serviceWorker.ts)
 *                               ▲                              │ api.serve.handle(request, port)
 *                               │                              ▼
 *                               └──── head, chunks, end ──── engine worker (ServeJobs)
 *
 * The Service Worker reads the request into plain data (`ServeRequest`), makes a MessageChannel and
 * posts one end to the page; the page says `accepted` on it and hands it to the engine worker,
 * where the handler's Response is written onto it: first `head` (status and headers), then the body
 * as `chunk`s as they are made (a streamed answer token by token), then `end`. The Service Worker
 * builds a streaming Response from these. If the reader of that Response goes away (the fetch was
 * aborted), the Service Worker sends `cancel` back, and the generation stops.
 *
 * Pure: Fetch API and MessagePort only (the page, the workers and Node all have them).
 */
import { ApiError } from './errors';

/** The name of the lab's live model in the API (the model keeps training behind the one name). */
export const LIVE_MODEL_ID = 'gpt-lab';

/** A request as plain data, as the Service Worker reads it off a fetch (structured-clone friendly). */
export interface ServeRequest {
  method: string;
  /** The path and query (`/v1/models`), or the whole URL (`https://host/gpt-lab/v1/models`). */
  path: string;
  /** The site's base path before `/v1/` (`/gpt-lab`); default '' (the API at the root). */
  basePath?: string;
  /** Header name/value pairs, or an object of them. */
  headers?: [string, string][] | Record<string, string>;
  /** The body's bytes (or text); ignored for GET and HEAD. */
  body?: Uint8Array | string | null;
}

/** A whole response as plain data (`ServeJobs.request`). */
export interface ServeResponse {
  status: number;
  headers: Record<string, string>;
  /** The body as text (a streamed answer: all its `data:` events). */
  body: string;
}

/** What goes from the answering side (the page, the engine worker) to the Service Worker. */
export type PortMessage =
  /** The page took the request (the Service Worker stops waiting for a page to answer). */
  | { type: 'accepted' }
  | { type: 'head'; status: number; headers: [string, string][] }
  | { type: 'chunk'; bytes: Uint8Array }
  | { type: 'end' }
  /** The body failed after its head was sent: the Service Worker errors its stream. */
  | { type: 'fail'; message: string };

/** What goes back: the client stopped reading. */
export type PortReply = { type: 'cancel' };

/** The message the Service Worker posts to a page, with the port as its one transferred port. */
export interface BridgeMessage {
  type: 'gpt-lab-api-request';
  request: ServeRequest;
}

export const BRIDGE_MESSAGE_TYPE: BridgeMessage['type'] = 'gpt-lab-api-request';

/** True for a message a page should answer (the shape is checked: a page trusts no message blindly). */
export function isBridgeMessage(data: unknown): data is BridgeMessage {
  if (typeof data !== 'object' || data === null) return false;
  const d = data as { type?: unknown; request?: { method?: unknown; path?: unknown } };
  return d.type === BRIDGE_MESSAGE_TYPE && typeof d.request?.method === 'string' && typeof d.request?.path === 'string';
}

/** `request` as a fetch Request (throws a 400 ApiError when it cannot be one: a bad method or header). */
export function toFetchRequest(request: ServeRequest, signal?: AbortSignal): Request {
  const method = String(request.method ?? 'GET').toUpperCase();
  let url: URL;
  try {
    url = new URL(String(request.path), 'http://localhost');
  } catch {
    throw new ApiError(400, `${String(request.path).slice(0, 80)} is not a path`, null, 'invalid_request');
  }
  const body = method === 'GET' || method === 'HEAD' || request.body == null ? undefined : request.body;
  try {
    return new Request(url, {
      method,
      headers: request.headers,
      body: body instanceof Uint8Array ? new Uint8Array(body) : body,
      signal,
    });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ApiError(400, `the request cannot be made: ${why.slice(0, 160)}`, null, 'invalid_request');
  }
}

/**
 * Writes `response` onto `port`: head, body chunks as they come, end. A `cancel` from the other
 * side cancels the body (which stops a streamed generation) and calls `onCancel`. Resolves when
 * the body is written or cancelled; never throws.
 */
export async function writeResponse(response: Response, port: MessagePort, onCancel?: () => void): Promise<void> {
  const reader = response.body?.getReader() ?? null;
  let cancelled = false;
  port.onmessage = (e: MessageEvent) => {
    if ((e.data as PortReply | null)?.type !== 'cancel' || cancelled) return;
    cancelled = true;
    onCancel?.();
    reader?.cancel().catch(() => undefined);
  };
  const post = (m: PortMessage, transfer: Transferable[] = []) => port.postMessage(m, transfer);
  try {
    post({ type: 'head', status: response.status, headers: [...response.headers] });
    if (reader) {
      while (true) {
        const { done, value } = await reader.read();
        if (done || cancelled) break;
        // A copy of its own, so the buffer can be transferred rather than cloned.
        const bytes = value.slice();
        post({ type: 'chunk', bytes }, [bytes.buffer]);
      }
    }
    post({ type: 'end' });
  } catch (e) {
    if (!cancelled) {
      try {
        post({ type: 'fail', message: e instanceof Error ? e.message : String(e) });
      } catch {
        // the port is gone
      }
    }
  } finally {
    port.onmessage = null;
  }
}

/** An OpenAI-style error response, ready for `writeResponse`. */
export function apiErrorResponse(status: number, message: string, code: string | null): Response {
  const e = new ApiError(status, message, null, code);
  return new Response(JSON.stringify({ error: e.toJSON() }), {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
  });
}

/** The 503 a request gets when no engine can answer it. */
export function notReadyResponse(why: string): Response {
  return apiErrorResponse(503, why, 'model_not_ready');
}
