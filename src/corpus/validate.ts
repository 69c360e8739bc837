/** Checks a training text before anything is built from it; each refusal says what is wrong. */

export const CORPUS_LIMITS = {
  /** Characters; a larger text would stall the tab while it is tokenized. */
  maxChars: 20_000_000,
  /** Distinct characters; each one is a row of the embedding. */
  maxVocabulary: 1024,
};

export class CorpusError extends Error {
  readonly code: 'empty' | 'binary' | 'too-short' | 'too-large' | 'vocabulary-too-large';
  constructor(code: CorpusError['code'], message: string) {
    super(message);
    this.name = 'CorpusError';
    this.code = code;
  }
}

/**
 * Refuses a text that cannot train a model with this context length: empty or blank, binary
 * (NUL bytes, undecodable bytes shown as U+FFFD, or mostly control characters), too short to give
 * one window in each of the training (90%) and validation (10%) parts, too large, or with more
 * distinct characters than a vocabulary may hold.
 */
export function validateCorpus(text: string, contextLength: number): void {
  if (text.length === 0) throw new CorpusError('empty', 'The text is empty: paste or choose some text to train on.');
  if (text.trim().length === 0) throw new CorpusError('empty', 'The text is only white space: there is nothing to learn from.');
  if (text.length > CORPUS_LIMITS.maxChars) {
    throw new CorpusError(
      'too-large',
      `The text has ${text.length.toLocaleString('en')} characters; the limit is ${CORPUS_LIMITS.maxChars.toLocaleString('en')}.`,
    );
  }
  const nul = text.indexOf('\u0000');
  if (nul >= 0) throw new CorpusError('binary', `This looks like a binary file, not text: it has a NUL byte at character ${nul}.`);
  const bad = text.indexOf('\uFFFD');
  if (bad >= 0) {
    throw new CorpusError('binary', `This is not valid UTF-8 text: an undecodable byte sequence at character ${bad}.`);
  }
  let control = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 127) control++;
  }
  if (control > text.length * 0.01) {
    throw new CorpusError('binary', `This looks like a binary file, not text: ${control} of its characters are control codes.`);
  }
  const distinct = new Set(text).size; // a string iterates by code point: these are the tokens
  if (distinct < 2) {
    throw new CorpusError('empty', 'The text repeats a single character: there is nothing to predict. Use text with at least two different characters.');
  }
  if (distinct > CORPUS_LIMITS.maxVocabulary) {
    throw new CorpusError(
      'vocabulary-too-large',
      `The text uses ${distinct} different characters; a vocabulary may hold at most ${CORPUS_LIMITS.maxVocabulary}.`,
    );
  }
  const length = [...text].length;
  const needed = Math.ceil((contextLength + 1) / 0.1);
  if (length < needed) {
    throw new CorpusError(
      'too-short',
      `The text has ${length} characters; with a context length of ${contextLength} it needs at least ${needed}, so that its last 10% (kept for validation) holds one whole window.`,
    );
  }
}
