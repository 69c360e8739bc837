/**
 * A shared run's address (src/app/runUrl.ts) under hostile query strings: parseRunUrl and resolveRun
 * never throw, report each bad field exactly, and leave Object.prototype alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunUrl, resolveRun } from '../../src/app/runUrl';
import { estimateBytes, resolveHyperparameters, type FieldError } from '../../src/gpt/config';

const protoNames = () => Object.getOwnPropertyNames(Object.prototype).sort();
let protoBefore: string[];

beforeAll(() => {
  protoBefore = protoNames();
});

afterAll(() => {
  expect(protoNames()).toEqual(protoBefore);
  expect(({} as Record<string, unknown>).x).toBeUndefined();
});

const PRESET_LIST = '(tiny, baby, base, small)';

interface UrlCase {
  name: string;
  search: string;
  /** Exact field errors; [] when the run is valid. */
  errors: FieldError[];
  /** Parsed values to check (exactly), when the case is about parsing. */
  values?: Record<string, string>;
}

const huge = estimateBytes({ ...resolveHyperparameters('baby', { layers: 48, heads: 64, width: 4096 }), vocabSize: 89 });

const CASES: UrlCase[] = [
  { name: 'a huge exponent (1e999 = Infinity)', search: '?layers=1e999', errors: [{ field: 'layers', message: 'must be finite' }] },
  { name: 'Infinity spelled out', search: '?width=Infinity', errors: [{ field: 'width', message: 'must be finite' }] },
  { name: 'a NUL byte', search: '?learningRate=%00', errors: [{ field: 'learningRate', message: 'must be a number' }] },
  { name: 'an unknown key (lr) is ignored', search: '?lr=%00', errors: [], values: {} },
  { name: 'a negative seed', search: '?seed=-1', errors: [{ field: 'seed', message: 'must be at least 0' }] },
  { name: 'negative zero layers', search: '?layers=-0', errors: [{ field: 'layers', message: 'must be at least 1' }] },
  { name: 'fractional heads', search: '?heads=2.5', errors: [{ field: 'heads', message: 'must be a whole number' }] },
  { name: 'markup in a number field', search: '?width=<script>alert(1)</script>', errors: [{ field: 'width', message: 'must be a number' }] },
  { name: 'an empty value reads as missing', search: '?layers=', errors: [{ field: 'layers', message: 'is missing' }] },
  { name: 'blank after trimming', search: '?layers=%20%09', errors: [{ field: 'layers', message: 'is missing' }] },
  { name: 'broken percent-encoding', search: '?layers=%E0%A4%A', errors: [{ field: 'layers', message: 'must be a number' }] },
  {
    name: 'prototype keys are not fields',
    search: '?__proto__[x]=1&__proto__=1&constructor=1&prototype=1&toString=1',
    errors: [],
    values: {},
  },
  {
    name: 'an unknown preset named like an Object member',
    search: '?preset=constructor',
    errors: [{ field: 'preset', message: `'constructor' is not a preset ${PRESET_LIST}` }],
  },
  {
    name: 'a __proto__ preset',
    search: '?preset=__proto__',
    errors: [{ field: 'preset', message: `'__proto__' is not a preset ${PRESET_LIST}` }],
  },
  {
    name: 'markup in the preset is echoed as text only',
    search: '?preset=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E',
    errors: [{ field: 'preset', message: `'<img src=x onerror=alert(1)>' is not a preset ${PRESET_LIST}` }],
  },
  { name: 'duplicated keys: the first wins', search: '?layers=2&layers=999', errors: [], values: { layers: '2' } },
  { name: 'a very long number (100,000 nines)', search: `?layers=${'9'.repeat(100_000)}`, errors: [{ field: 'layers', message: 'must be finite' }] },
  { name: 'a very long garbage value (1 MB)', search: `?steps=${'a'.repeat(1_000_000)}`, errors: [{ field: 'steps', message: 'must be a number' }] },
  {
    name: 'width not divisible by heads',
    search: '?heads=3',
    errors: [{ field: 'width', message: 'must divide evenly among 3 heads (128 / 3 is not whole)' }],
  },
  {
    name: 'a model that would exhaust memory',
    search: '?layers=48&heads=64&width=4096',
    errors: [
      {
        field: 'width',
        message: `this model would need about ${(huge / 1024 ** 3).toFixed(1)} GiB for training, more than the 8.0 GiB allowed; make it smaller`,
      },
    ],
  },
  {
    name: 'several bad fields, each reported',
    search: '?preset=nope&layers=0&dropout=1&seed=x',
    errors: [
      { field: 'preset', message: `'nope' is not a preset ${PRESET_LIST}` },
      { field: 'layers', message: 'must be at least 1' },
      { field: 'dropout', message: 'must be less than 1' },
      { field: 'seed', message: 'must be a number' },
    ],
  },
];

describe('hostile query strings', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_, c) => {
    let errors: FieldError[] = [];
    expect(() => {
      const run = parseRunUrl(c.search);
      if (c.values) expect(run.values).toEqual(c.values);
      errors = resolveRun(run).errors;
    }).not.toThrow();
    expect(errors).toEqual(c.errors);
    expect(protoNames()).toEqual(protoBefore);
  });

  it('an unknown or hostile backend falls back to auto', () => {
    for (const b of ['evil', '__proto__', 'constructor', 'WEBGPU', '']) expect(parseRunUrl(`?backend=${b}`).backend).toBe('auto');
    expect(parseRunUrl('?backend=wasm').backend).toBe('wasm');
  });

  it('a lenient number syntax: hex, binary and exponents are read as Number() reads them', () => {
    const { hp, errors } = resolveRun(parseRunUrl('?layers=0x2&heads=0b10&width=3.2e1'));
    expect(errors).toEqual([]);
    expect(hp).toMatchObject({ layers: 2, heads: 2, width: 32 });
  });

  it('never throws on 2,000 random query strings, and Object.prototype stays untouched', () => {
    let x = 2463534242;
    const next = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 2 ** 32;
    };
    const alphabet = ['layers', 'preset', '__proto__', 'constructor', '[x]', '=', '&', '%', '%00', '%E0', '1e999', '-', '.', '?', '#', 'é', '😀', ' ', '+', '0', '9'];
    for (let i = 0; i < 2000; i++) {
      let s = '?';
      const n = 1 + Math.floor(next() * 30);
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(next() * alphabet.length)];
      expect(() => resolveRun(parseRunUrl(s)), s).not.toThrow();
    }
    expect(protoNames()).toEqual(protoBefore);
  });
});
