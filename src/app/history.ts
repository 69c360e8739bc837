import type { AlignedData } from 'uplot';
import type { Metrics } from '../engine/protocol';

/**
 * The loss curve of the current run, kept as columns (one plain number array per field, which the
 * JS engine stores unboxed) rather than an array of objects. The chart reads the columns as they
 * are, without copying. Past `MAX_POINTS` the older half is thinned to every other step; points
 * that carry a validation loss are always kept.
 */
export const MAX_POINTS = 8192;

export class MetricsHistory {
  readonly step: number[] = [];
  readonly trainLoss: number[] = [];
  /** null on steps without a validation measurement (a gap the chart spans). */
  readonly valLoss: (number | null)[] = [];
  readonly learningRate: number[] = [];
  readonly tokensPerSecond: number[] = [];
  readonly elapsedSeconds: number[] = [];
  readonly numTensors: number[] = [];
  readonly numBytes: number[] = [];

  get length(): number {
    return this.step.length;
  }

  get lastStep(): number {
    return this.step.length === 0 ? -1 : this.step[this.step.length - 1];
  }

  private columns(): unknown[][] {
    return [
      this.step,
      this.trainLoss,
      this.valLoss,
      this.learningRate,
      this.tokensPerSecond,
      this.elapsedSeconds,
      this.numTensors,
      this.numBytes,
    ];
  }

  /** Adds a step. A step at or before the last one (a reset, a resume from an earlier checkpoint) first drops the points it replaces. */
  push(m: Metrics): void {
    if (m.step <= this.lastStep) this.truncateAfter(m.step - 1);
    this.step.push(m.step);
    this.trainLoss.push(m.trainLoss);
    this.valLoss.push(m.valLoss);
    this.learningRate.push(m.learningRate);
    this.tokensPerSecond.push(m.tokensPerSecond);
    this.elapsedSeconds.push(m.elapsedSeconds);
    this.numTensors.push(m.memory.numTensors);
    this.numBytes.push(m.memory.numBytes);
    if (this.length > MAX_POINTS) this.thin();
  }

  /** Keeps the points with step ≤ `step`. */
  truncateAfter(step: number): void {
    let n = this.length;
    while (n > 0 && this.step[n - 1] > step) n--;
    for (const c of this.columns()) c.length = n;
  }

  clear(): void {
    for (const c of this.columns()) c.length = 0;
  }

  /** Drops every other point of the older half, in place. */
  private thin(): void {
    const half = Math.floor(this.length / 2);
    let w = 0;
    for (let r = 0; r < this.length; r++) {
      const keep = r >= half || r % 2 === 0 || this.valLoss[r] !== null;
      if (!keep) continue;
      if (w !== r) for (const c of this.columns()) c[w] = c[r];
      w++;
    }
    for (const c of this.columns()) c.length = w;
  }

  /** The point at row `i` as the engine sent it. */
  at(i: number): Metrics {
    return {
      step: this.step[i],
      trainLoss: this.trainLoss[i],
      valLoss: this.valLoss[i],
      learningRate: this.learningRate[i],
      tokensPerSecond: this.tokensPerSecond[i],
      elapsedSeconds: this.elapsedSeconds[i],
      memory: { numTensors: this.numTensors[i], numBytes: this.numBytes[i] },
    };
  }

  toArray(): Metrics[] {
    return Array.from({ length: this.length }, (_, i) => this.at(i));
  }

  /** The chart's view: x = step, then train and validation loss (the live arrays, not copies). */
  chartData(): AlignedData {
    return [this.step, this.trainLoss, this.valLoss];
  }
}
