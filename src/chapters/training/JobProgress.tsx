import { useEngine } from '../../app/store';

/** A running job's progress, in a labelled progress bar and words, with the Stop button. */
export function JobProgress({ label, value, max, detail }: { label: string; value: number; max: number; detail?: string }) {
  const api = useEngine();
  return (
    <div className="job-progress" role="status">
      <progress value={value} max={max} aria-label={label} />
      <span className="job-progress-text">
        {label}: {value} of {max}
        {detail ? ` · ${detail}` : ''}
      </span>
      <button type="button" onClick={() => void api?.cancelJob()} disabled={!api}>
        Stop
      </button>
    </div>
  );
}
