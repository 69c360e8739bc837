/**
 * What a chapter's engine jobs may use (src/engine/jobs/*): the reader's run and a few engine
 * services, handed over only while the job holds the engine (DESIGN.md: the engine holds the
 * reader's model and, when a page needs one, short-lived scratch models; a scratch job pauses the
 * reader's training and never switches its backend).
 *
 * A job runs through `JobRunner`: the engine stops training (after the current chunk), runs the
 * job alone — no other engine call interleaves — and then trains on if it was training before.
 *
 * - `read` jobs look at the model or build scratch models of their own (and dispose them). They must
 *   leave the reader's weights as they found them.
 * - `mutate` jobs change the reader's weights in place (fine-tuning, preference tuning,
 *   counterfactual augmentation). Afterwards the engine keeps the result as the last good state,
 *   autosaves it and reports its status; training does not restart by itself. When a `mutate` job
 *   throws, the engine puts back the weights it had before the job.
 */
import type { BackendName } from './backends';
import type { Run } from './run';

export type JobKind = 'read' | 'mutate';

export interface Workbench {
  /** The reader's run: hyperparameters, tokenizer, token split, model and trainer. */
  readonly run: Run;
  /** The run's training text (Moby-Dick or the reader's own). */
  readonly text: string;
  readonly corpusSource: 'moby-dick' | 'user';
  /** The bundled Moby-Dick, whatever the run trains on. */
  readonly mobyDick: string;
  /** The backend tfjs runs the reader's model on. */
  readonly backend: BackendName;
  /** Validation loss at the current step when it was measured, else null. */
  readonly valLoss: number | null;
  /** True once the page asked to stop this job (`EngineApi.cancelJob`): long jobs check it between steps. */
  cancelled(): boolean;
  /**
   * Runs `fn` with tfjs switched to another backend and switches back afterwards, whatever happens
   * (a benchmark across backends). Tensors made inside must be disposed inside: they belong to that
   * backend. Throws a BackendError saying why when `name` cannot start here.
   */
  withBackend<T>(name: BackendName, fn: () => Promise<T>): Promise<T>;
  /** Every backend of the ladder with why it is or is not available here (cached probe). */
  availableBackends(): Promise<{ name: BackendName; available: boolean; reason: string }[]>;
}

export type JobRunner = <T>(kind: JobKind, fn: (wb: Workbench) => Promise<T>) => Promise<T>;

/** Thrown by a job that saw `cancelled()`; the page shows it as "stopped", not as a failure. */
export class JobCancelledError extends Error {
  constructor() {
    super('Stopped.');
    this.name = 'JobCancelledError';
  }
}
