import type { EngineState } from '../../engine/protocol';
import { formatLoss } from '../format';
import { useLab } from '../store';

const STATE_TEXT: Record<EngineState, string> = {
  starting: 'Starting…',
  idle: 'Ready',
  training: 'Training',
  paused: 'Paused',
  error: 'Stopped',
};

/** The dock's always-visible bar: open/close, state, step and loss, Train and Pause. */
export function LabBar() {
  const open = useLab((s) => s.dockOpen);
  const setDockOpen = useLab((s) => s.setDockOpen);
  const status = useLab((s) => s.status);
  const latest = useLab((s) => s.latest);
  const busy = useLab((s) => s.busy);
  const train = useLab((s) => s.train);
  const pause = useLab((s) => s.pause);

  const state = status?.state ?? null;
  const step = Math.max(status?.step ?? 0, latest?.step ?? 0);
  // After an error the engine can try again, as long as it holds a model.
  const canTrain = !busy && (state === 'idle' || state === 'paused' || (state === 'error' && status?.hp != null));

  return (
    <div className="lab-bar">
      <h2 id="lab-title" className="lab-title">
        <button type="button" className="lab-toggle" aria-expanded={open} aria-controls="lab-body" onClick={() => setDockOpen(!open)}>
          <span className="chevron" aria-hidden="true" />
          Lab
        </button>
      </h2>
      <span className={`lab-state state-${state ?? 'loading'}`} aria-live="polite">
        {state ? STATE_TEXT[state] : 'Loading the engine…'}
      </span>
      <span className="lab-readout">
        <span className="readout-item">
          Step <span data-testid="step">{step}</span>
          {status?.hp && <span className="readout-of"> / {status.hp.steps}</span>}
        </span>
        <span className="readout-item">
          Loss <span data-testid="train-loss">{formatLoss(latest?.trainLoss)}</span>
        </span>
      </span>
      <span className="lab-primary">
        <button type="button" className="primary" onClick={() => void train()} disabled={!canTrain}>
          Train
        </button>
        <button type="button" onClick={() => void pause()} disabled={state !== 'training'}>
          Pause
        </button>
      </span>
    </div>
  );
}
