import { useId, useState } from 'react';
import { flopsPerToken } from '../../gpt/config';
import { useLab } from '../../app/store';
import {
  ACCELERATORS,
  deviceSeconds,
  EXAMPLES,
  formatLongDuration,
  formatRate,
  parsePositive,
  scientific,
  trainingFlops,
} from './scaling';

/** 6·N·D: parameters and tokens in; FLOPs, GPU-days on named accelerators and on the reader's machine out. */
export function ScalingCalculator() {
  const status = useLab((s) => s.status);
  const latest = useLab((s) => s.latest);
  const [params, setParams] = useState('175e9');
  const [tokens, setTokens] = useState('300e9');
  const [util, setUtil] = useState('40');
  const [devices, setDevices] = useState('1024');
  const [note, setNote] = useState<string | null>(EXAMPLES[0].note);
  const id = useId();

  const n = parsePositive(params, 'the number of parameters', { max: 1e16 });
  const d = parsePositive(tokens, 'the number of tokens', { max: 1e16 });
  const u = parsePositive(util, 'the utilisation', { max: 100 });
  const k = parsePositive(devices, 'the number of accelerators', { max: 1e7, integer: true });
  const flops = n.value != null && d.value != null ? trainingFlops(n.value, d.value) : null;
  const utilisation = u.value != null ? u.value / 100 : null;

  // The reader's own machine, as measured by the lab's last training run (FLOP/s actually achieved).
  const hp = status?.hp ?? null;
  const ownFlops = hp && latest && latest.tokensPerSecond > 0 ? latest.tokensPerSecond * flopsPerToken(hp) : null;

  const pickExample = (i: number) => {
    const e = EXAMPLES[i];
    setParams(String(e.parameters.toExponential()).replace('+', ''));
    setTokens(String(e.tokens.toExponential()).replace('+', ''));
    setNote(e.note);
  };
  const pickLabModel = () => {
    if (!status || !hp) return;
    setParams(String(status.parameters));
    // One pass over Moby-Dick's training 90%.
    setTokens(String(Math.floor((status.corpus?.characters ?? 1_000_000) * 0.9)));
    setNote('The lab’s model, for one pass over its training text (one token per character).');
  };

  const field = (
    key: string,
    label: string,
    value: string,
    set: (v: string) => void,
    parsed: { error: string | null },
    hint: string,
  ) => (
    <div className="field">
      <label htmlFor={`${id}-${key}`}>{label}</label>
      <input
        id={`${id}-${key}`}
        type="text"
        inputMode="decimal"
        value={value}
        onChange={(e) => {
          set(e.target.value);
          setNote(null);
        }}
        aria-invalid={parsed.error != null}
        aria-describedby={`${id}-${key}-msg`}
      />
      <span id={`${id}-${key}-msg`} className={parsed.error ? 'field-error' : 'field-hint'}>
        {parsed.error ?? hint}
      </span>
    </div>
  );

  return (
    <section className="infra-widget" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Training compute: 6 · N · D</h3>
      <div className="button-row" role="group" aria-label="Examples">
        {EXAMPLES.map((e, i) => (
          <button type="button" key={e.id} onClick={() => pickExample(i)}>
            {e.label}
          </button>
        ))}
        <button type="button" onClick={pickLabModel} disabled={!status}>
          The lab’s model
        </button>
      </div>
      {note && <p className="muted infra-note">{note}</p>}
      <div className="infra-fields">
        {field('n', 'Parameters N', params, setParams, n, 'e.g. 1.5e9')}
        {field('d', 'Training tokens D', tokens, setTokens, d, 'e.g. 300e9')}
        {field('u', 'Utilisation (% of peak)', util, setUtil, u, 'large runs reach 30–50 % [9]')}
        {field('k', 'Accelerators', devices, setDevices, k, 'for the wall-clock column')}
      </div>
      <p className="infra-result" aria-live="polite">
        Training compute: <output data-testid="calc-flops">{flops != null ? `${scientific(flops)} FLOPs` : '—'}</output>
        {flops != null && n.value != null && d.value != null && (
          <span className="muted">
            {' '}
            = 6 × {scientific(n.value)} × {scientific(d.value)}
          </span>
        )}
      </p>
      <table className="infra-table">
        <caption>Time to train, at the utilisation above</caption>
        <thead>
          <tr>
            <th scope="col">Device</th>
            <th scope="col">Peak (dense)</th>
            <th scope="col">Device-days</th>
            <th scope="col">Wall clock on {k.value != null ? k.value.toLocaleString('en') : '—'}</th>
          </tr>
        </thead>
        <tbody>
          {ACCELERATORS.map((a) => {
            const s = flops != null && utilisation != null ? deviceSeconds(flops, a.peakFlops, utilisation) : null;
            return (
              <tr key={a.id} data-testid={`calc-row-${a.id}`}>
                <th scope="row">{a.name}</th>
                <td className="num">
                  {formatRate(a.peakFlops)} <span className="muted">{a.precision} [{a.source}]</span>
                </td>
                <td className="num" data-testid={`calc-days-${a.id}`}>
                  {s != null ? Number((s / 86400).toPrecision(3)).toLocaleString('en') : '—'}
                </td>
                <td className="num">{s != null && k.value != null ? formatLongDuration(s / k.value) : '—'}</td>
              </tr>
            );
          })}
          <tr data-testid="calc-row-own">
            <th scope="row">This machine, as the lab trains</th>
            <td className="num">{ownFlops != null ? `${formatRate(ownFlops)} measured` : 'train first'}</td>
            <td className="num">{flops != null && ownFlops != null ? Number((flops / ownFlops / 86400).toPrecision(3)).toLocaleString('en') : '—'}</td>
            <td className="num">{flops != null && ownFlops != null ? formatLongDuration(flops / ownFlops) : '—'}</td>
          </tr>
        </tbody>
      </table>
      <p className="muted">
        Device-days = FLOPs ÷ (peak × utilisation) ÷ 86,400. The wall-clock column divides by the number of accelerators,
        as if they scaled perfectly. Your machine’s row uses the FLOP/s the lab actually achieved (its utilisation is already
        in the number) and a single device.
      </p>
    </section>
  );
}
