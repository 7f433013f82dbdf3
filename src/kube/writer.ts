// The restore engine's ClusterWriter over the Kubernetes REST API: discovery of one group/version,
// GET, create (POST), server-side apply (PATCH), and waiting for CRDs to become Established.
import { setTimeout as delay } from "node:timers/promises";
import type {
  ClusterWriter,
  NotEstablished,
  ObjectRef,
  WriteOptions,
  WriteResult,
} from "../restore/ports.js";
import { ApiError } from "../snapshot/errors.js";
import type { ApiResource, KubeObject } from "../snapshot/ports.js";
import type { KubeClient, KubeResponse } from "./client.js";

/** How often a CRD's conditions are read while waiting for it. */
const ESTABLISHED_POLL_MS = 250;

interface Status {
  kind?: string;
  reason?: string;
  message?: string;
}

interface CrdCondition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

interface Crd {
  spec?: { group?: string; names?: { plural?: string }; versions?: { name?: string; served?: boolean }[] };
  status?: { conditions?: CrdCondition[] };
}

/** Writes to one cluster through a KubeClient. */
export class KubeClusterWriter implements ClusterWriter {
  readonly #client: KubeClient;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;

  /**
   * `signal`: the one the client was given (Ctrl-C): waiting for CRDs then ends at once, as the client's
   * requests do.
   */
  constructor(
    client: KubeClient,
    options: {
      sleep?: (ms: number) => Promise<void>;
      now?: () => number;
      signal?: AbortSignal | undefined;
    } = {},
  ) {
    this.#client = client;
    this.#sleep = options.sleep ?? ((ms) => delay(ms, undefined, { signal: options.signal }));
    this.#now = options.now ?? Date.now;
  }

  async resources(apiVersion: string): Promise<readonly ApiResource[] | undefined> {
    const path = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const res = await this.#client.request("GET", path);
    if (res.status === 404) return undefined;
    const list = ok(res, "GET", path) as { resources?: ApiResource[] };
    return list.resources ?? [];
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    const path = objectPath(ref);
    const res = await this.#client.request("GET", path);
    if (res.status === 404) return undefined;
    return ok(res, "GET", path) as KubeObject;
  }

  async create(ref: ObjectRef, object: KubeObject, options: WriteOptions): Promise<WriteResult> {
    const path = `${collectionPath(ref)}?${writeQuery(options)}`;
    // A retried create that the server had done answers 409 AlreadyExists: the restore compares then.
    return result(await this.#client.request("POST", path, { body: object, retryWrites: true }));
  }

  async apply(ref: ObjectRef, object: KubeObject, options: WriteOptions): Promise<WriteResult> {
    // force: the snapshot's values win over other managers' (the user asked for --update).
    const path = `${objectPath(ref)}?${writeQuery(options)}&force=true`;
    // JSON is YAML: the apply content type takes a JSON body as is.
    return result(
      await this.#client.request("PATCH", path, {
        body: object,
        contentType: "application/apply-patch+yaml",
      }),
    );
  }

  async waitEstablished(crdNames: readonly string[], timeoutMs: number): Promise<NotEstablished[]> {
    const deadline = this.#now() + timeoutMs;
    const waiting = new Map(crdNames.map((name) => [name, "not checked yet"]));
    for (;;) {
      for (const name of [...waiting.keys()]) {
        const why = await this.#unusable(name);
        if (why === undefined) waiting.delete(name);
        else waiting.set(name, why);
      }
      if (waiting.size === 0 || this.#now() >= deadline) break;
      await this.#sleep(ESTABLISHED_POLL_MS);
    }
    return [...waiting].map(([name, why]) => ({
      name,
      message: `not usable within ${Math.round(timeoutMs / 1000)} s: ${why}`,
    }));
  }

  /** Why the CRD cannot be used yet, or undefined once it is Established and discovery serves it. */
  async #unusable(name: string): Promise<string | undefined> {
    const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${encodeURIComponent(name)}`;
    const res = await this.#client.request("GET", path);
    if (res.status === 404) return "the CRD does not exist";
    const crd = ok(res, "GET", path) as Crd;
    const conditions = crd.status?.conditions ?? [];
    const established = conditions.find((c) => c.type === "Established");
    if (established?.status !== "True") {
      const problem =
        conditions.find((c) => c.type === "NamesAccepted" && c.status === "False") ?? established;
      return problem?.message || problem?.reason || "not Established yet";
    }
    // Established can precede discovery by a moment; creates before then would 404.
    const group = crd.spec?.group ?? "";
    const plural = crd.spec?.names?.plural ?? "";
    for (const v of crd.spec?.versions ?? []) {
      if (!v.served || !v.name) continue;
      const served = await this.resources(`${group}/${v.name}`);
      if (!served?.some((r) => r.name === plural)) return `${group}/${v.name} is not in discovery yet`;
    }
    return undefined;
  }
}

function writeQuery(options: WriteOptions): string {
  const q = new URLSearchParams({ fieldManager: options.fieldManager });
  if (options.dryRun) q.set("dryRun", "All");
  return q.toString();
}

/** `/api/v1[/namespaces/<ns>]/<resource>` or `/apis/<group>/<version>[/namespaces/<ns>]/<resource>`. */
function collectionPath(ref: ObjectRef): string {
  const base = ref.apiVersion.includes("/") ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
  const ns = ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : "";
  return `${base}${ns}/${ref.resource}`;
}

function objectPath(ref: ObjectRef): string {
  return `${collectionPath(ref)}/${encodeURIComponent(ref.name)}`;
}

function statusOf(body: unknown): Status {
  if (typeof body === "object" && body !== null) return body as Status;
  return { message: typeof body === "string" ? body.slice(0, 300) : "" };
}

/** The body of a 2xx response; anything else throws ApiError with the API server's message. */
function ok(res: KubeResponse, method: string, path: string): unknown {
  if (res.status >= 200 && res.status < 300 && typeof res.body === "object" && res.body !== null)
    return res.body;
  const s = statusOf(res.body);
  throw new ApiError(
    `${method} ${path.split("?")[0]}: HTTP ${res.status}: ${s.message || s.reason || "(no message)"}`,
    res.status,
  );
}

function result(res: KubeResponse): WriteResult {
  if (res.status >= 200 && res.status < 300 && typeof res.body === "object" && res.body !== null) {
    return { ok: true, status: res.status, object: res.body as KubeObject };
  }
  const s = statusOf(res.body);
  return {
    ok: false,
    status: res.status,
    reason: s.reason ?? "",
    message: s.message || `HTTP ${res.status} with no message`,
  };
}
