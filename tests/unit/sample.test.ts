import { describe, it, expect } from 'vitest';
import { drawFrom, nextTokenDistribution } from '../../src/gpt/sample';
import { learningRateAt } from '../../src/train/schedule';
import { Rng, mixSeed } from '../../src/gpt/random';

const sum = (p: ArrayLike<number>): number => Array.from(p).reduce((a, b) => a + b, 0);
const entropy = (p: ArrayLike<number>): number => -Array.from(p).reduce((h, x) => (x > 0 ? h + x * Math.log(x) : h), 0);
const nonZero = (p: ArrayLike<number>): number[] => Array.from(p).flatMap((x, i) => (x > 0 ? [i] : []));

/** Logits of 89 tokens (the Moby-Dick vocabulary size), seeded. */
function randomLogits(seed: number, V = 89): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: V }, () => rng.normal() * 3);
}

/** An Rng whose every draw is `u`. */
class FixedRng extends Rng {
  constructor(private readonly u: number) {
    super(0);
  }
  override next(): number {
    return this.u;
  }
}

// ---------------------------------------------------------------------------------------------
// nextTokenDistribution
// ---------------------------------------------------------------------------------------------

describe('nextTokenDistribution', () => {
  it('is the softmax of the logits at temperature 1', () => {
    const p = nextTokenDistribution([0, Math.log(3)]);
    expect(p).toBeInstanceOf(Float64Array);
    expect(p[0]).toBeCloseTo(0.25, 12);
    expect(p[1]).toBeCloseTo(0.75, 12);
  });

  it('is stable for huge logits (no overflow to NaN)', () => {
    const p = nextTokenDistribution([1000, 1001]);
    expect(p[0]).toBeCloseTo(1 / (1 + Math.E), 12);
    expect(p[1]).toBeCloseTo(Math.E / (1 + Math.E), 12);
  });

  it.each<[string, object]>([
    ['defaults', {}],
    ['temperature 0.7', { temperature: 0.7 }],
    ['temperature 3', { temperature: 3 }],
    ['topK 5', { topK: 5 }],
    ['topP 0.9', { topP: 0.9 }],
    ['topK 10, topP 0.5, temperature 0.8', { topK: 10, topP: 0.5, temperature: 0.8 }],
    ['temperature 0', { temperature: 0 }],
  ])('sums to 1 with no negative or NaN entry (%s)', (_desc, opts) => {
    for (const seed of [1, 2, 3]) {
      const p = nextTokenDistribution(randomLogits(seed), opts);
      expect(p).toHaveLength(89);
      expect(Math.abs(sum(p) - 1)).toBeLessThan(1e-12);
      expect(Array.from(p).every((x) => x >= 0 && !Number.isNaN(x))).toBe(true);
    }
  });

  describe('temperature', () => {
    it('0 is greedy: all mass on the largest logit', () => {
      expect(Array.from(nextTokenDistribution([1, 3, 2], { temperature: 0 }))).toEqual([0, 1, 0]);
    });

    it('0 breaks a tie in favour of the first largest logit', () => {
      expect(Array.from(nextTokenDistribution([3, 1, 3], { temperature: 0 }))).toEqual([1, 0, 0]);
    });

    it('a negative temperature is greedy too', () => {
      expect(Array.from(nextTokenDistribution([-5, -1, -2], { temperature: -1 }))).toEqual([0, 1, 0]);
    });

    it('greedy picks the same token as the most likely one at temperature 1', () => {
      const logits = randomLogits(7);
      const p = nextTokenDistribution(logits);
      const argmax = Array.from(p).indexOf(Math.max(...p));
      expect(nonZero(nextTokenDistribution(logits, { temperature: 0 }))).toEqual([argmax]);
    });

    it('divides the logits: temperature 2 on 2·x equals temperature 1 on x', () => {
      const logits = randomLogits(4);
      const a = nextTokenDistribution(logits);
      const b = nextTokenDistribution(logits.map((x) => 2 * x), { temperature: 2 });
      for (let i = 0; i < logits.length; i++) expect(b[i]).toBeCloseTo(a[i], 6);
    });

    it('below 1 sharpens, above 1 flattens: entropy increases with temperature', () => {
      const logits = randomLogits(11);
      const h = [0.25, 0.5, 1, 2, 4].map((temperature) => entropy(nextTokenDistribution(logits, { temperature })));
      for (let i = 1; i < h.length; i++) expect(h[i]).toBeGreaterThan(h[i - 1]);
      expect(h[h.length - 1]).toBeLessThan(Math.log(89));
    });

    it('a very high temperature is nearly uniform', () => {
      const p = nextTokenDistribution(randomLogits(5), { temperature: 1e6 });
      for (const x of p) expect(Math.abs(x - 1 / 89)).toBeLessThan(1e-6);
    });

    it('a very low temperature is nearly greedy', () => {
      const p = nextTokenDistribution([1, 2, 1.5], { temperature: 0.01 });
      expect(p[1]).toBeGreaterThan(0.999999);
    });
  });

  describe('topK', () => {
    it.each([1, 2, 3, 10, 50])('keeps exactly %i non-zero, the most likely ones', (k) => {
      const logits = randomLogits(21);
      const p = nextTokenDistribution(logits, { topK: k });
      const kept = nonZero(p);
      expect(kept).toHaveLength(k);
      const ranked = Array.from(logits, (x, i) => [x, i] as const)
        .sort((a, b) => b[0] - a[0])
        .slice(0, k)
        .map(([, i]) => i)
        .sort((a, b) => a - b);
      expect(kept).toEqual(ranked);
    });

    it('renormalises the kept probabilities in proportion', () => {
      // probabilities ∝ 1, 2, 3, 4 → top 2 are 3/7 and 4/7
      const p = nextTokenDistribution([0, Math.log(2), Math.log(3), Math.log(4)], { topK: 2 });
      expect(p[0]).toBe(0);
      expect(p[1]).toBe(0);
      expect(p[2]).toBeCloseTo(3 / 7, 12);
      expect(p[3]).toBeCloseTo(4 / 7, 12);
    });

    it('0, undefined or more than V keeps all', () => {
      const logits = randomLogits(3);
      expect(nonZero(nextTokenDistribution(logits, { topK: 0 }))).toHaveLength(89);
      expect(nonZero(nextTokenDistribution(logits, {}))).toHaveLength(89);
      expect(nonZero(nextTokenDistribution(logits, { topK: 1000 }))).toHaveLength(89);
    });

    it('a fractional k rounds down', () => {
      expect(nonZero(nextTokenDistribution(randomLogits(3), { topK: 2.9 }))).toHaveLength(2);
    });
  });

  describe('topP', () => {
    // probabilities 0.15, 0.5, 0.05, 0.3 (shuffled so that the order has to be found)
    const logits = [Math.log(0.15), Math.log(0.5), Math.log(0.05), Math.log(0.3)];

    it('keeps the smallest prefix (by probability) reaching p: 0.75 → {0.5, 0.3}', () => {
      const p = nextTokenDistribution(logits, { topP: 0.75 });
      expect(p[0]).toBe(0);
      expect(p[1]).toBeCloseTo(0.5 / 0.8, 12); // 0.625
      expect(p[2]).toBe(0);
      expect(p[3]).toBeCloseTo(0.3 / 0.8, 12); // 0.375
    });

    it('0.85 → {0.5, 0.3, 0.15}', () => {
      const p = nextTokenDistribution(logits, { topP: 0.85 });
      expect(p[0]).toBeCloseTo(0.15 / 0.95, 12);
      expect(p[1]).toBeCloseTo(0.5 / 0.95, 12);
      expect(p[2]).toBe(0);
      expect(p[3]).toBeCloseTo(0.3 / 0.95, 12);
    });

    it('0.4 → only the most likely token', () => {
      expect(Array.from(nextTokenDistribution(logits, { topP: 0.4 }))).toEqual([0, 1, 0, 0]);
    });

    it('0.99 and 1 keep all four', () => {
      expect(nonZero(nextTokenDistribution(logits, { topP: 0.99 }))).toEqual([0, 1, 2, 3]);
      const all = nextTokenDistribution(logits, { topP: 1 });
      expect(all[2]).toBeCloseTo(0.05, 12);
    });

    it('reaching p exactly is enough (uniform 4: p = 0.5 keeps 2)', () => {
      expect(Array.from(nextTokenDistribution([0, 0, 0, 0], { topP: 0.5 }))).toEqual([0.5, 0.5, 0, 0]);
    });

    it('applies within topK: topK 2 with topP 0.99 keeps 2', () => {
      const p = nextTokenDistribution(logits, { topK: 2, topP: 0.99 });
      expect(nonZero(p)).toEqual([1, 3]);
    });

    it('applies after temperature', () => {
      // at temperature 0.5 the probabilities ∝ squares: 0.0225, 0.25, 0.0025, 0.09 → 0.25/0.365 ≈ 0.685 ≥ 0.6
      expect(nonZero(nextTokenDistribution(logits, { temperature: 0.5, topP: 0.6 }))).toEqual([1]);
      // at temperature 1 the top token alone (0.5) does not reach 0.6
      expect(nonZero(nextTokenDistribution(logits, { topP: 0.6 }))).toEqual([1, 3]);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// drawFrom
// ---------------------------------------------------------------------------------------------

describe('drawFrom', () => {
  const probs = [0.1, 0.2, 0.3, 0.4];

  it('is reproducible with the same seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const drawsA = Array.from({ length: 200 }, () => drawFrom(probs, a));
    const drawsB = Array.from({ length: 200 }, () => drawFrom(probs, b));
    expect(drawsA).toEqual(drawsB);
    const c = new Rng(43);
    expect(Array.from({ length: 200 }, () => drawFrom(probs, c))).not.toEqual(drawsA);
  });

  it('matches the probabilities within 0.01 over 20,000 draws', () => {
    const rng = new Rng(2024);
    const counts = [0, 0, 0, 0];
    const n = 20_000;
    for (let i = 0; i < n; i++) counts[drawFrom(probs, rng)]++;
    counts.forEach((c, i) => expect(Math.abs(c / n - probs[i])).toBeLessThan(0.01));
  });

  it('matches a top-k distribution and never draws a filtered token', () => {
    const p = nextTokenDistribution(randomLogits(9), { topK: 5 });
    const rng = new Rng(7);
    const counts = new Array<number>(p.length).fill(0);
    const n = 20_000;
    for (let i = 0; i < n; i++) counts[drawFrom(p, rng)]++;
    counts.forEach((c, i) => {
      if (p[i] === 0) expect(c).toBe(0);
      else expect(Math.abs(c / n - p[i])).toBeLessThan(0.01);
    });
  });

  it('maps the uniform draw onto the cumulative probabilities', () => {
    expect(drawFrom(probs, new FixedRng(0))).toBe(0);
    expect(drawFrom(probs, new FixedRng(0.0999))).toBe(0);
    expect(drawFrom(probs, new FixedRng(0.1001))).toBe(1);
    expect(drawFrom(probs, new FixedRng(0.55))).toBe(2);
    expect(drawFrom(probs, new FixedRng(0.61))).toBe(3);
    expect(drawFrom(probs, new FixedRng(0.999999))).toBe(3);
  });

  it('never returns a zero-probability token, even at u = 0', () => {
    expect(drawFrom([0, 0, 1, 0], new FixedRng(0))).toBe(2);
  });

  it('falls back to the last non-zero token when rounding leaves the sum short of u', () => {
    expect(drawFrom([0.3, 0.6, 0, 0], new FixedRng(0.95))).toBe(1);
  });

  it('a one-hot (greedy) distribution always gives its token', () => {
    const rng = new Rng(5);
    const p = nextTokenDistribution([0.1, 0.9, 0.3], { temperature: 0 });
    for (let i = 0; i < 100; i++) expect(drawFrom(p, rng)).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// learningRateAt
// ---------------------------------------------------------------------------------------------

describe('learningRateAt (baby: lr 1e-3, minLr 1e-4, warmup 100, steps 2000)', () => {
  const c = { learningRate: 1e-3, minLearningRate: 1e-4, warmupSteps: 100, steps: 2000 };

  it('warms up linearly: step 0 is lr·1/101, step 99 is lr·100/101', () => {
    expect(learningRateAt(0, c)).toBeCloseTo(1e-3 / 101, 15);
    expect(learningRateAt(49, c)).toBeCloseTo((1e-3 * 50) / 101, 15);
    expect(learningRateAt(99, c)).toBeCloseTo((1e-3 * 100) / 101, 15);
  });

  it('reaches the peak at step 100', () => {
    expect(learningRateAt(100, c)).toBeCloseTo(1e-3, 15);
  });

  it('is (lr + minLr)/2 at the midpoint of the cosine, step 1050', () => {
    expect(learningRateAt(1050, c)).toBeCloseTo((1e-3 + 1e-4) / 2, 15);
  });

  it('is on the cosine a quarter of the way: minLr + (lr - minLr)·(1 + cos(π/4))/2', () => {
    expect(learningRateAt(575, c)).toBeCloseTo(1e-4 + 9e-4 * 0.5 * (1 + Math.cos(Math.PI / 4)), 15);
  });

  it('is minLr at steps and after', () => {
    expect(learningRateAt(2000, c)).toBe(1e-4);
    expect(learningRateAt(2001, c)).toBe(1e-4);
    expect(learningRateAt(100_000, c)).toBe(1e-4);
  });

  it('is just above minLr one step before the end', () => {
    const lr = learningRateAt(1999, c);
    expect(lr).toBeGreaterThan(1e-4);
    expect(lr).toBeLessThan(1e-4 + 1e-9);
  });

  it('increases strictly through warmup and decreases strictly after it until steps', () => {
    for (let it = 0; it < 100; it++) expect(learningRateAt(it + 1, c)).toBeGreaterThan(learningRateAt(it, c));
    for (let it = 100; it < 2000; it++) expect(learningRateAt(it + 1, c)).toBeLessThan(learningRateAt(it, c));
  });

  it('never leaves [0, lr]', () => {
    for (let it = 0; it <= 2100; it++) {
      const lr = learningRateAt(it, c);
      expect(lr).toBeGreaterThan(0);
      expect(lr).toBeLessThanOrEqual(1e-3 + 1e-18);
    }
  });

  it('without warmup starts at the peak', () => {
    expect(learningRateAt(0, { ...c, warmupSteps: 0 })).toBeCloseTo(1e-3, 15);
  });

  it('with warmup equal to steps, goes straight from the end of warmup to the floor', () => {
    const d = { ...c, warmupSteps: 2000 };
    expect(learningRateAt(1999, d)).toBeCloseTo((1e-3 * 2000) / 2001, 15);
    expect(learningRateAt(2000, d)).toBe(1e-4);
  });
});

// ---------------------------------------------------------------------------------------------
// Rng
// ---------------------------------------------------------------------------------------------

/** The published mulberry32, written independently of src/gpt/random.ts. */
function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('Rng', () => {
  it.each([0, 1, 42, 1337, 2 ** 31, 2 ** 32 - 1])('seed %i gives the reference mulberry32 stream', (seed) => {
    const rng = new Rng(seed);
    const ref = mulberry32(seed);
    for (let i = 0; i < 1000; i++) expect(rng.next()).toBe(ref());
  });

  it('the same seed gives the same stream; another seed another', () => {
    const a = new Rng(123);
    const b = new Rng(123);
    const c = new Rng(124);
    const sa = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 100 }, () => c.next())).not.toEqual(sa);
  });

  it('next() stays in [0, 1)', () => {
    const rng = new Rng(9);
    for (let i = 0; i < 10_000; i++) {
      const u = rng.next();
      expect(u >= 0 && u < 1).toBe(true);
    }
  });

  it('saving and restoring the state continues the stream identically', () => {
    const rng = new Rng(77);
    for (let i = 0; i < 10; i++) rng.next();
    const saved = rng.getState();
    expect(Number.isInteger(saved) && saved >= 0 && saved < 2 ** 32).toBe(true);
    const after = [rng.next(), rng.normal(), rng.int(1000), rng.next()];

    rng.setState(saved);
    expect([rng.next(), rng.normal(), rng.int(1000), rng.next()]).toEqual(after);

    const fresh = new Rng(0);
    fresh.setState(saved);
    expect([fresh.next(), fresh.normal(), fresh.int(1000), fresh.next()]).toEqual(after);
  });

  it('the state survives a JSON round trip (as a resume record stores it)', () => {
    const rng = new Rng(5);
    rng.next();
    const restored = new Rng(0);
    restored.setState(JSON.parse(JSON.stringify({ s: rng.getState() })).s as number);
    expect(restored.next()).toBe(rng.next());
  });

  it('reduces seeds to 32 bits: -1 is 2^32 - 1', () => {
    expect(new Rng(-1).next()).toBe(new Rng(2 ** 32 - 1).next());
    expect(new Rng(-1).getState()).toBe(2 ** 32 - 1);
  });

  it('int(n) is a whole number in [0, n) and hits every value', () => {
    const rng = new Rng(3);
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 7000; i++) {
      const k = rng.int(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
      counts[k]++;
    }
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(120);
  });

  it('normal() has mean ≈ 0 and standard deviation ≈ 1 over 50,000 draws', () => {
    const rng = new Rng(31337);
    const n = 50_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.normal();
      expect(Number.isFinite(x)).toBe(true);
      s += x;
      s2 += x * x;
    }
    const mean = s / n;
    const std = Math.sqrt(s2 / n - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(std - 1)).toBeLessThan(0.02);
  });

  it('normal() has about 68% of its draws within one standard deviation', () => {
    const rng = new Rng(8);
    let inside = 0;
    for (let i = 0; i < 50_000; i++) if (Math.abs(rng.normal()) < 1) inside++;
    expect(Math.abs(inside / 50_000 - 0.6827)).toBeLessThan(0.01);
  });
});

describe('mixSeed', () => {
  it('is deterministic, 32-bit, and sensitive to every part and to order', () => {
    const s = mixSeed(1, 2, 3);
    expect(mixSeed(1, 2, 3)).toBe(s);
    expect(Number.isInteger(s) && s >= 0 && s < 2 ** 32).toBe(true);
    expect(mixSeed(1, 2, 4)).not.toBe(s);
    expect(mixSeed(3, 2, 1)).not.toBe(s);
    expect(mixSeed(1, 2)).not.toBe(s);
  });
});

// ---------------------------------------------------------------------------------------------
// A window padded at its end (how `generate` feeds a GPU one shape only)
// ---------------------------------------------------------------------------------------------

describe('a window padded at its end', () => {
  it('gives the logits of its last real token that the unpadded window gives', async () => {
    const tf = await import('@tensorflow/tfjs');
    const { GPT } = await import('../../src/gpt/model');
    const { resolveHyperparameters, modelConfigOf } = await import('../../src/gpt/config');
    await tf.setBackend('cpu');
    const model = GPT.create(modelConfigOf({ ...resolveHyperparameters('tiny'), vocabSize: 30 }), 3);
    const T = model.config.contextLength;
    const real = [4, 9, 1, 22, 7];
    const padded = [...real, ...Array.from({ length: T - real.length }, (_, i) => (i * 7) % 30)];
    const [plain, fixed, wrong] = tf.tidy(() => [
      model.forward(tf.tensor2d(real, [1, real.length], 'int32'), { lastOnly: true }),
      model.forward(tf.tensor2d(padded, [1, T], 'int32'), { lastOnly: true, position: real.length - 1 }),
      model.forward(tf.tensor2d(padded, [1, T], 'int32'), { lastOnly: true }),
    ]);
    const a = plain.dataSync();
    const b = fixed.dataSync();
    const c = wrong.dataSync();
    expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])))).toBeLessThan(1e-5);
    expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - c[i])))).toBeGreaterThan(1e-3); // the position matters
    expect(() => tf.tidy(() => model.forward(tf.tensor2d(padded, [1, T], 'int32'), { lastOnly: true, position: T }))).toThrow(
      /outside a window/,
    );
    tf.dispose([plain, fixed, wrong]);
    model.dispose();
  });
});
