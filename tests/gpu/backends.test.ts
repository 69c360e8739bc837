/**
 * Backends in Node: what the probe reports, and that cpu, wasm and webgpu (Dawn, on SwiftShader where
 * there is no GPU) compute the same matmul, softmax and gradient.
 *
 * WebGPU needs the Vulkan loader and a Vulkan driver. Where they are missing the webgpu tests fail
 * and say what to install; they never skip, because CI installs them.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  currentBackend,
  probeBackends,
  useBackend,
  type BackendName,
  type BackendReport,
} from '../../src/engine/backends';
import { installNodeWebGPU, prepareNodeBackend, type NodeWebGPU } from '../../scripts/lib/node-backends';

const TOLERANCE = 1e-4;

function byName(reports: BackendReport[], name: BackendName): BackendReport {
  const report = reports.find((r) => r.name === name);
  if (report == null) throw new Error(`probeBackends() left out ${name}`);
  return report;
}

describe('probeBackends in Node, before WebGPU is installed', () => {
  let reports: BackendReport[];
  beforeAll(async () => {
    reports = await probeBackends();
  });

  it('lists every backend, fastest first', () => {
    expect(reports.map((r) => r.name)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
  });

  it('has cpu and wasm (with SIMD; no threads without cross-origin isolation)', () => {
    expect(byName(reports, 'cpu').available).toBe(true);
    const wasm = byName(reports, 'wasm');
    expect(wasm.available).toBe(true);
    expect(wasm.wasm).toEqual({ simd: true, threads: false });
  });

  it('says why there is no webgl and, yet, no webgpu', () => {
    const webgl = byName(reports, 'webgl');
    expect(webgl).toMatchObject({ available: false, reason: 'no WebGL outside a browser' });
    const webgpu = byName(reports, 'webgpu');
    expect(webgpu).toMatchObject({ available: false, reason: expect.stringMatching(/navigator\.gpu/) });
  });
});

describe('webgpu through Dawn', () => {
  let installed: NodeWebGPU;
  beforeAll(async () => {
    installed = await installNodeWebGPU(); // throws, saying what to install, when Vulkan is missing
  });

  it('is available and says whether its adapter is a software fallback', async () => {
    const webgpu = byName(await probeBackends(), 'webgpu');
    expect(webgpu.available).toBe(true);
    expect(typeof webgpu.adapter?.isFallbackAdapter).toBe('boolean');
    if (installed.adapter.architecture === 'swiftshader') {
      expect(webgpu.adapter?.isFallbackAdapter).toBe(true);
    }
    expect(webgpu.reason).toMatch(webgpu.adapter?.isFallbackAdapter ? /software fallback/ : /GPU adapter/);
  });
});

/** A seeded uniform sample in [-scale, scale): the same numbers on every backend. */
function sample(count: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

const X = sample(64 * 48, 1, 0.5);
const W = sample(48 * 32, 2, 0.5);
const LOGITS = sample(64 * 32, 3, 4);

interface Results {
  matMul: Float32Array;
  softmax: Float32Array;
  gradW: Float32Array;
}

/** matMul (64, 48) @ (48, 32), softmax over (64, 32) logits, and d sum(tanh(x @ w)) / dw on `backend`. */
async function compute(backend: BackendName): Promise<Results> {
  await prepareNodeBackend(backend);
  expect(currentBackend()).toBe(backend);
  const outputs = tf.tidy(() => {
    const x = tf.tensor2d(X, [64, 48]);
    const w = tf.tensor2d(W, [48, 32]);
    const gradW = tf.grad((w) => tf.sum(tf.tanh(tf.matMul(x, w))))(w); // (48, 32)
    return [tf.matMul(x, w), tf.softmax(tf.tensor2d(LOGITS, [64, 32])), gradW];
  });
  // Async reads: dataSync would block on webgpu.
  const [matMul, softmax, gradW] = (await Promise.all(outputs.map((t) => t.data()))) as Float32Array[];
  tf.dispose(outputs);
  return { matMul, softmax, gradW };
}

/** max |a - b| over max |b|: the error relative to the size of the reference. */
function relativeError(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let size = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    size = Math.max(size, Math.abs(b[i]));
  }
  return diff / Math.max(size, 1e-30);
}

function expectAgreement(got: Results, reference: Results): void {
  for (const key of ['matMul', 'softmax', 'gradW'] as const) {
    expect(got[key].every(Number.isFinite), `${key} is finite`).toBe(true);
    expect(relativeError(got[key], reference[key]), key).toBeLessThanOrEqual(TOLERANCE);
  }
}

describe('cpu, wasm and webgpu agree', () => {
  let reference: Results;
  beforeAll(async () => {
    reference = await compute('cpu');
  });

  it('wasm', async () => {
    expectAgreement(await compute('wasm'), reference);
  });

  it('webgpu', async () => {
    expectAgreement(await compute('webgpu'), reference);
  });

  it('a backend that cannot start throws a BackendError and leaves the active one running', async () => {
    await useBackend('cpu');
    await expect(useBackend('webgl')).rejects.toMatchObject({ name: 'BackendError', backend: 'webgl' });
    expect(currentBackend()).toBe('cpu');
  });
});
