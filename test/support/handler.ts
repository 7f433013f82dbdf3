// Runs the Lambda handler in-process as Lambda would: a fresh module (it keeps its parsed config per
// sandbox), only the given environment, and stdout + stderr captured as log lines.
import { vi } from "vitest";

/** Variables the handler reads; cleared before each invocation so none leaks in from the machine. */
const HANDLER_VARIABLES = [
  "AWS_PROFILE",
  "AWS_SESSION_TOKEN",
  "AWS_DEFAULT_REGION",
  "KUBECONFIG",
  "CLUSTER_NAME",
  "CLUSTER_NAMES",
  "BUCKET",
  "PREFIX",
  "SSE_MODE",
  "KMS_KEY_ID",
  "OBJECT_LOCK",
  "OBJECT_LOCK_DAYS",
  "INCLUDE_NAMESPACES",
  "EXCLUDE_NAMESPACES",
  "INCLUDE_RESOURCES",
  "EXCLUDE_RESOURCES",
  "PAGE_SIZE",
  "CONCURRENCY",
  "DEADLINE_MARGIN_SECONDS",
  "S3_ENDPOINT",
  "EKS_ENDPOINT",
];

export interface HandlerRun {
  readonly result: Record<string, any> | undefined;
  readonly error: Error | undefined;
  /** Every line written to stdout or stderr (Lambda sends both to the log; Powertools writes ERROR to stderr). */
  readonly lines: string[];
  readonly json: Record<string, any>[];
}

/** Invokes the handler with `env` and `event`, `remainingMs` left before the Lambda deadline. */
export async function invokeHandler(
  env: Record<string, string | undefined>,
  event: unknown,
  remainingMs = 900_000,
): Promise<HandlerRun> {
  const { outcomes, lines, json } = await invokeConcurrently(env, [event], remainingMs);
  const [outcome] = outcomes;
  return { result: outcome?.result, error: outcome?.error, lines, json };
}

/**
 * Invokes the handler once per event, all at once, as concurrent invocations of one function: each in a
 * sandbox of its own (a fresh module: its own parsed config, logger and metrics), one environment for all.
 * Their log lines come interleaved, as they would in one log group.
 */
export async function invokeConcurrently(
  env: Record<string, string | undefined>,
  events: readonly unknown[],
  remainingMs = 900_000,
): Promise<{
  outcomes: { result: Record<string, any> | undefined; error: Error | undefined }[];
  lines: string[];
  json: Record<string, any>[];
}> {
  for (const key of [...HANDLER_VARIABLES, ...Object.keys(env)]) vi.stubEnv(key, undefined);
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  const lines: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      return true;
    });
  }
  try {
    const handlers = [];
    for (const _ of events) {
      vi.resetModules();
      handlers.push((await import("../../src/handlers/snapshot.js")).handler);
    }
    const settled = await Promise.allSettled(
      handlers.map((handler, i) => handler(events[i], { getRemainingTimeInMillis: () => remainingMs })),
    );
    return {
      outcomes: settled.map((s) =>
        s.status === "fulfilled"
          ? { result: s.value as unknown as Record<string, any>, error: undefined }
          : { result: undefined, error: s.reason as Error },
      ),
      lines,
      json: lines.map((l) => JSON.parse(l) as Record<string, any>),
    };
  } finally {
    vi.mocked(process.stdout.write).mockRestore();
    vi.mocked(process.stderr.write).mockRestore();
    vi.unstubAllEnvs();
  }
}
