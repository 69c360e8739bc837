/** Small shared pieces of the command-line scripts: flag errors, progress bars, atomic writes. */
import { renameSync, writeFileSync } from 'node:fs';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

/** A bad flag or value: printed as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type FlagValues<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>
>['values'];

/**
 * Parses the command line's flags strictly: an unknown flag or a missing value is a UsageError that
 * names it, followed by `help`. `--help` prints `help` and returns null.
 */
export function parseFlags<O extends ParseArgsOptionsConfig>(options: O, help: string, args = process.argv.slice(2)): FlagValues<O> | null {
  if (args.includes('--help')) {
    process.stdout.write(help + '\n');
    return null;
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${help}`);
  }
}

export function parseNumberFlag(name: string, raw: string | undefined, integer: boolean): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${name} must be a number, not ${JSON.stringify(raw)}`);
  if (integer && !Number.isInteger(value)) throw new UsageError(`--${name} must be a whole number, not ${raw}`);
  return value;
}

/** Writes the whole file beside its target, then renames it over: a crash never leaves half a file. */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

export function progressBar(done: number, total: number, width = 30): string {
  const filled = Math.round((Math.min(done, total) / Math.max(total, 1)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}

/** Runs `main`, turning a UsageError into a one-line message and exit code 2, any other error into exit 1. */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      const e = err as Error;
      const usage = e instanceof UsageError;
      process.stderr.write(`${usage ? 'error' : (e.name ?? 'Error')}: ${e.message ?? String(err)}\n`);
      process.exit(usage ? 2 : 1);
    },
  );
}
