// Raw JSON over HTTPS to kube-apiserver: TLS always verified, retries for transient failures,
// bodies parsed as plain JSON (no typed models: they drop unknown fields and turn times into Dates).
import type { IncomingMessage } from "node:http";
import { Agent, request } from "node:https";
import {
  ApiError,
  ClusterUnreachableError,
  ListExpiredError,
  RequestAbortedError,
} from "../snapshot/errors.js";

export { RequestAbortedError };

import { parseExact } from "../snapshot/json.js";
import type { ClusterConnection } from "./connection.js";
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  RETRYABLE_ERROR_CODES,
  RETRYABLE_STATUSES,
  type RetryPolicy,
} from "./retry.js";

/** TLS failures: the server is not who it claims to be (or we lack its CA). Never retried, never skipped. */
const TLS_ERROR_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_SIGNATURE_FAILURE",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "EPROTO",
]);

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

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A 2xx response whose body is read as it arrives (KubeClient.getStreamed). */
export type ResponseBody = AsyncIterable<Buffer>;

/** A failure worth another attempt; after the last one it becomes an ApiError or ClusterUnreachableError. */
class RetryableError extends Error {
  constructor(
    message: string,
    readonly details: {
      readonly retryAfterMs?: number | undefined;
      /** The HTTP status the server answered with (5xx, 429, or 2xx with a body that is not JSON). */
      readonly status?: number;
      /** The network error code, when the connection (not the server) failed. */
      readonly code?: string;
      /** The server had started answering (status line received) when the connection broke. */
      readonly responded?: boolean;
    } = {},
  ) {
    super(message);
  }
}

/** A cut-off response, whatever Node reported first (aborted, ECONNRESET, or an end before the last byte). */
const BROKEN_RESPONSE = "the connection broke before the response was complete";

/**
 * Thrown by a getStreamed consumer that has handed nothing on yet: the body was cut off or is not what
 * was expected, so the whole request may be tried again. `bytes` is how much of the body arrived.
 */
export class RetryBodyError extends RetryableError {
  constructor(reason: "broken" | "not-json", status: number, bytes: number) {
    super(
      reason === "broken"
        ? BROKEN_RESPONSE
        : `HTTP ${status} with a body that is not complete JSON (${bytes} bytes)`,
      reason === "broken" ? { responded: true } : { status },
    );
  }
}

/** A failure of the connection while a streamed body was read (the consumer decides what it means). */
export function isBrokenBody(err: unknown): boolean {
  return err instanceof RetryableError && err.message === BROKEN_RESPONSE;
}

/** HTTP methods of `request()`. */
export type RequestMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

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

/**
 * Network errors raised before a byte of the request reached the server (no connection was made), so
 * even a non-idempotent request can be sent again without risk of doing it twice.
 */
const NOT_SENT_ERROR_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** Patch bodies that give the same result when sent twice (a JSON Patch `add` to a list does not). */
const IDEMPOTENT_PATCH_TYPES: ReadonlySet<string> = new Set([
  "application/apply-patch+yaml",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
]);

/** A minimal JSON client for one cluster. Counts its requests (the benchmark reports them). */
export class KubeClient {
  readonly #conn: ClusterConnection;
  readonly #agent: Agent;
  readonly #opts: Required<Omit<KubeClientOptions, "onRetry" | "signal">> &
    Pick<KubeClientOptions, "onRetry" | "signal">;
  #requests = 0;

  constructor(conn: ClusterConnection, options: KubeClientOptions = {}) {
    this.#conn = conn;
    this.#opts = {
      retry: options.retry ?? DEFAULT_RETRY_POLICY,
      requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
      maxSockets: options.maxSockets ?? 8,
      signal: options.signal,
      sleep: options.sleep ?? abortableSleep,
      random: options.random ?? Math.random,
      onRetry: options.onRetry,
    };
    this.#agent = new Agent({
      keepAlive: true,
      maxSockets: this.#opts.maxSockets,
      ca: conn.ca,
      cert: conn.cert,
      key: conn.key,
      servername: conn.servername,
      rejectUnauthorized: true,
    });
  }

  /** HTTP requests sent so far (retries included). */
  get requestCount(): number {
    return this.#requests;
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
      const res = await this.#send("GET", path, undefined, true);
      if (res.stream === undefined) return this.#failure(path, res);
      const stream = res.stream;
      try {
        return await consume(this.#bodyOf(stream, path), res.status);
      } finally {
        stream.destroy();
      }
    });
  }

  /**
   * The one retry loop: runs `attempt` until it succeeds, throws something other than a RetryableError,
   * or the policy's attempts are used up (then #exhausted says what failed). A RetryableError that
   * `mayRetry` refuses (a write that may have reached the server) fails at once: the cluster is unreachable.
   */
  async #attempts<T>(
    method: RequestMethod,
    path: string,
    attempt: (last: boolean) => Promise<T>,
    mayRetry: (err: RetryableError) => boolean = () => true,
  ): Promise<T> {
    const { maxAttempts } = this.#opts.retry;
    for (let n = 1; ; n++) {
      try {
        return await attempt(n >= maxAttempts);
      } catch (err) {
        if (!(err instanceof RetryableError)) throw err;
        if (!mayRetry(err))
          throw new ClusterUnreachableError(
            `${method} ${displayPath(path)} to ${this.#conn.server} (${this.#conn.name}) failed: ${err.message}`,
          );
        if (n >= maxAttempts) throw this.#exhausted(method, path, err, n);
        await this.#backoff(path, n, err);
      }
    }
  }

  /** The chunks of a streamed body; a stall while waiting for one, or a broken connection, is a broken body. */
  async *#bodyOf(stream: IncomingMessage, path: string): AsyncGenerator<Buffer> {
    const iterator = stream[Symbol.asyncIterator]();
    for (;;) {
      const timer = setTimeout(() => {
        stream.destroy(Object.assign(new Error("stalled"), { code: "ETIMEDOUT" }));
      }, this.#opts.requestTimeoutMs);
      let step: IteratorResult<Buffer>;
      try {
        step = await iterator.next();
      } catch {
        if (this.#opts.signal?.aborted) throw this.#abortError(path);
        throw new RetryableError(BROKEN_RESPONSE, { responded: true });
      } finally {
        clearTimeout(timer);
      }
      if (step.done) {
        if (!stream.complete) throw new RetryableError(BROKEN_RESPONSE, { responded: true });
        return;
      }
      yield step.value;
    }
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
    const idempotent =
      options.retryWrites === true ||
      method === "GET" ||
      method === "PUT" ||
      method === "DELETE" ||
      (method === "PATCH" && IDEMPOTENT_PATCH_TYPES.has(contentType));
    return this.#attempts(
      method,
      path,
      async (last) => {
        const res = await this.#send(method, path, payload && { body: payload, contentType });
        if (res.status === 401) throw this.#unauthorized();
        const retryableStatus = res.status === 429 || (idempotent && RETRYABLE_STATUSES.has(res.status));
        if (retryableStatus && !last) {
          const retryAfterMs = parseRetryAfter(headerValue(res.headers["retry-after"]), new Date());
          throw new RetryableError(`HTTP ${res.status}`, { retryAfterMs, status: res.status });
        }
        return { status: res.status, body: parseBody(res.body) };
      },
      // A status the server answered with was judged above; a broken connection only when safe to resend.
      (err) =>
        err.details.status !== undefined || idempotent || NOT_SENT_ERROR_CODES.has(err.details.code ?? ""),
    );
  }

  async #backoff(path: string, attempt: number, err: RetryableError): Promise<void> {
    const delayMs = backoffDelay(this.#opts.retry, attempt, err.details.retryAfterMs, this.#opts.random);
    this.#opts.onRetry?.({ path, attempt, delayMs, reason: err.message });
    this.#throwIfAborted(path);
    try {
      await this.#opts.sleep(delayMs, this.#opts.signal);
    } catch (sleepErr) {
      this.#throwIfAborted(path);
      throw sleepErr;
    }
  }

  #throwIfAborted(path: string): void {
    if (this.#opts.signal?.aborted) throw this.#abortError(path);
  }

  #abortError(path: string): RequestAbortedError {
    const reason = this.#opts.signal?.reason;
    const why = reason instanceof Error ? reason.message : String(reason ?? "aborted");
    return new RequestAbortedError(`request ${displayPath(path)} to ${this.#conn.server} aborted: ${why}`);
  }

  #unauthorized(): Error {
    return new ClusterUnreachableError(
      `${this.#conn.server} (${this.#conn.name}) rejected the credentials (401 Unauthorized): the token or client certificate is invalid or expired`,
    );
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  /**
   * The error after the last attempt. The server answered (an error status, a body that is not JSON, or a
   * response cut off mid-body): an ApiError, so the engine records that one resource type and goes on.
   * No answer at all (refused, reset before a response, timeout): the cluster is unreachable, fatal.
   */
  #exhausted(method: RequestMethod, path: string, err: RetryableError, attempts: number): Error {
    const { status, responded } = err.details;
    if (status !== undefined || responded) {
      // A 2xx with a broken body is not an HTTP error: recording it as "status 200" would mislead.
      const recorded = status !== undefined && status >= 300 ? status : null;
      return new ApiError(
        `${method} ${displayPath(path)} failed after ${attempts} attempts: ${err.message}`,
        recorded,
      );
    }
    return new ClusterUnreachableError(
      `cannot reach ${this.#conn.server} (${this.#conn.name}) after ${attempts} attempts: ${err.message}`,
    );
  }

  /** What a response that is not 2xx means: 410 Expired, a status worth a retry, 401, or an ApiError. */
  #failure(path: string, res: RawResponse): never {
    const status = res.status;
    const apiStatus = parseStatus(res.body);
    const message = apiStatus?.message ?? (res.body.toString("utf8").slice(0, 200) || "(no body)");
    if (
      status === 410 &&
      (apiStatus?.reason === "Expired" || apiStatus?.reason === "Gone" || !apiStatus?.reason)
    ) {
      throw new ListExpiredError(`GET ${displayPath(path)}: the list's continue token expired (410)`);
    }
    if (RETRYABLE_STATUSES.has(status)) {
      const retryAfterMs = parseRetryAfter(headerValue(res.headers["retry-after"]), new Date());
      throw new RetryableError(`HTTP ${status}: ${message}`, { retryAfterMs, status });
    }
    if (status === 401) throw this.#unauthorized();
    throw new ApiError(`GET ${displayPath(path)}: HTTP ${status}: ${message}`, status);
  }

  async #send(
    method: RequestMethod,
    path: string,
    payload?: { body: Buffer; contentType: string },
    streamOk = false,
  ): Promise<RawResponse & { stream?: IncomingMessage }> {
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": "kube-autosave",
      ...(payload
        ? { "content-type": payload.contentType, "content-length": String(payload.body.length) }
        : {}),
      ...(await this.#conn.authHeaders()),
    };
    this.#throwIfAborted(path);
    this.#requests += 1;
    const { signal } = this.#opts;
    return new Promise<RawResponse & { stream?: IncomingMessage }>((resolve, reject) => {
      const options = { method, agent: this.#agent, headers, ...(signal ? { signal } : {}) };
      // Once the status line is in, a failure is a broken response, whichever object reports it first (a
      // TCP reset mid-body surfaces on the request as ECONNRESET before the response sees "aborted").
      let responded = false;
      const broken = () => {
        if (signal?.aborted) reject(this.#abortError(path));
        else reject(new RetryableError(BROKEN_RESPONSE, { responded: true }));
      };
      const req = request(`${this.#conn.server}${path}`, options, (res) => {
        responded = true;
        const status = res.statusCode ?? 0;
        if (streamOk && status >= 200 && status < 300) {
          // The reader takes over: no socket timeout while it is busy elsewhere (it times its own reads),
          // and failures of the body reach it through the stream, not through this promise.
          req.setTimeout(0);
          req.removeAllListeners("error");
          req.on("error", () => undefined);
          resolve({ status, headers: res.headers, body: Buffer.alloc(0), stream: res });
          return;
        }
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          if (!res.complete) return broken();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on("error", broken);
        res.on("aborted", broken);
      });
      req.setTimeout(this.#opts.requestTimeoutMs, () => {
        req.destroy(
          Object.assign(new Error(`no response within ${this.#opts.requestTimeoutMs} ms`), {
            code: "ETIMEDOUT",
          }),
        );
      });
      req.on("error", (err) => {
        if (responded || signal?.aborted) broken();
        else reject(this.#networkError(err));
      });
      req.end(payload?.body);
    });
  }

  #networkError(err: Error & { code?: string }): Error {
    const code = err.code ?? "";
    if (TLS_ERROR_CODES.has(code) || /certificate|self[- ]signed|ssl/i.test(err.message)) {
      return new ClusterUnreachableError(
        `TLS verification of ${this.#conn.server} (${this.#conn.name}) failed: ${code || err.message}; check the cluster CA`,
        { cause: err },
      );
    }
    if (RETRYABLE_ERROR_CODES.has(code) || /socket hang up/i.test(err.message)) {
      return new RetryableError(`${code || "network error"}: ${err.message}`, { code });
    }
    return new ClusterUnreachableError(`request to ${this.#conn.server} failed: ${code || err.message}`, {
      cause: err,
    });
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

/** A path for messages: continue tokens are long, opaque and name the next object, so they are elided. */
function displayPath(path: string): string {
  return path.replace(/([?&]continue=)[^&]*/, "$1…");
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
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

function parseStatus(body: Buffer): { message?: string; reason?: string } | undefined {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { kind?: string; message?: string; reason?: string };
    return parsed && typeof parsed === "object" ? parsed : undefined;
  } catch {
    return undefined;
  }
}
