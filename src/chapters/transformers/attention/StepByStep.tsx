import { useId, useState } from 'react';
import type { AttentionView } from '../../../engine/jobs/inspect';
import { formatValue, Heatmap } from '../../../ui/Heatmap';
import { nameChar, ScrollBox, showChar } from '../shared';

/** Cell size for a matrix `n` cells wide in about `px` pixels, within [lo, hi]. */
export function cellFor(n: number, px: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, Math.floor(px / Math.max(1, n))));
}

function pos(chars: readonly string[], i: number): string {
  return `position ${i} ${nameChar(chars[i])}`;
}

/**
 * One head of one layer, for the prompt, in the order the model computes it: the LayerNorm'd input,
 * q, k and v, the scaled scores, the causal mask and softmax, and the weighted sum of the values;
 * then one query position followed through in numbers.
 */
export function StepByStep({ a }: { a: AttentionView }) {
  const { T, C, headSize: hs, chars } = a;
  const labels = chars.map(showChar);
  const sq = cellFor(T, 420, 4, 24);
  const pickId = useId();
  const [query, setQuery] = useState<number | null>(null);
  const i = query != null && query < T ? query : T - 1;
  const sqrtHs = Math.sqrt(hs);
  const row = Array.from({ length: i + 1 }, (_, j) => ({
    j,
    score: a.scores[i * T + j],
    p: a.probs[i * T + j],
  }));
  const maxScore = Math.max(...row.map((r) => r.score));
  const expSum = row.reduce((s, r) => s + Math.exp(r.score - maxScore), 0);
  const shown = Math.min(hs, 6);
  const headName = `layer ${a.layer + 1}, head ${a.head + 1}`;

  return (
    <ol className="tf-steps">
      <li>
        <h3>The input to {headName}</h3>
        <p>
          Each of the {T} positions arrives as a row of {C} numbers: the residual stream after{' '}
          {a.layer === 0 ? 'the embeddings' : `${a.layer} block${a.layer === 1 ? '' : 's'}`}, normalised by this layer’s
          LayerNorm (<code>ln_1</code>). Blue is positive, orange negative.
        </p>
        <Heatmap
          label={`Input rows of ${headName}, after ln_1`}
          rows={T}
          cols={C}
          values={a.input}
          scale="diverging"
          rowLabels={labels}
          cell={cellFor(C, 560, 2, 12)}
          describe={(r, c, v) => `${pos(chars, r)}, channel ${c}: ${formatValue(v)}`}
          data={{ testid: 'step-input' }}
        />
      </li>
      <li>
        <h3>Queries, keys and values</h3>
        <p>
          One matrix product (<code>c_attn</code>, {C} → {3 * C}) turns each row into a query, a key and a value for every
          head; this head’s share is {hs} numbers of each. The query says what a position is looking for, the key what it
          offers to others, the value what it passes on when chosen.
        </p>
        <div className="tf-trio">
          {(['q', 'k', 'v'] as const).map((name) => (
            <Heatmap
              key={name}
              label={`${name === 'q' ? 'Queries' : name === 'k' ? 'Keys' : 'Values'} of ${headName}`}
              rows={T}
              cols={hs}
              values={a[name]}
              scale="diverging"
              rowLabels={labels}
              cell={cellFor(hs, 190, 3, 12)}
              describe={(r, c, v) => `${name}, ${pos(chars, r)}, number ${c}: ${formatValue(v)}`}
              data={{ testid: `step-${name}` }}
            />
          ))}
        </div>
      </li>
      <li>
        <h3>Scores, and the causal mask</h3>
        <p>
          Every query meets every key in a dot product, divided by √{hs} = {sqrtHs.toFixed(2)} so that the scores do not
          grow with the head size [1]: <code>scores = q·kᵀ / √{hs}</code>, a {T} × {T} table. A position may not look at
          the future, so the cells above the diagonal (hatched) are set to −∞ before the softmax.
        </p>
        <Heatmap
          label={`Scores q·kᵀ/√${hs} of ${headName}, with the causal mask`}
          rows={T}
          cols={T}
          values={a.scores}
          scale="diverging"
          mask="upper"
          rowLabels={labels}
          colLabels={labels}
          cell={sq}
          describe={(r, c, v) =>
            c > r ? `Masked: ${pos(chars, c)} comes after ${pos(chars, r)}.` : `Query ${pos(chars, r)} · key ${pos(chars, c)} / √${hs} = ${formatValue(v)}`
          }
          data={{ testid: 'step-scores' }}
        />
      </li>
      <li>
        <h3>Softmax: attention weights</h3>
        <p>
          Each row goes through a softmax: <code>exp(score)</code> divided by the row’s sum. Every row now adds up to 1,
          and the masked cells are exactly 0.
        </p>
        <Heatmap
          label={`Attention probabilities of ${headName}, step by step`}
          rows={T}
          cols={T}
          values={a.probs}
          max={1}
          mask="upper"
          rowLabels={labels}
          colLabels={labels}
          cell={sq}
          describe={(r, c, v) =>
            c > r ? `Masked: ${pos(chars, c)} comes after ${pos(chars, r)}.` : `${pos(chars, r)} attends to ${pos(chars, c)} with weight ${formatValue(v)}`
          }
          data={{ testid: 'step-probs', layer: a.layer, head: a.head }}
        />
      </li>
      <li>
        <h3>The weighted sum</h3>
        <p>
          Each position’s output is the average of the values, weighted by its row of probabilities:{' '}
          <code>out = probs · v</code>, {T} × {hs}. The heads’ outputs are put side by side ({a.heads} × {hs} = {C}) and mixed
          by one more matrix (<code>c_proj</code>) before being added to the residual stream.
        </p>
        <Heatmap
          label={`Weighted sum probs·v of ${headName}`}
          rows={T}
          cols={hs}
          values={a.weighted}
          scale="diverging"
          rowLabels={labels}
          cell={cellFor(hs, 190, 3, 12)}
          describe={(r, c, v) => `Output of ${pos(chars, r)}, number ${c}: ${formatValue(v)}`}
          data={{ testid: 'step-weighted' }}
        />
      </li>
      <li>
        <h3>One position, in numbers</h3>
        <div className="tf-row">
          <label htmlFor={pickId}>Query position</label>
          <select id={pickId} value={i} onChange={(e) => setQuery(Number(e.target.value))} className="tf-narrow">
            {chars.map((c, k) => (
              <option key={k} value={k}>
                {k}: {showChar(c)}
              </option>
            ))}
          </select>
        </div>
        <ScrollBox label="One query position, in numbers">
          <table className="tf-table tf-numbers" data-testid="query-row" data-query={i}>
            <caption>
              Query {pos(chars, i)} against every key it may see
            </caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">q·k / √{hs}</th>
                <th scope="col">exp(score − max)</th>
                <th scope="col">Weight</th>
              </tr>
            </thead>
            <tbody>
              {row.map((r) => (
                <tr key={r.j}>
                  <th scope="row">
                    {r.j} {nameChar(chars[r.j])}
                  </th>
                  <td data-value={r.score}>{formatValue(r.score)}</td>
                  <td>{formatValue(Math.exp(r.score - maxScore))}</td>
                  <td data-value={r.p}>{formatValue(r.p)}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">Sum</th>
                <td />
                <td>{formatValue(expSum)}</td>
                <td data-value={row.reduce((s, r) => s + r.p, 0)}>{formatValue(row.reduce((s, r) => s + r.p, 0))}</td>
              </tr>
            </tfoot>
          </table>
        </ScrollBox>
        <p>
          Its output, the first {shown} of {hs} numbers: [
          {Array.from({ length: shown }, (_, d) => formatValue(a.weighted[i * hs + d])).join(', ')}
          {hs > shown ? ', …' : ''}] = Σ<sub>j</sub> weight<sub>j</sub> · v<sub>j</sub>.
        </p>
      </li>
    </ol>
  );
}
