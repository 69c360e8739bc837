import { useEffect, useState } from 'react';
import { useEngine } from '../../app/store';
import { findBlocked } from '../../api/filter';
import { LIVE_MODEL_ID } from '../../api/port';
import { Message, messageOf } from './shared';

/** Spellings a reader (or an attacker) might produce for `word`, each with what it tries. */
export function evasions(word: string): { text: string; how: string }[] {
  const w = word.toLowerCase();
  const half = Math.ceil(w.length / 2);
  const lookalikes: Record<string, string> = { a: '\u0430', e: '\u0435', o: '\u043e', p: '\u0440', c: '\u0441', x: '\u0445' };
  const swapOne = [...w].map((ch) => lookalikes[ch] ?? ch).join('');
  const out = [
    { text: w, how: 'the word itself' },
    { text: w.toUpperCase(), how: 'capitals' },
    { text: `${w}bone`, how: 'inside a longer, harmless word' },
    { text: [...w].join(' '), how: 'spaces between the letters' },
    { text: [...w].join('-'), how: 'hyphens between the letters' },
    { text: `${w.slice(0, half)}\u200b${w.slice(half)}`, how: 'an invisible zero-width space inside' },
    { text: swapOne, how: 'Cyrillic letters that look Latin' },
    { text: [...w].reverse().join(''), how: 'backwards' },
  ];
  if (w === 'whale') out.push({ text: 'leviathan', how: 'a synonym' }, { text: 'the great sperm fish', how: 'a paraphrase' });
  return out;
}

interface Answer {
  prompt: string;
  text: string;
  finishReason: string;
  status: number;
  /** The blocked word found in prompt + answer read together, if any. */
  joinedHit: string | null;
}

/** The API's output filter switched on, and why it is brittle: hand-made spellings, then live requests. */
export function FilterDemo() {
  const api = useEngine();
  const [words, setWords] = useState('whale');
  const [applied, setApplied] = useState<{ enabled: boolean; blockedWords: string[] } | null>(null);
  const [answers, setAnswers] = useState<Answer[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldError, setFieldError] = useState<string | null>(null);

  // Show the filter as the engine has it (it may have been set earlier in this visit).
  useEffect(() => {
    if (!api) return;
    let live = true;
    api.serve
      .getOutputFilter()
      .then((f) => {
        if (!live) return;
        setApplied(f);
        if (f.blockedWords.length > 0) setWords(f.blockedWords.join(', '));
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [api]);

  const list = words
    .split(',')
    .map((w) => w.trim())
    .filter((w) => w !== '');
  const first = list[0] ?? '';

  const apply = async (enabled: boolean) => {
    if (!api) return;
    if (enabled && list.length === 0) {
      setFieldError('Write at least one word to block.');
      return;
    }
    setFieldError(null);
    setError(null);
    try {
      setApplied(await api.serve.setOutputFilter({ enabled, blockedWords: list }));
    } catch (err) {
      setFieldError(messageOf(err));
    }
  };

  const send = async () => {
    if (!api || first === '') return;
    setBusy(true);
    setError(null);
    const half = first.slice(0, Math.ceil(first.length / 2));
    const prompts = [
      'Call me Ishmael. Some years ago',
      `and there, at last, rose the great white ${half}`,
      'The Leviathan rose from the sea, and the',
    ];
    try {
      const out: Answer[] = [];
      for (const prompt of prompts) {
        const r = await api.serve.request({
          method: 'POST',
          path: '/v1/completions',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ model: LIVE_MODEL_ID, prompt, max_tokens: 80, temperature: 0.8, seed: 7 }),
        });
        let text = '';
        let finishReason = '';
        try {
          const body = JSON.parse(r.body) as { choices?: { text?: string; finish_reason?: string }[]; error?: { message?: string } };
          text = body.choices?.[0]?.text ?? body.error?.message ?? '';
          finishReason = body.choices?.[0]?.finish_reason ?? `error ${r.status}`;
        } catch {
          text = r.body;
          finishReason = `status ${r.status}`;
        }
        out.push({ prompt, text, finishReason, status: r.status, joinedHit: findBlocked(prompt.slice(-40) + text, list) });
      }
      setAnswers(out);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const on = applied?.enabled === true;
  return (
    <section className="safety-widget" aria-labelledby="filter-title">
      <h3 id="filter-title">An output filter, and what gets past it</h3>
      <div className="field">
        <label htmlFor="filter-words">Blocked words (comma-separated)</label>
        <input
          id="filter-words"
          value={words}
          onChange={(e) => setWords(e.target.value)}
          aria-invalid={fieldError ? true : undefined}
          aria-describedby={fieldError ? 'filter-words-error' : undefined}
        />
        {fieldError ? (
          <p id="filter-words-error" className="field-error">
            {fieldError}
          </p>
        ) : null}
      </div>
      <div className="button-row">
        <button type="button" className="primary" onClick={() => void apply(true)} disabled={!api}>
          Turn the API’s filter on
        </button>
        <button type="button" onClick={() => void apply(false)} disabled={!api || !on}>
          Turn it off
        </button>
        <span role="status" className="muted">
          {applied ? (on ? `On: blocking ${applied.blockedWords.join(', ')}.` : 'Off.') : ''}
        </span>
      </div>

      {first !== '' ? (
        <div className="table-scroll">
          <table className="safety-table">
            <caption>Would the filter stop these? (the filter’s own matching, run on each text)</caption>
            <thead>
              <tr>
                <th scope="col">Text</th>
                <th scope="col">What it tries</th>
                <th scope="col">Blocked</th>
              </tr>
            </thead>
            <tbody>
              {evasions(first).map((e) => (
                <tr key={e.how}>
                  <td>
                    <code>{e.text}</code>
                  </td>
                  <td>{e.how}</td>
                  <td>{findBlocked(e.text, list) ? 'yes' : 'no, it passes'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}

      <div className="button-row">
        <button type="button" onClick={() => void send()} disabled={!api || busy || first === ''}>
          {busy ? 'Asking the model…' : 'Send three requests through the API'}
        </button>
        {!on ? <span className="muted">Turn the filter on first to see it act.</span> : null}
      </div>
      {error ? <Message kind="error" text={error} /> : null}
      {answers ? (
        <ol className="filter-answers">
          {answers.map((a, i) => (
            <li key={i}>
              <p>
                <span className="muted">{a.prompt}</span>
                <strong>{a.text}</strong>
              </p>
              <p className="muted">
                finish_reason: <code>{a.finishReason}</code>
                {a.finishReason === 'content_filter' ? ' (the filter cut the answer here)' : ''}
                {a.finishReason !== 'content_filter' && a.joinedHit
                  ? ` — yet prompt and answer read together spell “${a.joinedHit}”: the filter saw only the answer.`
                  : ''}
              </p>
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}
