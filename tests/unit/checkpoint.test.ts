import { describe, it, expect } from 'vitest';
import { DEFAULTS, type Hyperparameters, type ModelConfig } from '../../src/gpt/config';
import { parameterShapes } from '../../src/gpt/shapes';
import {
  CheckpointError,
  readCheckpoint,
  readResume,
  writeCheckpoint,
  writeResume,
  type Checkpoint,
  type CheckpointErrorCode,
  type Moments,
  type ResumeState,
  type TensorData,
} from '../../src/engine/checkpoint';
import { decodeSafetensors, encodeSafetensors, type SafetensorsFile } from '../../src/engine/safetensors';

// ---------------------------------------------------------------------------------------------
// Fixtures: a tiny model with seeded random weights
// ---------------------------------------------------------------------------------------------

const TINY: ModelConfig = { vocabSize: 10, contextLength: 8, layers: 1, heads: 2, width: 8, dropout: 0 };
/** Ten code points, some outside ASCII and one outside the BMP, plus JSON's awkward characters. */
const VOCAB = ['\n', ' ', 'a', 'é', '—', '中', '😀', '"', '\\', 'z'];
const SHAPES = parameterShapes(TINY);
const WTE = 'transformer.wte.weight';
const C_ATTN = 'transformer.h.0.attn.c_attn.weight';

/** mulberry32: a small seeded generator of uint32s. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

function randomFloats(n: number, next: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() / 2 ** 32 - 0.5) * 0.2;
  return out;
}

function randomWeights(seed: number, shapes = SHAPES): Map<string, TensorData> {
  const next = generator(seed);
  const weights = new Map<string, TensorData>();
  for (const [name, shape] of shapes) weights.set(name, { shape: [...shape], data: randomFloats(shape.reduce((a, b) => a * b, 1), next) });
  return weights;
}

function tinyCheckpoint(seed = 1): Checkpoint {
  return { config: { ...TINY }, vocabulary: [...VOCAB], step: 1234, valLoss: 2.0625, weights: randomWeights(seed) };
}

const VALID = writeCheckpoint(tinyCheckpoint());
/** Header length of VALID (the JSON plus padding). */
const HEADER = new DataView(VALID.buffer).getUint32(0, true);

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** The thrown CheckpointError (fails the test if something else, or nothing, is thrown). */
function refusal(fn: () => unknown): CheckpointError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CheckpointError) return e;
    throw e;
  }
  throw new Error('expected a CheckpointError, but nothing was thrown');
}

/** Decode `bytes`, let `edit` change tensors/metadata, re-encode: a well-formed container with bad content. */
function edited(edit: (f: SafetensorsFile) => void, bytes = VALID): Uint8Array {
  const f = decodeSafetensors(bytes);
  edit(f);
  return encodeSafetensors(f.tensors, f.metadata);
}

/** The header of `bytes` as a plain object, and its data region. */
function split(bytes = VALID): { header: Record<string, Record<string, unknown>>; data: Uint8Array } {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, Record<string, unknown>>;
  return { header, data: bytes.slice(8 + n) };
}

/** A file assembled by hand: length prefix (or `announced`), header text as is (no padding), data. */
function raw(header: string | object, data: Uint8Array = new Uint8Array(0), announced?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, announced ?? json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** VALID with one tensor's header entry changed (data untouched). */
function withEntry(name: string, change: Record<string, unknown>): Uint8Array {
  const { header, data } = split();
  header[name] = { ...header[name], ...change };
  return raw(header, data);
}

function withMetadata(change: (m: Record<string, string>) => void): Uint8Array {
  return edited((f) => change(f.metadata));
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

describe('checkpoint round trip', () => {
  it('bytes → read → write gives identical bytes', () => {
    const again = writeCheckpoint(readCheckpoint(VALID));
    expect(again).toEqual(VALID);
    expect(writeCheckpoint(tinyCheckpoint())).toEqual(VALID); // deterministic
  });

  it('keeps every value bit-exact, -0 and subnormals included', () => {
    const c = tinyCheckpoint(7);
    const w = c.weights.get(WTE)!.data;
    const special = [-0, 0, 1e-45, -1.1754942e-38, 1.1754943508222875e-38, 3.4028234663852886e38, -3.4028234663852886e38, 1 / 3];
    special.forEach((x, i) => (w[i] = x));
    const back = readCheckpoint(writeCheckpoint(c));
    for (const [name, t] of c.weights) {
      expect(bits(back.weights.get(name)!.data)).toEqual(bits(t.data));
      expect(back.weights.get(name)!.shape).toEqual(t.shape);
    }
    expect(Object.is(back.weights.get(WTE)!.data[0], -0)).toBe(true);
    expect(back.weights.get(WTE)!.data[2]).toBe(Math.fround(1e-45));
  });

  it('returns the config, vocabulary, step and val_loss that were written', () => {
    const back = readCheckpoint(VALID);
    expect(back.config).toEqual(TINY);
    expect(back.vocabulary).toEqual(VOCAB);
    expect(back.step).toBe(1234);
    expect(back.valLoss).toBe(2.0625);
    expect([...back.weights.keys()]).toEqual([...SHAPES.keys()]);
  });

  it('omits val_loss when unknown', () => {
    const c = tinyCheckpoint();
    delete c.valLoss;
    const bytes = writeCheckpoint(c);
    expect(decodeSafetensors(bytes).metadata).not.toHaveProperty('val_loss');
    expect(readCheckpoint(bytes)).not.toHaveProperty('valLoss');
  });

  it('writes the documented layout: padded header, __metadata__ first, exact keys, parameter order', () => {
    expect(HEADER % 8).toBe(0);
    expect(new DataView(VALID.buffer).getUint32(4, true)).toBe(0);
    const text = new TextDecoder().decode(VALID.subarray(8, 8 + HEADER));
    expect(text.startsWith('{"__metadata__":{"format":"gpt-lab/1","config":')).toBe(true);
    // After the closing brace: only spaces, fewer than 8 of them.
    const headerBytes = VALID.subarray(8, 8 + HEADER);
    const close = headerBytes.lastIndexOf(0x7d);
    const padding = headerBytes.subarray(close + 1);
    expect(padding.length).toBeLessThan(8);
    expect(padding.every((b) => b === 0x20)).toBe(true);
    const { header } = split();
    expect(Object.keys(header)).toEqual(['__metadata__', ...SHAPES.keys()]);
    const meta = header.__metadata__ as Record<string, string>;
    expect(Object.keys(meta)).toEqual(['format', 'config', 'vocabulary', 'step', 'val_loss']);
    expect(JSON.parse(meta.config)).toEqual(TINY);
    expect(Object.keys(JSON.parse(meta.config) as object)).toEqual(['vocabSize', 'contextLength', 'layers', 'heads', 'width', 'dropout']);
    expect(JSON.parse(meta.vocabulary)).toEqual(VOCAB);
    expect(header[WTE]).toEqual({ dtype: 'F32', shape: [10, 8], data_offsets: [0, 320] });
  });

  it('reads from an unaligned view and from a file whose floats sit at an unaligned offset', () => {
    const shifted = new Uint8Array(VALID.length + 1);
    shifted.set(VALID, 1);
    const a = readCheckpoint(shifted.subarray(1)); // the view starts at byte 1 of its buffer
    expect(bits(a.weights.get(WTE)!.data)).toEqual(bits(readCheckpoint(VALID).weights.get(WTE)!.data));
    // An unpadded header (allowed by the format): the data region starts at an odd byte.
    const odd = raw('{"y":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', new Uint8Array(new Float32Array([1.5, -0]).buffer));
    expect((odd.length - 8) % 4).not.toBe(0);
    const decoded = decodeSafetensors(odd);
    expect(Array.from(decoded.tensors.get('y')!.data)).toEqual([1.5, -0]);
    expect(decoded.metadata).toEqual({});
  });

  it('keeps NaN payloads bit-exact in the container', () => {
    const data = new Float32Array(3);
    new Uint32Array(data.buffer).set([0x7fc00001, 0xffc12345, 0x00000001]);
    const back = decodeSafetensors(encodeSafetensors(new Map([['t', { shape: [3], data }]]), { a: 'b' }));
    expect(bits(back.tensors.get('t')!.data)).toEqual(bits(data));
    expect(back.metadata).toEqual({ a: 'b' });
  });

  it('accepts a tied lm_head.weight shaped like wte, and ignores it', () => {
    const bytes = edited((f) => f.tensors.set('lm_head.weight', f.tensors.get(WTE)!));
    const back = readCheckpoint(bytes);
    expect(back.weights.has('lm_head.weight')).toBe(false);
    expect(writeCheckpoint(back)).toEqual(VALID);
  });
});

const HYPER: Hyperparameters = { ...DEFAULTS, ...TINY, batchSize: 2, steps: 100, warmupSteps: 10 };

function tinyResume(seed = 3): ResumeState {
  const next = generator(seed);
  const moments = new Map<string, Moments>();
  for (const [name, shape] of SHAPES) {
    const n = shape.reduce((a, b) => a * b, 1);
    moments.set(name, { m: randomFloats(n, next), v: randomFloats(n, next).map(Math.abs) });
  }
  return { step: 57, hyperparameters: { ...HYPER }, rng: [1, 0xffffffff, 12345, 0], dataPosition: 4096, moments, extra: { note: 'hello' } };
}

const RESUME = writeResume(tinyResume());

describe('resume round trip', () => {
  it('bytes → read → write gives identical bytes, values bit-exact', () => {
    const r = tinyResume();
    const back = readResume(RESUME, SHAPES);
    expect(writeResume(back)).toEqual(RESUME);
    expect(back.step).toBe(57);
    expect(back.hyperparameters).toEqual(HYPER);
    expect(back.rng).toEqual([1, 0xffffffff, 12345, 0]);
    expect(back.dataPosition).toBe(4096);
    expect(back.extra).toEqual({ note: 'hello' });
    for (const [name, { m, v }] of r.moments) {
      expect(bits(back.moments.get(name)!.m)).toEqual(bits(m));
      expect(bits(back.moments.get(name)!.v)).toEqual(bits(v));
    }
  });

  it('names tensors m.<param> / v.<param> with the parameter shapes', () => {
    const f = decodeSafetensors(RESUME);
    expect(f.metadata.format).toBe('gpt-lab-resume/1');
    expect(f.tensors.get(`m.${C_ATTN}`)!.shape).toEqual([24, 8]);
    expect(f.tensors.get(`v.${C_ATTN}`)!.shape).toEqual([24, 8]);
    expect(f.tensors.size).toBe(2 * SHAPES.size);
  });
});

// ---------------------------------------------------------------------------------------------
// Refused checkpoints
// ---------------------------------------------------------------------------------------------

interface Case {
  name: string;
  bytes: () => Uint8Array;
  code: CheckpointErrorCode;
  message: string | RegExp;
}

const DATA_START = 8 + HEADER;
const cuts = (label: string, at: number[], code: CheckpointErrorCode = 'truncated'): Case[] =>
  at.map((n) => ({ name: `truncated ${label} (${n} of ${VALID.length} bytes)`, bytes: () => VALID.slice(0, n), code, message: 'truncated' }));

/** 1 MB of seeded random bytes. */
function noise(seed: number, announce?: number): Uint8Array {
  const next = generator(seed);
  const out = new Uint8Array(1 << 20);
  for (let i = 0; i < out.length; i += 4) new DataView(out.buffer).setUint32(i, next(), true);
  if (announce !== undefined) new DataView(out.buffer).setBigUint64(0, BigInt(announce), true);
  return out;
}

const checkpointCases: Case[] = [
  { name: 'zero bytes', bytes: () => new Uint8Array(0), code: 'empty', message: 'empty' },
  { name: '4 bytes', bytes: () => VALID.slice(0, 4), code: 'truncated', message: 'only 4 bytes' },
  ...cuts('inside the header length', [1, 3, 7]),
  ...cuts('inside the header', [8, 9, 8 + (HEADER >> 1), DATA_START - 1]),
  ...cuts('inside the data', [DATA_START, DATA_START + 1, DATA_START + 322, VALID.length - 4, VALID.length - 1]),
  {
    name: 'header length larger than the file',
    bytes: () => {
      const b = VALID.slice();
      new DataView(b.buffer).setUint32(0, VALID.length * 2, true);
      return b;
    },
    code: 'truncated',
    message: `header length says ${VALID.length * 2} bytes`,
  },
  {
    name: 'absurd header length (> 100 MB)',
    bytes: () => raw('{}', new Uint8Array(0), 200_000_000),
    code: 'header-too-large',
    message: '200000000 bytes',
  },
  {
    name: 'header length with the high 32 bits set',
    bytes: () => {
      const b = VALID.slice();
      new DataView(b.buffer).setUint32(4, 1, true);
      return b;
    },
    code: 'header-too-large',
    message: 'more than 4 GB',
  },
  { name: '1 MB of random bytes (seeded)', bytes: () => noise(42), code: 'header-too-large', message: 'not a safetensors file' },
  { name: 'random bytes behind a plausible header length', bytes: () => noise(43, 100), code: 'not-safetensors', message: 'does not start with "{"' },
  { name: 'invalid JSON header', bytes: () => raw('{"a": [1, 2'), code: 'bad-header-json', message: 'not valid UTF-8 JSON' },
  { name: 'header that is not UTF-8', bytes: () => raw('{"ab":1}').map((b, i) => (i === 10 ? 0xff : b)), code: 'bad-header-json', message: 'UTF-8' },
  { name: 'header that is a JSON array', bytes: () => raw('[1, 2]'), code: 'not-safetensors', message: 'byte 0x5b' },
  { name: 'header that starts with a space', bytes: () => raw(' {}'), code: 'not-safetensors', message: 'byte 0x20' },
  {
    name: 'metadata value that is not a string',
    bytes: () => raw({ __metadata__: { format: 'gpt-lab/1', step: 3 } }),
    code: 'bad-metadata',
    message: 'metadata "step" must be a string',
  },
  { name: 'metadata that is not an object', bytes: () => raw({ __metadata__: ['x'] }), code: 'bad-metadata', message: 'an array' },
  { name: 'wrong dtype F16', bytes: () => withEntry(C_ATTN, { dtype: 'F16' }), code: 'bad-dtype', message: `tensor "${C_ATTN}" has dtype F16` },
  { name: 'wrong dtype I64', bytes: () => withEntry(WTE, { dtype: 'I64' }), code: 'bad-dtype', message: `"${WTE}" has dtype I64` },
  { name: 'shape with a negative dimension', bytes: () => withEntry(WTE, { shape: [-10, 8] }), code: 'bad-shape', message: 'dimension -10' },
  { name: 'shape with a fractional dimension', bytes: () => withEntry(WTE, { shape: [2.5, 8] }), code: 'bad-shape', message: 'dimension 2.5' },
  { name: 'shape that is a string', bytes: () => withEntry(WTE, { shape: '10,8' }), code: 'bad-shape', message: `"${WTE}" has shape "10,8"` },
  { name: 'shape with null', bytes: () => withEntry(WTE, { shape: [null, 8] }), code: 'bad-shape', message: 'dimension null' },
  { name: 'tensor entry that is not an object', bytes: () => raw({ x: 3 }), code: 'bad-header', message: 'header entry "x"' },
  { name: 'tensor entry with unknown fields', bytes: () => withEntry(WTE, { quant: 'q4' }), code: 'bad-header', message: 'quant' },
  { name: 'offsets not matching the shape', bytes: () => withEntry(WTE, { shape: [9, 8] }), code: 'bad-offsets', message: 'shape [9, 8] of F32 needs 288 bytes' },
  { name: 'offsets reversed', bytes: () => withEntry(WTE, { data_offsets: [320, 0] }), code: 'bad-offsets', message: 'end is before begin' },
  { name: 'offsets malformed', bytes: () => withEntry(WTE, { data_offsets: [0] }), code: 'bad-offsets', message: 'two non-negative integers' },
  {
    name: 'offsets out of bounds',
    bytes: () => withEntry('transformer.ln_f.bias', { data_offsets: [VALID.length, VALID.length + 32] }),
    code: 'truncated',
    message: '"transformer.ln_f.bias" ends at byte',
  },
  {
    name: 'overlapping offsets',
    bytes: () => withEntry('transformer.wpe.weight', { data_offsets: [256, 512] }),
    code: 'bad-offsets',
    message: 'overlap',
  },
  {
    name: 'data region longer than the tensors',
    bytes: () => {
      const b = new Uint8Array(VALID.length + 8);
      b.set(VALID);
      return b;
    },
    code: 'bad-data-size',
    message: '8 unexplained bytes',
  },
  {
    name: 'missing tensor',
    bytes: () => edited((f) => f.tensors.delete('transformer.h.0.mlp.c_fc.bias')),
    code: 'missing-tensor',
    message: '1 tensor is missing: "transformer.h.0.mlp.c_fc.bias"',
  },
  {
    name: 'three missing tensors',
    bytes: () => edited((f) => ['transformer.ln_f.weight', 'transformer.ln_f.bias', WTE].forEach((n) => f.tensors.delete(n))),
    code: 'missing-tensor',
    message: '3 tensors are missing',
  },
  {
    name: 'extra tensor',
    bytes: () => edited((f) => f.tensors.set('transformer.h.1.ln_1.weight', { shape: [8], data: new Float32Array(8) })),
    code: 'extra-tensor',
    message: '"transformer.h.1.ln_1.weight"',
  },
  {
    name: 'lm_head.weight shaped unlike wte',
    bytes: () => edited((f) => f.tensors.set('lm_head.weight', { shape: [8, 10], data: new Float32Array(80) })),
    code: 'extra-tensor',
    message: 'lm_head.weight',
  },
  {
    name: 'shape disagreeing with the config',
    bytes: () => edited((f) => f.tensors.set('transformer.wpe.weight', { shape: [16, 4], data: new Float32Array(64) })),
    code: 'wrong-shape',
    message: '"transformer.wpe.weight" should be [8, 8] but is [16, 4]',
  },
  {
    name: 'transposed (Conv1D) Linear weight under our names',
    bytes: () => edited((f) => f.tensors.set(C_ATTN, { shape: [8, 24], data: new Float32Array(192) })),
    code: 'wrong-shape',
    message: 'Conv1D',
  },
  {
    name: 'NaN weights',
    bytes: () =>
      edited((f) => {
        const d = f.tensors.get('transformer.h.0.ln_2.bias')!.data;
        d[0] = NaN;
        d[5] = NaN;
      }),
    code: 'non-finite',
    message: '"transformer.h.0.ln_2.bias" has 2 NaN values',
  },
  {
    name: 'Infinity weights',
    bytes: () => edited((f) => (f.tensors.get(WTE)!.data[3] = -Infinity)),
    code: 'non-finite',
    message: `"${WTE}" has 1 infinite value`,
  },
  { name: 'metadata without vocabulary', bytes: () => withMetadata((m) => delete m.vocabulary), code: 'missing-metadata', message: 'no "vocabulary"' },
  { name: 'metadata without config', bytes: () => withMetadata((m) => delete m.config), code: 'missing-metadata', message: 'no "config"' },
  { name: 'metadata without step', bytes: () => withMetadata((m) => delete m.step), code: 'missing-metadata', message: 'no "step"' },
  { name: 'metadata without format', bytes: () => withMetadata((m) => delete m.format), code: 'foreign-format', message: 'has no "format"' },
  { name: 'config that is not JSON', bytes: () => withMetadata((m) => (m.config = '{layers: 1}')), code: 'bad-config', message: 'metadata "config" is not valid JSON' },
  { name: 'config without a field', bytes: () => withMetadata((m) => (m.config = JSON.stringify({ ...TINY, layers: undefined }))), code: 'bad-config', message: '"layers"' },
  {
    name: 'config with an invalid value',
    bytes: () => withMetadata((m) => (m.config = JSON.stringify({ ...TINY, heads: 3 }))),
    code: 'bad-config',
    message: 'width must divide evenly among 3 heads',
  },
  {
    name: 'config with a value of the wrong type',
    bytes: () => withMetadata((m) => (m.config = JSON.stringify({ ...TINY, dropout: '0' }))),
    code: 'bad-config',
    message: 'dropout must be a number, not string',
  },
  {
    name: 'vocabulary length mismatching the config',
    bytes: () => withMetadata((m) => (m.vocabulary = JSON.stringify([...VOCAB, 'q']))),
    code: 'vocabulary-mismatch',
    message: 'the vocabulary has 11 tokens but config.vocabSize is 10',
  },
  {
    name: 'vocabulary length mismatching wte rows',
    bytes: () =>
      edited((f) => {
        f.tensors.set(WTE, { shape: [12, 8], data: new Float32Array(96) });
      }),
    code: 'vocabulary-mismatch',
    message: `"${WTE}" has 12 rows (one per token) but the vocabulary has 10 tokens`,
  },
  {
    name: 'vocabulary entry of two characters',
    bytes: () => withMetadata((m) => (m.vocabulary = JSON.stringify(['ab', ...VOCAB.slice(1)]))),
    code: 'bad-vocabulary',
    message: 'vocabulary entry 0 is "ab" (2 code points)',
  },
  {
    name: 'vocabulary with a duplicate',
    bytes: () => withMetadata((m) => (m.vocabulary = JSON.stringify([...VOCAB.slice(0, 9), 'a']))),
    code: 'bad-vocabulary',
    message: 'entries 2 and 9 are both "a"',
  },
  { name: 'vocabulary that is not an array', bytes: () => withMetadata((m) => (m.vocabulary = '"abc"')), code: 'bad-vocabulary', message: 'it is string' },
  { name: 'step that is negative', bytes: () => withMetadata((m) => (m.step = '-1')), code: 'bad-step', message: '"-1"' },
  { name: 'step that is fractional', bytes: () => withMetadata((m) => (m.step = '1.5')), code: 'bad-step', message: 'non-negative whole number' },
  { name: 'val_loss that is not a number', bytes: () => withMetadata((m) => (m.val_loss = 'NaN')), code: 'bad-metadata', message: 'val_loss' },
  { name: 'foreign format string', bytes: () => withMetadata((m) => (m.format = 'keras/3')), code: 'foreign-format', message: 'has format "keras/3", not "gpt-lab/1"' },
  { name: 'a resume file given as a checkpoint', bytes: () => RESUME, code: 'foreign-format', message: 'resume file' },
  {
    name: 'Hugging Face GPT-2 names and Conv1D layout',
    bytes: () =>
      encodeSafetensors(
        new Map([
          ['wte.weight', { shape: [10, 8], data: new Float32Array(80) }],
          ['h.0.attn.c_attn.weight', { shape: [8, 24], data: new Float32Array(192) }],
        ]),
        { format: 'pt' },
      ),
    code: 'hf-layout',
    message: 'tensor "h.0.attn.c_attn.weight" has shape [8, 24] = [C, 3C], the Conv1D [in, out] layout',
  },
  {
    name: 'transformer.-prefixed Conv1D weights without metadata',
    bytes: () => encodeSafetensors(new Map([[C_ATTN, { shape: [8, 24], data: new Float32Array(192) }]]), {}),
    code: 'hf-layout',
    message: 'has no "format"',
  },
  {
    name: 'Hugging Face names without attention weights',
    bytes: () => encodeSafetensors(new Map([['wpe.weight', { shape: [8, 8], data: new Float32Array(64) }]]), { format: 'pt' }),
    code: 'hf-layout',
    message: `Hugging Face GPT-2's naming`,
  },
];

describe('readCheckpoint refuses', () => {
  it('has a broad table', () => expect(checkpointCases.length).toBeGreaterThanOrEqual(20));

  it.each(checkpointCases)('$name', ({ bytes, code, message }) => {
    const e = refusal(() => readCheckpoint(bytes()));
    expect(e.code).toBe(code);
    expect(e.name).toBe('CheckpointError');
    expect(e.message).toMatch(typeof message === 'string' ? new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : message);
  });
});

// ---------------------------------------------------------------------------------------------
// Refused resume files
// ---------------------------------------------------------------------------------------------

const resumeCases: Case[] = [
  { name: 'a checkpoint given as a resume file', bytes: () => VALID, code: 'foreign-format', message: 'model checkpoint, not a resume file' },
  { name: 'truncated', bytes: () => RESUME.slice(0, RESUME.length - 3), code: 'truncated', message: 'truncated' },
  { name: 'missing moment', bytes: () => edited((f) => f.tensors.delete(`v.${WTE}`), RESUME), code: 'missing-tensor', message: `"v.${WTE}"` },
  {
    name: 'moment of the wrong shape',
    bytes: () => edited((f) => f.tensors.set(`m.${C_ATTN}`, { shape: [8, 24], data: new Float32Array(192) }), RESUME),
    code: 'wrong-shape',
    message: `"m.${C_ATTN}" should be [24, 8] but is [8, 24]`,
  },
  { name: 'NaN in a moment', bytes: () => edited((f) => (f.tensors.get(`v.${WTE}`)!.data[0] = NaN), RESUME), code: 'non-finite', message: `"v.${WTE}" has 1 NaN value` },
  { name: 'rng out of range', bytes: () => edited((f) => (f.metadata.rng = '[1, 4294967296]'), RESUME), code: 'bad-metadata', message: 'rng[1]' },
  { name: 'rng not JSON', bytes: () => edited((f) => (f.metadata.rng = 'seed'), RESUME), code: 'bad-metadata', message: '"rng" is not valid JSON' },
  { name: 'no data position', bytes: () => edited((f) => delete f.metadata.data_position, RESUME), code: 'missing-metadata', message: 'data_position' },
  {
    name: 'invalid hyperparameters',
    bytes: () => edited((f) => (f.metadata.hyperparameters = JSON.stringify({ ...HYPER, beta2: 1.5 })), RESUME),
    code: 'bad-config',
    message: 'beta2 must be less than 1',
  },
  {
    name: 'hyperparameters missing a training field',
    bytes: () => edited((f) => (f.metadata.hyperparameters = JSON.stringify({ ...HYPER, seed: undefined })), RESUME),
    code: 'bad-config',
    message: 'seed is missing',
  },
];

describe('readResume refuses', () => {
  it.each(resumeCases)('$name', ({ bytes, code, message }) => {
    const e = refusal(() => readResume(bytes(), SHAPES));
    expect(e.code).toBe(code);
    expect(e.message).toContain(message);
  });

  it('moments for another model', () => {
    const other = parameterShapes({ ...TINY, layers: 2 });
    const e = refusal(() => readResume(RESUME, other));
    expect(e.code).toBe('missing-tensor');
    expect(e.message).toContain('24 tensors are missing: "m.transformer.h.1.ln_1.weight"');
  });
});

// ---------------------------------------------------------------------------------------------
// Writers refuse what they could not read back
// ---------------------------------------------------------------------------------------------

describe('writers refuse', () => {
  it('a missing weight', () => {
    const c = tinyCheckpoint();
    c.weights.delete('transformer.ln_f.bias');
    const e = refusal(() => writeCheckpoint(c));
    expect(e.code).toBe('missing-tensor');
    expect(e.message).toContain('"transformer.ln_f.bias"');
  });

  it('a weight of the wrong shape', () => {
    const c = tinyCheckpoint();
    c.weights.set('transformer.h.0.mlp.c_proj.weight', { shape: [32, 8], data: new Float32Array(256) });
    const e = refusal(() => writeCheckpoint(c));
    expect(e.code).toBe('wrong-shape');
    expect(e.message).toContain('"transformer.h.0.mlp.c_proj.weight" should be [8, 32] but is [32, 8]');
  });

  it('data that does not fill its shape', () => {
    const c = tinyCheckpoint();
    c.weights.set('transformer.ln_f.bias', { shape: [8], data: new Float32Array(7) });
    expect(refusal(() => writeCheckpoint(c)).code).toBe('wrong-shape');
  });

  it('a vocabulary of the wrong size, and a NaN weight', () => {
    expect(refusal(() => writeCheckpoint({ ...tinyCheckpoint(), vocabulary: VOCAB.slice(1) })).code).toBe('vocabulary-mismatch');
    const c = tinyCheckpoint();
    c.weights.get(WTE)!.data[0] = NaN;
    expect(refusal(() => writeCheckpoint(c)).code).toBe('non-finite');
  });

  it('a resume record with a missing moment, a reserved extra key, or a bad step', () => {
    const r = tinyResume();
    r.moments.delete(WTE);
    expect(refusal(() => writeResume(r)).code).toBe('missing-tensor');
    expect(refusal(() => writeResume({ ...tinyResume(), extra: { rng: '[]' } })).message).toContain('reserved');
    expect(refusal(() => writeResume({ ...tinyResume(), step: -2 })).code).toBe('bad-step');
  });
});
