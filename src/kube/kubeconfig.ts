// Reads a kubeconfig at the edge (CLI) into a ClusterConnection, the way kubectl reads it. The file is
// parsed here (js-yaml): @kubernetes/client-node takes ~0.6 s and ~115 MB just to load, so it is imported
// only for users that authenticate through an exec plugin or an auth-provider, which it implements.
// Error messages never include a token or key material.
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { CORE_SCHEMA, load as loadYaml, YAMLException } from "js-yaml";
import type { ClusterConnection } from "./connection.js";

/** A kubeconfig that cannot be used; the message names the file, context or field. */
export class KubeconfigError extends Error {
  override readonly name = "KubeconfigError";
}

/**
 * The kubeconfig files kubectl would read without --kubeconfig: every file of $KUBECONFIG (merged, see
 * loadKubeconfig), else ~/.kube/config.
 */
export function defaultKubeconfigPaths(env: Record<string, string | undefined>): string[] {
  const fromEnv = [...new Set((env.KUBECONFIG ?? "").split(delimiter).filter((p) => p.length > 0))];
  return fromEnv.length > 0 ? fromEnv : [join(env.HOME ?? homedir(), ".kube", "config")];
}

type Mapping = Record<string, unknown>;

/** One entry of `clusters`, `contexts` or `users`: its name, its body, and where it is (for messages). */
interface Entry {
  /** The file it comes from: its errors name that file, its relative paths are relative to it. */
  readonly from: Reader;
  readonly name: string;
  readonly body: Mapping;
  /** e.g. `users[2].user`, for messages about the body's fields. */
  readonly where: string;
}

/** TLS material as the connection takes it. */
interface Tls {
  ca?: Buffer | undefined;
  cert?: Buffer | string | undefined;
  key?: Buffer | string | undefined;
  servername?: string | undefined;
}

/** Impersonation fields: a backup taken as someone else, silently, would be wrong. */
const IMPERSONATION_FIELDS = ["as", "as-uid", "as-groups", "as-user-extra"] as const;

/**
 * Loads the kubeconfig, selects `context` (default: current-context) and returns how to reach that
 * cluster. `path` is one file (--kubeconfig: it must exist) or the files of $KUBECONFIG, merged as kubectl
 * merges them: files that do not exist are skipped, the first file to define a cluster, context or user
 * name wins, the first current-context wins, and relative paths are relative to the file that holds them.
 */
export async function loadKubeconfig(
  path: string | readonly string[],
  context?: string,
): Promise<ClusterConnection> {
  const paths = typeof path === "string" ? [path] : path;
  const existing = typeof path === "string" ? paths : paths.filter((p) => existsSync(p));
  if (existing.length === 0) {
    throw new KubeconfigError(
      paths.length === 1
        ? `kubeconfig ${paths[0]} does not exist`
        : `none of the KUBECONFIG files exists (${paths.join(delimiter)})`,
    );
  }
  const where = existing.join(delimiter);
  const clusters = new Map<string, Entry>();
  const contexts = new Map<string, Entry>();
  const users = new Map<string, Entry>();
  let current: string | undefined;
  for (const file of existing) {
    if (!existsSync(file)) throw new KubeconfigError(`kubeconfig ${file} does not exist`);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new KubeconfigError(`kubeconfig ${file} cannot be read: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const kc = new Reader(file);
    const doc = kc.parse(text);
    mergeFirst(clusters, kc.entries(doc, "clusters", "cluster", true));
    mergeFirst(contexts, kc.entries(doc, "contexts", "context", true));
    mergeFirst(users, kc.entries(doc, "users", "user", false));
    current ??= kc.string(doc, "current-context", "");
  }

  const contextName = context ?? current;
  if (!contextName) throw new KubeconfigError(`kubeconfig ${where} has no current-context; pass --context`);
  const ctx = contexts.get(contextName);
  if (!ctx) {
    const known = [...contexts.keys()];
    throw new KubeconfigError(
      `kubeconfig ${where} has no context "${contextName}" (contexts: ${known.join(", ") || "none"})`,
    );
  }
  const clusterName = ctx.from.string(ctx.body, "cluster", ctx.where);
  if (!clusterName) throw ctx.from.error(`${ctx.where} has no cluster`);
  const userName = ctx.from.string(ctx.body, "user", ctx.where);
  if (!userName) throw ctx.from.error(`${ctx.where} has no user`);
  const cluster = clusters.get(clusterName);
  if (!cluster)
    throw ctx.from.error(`context "${contextName}" names cluster "${clusterName}", which is not defined`);
  const user = users.get(userName);
  if (!user) throw ctx.from.error(`context "${contextName}" names user "${userName}", which is not defined`);
  const kc = cluster.from;
  const ku = user.from;

  const server = kc.string(cluster.body, "server", cluster.where);
  if (!server) throw kc.error(`cluster "${cluster.name}" has no server`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw kc.error(`cluster "${cluster.name}" server "${server}" is not a URL`);
  }
  if (url.protocol !== "https:") {
    throw kc.error(`cluster "${cluster.name}" server must be https:// (got ${url.protocol})`);
  }
  // A backup tool that trusts any server could hand every Secret to an impostor.
  const insecure = cluster.body["insecure-skip-tls-verify"];
  if (insecure === true) {
    throw kc.error(
      `cluster "${cluster.name}" sets insecure-skip-tls-verify; kube-autosave always verifies TLS — add certificate-authority(-data)`,
    );
  }
  if (insecure !== undefined && insecure !== null && insecure !== false) {
    throw kc.error(`${cluster.where}.insecure-skip-tls-verify is not true or false`);
  }
  // Ignoring it would send the requests somewhere else than the kubeconfig says.
  if (present(cluster.body["proxy-url"])) {
    throw kc.error(
      `cluster "${cluster.name}" sets proxy-url; kube-autosave does not support proxies — remove it and connect directly`,
    );
  }

  const owner = `cluster "${cluster.name}"`;
  // As in kubectl: the data wins over the file, which must still be readable.
  const caData = kc.pem(cluster, owner, "certificate-authority-data", "data");
  const caFile = kc.pem(cluster, owner, "certificate-authority", "file");
  const tls: Tls = {
    ca: caData ?? caFile,
    servername: kc.string(cluster.body, "tls-server-name", cluster.where),
  };

  const who = `user "${user.name}"`;
  if (present(user.body.username) || present(user.body.password)) {
    throw ku.error(
      `${who} sets username/password; basic authentication was removed from Kubernetes in 1.19 — use a token or a client certificate`,
    );
  }
  const impersonation = IMPERSONATION_FIELDS.filter((f) => present(user.body[f]));
  if (impersonation.length > 0) {
    throw ku.error(
      `${who} sets ${impersonation.join(", ")} (impersonation); kube-autosave does not act as another identity — use a user that has the access itself`,
    );
  }
  if (present(user.body["token-file"])) {
    throw ku.error(`${who} sets token-file, which kubectl ignores; the field is tokenFile`);
  }
  tls.cert = ku.clientMaterial(user, who, "client-certificate");
  tls.key = ku.clientMaterial(user, who, "client-key");
  if (tls.cert && !tls.key) throw ku.error(`${who} has a client-certificate but no client-key`);
  if (tls.key && !tls.cert) throw ku.error(`${who} has a client-key but no client-certificate`);
  const token = ku.string(user.body, "token", user.where);

  const base = {
    name: contextName,
    server: `${url.origin}${url.pathname.replace(/\/+$/, "")}`,
  };

  if (present(user.body.exec) || present(user.body["auth-provider"])) {
    return await viaClientNode(ku, base, tls, { contextName, server, cluster, user, token });
  }

  let authHeaders: () => Promise<Record<string, string>>;
  if (token) {
    const headers = { authorization: `Bearer ${token}` };
    authHeaders = async () => ({ ...headers });
  } else {
    const tokenFile = ku.string(user.body, "tokenFile", user.where);
    if (tokenFile) {
      const file = resolve(ku.dir, tokenFile);
      let text: string;
      try {
        text = readFileSync(file, "utf8").trim();
      } catch (err) {
        throw ku.error(`${who} tokenFile ${file} cannot be read (${fsReason(err)})`);
      }
      if (!text) throw ku.error(`${who} tokenFile ${file} is empty`);
      // Read per request so a rotated token is used; as kubectl does, a file that is briefly missing or
      // empty (mid-rotation) leaves the last good token in use, and a stale one gets a clear 401.
      let last = text;
      authHeaders = async () => {
        try {
          const now = (await readFile(file, "utf8")).trim();
          if (now) last = now;
        } catch {
          // keep the last good token
        }
        return { authorization: `Bearer ${last}` };
      };
    } else {
      // A client certificate alone (or no credentials at all, which the server will refuse).
      authHeaders = async () => ({});
    }
  }
  return { ...base, ...tls, authHeaders };
}

/**
 * Users with an exec plugin or an auth-provider: @kubernetes/client-node runs the plugin (and refreshes
 * its token) on every authHeaders() call. TLS trust is what this reader resolved; an exec plugin may
 * supply the client certificate and key.
 */
async function viaClientNode(
  kc: Reader,
  base: { name: string; server: string },
  tls: Tls,
  sel: { contextName: string; server: string; cluster: Entry; user: Entry; token: string | undefined },
): Promise<ClusterConnection> {
  const { KubeConfig } = await import("@kubernetes/client-node");
  const config: KubeConfig = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: sel.cluster.name, server: sel.server, skipTLSVerify: false }],
    users: [
      {
        name: sel.user.name,
        exec: sel.user.body.exec ?? undefined,
        authProvider: sel.user.body["auth-provider"] ?? undefined,
        ...(sel.token ? { token: sel.token } : {}),
      },
    ],
    contexts: [{ name: sel.contextName, cluster: sel.cluster.name, user: sel.user.name }],
    currentContext: sel.contextName,
  });
  const applied: { cert?: Buffer | string; key?: Buffer | string; headers?: Record<string, string> } = {};
  try {
    await config.applyToHTTPSOptions(applied);
  } catch (err) {
    throw kc.error(
      `credentials of context "${sel.contextName}" cannot be used: ${(err as Error).message}`,
      err,
    );
  }
  return {
    ...base,
    ...tls,
    cert: applied.cert ?? tls.cert,
    key: applied.key ?? tls.key,
    // client-node refreshes exec/oidc tokens itself; asking per request keeps long runs authenticated.
    authHeaders: async () => {
      const opts: { headers?: Record<string, string> } = {};
      await config.applyToHTTPSOptions(opts);
      return { ...(opts.headers ?? {}) };
    },
  };
}

/** Parses and checks one kubeconfig file; every error names the file. */
class Reader {
  /** Relative paths in the file are relative to its directory. */
  readonly dir: string;

  constructor(readonly path: string) {
    this.dir = dirname(resolve(path));
  }

  error(detail: string, cause?: unknown): KubeconfigError {
    return new KubeconfigError(`kubeconfig ${this.path}: ${detail}`, cause === undefined ? {} : { cause });
  }

  /** YAML or JSON; the top level must be a mapping (an empty file is an empty kubeconfig). */
  parse(text: string): Mapping {
    let doc: unknown;
    let parsed = false;
    if (text.trimStart().startsWith("{")) {
      try {
        doc = JSON.parse(text);
        parsed = true;
      } catch {
        // JSON.parse quotes the text around the error; let the YAML parser (a JSON superset) report it.
      }
    }
    if (!parsed) {
      try {
        doc = loadYaml(text, { schema: CORE_SCHEMA });
      } catch (err) {
        // Only the reason and position: the exception's message quotes the lines, which may hold a token.
        const detail =
          err instanceof YAMLException
            ? `${err.reason}${err.mark ? ` (line ${err.mark.line + 1}, column ${err.mark.column + 1})` : ""}`
            : "not valid YAML";
        throw new KubeconfigError(`kubeconfig ${this.path} cannot be read: ${detail}`);
      }
    }
    if (doc === undefined || doc === null) return {};
    if (!isMapping(doc)) throw this.error("the top level is not a mapping");
    return doc;
  }

  /** A list of `{name, <field>: {...}}` by name. A missing body is an error only when `required`. */
  entries(doc: Mapping, list: string, field: string, required: boolean): Map<string, Entry> {
    const value = doc[list];
    const out = new Map<string, Entry>();
    if (value === undefined || value === null) return out;
    if (!Array.isArray(value)) throw this.error(`${list} is not a list`);
    const firstIndex = new Map<string, number>();
    value.forEach((item: unknown, i) => {
      const at = `${list}[${i}]`;
      if (!isMapping(item)) throw this.error(`${at} is not a mapping`);
      const name = this.string(item, "name", at);
      if (!name) throw this.error(`${at} has no name`);
      const body = item[field];
      if (body === undefined || body === null) {
        if (required) throw this.error(`${at} has no ${field}`);
      } else if (!isMapping(body)) {
        throw this.error(`${at}.${field} is not a mapping`);
      }
      const first = firstIndex.get(name);
      if (first !== undefined) throw this.error(`${at} has the same name "${name}" as ${list}[${first}]`);
      firstIndex.set(name, i);
      out.set(name, { from: this, name, body: (body ?? {}) as Mapping, where: `${at}.${field}` });
    });
    return out;
  }

  /** A string field (`where` locates its mapping; "" for the top level); absent, null and "" are "not set". */
  string(body: Mapping, field: string, where: string): string | undefined {
    const v = body[field];
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string") throw this.error(`${where ? `${where}.` : ""}${field} is not a string`);
    return v;
  }

  /** PEM from a base64 `*-data` field or a file path field (relative to the kubeconfig's directory). */
  pem(entry: Entry, owner: string, field: string, kind: "data" | "file"): Buffer | undefined {
    const value = this.string(entry.body, field, entry.where);
    if (value === undefined) return undefined;
    let bytes: Buffer;
    let what: string;
    if (kind === "data") {
      const compact = value.replace(/\s+/g, "");
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
        throw this.error(`${owner} ${field} is not valid base64`);
      }
      bytes = Buffer.from(compact, "base64");
      what = field;
    } else {
      const file = resolve(this.dir, value);
      try {
        bytes = readFileSync(file);
      } catch (err) {
        throw this.error(`${owner} ${field} ${file} cannot be read (${fsReason(err)})`);
      }
      what = `${field} ${file}`;
    }
    if (!bytes.includes("-----BEGIN "))
      throw this.error(`${owner} ${what} is not PEM (no "-----BEGIN" line)`);
    return bytes;
  }

  /** A client certificate or key: `<field>` (file) or `<field>-data`, never both (kubectl refuses that too). */
  clientMaterial(user: Entry, owner: string, field: "client-certificate" | "client-key"): Buffer | undefined {
    if (this.string(user.body, field, user.where) && this.string(user.body, `${field}-data`, user.where)) {
      throw this.error(`${owner} sets both ${field} and ${field}-data; keep one`);
    }
    return this.pem(user, owner, `${field}-data`, "data") ?? this.pem(user, owner, field, "file");
  }
}

/** Adds the entries whose names `into` does not have yet (kubectl: the first file to set a name wins). */
function mergeFirst(into: Map<string, Entry>, from: Map<string, Entry>): void {
  for (const [name, entry] of from) if (!into.has(name)) into.set(name, entry);
}

function isMapping(v: unknown): v is Mapping {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Whether a kubeconfig field is set (kubectl treats empty values as unset). */
function present(v: unknown): boolean {
  if (v === undefined || v === null || v === "" || v === false) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isMapping(v)) return Object.keys(v).length > 0;
  return true;
}

/** Why a file could not be read: the error code (the message repeats the path). */
function fsReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message;
}
