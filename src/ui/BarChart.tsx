import './BarChart.css';

/**
 * A small horizontal bar chart drawn as SVG: one bar per labelled value, the number printed at the
 * end of each bar. It is a picture of numbers the page also shows in a table, so the SVG is one
 * image with a text alternative (`summary`) rather than a structure for screen readers to walk.
 *
 * `scale: 'log'` spaces bars by orders of magnitude (the four matmul ways differ by 100× or more);
 * the axis then starts at the largest power of ten below the smallest value.
 */
export interface Bar {
  label: string;
  value: number;
  /** Shown after the number (e.g. "unavailable"); a bar with a non-finite value draws none. */
  note?: string;
  /** Highlights a bar (e.g. the backend the reader's model runs on). */
  emphasis?: boolean;
}

export interface BarChartProps {
  bars: readonly Bar[];
  /** One sentence describing the chart, read as its text alternative. */
  summary: string;
  format: (value: number) => string;
  scale?: 'linear' | 'log';
  /** Axis caption under the bars, e.g. "GFLOP/s (log scale)". */
  unit: string;
}

const ROW = 30;
const LABEL_W = 230;
const PLOT_W = 330;
const VALUE_W = 130;
const WIDTH = LABEL_W + PLOT_W + VALUE_W;

export function BarChart({ bars, summary, format, scale = 'linear', unit }: BarChartProps) {
  const finite = bars.map((b) => b.value).filter((v) => Number.isFinite(v) && v > 0);
  const max = finite.length ? Math.max(...finite) : 1;
  const min = finite.length ? Math.min(...finite) : 1;
  const logLo = Math.floor(Math.log10(min)) - (min === max ? 1 : 0);
  const logHi = Math.max(Math.ceil(Math.log10(max)), logLo + 1);
  const x = (v: number) => {
    if (!(Number.isFinite(v) && v > 0)) return 0;
    if (scale === 'log') return (PLOT_W * (Math.log10(v) - logLo)) / (logHi - logLo);
    return (PLOT_W * v) / max;
  };
  const height = bars.length * ROW + 26;
  const ticks = scale === 'log' ? Array.from({ length: logHi - logLo + 1 }, (_, i) => 10 ** (logLo + i)) : [];
  return (
    <figure className="bar-chart">
      <svg viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-label={summary} preserveAspectRatio="xMinYMin meet">
        {ticks.map((t) => (
          <g key={t}>
            <line className="bar-grid" x1={LABEL_W + x(t)} x2={LABEL_W + x(t)} y1={0} y2={bars.length * ROW} />
            <text className="bar-tick" x={LABEL_W + x(t)} y={bars.length * ROW + 14} textAnchor="middle">
              {t >= 1 ? t.toLocaleString('en') : t.toString()}
            </text>
          </g>
        ))}
        {bars.map((b, i) => {
          const w = x(b.value);
          const y = i * ROW;
          const drawn = Number.isFinite(b.value) && b.value > 0;
          return (
            <g key={b.label}>
              <text className="bar-label" x={LABEL_W - 8} y={y + ROW / 2 + 4} textAnchor="end">
                {b.label}
              </text>
              {drawn && <rect className={b.emphasis ? 'bar bar-emphasis' : 'bar'} x={LABEL_W} y={y + 6} width={Math.max(w, 2)} height={ROW - 12} rx={3} />}
              <text className="bar-value" x={LABEL_W + (drawn ? Math.max(w, 2) : 0) + 6} y={y + ROW / 2 + 4}>
                {drawn ? format(b.value) : ''}
                {b.note ? `${drawn ? ' · ' : ''}${b.note}` : ''}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption className="bar-unit">{unit}</figcaption>
    </figure>
  );
}
