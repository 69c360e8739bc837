/**
 * A small tar writer (POSIX ustar, as GNU tar, bsdtar and Python's tarfile read it), enough to hand
 * the reader one file that holds a checkpoint, its text and a training script.
 *
 * The format, for what we write: each file is a 512-byte header followed by its bytes, padded with
 * zeros to a multiple of 512; two zero blocks end the archive. Header fields are ASCII, numbers in
 * octal with a NUL after them:
 *
 *   offset size field        offset size field
 *        0  100 name            257    6 magic "ustar\0"
 *      100    8 mode            263    2 version "00"
 *      108    8 uid             265   32 uname
 *      116    8 gid             297   32 gname
 *      124   12 size            329    8 devmajor
 *      136   12 mtime           337    8 devminor
 *      148    8 checksum        345  155 prefix (joined to name with "/")
 *      156    1 typeflag ('0' file, '5' directory)
 *
 * The checksum is the sum of the header's 512 bytes as unsigned numbers, counted with the checksum
 * field itself as eight spaces; it is written as six octal digits, a NUL and a space.
 * Pure: no DOM, no Node APIs.
 */

export interface TarEntry {
  /** Path inside the archive, '/'-separated ASCII; a trailing '/' makes a directory. */
  name: string;
  /** File contents (ignored for a directory). */
  data?: Uint8Array;
  /** Permission bits (default 0o644 for files, 0o755 for directories). */
  mode?: number;
  /** Modification time, seconds since 1970 (default 0, so the same input gives the same bytes). */
  mtime?: number;
}

export const TAR_BLOCK = 512;

/** Octal digits of `value`, zero-padded to `width − 1` and ended by a NUL, as ustar numeric fields are. */
function octal(value: number, width: number): string {
  const digits = value.toString(8);
  if (digits.length > width - 1) throw new RangeError(`${value} does not fit in a ${width}-byte tar field`);
  return digits.padStart(width - 1, '0') + '\0';
}

function putString(header: Uint8Array, offset: number, width: number, text: string): void {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7e || (code < 0x20 && code !== 0)) throw new RangeError(`tar header fields must be printable ASCII: ${JSON.stringify(text)}`);
    if (i >= width) throw new RangeError(`"${text}" is longer than the ${width}-byte tar field`);
    header[offset + i] = code;
  }
}

/** Splits a path longer than 100 bytes into ustar's prefix (≤ 155) and name (≤ 100) at a '/'. */
function splitName(path: string): { prefix: string; name: string } {
  if (path.length <= 100) return { prefix: '', name: path };
  for (let cut = path.lastIndexOf('/'); cut > 0; cut = path.lastIndexOf('/', cut - 1)) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (prefix.length <= 155 && name.length <= 100 && name.length > 0) return { prefix, name };
  }
  throw new RangeError(`the path "${path}" is too long for a ustar archive`);
}

function checkPath(path: string): void {
  if (path.length === 0) throw new RangeError('a tar entry needs a name');
  if (path.startsWith('/') || path.split('/').includes('..')) throw new RangeError(`"${path}" must be a relative path without ".."`);
}

/** The 512-byte header of one entry. */
export function tarHeader(entry: TarEntry): Uint8Array {
  checkPath(entry.name);
  const isDir = entry.name.endsWith('/');
  const size = isDir ? 0 : (entry.data?.length ?? 0);
  const { prefix, name } = splitName(entry.name);
  const h = new Uint8Array(TAR_BLOCK);
  putString(h, 0, 100, name);
  putString(h, 100, 8, octal(entry.mode ?? (isDir ? 0o755 : 0o644), 8));
  putString(h, 108, 8, octal(0, 8));
  putString(h, 116, 8, octal(0, 8));
  putString(h, 124, 12, octal(size, 12));
  putString(h, 136, 12, octal(Math.max(0, Math.floor(entry.mtime ?? 0)), 12));
  putString(h, 148, 8, '        '); // counted as spaces while summing
  putString(h, 156, 1, isDir ? '5' : '0');
  putString(h, 257, 6, 'ustar\0');
  putString(h, 263, 2, '00');
  putString(h, 265, 32, 'gpt-lab');
  putString(h, 297, 32, 'gpt-lab');
  putString(h, 345, 155, prefix);
  let sum = 0;
  for (const b of h) sum += b;
  putString(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

/** One archive holding `entries` in order. */
export function writeTar(entries: readonly TarEntry[]): Uint8Array {
  const seen = new Set<string>();
  let total = 2 * TAR_BLOCK;
  for (const e of entries) {
    if (seen.has(e.name)) throw new Error(`"${e.name}" appears twice in the archive`);
    seen.add(e.name);
    const size = e.name.endsWith('/') ? 0 : (e.data?.length ?? 0);
    total += TAR_BLOCK + Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
  }
  const out = new Uint8Array(total); // zero-filled: padding and the two end blocks come free
  let at = 0;
  for (const e of entries) {
    out.set(tarHeader(e), at);
    at += TAR_BLOCK;
    if (!e.name.endsWith('/') && e.data) {
      out.set(e.data, at);
      at += Math.ceil(e.data.length / TAR_BLOCK) * TAR_BLOCK;
    }
  }
  return out;
}
