import { MODEL_KEYS, PRESETS, validateHyperparameters, type FieldError, type Hyperparameters, type PresetName } from '../gpt/config';
import { FORM_FIELDS, parseNumber, presetOf, withLearningRate, type FormField } from './runUrl';

/** The hyperparameters form as the reader typed it: strings, validated as typed. Pure functions. */
export type FormValues = Record<FormField, string>;

export interface FormState {
  /** The preset the fields match, or 'custom'. */
  preset: PresetName | 'custom';
  values: FormValues;
  /** Errors of `values` (on form fields, and on any other field they affect). */
  errors: FieldError[];
  /** The reader has edited the form since it last showed the running model's set. */
  edited: boolean;
}

export function formValuesOf(h: Hyperparameters): FormValues {
  return Object.fromEntries(FORM_FIELDS.map((f) => [f, String(h[f])])) as FormValues;
}

/** The full set the form describes: `base` (the running model's set) with the typed fields over it. */
export function formHyperparameters(values: FormValues, base: Hyperparameters): { hp: Hyperparameters | null; errors: FieldError[] } {
  const merged: Record<string, unknown> = { ...base };
  for (const f of FORM_FIELDS) merged[f] = parseNumber(values[f]);
  let h = merged as unknown as Hyperparameters;
  if (typeof h.learningRate === 'number' && Number.isFinite(h.learningRate)) h = withLearningRate(h, false);
  const errors = validateHyperparameters(h);
  return { hp: errors.length === 0 ? h : null, errors };
}

export function formState(values: FormValues, base: Hyperparameters, edited: boolean): FormState {
  const numbers = Object.fromEntries(FORM_FIELDS.map((f) => [f, parseNumber(values[f])])) as Record<FormField, number>;
  return { preset: presetOf(numbers) ?? 'custom', values, errors: formHyperparameters(values, base).errors, edited };
}

export function applyPreset(values: FormValues, preset: PresetName): FormValues {
  const next = { ...values };
  for (const [k, v] of Object.entries(PRESETS[preset])) next[k as FormField] = String(v);
  return next;
}

/** The fields whose change builds a new model (the engine's rule: the parameter shapes, and dropout). */
export function architectureChanges(from: Hyperparameters, to: Hyperparameters): (keyof Hyperparameters)[] {
  return MODEL_KEYS.filter((k) => k !== 'vocabSize' && from[k] !== to[k]);
}
