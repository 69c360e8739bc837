import * as tf from '@tensorflow/tfjs';
import { parameterCount, type ModelConfig } from './config';
import { geluTanh, type GPT } from './model';
import { nextTokenDistribution } from './sample';
import type { CharTokenizer } from './tokenizer';

/**
 * Looking inside the live GPT (the Transformers chapter): tokens, embeddings, one attention head
 * step by step, the sizes and activations of a block, and the next-token distribution.
 *
 * The step-by-step path re-computes the model's forward pass one stage at a time so that every
 * intermediate (queries, keys, values, scores, probabilities, weighted sums) can be read out. It is
 * written as plainly as model.ts, and it is checked against it: the attention probabilities it finds
 * must equal those `GPT.forward` reports through `onAttention` (tests/unit/inspect.test.ts).
 *
 * Everything returned is plain data (arrays, Float32Arrays), row-major, with shapes in the comments.
 * Every tensor made here is disposed before a function returns.
 */

// ---------------------------------------------------------------------------------------------
// Prompts and tokens

export interface TokensView {
  /** One entry per character of the text (Unicode code point). */
  chars: string[];
  /** The token id the model reads for each character. */
  ids: number[];
  /** True where the character is outside the vocabulary (it took the fallback token). */
  unknownAt: boolean[];
  unknown: number;
  /** The whole vocabulary, in id order. */
  vocabulary: string[];
  /** The token an unknown character becomes. */
  fallbackId: number;
}

export function inspectTokens(tokenizer: CharTokenizer, text: string): TokensView {
  const chars = [...text];
  const { ids, unknown } = tokenizer.encode(text);
  return {
    chars,
    ids: Array.from(ids),
    unknownAt: chars.map((c) => !tokenizer.has(c)),
    unknown,
    vocabulary: [...tokenizer.vocabulary],
    fallbackId: tokenizer.fallbackId,
  };
}

/** A prompt as the model sees it: its last `contextLength` characters, as tokens. */
export interface PromptWindow {
  chars: string[];
  ids: number[];
  /** Characters of this window outside the vocabulary. */
  unknown: number;
  /** Characters dropped from the start because the prompt is longer than the context. */
  cropped: number;
}

export class PromptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PromptError';
  }
}

export function promptWindow(tokenizer: CharTokenizer, prompt: string, contextLength: number): PromptWindow {
  if (typeof prompt !== 'string') throw new PromptError('The prompt must be text.');
  const all = [...prompt];
  if (all.length === 0) throw new PromptError('Type a prompt of at least one character.');
  const cropped = Math.max(0, all.length - contextLength);
  const chars = all.slice(cropped);
  const { ids, unknown } = tokenizer.encode(chars.join(''));
  return { chars, ids: Array.from(ids), unknown, cropped };
}

// ---------------------------------------------------------------------------------------------
// The forward pass, one stage at a time (no batch: rows are positions, (T, C))

function param(model: GPT, name: string): tf.Variable {
  const v = model.params.get(name);
  if (!v) throw new Error(`no parameter ${name}`);
  return v;
}

/** y = x Wᵀ + b with W stored [out, in]. (T, in) → (T, out) */
function linear(x: tf.Tensor2D, w: tf.Tensor, b?: tf.Tensor): tf.Tensor2D {
  const y = tf.matMul(x, w as tf.Tensor2D, false, true);
  return (b ? tf.add(y, b) : y) as tf.Tensor2D;
}

/** LayerNorm over channels, ε = 1e-5, as in model.ts. (T, C) → (T, C) */
function layerNorm(x: tf.Tensor2D, model: GPT, prefix: string): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5)));
  return tf.add(tf.mul(normed, param(model, prefix + '.weight')), param(model, prefix + '.bias')) as tf.Tensor2D;
}

/** Additive causal mask: 0 on and below the diagonal, −1e9 above (as model.ts). (T, T) */
function causalMask(T: number): tf.Tensor2D {
  return tf.tidy(() => {
    const row = tf.range(0, T, 1, 'int32').reshape([T, 1]);
    const col = tf.range(0, T, 1, 'int32').reshape([1, T]);
    return tf.mul(tf.cast(tf.greater(col, row), 'float32'), -1e9) as tf.Tensor2D;
  });
}

/** What one stage of the walk hands to an observer (activations of one layer, or the embeddings). */
type Observe = (name: string, layer: number, t: tf.Tensor) => void;

/** Token + position embeddings of `ids`. (T, C) */
function embedRows(model: GPT, ids: number[], observe?: Observe): tf.Tensor2D {
  const T = ids.length;
  const C = model.config.width;
  const tok = tf.gather(param(model, 'transformer.wte.weight'), tf.tensor1d(ids, 'int32')) as tf.Tensor2D; // (T, C)
  const pos = tf.slice(param(model, 'transformer.wpe.weight'), [0, 0], [T, C]) as tf.Tensor2D; // (T, C)
  observe?.('tokenEmbedding', -1, tok);
  observe?.('positionEmbedding', -1, pos);
  const x = tf.add(tok, pos) as tf.Tensor2D;
  observe?.('embedded', -1, x);
  return x;
}

/** One layer's attention, every head, from the LayerNorm'd rows `h` (T, C). */
function attentionOf(model: GPT, h: tf.Tensor2D, l: number, mask: tf.Tensor2D) {
  const [T, C] = h.shape;
  const nh = model.config.heads;
  const hs = C / nh;
  const pre = `transformer.h.${l}.attn.`;
  const qkv = linear(h, param(model, pre + 'c_attn.weight'), param(model, pre + 'c_attn.bias')); // (T, 3C)
  const toHeads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [T, nh, hs]), [1, 0, 2]) as tf.Tensor3D; // (nh, T, hs)
  const [q, k, v] = tf.split(qkv, 3, 1).map(toHeads);
  const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hs)) as tf.Tensor3D; // (nh, T, T)
  const probs = tf.softmax(tf.add(scores, mask)) as tf.Tensor3D; // (nh, T, T)
  const y = tf.matMul(probs, v); // (nh, T, hs)
  const merged = tf.reshape(tf.transpose(y, [1, 0, 2]), [T, C]) as tf.Tensor2D; // (T, C)
  const out = linear(merged, param(model, pre + 'c_proj.weight'), param(model, pre + 'c_proj.bias')); // (T, C)
  return { q, k, v, scores, probs, y, out };
}

/** One layer's MLP on the LayerNorm'd rows `h` (T, C): C → 4C → GELU → C. */
function mlpOf(model: GPT, h: tf.Tensor2D, l: number) {
  const pre = `transformer.h.${l}.mlp.`;
  const hidden = geluTanh(linear(h, param(model, pre + 'c_fc.weight'), param(model, pre + 'c_fc.bias'))) as tf.Tensor2D; // (T, 4C)
  const out = linear(hidden, param(model, pre + 'c_proj.weight'), param(model, pre + 'c_proj.bias')); // (T, C)
  return { hidden, out };
}

/** One whole block: x + attn(ln_1(x)), then + mlp(ln_2(·)). (T, C) → (T, C) */
function blockOf(model: GPT, x: tf.Tensor2D, l: number, mask: tf.Tensor2D, observe?: Observe): tf.Tensor2D {
  const h1 = layerNorm(x, model, `transformer.h.${l}.ln_1`);
  observe?.('ln_1', l, h1);
  const attn = attentionOf(model, h1, l, mask);
  observe?.('attention', l, attn.out);
  const x1 = tf.add(x, attn.out) as tf.Tensor2D;
  observe?.('residual_1', l, x1);
  const h2 = layerNorm(x1, model, `transformer.h.${l}.ln_2`);
  observe?.('ln_2', l, h2);
  const mlp = mlpOf(model, h2, l);
  observe?.('mlp_hidden', l, mlp.hidden);
  observe?.('mlp', l, mlp.out);
  const x2 = tf.add(x1, mlp.out) as tf.Tensor2D;
  observe?.('residual_2', l, x2);
  return x2;
}

// ---------------------------------------------------------------------------------------------
// Attention, step by step

export interface AttentionView {
  /** The window of the prompt the model read. */
  chars: string[];
  ids: number[];
  unknown: number;
  cropped: number;
  layer: number;
  head: number;
  layers: number;
  heads: number;
  /** T positions, C width, hs head size. */
  T: number;
  C: number;
  headSize: number;
  /** The rows entering this layer's attention, after its LayerNorm (ln_1). (T, C) */
  input: Float32Array;
  /** This head's queries, keys and values. (T, hs) each */
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  /** q·kᵀ/√hs, before the causal mask. (T, T) */
  scores: Float32Array;
  /** softmax(scores + mask), row by row. (T, T) */
  probs: Float32Array;
  /** probs · v: what this head passes on, per position. (T, hs) */
  weighted: Float32Array;
  /**
   * The attention probabilities of every head of every layer, as the model's own forward pass
   * (`GPT.forward` with `onAttention`) computed them: forward[l] is (nh, T, T).
   */
  forward: Float32Array[];
}

export function checkLayerHead(config: ModelConfig, layer: number, head: number): void {
  if (!Number.isInteger(layer) || layer < 0 || layer >= config.layers) {
    throw new RangeError(`The layer must be a whole number from 1 to ${config.layers}.`);
  }
  if (!Number.isInteger(head) || head < 0 || head >= config.heads) {
    throw new RangeError(`The head must be a whole number from 1 to ${config.heads}.`);
  }
}

/** One head of one layer, step by step, and every head's probabilities from the model's own forward pass. */
export async function inspectAttention(
  model: GPT,
  tokenizer: CharTokenizer,
  prompt: string,
  layer: number,
  head: number,
): Promise<AttentionView> {
  const config = model.config;
  checkLayerHead(config, layer, head);
  const w = promptWindow(tokenizer, prompt, config.contextLength);
  const T = w.ids.length;
  const C = config.width;
  const hs = C / config.heads;

  // 1. The model's own forward pass, keeping the probabilities it reports.
  const forward: tf.Tensor[] = [];
  try {
    tf.tidy(() => {
      model.forward(tf.tensor2d(w.ids, [1, T], 'int32'), {
        onAttention: (l, probs) => {
          forward[l] = tf.keep(tf.reshape(probs, [config.heads, T, T])); // (nh, T, T)
        },
      });
    });
    // 2. The same computation, stage by stage, up to the chosen layer.
    const stages = tf.tidy(() => {
      const mask = causalMask(T);
      let x = embedRows(model, w.ids);
      for (let l = 0; l < layer; l++) x = blockOf(model, x, l, mask);
      const input = layerNorm(x, model, `transformer.h.${layer}.ln_1`); // (T, C)
      const a = attentionOf(model, input, layer, mask);
      const pick = (t: tf.Tensor3D) => tf.reshape(tf.slice(t, [head, 0, 0], [1, -1, -1]), [T, t.shape[2]]);
      return [input, pick(a.q), pick(a.k), pick(a.v), pick(a.scores), pick(a.probs), pick(a.y as tf.Tensor3D)];
    });
    try {
      const [input, q, k, v, scores, probs, weighted] = (await Promise.all(stages.map((t) => t.data()))) as Float32Array[];
      const fwd = (await Promise.all(forward.map((t) => t.data()))) as Float32Array[];
      return {
        ...w,
        layer,
        head,
        layers: config.layers,
        heads: config.heads,
        T,
        C,
        headSize: hs,
        input,
        q,
        k,
        v,
        scores,
        probs,
        weighted,
        forward: fwd,
      };
    } finally {
      tf.dispose(stages);
    }
  } finally {
    tf.dispose(forward);
  }
}

// ---------------------------------------------------------------------------------------------
// A block: sizes, parameter counts and live activations

export interface BlockPart {
  /** Stable key: 'wte', 'wpe', 'ln_1', 'c_attn', 'attn_c_proj', 'ln_2', 'c_fc', 'mlp_c_proj', 'ln_f', 'lm_head'. */
  key: string;
  /** Where it sits: once before the blocks, in every block, or once after them. */
  where: 'embedding' | 'block' | 'head';
  /** The parameter shapes of this part, PyTorch names relative to the part. */
  shapes: { name: string; shape: number[] }[];
  /** Parameters in one copy of this part (0 for the tied head). */
  parameters: number;
  /** Shape of the activation this part outputs, for the prompt's T positions. */
  output: number[];
}

export interface BlockView {
  config: ModelConfig;
  /** Positions of the prompt window the activations were measured on. */
  T: number;
  chars: string[];
  parts: BlockPart[];
  /** Parameters of one block, of all blocks, and of the whole model (equal to `parameterCount`). */
  perBlock: number;
  total: number;
  /**
   * Root-mean-square of each activation for the prompt, by name, per layer (index = layer); the
   * embeddings and the final LayerNorm are under layer 0.
   */
  rms: Record<string, number[]>;
}

/** Parameter shapes and counts per part of the model, from the config alone. */
export function blockParts(config: ModelConfig, T: number): BlockPart[] {
  const { vocabSize: V, contextLength, width: C } = config;
  const count = (shapes: { shape: number[] }[]) => shapes.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
  const part = (key: string, where: BlockPart['where'], shapes: { name: string; shape: number[] }[], output: number[]): BlockPart => ({
    key,
    where,
    shapes,
    parameters: count(shapes),
    output,
  });
  const ln = (key: string, where: BlockPart['where']) =>
    part(key, where, [
      { name: 'weight', shape: [C] },
      { name: 'bias', shape: [C] },
    ], [T, C]);
  const lin = (key: string, out: number, inp: number) =>
    part(key, 'block', [
      { name: 'weight', shape: [out, inp] },
      { name: 'bias', shape: [out] },
    ], [T, out]);
  return [
    part('wte', 'embedding', [{ name: 'weight', shape: [V, C] }], [T, C]),
    part('wpe', 'embedding', [{ name: 'weight', shape: [contextLength, C] }], [T, C]),
    ln('ln_1', 'block'),
    lin('c_attn', 3 * C, C),
    lin('attn_c_proj', C, C),
    ln('ln_2', 'block'),
    lin('c_fc', 4 * C, C),
    lin('mlp_c_proj', C, 4 * C),
    ln('ln_f', 'head'),
    // The output head reuses wte (tied): it adds no parameters of its own.
    { key: 'lm_head', where: 'head', shapes: [], parameters: 0, output: [T, V] },
  ];
}

export async function inspectBlock(model: GPT, tokenizer: CharTokenizer, prompt: string): Promise<BlockView> {
  const config = model.config;
  const w = promptWindow(tokenizer, prompt, config.contextLength);
  const T = w.ids.length;
  const parts = blockParts(config, T);
  const perBlock = parts.filter((p) => p.where === 'block').reduce((s, p) => s + p.parameters, 0);
  const total = parts.reduce((s, p) => s + p.parameters * (p.where === 'block' ? config.layers : 1), 0);

  const names: string[] = [];
  const layersOf: number[] = [];
  const values = tf.tidy(() => {
    const scalars: tf.Scalar[] = [];
    const observe: Observe = (name, layer, t) => {
      names.push(name);
      layersOf.push(Math.max(0, layer));
      scalars.push(tf.sqrt(tf.mean(tf.square(t))) as tf.Scalar);
    };
    const mask = causalMask(T);
    let x = embedRows(model, w.ids, observe);
    for (let l = 0; l < config.layers; l++) x = blockOf(model, x, l, mask, observe);
    const f = layerNorm(x, model, 'transformer.ln_f');
    observe('ln_f', -1, f);
    observe('logits', -1, linear(f, param(model, 'transformer.wte.weight')));
    return tf.stack(scalars);
  });
  const data = await values.data();
  values.dispose();
  const rms: Record<string, number[]> = {};
  names.forEach((name, i) => {
    (rms[name] ??= [])[layersOf[i]] = data[i];
  });
  return { config: { ...config }, T, chars: w.chars, parts, perBlock, total, rms };
}

/** Sanity of the arithmetic above: the parts add up to the model's parameter count. */
export function partsTotal(config: ModelConfig): { total: number; expected: number } {
  const parts = blockParts(config, 1);
  const total = parts.reduce((s, p) => s + p.parameters * (p.where === 'block' ? config.layers : 1), 0);
  return { total, expected: parameterCount(config) };
}

// ---------------------------------------------------------------------------------------------
// Next token

export interface NextTokenSettings {
  temperature: number;
  /** 0: keep every token. */
  topK: number;
  /** 1: keep every token. */
  topP: number;
}

export interface NextTokenView {
  chars: string[];
  unknown: number;
  cropped: number;
  vocabulary: string[];
  /** Raw scores of the last position for every token. (V,) */
  logits: Float32Array;
  /** softmax(logits): temperature 1, nothing filtered. (V,) */
  plain: Float64Array;
  /** After the temperature only. */
  tempered: Float64Array;
  /** After the temperature and top-k. */
  topK: Float64Array;
  /** After temperature, top-k and top-p: the distribution sampling draws from. */
  final: Float64Array;
  settings: NextTokenSettings;
}

export function checkSettings(s: NextTokenSettings): NextTokenSettings {
  const { temperature, topK, topP } = s;
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0 || temperature > 100) {
    throw new RangeError('The temperature must be a number from 0 to 100.');
  }
  if (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 0) throw new RangeError('Top-k must be a whole number ≥ 0 (0 keeps every token).');
  if (typeof topP !== 'number' || !Number.isFinite(topP) || topP <= 0 || topP > 1) {
    throw new RangeError('Top-p must be a number greater than 0 and at most 1.');
  }
  return { temperature, topK, topP };
}

/** The last position's logits for the prompt window, and the distribution after each setting in turn. */
export async function inspectNextToken(
  model: GPT,
  tokenizer: CharTokenizer,
  prompt: string,
  settings: NextTokenSettings,
): Promise<NextTokenView> {
  const s = checkSettings(settings);
  const w = promptWindow(tokenizer, prompt, model.config.contextLength);
  const out = tf.tidy(() => model.forward(tf.tensor2d(w.ids, [1, w.ids.length], 'int32'), { lastOnly: true })); // (1, V)
  const logits = (await out.data()) as Float32Array;
  out.dispose();
  return {
    chars: w.chars,
    unknown: w.unknown,
    cropped: w.cropped,
    vocabulary: [...tokenizer.vocabulary],
    logits,
    plain: nextTokenDistribution(logits, { temperature: 1 }),
    tempered: nextTokenDistribution(logits, { temperature: s.temperature }),
    topK: nextTokenDistribution(logits, { temperature: s.temperature, topK: s.topK }),
    final: nextTokenDistribution(logits, { temperature: s.temperature, topK: s.topK, topP: s.topP }),
    settings: s,
  };
}

// ---------------------------------------------------------------------------------------------
// Embeddings

export interface EmbeddingsView {
  vocabulary: string[];
  V: number;
  C: number;
  /** Positions (the context length). */
  P: number;
  /** The token embedding matrix, wte. (V, C) */
  token: Float32Array;
  /** The position embedding matrix, wpe. (P, C) */
  position: Float32Array;
  /** Each token's coordinates on the first two principal components of wte. (V, 2) */
  tokenXY: Float32Array;
  /** The share of wte's variance along each of those two components. */
  tokenExplained: [number, number];
  /** Each position's coordinates on the first two principal components of wpe. (P, 2) */
  positionXY: Float32Array;
  positionExplained: [number, number];
  /** For each token, its `neighbours` most similar tokens by cosine similarity, best first. (V, n) */
  neighbours: Int32Array;
  neighbourSimilarity: Float32Array;
  n: number;
  /** Cosine similarity between every two position embeddings. (P, P) */
  positionSimilarity: Float32Array;
}

/**
 * The first two principal components of the rows of `m` (rows × cols), by power iteration on the
 * covariance with deflation. Returns each row's coordinates (rows, 2) and the share of the total
 * variance along each component. Each component's sign is fixed so that its largest entry is positive.
 */
export function pca2(m: ArrayLike<number>, rows: number, cols: number): { xy: Float32Array; explained: [number, number] } {
  const mean = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) mean[j] += m[i * cols + j] / rows;
  const x = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) x[i * cols + j] = m[i * cols + j] - mean[j];
  const cov = new Float64Array(cols * cols); // (cols, cols)
  for (let i = 0; i < rows; i++) {
    for (let a = 0; a < cols; a++) {
      const xa = x[i * cols + a];
      if (xa === 0) continue;
      for (let b = a; b < cols; b++) cov[a * cols + b] += xa * x[i * cols + b];
    }
  }
  for (let a = 0; a < cols; a++) {
    for (let b = a; b < cols; b++) {
      cov[a * cols + b] /= Math.max(1, rows - 1);
      cov[b * cols + a] = cov[a * cols + b];
    }
  }
  let trace = 0;
  for (let a = 0; a < cols; a++) trace += cov[a * cols + a];
  const components: Float64Array[] = [];
  const variances: number[] = [];
  for (let c = 0; c < 2; c++) {
    let v = new Float64Array(cols);
    for (let a = 0; a < cols; a++) v[a] = 1 + ((a * 7919) % 13) / 13; // a fixed, generic start
    let lambda = 0;
    for (let it = 0; it < 500; it++) {
      const next = new Float64Array(cols);
      for (let a = 0; a < cols; a++) {
        let s = 0;
        for (let b = 0; b < cols; b++) s += cov[a * cols + b] * v[b];
        next[a] = s;
      }
      for (const u of components) {
        let d = 0;
        for (let a = 0; a < cols; a++) d += next[a] * u[a];
        for (let a = 0; a < cols; a++) next[a] -= d * u[a];
      }
      let norm = 0;
      for (let a = 0; a < cols; a++) norm += next[a] * next[a];
      norm = Math.sqrt(norm);
      if (norm === 0) break;
      for (let a = 0; a < cols; a++) next[a] /= norm;
      let change = 0;
      for (let a = 0; a < cols; a++) change = Math.max(change, Math.abs(next[a] - v[a]));
      v = next;
      lambda = norm;
      if (change < 1e-10) break;
    }
    let big = 0;
    for (let a = 0; a < cols; a++) if (Math.abs(v[a]) > Math.abs(v[big])) big = a;
    if (v[big] < 0) for (let a = 0; a < cols; a++) v[a] = -v[a];
    components.push(v);
    variances.push(lambda);
  }
  const xy = new Float32Array(rows * 2);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < 2; c++) {
      let s = 0;
      for (let a = 0; a < cols; a++) s += x[i * cols + a] * components[c][a];
      xy[i * 2 + c] = s;
    }
  }
  const share = (l: number) => (trace > 0 ? l / trace : 0);
  return { xy, explained: [share(variances[0]), share(variances[1])] };
}

/** Cosine similarity between every two rows of `m` (rows × cols). (rows, rows) */
export function cosineMatrix(m: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const norms = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += m[i * cols + j] ** 2;
    norms[i] = Math.sqrt(s) || 1;
  }
  const out = new Float32Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    for (let k = i; k < rows; k++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += m[i * cols + j] * m[k * cols + j];
      out[i * rows + k] = out[k * rows + i] = s / (norms[i] * norms[k]);
    }
  }
  return out;
}

export async function inspectEmbeddings(model: GPT, vocabulary: readonly string[], n = 5): Promise<EmbeddingsView> {
  const { vocabSize: V, width: C, contextLength: P } = model.config;
  const token = (await param(model, 'transformer.wte.weight').data()) as Float32Array;
  const position = (await param(model, 'transformer.wpe.weight').data()) as Float32Array;
  const t = pca2(token, V, C);
  const p = pca2(position, P, C);
  const sim = cosineMatrix(token, V, C);
  const k = Math.min(n, V - 1);
  const neighbours = new Int32Array(V * k);
  const neighbourSimilarity = new Float32Array(V * k);
  for (let i = 0; i < V; i++) {
    const order = Array.from({ length: V }, (_, j) => j)
      .filter((j) => j !== i)
      .sort((a, b) => sim[i * V + b] - sim[i * V + a])
      .slice(0, k);
    order.forEach((j, r) => {
      neighbours[i * k + r] = j;
      neighbourSimilarity[i * k + r] = sim[i * V + j];
    });
  }
  return {
    vocabulary: [...vocabulary],
    V,
    C,
    P,
    token,
    position,
    tokenXY: t.xy,
    tokenExplained: t.explained,
    positionXY: p.xy,
    positionExplained: p.explained,
    neighbours,
    neighbourSimilarity,
    n: k,
    positionSimilarity: cosineMatrix(position, P, C),
  };
}
