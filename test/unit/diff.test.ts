import { describe, expect, it } from "vitest";
import { diffObjects, formatPath } from "../../src/snapshot/diff.js";

const paths = (changes: ReturnType<typeof diffObjects>) => changes.map((c) => `${c.op} ${c.path}`);

describe("diffObjects", () => {
  it("reports nothing for equal objects, whatever their key order", () => {
    expect(diffObjects({ a: 1, b: { c: [1, { d: null }] } }, { b: { c: [1, { d: null }] }, a: 1 })).toEqual(
      [],
    );
  });

  it("reports a changed scalar with its path, old and new value", () => {
    const a = { spec: { replicas: 1 } };
    const b = { spec: { replicas: 3 } };
    expect(diffObjects(a, b)).toEqual([
      { op: "changed", path: "spec.replicas", segments: ["spec", "replicas"], from: 1, to: 3 },
    ]);
  });

  it("reports added and removed keys of nested maps with their values", () => {
    const a = { metadata: { labels: { app: "web", tier: "frontend" } } };
    const b = { metadata: { labels: { app: "api", env: "prod" } } };
    expect(diffObjects(a, b)).toEqual([
      {
        op: "changed",
        path: "metadata.labels.app",
        segments: ["metadata", "labels", "app"],
        from: "web",
        to: "api",
      },
      {
        op: "removed",
        path: "metadata.labels.tier",
        segments: ["metadata", "labels", "tier"],
        from: "frontend",
      },
      { op: "added", path: "metadata.labels.env", segments: ["metadata", "labels", "env"], to: "prod" },
    ]);
  });

  it("reports a whole added or removed map at the path where it appears", () => {
    expect(diffObjects({ spec: {} }, { spec: { strategy: { type: "Recreate" } } })).toEqual([
      { op: "added", path: "spec.strategy", segments: ["spec", "strategy"], to: { type: "Recreate" } },
    ]);
  });

  it("compares arrays by index: changed elements by their index, extra ones as added or removed", () => {
    const container = (image: string) => ({ name: "web", image });
    const a = { spec: { containers: [container("nginx:1.27")], args: ["a", "b", "c"] } };
    const b = { spec: { containers: [container("nginx:1.28"), container("sidecar:1")], args: ["a"] } };
    expect(diffObjects(a, b)).toEqual([
      {
        op: "changed",
        path: "spec.containers[0].image",
        segments: ["spec", "containers", 0, "image"],
        from: "nginx:1.27",
        to: "nginx:1.28",
      },
      {
        op: "added",
        path: "spec.containers[1]",
        segments: ["spec", "containers", 1],
        to: { name: "web", image: "sidecar:1" },
      },
      { op: "removed", path: "spec.args[1]", segments: ["spec", "args", 1], from: "b" },
      { op: "removed", path: "spec.args[2]", segments: ["spec", "args", 2], from: "c" },
    ]);
  });

  it("reports a change of type (map to string, array to map, value to null) as one changed path", () => {
    expect(diffObjects({ a: { b: 1 }, c: [1], d: 0 }, { a: "x", c: { 0: 1 }, d: null })).toEqual([
      { op: "changed", path: "a", segments: ["a"], from: { b: 1 }, to: "x" },
      { op: "changed", path: "c", segments: ["c"], from: [1], to: { 0: 1 } },
      { op: "changed", path: "d", segments: ["d"], from: 0, to: null },
    ]);
  });

  it("tells a key set to null apart from a missing key", () => {
    expect(paths(diffObjects({ a: null }, {}))).toEqual(["removed a"]);
    expect(paths(diffObjects({}, { a: null }))).toEqual(["added a"]);
  });

  it("quotes keys that are not identifiers, so paths with dots and slashes stay unambiguous", () => {
    const a = {
      metadata: { annotations: { "app.kubernetes.io/name": "web" } },
      data: { "config.yaml": "x" },
    };
    const b = {
      metadata: { annotations: { "app.kubernetes.io/name": "api" } },
      data: { "config.yaml": "y" },
    };
    expect(paths(diffObjects(a, b))).toEqual([
      'changed metadata.annotations["app.kubernetes.io/name"]',
      'changed data["config.yaml"]',
    ]);
  });
});

describe("diffObjects with redactValues (Secrets)", () => {
  const oldSecret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: "db",
      annotations: {
        "kubectl.kubernetes.io/last-applied-configuration": '{"stringData":{"password":"old"}}',
      },
    },
    data: { password: "b2xkLXZhbHVl", user: "YWRtaW4=", gone: "Z29uZQ==" },
    type: "Opaque",
  };
  const newSecret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: "db",
      annotations: {
        "kubectl.kubernetes.io/last-applied-configuration": '{"stringData":{"password":"new"}}',
      },
    },
    data: { password: "bmV3LXZhbHVl", user: "YWRtaW4=", token: "dG9rZW4=" },
    extra: { nested: { list: ["s3cr3t"] } },
    type: "kubernetes.io/basic-auth",
  };

  it("reports the changed, added and removed paths, down to the leaves of added maps and lists", () => {
    expect(paths(diffObjects(oldSecret, newSecret, { redactValues: true }))).toEqual([
      'changed metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]',
      "changed data.password",
      "removed data.gone",
      "added data.token",
      "changed type",
      "added extra.nested.list[0]",
    ]);
  });

  it("never returns a value, not even one of an unchanged neighbour", () => {
    const changes = diffObjects(oldSecret, newSecret, { redactValues: true });
    for (const c of changes) {
      expect(c).not.toHaveProperty("from");
      expect(c).not.toHaveProperty("to");
    }
    const text = JSON.stringify(changes);
    for (const secret of ["b2xkLXZhbHVl", "bmV3LXZhbHVl", "Z29uZQ==", "dG9rZW4=", "s3cr3t", '"old"', '"new"'])
      expect(text).not.toContain(secret);
  });

  it("reports a removed empty map as its own path", () => {
    expect(paths(diffObjects({ data: {} }, {}, { redactValues: true }))).toEqual(["removed data"]);
  });
});

describe("formatPath", () => {
  it("writes identifiers with dots, indexes in brackets and other keys quoted", () => {
    expect(formatPath(["spec", "template", "spec", "containers", 0, "env", 2, "value"])).toBe(
      "spec.template.spec.containers[0].env[2].value",
    );
    expect(formatPath(["data", "tls.crt"])).toBe('data["tls.crt"]');
    expect(formatPath(["metadata", "labels", 'we"ird'])).toBe('metadata.labels["we\\"ird"]');
    expect(formatPath([])).toBe("");
  });
});
