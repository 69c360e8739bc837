/**
 * The character tokenizer: one token per Unicode code point seen in the training text, ordered by
 * code point (as Python's `sorted(set(text))` orders them).
 *
 * Unknown characters: a code point outside the vocabulary is encoded as the FALLBACK token — the
 * space character when the vocabulary has one, otherwise token 0 — and counted in `unknown`, so
 * nothing is dropped silently.
 */
export class CharTokenizer {
  readonly vocabulary: readonly string[];
  readonly fallbackId: number;
  private readonly ids: Map<string, number>;

  constructor(vocabulary: readonly string[]) {
    if (vocabulary.length < 2) throw new Error('vocabulary: needs at least 2 characters');
    const ids = new Map<string, number>();
    vocabulary.forEach((ch, i) => {
      if ([...ch].length !== 1) throw new Error(`vocabulary: entry ${i} is ${JSON.stringify(ch)}, not one character`);
      if (ids.has(ch)) throw new Error(`vocabulary: ${JSON.stringify(ch)} appears twice`);
      ids.set(ch, i);
    });
    this.vocabulary = [...vocabulary];
    this.ids = ids;
    this.fallbackId = ids.get(' ') ?? 0;
  }

  /** The vocabulary of `text`: its distinct code points in code-point order. */
  static fromText(text: string): CharTokenizer {
    const set = new Set<string>();
    for (const ch of text) set.add(ch);
    const vocabulary = [...set].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return new CharTokenizer(vocabulary);
  }

  get size(): number {
    return this.vocabulary.length;
  }

  has(ch: string): boolean {
    return this.ids.has(ch);
  }

  /** Token ids of `text`, and how many characters took the fallback token. */
  encode(text: string): { ids: Int32Array; unknown: number } {
    const out: number[] = [];
    let unknown = 0;
    for (const ch of text) {
      const id = this.ids.get(ch);
      if (id === undefined) {
        unknown++;
        out.push(this.fallbackId);
      } else {
        out.push(id);
      }
    }
    return { ids: Int32Array.from(out), unknown };
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const ch = this.vocabulary[ids[i]];
      if (ch === undefined) throw new Error(`token ${ids[i]} is outside the vocabulary of ${this.size}`);
      s += ch;
    }
    return s;
  }
}
