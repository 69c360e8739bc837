import { describe, it, expect } from 'vitest';
import { CharTokenizer } from '../../src/gpt/tokenizer';

const ids = (t: CharTokenizer, text: string): number[] => Array.from(t.encode(text).ids);

describe('CharTokenizer.fromText: the vocabulary', () => {
  it('is the distinct characters in code-point order', () => {
    const t = CharTokenizer.fromText('hello world\n');
    expect(t.vocabulary).toEqual(['\n', ' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
    expect(t.size).toBe(9);
  });

  it('keeps an astral character (emoji) as one token, ordered by code point, not by UTF-16 code unit', () => {
    // U+FF01 (fullwidth !) sorts before U+1F600 by code point, but after it by code unit (0xD83D < 0xFF01).
    const t = CharTokenizer.fromText('😀！a😀');
    expect(t.vocabulary).toEqual(['a', '！', '😀']);
    expect(t.size).toBe(3);
    expect(ids(t, '😀a！')).toEqual([2, 0, 1]);
  });

  it('splits an emoji sequence into its code points (skin tone, ZWJ), each one token', () => {
    const t = CharTokenizer.fromText('👍🏽👨‍👩');
    // 👍 U+1F44D, 🏽 U+1F3FD, 👨 U+1F468, ZWJ U+200D, 👩 U+1F469
    expect(t.vocabulary).toEqual(['\u200d', '🏽', '👍', '👨', '👩']);
    expect(t.encode('👍🏽👨‍👩').ids).toHaveLength(5);
  });

  it('keeps Hebrew (right-to-left) characters as single tokens in code-point order', () => {
    const t = CharTokenizer.fromText('שלום');
    // ו U+05D5, ל U+05DC, ם U+05DD, ש U+05E9
    expect(t.vocabulary).toEqual(['ו', 'ל', 'ם', 'ש']);
    expect(ids(t, 'שלום')).toEqual([3, 1, 0, 2]);
  });

  it('keeps Arabic (right-to-left) characters as single tokens in code-point order', () => {
    const t = CharTokenizer.fromText('سلام');
    // ا U+0627, س U+0633, ل U+0644, م U+0645
    expect(t.vocabulary).toEqual(['ا', 'س', 'ل', 'م']);
    expect(ids(t, 'سلام')).toEqual([1, 2, 0, 3]);
  });

  it('mixes scripts: Latin < Hebrew < Arabic < emoji', () => {
    const t = CharTokenizer.fromText('😀 سa ש');
    expect(t.vocabulary).toEqual([' ', 'a', 'ש', 'س', '😀']);
  });

  it('refuses a text with fewer than 2 distinct characters', () => {
    expect(() => CharTokenizer.fromText('aaaa')).toThrow('vocabulary: needs at least 2 characters');
    expect(() => CharTokenizer.fromText('')).toThrow('vocabulary: needs at least 2 characters');
  });
});

describe('encode / decode', () => {
  const text = 'Call me Ishmael.\nשלום, سلام! 😀 — naïve ∑ 中文';
  const t = CharTokenizer.fromText(text);

  it('round-trips text of several scripts exactly', () => {
    const { ids: encoded, unknown } = t.encode(text);
    expect(unknown).toBe(0);
    expect(encoded).toBeInstanceOf(Int32Array);
    expect(encoded.length).toBe([...text].length);
    expect(t.decode(encoded)).toBe(text);
  });

  it('gives one id per code point, each the index of its character in the vocabulary', () => {
    const encoded = t.encode(text).ids;
    [...text].forEach((ch, i) => expect(t.vocabulary[encoded[i]]).toBe(ch));
  });

  it('decodes a plain array as well as an Int32Array', () => {
    const small = new CharTokenizer(['a', 'b', 'c']);
    expect(small.decode([2, 0, 1, 1])).toBe('cabb');
    expect(small.decode(Int32Array.from([0, 2]))).toBe('ac');
    expect(small.decode([])).toBe('');
  });

  it('encodes the empty string to no ids', () => {
    expect(t.encode('')).toEqual({ ids: new Int32Array(0), unknown: 0 });
  });

  it('has() tells what is in the vocabulary', () => {
    expect(t.has('😀')).toBe(true);
    expect(t.has('ש')).toBe(true);
    expect(t.has('z')).toBe(false);
  });
});

describe('unknown characters', () => {
  it('map to the space token when the vocabulary has a space, and are counted', () => {
    const t = new CharTokenizer(['\n', ' ', 'a', 'b']);
    expect(t.fallbackId).toBe(1);
    const { ids: encoded, unknown } = t.encode('aXb\nYZ');
    expect(Array.from(encoded)).toEqual([2, 1, 3, 0, 1, 1]);
    expect(unknown).toBe(3);
  });

  it('map to id 0 when the vocabulary has no space', () => {
    const t = new CharTokenizer(['x', 'y', 'z']);
    expect(t.fallbackId).toBe(0);
    const { ids: encoded, unknown } = t.encode('zqy');
    expect(Array.from(encoded)).toEqual([2, 0, 1]);
    expect(unknown).toBe(1);
  });

  it('an unknown astral character counts once (one code point, not two code units)', () => {
    const t = new CharTokenizer([' ', 'a']);
    const { ids: encoded, unknown } = t.encode('a😀a');
    expect(Array.from(encoded)).toEqual([1, 0, 1]);
    expect(unknown).toBe(1);
  });

  it('unknown right-to-left characters are counted too', () => {
    const t = CharTokenizer.fromText('abc ');
    expect(t.encode('a שלום c').unknown).toBe(4);
  });

  it('a text with nothing unknown reports 0', () => {
    const t = CharTokenizer.fromText('abc ');
    expect(t.encode('cab a').unknown).toBe(0);
  });
});

describe('the constructor', () => {
  it('refuses a duplicate entry, naming it', () => {
    expect(() => new CharTokenizer(['a', 'b', 'a'])).toThrow('vocabulary: "a" appears twice');
    expect(() => new CharTokenizer(['😀', 'b', '😀'])).toThrow('vocabulary: "😀" appears twice');
  });

  it('refuses a multi-character entry, naming its index', () => {
    expect(() => new CharTokenizer(['a', 'ab', 'c'])).toThrow('vocabulary: entry 1 is "ab", not one character');
    expect(() => new CharTokenizer(['a', '👍🏽'])).toThrow('vocabulary: entry 1 is "👍🏽", not one character');
  });

  it('refuses an empty entry', () => {
    expect(() => new CharTokenizer(['', 'a'])).toThrow('vocabulary: entry 0 is "", not one character');
  });

  it('refuses fewer than 2 entries', () => {
    expect(() => new CharTokenizer([])).toThrow('vocabulary: needs at least 2 characters');
    expect(() => new CharTokenizer(['a'])).toThrow('vocabulary: needs at least 2 characters');
  });

  it('accepts exactly 2 entries, an astral one among them, and keeps the given order', () => {
    const t = new CharTokenizer(['😀', 'a']);
    expect(t.size).toBe(2);
    expect(ids(t, 'a😀')).toEqual([1, 0]);
  });

  it('copies the vocabulary: changing the caller’s array later changes nothing', () => {
    const v = ['a', 'b', 'c'];
    const t = new CharTokenizer(v);
    v[0] = 'z';
    expect(t.vocabulary).toEqual(['a', 'b', 'c']);
    expect(t.decode([0])).toBe('a');
  });
});

describe('decode refuses ids outside the vocabulary', () => {
  const t = new CharTokenizer(['a', 'b', 'c']);

  it.each([
    [3, 'token 3 is outside the vocabulary of 3'],
    [-1, 'token -1 is outside the vocabulary of 3'],
    [1000, 'token 1000 is outside the vocabulary of 3'],
    [1.5, 'token 1.5 is outside the vocabulary of 3'],
    [NaN, 'token NaN is outside the vocabulary of 3'],
  ])('id %d', (id, message) => {
    expect(() => t.decode([0, id])).toThrow(message);
  });

  it('the last valid id decodes', () => {
    expect(t.decode([2])).toBe('c');
  });
});
