/**
 * The safetensors container, F32 only: encode and strictly decode.
 *
 * Layout of a file (all integers little-endian):
 *
 *   [0, 8)          u64  n = length of the header in bytes
 *   [8, 8 + n)      UTF-8 JSON header, padded with spaces (0x20) so that 8 + n is a multiple of 8:
 *                     { "__metadata__": { "key": "string value", ... },
 *                       "<tensor name>": { "dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end] },
 *                       ... }
 *   [8 + n, end)    the data region: each tensor's float32 values, row-major, at [begin, end)
 *                   relative to the start of the region; the tensors tile it exactly.
 *
 * Pure: no tfjs and no Node or DOM-only APIs (TextEncoder/TextDecoder exist in browsers, workers and
 * Node alike), so the same code reads a checkpoint in the engine worker, in tests and in scripts.
 *
 * The decoder trusts nothing: every problem becomes a `CheckpointError` with a `code` a program can
 * switch on and a message a reader can act on, and nothing is returned until the whole file checked out.
 */

/** Why a file was refused. The container codes come from this module, the model codes from checkpoint.ts. */
export type CheckpointErrorCode =
  // container (safetensors) level
  | 'empty' // a zero-byte file
  | 'truncated' // the file ends before the header or the data it announces
  | 'header-too-large' // the announced header length is absurd (> 100 MB): not a safetensors file
  | 'not-safetensors' // the header does not start with '{'
  | 'bad-header-json' // the header is not valid UTF-8 JSON, or not a JSON object
  | 'bad-header' // a header entry has the wrong structure (not an object, unknown keys, reserved name)
  | 'bad-metadata' // `__metadata__` is not an object of strings, or one of its values is malformed
  | 'bad-dtype' // a tensor is not F32
  | 'bad-shape' // a shape is not an array of non-negative integers, or does not fit its data
  | 'bad-offsets' // data_offsets out of order, overlapping, leaving gaps, or not matching the shape
  | 'bad-data-size' // the data region is larger than the tensors in it
  // model (checkpoint) level
  | 'foreign-format' // metadata `format` missing or not ours
  | 'hf-layout' // looks like a Hugging Face GPT-2 file (Conv1D [in, out] weights)
  | 'missing-metadata' // a required metadata key (config, vocabulary, step, ...) is absent
  | 'bad-config' // the config / hyperparameters JSON is invalid or has an invalid field
  | 'bad-vocabulary' // the vocabulary is not a JSON array of distinct single-code-point strings
  | 'vocabulary-mismatch' // the vocabulary's length disagrees with config.vocabSize or wte's rows
  | 'bad-step' // step is not a non-negative integer
  | 'missing-tensor' // a parameter the config needs is absent
  | 'extra-tensor' // a tensor the config does not know about
  | 'wrong-shape' // a tensor's shape disagrees with the config
  | 'non-finite'; // NaN or ±Infinity among the values

/** A refused checkpoint (or a refused attempt to write one). */
export class CheckpointError extends Error {
  readonly code: CheckpointErrorCode;
  constructor(code: CheckpointErrorCode, message: string) {
    super(message);
    this.name = 'CheckpointError';
    this.code = code;
  }
}

/** One float32 tensor: its shape and its values, row-major. `data.length` = product of `shape`. */
export interface TensorData {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  /** In the order of the header. */
  tensors: Map<string, TensorData>;
  metadata: Record<string, string>;
}

/** Headers larger than this are refused before anything is parsed (the Rust reference uses the same bound). */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';
const TENSOR_KEYS = ['dtype', 'shape', 'data_offsets'];

/** True on every platform tfjs runs on; the big-endian branches exist so the format stays right regardless. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Number of values in a tensor of this shape (1 for a scalar, shape []). */
function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function describeShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/**
 * Serialises `tensors` (in insertion order) and `metadata` (string values) into safetensors bytes.
 * The output is a pure function of the inputs: same tensors and metadata, same bytes.
 */
export function encodeSafetensors(tensors: Map<string, TensorData>, metadata: Record<string, string>): Uint8Array {
  // The header is assembled by hand rather than by JSON.stringify of one object, because JS objects
  // put integer-like keys ("0", "12") first; a Map keeps the order we were given.
  const metaParts: string[] = [];
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new CheckpointError('bad-metadata', `metadata "${key}" must be a string, not ${typeof value}`);
    }
    metaParts.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
  }
  const parts = [`${JSON.stringify(METADATA_KEY)}:{${metaParts.join(',')}}`];

  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === METADATA_KEY) {
      throw new CheckpointError('bad-header', `a tensor cannot be named "${METADATA_KEY}"; that key holds the metadata`);
    }
    checkShape(name, t.shape);
    const n = product(t.shape);
    if (t.data.length !== n) {
      throw new CheckpointError(
        'bad-shape',
        `tensor "${name}" has shape ${describeShape(t.shape)} (${n} values) but ${t.data.length} values were given`,
      );
    }
    const begin = offset;
    offset += 4 * n;
    const entry = { dtype: 'F32', shape: t.shape, data_offsets: [begin, offset] };
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(entry)}`);
  }

  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  // Pad so the data region starts on an 8-byte boundary (8 + n is a multiple of 8 ⇔ n is).
  const headerLength = Math.ceil(json.length / 8) * 8;
  if (headerLength > MAX_HEADER_BYTES) {
    throw new CheckpointError('header-too-large', `the header would be ${headerLength} bytes, over the ${MAX_HEADER_BYTES}-byte limit`);
  }

  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength, true); // low 32 bits of the u64
  view.setUint32(4, 0, true); // high 32 bits: always 0 (the header is < 100 MB)
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);

  let pos = 8 + headerLength;
  for (const t of tensors.values()) {
    if (LITTLE_ENDIAN) {
      // Copy the raw bytes: bit-exact, NaN payloads included.
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    } else {
      for (let i = 0; i < t.data.length; i++) view.setFloat32(pos + 4 * i, t.data[i], true);
    }
    pos += t.data.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonType(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

/** Throws 'bad-shape' unless `shape` is an array of non-negative integers whose product is addressable. */
function checkShape(name: string, shape: unknown): asserts shape is number[] {
  if (!Array.isArray(shape)) {
    throw new CheckpointError('bad-shape', `tensor "${name}" has shape ${JSON.stringify(shape)}; a shape must be an array of non-negative integers`);
  }
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new CheckpointError(
        'bad-shape',
        `tensor "${name}" has shape ${JSON.stringify(shape)}; dimension ${JSON.stringify(d)} is not a non-negative integer`,
      );
    }
  }
  if (product(shape) * 4 > Number.MAX_SAFE_INTEGER) {
    throw new CheckpointError('bad-shape', `tensor "${name}" has shape ${JSON.stringify(shape)}, far too large to be real`);
  }
}

interface HeaderEntry {
  name: string;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Parses and checks `bytes` as a safetensors file of F32 tensors. Throws a `CheckpointError` on the
 * first problem; returns only a fully checked result whose tensors are fresh, aligned copies.
 */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length === 0) {
    throw new CheckpointError('empty', 'the file is empty (0 bytes)');
  }
  if (bytes.length < 8) {
    throw new CheckpointError(
      'truncated',
      `the file is only ${bytes.length} bytes; a safetensors file starts with an 8-byte header length, so it is truncated or not a checkpoint`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  if (high !== 0 || low > MAX_HEADER_BYTES) {
    const announced = high !== 0 ? `more than 4 GB` : `${low} bytes`;
    throw new CheckpointError(
      'header-too-large',
      `the first 8 bytes announce a header of ${announced}, over the ${MAX_HEADER_BYTES}-byte limit: this is not a safetensors file, or it is corrupt`,
    );
  }
  const headerLength = low;
  const available = bytes.length - 8;
  if (headerLength > available) {
    throw new CheckpointError(
      'truncated',
      `the header length says ${headerLength} bytes, but only ${available} bytes follow the 8-byte length: the file is truncated inside its header (or is not a safetensors file)`,
    );
  }
  const headerBytes = bytes.subarray(8, 8 + headerLength);
  if (headerLength === 0 || headerBytes[0] !== 0x7b /* '{' */) {
    throw new CheckpointError(
      'not-safetensors',
      `the header does not start with "{" (found ${headerLength === 0 ? 'an empty header' : `byte 0x${headerBytes[0].toString(16).padStart(2, '0')}`}): this is not a safetensors file`,
    );
  }

  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
    header = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new CheckpointError('bad-header-json', `the header (${headerLength} bytes) is not valid UTF-8 JSON: ${why}`);
  }
  if (!isPlainObject(header)) {
    throw new CheckpointError('bad-header-json', `the header must be a JSON object, but it is ${jsonType(header)}`);
  }

  // --- metadata: an object of strings ---
  const entries: [string, string][] = [];
  const rawMeta = header[METADATA_KEY];
  if (rawMeta !== undefined) {
    if (!isPlainObject(rawMeta)) {
      throw new CheckpointError('bad-metadata', `"${METADATA_KEY}" must be an object of strings, but it is ${jsonType(rawMeta)}`);
    }
    for (const [key, value] of Object.entries(rawMeta)) {
      if (typeof value !== 'string') {
        throw new CheckpointError('bad-metadata', `metadata "${key}" must be a string, but it is ${jsonType(value)}`);
      }
      entries.push([key, value]);
    }
  }
  // fromEntries defines own properties, so even a key named "__proto__" stays plain data.
  const metadata: Record<string, string> = Object.fromEntries(entries);

  // --- tensor entries: structure, dtype, shape, offsets that fit the shape ---
  const dataSize = available - headerLength;
  const list: HeaderEntry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === METADATA_KEY) continue;
    if (!isPlainObject(raw)) {
      throw new CheckpointError('bad-header', `header entry "${name}" must be an object with dtype, shape and data_offsets, but it is ${jsonType(raw)}`);
    }
    const unknown = Object.keys(raw).filter((k) => !TENSOR_KEYS.includes(k));
    if (unknown.length > 0) {
      throw new CheckpointError('bad-header', `tensor "${name}" has unexpected header fields: ${unknown.join(', ')}`);
    }
    const { dtype, shape, data_offsets: offsets } = raw;
    if (dtype !== 'F32') {
      throw new CheckpointError(
        'bad-dtype',
        `tensor "${name}" has dtype ${typeof dtype === 'string' ? dtype : JSON.stringify(dtype)}; only F32 (float32) checkpoints can be read — convert it to float32 first`,
      );
    }
    checkShape(name, shape);
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o): o is number => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
    ) {
      throw new CheckpointError(
        'bad-offsets',
        `tensor "${name}" has data_offsets ${JSON.stringify(offsets)}; they must be two non-negative integers [begin, end]`,
      );
    }
    const [begin, end] = offsets;
    if (end < begin) {
      throw new CheckpointError('bad-offsets', `tensor "${name}" has data_offsets [${begin}, ${end}]: end is before begin`);
    }
    const needed = 4 * product(shape);
    if (end - begin !== needed) {
      throw new CheckpointError(
        'bad-offsets',
        `tensor "${name}" has data_offsets [${begin}, ${end}] (${end - begin} bytes), but shape ${describeShape(shape)} of F32 needs ${needed} bytes`,
      );
    }
    list.push({ name, shape, begin, end });
  }

  // --- the data region: long enough, tiled exactly, no overlaps or gaps ---
  const sorted = [...list].sort((a, b) => a.begin - b.begin || a.end - b.end);
  const last = sorted.reduce<HeaderEntry | null>((m, t) => (m === null || t.end > m.end ? t : m), null);
  if (last !== null && last.end > dataSize) {
    throw new CheckpointError(
      'truncated',
      `tensor "${last.name}" ends at byte ${last.end} of the data region, but the file holds only ${dataSize} bytes of data: the file is truncated`,
    );
  }
  let covered = 0;
  for (let i = 0; i < sorted.length; i++) {
    const t = sorted[i];
    if (t.begin < covered) {
      const prev = sorted[i - 1];
      throw new CheckpointError(
        'bad-offsets',
        `tensors "${prev.name}" [${prev.begin}, ${prev.end}] and "${t.name}" [${t.begin}, ${t.end}] overlap in the data region`,
      );
    }
    if (t.begin > covered) {
      throw new CheckpointError('bad-offsets', `bytes [${covered}, ${t.begin}) of the data region belong to no tensor (before "${t.name}")`);
    }
    covered = t.end;
  }
  if (covered !== dataSize) {
    throw new CheckpointError(
      'bad-data-size',
      `the data region is ${dataSize} bytes but the tensors account for ${covered}: ${dataSize - covered} unexplained bytes at the end`,
    );
  }

  // --- copy the values out. Never alias: `bytes` may start at any offset, and a Float32Array view
  // needs 4-byte alignment; a fresh array also keeps the caller's buffer from being pinned. ---
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, TensorData>();
  for (const t of list) {
    const data = new Float32Array((t.end - t.begin) / 4);
    if (LITTLE_ENDIAN) {
      new Uint8Array(data.buffer).set(bytes.subarray(dataStart + t.begin, dataStart + t.end));
    } else {
      for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(dataStart + t.begin + 4 * i, true);
    }
    tensors.set(t.name, { shape: [...t.shape], data });
  }
  return { tensors, metadata };
}
