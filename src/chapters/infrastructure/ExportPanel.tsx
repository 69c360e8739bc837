import { useState } from 'react';
import type { PyTorchExport } from '../../engine/jobs/infra';
import { downloadBytes } from '../../app/download';
import { useEngine, useLab } from '../../app/store';
import script from '../../../scripts/torch/train_gpt_lab.py?raw';
import { formatBytes } from './scaling';

/** The export for real infrastructure: checkpoint, config, text, script and README in one .tar. */
export function ExportPanel() {
  const api = useEngine();
  const step = useLab((s) => s.status?.step ?? null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<Omit<PyTorchExport, 'bytes'> | null>(null);
  const [error, setError] = useState<string | null>(null);

  const exportTar = async () => {
    if (!api) return;
    setBusy(true);
    setError(null);
    try {
      const r = await api.infra.exportForPyTorch({ script });
      downloadBytes(r.bytes, r.fileName, 'application/x-tar');
      setDone({ fileName: r.fileName, files: r.files, step: r.step, valLoss: r.valLoss });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="infra-widget" aria-labelledby="export-title">
      <h3 id="export-title">Take your model to PyTorch</h3>
      <p>
        One file, <code>gpt-lab-step{step ?? 'N'}.tar</code>, with everything needed to continue on a real GPU: your weights
        (their validation loss in the metadata), the training settings, the training text, the script and a README. Unpack
        it with <code>tar -xf</code>.
      </p>
      <div className="button-row">
        <button type="button" className="primary" disabled={!api || busy} onClick={() => void exportTar()}>
          {busy ? 'Packing…' : 'Export for PyTorch'}
        </button>
      </div>
      {error && (
        <p className="infra-error" role="alert">
          The export failed: {error}
        </p>
      )}
      <div aria-live="polite">
        {done && (
          <p data-testid="export-done">
            Saved <strong>{done.fileName}</strong>: step {done.step}, validation loss {done.valLoss.toFixed(4)};{' '}
            {done.files.map((f) => `${f.name} (${formatBytes(f.bytes)})`).join(', ')}.
          </p>
        )}
      </div>
      <details>
        <summary>Read the training script (train_gpt_lab.py, {script.split('\n').length} lines)</summary>
        <pre className="infra-code" tabIndex={0} aria-label="train_gpt_lab.py">
          <code>{script}</code>
        </pre>
      </details>
    </section>
  );
}
