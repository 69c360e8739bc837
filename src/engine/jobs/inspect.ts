/**
 * Engine jobs for the Transformers chapter: the live model's tokens, embeddings, attention, activations and next-token distributions.
 * The page calls them as `api.inspect.<method>(…)`; each runs through the engine's JobRunner (workbench.ts).
 */
import type { JobRunner } from '../workbench';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface InspectApi {}

export class InspectJobs implements InspectApi {
  constructor(readonly job: JobRunner) {}
}
