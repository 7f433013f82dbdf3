import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CLEANING_RULES, cleanObject } from "../../src/snapshot/clean.js";
import type { KubeObject } from "../../src/snapshot/ports.js";

// Golden pairs: <case>.raw.json holds { group, resource, object } as served by kube-apiserver v1.36;
// <case>.clean.json holds the object to store, or null when it must not be stored.
const fixturesDir = fileURLToPath(new URL("../fixtures/clean/", import.meta.url));
const fixtureFiles = readdirSync(fixturesDir).sort();
const caseNames = (suffix: string) =>
  fixtureFiles.filter((file) => file.endsWith(suffix)).map((file) => file.slice(0, -suffix.length));
const rawCases = caseNames(".raw.json");
const cleanCases = caseNames(".clean.json");

interface RawFixture {
  readonly group: string;
  readonly resource: string;
  readonly object: KubeObject;
}

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(`${fixturesDir}${file}`, "utf8"));
}

function readRaw(name: string): RawFixture {
  return readJson(`${name}.raw.json`) as RawFixture;
}

/** Stored files are JSON text, so key order counts: compare the text, not the values. */
function asStored(value: unknown): string {
  return JSON.stringify(value ?? null, null, 2);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

const core = (resource: string) => ({ group: "", resource });

describe("cleanObject golden fixtures", () => {
  it("pairs every raw fixture with a clean one, and the other way round", () => {
    // Arrange
    const unpairedRaw = rawCases.filter((name) => !cleanCases.includes(name));
    const unpairedClean = cleanCases.filter((name) => !rawCases.includes(name));

    // Assert
    expect(rawCases.length).toBeGreaterThan(0);
    expect({ unpairedRaw, unpairedClean }).toEqual({ unpairedRaw: [], unpairedClean: [] });
  });

  it.each(rawCases)("cleans %s into its .clean.json", (name) => {
    // Arrange
    const { group, resource, object } = readRaw(name);
    const expected = readJson(`${name}.clean.json`);

    // Act
    const cleaned = cleanObject(object, { group, resource });

    // Assert
    expect(asStored(cleaned)).toBe(asStored(expected));
  });
});

describe("cleanObject removes", () => {
  it("drops the annotations map a rule emptied, but keeps one served empty", () => {
    // Arrange
    const emptied = { metadata: { name: "a", annotations: { "pv.kubernetes.io/bind-completed": "yes" } } };
    const servedEmpty = { metadata: { name: "b", annotations: {} } };

    // Act
    const fromEmptied = cleanObject(emptied, core("persistentvolumeclaims"));
    const fromServedEmpty = cleanObject(servedEmpty, core("persistentvolumeclaims"));

    // Assert
    expect(fromEmptied).toStrictEqual({ metadata: { name: "a" } });
    expect(fromServedEmpty).toStrictEqual({ metadata: { name: "b", annotations: {} } });
  });

  it("keeps metadata even when every field of it was removed", () => {
    // Arrange
    const object = { metadata: { uid: "3f1c", resourceVersion: "42", managedFields: [] }, data: { a: "1" } };

    // Act
    const cleaned = cleanObject(object, core("configmaps"));

    // Assert
    expect(cleaned).toStrictEqual({ metadata: {}, data: { a: "1" } });
  });

  it("does not store service-account token Secrets, and stores every other Secret type", () => {
    // Arrange
    const secret = (type: string) => ({ kind: "Secret", metadata: { name: type }, type });

    // Act
    const token = cleanObject(secret("kubernetes.io/service-account-token"), core("secrets"));
    const others = [
      "Opaque",
      "kubernetes.io/tls",
      "kubernetes.io/dockerconfigjson",
      "bootstrap.kubernetes.io/token",
    ]
      .map((type) => cleanObject(secret(type), core("secrets")))
      .map((cleaned) => cleaned?.type);

    // Assert
    expect(token).toBeUndefined();
    expect(others).toEqual([
      "Opaque",
      "kubernetes.io/tls",
      "kubernetes.io/dockerconfigjson",
      "bootstrap.kubernetes.io/token",
    ]);
  });

  it("applies core rules to list items, which the server sends without kind or apiVersion", () => {
    // Arrange
    const item = {
      metadata: { name: "web" },
      spec: { clusterIP: "10.0.0.7", clusterIPs: ["10.0.0.7"], type: "ClusterIP" },
    };

    // Act
    const cleaned = cleanObject(item, core("services"));

    // Assert
    expect(cleaned).toStrictEqual({ metadata: { name: "web" }, spec: { type: "ClusterIP" } });
  });
});

describe("cleanObject keeps on purpose", () => {
  const pod: KubeObject = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "web-7d4b9c8f6d-x2k9p",
      namespace: "shop",
      labels: { "app.kubernetes.io/name": "web", "pod-template-hash": "7d4b9c8f6d" },
      annotations: {
        "kubectl.kubernetes.io/last-applied-configuration": '{"apiVersion":"v1","kind":"Pod"}\n',
      },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: "web-7d4b9c8f6d",
          uid: "40bb0d8b",
          controller: true,
        },
      ],
      finalizers: ["example.com/drain-connections"],
    },
    spec: { containers: [{ name: "web", image: "nginx:1.27.3" }], "x-vendor": { nested: { flag: true } } },
  };
  const service: KubeObject = {
    metadata: { name: "web" },
    spec: { type: "NodePort", clusterIP: "10.0.0.126", ports: [{ port: 80, nodePort: 30080 }] },
  };

  it.each([
    ["owner references, which restore needs to skip controller-owned objects", "ownerReferences"],
    ["finalizers", "finalizers"],
    ["labels", "labels"],
    ["the last-applied-configuration annotation", "annotations"],
  ])("keeps %s", (_what, key) => {
    // Act
    const cleaned = cleanObject(pod, core("pods"));

    // Assert
    expect(cleaned?.metadata?.[key]).toBeDefined();
    expect(cleaned?.metadata?.[key]).toStrictEqual(pod.metadata?.[key]);
  });

  it("keeps the node ports of a Service", () => {
    // Act
    const cleaned = cleanObject(service, core("services"));

    // Assert
    expect(cleaned?.spec).toStrictEqual({ type: "NodePort", ports: [{ port: 80, nodePort: 30080 }] });
  });

  it("keeps fields it does not know, at any depth", () => {
    // Arrange
    const custom = {
      apiVersion: "example.com/v1alpha1",
      kind: "BackupPolicy",
      metadata: { name: "nightly", "x-extra": { deep: [{ status: "kept", uid: "kept" }] } },
      spec: { status: "user data named status", retention: { maxBytes: 9007199254740991, ratio: 0.125 } },
      extra: null,
    };

    // Act
    const cleaned = cleanObject(custom, { group: "example.com", resource: "backuppolicies" });

    // Assert
    expect(cleaned).toStrictEqual(custom);
  });

  it("keeps timestamps as the strings the server sent", () => {
    // Arrange
    const job = {
      metadata: { name: "nightly", creationTimestamp: "2026-11-24T03:00:00Z" },
      spec: { activeDeadlineSeconds: 600, window: { start: "2026-11-24T03:00:00Z" } },
    };

    // Act
    const cleaned = cleanObject(job, { group: "batch", resource: "jobs" });

    // Assert
    expect(cleaned?.spec).toStrictEqual({
      activeDeadlineSeconds: 600,
      window: { start: "2026-11-24T03:00:00Z" },
    });
  });
});

describe("cleanObject matches by group and resource, never by kind", () => {
  it("keeps spec.clusterIP of a services resource in another group", () => {
    // Arrange
    const custom = { apiVersion: "example.com/v1", kind: "Service", spec: { clusterIP: "10.0.0.42" } };

    // Act
    const cleaned = cleanObject(custom, { group: "example.com", resource: "services" });

    // Assert
    expect(cleaned).toStrictEqual(custom);
  });

  it("stores a token-typed object of a secrets resource in another group", () => {
    // Arrange
    const custom = { kind: "Secret", metadata: { name: "t" }, type: "kubernetes.io/service-account-token" };

    // Act
    const cleaned = cleanObject(custom, { group: "example.com", resource: "secrets" });

    // Assert
    expect(cleaned).toStrictEqual(custom);
  });

  it("keeps both cluster IPs of a headless Service", () => {
    // Arrange
    const headless = {
      kind: "Service",
      spec: { clusterIP: "None", clusterIPs: ["None"], ports: [{ port: 5432 }] },
    };

    // Act
    const cleaned = cleanObject(headless, core("services"));

    // Assert
    expect(cleaned).toStrictEqual(headless);
  });
});

describe("cleanObject is safe to call on anything the server sends", () => {
  it("does not mutate its input", () => {
    for (const name of rawCases) {
      // Arrange
      const { group, resource, object } = readRaw(name);
      const pristine = structuredClone(object);
      deepFreeze(object);

      // Act
      cleanObject(object, { group, resource });

      // Assert
      expect(object, name).toStrictEqual(pristine);
    }
  });

  it("returns a new object, copying only the maps it changes (the rest is shared, never mutated)", () => {
    // Arrange
    const object = {
      kind: "Service",
      metadata: { name: "web", uid: "u-1", labels: { app: "web" } },
      spec: { clusterIP: "10.0.0.1", ports: [{ port: 80 }] },
      status: { loadBalancer: {} },
    };
    const input = structuredClone(object);

    // Act
    const cleaned = cleanObject(object, { group: "", resource: "services" }) as typeof object;

    // Assert
    expect(object).toStrictEqual(input);
    expect(cleaned).toStrictEqual({
      kind: "Service",
      metadata: { name: "web", labels: { app: "web" } },
      spec: { ports: [{ port: 80 }] },
    });
    expect(cleaned).not.toBe(object);
    expect(cleaned.metadata).not.toBe(object.metadata);
    expect(cleaned.spec).not.toBe(object.spec);
    // Untouched subtrees are shared: copying them was the hottest cost of a snapshot.
    expect(cleaned.metadata.labels).toBe(object.metadata.labels);
    expect(cleaned.spec.ports).toBe(object.spec.ports);
  });

  it("keeps the keys in the server's order", () => {
    // Arrange
    const object = {
      spec: {
        type: "NodePort",
        clusterIP: "10.0.0.9",
        zeta: 1,
        alpha: 2,
        ports: [{ port: 80, name: "http" }],
      },
      status: { loadBalancer: {} },
      kind: "Service",
      metadata: {
        uid: "u",
        namespace: "shop",
        name: "web",
        resourceVersion: "1",
        labels: { z: "1", a: "2" },
      },
      apiVersion: "v1",
    };

    // Act
    const cleaned = cleanObject(object, core("services"));

    // Assert
    expect(JSON.stringify(cleaned)).toBe(
      '{"spec":{"type":"NodePort","zeta":1,"alpha":2,"ports":[{"port":80,"name":"http"}]},"kind":"Service",' +
        '"metadata":{"namespace":"shop","name":"web","labels":{"z":"1","a":"2"}},"apiVersion":"v1"}',
    );
  });

  it.each<[shape: string, object: object, expected?: object]>([
    ["metadata is missing", { kind: "Service", spec: "odd" }],
    ["metadata is null", { metadata: null, status: {} }, { metadata: null }],
    ["metadata is an array", { metadata: ["uid"] }],
    ["annotations is null", { metadata: { annotations: null } }],
    ["annotations is a string", { metadata: { annotations: "pv.kubernetes.io/bind-completed" } }],
    ["spec is a string", { spec: "None" }],
    ["spec is null", { spec: null }],
    ["spec is an array", { spec: [{ clusterIP: "10.0.0.1", claimRef: {} }] }],
    ["the object is empty", {}],
  ])("skips what does not apply when %s", (_shape, object, expected) => {
    for (const resource of ["services", "persistentvolumes", "persistentvolumeclaims", "secrets"]) {
      // Act
      const cleaned = cleanObject(object as KubeObject, core(resource));

      // Assert
      expect(cleaned, resource).toStrictEqual(expected ?? object);
    }
  });
});

describe("CLEANING_RULES", () => {
  it("every rule has a reason", () => {
    // Arrange
    const withoutReason = CLEANING_RULES.filter((rule) => !/^[A-Z].{20,}\.$/.test(rule.reason));

    // Assert: one sentence on one line, so a table of rules reads as a list of reasons.
    expect(withoutReason.map((rule) => rule.id)).toEqual([]);
  });

  it("gives every rule a distinct id", () => {
    // Arrange
    const ids = CLEANING_RULES.map((rule) => rule.id);

    // Assert
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("says in the reason of every annotation rule that an emptied map is removed", () => {
    // Arrange
    const annotationRules = CLEANING_RULES.filter((rule) => rule.action.op === "delete-annotations");

    // Assert
    expect(annotationRules.length).toBeGreaterThan(0);
    for (const rule of annotationRules) expect(rule.reason, rule.id).toMatch(/annotations map left empty/);
  });
});
