import * as tf from '@tensorflow/tfjs';
import { modelConfigOf, resolveHyperparameters, type Hyperparameters } from '../config';
import { GPT, paramsToArrays } from '../model';
import { Rng } from '../random';
import { Trainer } from '../../train/trainer';
import { FastTrainer } from '../../train/fastTrainer';
import { FastGPT } from './model';

export interface Agreement {
  /** |fast − reference| / |reference| of the loss. */
  loss: number;
  /** Worst over parameters of max|fast − reference| / max|reference| of its gradient. */
  grads: number;
  /** The parameter where `grads` is worst. */
  worstGrad: string;
  /** |fast − reference| / reference of the gradient's global norm after one step. */
  gradNorm: number;
  /** Largest |fast − reference| of any weight after one clipped AdamW step. */
  weightsAfterStep: number;
  /** The learning rate of that step, the scale `weightsAfterStep` is to be read against. */
  learningRate: number;
}

/** The small model `npm run bench -- --check` compares on (every product still spans several row blocks). */
export function agreementHyperparameters(): Hyperparameters {
  return resolveHyperparameters('tiny', { vocabSize: 24, batchSize: 3, warmupSteps: 0 });
}

/**
 * The fast path against the reference on the current backend: loss and every parameter's gradient on
 * one batch, then one training step of each trainer from the same weights. LayerNorm parameters and
 * biases are moved off their initial 1 and 0 first, so every gradient path carries signal.
 */
export async function fastAgreement(hp: Hyperparameters, seed = 3): Promise<Agreement> {
  const config = modelConfigOf(hp);
  const make = () => {
    const model = GPT.create(config, seed);
    const rng = new Rng(seed + 100);
    tf.tidy(() => {
      for (const [name, p] of model.params) {
        if (name.endsWith('.bias') || name.includes('ln_')) {
          p.assign(tf.add(p, tf.tensor(Float32Array.from({ length: p.size }, () => rng.normal() * 0.1), p.shape)));
        }
      }
    });
    return model;
  };
  const rng = new Rng(seed + 7);
  const B = hp.batchSize;
  const T = hp.contextLength;
  const tokens = Int32Array.from({ length: B * T + 1 }, () => rng.int(hp.vocabSize));
  const batch = { x: tokens.slice(0, B * T), y: tokens.slice(1, B * T + 1), batchSize: B, contextLength: T };
  const data = { train: Int32Array.from({ length: 4 * B * (T + 1) }, () => rng.int(hp.vocabSize)), val: tokens };

  const ref = make();
  const fastModel = make();
  const fast = new FastGPT(config);
  const x = tf.tensor2d(batch.x, [B, T], 'int32');
  const y = tf.tensor2d(batch.y, [B, T], 'int32');

  // Loss and gradients.
  const refOut = tf.tidy(() => tf.variableGrads(() => ref.loss(x, y), [...ref.params.values()]));
  const refLoss = (await refOut.value.data())[0];
  const refGrads = new Map<string, Float32Array>();
  for (const [name, v] of ref.params) refGrads.set(name, (await refOut.grads[v.name].data()) as Float32Array);
  tf.dispose([refOut.value, ...Object.values(refOut.grads)]);

  const theta = tf.tidy(() => tf.concat(fast.layout.entries.map((e) => tf.reshape(fastModel.params.get(e.name)!, [-1]))));
  const fastOut = tf.tidy(() => {
    const r = fast.lossAndGrads(theta, x, y);
    return [r.loss, r.grads!];
  });
  const fastLoss = (await fastOut[0].data())[0];
  const fastGrads = (await fastOut[1].data()) as Float32Array;
  tf.dispose([...fastOut, theta, x, y]);

  let grads = 0;
  let worstGrad = '';
  for (const e of fast.layout.entries) {
    const r = refGrads.get(e.name)!;
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < e.size; i++) {
      diff = Math.max(diff, Math.abs(fastGrads[e.offset + i] - r[i]));
      scale = Math.max(scale, Math.abs(r[i]));
    }
    const rel = diff / Math.max(scale, 1e-12);
    if (rel > grads) {
      grads = rel;
      worstGrad = e.name;
    }
  }

  // One optimizer step of each trainer (warmup's first step at the configured schedule).
  const stepHp = { ...hp, warmupSteps: 0 };
  const refTrainer = new Trainer(ref, data, stepHp);
  const fastTrainer = new FastTrainer(fastModel, data, stepHp);
  const [l1, n1] = refTrainer.trainStep(batch);
  const [l2, n2] = fastTrainer.trainStep(batch);
  const refNorm = (await n1.data())[0];
  const fastNorm = (await n2.data())[0];
  tf.dispose([l1, n1, l2, n2]);
  const refAfter = await paramsToArrays(ref.params);
  const fastAfter = await paramsToArrays(fastModel.params);
  let weightsAfterStep = 0;
  for (const [name, a] of refAfter) {
    const b = fastAfter.get(name)!.data;
    for (let i = 0; i < a.data.length; i++) weightsAfterStep = Math.max(weightsAfterStep, Math.abs(a.data[i] - b[i]));
  }
  refTrainer.dispose();
  fastTrainer.dispose();
  ref.dispose();
  fastModel.dispose();
  return {
    loss: Math.abs(fastLoss - refLoss) / Math.abs(refLoss),
    grads,
    worstGrad,
    gradNorm: Math.abs(fastNorm - refNorm) / refNorm,
    weightsAfterStep,
    learningRate: hp.learningRate,
  };
}
