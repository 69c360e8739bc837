import * as Comlink from 'comlink';
import type { EngineRemote } from '../../engine/client';
import type { CompareProgress, CompareSettings } from '../../engine/jobs/tuning';
import type { Hyperparameters } from '../../engine/protocol';
import { messageOf, useTrainingPage, wasStopped } from './state';

/** The fields of a comparison run, in the form's order, with their limits (the job checks the same). */
export const COMPARE_FIELDS = [
  { key: 'learningRate', label: 'Learning rate', min: 0, max: 1, integer: false, step: 'any' },
  { key: 'batchSize', label: 'Batch size', min: 1, max: 256, integer: true, step: '1' },
  { key: 'width', label: 'Width', min: 4, max: 1024, integer: true, step: '1' },
  { key: 'layers', label: 'Layers', min: 1, max: 12, integer: true, step: '1' },
  { key: 'contextLength', label: 'Context length', min: 2, max: 512, integer: true, step: '1' },
  { key: 'steps', label: 'Steps', min: 1, max: 2000, integer: true, step: '1' },
] as const;

export type CompareField = (typeof COMPARE_FIELDS)[number]['key'];
export type CompareValues = Record<CompareField, string>;

export function valuesFrom(hp: Hyperparameters | null, steps: number): CompareValues {
  return {
    learningRate: String(hp?.learningRate ?? 1e-3),
    batchSize: String(hp?.batchSize ?? 12),
    width: String(hp?.width ?? 128),
    layers: String(hp?.layers ?? 4),
    contextLength: String(hp?.contextLength ?? 128),
    steps: String(steps),
  };
}

/** Each field's problem, in words; an empty object when the run can start. */
export function compareErrors(values: CompareValues): Partial<Record<CompareField, string>> {
  const errors: Partial<Record<CompareField, string>> = {};
  for (const f of COMPARE_FIELDS) {
    const raw = values[f.key].trim();
    const v = Number(raw);
    if (raw === '' || !Number.isFinite(v)) errors[f.key] = 'must be a number';
    else if (f.integer && !Number.isInteger(v)) errors[f.key] = 'must be a whole number';
    else if (f.key === 'learningRate' ? v <= f.min : v < f.min) errors[f.key] = f.key === 'learningRate' ? 'must be above 0' : `must be at least ${f.min}`;
    else if (v > f.max) errors[f.key] = `must be at most ${f.max}`;
  }
  return errors;
}

export function settingsOf(values: CompareValues): CompareSettings {
  const n = (k: CompareField) => Number(values[k].trim());
  return {
    learningRate: n('learningRate'),
    batchSize: n('batchSize'),
    width: n('width'),
    layers: n('layers'),
    contextLength: n('contextLength'),
    steps: n('steps'),
  };
}

/** Trains a comparison run and keeps it in the page; progress and the outcome go to the chapter's store. */
export async function startCompareRun(api: EngineRemote, settings: CompareSettings, source: 'samples' | 'runs'): Promise<void> {
  const page = useTrainingPage.getState();
  if (page.busy !== null) return;
  page.setBusy('compare');
  page.setCompareMessage(null);
  page.setCompareSource(source);
  page.setProgress({ job: 'compare', label: 'Comparison run, step', value: 0, max: settings.steps, source });
  try {
    const onProgress = (p: CompareProgress) => {
      useTrainingPage.getState().setProgress({
        job: 'compare',
        label: 'Comparison run, step',
        value: p.step,
        max: p.steps,
        detail: `loss ${p.loss.toFixed(3)}`,
        source,
      });
    };
    const run = await api.tuning.compareRun(settings, Comlink.proxy(onProgress));
    useTrainingPage.getState().addRun(run);
    if (run.diverged != null) {
      useTrainingPage.getState().setCompareMessage({
        kind: 'note',
        text: `The loss became NaN or infinite at step ${run.diverged}: this learning rate is too high, and the run stopped there.`,
      });
    }
  } catch (err) {
    useTrainingPage
      .getState()
      .setCompareMessage(wasStopped(err) ? { kind: 'note', text: 'Stopped: the run was not kept.' } : { kind: 'error', text: messageOf(err) });
  } finally {
    useTrainingPage.getState().setBusy(null);
  }
}
