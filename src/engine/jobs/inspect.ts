/**
 * Engine jobs for the Transformers chapter: the live model's tokens, embeddings, attention, activations and next-token distributions.
 * The page calls them as `api.inspect.<method>(…)`; each runs through the engine's JobRunner (workbench.ts).
 * The computation lives in src/gpt/inspect.ts; these are thin 'read' jobs (the weights are left as they are).
 */
import {
  checkSettings,
  inspectAttention,
  inspectBlock,
  inspectEmbeddings,
  inspectNextToken,
  inspectTokens,
  promptWindow,
  type AttentionView,
  type BlockView,
  type EmbeddingsView,
  type NextTokenSettings,
  type NextTokenView,
  type TokensView,
} from '../../gpt/inspect';
import { generate } from '../../gpt/sample';
import type { JobRunner } from '../workbench';

export type { AttentionView, BlockView, EmbeddingsView, NextTokenSettings, NextTokenView, TokensView };

/** Every answer says which checkpoint it was computed on. */
export interface AtStep {
  step: number;
}

export interface AttentionRequest {
  prompt: string;
  /** 0-based. */
  layer: number;
  /** 0-based. */
  head: number;
}

export interface SampleTextRequest extends NextTokenSettings {
  prompt: string;
  /** Characters to draw (1 to 1000). */
  maxTokens: number;
  seed: number;
}

export interface SampleTextView {
  /** The characters drawn after the prompt. */
  text: string;
  step: number;
}

export interface InspectApi {
  /** The text as the model's character tokens. */
  tokens(text: string): Promise<TokensView & AtStep>;
  /** wte and wpe, their 2-D projections, each character's nearest neighbours, position similarities. */
  embeddings(): Promise<EmbeddingsView & AtStep>;
  /** One head of one layer step by step for the prompt (cropped to the context), and every head's probabilities from the forward pass. */
  attention(request: AttentionRequest): Promise<AttentionView & AtStep>;
  /** Parameter shapes and counts per part of the model, and the size of every activation for the prompt. */
  block(request: { prompt: string }): Promise<BlockView & AtStep>;
  /** The last position's logits and the distribution after temperature, top-k and top-p. */
  nextToken(request: { prompt: string } & NextTokenSettings): Promise<NextTokenView & AtStep>;
  /** Text sampled after the prompt with those settings. */
  sample(request: SampleTextRequest): Promise<SampleTextView>;
}

export class InspectJobs implements InspectApi {
  constructor(readonly job: JobRunner) {}

  tokens(text: string): Promise<TokensView & AtStep> {
    return this.job('read', async ({ run }) => {
      if (typeof text !== 'string') throw new TypeError('The text must be a string.');
      return { ...inspectTokens(run.tokenizer, text), step: run.trainer.step };
    });
  }

  embeddings(): Promise<EmbeddingsView & AtStep> {
    return this.job('read', async ({ run }) => ({
      ...(await inspectEmbeddings(run.model, run.tokenizer.vocabulary)),
      step: run.trainer.step,
    }));
  }

  attention(request: AttentionRequest): Promise<AttentionView & AtStep> {
    return this.job('read', async ({ run }) => ({
      ...(await inspectAttention(run.model, run.tokenizer, String(request.prompt ?? ''), Number(request.layer), Number(request.head))),
      step: run.trainer.step,
    }));
  }

  block(request: { prompt: string }): Promise<BlockView & AtStep> {
    return this.job('read', async ({ run }) => ({
      ...(await inspectBlock(run.model, run.tokenizer, String(request.prompt ?? ''))),
      step: run.trainer.step,
    }));
  }

  nextToken(request: { prompt: string } & NextTokenSettings): Promise<NextTokenView & AtStep> {
    return this.job('read', async ({ run }) => ({
      ...(await inspectNextToken(run.model, run.tokenizer, String(request.prompt ?? ''), {
        temperature: request.temperature,
        topK: request.topK,
        topP: request.topP,
      })),
      step: run.trainer.step,
    }));
  }

  sample(request: SampleTextRequest): Promise<SampleTextView> {
    return this.job('read', async ({ run }) => {
      const settings = checkSettings({ temperature: request.temperature, topK: request.topK, topP: request.topP });
      const maxTokens = Number(request.maxTokens);
      if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > 1000) throw new RangeError('Draw from 1 to 1000 characters.');
      const seed = Number(request.seed);
      if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new RangeError('The seed must be a whole number from 0 to 4294967295.');
      const w = promptWindow(run.tokenizer, String(request.prompt ?? ''), run.model.config.contextLength);
      const out = await generate(run.model, w.ids, maxTokens, { ...settings, seed });
      return { text: run.tokenizer.decode(out), step: run.trainer.step };
    });
  }
}
