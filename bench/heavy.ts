// The "heavy" size: few objects, but big ones, as clusters run by Helm and operators have them.
//   - Helm release Secrets (type helm.sh/release.v1, label owner=helm) of 500-900 KiB each, more than
//     300 MB together, over 3 namespaces. Helm stores a release as base64(gzip(JSON)) in the Secret's
//     `release` key, so the served value is base64 of base64 of incompressible bytes: random bytes here.
//   - 40 CustomResourceDefinitions whose openAPIV3Schema is at least 300 KiB (hundreds of properties with
//     long descriptions, like generated provider CRDs), each with 2 custom resources.
// Every object stays below 1 MiB: etcd refuses requests above --max-request-bytes (1.5 MiB by default).
import { createCipheriv, createHash } from "node:crypto";

export const HEAVY = {
  namespaces: 3,
  /** 15 releases × 10 revisions (Helm's default history) per namespace: 450 Secrets, ~320 MB. */
  releasesPerNamespace: 15,
  revisionsPerRelease: 10,
  minReleaseKiB: 500,
  maxReleaseKiB: 900,
  crds: 40,
  crdGroups: 4,
  minSchemaBytes: 300 * 1024,
  resourcesPerCrd: 2,
} as const;

/** Objects the heavy size creates (the controllers add a service account and a config map per namespace). */
export const HEAVY_OBJECTS =
  HEAVY.namespaces * HEAVY.releasesPerNamespace * HEAVY.revisionsPerRelease +
  HEAVY.crds * (1 + HEAVY.resourcesPerCrd);

/** Deterministic incompressible bytes (AES-CTR keystream of the seed): fast enough for 300 MB. */
function randomBytes(seed: string, length: number): Buffer {
  const key = createHash("sha256").update(seed).digest();
  return createCipheriv("aes-256-ctr", key, Buffer.alloc(16)).update(Buffer.alloc(length));
}

/** A number in [min, max], fixed by the seed. */
function between(seed: string, min: number, max: number): number {
  return min + (createHash("sha256").update(seed).digest().readUInt32BE(0) % (max - min + 1));
}

export function benchNamespace(i: number): string {
  return `bench-${String(i).padStart(3, "0")}`;
}

export interface HeavyObject {
  readonly path: string;
  /** Built when it is sent, so 300 MB of bodies are never held at once. */
  readonly body: () => string;
}

/** One Helm release revision: `sh.helm.release.v1.<release>.v<revision>`, the last revision deployed. */
function helmRelease(ns: string, release: string, revision: number): string {
  const seed = `${ns}/${release}/${revision}`;
  const servedLength = between(seed, HEAVY.minReleaseKiB * 1024, HEAVY.maxReleaseKiB * 1024 - 1024);
  // served value = base64(helm value), helm value = base64(gzip): lengths 4/3 of each other.
  const helmValue = randomBytes(seed, Math.floor((servedLength * 9) / 48) * 3).toString("base64");
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: `sh.helm.release.v1.${release}.v${revision}`,
      namespace: ns,
      labels: {
        name: release,
        owner: "helm",
        status: revision === HEAVY.revisionsPerRelease ? "deployed" : "superseded",
        version: String(revision),
      },
    },
    type: "helm.sh/release.v1",
    data: { release: Buffer.from(helmValue, "latin1").toString("base64") },
  });
}

export function helmReleases(): HeavyObject[] {
  const out: HeavyObject[] = [];
  for (let n = 0; n < HEAVY.namespaces; n++) {
    const ns = benchNamespace(n);
    for (let r = 0; r < HEAVY.releasesPerNamespace; r++)
      for (let v = 1; v <= HEAVY.revisionsPerRelease; v++)
        out.push({
          path: `/api/v1/namespaces/${ns}/secrets`,
          body: () => helmRelease(ns, `app-${String(r).padStart(2, "0")}`, v),
        });
  }
  return out;
}

// ----- CRDs with big schemas --------------------------------------------------------------------------

const WORDS = (
  "the resource field value when set controller reconciles provider external identifier must be " +
  "specified otherwise default applies configuration of this object managed by policy reference to " +
  "another namespace selector label annotation deletion is performed only after update requires " +
  "replacement immutable after creation see documentation for details region zone network subnet " +
  "security group encryption key rotation period in seconds maximum number of retries backoff"
).split(" ");

/** A description of 300-700 characters, like those generated from provider API docs. */
function description(seed: string): string {
  const hash = createHash("sha256").update(seed).digest();
  const length = 300 + (hash.readUInt16BE(0) % 401);
  const words: string[] = [];
  let used = 0;
  for (let i = 0; used < length; i++) {
    const word = WORDS[((hash[i % hash.length] as number) * (i + 1)) % WORDS.length] as string;
    words.push(word);
    used += word.length + 1;
  }
  return `${words.join(" ")}.`;
}

type Leaf = { type: "string" | "integer" | "boolean" } | { type: "array"; items: { type: "string" } };
const LEAF_TYPES: readonly Leaf[] = [
  { type: "string" },
  { type: "string" },
  { type: "integer" },
  { type: "boolean" },
  { type: "array", items: { type: "string" } },
];
const FIELDS_PER_SECTION = 20;

function leafOf(section: number, field: number): Leaf {
  return LEAF_TYPES[(section + field) % LEAF_TYPES.length] as Leaf;
}

/** spec.sectionNN.fieldNN leaves with descriptions, sections added until the schema is big enough. */
function bigSchema(kind: string): object {
  const sections: Record<string, object> = {};
  const schema = {
    type: "object",
    description: description(`${kind}/root`),
    properties: {
      apiVersion: { type: "string", description: description(`${kind}/apiVersion`) },
      kind: { type: "string", description: description(`${kind}/kind`) },
      metadata: { type: "object" },
      spec: { type: "object", description: description(`${kind}/spec`), properties: sections },
      status: {
        type: "object",
        properties: {
          conditions: {
            type: "array",
            items: {
              type: "object",
              properties: Object.fromEntries(
                ["type", "status", "reason", "message", "lastTransitionTime"].map((f) => [
                  f,
                  { type: "string" },
                ]),
              ),
            },
          },
        },
      },
    },
  };
  for (let s = 0; JSON.stringify(schema).length < HEAVY.minSchemaBytes; s++) {
    const fields: Record<string, object> = {};
    for (let f = 0; f < FIELDS_PER_SECTION; f++)
      fields[`field${String(f).padStart(2, "0")}`] = {
        ...leafOf(s, f),
        description: description(`${kind}/${s}/${f}`),
      };
    sections[`section${String(s).padStart(2, "0")}`] = {
      type: "object",
      description: description(`${kind}/${s}`),
      properties: fields,
    };
  }
  return schema;
}

interface CrdName {
  readonly group: string;
  readonly kind: string;
  readonly plural: string;
}

function crdName(i: number): CrdName {
  const n = String(i).padStart(2, "0");
  return {
    group: `g${i % HEAVY.crdGroups}.heavy.bench.example.com`,
    kind: `Heavy${n}`,
    plural: `heavy${n}s`,
  };
}

export function heavyCrdNames(): string[] {
  return Array.from({ length: HEAVY.crds }, (_, i) => {
    const { group, plural } = crdName(i);
    return `${plural}.${group}`;
  });
}

export function heavyCrds(): HeavyObject[] {
  return Array.from({ length: HEAVY.crds }, (_, i) => {
    const { group, kind, plural } = crdName(i);
    return {
      path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
      body: () =>
        JSON.stringify({
          apiVersion: "apiextensions.k8s.io/v1",
          kind: "CustomResourceDefinition",
          metadata: { name: `${plural}.${group}`, labels: { "bench.kube-autosave.io/size": "heavy" } },
          spec: {
            group,
            names: { plural, singular: plural.slice(0, -1), kind, listKind: `${kind}List` },
            scope: "Namespaced",
            versions: [
              { name: "v1", served: true, storage: true, schema: { openAPIV3Schema: bigSchema(kind) } },
            ],
          },
        }),
    };
  });
}

function leafValue(leaf: Leaf, seed: string): unknown {
  if (leaf.type === "integer") return between(seed, 1, 65535);
  if (leaf.type === "boolean") return between(seed, 0, 1) === 1;
  const text = createHash("sha256").update(seed).digest("hex").slice(0, 24);
  return leaf.type === "array" ? [text, `${text}-b`] : text;
}

/** The custom resources: a few sections of their schema filled in (unknown fields would be pruned). */
export function heavyCustomResources(): HeavyObject[] {
  const out: HeavyObject[] = [];
  for (let i = 0; i < HEAVY.crds; i++) {
    const { group, kind, plural } = crdName(i);
    for (let k = 0; k < HEAVY.resourcesPerCrd; k++) {
      const ns = benchNamespace((i + k) % HEAVY.namespaces);
      const name = `${plural.slice(0, -1)}-${k}`;
      const spec = Object.fromEntries(
        Array.from({ length: 4 }, (_, s) => [
          `section${String(s).padStart(2, "0")}`,
          Object.fromEntries(
            Array.from({ length: FIELDS_PER_SECTION }, (_, f) => [
              `field${String(f).padStart(2, "0")}`,
              leafValue(leafOf(s, f), `${ns}/${name}/${s}/${f}`),
            ]),
          ),
        ]),
      );
      out.push({
        path: `/apis/${group}/v1/namespaces/${ns}/${plural}`,
        body: () =>
          JSON.stringify({ apiVersion: `${group}/v1`, kind, metadata: { name, namespace: ns }, spec }),
      });
    }
  }
  return out;
}
