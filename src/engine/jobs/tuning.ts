/**
 * Engine jobs for the Training chapter: comparison runs on scratch models, supervised fine-tuning and preference tuning of the reader's model.
 * The page calls them as `api.tuning.<method>(…)`; each runs through the engine's JobRunner (workbench.ts).
 */
import type { JobRunner } from '../workbench';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface TuningApi {}

export class TuningJobs implements TuningApi {
  constructor(readonly job: JobRunner) {}
}
