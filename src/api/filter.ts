/**
 * The API's output filter: a blocklist of words checked against the text the model generates. It
 * is the simplest kind of moderation there is, and the Safety chapter uses it to show how little
 * such a filter does.
 *
 * What it does, exactly:
 * - It is off by default. When on, every blocked word is looked for in the generated text,
 *   ignoring case (`Whale` matches `whale`), anywhere in the text: inside a longer word too
 *   (`whale` also blocks `whalebone`). Matching inside words is why blocklists over-block, the
 *   "Scunthorpe problem".
 * - It cuts, it does not rewrite: the completion ends just before the first blocked word, the
 *   generation stops there, and the choice's `finish_reason` is `"content_filter"` (what OpenAI's
 *   API says when its filters omitted content). Nothing of the blocked word is ever sent.
 * - Streaming keeps that promise: text that could be the start of a blocked word is held back
 *   until the next tokens decide, so a word split across two chunks is still caught (the same
 *   idea as the stop sequences of stops.ts).
 *
 * What it does not do, on purpose, because that is the lesson: it compares characters, not
 * meaning. A space inside the word (`wh ale`), a look-alike letter from another alphabet (Cyrillic
 * `а` for Latin `a`), a synonym or a paraphrase all pass. Real moderation uses trained classifiers,
 * and those can be fooled too, only less cheaply.
 */

export interface OutputFilterSettings {
  /** Off by default. */
  enabled: boolean;
  /** Words (or phrases) to block, matched ignoring case. */
  blockedWords: string[];
}

/** The most words a blocklist may hold, and the longest word: enough for a lesson, bounded for the scan. */
export const MAX_BLOCKED_WORDS = 200;
export const MAX_BLOCKED_WORD_LENGTH = 64;

export const FILTER_OFF: OutputFilterSettings = { enabled: false, blockedWords: [] };

/**
 * Settings from anything a page or a command line sent: words trimmed, empty ones and duplicates
 * (ignoring case) dropped. Throws a RangeError saying what is wrong when `value` is not a settings
 * object, or holds too many or too long words.
 */
export function normalizeFilterSettings(value: unknown): OutputFilterSettings {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RangeError('The filter settings must be an object {enabled, blockedWords}.');
  }
  const { enabled, blockedWords } = value as Record<string, unknown>;
  if (typeof enabled !== 'boolean') throw new RangeError('enabled must be true or false.');
  if (!Array.isArray(blockedWords)) throw new RangeError('blockedWords must be an array of words.');
  const seen = new Set<string>();
  const words: string[] = [];
  for (const w of blockedWords as unknown[]) {
    if (typeof w !== 'string') throw new RangeError('Every blocked word must be a string.');
    const word = w.trim();
    if (word === '') continue;
    if ([...word].length > MAX_BLOCKED_WORD_LENGTH) {
      throw new RangeError(`A blocked word may have at most ${MAX_BLOCKED_WORD_LENGTH} characters.`);
    }
    const key = word.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    words.push(word);
  }
  if (words.length > MAX_BLOCKED_WORDS) throw new RangeError(`At most ${MAX_BLOCKED_WORDS} blocked words.`);
  return { enabled, blockedWords: words };
}

/** Comma-separated words, as `npm run serve -- --block word,word` takes them. */
export function parseBlockList(list: string): string[] {
  return list
    .split(',')
    .map((w) => w.trim())
    .filter((w) => w !== '');
}

/**
 * The blocklist over a stream of text: `push` returns what may be shown now; once a blocked word
 * is complete, `blocked` is true and nothing from that word on is ever returned.
 */
export class BlocklistScanner {
  /** True once a blocked word was found. */
  blocked = false;
  /** The blocked words, lower-cased. */
  private readonly words: string[];
  private held = '';

  constructor(words: readonly string[]) {
    this.words = words.map((w) => w.toLowerCase()).filter((w) => w !== '');
  }

  /** Adds `text`; returns what may be shown now: up to the first blocked word, less what might start one. */
  push(text: string): string {
    if (this.blocked) return '';
    const pending = this.held + text;
    const lower = lowerSameLength(pending);
    let first = -1;
    for (const w of this.words) {
      const at = lower.indexOf(w);
      if (at !== -1 && (first === -1 || at < first)) first = at;
    }
    if (first !== -1) {
      this.blocked = true;
      this.held = '';
      return pending.slice(0, first);
    }
    // Hold back the longest end of `pending` that some blocked word begins with.
    let hold = 0;
    for (const w of this.words) {
      for (let k = Math.min(w.length - 1, lower.length); k > hold; k--) {
        if (lower.endsWith(w.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    this.held = pending.slice(pending.length - hold);
    return pending.slice(0, pending.length - hold);
  }

  /** What is still held back, when the text has ended (it was only the start of a blocked word). */
  flush(): string {
    const rest = this.blocked ? '' : this.held;
    this.held = '';
    return rest;
  }
}

/** Whether `text` holds a blocked word (the whole-text form of the scanner). */
export function findBlocked(text: string, words: readonly string[]): string | null {
  const lower = lowerSameLength(text);
  for (const w of words) {
    if (w.trim() !== '' && lower.includes(w.toLowerCase())) return w;
  }
  return null;
}

/**
 * Lower case, one UTF-16 unit for one: the few characters whose lower case is longer (`İ`) are
 * kept as they are, so that a position in the result is the same position in `text`.
 */
function lowerSameLength(text: string): string {
  const lower = text.toLowerCase();
  if (lower.length === text.length) return lower;
  let out = '';
  for (const ch of text) {
    const l = ch.toLowerCase();
    out += l.length === ch.length ? l : ch;
  }
  return out;
}
