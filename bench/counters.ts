import * as tf from '@tensorflow/tfjs';

/**
 * Counts GPU programs dispatched on the webgpu backend by wrapping its program runner
 * (`runWebGPUProgram`): every shader a kernel launches passes through it, including each dispatch
 * inside a kernel made of several programs; reshapes and other view changes launch none.
 * Returns a function that reads the count so far.
 */
export function countWebGPUPrograms(): { read: () => number; reset: () => void; restore: () => void } {
  const backend = tf.backend() as unknown as { runWebGPUProgram?: (...args: unknown[]) => unknown };
  if (typeof backend.runWebGPUProgram !== 'function') throw new Error('the current backend is not webgpu');
  const original = backend.runWebGPUProgram;
  let count = 0;
  backend.runWebGPUProgram = function (this: unknown, ...args: unknown[]) {
    count++;
    return original.apply(this, args);
  };
  return {
    read: () => count,
    reset: () => {
      count = 0;
    },
    restore: () => {
      backend.runWebGPUProgram = original;
    },
  };
}

/** Kernels a function runs on a CPU-side backend, from tfjs's profiler (reshapes included). */
export async function countKernels(f: () => tf.TensorContainer): Promise<number> {
  const info = await tf.profile(f);
  tf.dispose(info.result as tf.TensorContainer);
  return info.kernels.length;
}
