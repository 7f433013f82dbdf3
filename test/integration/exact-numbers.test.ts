// The digits a server sent are the digits stored, verified, compared and sent back: a CRD with int64
// fields (typed, and under x-kubernetes-preserve-unknown-fields) on a real kube-apiserver, snapshotted
// (cleaned and --raw), verified, diffed, and restored into a second control plane.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { crdWithSpec, eventually, INT64 } from "../support/fixtures.js";
import { sharedCluster } from "../support/shared.js";
import { onlySnapshot } from "../support/snapshot-files.js";
import { type Cluster, type OwnedCluster, startCluster } from "../support/testbed.js";

const NS = "exact-numbers";
const CRD = crdWithSpec(
  "exact.example.com",
  { plural: "counters", singular: "counter", kind: "Counter" },
  {
    max: INT64,
    min: INT64,
    past53: INT64,
    ratio: { type: "number" },
    free: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
  },
);
/** Written as text: JSON.stringify of a JavaScript object could not even express these numbers. */
const counter = (name: string, max: string) =>
  `{"apiVersion":"exact.example.com/v1","kind":"Counter","metadata":{"name":"${name}","namespace":"${NS}"},` +
  `"spec":{"max":${max},"min":-9223372036854775808,"past53":9007199254740993,"ratio":0.1,` +
  `"free":{"big":9223372036854775806,"list":[9007199254740995,-9007199254740997,1e21],"tiny":1e-7}}}`;
const DIGITS = [
  '"max": 9223372036854775807',
  '"min": -9223372036854775808',
  '"past53": 9007199254740993',
  '"ratio": 0.1',
  '"big": 9223372036854775806',
  "9007199254740995,",
  "-9007199254740997,",
];

let a: Cluster;
let b: OwnedCluster;
let work: string;

/** kubectl's JSON of the counter (Go prints the numbers exactly), compacted to `"key": value` lines. */
async function served(cluster: Cluster, name: string): Promise<string> {
  return cluster.kubectl(["get", "counters.exact.example.com", name, "-n", NS, "-o", "json"]);
}

async function snapshot(extra: string[] = []): Promise<string> {
  const out = await mkdtemp(join(work, "snap-"));
  const res = await runCli([
    "snapshot",
    "--kubeconfig",
    a.kubeconfig("viewer"),
    "--out",
    out,
    "--cluster-name",
    "exact",
    "--include-namespaces",
    NS,
    "--include-resources",
    "counters.exact.example.com,customresourcedefinitions.apiextensions.k8s.io,namespaces",
    ...extra,
  ]);
  expect(res.stderr).toBe("");
  expect(res.code).toBe(0);
  return onlySnapshot(join(out, "kube-aws/clusters/exact/backup"));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "kube-autosave-exact-"));
  a = sharedCluster();
  [b] = await Promise.all([
    startCluster(),
    (async () => {
      await a.api("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CRD);
      await eventually("the CRD is established", async () => {
        const r = await a.api(
          "GET",
          "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/counters.exact.example.com",
        );
        return (
          r.body?.status?.conditions?.some((c: any) => c.type === "Established" && c.status === "True") ||
          undefined
        );
      });
      await a.api("POST", "/api/v1/namespaces", { metadata: { name: NS } });
      const created = await a.api(
        "POST",
        `/apis/exact.example.com/v1/namespaces/${NS}/counters`,
        counter("c1", "9223372036854775807"),
      );
      expect(created.status).toBe(201);
    })(),
  ]);
}, 300_000);

afterAll(async () => {
  await b?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("int64 and other numbers JavaScript cannot hold", () => {
  it("are served by kube-apiserver with their digits (the premise)", async () => {
    const text = await served(a, "c1");
    for (const d of DIGITS) expect(text).toContain(d);
  });

  it("are stored with the server's digits, cleaned and --raw, and verify passes", async () => {
    for (const extra of [[], ["--raw"]]) {
      const snap = await snapshot(extra);
      const file = await readFile(join(snap, NS, "counters.exact.example.com.json"), "utf8");

      for (const d of DIGITS) expect(file).toContain(d);
      expect(file).not.toContain("9223372036854776000");
      const verified = await runCli(["verify", snap]);
      expect(verified.stdout).toMatch(/^OK /);
      expect(verified.code).toBe(0);
    }
  });

  it("show in diff as the exact old and new digits when only the last digit changed", async () => {
    const before = await snapshot();
    await a.api(
      "PUT",
      `/apis/exact.example.com/v1/namespaces/${NS}/counters/c1`,
      counterWithVersion(
        await a.kubectl([
          "get",
          "counters.exact.example.com",
          "c1",
          "-n",
          NS,
          "-o",
          "jsonpath={.metadata.resourceVersion}",
        ]),
        "9223372036854775806",
      ),
    );
    const after = await snapshot();

    const diff = await runCli(["diff", before, after]);

    expect(diff.code).toBe(3);
    expect(diff.stdout).toContain("~ spec.max: 9223372036854775807 → 9223372036854775806");
  });

  it("are restored into a second control plane with the same digits", async () => {
    const snap = await snapshot();

    const restored = await runCli(["restore", snap, "--kubeconfig", b.kubeconfig("admin")]);

    expect(restored.stderr).toBe("");
    expect(restored.stdout).not.toMatch(/^failed/m);
    expect(restored.code).toBe(0);
    const text = await served(b, "c1");
    for (const d of DIGITS.slice(1)) expect(text).toContain(d);
    expect(text).toContain('"max": 9223372036854775806');
  });
});

/** The counter's text with a resourceVersion (for an update) and another max. */
function counterWithVersion(resourceVersion: string, max: string): string {
  return counter("c1", max).replace(
    `"namespace":"${NS}"}`,
    `"namespace":"${NS}","resourceVersion":"${resourceVersion}"}`,
  );
}
