import * as Comlink from 'comlink';
import { useId, useState } from 'react';
import type { DataParallelProgress, DataParallelReport } from '../../engine/jobs/infra';
import type { RingMessage } from '../../train/dataParallel';
import { parameterCount, PRESETS, type PresetName } from '../../gpt/config';
import { MOBY_DICK_VOCABULARY } from '../../app/runUrl';
import { useEngine, useLab } from '../../app/store';
import { formatBytes, parsePositive, ringBytesPerWorker, scientific } from './scaling';

/** Rounds of the ring drawn as a circle of workers; the round's messages are highlighted. */
function RingDiagram({ workers, messages }: { workers: number; messages: RingMessage[] }) {
  const id = useId();
  const rounds = 2 * (workers - 1);
  const [round, setRound] = useState(0);
  const r = Math.min(round, Math.max(0, rounds - 1));
  const inRound = messages.filter((m) => (m.phase === 'reduce-scatter' ? m.step : workers - 1 + m.step) === r);
  const phase = r < workers - 1 ? 'reduce-scatter' : 'all-gather';
  const size = 240;
  const c = size / 2;
  const R = 88;
  const at = (i: number) => ({ x: c + R * Math.sin((2 * Math.PI * i) / workers), y: c - R * Math.cos((2 * Math.PI * i) / workers) });
  if (workers < 2) return <p className="muted">With one worker there is nobody to talk to: no bytes move.</p>;
  return (
    <div className="ring">
      <div className="field">
        <label htmlFor={`${id}-round`}>
          Round {r + 1} of {rounds} ({phase})
        </label>
        <input id={`${id}-round`} type="range" min={0} max={rounds - 1} value={r} onChange={(e) => setRound(Number(e.target.value))} />
      </div>
      <svg viewBox={`0 0 ${size} ${size}`} width={size} height={size} role="img" aria-label={`Ring of ${workers} workers, round ${r + 1}: each sends one chunk to the next`}>
        <defs>
          <marker id={`${id}-arrow`} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" className="ring-arrowhead" />
          </marker>
        </defs>
        {inRound.map((m) => {
          const a = at(m.from);
          const b = at(m.to);
          const dx = b.x - a.x;
          const dy = b.y - a.y;
          const len = Math.hypot(dx, dy) || 1;
          const pad = 18;
          const mid = { x: (a.x + b.x) / 2 + (dy / len) * 12, y: (a.y + b.y) / 2 - (dx / len) * 12 };
          return (
            <g key={`${m.from}-${m.to}`}>
              <line
                x1={a.x + (dx / len) * pad}
                y1={a.y + (dy / len) * pad}
                x2={b.x - (dx / len) * pad}
                y2={b.y - (dy / len) * pad}
                className={`ring-edge ring-${m.phase}`}
                markerEnd={`url(#${id}-arrow)`}
              />
              <text x={mid.x} y={mid.y} className="ring-label" textAnchor="middle" dominantBaseline="middle">
                c{m.chunk}
              </text>
            </g>
          );
        })}
        {Array.from({ length: workers }, (_, i) => {
          const p = at(i);
          return (
            <g key={i}>
              <circle cx={p.x} cy={p.y} r={15} className="ring-node" />
              <text x={p.x} y={p.y} textAnchor="middle" dominantBaseline="central" className="ring-node-label">
                {i}
              </text>
            </g>
          );
        })}
      </svg>
      <p className="muted">
        In this round worker i sends chunk c to worker i + 1, which {phase === 'reduce-scatter' ? 'adds it to its own copy' : 'overwrites its copy with the finished sum'}.
        Every worker sends at once, one chunk of {messages[0] ? formatBytes(messages[0].bytes) : '—'} or so each.
      </p>
    </div>
  );
}

const PRESET_ROWS: { label: string; parameters: number }[] = [
  ...(['tiny', 'base', 'small'] as PresetName[]).map((p) => ({
    label: `GPT Lab ${p}`,
    parameters: parameterCount({ ...PRESETS[p], vocabSize: MOBY_DICK_VOCABULARY, dropout: 0 }),
  })),
  { label: 'GPT-2 1.5B [3]', parameters: 1.5e9 },
  { label: 'GPT-3 175B [2]', parameters: 175e9 },
];

/** Data parallelism with N virtual workers in the engine, and the bytes such a step moves as models grow. */
export function DataParallelSim() {
  const api = useEngine();
  const id = useId();
  const status = useLab((s) => s.status);
  const [workers, setWorkers] = useState(4);
  const [model, setModel] = useState<'reader' | 'tiny'>('tiny');
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<string | null>(null);
  const [result, setResult] = useState<DataParallelReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [bandwidth, setBandwidth] = useState('50');
  const bw = parsePositive(bandwidth, 'the bandwidth', { max: 1e6 });

  const simulate = async () => {
    if (!api) return;
    setBusy(true);
    setError(null);
    setProgress('Starting…');
    try {
      const onProgress = (p: DataParallelProgress) => {
        setProgress(
          p.phase === 'worker'
            ? `Worker ${(p.worker ?? 0) + 1} of ${p.workers} has its gradient`
            : p.phase === 'single'
              ? 'One worker on the whole batch, for comparison'
              : p.phase === 'all-reduce'
                ? 'Ring all-reduce done'
                : 'Both updates applied and compared',
        );
      };
      const r = await api.infra.dataParallel({ workers, model, trace: true }, Comlink.proxy(onProgress));
      setResult(r);
      setProgress(null);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      setError(/stopped/i.test(message) ? null : message);
      setProgress(/stopped/i.test(message) ? 'Stopped.' : null);
    } finally {
      setBusy(false);
    }
  };

  const N = result?.workers ?? workers;
  const tableWorkers = Math.max(2, workers);
  return (
    <section className="infra-widget" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Data parallelism, simulated in the engine</h3>
      <div className="infra-fields">
        <div className="field">
          <label htmlFor={`${id}-workers`}>Workers: {workers}</label>
          <input id={`${id}-workers`} type="range" min={1} max={8} value={workers} onChange={(e) => setWorkers(Number(e.target.value))} />
        </div>
        <fieldset className="field">
          <legend>Model</legend>
          <label>
            <input type="radio" name={`${id}-model`} checked={model === 'tiny'} onChange={() => setModel('tiny')} /> a tiny one (2 layers, width 32)
          </label>
          <label>
            <input type="radio" name={`${id}-model`} checked={model === 'reader'} onChange={() => setModel('reader')} /> a copy of yours
            {status ? ` (${status.parameters.toLocaleString('en')} parameters)` : ''}
          </label>
        </fieldset>
      </div>
      <div className="button-row">
        <button type="button" className="primary" disabled={!api || busy} onClick={() => void simulate()}>
          {busy ? 'Simulating…' : 'Run one data-parallel step'}
        </button>
        {busy && (
          <button type="button" onClick={() => void api?.cancelJob()}>
            Stop
          </button>
        )}
      </div>
      <p className="muted" aria-live="polite">
        {progress}
      </p>
      {error && (
        <p className="infra-error" role="alert">
          {error}
        </p>
      )}

      {result && (
        <div className="dp-result">
          <p className={result.equal ? 'dp-verdict dp-equal' : 'dp-verdict dp-differ'} data-testid="dp-verdict">
            {result.equal ? 'Equal' : 'Different'}: {result.workers} workers on shards of {result.batchSize} windows took the same
            step as one worker on the whole batch.
          </p>
          <dl className="infra-facts" aria-label="The comparison">
            <dt>Loss, whole batch</dt>
            <dd>{result.singleLoss.toFixed(6)}</dd>
            <dt>Loss, shards weighted nₖ / B</dt>
            <dd>{result.parallelLoss.toFixed(6)}</dd>
            <dt>Gradient: ‖all-reduced − single‖ / ‖single‖</dt>
            <dd data-testid="dp-gradient">{scientific(result.gradient.relative, 2)} (largest difference {scientific(result.gradient.maxAbs, 2)})</dd>
            <dt>AdamW update: ‖Δ parallel − Δ single‖ / ‖Δ single‖</dt>
            <dd data-testid="dp-update">{scientific(result.update.relative, 2)} (largest difference {scientific(result.update.maxAbs, 2)})</dd>
            <dt>Parameters P (gradient bytes)</dt>
            <dd>
              {result.parameters.toLocaleString('en')} ({formatBytes(result.gradientBytes)})
            </dd>
            <dt>Sent per worker, measured</dt>
            <dd data-testid="dp-bytes">{Math.round(result.ring.bytesSentPerWorker.reduce((a, b) => a + b, 0) / N).toLocaleString('en')} bytes on average</dd>
            <dt>2·(N−1)/N · P · 4</dt>
            <dd data-testid="dp-expected">{Math.round(result.ring.expectedBytesPerWorker).toLocaleString('en')} bytes</dd>
            <dt>Sent in all</dt>
            <dd data-testid="dp-total">{result.ring.totalBytes.toLocaleString('en')} bytes in {result.ring.rounds} rounds</dd>
          </dl>
          <table className="infra-table">
            <caption>The workers</caption>
            <thead>
              <tr>
                <th scope="col">Worker</th>
                <th scope="col">Windows</th>
                <th scope="col">Loss on its shard</th>
                <th scope="col">Bytes sent</th>
              </tr>
            </thead>
            <tbody>
              {result.perWorker.map((w) => (
                <tr key={w.worker}>
                  <th scope="row">{w.worker}</th>
                  <td className="num">{w.windows}</td>
                  <td className="num">{w.loss.toFixed(4)}</td>
                  <td className="num">{w.bytesSent.toLocaleString('en')}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <RingDiagram key={`${result.workers}-${result.parameters}`} workers={result.workers} messages={result.ring.messages ?? []} />
        </div>
      )}

      <h4>Communication per step as the model grows</h4>
      <div className="infra-fields">
        <div className="field">
          <label htmlFor={`${id}-bw`}>Link bandwidth per worker (GB/s)</label>
          <input
            id={`${id}-bw`}
            type="text"
            inputMode="decimal"
            value={bandwidth}
            onChange={(e) => setBandwidth(e.target.value)}
            aria-invalid={bw.error != null}
            aria-describedby={`${id}-bw-msg`}
          />
          <span id={`${id}-bw-msg`} className={bw.error ? 'field-error' : 'field-hint'}>
            {bw.error ?? 'one 400 Gb/s network link carries 50 GB/s'}
          </span>
        </div>
      </div>
      <table className="infra-table">
        <caption>
          Bytes each of {tableWorkers} workers sends per step (ring all-reduce of float32 gradients), and the time at that
          bandwidth
        </caption>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Parameters</th>
            <th scope="col">Gradient</th>
            <th scope="col">Sent per worker</th>
            <th scope="col">Time</th>
          </tr>
        </thead>
        <tbody>
          {PRESET_ROWS.map((row) => {
            const bytes = ringBytesPerWorker(row.parameters, tableWorkers);
            return (
              <tr key={row.label}>
                <th scope="row">{row.label}</th>
                <td className="num">{row.parameters < 1e7 ? row.parameters.toLocaleString('en') : scientific(row.parameters)}</td>
                <td className="num">{formatBytes(row.parameters * 4)}</td>
                <td className="num">{formatBytes(bytes)}</td>
                <td className="num">{bw.value != null ? formatSeconds(bytes / (bw.value * 1e9)) : '—'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

function formatSeconds(s: number): string {
  if (s < 1e-3) return `${Number((s * 1e6).toPrecision(3))} µs`;
  if (s < 1) return `${Number((s * 1e3).toPrecision(3))} ms`;
  return `${Number(s.toPrecision(3))} s`;
}
