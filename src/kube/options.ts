// How the edges (CLI, Lambda) build their KubeClient: one place for socket sizing and retry logs.
import type { Logger } from "../snapshot/ports.js";
import type { KubeClientOptions } from "./client.js";

/** Client options for a run listing `concurrency` types at once; retries are logged without query strings (continue tokens). */
export function kubeClientOptions(concurrency: number, logger: Logger): KubeClientOptions {
  return {
    // One socket per list in flight, plus room for discovery.
    maxSockets: concurrency + 2,
    onRetry: (r) =>
      logger.warn("retrying a Kubernetes request", {
        path: r.path.split("?")[0],
        attempt: r.attempt,
        delayMs: r.delayMs,
        reason: r.reason,
      }),
  };
}
