import * as tf from '@tensorflow/tfjs';

export interface MatmulResult {
  size: number;
  seconds: number;
  gflops: number;
}

/** Times one plain n×n · n×n product (after a warm-up run), waiting for the result. */
export async function timeSquareMatmul(n: number): Promise<MatmulResult> {
  const a = tf.randomUniform([n, n], -1, 1, 'float32', 1);
  const b = tf.randomUniform([n, n], -1, 1, 'float32', 2);
  const warm = tf.matMul(a, b);
  await warm.data();
  warm.dispose();
  const t0 = performance.now();
  const c = tf.matMul(a, b);
  await c.data();
  const seconds = (performance.now() - t0) / 1000;
  tf.dispose([a, b, c]);
  return { size: n, seconds, gflops: (2 * n ** 3) / seconds / 1e9 };
}

/**
 * The practical ceiling of the current backend: GFLOP/s of the largest plain square matmul among
 * 512, 1024 and 2048 that runs in under 2 s (DESIGN.md). Stops growing at the first size that
 * takes longer.
 */
export async function matmulCeiling(): Promise<MatmulResult & { tried: MatmulResult[] }> {
  const tried: MatmulResult[] = [];
  let best: MatmulResult | null = null;
  for (const n of [512, 1024, 2048]) {
    const r = await timeSquareMatmul(n);
    tried.push(r);
    if (r.seconds >= 2) break;
    best = r;
  }
  return { ...(best ?? tried[0]), tried };
}
