import { useId, useMemo, useRef, useState } from 'react';
import { useServiceWorker } from '../../app/serviceWorker';
import { useEngine } from '../../app/store';
import {
  chunkText,
  curlSnippet,
  EventReader,
  fetchSnippet,
  jsonProblem,
  METHODS,
  parseHeaderLines,
  PRESETS,
  resolvePath,
  type EditorRequest,
  type Method,
} from './requests';

/** What came back, filled in as it arrives. */
interface Result {
  status: number | null;
  statusText: string;
  headers: [string, string][];
  /** The body as text: a streamed answer's raw events as they came. */
  body: string;
  /** A streamed answer's text so far (the chunks' content joined). */
  streamText: string;
  streamed: boolean;
  /** How many pieces the body arrived in. */
  pieces: number;
  firstByteMs: number | null;
  totalMs: number | null;
  /** How it went: through the Service Worker (a real HTTP request) or straight to the engine. */
  via: 'service worker' | 'engine';
  /** A request that got no answer at all (the network failed, or Stop). */
  error: string | null;
  done: boolean;
}

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/**
 * The chapter's request editor: method, path, headers and a JSON body (with a preset for each
 * endpoint, plain and streamed), sent with `fetch` through the site's Service Worker to the lab's
 * model; the status, headers and body are shown as they arrive, a streamed answer's text token by
 * token. Where no Service Worker runs, the same request goes straight to the engine
 * (`api.serve.request`) and arrives all at once.
 */
export function RequestEditor() {
  const api = useEngine();
  const sw = useServiceWorker();
  const id = useId();
  const [presetId, setPresetId] = useState('chat');
  const [request, setRequest] = useState<EditorRequest>(() => PRESETS.find((p) => p.id === 'chat')!.request);
  const [pathError, setPathError] = useState<string | null>(null);
  const [headerError, setHeaderError] = useState<string | null>(null);
  const [result, setResult] = useState<Result | null>(null);
  const [sending, setSending] = useState(false);
  const abort = useRef<AbortController | null>(null);

  const bodyHint = request.method === 'GET' ? null : jsonProblem(request.body);
  const resolved = resolvePath(request.path, document.baseURI);
  const usage = useMemo(() => (result?.done ? usageOf(result) : null), [result]);

  function edit(patch: Partial<EditorRequest>) {
    setRequest((r) => ({ ...r, ...patch }));
    if (patch.path !== undefined) setPathError(null);
    if (patch.headers !== undefined) setHeaderError(null);
    setPresetId('');
  }

  function choosePreset(value: string) {
    const preset = PRESETS.find((p) => p.id === value);
    setPresetId(value);
    if (!preset) return;
    setRequest(preset.request);
    setPathError(null);
    setHeaderError(null);
  }

  async function send() {
    const where = resolvePath(request.path, document.baseURI);
    const parsed = parseHeaderLines(request.headers);
    setPathError(where.error);
    setHeaderError(parsed.error);
    if (where.url === null || parsed.error !== null) return;
    const useWorker = sw.kind === 'ready';
    if (!useWorker && api === null) return;
    const controller = new AbortController();
    abort.current = controller;
    setSending(true);
    const started = performance.now();
    const blank: Result = {
      status: null,
      statusText: '',
      headers: [],
      body: '',
      streamText: '',
      streamed: false,
      pieces: 0,
      firstByteMs: null,
      totalMs: null,
      via: useWorker ? 'service worker' : 'engine',
      error: null,
      done: false,
    };
    setResult(blank);
    const body = request.method === 'GET' ? undefined : request.body;
    try {
      if (useWorker) {
        const res = await fetch(where.url, { method: request.method, headers: parsed.headers, body, signal: controller.signal });
        const streamed = (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
        setResult({ ...blank, status: res.status, statusText: res.statusText, headers: [...res.headers], streamed });
        const reader = res.body?.getReader();
        const decoder = new TextDecoder();
        const events = new EventReader();
        while (reader) {
          const { done, value } = await reader.read();
          if (done) break;
          const text = decoder.decode(value, { stream: true });
          const added = streamed ? events.push(text).map(chunkText).join('') : '';
          const at = performance.now() - started;
          setResult((r) => r && { ...r, body: r.body + text, streamText: r.streamText + added, pieces: r.pieces + 1, firstByteMs: r.firstByteMs ?? at });
        }
        setResult((r) => r && { ...r, body: pretty(r.body, streamed), done: true, totalMs: performance.now() - started });
      } else {
        const base = new URL('./', document.baseURI).pathname.replace(/\/$/, '');
        const res = await api!.serve.request({ method: request.method, path: where.url, basePath: base, headers: parsed.headers, body: body ?? null });
        const streamed = (res.headers['content-type'] ?? '').startsWith('text/event-stream');
        const streamText = streamed ? new EventReader().push(res.body).map(chunkText).join('') : '';
        const ms = performance.now() - started;
        setResult({
          ...blank,
          status: res.status,
          statusText: '',
          headers: Object.entries(res.headers),
          body: pretty(res.body, streamed),
          streamText,
          streamed,
          pieces: 1,
          firstByteMs: ms,
          totalMs: ms,
          done: true,
        });
      }
    } catch (e) {
      const stopped = controller.signal.aborted;
      setResult((r) => ({ ...(r ?? blank), done: true, error: stopped ? 'Stopped.' : `No answer: ${e instanceof Error ? e.message : String(e)}` }));
    } finally {
      abort.current = null;
      setSending(false);
    }
  }

  const canSend = !sending && (sw.kind === 'ready' || api !== null);

  return (
    <section className="api-editor" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Send a request</h3>
      <p className={`api-sw-state api-sw-${sw.kind}`} data-testid="api-sw-state">
        {sw.message}
        {sw.kind !== 'ready' && ' Requests from this editor go straight to the engine instead, and arrive all at once.'}
      </p>
      <form
        className="api-form"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <div className="field">
          <label htmlFor={`${id}-preset`}>Example request</label>
          <select id={`${id}-preset`} value={presetId} onChange={(e) => choosePreset(e.target.value)}>
            <option value="">(edited)</option>
            {PRESETS.map((p) => (
              <option key={p.id} value={p.id}>
                {p.label}
              </option>
            ))}
          </select>
        </div>
        <div className="api-line">
          <div className="field api-method">
            <label htmlFor={`${id}-method`}>Method</label>
            <select id={`${id}-method`} value={request.method} onChange={(e) => edit({ method: e.target.value as Method })}>
              {METHODS.map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </div>
          <div className="field api-path">
            <label htmlFor={`${id}-path`}>Path</label>
            <input
              id={`${id}-path`}
              value={request.path}
              spellCheck={false}
              autoComplete="off"
              aria-invalid={pathError !== null}
              aria-describedby={pathError ? `${id}-path-error` : `${id}-path-hint`}
              onChange={(e) => edit({ path: e.target.value })}
            />
            {pathError ? (
              <p className="field-error" id={`${id}-path-error`}>
                {pathError}
              </p>
            ) : (
              <p className="field-hint" id={`${id}-path-hint`}>
                Relative to this site: {resolved.url ?? '…'}
              </p>
            )}
          </div>
        </div>
        <div className="field">
          <label htmlFor={`${id}-headers`}>Headers</label>
          <textarea
            id={`${id}-headers`}
            rows={2}
            value={request.headers}
            spellCheck={false}
            aria-invalid={headerError !== null}
            aria-describedby={headerError ? `${id}-headers-error` : undefined}
            onChange={(e) => edit({ headers: e.target.value })}
          />
          {headerError && (
            <p className="field-error" id={`${id}-headers-error`}>
              {headerError}
            </p>
          )}
        </div>
        <div className="field">
          <label htmlFor={`${id}-body`}>Body</label>
          <textarea
            id={`${id}-body`}
            rows={9}
            value={request.body}
            spellCheck={false}
            disabled={request.method === 'GET'}
            aria-describedby={bodyHint ? `${id}-body-hint` : undefined}
            onChange={(e) => edit({ body: e.target.value })}
          />
          {request.method === 'GET' && <p className="field-hint">A GET request has no body.</p>}
          {bodyHint && (
            <p className="field-hint api-body-hint" id={`${id}-body-hint`}>
              This is not valid JSON ({bodyHint}). Send it anyway to see how the API answers.
            </p>
          )}
        </div>
        <div className="button-row">
          <button type="submit" disabled={!canSend}>
            Send
          </button>
          <button type="button" disabled={!sending} onClick={() => abort.current?.abort()}>
            Stop
          </button>
          {!canSend && !sending && <span className="muted">The model is loading…</span>}
        </div>
      </form>

      <ResultView result={result} usage={usage} />

      <h4>The same request from your own code</h4>
      <p>
        In this browser’s developer console, on this page (the Service Worker answers it, so it needs this tab open):
      </p>
      <pre className="api-code" tabIndex={0} role="region" aria-label="fetch code for the console">
        <code>{resolved.url ? fetchSnippet(request, resolved.url) : '// give a path first'}</code>
      </pre>
      <p>
        Outside the browser, export the model from the lab (Export checkpoint), serve it with{' '}
        <code>npm run serve -- --checkpoint gpt-lab-step-N.safetensors --model gpt-lab</code> and ask it with curl:
      </p>
      <pre className="api-code" tabIndex={0} role="region" aria-label="curl command for npm run serve">
        <code>{curlSnippet(request)}</code>
      </pre>
    </section>
  );
}

function ResultView({ result, usage }: { result: Result | null; usage: Usage | null }) {
  if (result === null) {
    return (
      <div className="api-result api-result-empty">
        <p className="muted">The answer appears here.</p>
      </div>
    );
  }
  const timing =
    result.firstByteMs === null
      ? 'waiting…'
      : `first byte after ${Math.round(result.firstByteMs)} ms` +
        (result.totalMs !== null ? `, all of it after ${Math.round(result.totalMs)} ms in ${result.pieces} piece${result.pieces === 1 ? '' : 's'}` : '');
  return (
    <div className="api-result" aria-busy={!result.done}>
      <p className="api-status-line" role="status">
        <strong data-testid="api-status">{result.status === null ? '…' : `${result.status} ${result.statusText}`.trim()}</strong>
        <span className="muted">
          {' '}
          via the {result.via}; {timing}
        </span>
      </p>
      {result.error && <p className="field-error">{result.error}</p>}
      {usage && (
        <p className="api-usage">
          Usage: {usage.prompt_tokens} prompt tokens + {usage.completion_tokens} completion tokens = {usage.total_tokens} tokens
        </p>
      )}
      {result.streamed && (
        <>
          <h4>The text as it streams</h4>
          <p className="api-stream-text" data-testid="api-stream-text">
            {result.streamText}
          </p>
        </>
      )}
      <h4>Response headers</h4>
      <pre className="api-code" tabIndex={0} role="region" aria-label="Response headers" data-testid="api-headers">
        {result.headers.map(([k, v]) => `${k}: ${v}`).join('\n')}
      </pre>
      <h4>Response body</h4>
      <pre className="api-code api-body" tabIndex={0} role="region" aria-label="Response body" data-testid="api-body">
        {result.body}
      </pre>
    </div>
  );
}

/** JSON bodies indented for reading; anything else (an event stream) as it came. */
function pretty(body: string, streamed: boolean): string {
  if (streamed) return body;
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/** The usage of a finished answer: its `usage` field, or a streamed answer's usage chunk. */
function usageOf(result: Result): Usage | null {
  const candidates = result.streamed ? new EventReader().push(result.body).filter((d) => d !== '[DONE]') : [result.body];
  for (const text of candidates.reverse()) {
    try {
      const u = (JSON.parse(text) as { usage?: Usage }).usage;
      if (u && typeof u.total_tokens === 'number') return u;
    } catch {
      // not JSON
    }
  }
  return null;
}
