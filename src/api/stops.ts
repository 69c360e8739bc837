/**
 * Stop sequences over a stream of text. Text that might be the start of a stop sequence is held
 * back until the next characters show whether it is one, so a streamed completion never shows
 * part of a stop sequence and then takes it back.
 */
export class StopScanner {
  /** True once a stop sequence was found: nothing after it is ever returned. */
  stopped = false;
  private held = '';

  constructor(private readonly stops: readonly string[]) {}

  /** Adds `text`; returns what may be shown now (up to the first stop sequence, if one is complete). */
  push(text: string): string {
    if (this.stopped) return '';
    const pending = this.held + text;
    let first = -1;
    for (const s of this.stops) {
      const at = pending.indexOf(s);
      if (at !== -1 && (first === -1 || at < first)) first = at;
    }
    if (first !== -1) {
      this.stopped = true;
      this.held = '';
      return pending.slice(0, first);
    }
    // Hold back the longest end of `pending` that some stop sequence begins with.
    let hold = 0;
    for (const s of this.stops) {
      for (let k = Math.min(s.length - 1, pending.length); k > hold; k--) {
        if (pending.endsWith(s.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    this.held = pending.slice(pending.length - hold);
    return pending.slice(0, pending.length - hold);
  }

  /** The text still held back, when the completion ended without a stop sequence. */
  flush(): string {
    const rest = this.stopped ? '' : this.held;
    this.held = '';
    return rest;
  }
}
