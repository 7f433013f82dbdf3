// Fault-injecting proxies for the test bed. One sits between the tool and kube-apiserver (it terminates
// TLS with a serving cert from the cluster's CA and forwards over verified TLS, Authorization passed
// through), one between the tool and the S3 server (plain HTTP, the Host header kept so the SigV4
// signature the client computed for it stays valid). Per-test rules pick requests by method, path or S3
// operation and their n-th occurrence, and answer, reset mid-body, stall, truncate, or pass them on. When
// the upstream cannot be reached, the client's connection is reset, as a TCP load balancer does.
import { readFile, writeFile } from "node:fs/promises";
import {
  createServer as createHttpServer,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer, Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { AddressInfo, Socket } from "node:net";

/** What the proxy does with one request. */
export type FaultAction =
  /** Forward it and relay the answer. */
  | { readonly kind: "pass" }
  /** Answer it without forwarding. */
  | {
      readonly kind: "respond";
      readonly status: number;
      readonly headers?: Readonly<Record<string, string>>;
      readonly body?: string;
    }
  /** Forward it, send the status, headers (full Content-Length) and `afterBytes` of the body, then send RST. */
  | { readonly kind: "reset"; readonly afterBytes: number }
  /** Forward it, then relay only `afterBytes` of the body in a well-formed (chunked) response. */
  | { readonly kind: "truncate"; readonly afterBytes: number }
  /** Forward it, then relay the answer with its body replaced by `rewrite(body)`. */
  | { readonly kind: "rewrite"; readonly rewrite: (body: Buffer) => Buffer }
  /** Hold it for `ms` (less if the client gives up), then do `then` (default: pass). */
  | { readonly kind: "stall"; readonly ms: number; readonly then?: FaultAction }
  /** Run `run` first (kill a server, compact etcd…), then do `then` (default: pass). */
  | { readonly kind: "hook"; readonly run: () => Promise<void>; readonly then?: FaultAction };

/** S3 operations, told apart by method and query (path-style requests). */
export type S3Operation =
  | "PutObject"
  | "CreateMultipartUpload"
  | "UploadPart"
  | "CompleteMultipartUpload"
  | "AbortMultipartUpload"
  | "GetObject"
  | "HeadObject"
  | "DeleteObject"
  | "ListObjectsV2"
  | "ListMultipartUploads"
  | "other";

export interface FaultRule {
  readonly method?: string;
  /** Tested against the path with its query string. */
  readonly path?: RegExp;
  /** S3 proxy: the operation. */
  readonly op?: S3Operation;
  /**
   * Which of the requests this rule matches get the action (1-based, counting every request it matches,
   * also those an earlier rule acted on): a list or a predicate. Default: all.
   */
  readonly nth?: readonly number[] | ((n: number) => boolean);
  readonly action: FaultAction;
}

/** A rule's counters: requests it matched, and how many of them it acted on. */
export interface RuleHandle {
  readonly matched: number;
  readonly fired: number;
}

/** One request as the proxy saw it. `outcome`: the status relayed or injected, or the fault done. */
export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly op: S3Operation | undefined;
  /** The request's headers without Authorization (so a failing assertion never prints a token). */
  readonly headers: IncomingHttpHeaders;
  /** Date.now() when it arrived. */
  readonly at: number;
  outcome: number | "reset" | "truncated" | "client-gone" | "upstream-down" | undefined;
}

export interface FaultProxy {
  /** Where clients connect (https://127.0.0.1:port or http://127.0.0.1:port). */
  readonly url: string;
  /** Every request received, in arrival order. */
  readonly requests: readonly ProxiedRequest[];
  /** Adds a rule. Rules are checked in order; the first one whose `nth` fires acts. */
  rule(rule: FaultRule): RuleHandle;
  /** Removes every rule and forgets every request. */
  reset(): void;
  /** Requests whose path (with query) matches, optionally of one method. */
  count(path: RegExp, method?: string): number;
  close(): Promise<void>;
}

interface State {
  readonly rules: { readonly rule: FaultRule; readonly handle: { matched: number; fired: number } }[];
  readonly log: ProxiedRequest[];
}

interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

type Forward = (req: IncomingMessage, body: Buffer) => Promise<Upstream>;

/** Headers that describe one connection, not the message: never relayed. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  // Node's server already answered 100 Continue; SigV4 never signs Expect.
  "expect",
]);

function relayable(
  headers: IncomingHttpHeaders,
  drop: readonly string[] = [],
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined && !HOP_BY_HOP.has(k) && !drop.includes(k)) out[k] = v;
  }
  return out;
}

/** The S3 operation of a path-style request. */
export function s3Operation(method: string, path: string): S3Operation {
  const url = new URL(path, "http://s3.invalid");
  const q = url.searchParams;
  const isObject = url.pathname.split("/").filter(Boolean).length >= 2;
  switch (method) {
    case "PUT":
      if (q.has("partNumber") && q.has("uploadId")) return "UploadPart";
      return isObject ? "PutObject" : "other";
    case "POST":
      if (q.has("uploads")) return "CreateMultipartUpload";
      if (q.has("uploadId")) return "CompleteMultipartUpload";
      return "other";
    case "DELETE":
      if (q.has("uploadId")) return "AbortMultipartUpload";
      return isObject ? "DeleteObject" : "other";
    case "GET":
      if (q.has("uploads")) return "ListMultipartUploads";
      if (q.get("list-type") === "2") return "ListObjectsV2";
      return isObject ? "GetObject" : "other";
    case "HEAD":
      return isObject ? "HeadObject" : "other";
    default:
      return "other";
  }
}

/** A Kubernetes `Status` answer (what kube-apiserver sends with 429, 5xx…). */
export function kubeStatus(
  status: number,
  reason: string,
  message: string,
  headers: Record<string, string> = {},
): FaultAction {
  return {
    kind: "respond",
    status,
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message,
      reason,
      code: status,
    }),
  };
}

/** An S3 XML error answer (SlowDown, InternalError…). */
export function s3Error(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): FaultAction {
  return {
    kind: "respond",
    status,
    headers: { "content-type": "application/xml", ...headers },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-proxy</RequestId></Error>`,
  };
}

function fires(rule: FaultRule, n: number): boolean {
  if (rule.nth === undefined) return true;
  return typeof rule.nth === "function" ? rule.nth(n) : rule.nth.includes(n);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Sends RST, as a crashed peer or a load balancer does. A TLS socket is reset through the TCP socket under
 * it (Node keeps it as the undocumented `_parent`); if that ever goes away, an abrupt close is the fallback.
 */
function resetSocket(socket: Socket): void {
  const tcp = (socket as Socket & { _parent?: Socket })._parent ?? socket;
  try {
    tcp.resetAndDestroy();
  } catch {
    tcp.destroy();
  }
  socket.destroy();
}

/** The rule engine and the faults, shared by both fronts. */
function faultHandler(
  forward: Forward,
  classify: (method: string, path: string) => S3Operation | undefined,
  state: State,
  stalls: Set<NodeJS.Timeout>,
) {
  const act = async (
    action: FaultAction,
    record: ProxiedRequest,
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
  ): Promise<void> => {
    if (action.kind === "respond") {
      const payload = Buffer.from(action.body ?? "");
      res.writeHead(action.status, { ...action.headers, "content-length": String(payload.length) });
      res.end(payload);
      record.outcome = action.status;
      return;
    }
    if (action.kind === "stall") {
      const gone = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          stalls.delete(timer);
          res.off("close", onClose);
          resolve(false);
        }, action.ms);
        stalls.add(timer);
        const onClose = () => {
          clearTimeout(timer);
          stalls.delete(timer);
          resolve(true);
        };
        res.once("close", onClose);
      });
      if (gone) {
        record.outcome = "client-gone";
        return;
      }
      return act(action.then ?? { kind: "pass" }, record, req, res, body);
    }
    if (action.kind === "hook") {
      await action.run();
      return act(action.then ?? { kind: "pass" }, record, req, res, body);
    }
    let up: Upstream;
    try {
      up = await forward(req, body);
    } catch {
      // The backend is gone: drop the client's connection, as a TCP load balancer does.
      record.outcome = "upstream-down";
      resetSocket(req.socket);
      return;
    }
    const headers = relayable(up.headers, ["content-length"]);
    if (action.kind === "pass") {
      // A HEAD answer has no body but announces the object's length.
      const length = req.method === "HEAD" ? (up.headers["content-length"] ?? "0") : String(up.body.length);
      res.writeHead(up.status, { ...headers, "content-length": length });
      res.end(up.body);
      record.outcome = up.status;
    } else if (action.kind === "rewrite") {
      const rewritten = action.rewrite(up.body);
      res.writeHead(up.status, { ...headers, "content-length": String(rewritten.length) });
      res.end(rewritten);
      record.outcome = up.status;
    } else if (action.kind === "truncate") {
      // No Content-Length: the response is chunked, so ending early is a well-formed, short body.
      res.writeHead(up.status, headers);
      res.end(up.body.subarray(0, action.afterBytes));
      record.outcome = "truncated";
    } else {
      res.writeHead(up.status, { ...headers, "content-length": String(up.body.length) });
      res.write(up.body.subarray(0, action.afterBytes), () => {
        // Give the bytes time to arrive, so the client really is mid-body when the connection dies.
        setTimeout(() => resetSocket(req.socket), 20);
      });
      record.outcome = "reset";
    }
  };

  return async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    const record: ProxiedRequest = {
      method,
      path,
      op: classify(method, path),
      headers: relayable(req.headers, ["authorization"]),
      at: Date.now(),
      outcome: undefined,
    };
    state.log.push(record);
    let action: FaultAction = { kind: "pass" };
    let chosen = false;
    for (const { rule, handle } of state.rules) {
      if (rule.method && rule.method !== method) continue;
      if (rule.path && !rule.path.test(path)) continue;
      if (rule.op && rule.op !== record.op) continue;
      handle.matched += 1;
      if (!chosen && fires(rule, handle.matched)) {
        handle.fired += 1;
        action = rule.action;
        chosen = true;
      }
    }
    try {
      const body = await readBody(req);
      await act(action, record, req, res, body);
    } catch {
      resetSocket(req.socket);
    }
  };
}

async function listen(
  server: Server,
  scheme: "http" | "https",
  state: State,
  stalls: Set<NodeJS.Timeout>,
  agent: HttpAgent,
): Promise<FaultProxy> {
  // Faults that drop connections must not crash the proxy.
  server.on("clientError", (_err, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    requests: state.log,
    rule: (rule) => {
      const handle = { matched: 0, fired: 0 };
      state.rules.push({ rule, handle });
      return handle;
    },
    reset: () => {
      state.rules.length = 0;
      state.log.length = 0;
    },
    count: (path, method) =>
      state.log.filter((r) => path.test(r.path) && (!method || r.method === method)).length,
    close: async () => {
      for (const timer of stalls) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

function collect(res: IncomingMessage): Promise<Upstream> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () =>
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
    );
    res.on("error", reject);
  });
}

/**
 * A TLS proxy in front of kube-apiserver. `serving` is its certificate (issue one for 127.0.0.1 from the
 * cluster's CA so kubeconfigs verify it; a self-signed or wrongly named one to test refusals).
 */
export async function startKubeFaultProxy(options: {
  readonly upstream: string;
  readonly upstreamCaPem: string;
  readonly serving: { readonly certPem: string; readonly keyPem: string };
}): Promise<FaultProxy & { kubeconfig(source: string): Promise<string> }> {
  const agent = new HttpsAgent({ keepAlive: true, ca: options.upstreamCaPem, rejectUnauthorized: true });
  const forward: Forward = (req, body) =>
    new Promise((resolve, reject) => {
      const up = httpsRequest(
        `${options.upstream}${req.url ?? "/"}`,
        { method: req.method, agent, headers: relayable(req.headers, ["host"]) },
        (res) => collect(res).then(resolve, reject),
      );
      up.on("error", reject);
      up.end(body.length > 0 ? body : undefined);
    });
  const state: State = { rules: [], log: [] };
  const stalls = new Set<NodeJS.Timeout>();
  const server = createHttpsServer(
    { cert: options.serving.certPem, key: options.serving.keyPem },
    faultHandler(forward, () => undefined, state, stalls),
  );
  const proxy = await listen(server, "https", state, stalls, agent);
  return {
    ...proxy,
    /** Writes a copy of a kubeconfig whose clusters point at the proxy; returns its path. */
    kubeconfig: async (source) => {
      const kc = JSON.parse(await readFile(source, "utf8"));
      for (const c of kc.clusters) c.cluster.server = proxy.url;
      const path = `${source}.via-${new URL(proxy.url).port}`;
      await writeFile(path, JSON.stringify(kc), { mode: 0o600 });
      return path;
    },
  };
}

/** A plain-HTTP proxy in front of the S3 server; clients use its url as their endpoint (path-style). */
export async function startS3FaultProxy(options: { readonly upstream: string }): Promise<FaultProxy> {
  const agent = new HttpAgent({ keepAlive: true });
  const forward: Forward = (req, body) =>
    new Promise((resolve, reject) => {
      const up = httpRequest(
        `${options.upstream}${req.url ?? "/"}`,
        {
          method: req.method,
          agent,
          // Host stays as the client signed it; the body is relayed whole, so its length is exact.
          headers: { ...relayable(req.headers, ["content-length"]), "content-length": String(body.length) },
        },
        (res) => collect(res).then(resolve, reject),
      );
      up.on("error", reject);
      up.end(body);
    });
  const state: State = { rules: [], log: [] };
  const stalls = new Set<NodeJS.Timeout>();
  const server = createHttpServer(faultHandler(forward, s3Operation, state, stalls));
  return listen(server, "http", state, stalls, agent);
}
