// argv → command data, as pure functions (no I/O), so parsing reads like a spec in tests.
import { type ParseArgsConfig, parseArgs } from "node:util";
import { parseSelector, SelectorError } from "../restore/selector.js";
import { type ResourceFilters, validateFilters } from "../snapshot/filters.js";
import type { ObjectLockRetention } from "../snapshot/ports.js";

/** Bad flags or arguments; the message names each problem. Exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export type SseSettings =
  | { readonly mode: "AES256" }
  | { readonly mode: "aws:kms"; readonly kmsKeyId?: string };

/** Where snapshots are written or read. */
export type Target =
  | { readonly kind: "dir"; readonly dir: string }
  | {
      readonly kind: "s3";
      readonly bucket: string;
      readonly endpoint?: string | undefined;
      readonly region?: string | undefined;
      readonly sse?: SseSettings | undefined;
      /** S3 Object Lock retention of every object written inside a snapshot (snapshot only). */
      readonly objectLock?: ObjectLockRetention | undefined;
    };

export interface SnapshotCommand {
  readonly name: "snapshot";
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  readonly target: Target;
  readonly prefix?: string | undefined;
  readonly clusterName?: string | undefined;
  readonly filters: ResourceFilters;
  readonly pageSize: number;
  readonly concurrency: number;
  readonly raw: boolean;
  readonly json: boolean;
}

/** A place holding snapshots: a folder, or an S3 bucket + prefix. `prefix` is relative to the target. */
export interface Location {
  readonly target: Target;
  readonly prefix: string;
}

/** One snapshot: its location's store and its name (the last path segment). */
export interface SnapshotRef extends Location {
  readonly snapshot: string;
}

export interface ListCommand {
  readonly name: "list";
  readonly location: Location;
  readonly json: boolean;
}

export interface VerifyCommand {
  readonly name: "verify";
  readonly snapshot: SnapshotRef;
  readonly json: boolean;
}

export interface DiffCommand {
  readonly name: "diff";
  readonly from: SnapshotRef;
  readonly to: SnapshotRef;
  readonly json: boolean;
}

export interface HistoryCommand {
  readonly name: "history";
  readonly location: Location;
  /** `resource.group` notation (core: `configmaps`). */
  readonly resource: string;
  readonly objectName: string;
  /** Undefined: `default` for namespaced types. */
  readonly namespace?: string | undefined;
  readonly json: boolean;
}

export interface RestoreCommand {
  readonly name: "restore";
  readonly snapshot: SnapshotRef;
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  /** Namespace globs; empty = all. */
  readonly namespaces: readonly string[];
  /** Resource globs (`resource` or `resource.group`); empty = all. */
  readonly resources: readonly string[];
  /** Object name globs; empty = all. */
  readonly names: readonly string[];
  /** A label selector (`app=web,tier!=db`), or undefined. */
  readonly selector?: string | undefined;
  /** Snapshot namespace → target namespace (`--namespace-mappings old:new,…`), in the order given. */
  readonly namespaceMappings: readonly (readonly [from: string, to: string])[];
  /** Keep the snapshot's persistentVolumeReclaimPolicy instead of Retain. */
  readonly keepReclaimPolicy: boolean;
  readonly update: boolean;
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly json: boolean;
}

export type Command =
  | { readonly name: "help"; readonly command?: CommandName }
  | { readonly name: "version" }
  | SnapshotCommand
  | ListCommand
  | VerifyCommand
  | DiffCommand
  | RestoreCommand
  | HistoryCommand;

export const DEFAULT_PAGE_SIZE = 500;
export const DEFAULT_CONCURRENCY = 4;
/** kube-apiserver caps nothing, but pages beyond this only cost memory. */
export const MAX_PAGE_SIZE = 10_000;
/** More parallel lists than this only queue up in API priority and fairness. */
export const MAX_CONCURRENCY = 32;

/** The commands that take options (each has its own `--help`). */
export const COMMAND_NAMES = ["snapshot", "list", "verify", "diff", "restore", "history"] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

function isCommandName(name: string): name is CommandName {
  return (COMMAND_NAMES as readonly string[]).includes(name);
}

/** Parses the whole argv (without node and the script path). `env` supplies defaults (AWS_REGION). */
export function parseCommand(argv: readonly string[], env: Record<string, string | undefined> = {}): Command {
  const [first, ...rest] = argv;
  if (first === undefined || first === "help" || first === "--help" || first === "-h")
    return { name: "help" };
  // As kubectl and the AWS CLI: `<command> --help` (or -h) anywhere after the command shows its usage.
  if (isCommandName(first) && rest.some((a) => a === "--help" || a === "-h"))
    return { name: "help", command: first };
  if (first === "version" || first === "--version" || first === "-v") {
    if (rest.length > 0) throw new UsageError(`version takes no arguments (got ${rest.join(" ")})`);
    return { name: "version" };
  }
  if (first === "snapshot") return parseSnapshot(rest, env);
  if (first === "list") return parseList(rest, env);
  if (first === "verify") return parseVerify(rest, env);
  if (first === "diff") return parseDiff(rest, env);
  if (first === "restore") return parseRestore(rest, env);
  if (first === "history") return parseHistory(rest, env);
  if (first.startsWith("-")) throw new UsageError(`unknown option ${first}`);
  throw new UsageError(`unknown command "${first}"`);
}

const SNAPSHOT_OPTIONS = {
  kubeconfig: { type: "string" },
  context: { type: "string" },
  out: { type: "string" },
  bucket: { type: "string" },
  endpoint: { type: "string" },
  region: { type: "string" },
  sse: { type: "string" },
  "kms-key-id": { type: "string" },
  "object-lock": { type: "string" },
  "object-lock-days": { type: "string" },
  prefix: { type: "string" },
  "cluster-name": { type: "string" },
  "include-namespaces": { type: "string", multiple: true },
  "exclude-namespaces": { type: "string", multiple: true },
  "include-resources": { type: "string", multiple: true },
  "exclude-resources": { type: "string", multiple: true },
  "page-size": { type: "string" },
  concurrency: { type: "string" },
  raw: { type: "boolean" },
  json: { type: "boolean" },
} as const;

type ParsedFlags<T extends NonNullable<ParseArgsConfig["options"]>> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: true }>
>;

/**
 * Parses flags without stopping at the first bad one: unknown flags, flags without their value and
 * values given to switches become problems, reported with every other problem of the command.
 */
function parseFlags<T extends NonNullable<ParseArgsConfig["options"]>>(
  argv: readonly string[],
  options: T,
): ParsedFlags<T> & { problems: string[] } {
  const { values, positionals, tokens } = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const problems: string[] = [];
  const bad = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const spec = options[token.name];
    // Messages as node's strict parser words them.
    if (!spec) problems.push(`Unknown option '${token.rawName}'`);
    else if (spec.type === "string" && token.value === undefined)
      problems.push(`Option '${token.rawName} <value>' argument missing`);
    else if (spec.type === "boolean" && token.value !== undefined)
      problems.push(`Option '${token.rawName}' does not take an argument`);
    else continue;
    bad.add(token.name);
  }
  const clean: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    const spec = options[name];
    if (!spec) continue;
    if (spec.type === "boolean") {
      if (!bad.has(name)) clean[name] = value;
    } else if (Array.isArray(value)) {
      clean[name] = value.filter((v): v is string => typeof v === "string");
    } else if (typeof value === "string") {
      clean[name] = value;
    }
  }
  return { values: clean, positionals, problems } as ParsedFlags<T> & { problems: string[] };
}

/** Splits repeatable comma-separated list flags: `--x a,b --x c` → [a, b, c]. */
export function splitList(values: readonly string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

function parseIntFlag(
  name: string,
  raw: string | undefined,
  fallback: number,
  max: number,
  problems: string[],
): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    problems.push(`--${name} must be a whole number from 1 to ${max} (got "${raw}")`);
    return fallback;
  }
  return Number(raw);
}

/** Cluster names become part of S3 keys and folder names. */
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** S3 bucket naming rules (the common subset). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function parseSnapshot(argv: readonly string[], env: Record<string, string | undefined>): SnapshotCommand {
  const { values: v, positionals, problems } = parseFlags(argv, SNAPSHOT_OPTIONS);
  if (positionals.length > 0) problems.push(`snapshot takes no arguments (got ${positionals.join(" ")})`);
  const filters: ResourceFilters = {
    includeResources: v["include-resources"] ? splitList(v["include-resources"]) : ["*"],
    excludeResources: splitList(v["exclude-resources"]),
    includeNamespaces: v["include-namespaces"] ? splitList(v["include-namespaces"]) : ["*"],
    excludeNamespaces: splitList(v["exclude-namespaces"]),
  };
  problems.push(
    ...validateFilters(filters, {
      includeResources: "--include-resources",
      excludeResources: "--exclude-resources",
      includeNamespaces: "--include-namespaces",
      excludeNamespaces: "--exclude-namespaces",
    }),
  );
  const target = parseTarget(v, env, problems);
  const clusterName = v["cluster-name"];
  if (clusterName !== undefined && !CLUSTER_NAME.test(clusterName)) {
    problems.push(
      `--cluster-name "${clusterName}" must be letters, digits, '.', '_' or '-' (it becomes part of the prefix)`,
    );
  }
  const prefix = v.prefix === undefined ? undefined : v.prefix.replace(/^\/+|\/+$/g, "");
  if (
    prefix !== undefined &&
    (prefix.split("/").some((s) => s === ".." || s === ".") || /\/\//.test(prefix))
  ) {
    problems.push(`--prefix "${v.prefix}" must not contain '.', '..' or empty segments`);
  }
  const pageSize = parseIntFlag("page-size", v["page-size"], DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, problems);
  const concurrency = parseIntFlag(
    "concurrency",
    v.concurrency,
    DEFAULT_CONCURRENCY,
    MAX_CONCURRENCY,
    problems,
  );
  for (const name of ["kubeconfig", "context", "out", "bucket", "endpoint", "region", "prefix"] as const) {
    if (v[name] === "") problems.push(`--${name} must not be empty`);
  }
  if (problems.length > 0) throw new UsageError(problems.join("\n  "));
  return {
    name: "snapshot",
    kubeconfig: v.kubeconfig,
    context: v.context,
    target,
    prefix,
    clusterName,
    filters,
    pageSize,
    concurrency,
    raw: v.raw ?? false,
    json: v.json ?? false,
  };
}

function parseTarget(
  v: {
    out?: string;
    bucket?: string;
    endpoint?: string;
    region?: string;
    sse?: string;
    "kms-key-id"?: string;
    "object-lock"?: string;
    "object-lock-days"?: string;
  },
  env: Record<string, string | undefined>,
  problems: string[],
): Target {
  const s3Only = (
    ["endpoint", "region", "sse", "kms-key-id", "object-lock", "object-lock-days"] as const
  ).filter((k) => v[k] !== undefined);
  if (v.bucket === undefined) {
    for (const k of s3Only) problems.push(`--${k} only applies with --bucket`);
    return { kind: "dir", dir: v.out ?? "./backups" };
  }
  if (v.out !== undefined)
    problems.push("--out and --bucket cannot be used together (choose a folder or S3)");
  if (v.bucket !== "" && !BUCKET_NAME.test(v.bucket))
    problems.push(`--bucket "${v.bucket}" is not a valid S3 bucket name`);
  if (v.endpoint !== undefined && v.endpoint !== "") {
    let url: URL | undefined;
    try {
      url = new URL(v.endpoint);
    } catch {
      // reported below
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:"))
      problems.push(`--endpoint "${v.endpoint}" is not an http(s) URL`);
  }
  let sse: SseSettings | undefined;
  if (v.sse === "AES256") sse = { mode: "AES256" };
  else if (v.sse === "aws:kms")
    sse = v["kms-key-id"] ? { mode: "aws:kms", kmsKeyId: v["kms-key-id"] } : { mode: "aws:kms" };
  else if (v.sse !== undefined) problems.push(`--sse must be AES256 or aws:kms (got "${v.sse}")`);
  if (v["kms-key-id"] !== undefined && v.sse !== "aws:kms")
    problems.push("--kms-key-id requires --sse aws:kms");
  const objectLock = parseObjectLock(v["object-lock"], v["object-lock-days"], problems);
  return {
    kind: "s3",
    bucket: v.bucket,
    endpoint: v.endpoint,
    region: v.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    sse,
    ...(objectLock ? { objectLock } : {}),
  };
}

/** S3 allows retention up to 100 years. */
const MAX_LOCK_DAYS = 36_500;

/** `--object-lock governance|compliance` with `--object-lock-days N` (both, or neither). */
function parseObjectLock(
  mode: string | undefined,
  days: string | undefined,
  problems: string[],
): ObjectLockRetention | undefined {
  if (mode === undefined) {
    if (days !== undefined) problems.push("--object-lock-days requires --object-lock");
    return undefined;
  }
  const upper = mode.toUpperCase();
  if (upper !== "GOVERNANCE" && upper !== "COMPLIANCE")
    problems.push(`--object-lock must be governance or compliance (got "${mode}")`);
  if (days === undefined)
    problems.push("--object-lock needs --object-lock-days N (how long objects stay locked)");
  else if (!/^\d+$/.test(days) || Number(days) < 1 || Number(days) > MAX_LOCK_DAYS)
    problems.push(`--object-lock-days must be a whole number from 1 to ${MAX_LOCK_DAYS} (got "${days}")`);
  if (upper !== "GOVERNANCE" && upper !== "COMPLIANCE") return undefined;
  return { mode: upper, days: Number(days ?? 0) };
}

const S3_LOCATION_OPTIONS = {
  endpoint: { type: "string" },
  region: { type: "string" },
  json: { type: "boolean" },
} as const;

/** Parses a folder path or `s3://bucket/prefix` into a target + prefix (pure; no I/O). */
export function parseLocation(
  text: string,
  s3: { endpoint?: string | undefined; region?: string | undefined },
  env: Record<string, string | undefined>,
  problems: string[],
): Location {
  if (text.startsWith("s3://")) {
    const [bucket = "", ...rest] = text.slice("s3://".length).split("/");
    if (!BUCKET_NAME.test(bucket)) problems.push(`"${text}": "${bucket}" is not a valid S3 bucket name`);
    if (s3.endpoint !== undefined) {
      try {
        const u = new URL(s3.endpoint);
        if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("scheme");
      } catch {
        problems.push(`--endpoint "${s3.endpoint}" is not an http(s) URL`);
      }
    }
    return {
      target: {
        kind: "s3",
        bucket,
        endpoint: s3.endpoint,
        region: s3.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
      },
      prefix: rest.filter((p) => p.length > 0).join("/"),
    };
  }
  if (text === "") problems.push("the location must not be empty");
  return { target: { kind: "dir", dir: text.replace(/\/+$/, "") || "/" }, prefix: "" };
}

/** Parses a snapshot reference: a location whose last segment is the snapshot's name. */
export function parseSnapshotRef(
  text: string,
  s3: { endpoint?: string | undefined; region?: string | undefined },
  env: Record<string, string | undefined>,
  problems: string[],
): SnapshotRef {
  const trimmed = text.replace(/\/+$/, "");
  const cut = trimmed.lastIndexOf("/");
  const snapshot = cut >= 0 ? trimmed.slice(cut + 1) : trimmed;
  const parent = cut >= 0 ? trimmed.slice(0, cut) : ".";
  if (!/^\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}(-\d+)?$/.test(snapshot)) {
    problems.push(`"${text}" does not end in a snapshot name like 2026-11-24_03-00-00`);
  }
  const location = parseLocation(
    trimmed.startsWith("s3://") && cut < "s3://".length ? trimmed : parent,
    s3,
    env,
    problems,
  );
  return { ...location, snapshot };
}

function s3OnlyProblems(
  v: { endpoint?: string | undefined; region?: string | undefined },
  refs: string[],
  problems: string[],
): void {
  if (refs.every((r) => !r.startsWith("s3://"))) {
    if (v.endpoint !== undefined) problems.push("--endpoint only applies to s3:// locations");
    if (v.region !== undefined) problems.push("--region only applies to s3:// locations");
  }
}

function positionalCount(command: string, positionals: string[], names: string[], problems: string[]): void {
  if (positionals.length !== names.length) {
    problems.push(
      `${command} takes ${names.map((n) => `<${n}>`).join(" ")} (got ${positionals.length} argument${positionals.length === 1 ? "" : "s"})`,
    );
  }
}

function parseList(argv: readonly string[], env: Record<string, string | undefined>): ListCommand {
  const { values: v, positionals, problems } = parseFlags(argv, S3_LOCATION_OPTIONS);
  positionalCount("list", positionals, ["location"], problems);
  s3OnlyProblems(v, positionals, problems);
  const location = parseLocation(positionals[0] ?? "", v, env, problems);
  if (problems.length > 0) throw new UsageError(problems.join("\n  "));
  return { name: "list", location, json: v.json ?? false };
}

function parseVerify(argv: readonly string[], env: Record<string, string | undefined>): VerifyCommand {
  const { values: v, positionals, problems } = parseFlags(argv, S3_LOCATION_OPTIONS);
  positionalCount("verify", positionals, ["snapshot"], problems);
  s3OnlyProblems(v, positionals, problems);
  const snapshot = parseSnapshotRef(positionals[0] ?? "", v, env, problems);
  if (problems.length > 0) throw new UsageError(problems.join("\n  "));
  return { name: "verify", snapshot, json: v.json ?? false };
}

function parseDiff(argv: readonly string[], env: Record<string, string | undefined>): DiffCommand {
  const { values: v, positionals, problems } = parseFlags(argv, S3_LOCATION_OPTIONS);
  positionalCount("diff", positionals, ["a", "b"], problems);
  s3OnlyProblems(v, positionals, problems);
  const from = parseSnapshotRef(positionals[0] ?? "", v, env, problems);
  const to = parseSnapshotRef(positionals[1] ?? "", v, env, problems);
  if (problems.length > 0) throw new UsageError(problems.join("\n  "));
  return { name: "diff", from, to, json: v.json ?? false };
}

const HISTORY_OPTIONS = { ...S3_LOCATION_OPTIONS, namespace: { type: "string" } } as const;

/** A resource type in kubectl's `resource.group` notation (lowercase words joined by dots). */
const RESOURCE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function parseHistory(argv: readonly string[], env: Record<string, string | undefined>): HistoryCommand {
  const { values: v, positionals, problems } = parseFlags(argv, HISTORY_OPTIONS);
  positionalCount("history", positionals, ["location", "resource/name"], problems);
  s3OnlyProblems(v, positionals.slice(0, 1), problems);
  const location = parseLocation(positionals[0] ?? "", v, env, problems);
  const object = positionals[1] ?? "";
  const slash = object.indexOf("/");
  const resource = slash < 0 ? "" : object.slice(0, slash);
  const objectName = slash < 0 ? "" : object.slice(slash + 1);
  if (
    positionals.length === 2 &&
    (!RESOURCE_NAME.test(resource) || objectName === "" || objectName.includes("/"))
  )
    problems.push(
      `"${object}" is not <resource>[.<group>]/<name> (e.g. deployments.apps/web, configmaps/settings)`,
    );
  if (v.namespace !== undefined && !NAMESPACE_NAME.test(v.namespace))
    problems.push(`--namespace "${v.namespace}" is not a namespace name`);
  if (problems.length > 0) throw new UsageError(problems.join("\n  "));
  return {
    name: "history",
    location,
    resource,
    objectName,
    namespace: v.namespace,
    json: v.json ?? false,
  };
}

const RESTORE_OPTIONS = {
  ...S3_LOCATION_OPTIONS,
  kubeconfig: { type: "string" },
  context: { type: "string" },
  namespace: { type: "string", multiple: true },
  resource: { type: "string", multiple: true },
  name: { type: "string", multiple: true },
  selector: { type: "string" },
  "namespace-mappings": { type: "string", multiple: true },
  "keep-reclaim-policy": { type: "boolean" },
  update: { type: "boolean" },
  "dry-run": { type: "boolean" },
  force: { type: "boolean" },
} as const;

/** A namespace name (RFC 1123 label). */
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Name globs: anything an object name holds (no '/', ',' or whitespace), with `*` and `?`. */
const NAME_GLOB = /^[^/,\s]+$/;

/** Parses `old:new[,old2:new2]` (repeatable); each problem names the pair. */
function parseNamespaceMappings(
  values: readonly string[] | undefined,
  problems: string[],
): [string, string][] {
  const pairs: [string, string][] = [];
  for (const pair of splitList(values)) {
    const [from = "", to = "", ...rest] = pair.split(":");
    if (rest.length > 0 || !NAMESPACE_NAME.test(from) || !NAMESPACE_NAME.test(to)) {
      problems.push(
        `--namespace-mappings: "${pair}" is not old:new (two namespace names, lowercase letters, digits, '-')`,
      );
      continue;
    }
    if (pairs.some(([f]) => f === from)) problems.push(`--namespace-mappings: ${from} is mapped twice`);
    else if (pairs.some(([, t]) => t === to))
      problems.push(`--namespace-mappings: two namespaces map to ${to} (their objects would collide)`);
    else if (from !== to) pairs.push([from, to]);
  }
  return pairs;
}

function parseRestore(argv: readonly string[], env: Record<string, string | undefined>): RestoreCommand {
  const { values: v, positionals, problems } = parseFlags(argv, RESTORE_OPTIONS);
  positionalCount("restore", positionals, ["snapshot"], problems);
  s3OnlyProblems(v, positionals, problems);
  const snapshot = parseSnapshotRef(positionals[0] ?? "", v, env, problems);
  const namespaces = splitList(v.namespace);
  const resources = splitList(v.resource);
  problems.push(
    ...validateFilters(
      {
        includeNamespaces: namespaces,
        includeResources: resources,
        excludeNamespaces: [],
        excludeResources: [],
      },
      {
        includeNamespaces: "--namespace",
        includeResources: "--resource",
        excludeNamespaces: "",
        excludeResources: "",
      },
    ),
  );
  if (v.selector !== undefined) {
    try {
      parseSelector(v.selector);
    } catch (err) {
      if (!(err instanceof SelectorError)) throw err;
      problems.push(`--selector "${v.selector}" is not a label selector: ${err.message}`);
    }
  }
  const names = splitList(v.name);
  for (const glob of names)
    if (!NAME_GLOB.test(glob)) problems.push(`--name: "${glob}" is not a name or glob (no '/' or spaces)`);
  if (v.name !== undefined && names.length === 0) problems.push("--name must not be empty");
  const namespaceMappings = parseNamespaceMappings(v["namespace-mappings"], problems);
  if (v["namespace-mappings"] !== undefined && splitList(v["namespace-mappings"]).length === 0)
    problems.push("--namespace-mappings must not be empty");
  for (const name of ["kubeconfig", "context"] as const)
    if (v[name] === "") problems.push(`--${name} must not be empty`);
  if (problems.length > 0) throw new UsageError(problems.join("\n  "));
  return {
    name: "restore",
    snapshot,
    kubeconfig: v.kubeconfig,
    context: v.context,
    namespaces,
    resources,
    names,
    selector: v.selector,
    namespaceMappings,
    keepReclaimPolicy: v["keep-reclaim-policy"] ?? false,
    update: v.update ?? false,
    dryRun: v["dry-run"] ?? false,
    force: v.force ?? false,
    json: v.json ?? false,
  };
}
