import { useRef } from 'react';
import { useLab } from '../store';

/** Export the weights as .safetensors, import a checkpoint (a bad file is refused, the model kept). */
export function CheckpointPanel() {
  const busy = useLab((s) => s.busy);
  const state = useLab((s) => s.status?.state ?? null);
  const importError = useLab((s) => s.importError);
  const exportCheckpoint = useLab((s) => s.exportCheckpoint);
  const importCheckpoint = useLab((s) => s.importCheckpoint);
  const file = useRef<HTMLInputElement>(null);

  const ready = state !== null && state !== 'starting' && busy === null;

  return (
    <div className="checkpoints">
      <div className="button-row">
        <button type="button" onClick={() => void exportCheckpoint()} disabled={!ready}>
          Export checkpoint
        </button>
        <button type="button" onClick={() => file.current?.click()} disabled={!ready} aria-describedby={importError ? 'import-error' : undefined}>
          Import checkpoint
        </button>
        <input
          ref={file}
          id="checkpoint-file"
          data-testid="import-file"
          type="file"
          accept=".safetensors"
          aria-label="Checkpoint file to import"
          hidden
          tabIndex={-1}
          onChange={(e) => {
            const f = e.target.files?.[0];
            e.target.value = '';
            if (f) void importCheckpoint(f);
          }}
        />
      </div>
      {importError && (
        <p id="import-error" className="field-error" role="alert">
          {importError}
        </p>
      )}
      <p className="muted">
        A <code>.safetensors</code> file in GPT Lab’s format (PyTorch loads it as is). Importing a bad file changes nothing.
      </p>
    </div>
  );
}
