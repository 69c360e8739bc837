/**
 * A request body read with a size limit, shared by the API's parser (./request.ts) and the Service
 * Worker (src/sw/sw.ts), which refuses an oversized body before passing it to the page. No imports:
 * the Service Worker bundle takes this file alone.
 */

/** The largest body the API accepts, in bytes (1 MB). */
export const MAX_BODY_BYTES = 1_000_000;

/**
 * The body's bytes, or null when it is larger than `limit`: by its declared Content-Length, before
 * anything is read, or else once the bytes read pass the limit (reading stops there).
 */
export async function readBodyUpTo(req: Request, limit: number): Promise<Uint8Array | null> {
  const declared = req.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > limit) return null;
  if (req.body === null) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return bytes;
}
