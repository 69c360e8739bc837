/**
 * Engine jobs for the Languages and Frameworks chapters: the same matmul four ways, autograd checked against finite differences, a kernel profile of a training step.
 * The page calls them as `api.measure.<method>(…)`; each runs through the engine's JobRunner (workbench.ts).
 */
import type { JobRunner } from '../workbench';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface MeasureApi {}

export class MeasureJobs implements MeasureApi {
  constructor(readonly job: JobRunner) {}
}
