import * as Comlink from 'comlink';
import { useState } from 'react';
import { useEngine, useLab } from '../../app/store';
import type { GrowthRow, MemorisationJobResult, MemorisationProgress, ShownSide } from '../../engine/jobs/safety';
import { JobStatus, Message, messageOf, percent, wasStopped } from './shared';

interface Field {
  name: 'prefixLength' | 'continuationLength' | 'samples';
  label: string;
  min: number;
  max: number;
}

const FIELDS: Field[] = [
  { name: 'prefixLength', label: 'Prompt length K (characters)', min: 1, max: 512 },
  { name: 'continuationLength', label: 'Continuation M to reproduce (characters)', min: 1, max: 256 },
  { name: 'samples', label: 'Passages per set', min: 1, max: 256 },
];

/** Verbatim memorisation of the reader's model, and its growth on scratch models. */
export function Memorisation() {
  const api = useEngine();
  const contextLength = useLab((s) => s.status?.hp?.contextLength ?? null);
  const [values, setValues] = useState<Record<Field['name'], string>>({ prefixLength: '64', continuationLength: '32', samples: '64' });
  const [progress, setProgress] = useState<MemorisationProgress | null>(null);
  const [running, setRunning] = useState<'reader' | 'growth' | null>(null);
  const [result, setResult] = useState<MemorisationJobResult | null>(null);
  const [message, setMessage] = useState<{ kind: 'error' | 'note'; text: string } | null>(null);

  const errors = Object.fromEntries(
    FIELDS.map((f) => {
      const v = Number(values[f.name]);
      const bad = values[f.name].trim() === '' || !Number.isInteger(v) || v < f.min || v > f.max;
      return [f.name, bad ? `A whole number from ${f.min} to ${f.max}.` : null];
    }),
  ) as Record<Field['name'], string | null>;
  const invalid = FIELDS.some((f) => errors[f.name] != null);

  const run = async (growth: boolean) => {
    if (!api || invalid) return;
    setRunning(growth ? 'growth' : 'reader');
    setMessage(null);
    setProgress(null);
    try {
      const r = await api.safety.memorisation(
        {
          prefixLength: Number(values.prefixLength),
          continuationLength: Number(values.continuationLength),
          samples: Number(values.samples),
          growth,
        },
        Comlink.proxy((p: MemorisationProgress) => setProgress(p)),
      );
      setResult((old) => ({ reader: r.reader, growth: r.growth ?? old?.growth ?? null }));
    } catch (err) {
      setMessage(wasStopped(err) ? { kind: 'note', text: 'Stopped.' } : { kind: 'error', text: messageOf(err) });
    } finally {
      setRunning(null);
      setProgress(null);
    }
  };

  const r = result?.reader;
  return (
    <section className="safety-widget" aria-labelledby="memo-title">
      <h3 id="memo-title">Measure memorisation</h3>
      <div className="memo-fields">
        {FIELDS.map((f) => (
          <div className="field" key={f.name}>
            <label htmlFor={`memo-${f.name}`}>{f.label}</label>
            <input
              id={`memo-${f.name}`}
              inputMode="numeric"
              value={values[f.name]}
              onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
              aria-invalid={errors[f.name] ? true : undefined}
              aria-describedby={errors[f.name] ? `memo-${f.name}-error` : undefined}
            />
            {errors[f.name] ? (
              <p id={`memo-${f.name}-error`} className="field-error">
                {errors[f.name]}
              </p>
            ) : null}
          </div>
        ))}
      </div>
      {contextLength != null && Number(values.prefixLength) + Number(values.continuationLength) > contextLength ? (
        <p className="field-hint">
          Prompt and continuation together are longer than the model’s context ({contextLength}): it will see only the last{' '}
          {contextLength} characters at each step.
        </p>
      ) : null}
      <div className="button-row">
        <button type="button" className="primary" onClick={() => void run(false)} disabled={!api || running != null || invalid}>
          {running === 'reader' ? 'Measuring…' : 'Measure your model'}
        </button>
        <button type="button" onClick={() => void run(true)} disabled={!api || running != null || invalid}>
          {running === 'growth' ? 'Training scratch models…' : 'Measure growth with steps and size (trains two small models)'}
        </button>
      </div>
      {running ? (
        <JobStatus
          label={progress?.phase === 'growth' ? `Scratch model of width ${progress.width}` : 'Your model'}
          value={progress?.done ?? 0}
          max={progress?.total ?? 1}
          detail={progress?.phase === 'growth' && progress.step != null ? `step ${progress.step}` : undefined}
        />
      ) : null}
      {message ? <Message kind={message.kind} text={message.text} /> : null}
      {r ? (
        <>
          <div className="table-scroll">
            <table className="safety-table" data-testid="memo-table">
              <caption>
                Your model: {r.train.samples} passages each, prompts of {r.prefixLength} characters, {r.continuationLength} to
                reproduce
              </caption>
              <thead>
                <tr>
                  <th scope="col">Passages from</th>
                  <th scope="col">Reproduced exactly</th>
                  <th scope="col">Mean matching start</th>
                  <th scope="col">Characters right</th>
                </tr>
              </thead>
              <tbody>
                <SideRow name="the training text" side={r.train} />
                <SideRow name="held-out text" side={r.heldOut} />
              </tbody>
            </table>
          </div>
          <Examples side={r.train} title="Three training passages: the real text and the model’s greedy continuation" />
        </>
      ) : null}
      {result?.growth ? <Growth growth={result.growth} /> : null}
    </section>
  );
}

function SideRow({ name, side }: { name: string; side: Omit<ShownSide, 'examples'> }) {
  return (
    <tr>
      <th scope="row">{name}</th>
      <td className="num">{percent(side.exact, 1)}</td>
      <td className="num">{side.meanMatched.toFixed(2)} chars</td>
      <td className="num">{percent(side.tokenAccuracy, 1)}</td>
    </tr>
  );
}

function Examples({ side, title }: { side: ShownSide; title: string }) {
  if (side.examples.length === 0) return null;
  return (
    <details className="memo-examples">
      <summary>{title}</summary>
      {side.examples.map((e, i) => (
        <dl key={i} className="memo-example">
          <dt>Prompt</dt>
          <dd>
            <code>{e.prompt}</code>
          </dd>
          <dt>Real text</dt>
          <dd>
            <code>{e.expected}</code>
          </dd>
          <dt>Model ({e.matched} matching)</dt>
          <dd>
            <code>
              <mark>{e.got.slice(0, e.matched)}</mark>
              {e.got.slice(e.matched)}
            </code>
          </dd>
        </dl>
      ))}
    </details>
  );
}

/** Mean matching start against training steps, one line per width and set (solid: training text, dashed: held-out). */
function Growth({ growth }: { growth: NonNullable<MemorisationJobResult['growth']> }) {
  const { rows, widths, checkpoints } = growth;
  const W = 560;
  const H = 260;
  const left = 48;
  const bottom = 36;
  const top = 16;
  const right = 120;
  const maxStep = checkpoints[checkpoints.length - 1];
  const maxY = Math.max(1, ...rows.flatMap((r) => [r.train.meanMatched, r.heldOut.meanMatched]));
  const x = (s: number) => left + (s / maxStep) * (W - left - right);
  const y = (v: number) => H - bottom - (v / maxY) * (H - top - bottom);
  const line = (pts: GrowthRow[], pick: (r: GrowthRow) => number) =>
    [{ step: 0, v: 0 }, ...pts.map((r) => ({ step: r.step, v: pick(r) }))].map((p, i) => `${i ? 'L' : 'M'}${x(p.step)},${y(p.v)}`).join(' ');
  const yTicks = [0, maxY / 2, maxY];
  const summary =
    `Memorisation growth: mean matching start on training passages for widths ${widths.join(' and ')} at steps ${checkpoints.join(', ')}. ` +
    'The table below gives every number.';
  return (
    <div className="memo-growth">
      <h4>Growth with training steps and model size</h4>
      <p className="muted">
        Each scratch model trains on the same {growth.trainCharacters.toLocaleString('en')} characters of the book; held-out
        passages come from the validation text. Prompts of {growth.prefixLength}, continuations of {growth.continuationLength}{' '}
        characters. The models are thrown away afterwards.
      </p>
      <figure className="safety-figure">
        <svg className="growth-chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary}>
          {yTicks.map((t) => (
            <g key={t}>
              <line x1={left} x2={W - right} y1={y(t)} y2={y(t)} className="grid" />
              <text x={left - 6} y={y(t) + 4} textAnchor="end" className="tick">
                {t.toFixed(1)}
              </text>
            </g>
          ))}
          {[0, ...checkpoints].map((s) => (
            <text key={s} x={x(s)} y={H - bottom + 16} textAnchor="middle" className="tick">
              {s}
            </text>
          ))}
          <text x={(left + W - right) / 2} y={H - 4} textAnchor="middle" className="tick">
            training steps
          </text>
          {widths.map((w, i) => {
            const mine = rows.filter((r) => r.width === w);
            const last = mine[mine.length - 1];
            return (
              <g key={w} className={`series-${i}`}>
                <path d={line(mine, (r) => r.train.meanMatched)} className="growth-line" />
                <path d={line(mine, (r) => r.heldOut.meanMatched)} className="growth-line held" />
                {last ? (
                  <>
                    <text x={x(last.step) + 6} y={y(last.train.meanMatched) + 4} className="tick">
                      width {w}, train
                    </text>
                    <text x={x(last.step) + 6} y={y(last.heldOut.meanMatched) + 12} className="tick">
                      width {w}, held-out
                    </text>
                  </>
                ) : null}
              </g>
            );
          })}
        </svg>
        <figcaption>Mean matching start (characters) of the greedy continuation, training text solid, held-out dashed.</figcaption>
      </figure>
      <div className="table-scroll">
        <table className="safety-table" data-testid="growth-table">
          <caption className="safety-sr-only">Memorisation by width and training steps</caption>
          <thead>
            <tr>
              <th scope="col">Width (parameters)</th>
              <th scope="col">Steps</th>
              <th scope="col">Train / val loss</th>
              <th scope="col">Exact: train</th>
              <th scope="col">Exact: held-out</th>
              <th scope="col">Matching start: train</th>
              <th scope="col">Matching start: held-out</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={`${r.width}-${r.step}`}>
                <th scope="row">
                  {r.width} ({r.parameters.toLocaleString('en')})
                </th>
                <td className="num">{r.step}</td>
                <td className="num">
                  {r.trainLoss.toFixed(2)} / {r.valLoss.toFixed(2)}
                </td>
                <td className="num">{percent(r.train.exact, 1)}</td>
                <td className="num">{percent(r.heldOut.exact, 1)}</td>
                <td className="num">{r.train.meanMatched.toFixed(2)}</td>
                <td className="num">{r.heldOut.meanMatched.toFixed(2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
