// Reads a kubeconfig at the edge (CLI) into a ClusterConnection. Uses @kubernetes/client-node only
// for kubeconfig parsing and auth plugins; objects are never read through its typed models.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import type { ClusterConnection } from "./connection.js";

/** A kubeconfig that cannot be used; the message names the file, context or field. */
export class KubeconfigError extends Error {
  override readonly name = "KubeconfigError";
}

/** The kubeconfig path kubectl would use: the flag, else $KUBECONFIG's first file, else ~/.kube/config. */
export function defaultKubeconfigPath(env: Record<string, string | undefined>): string {
  const fromEnv = env.KUBECONFIG?.split(delimiter).find((p) => p.length > 0);
  return fromEnv ?? join(env.HOME ?? homedir(), ".kube", "config");
}

/** Loads `path`, selects `context` (default: current-context) and returns how to reach that cluster. */
export async function loadKubeconfig(path: string, context?: string): Promise<ClusterConnection> {
  if (!existsSync(path)) throw new KubeconfigError(`kubeconfig ${path} does not exist`);
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (err) {
    throw new KubeconfigError(`kubeconfig ${path} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  const contextName = context ?? kc.getCurrentContext();
  if (!contextName) throw new KubeconfigError(`kubeconfig ${path} has no current-context; pass --context`);
  const ctx = kc.getContextObject(contextName);
  if (!ctx) {
    const known = kc.getContexts().map((c) => c.name);
    throw new KubeconfigError(
      `kubeconfig ${path} has no context "${contextName}" (contexts: ${known.join(", ") || "none"})`,
    );
  }
  kc.setCurrentContext(contextName);
  const cluster = kc.getCurrentCluster();
  if (!cluster)
    throw new KubeconfigError(
      `kubeconfig ${path}: context "${contextName}" names cluster "${ctx.cluster}", which is not defined`,
    );
  if (!kc.getCurrentUser())
    throw new KubeconfigError(
      `kubeconfig ${path}: context "${contextName}" names user "${ctx.user}", which is not defined`,
    );
  if (!cluster.server)
    throw new KubeconfigError(`kubeconfig ${path}: cluster "${cluster.name}" has no server`);
  let url: URL;
  try {
    url = new URL(cluster.server);
  } catch {
    throw new KubeconfigError(
      `kubeconfig ${path}: cluster "${cluster.name}" server "${cluster.server}" is not a URL`,
    );
  }
  if (url.protocol !== "https:") {
    throw new KubeconfigError(
      `kubeconfig ${path}: cluster "${cluster.name}" server must be https:// (got ${url.protocol})`,
    );
  }
  // A backup tool that trusts any server could hand every Secret to an impostor.
  if (cluster.skipTLSVerify) {
    throw new KubeconfigError(
      `kubeconfig ${path}: cluster "${cluster.name}" sets insecure-skip-tls-verify; kube-autosave always verifies TLS — add certificate-authority(-data)`,
    );
  }
  const tls: {
    ca?: Buffer;
    cert?: Buffer;
    key?: Buffer;
    headers?: Record<string, string>;
    servername?: string;
  } = {};
  try {
    await kc.applyToHTTPSOptions(tls);
  } catch (err) {
    throw new KubeconfigError(
      `kubeconfig ${path}: credentials of context "${contextName}" cannot be used: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  return {
    name: contextName,
    server: `${url.origin}${url.pathname.replace(/\/+$/, "")}`,
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    servername: tls.servername,
    // client-node refreshes exec/oidc tokens itself; asking per request keeps long runs authenticated.
    authHeaders: async () => {
      const opts: { headers?: Record<string, string> } = {};
      await kc.applyToHTTPSOptions(opts);
      return { ...(opts.headers ?? {}) };
    },
  };
}
