// Proves the test bed is made of real servers: kube-apiserver on etcd, kube-controller-manager,
// versitygw. If any of them cannot start, global setup fails and so does the whole suite.
import { randomBytes } from "node:crypto";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { sharedCluster, sharedS3 } from "../support/shared.js";
import { startCluster } from "../support/testbed.js";

const cluster = sharedCluster();
const s3 = sharedS3();

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await fn();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("kube-apiserver on etcd", () => {
  it("reports version v1.36.3 and serves TLS verified by the test bed CA", async () => {
    const res = await cluster.api("GET", "/version");
    expect(res.status).toBe(200);
    expect(res.body.gitVersion).toBe("v1.36.3");
  });

  it("serves a CRD and its custom resources", async () => {
    const crd = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "gadgets.smoke.example.com" },
      spec: {
        group: "smoke.example.com",
        names: { plural: "gadgets", singular: "gadget", kind: "Gadget" },
        scope: "Namespaced",
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
          },
        ],
      },
    };
    await cluster.kubectl(["apply", "-f", "-"], { input: JSON.stringify(crd) });
    await cluster.kubectl([
      "wait",
      "--for=condition=Established",
      "crd/gadgets.smoke.example.com",
      "--timeout=60s",
    ]);
    await cluster.kubectl(["create", "namespace", "smoke-crd"]);
    await eventually("the custom resource to be created", async () => {
      const res = await cluster.api("POST", "/apis/smoke.example.com/v1/namespaces/smoke-crd/gadgets", {
        apiVersion: "smoke.example.com/v1",
        kind: "Gadget",
        metadata: { name: "g1" },
        spec: { size: 3, nested: { anything: ["goes"] } },
      });
      return res.status === 201 ? res : undefined;
    });
    const got = await cluster.api("GET", "/apis/smoke.example.com/v1/namespaces/smoke-crd/gadgets/g1");
    expect(got.body.spec).toEqual({ size: 3, nested: { anything: ["goes"] } });
  });

  it("lists with limit and continue across pages", async () => {
    await cluster.kubectl(["create", "namespace", "smoke-pages"]);
    for (let i = 0; i < 12; i++) {
      const res = await cluster.api("POST", "/api/v1/namespaces/smoke-pages/configmaps", {
        metadata: { name: `cm-${String(i).padStart(2, "0")}` },
        data: { i: String(i) },
      });
      expect(res.status).toBe(201);
    }
    const names: string[] = [];
    let pages = 0;
    let token: string | undefined;
    do {
      const query = `limit=5${token ? `&continue=${encodeURIComponent(token)}` : ""}`;
      const res = await cluster.api("GET", `/api/v1/namespaces/smoke-pages/configmaps?${query}`);
      expect(res.status).toBe(200);
      pages += 1;
      names.push(...res.body.items.map((i: { metadata: { name: string } }) => i.metadata.name));
      expect(res.body.items.length).toBeLessThanOrEqual(5);
      token = res.body.metadata.continue || undefined;
    } while (token);
    // kube-controller-manager adds kube-root-ca.crt to every namespace.
    expect(pages).toBe(3);
    expect(names.filter((n) => n.startsWith("cm-"))).toEqual(
      Array.from({ length: 12 }, (_, i) => `cm-${String(i).padStart(2, "0")}`),
    );
  });

  it("expires continue tokens when etcd is compacted (410 Expired)", async () => {
    const first = await cluster.api("GET", "/api/v1/namespaces/smoke-pages/configmaps?limit=5");
    await cluster.api("POST", "/api/v1/namespaces/smoke-pages/configmaps", {
      metadata: { name: "after-first-page" },
    });
    await cluster.compactEtcd();
    const next = await cluster.api(
      "GET",
      `/api/v1/namespaces/smoke-pages/configmaps?limit=5&continue=${encodeURIComponent(first.body.metadata.continue)}`,
    );
    expect(next.status).toBe(410);
    expect(next.body.reason).toBe("Expired");
  });

  it("lets the viewer get and list but not create", async () => {
    const list = await cluster.kubectl(["get", "configmaps", "-n", "smoke-pages", "-o", "name"], {
      user: "viewer",
    });
    expect(list).toContain("configmap/cm-00");
    await expect(
      cluster.kubectl(["create", "configmap", "nope", "-n", "smoke-pages"], { user: "viewer" }),
    ).rejects.toThrow(/forbidden/);
  });
});

describe("kube-controller-manager", () => {
  it("creates the ReplicaSet and Pods of a Deployment, and default service accounts", async () => {
    await cluster.kubectl(["create", "namespace", "smoke-kcm"]);
    await cluster.kubectl([
      "create",
      "deployment",
      "web",
      "--image=nginx:1.27",
      "--replicas=2",
      "-n",
      "smoke-kcm",
    ]);
    const rs = await eventually("the ReplicaSet", async () => {
      const res = await cluster.api("GET", "/apis/apps/v1/namespaces/smoke-kcm/replicasets");
      return res.body.items?.length ? res.body.items[0] : undefined;
    });
    expect(rs.metadata.ownerReferences[0]).toMatchObject({
      kind: "Deployment",
      name: "web",
      controller: true,
    });
    const pods = await eventually("two Pods", async () => {
      const res = await cluster.api("GET", "/api/v1/namespaces/smoke-kcm/pods");
      return res.body.items?.length === 2 ? res.body.items : undefined;
    });
    expect(pods[0].metadata.ownerReferences[0].kind).toBe("ReplicaSet");
    const sa = await eventually("the default service account", async () => {
      const res = await cluster.api("GET", "/api/v1/namespaces/smoke-kcm/serviceaccounts/default");
      return res.status === 200 ? res.body : undefined;
    });
    expect(sa.metadata.name).toBe("default");
    const rootCa = await eventually("kube-root-ca.crt", async () => {
      const res = await cluster.api("GET", "/api/v1/namespaces/smoke-kcm/configmaps/kube-root-ca.crt");
      return res.status === 200 ? res.body : undefined;
    });
    expect(rootCa.data["ca.crt"]).toContain("BEGIN CERTIFICATE");
  });
});

describe("versitygw S3 server", () => {
  it("stores and returns a multipart object larger than 5 MiB and enforces the 5 MiB part minimum", async () => {
    const bucket = await s3.createBucket("smoke");
    const client = s3.client();
    const part1 = randomBytes(5 * 1024 * 1024);
    const part2 = randomBytes(1024 * 1024);
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: "big.bin" }),
    );
    const etags: string[] = [];
    for (const [i, body] of [part1, part2].entries()) {
      const res = await client.send(
        new UploadPartCommand({ Bucket: bucket, Key: "big.bin", UploadId, PartNumber: i + 1, Body: body }),
      );
      etags.push(res.ETag ?? "");
    }
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: "big.bin",
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: "big.bin" }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    expect(bytes.equals(Buffer.concat([part1, part2]))).toBe(true);

    const small = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "small.bin" }));
    const tags: string[] = [];
    for (const n of [1, 2]) {
      const res = await client.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: "small.bin",
          UploadId: small.UploadId,
          PartNumber: n,
          Body: part2,
        }),
      );
      tags.push(res.ETag ?? "");
    }
    await expect(
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: "small.bin",
          UploadId: small.UploadId,
          MultipartUpload: { Parts: tags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      ),
    ).rejects.toMatchObject({ name: "EntityTooSmall" });
    client.destroy();
  });
});

describe("fresh clusters", () => {
  it("starts a cluster of its own on other ports and tears it down", async () => {
    const own = await startCluster({ controllerManager: false });
    try {
      expect(own.server).not.toBe(cluster.server);
      const res = await own.api("GET", "/api/v1/namespaces/smoke-pages");
      expect(res.status).toBe(404);
    } finally {
      await own.stop();
    }
    expect(await own.apiserver.exited).not.toBeUndefined();
    await expect(fetch(own.server.replace("https", "http"))).rejects.toThrow();
  });
});
