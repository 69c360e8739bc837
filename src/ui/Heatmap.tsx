import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import { useTheme } from '../app/theme';
import './Heatmap.css';

/**
 * A matrix drawn as coloured cells on a canvas (drawn in an effect, outside React's render), with a
 * cursor the reader moves by pointer or by keyboard (arrow keys, Home/End, Page Up/Down): the cell
 * under it is described in words in a live region below. The values are also in the DOM as
 * `data-values` (row-major, space-separated) with `data-rows` and `data-cols`, for tests and tools.
 *
 * Scales: 'sequential' maps [min, max] from the surface colour to `--chart-train`; 'diverging'
 * maps negative values to `--chart-val` and positive ones to `--chart-train`, 0 to the surface.
 * Masked cells (the causal mask's upper triangle) are drawn hatched.
 */
export interface HeatmapProps {
  /** The accessible name: what the matrix is. */
  label: string;
  rows: number;
  cols: number;
  /** Row-major, rows × cols. */
  values: ArrayLike<number>;
  scale?: 'sequential' | 'diverging';
  /** Sequential: the value drawn darkest (default: the largest value; min is 0). Diverging: the largest |value|. */
  max?: number;
  /** Cells to draw as masked: 'upper' masks j > i. */
  mask?: 'upper';
  /** Short labels of rows and columns, drawn along the edges when there is room. */
  rowLabels?: readonly string[];
  colLabels?: readonly string[];
  /** Pixel size of a cell (CSS px); the canvas is rows·cell high. */
  cell?: number;
  /** Words for the cell under the cursor. */
  describe: (row: number, col: number, value: number) => string;
  /** Shown when nothing is under the cursor. */
  hint?: string;
  /** Extra attributes for tests (data-layer …). */
  data?: Record<string, string | number>;
  /** Called when the reader presses Enter or clicks a cell. */
  onPick?: (row: number, col: number) => void;
  className?: string;
}

type RGB = [number, number, number];

function parseColor(css: string, fallback: RGB): RGB {
  const s = css.trim();
  const hex = /^#([0-9a-f]{6})$/i.exec(s);
  if (hex) {
    const n = parseInt(hex[1], 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  const rgb = /^rgba?\((\d+)[ ,]+(\d+)[ ,]+(\d+)/i.exec(s);
  if (rgb) return [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])];
  return fallback;
}

function mix(a: RGB, b: RGB, t: number): string {
  const u = Math.max(0, Math.min(1, t));
  return `rgb(${Math.round(a[0] + (b[0] - a[0]) * u)},${Math.round(a[1] + (b[1] - a[1]) * u)},${Math.round(a[2] + (b[2] - a[2]) * u)})`;
}

/** A number as the cell readout shows it. */
export function formatValue(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1000 || a < 1e-3 ? v.toExponential(2) : v.toFixed(a >= 10 ? 2 : 4);
}

const LABEL_FONT = '11px ui-monospace, Menlo, Consolas, monospace';

export function Heatmap({
  label,
  rows,
  cols,
  values,
  scale = 'sequential',
  max,
  mask,
  rowLabels,
  colLabels,
  cell = 14,
  describe,
  hint = 'Point at a cell, or focus the map and use the arrow keys, to read it.',
  data,
  onPick,
  className,
}: HeatmapProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const theme = useTheme((s) => s.theme);
  const [cursor, setCursor] = useState<{ r: number; c: number } | null>(null);
  const readoutId = useId();
  const showLabels = (rowLabels != null || colLabels != null) && cell >= 11;
  const gutter = showLabels ? 16 : 0;
  const width = gutter + cols * cell;
  const height = gutter + rows * cell;

  const top = useMemo(() => {
    if (max != null && max > 0) return max;
    let m = 0;
    for (let i = 0; i < values.length; i++) {
      const v = scale === 'diverging' ? Math.abs(values[i]) : values[i];
      if (Number.isFinite(v) && v > m) m = v;
    }
    return m || 1;
  }, [values, max, scale]);

  useEffect(() => {
    const el = canvas.current;
    if (!el) return;
    const ratio = window.devicePixelRatio || 1;
    el.width = Math.round(width * ratio);
    el.height = Math.round(height * ratio);
    const ctx = el.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    const css = getComputedStyle(el);
    const surface = parseColor(css.getPropertyValue('--surface'), [255, 255, 255]);
    const pos = parseColor(css.getPropertyValue('--chart-train'), [31, 99, 198]);
    const neg = parseColor(css.getPropertyValue('--chart-val'), [194, 65, 12]);
    const muted = css.getPropertyValue('--muted').trim() || '#525a66';
    const border = css.getPropertyValue('--border').trim() || '#d7dade';
    ctx.clearRect(0, 0, width, height);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const x = gutter + c * cell;
        const y = gutter + r * cell;
        if (mask === 'upper' && c > r) {
          ctx.fillStyle = border;
          ctx.fillRect(x, y, cell, cell);
          ctx.strokeStyle = muted;
          ctx.lineWidth = 0.6;
          ctx.beginPath();
          ctx.moveTo(x, y + cell);
          ctx.lineTo(x + cell, y);
          ctx.stroke();
          continue;
        }
        const v = values[r * cols + c];
        ctx.fillStyle =
          scale === 'diverging' ? (v < 0 ? mix(surface, neg, -v / top) : mix(surface, pos, v / top)) : mix(surface, pos, v / top);
        ctx.fillRect(x, y, cell, cell);
      }
    }
    if (showLabels) {
      ctx.font = LABEL_FONT;
      ctx.fillStyle = muted;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      rowLabels?.forEach((s, r) => ctx.fillText(s, gutter / 2, gutter + r * cell + cell / 2));
      colLabels?.forEach((s, c) => ctx.fillText(s, gutter + c * cell + cell / 2, gutter / 2));
    }
    if (cursor) {
      ctx.strokeStyle = css.getPropertyValue('--fg').trim() || '#000';
      ctx.lineWidth = 2;
      ctx.strokeRect(gutter + cursor.c * cell + 1, gutter + cursor.r * cell + 1, cell - 2, cell - 2);
    }
  }, [values, rows, cols, cell, scale, top, mask, rowLabels, colLabels, showLabels, gutter, width, height, cursor, theme]);

  // Keep the cursor inside the matrix when its size changes.
  const at = cursor && cursor.r < rows && cursor.c < cols ? cursor : null;

  function cellAt(e: MouseEvent<HTMLCanvasElement>): { r: number; c: number } | null {
    const rect = e.currentTarget.getBoundingClientRect();
    const sx = rect.width / width;
    const c = Math.floor(((e.clientX - rect.left) / sx - gutter) / cell);
    const r = Math.floor(((e.clientY - rect.top) / sx - gutter) / cell);
    return r >= 0 && r < rows && c >= 0 && c < cols ? { r, c } : null;
  }

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const cur = at ?? { r: rows - 1, c: 0 };
    const moves: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
      PageUp: [-5, 0],
      PageDown: [5, 0],
    };
    let next: { r: number; c: number } | null = null;
    if (e.key in moves) {
      const [dr, dc] = moves[e.key];
      next = at ? { r: Math.max(0, Math.min(rows - 1, cur.r + dr)), c: Math.max(0, Math.min(cols - 1, cur.c + dc)) } : cur;
    } else if (e.key === 'Home') next = { r: cur.r, c: 0 };
    else if (e.key === 'End') next = { r: cur.r, c: cols - 1 };
    else if (e.key === 'Enter' && at && onPick) {
      e.preventDefault();
      onPick(at.r, at.c);
      return;
    }
    if (next) {
      e.preventDefault();
      setCursor(next);
    }
  }

  const dataAttrs: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(data ?? {})) dataAttrs[`data-${k}`] = v;
  const serialised = useMemo(() => Array.from(values, (v) => String(Number(v.toPrecision(7)))).join(' '), [values]);

  return (
    <div className={`heatmap${className ? ' ' + className : ''}`}>
      <div
        className="heatmap-canvas"
        role="group"
        aria-roledescription="heatmap"
        aria-label={`${label} (${rows} × ${cols})`}
        aria-describedby={readoutId}
        tabIndex={0}
        onKeyDown={onKeyDown}
        onFocus={() => setCursor((c) => c ?? { r: rows - 1, c: 0 })}
        data-rows={rows}
        data-cols={cols}
        data-values={serialised}
        {...dataAttrs}
      >
        <canvas
          ref={canvas}
          style={{ width: `${width}px`, maxWidth: '100%', aspectRatio: `${width} / ${height}` }}
          aria-hidden="true"
          onPointerMove={(e) => setCursor(cellAt(e))}
          onPointerLeave={() => setCursor(null)}
          onClick={(e) => {
            const c = cellAt(e);
            if (c && onPick) onPick(c.r, c.c);
          }}
        />
      </div>
      <p className="heatmap-readout" id={readoutId} aria-live="polite" style={{ maxWidth: `${Math.max(width + 6, 160)}px` }}>
        {at ? describe(at.r, at.c, values[at.r * cols + at.c]) : hint}
      </p>
    </div>
  );
}
