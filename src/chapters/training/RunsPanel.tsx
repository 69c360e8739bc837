import { useMemo, useState } from 'react';
import { useEngine, useLab } from '../../app/store';
import { useTheme } from '../../app/theme';
import { learningRateAt } from '../../train/schedule';
import { CompareChart, type CompareSeries } from '../../ui/CompareChart';
import { COMPARE_FIELDS, compareErrors, settingsOf, startCompareRun, valuesFrom, type CompareField, type CompareValues } from './compare';
import { JobProgress } from './JobProgress';
import { formatNats, useTrainingPage } from './state';

/** The settings form, the overlay of every run kept in the page, and the table of their numbers. */
export function RunsPanel() {
  const api = useEngine();
  const hp = useLab((s) => s.status?.hp ?? null);
  const theme = useTheme((s) => s.theme);
  const runs = useTrainingPage((s) => s.runs);
  const busy = useTrainingPage((s) => s.busy);
  const progress = useTrainingPage((s) => s.progress);
  const message = useTrainingPage((s) => (s.compareSource === 'runs' ? s.compareMessage : null));
  const { removeRun, clearRuns } = useTrainingPage.getState();
  const [values, setValues] = useState<CompareValues | null>(null);
  const shown = values ?? valuesFrom(hp, 100);
  const errors = compareErrors(shown);
  const valid = Object.keys(errors).length === 0;

  const set = (key: CompareField, v: string) => setValues({ ...shown, [key]: v });
  const series: CompareSeries[] = useMemo(
    () => runs.map((r, i) => ({ label: `Run ${i + 1}: ${r.label}`, x: r.steps, y: r.losses })),
    [runs],
  );

  return (
    <div className="widget runs-panel">
      <form
        className="compare-form"
        aria-label="Settings of a comparison run"
        onSubmit={(e) => {
          e.preventDefault();
          if (api && valid) void startCompareRun(api, settingsOf(shown), 'runs');
        }}
      >
        <div className="compare-grid">
          {COMPARE_FIELDS.map((f) => {
            const id = `cmp-${f.key}`;
            const error = errors[f.key];
            return (
              <div className="field" key={f.key}>
                <label htmlFor={id}>{f.label}</label>
                <input
                  id={id}
                  name={id}
                  type="number"
                  inputMode={f.integer ? 'numeric' : 'decimal'}
                  step={f.step}
                  value={shown[f.key]}
                  aria-invalid={error ? true : undefined}
                  aria-describedby={error ? `${id}-error` : undefined}
                  onChange={(e) => set(f.key, e.target.value)}
                />
                {error && (
                  <p className="field-error" id={`${id}-error`}>
                    {f.label} {error}.
                  </p>
                )}
              </div>
            );
          })}
        </div>
        <div className="button-row">
          <button type="submit" className="primary" disabled={!api || !valid || busy !== null}>
            Train a comparison run
          </button>
          <button type="button" onClick={() => setValues(valuesFrom(hp, Number(shown.steps) || 100))} disabled={!hp}>
            Use the lab’s settings
          </button>
          {runs.length > 0 && (
            <button type="button" onClick={clearRuns} disabled={busy === 'compare'}>
              Clear the runs
            </button>
          )}
        </div>
      </form>
      {busy === 'compare' && progress?.job === 'compare' && progress.source === 'runs' && (
        <JobProgress label={progress.label} value={progress.value} max={progress.max} detail={progress.detail} />
      )}
      {message && (
        <p className={message.kind === 'error' ? 'widget-error' : 'widget-note'} role={message.kind === 'error' ? 'alert' : 'status'}>
          {message.text}
        </p>
      )}
      <CompareChart
        series={series}
        xLabel="step"
        yLabel="train loss"
        theme={theme}
        label={
          runs.length === 0
            ? 'Training loss of comparison runs: none yet.'
            : `Training loss by step of ${runs.length} comparison run${runs.length === 1 ? '' : 's'}: ` +
              runs.map((r, i) => `run ${i + 1} (${r.label}) ends at ${formatNats(r.losses[r.losses.length - 1])}`).join('; ')
        }
      />
      {runs.length === 0 ? (
        <p className="muted">No runs yet: train one, change a setting, train another, and compare the curves.</p>
      ) : (
        <div className="table-scroll">
          <table className="runs-table" data-testid="runs-table">
            <caption>Comparison runs kept in this page</caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Settings</th>
                <th scope="col">Parameters</th>
                <th scope="col">Last train loss</th>
                <th scope="col">Validation loss</th>
                <th scope="col">Time</th>
                <th scope="col">
                  <span className="visually-hidden">Remove</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r, i) => (
                <tr key={i}>
                  <th scope="row">{i + 1}</th>
                  <td>
                    {r.label}
                    {r.heads !== hp?.heads ? ` · heads ${r.heads}` : ''} · {r.settings.steps} steps
                  </td>
                  <td>{r.parameters.toLocaleString('en')}</td>
                  <td>{formatNats(r.losses[r.losses.length - 1])}</td>
                  <td>{r.diverged != null ? `diverged at step ${r.diverged}` : formatNats(r.valLoss)}</td>
                  <td>
                    {r.seconds.toFixed(1)} s on {r.backend}
                  </td>
                  <td>
                    <button type="button" className="link-button" onClick={() => removeRun(i)} disabled={busy === 'compare'} aria-label={`Remove run ${i + 1}`}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** The learning rate the next comparison run will follow, step by step (src/train/schedule.ts). */
export function ScheduleChart() {
  const hp = useLab((s) => s.status?.hp ?? null);
  const theme = useTheme((s) => s.theme);
  const runs = useTrainingPage((s) => s.runs);
  const last = runs.length > 0 ? runs[runs.length - 1] : null;
  // The lab's own run: its peak, floor and warmup, over its planned steps.
  const lab = useMemo(() => {
    if (!hp) return null;
    const n = Math.min(hp.steps, 5000);
    const stride = Math.max(1, Math.floor(n / 500));
    const x: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < n; i += stride) {
      x.push(i + 1);
      y.push(learningRateAt(i, hp));
    }
    return { x, y, steps: n };
  }, [hp]);
  // The last comparison run's schedule once there is one (the lab's run is far longer: one scale each).
  const series: CompareSeries[] = [];
  if (last) {
    series.push({
      label: `Run ${runs.length}: peak ${last.settings.learningRate}, warmup ${last.warmupSteps}, cosine to ${last.settings.learningRate / 10} at step ${last.settings.steps}`,
      x: last.schedule.map((_, i) => i + 1),
      y: last.schedule,
    });
  } else if (lab) {
    series.push({ label: `The lab’s run: peak ${hp!.learningRate}, warmup ${hp!.warmupSteps}, cosine to ${hp!.minLearningRate} at step ${lab.steps}`, x: lab.x, y: lab.y });
  }
  return (
    <CompareChart
      series={series}
      xLabel="step"
      yLabel="learning rate"
      theme={theme}
      height={180}
      label={
        series.length > 0
          ? `The learning rate by step: ${series[0].label}.`
          : 'The learning-rate schedule, once the lab has started.'
      }
    />
  );
}
