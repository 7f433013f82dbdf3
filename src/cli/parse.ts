// argv → command data, command by command: which command, its flags and arguments, each checked, every
// problem reported at once. Pure functions (no I/O), so parsing reads like a spec in tests. The data
// types are commands.ts; generic flag reading is flags.ts; folders and S3 locations are locations.ts.
import { parseSelector, SelectorError } from "../restore/selector.js";
import { type ResourceFilters, validateFilters } from "../snapshot/filters.js";
import {
  COMMAND_NAMES,
  type Command,
  type CommandName,
  DEFAULT_CONCURRENCY,
  DEFAULT_PAGE_SIZE,
  type DiffCommand,
  type HistoryCommand,
  type ListCommand,
  MAX_CONCURRENCY,
  MAX_PAGE_SIZE,
  type RestoreCommand,
  type SnapshotCommand,
  type VerifyCommand,
} from "./commands.js";
import { parseFlags, parseIntFlag, positionalCount, splitList, UsageError } from "./flags.js";
import {
  type Env,
  parseLocation,
  parseSnapshotRef,
  parseTarget,
  S3_LOCATION_OPTIONS,
  type S3Flags,
  s3OnlyProblems,
} from "./locations.js";

function isCommandName(name: string): name is CommandName {
  return (COMMAND_NAMES as readonly string[]).includes(name);
}

/** Parses the whole argv (without node and the script path). `env` supplies defaults (AWS_REGION). */
export function parseCommand(argv: readonly string[], env: Env = {}): Command {
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

/** Cluster names become part of S3 keys and folder names. */
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function parseSnapshot(argv: readonly string[], env: Env): SnapshotCommand {
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
  return checked(problems, {
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
  });
}

/**
 * The arguments of a command that reads where snapshots are (list, verify, diff, restore, history), from
 * its parsed flags: the positionals counted against `names`, `--endpoint` and `--region` checked against
 * the first `locations` of them (all when not given); `location(i)` and `snapshot(i)` parse positional i.
 * Every problem goes to the flags' `problems`.
 */
function locationArgs(
  command: CommandName,
  flags: { values: S3Flags & { json?: boolean }; positionals: string[]; problems: string[] },
  env: Env,
  names: string[],
  locations?: number,
) {
  const { values, positionals, problems } = flags;
  positionalCount(command, positionals, names, problems);
  s3OnlyProblems(values, positionals.slice(0, locations), problems);
  return {
    problems,
    json: values.json ?? false,
    location: (i: number) => parseLocation(positionals[i] ?? "", values, env, problems),
    snapshot: (i: number) => parseSnapshotRef(positionals[i] ?? "", values, env, problems),
  };
}

/** The command, or every problem at once as one UsageError (exit 2). */
function checked<C extends Command>(problems: readonly string[], command: C): C {
  if (problems.length > 0) throw new UsageError(problems.join("\n  "));
  return command;
}

function parseList(argv: readonly string[], env: Env): ListCommand {
  const args = locationArgs("list", parseFlags(argv, S3_LOCATION_OPTIONS), env, ["location"]);
  return checked(args.problems, { name: "list", location: args.location(0), json: args.json });
}

function parseVerify(argv: readonly string[], env: Env): VerifyCommand {
  const args = locationArgs("verify", parseFlags(argv, S3_LOCATION_OPTIONS), env, ["snapshot"]);
  return checked(args.problems, { name: "verify", snapshot: args.snapshot(0), json: args.json });
}

function parseDiff(argv: readonly string[], env: Env): DiffCommand {
  const args = locationArgs("diff", parseFlags(argv, S3_LOCATION_OPTIONS), env, ["a", "b"]);
  const [from, to] = [args.snapshot(0), args.snapshot(1)];
  return checked(args.problems, { name: "diff", from, to, json: args.json });
}

const HISTORY_OPTIONS = { ...S3_LOCATION_OPTIONS, namespace: { type: "string" } } as const;

/** A resource type in kubectl's `resource.group` notation (lowercase words joined by dots). */
const RESOURCE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function parseHistory(argv: readonly string[], env: Env): HistoryCommand {
  const flags = parseFlags(argv, HISTORY_OPTIONS);
  const { values: v, positionals, problems } = flags;
  const args = locationArgs("history", flags, env, ["location", "resource/name"], 1);
  const location = args.location(0);
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
  return checked(problems, {
    name: "history",
    location,
    resource,
    objectName,
    namespace: v.namespace,
    json: args.json,
  });
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

function parseRestore(argv: readonly string[], env: Env): RestoreCommand {
  const flags = parseFlags(argv, RESTORE_OPTIONS);
  const { values: v, problems } = flags;
  const args = locationArgs("restore", flags, env, ["snapshot"]);
  const snapshot = args.snapshot(0);
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
  return checked(problems, {
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
    json: args.json,
  });
}
