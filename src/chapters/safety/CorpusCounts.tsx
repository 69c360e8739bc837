import { useState } from 'react';
import { useEngine } from '../../app/store';
import type { CorpusCountsResult } from '../../engine/jobs/safety';
import { Message, messageOf } from './shared';

/** How often each gendered word appears in the run's corpus (and in Moby-Dick), counted in the engine. */
export function CorpusCounts() {
  const api = useEngine();
  const [result, setResult] = useState<CorpusCountsResult | null>(null);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = async () => {
    if (!api) return;
    setRunning(true);
    setError(null);
    try {
      setResult(await api.safety.corpusCounts());
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setRunning(false);
    }
  };

  const c = result?.corpus;
  const max = c ? Math.max(1, ...c.pairs.map((p) => Math.max(p.maleTotal, p.femaleTotal))) : 1;
  return (
    <section className="safety-widget" aria-labelledby="counts-title">
      <h3 id="counts-title">Count the corpus</h3>
      <div className="button-row">
        <button type="button" onClick={() => void run()} disabled={!api || running}>
          {running ? 'Counting…' : 'Count gendered words in the training text'}
        </button>
      </div>
      {error ? <Message kind="error" text={error} /> : null}
      {c ? (
        <>
          <p data-testid="counts-total">
            In {c.source === 'moby-dick' ? 'Moby-Dick' : 'your text'} ({c.characters.toLocaleString('en')} characters):{' '}
            <strong>{c.maleTotal.toLocaleString('en')}</strong> masculine words against{' '}
            <strong>{c.femaleTotal.toLocaleString('en')}</strong> feminine ones
            {c.femaleTotal > 0 ? `, ${(c.maleTotal / c.femaleTotal).toFixed(1)} to 1` : ''}.
            {c.source === 'user'
              ? ` Moby-Dick, for comparison: ${result.mobyDick.maleTotal.toLocaleString('en')} against ${result.mobyDick.femaleTotal.toLocaleString('en')}.`
              : ''}
          </p>
          <div className="table-scroll">
            <table className="safety-table counts-table">
              <caption className="safety-sr-only">Gendered words in the training text, pair by pair</caption>
              <thead>
                <tr>
                  <th scope="col">Pair</th>
                  <th scope="col">Masculine</th>
                  <th scope="col">Feminine</th>
                  <th scope="col">
                    <span className="safety-sr-only">Bars</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {c.pairs.map((p) => (
                  <tr key={p.label}>
                    <th scope="row">{p.label}</th>
                    <td className="num">{p.maleTotal.toLocaleString('en')}</td>
                    <td className="num">{p.femaleTotal.toLocaleString('en')}</td>
                    <td className="bars" aria-hidden="true">
                      <span className="count-bar male" style={{ width: `${(100 * p.maleTotal) / max}%` }} />
                      <span className="count-bar female" style={{ width: `${(100 * p.femaleTotal) / max}%` }} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </section>
  );
}
