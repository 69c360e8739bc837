/**
 * Engine jobs for the Safety chapter: bias probes, counterfactual augmentation and memorisation.
 * The page calls them as `api.safety.<method>(…)`; each runs through the engine's JobRunner (workbench.ts).
 */
import type { JobRunner } from '../workbench';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface SafetyApi {}

export class SafetyJobs implements SafetyApi {
  constructor(readonly job: JobRunner) {}
}
