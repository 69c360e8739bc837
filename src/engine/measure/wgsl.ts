/**
 * Reads the WGSL a tfjs webgpu kernel runs. Every GPU program passes through the backend's
 * `runWebGPUProgram` (as bench/counters.ts counts them); wrapping it for one call shows the program
 * object — its `getUserCode()` is the kernel's body — and, by handing it an empty pipeline cache for
 * that call, makes the backend compile the program again, so the full shader module it gives
 * `device.createShaderModule` (headers, bindings and the body) can be read too. The compiled
 * pipeline joins the real cache afterwards, so nothing is lost.
 *
 * These are tfjs internals (4.22); if they change, the capture returns what it can and says so.
 */
import * as tf from '@tensorflow/tfjs';

export interface CapturedProgram {
  /** The program's shader key up to its first underscore: `matMulPacked`, `matMulSmallOutputSize`, … */
  name: string;
  /** The full key tfjs caches the compiled pipeline under (shapes, types, tile sizes). */
  shaderKey: string;
  workgroupSize: number[];
  /** Workgroups dispatched in x, y, z. */
  dispatch: number[];
  /** The kernel's body, as the program writes it. */
  userCode: string;
  /** The whole shader module compiled for the device, or '' when it could not be read. */
  source: string;
}

interface ProgramLike {
  shaderKey?: string;
  workgroupSize?: number[];
  dispatch?: number[];
  getUserCode?: () => string;
}

interface WebGPUBackendLike {
  runWebGPUProgram: (program: ProgramLike, ...rest: unknown[]) => unknown;
  pipelineCache?: Record<string, unknown>;
  device?: { createShaderModule: (desc: { code: string }) => unknown };
}

/** Runs `fn` on the webgpu backend, recording every program it dispatches. */
export function captureWebGPUPrograms<T>(fn: () => T): { result: T; programs: CapturedProgram[] } {
  const backend = tf.backend() as unknown as Partial<WebGPUBackendLike>;
  if (typeof backend.runWebGPUProgram !== 'function') throw new Error('the current backend is not webgpu');
  const webgpu = backend as WebGPUBackendLike;
  const original = webgpu.runWebGPUProgram;
  const ownRunner = Object.prototype.hasOwnProperty.call(webgpu, 'runWebGPUProgram');
  const programs: CapturedProgram[] = [];
  webgpu.runWebGPUProgram = function (this: unknown, program: ProgramLike, ...rest: unknown[]) {
    const key = String(program.shaderKey ?? '');
    const device = webgpu.device;
    const cache = webgpu.pipelineCache;
    const createShaderModule = device?.createShaderModule;
    let source = '';
    const ownModule = device != null && Object.prototype.hasOwnProperty.call(device, 'createShaderModule');
    if (device && cache && createShaderModule) {
      webgpu.pipelineCache = {};
      device.createShaderModule = function (this: unknown, desc: { code: string }) {
        source = desc.code;
        return createShaderModule.call(this, desc);
      };
    }
    try {
      return original.call(this, program, ...rest);
    } finally {
      if (device && cache && createShaderModule) {
        restore(device, 'createShaderModule', createShaderModule, ownModule);
        Object.assign(cache, webgpu.pipelineCache);
        webgpu.pipelineCache = cache;
      }
      programs.push({
        name: key.split('_')[0] || 'program',
        shaderKey: String(program.shaderKey ?? key),
        workgroupSize: [...(program.workgroupSize ?? [])],
        dispatch: [...(program.dispatch ?? [])],
        userCode: typeof program.getUserCode === 'function' ? program.getUserCode() : '',
        source,
      });
    }
  };
  try {
    return { result: fn(), programs };
  } finally {
    restore(webgpu, 'runWebGPUProgram', original, ownRunner);
  }
}

/** Puts a wrapped method back: the original own property, or the prototype's by deleting ours. */
function restore<O extends object, K extends keyof O>(target: O, key: K, original: O[K], wasOwn: boolean): void {
  if (wasOwn) target[key] = original;
  else Reflect.deleteProperty(target, key);
}
