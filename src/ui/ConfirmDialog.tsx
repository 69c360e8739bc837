import { useEffect, useId, useRef, type ReactNode } from 'react';

/**
 * A modal question with a few answers, on the native <dialog> (focus is trapped and returned,
 * Escape cancels; Cancel has the focus when it opens). `onAnswer(null)` means the reader cancelled.
 */
export interface ConfirmDialogProps<T extends string> {
  open: boolean;
  title: string;
  children: ReactNode;
  answers: readonly { value: T; label: string; primary?: boolean }[];
  onAnswer: (value: T | null) => void;
}

export function ConfirmDialog<T extends string>({ open, title, children, answers, onAnswer }: ConfirmDialogProps<T>) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  const bodyId = useId();

  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      d.showModal();
      cancel.current?.focus(); // the safe answer has the focus
    }
    if (!open && d.open) d.close();
  }, [open]);

  return (
    <dialog
      ref={ref}
      className="confirm"
      aria-labelledby={titleId}
      aria-describedby={bodyId}
      onCancel={(e) => {
        e.preventDefault();
        onAnswer(null);
      }}
    >
      <h2 id={titleId} className="confirm-title">
        {title}
      </h2>
      <div id={bodyId} className="confirm-body">
        {children}
      </div>
      <div className="confirm-actions">
        {answers.map((a) => (
          <button key={a.value} type="button" className={a.primary ? 'primary' : undefined} onClick={() => onAnswer(a.value)}>
            {a.label}
          </button>
        ))}
        <button ref={cancel} type="button" onClick={() => onAnswer(null)}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}
