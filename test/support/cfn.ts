// Offline `serverless package` runs and a static reader of the CloudFormation template they produce:
// the AWS::LanguageExtensions Fn::ForEach loops are expanded, the Conditions are evaluated against the
// stack parameters' defaults, and the intrinsic functions that need no deployed stack (Fn::If,
// Fn::Split, Fn::Join, Fn::Select, Fn::Sub with literal variables, Ref to a parameter) are resolved.
// What is left is what CloudFormation would create; Refs to resources and pseudo parameters stay.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const repoRoot = resolve(import.meta.dirname, "../..");

// CloudFormation templates are untyped JSON (noExplicitAny is off under test/).
export type Json = any;

export interface PackageResult {
  /** The --package directory (removed by cleanup()). */
  readonly dir: string;
  readonly templatePath: string;
  /** The template as packaged (loops and conditions unexpanded). */
  readonly raw: Json;
  /** The template as CloudFormation would see it after the transform, see resolveTemplate(). */
  readonly template: Json;
  readonly output: string;
  readonly seconds: number;
  cleanup(): Promise<void>;
}

/**
 * Runs `serverless package` (osls, the repo's devDependency) offline into a temp dir, with an env
 * that holds no AWS credentials and no way to find any (temp HOME, no credential files, no IMDS).
 */
export async function packageService(stage: string, params: Record<string, string>): Promise<PackageResult> {
  const dir = await mkdtemp(join(tmpdir(), "kube-autosave-sls-"));
  const home = join(dir, "home");
  await mkdir(home);
  const out = join(dir, "package");
  const args = [
    join(repoRoot, "node_modules/osls/bin/serverless.js"),
    "package",
    "--stage",
    stage,
    ...Object.entries(params).map(([k, v]) => `--param=${k}=${v}`),
    "--package",
    out,
  ];
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    AWS_REGION: "eu-west-1",
    AWS_SHARED_CREDENTIALS_FILE: join(home, "no-credentials"),
    AWS_CONFIG_FILE: join(home, "no-config"),
    AWS_EC2_METADATA_DISABLED: "true",
    SLS_TELEMETRY_DISABLED: "1",
    SLS_NOTIFICATIONS_MODE: "off",
    // osls caches its compiled config schema here; the default is under HOME, which is temporary.
    SLS_SCHEMA_CACHE_BASE_DIR: join(repoRoot, "node_modules/.cache/kube-autosave-osls"),
    NO_COLOR: "1",
  };
  const started = Date.now();
  let output: string;
  try {
    const r = await run(process.execPath, args, {
      cwd: repoRoot,
      env,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 120_000,
    });
    output = r.stdout + r.stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    await rm(dir, { recursive: true, force: true });
    throw new Error(
      `serverless package ${args.slice(2).join(" ")} failed:\n${e.stdout ?? ""}${e.stderr ?? e.message}`,
    );
  }
  const seconds = (Date.now() - started) / 1000;
  const templatePath = join(out, "cloudformation-template-update-stack.json");
  const raw = JSON.parse(await readFile(templatePath, "utf8"));
  return {
    dir: out,
    templatePath,
    raw,
    template: resolveTemplate(raw),
    output,
    seconds,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface LintMatch {
  readonly Level: "Error" | "Warning" | "Informational";
  readonly Message: string;
  readonly Rule: { readonly Id: string };
  readonly Location: { readonly Path: readonly (string | number)[] };
}

export const cfnLintBin = join(repoRoot, ".venv/bin/cfn-lint");

/** cfn-lint (PyPI, pinned in requirements-dev.txt, installed by scripts/python-venv.sh) on templates. */
export async function cfnLint(templatePaths: string[]): Promise<LintMatch[]> {
  if (!existsSync(cfnLintBin)) {
    throw new Error(
      `${cfnLintBin} is missing: run \`bash scripts/python-venv.sh\` (creates .venv with cfn-lint)`,
    );
  }
  const args = ["--format", "json", "--non-zero-exit-code", "none", "--", ...templatePaths];
  const { stdout } = await run(cfnLintBin, args, { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
  return JSON.parse(stdout) as LintMatch[];
}

// ---------------------------------------------------------------------------------------------
// Static resolution

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The single key of an intrinsic function object, or undefined. */
function fnName(v: Json): string | undefined {
  if (!isObject(v)) return undefined;
  const keys = Object.keys(v);
  return keys.length === 1 && (keys[0] === "Ref" || keys[0]!.startsWith("Fn::") || keys[0] === "Condition")
    ? keys[0]
    : undefined;
}

/** Fn::ForEach as the AWS::LanguageExtensions transform does it (identifiers in keys, Fn::Sub, Ref). */
export function expandForEach(node: Json, params: Json, vars: Record<string, string> = {}): Json {
  const subst = (s: string) =>
    Object.entries(vars).reduce(
      (acc, [k, v]) => acc.replaceAll(`\${${k}}`, v).replaceAll(`&{${k}}`, v.replace(/[^0-9A-Za-z]/g, "")),
      s,
    );
  if (Array.isArray(node)) return node.map((n) => expandForEach(n, params, vars));
  if (!isObject(node)) return node;
  const fn = fnName(node);
  if (fn === "Ref" && typeof node.Ref === "string" && node.Ref in vars) return vars[node.Ref];
  if (fn === "Fn::Sub") {
    const v = node["Fn::Sub"];
    if (typeof v === "string") return plainIfNoVariables(subst(v));
    return { "Fn::Sub": [subst(v[0]), expandForEach(v[1], params, vars)] };
  }
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith("Fn::ForEach::")) {
      const [id, collection, fragment] = value as [string, Json, Json];
      for (const item of collectionValues(collection, params)) {
        const expanded = expandForEach(fragment, params, { ...vars, [id]: item });
        for (const [k, v] of Object.entries(expanded)) {
          if (k in out) throw new Error(`Fn::ForEach ${key}: duplicate key ${k}`);
          out[k] = v;
        }
      }
      continue;
    }
    const k = subst(key);
    if (k in out) throw new Error(`Fn::ForEach: duplicate key ${k}`);
    out[k] = expandForEach(value, params, vars);
  }
  return out;
}

/** A Fn::Sub string without variables is that string (as the transform and cfn-lint treat it). */
function plainIfNoVariables(s: string): Json {
  return s.includes("${") ? { "Fn::Sub": s } : s;
}

function collectionValues(collection: Json, params: Json): string[] {
  if (Array.isArray(collection)) return collection;
  if (fnName(collection) === "Ref") {
    const p = params?.[collection.Ref];
    if (p === undefined) throw new Error(`Fn::ForEach over unknown parameter ${collection.Ref}`);
    return parameterValue(p) as string[];
  }
  throw new Error(`unsupported Fn::ForEach collection ${JSON.stringify(collection)}`);
}

/** A parameter's default, as Ref gives it (CommaDelimitedList: split, members space-trimmed). */
function parameterValue(p: Json): string | string[] {
  const d = p.Default === undefined ? "" : String(p.Default);
  return String(p.Type).includes("List") ? d.split(",").map((s) => s.trim()) : d;
}

const NO_VALUE = Symbol("AWS::NoValue");

interface Scope {
  readonly params: Record<string, string | string[]>;
  readonly conditions: Record<string, boolean>;
  readonly mappings: Record<string, Json>;
}

function isLiteral(v: Json): boolean {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}

/** Fn::Sub text of a resolved value: a literal as is, a Ref/GetAtt as ${X}/${X.Y}; else undefined. */
function subText(v: Json): string | undefined {
  if (isLiteral(v)) return String(v);
  if (fnName(v) === "Ref" && typeof v.Ref === "string") return `\${${v.Ref}}`;
  if (fnName(v) === "Fn::GetAtt" && Array.isArray(v["Fn::GetAtt"])) return `\${${v["Fn::GetAtt"].join(".")}}`;
  if (fnName(v) === "Fn::Sub" && typeof v["Fn::Sub"] === "string") return v["Fn::Sub"];
  return undefined;
}

function resolveValue(node: Json, scope: Scope): Json {
  if (Array.isArray(node)) {
    return node.map((n) => resolveValue(n, scope)).filter((n) => n !== NO_VALUE);
  }
  if (!isObject(node)) return node;
  const fn = fnName(node);
  const arg = fn ? node[fn] : undefined;
  switch (fn) {
    case "Ref":
      if (arg === "AWS::NoValue") return NO_VALUE;
      if (typeof arg === "string" && arg in scope.params) return scope.params[arg];
      return node;
    case "Fn::If": {
      const [cond, a, b] = arg as [string, Json, Json];
      if (!(cond in scope.conditions)) throw new Error(`Fn::If on unknown condition ${cond}`);
      return resolveValue(scope.conditions[cond] ? a : b, scope);
    }
    case "Fn::Split": {
      const [d, s] = [arg[0], resolveValue(arg[1], scope)];
      return typeof s === "string" ? s.split(d) : { "Fn::Split": [d, s] };
    }
    case "Fn::Join": {
      const [d, list] = [resolveValue(arg[0], scope), resolveValue(arg[1], scope)];
      return typeof d === "string" && Array.isArray(list) && list.every(isLiteral)
        ? list.join(d)
        : { "Fn::Join": [d, list] };
    }
    case "Fn::FindInMap": {
      const [map, top, second] = (arg as Json[]).map((x) => resolveValue(x, scope));
      if (!isLiteral(top) || !isLiteral(second)) return { "Fn::FindInMap": [map, top, second] };
      const value = scope.mappings[map]?.[String(top)]?.[String(second)];
      if (value === undefined) throw new Error(`Fn::FindInMap: no ${map}.${top}.${second}`);
      return value;
    }
    case "Fn::Select": {
      const [i, list] = [resolveValue(arg[0], scope), resolveValue(arg[1], scope)];
      return Array.isArray(list) ? list[Number(i)] : { "Fn::Select": [i, list] };
    }
    case "Fn::Sub": {
      if (typeof arg === "string") return node;
      let text: string = arg[0];
      const vars = resolveValue(arg[1], scope) as Record<string, Json>;
      const left: Record<string, Json> = {};
      for (const [k, v] of Object.entries(vars)) {
        const t = subText(v);
        if (t === undefined) left[k] = v;
        else text = text.replaceAll(`\${${k}}`, t);
      }
      return Object.keys(left).length > 0 ? { "Fn::Sub": [text, left] } : plainIfNoVariables(text);
    }
    default: {
      const out: Record<string, Json> = {};
      for (const [k, v] of Object.entries(node)) {
        const r = resolveValue(v, scope);
        if (r !== NO_VALUE) out[k] = r;
      }
      return out;
    }
  }
}

function evalCondition(node: Json, scope: Scope, defs: Record<string, Json>, seen: Set<string>): boolean {
  const fn = fnName(node);
  const arg = fn ? node[fn] : undefined;
  switch (fn) {
    case "Condition":
      return conditionValue(arg, scope, defs, seen);
    case "Fn::Equals": {
      const [a, b] = (arg as Json[]).map((x) => resolveValue(x, scope));
      if (!isLiteral(a) || !isLiteral(b))
        throw new Error(`cannot evaluate ${JSON.stringify(node)} statically`);
      return String(a) === String(b);
    }
    case "Fn::Not":
      return !evalCondition(arg[0], scope, defs, seen);
    case "Fn::And":
      return (arg as Json[]).every((c) => evalCondition(c, scope, defs, seen));
    case "Fn::Or":
      return (arg as Json[]).some((c) => evalCondition(c, scope, defs, seen));
    default:
      throw new Error(`unsupported condition ${JSON.stringify(node)}`);
  }
}

function conditionValue(name: string, scope: Scope, defs: Record<string, Json>, seen: Set<string>): boolean {
  if (name in scope.conditions) return scope.conditions[name]!;
  if (seen.has(name)) throw new Error(`condition loop at ${name}`);
  if (!(name in defs)) throw new Error(`unknown condition ${name}`);
  seen.add(name);
  const v = evalCondition(defs[name], scope, defs, seen);
  scope.conditions[name] = v;
  return v;
}

/**
 * The template CloudFormation would act on with every parameter at its default: loops expanded,
 * conditions evaluated (`Conditions` then holds booleans), resources and outputs whose condition is
 * false removed, and the statically known intrinsic functions resolved.
 */
export function resolveTemplate(raw: Json): Json {
  const params = raw.Parameters ?? {};
  const expanded = expandForEach(raw, params);
  const scope: Scope = {
    params: Object.fromEntries(Object.entries(params).map(([k, p]) => [k, parameterValue(p)])),
    conditions: {},
    mappings: expanded.Mappings ?? {},
  };
  const defs = expanded.Conditions ?? {};
  for (const name of Object.keys(defs)) conditionValue(name, scope, defs, new Set());
  const keep = (section: Record<string, Json> = {}) =>
    Object.fromEntries(
      Object.entries(section)
        .filter(([, v]) => v.Condition === undefined || scope.conditions[v.Condition])
        .map(([k, v]) => [k, resolveValue(v, scope)]),
    );
  return {
    ...expanded,
    Conditions: scope.conditions,
    Resources: keep(expanded.Resources),
    Outputs: keep(expanded.Outputs),
  };
}

// ---------------------------------------------------------------------------------------------
// Queries

export interface Resource {
  readonly id: string;
  readonly Type: string;
  readonly Properties: Json;
  readonly [k: string]: Json;
}

export function resourcesOfType(template: Json, type: string): Resource[] {
  return Object.entries(template.Resources as Record<string, Json>)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => ({ id, ...r, Properties: r.Properties ?? {} }));
}

export function onlyResource(template: Json, type: string): Resource {
  const all = resourcesOfType(template, type);
  if (all.length !== 1)
    throw new Error(`expected one ${type}, found ${all.length}: ${all.map((r) => r.id).join(", ")}`);
  return all[0]!;
}

export function resourceById(template: Json, id: string): Resource {
  const r = template.Resources[id];
  if (r === undefined)
    throw new Error(`no resource ${id} (have: ${Object.keys(template.Resources).join(", ")})`);
  return { id, ...r, Properties: r.Properties ?? {} };
}

export interface IamStatement {
  readonly source: string;
  readonly Effect: string;
  readonly Action: string[];
  readonly Resource: Json[];
  readonly Condition?: Json;
}

const toList = (v: Json): Json[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Every statement of every identity policy in the template (role inline policies, RolePolicy, Policy). */
export function iamStatements(template: Json): IamStatement[] {
  const out: IamStatement[] = [];
  const add = (source: string, doc: Json) => {
    for (const s of toList(doc?.Statement)) {
      out.push({
        source,
        Effect: s.Effect,
        Action: toList(s.Action),
        Resource: toList(s.Resource),
        Condition: s.Condition,
      });
    }
  };
  for (const r of resourcesOfType(template, "AWS::IAM::Role")) {
    for (const p of toList(r.Properties.Policies)) add(r.id, p.PolicyDocument);
  }
  for (const type of ["AWS::IAM::RolePolicy", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"]) {
    for (const r of resourcesOfType(template, type)) add(r.id, r.Properties.PolicyDocument);
  }
  return out;
}

/** A resolved string or Fn::Sub as text (Refs as ${X}), for comparing ARNs. */
export function text(v: Json): string {
  const t = subText(v);
  if (t === undefined) throw new Error(`not a string or Fn::Sub: ${JSON.stringify(v)}`);
  return t;
}

// ---------------------------------------------------------------------------------------------
// Zip

/** The files of a zip archive (stored or deflated entries), by path. Enough for Lambda artifacts. */
export async function readZip(path: string): Promise<Map<string, Buffer>> {
  const { inflateRawSync } = await import("node:zlib");
  const buf = await readFile(path);
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error(`${path}: not a zip file`);
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error(`${path}: bad central directory entry ${i}`);
    const method = buf.readUInt16LE(at + 10);
    const size = buf.readUInt32LE(at + 20);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.subarray(at + 46, at + 46 + nameLen).toString("utf8");
    const dataAt = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(dataAt, dataAt + size);
    if (!name.endsWith("/")) files.set(name, method === 0 ? Buffer.from(data) : inflateRawSync(data));
    at += 46 + nameLen + extraLen + commentLen;
  }
  return files;
}
