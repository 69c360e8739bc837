import { useState, type DragEvent } from 'react';
import { formatInteger } from '../format';
import { useLab } from '../store';

/** The reader's own training text: pasted or from a file. It goes to the engine worker, nowhere else. */
export function CorpusPanel() {
  const corpus = useLab((s) => s.status?.corpus ?? null);
  const error = useLab((s) => s.corpusError);
  const busy = useLab((s) => s.busy);
  const ready = useLab((s) => s.status !== null && s.status.state !== 'starting');
  const setCorpus = useLab((s) => s.setCorpus);
  const [text, setText] = useState('');
  const [dragging, setDragging] = useState(false);

  const disabled = !ready || busy !== null;
  const describedBy = error ? 'corpus-error corpus-privacy' : 'corpus-privacy';

  async function useFile(file: File | undefined) {
    if (!file) return;
    await setCorpus({ source: 'user', name: file.name, text: await file.text() });
  }

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    if (!disabled) void useFile(e.dataTransfer.files[0]);
  }

  return (
    <div className="corpus">
      {corpus && (
        <p className="corpus-now">
          Training on <strong>{corpus.name}</strong>: {formatInteger(corpus.characters)} characters,{' '}
          {formatInteger(corpus.vocabularySize)} distinct
          {corpus.unknownChars > 0 && <>, {formatInteger(corpus.unknownChars)} outside the model’s vocabulary</>}.
        </p>
      )}
      <div className="field">
        <label htmlFor="corpus-text">Paste your own text</label>
        <textarea
          id="corpus-text"
          rows={5}
          value={text}
          onChange={(e) => setText(e.target.value)}
          aria-describedby={describedBy}
          aria-invalid={error ? true : undefined}
        />
      </div>
      <div className="button-row">
        <button type="button" disabled={disabled} onClick={() => void setCorpus({ source: 'user', name: 'pasted text', text })}>
          Train on this text
        </button>
        {corpus?.source === 'user' && (
          <button type="button" disabled={disabled} onClick={() => void setCorpus({ source: 'moby-dick' })}>
            Back to Moby-Dick
          </button>
        )}
      </div>
      <div
        className={`drop-zone${dragging ? ' dragging' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <label htmlFor="corpus-file">Or choose a text file (or drop one here)</label>
        <input
          id="corpus-file"
          type="file"
          accept=".txt,.md,.csv,.json,text/*"
          disabled={disabled}
          aria-describedby={describedBy}
          onChange={(e) => {
            void useFile(e.target.files?.[0]);
            e.target.value = '';
          }}
        />
      </div>
      {error && (
        <p id="corpus-error" className="field-error" role="alert">
          {error}
        </p>
      )}
      <p id="corpus-privacy" className="muted">
        Your text stays in this browser: it is read here and handed to the engine on this page, never uploaded. A new
        text brings its own characters, so the model starts again from scratch.
      </p>
    </div>
  );
}
