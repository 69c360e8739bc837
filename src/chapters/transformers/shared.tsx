import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { useEngine, useLab } from '../../app/store';
import type { EngineRemote } from '../../engine/client';

/**
 * What the chapter's widgets share: how a character is shown, the step the live model is at, and
 * one hook that calls the engine and keeps the newest answer (or the error, in words).
 */

/** A character as a chip shows it: spaces, newlines and tabs made visible. */
export function showChar(c: string): string {
  if (c === ' ') return '␣';
  if (c === '\n') return '↵';
  if (c === '\t') return '⇥';
  if (c === '\r') return '␍';
  return c;
}

/** A character named in a sentence: ‘e’, ‘␣’ (space). */
export function nameChar(c: string): string {
  if (c === ' ') return '‘␣’ (space)';
  if (c === '\n') return '‘↵’ (new line)';
  return `‘${showChar(c)}’`;
}

export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return typeof e === 'string' ? e : 'Something went wrong in the engine.';
}

/** The step the reader's model is at (the newest metrics carry it while training). */
export function useLiveStep(): number {
  return useLab((s) => Math.max(s.status?.step ?? 0, s.latest?.step ?? 0));
}

export interface Call<T> {
  result: T | null;
  error: string | null;
  busy: boolean;
  /** Runs `fn` on the engine; an answer that arrives after a newer call's is dropped. */
  run(fn: (api: EngineRemote) => Promise<T>): void;
}

export function useEngineCall<T>(): Call<T> {
  const api = useEngine();
  const [result, setResult] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const latest = useRef(0);
  const run = useCallback(
    (fn: (api: EngineRemote) => Promise<T>) => {
      if (!api) return;
      const id = ++latest.current;
      setBusy(true);
      fn(api).then(
        (r) => {
          if (id !== latest.current) return;
          setResult(r);
          setError(null);
          setBusy(false);
        },
        (e: unknown) => {
          if (id !== latest.current) return;
          setError(messageOf(e));
          setBusy(false);
        },
      );
    },
    [api],
  );
  return { result, error, busy, run };
}

/** Calls `fn` `ms` after the last change of `deps` (when `enabled`). */
export function useDebounced(fn: () => void, deps: readonly unknown[], enabled: boolean, ms = 350): void {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (!enabled) return;
    const t = setTimeout(() => saved.current(), ms);
    return () => clearTimeout(t);
  }, [enabled, ms, ...deps]);
}

/** Said where a widget needs the model and the lab has not loaded it yet. */
export function EngineWaiting() {
  const failed = useLab((s) => s.status?.state === 'error' || (s.status == null && s.error != null));
  return (
    <p className="tf-note" role="status">
      {failed
        ? 'The engine stopped with an error (the lab says why); this widget needs it running.'
        : 'The model is loading in the lab; this widget works as soon as it is ready.'}
    </p>
  );
}

export function ErrorLine({ error }: { error: string | null }) {
  return error ? (
    <p className="tf-error" role="alert">
      {error}
    </p>
  ) : null;
}

/** “Computed at step N”, and a note when the model has trained since. */
export function StepNote({ step, onRefresh, busy }: { step: number; onRefresh?: () => void; busy?: boolean }) {
  const live = useLiveStep();
  return (
    <p className="tf-step" data-step={step}>
      Numbers from the live model at step {step.toLocaleString('en')}.
      {live !== step && onRefresh ? (
        <>
          {' '}
          It is at step {live.toLocaleString('en')} now.{' '}
          <button type="button" className="link-button" onClick={onRefresh} disabled={busy}>
            Look again
          </button>
        </>
      ) : null}
    </p>
  );
}

/** A table that may scroll sideways on a narrow screen: focusable and named, so keyboards can scroll it. */
export function ScrollBox({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="tf-scroll" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

/** The prompt box the widgets share: labelled, and an empty prompt gets its message on the field. */
export function PromptField({ id, value, onChange }: { id: string; value: string; onChange: (v: string) => void }) {
  const empty = value.length === 0;
  return (
    <div className="field tf-grow">
      <label htmlFor={id}>Prompt</label>
      <input
        id={id}
        type="text"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={empty}
        aria-describedby={empty ? `${id}-error` : undefined}
        spellCheck={false}
      />
      {empty ? (
        <p className="field-error" id={`${id}-error`}>
          Type at least one character.
        </p>
      ) : null}
    </div>
  );
}
