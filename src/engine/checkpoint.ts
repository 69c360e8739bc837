/**
 * GPT Lab's two files on top of the safetensors container (see the "Checkpoint file" bullet of DESIGN.md):
 *
 * 1. The checkpoint — the weights only, loadable by PyTorch as is. Metadata (all strings):
 *      format      'gpt-lab/1'
 *      config      JSON of the ModelConfig fields (MODEL_KEYS order)
 *      vocabulary  JSON array of strings, one Unicode code point each, in token-id order
 *      step        decimal integer
 *      val_loss    decimal number, only when known
 *    Tensors: every parameter of `parameterShapes(config)`, in that order, Linear weights [out, in].
 *
 * 2. The resume record — what continuing training needs beyond the weights. Metadata:
 *      format 'gpt-lab-resume/1', step, hyperparameters (JSON), rng (JSON array of uint32s),
 *      data_position, plus any caller-defined extra keys.
 *    Tensors: `m.<param>` and `v.<param>` (AdamW's moments), each with its parameter's shape.
 *
 * Both readers check everything before returning anything, so a bad file never half-loads a model.
 * Both writers run the same checks on what they are given, so every file we write can be read back.
 * Pure: no tfjs, no Node APIs.
 */

import { DEFAULTS, MODEL_KEYS, validateHyperparameters, type Hyperparameters, type ModelConfig } from '../gpt/config';
import { parameterShapes } from '../gpt/shapes';
import { CheckpointError, decodeSafetensors, encodeSafetensors, type TensorData } from './safetensors';

export { CheckpointError, type CheckpointErrorCode, type TensorData } from './safetensors';

export const CHECKPOINT_FORMAT = 'gpt-lab/1';
export const RESUME_FORMAT = 'gpt-lab-resume/1';

/** The tied output head: written by some exporters, never by us; accepted on read (if shaped like wte) and ignored. */
const LM_HEAD = 'lm_head.weight';
const WTE = 'transformer.wte.weight';

export interface Checkpoint {
  config: ModelConfig;
  /** One Unicode code point per token, in token-id order; length = config.vocabSize. */
  vocabulary: string[];
  /** Optimizer steps taken when the weights were saved. */
  step: number;
  /** Validation loss at `step`, when it was measured. */
  valLoss?: number;
  /** Parameter name → values, in `parameterShapes(config)` order. */
  weights: Map<string, TensorData>;
}

/** AdamW's running averages for one parameter, each with the parameter's length (shape from the config). */
export interface Moments {
  m: Float32Array;
  v: Float32Array;
}

export interface ResumeState {
  step: number;
  /** The full set, training fields included: resuming must continue the same schedule. */
  hyperparameters: Hyperparameters;
  /** The random generator's state, as unsigned 32-bit integers. */
  rng: number[];
  /** Where the batch sampler is in the training data. */
  dataPosition: number;
  /** Parameter name → moments, in `parameterShapes` order. */
  moments: Map<string, Moments>;
  /** Caller-defined metadata kept beside the rest (keys must not collide with the reserved ones). */
  extra?: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

const HYPERPARAMETER_KEYS = Object.keys(DEFAULTS) as (keyof Hyperparameters)[];
const RESUME_KEYS = ['format', 'step', 'hyperparameters', 'rng', 'data_position'];

function fail(code: ConstructorParameters<typeof CheckpointError>[0], message: string): never {
  throw new CheckpointError(code, message);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonType(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** `"a", "b", "c" and 7 more` — names a long list without flooding the message. */
function listNames(names: readonly string[], max = 5): string {
  const shown = names.slice(0, max).map((n) => `"${n}"`).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Metadata `key` parsed as JSON; 'missing-metadata' when absent, `code` when not JSON. */
function jsonMetadata(metadata: Record<string, string>, key: string, code: 'bad-config' | 'bad-vocabulary' | 'bad-metadata'): unknown {
  const text = metadata[key];
  if (text === undefined) fail('missing-metadata', `the metadata has no "${key}"`);
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail(code, `metadata "${key}" is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** A decimal integer ≥ 0, as `step` and `data_position` are written. */
function parseCount(text: string | undefined, key: string, code: 'bad-step' | 'bad-metadata'): number {
  if (text === undefined) fail('missing-metadata', `the metadata has no "${key}"`);
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) {
    fail(code, `metadata "${key}" is ${JSON.stringify(text)}; it must be a non-negative whole number`);
  }
  return n;
}

function checkCount(n: number, key: string, code: 'bad-step' | 'bad-metadata'): void {
  if (!Number.isSafeInteger(n) || n < 0) fail(code, `${key} is ${n}; it must be a non-negative whole number`);
}

/** A decimal number as JS or Python print it ("2.31", "1e-07"); NaN/Infinity/hex are refused. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

// ---------------------------------------------------------------------------------------------
// Shared checks (used by readers and writers alike)
// ---------------------------------------------------------------------------------------------

/** The ModelConfig fields of `raw`, validated; every other field is ignored. */
function checkConfig(raw: unknown, label: string): ModelConfig {
  if (!isPlainObject(raw)) fail('bad-config', `${label} must be a JSON object, but it is ${jsonType(raw)}`);
  const missing = MODEL_KEYS.filter((k) => raw[k] === undefined);
  if (missing.length > 0) fail('bad-config', `${label} has no ${missing.map((k) => `"${k}"`).join(', ')}`);
  // Validate with the training defaults filled in: only the model fields are ours to judge.
  const picked = Object.fromEntries(MODEL_KEYS.map((k) => [k, raw[k]]));
  const errors = validateHyperparameters({ ...DEFAULTS, ...picked }).filter((e) =>
    (MODEL_KEYS as readonly string[]).includes(e.field),
  );
  if (errors.length > 0) fail('bad-config', `${label}: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`);
  return picked as unknown as ModelConfig;
}

/** The full hyperparameter set of `raw` (resume record), validated field by field. */
function checkHyperparameters(raw: unknown): Hyperparameters {
  if (!isPlainObject(raw)) fail('bad-config', `hyperparameters must be a JSON object, but it is ${jsonType(raw)}`);
  const picked = Object.fromEntries(HYPERPARAMETER_KEYS.map((k) => [k, raw[k]]));
  const errors = validateHyperparameters(picked);
  if (errors.length > 0) fail('bad-config', `hyperparameters: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`);
  return picked as unknown as Hyperparameters;
}

/** An array of distinct strings of exactly one code point each. */
function checkVocabulary(raw: unknown): string[] {
  if (!Array.isArray(raw)) fail('bad-vocabulary', `the vocabulary must be a JSON array of strings, but it is ${jsonType(raw)}`);
  const seen = new Map<string, number>();
  raw.forEach((token: unknown, id) => {
    if (typeof token !== 'string') {
      fail('bad-vocabulary', `vocabulary entry ${id} is ${jsonType(token)}; every entry must be a one-character string`);
    }
    const codePoints = [...token].length; // counts code points, not UTF-16 units ('😀' is one)
    if (codePoints !== 1) {
      fail('bad-vocabulary', `vocabulary entry ${id} is ${JSON.stringify(token)} (${plural(codePoints, 'code point')}); every entry must be exactly one Unicode code point`);
    }
    const first = seen.get(token);
    if (first !== undefined) fail('bad-vocabulary', `vocabulary entries ${first} and ${id} are both ${JSON.stringify(token)}; tokens must be distinct`);
    seen.set(token, id);
  });
  return raw as string[];
}

function checkVocabularySize(vocabulary: readonly string[], config: ModelConfig): void {
  if (vocabulary.length !== config.vocabSize) {
    fail('vocabulary-mismatch', `the vocabulary has ${plural(vocabulary.length, 'token')} but config.vocabSize is ${config.vocabSize}`);
  }
}

function checkValLoss(v: number): void {
  if (!Number.isFinite(v) || v < 0) fail('bad-metadata', `val_loss is ${v}; it must be a finite number ≥ 0`);
}

function checkRng(raw: unknown): number[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    fail('bad-metadata', `rng must be a non-empty array of unsigned 32-bit integers, but it is ${Array.isArray(raw) ? 'empty' : jsonType(raw)}`);
  }
  raw.forEach((x: unknown, i) => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 0xffffffff) {
      fail('bad-metadata', `rng[${i}] is ${JSON.stringify(x)}; the generator state must be unsigned 32-bit integers`);
    }
  });
  return raw as number[];
}

/**
 * Found tensor names against expected ones: 'missing-tensor' names what is absent,
 * 'extra-tensor' what is unknown (unless `ignorable` accepts it).
 */
function checkNames(
  found: Map<string, TensorData>,
  expected: Map<string, number[]>,
  ignorable: (name: string, t: TensorData) => boolean = () => false,
): void {
  const missing = [...expected.keys()].filter((n) => !found.has(n));
  if (missing.length > 0) {
    fail('missing-tensor', `${plural(missing.length, 'tensor is', 'tensors are')} missing: ${listNames(missing)}`);
  }
  const extra = [...found].filter(([n, t]) => !expected.has(n) && !ignorable(n, t)).map(([n]) => n);
  if (extra.length > 0) {
    fail('extra-tensor', `${plural(extra.length, 'tensor is', 'tensors are')} not part of this model: ${listNames(extra)}`);
  }
}

/** Every expected tensor has the expected shape (and as many values as the shape says). */
function checkShapes(found: Map<string, TensorData>, expected: Map<string, number[]>): void {
  const problems: string[] = [];
  for (const [name, shape] of expected) {
    const t = found.get(name);
    if (t === undefined) continue; // checkNames reports these
    if (!sameShape(t.shape, shape)) {
      // A transposed 2-D weight is almost always a Conv1D export (Hugging Face GPT-2 keeps [in, out]).
      const transposed = shape.length === 2 && shape[0] !== shape[1] && sameShape(t.shape, [shape[1], shape[0]]);
      const hint = transposed ? ' (transposed: this is Hugging Face Conv1D [in, out] layout; GPT Lab stores Linear weights [out, in])' : '';
      problems.push(`"${name}" should be ${shapeText(shape)} but is ${shapeText(t.shape)}${hint}`);
    } else if (t.data.length !== shape.reduce((a, b) => a * b, 1)) {
      problems.push(`"${name}" has shape ${shapeText(shape)} but ${t.data.length} values`);
    }
  }
  if (problems.length > 0) {
    const more = problems.length > 3 ? `; and ${problems.length - 3} more` : '';
    fail('wrong-shape', `the tensors do not match the config: ${problems.slice(0, 3).join('; ')}${more}`);
  }
}

/** No NaN or ±Infinity anywhere; names each offending tensor with its counts. */
function checkFinite(found: Map<string, TensorData>, names: Iterable<string>): void {
  const problems: string[] = [];
  for (const name of names) {
    const data = found.get(name)?.data;
    if (data === undefined) continue;
    let nan = 0;
    let inf = 0;
    for (let i = 0; i < data.length; i++) {
      const x = data[i];
      if (x !== x) nan++;
      else if (x === Infinity || x === -Infinity) inf++;
    }
    if (nan + inf > 0) {
      const parts = [nan > 0 ? plural(nan, 'NaN value') : '', inf > 0 ? plural(inf, 'infinite value') : ''].filter(Boolean);
      problems.push(`"${name}" has ${parts.join(' and ')}`);
    }
  }
  if (problems.length > 0) {
    fail('non-finite', `the values are not all finite numbers (training probably diverged): ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more tensors` : ''}`);
  }
}

/** When a file is not ours, a hint if it looks like a Hugging Face GPT-2 export; null otherwise. */
function huggingFaceHint(tensors: Map<string, TensorData>): string | null {
  for (const [name, t] of tensors) {
    if (/^(transformer\.)?h\.\d+\.attn\.c_attn\.weight$/.test(name) && t.shape.length === 2 && t.shape[1] === 3 * t.shape[0]) {
      return `tensor "${name}" has shape ${shapeText(t.shape)} = [C, 3C], the Conv1D [in, out] layout of Hugging Face GPT-2`;
    }
  }
  const hfNames = [...tensors.keys()].filter((n) => /^(h\.\d+\.|wte\.|wpe\.|ln_f\.)/.test(n));
  if (hfNames.length > 0) return `its tensor names (${listNames(hfNames, 2)}) follow Hugging Face GPT-2's naming`;
  return null;
}

/** 'foreign-format' / 'hf-layout' unless metadata.format is `wanted`. */
function checkFormat(metadata: Record<string, string>, tensors: Map<string, TensorData>, wanted: string): void {
  const format = metadata.format;
  if (format === wanted) return;
  const what = wanted === CHECKPOINT_FORMAT ? 'a GPT Lab checkpoint' : 'a GPT Lab resume file';
  const found = format === undefined ? 'has no "format" in its metadata' : `has format ${JSON.stringify(format)}, not "${wanted}"`;
  const hint = huggingFaceHint(tensors);
  if (hint !== null) {
    fail('hf-layout', `this looks like a Hugging Face GPT-2 file, not ${what}: it ${found}, and ${hint}. Convert it first (GPT Lab names parameters like nanoGPT and stores Linear weights [out, in])`);
  }
  if (format === RESUME_FORMAT) fail('foreign-format', `this is a resume file (optimizer state), not a checkpoint; open the checkpoint beside it`);
  if (format === CHECKPOINT_FORMAT) fail('foreign-format', `this is a model checkpoint, not a resume file`);
  const keys = Object.keys(metadata);
  fail('foreign-format', `this is not ${what}: the file ${found} (metadata keys: ${keys.length > 0 ? listNames(keys) : 'none'})`);
}

// ---------------------------------------------------------------------------------------------
// Checkpoint
// ---------------------------------------------------------------------------------------------

/** Checkpoint bytes for `c`; throws a CheckpointError (and writes nothing) if any part is invalid. */
export function writeCheckpoint(c: Checkpoint): Uint8Array {
  const config = checkConfig(c.config, 'config');
  const vocabulary = checkVocabulary(c.vocabulary);
  checkVocabularySize(vocabulary, config);
  checkCount(c.step, 'step', 'bad-step');
  if (c.valLoss !== undefined) checkValLoss(c.valLoss);

  const expected = parameterShapes(config);
  const isTiedHead = (name: string, t: TensorData) => name === LM_HEAD && sameShape(t.shape, expected.get(WTE) ?? []);
  checkNames(c.weights, expected, isTiedHead);
  checkShapes(c.weights, expected);
  checkFinite(c.weights, expected.keys());

  const tensors = new Map<string, TensorData>();
  for (const name of expected.keys()) tensors.set(name, c.weights.get(name) as TensorData);

  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    config: JSON.stringify(config), // MODEL_KEYS order (checkConfig builds it so)
    vocabulary: JSON.stringify(vocabulary),
    step: String(c.step),
  };
  if (c.valLoss !== undefined) metadata.val_loss = String(c.valLoss);
  return encodeSafetensors(tensors, metadata);
}

/** Decodes and fully checks a checkpoint; throws a CheckpointError naming the first problem found. */
export function readCheckpoint(bytes: Uint8Array): Checkpoint {
  const { tensors, metadata } = decodeSafetensors(bytes);
  checkFormat(metadata, tensors, CHECKPOINT_FORMAT);

  const config = checkConfig(jsonMetadata(metadata, 'config', 'bad-config'), 'config');
  const vocabulary = checkVocabulary(jsonMetadata(metadata, 'vocabulary', 'bad-vocabulary'));
  checkVocabularySize(vocabulary, config);
  const step = parseCount(metadata.step, 'step', 'bad-step');
  let valLoss: number | undefined;
  if (metadata.val_loss !== undefined) {
    if (!DECIMAL.test(metadata.val_loss)) fail('bad-metadata', `metadata "val_loss" is ${JSON.stringify(metadata.val_loss)}; it must be a number`);
    valLoss = Number(metadata.val_loss);
    checkValLoss(valLoss);
  }

  const expected = parameterShapes(config);
  const isTiedHead = (name: string, t: TensorData) => name === LM_HEAD && sameShape(t.shape, expected.get(WTE) ?? []);
  checkNames(tensors, expected, isTiedHead);
  // The embedding's rows are the tokens: say so plainly rather than as a generic shape mismatch.
  const wte = tensors.get(WTE) as TensorData;
  if (wte.shape.length === 2 && wte.shape[0] !== vocabulary.length) {
    fail('vocabulary-mismatch', `"${WTE}" has ${plural(wte.shape[0], 'row')} (one per token) but the vocabulary has ${plural(vocabulary.length, 'token')}`);
  }
  checkShapes(tensors, expected);
  checkFinite(tensors, expected.keys());

  const weights = new Map<string, TensorData>();
  for (const name of expected.keys()) weights.set(name, tensors.get(name) as TensorData);
  const result: Checkpoint = { config, vocabulary, step, weights };
  if (valLoss !== undefined) result.valLoss = valLoss;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Resume record
// ---------------------------------------------------------------------------------------------

/** Resume bytes for `r`; the moments' shapes come from `r.hyperparameters`. Throws on any invalid part. */
export function writeResume(r: ResumeState): Uint8Array {
  const hyperparameters = checkHyperparameters(r.hyperparameters);
  checkCount(r.step, 'step', 'bad-step');
  const rng = checkRng(r.rng);
  checkCount(r.dataPosition, 'dataPosition', 'bad-metadata');
  const extra = r.extra ?? {};
  for (const [key, value] of Object.entries(extra)) {
    if (RESUME_KEYS.includes(key)) fail('bad-metadata', `extra metadata "${key}" would overwrite a reserved key (${RESUME_KEYS.join(', ')})`);
    if (typeof value !== 'string') fail('bad-metadata', `extra metadata "${key}" must be a string, not ${jsonType(value)}`);
  }

  const shapes = parameterShapes(hyperparameters);
  const missing = [...shapes.keys()].filter((n) => !r.moments.has(n));
  if (missing.length > 0) fail('missing-tensor', `moments are missing for ${plural(missing.length, 'parameter')}: ${listNames(missing)}`);
  const unknown = [...r.moments.keys()].filter((n) => !shapes.has(n));
  if (unknown.length > 0) fail('extra-tensor', `moments were given for ${plural(unknown.length, 'unknown parameter')}: ${listNames(unknown)}`);

  // (m, v) → `m.<param>`, `v.<param>` with the parameter's shape, interleaved in parameter order.
  const tensors = new Map<string, TensorData>();
  for (const [name, shape] of shapes) {
    const { m, v } = r.moments.get(name) as Moments;
    const size = shape.reduce((a, b) => a * b, 1);
    for (const [prefix, data] of [['m', m], ['v', v]] as const) {
      if (data.length !== size) {
        fail('wrong-shape', `moment "${prefix}.${name}" has ${data.length} values; parameter shape ${shapeText(shape)} needs ${size}`);
      }
      tensors.set(`${prefix}.${name}`, { shape: [...shape], data });
    }
  }
  checkFinite(tensors, tensors.keys());

  const metadata: Record<string, string> = {
    format: RESUME_FORMAT,
    step: String(r.step),
    hyperparameters: JSON.stringify(hyperparameters), // DEFAULTS key order (checkHyperparameters builds it so)
    rng: JSON.stringify(rng),
    data_position: String(r.dataPosition),
    ...extra,
  };
  return encodeSafetensors(tensors, metadata);
}

/**
 * Decodes and fully checks a resume record against `expectedShapes` (the running model's
 * `parameterShapes`); throws a CheckpointError naming the first problem found.
 */
export function readResume(bytes: Uint8Array, expectedShapes: Map<string, number[]>): ResumeState {
  const { tensors, metadata } = decodeSafetensors(bytes);
  checkFormat(metadata, tensors, RESUME_FORMAT);

  const step = parseCount(metadata.step, 'step', 'bad-step');
  const hyperparameters = checkHyperparameters(jsonMetadata(metadata, 'hyperparameters', 'bad-config'));
  const rng = checkRng(jsonMetadata(metadata, 'rng', 'bad-metadata'));
  const dataPosition = parseCount(metadata.data_position, 'data_position', 'bad-metadata');

  const expected = new Map<string, number[]>();
  for (const [name, shape] of expectedShapes) {
    expected.set(`m.${name}`, shape);
    expected.set(`v.${name}`, shape);
  }
  checkNames(tensors, expected);
  checkShapes(tensors, expected);
  checkFinite(tensors, expected.keys());

  const moments = new Map<string, Moments>();
  for (const name of expectedShapes.keys()) {
    moments.set(name, { m: (tensors.get(`m.${name}`) as TensorData).data, v: (tensors.get(`v.${name}`) as TensorData).data });
  }
  const extraEntries = Object.entries(metadata).filter(([k]) => !RESUME_KEYS.includes(k));
  const result: ResumeState = { step, hyperparameters, rng, dataPosition, moments };
  if (extraEntries.length > 0) result.extra = Object.fromEntries(extraEntries);
  return result;
}
