import { useId, useMemo, useState } from 'react';
import { useEngine, useLab } from '../../app/store';
import type { NextTokenView, SampleTextView } from '../../engine/jobs/inspect';
import { EngineWaiting, ErrorLine, nameChar, ScrollBox, showChar, StepNote, useDebounced, useEngineCall, PromptField } from './shared';

/**
 * Next-token prediction: the last position's distribution over every character for the reader's
 * prompt, after each of temperature, top-k and top-p in turn (computed in the engine by the same
 * function the sampler uses), and text sampled with those settings.
 */

const SHOWN = 24;
/** Lengths a sample may have: each character is one forward pass of the model. */
const SAMPLE_LENGTHS = [20, 60, 200];

type Stage = 'plain' | 'tempered' | 'topK' | 'final';

const pct = (p: number) => (p === 0 ? '0' : p < 0.001 ? '<0.1%' : `${(100 * p).toFixed(1)}%`);

export function NextToken() {
  const api = useEngine();
  const vocabSize = useLab((s) => s.status?.hp?.vocabSize ?? 89);
  const ids = useId();
  const [prompt, setPrompt] = useState('I thought I would sail about a little and see the wat');
  const [temperature, setTemperature] = useState(1);
  const [topK, setTopK] = useState(0);
  const [topP, setTopP] = useState(1);
  const [asked, setAsked] = useState(false);
  const [length, setLength] = useState(60);
  const call = useEngineCall<NextTokenView & { step: number }>();
  const sample = useEngineCall<SampleTextView & { seed: number; prompt: string }>();
  const empty = prompt.length === 0;
  const k = Math.min(topK, vocabSize);

  const predict = () => {
    setAsked(true);
    call.run((a) => a.inspect.nextToken({ prompt, temperature, topK: k, topP }));
  };
  useDebounced(predict, [prompt, temperature, k, topP], asked && api != null && !empty, 250);
  const draw = () => {
    const seed = Math.floor(Math.random() * 2 ** 31);
    sample.run(async (a) => ({ ...(await a.inspect.sample({ prompt, temperature, topK: k, topP, maxTokens: length, seed })), seed, prompt }));
  };

  const n = call.result;
  const order = useMemo(() => (n ? Array.from(n.plain.keys()).sort((x, y) => n.plain[y] - n.plain[x]) : []), [n]);
  const stages: { key: Stage; title: string; note: string }[] = n
    ? [
        { key: 'plain', title: 'softmax(logits)', note: 'what the model says, temperature 1' },
        { key: 'tempered', title: `÷ temperature ${n.settings.temperature}`, note: n.settings.temperature === 0 ? 'temperature 0: all on the likeliest' : 'logits divided, then softmax' },
        { key: 'topK', title: n.settings.topK > 0 ? `top-k ${n.settings.topK}` : 'top-k off', note: n.settings.topK > 0 ? `only the ${n.settings.topK} likeliest kept` : 'every token kept' },
        { key: 'final', title: n.settings.topP < 1 ? `top-p ${n.settings.topP}` : 'top-p off', note: 'what sampling draws from' },
      ]
    : [];
  const top = n ? Math.max(...stages.map((s) => Math.max(...order.slice(0, SHOWN).map((i) => n[s.key][i])))) : 1;

  return (
    <div className="tf-widget" data-testid="next-token-widget">
      <div className="tf-controls">
        <PromptField id={`${ids}-prompt`} value={prompt} onChange={setPrompt} />
        <button type="button" className="primary" onClick={predict} disabled={!api || call.busy || empty}>
          {n ? 'Predict again' : 'Predict the next character'}
        </button>
      </div>
      <div className="tf-sliders">
        <div className="field">
          <label htmlFor={`${ids}-t`}>Temperature</label>
          <input id={`${ids}-t`} type="range" min={0} max={2} step={0.05} value={temperature} onChange={(e) => setTemperature(Number(e.target.value))} />
          <output htmlFor={`${ids}-t`}>{temperature === 0 ? '0 (greedy)' : temperature.toFixed(2)}</output>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-k`}>Top-k</label>
          <input id={`${ids}-k`} type="range" min={0} max={vocabSize} step={1} value={k} onChange={(e) => setTopK(Number(e.target.value))} />
          <output htmlFor={`${ids}-k`}>{k === 0 ? 'off (all)' : k}</output>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-p`}>Top-p</label>
          <input id={`${ids}-p`} type="range" min={0.05} max={1} step={0.05} value={topP} onChange={(e) => setTopP(Number(e.target.value))} />
          <output htmlFor={`${ids}-p`}>{topP >= 1 ? '1 (off)' : topP.toFixed(2)}</output>
        </div>
      </div>
      {!api ? <EngineWaiting /> : null}
      <ErrorLine error={call.error} />
      {n ? (
        <div
          data-testid="next-token"
          data-step={n.step}
          data-temperature={n.settings.temperature}
          data-top-k={n.settings.topK}
          data-top-p={n.settings.topP}
        >
          <StepNote step={n.step} onRefresh={predict} busy={call.busy} />
          {n.cropped > 0 ? (
            <p className="tf-note">The model reads the prompt’s last {n.chars.length} characters (its context).</p>
          ) : null}
          <div className="tf-dists">
            {stages.map((s) => (
              <div key={s.key} className="tf-dist">
                <p className="tf-dist-title">
                  <strong>{s.title}</strong> <span className="muted">— {s.note}</span>
                </p>
                <div
                  className="tf-bars"
                  role="img"
                  aria-label={`${s.title}: ${order
                    .slice(0, 5)
                    .map((i) => `${nameChar(n.vocabulary[i])} ${pct(n[s.key][i])}`)
                    .join(', ')}`}
                >
                  {order.slice(0, SHOWN).map((i) => (
                    <span key={i} className="tf-bar-col">
                      <span className="tf-bar-fill" style={{ height: `${(100 * n[s.key][i]) / top}%` }} />
                      <span className="tf-bar-label">{showChar(n.vocabulary[i])}</span>
                    </span>
                  ))}
                </div>
              </div>
            ))}
          </div>
          <p className="tf-note">
            The {SHOWN} likeliest of {n.vocabulary.length} characters, in the order the model ranks them; bars share one scale.
          </p>
          <details className="tf-details">
            <summary>Every character’s logit and probabilities</summary>
            <ScrollBox label="Every character’s logit and probabilities">
              <table className="tf-table tf-numbers" data-testid="next-token-table">
                <thead>
                  <tr>
                    <th scope="col">Character</th>
                    <th scope="col">Logit</th>
                    <th scope="col">softmax</th>
                    <th scope="col">÷ T</th>
                    <th scope="col">top-k</th>
                    <th scope="col">top-p</th>
                  </tr>
                </thead>
                <tbody>
                  {order.map((i) => (
                    <tr key={i} data-id={i}>
                      <th scope="row">{nameChar(n.vocabulary[i])}</th>
                      <td data-col="logit" data-value={n.logits[i]}>
                        {n.logits[i].toFixed(3)}
                      </td>
                      {(['plain', 'tempered', 'topK', 'final'] as const).map((key) => (
                        <td key={key} data-col={key} data-value={n[key][i]}>
                          {pct(n[key][i])}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollBox>
          </details>
        </div>
      ) : null}
      <div className="tf-sample">
        <div className="button-row">
          <label htmlFor={`${ids}-len`}>Characters</label>
          <select id={`${ids}-len`} className="tf-narrow" value={length} onChange={(e) => setLength(Number(e.target.value))}>
            {SAMPLE_LENGTHS.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
          <button type="button" onClick={draw} disabled={!api || sample.busy || empty}>
            Sample with these settings
          </button>
          {sample.busy ? <span className="busy-note">Sampling…</span> : null}
        </div>
        <ErrorLine error={sample.error} />
        {sample.result ? (
          <p className="tf-sample-text" data-testid="sample-text">
            <span className="muted">{sample.result.prompt}</span>
            <strong>{sample.result.text}</strong>
            <span className="tf-sample-meta">
              {' '}
              (step {sample.result.step}, seed {sample.result.seed})
            </span>
          </p>
        ) : null}
      </div>
    </div>
  );
}
