import type { ProbeResult } from '../../engine/jobs/safety';
import { oddsRatio, pairName, signed } from './shared';

/**
 * The probe's gaps as horizontal bars around zero (right: the model prefers the masculine side,
 * left: the feminine), one row per pair; with `after`, a second bar per row. An SVG for the eye,
 * and the same numbers in a table for everyone (the SVG is one labelled image).
 */
export function ProbeChart({ before, after, caption }: { before: ProbeResult; after?: ProbeResult; caption: string }) {
  const rows = before.pairs.length;
  const series = after ? [before, after] : [before];
  const extent = Math.max(0.5, ...series.flatMap((s) => s.pairs.map((p) => Math.abs(p.gap))));
  const W = 640;
  const labelW = 250;
  const plotW = W - labelW - 20;
  const rowH = after ? 30 : 22;
  const top = 24;
  const H = top + rows * rowH + 28;
  const x0 = labelW + plotW / 2;
  const scale = plotW / 2 / extent;
  const ticks = niceTicks(extent);
  const summary =
    `Bias probe, gaps in nats (log P(masculine) − log P(feminine)) for ${rows} pairs: mean ${signed(before.meanGap)}` +
    (after ? `, after fine-tuning ${signed(after.meanGap)}` : '') +
    '. The table below gives every number.';
  return (
    <figure className="safety-figure">
      <svg className="probe-chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary}>
        {ticks.map((t) => (
          <g key={t}>
            <line x1={x0 + t * scale} x2={x0 + t * scale} y1={top - 6} y2={H - 24} className={t === 0 ? 'axis-zero' : 'grid'} />
            <text x={x0 + t * scale} y={H - 8} textAnchor="middle" className="tick">
              {signed(t, Number.isInteger(t) ? 0 : 1)}
            </text>
          </g>
        ))}
        <text x={x0 - 6} y={14} textAnchor="end" className="tick">
          ← feminine more likely
        </text>
        <text x={x0 + 6} y={14} className="tick">
          masculine more likely →
        </text>
        {before.pairs.map((p, i) => {
          const y = top + i * rowH;
          return (
            <g key={i}>
              <text x={labelW - 8} y={y + rowH / 2 + 4} textAnchor="end" className="label">
                {shorten(pairName(p), 34)}
              </text>
              {series.map((s, k) => {
                const gap = s.pairs[i]?.gap ?? 0;
                const barH = after ? 11 : 14;
                const by = y + (after ? 3 + k * 13 : (rowH - barH) / 2);
                return (
                  <rect
                    key={k}
                    x={Math.min(x0, x0 + gap * scale)}
                    y={by}
                    width={Math.max(1, Math.abs(gap) * scale)}
                    height={barH}
                    className={k === 0 ? 'bar-before' : 'bar-after'}
                  />
                );
              })}
            </g>
          );
        })}
      </svg>
      <figcaption>
        {caption}
        {after ? (
          <span className="legend">
            <span className="swatch bar-before" aria-hidden="true" /> before <span className="swatch bar-after" aria-hidden="true" />{' '}
            after
          </span>
        ) : null}
      </figcaption>
    </figure>
  );
}

/** The probe's numbers: each pair's two log-probabilities and the gap (and, with `after`, the gap after). */
export function ProbeTable({ before, after, testId }: { before: ProbeResult; after?: ProbeResult; testId?: string }) {
  return (
    <div className="table-scroll">
      <table className="safety-table" data-testid={testId}>
        <caption className="safety-sr-only">Bias probe: log-probabilities and gaps per pair</caption>
        <thead>
          <tr>
            <th scope="col">Masculine side</th>
            <th scope="col">Feminine side</th>
            <th scope="col">log P(m)</th>
            <th scope="col">log P(f)</th>
            <th scope="col">Gap{after ? ' before' : ''}</th>
            {after ? <th scope="col">Gap after</th> : <th scope="col">Odds m : f</th>}
          </tr>
        </thead>
        <tbody>
          {before.pairs.map((p, i) => (
            <tr key={i}>
              <td>
                {p.a.prompt}
                <mark>{p.a.continuation}</mark>
              </td>
              <td>
                {p.b.prompt}
                <mark>{p.b.continuation}</mark>
              </td>
              <td className="num">{signed(p.logProbA)}</td>
              <td className="num">{signed(p.logProbB)}</td>
              <td className="num" data-gap-before={p.gap}>
                {signed(p.gap)}
              </td>
              {after ? (
                <td className="num" data-gap-after={after.pairs[i].gap}>
                  {signed(after.pairs[i].gap)}
                </td>
              ) : (
                <td className="num">{oddsRatio(p.gap)}</td>
              )}
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row" colSpan={4}>
              Mean gap (mean |gap|), pairs leaning masculine
            </th>
            <td className="num" data-testid={testId ? `${testId}-mean` : undefined} data-value={before.meanGap}>
              {signed(before.meanGap)} ({before.meanAbsGap.toFixed(2)}), {before.favourA}/{before.pairs.length}
            </td>
            {after ? (
              <td className="num" data-testid={testId ? `${testId}-mean-after` : undefined} data-value={after.meanGap}>
                {signed(after.meanGap)} ({after.meanAbsGap.toFixed(2)}), {after.favourA}/{after.pairs.length}
              </td>
            ) : (
              <td className="num">{oddsRatio(before.meanGap)}</td>
            )}
          </tr>
        </tfoot>
      </table>
    </div>
  );
}

function shorten(s: string, n: number): string {
  return s.length <= n ? s : `…${s.slice(s.length - n + 1)}`;
}

function niceTicks(extent: number): number[] {
  const step = extent > 6 ? 2 : extent > 3 ? 1 : extent > 1.2 ? 0.5 : 0.25;
  const out: number[] = [];
  for (let t = -Math.floor(extent / step) * step; t <= extent + 1e-9; t += step) out.push(Math.round(t * 100) / 100);
  return out;
}
