import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/**
 * A streaming loss chart (uPlot on a canvas). The chart is built once; new points arrive through
 * `subscribe` and are handed to uPlot with `setData` on the live arrays (no copies, no re-creation).
 * The caller already throttles notifications to animation frames. Colours come from CSS variables
 * (`--chart-train`, `--chart-val`, `--chart-axis`, `--chart-grid`) and follow the theme on the next
 * draw; the size follows the container.
 */
export interface LossChartProps {
  /** x = step, then the train loss and the validation loss (null where not measured). */
  getData: () => uPlot.AlignedData;
  /** Calls `onChange` when the data changed; returns the unsubscribe function. */
  subscribe: (onChange: () => void) => () => void;
  /** Changes when the theme does, to redraw with the new colours. */
  theme: string;
  /** A text alternative that says what the chart shows now. */
  label: string;
  height?: number;
}

interface Palette {
  train: string;
  val: string;
  axis: string;
  grid: string;
}

function readPalette(el: Element): Palette {
  const css = getComputedStyle(el);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    train: v('--chart-train', '#1f6fd1'),
    val: v('--chart-val', '#c2410c'),
    axis: v('--chart-axis', '#5a6270'),
    grid: v('--chart-grid', 'rgba(128,128,128,0.2)'),
  };
}

const AXIS_FONT = '12px system-ui, sans-serif';

/** The y axis as wide as its longest tick label. */
function fitLabels(self: uPlot, values: string[] | null): number {
  const longest = (values ?? []).reduce((a, v) => (v.length > a.length ? v : a), '');
  const ctx = self.ctx;
  ctx.save();
  ctx.font = AXIS_FONT; // CSS pixels, so the width needs no pixel-ratio scaling
  const width = ctx.measureText(longest).width;
  ctx.restore();
  return Math.ceil(width) + 18; // ticks and gap
}

export function LossChart({ getData, subscribe, theme, label, height = 180 }: LossChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const palette = useRef<Palette | null>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    palette.current = readPalette(el);
    const p = () => palette.current!;
    const axis: uPlot.Axis = {
      stroke: () => p().axis,
      grid: { stroke: () => p().grid, width: 1 },
      ticks: { stroke: () => p().grid, width: 1 },
      font: AXIS_FONT,
    };
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 1),
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false }, y: { auto: true } },
      axes: [
        { ...axis, label: 'step', labelSize: 18, labelFont: AXIS_FONT },
        { ...axis, size: fitLabels },
      ],
      series: [
        {},
        { label: 'train loss', stroke: () => p().train, width: 1.5, points: { show: false } },
        {
          label: 'validation loss',
          stroke: () => p().val,
          width: 2,
          spanGaps: true,
          points: { show: true, size: 5, stroke: () => p().val, fill: () => p().val },
        },
      ],
    };
    const u = new uPlot(opts, getData(), el);
    plot.current = u;

    let resizeFrame = 0;
    const observer = new ResizeObserver(() => {
      cancelAnimationFrame(resizeFrame);
      resizeFrame = requestAnimationFrame(() => {
        const w = el.clientWidth;
        if (w === 0) return; // hidden (a collapsed dock)
        if (w !== u.width) u.setSize({ width: w, height });
        u.setData(getData()); // catch up on points that arrived while hidden
      });
    });
    observer.observe(el);
    const unsubscribe = subscribe(() => {
      if (el.clientWidth > 0) u.setData(getData());
    });
    return () => {
      unsubscribe();
      observer.disconnect();
      cancelAnimationFrame(resizeFrame);
      u.destroy();
      plot.current = null;
    };
  }, [getData, subscribe, height]);

  useEffect(() => {
    const el = box.current;
    const u = plot.current;
    if (!el || !u) return;
    palette.current = readPalette(el);
    u.redraw(true, true);
  }, [theme]);

  return <div ref={box} className="loss-chart" role="img" aria-label={label} />;
}
