import { Rng } from '../gpt/random';

/**
 * Batches of windows from a tokenized corpus. The first 90% of tokens train, the last 10% validate.
 * A window of length T starting at s gives inputs tokens[s .. s+T) and targets tokens[s+1 .. s+T+1).
 */

/** The validation windows come from their own generator, independent of the training seed. */
export const VALIDATION_SEED = 1337;
/** Validation loss is the mean over this many fixed batches. */
export const VALIDATION_BATCHES = 20;

export interface Split {
  train: Int32Array;
  val: Int32Array;
}

export function splitTokens(tokens: Int32Array, trainFraction = 0.9): Split {
  const cut = Math.floor(tokens.length * trainFraction);
  return { train: tokens.subarray(0, cut), val: tokens.subarray(cut) };
}

export interface Batch {
  /** (B, T) input token ids, row-major. */
  x: Int32Array;
  /** (B, T) target token ids: the inputs shifted left by one. */
  y: Int32Array;
  batchSize: number;
  contextLength: number;
}

/** Builds the batch of windows starting at `starts`. */
export function batchAt(tokens: Int32Array, starts: readonly number[], contextLength: number): Batch {
  const B = starts.length;
  const T = contextLength;
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  starts.forEach((s, b) => {
    if (s < 0 || s + T + 1 > tokens.length) throw new Error(`window at ${s} runs past the ${tokens.length} tokens`);
    x.set(tokens.subarray(s, s + T), b * T);
    y.set(tokens.subarray(s + 1, s + T + 1), b * T);
  });
  return { x, y, batchSize: B, contextLength: T };
}

/** `count` random window starts, each in [0, tokens - T - 1]. */
export function randomStarts(rng: Rng, tokenCount: number, contextLength: number, count: number): number[] {
  const span = tokenCount - contextLength;
  if (span < 1) throw new Error(`${tokenCount} tokens cannot hold one window of ${contextLength}+1`);
  return Array.from({ length: count }, () => rng.int(span));
}

/** Random training batches; the generator's state is the data position a resume record saves. */
export class BatchSampler {
  readonly rng: Rng;
  constructor(
    private readonly tokens: Int32Array,
    private readonly batchSize: number,
    private readonly contextLength: number,
    seed: number,
  ) {
    this.rng = new Rng(seed);
  }

  next(): Batch {
    return batchAt(this.tokens, randomStarts(this.rng, this.tokens.length, this.contextLength, this.batchSize), this.contextLength);
  }
}

/** The fixed validation set: `VALIDATION_BATCHES` batches drawn with `VALIDATION_SEED`. */
export function validationStarts(valTokenCount: number, batchSize: number, contextLength: number): number[][] {
  const rng = new Rng(VALIDATION_SEED);
  return Array.from({ length: VALIDATION_BATCHES }, () => randomStarts(rng, valTokenCount, contextLength, batchSize));
}
