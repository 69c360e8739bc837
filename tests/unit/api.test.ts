import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler, type ApiHandler } from '../../src/api/handler';
import { GptBackend, type CompleteRequest, type ModelBackend } from '../../src/api/modelBackend';
import { StopScanner } from '../../src/api/stops';
import { renderChat } from '../../src/corpus/chat';
import type { ModelConfig } from '../../src/gpt/config';
import { GPT } from '../../src/gpt/model';
import { generate } from '../../src/gpt/sample';
import { CharTokenizer } from '../../src/gpt/tokenizer';

// ---------------------------------------------------------------------------------------------
// Fixtures: a tiny random GPT on cpu, and a scripted backend whose output is known in advance
// ---------------------------------------------------------------------------------------------

const TEXT = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ.,:'\n";
const tokenizer = CharTokenizer.fromText(TEXT);
const CONFIG: ModelConfig = { vocabSize: tokenizer.size, contextLength: 16, layers: 1, heads: 2, width: 16, dropout: 0 };
const MODEL = 'tiny-test';

let backend: GptBackend;
let api: ApiHandler;

beforeAll(async () => {
  await tf.setBackend('cpu');
  backend = new GptBackend(GPT.create(CONFIG, 7), tokenizer, MODEL, 1_700_000_000);
  api = createApiHandler(backend);
});

afterAll(() => backend.dispose());

/** Emits `script` one character per token (then repeats its last character), recording what it was asked. */
class ScriptedBackend implements ModelBackend {
  readonly id = 'scripted';
  readonly created = 1;
  readonly contextLength = 64;
  readonly tokenizer = tokenizer;
  running = 0;
  mostAtOnce = 0;
  calls: CompleteRequest[] = [];
  constructor(
    private readonly script: string,
    private readonly msPerToken = 0,
  ) {}

  async complete(r: CompleteRequest): Promise<number[]> {
    this.calls.push(r);
    this.running++;
    this.mostAtOnce = Math.max(this.mostAtOnce, this.running);
    const out: number[] = [];
    const ids = Array.from(tokenizer.encode(this.script).ids);
    try {
      for (let i = 0; i < r.maxTokens && !r.stop?.aborted; i++) {
        if (this.msPerToken > 0) await new Promise((resolve) => setTimeout(resolve, this.msPerToken));
        const id = ids[Math.min(i, ids.length - 1)];
        out.push(id);
        if (r.onToken?.(id) === false) break;
      }
    } finally {
      this.running--;
    }
    return out;
  }
}

const URL_BASE = 'http://lab.test';

/** Every field a JSON response of this API may have; each test reads those its endpoint sends. */
interface Body {
  id: string;
  object: string;
  created: number;
  model: string;
  data: { id: string }[];
  choices: {
    index: number;
    text: string;
    message: { role: string; content: string; refusal: null };
    finish_reason: string;
    logprobs: null;
  }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  gpt_lab: { prompt_cropped: number; unknown_chars: number; context_length: number; seed: number };
  error: { message: string; type: string; param: string | null; code: string | null };
}

function post(path: string, body: unknown, headers: Record<string, string> = { 'Content-Type': 'application/json' }): Request {
  const data = typeof body === 'string' || body instanceof Uint8Array ? (body as string | Uint8Array<ArrayBuffer>) : JSON.stringify(body);
  return new Request(URL_BASE + path, { method: 'POST', headers, body: data });
}

async function call(req: Request, handler: ApiHandler = api): Promise<{ status: number; headers: Headers; body: Body }> {
  const res = await handler(req);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as Body) : ({} as Body) };
}

/** The `data:` payloads of an SSE body; checks the framing on the way. */
function events(text: string): string[] {
  expect(text.endsWith('\n\n')).toBe(true);
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((event) => {
      expect(event.startsWith('data: ')).toBe(true);
      expect(event.slice(6)).not.toContain('\n');
      return event.slice(6);
    });
}

function expectError(body: Body, param?: string | null, code?: string): void {
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(10);
  expect(typeof body.error.type).toBe('string');
  if (param !== undefined) expect(body.error.param).toBe(param);
  if (code !== undefined) expect(body.error.code).toBe(code);
}

const chat = (extra: object = {}) => ({ model: MODEL, messages: [{ role: 'user', content: 'Call me Ishmael.' }], max_tokens: 6, ...extra });
const completion = (extra: object = {}) => ({ model: MODEL, prompt: 'Call me', max_tokens: 6, ...extra });

// ---------------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------------

describe('GptBackend', () => {
  it('draws the same tokens as generate() for the same seed and settings', async () => {
    const promptIds = Array.from(tokenizer.encode('Call me Ishmael. Some years ago').ids); // longer than the context
    for (const [temperature, topP, seed] of [[1, 1, 3], [0.7, 0.9, 4], [0, 1, 5]]) {
      const ours = await backend.complete({ promptIds, maxTokens: 12, temperature, topP, seed });
      expect(ours).toEqual(await generate(backend.model, promptIds, 12, { temperature, topP, seed }));
    }
  });

  it('stops when onToken says so, or when the stop signal is aborted', async () => {
    const promptIds = [1, 2, 3];
    expect(await backend.complete({ promptIds, maxTokens: 20, temperature: 1, topP: 1, seed: 1, onToken: () => false })).toHaveLength(1);
    const stop = new AbortController();
    let n = 0;
    const ids = await backend.complete({ promptIds, maxTokens: 20, temperature: 1, topP: 1, seed: 1, stop: stop.signal, onToken: () => void (++n === 3 && stop.abort()) });
    expect(ids).toHaveLength(3);
  });
});

describe('GET /v1/models', () => {
  it('lists the one model', async () => {
    const { status, headers, body } = await call(new Request(`${URL_BASE}/v1/models`));
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(headers.get('content-security-policy')).toBe("default-src 'none'");
    expect(headers.get('access-control-allow-origin')).toBeNull();
    expect(body).toEqual({
      object: 'list',
      data: [{ id: MODEL, object: 'model', created: 1_700_000_000, owned_by: 'gpt-lab', gpt_lab: { context_length: 16, vocab_size: tokenizer.size } }],
    });
  });

  it('describes the model by id, and 404s another', async () => {
    const one = await call(new Request(`${URL_BASE}/v1/models/${MODEL}`));
    expect(one.status).toBe(200);
    expect(one.body.id).toBe(MODEL);
    const other = await call(new Request(`${URL_BASE}/v1/models/gpt-4o`));
    expect(other.status).toBe(404);
    expectError(other.body, 'model', 'model_not_found');
  });
});

describe('POST /v1/completions', () => {
  it('continues the prompt and counts tokens', async () => {
    const { status, body } = await call(post('/v1/completions', completion({ seed: 3 })));
    expect(status).toBe(200);
    expect(body).toMatchObject({ object: 'text_completion', model: MODEL });
    expect(body.id).toMatch(/^cmpl-[0-9a-f]{24}$/);
    expect(body.choices).toHaveLength(1);
    const [choice] = body.choices;
    expect(choice).toMatchObject({ index: 0, logprobs: null, finish_reason: 'length' });
    expect([...choice.text].every((ch) => TEXT.includes(ch))).toBe(true);
    expect(choice.text).toHaveLength(6); // one character per token, no stop met
    expect(body.usage).toEqual({ prompt_tokens: 7, completion_tokens: 6, total_tokens: 13 });
    expect(body.gpt_lab).toEqual({ prompt_cropped: 0, unknown_chars: 0, context_length: 16, seed: 3 });
  });

  it('repeats itself with the same seed, and is greedy at temperature 0', async () => {
    const a = await call(post('/v1/completions', completion({ seed: 11, max_tokens: 10 })));
    const b = await call(post('/v1/completions', completion({ seed: 11, max_tokens: 10 })));
    expect(a.body.choices[0].text).toBe(b.body.choices[0].text);
    const greedy = await Promise.all([1, 2].map((seed) => call(post('/v1/completions', completion({ seed, temperature: 0, max_tokens: 10 })))));
    expect(greedy[0].body.choices[0].text).toBe(greedy[1].body.choices[0].text);
  });

  it('takes prompt as an array of one string', async () => {
    const { status, body } = await call(post('/v1/completions', completion({ prompt: ['Call me'], max_tokens: 2 })));
    expect(status).toBe(200);
    expect(body.usage.prompt_tokens).toBe(7);
  });

  it('gives n different choices and counts all their tokens', async () => {
    const { body } = await call(post('/v1/completions', completion({ n: 3, max_tokens: 12, seed: 5 })));
    expect(body.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(body.choices.map((c) => c.text)).size).toBeGreaterThan(1);
    expect(body.usage).toEqual({ prompt_tokens: 7, completion_tokens: 36, total_tokens: 43 });
  });

  it('ends at a stop sequence, which is not part of the text', async () => {
    const free = await call(post('/v1/completions', completion({ temperature: 0, max_tokens: 12 })));
    const text: string = free.body.choices[0].text;
    const stop = text.slice(4, 6);
    const cut = text.indexOf(stop);
    const { body } = await call(post('/v1/completions', completion({ temperature: 0, max_tokens: 12, stop: ['QQQQ', stop] })));
    expect(body.choices[0]).toMatchObject({ text: text.slice(0, cut), finish_reason: 'stop' });
    expect(body.usage.completion_tokens).toBe(cut + stop.length); // the tokens drawn, the stop's included
  });

  it('crops a prompt longer than the context from the left and says so', async () => {
    const { status, body } = await call(post('/v1/completions', completion({ prompt: 'a'.repeat(9_990) + 'Call me Ish', max_tokens: 2 })));
    expect(status).toBe(200);
    expect(body.gpt_lab.prompt_cropped).toBe(10_001 - 16);
    expect(body.usage.prompt_tokens).toBe(16);
  });

  it('counts characters outside the vocabulary (emoji, control characters, tabs)', async () => {
    const { status, body } = await call(post('/v1/completions', completion({ prompt: 'Whale 🐋\u0000\u0007\t\u202e\ud83d\ude00!', max_tokens: 2 })));
    expect(status).toBe(200);
    expect(body.gpt_lab.unknown_chars).toBe(7); // 🐋 NUL BEL TAB RLO 😀 ! — one each (code points, not UTF-16 units)
    expect(body.usage.prompt_tokens).toBe(13);
  });

  it('starts an empty prompt from a new line', async () => {
    const { status, body } = await call(post('/v1/completions', completion({ prompt: '', max_tokens: 3 })));
    expect(status).toBe(200);
    expect(body.usage.prompt_tokens).toBe(1);
  });
});

describe('POST /v1/chat/completions', () => {
  it('answers in the chat format and counts the rendered prompt', async () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Call me Ishmael.' },
      { role: 'assistant', content: [{ type: 'text', text: 'Aye.' }] },
      { role: 'developer', content: 'Still brief.' },
      { role: 'user', content: 'And then?', name: 'ishmael' },
    ];
    const { status, body } = await call(post('/v1/chat/completions', { model: MODEL, messages, max_tokens: 8, seed: 2 }));
    expect(status).toBe(200);
    expect(body).toMatchObject({ object: 'chat.completion', model: MODEL });
    expect(body.id).toMatch(/^chatcmpl-/);
    const [choice] = body.choices;
    expect(choice.message).toEqual({ role: 'assistant', content: expect.any(String), refusal: null });
    expect(choice.message.content).not.toContain('\n\n');
    expect(choice.message.content).not.toContain('\nUser:');
    const prompt = renderChat(
      [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Call me Ishmael.' },
        { role: 'assistant', content: 'Aye.' },
        { role: 'system', content: 'Still brief.' },
        { role: 'user', content: 'And then?' },
      ],
      { forAssistant: true },
    );
    expect(body.usage.prompt_tokens).toBe(Math.min(prompt.length, 16));
    expect(body.gpt_lab.prompt_cropped).toBe(prompt.length - 16);
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(8);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
  });

  it('ends the reply where the model starts the next turn, without the space after "Assistant:"', async () => {
    const scripted = new ScriptedBackend(' Call me Ishmael.\nUser: more');
    const handler = createApiHandler(scripted);
    const { body } = await call(post('/v1/chat/completions', { ...chat(), model: 'scripted', max_tokens: 50 }), handler);
    expect(body.choices[0]).toMatchObject({ message: { content: 'Call me Ishmael.' }, finish_reason: 'stop' });
    expect(body.usage.completion_tokens).toBe(' Call me Ishmael.\nUser:'.length);
    expect(scripted.calls[0].promptIds).toEqual(Array.from(tokenizer.encode('User: Call me Ishmael.\nAssistant:').ids));
  });

  it('ends the reply at a blank line', async () => {
    const handler = createApiHandler(new ScriptedBackend(' Aye.\n\nUser: x'));
    const { body } = await call(post('/v1/chat/completions', { ...chat(), model: 'scripted', max_tokens: 50 }), handler);
    expect(body.choices[0]).toMatchObject({ message: { content: 'Aye.' }, finish_reason: 'stop' });
  });

  it('accepts max_completion_tokens, and null for optional fields', async () => {
    const { status, body } = await call(post('/v1/chat/completions', chat({ max_tokens: null, max_completion_tokens: 3, stop: null, seed: null, n: null })));
    expect(status).toBe(200);
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(3);
  });
});

describe('streaming', () => {
  it('sends chat chunks as server-sent events ending with [DONE], the same text as without streaming', async () => {
    const res = await api(post('/v1/chat/completions', chat({ stream: true, seed: 9, max_tokens: 10, stream_options: { include_usage: true } })));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const data = events(await res.text());
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    const ids = new Set(chunks.map((c) => c.id));
    expect(ids.size).toBe(1);
    for (const c of chunks) expect(c).toMatchObject({ object: 'chat.completion.chunk', model: MODEL, created: expect.any(Number) });
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    const finish = chunks.at(-2);
    expect(finish.choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: expect.stringMatching(/^(stop|length)$/) });
    const usageChunk = chunks.at(-1);
    expect(usageChunk.choices).toEqual([]);
    const streamed = chunks.slice(1, -2).map((c) => c.choices[0].delta.content).join('');

    const plain = await call(post('/v1/chat/completions', chat({ seed: 9, max_tokens: 10 })));
    expect(streamed).toBe(plain.body.choices[0].message.content);
    expect(usageChunk.usage).toEqual(plain.body.usage);
  });

  it('sends completion chunks, one per choice index with n = 2', async () => {
    const res = await api(post('/v1/completions', completion({ stream: true, n: 2, max_tokens: 4, seed: 1 })));
    const data = events(await res.text());
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    const texts = ['', ''];
    for (const c of chunks) {
      expect(c.object).toBe('text_completion');
      texts[c.choices[0].index] += c.choices[0].text;
    }
    const plain = await call(post('/v1/completions', completion({ n: 2, max_tokens: 4, seed: 1 })));
    expect(texts).toEqual(plain.body.choices.map((c) => c.text));
  });

  it('never shows part of a stop sequence', async () => {
    const handler = createApiHandler(new ScriptedBackend(' Aye aye.\nUse the boat.\nUser: no'));
    const res = await handler(post('/v1/chat/completions', { ...chat(), model: 'scripted', stream: true, max_tokens: 60 }));
    const deltas = events(await res.text())
      .slice(1, -2)
      .map((d) => JSON.parse(d).choices[0].delta.content);
    expect(deltas.join('')).toBe('Aye aye.\nUse the boat.');
    expect(deltas.every((d) => d.length > 0)).toBe(true);
  });

  it('stops generating when the client goes away', async () => {
    const scripted = new ScriptedBackend('a', 5);
    const handler = createApiHandler(scripted);
    const res = await handler(post('/v1/completions', { model: 'scripted', prompt: 'x', stream: true, max_tokens: 1000 }));
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(scripted.running).toBe(0);
    expect(scripted.calls[0].stop?.aborted).toBe(true);
  });
});

describe('a client that goes away', () => {
  it('stops a generation it no longer waits for (the request is aborted)', async () => {
    const scripted = new ScriptedBackend('a', 5);
    const handler = createApiHandler(scripted);
    const gone = new AbortController();
    const req = new Request(`${URL_BASE}/v1/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'scripted', prompt: 'x', max_tokens: 1000 }),
      signal: gone.signal,
    });
    setTimeout(() => gone.abort(), 30);
    const { status, body } = await call(req, handler);
    expect(status).toBe(200);
    expect(scripted.calls[0].stop?.aborted).toBe(true);
    expect(body.usage.completion_tokens).toBeLessThan(100);
  });
});

describe('the queue', () => {
  it('runs one generation at a time and answers every request', async () => {
    const scripted = new ScriptedBackend('abc', 2);
    const handler = createApiHandler(scripted);
    const results = await Promise.all(
      [1, 2, 3, 4].map((i) => call(post('/v1/completions', { model: 'scripted', prompt: 'x', max_tokens: 3, stream: i % 2 === 0 }), handler)),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(scripted.calls).toHaveLength(4);
    expect(scripted.mostAtOnce).toBe(1);
  });

  it('answers 429 when the queue is full, and serves again once it drains', async () => {
    const handler = createApiHandler(new ScriptedBackend('abc', 5), { maxQueue: 1 });
    const body = { model: 'scripted', prompt: 'x', max_tokens: 3 };
    const [first, second] = await Promise.all([call(post('/v1/completions', body), handler), call(post('/v1/completions', body), handler)]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('1');
    expectError(second.body, null, 'rate_limit_exceeded');
    expect((await call(post('/v1/completions', body), handler)).status).toBe(200);
  });

  it('turns a failing model into a 500 error object and keeps serving', async () => {
    const broken: ModelBackend = { ...new ScriptedBackend('a'), tokenizer, id: 'broken', complete: () => Promise.reject(new Error('out of memory')) };
    const handler = createApiHandler(broken);
    const r = await call(post('/v1/completions', { model: 'broken', prompt: 'x' }), handler);
    expect(r.status).toBe(500);
    expectError(r.body, null, 'server_error');
    expect(r.body.error.message).toContain('out of memory');
    const streamed = await (await handler(post('/v1/completions', { model: 'broken', prompt: 'x', stream: true }))).text();
    expect(JSON.parse(events(streamed).at(-1)!).error.code).toBe('server_error');
    expect((await call(new Request(`${URL_BASE}/v1/models`), handler)).status).toBe(200);
  });
});

describe('the base path', () => {
  it('answers under the site base path only', async () => {
    const handler = createApiHandler(backend, { basePath: '/gpt-lab/' });
    expect((await call(new Request(`${URL_BASE}/gpt-lab/v1/models`), handler)).status).toBe(200);
    expect((await call(new Request(`${URL_BASE}/v1/models`), handler)).status).toBe(404);
  });
});

describe('StopScanner', () => {
  it('holds back a possible start of a stop sequence until it is decided', () => {
    const s = new StopScanner(['\nUser:', 'END']);
    expect(s.push('a')).toBe('a');
    expect(s.push('\n')).toBe('');
    expect(s.push('U')).toBe('');
    expect(s.push('x')).toBe('\nUx');
    expect(s.push('E')).toBe('');
    expect(s.push('N')).toBe('');
    expect(s.push('D')).toBe('');
    expect(s.stopped).toBe(true);
    expect(s.push('more')).toBe('');
    expect(s.flush()).toBe('');
  });

  it('gives back what it held when the text ends without a stop', () => {
    const s = new StopScanner(['\n\n']);
    expect(s.push('ab\n')).toBe('ab');
    expect(s.flush()).toBe('\n');
  });
});

// ---------------------------------------------------------------------------------------------
// Malformed and hostile requests
// ---------------------------------------------------------------------------------------------

const json = { 'Content-Type': 'application/json' };
const enc = (s: string) => new TextEncoder().encode(s);

interface Case {
  name: string;
  request: () => Request;
  status: number;
  param?: string | null;
  code?: string;
  check?: (body: Body, headers: Headers) => void;
}

const CASES: Case[] = [
  { name: 'bad JSON', request: () => post('/v1/completions', '{"model": "tiny-test", "prompt": '), status: 400, param: null, code: 'invalid_json' },
  { name: 'JSON with a trailing comma', request: () => post('/v1/chat/completions', '{"model": "tiny-test",}'), status: 400, code: 'invalid_json' },
  { name: 'empty body', request: () => post('/v1/completions', ''), status: 400, code: 'invalid_json' },
  { name: 'array body', request: () => post('/v1/completions', '[{"model": "tiny-test"}]'), status: 400, code: 'invalid_json' },
  { name: 'null body', request: () => post('/v1/completions', 'null'), status: 400, code: 'invalid_json' },
  { name: 'number body', request: () => post('/v1/completions', '42'), status: 400, code: 'invalid_json' },
  { name: 'string body', request: () => post('/v1/chat/completions', '"hi"'), status: 400, code: 'invalid_json' },
  { name: '100k nested arrays', request: () => post('/v1/completions', '['.repeat(100_000) + ']'.repeat(100_000)), status: 400 },
  { name: 'non-UTF-8 bytes', request: () => post('/v1/completions', new Uint8Array([...enc('{"model": "'), 0xff, 0xfe, 0xc3, ...enc('"}')])), status: 400, code: 'invalid_encoding' },
  { name: 'lone UTF-8 continuation byte', request: () => post('/v1/completions', new Uint8Array([...enc('{"prompt": "a'), 0x80, ...enc('"}')])), status: 400, code: 'invalid_encoding' },
  { name: 'body of 1.5 MB', request: () => post('/v1/completions', JSON.stringify({ model: MODEL, prompt: 'a'.repeat(1_500_000) })), status: 413, code: 'request_too_large' },
  {
    name: 'Content-Length over 1 MB',
    request: () => post('/v1/completions', JSON.stringify(completion()), { ...json, 'Content-Length': '5000000' }),
    status: 413,
    code: 'request_too_large',
  },
  { name: 'text/plain content type', request: () => post('/v1/completions', JSON.stringify(completion()), { 'Content-Type': 'text/plain' }), status: 415, code: 'unsupported_media_type' },
  { name: 'form content type', request: () => post('/v1/completions', 'model=tiny-test', { 'Content-Type': 'application/x-www-form-urlencoded' }), status: 415 },
  { name: 'JSON in latin1', request: () => post('/v1/completions', JSON.stringify(completion()), { 'Content-Type': 'application/json; charset=latin1' }), status: 415 },
  { name: 'no model', request: () => post('/v1/completions', { prompt: 'x' }), status: 400, param: 'model', code: 'missing_required_parameter' },
  { name: 'model of the wrong type', request: () => post('/v1/completions', completion({ model: 5 })), status: 400, param: 'model', code: 'invalid_type' },
  { name: 'unknown model', request: () => post('/v1/chat/completions', chat({ model: 'gpt-4o' })), status: 404, param: 'model', code: 'model_not_found' },
  { name: 'prompt of the wrong type', request: () => post('/v1/completions', completion({ prompt: { text: 'x' } })), status: 400, param: 'prompt' },
  { name: 'prompt of token ids', request: () => post('/v1/completions', completion({ prompt: [1, 2, 3] })), status: 400, param: 'prompt' },
  { name: 'two prompts', request: () => post('/v1/completions', completion({ prompt: ['a', 'b'] })), status: 400, param: 'prompt' },
  { name: 'no prompt', request: () => post('/v1/completions', { model: MODEL }), status: 400, param: 'prompt' },
  { name: 'negative max_tokens', request: () => post('/v1/completions', completion({ max_tokens: -1 })), status: 400, param: 'max_tokens', code: 'invalid_value' },
  { name: 'zero max_tokens', request: () => post('/v1/completions', completion({ max_tokens: 0 })), status: 400, param: 'max_tokens' },
  { name: 'huge max_tokens', request: () => post('/v1/completions', completion({ max_tokens: 1e12 })), status: 400, param: 'max_tokens' },
  { name: 'max_tokens 1e400 (Infinity)', request: () => post('/v1/completions', '{"model": "tiny-test", "prompt": "a", "max_tokens": 1e400}'), status: 400, param: 'max_tokens' },
  { name: 'fractional max_tokens', request: () => post('/v1/completions', completion({ max_tokens: 2.5 })), status: 400, param: 'max_tokens', code: 'invalid_type' },
  { name: 'max_tokens as a string', request: () => post('/v1/completions', completion({ max_tokens: '5' })), status: 400, param: 'max_tokens', code: 'invalid_type' },
  { name: 'temperature -1', request: () => post('/v1/completions', completion({ temperature: -1 })), status: 400, param: 'temperature' },
  { name: 'temperature 3', request: () => post('/v1/chat/completions', chat({ temperature: 3 })), status: 400, param: 'temperature' },
  { name: 'temperature as a string', request: () => post('/v1/completions', completion({ temperature: 'hot' })), status: 400, param: 'temperature' },
  { name: 'top_p 0', request: () => post('/v1/completions', completion({ top_p: 0 })), status: 400, param: 'top_p' },
  { name: 'top_p 1.5', request: () => post('/v1/chat/completions', chat({ top_p: 1.5 })), status: 400, param: 'top_p' },
  { name: 'n 0', request: () => post('/v1/completions', completion({ n: 0 })), status: 400, param: 'n' },
  { name: 'n 100', request: () => post('/v1/chat/completions', chat({ n: 100 })), status: 400, param: 'n' },
  { name: 'stop with 5 items', request: () => post('/v1/completions', completion({ stop: ['a', 'b', 'c', 'd', 'e'] })), status: 400, param: 'stop' },
  { name: 'stop with a number', request: () => post('/v1/completions', completion({ stop: ['a', 7] })), status: 400, param: 'stop[1]' },
  { name: 'empty stop sequence', request: () => post('/v1/completions', completion({ stop: '' })), status: 400, param: 'stop' },
  { name: 'fractional seed', request: () => post('/v1/completions', completion({ seed: 1.5 })), status: 400, param: 'seed' },
  { name: 'seed as a string', request: () => post('/v1/completions', completion({ seed: '42' })), status: 400, param: 'seed' },
  { name: 'stream as a string', request: () => post('/v1/completions', completion({ stream: 'yes' })), status: 400, param: 'stream' },
  { name: 'stream_options as a string', request: () => post('/v1/completions', completion({ stream: true, stream_options: 'usage' })), status: 400, param: 'stream_options' },
  { name: 'no messages', request: () => post('/v1/chat/completions', { model: MODEL }), status: 400, param: 'messages' },
  { name: 'messages as a string', request: () => post('/v1/chat/completions', chat({ messages: 'hi' })), status: 400, param: 'messages' },
  { name: 'empty messages', request: () => post('/v1/chat/completions', chat({ messages: [] })), status: 400, param: 'messages' },
  { name: 'a message that is not an object', request: () => post('/v1/chat/completions', chat({ messages: ['hi'] })), status: 400, param: 'messages[0]' },
  { name: 'tool role', request: () => post('/v1/chat/completions', chat({ messages: [{ role: 'tool', content: 'x' }] })), status: 400, param: 'messages[0].role' },
  { name: 'role "__proto__"', request: () => post('/v1/chat/completions', chat({ messages: [{ role: '__proto__', content: 'x' }] })), status: 400, param: 'messages[0].role' },
  { name: 'content of the wrong type', request: () => post('/v1/chat/completions', chat({ messages: [{ role: 'user', content: 5 }] })), status: 400, param: 'messages[0].content' },
  {
    name: 'an image part',
    request: () => post('/v1/chat/completions', chat({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] })),
    status: 400,
    param: 'messages[0].content[0].type',
  },
  { name: '__proto__ body', request: () => post('/v1/completions', '{"__proto__": {"polluted": 1}}'), status: 400, param: 'model' },
  {
    name: '__proto__ and constructor beside good fields',
    request: () =>
      post('/v1/completions', `{"model": "tiny-test", "prompt": "x", "max_tokens": 2, "__proto__": {"polluted": 1, "max_tokens": 999}, "constructor": {"prototype": {"polluted": 1}}}`),
    status: 200,
    check: (body) => expect(body.usage.completion_tokens).toBe(2),
  },
  {
    name: '__proto__ inside a message',
    request: () => post('/v1/chat/completions', `{"model": "tiny-test", "max_tokens": 2, "messages": [{"__proto__": {"role": "user", "content": "x"}}]}`),
    status: 400,
    param: 'messages[0].role',
  },
  {
    name: 'control characters in the prompt',
    request: () => post('/v1/completions', completion({ prompt: 'a\u0000b\u0001\u001b[31m\u007f\r\n\u2028c', max_tokens: 2 })),
    status: 200,
    check: (body) => expect(body.gpt_lab.unknown_chars).toBe(9), // NUL SOH ESC [ 3 1 DEL CR U+2028
  },
  {
    name: 'emoji in a message',
    request: () => post('/v1/chat/completions', chat({ messages: [{ role: 'user', content: 'Thar she blows 🐳🐳👨‍👩‍👧' }] })),
    status: 200,
    check: (body) => expect(body.gpt_lab.unknown_chars).toBe(7), // 🐳 🐳 👨 ZWJ 👩 ZWJ 👧
  },
  {
    name: 'prompt of 10k characters',
    request: () => post('/v1/completions', completion({ prompt: 'x'.repeat(10_000), max_tokens: 1 })),
    status: 200,
    check: (body) => expect(body.gpt_lab.prompt_cropped).toBe(10_000 - 16),
  },
  {
    name: 'unknown fields',
    request: () => post('/v1/chat/completions', chat({ frequency_penalty: 0.5, logit_bias: { 1: 5 }, user: 'me', tools: [], response_format: { type: 'text' } })),
    status: 200,
  },
  // (bytes: a string body would get text/plain from the Request constructor)
  { name: 'no content type (read as JSON)', request: () => post('/v1/completions', enc(JSON.stringify(completion())), {}), status: 200 },
  { name: 'unknown path', request: () => post('/v1/engines/davinci/completions', completion()), status: 404, code: 'unknown_url' },
  { name: 'path outside /v1', request: () => new Request(`${URL_BASE}/admin`), status: 404, code: 'unknown_url' },
  { name: 'path with dot segments', request: () => new Request(`${URL_BASE}/v1/models/..%2F..%2Fetc%2Fpasswd`), status: 404, code: 'model_not_found' },
  { name: 'malformed percent-encoding', request: () => new Request(`${URL_BASE}/v1/models/%E0%A4%A`), status: 404 },
  {
    name: 'GET on completions',
    request: () => new Request(`${URL_BASE}/v1/completions`),
    status: 405,
    code: 'method_not_allowed',
    check: (_body, headers) => expect(headers.get('allow')).toBe('POST'),
  },
  {
    name: 'PUT on chat completions',
    request: () => new Request(`${URL_BASE}/v1/chat/completions`, { method: 'PUT', headers: json, body: JSON.stringify(chat()) }),
    status: 405,
    check: (_body, headers) => expect(headers.get('allow')).toBe('POST'),
  },
  {
    name: 'POST on models',
    request: () => post('/v1/models', {}),
    status: 405,
    check: (_body, headers) => expect(headers.get('allow')).toBe('GET'),
  },
  { name: 'DELETE on a model', request: () => new Request(`${URL_BASE}/v1/models/${MODEL}`, { method: 'DELETE' }), status: 405 },
];

describe('malformed and hostile requests', () => {
  it(`has at least 20 cases (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(20);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { status, headers, body } = await call(c.request());
    expect(status).toBe(c.status);
    expect(headers.get('content-security-policy')).toBe("default-src 'none'");
    if (c.status >= 400) expectError(body, c.param, c.code);
    else expect(body.choices).toHaveLength(1);
    c.check?.(body, headers);
  });

  it('leaves Object.prototype alone and keeps serving afterwards', async () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    const after = await call(post('/v1/chat/completions', chat({ seed: 1 })));
    expect(after.status).toBe(200);
    expect(typeof after.body.choices[0].message.content).toBe('string');
  });
});
