import { useEffect, useId, useState, type CSSProperties } from 'react';
import { useEngine } from '../../app/store';
import type { TokensView } from '../../engine/jobs/inspect';
import { EngineWaiting, ErrorLine, messageOf, showChar, useDebounced, useEngineCall } from './shared';

/**
 * Tokens: the reader's text as our model's character tokens (coloured chips with their ids) and,
 * beside it, as GPT-2's byte-level BPE splits it (gpt-tokenizer's r50k_base, loaded on demand so
 * that its 50,000 merges stay out of the main bundle).
 */

const DEFAULT_TEXT = 'Call me Ishmael. The unbelievably grandiloquent whale surfaced — “Thar she blows!”';

interface Bpe {
  encode(text: string): number[];
  decode(ids: Iterable<number>): string;
}

let bpeLoading: Promise<Bpe> | null = null;
function loadBpe(): Promise<Bpe> {
  bpeLoading ??= import('gpt-tokenizer/encoding/r50k_base').then((m) => ({ encode: m.encode, decode: m.decode }));
  return bpeLoading;
}

/** A hue per token id, far apart for neighbouring ids (the golden angle). */
function hueOf(id: number): number {
  return Math.round((id * 137.508) % 360);
}

export function Tokens() {
  const api = useEngine();
  const inputId = useId();
  const [text, setText] = useState(DEFAULT_TEXT);
  const chars = useEngineCall<TokensView & { step: number }>();
  const [bpe, setBpe] = useState<{ ids: number[]; pieces: string[] } | null>(null);
  const [bpeError, setBpeError] = useState<string | null>(null);

  // One small call when the engine is ready, then again as the text changes (debounced).
  useDebounced(() => chars.run((a) => a.inspect.tokens(text)), [text, api], api != null, 300);

  useEffect(() => {
    let live = true;
    loadBpe().then(
      (enc) => {
        if (!live) return;
        const ids = enc.encode(text);
        // decode() streams UTF-8: a token holding only the first bytes of a character decodes to '' and
        // the token that completes it to the whole character. Decoded in order, the pieces add up to the text.
        setBpe({ ids, pieces: ids.map((id) => enc.decode([id])) });
        setBpeError(null);
      },
      (e: unknown) => live && setBpeError(`GPT-2’s tokenizer could not be loaded: ${messageOf(e)}`),
    );
    return () => {
      live = false;
    };
  }, [text]);

  const view = chars.result;
  const nChars = [...text].length;
  return (
    <div className="tf-widget" data-testid="tokens-widget">
      <label htmlFor={inputId}>Text to tokenise</label>
      <textarea id={inputId} rows={2} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
      <div className="tf-token-columns">
        <section aria-labelledby={`${inputId}-ours`}>
          <h3 id={`${inputId}-ours`}>Our model: one token per character</h3>
          {!api ? <EngineWaiting /> : null}
          <ErrorLine error={chars.error} />
          {view ? (
            <>
              <p className="tf-stat" data-testid="char-token-count" data-value={view.ids.length}>
                {view.ids.length} tokens from a vocabulary of {view.vocabulary.length}
                {view.unknown > 0
                  ? `; ${view.unknown} character${view.unknown === 1 ? '' : 's'} outside it became the fallback token ${view.fallbackId} (${showChar(view.vocabulary[view.fallbackId])})`
                  : ''}
                .
              </p>
              <ol className="tf-chips" aria-label="Character tokens">
                {view.chars.map((c, i) => (
                  <li
                    key={i}
                    className={`tf-chip${view.unknownAt[i] ? ' tf-chip-unknown' : ''}`}
                    style={{ '--hue': hueOf(view.ids[i]) } as CSSProperties}
                    data-id={view.ids[i]}
                    title={view.unknownAt[i] ? 'not in the vocabulary' : undefined}
                  >
                    <span className="tf-chip-text">{showChar(c)}</span>
                    <span className="tf-chip-id">{view.ids[i]}</span>
                  </li>
                ))}
              </ol>
            </>
          ) : null}
        </section>
        <section aria-labelledby={`${inputId}-bpe`}>
          <h3 id={`${inputId}-bpe`}>GPT-2: byte-pair encoding</h3>
          <ErrorLine error={bpeError} />
          {bpe ? (
            <>
              <p className="tf-stat" data-testid="bpe-token-count" data-value={bpe.ids.length}>
                {bpe.ids.length} tokens from a vocabulary of 50,257
                {bpe.ids.length > 0 ? `: ${(nChars / bpe.ids.length).toFixed(1)} characters per token` : ''}.
              </p>
              <ol className="tf-chips" aria-label="GPT-2 tokens">
                {bpe.pieces.map((p, i) => (
                  <li
                    key={i}
                    className="tf-chip"
                    style={{ '--hue': hueOf(bpe.ids[i]) } as CSSProperties}
                    data-id={bpe.ids[i]}
                    title={p === '' ? 'the first bytes of a character that the next token completes' : undefined}
                  >
                    <span className="tf-chip-text">{p === '' ? '▯' : [...p].map(showChar).join('')}</span>
                    <span className="tf-chip-id">{bpe.ids[i]}</span>
                  </li>
                ))}
              </ol>
              {bpe.pieces.includes('') ? (
                <p className="tf-note">
                  ▯ is a token that holds only some of the bytes of a character; the character shows on the token that
                  completes it.
                </p>
              ) : null}
            </>
          ) : bpeError ? null : (
            <p className="tf-note">Loading GPT-2’s vocabulary…</p>
          )}
        </section>
      </div>
    </div>
  );
}
