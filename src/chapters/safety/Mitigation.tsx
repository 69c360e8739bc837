import * as Comlink from 'comlink';
import { useState } from 'react';
import { useEngine } from '../../app/store';
import type { ScoredText } from '../../corpus/counterfactual';
import type { MitigateProgress, MitigateResult } from '../../engine/jobs/safety';
import { ProbeChart, ProbeTable } from './ProbeChart';
import { JobStatus, Message, messageOf, signed, wasStopped } from './shared';

const DEFAULT_STEPS = '100';
const MAX_STEPS = 2000;
const RATES = ['0.0001', '0.0003', '0.001'] as const;

const PHASES: Record<MitigateProgress['phase'], string> = {
  'probe-before': 'Probing before',
  'validation-before': 'Validation loss before',
  'fine-tune': 'Fine-tuning on the counterfactual corpus',
  'probe-after': 'Probing after',
  'validation-after': 'Validation loss after',
};

/** Counterfactual data augmentation on the reader's model, with the probe and validation loss around it. */
export function Mitigation({ pairs }: { pairs: ScoredText[] }) {
  const api = useEngine();
  const [steps, setSteps] = useState(DEFAULT_STEPS);
  const [rate, setRate] = useState<string>(RATES[0]);
  const [progress, setProgress] = useState<MitigateProgress | null>(null);
  const [running, setRunning] = useState(false);
  const [result, setResult] = useState<MitigateResult | null>(null);
  const [message, setMessage] = useState<{ kind: 'error' | 'note'; text: string } | null>(null);

  const n = Number(steps);
  const stepsError =
    steps.trim() === '' || !Number.isInteger(n) || n < 1 || n > MAX_STEPS ? `Steps must be a whole number from 1 to ${MAX_STEPS}.` : null;

  const run = async () => {
    if (!api || stepsError) return;
    setRunning(true);
    setMessage(null);
    setProgress(null);
    try {
      const r = await api.safety.mitigate(
        { steps: n, learningRate: Number(rate), pairs },
        Comlink.proxy((p: MitigateProgress) => setProgress(p)),
      );
      setResult(r);
    } catch (err) {
      setMessage(
        wasStopped(err)
          ? { kind: 'note', text: 'Stopped: the weights were put back as they were before the fine-tuning.' }
          : { kind: 'error', text: messageOf(err) },
      );
    } finally {
      setRunning(false);
      setProgress(null);
    }
  };

  const cost = result ? result.valLossAfter - result.valLossBefore : 0;
  return (
    <section className="safety-widget" aria-labelledby="mitigate-title">
      <h3 id="mitigate-title">Counterfactual fine-tuning of your model</h3>
      <form
        className="mitigate-form"
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <div className="field">
          <label htmlFor="mitigate-steps">Fine-tuning steps</label>
          <input
            id="mitigate-steps"
            inputMode="numeric"
            value={steps}
            onChange={(e) => setSteps(e.target.value)}
            aria-invalid={stepsError ? true : undefined}
            aria-describedby={stepsError ? 'mitigate-steps-error' : 'mitigate-steps-hint'}
          />
          {stepsError ? (
            <p id="mitigate-steps-error" className="field-error">
              {stepsError}
            </p>
          ) : (
            <p id="mitigate-steps-hint" className="field-hint">
              Each step is one batch, half original text and half swapped.
            </p>
          )}
        </div>
        <div className="field">
          <label htmlFor="mitigate-rate">Learning rate</label>
          <select id="mitigate-rate" value={rate} onChange={(e) => setRate(e.target.value)}>
            {RATES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <div className="button-row">
          <button type="submit" className="primary" disabled={!api || running || stepsError != null}>
            {running ? 'Fine-tuning…' : 'Run counterfactual fine-tuning'}
          </button>
        </div>
      </form>
      <p className="muted">
        This changes your model’s weights (the lab saves the result); Stop puts them back as they were.
      </p>
      {running ? (
        <JobStatus
          label={progress ? PHASES[progress.phase] : 'Starting'}
          value={progress?.phase === 'fine-tune' ? progress.step : progress?.phase.endsWith('after') ? n : 0}
          max={n}
          detail={
            progress?.phase === 'fine-tune'
              ? `step ${progress.step} of ${progress.steps}${progress.loss != null ? `, loss ${progress.loss.toFixed(3)}` : ''}`
              : undefined
          }
        />
      ) : null}
      {message ? <Message kind={message.kind} text={message.text} /> : null}
      {result ? (
        <div className="mitigate-result" data-testid="mitigate-result">
          <dl className="safety-figures">
            <div>
              <dt>Mean gap</dt>
              <dd>
                <span data-testid="mitigate-gap-before" data-value={result.before.meanGap}>
                  {signed(result.before.meanGap)}
                </span>{' '}
                →{' '}
                <span data-testid="mitigate-gap-after" data-value={result.after.meanGap}>
                  {signed(result.after.meanGap)}
                </span>{' '}
                nats
              </dd>
            </div>
            <div>
              <dt>Mean |gap|</dt>
              <dd>
                {result.before.meanAbsGap.toFixed(2)} → {result.after.meanAbsGap.toFixed(2)} nats
              </dd>
            </div>
            <div>
              <dt>Validation loss (the cost)</dt>
              <dd>
                <span data-testid="mitigate-val-before">{result.valLossBefore.toFixed(4)}</span> →{' '}
                <span data-testid="mitigate-val-after">{result.valLossAfter.toFixed(4)}</span> ({signed(cost, 4)})
              </dd>
            </div>
            <div>
              <dt>Data</dt>
              <dd>
                {result.swappedWords.toLocaleString('en')} words swapped
                {result.skippedWords > 0 ? `, ${result.skippedWords} left for want of characters` : ''}; {result.steps} steps at{' '}
                {result.learningRate}
              </dd>
            </div>
          </dl>
          <div className="before-after">
            <ProbeChart
              before={result.before}
              after={result.after}
              caption="The same probe before and after counterfactual fine-tuning (gaps in nats)."
            />
            <ProbeTable before={result.before} after={result.after} testId="mitigate-table" />
          </div>
        </div>
      ) : null}
    </section>
  );
}
