/**
 * Engine jobs for the APIs chapter: the OpenAI-style API (src/api/handler.ts) answered by the
 * reader's live model. The site's Service Worker hands each `<base>/v1/…` request to the page, and
 * the page to `api.serve.handle(request, port)`; the answer goes back over the port (src/api/port.ts).
 *
 * Each request runs as one `read` job: the engine pauses the reader's training while the model
 * answers (so a generation sees one fixed set of weights) and trains on afterwards. A job holds the
 * engine, so a generation is bounded: at most LIVE_MAX_TOKENS tokens per choice (larger `max_tokens`
 * is a 400), it stops when the client goes away (the port's `cancel`) and when the page presses
 * Stop (`api.cancelJob()`).
 *
 * The model is the run as it is at the time of the request: `GET /v1/models` names it `gpt-lab`,
 * whatever the step, since the model behind the name keeps training.
 */
import { createApiHandler } from '../../api/handler';
import { GptBackend, type CompleteRequest, type ModelBackend } from '../../api/modelBackend';
import { FILTER_OFF, normalizeFilterSettings, type OutputFilterSettings } from '../../api/filter';
import { ApiError } from '../../api/errors';
import { apiErrorResponse, LIVE_MODEL_ID, notReadyResponse, toFetchRequest, writeResponse, type ServeRequest, type ServeResponse } from '../../api/port';
import type { JobRunner, Workbench } from '../workbench';

export type { OutputFilterSettings, ServeRequest, ServeResponse };

export { LIVE_MODEL_ID };
/** The most tokens one choice may ask for from the live model (a job holds the engine meanwhile). */
export const LIVE_MAX_TOKENS = 1024;
/** Requests waiting for the engine or being answered; one more is answered 429 at once. */
export const LIVE_MAX_WAITING = 16;

export interface ServeApi {
  /**
   * Answers `request` on `port` (head, body chunks, end: src/api/port.ts) and resolves when the
   * answer is written. Never rejects: an engine with no model answers 503 on the port.
   */
  handle(request: ServeRequest, port: MessagePort): Promise<void>;
  /** Answers `request` as a whole (a streamed answer's events in one string): for tests, and for pages without a Service Worker. */
  request(request: ServeRequest): Promise<ServeResponse>;
  /** Sets the output filter (Safety chapter); returns the settings as kept. Throws a RangeError for bad settings. */
  setOutputFilter(settings: OutputFilterSettings): Promise<OutputFilterSettings>;
  getOutputFilter(): Promise<OutputFilterSettings>;
}

export class ServeJobs implements ServeApi {
  private filter: OutputFilterSettings = FILTER_OFF;
  private waiting = 0;
  /** When the engine (and with it the live model's name) started, Unix seconds. */
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(readonly job: JobRunner) {}

  async handle(request: ServeRequest, port: MessagePort): Promise<void> {
    const gone = new AbortController();
    // A cancel can come while the request still waits for the engine.
    port.onmessage = (e: MessageEvent) => {
      if ((e.data as { type?: unknown } | null)?.type === 'cancel') gone.abort();
    };
    try {
      await this.answer(request, gone.signal, (response) => writeResponse(response, port, () => gone.abort()));
    } finally {
      port.close();
    }
  }

  request(request: ServeRequest): Promise<ServeResponse> {
    return this.answer(request, undefined, async (response) => ({
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: await response.text(),
    }));
  }

  async setOutputFilter(settings: OutputFilterSettings): Promise<OutputFilterSettings> {
    this.filter = normalizeFilterSettings(settings);
    return this.getOutputFilter();
  }

  async getOutputFilter(): Promise<OutputFilterSettings> {
    return { enabled: this.filter.enabled, blockedWords: [...this.filter.blockedWords] };
  }

  /**
   * Runs the handler on the live model inside a job and gives its Response to `consume` there, so
   * the engine is held until the body is read. Answers 503 (without a job) when there is no model.
   */
  private async answer<T>(request: ServeRequest, signal: AbortSignal | undefined, consume: (r: Response) => Promise<T>): Promise<T> {
    let req: Request;
    try {
      req = toFetchRequest(request, signal);
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(400, String(e));
      return consume(apiErrorResponse(err.status, err.message, err.code));
    }
    if (this.waiting >= LIVE_MAX_WAITING) {
      return consume(apiErrorResponse(429, `the model is busy with ${this.waiting} requests; try again shortly`, 'rate_limit_exceeded'));
    }
    this.waiting++;
    let consuming = false;
    try {
      return await this.job('read', async (wb) => {
        const handler = createApiHandler(new LiveBackend(wb, this.created), {
          basePath: request.basePath ?? '',
          maxTokens: LIVE_MAX_TOKENS,
          outputFilter: () => this.filter,
        });
        const response = await handler(req);
        consuming = true;
        return consume(response);
      });
    } catch (e) {
      if (consuming) throw e;
      // The job could not start: no model yet (the engine is starting, or stopped with an error).
      return consume(notReadyResponse(`the model is not ready: ${e instanceof Error ? e.message : String(e)}`));
    } finally {
      this.waiting--;
    }
  }
}

/** The reader's model as the handler sees it, for the length of one job. */
class LiveBackend implements ModelBackend {
  readonly id = LIVE_MODEL_ID;
  readonly contextLength: number;
  readonly tokenizer: ModelBackend['tokenizer'];
  private readonly model: GptBackend;

  constructor(
    private readonly wb: Workbench,
    readonly created: number,
  ) {
    // GptBackend borrows the run's model; it is never disposed here.
    this.model = new GptBackend(wb.run.model, wb.run.tokenizer, LIVE_MODEL_ID, created);
    this.tokenizer = wb.run.tokenizer;
    this.contextLength = this.model.contextLength;
  }

  complete(r: CompleteRequest): Promise<number[]> {
    return this.model.complete({
      ...r,
      // The page's Stop button (api.cancelJob) ends a generation like a client going away.
      onToken: (id) => r.onToken?.(id) !== false && !this.wb.cancelled(),
    });
  }
}
