/**
 * Where the engine keeps the reader's run between visits: the checkpoint + resume record pair of
 * DESIGN.md, and a little about the run. A save is written whole into the slot not in use, and only
 * then does the pointer switch to it, so a crash (or a full disk) mid-save leaves the last good run.
 *
 * `IndexedDbRunStorage` is the app's (idb-keyval, in the worker); `MemoryRunStorage` is for tests.
 * Nothing here touches IndexedDB until a method is called, so the module loads in Node.
 */
import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import type { CorpusChoice, EngineStatus } from './protocol';

export interface RunMeta {
  /** Optimizer steps of the saved weights (the checkpoint's step). */
  step: number;
  /** When it was saved (ms since 1970). */
  savedAt: number;
  origin: EngineStatus['origin'];
  /** The text the run trains on: the reader's own text is kept with the run, in this browser only. */
  corpus: CorpusChoice;
  /** Seconds spent training in this run so far. */
  elapsedSeconds: number;
}

export interface RunRecord {
  /** The `.safetensors` checkpoint (weights). */
  checkpoint: Uint8Array;
  /** The resume record (AdamW moments, step, data position, hyperparameters). */
  resume: Uint8Array;
  meta: RunMeta;
}

export interface RunStorage {
  /** The last run saved whole, or null when there is none. */
  load(): Promise<RunRecord | null>;
  /** Saves `record` whole; the previous one stays until this one is complete. Throws when it cannot (quota). */
  save(record: RunRecord): Promise<void>;
  clear(): Promise<void>;
}

/** A small key-value cache (the calibration's rates, per device). */
export interface KeyValueCache<T> {
  get(key: string): Promise<T | undefined>;
  set(key: string, value: T): Promise<void>;
}

type Slot = 'a' | 'b';
const POINTER = 'pointer';
const slotKey = (slot: Slot) => `slot-${slot}`;
const other = (slot: Slot | undefined): Slot => (slot === 'a' ? 'b' : 'a');

function isRecord(value: unknown): value is RunRecord {
  const r = value as Partial<RunRecord> | undefined;
  return (
    r != null &&
    r.checkpoint instanceof Uint8Array &&
    r.resume instanceof Uint8Array &&
    r.meta != null &&
    typeof r.meta.step === 'number' &&
    r.meta.corpus != null
  );
}

/** The run in IndexedDB: database `gpt-lab-run`, two slots and a pointer written last. */
export class IndexedDbRunStorage implements RunStorage {
  private readonly store: UseStore;

  constructor(dbName = 'gpt-lab-run') {
    this.store = createStore(dbName, 'run');
  }

  async load(): Promise<RunRecord | null> {
    const pointer = await get<Slot>(POINTER, this.store);
    if (pointer == null) return null;
    // The pointed slot is complete by construction; the other one is the fallback if it was lost.
    for (const slot of [pointer, other(pointer)]) {
      const record = await get<unknown>(slotKey(slot), this.store);
      if (isRecord(record)) return record;
    }
    return null;
  }

  async save(record: RunRecord): Promise<void> {
    const target = other(await get<Slot>(POINTER, this.store));
    await set(slotKey(target), record, this.store);
    await set(POINTER, target, this.store);
  }

  async clear(): Promise<void> {
    await del(POINTER, this.store);
    await del(slotKey('a'), this.store);
    await del(slotKey('b'), this.store);
  }
}

/** Values in IndexedDB, database `dbName` (one object store). */
export class IndexedDbCache<T> implements KeyValueCache<T> {
  private readonly store: UseStore;

  constructor(dbName: string) {
    this.store = createStore(dbName, 'cache');
  }

  get(key: string): Promise<T | undefined> {
    return get<T>(key, this.store);
  }

  set(key: string, value: T): Promise<void> {
    return set(key, value, this.store);
  }
}

/** The same two-slot behaviour in memory. `failure`, when set, makes every save throw it (a full disk). */
export class MemoryRunStorage implements RunStorage {
  failure: Error | null = null;
  /** How many saves completed. */
  saves = 0;
  private readonly slots = new Map<Slot, RunRecord>();
  private pointer: Slot | undefined;

  async load(): Promise<RunRecord | null> {
    return this.pointer == null ? null : (this.slots.get(this.pointer) ?? null);
  }

  async save(record: RunRecord): Promise<void> {
    if (this.failure) throw this.failure;
    const target = other(this.pointer);
    // A copy, as IndexedDB's structured clone would make: later changes by the caller do not leak in.
    this.slots.set(target, structuredClone(record));
    this.pointer = target;
    this.saves++;
  }

  async clear(): Promise<void> {
    this.slots.clear();
    this.pointer = undefined;
  }
}

export class MemoryCache<T> implements KeyValueCache<T> {
  readonly values = new Map<string, T>();

  async get(key: string): Promise<T | undefined> {
    return this.values.get(key);
  }

  async set(key: string, value: T): Promise<void> {
    this.values.set(key, value);
  }
}
