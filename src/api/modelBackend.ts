/**
 * What the API handler needs from a model: its name, its context length, its tokenizer, and a way
 * to continue a list of token ids. `GptBackend` is that over a GPT and its CharTokenizer in the same
 * thread: in Node (tests, `npm run serve`) over a checkpoint, and in the engine worker over the
 * reader's live model (src/engine/jobs/serve.ts), where the site's Service Worker sends the page's
 * requests.
 */
import * as tf from '@tensorflow/tfjs';
import { readCheckpoint } from '../engine/checkpoint';
import { GPT, paramsFromArrays } from '../gpt/model';
import { Rng } from '../gpt/random';
import { drawFrom, nextTokenDistribution } from '../gpt/sample';
import { CharTokenizer } from '../gpt/tokenizer';

/** The tokenizer as the API uses it: text ⇄ token ids, unknown characters counted. */
export type ApiTokenizer = Pick<CharTokenizer, 'encode' | 'decode' | 'vocabulary' | 'fallbackId'>;

export interface CompleteRequest {
  /** The prompt as token ids, at least one, at most `contextLength` (the handler crops). */
  promptIds: readonly number[];
  /** Tokens to draw at most. */
  maxTokens: number;
  /** 0 is greedy; higher flattens the distribution. */
  temperature: number;
  /** Nucleus sampling: keep the most likely tokens whose probabilities add up to `topP` (1: all). */
  topP: number;
  /** The seed of the draws: the same seed, prompt and settings give the same tokens. */
  seed: number;
  /** Sees each token as it is drawn; returning false stops the generation (a stop sequence was met). */
  onToken?: (id: number) => boolean | void;
  /** Aborted when the client has gone away: the generation stops at the next token. */
  stop?: AbortSignal;
}

export interface ModelBackend {
  /** The model's name in the API (`model` in requests and responses). */
  readonly id: string;
  /** When the model was made, in Unix seconds. */
  readonly created: number;
  /** The longest window the model sees, in tokens. */
  readonly contextLength: number;
  readonly tokenizer: ApiTokenizer;
  /** Draws up to `maxTokens` tokens after the prompt; resolves to the ids drawn. One call at a time. */
  complete(request: CompleteRequest): Promise<number[]>;
}

/** A GPT and its tokenizer, in this thread. */
export class GptBackend implements ModelBackend {
  readonly contextLength: number;

  constructor(
    readonly model: GPT,
    readonly tokenizer: CharTokenizer,
    readonly id: string,
    readonly created: number = Math.floor(Date.now() / 1000),
  ) {
    if (tokenizer.size !== model.config.vocabSize) {
      throw new Error(`the tokenizer has ${tokenizer.size} tokens but the model ${model.config.vocabSize}`);
    }
    this.contextLength = model.config.contextLength;
  }

  /**
   * The same draws as `generate` of src/gpt/sample.ts (same seed, same tokens), but it lets the
   * event loop run after every token. On cpu and wasm a forward pass and its read-back finish
   * without ever leaving the microtask queue, so without this a long generation would hold every
   * socket still: no streamed token would leave, no new request would be read, and no client
   * going away would be noticed until the end.
   */
  async complete(r: CompleteRequest): Promise<number[]> {
    const { contextLength } = this.model.config;
    const rng = new Rng(r.seed);
    const tokens = [...r.promptIds];
    const out: number[] = [];
    for (let i = 0; i < r.maxTokens && !r.stop?.aborted; i++) {
      const window = tokens.slice(-contextLength);
      const logits = tf.tidy(() => this.model.forward(tf.tensor2d(window, [1, window.length], 'int32'), { lastOnly: true }));
      const values = await logits.data();
      logits.dispose();
      const id = drawFrom(nextTokenDistribution(values, { temperature: r.temperature, topP: r.topP }), rng);
      tokens.push(id);
      out.push(id);
      if (r.onToken?.(id) === false) break;
      await nextTask();
    }
    return out;
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** Resolves after the event loop has had a turn (I/O, timers): setImmediate in Node, a 0 ms timeout elsewhere. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/**
 * A backend from checkpoint bytes alone: the vocabulary is in the file, so no corpus is needed.
 * Throws a CheckpointError (before allocating any tensor) when the file is not a valid checkpoint.
 */
export function backendFromCheckpoint(bytes: Uint8Array, id: string, created?: number): GptBackend {
  const checkpoint = readCheckpoint(bytes);
  const tokenizer = new CharTokenizer(checkpoint.vocabulary);
  const model = new GPT(checkpoint.config, paramsFromArrays(checkpoint.config, checkpoint.weights));
  return new GptBackend(model, tokenizer, id, created);
}
