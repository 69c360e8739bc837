/** Numbers and durations as the lab shows them. Pure functions, no React. */

const grouped = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });

/** 12345.6 → "12,346". */
export function formatInteger(n: number): string {
  return grouped.format(n);
}

/** A loss to three decimals, or a dash before the first one. */
export function formatLoss(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(3);
}

/** 812345 → "812 k", 10_700_000 → "10.7 M". */
export function formatCompact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 1 : 2)} M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)} k`;
  return formatInteger(n);
}

/** Seconds as "45 s", "3 min 05 s", "2 h 07 min". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${String(m % 60).padStart(2, '0')} min`;
}

/** Bytes as megabytes (10^6), one decimal. */
export function formatMegabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
