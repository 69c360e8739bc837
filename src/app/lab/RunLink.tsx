import { useState } from 'react';
import { buildRunUrl } from '../runUrl';
import { useLab } from '../store';

/** 'Copy link to this run': the running model's hyperparameters (seed included) as an address. */
export function RunLink() {
  const hp = useLab((s) => s.status?.hp ?? null);
  const backend = useLab((s) => s.backendOverride);
  const userText = useLab((s) => s.status?.corpus?.source === 'user');
  const [message, setMessage] = useState('');
  const [shown, setShown] = useState<string | null>(null);

  async function copy() {
    if (!hp) return;
    const url = buildRunUrl(hp, backend, location);
    try {
      await navigator.clipboard.writeText(url);
      setShown(null);
      setMessage('Link copied.');
    } catch {
      setShown(url);
      setMessage('Copying was not allowed here; select the link below and copy it.');
    }
  }

  return (
    <div className="run-link">
      <button type="button" onClick={() => void copy()} disabled={!hp}>
        Copy link to this run
      </button>
      <p className="muted">
        The link holds every hyperparameter and the seed{backend ? ' and the backend' : ''}: opening it trains the same model
        from scratch on Moby-Dick{userText ? ' (your own text is not in the link)' : ''}, with the same losses on the same
        backend.
      </p>
      <p role="status" className="run-link-status">
        {message}
      </p>
      {shown && (
        <div className="field">
          <label htmlFor="run-link-url">Link to this run</label>
          <input id="run-link-url" type="text" readOnly value={shown} onFocus={(e) => e.target.select()} />
        </div>
      )}
    </div>
  );
}
