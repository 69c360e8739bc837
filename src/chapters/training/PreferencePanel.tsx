import * as Comlink from 'comlink';
import { useState } from 'react';
import { useEngine } from '../../app/store';
import type { Preference, PreferencePair, PreferenceResult } from '../../engine/jobs/tuning';
import { JobProgress } from './JobProgress';
import { formatNats, messageOf, useTrainingPage, wasStopped } from './state';

/** Picks suggested before a step; one is enough to run it. */
const SUGGESTED_PICKS = 4;
const DPO_STEPS = 8;

/** RLHF, small: two samples, the reader's pick, and a DPO step on the picks so far. */
export function PreferencePanel() {
  const api = useEngine();
  const busy = useTrainingPage((s) => s.busy);
  const progress = useTrainingPage((s) => s.progress);
  const { setBusy, setProgress } = useTrainingPage.getState();
  const [prompt, setPrompt] = useState('Who are you?');
  const [promptError, setPromptError] = useState<string | null>(null);
  const [pair, setPair] = useState<PreferencePair | null>(null);
  const [draws, setDraws] = useState(0);
  const [picks, setPicks] = useState<Preference[]>([]);
  const [result, setResult] = useState<PreferenceResult | null>(null);
  const [message, setMessage] = useState<{ kind: 'error' | 'note'; text: string } | null>(null);
  const [beta, setBeta] = useState('0.1');
  const [learningRate, setLearningRate] = useState('0.0003');
  const betaValue = Number(beta);
  const lrValue = Number(learningRate);
  const betaError = beta.trim() === '' || !Number.isFinite(betaValue) || betaValue <= 0 || betaValue > 10 ? 'β must be a number above 0 and at most 10.' : null;
  const lrError =
    learningRate.trim() === '' || !Number.isFinite(lrValue) || lrValue <= 0 || lrValue > 1
      ? 'The learning rate must be a number above 0 and at most 1.'
      : null;

  const draw = async () => {
    if (!api || busy !== null) return;
    if (prompt.trim() === '') {
      setPromptError('The prompt is empty: write a question.');
      return;
    }
    setBusy('pair');
    setMessage(null);
    try {
      // Seeds 1–2 for the first draw, 3–4 for the next…: every draw is new, and reproducible.
      const next = await api.tuning.preferencePair(prompt.trim(), 2 * draws + 1);
      setDraws((d) => d + 1);
      setPair(next);
      setPromptError(null);
    } catch (err) {
      setPromptError(messageOf(err));
    } finally {
      setBusy(null);
    }
  };

  const pick = (which: 0 | 1) => {
    if (!pair) return;
    if (pair.answers[0] === pair.answers[1]) {
      setMessage({ kind: 'note', text: 'The two answers are the same text: draw again.' });
      return;
    }
    setPicks((ps) => [...ps, { prompt: pair.prompt, chosen: pair.answers[which], rejected: pair.answers[1 - which] }]);
    setPair(null);
  };

  const step = async () => {
    if (!api || picks.length === 0 || busy !== null || betaError || lrError) return;
    setBusy('preference');
    setMessage(null);
    setProgress({ job: 'preference', label: 'DPO, step', value: 0, max: DPO_STEPS });
    try {
      const onProgress = (s: number, loss: number) =>
        setProgress({ job: 'preference', label: 'DPO, step', value: s, max: DPO_STEPS, detail: `loss ${loss.toFixed(3)}` });
      setResult(await api.tuning.preferenceStep({ choices: picks, steps: DPO_STEPS, beta: betaValue, learningRate: lrValue }, Comlink.proxy(onProgress)));
      setPicks([]);
      setPair(null); // drawn from the model before the step
    } catch (err) {
      setMessage(
        wasStopped(err)
          ? { kind: 'note', text: 'Stopped: the model is back as it was before the step.' }
          : { kind: 'error', text: messageOf(err) },
      );
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="widget preference-panel">
      <form
        className="prompt-form"
        aria-label="Draw two answers to compare"
        onSubmit={(e) => {
          e.preventDefault();
          void draw();
        }}
      >
        <div className="field">
          <label htmlFor="pref-prompt">Question to ask</label>
          <input
            id="pref-prompt"
            type="text"
            value={prompt}
            autoComplete="off"
            aria-invalid={promptError ? true : undefined}
            aria-describedby={promptError ? 'pref-prompt-error' : undefined}
            onChange={(e) => setPrompt(e.target.value)}
          />
          {promptError && (
            <p className="field-error" id="pref-prompt-error">
              {promptError}
            </p>
          )}
        </div>
        <div className="button-row">
          <button type="submit" disabled={!api || busy !== null}>
            Draw two answers
          </button>
        </div>
      </form>
      {pair && (
        <div className="pair-choice" data-testid="pref-pair">
          {pair.answers.map((a, i) => (
            <div className="choice" key={i}>
              <p className="side-title">
                Answer {i === 0 ? 'A' : 'B'} <span className="muted">(seed {pair.seeds[i]})</span>
              </p>
              <p className="model-text" data-testid={`pref-answer-${i === 0 ? 'a' : 'b'}`}>
                {a === '' ? '(nothing: the model ended at once)' : a}
              </p>
              <button type="button" onClick={() => pick(i as 0 | 1)} disabled={busy !== null}>
                {i === 0 ? 'A is better' : 'B is better'}
              </button>
            </div>
          ))}
        </div>
      )}
      <p className="widget-note" data-testid="pref-picks">
          {picks.length === 0
            ? 'No picks yet.'
            : `${picks.length} pick${picks.length === 1 ? '' : 's'} so far${picks.length < SUGGESTED_PICKS ? ` (${SUGGESTED_PICKS} or so make a clearer step)` : ''}.`}
      </p>
      <div className="run-row">
        <div className="field steps-field">
          <label htmlFor="pref-beta">β</label>
          <input
            id="pref-beta"
            type="number"
            step="any"
            value={beta}
            aria-invalid={betaError ? true : undefined}
            aria-describedby={betaError ? 'pref-beta-error' : undefined}
            onChange={(e) => setBeta(e.target.value)}
          />
          {betaError && (
            <p className="field-error" id="pref-beta-error">
              {betaError}
            </p>
          )}
        </div>
        <div className="field steps-field">
          <label htmlFor="pref-lr">DPO learning rate</label>
          <input
            id="pref-lr"
            type="number"
            step="any"
            value={learningRate}
            aria-invalid={lrError ? true : undefined}
            aria-describedby={lrError ? 'pref-lr-error' : undefined}
            onChange={(e) => setLearningRate(e.target.value)}
          />
          {lrError && (
            <p className="field-error" id="pref-lr-error">
              {lrError}
            </p>
          )}
        </div>
        <button
          type="button"
          className="primary"
          onClick={() => void step()}
          disabled={!api || picks.length === 0 || busy !== null || betaError !== null || lrError !== null}
        >
          Run a DPO step
        </button>
      </div>
      {busy === 'preference' && progress?.job === 'preference' && (
        <JobProgress label={progress.label} value={progress.value} max={progress.max} detail={progress.detail} />
      )}
      {message && (
        <p className={message.kind === 'error' ? 'widget-error' : 'widget-note'} role={message.kind === 'error' ? 'alert' : 'status'}>
          {message.text}
        </p>
      )}
      {result && <PreferenceOutcome result={result} />}
    </div>
  );
}

function PreferenceOutcome({ result }: { result: PreferenceResult }) {
  return (
    <div className="outcome" data-testid="pref-result" data-margin-before={result.marginBefore} data-margin-after={result.marginAfter}>
      <p className="widget-note">
        The preference margin — how many nats more log-probability the model gives the answers you picked than the ones you
        passed over, averaged over your picks — went from <strong>{formatNats(result.marginBefore)}</strong> to{' '}
        <strong>{formatNats(result.marginAfter)}</strong>. The DPO loss went from {formatNats(result.lossBefore)} (ln 2: the
        model is its own reference) to {formatNats(result.lossAfter)}, in {result.seconds.toFixed(1)} s.
      </p>
      <div className="table-scroll">
        <table className="answers-table" data-testid="pref-samples">
          <caption>Two samples per prompt with fixed seeds, before and after the step</caption>
          <thead>
            <tr>
              <th scope="col">Prompt and seed</th>
              <th scope="col">Before</th>
              <th scope="col">After</th>
            </tr>
          </thead>
          <tbody>
            {result.samples.flatMap((s) =>
              s.seeds.map((seed, i) => (
                <tr key={`${s.prompt}-${seed}`}>
                  <th scope="row">
                    <span className="model-text">{s.prompt}</span> <span className="muted">seed {seed}</span>
                  </th>
                  <td className="model-text">{s.before[i]}</td>
                  <td className="model-text">{s.after[i]}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}
