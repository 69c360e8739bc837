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
}

/** The current run's loss curve (see the note above). */
export const history = new MetricsHistory();

const SAMPLES_KEPT = 4;
const DOCK_KEY = 'gpt-lab-dock';

let engine: Engine | null = null;

/**
 * The engine for chapter widgets: its chapter namespaces (`api.inspect.…`, `api.tuning.…`) and
 * methods. Null until the lab has started it and it has a model (`status.state` past 'starting').
 */
export function useEngine(): EngineRemote | null {
  const ready = useLab((s) => s.status != null && s.status.state !== 'starting' && s.status.state !== 'error');
  return ready && engine ? engine.api : null;
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

  return {
    status: null,
    latest: null,
    historyVersion: 0,
    samples: [],
    rates: [],
    sampleTemperature: 0.8,
    busy: null,
    error: null,
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
      try {
        engine = createEngine();
      } catch (e) {
        set({ error: `The engine could not start: ${messageOf(e)}` });
        return;
      }
      engine.worker.addEventListener('error', (e) => {
        set({ error: `The engine reported an error: ${e.message || 'its worker failed to load'}` });
      });
      if (urlErrors.length > 0) set({ dockOpen: true });
      const shared = url.hasRun && urlErrors.length === 0 ? (resolveRun(url).hp ?? undefined) : undefined;
      const events = eventsProxy({ status: onStatus, metrics: onMetrics, sample: onSample });
      void call(null, async (api) => {
        const status = await api.start(
          {
            backend: url.backend,
            pretrainedUrl: new URL('models/base.safetensors', document.baseURI).href,
            corpusUrl: new URL('data/moby-dick.txt', document.baseURI).href,
            shared,
          },
          events,
        );
        onStatus(status);
        await api.setSampleTemperature(get().sampleTemperature);
      });
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
  };
});

declare global {
  interface Window {
    /** Read-only hooks for the browser tests, present with `?debug=1`. */
    gptLab?: { metrics: () => Metrics[]; status: () => EngineStatus | null };
  }
}

