import type { ModelConfig } from '../config';
import { parameterShapes } from '../shapes';

/**
 * Where each parameter lies in the fast path's flat buffer θ: in the order of `parameterShapes`
 * (nanoGPT's registration order, the same order as the reference `Params` map), each one row-major.
 * That order puts every pair the backward pass produces together next to each other:
 * wte then wpe, each LayerNorm's weight then bias, each Linear's weight then bias.
 */
export interface FlatLayout {
  /** Parameters in buffer order. */
  entries: { name: string; shape: number[]; offset: number; size: number }[];
  offsets: Map<string, number>;
  /** Total number of values (P). */
  size: number;
  /** 1 where AdamW applies weight decay (2-D weights), 0 elsewhere: P values. */
  decayMask: Float32Array;
}

export function flatLayout(config: ModelConfig): FlatLayout {
  const entries: FlatLayout['entries'] = [];
  const offsets = new Map<string, number>();
  let offset = 0;
  for (const [name, shape] of parameterShapes(config)) {
    const size = shape.reduce((a, b) => a * b, 1);
    entries.push({ name, shape, offset, size });
    offsets.set(name, offset);
    offset += size;
  }
  const decayMask = new Float32Array(offset);
  for (const e of entries) if (e.shape.length >= 2) decayMask.fill(1, e.offset, e.offset + e.size);
  return { entries, offsets, size: offset, decayMask };
}
