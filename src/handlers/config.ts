// The Lambda's configuration: read from the environment once, validated, every problem reported
// together by variable name; and the invocation event, validated the same way.

import { type ResourceFilters, validateFilters } from "../snapshot/filters.js";
import { defaultPrefix } from "../snapshot/layout.js";
import type { ObjectLockRetention } from "../snapshot/ports.js";

/** Configuration or event that cannot be used; lists every problem. Nothing was written. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly problems: readonly string[],
    what: string,
  ) {
    super(`invalid ${what}:\n  ${problems.join("\n  ")}`);
  }
}

export type SseConfig =
  | { readonly mode: "AES256" }
  | { readonly mode: "aws:kms"; readonly kmsKeyId?: string | undefined };

export interface HandlerConfig {
  /** Clusters this function may back up; the first is the default. */
  readonly clusters: readonly string[];
  readonly region: string;
  readonly bucket: string;
  /** Prefix template: undefined → kube-aws/clusters/<cluster>/backup; `{cluster}` is replaced. */
  readonly prefix: string | undefined;
  readonly sse: SseConfig | undefined;
  /** S3 Object Lock retention of every snapshot object (OBJECT_LOCK, OBJECT_LOCK_DAYS); undefined: off. */
  readonly objectLock: ObjectLockRetention | undefined;
  readonly filters: ResourceFilters;
  readonly pageSize: number;
  readonly concurrency: number;
  /** Stop this long before the Lambda deadline so the run ends cleanly (no half-written manifest). */
  readonly deadlineMarginMs: number;
  /** Endpoint overrides for S3-compatible servers and local EKS stand-ins (tests, demo). */
  readonly s3Endpoint: string | undefined;
  readonly eksEndpoint: string | undefined;
}

const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function list(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function intVar(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
    return fallback;
  }
  return Number(raw);
}

function url(name: string, value: string | undefined, problems: string[]): string | undefined {
  if (!value) return undefined;
  try {
    const u = new URL(value);
    if (u.protocol === "http:" || u.protocol === "https:") return value;
  } catch {
    // reported below
  }
  problems.push(`${name} must be an http(s) URL (got "${value}")`);
  return undefined;
}

/**
 * OBJECT_LOCK (off, governance, compliance; the stack's objectLock param) and OBJECT_LOCK_DAYS (the
 * retention in days, 1-36500; required with a mode).
 */
function objectLockVars(
  env: Record<string, string | undefined>,
  problems: string[],
): ObjectLockRetention | undefined {
  const raw = (env.OBJECT_LOCK ?? "").trim();
  const mode = raw.toUpperCase();
  if (raw === "" || mode === "OFF") return undefined;
  if (mode !== "GOVERNANCE" && mode !== "COMPLIANCE") {
    problems.push(`OBJECT_LOCK must be off, governance or compliance (got "${raw}")`);
    return undefined;
  }
  if (env.OBJECT_LOCK_DAYS === undefined || env.OBJECT_LOCK_DAYS === "") {
    problems.push("OBJECT_LOCK_DAYS is required with OBJECT_LOCK (days each snapshot object stays locked)");
    return undefined;
  }
  const days = intVar(env, "OBJECT_LOCK_DAYS", 0, 1, 36_500, problems);
  return days === 0 ? undefined : { mode, days };
}

/** Parses the function's environment. Throws ConfigError naming every bad or missing variable. */
export function parseHandlerConfig(env: Record<string, string | undefined>): HandlerConfig {
  const problems: string[] = [];
  const clusters = list(env.CLUSTER_NAMES) ?? list(env.CLUSTER_NAME) ?? [];
  if (clusters.length === 0)
    problems.push("CLUSTER_NAME is required (the EKS cluster to back up; CLUSTER_NAMES for several)");
  for (const c of clusters)
    if (!CLUSTER_NAME.test(c)) problems.push(`CLUSTER_NAME "${c}" is not a valid EKS cluster name`);
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "";
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region))
    problems.push(`AWS_REGION must be an AWS region such as eu-west-1 (got "${region}")`);
  const bucket = env.BUCKET ?? "";
  if (!bucket) problems.push("BUCKET is required (the S3 bucket for snapshots)");
  else if (!BUCKET_NAME.test(bucket)) problems.push(`BUCKET "${bucket}" is not a valid S3 bucket name`);
  const prefix = env.PREFIX?.replace(/^\/+|\/+$/g, "") || undefined;
  let sse: SseConfig | undefined;
  const sseMode = env.SSE_MODE ?? "";
  if (sseMode === "aws:kms") sse = { mode: "aws:kms", kmsKeyId: env.KMS_KEY_ID || undefined };
  else if (sseMode === "AES256") sse = { mode: "AES256" };
  else if (sseMode !== "" && sseMode !== "none")
    problems.push(`SSE_MODE must be aws:kms, AES256 or none (got "${sseMode}")`);
  if (env.KMS_KEY_ID && sseMode !== "aws:kms") problems.push("KMS_KEY_ID is set but SSE_MODE is not aws:kms");
  const objectLock = objectLockVars(env, problems);
  const filters: ResourceFilters = {
    includeResources: list(env.INCLUDE_RESOURCES) ?? ["*"],
    excludeResources: list(env.EXCLUDE_RESOURCES) ?? [],
    includeNamespaces: list(env.INCLUDE_NAMESPACES) ?? ["*"],
    excludeNamespaces: list(env.EXCLUDE_NAMESPACES) ?? [],
  };
  problems.push(
    ...validateFilters(filters, {
      includeResources: "INCLUDE_RESOURCES",
      excludeResources: "EXCLUDE_RESOURCES",
      includeNamespaces: "INCLUDE_NAMESPACES",
      excludeNamespaces: "EXCLUDE_NAMESPACES",
    }),
  );
  const pageSize = intVar(env, "PAGE_SIZE", 500, 1, 10_000, problems);
  const concurrency = intVar(env, "CONCURRENCY", 4, 1, 32, problems);
  const deadlineMarginMs = intVar(env, "DEADLINE_MARGIN_SECONDS", 30, 1, 600, problems) * 1000;
  const s3Endpoint = url("S3_ENDPOINT", env.S3_ENDPOINT, problems);
  const eksEndpoint = url("EKS_ENDPOINT", env.EKS_ENDPOINT, problems);
  if (problems.length > 0) throw new ConfigError(problems, "configuration");
  return {
    clusters,
    region,
    bucket,
    prefix,
    sse,
    objectLock,
    filters,
    pageSize,
    concurrency,
    deadlineMarginMs,
    s3Endpoint,
    eksEndpoint,
  };
}

/** What one invocation asks for, after the event is validated. */
export interface InvocationRequest {
  readonly cluster: string;
  readonly prefix: string;
  readonly filters: ResourceFilters;
  readonly raw: boolean;
  readonly trigger: "schedule" | "manual";
}

const MANUAL_KEYS = [
  "cluster",
  "trigger",
  "includeNamespaces",
  "excludeNamespaces",
  "includeResources",
  "excludeResources",
  "raw",
] as const;

/**
 * Accepts an EventBridge Scheduled Event, a schedule's constant input `{"cluster": …}`, or a manual
 * payload that may override the filters. Unknown keys are rejected so a typo never silently backs up
 * the wrong thing.
 */
export function parseInvocation(event: unknown, config: HandlerConfig): InvocationRequest {
  const problems: string[] = [];
  const defaults = { cluster: config.clusters[0] as string, filters: config.filters, raw: false };
  const prefixFor = (cluster: string) =>
    config.prefix ? config.prefix.replaceAll("{cluster}", cluster) : defaultPrefix(cluster);
  if (event === null || event === undefined)
    return { ...defaults, prefix: prefixFor(defaults.cluster), trigger: "manual" };
  if (typeof event !== "object" || Array.isArray(event))
    throw new ConfigError(["the event must be a JSON object"], "event");
  const e = event as Record<string, unknown>;
  if (e.source === "aws.events" && e["detail-type"] === "Scheduled Event") {
    return { ...defaults, prefix: prefixFor(defaults.cluster), trigger: "schedule" };
  }
  for (const key of Object.keys(e)) {
    if (!(MANUAL_KEYS as readonly string[]).includes(key))
      problems.push(`unknown key "${key}" (allowed: ${MANUAL_KEYS.join(", ")})`);
  }
  let cluster = defaults.cluster;
  if (e.cluster !== undefined) {
    if (typeof e.cluster !== "string") problems.push("cluster must be a string");
    else if (!config.clusters.includes(e.cluster))
      problems.push(
        `cluster "${e.cluster}" is not one this function backs up (${config.clusters.join(", ")})`,
      );
    else cluster = e.cluster;
  }
  const stringList = (key: (typeof MANUAL_KEYS)[number]): string[] | undefined => {
    const v = e[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string") || v.length === 0) {
      problems.push(`${key} must be a non-empty array of strings`);
      return undefined;
    }
    return v as string[];
  };
  const filters: ResourceFilters = {
    includeNamespaces: stringList("includeNamespaces") ?? config.filters.includeNamespaces,
    excludeNamespaces: stringList("excludeNamespaces") ?? config.filters.excludeNamespaces,
    includeResources: stringList("includeResources") ?? config.filters.includeResources,
    excludeResources: stringList("excludeResources") ?? config.filters.excludeResources,
  };
  problems.push(
    ...validateFilters(filters, {
      includeResources: "includeResources",
      excludeResources: "excludeResources",
      includeNamespaces: "includeNamespaces",
      excludeNamespaces: "excludeNamespaces",
    }),
  );
  if (e.raw !== undefined && typeof e.raw !== "boolean") problems.push("raw must be true or false");
  // The stack's per-cluster schedules send {"cluster": …, "trigger": "schedule"} as constant input.
  if (e.trigger !== undefined && e.trigger !== "schedule" && e.trigger !== "manual") {
    problems.push('trigger must be "schedule" or "manual"');
  }
  if (problems.length > 0) throw new ConfigError(problems, "event");
  return {
    cluster,
    prefix: prefixFor(cluster),
    filters,
    raw: e.raw === true,
    trigger: e.trigger === "schedule" ? "schedule" : "manual",
  };
}
