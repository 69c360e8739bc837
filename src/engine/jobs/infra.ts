/**
 * Engine jobs for the Infrastructure chapter: the reader's hardware and memory, the run's measured
 * FLOP/s, the export for real infrastructure and simulated data-parallel training.
 * The page calls them as `api.infra.<method>(…)`; each runs through the engine's JobRunner (workbench.ts).
 */
import type { JobRunner } from '../workbench';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface InfraApi {}

export class InfraJobs implements InfraApi {
  constructor(readonly job: JobRunner) {}
}
