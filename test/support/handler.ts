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
  readonly ms: number;
}

/** Invokes the handler with `env` and `event`, `remainingMs` left before the Lambda deadline. */
export async function invokeHandler(
  env: Record<string, string | undefined>,
  event: unknown,
  remainingMs = 900_000,
): Promise<HandlerRun> {
  for (const key of [...HANDLER_VARIABLES, ...Object.keys(env)]) vi.stubEnv(key, undefined);
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  const lines: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      return true;
    });
  }
  vi.resetModules();
  const started = Date.now();
  let result: unknown;
  let error: Error | undefined;
  try {
    const { handler } = await import("../../src/handlers/snapshot.js");
    result = await handler(event, { getRemainingTimeInMillis: () => remainingMs });
  } catch (err) {
    error = err as Error;
  } finally {
    vi.mocked(process.stdout.write).mockRestore();
    vi.mocked(process.stderr.write).mockRestore();
    vi.unstubAllEnvs();
  }
  return {
    result: result as Record<string, any> | undefined,
    error,
    lines,
    json: lines.map((l) => JSON.parse(l) as Record<string, any>),
    ms: Date.now() - started,
  };
}
