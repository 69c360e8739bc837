/**
 * Gradients as tfjs computes them, for the Frameworks chapter's autograd widget: the small
 * expression (expression.ts) and one attention head (attention.ts). The page checks both against
 * finite differences it computes itself.
 *
 * tfjs records each operation on a tape while the function runs, then walks the tape backwards
 * applying each operation's derivative (reverse-mode automatic differentiation). `tf.grads` gives
 * the gradients with respect to the function's arguments, all from one backward pass.
 */
import * as tf from '@tensorflow/tfjs';
import {
  EXPRESSION,
  evaluate,
  INPUT_NAMES,
  OUTPUT_ID,
  validateInputs,
  type ExpressionInputs,
  type InputName,
  type Ops,
} from './expression';
import { HEAD_INPUTS, HEAD_SIZE, HEAD_T, headTensors, validateHeadRequest, type HeadInput, type HeadRequest } from './attention';

export interface ExpressionGradients {
  inputs: ExpressionInputs;
  /** Forward value at every node (float32, as tfjs computed it). */
  values: Record<string, number>;
  /**
   * ∂f/∂node at every node. For a, b, c from one `tf.grads` call (one backward pass); for the
   * intermediate nodes from `tf.grad` of f as a function of that node's value.
   */
  gradients: Record<string, number>;
  backend: string;
}

const TF_OPS: Ops<tf.Tensor> = {
  mul: (x, y) => tf.mul(x, y),
  add: (x, y) => tf.add(x, y),
  tanh: (x) => tf.tanh(x),
};

/** The graph walked with tfjs ops: f as a function of the three inputs, or of one node's value. */
function fTf(inputs: Record<InputName, tf.Tensor>, replace?: { id: string; value: tf.Tensor }): tf.Scalar {
  const f = evaluate(TF_OPS, inputs, replace).get(OUTPUT_ID)! as tf.Scalar;
  // With f itself replaced there is no operation between x and f for tfjs to differentiate: an
  // identity op gives the tape its one step (∂f/∂f = 1).
  return replace?.id === OUTPUT_ID ? tf.clone(f) : f;
}

export async function expressionGradients(raw: Partial<Record<InputName, unknown>>): Promise<ExpressionGradients> {
  const inputs = validateInputs(raw);
  const kept: tf.Tensor[] = [];
  try {
    const scalars = tf.tidy(() => INPUT_NAMES.map((name) => tf.keep(tf.scalar(inputs[name]))));
    kept.push(...scalars);
    const asRecord = (xs: tf.Tensor[]) => Object.fromEntries(INPUT_NAMES.map((n, i) => [n, xs[i]])) as Record<InputName, tf.Tensor>;
    // Forward values at every node.
    const forward = tf.tidy(() => {
      const values = evaluate(TF_OPS, asRecord(scalars));
      return EXPRESSION.map((node) => tf.keep(values.get(node.id)!));
    });
    kept.push(...forward);
    // ∂f/∂a, ∂f/∂b, ∂f/∂c: one backward pass.
    const inputGrads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => fTf({ a, b, c }))(scalars);
    kept.push(...inputGrads);
    // The adjoint of each intermediate node: f as a function of that node's value, differentiated.
    const nodeGrads = EXPRESSION.filter((node) => node.op !== 'input').map((node) => {
      const at = forward[EXPRESSION.indexOf(node)];
      return tf.grad((x: tf.Tensor) => fTf(asRecord(scalars), { id: node.id, value: x }))(at);
    });
    kept.push(...nodeGrads);

    const values: Record<string, number> = {};
    for (const [i, node] of EXPRESSION.entries()) values[node.id] = (await forward[i].data())[0];
    const gradients: Record<string, number> = {};
    for (const [i, name] of INPUT_NAMES.entries()) gradients[name] = (await inputGrads[i].data())[0];
    for (const [i, node] of EXPRESSION.filter((n) => n.op !== 'input').entries()) gradients[node.id] = (await nodeGrads[i].data())[0];
    return { inputs, values, gradients, backend: tf.getBackend() };
  } finally {
    tf.dispose(kept);
  }
}

export interface HeadGradients {
  request: HeadRequest;
  T: number;
  headSize: number;
  /** The inputs (exactly what the page's float64 forward uses). */
  q: number[];
  k: number[];
  v: number[];
  r: number[];
  /** (T, T) attention probabilities and (T, hs) output, as tfjs computed them. */
  probs: number[];
  out: number[];
  loss: number;
  /** ∂L/∂Q, ∂L/∂K, ∂L/∂V from one `tf.grads` call. */
  gradients: Record<HeadInput, number[]>;
  backend: string;
}

/** L = Σ softmax(Q·Kᵀ/√hs + mask)·V ⊙ R with tfjs ops. (T, hs) inputs. */
function headLoss(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, r: tf.Tensor2D, mask: tf.Tensor2D): { probs: tf.Tensor2D; out: tf.Tensor2D; loss: tf.Scalar } {
  const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(HEAD_SIZE)), mask); // (T, T)
  const probs = tf.softmax(scores) as tf.Tensor2D; // (T, T)
  const out = tf.matMul(probs, v) as tf.Tensor2D; // (T, hs)
  return { probs, out, loss: tf.sum(tf.mul(out, r)) as tf.Scalar };
}

export async function headGradients(raw: Partial<Record<keyof HeadRequest, unknown>>): Promise<HeadGradients> {
  const request = validateHeadRequest(raw);
  const t = headTensors(request.seed);
  const shape: [number, number] = [HEAD_T, HEAD_SIZE];
  const kept: tf.Tensor[] = [];
  try {
    const [q, k, v, r, mask] = tf.tidy(() => {
      const maskValues = new Float32Array(HEAD_T * HEAD_T);
      if (request.causal) for (let i = 0; i < HEAD_T; i++) for (let j = i + 1; j < HEAD_T; j++) maskValues[i * HEAD_T + j] = -1e9;
      return [tf.tensor2d(t.q, shape), tf.tensor2d(t.k, shape), tf.tensor2d(t.v, shape), tf.tensor2d(t.r, shape), tf.tensor2d(maskValues, [HEAD_T, HEAD_T])].map(
        (x) => tf.keep(x),
      ) as tf.Tensor2D[];
    });
    kept.push(q, k, v, r, mask);
    const forward = tf.tidy(() => {
      const f = headLoss(q, k, v, r, mask);
      return [tf.keep(f.probs), tf.keep(f.out), tf.keep(f.loss)];
    });
    kept.push(...forward);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => headLoss(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, r, mask).loss)([q, k, v]);
    kept.push(...grads);
    const read = async (x: tf.Tensor) => Array.from(await x.data());
    const gradients = {} as Record<HeadInput, number[]>;
    for (const [i, name] of HEAD_INPUTS.entries()) gradients[name] = await read(grads[i]);
    return {
      request,
      T: HEAD_T,
      headSize: HEAD_SIZE,
      ...t,
      probs: await read(forward[0]),
      out: await read(forward[1]),
      loss: (await read(forward[2]))[0],
      gradients,
      backend: tf.getBackend(),
    };
  } finally {
    tf.dispose(kept);
  }
}
