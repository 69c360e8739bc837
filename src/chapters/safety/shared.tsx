import { useEngine } from '../../app/store';

/** Small pieces the Safety chapter's widgets share: a job's progress with its Stop button, and number formats. */

export function JobStatus({ label, value, max, detail }: { label: string; value: number; max: number; detail?: string }) {
  const api = useEngine();
  return (
    <div className="safety-progress" role="status">
      <progress value={value} max={max} aria-label={label} />
      <span className="safety-progress-text">
        {label}
        {detail ? ` · ${detail}` : ''}
      </span>
      <button type="button" onClick={() => void api?.cancelJob()} disabled={!api}>
        Stop
      </button>
    </div>
  );
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : 'Something went wrong in the engine.';
}

/** A job the reader stopped (JobCancelledError crosses the worker as an Error named so, or with its message). */
export function wasStopped(err: unknown): boolean {
  return err instanceof Error && (err.name === 'JobCancelledError' || err.message === 'Stopped.');
}

/** A signed number with a real minus sign. */
export function signed(x: number, digits = 2): string {
  const s = Math.abs(x).toFixed(digits);
  return x < 0 && Number(s) !== 0 ? `−${s}` : x > 0 && Number(s) !== 0 ? `+${s}` : s;
}

export function percent(x: number, digits = 0): string {
  return `${(100 * x).toFixed(digits)}%`;
}

/** The odds ratio e^gap as "12×" or "1/12×". */
export function oddsRatio(gap: number): string {
  const r = Math.exp(Math.abs(gap));
  const s = r >= 10 ? r.toFixed(0) : r.toFixed(1);
  return gap >= 0 ? `${s}×` : `1/${s}×`;
}

/** A pair's short name: the masculine side, with the swapped part marked. */
export function pairName(p: { a: { prompt: string; continuation: string } }): string {
  return `${p.a.prompt}${p.a.continuation}`;
}

export function Message({ kind, text }: { kind: 'error' | 'note'; text: string }) {
  return (
    <p className={kind === 'error' ? 'safety-error' : 'safety-note'} role={kind === 'error' ? 'alert' : 'status'}>
      {text}
    </p>
  );
}
