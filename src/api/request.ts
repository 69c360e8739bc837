/**
 * Request bodies: reading them safely (size, encoding, JSON) and validating the fields the API
 * knows. Every other field is ignored, as clients send many. Only known fields are copied out of
 * the parsed JSON, each checked for its type and range, so nothing a client sends (`__proto__`,
 * `constructor`, a megabyte of emoji) reaches the model as anything but validated values.
 */
import type { ChatMessage, ChatRole } from '../corpus/chat';
import { MAX_BODY_BYTES, readBodyUpTo } from './body';
import { ApiError, missing, outOfRange, wrongType } from './errors';

export { MAX_BODY_BYTES };

/** How many sequences `stop` may hold, and choices `n` may ask for. */
export const MAX_STOP_SEQUENCES = 4;
export const MAX_CHOICES = 8;

type JsonObject = Record<string, unknown>;

/**
 * The body as a JSON object. Throws an ApiError: 415 for a content type that is not JSON (a body
 * without one is read as JSON), 413 for a body over `limit` bytes (by its Content-Length, and by the
 * bytes actually read), 400 for bytes that are not UTF-8, text that is not JSON, or JSON that is not
 * an object.
 */
export async function readJsonObject(req: Request, limit = MAX_BODY_BYTES): Promise<JsonObject> {
  checkContentType(req.headers.get('content-type'));
  const bytes = await readBodyUpTo(req, limit);
  if (bytes === null) throw tooLarge(limit);
  if (bytes.length === 0) throw new ApiError(400, 'the request body is empty; send a JSON object', null, 'invalid_json');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError(400, 'the request body is not valid UTF-8 text', null, 'invalid_encoding');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ApiError(400, `the request body is not valid JSON (${why.slice(0, 120)})`, null, 'invalid_json');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new ApiError(400, `the request body must be a JSON object, not ${what}`, null, 'invalid_json');
  }
  return value as JsonObject;
}

function checkContentType(header: string | null): void {
  if (header === null || header.trim() === '') return;
  const [type, ...parameters] = header.split(';').map((s) => s.trim().toLowerCase());
  if (type !== 'application/json' && !/^application\/[\w.+-]+\+json$/.test(type)) {
    throw new ApiError(415, `the body must be JSON (Content-Type: application/json), not ${header.slice(0, 80)}`, null, 'unsupported_media_type');
  }
  const charset = parameters.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new ApiError(415, `the body must be UTF-8, not ${charset}`, null, 'unsupported_media_type');
  }
}

function tooLarge(limit: number): ApiError {
  return new ApiError(413, `the request body is larger than ${limit} bytes`, null, 'request_too_large');
}

// ---------------------------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------------------------

/** The own property `name` of `obj`; null counts as absent (clients send `"stop": null`). */
function field(obj: JsonObject, name: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, name) && obj[name] !== null ? obj[name] : undefined;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface NumberRule {
  min: number;
  max: number;
  /** The lower bound itself is excluded (top_p > 0). */
  minExclusive?: boolean;
  integer?: boolean;
}

function numberField(obj: JsonObject, name: string, fallback: number, rule: NumberRule): number {
  const v = field(obj, name);
  if (v === undefined) return fallback;
  if (typeof v !== 'number') throw wrongType(name, rule.integer ? 'an integer' : 'a number', v);
  if (rule.integer && !Number.isInteger(v)) throw wrongType(name, 'an integer', v);
  const low = rule.minExclusive ? v <= rule.min : v < rule.min;
  if (!Number.isFinite(v) || low || v > rule.max) {
    const from = rule.minExclusive ? `greater than ${rule.min}` : `at least ${rule.min}`;
    throw outOfRange(name, `${from} and at most ${rule.max}`, v);
  }
  return v;
}

function booleanField(obj: JsonObject, name: string): boolean {
  const v = field(obj, name);
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw wrongType(name, 'true or false', v);
  return v;
}

/** The sampling settings every generating endpoint shares. */
export interface SamplingParams {
  model: string;
  maxTokens: number;
  temperature: number;
  topP: number;
  /** Strings that end a completion (not included in it). */
  stop: string[];
  /** Absent: a fresh random seed per request. */
  seed: number | undefined;
  n: number;
  stream: boolean;
  /** `stream_options.include_usage`: a last chunk carries the usage. */
  includeUsage: boolean;
}

export interface CompletionParams extends SamplingParams {
  prompt: string;
}

export interface ChatParams extends SamplingParams {
  messages: ChatMessage[];
}

export interface Limits {
  /** The most tokens one completion may ask for. */
  maxTokens: number;
  /** `max_tokens` when the request gives none. */
  defaultMaxTokens: number;
}

function samplingParams(body: JsonObject, limits: Limits, maxTokensName = 'max_tokens'): SamplingParams {
  const model = field(body, 'model');
  if (model === undefined) throw missing('model', 'name the model to use (GET /v1/models lists them)');
  if (typeof model !== 'string') throw wrongType('model', 'a string', model);

  let stop: string[] = [];
  const rawStop = field(body, 'stop');
  if (typeof rawStop === 'string') {
    stop = [rawStop];
  } else if (Array.isArray(rawStop)) {
    if (rawStop.length > MAX_STOP_SEQUENCES) throw outOfRange('stop', `at most ${MAX_STOP_SEQUENCES} sequences`, `${rawStop.length} sequences`);
    rawStop.forEach((s: unknown, i) => {
      if (typeof s !== 'string') throw wrongType(`stop[${i}]`, 'a string', s);
    });
    stop = rawStop as string[];
  } else if (rawStop !== undefined) {
    throw wrongType('stop', 'a string or an array of strings', rawStop);
  }
  stop.forEach((s, i) => {
    if (s.length === 0) throw outOfRange(Array.isArray(rawStop) ? `stop[${i}]` : 'stop', 'a non-empty string', s);
  });

  const streamOptions = field(body, 'stream_options');
  if (streamOptions !== undefined && !isObject(streamOptions)) throw wrongType('stream_options', 'an object', streamOptions);
  const includeUsage = streamOptions === undefined ? false : booleanField(streamOptions, 'include_usage');

  const seed = field(body, 'seed');
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isSafeInteger(seed))) {
    throw typeof seed === 'number' ? outOfRange('seed', 'a whole number', seed) : wrongType('seed', 'an integer', seed);
  }

  return {
    model,
    maxTokens: numberField(body, maxTokensName, limits.defaultMaxTokens, { min: 1, max: limits.maxTokens, integer: true }),
    temperature: numberField(body, 'temperature', 1, { min: 0, max: 2 }),
    topP: numberField(body, 'top_p', 1, { min: 0, max: 1, minExclusive: true }),
    stop,
    seed: seed as number | undefined,
    n: numberField(body, 'n', 1, { min: 1, max: MAX_CHOICES, integer: true }),
    stream: booleanField(body, 'stream'),
    includeUsage,
  };
}

/** POST /v1/completions: `prompt` is a string, or an array of exactly one string. */
export function completionParams(body: JsonObject, limits: Limits): CompletionParams {
  const sampling = samplingParams(body, limits);
  let prompt = field(body, 'prompt');
  if (prompt === undefined) throw missing('prompt');
  if (Array.isArray(prompt)) {
    if (prompt.length !== 1) throw outOfRange('prompt', 'a string or an array of one string (one prompt per request)', `${prompt.length} items`);
    if (typeof prompt[0] !== 'string') throw wrongType('prompt[0]', 'a string (token-id prompts are not supported)', prompt[0]);
    prompt = prompt[0];
  }
  if (typeof prompt !== 'string') throw wrongType('prompt', 'a string', prompt);
  return { ...sampling, prompt };
}

/** OpenAI's `developer` role is the newer name of `system`. Tool and function messages are not supported. */
const ROLES: Record<string, ChatRole> = { system: 'system', developer: 'system', user: 'user', assistant: 'assistant' };

/** POST /v1/chat/completions: `messages` is a non-empty array of {role, content}. */
export function chatParams(body: JsonObject, limits: Limits): ChatParams {
  const name = field(body, 'max_completion_tokens') !== undefined ? 'max_completion_tokens' : 'max_tokens';
  const sampling = samplingParams(body, limits, name);
  const raw = field(body, 'messages');
  if (raw === undefined) throw missing('messages');
  if (!Array.isArray(raw)) throw wrongType('messages', 'an array of messages', raw);
  if (raw.length === 0) throw outOfRange('messages', 'a non-empty array', raw);
  const messages = raw.map((m: unknown, i): ChatMessage => {
    const at = `messages[${i}]`;
    if (!isObject(m)) throw wrongType(at, 'an object with a role and a content', m);
    const role = field(m, 'role');
    if (role === undefined) throw missing(`${at}.role`);
    if (typeof role !== 'string') throw wrongType(`${at}.role`, 'a string', role);
    if (!Object.prototype.hasOwnProperty.call(ROLES, role)) throw outOfRange(`${at}.role`, 'one of system, developer, user, assistant', role);
    return { role: ROLES[role], content: messageContent(field(m, 'content'), `${at}.content`) };
  });
  return { ...sampling, messages };
}

/** A string, or an array of text parts `{type: "text", text}` joined; null (an empty assistant turn) is "". */
function messageContent(content: unknown, at: string): string {
  if (content === undefined) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw wrongType(at, 'a string or an array of text parts', content);
  return content
    .map((part: unknown, j) => {
      if (!isObject(part)) throw wrongType(`${at}[${j}]`, 'a text part {"type": "text", "text": ...}', part);
      if (field(part, 'type') !== 'text') throw outOfRange(`${at}[${j}].type`, '"text" (this model reads text only)', field(part, 'type'));
      const text = field(part, 'text');
      if (typeof text !== 'string') throw wrongType(`${at}[${j}].text`, 'a string', text);
      return text;
    })
    .join('');
}
