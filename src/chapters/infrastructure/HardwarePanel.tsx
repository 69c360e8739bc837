import { useState } from 'react';
import type { CeilingReport, HardwareReport } from '../../engine/jobs/infra';
import { flopsPerToken } from '../../gpt/config';
import { useEngine, useLab } from '../../app/store';
import { formatBytes, formatRate } from './scaling';

/** Limits of the adapter that matter for training, shown first; the rest sit in a disclosure. */
const KEY_LIMITS: [string, string][] = [
  ['maxBufferSize', 'largest buffer'],
  ['maxStorageBufferBindingSize', 'largest storage binding (one tensor a kernel sees)'],
  ['maxStorageBuffersPerShaderStage', 'storage buffers per kernel'],
  ['maxComputeWorkgroupStorageSize', 'shared memory per workgroup'],
  ['maxComputeInvocationsPerWorkgroup', 'threads per workgroup'],
  ['maxComputeWorkgroupsPerDimension', 'workgroups per dispatch dimension'],
];
const BYTE_LIMITS = new Set(['maxBufferSize', 'maxStorageBufferBindingSize', 'maxUniformBufferBindingSize', 'maxComputeWorkgroupStorageSize']);

function limitValue(key: string, value: number): string {
  return BYTE_LIMITS.has(key) ? `${formatBytes(value)} (${value.toLocaleString('en')})` : value.toLocaleString('en');
}

/** The reader's machine: adapter, limits, backend, memory, and the last run's FLOP/s against the ceiling. */
export function HardwarePanel() {
  const api = useEngine();
  const status = useLab((s) => s.status);
  const latest = useLab((s) => s.latest);
  const [hw, setHw] = useState<HardwareReport | null>(null);
  const [ceiling, setCeiling] = useState<CeilingReport | null>(null);
  const [busy, setBusy] = useState<'hardware' | 'ceiling' | null>(null);
  const [error, setError] = useState<string | null>(null);

  const run = async (what: 'hardware' | 'ceiling') => {
    if (!api) return;
    setBusy(what);
    setError(null);
    try {
      if (what === 'hardware') setHw(await api.infra.hardware());
      else setCeiling(await api.infra.ceiling());
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(null);
    }
  };

  const hp = status?.hp ?? null;
  const backend = status?.backend?.name ?? null;
  const achieved = hp && latest && latest.tokensPerSecond > 0 ? latest.tokensPerSecond * flopsPerToken(hp) : null;
  const utilisation = achieved != null && ceiling && ceiling.backend === backend ? achieved / (ceiling.gflops * 1e9) : null;
  const adapter = hw?.webgpu.adapter ?? null;
  const otherLimits = hw ? Object.keys(hw.webgpu.limits).filter((k) => !KEY_LIMITS.some(([key]) => key === k)).sort() : [];

  return (
    <section className="infra-widget" aria-labelledby="hw-title">
      <h3 id="hw-title">Your machine, as the engine sees it</h3>
      <div className="button-row">
        <button type="button" className="primary" disabled={!api || busy != null} onClick={() => void run('hardware')}>
          {busy === 'hardware' ? 'Looking…' : 'Look at this machine'}
        </button>
        <button type="button" disabled={!api || busy != null} onClick={() => void run('ceiling')}>
          {busy === 'ceiling' ? 'Timing matrix products…' : 'Measure the matmul ceiling'}
        </button>
      </div>
      {!api && <p className="muted">The engine is starting…</p>}
      {error && (
        <p className="infra-error" role="alert">
          {error}
        </p>
      )}

      <dl className="infra-facts" aria-label="The machine">
        <dt>Backend in use</dt>
        <dd data-testid="hw-backend">{hw?.backend ?? backend ?? '—'}</dd>
        <dt>Why this backend</dt>
        <dd>{status?.backend?.reason ?? '—'}</dd>
        <dt>WebGPU adapter</dt>
        <dd data-testid="hw-adapter">
          {hw == null
            ? '—'
            : adapter
              ? `${[adapter.vendor, adapter.architecture, adapter.device, adapter.description].filter(Boolean).join(' · ') || 'unnamed'}${adapter.isFallbackAdapter ? ' (software fallback adapter)' : ''}`
              : hw.webgpu.reason}
        </dd>
        <dt>Logical processors</dt>
        <dd>{hw ? (hw.hardwareConcurrency ?? 'not reported') : '—'}</dd>
        <dt>Memory (RAM)</dt>
        <dd>{hw ? (hw.deviceMemoryGB != null ? `about ${hw.deviceMemoryGB} GB (rounded by the browser)` : 'not reported') : '—'}</dd>
        <dt>Cross-origin isolated</dt>
        <dd>{hw ? (hw.crossOriginIsolated ? 'yes (shared memory allowed)' : 'no') : '—'}</dd>
      </dl>

      <h4>Memory</h4>
      <dl className="infra-facts" aria-label="Memory">
        <dt>Parameters</dt>
        <dd>{status ? status.parameters.toLocaleString('en') : '—'}</dd>
        <dt>Weights (float32)</dt>
        <dd>{status ? formatBytes(status.parameters * 4) : '—'}</dd>
        <dt>AdamW moments (two per weight)</dt>
        <dd>{status ? formatBytes(status.parameters * 8) : '—'}</dd>
        <dt>Weights + moments</dt>
        <dd>{status ? formatBytes(status.parameters * 12) : '—'}</dd>
        <dt>Held by tfjs now</dt>
        <dd data-testid="hw-memory">
          {latest
            ? `${formatBytes(latest.memory.numBytes)} in ${latest.memory.numTensors.toLocaleString('en')} tensors (at training step ${latest.step.toLocaleString('en')}, updated live)`
            : hw
              ? `${formatBytes(hw.memory.numBytes)} in ${hw.memory.numTensors.toLocaleString('en')} tensors`
              : '—'}
        </dd>
      </dl>

      <h4>Speed</h4>
      <dl className="infra-facts" aria-label="Speed">
        <dt>Last training run</dt>
        <dd data-testid="hw-achieved">
          {achieved != null && hp && latest
            ? `${formatRate(achieved)} = ${Math.round(latest.tokensPerSecond).toLocaleString('en')} tokens/s × ${flopsPerToken(hp).toLocaleString('en')} FLOPs per token`
            : 'Train in the lab for a few seconds: the speed appears here.'}
        </dd>
        <dt>Matmul ceiling</dt>
        <dd data-testid="hw-ceiling">
          {ceiling
            ? `${formatRate(ceiling.gflops * 1e9)} (${ceiling.size}×${ceiling.size} in ${ceiling.seconds.toFixed(3)} s on ${ceiling.backend}; tried ${ceiling.tried.map((t) => t.size).join(', ')})`
            : 'not measured yet'}
        </dd>
        <dt>Utilisation</dt>
        <dd data-testid="hw-utilisation">
          {utilisation != null
            ? `${(utilisation * 100).toFixed(1)} % of the ceiling`
            : ceiling && backend && ceiling.backend !== backend
              ? `the ceiling was measured on ${ceiling.backend}, the model now runs on ${backend}: measure again`
              : 'needs both numbers above'}
        </dd>
      </dl>

      {hw && hw.webgpu.adapter && (
        <>
          <table className="infra-table">
            <caption>The adapter’s limits that matter most for training</caption>
            <thead>
              <tr>
                <th scope="col">Limit</th>
                <th scope="col">What it bounds</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {KEY_LIMITS.filter(([k]) => k in hw.webgpu.limits).map(([k, what]) => (
                <tr key={k}>
                  <th scope="row">
                    <code>{k}</code>
                  </th>
                  <td>{what}</td>
                  <td className="num">{limitValue(k, hw.webgpu.limits[k])}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <details>
            <summary>All {Object.keys(hw.webgpu.limits).length} limits and {hw.webgpu.features.length} features</summary>
            <ul className="infra-limits">
              {otherLimits.map((k) => (
                <li key={k}>
                  <code>{k}</code>: {limitValue(k, hw.webgpu.limits[k])}
                </li>
              ))}
            </ul>
            <p>Features: {hw.webgpu.features.length > 0 ? hw.webgpu.features.join(', ') : 'none beyond the core'}</p>
          </details>
        </>
      )}
    </section>
  );
}
