/**
 * Hostile input, table-driven (issue 8): hyperparameters, corpora and checkpoints thrown at one
 * running Engine (Node, cpu backend, tiny model). Every refused case asserts the exact message the
 * reader sees and that the running state — the exported checkpoint's bytes and the status (step,
 * hyperparameters, corpus, origin) — is byte-for-byte what it was before.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  estimateBytes,
  isPresetName,
  LIMITS,
  resolveHyperparameters,
  type FieldError,
  type Hyperparameters,
} from '../../src/gpt/config';
import { CORPUS_LIMITS } from '../../src/corpus/validate';
import { decodeSafetensors, encodeSafetensors, type TensorData } from '../../src/engine/safetensors';
import { Engine } from '../../src/engine/engine';
import type { EngineEvents, EngineStatus } from '../../src/engine/protocol';
import { disposeRun, saveCheckpoint, startRun } from '../../src/engine/run';
import { loadMobyDick } from '../../scripts/lib/corpus-node';
import { resolveRun } from '../../src/app/runUrl';
import { CORPUS_URL, fakeHost, PRETRAINED_URL, TEST_ENGINE_OPTIONS } from './engineFixture';

/** 20,000 characters: enough for the tiny context (330 needed), too short for a 2048-long one. */
const text = loadMobyDick().slice(0, 20_000);
const tiny: Hyperparameters = resolveHyperparameters('tiny', { batchSize: 2, steps: 500, warmupSteps: 5 });

const silent: EngineEvents = { status() {}, metrics() {}, sample() {} };

let engine: Engine;
let pretrained: Uint8Array;
/** A valid checkpoint of another architecture (width 64), trained on the same text. */
let wider: Uint8Array;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const run = startRun(text, tiny);
  await run.trainer.run(2);
  pretrained = await saveCheckpoint(run);
  disposeRun(run);
  const other = startRun(text, { ...tiny, width: 64 });
  wider = await saveCheckpoint(other);
  disposeRun(other);
  const host = fakeHost(text, () => pretrained);
  engine = new Engine(host, TEST_ENGINE_OPTIONS);
  const status = await engine.start({ backend: 'cpu', pretrainedUrl: PRETRAINED_URL, corpusUrl: CORPUS_URL }, silent);
  expect(status.state).toBe('idle');
});

afterAll(async () => {
  await engine.dispose();
  expect(tf.memory().numTensors).toBe(0);
});

// ---------------------------------------------------------------------------------------------
// The running state
// ---------------------------------------------------------------------------------------------

interface Snapshot {
  bytes: Uint8Array;
  status: Pick<EngineStatus, 'step' | 'hp' | 'corpus' | 'origin' | 'state'>;
}

async function snapshot(e: Engine): Promise<Snapshot> {
  const s = await e.status();
  return {
    bytes: await e.exportCheckpoint(),
    status: structuredClone({ step: s.step, hp: s.hp, corpus: s.corpus, origin: s.origin, state: s.state }),
  };
}

function expectUntouched(before: Snapshot, after: Snapshot): void {
  expect(after.status).toEqual(before.status);
  expect(after.bytes.length).toBe(before.bytes.length);
  expect(Buffer.from(after.bytes).equals(Buffer.from(before.bytes))).toBe(true);
}

async function currentHp(): Promise<Hyperparameters> {
  return { ...(await engine.status()).hp! };
}

// ---------------------------------------------------------------------------------------------
// Hyperparameters
// ---------------------------------------------------------------------------------------------

type Hp = Record<string, unknown>;
interface HpCase {
  name: string;
  change: (hp: Hp) => Hp;
  /** Exact field errors, or a function of the set that was sent (for byte counts). */
  errors: FieldError[] | ((sent: Hp) => FieldError[]);
}

const set = (patch: Hp) => (hp: Hp) => ({ ...hp, ...patch });
const without = (key: string) => (hp: Hp) => {
  const copy = { ...hp };
  delete copy[key];
  return copy;
};
const gib = (n: number) => `${(n / 1024 ** 3).toFixed(1)} GiB`;
const tooBig = (sent: Hp): FieldError[] => [
  {
    field: 'width',
    message: `this model would need about ${gib(estimateBytes(sent as unknown as Hyperparameters))} for training, more than the 8.0 GiB allowed; make it smaller`,
  },
];

const HP_CASES: HpCase[] = [
  { name: 'zero layers', change: set({ layers: 0 }), errors: [{ field: 'layers', message: 'must be at least 1' }] },
  { name: 'zero heads', change: set({ heads: 0 }), errors: [{ field: 'heads', message: 'must be at least 1' }] },
  { name: 'zero steps', change: set({ steps: 0 }), errors: [{ field: 'steps', message: 'must be at least 1' }] },
  { name: 'zero learning rate', change: set({ learningRate: 0 }), errors: [{ field: 'learningRate', message: 'must be greater than 0' }] },
  { name: 'negative width', change: set({ width: -32 }), errors: [{ field: 'width', message: 'must be at least 1' }] },
  { name: 'negative seed', change: set({ seed: -1 }), errors: [{ field: 'seed', message: 'must be at least 0' }] },
  { name: 'negative dropout', change: set({ dropout: -0.1 }), errors: [{ field: 'dropout', message: 'must be at least 0' }] },
  { name: 'dropout of 1', change: set({ dropout: 1 }), errors: [{ field: 'dropout', message: 'must be less than 1' }] },
  { name: 'fractional layers', change: set({ layers: 2.5 }), errors: [{ field: 'layers', message: 'must be a whole number' }] },
  { name: 'fractional batch size', change: set({ batchSize: 1.0001 }), errors: [{ field: 'batchSize', message: 'must be a whole number' }] },
  { name: 'NaN width', change: set({ width: NaN }), errors: [{ field: 'width', message: 'must be a number' }] },
  { name: 'NaN learning rate', change: set({ learningRate: NaN }), errors: [{ field: 'learningRate', message: 'must be a number' }] },
  { name: 'Infinity steps', change: set({ steps: Infinity }), errors: [{ field: 'steps', message: 'must be finite' }] },
  { name: '-Infinity weight decay', change: set({ weightDecay: -Infinity }), errors: [{ field: 'weightDecay', message: 'must be finite' }] },
  { name: 'layers over the limit', change: set({ layers: 49 }), errors: [{ field: 'layers', message: `must be at most ${LIMITS.maxLayers}` }] },
  { name: 'seed over 32 bits', change: set({ seed: 2 ** 32 }), errors: [{ field: 'seed', message: 'must be at most 4294967295' }] },
  { name: 'huge model (48 × 4096)', change: set({ layers: 48, heads: 64, width: 4096 }), errors: tooBig },
  { name: 'huge activations (batch 4096 × context 4096)', change: set({ batchSize: 4096, contextLength: 4096 }), errors: tooBig },
  {
    name: 'width not divisible by heads',
    change: set({ heads: 3 }),
    errors: [{ field: 'width', message: 'must divide evenly among 3 heads (32 / 3 is not whole)' }],
  },
  {
    name: 'context longer than the corpus allows',
    change: set({ contextLength: 2048 }),
    errors: [
      {
        field: 'contextLength',
        message:
          'The text has 20000 characters; with a context length of 2048 it needs at least 20490, so that its last 10% (kept for validation) holds one whole window.',
      },
    ],
  },
  { name: 'a string', change: set({ layers: '4' }), errors: [{ field: 'layers', message: 'must be a number, not string' }] },
  { name: 'a hostile string', change: set({ width: '<script>alert(1)</script>' }), errors: [{ field: 'width', message: 'must be a number, not string' }] },
  { name: 'null', change: set({ heads: null }), errors: [{ field: 'heads', message: 'must be a number, not null' }] },
  { name: 'a boolean', change: set({ dropout: true }), errors: [{ field: 'dropout', message: 'must be a number, not boolean' }] },
  { name: 'an object', change: set({ batchSize: { valueOf: () => 4 } }), errors: [{ field: 'batchSize', message: 'must be a number, not object' }] },
  { name: 'a bigint', change: set({ steps: 10n }), errors: [{ field: 'steps', message: 'must be a number, not bigint' }] },
  { name: 'a missing field', change: without('learningRate'), errors: [{ field: 'learningRate', message: 'is missing' }] },
  {
    name: 'warmup longer than the run',
    change: set({ warmupSteps: 10, steps: 5 }),
    errors: [{ field: 'warmupSteps', message: 'must not exceed steps (5)' }],
  },
  {
    name: 'several bad fields at once, each reported',
    change: set({ layers: 0, width: NaN, seed: 'x' }),
    errors: [
      { field: 'layers', message: 'must be at least 1' },
      { field: 'width', message: 'must be a number' },
      { field: 'seed', message: 'must be a number, not string' },
    ],
  },
  {
    name: 'an empty object: every field missing (vocabSize is the engine’s own)',
    change: () => ({}),
    errors: Object.keys(tiny)
      .filter((k) => k !== 'vocabSize')
      .map((field) => ({ field, message: 'is missing' })),
  },
  {
    name: 'a __proto__ key from JSON does not stand in for the fields',
    change: () => JSON.parse('{"__proto__": {"layers": 2, "heads": 2, "width": 32}}') as Hp,
    errors: Object.keys(tiny)
      .filter((k) => k !== 'vocabSize')
      .map((field) => ({ field, message: 'is missing' })),
  },
];

// ---------------------------------------------------------------------------------------------
// Corpora
// ---------------------------------------------------------------------------------------------

interface CorpusCase {
  name: string;
  text: () => unknown;
  error: string | RegExp;
}

/** Real invalid UTF-8 (a lone continuation byte, an overlong encoding, a truncated sequence). */
const invalidUtf8 = () =>
  new TextDecoder().decode(new Uint8Array([...new TextEncoder().encode('Call me Ishmael. '.repeat(30)), 0x80, 0xc0, 0xaf, 0xe2, 0x82]));

/** 1,025 distinct code points (CJK), repeated past the length one window needs. */
const tooManyDistinct = () => {
  let s = '';
  for (let i = 0; i < 1025; i++) s += String.fromCodePoint(0x4e00 + i);
  return s.repeat(2);
};

const CORPUS_CASES: CorpusCase[] = [
  { name: 'empty', text: () => '', error: 'The text is empty: paste or choose some text to train on.' },
  { name: 'white space only', text: () => ' \n\t\r '.repeat(500), error: 'The text is only white space: there is nothing to learn from.' },
  {
    name: 'NUL bytes',
    text: () => 'Call me Ishmael.\u0000\u0000' + 'x'.repeat(1000),
    error: 'This looks like a binary file, not text: it has a NUL byte at character 16.',
  },
  {
    name: 'invalid UTF-8 (decoded to U+FFFD)',
    text: invalidUtf8,
    error: 'This is not valid UTF-8 text: an undecodable byte sequence at character 510.',
  },
  {
    name: 'mostly control characters',
    text: () => '\u0001\u0002\u0003\u001b\u007f'.repeat(200) + 'some words',
    error: 'This looks like a binary file, not text: 1000 of its characters are control codes.',
  },
  {
    name: 'a single repeated character (a one-token vocabulary)',
    text: () => 'a'.repeat(5000),
    error: 'The text repeats a single character: there is nothing to predict. Use text with at least two different characters.',
  },
  {
    name: 'shorter than one context window in each split',
    text: () => 'It was the best of times. '.repeat(10),
    error:
      'The text has 260 characters; with a context length of 32 it needs at least 330, so that its last 10% (kept for validation) holds one whole window.',
  },
  {
    name: 'over the size limit',
    text: () => 'ab'.repeat(CORPUS_LIMITS.maxChars / 2) + 'c',
    error: 'The text has 20,000,001 characters; the limit is 20,000,000.',
  },
  {
    name: 'more distinct characters than a vocabulary holds',
    text: tooManyDistinct,
    error: 'The text uses 1025 different characters; a vocabulary may hold at most 1024.',
  },
  { name: 'not a string (a number)', text: () => 12345, error: 'The text must be a string.' },
  { name: 'not a string (null)', text: () => null, error: 'The text must be a string.' },
];

/** Accepted texts: the vocabulary is their code points, unmangled. */
const ACCEPTED_CORPORA = [
  { name: 'Hebrew (right-to-left)', text: 'בְּרֵאשִׁית בָּרָא אֱלֹהִים אֵת הַשָּׁמַיִם וְאֵת הָאָרֶץ. '.repeat(12) },
  { name: 'Arabic (right-to-left)', text: 'في البدء كان الكلمة، والكلمة كان عند الله. '.repeat(12) },
  { name: 'emoji (astral code points, ZWJ sequences)', text: 'I 🐋 the sea 🌊🚢 and 👩‍👩‍👧 sail ⚓️! '.repeat(20) },
];

// ---------------------------------------------------------------------------------------------
// Checkpoints
// ---------------------------------------------------------------------------------------------

/** The checkpoint's header object and data region. */
function split(bytes: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  return { header, data: bytes.subarray(8 + n) };
}

/** Bytes with this header text (padded to 8) and data region. */
function join(headerText: string, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const n = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + n + data.length);
  new DataView(out.buffer).setUint32(0, n, true);
  out.fill(0x20, 8, 8 + n);
  out.set(json, 8);
  out.set(data, 8 + n);
  return out;
}

function editHeader(bytes: Uint8Array, edit: (h: Record<string, Record<string, unknown>>) => void): Uint8Array {
  const { header, data } = split(bytes);
  edit(header as Record<string, Record<string, unknown>>);
  return join(JSON.stringify(header), data);
}

/** Re-encodes the checkpoint's tensors and metadata after `edit`. */
function editTensors(
  bytes: Uint8Array,
  edit: (tensors: Map<string, TensorData>, metadata: Record<string, string>) => void,
): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(bytes);
  edit(tensors, metadata);
  return encodeSafetensors(tensors, metadata);
}

/** A seeded xorshift32 fill: fast, deterministic random bytes. */
function randomBytes(n: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(n);
  const words = new Uint32Array(out.buffer, 0, Math.floor(n / 4));
  let x = seed >>> 0;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return out;
}

interface CheckpointCase {
  name: string;
  bytes: (valid: Uint8Array) => Uint8Array | unknown;
  error: string | RegExp | ((valid: Uint8Array) => string);
  /** Seconds it may take (the 100 MB file). */
  within?: number;
}

const PREFIX = 'This checkpoint cannot be loaded: ';
const WTE = 'transformer.wte.weight';
const LNF = 'transformer.ln_f.weight';

const CHECKPOINT_CASES: CheckpointCase[] = [
  { name: 'a zero-byte file', bytes: () => new Uint8Array(0), error: 'the file is empty (0 bytes)' },
  {
    name: 'truncated inside the length prefix',
    bytes: (v) => v.slice(0, 5),
    error: 'the file is only 5 bytes; a safetensors file starts with an 8-byte header length, so it is truncated or not a checkpoint',
  },
  {
    name: 'truncated inside the header',
    bytes: (v) => v.slice(0, 40),
    error: /^the header length says \d+ bytes, but only 32 bytes follow the 8-byte length: the file is truncated inside its header \(or is not a safetensors file\)$/,
  },
  {
    name: 'truncated inside the data',
    bytes: (v) => v.slice(0, v.length - 4),
    error: (v) => {
      const { header, data } = split(v);
      const [name, last] = Object.entries(header).at(-1) as [string, { data_offsets: number[] }];
      return `tensor "${name}" ends at byte ${last.data_offsets[1]} of the data region, but the file holds only ${data.length - 4} bytes of data: the file is truncated`;
    },
  },
  {
    name: 'header length larger than the file',
    bytes: (v) => {
      const b = v.slice();
      new DataView(b.buffer).setUint32(0, b.length, true);
      return b;
    },
    error: /^the header length says \d+ bytes, but only \d+ bytes follow the 8-byte length: the file is truncated inside its header \(or is not a safetensors file\)$/,
  },
  {
    name: 'header length over 4 GB',
    bytes: (v) => {
      const b = v.slice();
      new DataView(b.buffer).setUint32(4, 1, true);
      return b;
    },
    error: 'the first 8 bytes announce a header of more than 4 GB, over the 100000000-byte limit: this is not a safetensors file, or it is corrupt',
  },
  {
    name: 'a header that is not JSON',
    bytes: (v) => join('{"__metadata__": {"format": "gpt-lab/1"', split(v).data),
    error: /^the header \(\d+ bytes\) is not valid UTF-8 JSON: .+$/,
  },
  {
    name: 'a header that does not start with {',
    bytes: (v) => join('["not", "an", "object"]', split(v).data),
    error: 'the header does not start with "{" (found byte 0x5b): this is not a safetensors file',
  },
  {
    name: 'a wrong dtype (F16)',
    bytes: (v) => editHeader(v, (h) => void (h[LNF].dtype = 'F16')),
    error: `tensor "${LNF}" has dtype F16; only F32 (float32) checkpoints can be read — convert it to float32 first`,
  },
  {
    name: 'a missing tensor',
    bytes: (v) => editTensors(v, (t) => void t.delete(LNF)),
    error: `1 tensor is missing: "${LNF}"`,
  },
  {
    name: 'an extra tensor',
    bytes: (v) => editTensors(v, (t) => void t.set('backdoor.weight', { shape: [2], data: new Float32Array([1, 2]) })),
    error: '1 tensor is not part of this model: "backdoor.weight"',
  },
  {
    name: 'a shape that disagrees with the config',
    bytes: (v) => editTensors(v, (t) => void t.set(LNF, { shape: [16], data: new Float32Array(16).fill(1) })),
    error: `the tensors do not match the config: "${LNF}" should be [32] but is [16]`,
  },
  {
    name: 'NaN weights',
    bytes: (v) =>
      editTensors(v, (t) => {
        const d = t.get(LNF)!.data;
        d[0] = NaN;
        d[5] = NaN;
      }),
    error: `the values are not all finite numbers (training probably diverged): "${LNF}" has 2 NaN values`,
  },
  {
    name: 'Infinity weights',
    bytes: (v) =>
      editTensors(v, (t) => {
        t.get(WTE)!.data[3] = Infinity;
        t.get(WTE)!.data[4] = -Infinity;
      }),
    error: `the values are not all finite numbers (training probably diverged): "${WTE}" has 2 infinite values`,
  },
  {
    name: 'metadata without the vocabulary',
    bytes: (v) => editTensors(v, (_, m) => void delete m.vocabulary),
    error: 'the metadata has no "vocabulary"',
  },
  {
    name: 'metadata without the config',
    bytes: (v) => editTensors(v, (_, m) => void delete m.config),
    error: 'the metadata has no "config"',
  },
  {
    name: 'a config with a hostile value',
    bytes: (v) =>
      editTensors(v, (_, m) => {
        m.config = JSON.stringify({ ...JSON.parse(m.config), layers: 1e9 });
      }),
    error: 'config: layers must be at most 48',
  },
  {
    name: 'a vocabulary that disagrees with the embedding rows',
    bytes: (v) =>
      editTensors(v, (_, m) => {
        const vocabulary = JSON.parse(m.vocabulary) as string[];
        m.vocabulary = JSON.stringify([...vocabulary, '€']);
        m.config = JSON.stringify({ ...JSON.parse(m.config), vocabSize: vocabulary.length + 1 });
      }),
    error: /^"transformer\.wte\.weight" has \d+ rows \(one per token\) but the vocabulary has \d+ tokens$/,
  },
  {
    name: 'a vocabulary with a duplicate token',
    bytes: (v) =>
      editTensors(v, (_, m) => {
        const vocabulary = JSON.parse(m.vocabulary) as string[];
        vocabulary[1] = vocabulary[0];
        m.vocabulary = JSON.stringify(vocabulary);
      }),
    error: /^vocabulary entries 0 and 1 are both ".+"; tokens must be distinct$/,
  },
  {
    name: 'a foreign format',
    bytes: (v) => editTensors(v, (_, m) => void (m.format = 'pytorch')),
    error: 'this is not a GPT Lab checkpoint: the file has format "pytorch", not "gpt-lab/1" (metadata keys: "format", "config", "vocabulary", "step")',
  },
  {
    name: 'a negative step',
    bytes: (v) => editTensors(v, (_, m) => void (m.step = '-3')),
    error: 'metadata "step" is "-3"; it must be a non-negative whole number',
  },
  {
    name: 'trailing bytes after the data',
    bytes: (v) => {
      const b = new Uint8Array(v.length + 8);
      b.set(v);
      return b;
    },
    error: (v) => {
      const n = split(v).data.length;
      return `the data region is ${n + 8} bytes but the tensors account for ${n}: 8 unexplained bytes at the end`;
    },
  },
  { name: 'not a byte array (a string)', bytes: () => 'gpt-lab/1', error: 'the file is not a byte array' },
  {
    name: '100 MB of random bytes',
    bytes: () => randomBytes(100 * 1024 * 1024),
    error: /^the first 8 bytes announce a header of (more than 4 GB|\d+ bytes), over the 100000000-byte limit: this is not a safetensors file, or it is corrupt$/,
    within: 5,
  },
];

// ---------------------------------------------------------------------------------------------
// The counts
// ---------------------------------------------------------------------------------------------

const COUNTS = {
  hyperparameters: HP_CASES.length + 1 /* unknown preset */,
  corpora: CORPUS_CASES.length + ACCEPTED_CORPORA.length,
  checkpoints: CHECKPOINT_CASES.length + 2 /* another vocabulary, another architecture */,
};
console.log(
  `hostile-input cases: hyperparameters ${COUNTS.hyperparameters}, corpora ${COUNTS.corpora}, checkpoints ${COUNTS.checkpoints}, ` +
    `total ${COUNTS.hyperparameters + COUNTS.corpora + COUNTS.checkpoints}`,
);

it('has at least 20 hyperparameter, 10 corpus and 15 checkpoint cases', () => {
  expect(COUNTS.hyperparameters).toBeGreaterThanOrEqual(20);
  expect(COUNTS.corpora).toBeGreaterThanOrEqual(10);
  expect(COUNTS.checkpoints).toBeGreaterThanOrEqual(15);
});

// ---------------------------------------------------------------------------------------------
// The suites (in order: each later group relies on the Moby-Dick run the earlier ones leave)
// ---------------------------------------------------------------------------------------------

describe('hostile hyperparameters are refused and change nothing', () => {
  it.each(HP_CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const before = await snapshot(engine);
    const sent = c.change({ ...(await currentHp()) } as Hp);
    const result = await engine.applyHyperparameters(sent as unknown as Hyperparameters);
    const expected = typeof c.errors === 'function' ? c.errors({ ...sent, vocabSize: before.status.hp!.vocabSize }) : c.errors;
    expect(result.errors).toEqual(expected);
    expectUntouched(before, await snapshot(engine));
  });

  it('an unknown preset name', async () => {
    for (const name of ['huge', 'constructor', '__proto__', 'toString', 'hasOwnProperty', '']) expect(isPresetName(name)).toBe(false);
    const resolved = resolveRun({ backend: 'auto', preset: 'constructor', values: {}, hasRun: true, debug: false });
    expect(resolved).toEqual({
      hp: null,
      errors: [{ field: 'preset', message: "'constructor' is not a preset (tiny, baby, base, small)" }],
    });
  });
});

describe('hostile corpora are refused and change nothing', () => {
  it.each(CORPUS_CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const before = await snapshot(engine);
    const result = await engine.setCorpus({ source: 'user', name: 'upload.txt', text: c.text() as string });
    if (typeof c.error === 'string') expect(result.error).toBe(c.error);
    else expect(result.error).toMatch(c.error);
    expectUntouched(before, await snapshot(engine));
  });

  it.each(ACCEPTED_CORPORA.map((c) => [c.name, c] as const))('%s is accepted, not mangled', async (_, c) => {
    const result = await engine.setCorpus({ source: 'user', name: c.name, text: c.text });
    expect(result.error).toBeNull();
    const distinct = new Set(c.text);
    expect(result.status.corpus).toEqual({
      source: 'user',
      name: c.name,
      characters: c.text.length,
      vocabularySize: distinct.size,
      unknownChars: 0,
    });
    expect(result.status.hp!.vocabSize).toBe(distinct.size);
    // The exported vocabulary is the text's code points, each whole (astral ones not split in two).
    const vocabulary = JSON.parse(decodeSafetensors(await engine.exportCheckpoint()).metadata.vocabulary) as string[];
    expect(new Set(vocabulary)).toEqual(distinct);
    // A prompt from the text round-trips: no character falls back, the sample uses only the vocabulary.
    const prompt = [...c.text].slice(0, 12).join('');
    const sample = await engine.sample({ prompt, maxTokens: 16, temperature: 1, seed: 3 });
    expect(sample.prompt).toBe(prompt);
    expect(sample.unknownChars).toBe(0);
    for (const ch of sample.text) expect(distinct.has(ch), JSON.stringify(ch)).toBe(true);
  });

  it('Moby-Dick comes back', async () => {
    const result = await engine.setCorpus({ source: 'moby-dick' });
    expect(result.error).toBeNull();
    expect(result.status.corpus).toMatchObject({ source: 'moby-dick', characters: text.length });
  });
});

describe('hostile checkpoints are refused and change nothing', () => {
  let valid: Uint8Array;
  beforeAll(async () => {
    valid = await engine.exportCheckpoint();
  });

  it.each(CHECKPOINT_CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const bytes = c.bytes(valid);
    const before = await snapshot(engine);
    const t0 = performance.now();
    const result = await engine.importCheckpoint(bytes as Uint8Array);
    const seconds = (performance.now() - t0) / 1000;
    if (typeof c.error === 'function') expect(result.error).toBe(PREFIX + c.error(valid));
    else if (typeof c.error === 'string') expect(result.error).toBe(PREFIX + c.error);
    else {
      expect(result.error?.startsWith(PREFIX)).toBe(true);
      expect(result.error!.slice(PREFIX.length)).toMatch(c.error);
    }
    if (c.within !== undefined) expect(seconds).toBeLessThan(c.within);
    expectUntouched(before, await snapshot(engine));
  });

});

describe('valid checkpoints of another model are accepted, by design (the state changes)', () => {
  it('another vocabulary: accepted, the corpus characters it lacks are counted as unknown', async () => {
    const otherText = 'xyzw qrst '.repeat(100);
    const other = startRun(otherText, tiny);
    const bytes = await saveCheckpoint(other);
    disposeRun(other);
    const result = await engine.importCheckpoint(bytes);
    expect(result.error).toBeNull();
    const known = new Set(otherText);
    const unknown = [...text].filter((ch) => !known.has(ch)).length;
    expect(result.status).toMatchObject({
      origin: 'imported',
      step: 0,
      corpus: { source: 'moby-dick', characters: text.length, vocabularySize: known.size, unknownChars: unknown },
    });
    expect(result.status.hp!.vocabSize).toBe(known.size);
  });

  it('another architecture (width 64): accepted as a new model', async () => {
    const result = await engine.importCheckpoint(wider);
    expect(result.error).toBeNull();
    expect(result.status).toMatchObject({ origin: 'imported', step: 0, state: 'idle', corpus: { source: 'moby-dick', unknownChars: 0 } });
    expect(result.status.hp).toMatchObject({ width: 64, layers: 2, heads: 2, contextLength: 32, vocabSize: new Set(text).size });
    expect(Buffer.from(await engine.exportCheckpoint()).equals(Buffer.from(wider))).toBe(true);
  });
});

describe('keys outside the hyperparameters', () => {
  // applyHyperparameters once spread the caller's object into the running set, so unknown keys (and
  // an own "__proto__" key, through Object.assign) reached run.hp. Only known fields are read now.
  it('unknown keys in a set are dropped, not copied into the running hyperparameters', async () => {
    const hp = await currentHp();
    const result = await engine.applyHyperparameters({ ...hp, evil: '<img src=x onerror=alert(1)>' } as unknown as Hyperparameters);
    expect(result.errors).toEqual([]);
    expect(Object.keys(result.status.hp!).sort()).toEqual(Object.keys(tiny).sort());
  });
});
