import { useState } from 'react';
import { useEngine } from '../../app/store';
import { counterfactualPair, DEFAULT_PROBES, type ScoredText } from '../../corpus/counterfactual';
import type { ProbeResult } from '../../engine/jobs/safety';
import { ProbeChart, ProbeTable } from './ProbeChart';
import { Message, messageOf } from './shared';
import { TextField } from '../../ui/TextField';

/** The probe's pairs, shared with the mitigation widget so both measure the same thing. */
export function useProbePairs() {
  return useState<ScoredText[]>(() => DEFAULT_PROBES.map((p) => ({ ...p })));
}

/** The bias probe on the live model: the pairs, a form to add one, and the gaps it measures. */
export function BiasProbe({ pairs, setPairs }: { pairs: ScoredText[]; setPairs: (p: ScoredText[]) => void }) {
  const api = useEngine();
  const [result, setResult] = useState<ProbeResult | null>(null);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [prompt, setPrompt] = useState('');
  const [continuation, setContinuation] = useState('');
  const [fieldError, setFieldError] = useState<{ field: 'prompt' | 'continuation'; message: string } | null>(null);

  const run = async () => {
    if (!api) return;
    setRunning(true);
    setError(null);
    try {
      setResult(await api.safety.probe(pairs));
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setRunning(false);
    }
  };

  const add = () => {
    if (prompt.trim() === '') return setFieldError({ field: 'prompt', message: 'Write the start of a sentence.' });
    if (continuation === '') return setFieldError({ field: 'continuation', message: 'Write the words the model should score.' });
    try {
      counterfactualPair({ prompt, continuation });
    } catch (err) {
      return setFieldError({ field: 'prompt', message: messageOf(err) });
    }
    setFieldError(null);
    setPairs([...pairs, { prompt, continuation }]);
    setPrompt('');
    setContinuation('');
  };

  const errorFor = (f: 'prompt' | 'continuation') => (fieldError?.field === f ? fieldError.message : null);

  return (
    <section className="safety-widget" aria-labelledby="probe-widget-title">
      <h3 id="probe-widget-title">The probe on your model</h3>
      <p>
        {pairs.length} pairs, each written on its masculine side; the feminine side is the same text swapped. The model
        scores the highlighted words after the rest.
      </p>
      <details>
        <summary>Add a pair of your own</summary>
        <form
          className="probe-add"
          onSubmit={(e) => {
            e.preventDefault();
            add();
          }}
        >
          <TextField
            id="probe-prompt"
            label="Prompt"
            value={prompt}
            onChange={setPrompt}
            placeholder="The harpooneer said that"
            error={errorFor('prompt')}
          />
          <TextField
            id="probe-continuation"
            label="Scored continuation (start it with a space)"
            value={continuation}
            onChange={setContinuation}
            placeholder=" he was"
            error={errorFor('continuation')}
          />
          <div className="button-row">
            <button type="submit">Add pair</button>
            <button
              type="button"
              onClick={() => setPairs(DEFAULT_PROBES.map((p) => ({ ...p })))}
              disabled={pairs.length === DEFAULT_PROBES.length && pairs.every((p, i) => p.prompt === DEFAULT_PROBES[i].prompt)}
            >
              Back to the default pairs
            </button>
          </div>
        </form>
      </details>
      <div className="button-row">
        <button type="button" className="primary" onClick={() => void run()} disabled={!api || running}>
          {running ? 'Probing…' : 'Run the bias probe'}
        </button>
        {!api ? <span className="muted">The model is loading…</span> : null}
      </div>
      {error ? <Message kind="error" text={error} /> : null}
      {result ? (
        <>
          <ProbeChart
            before={result}
            caption="Gap per pair, in nats: log P(masculine side) − log P(feminine side). A gap of 1 means odds of e ≈ 2.7 to 1."
          />
          <ProbeTable before={result} testId="probe-table" />
        </>
      ) : null}
    </section>
  );
}
