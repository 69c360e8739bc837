/**
 * The arithmetic of the Infrastructure chapter, kept out of React and free of tfjs: training compute
 * by the 6·N·D rule, time on named accelerators, and the bytes a ring all-reduce moves.
 * Every published figure carries the number of its source in the chapter's Sources list.
 */

/** An accelerator's published peak dense throughput for 16-bit training (no sparsity). */
export interface Accelerator {
  id: string;
  name: string;
  /** Peak dense FLOP/s, 16-bit inputs (bf16 or fp16) with tensor/matrix units. */
  peakFlops: number;
  precision: string;
  /** Where the figure comes from, as the chapter's source number. */
  source: number;
}

export const ACCELERATORS: readonly Accelerator[] = [
  { id: 'v100', name: 'NVIDIA V100 (SXM2)', peakFlops: 125e12, precision: 'fp16 Tensor Core', source: 7 },
  { id: 'a100', name: 'NVIDIA A100 (SXM)', peakFlops: 312e12, precision: 'bf16/fp16 Tensor Core, dense', source: 5 },
  { id: 'h100', name: 'NVIDIA H100 (SXM)', peakFlops: 989e12, precision: 'bf16 Tensor Core, dense', source: 6 },
  { id: 'tpuv4', name: 'Google TPU v4 (one chip)', peakFlops: 275e12, precision: 'bf16', source: 8 },
];

/** Worked examples for the calculator; the tokens are always the published count, or labelled otherwise. */
export interface ScalingExample {
  id: string;
  label: string;
  parameters: number;
  tokens: number;
  note: string;
}

export const EXAMPLES: readonly ScalingExample[] = [
  {
    id: 'gpt3',
    label: 'GPT-3 175B',
    parameters: 175e9,
    tokens: 300e9,
    note: 'GPT-3: 175 billion parameters, 300 billion training tokens; the paper reports 3.14 × 10²³ FLOPs of training compute [2].',
  },
  {
    id: 'chinchilla',
    label: 'Chinchilla 70B',
    parameters: 70e9,
    tokens: 1.4e12,
    note: 'Chinchilla: 70 billion parameters trained on 1.4 trillion tokens, about 20 tokens per parameter [4].',
  },
  {
    id: 'gpt2',
    label: 'GPT-2-sized 1.5B',
    parameters: 1.5e9,
    tokens: 30e9,
    note:
      'A model of GPT-2’s largest size (1.5 billion parameters [3]) trained on 30 billion tokens, Chinchilla’s 20 tokens per ' +
      'parameter [4]. The GPT-2 paper does not say how many tokens it trained on, so this is not GPT-2’s own budget.',
  },
];

/** Training FLOPs by the rule of thumb: 6 per parameter per token (2 forward, 4 backward) [1]. */
export function trainingFlops(parameters: number, tokens: number): number {
  return 6 * parameters * tokens;
}

/**
 * Device-seconds to do `flops` at `utilisation` (0–1] of `peakFlops`. Divide by the number of
 * devices for wall-clock time (perfect scaling; real clusters lose some of it to communication).
 */
export function deviceSeconds(flops: number, peakFlops: number, utilisation: number): number {
  return flops / (peakFlops * utilisation);
}

/** A field's number, or a message for the field. */
export type Parsed = { value: number; error: null } | { value: null; error: string };

/** Reads "1.5e9", "175000000000", "175 000 000", "1,5e9" is refused (one decimal separator: the point). */
export function parsePositive(raw: string, what: string, { max = Infinity, integer = false } = {}): Parsed {
  const text = raw.replace(/[\s_]/g, '').replace(/,(?=\d{3}(\D|$))/g, '');
  if (text === '') return { value: null, error: `Enter ${what}.` };
  const value = Number(text);
  if (!Number.isFinite(value)) return { value: null, error: `${capital(what)} must be a number, like 1.5e9.` };
  if (value <= 0) return { value: null, error: `${capital(what)} must be greater than 0.` };
  if (value > max) return { value: null, error: `${capital(what)} must be at most ${max}.` };
  if (integer && !Number.isInteger(value)) return { value: null, error: `${capital(what)} must be a whole number.` };
  return { value, error: null };
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Bytes each worker sends in a ring all-reduce of `parameters` gradients of `bytesPerValue` among `workers`. */
export function ringBytesPerWorker(parameters: number, workers: number, bytesPerValue = 4): number {
  return workers <= 1 ? 0 : ((2 * (workers - 1)) / workers) * parameters * bytesPerValue;
}

// ---------------------------------------------------------------------------------------------
// Formatting

/** 3.14e23 → "3.14 × 10²³". */
export function scientific(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return '—';
  if (n === 0) return '0';
  let exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp >= -2 && exp < 6) return n.toLocaleString('en', { maximumSignificantDigits: digits });
  let mantissa = Number((n / 10 ** exp).toPrecision(digits));
  if (Math.abs(mantissa) >= 10) {
    // 9.996 rounds up to 10.0: carry into the exponent.
    mantissa /= 10;
    exp += 1;
  }
  const sup = String(exp)
    .split('')
    .map((c) => '⁰¹²³⁴⁵⁶⁷⁸⁹'[Number(c)] ?? (c === '-' ? '⁻' : c))
    .join('');
  return `${Number(mantissa.toPrecision(digits))} × 10${sup}`;
}

/** FLOP/s with a unit: "312 TFLOP/s", "4.1 GFLOP/s". */
export function formatRate(flops: number): string {
  const units: [number, string][] = [
    [1e18, 'EFLOP/s'],
    [1e15, 'PFLOP/s'],
    [1e12, 'TFLOP/s'],
    [1e9, 'GFLOP/s'],
    [1e6, 'MFLOP/s'],
  ];
  for (const [scale, unit] of units) if (flops >= scale) return `${Number((flops / scale).toPrecision(3))} ${unit}`;
  return `${Number(flops.toPrecision(3))} FLOP/s`;
}

/** Bytes in binary units: "3.1 MiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(v) : Number(v.toPrecision(3))} ${units[i]}`;
}

/** A long duration in the unit a reader thinks in: seconds up to years. */
export function formatLongDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  const steps: [number, string][] = [
    [365.25 * 86400, 'years'],
    [86400, 'days'],
    [3600, 'hours'],
    [60, 'minutes'],
  ];
  for (const [scale, unit] of steps) {
    if (seconds >= scale) {
      const v = seconds / scale;
      return `${v >= 1e6 ? scientific(v, 2) : Number(v.toPrecision(3)).toLocaleString('en')} ${unit}`;
    }
  }
  return `${Number(seconds.toPrecision(3))} seconds`;
}
