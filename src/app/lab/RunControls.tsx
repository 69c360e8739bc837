import { useState } from 'react';
import { ConfirmDialog } from '../../ui/ConfirmDialog';
import { useLab } from '../store';

/** Step (one training step while paused) and Reset (asks: pretrained checkpoint or scratch). */
export function RunControls() {
  const state = useLab((s) => s.status?.state ?? null);
  const step = useLab((s) => s.status?.step ?? 0);
  const busy = useLab((s) => s.busy);
  const doStep = useLab((s) => s.step);
  const reset = useLab((s) => s.reset);
  const [asking, setAsking] = useState(false);

  const canStep = !busy && (state === 'idle' || state === 'paused');
  const canReset = !busy && state !== null && state !== 'starting';

  return (
    <div className="button-row">
      <button type="button" onClick={() => void doStep()} disabled={!canStep}>
        Step
      </button>
      <button type="button" onClick={() => setAsking(true)} disabled={!canReset}>
        Reset
      </button>
      <ConfirmDialog
        open={asking}
        title="Reset the model?"
        answers={[
          { value: 'pretrained', label: 'From the pretrained checkpoint', primary: true },
          { value: 'scratch', label: 'From scratch' },
        ]}
        onAnswer={(from) => {
          setAsking(false);
          if (from) void reset(from);
        }}
      >
        <p>
          Reset replaces the current weights (step {step}). <strong>From the pretrained checkpoint</strong> loads the model
          that ships with the site, already trained on Moby-Dick. <strong>From scratch</strong> starts from random weights
          with the current hyperparameters.
        </p>
        <p>Export a checkpoint first if you want to keep this one.</p>
      </ConfirmDialog>
    </div>
  );
}
