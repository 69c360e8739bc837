import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../src/gpt/config';
import { GPT, paramsFromArrays } from '../src/gpt/model';
import { parameterShapes } from '../src/gpt/shapes';
import { AdamW } from '../src/train/adamw';
import { decodeSafetensors, type TensorData } from '../src/engine/safetensors';

/**
 * Runs the PyTorch reference fixture (tests/fixtures/reference-tiny.safetensors, made by
 * scripts/torch/make_reference_fixture.py) through our model on the current backend and returns
 * the largest differences from PyTorch's numbers.
 */
export async function compareWithReference(): Promise<{
  logits: number;
  loss: number;
  gradNorm: number;
  lossAfterStep: number;
  weightsAfterStep: number;
  keyBiasAfterStep: number;
  values: { loss: number; expectedLoss: number; lossAfterStep: number; expectedLossAfterStep: number };
}> {
  const file = decodeSafetensors(new Uint8Array(readFileSync(new URL('./fixtures/reference-tiny.safetensors', import.meta.url))));
  const config = JSON.parse(file.metadata.config) as ModelConfig;
  const opt = JSON.parse(file.metadata.optimizer) as { lr: number; beta1: number; beta2: number; epsilon: number; weightDecay: number; gradClip: number };
  const get = (name: string): TensorData => {
    const t = file.tensors.get(name);
    if (!t) throw new Error(`the fixture has no ${name}`);
    return t;
  };
  const model = new GPT(config, paramsFromArrays(config, file.tensors));
  const [B, T] = get('batch.x').shape;
  const x = tf.tensor2d(Int32Array.from(get('batch.x').data), [B, T], 'int32');
  const y = tf.tensor2d(Int32Array.from(get('batch.y').data), [B, T], 'int32');
  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    if (a.length !== b.length) throw new Error(`length ${a.length} ≠ ${b.length}`);
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    return m;
  };
  const logitsT = tf.tidy(() => model.forward(x));
  const logits = maxDiff(await logitsT.data(), get('expected.logits').data);
  logitsT.dispose();

  const optimizer = new AdamW(model.params, { ...opt });
  const [lossT, normT] = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => model.loss(x, y), [...model.params.values()]);
    return [value, optimizer.apply(grads, opt.lr)];
  });
  const lossValue = (await lossT.data())[0];
  const normValue = (await normT.data())[0];
  tf.dispose([lossT, normT]);
  // The key slice of each c_attn bias, [C, 2C), has an exactly zero gradient (adding a constant to
  // every key shifts each query's scores by one constant, which softmax ignores), so after Adam's
  // first step it holds float rounding noise divided by ε in both frameworks: compared separately,
  // to within one learning rate.
  let weightsAfterStep = 0;
  let keyBiasAfterStep = 0;
  const C = config.width;
  for (const [name, p] of model.params) {
    const ours = (await p.data()) as Float32Array;
    const theirs = get(`after.${name}`).data;
    if (name.endsWith('attn.c_attn.bias')) {
      const keys = (a: Float32Array) => a.subarray(C, 2 * C);
      keyBiasAfterStep = Math.max(keyBiasAfterStep, maxDiff(keys(ours), keys(theirs)));
      weightsAfterStep = Math.max(weightsAfterStep, maxDiff(ours.subarray(0, C), theirs.subarray(0, C)), maxDiff(ours.subarray(2 * C), theirs.subarray(2 * C)));
    } else {
      weightsAfterStep = Math.max(weightsAfterStep, maxDiff(ours, theirs));
    }
  }
  const afterT = tf.tidy(() => model.loss(x, y));
  const afterValue = (await afterT.data())[0];
  afterT.dispose();
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  if (parameterShapes(config).size !== model.params.size) throw new Error('parameter count mismatch');
  const expectedLoss = get('expected.loss').data[0];
  const expectedLossAfterStep = get('expected.loss_after_step').data[0];
  return {
    logits,
    loss: Math.abs(lossValue - expectedLoss),
    gradNorm: Math.abs(normValue - get('expected.grad_norm').data[0]),
    lossAfterStep: Math.abs(afterValue - expectedLossAfterStep),
    weightsAfterStep,
    keyBiasAfterStep,
    values: { loss: lossValue, expectedLoss, lossAfterStep: afterValue, expectedLossAfterStep },
  };
}
