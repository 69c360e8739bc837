import type { BackendChoice, BackendName, BackendRate } from '../engine/protocol';

/** Which backend runs and why, every candidate's measured speed, and a menu to choose another. */
export const BACKEND_LABELS: Record<BackendName, string> = {
  webgpu: 'WebGPU',
  webgl: 'WebGL',
  wasm: 'WebAssembly',
  cpu: 'CPU (JavaScript)',
};

const ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];
const rateFormat = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });

export interface BackendBadgeProps {
  choice: BackendChoice | null;
  rates: readonly BackendRate[];
  /** Disables the menu and the button (the engine is busy or not started). */
  disabled: boolean;
  calibrating: boolean;
  onSelect: (name: BackendName) => void;
  onCalibrate: () => void;
}

function rateText(r: BackendRate): string {
  if (!r.available) return `unavailable: ${r.reason}`;
  const speed = r.tokensPerSecond === null ? 'not measured' : `${rateFormat.format(r.tokensPerSecond)} tokens/s`;
  return r.reason ? `${speed} · ${r.reason}` : speed;
}

export function BackendBadge({ choice, rates, disabled, calibrating, onSelect, onCalibrate }: BackendBadgeProps) {
  const byName = new Map(rates.map((r) => [r.name, r]));
  return (
    <div className="backend">
      <p className="backend-now">
        <span className="badge" data-testid="backend-badge">
          {choice ? (
            <>
              <code>{choice.name}</code> <span className="badge-label">{BACKEND_LABELS[choice.name]}</span>
            </>
          ) : (
            'choosing…'
          )}
        </span>{' '}
        {choice && <span className="backend-reason">{choice.reason}</span>}
      </p>
      {rates.length > 0 && (
        <ul className="rates" aria-label="Measured speed of each backend">
          {ORDER.filter((n) => byName.has(n)).map((n) => {
            const r = byName.get(n)!;
            return (
              <li key={n} data-backend={n} className={r.available ? '' : 'unavailable'}>
                <strong>{BACKEND_LABELS[n]}</strong>
                {choice?.name === n && <span className="running"> (running)</span>}: {rateText(r)}
              </li>
            );
          })}
        </ul>
      )}
      <div className="backend-override">
        <label htmlFor="backend-select">Run on</label>
        <select
          id="backend-select"
          value={choice?.name ?? ''}
          disabled={disabled || !choice}
          onChange={(e) => onSelect(e.target.value as BackendName)}
        >
          {!choice && <option value="">…</option>}
          {ORDER.map((n) => {
            const r = byName.get(n);
            return (
              <option key={n} value={n} disabled={r ? !r.available : false}>
                {BACKEND_LABELS[n]}
                {r && !r.available ? ' (unavailable)' : ''}
              </option>
            );
          })}
        </select>
        <button type="button" onClick={onCalibrate} disabled={disabled}>
          {calibrating ? 'Measuring…' : 'Measure again'}
        </button>
      </div>
    </div>
  );
}
