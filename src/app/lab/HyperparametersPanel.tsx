import { useState } from 'react';
import { parameterCount } from '../../gpt/config';
import { ConfirmDialog } from '../../ui/ConfirmDialog';
import { FIELD_META, HyperparameterForm } from '../../ui/HyperparameterForm';
import { architectureChanges } from '../form';
import type { FormField } from '../runUrl';
import { useLab } from '../store';

/** The form wired to the store; an architecture change asks before it resets the model. */
export function HyperparametersPanel() {
  const form = useLab((s) => s.form);
  const running = useLab((s) => s.status?.hp ?? null);
  const state = useLab((s) => s.status?.state ?? null);
  const step = useLab((s) => s.status?.step ?? 0);
  const busy = useLab((s) => s.busy);
  const formHp = useLab((s) => s.formHyperparameters);
  const { setFormField, setFormPreset, applyForm, revertForm } = useLab.getState();
  const [asking, setAsking] = useState(false);

  const hp = form.errors.length === 0 ? formHp() : null;
  const changes = hp && running ? architectureChanges(running, hp) : [];
  const canApply = hp !== null && state !== null && state !== 'starting' && busy === null;

  return (
    <>
      <HyperparameterForm
        preset={form.preset}
        values={form.values}
        errors={form.errors}
        architectureChanges={changes}
        parameters={hp ? parameterCount(hp) : null}
        canApply={canApply}
        edited={form.edited}
        applying={busy === 'apply'}
        onField={setFormField}
        onPreset={setFormPreset}
        onRevert={revertForm}
        onApply={() => {
          if (changes.length > 0) setAsking(true);
          else void applyForm();
        }}
      />
      <ConfirmDialog
        open={asking}
        title="Start a new model?"
        answers={[{ value: 'apply', label: 'Reset and apply', primary: true }]}
        onAnswer={(answer) => {
          setAsking(false);
          if (answer) void applyForm();
        }}
      >
        <p>
          A new {changes.map((k) => FIELD_META[k as FormField]?.label.toLowerCase() ?? k).join(', ')} changes the shape of the
          model, so it starts again from random weights. The current weights (step {step}) are replaced; export a checkpoint
          first if you want to keep them.
        </p>
      </ConfirmDialog>
    </>
  );
}
