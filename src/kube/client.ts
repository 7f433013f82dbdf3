// KubeClient: raw JSON over HTTPS to kube-apiserver, with the one retry loop. Bodies are parsed as plain
// JSON with exact numbers (no typed models: they drop unknown fields and turn times into Dates).
// The rest is in its own file:
//   transport.ts  one HTTPS request over a TLS-verifying keep-alive agent; streamed bodies
//   failures.ts   what a failure means: another attempt, or ApiError / ClusterUnreachableError / …
//   retry.ts      which failures and requests are retried, and how long to wait

import { parseExact } from "../snapshot/json.js";
import type { ClusterConnection } from "./connection.js";
import {
  exhausted,
  notRetried,
  type RequestMethod,
  RetryableError,
  RetryBodyError,
  retryableStatus,
  statusFailure,
  unauthorized,
} from "./failures.js";
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  isIdempotent,
  NOT_SENT_ERROR_CODES,
  RETRYABLE_STATUSES,
  type RetryPolicy,
} from "./retry.js";
import { Transport } from "./transport.js";

/** What a getStreamed consumer may throw, and how it tells a broken body (see failures.ts). */
export { isBrokenBody, type RequestMethod, RetryBodyError } from "./failures.js";

export interface KubeClientOptions {
  readonly retry?: RetryPolicy;
  /**
   * Aborting cancels every request in flight and every wait between retries at once (a Lambda deadline
   * must not wait for a stalled request's timeout); they then throw RequestAbortedError.
   */
  readonly signal?: AbortSignal | undefined;
  /** A request with no response byte for this long is abandoned and retried. */
  readonly requestTimeoutMs?: number;
  /** Parallel connections (the engine's concurrency plus discovery). */
  readonly maxSockets?: number;
  /** Waits between retries; must reject when `signal` aborts. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random?: () => number;
  /** Called before each retry, for logs (never gets headers or bodies). */
  readonly onRetry?: (info: { path: string; attempt: number; delayMs: number; reason: string }) => void;
}

/** A 2xx response whose body is read as it arrives (KubeClient.getStreamed). */
export type ResponseBody = AsyncIterable<Buffer>;

export interface RequestOptions {
  /** Sent as JSON (a string is sent as is). */
  readonly body?: unknown;
  /** Content-Type of the body; default application/json. */
  readonly contentType?: string;
  /**
   * The caller recognises a write done twice (a create whose retry answers 409 AlreadyExists is compared
   * with the live object), so a POST is retried like a read: 5xx, resets and timeouts too.
   */
  readonly retryWrites?: boolean;
}

/** A response of `request()`: any status, with the body parsed as JSON (text when it is not JSON). */
export interface KubeResponse {
  readonly status: number;
  readonly body: unknown;
}

/** A minimal JSON client for one cluster. Counts its requests (the benchmark reports them). */
export class KubeClient {
  readonly #conn: ClusterConnection;
  readonly #transport: Transport;
  readonly #retry: RetryPolicy;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #random: () => number;
  readonly #signal: AbortSignal | undefined;
  readonly #onRetry: KubeClientOptions["onRetry"];

  constructor(conn: ClusterConnection, options: KubeClientOptions = {}) {
    this.#conn = conn;
    this.#retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.#signal = options.signal;
    this.#sleep = options.sleep ?? abortableSleep;
    this.#random = options.random ?? Math.random;
    this.#onRetry = options.onRetry;
    this.#transport = new Transport(conn, {
      maxSockets: options.maxSockets ?? 8,
      requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
      signal: options.signal,
    });
  }

  /** HTTP requests sent so far (retries included). */
  get requestCount(): number {
    return this.#transport.requestCount;
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.#transport.close();
  }

  /** GETs `path` and parses the JSON body (numbers exact); retries transient failures; throws typed errors. */
  async getJson<T = unknown>(path: string): Promise<T> {
    return this.getStreamed(path, async (body, status) => {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk);
      const bytes = Buffer.concat(chunks);
      try {
        return parseExact(bytes.toString("utf8")) as T;
      } catch {
        // A body cut short by a proxy or a reset looks like this; the next attempt may get it whole.
        throw new RetryBodyError("not-json", status, bytes.length);
      }
    });
  }

  /**
   * GETs `path` and hands a 2xx body to `consume` as it arrives (memory: a chunk at a time). Error
   * statuses and 410 throw typed errors; 429, 5xx and failures before the body are retried. `consume`
   * may throw RetryBodyError while it has handed nothing on: the request is retried with backoff, and
   * after the last attempt that becomes an ApiError. Anything else it throws ends the request and is
   * rethrown. Reading the body fails with a broken-body error (isBrokenBody) when the connection breaks,
   * or after `requestTimeoutMs` without a byte while `consume` waits for one. Unread bytes are discarded.
   */
  async getStreamed<T>(
    path: string,
    consume: (body: ResponseBody, status: number) => Promise<T>,
  ): Promise<T> {
    return this.#attempts("GET", path, async () => {
      const res = await this.#transport.send("GET", path, undefined, true);
      if (res.stream === undefined) throw statusFailure(this.#conn, path, res);
      const stream = res.stream;
      try {
        return await consume(this.#transport.bodyOf(stream, path), res.status);
      } finally {
        stream.destroy();
      }
    });
  }

  /**
   * Sends one request and returns its status and body whatever the status (404, 409, 422… are values,
   * not errors). Retries 429 always; 5xx, cut-short responses and network errors only for idempotent
   * requests (GET, PUT, DELETE, apply/merge PATCH) and with `retryWrites`. Otherwise a POST is retried
   * only when it cannot have been received (429, or no connection was made): a create the server did
   * perform must not be sent again unless the caller treats the 409 AlreadyExists that follows as an
   * existing object. After the last attempt a 429/5xx is returned as a value, a response cut off
   * mid-body throws ApiError (status null), and no answer at all throws ClusterUnreachableError; 401 and
   * TLS failures throw at once.
   */
  async request(method: RequestMethod, path: string, options: RequestOptions = {}): Promise<KubeResponse> {
    const contentType = options.contentType ?? "application/json";
    const payload =
      options.body === undefined
        ? undefined
        : Buffer.from(typeof options.body === "string" ? options.body : JSON.stringify(options.body), "utf8");
    const idempotent = options.retryWrites === true || isIdempotent(method, contentType);
    return this.#attempts(
      method,
      path,
      async (last) => {
        const res = await this.#transport.send(method, path, payload && { body: payload, contentType });
        if (res.status === 401) throw unauthorized(this.#conn);
        const retryable = res.status === 429 || (idempotent && RETRYABLE_STATUSES.has(res.status));
        if (retryable && !last) throw retryableStatus(`HTTP ${res.status}`, res);
        return { status: res.status, body: parseBody(res.body) };
      },
      // A status the server answered with was judged above; a broken connection only when safe to resend.
      (err) =>
        err.details.status !== undefined || idempotent || NOT_SENT_ERROR_CODES.has(err.details.code ?? ""),
    );
  }

  /**
   * The one retry loop: runs `attempt` until it succeeds, throws something other than a RetryableError,
   * or the policy's attempts are used up (then `exhausted` says what failed). A RetryableError that
   * `mayRetry` refuses (a write that may have reached the server) fails at once: the cluster is unreachable.
   */
  async #attempts<T>(
    method: RequestMethod,
    path: string,
    attempt: (last: boolean) => Promise<T>,
    mayRetry: (err: RetryableError) => boolean = () => true,
  ): Promise<T> {
    const { maxAttempts } = this.#retry;
    for (let n = 1; ; n++) {
      try {
        return await attempt(n >= maxAttempts);
      } catch (err) {
        if (!(err instanceof RetryableError)) throw err;
        if (!mayRetry(err)) throw notRetried(this.#conn, method, path, err);
        if (n >= maxAttempts) throw exhausted(this.#conn, method, path, err, n);
        await this.#backoff(path, n, err);
      }
    }
  }

  async #backoff(path: string, attempt: number, err: RetryableError): Promise<void> {
    const delayMs = backoffDelay(this.#retry, attempt, err.details.retryAfterMs, this.#random);
    this.#onRetry?.({ path, attempt, delayMs, reason: err.message });
    this.#transport.throwIfAborted(path);
    try {
      await this.#sleep(delayMs, this.#signal);
    } catch (sleepErr) {
      this.#transport.throwIfAborted(path);
      throw sleepErr;
    }
  }
}

/** Waits `ms`; rejects at once when `signal` aborts. */
function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A response body as JSON (numbers exact); as text when it is not JSON; undefined when empty. */
function parseBody(body: Buffer): unknown {
  const text = body.toString("utf8");
  if (text === "") return undefined;
  try {
    return parseExact(text);
  } catch {
    return text;
  }
}
