// The real test bed: etcd + kube-apiserver (+ kube-controller-manager) and a versitygw S3 server,
// each on free ports of 127.0.0.1, in a temp dir, always torn down. No mocks.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { createCa, createKeyPair, issueCert, type Pki } from "./pki.js";
import { freePort, type Server, startProcess, waitFor } from "./process.js";
import { startTokenWebhook } from "./token-webhook.js";

/**
 * The test bed's only AWS credentials (not real): versitygw accepts them, and the token webhook
 * checks EKS tokens against them, so one credential chain serves S3 and EKS as on Lambda.
 */
export const TESTBED_AWS = {
  accessKeyId: "testbedaccesskey",
  secretAccessKey: "testbedsecretkey0123456789",
  region: "us-east-1",
} as const;
/** The EKS cluster name the token webhook expects in x-k8s-aws-id. */
export const TESTBED_EKS_CLUSTER = "testbed-eks";
/** The username the webhook gives a valid EKS token (what an EKS access entry maps the Lambda role to). */
export const EKS_USERNAME = "eks-snapshot-lambda";

const run = promisify(execFile);

/** Where testbed/build.sh put the binaries (built once per version, reused). */
export function testbedBinDir(): string {
  const dir = process.env.KUBE_AUTOSAVE_TESTBED_BIN;
  if (!dir) throw new Error("testbed: KUBE_AUTOSAVE_TESTBED_BIN is not set; run the tests with `npm test`");
  return dir;
}

export type TestUser = "admin" | "viewer" | "restricted" | "cert-admin";

/** Static bearer tokens of the test bed's users (test-only secrets, never real). */
const TOKENS: Record<Exclude<TestUser, "cert-admin">, { token: string; groups: string }> = {
  admin: { token: "testbed-admin-token-0123456789", groups: "system:masters" },
  viewer: { token: "testbed-viewer-token-0123456789", groups: "" },
  restricted: { token: "testbed-restricted-token-0123456789", groups: "" },
};

export interface ClusterOptions {
  /** Also run kube-controller-manager (owned objects: ReplicaSets, Pods, EndpointSlices, SAs). Default true. */
  readonly controllerManager?: boolean;
  /** Extra kube-apiserver flags (e.g. the token webhook). */
  readonly apiserverArgs?: readonly string[];
  /** The EKS cluster name its token webhook accepts tokens for (x-k8s-aws-id). Default TESTBED_EKS_CLUSTER. */
  readonly eksClusterName?: string;
}

/** What identifies a running cluster; plain data, so the shared cluster can be handed to test workers. */
export interface ClusterInfo {
  readonly server: string;
  readonly caPem: string;
  readonly caFile: string;
  readonly dir: string;
  readonly etcdUrl: string;
  readonly tokens: Readonly<Record<Exclude<TestUser, "cert-admin">, string>>;
  readonly kubeconfigs: Readonly<Record<TestUser, string>>;
}

export interface Cluster extends ClusterInfo {
  /** A kubeconfig file for the user (TLS verified against the test bed CA), context "testbed". */
  kubeconfig(user: TestUser): string;
  /** Raw JSON request as admin. Returns status and parsed body. */
  api(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<{ status: number; body: any }>;
  /** Runs the test bed's kubectl as admin (or `user`) and returns stdout. */
  kubectl(args: string[], options?: { input?: string; user?: TestUser }): Promise<string>;
  /** Compacts etcd at its current revision: every outstanding list `continue` token expires (410). */
  compactEtcd(): Promise<void>;
}

export interface OwnedCluster extends Cluster {
  readonly pki: Pki;
  readonly apiserver: Server;
  /** Stops every process and removes the temp dir. */
  stop(): Promise<void>;
}

async function etcdPost(etcdUrl: string, path: string, body: unknown): Promise<any> {
  const res = await fetch(`${etcdUrl}${path}`, { method: "POST", body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

function adminApi(server: string, caPem: string): Cluster["api"] {
  const agent = new Agent({ ca: caPem, keepAlive: true });
  return (method, path, body, contentType = "application/json") =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
      const req = request(
        `${server}${path}`,
        {
          method,
          agent,
          headers: {
            authorization: `Bearer ${TOKENS.admin.token}`,
            accept: "application/json",
            ...(payload ? { "content-type": contentType } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON (e.g. /readyz "ok")
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
}

/** Helpers bound to a running cluster (the shared one, or one a test started). */
export function connectCluster(info: ClusterInfo): Cluster {
  const api = adminApi(info.server, info.caPem);
  const kubectl: Cluster["kubectl"] = async (args, opts = {}) => {
    const child = execFile(
      join(testbedBinDir(), "kubectl"),
      [`--kubeconfig=${info.kubeconfigs[opts.user ?? "admin"]}`, ...args],
      {
        maxBuffer: 256 * 1024 * 1024,
      },
    );
    child.stdin?.end(opts.input ?? "");
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => {
      stdout += d;
    });
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((r) => child.on("close", r));
    if (code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${code}): ${stderr.trim()}`);
    return stdout;
  };
  return {
    ...info,
    kubeconfig: (user) => info.kubeconfigs[user],
    api,
    kubectl,
    compactEtcd: async () => {
      const range = await etcdPost(info.etcdUrl, "/v3/kv/range", {
        key: Buffer.from("/").toString("base64"),
      });
      await etcdPost(info.etcdUrl, "/v3/kv/compaction", { revision: range.header.revision, physical: true });
    },
  };
}

/** How to bring back the kube-apiserver of each cluster startCluster() made (same port, flags, etcd). */
const restarts = new WeakMap<OwnedCluster, () => Promise<void>>();

/**
 * Starts the cluster's kube-apiserver again (killing it first if it still runs), on the same port, with
 * the same flags and etcd data, and waits until it is ready: a crashed control plane coming back.
 */
export async function restartApiserver(cluster: OwnedCluster): Promise<void> {
  const restart = restarts.get(cluster);
  if (!restart) throw new Error("testbed: restartApiserver() takes a cluster made by startCluster()");
  await restart();
}

/** Starts a fresh cluster: etcd, kube-apiserver with RBAC and the test users, kube-controller-manager. */
export async function startCluster(options: ClusterOptions = {}): Promise<OwnedCluster> {
  const bin = testbedBinDir();
  const dir = await mkdtemp(join(tmpdir(), "kube-autosave-cluster-"));
  const servers: Server[] = [];
  const closers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of servers.reverse()) await s.stop();
    for (const close of closers) await close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const pkiDir = join(dir, "pki");
    await mkdir(pkiDir);
    const pki = await createCa(pkiDir);
    const serving = await issueCert(pki, "apiserver", "/CN=kube-apiserver", {
      serverNames: ["127.0.0.1", "localhost", "kubernetes", "kubernetes.default"],
    });
    const certAdmin = await issueCert(pki, "cert-admin", "/O=system:masters/CN=cert-admin", { client: true });
    const sa = await createKeyPair(pkiDir, "sa");
    // EKS-style bearer tokens are checked by a TokenReview webhook, as aws-iam-authenticator does on EKS.
    const webhookCert = await issueCert(pki, "token-webhook", "/CN=token-webhook", {
      serverNames: ["127.0.0.1"],
    });
    const webhook = await startTokenWebhook({
      clusterName: options.eksClusterName ?? TESTBED_EKS_CLUSTER,
      credentials: TESTBED_AWS,
      tls: { cert: webhookCert.certPem, key: webhookCert.keyPem },
      username: EKS_USERNAME,
    });
    closers.push(() => webhook.close());
    const webhookConfig = join(dir, "token-webhook.kubeconfig");
    await webhook.writeKubeconfig(webhookConfig, pki.caPem);

    const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const etcd = startProcess(
      "etcd",
      join(bin, "etcd"),
      [
        "--name=testbed",
        `--data-dir=${join(dir, "etcd")}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-cluster=testbed=http://127.0.0.1:${etcdPeer}`,
        "--unsafe-no-fsync",
        "--log-level=warn",
      ],
      join(dir, "etcd.log"),
    );
    servers.push(etcd);
    await waitFor("etcd health", etcd, async () => (await fetch(`${etcdUrl}/health`)).ok);

    const tokenFile = join(dir, "tokens.csv");
    await writeFile(
      tokenFile,
      Object.entries(TOKENS)
        .map(([user, t]) => `${t.token},${user},${user}-uid,"${t.groups}"`)
        .join("\n"),
    );
    const server = `https://127.0.0.1:${apiPort}`;
    const startApiserver = (log: string) =>
      startProcess(
        "kube-apiserver",
        join(bin, "kube-apiserver"),
        [
          `--etcd-servers=${etcdUrl}`,
          "--bind-address=127.0.0.1",
          "--advertise-address=127.0.0.1",
          `--secure-port=${apiPort}`,
          "--endpoint-reconciler-type=none",
          `--cert-dir=${pkiDir}`,
          `--tls-cert-file=${serving.cert}`,
          `--tls-private-key-file=${serving.key}`,
          "--service-cluster-ip-range=10.0.0.0/24",
          `--service-account-issuer=${server}`,
          `--service-account-key-file=${sa.pub}`,
          `--service-account-signing-key-file=${sa.key}`,
          "--authorization-mode=RBAC",
          `--token-auth-file=${tokenFile}`,
          `--client-ca-file=${pki.caCert}`,
          // With this 1.34+ beta gate, continued lists are served from watch-cache snapshots and an etcd
          // compaction no longer expires continue tokens at once. Off, pages come from etcd as on older
          // clusters, so a test can produce a real 410 Expired by compacting etcd between two pages.
          "--feature-gates=ListFromCacheSnapshot=false",
          `--authentication-token-webhook-config-file=${webhookConfig}`,
          "--authentication-token-webhook-version=v1",
          "--authentication-token-webhook-cache-ttl=0s",
          ...(options.controllerManager === false ? ["--disable-admission-plugins=ServiceAccount"] : []),
          ...(options.apiserverArgs ?? []),
        ],
        join(dir, log),
      );
    let apiserver = startApiserver("kube-apiserver.log");
    servers.push(apiserver);
    const api = adminApi(server, pki.caPem);
    const apiserverReady = () =>
      waitFor("kube-apiserver /readyz", apiserver, async () => (await api("GET", "/readyz")).status === 200);
    await apiserverReady();

    const kubeconfigs = new Map<TestUser, string>();
    for (const user of ["admin", "viewer", "restricted", "cert-admin"] as const) {
      const path = join(dir, `${user}.kubeconfig`);
      const userEntry =
        user === "cert-admin"
          ? { "client-certificate": certAdmin.cert, "client-key": certAdmin.key }
          : { token: TOKENS[user].token };
      await writeFile(
        path,
        JSON.stringify({
          apiVersion: "v1",
          kind: "Config",
          clusters: [{ name: "testbed", cluster: { server, "certificate-authority": pki.caCert } }],
          users: [{ name: user, user: userEntry }],
          contexts: [{ name: "testbed", context: { cluster: "testbed", user } }],
          "current-context": "testbed",
        }),
        { mode: 0o600 },
      );
      kubeconfigs.set(user, path);
    }

    // The viewer may get/list everything (what the EKS view policy grants); "restricted" starts with nothing.
    await api("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "testbed-viewer" },
      rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["get", "list"] }],
    });
    await api("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "testbed-viewer" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "testbed-viewer" },
      // The EKS user gets what AmazonEKSAdminViewPolicy grants: get/list on everything.
      subjects: [
        { kind: "User", name: "viewer", apiGroup: "rbac.authorization.k8s.io" },
        { kind: "User", name: EKS_USERNAME, apiGroup: "rbac.authorization.k8s.io" },
      ],
    });

    if (options.controllerManager !== false) {
      const kcm = startProcess(
        "kube-controller-manager",
        join(bin, "kube-controller-manager"),
        [
          `--kubeconfig=${kubeconfigs.get("cert-admin")}`,
          "--leader-elect=false",
          "--bind-address=127.0.0.1",
          `--secure-port=${await freePort()}`,
          `--cert-dir=${join(dir, "kcm")}`,
          `--service-account-private-key-file=${sa.key}`,
          `--root-ca-file=${pki.caCert}`,
          "--use-service-account-credentials=false",
          "--controllers=*",
        ],
        join(dir, "kube-controller-manager.log"),
      );
      servers.push(kcm);
      // The default service account appears once the controllers run.
      await waitFor(
        "kube-controller-manager (default service account)",
        kcm,
        async () => (await api("GET", "/api/v1/namespaces/default/serviceaccounts/default")).status === 200,
      );
    }

    const info: ClusterInfo = {
      server,
      caPem: pki.caPem,
      caFile: pki.caCert,
      dir,
      etcdUrl,
      tokens: { admin: TOKENS.admin.token, viewer: TOKENS.viewer.token, restricted: TOKENS.restricted.token },
      kubeconfigs: Object.fromEntries(kubeconfigs) as Record<TestUser, string>,
    };
    const owned: OwnedCluster = {
      ...connectCluster(info),
      pki,
      get apiserver() {
        return apiserver;
      },
      stop,
    };
    let restarted = 0;
    restarts.set(owned, async () => {
      await apiserver.kill();
      restarted += 1;
      apiserver = startApiserver(`kube-apiserver-restart-${restarted}.log`);
      servers.push(apiserver);
      await apiserverReady();
    });
    return owned;
  } catch (err) {
    await stop();
    throw err;
  }
}

/** What identifies a running S3 server; plain data, so the shared one can be handed to test workers. */
export interface S3Info {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly dataDir: string;
}

export interface S3Server extends S3Info {
  /** An S3 client for the server (path-style). */
  client(): S3Client;
  /**
   * Creates a new, empty bucket with a unique name and returns the name. `objectLock` creates it with
   * S3 Object Lock enabled (a server started with `startS3({ versioning: true })` only).
   */
  createBucket(prefix?: string, options?: { objectLock?: boolean }): Promise<string>;
}

export interface OwnedS3Server extends S3Server {
  readonly process: Server;
  stop(): Promise<void>;
}

let bucketCounter = 0;

/** Helpers bound to a running S3 server. */
export function connectS3(info: S3Info): S3Server {
  const client = () =>
    new S3Client({
      endpoint: info.endpoint,
      region: info.region,
      forcePathStyle: true,
      credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
    });
  return {
    ...info,
    client,
    createBucket: async (prefix = "test", options = {}) => {
      bucketCounter += 1;
      const name = `${prefix}-${process.pid}-${bucketCounter}-${Date.now().toString(36)}`.toLowerCase();
      const c = client();
      try {
        await c.send(
          new CreateBucketCommand({
            Bucket: name,
            ...(options.objectLock ? { ObjectLockEnabledForBucket: true } : {}),
          }),
        );
      } finally {
        c.destroy();
      }
      return name;
    },
  };
}

export interface S3Options {
  /**
   * Start versitygw with a versioning folder (`--versioning-dir`): buckets can then be versioned and
   * have S3 Object Lock (retention, delete markers, protected versions). Default false.
   */
  readonly versioning?: boolean;
}

/** Starts versitygw (posix backend, sidecar metadata) on a free port. */
export async function startS3(options: S3Options = {}): Promise<OwnedS3Server> {
  const bin = testbedBinDir();
  const dir = await mkdtemp(join(tmpdir(), "kube-autosave-s3-"));
  await mkdir(join(dir, "data"));
  await mkdir(join(dir, "sidecar"));
  if (options.versioning) await mkdir(join(dir, "versions"));
  const port = await freePort();
  const info: S3Info = {
    endpoint: `http://127.0.0.1:${port}`,
    region: TESTBED_AWS.region,
    accessKeyId: TESTBED_AWS.accessKeyId,
    secretAccessKey: TESTBED_AWS.secretAccessKey,
    dataDir: join(dir, "data"),
  };
  const gw = startProcess(
    "versitygw",
    join(bin, "versitygw"),
    [
      "--access",
      info.accessKeyId,
      "--secret",
      info.secretAccessKey,
      "--region",
      info.region,
      "--port",
      `127.0.0.1:${port}`,
      // S3 keeps connections alive; versitygw closes each one after its response unless told otherwise,
      // which would cost every request a new TCP connection that real S3 does not.
      "--keep-alive",
      "posix",
      "--sidecar",
      join(dir, "sidecar"),
      ...(options.versioning ? ["--versioning-dir", join(dir, "versions")] : []),
      info.dataDir,
    ],
    join(dir, "versitygw.log"),
  );
  try {
    await waitFor("versitygw", gw, async () => (await fetch(info.endpoint)).status > 0);
  } catch (err) {
    await gw.stop();
    throw err;
  }
  return {
    ...connectS3(info),
    process: gw,
    stop: async () => {
      await gw.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a command and returns stdout (for tools such as kubectl outside a cluster context). */
export async function runTool(command: string, args: string[]): Promise<string> {
  return (await run(command, args, { maxBuffer: 64 * 1024 * 1024 })).stdout;
}
