import { useEngine, useLab } from '../../app/store';
import { settingsOf, startCompareRun, valuesFrom } from './compare';
import { JobProgress } from './JobProgress';
import { showBreaks, useTrainingPage } from './state';

/** Steps of the short run this section trains from scratch with the lab's settings. */
const SHORT_RUN_STEPS = 150;

/** Text from the newest comparison run's model early, half-way and at the end, side by side. */
export function RunSamples() {
  const api = useEngine();
  const hp = useLab((s) => s.status?.hp ?? null);
  const runs = useTrainingPage((s) => s.runs);
  const busy = useTrainingPage((s) => s.busy);
  const progress = useTrainingPage((s) => s.progress);
  const message = useTrainingPage((s) => (s.compareSource === 'samples' ? s.compareMessage : null));
  const last = runs.length > 0 ? runs[runs.length - 1] : null;
  return (
    <div className="widget run-samples">
      <div className="button-row">
        <button
          type="button"
          className="primary"
          disabled={!api || !hp || busy !== null}
          onClick={() => api && hp && void startCompareRun(api, settingsOf(valuesFrom(hp, SHORT_RUN_STEPS)), 'samples')}
        >
          Train a short run from scratch
        </button>
        <span className="muted">
          {SHORT_RUN_STEPS} steps with the lab’s settings, on a separate model: yours is not touched.
        </span>
      </div>
      {busy === 'compare' && progress?.job === 'compare' && progress.source === 'samples' && (
        <JobProgress label={progress.label} value={progress.value} max={progress.max} detail={progress.detail} />
      )}
      {message && busy === null && (
        <p className={message.kind === 'error' ? 'widget-error' : 'widget-note'}>{message.text}</p>
      )}
      {last && (
        <>
          <p className="widget-note">
            Run {runs.length} ({last.label}), sampled at temperature 0.8 with the same seed after each of these steps:
          </p>
          <ol className="side-by-side" data-testid="run-samples">
            {last.samples.map((s) => (
              <li key={s.step}>
                <p className="side-title">After step {s.step}</p>
                <p className="model-text">{showBreaks(s.text)}</p>
              </li>
            ))}
          </ol>
        </>
      )}
    </div>
  );
}
