/**
 * Builds GPT Lab's WebAssembly SIMD kernels: src/gpt/simd/assembly/kernels.ts (AssemblyScript) →
 * src/gpt/simd/kernels.wasm, which is committed beside its source so that the site, Node tests and
 * the benchmark load it without a compiler; tests/unit/simd.test.ts rebuilds it and fails when the
 * committed file is not what the source gives.
 *
 *   npm run build:simd            writes the binary
 *   npm run build:simd -- --check exits 1 when the committed binary is stale
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SIMD_SOURCE = path.join(ROOT, 'src/gpt/simd/assembly/kernels.ts');
export const SIMD_BINARY = path.join(ROOT, 'src/gpt/simd/kernels.wasm');

/**
 * The compiler flags: optimised; the stub runtime and no assertions or abort messages (so the module
 * has no data segment and writes nothing into the memory it shares); memory imported from tfjs-wasm.
 */
const FLAGS = ['-O3', '--runtime', 'stub', '--noAssert', '--use', 'abort=', '--importMemory', '--enable', 'simd'];

/** Compiles the kernels and returns the bytes. */
export function compileSimdKernels(): Uint8Array {
  const dir = mkdtempSync(path.join(tmpdir(), 'gpt-lab-simd-'));
  try {
    const out = path.join(dir, 'kernels.wasm');
    const asc = path.join(ROOT, 'node_modules/assemblyscript/bin/asc.js');
    execFileSync(process.execPath, [asc, path.relative(ROOT, SIMD_SOURCE), '--outFile', out, ...FLAGS], { cwd: ROOT, stdio: 'inherit' });
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const bytes = compileSimdKernels();
  if (process.argv.includes('--check')) {
    const committed = new Uint8Array(readFileSync(SIMD_BINARY));
    const same = committed.length === bytes.length && committed.every((b, i) => b === bytes[i]);
    console.log(same ? `${path.relative(ROOT, SIMD_BINARY)} is up to date` : `${path.relative(ROOT, SIMD_BINARY)} is stale: run npm run build:simd`);
    process.exit(same ? 0 : 1);
  }
  writeFileSync(SIMD_BINARY, bytes);
  console.log(`wrote ${path.relative(ROOT, SIMD_BINARY)} (${bytes.length} bytes)`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
