import { useState } from 'react';
import { useEngine } from '../../app/store';
import type { BatchExample } from '../../engine/jobs/tuning';
import { formatNats, messageOf, showBreaks, useTrainingPage } from './state';

/** One real training batch of the reader's run, and three losses on it: uniform, untrained, now. */
export function BatchView() {
  const api = useEngine();
  const busy = useTrainingPage((s) => s.busy);
  const setBusy = useTrainingPage((s) => s.setBusy);
  const [batch, setBatch] = useState<BatchExample | null>(null);
  const [error, setError] = useState<string | null>(null);

  const draw = async () => {
    if (!api) return;
    setBusy('batch');
    setError(null);
    try {
      setBatch(await api.tuning.batchExample());
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="widget batch-view">
      <div className="button-row">
        <button type="button" className="primary" onClick={() => void draw()} disabled={!api || busy !== null}>
          {batch ? 'Draw another batch' : 'Show a batch'}
        </button>
        {!api && <span className="muted">The lab is starting…</span>}
      </div>
      {error && (
        <p className="widget-error" role="alert">
          {error}
        </p>
      )}
      {batch && (
        <>
          <p className="widget-note">
            {batch.batchSize} windows of {batch.contextLength} characters from the training part of the text (⏎ is a line
            break). Each target row is its input row shifted one character to the left: at every position the model must
            predict the character that comes next.
          </p>
          <ol className="batch-rows" data-testid="batch-rows">
            {batch.rows.map((row, i) => (
              <li key={i}>
                <div className="batch-line">
                  <span className="batch-tag">input</span>
                  <code>{showBreaks(row.input)}</code>
                </div>
                <div className="batch-line">
                  <span className="batch-tag">target</span>
                  <code>{showBreaks(row.target)}</code>
                </div>
              </li>
            ))}
          </ol>
          <dl className="loss-trio" data-testid="batch-losses">
            <div>
              <dt>ln {batch.vocabSize} (even guess)</dt>
              <dd>{formatNats(batch.uniformLoss)}</dd>
            </div>
            <div>
              <dt>an untrained model of this shape</dt>
              <dd>{formatNats(batch.freshLoss)}</dd>
            </div>
            <div>
              <dt>your model, step {batch.step}</dt>
              <dd>{formatNats(batch.modelLoss)}</dd>
            </div>
          </dl>
        </>
      )}
    </div>
  );
}
