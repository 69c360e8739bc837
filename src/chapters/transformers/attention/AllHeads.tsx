import { useMemo } from 'react';
import type { AttentionView } from '../../../engine/jobs/inspect';
import { formatValue, Heatmap } from '../../../ui/Heatmap';
import { nameChar } from '../shared';
import { cellFor } from './StepByStep';

/** The attention probabilities of every head in every layer, from the model's own forward pass. */
export function AllHeads({ a, onPick }: { a: AttentionView; onPick: (layer: number, head: number) => void }) {
  const { T, chars } = a;
  const cell = cellFor(T, 130, 2, 8);
  // One (T, T) slice per head, made once per answer (the heatmaps redraw when their values change).
  const maps = useMemo(
    () => a.forward.map((probs) => Array.from({ length: a.heads }, (_, h) => probs.subarray(h * T * T, (h + 1) * T * T))),
    [a.forward, a.heads, T],
  );
  return (
    <div className="tf-heads">
      {a.forward.map((_, l) => (
        <div key={l} className="tf-heads-layer">
          <h4>Layer {l + 1}</h4>
          <div className="tf-heads-row">
            {Array.from({ length: a.heads }, (_, h) => (
              <div key={h} className={`tf-head${l === a.layer && h === a.head ? ' tf-head-sel' : ''}`}>
                <p className="tf-head-name">Head {h + 1}</p>
                <Heatmap
                  label={`Layer ${l + 1}, head ${h + 1}: attention probabilities from the forward pass`}
                  rows={T}
                  cols={T}
                  values={maps[l][h]}
                  max={1}
                  mask="upper"
                  cell={cell}
                  hint=""
                  describe={(r, c, v) =>
                    c > r
                      ? `Masked: position ${c} comes after ${r}.`
                      : `Position ${r} ${nameChar(chars[r])} → position ${c} ${nameChar(chars[c])}: ${formatValue(v)}`
                  }
                  data={{ testid: 'forward-probs', layer: l, head: h }}
                  onPick={() => onPick(l, h)}
                />
              </div>
            ))}
          </div>
        </div>
      ))}
    </div>
  );
}
