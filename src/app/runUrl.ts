import {
  DEFAULTS,
  isPresetName,
  PRESETS,
  resolveHyperparameters,
  validateHyperparameters,
  type FieldError,
  type Hyperparameters,
  type PresetName,
} from '../gpt/config';
import type { BackendName } from '../engine/protocol';

/**
 * A shareable run in the address's query string (the part before the hash, so it survives
 * navigation between pages): `?backend=wasm&preset=tiny&layers=2&…&seed=7`. One typed table of
 * fields, read and written the same way, as in TensorFlow Playground's state.ts.
 */

/** The fields of the hyperparameters form, in its order; a link always writes all of them. */
export const FORM_FIELDS = [
  'layers',
  'heads',
  'width',
  'contextLength',
  'batchSize',
  'learningRate',
  'warmupSteps',
  'weightDecay',
  'dropout',
  'steps',
  'seed',
] as const satisfies readonly (keyof Hyperparameters)[];
export type FormField = (typeof FORM_FIELDS)[number];

/** Fields outside the form: a link writes them only when they differ from the defaults. */
export const EXTRA_FIELDS = ['minLearningRate', 'beta1', 'beta2', 'epsilon', 'gradClip'] as const satisfies readonly (keyof Hyperparameters)[];
export type ExtraField = (typeof EXTRA_FIELDS)[number];
export type RunField = FormField | ExtraField;

export const BACKENDS: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export function isBackendName(v: string | null): v is BackendName {
  return v !== null && (BACKENDS as readonly string[]).includes(v);
}

/**
 * Characters in Moby-Dick, the bundled corpus: the vocabulary size a shared run will have. Used to
 * validate a set before the engine has reported its own.
 */
export const MOBY_DICK_VOCABULARY = 89;

export interface RunFromUrl {
  /** A forced backend, or 'auto' (also for a value that names no backend). */
  backend: BackendName | 'auto';
  /** The preset as written (may be unknown); null when absent. */
  preset: string | null;
  /** Each run field present in the address, as written. */
  values: Partial<Record<RunField, string>>;
  /** True when the address carries a run (a preset or any field). */
  hasRun: boolean;
  debug: boolean;
}

export function parseRunUrl(search: string): RunFromUrl {
  const params = new URLSearchParams(search);
  const backend = params.get('backend');
  const values: Partial<Record<RunField, string>> = {};
  for (const f of [...FORM_FIELDS, ...EXTRA_FIELDS]) {
    const v = params.get(f);
    if (v !== null) values[f] = v;
  }
  const preset = params.get('preset');
  return {
    backend: isBackendName(backend) ? backend : 'auto',
    preset,
    values,
    hasRun: preset !== null || Object.keys(values).length > 0,
    debug: params.get('debug') === '1',
  };
}

/** '' → undefined (reported as missing), anything else → a number (NaN when it is not one). */
export function parseNumber(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  return Number(raw.trim());
}

/**
 * The schedule's floor follows a learning rate set below it, so that lowering the learning rate
 * alone is never an error about a field the form does not show.
 */
export function withLearningRate(h: Hyperparameters, explicitMin: boolean): Hyperparameters {
  if (explicitMin || !(h.learningRate < h.minLearningRate)) return h;
  return { ...h, minLearningRate: h.learningRate };
}

export interface ResolvedRun {
  hp: Hyperparameters | null;
  errors: FieldError[];
}

/** The address's run: defaults, then the preset, then each field; validated. */
export function resolveRun(run: RunFromUrl, vocabSize = MOBY_DICK_VOCABULARY): ResolvedRun {
  const errors: FieldError[] = [];
  let preset: PresetName = 'baby';
  if (run.preset !== null) {
    if (isPresetName(run.preset)) preset = run.preset;
    else errors.push({ field: 'preset', message: `'${run.preset}' is not a preset (${Object.keys(PRESETS).join(', ')})` });
  }
  const overrides: Partial<Record<keyof Hyperparameters, number | undefined>> = {};
  for (const [k, raw] of Object.entries(run.values) as [RunField, string][]) overrides[k] = parseNumber(raw);
  const merged = { ...resolveHyperparameters(preset), vocabSize } as Record<keyof Hyperparameters, number | undefined>;
  for (const [k, v] of Object.entries(overrides)) merged[k as keyof Hyperparameters] = v;
  let candidate = merged as Hyperparameters;
  if (typeof candidate.learningRate === 'number') candidate = withLearningRate(candidate, 'minLearningRate' in run.values);
  errors.push(...validateHyperparameters(candidate));
  return { hp: errors.length === 0 ? candidate : null, errors };
}

/** The preset whose fields `h` matches, if any. */
export function presetOf(h: Pick<Hyperparameters, keyof (typeof PRESETS)['tiny']>): PresetName | null {
  for (const [name, p] of Object.entries(PRESETS) as [PresetName, (typeof PRESETS)[PresetName]][]) {
    if ((Object.keys(p) as (keyof typeof p)[]).every((k) => p[k] === h[k])) return name;
  }
  return null;
}

/** An address that reproduces `hp` (trained from scratch on Moby-Dick) on `backend`, keeping this page. */
export function buildRunUrl(hp: Hyperparameters, backend: BackendName | null, here: Location | URL): string {
  const params = new URLSearchParams();
  if (backend) params.set('backend', backend);
  const preset = presetOf(hp);
  if (preset) params.set('preset', preset);
  for (const f of FORM_FIELDS) params.set(f, String(hp[f]));
  const base = withLearningRate({ ...DEFAULTS, learningRate: hp.learningRate }, false);
  for (const f of EXTRA_FIELDS) if (hp[f] !== base[f]) params.set(f, String(hp[f]));
  const url = new URL(here.href);
  url.search = params.toString();
  return url.href;
}
