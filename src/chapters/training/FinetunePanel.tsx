import * as Comlink from 'comlink';
import { useState } from 'react';
import { useEngine, useLab } from '../../app/store';
import { formatPair, PAIR_OVERHEAD, SFT_PAIRS, type PairError, type QAPair } from '../../corpus/sft';
import type { FinetuneProgress, FinetuneResult } from '../../engine/jobs/tuning';
import { JobProgress } from './JobProgress';
import { formatNats, messageOf, useTrainingPage, wasStopped } from './state';

const DEFAULT_STEPS = 60;
const MAX_STEPS = 2000;
const DEFAULT_LEARNING_RATE = '0.0003';

/** Problems a pair has that the page can see without the engine (the engine checks the vocabulary). */
function localErrors(pair: QAPair, contextLength: number | null): PairError[] {
  const errors: PairError[] = [];
  if (pair.question.trim() === '') errors.push({ field: 'question', message: 'The question is empty: write a few words.' });
  if (pair.answer.trim() === '') errors.push({ field: 'answer', message: 'The answer is empty: write a few words.' });
  if (errors.length === 0 && contextLength != null) {
    const length = formatPair(pair).length;
    if (length > contextLength) {
      errors.push({
        field: pair.answer.length >= pair.question.length ? 'answer' : 'question',
        message:
          `Together with its chat labels the pair is ${length} characters, ${length - contextLength} more than the model’s context of ${contextLength}: ` +
          `question and answer may have ${Math.max(contextLength - PAIR_OVERHEAD, 0)} characters between them.`,
      });
    }
  }
  return errors;
}

/** Supervised fine-tuning of the reader's model: their pairs, the run, and the answers before and after. */
export function FinetunePanel() {
  const api = useEngine();
  const contextLength = useLab((s) => s.status?.hp?.contextLength ?? null);
  const busy = useTrainingPage((s) => s.busy);
  const progress = useTrainingPage((s) => s.progress);
  const { setBusy, setProgress } = useTrainingPage.getState();
  const [question, setQuestion] = useState('');
  const [answer, setAnswer] = useState('');
  const [fieldErrors, setFieldErrors] = useState<PairError[]>([]);
  const [pairs, setPairs] = useState<QAPair[]>([]);
  const [steps, setSteps] = useState(String(DEFAULT_STEPS));
  const [learningRate, setLearningRate] = useState(DEFAULT_LEARNING_RATE);
  const [result, setResult] = useState<FinetuneResult | null>(null);
  const [message, setMessage] = useState<{ kind: 'error' | 'note'; text: string } | null>(null);
  const [checking, setChecking] = useState(false);

  const stepsValue = Number(steps);
  const stepsError =
    steps.trim() === '' || !Number.isInteger(stepsValue) || stepsValue < 1 || stepsValue > MAX_STEPS
      ? `Fine-tuning steps must be a whole number from 1 to ${MAX_STEPS}.`
      : null;
  const lrValue = Number(learningRate);
  const lrError =
    learningRate.trim() === '' || !Number.isFinite(lrValue) || lrValue <= 0 || lrValue > 1
      ? 'The learning rate must be a number above 0 and at most 1.'
      : null;
  const fits = contextLength == null ? SFT_PAIRS.length : SFT_PAIRS.filter((p) => formatPair(p).length <= contextLength).length;
  const errorFor = (field: PairError['field']) => fieldErrors.find((e) => e.field === field)?.message ?? null;

  const addPair = async () => {
    const pair = { question: question.trim(), answer: answer.trim() };
    const local = localErrors(pair, contextLength);
    if (local.length > 0 || !api) {
      setFieldErrors(local);
      return;
    }
    setChecking(true);
    try {
      const errors = await api.tuning.checkPair(pair);
      setFieldErrors(errors);
      if (errors.length === 0) {
        setPairs((ps) => [...ps, pair]);
        setQuestion('');
        setAnswer('');
      }
    } catch (err) {
      setMessage({ kind: 'error', text: messageOf(err) });
    } finally {
      setChecking(false);
    }
  };

  const run = async () => {
    if (!api || stepsError || lrError || busy !== null) return;
    setBusy('finetune');
    setMessage(null);
    setProgress({ job: 'finetune', label: 'Fine-tuning, step', value: 0, max: stepsValue });
    try {
      const onProgress = (p: FinetuneProgress) =>
        setProgress({ job: 'finetune', label: 'Fine-tuning, step', value: p.step, max: p.steps, detail: `masked loss ${p.loss.toFixed(3)}` });
      setResult(await api.tuning.finetune({ pairs, steps: stepsValue, learningRate: lrValue }, Comlink.proxy(onProgress)));
    } catch (err) {
      setMessage(
        wasStopped(err)
          ? { kind: 'note', text: 'Stopped: the model is back as it was before fine-tuning.' }
          : { kind: 'error', text: messageOf(err) },
      );
    } finally {
      setBusy(null);
    }
  };

  const qError = errorFor('question');
  const aError = errorFor('answer');
  return (
    <div className="widget finetune-panel">
      <p className="widget-note">
        {contextLength == null
          ? `${SFT_PAIRS.length} built-in pairs.`
          : fits === SFT_PAIRS.length
            ? `All ${SFT_PAIRS.length} built-in pairs fit this model’s context of ${contextLength} characters.`
            : `${fits} of the ${SFT_PAIRS.length} built-in pairs fit this model’s context of ${contextLength} characters; the other ${SFT_PAIRS.length - fits} are left out of fine-tuning.`}
      </p>
      <form
        className="pair-form"
        aria-label="Add a question and answer pair"
        onSubmit={(e) => {
          e.preventDefault();
          void addPair();
        }}
      >
        <div className="field">
          <label htmlFor="sft-question">Question</label>
          <input
            id="sft-question"
            type="text"
            value={question}
            autoComplete="off"
            aria-invalid={qError ? true : undefined}
            aria-describedby={qError ? 'sft-question-error' : undefined}
            onChange={(e) => setQuestion(e.target.value)}
          />
          {qError && (
            <p className="field-error" id="sft-question-error">
              {qError}
            </p>
          )}
        </div>
        <div className="field">
          <label htmlFor="sft-answer">Answer</label>
          <input
            id="sft-answer"
            type="text"
            value={answer}
            autoComplete="off"
            aria-invalid={aError ? true : undefined}
            aria-describedby={aError ? 'sft-answer-error' : undefined}
            onChange={(e) => setAnswer(e.target.value)}
          />
          {aError && (
            <p className="field-error" id="sft-answer-error">
              {aError}
            </p>
          )}
        </div>
        <div className="button-row">
          <button type="submit" disabled={checking || busy === 'finetune'}>
            Add pair
          </button>
          {contextLength != null && (
            <span className="muted">
              {formatPair({ question: question.trim(), answer: answer.trim() }).length} of {contextLength} characters with the chat labels
            </span>
          )}
        </div>
      </form>
      {pairs.length > 0 && (
        <ul className="reader-pairs" aria-label="Your pairs" data-testid="reader-pairs">
          {pairs.map((p, i) => (
            <li key={i}>
              <span className="model-text">
                User: {p.question} · Assistant: {p.answer}
              </span>{' '}
              <button
                type="button"
                className="link-button"
                aria-label={`Remove your pair ${i + 1}`}
                disabled={busy === 'finetune'}
                onClick={() => setPairs((ps) => ps.filter((_, j) => j !== i))}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="run-row">
        <div className="field steps-field">
          <label htmlFor="sft-steps">Fine-tuning steps</label>
          <input
            id="sft-steps"
            type="number"
            min={1}
            max={MAX_STEPS}
            step={1}
            value={steps}
            aria-invalid={stepsError ? true : undefined}
            aria-describedby={stepsError ? 'sft-steps-error' : undefined}
            onChange={(e) => setSteps(e.target.value)}
          />
          {stepsError && (
            <p className="field-error" id="sft-steps-error">
              {stepsError}
            </p>
          )}
        </div>
        <div className="field steps-field">
          <label htmlFor="sft-lr">Peak learning rate</label>
          <input
            id="sft-lr"
            type="number"
            step="any"
            value={learningRate}
            aria-invalid={lrError ? true : undefined}
            aria-describedby={lrError ? 'sft-lr-error' : undefined}
            onChange={(e) => setLearningRate(e.target.value)}
          />
          {lrError && (
            <p className="field-error" id="sft-lr-error">
              {lrError}
            </p>
          )}
        </div>
        <button type="button" className="primary" onClick={() => void run()} disabled={!api || stepsError !== null || lrError !== null || busy !== null}>
          Fine-tune the model
        </button>
      </div>
      {busy === 'finetune' && progress?.job === 'finetune' && (
        <JobProgress label={progress.label} value={progress.value} max={progress.max} detail={progress.detail} />
      )}
      {message && (
        <p className={message.kind === 'error' ? 'widget-error' : 'widget-note'} role={message.kind === 'error' ? 'alert' : 'status'}>
          {message.text}
        </p>
      )}
      {result && <FinetuneOutcome result={result} />}
    </div>
  );
}

function FinetuneOutcome({ result }: { result: FinetuneResult }) {
  return (
    <div className="outcome" data-testid="sft-result" data-loss-before={result.lossBefore} data-loss-after={result.lossAfter}>
      <p className="widget-note" data-testid="sft-summary">
        {result.steps} steps on {result.builtInUsed} built-in pair{result.builtInUsed === 1 ? '' : 's'}
        {result.builtInLeftOut > 0 ? ` (${result.builtInLeftOut} left out: longer than the context)` : ''}
        {result.readerPairs > 0 ? ` and ${result.readerPairs} of yours` : ''}, in {result.seconds.toFixed(1)} s on {result.backend}. The
        loss on the answers went from {formatNats(result.lossBefore)} to {formatNats(result.lossAfter)} nats per character.
      </p>
      <div className="table-scroll">
        <table className="answers-table" data-testid="sft-answers">
          <caption>The same questions, each sampled with the same seed and temperature before and after</caption>
          <thead>
            <tr>
              <th scope="col">Question</th>
              <th scope="col">Before</th>
              <th scope="col">After</th>
            </tr>
          </thead>
          <tbody>
            {result.answers.map((a) => (
              <tr key={a.question}>
                <th scope="row" className="model-text">
                  {a.question}
                </th>
                <td className="model-text">{a.before}</td>
                <td className="model-text">{a.after}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
