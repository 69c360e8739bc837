/**
 * The OpenAI-style API as one fetch-style handler: a `Request` in, a `Response` out. The same
 * function answers the page's requests to the site's Service Worker (run in the engine worker, over
 * the live model: src/engine/jobs/serve.ts) and `npm run serve` (Node), so it uses nothing but the
 * Fetch API's classes and a ModelBackend.
 *
 *   GET  /v1/models               the one model, in a list
 *   GET  /v1/models/{id}          the model
 *   POST /v1/completions          continue a `prompt`
 *   POST /v1/chat/completions     the assistant's reply to `messages` (the format of src/corpus/chat.ts)
 *
 * Generating endpoints take `model`, `max_tokens` (chat also `max_completion_tokens`),
 * `temperature` (0..2), `top_p` (0..1], `stop` (a string or up to 4), `seed` (an integer), `n`
 * (1..8), and `stream` (server-sent events, `data: {chunk}` lines ending with `data: [DONE]`;
 * `stream_options.include_usage` adds a last chunk with the usage). Responses carry `usage` in
 * tokens, and a `gpt_lab` object with what OpenAI's shape has no room for:
 *   prompt_cropped   tokens cut from the start of a prompt longer than the context
 *   unknown_chars    prompt characters outside the vocabulary (each took the fallback token)
 *   context_length   the model's window
 *   seed             the seed of the draws (send it back to repeat an answer; choice i > 0 uses mixSeed(seed, i))
 *
 * With an output filter (filter.ts) switched on, a choice that reaches a blocked word ends just
 * before it with `finish_reason: "content_filter"`.
 *
 * One generation runs at a time: requests wait their turn in a queue (429 when it is full).
 * Errors are `{"error": {message, type, param, code}}` with 400, 404, 405, 413, 415, 429 or 500.
 */
import { CHAT_STOP, renderChat } from '../corpus/chat';
import { mixSeed } from '../gpt/random';
import { ApiError } from './errors';
import { BlocklistScanner, type OutputFilterSettings } from './filter';
import type { ModelBackend } from './modelBackend';
import { chatParams, completionParams, MAX_BODY_BYTES, readJsonObject, type Limits, type SamplingParams } from './request';
import { StopScanner } from './stops';

export interface ApiHandlerOptions {
  /** The path before `/v1/` (the site's base path in the Service Worker); default '' (the root). */
  basePath?: string;
  /** The largest request body, in bytes; default 1 MB. */
  maxBodyBytes?: number;
  /** The most tokens one completion may ask for; default 4096. */
  maxTokens?: number;
  /** Requests waiting or running at most; one more is answered 429. Default 32. */
  maxQueue?: number;
  /** The output filter's settings (filter.ts), read as each choice starts; default: no filter. */
  outputFilter?: () => OutputFilterSettings;
}

export type ApiHandler = (req: Request) => Promise<Response>;

/** `max_tokens` when a request gives none: OpenAI's 16 for completions; a full context for chat. */
const DEFAULT_COMPLETION_TOKENS = 16;

/** On every response: nothing in it may run or load anything, nor be sniffed as another type, nor be cached. */
const COMMON_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
};

const ENDPOINTS = 'GET /v1/models, GET /v1/models/{id}, POST /v1/completions and POST /v1/chat/completions';

type FinishReason = 'stop' | 'length' | 'content_filter';

interface Prompt {
  /** Token ids the model sees: at least one, at most the context length. */
  ids: number[];
  cropped: number;
  unknown: number;
}

/** The handler for `backend`'s model. */
export function createApiHandler(backend: ModelBackend, options: ApiHandlerOptions = {}): ApiHandler {
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const maxTokens = options.maxTokens ?? 4096;
  const queue = new Queue(options.maxQueue ?? 32);
  const { tokenizer } = backend;
  /** Where an empty prompt starts: a new line, as text does after a paragraph. */
  const startId = tokenizer.vocabulary.indexOf('\n') >= 0 ? tokenizer.vocabulary.indexOf('\n') : tokenizer.fallbackId;

  async function route(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const prefix = `${basePath}/v1/`;
    const path = url.pathname;
    if (!path.startsWith(prefix)) throw unknownPath(req.method, path);
    const rest = path.slice(prefix.length).replace(/\/$/, '');

    if (rest === 'models') {
      allow(req, path, 'GET');
      return json(200, { object: 'list', data: [modelObject()] });
    }
    if (rest.startsWith('models/')) {
      allow(req, path, 'GET');
      let id: string;
      try {
        id = decodeURIComponent(rest.slice('models/'.length));
      } catch {
        throw unknownModel(rest.slice('models/'.length));
      }
      if (id !== backend.id) throw unknownModel(id);
      return json(200, modelObject());
    }
    if (rest === 'completions') {
      allow(req, path, 'POST');
      const body = await readJsonObject(req, maxBodyBytes);
      const params = completionParams(body, { maxTokens, defaultMaxTokens: Math.min(DEFAULT_COMPLETION_TOKENS, maxTokens) });
      checkModel(params.model);
      return generateResponse(params, params.prompt, false, req.signal);
    }
    if (rest === 'chat/completions') {
      allow(req, path, 'POST');
      const body = await readJsonObject(req, maxBodyBytes);
      const limits: Limits = { maxTokens, defaultMaxTokens: Math.min(backend.contextLength, maxTokens) };
      const params = chatParams(body, limits);
      checkModel(params.model);
      return generateResponse(params, renderChat(params.messages, { forAssistant: true }), true, req.signal);
    }
    throw unknownPath(req.method, path);
  }

  function modelObject() {
    return {
      id: backend.id,
      object: 'model',
      created: backend.created,
      owned_by: 'gpt-lab',
      gpt_lab: { context_length: backend.contextLength, vocab_size: tokenizer.vocabulary.length },
    };
  }

  function checkModel(model: string): void {
    if (model !== backend.id) throw unknownModel(model);
  }

  function unknownModel(id: string): ApiError {
    const shown = id.length > 80 ? `${id.slice(0, 77)}...` : id;
    return new ApiError(404, `the model ${JSON.stringify(shown)} does not exist; this server has ${JSON.stringify(backend.id)}`, 'model', 'model_not_found');
  }

  /** The prompt as the model will see it: cropped from the left to the context, never empty. */
  function preparePrompt(text: string): Prompt {
    const { ids, unknown } = tokenizer.encode(text);
    const cropped = Math.max(0, ids.length - backend.contextLength);
    const kept = Array.from(ids.subarray(cropped));
    return { ids: kept.length > 0 ? kept : [startId], cropped, unknown };
  }

  /**
   * Draws one choice, showing its text through `show` as it comes. Chat replies end at the chat
   * format's end markers too, and lose the space after `Assistant:`.
   */
  async function generateChoice(
    prompt: Prompt,
    params: SamplingParams,
    seed: number,
    chat: boolean,
    show: (text: string) => void,
    signal?: AbortSignal,
  ): Promise<{ finishReason: FinishReason; tokens: number }> {
    const scanner = new StopScanner(chat ? [...CHAT_STOP, ...params.stop] : params.stop);
    const settings = options.outputFilter?.();
    // The filter sees the text a client would see: after the stop sequences, without the reply's first space.
    const filter = settings?.enabled && settings.blockedWords.length > 0 ? new BlocklistScanner(settings.blockedWords) : null;
    const pass = (text: string) => {
      const shown = filter ? filter.push(text) : text;
      if (shown !== '') show(shown);
    };
    let first = chat;
    const emit = (text: string): void => {
      if (text === '') return;
      if (first) {
        first = false;
        if (text.startsWith(' ')) text = text.slice(1);
        if (text === '') return;
      }
      pass(text);
    };
    let tokens = 0;
    await backend.complete({
      promptIds: prompt.ids,
      maxTokens: params.maxTokens,
      temperature: params.temperature,
      topP: params.topP,
      seed,
      stop: signal,
      onToken: (id) => {
        tokens++;
        emit(scanner.push(tokenizer.decode([id])));
        return !scanner.stopped && !filter?.blocked;
      },
    });
    emit(scanner.flush());
    const rest = filter?.flush() ?? '';
    if (rest !== '') show(rest);
    return { finishReason: filter?.blocked ? 'content_filter' : scanner.stopped ? 'stop' : 'length', tokens };
  }

  /** `clientGone` aborts when the client stops waiting (a streamed response also stops when its body is cancelled). */
  async function generateResponse(params: SamplingParams, promptText: string, chat: boolean, clientGone: AbortSignal): Promise<Response> {
    const prompt = preparePrompt(promptText);
    const seed = params.seed ?? randomSeed();
    const seedOf = (index: number) => (index === 0 ? seed : mixSeed(seed, index));
    const id = `${chat ? 'chatcmpl' : 'cmpl'}-${randomId()}`;
    const created = Math.floor(Date.now() / 1000);
    const head = { id, object: chat ? 'chat.completion' : 'text_completion', created, model: backend.id };
    const gptLab = { prompt_cropped: prompt.cropped, unknown_chars: prompt.unknown, context_length: backend.contextLength, seed };
    const usage = (completionTokens: number) => ({
      prompt_tokens: prompt.ids.length,
      completion_tokens: completionTokens,
      total_tokens: prompt.ids.length + completionTokens,
    });

    if (params.stream) {
      const chunkHead = { ...head, object: chat ? 'chat.completion.chunk' : 'text_completion' };
      return eventStream(queue, clientGone, async (send, signal) => {
        let completionTokens = 0;
        for (let index = 0; index < params.n && !signal.aborted; index++) {
          const choice = (text: string | null, finish: FinishReason | null) =>
            chat
              ? { index, delta: text === null ? {} : { content: text }, logprobs: null, finish_reason: finish }
              : { text: text ?? '', index, logprobs: null, finish_reason: finish };
          if (chat) send({ ...chunkHead, choices: [{ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
          const r = await generateChoice(prompt, params, seedOf(index), chat, (text) => send({ ...chunkHead, choices: [choice(text, null)] }), signal);
          completionTokens += r.tokens;
          send({ ...chunkHead, choices: [choice(null, r.finishReason)], gpt_lab: gptLab });
        }
        if (params.includeUsage) send({ ...chunkHead, choices: [], usage: usage(completionTokens) });
      });
    }

    return jsonAfter(queue, async () => {
      const choices: unknown[] = [];
      let completionTokens = 0;
      for (let index = 0; index < params.n; index++) {
        let text = '';
        const r = await generateChoice(prompt, params, seedOf(index), chat, (t) => (text += t), clientGone);
        completionTokens += r.tokens;
        choices.push(
          chat
            ? { index, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: r.finishReason }
            : { text, index, logprobs: null, finish_reason: r.finishReason },
        );
      }
      return { ...head, choices, usage: usage(completionTokens), gpt_lab: gptLab };
    });
  }

  return async (req: Request): Promise<Response> => {
    try {
      return await route(req);
    } catch (e) {
      return errorResponse(asApiError(e));
    }
  };
}

// ---------------------------------------------------------------------------------------------
// The queue: one generation at a time
// ---------------------------------------------------------------------------------------------

class Queue {
  /** Jobs waiting or running. */
  private size = 0;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly limit: number) {}

  /** Runs `job` once every job queued before it has finished; throws a 429 ApiError at once when full. */
  run<T>(job: () => Promise<T>): Promise<T> {
    if (this.size >= this.limit) {
      throw new ApiError(429, `the model is busy with ${this.size} requests; try again shortly`, null, 'rate_limit_exceeded', 'rate_limit_error', { 'Retry-After': '1' });
    }
    this.size++;
    const result = this.tail.then(job).finally(() => this.size--);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...COMMON_HEADERS, 'Content-Type': 'application/json; charset=utf-8', ...headers },
  });
}

function errorResponse(e: ApiError): Response {
  return json(e.status, { error: e.toJSON() }, e.headers);
}

/** A JSON response once `job` has had its turn in the queue. */
async function jsonAfter(queue: Queue, job: () => Promise<unknown>): Promise<Response> {
  return json(200, await queue.run(job));
}

/**
 * Server-sent events: each `send` is a `data: {json}` event; `[DONE]` ends a stream that finished,
 * an `{"error": ...}` event one that failed. The response starts at once (a full queue is still a
 * 429); the job runs in its turn, and stops when the client goes away.
 */
function eventStream(queue: Queue, clientGone: AbortSignal, job: (send: (data: unknown) => void, signal: AbortSignal) => Promise<void>): Response {
  const abort = new AbortController();
  clientGone.addEventListener('abort', () => abort.abort(), { once: true });
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      abort.abort();
    },
  });
  const write = (text: string) => {
    if (abort.signal.aborted) return;
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      abort.abort(); // closed under us: stop generating
    }
  };
  const send = (data: unknown) => write(`data: ${JSON.stringify(data)}\n\n`);
  const close = () => {
    if (abort.signal.aborted) return;
    try {
      controller.close();
    } catch {
      // already closed
    }
  };
  queue.run(() => job(send, abort.signal)).then(
    () => {
      write('data: [DONE]\n\n');
      close();
    },
    (e: unknown) => {
      send({ error: asApiError(e).toJSON() });
      close();
    },
  );
  return new Response(body, {
    status: 200,
    headers: { ...COMMON_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8' },
  });
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

function allow(req: Request, path: string, method: string): void {
  if (req.method !== method) {
    throw new ApiError(405, `${req.method} is not allowed on ${path}; use ${method}`, null, 'method_not_allowed', 'invalid_request_error', { Allow: method });
  }
}

function unknownPath(method: string, path: string): ApiError {
  const shown = path.length > 120 ? `${path.slice(0, 117)}...` : path;
  return new ApiError(404, `there is no ${method} ${shown}; this API has ${ENDPOINTS}`, null, 'unknown_url');
}

function asApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  const why = e instanceof Error ? e.message : String(e);
  return new ApiError(500, `the model failed: ${why}`, null, 'server_error', 'server_error');
}

function randomWords(n: number): Uint32Array {
  return globalThis.crypto.getRandomValues(new Uint32Array(n));
}

function randomSeed(): number {
  return randomWords(1)[0];
}

function randomId(): string {
  return Array.from(randomWords(3), (w) => w.toString(16).padStart(8, '0')).join('');
}
