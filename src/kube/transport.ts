// One HTTPS request to kube-apiserver and its response: a keep-alive agent that always verifies the
// server's certificate (the connection's CA, client certificate and TLS server name), auth headers per
// request, a timeout for a server that goes silent, and abort. No retries here: KubeClient decides.

import type { IncomingMessage } from "node:http";
import { Agent, request } from "node:https";
import type { ClusterConnection } from "./connection.js";
import { aborted, brokenResponse, networkFailure, type RawResponse, type RequestMethod } from "./failures.js";

export interface TransportOptions {
  /** Parallel connections. */
  readonly maxSockets: number;
  /** A request with no response byte for this long is abandoned (a retryable ETIMEDOUT). */
  readonly requestTimeoutMs: number;
  /** Aborting destroys every request in flight; they reject with RequestAbortedError. */
  readonly signal?: AbortSignal | undefined;
}

/** A response whose body is left to stream (a 2xx asked for with `streamOk`). */
export type SentResponse = RawResponse & { stream?: IncomingMessage };

/** HTTPS to one cluster over one agent. Counts its requests. */
export class Transport {
  readonly #conn: ClusterConnection;
  readonly #agent: Agent;
  readonly #opts: TransportOptions;
  #requests = 0;

  constructor(conn: ClusterConnection, options: TransportOptions) {
    this.#conn = conn;
    this.#opts = options;
    this.#agent = new Agent({
      keepAlive: true,
      maxSockets: options.maxSockets,
      ca: conn.ca,
      cert: conn.cert,
      key: conn.key,
      servername: conn.servername,
      rejectUnauthorized: true,
    });
  }

  /** HTTP requests sent so far. */
  get requestCount(): number {
    return this.#requests;
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  /** Throws RequestAbortedError once the signal has aborted. */
  throwIfAborted(path: string): void {
    if (this.#opts.signal?.aborted) throw aborted(this.#conn, path, this.#opts.signal);
  }

  /**
   * Sends one request and returns its status, headers and body whatever the status. With `streamOk`, a
   * 2xx body is not read: the response is returned as `stream`, for bodyOf(). Rejects with a
   * RetryableError when the connection breaks or times out, and with the failures of networkFailure().
   */
  async send(
    method: RequestMethod,
    path: string,
    payload?: { body: Buffer; contentType: string },
    streamOk = false,
  ): Promise<SentResponse> {
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": "kube-autosave",
      ...(payload
        ? { "content-type": payload.contentType, "content-length": String(payload.body.length) }
        : {}),
      ...(await this.#conn.authHeaders()),
    };
    this.throwIfAborted(path);
    this.#requests += 1;
    const { signal, requestTimeoutMs } = this.#opts;
    return new Promise<SentResponse>((resolve, reject) => {
      const options = { method, agent: this.#agent, headers, ...(signal ? { signal } : {}) };
      // Once the status line is in, a failure is a broken response, whichever object reports it first (a
      // TCP reset mid-body surfaces on the request as ECONNRESET before the response sees "aborted").
      let responded = false;
      const broken = () => {
        if (signal?.aborted) reject(aborted(this.#conn, path, signal));
        else reject(brokenResponse());
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
      req.setTimeout(requestTimeoutMs, () => {
        req.destroy(
          Object.assign(new Error(`no response within ${requestTimeoutMs} ms`), {
            code: "ETIMEDOUT",
          }),
        );
      });
      req.on("error", (err) => {
        if (responded || signal?.aborted) broken();
        else reject(networkFailure(this.#conn, err));
      });
      req.end(payload?.body);
    });
  }

  /** The chunks of a streamed body; a stall while waiting for one, or a broken connection, is a broken body. */
  async *bodyOf(stream: IncomingMessage, path: string): AsyncGenerator<Buffer> {
    const iterator = stream[Symbol.asyncIterator]();
    for (;;) {
      const timer = setTimeout(() => {
        stream.destroy(Object.assign(new Error("stalled"), { code: "ETIMEDOUT" }));
      }, this.#opts.requestTimeoutMs);
      let step: IteratorResult<Buffer>;
      try {
        step = await iterator.next();
      } catch {
        this.throwIfAborted(path);
        throw brokenResponse();
      } finally {
        clearTimeout(timer);
      }
      if (step.done) {
        if (!stream.complete) throw brokenResponse();
        return;
      }
      yield step.value;
    }
  }
}
