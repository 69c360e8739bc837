import * as tf from '@tensorflow/tfjs';

export interface MatmulResult {
  size: number;
  seconds: number;
  gflops: number;
}

/**
 * Waits for the queue up to `t` by reading one of its values: reading back a whole output (up to
 * 100 MB on a GPU) would be counted against the work being timed.
 */
export async function awaitOneValue(t: tf.Tensor): Promise<void> {
  const probe = tf.tidy(() => tf.slice(tf.reshape(t, [-1]), 0, 1));
  await probe.data();
  probe.dispose();
}

/**
 * Seconds of one plain n×n · n×n product (after a warm-up run). A product that takes under 50 ms is
 * repeated, queued back to back, for about 0.2 s, and each run waits for one value of its result
 * only: on a GPU, reading back a whole 2048² result (16 MB) or waiting out one dispatch would
 * otherwise be counted as matmul time.
 */
export async function timeSquareMatmul(n: number): Promise<MatmulResult> {
  const a = tf.randomUniform([n, n], -1, 1, 'float32', 1);
  const b = tf.randomUniform([n, n], -1, 1, 'float32', 2);
  const timed = async (reps: number) => {
    const t0 = performance.now();
    let c: tf.Tensor | null = null;
    for (let i = 0; i < reps; i++) {
      c?.dispose();
      c = tf.matMul(a, b);
    }
    await awaitOneValue(c!);
    c!.dispose();
    return (performance.now() - t0) / 1000 / reps;
  };
  await timed(1); // warm-up: shader compiles, buffer pools
  let seconds = await timed(1);
  if (seconds < 0.05) seconds = await timed(Math.min(200, Math.ceil(0.2 / Math.max(seconds, 1e-4))));
  tf.dispose([a, b]);
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
