/**
 * The request editor's data: the presets (one per endpoint, plain and streamed), parsing the
 * header lines the reader types, reading server-sent events as they arrive, and the snippets that
 * send the same request from the console (`fetch`) and from a shell (`curl` to `npm run serve`).
 * Pure: no React, no DOM.
 */
import { LIVE_MODEL_ID } from '../../api/port';

export const METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;
export type Method = (typeof METHODS)[number];

export interface EditorRequest {
  method: Method;
  /** Relative to the site's address: `v1/chat/completions`. */
  path: string;
  /** `Name: value`, one per line. */
  headers: string;
  body: string;
}

export interface Preset {
  id: string;
  label: string;
  request: EditorRequest;
}

const JSON_HEADER = 'Content-Type: application/json';

function post(path: string, body: object): EditorRequest {
  return { method: 'POST', path, headers: JSON_HEADER, body: JSON.stringify(body, null, 2) };
}

const CHAT = { model: LIVE_MODEL_ID, messages: [{ role: 'user', content: 'Call me Ishmael.' }], max_tokens: 60, temperature: 0.8 };
const COMPLETION = { model: LIVE_MODEL_ID, prompt: 'Call me Ishmael. Some years ago', max_tokens: 60, temperature: 0.8 };

export const PRESETS: readonly Preset[] = [
  { id: 'models', label: 'GET v1/models: the models', request: { method: 'GET', path: 'v1/models', headers: '', body: '' } },
  { id: 'completion', label: 'POST v1/completions: continue a text', request: post('v1/completions', COMPLETION) },
  { id: 'completion-stream', label: 'POST v1/completions, streamed', request: post('v1/completions', { ...COMPLETION, stream: true }) },
  { id: 'chat', label: 'POST v1/chat/completions: a reply', request: post('v1/chat/completions', CHAT) },
  {
    id: 'chat-stream',
    label: 'POST v1/chat/completions, streamed',
    request: post('v1/chat/completions', { ...CHAT, stream: true, stream_options: { include_usage: true } }),
  },
];

/** The header lines as pairs, or the first line that is not `Name: value`. */
export function parseHeaderLines(text: string): { headers: [string, string][]; error: string | null } {
  const headers: [string, string][] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      return { headers, error: `Line ${i + 1} is not a header: write one "Name: value" per line.` };
    }
    headers.push([name, line.slice(colon + 1).trim()]);
  }
  return { headers, error: null };
}

/**
 * Where a path typed in the editor points, resolved against the site's address. Only this site's
 * own addresses are allowed (the page may not send requests elsewhere): else `error` says so.
 */
export function resolvePath(path: string, base: string): { url: string | null; error: string | null } {
  if (path.trim() === '') return { url: null, error: 'Give a path, such as v1/models.' };
  let url: URL;
  try {
    url = new URL(path.trim(), base);
  } catch {
    return { url: null, error: 'This is not a path.' };
  }
  if (url.origin !== new URL(base).origin) return { url: null, error: 'Only this site’s own addresses: a path such as v1/models.' };
  return { url: url.href, error: null };
}

/** Whether `body` is JSON (a hint only: the editor sends it anyway, to show the API's answer). */
export function jsonProblem(body: string): string | null {
  if (body.trim() === '') return null;
  try {
    JSON.parse(body);
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/**
 * Server-sent events as they arrive: `push` takes the next piece of the body and returns the
 * `data:` payloads of the events it completed (an event ends at a blank line).
 */
export class EventReader {
  private buffer = '';

  push(text: string): string[] {
    this.buffer += text.replace(/\r\n?/g, '\n');
    const out: string[] = [];
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) !== -1) {
      const event = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const data = event
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''));
      if (data.length > 0) out.push(data.join('\n'));
    }
    return out;
  }
}

/** The text a streamed chunk adds (chat: `delta.content`; completions: `text`), or '' for other events. */
export function chunkText(data: string): string {
  if (data === '[DONE]') return '';
  try {
    const chunk = JSON.parse(data) as { choices?: { delta?: { content?: unknown }; text?: unknown }[] };
    const c = chunk.choices?.[0];
    const t = c?.delta?.content ?? c?.text;
    return typeof t === 'string' ? t : '';
  } catch {
    return '';
  }
}

/** The request as a `fetch` call to paste into the browser's console on this site. */
export function fetchSnippet(r: EditorRequest, url: string): string {
  const headers = parseHeaderLines(r.headers).headers;
  const lines = [`const res = await fetch(${JSON.stringify(url)}, {`, `  method: ${JSON.stringify(r.method)},`];
  if (headers.length > 0) lines.push(`  headers: ${JSON.stringify(Object.fromEntries(headers))},`);
  if (r.method !== 'GET' && r.body.trim() !== '') {
    // JSON as an object literal to edit; anything else as the string it is.
    lines.push(jsonProblem(r.body) ? `  body: ${JSON.stringify(r.body)},` : `  body: JSON.stringify(${JSON.stringify(JSON.parse(r.body))}),`);
  }
  lines.push('});');
  const streamed = /"stream"\s*:\s*true/.test(r.body);
  if (streamed) {
    lines.push(
      'const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();',
      'for (let r = await reader.read(); !r.done; r = await reader.read()) console.log(r.value);',
    );
  } else {
    lines.push('console.log(res.status, await res.json());');
  }
  return lines.join('\n');
}

/** The request as `curl` to `npm run serve` on this machine (port 8080). */
export function curlSnippet(r: EditorRequest): string {
  const path = r.path.trim().replace(/^.*?(v1\/)/, '$1');
  const parts = [`curl${r.method === 'GET' ? '' : ` -X ${r.method}`} http://127.0.0.1:8080/${path}`];
  for (const [name, value] of parseHeaderLines(r.headers).headers) parts.push(`-H ${shellQuote(`${name}: ${value}`)}`);
  if (r.method !== 'GET' && r.body.trim() !== '') parts.push(`-d ${shellQuote(jsonProblem(r.body) ? r.body : JSON.stringify(JSON.parse(r.body)))}`);
  if (/"stream"\s*:\s*true/.test(r.body)) parts.splice(1, 0, '-N');
  return parts.join(' \\\n  ');
}

/** Single-quoted for a POSIX shell. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
