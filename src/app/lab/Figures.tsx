import type { EngineStatus } from '../../engine/protocol';
import { BACKEND_LABELS } from '../../ui/BackendBadge';
import { formatCompact, formatDuration, formatInteger, formatLoss, formatMegabytes } from '../format';
import { history, useLab } from '../store';

const ORIGIN_TEXT: Record<EngineStatus['origin'], string> = {
  pretrained: 'the pretrained checkpoint',
  scratch: 'random (from scratch)',
  restored: 'your last session',
  imported: 'an imported checkpoint',
};

/** The last validation loss in the history (it is measured only every so often). */
function lastValLoss(): number | null {
  for (let i = history.length - 1; i >= 0; i--) {
    const v = history.valLoss[i];
    if (v !== null) return v;
  }
  return null;
}

/** The run's numbers: speed, time, memory, where the weights came from. */
export function Figures() {
  const status = useLab((s) => s.status);
  const latest = useLab((s) => s.latest);
  useLab((s) => s.historyVersion); // re-read the history when it changes

  const hp = status?.hp ?? null;
  const step = Math.max(status?.step ?? 0, latest?.step ?? 0);
  const tps = latest?.tokensPerSecond ?? null;
  let left: string = '—';
  if (hp && tps && tps > 0) {
    const remaining = Math.max(hp.steps - step, 0);
    left = remaining === 0 ? 'done' : formatDuration((remaining * hp.batchSize * hp.contextLength) / tps);
  }

  const rows: [string, string][] = [
    ['Step', hp ? `${formatInteger(step)} of ${formatInteger(hp.steps)}` : formatInteger(step)],
    ['Train loss', formatLoss(latest?.trainLoss)],
    ['Validation loss', formatLoss(lastValLoss())],
    ['Tokens/s', tps === null ? '—' : formatInteger(tps)],
    ['Elapsed', formatDuration(latest?.elapsedSeconds)],
    ['Time left', left],
    ['Backend', status?.backend ? BACKEND_LABELS[status.backend.name] : '—'],
    [
      'Memory',
      latest ? `${formatInteger(latest.memory.numTensors)} tensors, ${formatMegabytes(latest.memory.numBytes)}` : '—',
    ],
    ['Parameters', status?.parameters ? formatCompact(status.parameters) : '—'],
    ['Learning rate', latest ? latest.learningRate.toExponential(2) : hp ? hp.learningRate.toExponential(2) : '—'],
    ['Weights from', status ? ORIGIN_TEXT[status.origin] : '—'],
    ['Saved in this browser', status?.lastSavedStep != null ? `at step ${formatInteger(status.lastSavedStep)}` : 'not yet'],
  ];

  return (
    <dl className="figures">
      {rows.map(([k, v]) => (
        <div key={k} className="figure">
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
