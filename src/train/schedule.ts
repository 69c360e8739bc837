import type { TrainConfig } from '../gpt/config';

/**
 * The learning rate at (0-based) step `it`: linear warmup to `learningRate` over `warmupSteps`,
 * then a cosine from `learningRate` down to `minLearningRate` at `steps`, and the floor after that.
 */
export function learningRateAt(it: number, c: Pick<TrainConfig, 'learningRate' | 'minLearningRate' | 'warmupSteps' | 'steps'>): number {
  if (it < c.warmupSteps) return (c.learningRate * (it + 1)) / (c.warmupSteps + 1);
  if (it >= c.steps) return c.minLearningRate;
  const ratio = (it - c.warmupSteps) / Math.max(1, c.steps - c.warmupSteps);
  const coeff = 0.5 * (1 + Math.cos(Math.PI * ratio)); // 1 → 0
  return c.minLearningRate + coeff * (c.learningRate - c.minLearningRate);
}
