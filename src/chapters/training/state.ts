import { create } from 'zustand';
import type { CompareRunResult } from '../../engine/jobs/tuning';

/**
 * The Training chapter's own state: the comparison runs the reader has trained (kept while the app
 * is open, so the overlay survives a visit to another chapter) and which job is running. One job at
 * a time: the engine runs them one after another anyway, and every button says so by being disabled.
 */
export type TrainingJob = 'batch' | 'compare' | 'finetune' | 'pair' | 'preference';

export interface JobProgressState {
  job: TrainingJob;
  label: string;
  value: number;
  max: number;
  detail?: string;
  /** Which widget started it (two widgets start comparison runs; only that one shows the progress). */
  source?: string;
}

interface TrainingPageState {
  runs: CompareRunResult[];
  busy: TrainingJob | null;
  /** The running job's progress, when it reports one. */
  progress: JobProgressState | null;
  /** What the last comparison run ended with: an error, or a note that it was stopped. */
  compareMessage: { kind: 'error' | 'note'; text: string } | null;
  /** The widget that started the last comparison run. */
  compareSource: string | null;
  setCompareSource(source: string | null): void;
  setProgress(p: JobProgressState | null): void;
  setCompareMessage(m: TrainingPageState['compareMessage']): void;
  addRun(run: CompareRunResult): void;
  removeRun(index: number): void;
  clearRuns(): void;
  setBusy(job: TrainingJob | null): void;
}

/** Runs kept in the overlay; the oldest goes when a new one would pass this. */
export const MAX_RUNS = 6;

export const useTrainingPage = create<TrainingPageState>()((set) => ({
  runs: [],
  busy: null,
  progress: null,
  compareMessage: null,
  compareSource: null,
  setCompareSource: (compareSource) => set({ compareSource }),
  setProgress: (progress) => set({ progress }),
  setCompareMessage: (compareMessage) => set({ compareMessage }),
  addRun: (run) => set((s) => ({ runs: [...s.runs, run].slice(-MAX_RUNS) })),
  removeRun: (index) => set((s) => ({ runs: s.runs.filter((_, i) => i !== index) })),
  clearRuns: () => set({ runs: [] }),
  setBusy: (busy) => set(busy === null ? { busy, progress: null } : { busy }),
}));

/** A job the reader stopped (JobCancelledError crosses the worker boundary by name and message). */
export function wasStopped(err: unknown): boolean {
  return err instanceof Error && (err.name === 'JobCancelledError' || err.message === 'Stopped.');
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : 'Something went wrong in the engine.';
}

/** Text from the corpus or the model with its line breaks made visible (rendered as React text). */
export function showBreaks(text: string): string {
  return text.replace(/\n/g, '⏎');
}

export function formatNats(v: number | null | undefined): string {
  return v == null || !Number.isFinite(v) ? '—' : v.toFixed(3);
}
