/**
 * Engine jobs for the APIs chapter: the OpenAI-style API answered by the reader's model (the Service Worker's requests arrive here).
 * The page calls them as `api.serve.<method>(…)`; each runs through the engine's JobRunner (workbench.ts).
 */
import type { JobRunner } from '../workbench';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ServeApi {}

export class ServeJobs implements ServeApi {
  constructor(readonly job: JobRunner) {}
}
