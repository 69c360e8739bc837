/**
 * The tfjs backends in Node: WebGPU through Dawn (the `webgpu` package), WASM from node_modules.
 *
 * Dawn reaches the GPU through the Vulkan loader (`libvulkan1`) on Linux. Where the system's drivers
 * offer a real GPU, that is used. Where they offer none (or only a software one), Dawn runs on
 * SwiftShader, the software Vulkan driver that ships with Chromium, named to the loader through
 * `VK_ICD_FILENAMES`. Where that variable (or `VK_DRIVER_FILES`) is already set, it stands.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configureSimdKernels } from '../../src/gpt/simd/install';
import {
  BackendError,
  configureWasmPaths,
  probeBackends,
  useBackend,
  type AdapterSummary,
  type BackendName,
} from '../../src/engine/backends';

export interface NodeWebGPU {
  adapter: AdapterSummary;
  /** The Vulkan driver manifest we pointed the loader at, or null where we left the loader alone. */
  icd: string | null;
  /** One line for logs: which adapter, and whether it is a software one. */
  description: string;
}

const SWIFTSHADER_ICD = 'vk_swiftshader_icd.json';

/** Folders where Chromium builds keep SwiftShader, tried after asking dpkg. */
const SWIFTSHADER_DIRS = [
  '/usr/lib/chromium',
  '/usr/lib/chromium-browser',
  '/usr/lib64/chromium-browser',
  '/snap/chromium/current/usr/lib/chromium-browser',
  '/opt/google/chrome',
];

const INSTALL_HINT =
  'On Debian/Ubuntu: `sudo apt-get install -y chromium libvulkan1` (the Vulkan loader and ' +
  "Chromium's SwiftShader driver), or point VK_ICD_FILENAMES at a Vulkan driver manifest.";

/** Where Chromium's SwiftShader Vulkan driver manifest is on this machine, or null. */
export function findSwiftShaderICD(): string | null {
  for (const pkg of ['chromium-common', 'chromium']) {
    const listed = run('dpkg', ['-L', pkg])
      .split('\n')
      .find((line) => line.endsWith(`/${SWIFTSHADER_ICD}`));
    if (listed && existsSync(listed)) return listed;
  }
  for (const dir of SWIFTSHADER_DIRS) {
    const file = path.join(dir, SWIFTSHADER_ICD);
    if (existsSync(file)) return file;
  }
  return null;
}

/** The driver manifest installNodeWebGPU pointed the Vulkan loader at, if it did. */
let chosenICD: string | null = null;

/**
 * Gives Node a `navigator.gpu` (and the WebGPU globals such as `GPUBufferUsage`) backed by Dawn:
 * a real GPU through the system's Vulkan drivers where there is one, else SwiftShader. Call it
 * before the webgpu backend is first imported: that import registers the backend only if
 * `navigator.gpu` exists. Throws a `BackendError` saying what to install when no adapter appears.
 */
export async function installNodeWebGPU(): Promise<NodeWebGPU> {
  const chosenByUser = process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES || null;
  const g = globalThis as { navigator?: Navigator };
  if (g.navigator?.gpu == null) {
    let dawn: typeof import('webgpu');
    try {
      dawn = await import('webgpu');
    } catch (err) {
      const message = `Could not load Dawn (the npm package "webgpu"): ${String(err)}`;
      throw new BackendError('webgpu', message, { cause: err });
    }
    if (process.platform === 'linux') {
      // Mesa's device-select layer only orders GPUs, which Dawn does itself; on a machine without
      // a display it prints "XDG_RUNTIME_DIR is invalid" each time a Vulkan instance is made.
      process.env.VK_LOADER_LAYERS_DISABLE ??= 'VK_LAYER_MESA_device_select';
    }
    let gpu = dawn.create([]);
    if (process.platform === 'linux' && chosenByUser == null && !(await hasHardwareAdapter(gpu))) {
      // The system's drivers gave no GPU: try NVIDIA's without a display, then SwiftShader.
      for (const icd of [headlessNvidiaICD(), findSwiftShaderICD()]) {
        if (icd == null) continue;
        // The loader reads this each time Dawn makes a Vulkan instance, as `create` does.
        process.env.VK_ICD_FILENAMES = icd;
        chosenICD = icd;
        gpu = dawn.create([]);
        if ((await gpu.requestAdapter({ powerPreference: 'high-performance' })) != null) break;
      }
    }
    Object.assign(globalThis, dawn.globals);
    // Node 20 has no navigator at all; Node 21+ has one without `gpu`.
    if (g.navigator == null) {
      Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
    }
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  }

  const report = (await probeBackends()).find((r) => r.name === 'webgpu');
  if (report?.adapter == null) {
    const why = diagnose(chosenByUser);
    throw new BackendError('webgpu', `WebGPU in Node found no GPU adapter: ${why}`);
  }
  const a = report.adapter;
  const driver = chosenICD ?? chosenByUser;
  const maker = [a.vendor, a.architecture].filter(Boolean).join('/');
  const description =
    `${a.description || a.device || 'unnamed adapter'}${maker ? ` (${maker})` : ''}` +
    (a.isFallbackAdapter ? ', software fallback' : '') +
    (driver ? `, Vulkan driver manifest ${driver}` : '');
  return { adapter: a, icd: chosenICD, description };
}

async function hasHardwareAdapter(gpu: GPU): Promise<boolean> {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  return adapter != null && !adapter.info?.isFallbackAdapter;
}

/**
 * NVIDIA's Vulkan driver reached through its EGL library. The manifest NVIDIA installs names the
 * GLX library, which fails on a machine with no display (a server, a container); this one works.
 */
function headlessNvidiaICD(): string | null {
  const library = 'libEGL_nvidia.so.0';
  if (!sharedLibraries().includes(library)) return null;
  const file = path.join(os.tmpdir(), 'gpt-lab-nvidia-headless-icd.json');
  const manifest = { file_format_version: '1.0.0', ICD: { library_path: library, api_version: '1.3.0' } };
  writeFileSync(file, JSON.stringify(manifest));
  return file;
}

/** Why Dawn found no adapter, and what to install. */
function diagnose(chosenByUser: string | null): string {
  if (process.platform !== 'linux') return 'this machine offered none to Dawn.';
  if (!hasVulkanLoader()) return `the Vulkan loader libvulkan.so.1 is missing. ${INSTALL_HINT}`;
  if (chosenByUser) {
    const named = `the Vulkan driver named by VK_ICD_FILENAMES/VK_DRIVER_FILES (${chosenByUser})`;
    return `${named} gave none. ${INSTALL_HINT}`;
  }
  const swiftShader = findSwiftShaderICD();
  if (swiftShader == null) {
    return `no GPU driver gave one, and no SwiftShader (${SWIFTSHADER_ICD}) was found. ${INSTALL_HINT}`;
  }
  const check = `is libvk_swiftshader.so beside ${swiftShader}?`;
  return `neither a GPU driver nor SwiftShader gave one (${check}) ${INSTALL_HINT}`;
}

function hasVulkanLoader(): boolean {
  if (sharedLibraries().includes('libvulkan.so.1')) return true;
  const dirs = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  dirs.push('/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib');
  return dirs.some((dir) => existsSync(path.join(dir, 'libvulkan.so.1')));
}

/** The dynamic linker's list of libraries (ldconfig is in /sbin, often not on a user's PATH). */
function sharedLibraries(): string {
  return run('ldconfig', ['-p']) || run('/sbin/ldconfig', ['-p']);
}

/** stdout of a command, or '' if it is missing or fails. */
function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

/** Points the wasm backend at its binaries in node_modules. Returns that folder. */
export function configureNodeWasm(): string {
  const require = createRequire(import.meta.url);
  const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  if (!existsSync(path.join(dist, 'tfjs-backend-wasm.wasm'))) {
    throw new BackendError('wasm', `The WASM binaries are missing from ${dist}; run \`npm ci\`.`);
  }
  configureWasmPaths(dist + path.sep); // a prefix: tfjs appends the file name
  // GPT Lab's own SIMD kernels (src/gpt/simd), installed when the wasm backend starts.
  const kernels = fileURLToPath(new URL('../../src/gpt/simd/kernels.wasm', import.meta.url));
  const shared = fileURLToPath(new URL('../../src/gpt/simd/kernels-shared.wasm', import.meta.url));
  configureSimdKernels(async (isShared) => readFileSync(isShared ? shared : kernels));
  return dist;
}

/** Installs what `name` needs in Node, switches tfjs to it, and returns one line for logs. */
export async function prepareNodeBackend(name: BackendName): Promise<string> {
  let detail = '';
  if (name === 'webgpu') detail = (await installNodeWebGPU()).description;
  if (name === 'wasm') detail = `binaries from ${configureNodeWasm()}`;
  if (name === 'webgl') {
    throw new BackendError('webgl', 'There is no WebGL outside a browser; use webgpu, wasm or cpu.');
  }
  await useBackend(name);
  return detail ? `${name}: ${detail}` : name;
}
