import { create } from 'zustand';
import { createEngine, eventsProxy, transferBytes, type EngineRemote } from '../engine/client';
import type {
  BackendName,
  BackendRate,
  CorpusChoice,
  EngineStatus,
  FieldError,
  Hyperparameters,
  Metrics,
  SampleResult,
} from '../engine/protocol';
import { resolveHyperparameters, type PresetName } from '../gpt/config';
import { downloadBytes } from './download';
import { applyPreset, architectureChanges, formHyperparameters, formState, formValuesOf, type FormState } from './form';
import { MetricsHistory } from './history';
import { MOBY_DICK_VOCABULARY, parseRunUrl, resolveRun, FORM_FIELDS, type FormField, type RunFromUrl } from './runUrl';

/**
 * The one store the whole app shares (DESIGN.md: state that many chapters use lives in one store).
 * It owns the engine client — created once, on `start` — and turns the engine's events into state.
 *
 * The loss history lives outside React state in `history` (columns, appended in place); the store
 * only carries `historyVersion`, bumped at most once per animation frame, so a burst of metrics
 * events costs one render.
 *
 * A watchdog keeps the engine alive: a worker can die without a word (the browser ends it under
 * memory pressure, a crash in tfjs's WASM, `self.close()`), and then every call would wait forever.
 * The worker holds a Web Lock for as long as it lives, and the page waits on that lock: it is
 * granted the moment the worker is gone, however it went, while a worker that is merely busy (a
 * slow shader compile can block it for many seconds) keeps it. Where there are no Web Locks, and
 * for a worker that is alive but stuck, the page also pings the engine every few seconds: a ping
 * unanswered, with nothing else heard from the worker, for `DEAD_AFTER_MS` counts as dead too, as
 * does no answer soon after the worker reported an error. Then the page ends that worker, starts a
 * new one, which restores the run autosaved in this browser, and tells the reader. At most
 * `MAX_RESTARTS` times in one visit, so a worker that dies on start cannot loop.
 */

type Engine = ReturnType<typeof createEngine>;

export type LabAction =
  | 'train'
  | 'step'
  | 'reset'
  | 'apply'
  | 'calibrate'
  | 'backend'
  | 'corpus'
  | 'export'
  | 'import'
  | 'sample';

export interface LabState {
  /** The engine's last report; null until it first answers. */
  status: EngineStatus | null;
  /** The newest metrics point (also the last row of `history`). */
  latest: Metrics | null;
  /** Bumped when `history` changed; subscribe to redraw. */
  historyVersion: number;
  /** The newest samples, newest first. */
  samples: SampleResult[];
  /** Every backend candidate with its measured rate (last calibration). */
  rates: BackendRate[];
  /** Temperature of the samples drawn while training. */
  sampleTemperature: number;
  /** The call in flight, if any (its buttons are disabled). */
  busy: LabAction | null;
  /** A failed call or a worker that would not load, in words. */
  error: string | null;
  /** Said when the engine's worker died and was restarted (the page's notice; the engine's own is in `status`). */
  restartNotice: string | null;
  corpusError: string | null;
  importError: string | null;
  /** The run in the address (`?preset=…&layers=…`) and, when it is invalid, why it did not start. */
  url: RunFromUrl;
  urlErrors: FieldError[];
  /** A backend the reader forced (in the address or the menu); written into shared links. */
  backendOverride: BackendName | null;
  form: FormState;
  dockOpen: boolean;

  start(): void;
  train(): Promise<void>;
  pause(): Promise<void>;
  step(): Promise<void>;
  reset(from: 'pretrained' | 'scratch'): Promise<void>;
  calibrate(): Promise<void>;
  setBackend(name: BackendName): Promise<void>;
  setFormField(field: FormField, value: string): void;
  setFormPreset(preset: PresetName): void;
  /** Puts the running model's set back in the form. */
  revertForm(): void;
  /** The set the form describes, when it is valid. */
  formHyperparameters(): Hyperparameters | null;
  /** Applies the form; the caller has asked the reader first when the architecture changes. */
  applyForm(): Promise<void>;
  setSampleTemperature(t: number): void;
  sampleNow(prompt: string): Promise<void>;
  setCorpus(choice: CorpusChoice): Promise<boolean>;
  exportCheckpoint(): Promise<void>;
  importCheckpoint(file: File): Promise<void>;
  setDockOpen(open: boolean): void;
  dismissError(): void;
  dismissRestartNotice(): void;
}

/** The current run's loss curve (see the note above). */
export const history = new MetricsHistory();

const SAMPLES_KEPT = 4;
const DOCK_KEY = 'gpt-lab-dock';

let engine: Engine | null = null;

/** The watchdog's pacing (see the note at the top). */
const PING_EVERY_MS = 5_000;
const DEAD_AFTER_MS = 90_000;
/** After the worker reports an error, how long an answer to a ping may take before it counts as dead. */
const ERROR_GRACE_MS = 5_000;
const MAX_RESTARTS = 3;

/**
 * The engine for chapter widgets: its chapter namespaces (`api.inspect.…`, `api.tuning.…`) and
 * methods. Null until the lab has started it and it has a model (`status.state` past 'starting').
 */
export function useEngine(): EngineRemote | null {
  const ready = useLab((s) => s.status != null && s.status.state !== 'starting' && s.status.state !== 'error');
  return ready && engine ? engine.api : null;
}

/**
 * The same as `useEngine`, outside React (the Service Worker bridge, src/app/serviceWorker.ts):
 * the engine's proxy once it has a model, else null.
 */
export function engineApi(): EngineRemote | null {
  const s = useLab.getState().status;
  return s != null && s.state !== 'starting' && s.state !== 'error' && engine ? engine.api : null;
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return typeof e === 'string' ? e : 'Something went wrong in the engine.';
}

function initialDockOpen(): boolean {
  try {
    const v = localStorage.getItem(DOCK_KEY);
    if (v === 'open' || v === 'closed') return v === 'open';
  } catch {
    // storage blocked
  }
  return typeof matchMedia === 'function' && matchMedia('(min-width: 75em)').matches;
}

/** The set the form starts from before the engine reports one: the shipped model's preset. */
function placeholderHp(): Hyperparameters {
  return { ...resolveHyperparameters('base'), vocabSize: MOBY_DICK_VOCABULARY };
}

function initialUrlState(): Pick<LabState, 'url' | 'urlErrors' | 'backendOverride' | 'form'> {
  const url = parseRunUrl(typeof location === 'undefined' ? '' : location.search);
  const base = placeholderHp();
  let form = formState(formValuesOf(base), base, false);
  let urlErrors: FieldError[] = [];
  if (url.hasRun) {
    const resolved = resolveRun(url);
    urlErrors = resolved.errors;
    if (resolved.hp) {
      form = formState(formValuesOf(resolved.hp), resolved.hp, false);
    } else {
      // Show the link's values, as written, on their fields, with their errors.
      const values = { ...formValuesOf(base) };
      for (const f of FORM_FIELDS) if (url.values[f] !== undefined) values[f] = url.values[f];
      form = formState(values, base, true);
    }
  }
  return { url, urlErrors, backendOverride: url.backend === 'auto' ? null : url.backend, form };
}

export const useLab = create<LabState>((set, get) => {
  /** Runs one engine call, reporting a failure in `error` and marking it busy meanwhile. */
  async function call<T>(action: LabAction | null, fn: (api: Engine['api']) => Promise<T>): Promise<T | undefined> {
    if (!engine) return undefined;
    set(action ? { busy: action, error: null } : { error: null });
    try {
      return await fn(engine.api);
    } catch (e) {
      set({ error: messageOf(e) });
      return undefined;
    } finally {
      if (action && get().busy === action) set({ busy: null });
    }
  }

  // Metrics arrive as fast as the worker steps; React hears about them at most once a frame
  // (or every 250 ms when the tab is hidden and frames stop).
  let commitScheduled = false;
  function commit() {
    if (!commitScheduled) return;
    commitScheduled = false;
    set({
      latest: history.length > 0 ? history.at(history.length - 1) : null,
      historyVersion: get().historyVersion + 1,
    });
  }
  function scheduleCommit() {
    if (commitScheduled) return;
    commitScheduled = true;
    requestAnimationFrame(commit);
    setTimeout(commit, 250);
  }
  function clearRun() {
    history.clear();
    commitScheduled = true;
    commit();
    set({ samples: [] });
  }

  function onStatus(s: EngineStatus) {
    const prev = get().status;
    if (s.state !== 'training' && s.step < history.lastStep) {
      history.truncateAfter(s.step);
      scheduleCommit();
    }
    const patch: Partial<LabState> = { status: s };
    if (s.backend) patch.rates = s.backend.rates;
    if (s.hp && (!prev?.hp || JSON.stringify(prev.hp) !== JSON.stringify(s.hp))) {
      const { form } = get();
      patch.form = form.edited ? formState(form.values, s.hp, true) : formState(formValuesOf(s.hp), s.hp, false);
    }
    set(patch);
  }

  function onMetrics(m: Metrics) {
    history.push(m);
    scheduleCommit();
  }

  function onSample(s: SampleResult) {
    set({ samples: [s, ...get().samples].slice(0, SAMPLES_KEPT) });
  }

  function baseHp(): Hyperparameters {
    return get().status?.hp ?? placeholderHp();
  }

  // ---- The engine's worker, and the watchdog that restarts it when it dies.
  let restarts = 0;
  let watchdog: ReturnType<typeof setInterval> | null = null;
  /** performance.now() of the last thing heard from the current worker (an answer or an event). */
  let lastHeard = 0;
  /** When the unanswered ping was sent, if one is out. */
  let pingSentAt: number | null = null;

  function heardFrom(client: Engine): boolean {
    if (engine !== client) return false;
    lastHeard = performance.now();
    return true;
  }

  /** Asks the worker for its status; any answer counts as alive. */
  function ping(client: Engine): number {
    const sent = performance.now();
    pingSentAt = sent;
    client.api.status().then(
      () => {
        if (heardFrom(client) && pingSentAt === sent) pingSentAt = null;
      },
      () => undefined, // a call rejected by a worker that is going away: the watchdog sees the silence
    );
    return sent;
  }

  function silentSince(since: number): boolean {
    return lastHeard < since;
  }

  function watch(client: Engine) {
    if (watchdog != null) clearInterval(watchdog);
    lastHeard = performance.now();
    pingSentAt = null;
    watchdog = setInterval(() => {
      if (engine !== client) return;
      const now = performance.now();
      if (pingSentAt == null) {
        ping(client);
      } else if (now - Math.max(pingSentAt, lastHeard) > DEAD_AFTER_MS) {
        // A ping is out, and nothing at all has come back for that long (events count as life too).
        died(client, `it stopped answering for ${Math.round(DEAD_AFTER_MS / 1000)} seconds`);
      }
    }, PING_EVERY_MS);
  }

  /**
   * Waits on the worker's life lock (client.ts). It must be held by the worker before the page asks
   * for it, or the page would simply be granted it: the page first waits to see it held.
   */
  function watchLock(client: Engine) {
    const name = client.lifeLock;
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    if (name == null || locks == null) return;
    void (async () => {
      for (let tries = 0; ; tries++) {
        if (engine !== client) return;
        const { held = [] } = await locks.query();
        if (held.some((l) => l.name === name)) break;
        // Not taken yet: the worker is still loading (a slow network, a busy machine).
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * 2 ** Math.min(tries, 5))));
      }
      await locks.request(name, () => {
        if (engine === client) died(client, 'its worker ended unexpectedly');
      });
    })().catch(() => undefined);
  }

  /** The worker reported an error: it may have died of it. A quick ping decides. */
  function checkAfterError(client: Engine, what: string) {
    const sent = ping(client);
    setTimeout(() => {
      if (engine === client && silentSince(sent)) died(client, what);
    }, ERROR_GRACE_MS);
  }

  /** The current worker is gone: end it and start another (or give up after MAX_RESTARTS). */
  function died(client: Engine, why: string) {
    if (engine !== client) return;
    if (watchdog != null) clearInterval(watchdog);
    watchdog = null;
    client.terminate();
    engine = null;
    const before = get().status;
    const saved = before?.lastSavedStep;
    const savedText = saved != null ? `Your run was autosaved at step ${saved}.` : '';
    if (restarts >= MAX_RESTARTS) {
      set({
        busy: null,
        restartNotice: null,
        status: before ? { ...before, state: 'error', error: null } : null,
        error: `The engine stopped (${why}) after ${restarts} restarts already. ${savedText} Reload the page to try again.`.replace(/ {2}/g, ' '),
      });
      return;
    }
    restarts++;
    set({
      busy: null,
      error: null,
      status: before ? { ...before, state: 'starting', notice: null, error: null } : null,
      restartNotice: `The engine stopped (${why}). Restarting it…`,
    });
    launch(why);
  }

  /** Creates the engine worker and starts it; `restartedAfter` says why, when an earlier one died. */
  function launch(restartedAfter: string | null) {
    const { url, urlErrors } = get();
    let client: Engine;
    try {
      client = createEngine();
    } catch (e) {
      set({ error: `The engine could not start: ${messageOf(e)}` });
      return;
    }
    engine = client;
    client.worker.addEventListener('error', (e) => {
      if (engine !== client) return;
      const what = e.message || 'its worker failed to load';
      set({ error: `The engine reported an error: ${what}` });
      checkAfterError(client, `its worker failed: ${what}`);
    });
    watch(client);
    watchLock(client);
    // A restart restores the autosaved run: the run in the address was only where the visit began.
    const shared =
      restartedAfter == null && url.hasRun && urlErrors.length === 0 ? (resolveRun(url).hp ?? undefined) : undefined;
    // Events of a worker that was replaced are dropped.
    const events = eventsProxy({
      status: (s) => {
        if (heardFrom(client)) onStatus(s);
      },
      metrics: (m) => {
        if (heardFrom(client)) onMetrics(m);
      },
      sample: (s) => {
        if (heardFrom(client)) onSample(s);
      },
    });
    void call(null, async (api) => {
      const status = await api.start(
        {
          backend: restartedAfter == null ? url.backend : (get().backendOverride ?? url.backend),
          pretrainedUrl: new URL('models/base.safetensors', document.baseURI).href,
          corpusUrl: new URL('data/moby-dick.txt', document.baseURI).href,
          shared,
        },
        events,
      );
      if (!heardFrom(client)) return;
      onStatus(status);
      if (restartedAfter != null) set({ restartNotice: restartNoticeText(restartedAfter, status) });
      await api.setSampleTemperature(get().sampleTemperature);
    });
  }

  return {
    status: null,
    latest: null,
    historyVersion: 0,
    samples: [],
    rates: [],
    sampleTemperature: 0.8,
    busy: null,
    error: null,
    restartNotice: null,
    corpusError: null,
    importError: null,
    ...initialUrlState(),
    dockOpen: initialDockOpen(),

    start() {
      if (engine) return;
      const { url, urlErrors } = get();
      if (url.debug) {
        window.gptLab = { metrics: () => history.toArray(), status: () => get().status };
      }
      if (urlErrors.length > 0) set({ dockOpen: true });
      launch(null);
    },

    async train() {
      await call('train', (api) => api.train());
    },

    async pause() {
      const s = await call(null, (api) => api.pause());
      if (s) onStatus(s);
    },

    async step() {
      const m = await call('step', (api) => api.step());
      if (m) onMetrics(m);
    },

    async reset(from) {
      const s = await call('reset', (api) => api.reset(from));
      if (!s) return;
      clearRun();
      onStatus(s);
    },

    async calibrate() {
      const rates = await call('calibrate', (api) => api.calibrate());
      if (rates) set({ rates });
    },

    async setBackend(name) {
      const s = await call('backend', (api) => api.setBackend(name));
      if (!s) return;
      set({ backendOverride: name });
      onStatus(s);
    },

    setFormField(field, value) {
      const { form } = get();
      set({ form: formState({ ...form.values, [field]: value }, baseHp(), true) });
    },

    setFormPreset(preset) {
      const { form } = get();
      set({ form: formState(applyPreset(form.values, preset), baseHp(), true) });
    },

    revertForm() {
      const hp = baseHp();
      set({ form: formState(formValuesOf(hp), hp, false) });
    },

    formHyperparameters() {
      return formHyperparameters(get().form.values, baseHp()).hp;
    },

    async applyForm() {
      const hp = get().formHyperparameters();
      if (!hp) return;
      const before = baseHp();
      const result = await call('apply', (api) => api.applyHyperparameters(hp));
      if (!result) return;
      if (result.errors.length > 0) {
        set({ form: { ...get().form, errors: result.errors } });
        onStatus(result.status);
        return;
      }
      if (architectureChanges(before, hp).length > 0) clearRun();
      set({ form: formState(formValuesOf(result.status.hp ?? hp), result.status.hp ?? hp, false), urlErrors: [] });
      onStatus(result.status);
    },

    setSampleTemperature(t) {
      set({ sampleTemperature: t });
      void call(null, (api) => api.setSampleTemperature(t));
    },

    async sampleNow(prompt) {
      const { sampleTemperature } = get();
      const s = await call('sample', (api) => api.sample({ prompt, maxTokens: 200, temperature: sampleTemperature }));
      if (s) onSample(s);
    },

    async setCorpus(choice) {
      set({ corpusError: null });
      const result = await call('corpus', (api) => api.setCorpus(choice));
      if (!result) return false;
      set({ corpusError: result.error });
      if (result.error === null) clearRun(); // a new text is a new vocabulary: a new model
      onStatus(result.status);
      return result.error === null;
    },

    async exportCheckpoint() {
      const step = get().status?.step ?? 0;
      const bytes = await call('export', (api) => api.exportCheckpoint());
      if (bytes) downloadBytes(bytes, `gpt-lab-step-${step}.safetensors`);
    },

    async importCheckpoint(file) {
      set({ importError: null });
      const bytes = new Uint8Array(await file.arrayBuffer());
      const result = await call('import', (api) => api.importCheckpoint(transferBytes(bytes)));
      if (!result) return;
      if (result.error) {
        set({ importError: result.error });
      } else {
        clearRun();
      }
      onStatus(result.status);
    },

    setDockOpen(open) {
      try {
        localStorage.setItem(DOCK_KEY, open ? 'open' : 'closed');
      } catch {
        // not remembered
      }
      set({ dockOpen: open });
    },

    dismissError() {
      set({ error: null });
    },

    dismissRestartNotice() {
      set({ restartNotice: null });
    },
  };
});

/** What the reader is told once a new engine has started after the old one died. */
function restartNoticeText(why: string, status: EngineStatus): string {
  const head = `The engine stopped (${why}) and was restarted.`;
  if (status.state === 'error') return `${head} It could not start again: ${status.error ?? 'no reason given'}`;
  if (status.origin === 'restored') {
    return `${head} Your run was restored from its last autosave, at step ${status.step}; press Train to go on.`;
  }
  return `${head} There was no autosave to restore, so it loaded the ${status.origin === 'pretrained' ? 'pretrained' : status.origin} model.`;
}

declare global {
  interface Window {
    /** Read-only hooks for the browser tests, present with `?debug=1`. */
    gptLab?: { metrics: () => Metrics[]; status: () => EngineStatus | null };
  }
}

