/**
 * The API served by the live model (src/engine/jobs/serve.ts), through a real Engine on cpu:
 * `serve.request` answers every endpoint from the reader's model; `serve.handle` writes the answer
 * onto a MessagePort as the Service Worker reads it (head, chunks, end), a streamed one ending in
 * `data: [DONE]`; training pauses while the model answers and trains on afterwards; the output
 * filter cuts the live model's text; the engine leaves no tensor behind.
 */
import { describe, expect, it } from 'vitest';
import type { PortMessage } from '../../src/api/port';
import { Engine } from '../../src/engine/engine';
import { LIVE_MAX_TOKENS, LIVE_MODEL_ID, type ServeRequest } from '../../src/engine/jobs/serve';
import { fakeHost, TEST_ENGINE_OPTIONS, liveEngineSuite } from './engineFixture';

const { text, tiny, checkpoint, started } = liveEngineSuite();

const JSON_HEADERS = { 'Content-Type': 'application/json' };
const post = (path: string, body: unknown): ServeRequest => ({
  method: 'POST',
  path,
  headers: JSON_HEADERS,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const chat = (extra: object = {}) => ({ model: LIVE_MODEL_ID, messages: [{ role: 'user', content: 'Call me Ishmael.' }], max_tokens: 8, ...extra });

/** The `data:` payloads of an SSE body. */
function events(body: string): string[] {
  expect(body.endsWith('\n\n')).toBe(true);
  return body
    .slice(0, -2)
    .split('\n\n')
    .map((e) => {
      expect(e.startsWith('data: ')).toBe(true);
      return e.slice('data: '.length);
    });
}

/** Reads what `handle` writes on the other end of a MessageChannel, as the Service Worker does. */
function portReader(port: MessagePort): { messages: PortMessage[]; done: Promise<{ status: number; headers: Record<string, string>; body: string }> } {
  const messages: PortMessage[] = [];
  const decoder = new TextDecoder();
  const done = new Promise<{ status: number; headers: Record<string, string>; body: string }>((resolve, reject) => {
    let head: { status: number; headers: Record<string, string> } | null = null;
    let body = '';
    port.onmessage = (e: MessageEvent) => {
      const m = e.data as PortMessage;
      messages.push(m);
      if (m.type === 'head') head = { status: m.status, headers: Object.fromEntries(m.headers) };
      else if (m.type === 'chunk') body += decoder.decode(m.bytes, { stream: true });
      else if (m.type === 'end') {
        port.close();
        if (head == null) reject(new Error('end before head'));
        else resolve({ ...head, body });
      } else if (m.type === 'fail') {
        port.close();
        reject(new Error(m.message));
      }
    };
  });
  return { messages, done };
}

describe('serve.request', () => {
  it('answers every endpoint from the live model', async () => {
    const engine = await started();
    const vocabulary = await engine.runJob('read', async (wb) => wb.run.tokenizer.vocabulary.length);

    const models = await engine.serve.request({ method: 'GET', path: '/v1/models' });
    expect(models.status).toBe(200);
    const list = JSON.parse(models.body);
    expect(list.data.map((m: { id: string }) => m.id)).toEqual([LIVE_MODEL_ID]);
    expect(list.data[0].gpt_lab).toEqual({ context_length: tiny.contextLength, vocab_size: vocabulary });

    const one = await engine.serve.request({ method: 'GET', path: `/v1/models/${LIVE_MODEL_ID}` });
    expect(JSON.parse(one.body).id).toBe(LIVE_MODEL_ID);

    const c = await engine.serve.request(post('/v1/completions', { model: LIVE_MODEL_ID, prompt: 'Call me', max_tokens: 7, seed: 3 }));
    expect(c.status).toBe(200);
    const completion = JSON.parse(c.body);
    expect(completion.model).toBe(LIVE_MODEL_ID);
    expect(completion.usage).toEqual({ prompt_tokens: 7, completion_tokens: 7, total_tokens: 14 });
    expect([...completion.choices[0].text].length).toBe(7);

    // The live model drew it: the same prompt, seed and settings through the engine's own sampler agree.
    const greedy = await engine.serve.request(post('/v1/completions', { model: LIVE_MODEL_ID, prompt: 'Call me', max_tokens: 10, temperature: 0 }));
    const sample = await engine.sample({ prompt: 'Call me', maxTokens: 10, temperature: 0 });
    expect(JSON.parse(greedy.body).choices[0].text).toBe(sample.text);

    const r = await engine.serve.request(post('/v1/chat/completions', chat({ seed: 5 })));
    expect(r.status).toBe(200);
    const reply = JSON.parse(r.body);
    expect(reply.object).toBe('chat.completion');
    expect(typeof reply.choices[0].message.content).toBe('string');
    expect(reply.usage.total_tokens).toBe(reply.usage.prompt_tokens + reply.usage.completion_tokens);
    // "User: Call me Ishmael.\nAssistant:" is 33 characters, one token each.
    expect(reply.usage.prompt_tokens).toBe(Math.min(33, tiny.contextLength));
    expect(reply.gpt_lab.prompt_cropped).toBe(Math.max(0, 33 - tiny.contextLength));
  });

  it('answers errors as error objects with their status, under a base path too', async () => {
    const engine = await started();
    const bad = await engine.serve.request(post('/v1/chat/completions', '{"model": '));
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe('invalid_json');
    const tooMany = await engine.serve.request(post('/v1/chat/completions', chat({ max_tokens: LIVE_MAX_TOKENS + 1 })));
    expect(tooMany.status).toBe(400);
    expect(JSON.parse(tooMany.body).error.param).toBe('max_tokens');
    const unknown = await engine.serve.request({ method: 'GET', path: '/v1/nothing' });
    expect(unknown.status).toBe(404);
    const wrongMethod = await engine.serve.request({ method: 'DELETE', path: '/v1/models' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET');
    const based = await engine.serve.request({ method: 'GET', path: 'https://site.test/gpt-lab/v1/models', basePath: '/gpt-lab' });
    expect(based.status).toBe(200);
    const outside = await engine.serve.request({ method: 'GET', path: 'https://site.test/v1/models', basePath: '/gpt-lab' });
    expect(outside.status).toBe(404);
  });

  it('answers 503 with an error object while the engine has no model', async () => {
    const engine = new Engine(fakeHost(text, checkpoint), TEST_ENGINE_OPTIONS);
    const r = await engine.serve.request({ method: 'GET', path: '/v1/models' });
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body).error).toMatchObject({ code: 'model_not_ready', type: 'server_error' });
  });
});

describe('serve.handle', () => {
  it('streams server-sent events over a MessagePort, ending in data: [DONE]', async () => {
    const engine = await started();
    const channel = new MessageChannel();
    const reader = portReader(channel.port1);
    await engine.serve.handle(post('/v1/chat/completions', chat({ stream: true, seed: 11, max_tokens: 12 })), channel.port2);
    const res = await reader.done;
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    // Head first, end last, and the body came in several chunks (one per event at least).
    expect(reader.messages[0].type).toBe('head');
    expect(reader.messages.at(-1)!.type).toBe('end');
    const data = events(res.body);
    expect(data.at(-1)).toBe('[DONE]');
    expect(reader.messages.filter((m) => m.type === 'chunk').length).toBeGreaterThanOrEqual(data.length);
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    for (const c of chunks) expect(c).toMatchObject({ object: 'chat.completion.chunk', model: LIVE_MODEL_ID });
    const streamed = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    // The same request without streaming gives the same text.
    const plain = JSON.parse((await engine.serve.request(post('/v1/chat/completions', chat({ seed: 11, max_tokens: 12 })))).body);
    expect(streamed).toBe(plain.choices[0].message.content);
  });

  it('stops generating when the client cancels', async () => {
    const engine = await started();
    const channel = new MessageChannel();
    let tokens = 0;
    let cancelled = false;
    const finished = new Promise<void>((resolve) => {
      channel.port1.onmessage = (e: MessageEvent) => {
        const m = e.data as PortMessage;
        if (m.type === 'chunk' && ++tokens === 3 && !cancelled) {
          cancelled = true;
          channel.port1.postMessage({ type: 'cancel' });
        }
        if (m.type === 'end' || m.type === 'fail') resolve();
      };
    });
    const handled = engine.serve.handle(post('/v1/completions', { model: LIVE_MODEL_ID, prompt: 'The', max_tokens: LIVE_MAX_TOKENS, stream: true }), channel.port2);
    await handled;
    await Promise.race([finished, new Promise((r) => setTimeout(r, 200))]);
    channel.port1.close();
    expect(cancelled).toBe(true);
    // It stopped long before the 1024 tokens it asked for.
    expect(tokens).toBeLessThan(50);
  });

  it('answers 503 on the port when the engine has no model', async () => {
    const engine = new Engine(fakeHost(text, checkpoint), TEST_ENGINE_OPTIONS);
    const channel = new MessageChannel();
    const reader = portReader(channel.port1);
    await engine.serve.handle({ method: 'GET', path: '/v1/models' }, channel.port2);
    const res = await reader.done;
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body).error.code).toBe('model_not_ready');
  });
});

describe('training and the API', () => {
  it('pauses while the model answers and trains on afterwards', async () => {
    const engine = await started();
    await engine.train();
    await waitForStep(engine, 3);
    // The step the engine is at as each chunk of a streamed answer is sent (status() reads it at the
    // call, synchronously): it may not move while the model answers.
    const channel = new MessageChannel();
    const stepsDuring: Promise<number>[] = [];
    const send = channel.port2.postMessage.bind(channel.port2);
    channel.port2.postMessage = ((m: PortMessage, transfer: Transferable[]) => {
      if (m.type === 'chunk') stepsDuring.push(engine.status().then((st) => st.step));
      send(m, transfer);
    }) as typeof channel.port2.postMessage;
    const reader = portReader(channel.port1);
    await engine.serve.handle(post('/v1/completions', { model: LIVE_MODEL_ID, prompt: 'The whale', max_tokens: 40, stream: true }), channel.port2);
    expect((await reader.done).status).toBe(200);
    const steps = await Promise.all(stepsDuring);
    expect(steps.length).toBeGreaterThan(40); // a chunk per token at least
    expect(new Set(steps).size).toBe(1);
    // And training went on by itself afterwards.
    await waitForStep(engine, steps[0] + 2);
    expect((await engine.status()).state).toBe('training');
    await engine.pause();
  });
});

describe('the output filter', () => {
  it('is off by default, and cuts the live model’s text before a blocked word when on', async () => {
    const engine = await started();
    expect(await engine.serve.getOutputFilter()).toEqual({ enabled: false, blockedWords: [] });
    const ask = post('/v1/completions', { model: LIVE_MODEL_ID, prompt: 'Call me Ishmael.', max_tokens: 30, temperature: 0 });
    const free = JSON.parse((await engine.serve.request(ask)).body).choices[0];
    expect(free.finish_reason).toBe('length');
    // Block a piece of what the model says greedily: the first three characters from the tenth on with no space at either end.
    let from = 10;
    while (from < free.text.length - 3 && free.text.slice(from, from + 3).trim().length !== 3) from++;
    const word = free.text.slice(from, from + 3);
    expect(word.trim()).toHaveLength(3);
    const kept = await engine.serve.setOutputFilter({ enabled: true, blockedWords: [` ${word.toUpperCase()} `.trim(), '', word] });
    expect(kept.blockedWords).toEqual([word.toUpperCase()]); // trimmed, empty and case-duplicate dropped
    const cut = JSON.parse((await engine.serve.request(ask)).body);
    const at = free.text.toLowerCase().indexOf(word.toLowerCase());
    expect(cut.choices[0].text).toBe(free.text.slice(0, at));
    expect(cut.choices[0].finish_reason).toBe('content_filter');
    // The generation stopped at the word: fewer tokens than the 30 asked for.
    expect(cut.usage.completion_tokens).toBeLessThan(30);

    // Streamed: the same cut, and nothing of the word in any chunk.
    const streamed = await engine.serve.request({ ...ask, body: JSON.stringify({ ...JSON.parse(ask.body as string), stream: true }) });
    const chunks = events(streamed.body).slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks.map((c) => c.choices[0].text).join('')).toBe(free.text.slice(0, at));
    expect(chunks.at(-1).choices[0].finish_reason).toBe('content_filter');

    await engine.serve.setOutputFilter({ enabled: false, blockedWords: [word] });
    expect(JSON.parse((await engine.serve.request(ask)).body).choices[0].text).toBe(free.text);
    await expect(engine.serve.setOutputFilter({ enabled: 'yes', blockedWords: [] } as never)).rejects.toThrow(/enabled/);
  });
});

async function waitForStep(engine: Engine, step: number, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while ((await engine.status()).step < step) {
    if (Date.now() > until) throw new Error(`step ${step} not reached`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
