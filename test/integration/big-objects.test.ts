// Objects of hundreds of KB, as real clusters hold them (Helm release Secrets are gzip + base64 of the
// whole chart: incompressible, 0.5-1 MB): streamed item by item, pages sized by bytes, stored whole.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient } from "../../src/kube/client.js";
import { loadKubeconfig } from "../../src/kube/kubeconfig.js";
import { KubeClusterReader } from "../../src/kube/reader.js";
import { takeSnapshot } from "../../src/snapshot/engine.js";
import type { ClusterReader, Logger } from "../../src/snapshot/ports.js";
import { FsStore } from "../../src/stores/fs.js";
import { runCli } from "../support/cli.js";
import { type OwnedCluster, startCluster } from "../support/testbed.js";

const NS = "big-objects";
const RELEASES = 24;
/** 640 KB of random bytes: ~853 KB of base64, ~1.1 MB as served (the API base64-encodes data again). */
const RAW_BYTES = 640 * 1024;
const quietLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** A cluster of this file's own: the list of every Secret holds only these (page sizes are exact). */
let cluster: OwnedCluster;
let work: string;
const releases = new Map<string, string>();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "kube-autosave-big-"));
  cluster = await startCluster({ controllerManager: false });
  await cluster.api("POST", "/api/v1/namespaces", { metadata: { name: NS } });
  for (let i = 0; i < RELEASES; i++) {
    const release = randomBytes(RAW_BYTES).toString("base64");
    const name = `sh.helm.release.v1.app-${String(i).padStart(2, "0")}.v1`;
    releases.set(name, createHash("sha256").update(release).digest("hex"));
    const res = await cluster.api("POST", `/api/v1/namespaces/${NS}/secrets`, {
      metadata: { name, labels: { owner: "helm", name: `app-${i}` } },
      type: "helm.sh/release.v1",
      data: { release: Buffer.from(release).toString("base64") },
    });
    expect(res.status).toBe(201);
  }
  await cluster.api("POST", "/api/v1/namespaces", { metadata: { name: NS_TEXT } });
  for (let i = 0; i < TEXTS; i++) {
    const res = await cluster.api("POST", `/api/v1/namespaces/${NS_TEXT}/configmaps`, {
      metadata: { name: `text-${i}` },
      data: { text: multiByteText(i) },
    });
    expect(res.status).toBe(201);
  }
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
  await rm(work, { recursive: true, force: true });
});

/** A namespace of ConfigMaps whose text is all multi-byte UTF-8 (2, 3 and 4 bytes a character). */
const NS_TEXT = "big-text";
const TEXTS = 10;
/** ~220 KB per ConfigMap, ~2.2 MB a page: read whole, in dozens of network chunks. */
function multiByteText(i: number): string {
  const alphabet = ["ü", "世", "🚀", "é", "界", "😀", "ß", "—"];
  let text = "";
  for (let j = 0; text.length < 80_000; j++) text += alphabet[(i + j * 7 + (j >> 3)) % alphabet.length];
  return text;
}

describe("objects of hundreds of KB", () => {
  it("are listed in pages sized by bytes (the first page by count, then ~8 MiB) and stored whole", async () => {
    const client = new KubeClient(await loadKubeconfig(cluster.kubeconfig("viewer")));
    const reader = new KubeClusterReader(client);
    const limits: number[] = [];
    const recording: ClusterReader = {
      serverVersion: () => reader.serverVersion(),
      discover: () => reader.discover(),
      listPage: (type, request, sink) => {
        if (type.resource === "secrets") limits.push(request.limit);
        return reader.listPage(type, request, sink);
      },
    };
    const root = await mkdtemp(join(work, "engine-"));

    const result = await takeSnapshot(
      { cluster: recording, store: new FsStore(root), clock: { now: () => new Date() }, logger: quietLogger },
      {
        clusterName: "big",
        filters: {
          includeResources: ["secrets"],
          excludeResources: [],
          includeNamespaces: [NS],
          excludeNamespaces: [],
        },
        pageSize: 10,
        concurrency: 2,
        raw: false,
        toolVersion: "test",
      },
    );
    client.close();

    // 10 per page by count first; then 8 MiB ÷ ~1.14 MB per served Secret = 7 per page.
    expect(limits).toEqual([10, 7, 7]);
    const file = result.manifest.files.find((f) => f.key === `${NS}/secrets.json`);
    expect(file?.items).toBe(RELEASES);
    const stored = JSON.parse(await readFile(join(root, result.snapshot, NS, "secrets.json"), "utf8"));
    const digests = new Map<string, string>(
      stored.items.map((s: any) => [
        s.metadata.name,
        createHash("sha256").update(Buffer.from(s.data.release, "base64")).digest("hex"),
      ]),
    );
    expect(digests).toEqual(releases);
  });

  it("are the bytes kubectl reads, and verify passes", async () => {
    const out = await mkdtemp(join(work, "cli-"));
    const run = await runCli([
      "snapshot",
      "--kubeconfig",
      cluster.kubeconfig("viewer"),
      "--out",
      out,
      "--cluster-name",
      "big",
      "--include-namespaces",
      NS,
      "--include-resources",
      "secrets",
      "--raw",
    ]);
    expect(run.code).toBe(0);
    const snap = join(out, "kube-aws/clusters/big/backup", run.stdout.match(/Snapshot (\S+)/)?.[1] ?? "?");
    const stored = JSON.parse(await readFile(join(snap, NS, "secrets.json"), "utf8"));
    const served = JSON.parse(
      await cluster.kubectl(["get", "secrets", "-n", NS, "-o", "json"], { user: "viewer" }),
    );

    // --raw keeps objects as served; kubectl's items are the same objects (same resourceVersions).
    expect(stored.items.map((s: any) => s.data.release)).toEqual(
      served.items.map((s: any) => s.data.release),
    );
    expect(stored.items.map((s: any) => s.metadata.resourceVersion)).toEqual(
      served.items.map((s: any) => s.metadata.resourceVersion),
    );
    const verified = await runCli(["verify", snap]);
    expect(verified.stdout).toMatch(/^OK /);
    expect(verified.code).toBe(0);
  });

  it("keep multi-byte characters that network chunks cut in two, in pages read whole and streamed", async () => {
    const client = new KubeClient(await loadKubeconfig(cluster.kubeconfig("viewer")));
    for (const bufferedPageBytes of [undefined, 0]) {
      const root = await mkdtemp(join(work, "text-"));
      const result = await takeSnapshot(
        {
          cluster: new KubeClusterReader(
            client,
            bufferedPageBytes === undefined ? {} : { bufferedPageBytes },
          ),
          store: new FsStore(root),
          clock: { now: () => new Date() },
          logger: quietLogger,
        },
        {
          clusterName: "big",
          filters: {
            includeResources: ["configmaps"],
            excludeResources: [],
            includeNamespaces: [NS_TEXT],
            excludeNamespaces: [],
          },
          pageSize: 500,
          concurrency: 1,
          raw: true,
          toolVersion: "test",
        },
      );
      const stored = JSON.parse(
        await readFile(join(root, result.snapshot, NS_TEXT, "configmaps.json"), "utf8"),
      );
      const texts = new Map<string, string>(stored.items.map((c: any) => [c.metadata.name, c.data?.text]));
      // Every ConfigMap of the namespace (no controller manager here: no kube-root-ca.crt), each intact.
      expect([...texts.keys()].sort()).toEqual(Array.from({ length: TEXTS }, (_, i) => `text-${i}`).sort());
      for (let i = 0; i < TEXTS; i++) expect(texts.get(`text-${i}`) === multiByteText(i)).toBe(true);
    }
    client.close();
  });
});
