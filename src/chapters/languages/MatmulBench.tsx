import * as Comlink from 'comlink';
import { useId, useState } from 'react';
import { useEngine, useLab } from '../../app/store';
import type { MatmulProgress, MatmulReport } from '../../engine/jobs/measure';
import { checkSize, LOOP_FLOP_BUDGET, MATMUL_WAYS, MAX_N, MIN_N, SUGGESTED_SIZES, WAY_LABELS, WAY_SHORT, type MatmulWay } from '../../engine/measure/loop';
import { BarChart } from '../../ui/BarChart';

/**
 * The four-way matrix multiply: the reader picks n and the ways, the engine times them (job
 * `measure.matmul`), and the page shows GFLOP/s as a chart and a table, how far each result is
 * from the reference, and the WGSL the webgpu backend ran.
 */

const gflopsFormat = new Intl.NumberFormat('en', { maximumSignificantDigits: 3 });
const msFormat = new Intl.NumberFormat('en', { maximumSignificantDigits: 3 });

function formatDiff(x: number): string {
  return x === 0 ? '0' : x.toExponential(1);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function MatmulBench() {
  const api = useEngine();
  const homeBackend = useLab((s) => s.status?.backend?.name ?? null);
  const [sizeText, setSizeText] = useState('256');
  const [ways, setWays] = useState<Set<MatmulWay>>(() => new Set(MATMUL_WAYS));
  const [running, setRunning] = useState(false);
  const [progress, setProgress] = useState<MatmulProgress | null>(null);
  const [report, setReport] = useState<MatmulReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [fieldError, setFieldError] = useState<{ field: string; message: string } | null>(null);
  const id = useId();

  const size = Number(sizeText);
  const sizeProblem = sizeText.trim() === '' ? 'the size must be a number' : checkSize(size);
  const waysProblem = ways.size === 0 ? 'choose at least one way to run' : null;

  async function run() {
    setFieldError(null);
    setError(null);
    if (sizeProblem) return setFieldError({ field: 'n', message: sizeProblem });
    if (waysProblem) return setFieldError({ field: 'ways', message: waysProblem });
    if (!api) return;
    setRunning(true);
    setProgress(null);
    try {
      const chosen = MATMUL_WAYS.filter((w) => ways.has(w));
      const result = await api.measure.matmul(
        { n: size, ways: chosen },
        Comlink.proxy((p: MatmulProgress) => setProgress(p)),
      );
      setReport(result);
    } catch (err) {
      // Comlink carries an error's name and message across (not its other fields).
      const message = messageOf(err);
      if ((err as Error)?.name === 'MeasureInputError') setFieldError({ field: /size/.test(message) ? 'n' : 'ways', message });
      else if ((err as Error)?.name === 'JobCancelledError' || /^Stopped\.?$/.test(message)) setError('Stopped before every way was timed.');
      else setError(`The benchmark failed: ${message}`);
    } finally {
      setRunning(false);
      setProgress(null);
    }
  }

  const toggle = (way: MatmulWay, on: boolean) =>
    setWays((prev) => {
      const next = new Set(prev);
      if (on) next.add(way);
      else next.delete(way);
      return next;
    });

  const sizeError = fieldError?.field === 'n' ? fieldError.message : null;
  const waysError = fieldError?.field === 'ways' ? fieldError.message : null;
  const ran = report?.ways.filter((w) => w.available) ?? [];
  const fastest = ran.reduce<number>((m, w) => Math.max(m, w.gflops), 0);
  const slowest = ran.reduce<number>((m, w) => Math.min(m, w.gflops), Infinity);

  return (
    <section className="widget matmul-bench" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>The same matrix multiply, four ways</h3>
      <form
        className="widget-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <div className="field">
          <label htmlFor={`${id}-n`}>Matrix size n (A and B are n × n)</label>
          <input
            id={`${id}-n`}
            type="number"
            inputMode="numeric"
            min={MIN_N}
            max={MAX_N}
            step={1}
            list={`${id}-sizes`}
            value={sizeText}
            aria-invalid={sizeError ? true : undefined}
            aria-describedby={`${id}-n-hint${sizeError ? ` ${id}-n-error` : ''}`}
            onChange={(e) => {
              setSizeText(e.target.value);
              if (fieldError?.field === 'n') setFieldError(null);
            }}
          />
          <datalist id={`${id}-sizes`}>
            {SUGGESTED_SIZES.map((s) => (
              <option key={s} value={s} />
            ))}
          </datalist>
          <p className="field-hint" id={`${id}-n-hint`}>
            {MIN_N} to {MAX_N}. One product is 2n³ = {Number.isFinite(size) && !sizeProblem ? (2 * size ** 3).toLocaleString('en') : '…'} floating-point operations.
          </p>
          {sizeError && (
            <p className="field-error" id={`${id}-n-error`} role="alert">
              {sizeError}
            </p>
          )}
        </div>
        <fieldset className="ways" aria-describedby={waysError ? `${id}-ways-error` : undefined}>
          <legend>Ways to run</legend>
          {MATMUL_WAYS.map((w) => (
            <label key={w} className="check">
              <input type="checkbox" checked={ways.has(w)} onChange={(e) => toggle(w, e.target.checked)} /> {WAY_LABELS[w]}
            </label>
          ))}
          {waysError && (
            <p className="field-error" id={`${id}-ways-error`} role="alert">
              {waysError}
            </p>
          )}
        </fieldset>
        <div className="button-row">
          <button type="submit" className="primary" disabled={!api || running}>
            {running ? 'Measuring…' : 'Run the benchmark'}
          </button>
          {running && (
            <button type="button" onClick={() => void api?.cancelJob()}>
              Stop
            </button>
          )}
        </div>
        <p className="busy-note" aria-live="polite">
          {!api
            ? 'The lab is starting; the benchmark can run once it has a model.'
            : running
              ? (progress?.message ?? 'Starting…')
              : `The loop computes at most ${(LOOP_FLOP_BUDGET / 1e6).toFixed(0)} million flops per product (n = 512); above that it does the first rows only. A way whose first product takes over 2 s is not run again.`}
        </p>
      </form>
      {error && (
        <p className="widget-error" role="alert">
          {error}
        </p>
      )}
      {report && (
        <div className="matmul-result" data-testid="matmul-result" data-n={report.n}>
          <BarChart
            bars={report.ways.map((w) => ({
              label: WAY_SHORT[w.way],
              value: w.available ? w.gflops : NaN,
              note: w.available ? undefined : 'unavailable',
              emphasis: w.way === homeBackend,
            }))}
            scale={fastest / slowest > 20 ? 'log' : 'linear'}
            unit={`GFLOP/s at n = ${report.n}${fastest / slowest > 20 ? ' (log scale: each grid line is ten times the last)' : ''}; higher is faster.${
              report.ways.some((w) => w.way === homeBackend) ? ' Orange: the backend your model trains on.' : ''
            }`}
            summary={`Bar chart of GFLOP/s at n = ${report.n}: ${report.ways
              .map((w) => `${WAY_LABELS[w.way]} ${w.available ? gflopsFormat.format(w.gflops) : 'unavailable'}`)
              .join('; ')}.`}
            format={(v) => `${gflopsFormat.format(v)} GFLOP/s`}
          />
          <div className="table-scroll" tabIndex={0} role="region" aria-label="Benchmark results">
            <table className="data-table matmul-table">
              <caption>
                C = A·B at n = {report.n}, compared with {report.reference ? WAY_SHORT[report.reference] : 'nothing (no way ran)'}
                {report.referenceMaxAbs != null && ` (largest entry ${report.referenceMaxAbs.toFixed(1)})`}.
              </caption>
              <thead>
                <tr>
                  <th scope="col">Way</th>
                  <th scope="col">GFLOP/s</th>
                  <th scope="col">ms per product (median, best)</th>
                  <th scope="col">Rows of C</th>
                  <th scope="col">Largest |C − C<sub>ref</sub>|</th>
                </tr>
              </thead>
              <tbody>
                {report.ways.map((w) => (
                  <tr key={w.way} data-way={w.way} data-available={w.available} data-gflops={w.available ? w.gflops : ''}>
                    <th scope="row">
                      {WAY_SHORT[w.way]}
                      {w.way === homeBackend && <span className="tag">your model’s</span>}
                    </th>
                    <td className="num">{w.available ? gflopsFormat.format(w.gflops) : 'unavailable'}</td>
                    <td className="num">{w.available ? `${msFormat.format(w.medianMs)}, ${msFormat.format(w.bestMs)}` : '—'}</td>
                    <td className="num">{w.available ? (w.rows === report.n ? 'all' : `${w.rows} of ${report.n}`) : '—'}</td>
                    <td className="num" data-diff={w.maxAbsDiff ?? ''}>
                      {w.available ? (w.maxAbsDiff == null ? 'reference' : formatDiff(w.maxAbsDiff)) : '—'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <ul className="way-notes" aria-label="Where each way ran">
            {report.ways.map((w) => (
              <li key={w.way} data-way={w.way}>
                <strong>{WAY_SHORT[w.way]}</strong>:{' '}
                <span className="reason">
                  {w.available ? w.reason : `unavailable: ${w.reason}`}
                  {w.warmUpOnly && '; one run only (it took over 2 s), so its time includes the warm-up’s extra costs'}
                </span>
              </li>
            ))}
          </ul>
          {report.shader ? (
            <div className="wgsl">
              <h4>The WGSL kernel WebGPU ran</h4>
              <p>
                tfjs chose its <code>{report.shader.name}</code> program for this size: workgroups of{' '}
                {report.shader.workgroupSize.join(' × ')} threads, dispatched {report.shader.dispatch.join(' × ')} times (x × y × z). Each
                thread computes a small tile of C. Cache key: <code className="break">{report.shader.shaderKey}</code>.
              </p>
              <p>The kernel’s body, as the program writes it:</p>
              <pre className="code-block" tabIndex={0} aria-label="WGSL of the matmul kernel's body" data-testid="wgsl-kernel">
                {report.shader.userCode.replace(/^\s*\n/, '').replace(/\n\s*\n(\s*\n)+/g, '\n\n').trimEnd()}
              </pre>
              {report.shader.source ? (
                <details>
                  <summary>The whole shader module tfjs compiled ({report.shader.source.split('\n').length} lines: bindings, shape uniforms, index helpers, then the body)</summary>
                  <pre className="code-block" tabIndex={0} aria-label="WGSL source of the whole shader module" data-testid="wgsl-source">
                    {report.shader.source}
                  </pre>
                </details>
              ) : (
                <p className="muted">(The whole module could not be read on this device; the body above is what the program contributes.)</p>
              )}
            </div>
          ) : (
            <p className="muted" data-testid="wgsl-missing">
              No WGSL to show: {report.ways.some((w) => w.way === 'webgpu') ? 'WebGPU did not run here (see its row).' : 'WebGPU was not among the ways chosen.'}
            </p>
          )}
        </div>
      )}
    </section>
  );
}
