import type { FieldError, PresetName } from '../gpt/config';
import type { FormField } from '../app/runUrl';

/**
 * Every hyperparameter of the form, validated as typed (the caller passes the errors). Each error is
 * shown on its own field (aria-invalid, aria-describedby → `<field>-error`); Apply stays disabled
 * while any field is wrong.
 */
interface FieldMeta {
  label: string;
  hint: string;
  decimal?: boolean;
}

export const FIELD_META: Record<FormField, FieldMeta> = {
  layers: { label: 'Layers', hint: 'Transformer blocks, one after another.' },
  heads: { label: 'Heads', hint: 'Attention heads per block; the width must divide evenly among them.' },
  width: { label: 'Width', hint: 'Channels of the residual stream (the embedding size).' },
  contextLength: { label: 'Context length', hint: 'Characters the model sees at once.' },
  dropout: { label: 'Dropout', hint: 'Share of activations zeroed while training; 0 turns it off.', decimal: true },
  batchSize: { label: 'Batch size', hint: 'Windows of text per step.' },
  learningRate: { label: 'Learning rate', hint: 'Peak step size, reached after warmup; changes at once, even while training.', decimal: true },
  warmupSteps: { label: 'Warmup steps', hint: 'Steps of linear warmup from 0.' },
  weightDecay: { label: 'Weight decay', hint: 'AdamW’s pull of the 2-D weights towards 0.', decimal: true },
  steps: { label: 'Steps', hint: 'Length of the run; the cosine schedule ends here.' },
  seed: { label: 'Seed', hint: 'The same seed, settings and backend give the same curve.' },
};

const GROUPS: { legend: string; fields: FormField[] }[] = [
  { legend: 'Architecture (changing it builds a new model)', fields: ['layers', 'heads', 'width', 'contextLength', 'dropout'] },
  { legend: 'Training', fields: ['batchSize', 'learningRate', 'warmupSteps', 'weightDecay', 'steps', 'seed'] },
];

const PRESET_NOTES: Record<PresetName, string> = {
  tiny: 'tiny: 2 layers, width 32, for slow machines and tests',
  baby: 'baby: 4 layers, width 128, context 64, as compared with PyTorch',
  base: 'base: 4 layers, width 128, context 128, the shipped model',
  small: 'small: 6 layers, width 384, context 256, a GPU showcase',
};

/** "Layers must be at least 1", "Width: this model would need …". */
export function fieldErrorText(label: string, message: string): string {
  return /^(must|is) /.test(message) ? `${label} ${message}.` : `${label}: ${message}.`;
}

export interface HyperparameterFormProps {
  preset: PresetName | 'custom';
  values: Record<FormField, string>;
  errors: readonly FieldError[];
  /** Fields whose change would build a new model (shown as a warning). */
  architectureChanges: readonly string[];
  /** Parameters of the model the form describes, when it is valid. */
  parameters: number | null;
  canApply: boolean;
  edited: boolean;
  applying: boolean;
  onField: (field: FormField, value: string) => void;
  onPreset: (preset: PresetName) => void;
  onApply: () => void;
  onRevert: () => void;
}

export function HyperparameterForm(props: HyperparameterFormProps) {
  const { preset, values, errors, architectureChanges, parameters, canApply, edited, applying } = props;
  const errorOf = new Map<string, string>();
  for (const e of errors) if (!errorOf.has(String(e.field))) errorOf.set(String(e.field), e.message);
  const formFields = new Set<string>(Object.keys(FIELD_META));
  const otherErrors = errors.filter((e) => !formFields.has(String(e.field)));

  return (
    <form
      className="hp-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (canApply) props.onApply();
      }}
    >
      <div className="field">
        <label htmlFor="hp-preset">Preset</label>
        <select id="hp-preset" aria-describedby="hp-preset-hint" value={preset} onChange={(e) => props.onPreset(e.target.value as PresetName)}>
          {(Object.keys(PRESET_NOTES) as PresetName[]).map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
          <option value="custom" disabled>
            custom
          </option>
        </select>
        <p id="hp-preset-hint" className="field-hint">
          {preset === 'custom' ? 'Your own values: they match no preset.' : PRESET_NOTES[preset]}
        </p>
      </div>
      {GROUPS.map((g) => (
        <fieldset key={g.legend}>
          <legend>{g.legend}</legend>
          <div className="hp-grid">
            {g.fields.map((f) => {
              const meta = FIELD_META[f];
              const message = errorOf.get(f);
              const hintId = `hp-${f}-hint`;
              return (
                <div className="field" key={f}>
                  <label htmlFor={`hp-${f}`}>{meta.label}</label>
                  <input
                    id={`hp-${f}`}
                    name={f}
                    type="text"
                    inputMode={meta.decimal ? 'decimal' : 'numeric'}
                    autoComplete="off"
                    spellCheck={false}
                    value={values[f]}
                    aria-invalid={message ? true : undefined}
                    aria-describedby={message ? `${f}-error ${hintId}` : hintId}
                    onChange={(e) => props.onField(f, e.target.value)}
                  />
                  {message && (
                    <p id={`${f}-error`} className="field-error">
                      {fieldErrorText(meta.label, message)}
                    </p>
                  )}
                  <p id={hintId} className="field-hint">
                    {meta.hint}
                  </p>
                </div>
              );
            })}
          </div>
        </fieldset>
      ))}
      {otherErrors.length > 0 && (
        <ul className="form-errors" role="alert">
          {otherErrors.map((e) => (
            <li key={String(e.field)}>{fieldErrorText(String(e.field), e.message)}</li>
          ))}
        </ul>
      )}
      <p className="hp-summary" aria-live="polite">
        {parameters !== null && <>This model has {parameters.toLocaleString('en')} parameters. </>}
        {architectureChanges.length > 0 && (
          <strong>
            Applying changes the {architectureChanges.map((k) => FIELD_META[k as FormField]?.label.toLowerCase() ?? k).join(', ')}: the
            model starts again from scratch.
          </strong>
        )}
      </p>
      <div className="button-row">
        <button type="submit" className="primary" disabled={!canApply}>
          Apply
        </button>
        {applying && <span className="busy-note">Applying…</span>}
        <button type="button" onClick={props.onRevert} disabled={!edited}>
          Revert
        </button>
      </div>
    </form>
  );
}
