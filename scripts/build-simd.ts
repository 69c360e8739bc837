/**
 * Builds GPT Lab's WebAssembly SIMD kernels: src/gpt/simd/assembly/kernels.ts (AssemblyScript) →
 * src/gpt/simd/kernels.wasm, and the same code importing a *shared* memory →
 * src/gpt/simd/kernels-shared.wasm (tfjs's multi-threaded wasm binary keeps its tensors in a shared
 * WebAssembly.Memory of at most 4 GiB, and a module must declare the memory it imports as shared or
 * not). Both are committed beside their source so that the site, Node tests and the benchmark load
 * them without a compiler; tests/unit/simd.test.ts rebuilds them and fails when a committed file is
 * not what the source gives.
 *
 *   npm run build:simd            writes the binaries
 *   npm run build:simd -- --check exits 1 when a committed binary is stale
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SIMD_SOURCE = path.join(ROOT, 'src/gpt/simd/assembly/kernels.ts');
export const SIMD_BINARY = path.join(ROOT, 'src/gpt/simd/kernels.wasm');
export const SIMD_SHARED_BINARY = path.join(ROOT, 'src/gpt/simd/kernels-shared.wasm');

/**
 * The compiler flags: optimised; the stub runtime and no assertions or abort messages (so the module
 * has no data segment and writes nothing into the memory it shares); memory imported from tfjs-wasm.
 */
const FLAGS = ['-O3', '--runtime', 'stub', '--noAssert', '--use', 'abort=', '--importMemory', '--enable', 'simd'];
/** The shared variant: tfjs's threaded binary creates its memory shared with a maximum of 65536 pages. */
const SHARED_FLAGS = ['--enable', 'threads', '--sharedMemory', '--maximumMemory', '65536'];

/** Compiles the kernels (for a shared memory with `shared`) and returns the bytes. */
export function compileSimdKernels(shared = false): Uint8Array {
  const dir = mkdtempSync(path.join(tmpdir(), 'gpt-lab-simd-'));
  try {
    const out = path.join(dir, 'kernels.wasm');
    const asc = path.join(ROOT, 'node_modules/assemblyscript/bin/asc.js');
    const flags = shared ? [...FLAGS, ...SHARED_FLAGS] : FLAGS;
    execFileSync(process.execPath, [asc, path.relative(ROOT, SIMD_SOURCE), '--outFile', out, ...flags], { cwd: ROOT, stdio: 'inherit' });
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  let stale = false;
  for (const [file, shared] of [[SIMD_BINARY, false], [SIMD_SHARED_BINARY, true]] as const) {
    const bytes = compileSimdKernels(shared);
    const name = path.relative(ROOT, file);
    if (process.argv.includes('--check')) {
      const committed = new Uint8Array(readFileSync(file));
      const same = committed.length === bytes.length && committed.every((b, i) => b === bytes[i]);
      console.log(same ? `${name} is up to date` : `${name} is stale: run npm run build:simd`);
      stale ||= !same;
    } else {
      writeFileSync(file, bytes);
      console.log(`wrote ${name} (${bytes.length} bytes)`);
    }
  }
  if (stale) process.exit(1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
