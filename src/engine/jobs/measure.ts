/**
 * Engine jobs for the Languages and Frameworks chapters: the same matmul four ways, autograd checked against finite differences, a kernel profile of a training step.
 * The page calls them as `api.measure.<method>(…)`; each runs through the engine's JobRunner (workbench.ts).
 * The work itself lives in src/engine/measure/ (this file only adapts it to the workbench).
 */
import type { JobRunner } from '../workbench';
import type { HeadRequest } from '../measure/attention';
import type { ExpressionInputs } from '../measure/expression';
import { expressionGradients, headGradients, type ExpressionGradients, type HeadGradients } from '../measure/gradients';
import type { MatmulRequest } from '../measure/loop';
import { runMatmulBenchmark, type MatmulProgress, type MatmulReport } from '../measure/matmul';
import { profileTrainingStep, type ProfileReport } from '../measure/profile';

export type { ExpressionGradients, HeadGradients, MatmulProgress, MatmulReport, ProfileReport };

export interface MeasureApi {
  /**
   * Times C = A·B (n × n) the requested ways — TypeScript loop, tfjs cpu, wasm, webgpu — and checks
   * they agree; returns GFLOP/s per way, why a way could not run, and the webgpu kernel's WGSL.
   * Throws MeasureInputError (field `n` or `ways`) on a bad request.
   */
  matmul(request: MatmulRequest, onProgress?: (p: MatmulProgress) => void | Promise<void>): Promise<MatmulReport>;
  /** f(a, b, c) = tanh(a·b + c)·a: forward values and `tf.grad` gradients at every node. */
  grad(inputs: ExpressionInputs): Promise<ExpressionGradients>;
  /** One attention head: ∂L/∂Q, ∂L/∂K, ∂L/∂V from `tf.grads`. */
  headGrad(request: HeadRequest): Promise<HeadGradients>;
  /** `tf.profile` of one training step of a scratch copy of the reader's model (theirs is untouched). */
  profile(): Promise<ProfileReport>;
}

export class MeasureJobs implements MeasureApi {
  constructor(readonly job: JobRunner) {}

  matmul(request: MatmulRequest, onProgress?: (p: MatmulProgress) => void | Promise<void>): Promise<MatmulReport> {
    return this.job('read', (wb) =>
      runMatmulBenchmark(
        request,
        { availableBackends: () => wb.availableBackends(), withBackend: (name, fn) => wb.withBackend(name, fn), cancelled: () => wb.cancelled() },
        wb.backend,
        onProgress,
      ),
    );
  }

  grad(inputs: ExpressionInputs): Promise<ExpressionGradients> {
    return this.job('read', () => expressionGradients(inputs));
  }

  headGrad(request: HeadRequest): Promise<HeadGradients> {
    return this.job('read', () => headGradients(request));
  }

  profile(): Promise<ProfileReport> {
    return this.job('read', (wb) => profileTrainingStep(wb.run.model.params, wb.run.hp, wb.run.split, wb.run.trainer.step));
  }
}
