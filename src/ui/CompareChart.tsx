import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './CompareChart.css';

/**
 * Several curves on one pair of axes (uPlot on a canvas), each with its own x values: the loss of
 * comparison runs overlaid, or one learning-rate schedule. The legend is plain HTML below the
 * chart (a list of labelled swatches), so it is read by screen readers and found by tests. Colours
 * come from the CSS variables `--compare-1` … `--compare-6` and follow the theme on redraw.
 */
export interface CompareSeries {
  label: string;
  x: readonly number[];
  y: readonly (number | null)[];
}

export interface CompareChartProps {
  series: readonly CompareSeries[];
  xLabel: string;
  yLabel: string;
  /** A text alternative that says what the chart shows. */
  label: string;
  /** Changes when the theme does, to redraw with the new colours. */
  theme: string;
  height?: number;
  /** Draw the y axis on a log scale (learning rates that span decades). */
  logY?: boolean;
  /** Hide the legend (one series whose meaning the caption gives). */
  hideLegend?: boolean;
}

const COLOURS = 6;
const AXIS_FONT = '12px system-ui, sans-serif';

/** Every series on the union of their x values, null where a series has no point. */
export function alignSeries(series: readonly CompareSeries[]): uPlot.AlignedData {
  const xs = [...new Set(series.flatMap((s) => s.x))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  const columns = series.map((s) => {
    const col: (number | null)[] = new Array(xs.length).fill(null);
    s.x.forEach((x, i) => {
      const v = s.y[i];
      col[at.get(x)!] = v != null && Number.isFinite(v) ? v : null;
    });
    return col;
  });
  return [xs, ...columns] as uPlot.AlignedData;
}

function colourOf(el: Element, i: number): string {
  const css = getComputedStyle(el);
  const fallback = ['#1f63c6', '#c2410c', '#17663a', '#7b3fb5', '#a3191c', '#0f7c8a'][i % COLOURS];
  return css.getPropertyValue(`--compare-${(i % COLOURS) + 1}`).trim() || fallback;
}

export function CompareChart({ series, xLabel, yLabel, label, theme, height = 220, logY = false, hideLegend = false }: CompareChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const data = useMemo(() => alignSeries(series), [series]);
  const labels = series.map((s) => s.label).join('\u0000');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const css = getComputedStyle(el);
    const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
    const axisColour = v('--chart-axis', '#5a6270');
    const gridColour = v('--chart-grid', 'rgba(128,128,128,0.2)');
    const axis: uPlot.Axis = {
      stroke: axisColour,
      grid: { stroke: gridColour, width: 1 },
      ticks: { stroke: gridColour, width: 1 },
      font: AXIS_FONT,
      labelFont: AXIS_FONT,
      labelSize: 18,
    };
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 1),
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false }, y: logY ? { distr: 3 } : { auto: true } },
      axes: [
        { ...axis, label: xLabel },
        { ...axis, label: yLabel, size: 64 },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: colourOf(el, i),
          width: 2,
          spanGaps: true,
          points: { show: false },
        })),
      ],
    };
    const u = new uPlot(opts, data, el);
    const observer = new ResizeObserver(() => {
      const w = el.clientWidth;
      if (w > 0 && w !== u.width) u.setSize({ width: w, height });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      u.destroy();
    };
    // `labels` stands for the series' identity, `data` for their values; `theme` re-reads the colours.
  }, [data, labels, height, logY, xLabel, yLabel, theme]);

  return (
    <figure className="compare-chart">
      <div ref={box} className="compare-chart-canvas" role="img" aria-label={label} data-series={series.length} />
      {!hideLegend && series.length > 0 && (
        <figcaption>
          <ul className="compare-legend">
            {series.map((s, i) => (
              <li key={`${i}-${s.label}`}>
                <span className={`compare-swatch compare-swatch-${(i % COLOURS) + 1}`} aria-hidden="true" />
                {s.label}
              </li>
            ))}
          </ul>
        </figcaption>
      )}
    </figure>
  );
}
