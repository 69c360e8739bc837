import { useId, useMemo, useState } from 'react';
import { useEngine } from '../../app/store';
import type { EmbeddingsView } from '../../engine/jobs/inspect';
import { Heatmap } from '../../ui/Heatmap';
import { EngineWaiting, ErrorLine, nameChar, showChar, StepNote, useEngineCall } from './shared';

/**
 * Embeddings: the rows of wte projected on their two principal components (a scatter of the
 * characters), each character's nearest neighbours by cosine similarity, and how similar the
 * position embeddings are to each other.
 */

type Kind = 'lower' | 'upper' | 'digit' | 'space' | 'punct';

function kindOf(c: string): Kind {
  if (/\s/u.test(c)) return 'space';
  if (/\p{Ll}/u.test(c)) return 'lower';
  if (/\p{Lu}/u.test(c)) return 'upper';
  if (/\p{Nd}/u.test(c)) return 'digit';
  return 'punct';
}

const KIND_NAMES: Record<Kind, string> = {
  lower: 'lower-case letters',
  upper: 'capitals',
  digit: 'digits',
  space: 'spaces and new lines',
  punct: 'punctuation and other signs',
};

const W = 640;
const H = 420;
const PAD = 24;

export function Embeddings() {
  const api = useEngine();
  const call = useEngineCall<EmbeddingsView & { step: number }>();
  const [picked, setPicked] = useState<number | null>(null);
  const selectId = useId();
  const e = call.result;
  const load = () => call.run((a) => a.inspect.embeddings());

  const points = useMemo(() => {
    if (!e) return [];
    let minX = Infinity;
    let maxX = -Infinity;
    let minY = Infinity;
    let maxY = -Infinity;
    for (let i = 0; i < e.V; i++) {
      minX = Math.min(minX, e.tokenXY[2 * i]);
      maxX = Math.max(maxX, e.tokenXY[2 * i]);
      minY = Math.min(minY, e.tokenXY[2 * i + 1]);
      maxY = Math.max(maxY, e.tokenXY[2 * i + 1]);
    }
    const sx = (W - 2 * PAD) / (maxX - minX || 1);
    const sy = (H - 2 * PAD) / (maxY - minY || 1);
    return e.vocabulary.map((c, i) => ({
      i,
      c,
      kind: kindOf(c),
      x: PAD + (e.tokenXY[2 * i] - minX) * sx,
      y: H - PAD - (e.tokenXY[2 * i + 1] - minY) * sy,
    }));
  }, [e]);

  const sel = e && picked != null && picked < e.V ? picked : e ? Math.max(0, e.vocabulary.indexOf('e')) : 0;
  const near = e ? Array.from({ length: e.n }, (_, r) => ({ id: e.neighbours[sel * e.n + r], sim: e.neighbourSimilarity[sel * e.n + r] })) : [];
  const nearSet = new Set(near.map((n) => n.id));
  const cell = e ? Math.max(2, Math.floor(384 / e.P)) : 4;

  return (
    <div className="tf-widget" data-testid="embeddings-widget">
      <div className="button-row">
        <button type="button" className="primary" onClick={load} disabled={!api || call.busy}>
          {e ? 'Look again' : 'Show the embeddings'}
        </button>
        {call.busy ? <span className="busy-note">Reading the weights…</span> : null}
      </div>
      {!api ? <EngineWaiting /> : null}
      <ErrorLine error={call.error} />
      {e ? (
        <>
          <StepNote step={e.step} onRefresh={load} busy={call.busy} />
          <figure className="tf-figure">
            <svg
              className="tf-scatter"
              viewBox={`0 0 ${W} ${H}`}
              role="img"
              aria-label={`The ${e.V} character embeddings projected on their two main directions, which hold ${(100 * e.tokenExplained[0]).toFixed(0)}% and ${(100 * e.tokenExplained[1]).toFixed(0)}% of their variance.`}
            >
              <line x1={PAD} y1={H - PAD} x2={W - PAD} y2={H - PAD} className="tf-axis" />
              <line x1={PAD} y1={PAD} x2={PAD} y2={H - PAD} className="tf-axis" />
              {points.map((p) => (
                <text
                  key={p.i}
                  x={p.x}
                  y={p.y}
                  className={`tf-pt tf-pt-${p.kind}${p.i === sel ? ' tf-pt-sel' : nearSet.has(p.i) ? ' tf-pt-near' : ''}`}
                  textAnchor="middle"
                  dominantBaseline="central"
                  onClick={() => setPicked(p.i)}
                >
                  {showChar(p.c)}
                </text>
              ))}
            </svg>
            <figcaption>
              Each character at its coordinates on the first two principal components of the token embedding matrix
              (horizontal: {(100 * e.tokenExplained[0]).toFixed(1)}% of the variance, vertical:{' '}
              {(100 * e.tokenExplained[1]).toFixed(1)}%). Colours:{' '}
              {(Object.keys(KIND_NAMES) as Kind[]).map((k, i) => (
                <span key={k}>
                  {i > 0 ? ', ' : ''}
                  <span className={`tf-key tf-pt-${k}`}>■</span> {KIND_NAMES[k]}
                </span>
              ))}
              . Click a character, or pick one below, to see its nearest neighbours.
            </figcaption>
          </figure>
          <div className="tf-row">
            <label htmlFor={selectId}>Character</label>
            <select id={selectId} value={sel} onChange={(ev) => setPicked(Number(ev.target.value))} className="tf-narrow">
              {e.vocabulary.map((c, i) => (
                <option key={i} value={i}>
                  {showChar(c)} (id {i})
                </option>
              ))}
            </select>
          </div>
          <table className="tf-table" data-testid="neighbours">
            <caption>
              Nearest to {nameChar(e.vocabulary[sel])} by cosine similarity of their {e.C}-number embeddings
            </caption>
            <thead>
              <tr>
                <th scope="col">Character</th>
                <th scope="col">Cosine similarity</th>
              </tr>
            </thead>
            <tbody>
              {near.map((n) => (
                <tr key={n.id}>
                  <td>{nameChar(e.vocabulary[n.id])}</td>
                  <td data-value={n.sim}>{n.sim.toFixed(3)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Position embeddings</h3>
          <Heatmap
            label="Cosine similarity between every two position embeddings"
            rows={e.P}
            cols={e.P}
            values={e.positionSimilarity}
            scale="diverging"
            max={1}
            cell={cell}
            describe={(r, c, v) => `Positions ${r} and ${c}: cosine similarity ${v.toFixed(3)}.`}
            data={{ testid: 'position-similarity' }}
          />
        </>
      ) : null}
    </div>
  );
}
