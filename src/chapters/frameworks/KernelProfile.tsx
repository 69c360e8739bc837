import { useId, useState } from 'react';
import { useEngine } from '../../app/store';
import type { ProfileReport } from '../../engine/jobs/measure';
import { BarChart } from '../../ui/BarChart';

/**
 * `tf.profile` of one training step of the reader's model (job `measure.profile`, on a scratch copy
 * so the reader's weights and optimizer are untouched): every kernel the step ran, aggregated by
 * name, as a chart of the largest and a sorted table with totals.
 */

const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const kb = (bytes: number) => {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
};
const CHART_ROWS = 12;

export function KernelProfile() {
  const api = useEngine();
  const id = useId();
  const [report, setReport] = useState<ProfileReport | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function run() {
    if (!api) return;
    setBusy(true);
    setError(null);
    try {
      setReport(await api.measure.profile());
    } catch (err) {
      setError(`Profiling failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setBusy(false);
    }
  }

  const by = report?.timed ? 'time' : 'bytes';
  const value = (k: ProfileReport['kernels'][number]) => (report?.timed ? k.timeMs : k.bytesAdded);
  const total = report ? (report.timed ? report.totals.timeMs : report.totals.bytesAdded) : 0;
  const counted = report?.kernels.filter((k) => !k.composite) ?? [];
  const composites = report?.kernels.filter((k) => k.composite) ?? [];

  return (
    <section className="widget kernel-profile" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Kernel profile of one training step</h3>
      <div className="button-row">
        <button type="button" className="primary" disabled={!api || busy} onClick={() => void run()}>
          {busy ? 'Profiling…' : report ? 'Profile another step' : 'Profile one training step'}
        </button>
      </div>
      <p className="busy-note" aria-live="polite">
        {!api
          ? 'The lab is starting; the profile runs on its model once it is ready.'
          : busy
            ? 'Copying the model, one warm-up step, then one profiled step…'
            : report
              ? `One step of your model (${report.config.layers} layers, width ${report.config.width}, batch ${report.config.batchSize} × ${report.config.contextLength} tokens) on ${report.backend}: ${report.totals.calls} kernel calls of ${report.totals.distinctKernels} kinds, loss ${report.loss.toFixed(3)}.`
              : 'Runs one step on a copy of your model: your weights, optimizer and step count are not touched.'}
      </p>
      {error && (
        <p className="widget-error" role="alert">
          {error}
        </p>
      )}
      {report && (
        <div data-testid="profile-result">
          <dl className="profile-totals">
            <div>
              <dt>Kernel calls</dt>
              <dd>{report.totals.calls}</dd>
            </div>
            <div>
              <dt>Kernel time</dt>
              <dd>{report.timed ? `${ms(report.totals.timeMs)} ms` : 'not measurable here'}</dd>
            </div>
            <div>
              <dt>Step, wall clock</dt>
              <dd>{ms(report.totals.wallMs)} ms</dd>
            </div>
            <div>
              <dt>Peak memory in tfjs</dt>
              <dd>{kb(report.totals.peakBytes)}</dd>
            </div>
            <div>
              <dt>Tensors left behind</dt>
              <dd>{report.totals.newTensors}</dd>
            </div>
          </dl>
          <p className="muted">Times: {report.timingNote}</p>
          {composites.length > 0 && (
            <p className="muted">
              {composites.map((k) => k.name).join(', ')}: {composites.length > 1 ? 'operations' : 'an operation'} with a custom
              gradient (tf.customGrad: the model’s fused Linear layers use it, and so does tfjs itself in places). tfjs profiles such
              an operation as a whole and also profiles the kernels inside it, so it is listed last and kept out of the totals, which
              would otherwise count its kernels twice.
            </p>
          )}
          <BarChart
            bars={counted.slice(0, CHART_ROWS).map((k) => ({ label: k.name, value: value(k) }))}
            format={(v) => (report.timed ? `${ms(v)} ms` : kb(v))}
            unit={`${report.timed ? 'Kernel time, ms' : 'Bytes created'}: the ${Math.min(CHART_ROWS, counted.length)} largest of ${counted.length} kernels`}
            summary={`Bar chart of the ${Math.min(CHART_ROWS, counted.length)} kernels with the most ${by}: ${counted
              .slice(0, CHART_ROWS)
              .map((k) => `${k.name} ${report.timed ? `${ms(k.timeMs)} ms` : kb(k.bytesAdded)}`)
              .join('; ')}.`}
          />
          <div className="table-scroll" tabIndex={0} role="region" aria-label="Kernels of one training step">
            <table className="data-table profile-table" data-testid="profile-table">
              <caption>Every kernel of the step, by {by}, largest first.</caption>
              <thead>
                <tr>
                  <th scope="col">Kernel</th>
                  <th scope="col">Calls</th>
                  <th scope="col">Time (ms)</th>
                  <th scope="col">Share</th>
                  <th scope="col">Memory created</th>
                  <th scope="col">Output shapes</th>
                </tr>
              </thead>
              <tbody>
                {report.kernels.map((k) => (
                  <tr key={k.name} data-kernel={k.name} data-composite={k.composite ? 'true' : undefined} className={k.composite ? 'composite' : undefined}>
                    <th scope="row">
                      {k.name}
                      {k.composite && <span className="tag">custom-gradient op, not counted</span>}
                    </th>
                    <td className="num" data-col="calls">
                      {k.calls}
                    </td>
                    <td className="num" data-col="time">
                      {report.timed ? ms(k.timeMs) : '—'}
                    </td>
                    <td className="num">{total > 0 && !k.composite ? `${((100 * value(k)) / total).toFixed(1)}%` : '—'}</td>
                    <td className="num">{kb(k.bytesAdded)}</td>
                    <td className="shapes">{k.outputShapes.join(', ')}</td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr data-testid="profile-total">
                  <th scope="row">Total</th>
                  <td className="num" data-col="calls">
                    {report.totals.calls}
                  </td>
                  <td className="num" data-col="time">
                    {report.timed ? ms(report.totals.timeMs) : '—'}
                  </td>
                  <td className="num">100%</td>
                  <td className="num">{kb(report.totals.bytesAdded)}</td>
                  <td />
                </tr>
              </tfoot>
            </table>
          </div>
        </div>
      )}
    </section>
  );
}
