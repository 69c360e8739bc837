/**
 * The Infrastructure chapter's engine jobs (src/engine/jobs/infra.ts) on the cpu backend, and the
 * tar writer (src/engine/tar.ts) read back by a reader written here from the ustar layout.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../src/engine/checkpoint';
import { Engine } from '../../src/engine/engine';
import { TAR_BLOCK, writeTar } from '../../src/engine/tar';
import { parameterCount, type Hyperparameters } from '../../src/gpt/config';
import { TEST_ENGINE_OPTIONS, liveEngineSuite } from './engineFixture';

// ---------------------------------------------------------------------------------------------
// A ustar reader, from the format's description (not from the writer)

interface ParsedEntry {
  name: string;
  type: string;
  mode: number;
  size: number;
  data: Uint8Array;
}

function field(block: Uint8Array, offset: number, width: number): string {
  let s = '';
  for (let i = offset; i < offset + width && block[i] !== 0; i++) s += String.fromCharCode(block[i]);
  return s;
}

function readTar(bytes: Uint8Array): ParsedEntry[] {
  expect(bytes.length % TAR_BLOCK).toBe(0);
  const entries: ParsedEntry[] = [];
  let at = 0;
  for (;;) {
    const h = bytes.subarray(at, at + TAR_BLOCK);
    if (h.every((b) => b === 0)) {
      // The end: two zero blocks, and nothing after them.
      expect(bytes.subarray(at, at + 2 * TAR_BLOCK).every((b) => b === 0)).toBe(true);
      expect(at + 2 * TAR_BLOCK).toBe(bytes.length);
      return entries;
    }
    expect(field(h, 257, 6)).toBe('ustar');
    expect(field(h, 263, 2)).toBe('00');
    // Checksum: the header's bytes summed with the checksum field counted as spaces.
    let sum = 0;
    for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    expect(parseInt(field(h, 148, 8).trim(), 8)).toBe(sum);
    const prefix = field(h, 345, 155);
    const name = (prefix ? prefix + '/' : '') + field(h, 0, 100);
    const size = parseInt(field(h, 124, 12), 8);
    const data = bytes.slice(at + TAR_BLOCK, at + TAR_BLOCK + size);
    entries.push({ name, type: field(h, 156, 1), mode: parseInt(field(h, 100, 8), 8), size, data });
    at += TAR_BLOCK + Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
  }
}

const utf8 = new TextEncoder();
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

describe('the tar writer', () => {
  it('writes entries a ustar reader gets back byte for byte, with valid checksums and padding', () => {
    const big = Uint8Array.from({ length: 1500 }, (_, i) => (i * 7) % 256);
    const longName = `${'deep/'.repeat(30)}file.txt`; // 154 characters: needs the prefix field
    const tar = writeTar([
      { name: 'folder/' },
      { name: 'folder/a.txt', data: utf8.encode('hello\n') },
      { name: 'folder/empty', data: new Uint8Array(0) },
      { name: 'folder/big.bin', data: big, mode: 0o600 },
      { name: longName, data: utf8.encode('x') },
    ]);
    const entries = readTar(tar);
    expect(entries.map((e) => [e.name, e.type, e.size])).toEqual([
      ['folder/', '5', 0],
      ['folder/a.txt', '0', 6],
      ['folder/empty', '0', 0],
      ['folder/big.bin', '0', 1500],
      [longName, '0', 1],
    ]);
    expect(decode(entries[1].data)).toBe('hello\n');
    expect(Array.from(entries[3].data)).toEqual(Array.from(big));
    expect(entries[3].mode).toBe(0o600);
    expect(entries[1].mode).toBe(0o644);
    // 5 headers + data blocks (1 + 0 + 3 + 1) + 2 end blocks.
    expect(tar.length).toBe((5 + 5 + 2) * TAR_BLOCK);
  });

  it('refuses names it cannot write safely', () => {
    expect(() => writeTar([{ name: '/etc/passwd', data: new Uint8Array(1) }])).toThrow(/relative path/);
    expect(() => writeTar([{ name: 'a/../b', data: new Uint8Array(1) }])).toThrow(/relative path/);
    expect(() => writeTar([{ name: 'café.txt', data: new Uint8Array(1) }])).toThrow(/ASCII/);
    expect(() => writeTar([{ name: 'x'.repeat(101), data: new Uint8Array(1) }])).toThrow(/too long/);
    expect(() => writeTar([{ name: 'a', data: new Uint8Array(1) }, { name: 'a', data: new Uint8Array(1) }])).toThrow(/twice/);
  });
});

// ---------------------------------------------------------------------------------------------
// The jobs, on a real engine

const { text, tiny, started } = liveEngineSuite({ batchSize: 4 });

async function readerWeights(engine: Engine): Promise<Map<string, number[]>> {
  return engine.runJob('read', async (wb) => {
    const out = new Map<string, number[]>();
    for (const [name, v] of wb.run.model.params) out.set(name, Array.from(await v.data()));
    return out;
  });
}

describe('hardware()', () => {
  it('reports the backend, tfjs memory and the bytes of the model and its optimizer', async () => {
    const engine = await started();
    const status = await engine.status();
    const r = await engine.infra.hardware();
    const P = parameterCount(status.hp!);
    expect(r.backend).toBe('cpu');
    expect(r.model.parameters).toBe(P);
    expect(r.model.weightBytes).toBe(4 * P);
    expect(r.model.optimizerBytes).toBe(8 * P);
    expect(r.model.gradientBytes).toBe(4 * P);
    // The engine holds at least the weights and both moments: 3 · P floats.
    expect(r.memory.numTensors).toBe(tf.memory().numTensors);
    expect(r.memory.numBytes).toBeGreaterThanOrEqual(3 * 4 * P);
    expect(r.webgpu.present).toBe(false);
    expect(r.webgpu.adapter).toBeNull();
    expect(r.webgpu.reason).toMatch(/navigator\.gpu/);
    const nav = (globalThis as { navigator?: Navigator }).navigator;
    expect(r.hardwareConcurrency).toBe(typeof nav?.hardwareConcurrency === 'number' ? nav.hardwareConcurrency : null);
    expect(r.crossOriginIsolated).toBe(false);
  });
});

describe('ceiling()', () => {
  it('times square matmuls, keeps the largest under the budget, and leaves no tensor behind', async () => {
    const engine = await started();
    const before = tf.memory().numTensors;
    const r = await engine.infra.ceiling({ sizes: [128, 32, 64], budgetSeconds: 30 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.backend).toBe('cpu');
    expect(r.tried.map((t) => t.size)).toEqual([32, 64, 128]); // smallest first
    expect(r.size).toBe(128);
    for (const t of r.tried) {
      expect(t.seconds).toBeGreaterThan(0);
      expect(t.gflops).toBeCloseTo((2 * t.size ** 3) / t.seconds / 1e9, 6);
    }
    expect(r.gflops).toBe(r.tried[2].gflops);
  });

  it('stops at the first size over the budget and refuses bad sizes', async () => {
    const engine = await started();
    const r = await engine.infra.ceiling({ sizes: [32, 64], budgetSeconds: 1e-9 });
    expect(r.tried.length).toBe(1); // 32 already took longer than the budget: 64 is not tried
    expect(r.size).toBe(32);
    await expect(engine.infra.ceiling({ sizes: [3] })).rejects.toThrow(/from 8 to 4096/);
  });
});

describe('dataParallel()', () => {
  it.each([
    ['tiny', 3],
    ['reader', 4],
  ] as const)('on the %s model with %i workers: the same update as one batch, the ring’s bytes, the reader’s weights untouched', async (model, workers) => {
    const engine = await started();
    const weightsBefore = await readerWeights(engine);
    const tensors = tf.memory().numTensors;
    const progress: string[] = [];
    const r = await engine.infra.dataParallel({ workers, model, trace: true }, (p) => progress.push(`${p.phase}${p.worker ?? ''}`));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(await readerWeights(engine)).toEqual(weightsBefore);

    expect(r.model).toBe(model);
    expect(r.workers).toBe(workers);
    expect(r.parameters).toBe(parameterCount(r.config));
    if (model === 'reader') expect(r.config.width).toBe(tiny.width);
    expect(r.equal).toBe(true);
    expect(r.gradient.relative).toBeLessThan(1e-5);
    expect(r.update.relative).toBeLessThan(1e-3);
    expect(r.parallelLoss).toBeCloseTo(r.singleLoss, 5);
    expect(r.ring.totalBytes).toBe(2 * (workers - 1) * r.parameters * 4);
    expect(r.ring.messages).toHaveLength(2 * workers * (workers - 1));
    expect(progress).toEqual([...Array.from({ length: workers }, (_, k) => `worker${k}`), 'single', 'all-reduce', 'update']);
  });

  it('refuses a bad number of workers where it is given', async () => {
    const engine = await started();
    await expect(engine.infra.dataParallel({ workers: 0 })).rejects.toThrow(/from 1 to 8/);
    await expect(engine.infra.dataParallel({ workers: 2.5 })).rejects.toThrow(/whole number/);
  });
});

describe('exportForPyTorch()', () => {
  const script = readFileSync('scripts/torch/train_gpt_lab.py', 'utf8');

  it('packs the checkpoint (with its validation loss), config, text, script and README into one tar', async () => {
    const engine = await started();
    const weights = await readerWeights(engine);
    const tensors = tf.memory().numTensors;
    const r = await engine.infra.exportForPyTorch({ script });
    expect(tf.memory().numTensors).toBe(tensors);
    const entries = readTar(r.bytes);
    const files = new Map(entries.filter((e) => e.type === '0').map((e) => [e.name.replace(/^gpt-lab-export\//, ''), e.data]));
    expect([...files.keys()].sort()).toEqual(['README.txt', 'config.json', 'model.safetensors', 'train.txt', 'train_gpt_lab.py']);
    expect(r.files.map((f) => [f.name, f.bytes])).toEqual([...files].map(([n, d]) => [n, d.length]));

    const ckpt = readCheckpoint(files.get('model.safetensors')!);
    expect(ckpt.step).toBe(r.step);
    expect(ckpt.valLoss).toBe(r.valLoss);
    expect(r.valLoss).toBeGreaterThan(0);
    expect(r.valLoss).toBeLessThan(Math.log(ckpt.config.vocabSize) + 1);
    for (const [name, values] of weights) expect(Array.from(ckpt.weights.get(name)!.data)).toEqual(values);

    const config = JSON.parse(decode(files.get('config.json')!)) as { hyperparameters: Hyperparameters; val_loss: number; step: number };
    expect(config.hyperparameters.batchSize).toBe(TEST_ENGINE_OPTIONS.continueTraining!.batchSize);
    expect(config.hyperparameters.vocabSize).toBe(ckpt.config.vocabSize);
    expect(config.val_loss).toBe(r.valLoss);
    expect(decode(files.get('train.txt')!)).toBe(text);
    expect(decode(files.get('train_gpt_lab.py')!)).toBe(script);
    expect(decode(files.get('README.txt')!)).toMatch(/torchrun --standalone --nproc_per_node 4 train_gpt_lab\.py/);
  });

  it('refuses an export without the script', async () => {
    const engine = await started();
    await expect(engine.infra.exportForPyTorch({ script: '  ' })).rejects.toThrow(/script/);
  });
});
