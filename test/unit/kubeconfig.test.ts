// The kubeconfig reader: pure logic on temporary files, no servers. Every error names the file and the
// field, and never contains a token or key material.
import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultKubeconfigPaths, KubeconfigError, loadKubeconfig } from "../../src/kube/kubeconfig.js";

const run = promisify(execFile);
const REPO = fileURLToPath(new URL("../..", import.meta.url));

// Fake PEM: the reader checks the framing only; TLS itself is exercised by the integration suites.
const CA_PEM = "-----BEGIN CERTIFICATE-----\nQ0EtY2VydA==\n-----END CERTIFICATE-----\n";
const CERT_PEM = "-----BEGIN CERTIFICATE-----\nY2xpZW50LWNlcnQ=\n-----END CERTIFICATE-----\n";
const KEY_SECRET = "S0VZLW1hdGVyaWFsLXRvcC1zZWNyZXQ=";
const KEY_PEM = `-----BEGIN PRIVATE KEY-----\n${KEY_SECRET}\n-----END PRIVATE KEY-----\n`;
const TOKEN = "tok-3f9a7c1e-very-secret";
const b64 = (s: string) => Buffer.from(s).toString("base64");

let work: string;
let n = 0;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "kube-autosave-kubeconfig-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A fresh directory holding the kubeconfig and whatever files it refers to. */
async function dir(): Promise<string> {
  n += 1;
  const d = join(work, `case-${n}`);
  await mkdir(d, { recursive: true });
  return d;
}

interface Parts {
  cluster?: Record<string, unknown>;
  user?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

/** A one-context kubeconfig (context "ctx", cluster "c1", user "u1") with overrides. */
function config(parts: Parts = {}): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Config",
    "current-context": "ctx",
    clusters: [
      {
        name: "c1",
        cluster: {
          server: "https://kube.example:6443",
          "certificate-authority-data": b64(CA_PEM),
          ...parts.cluster,
        },
      },
    ],
    contexts: [{ name: "ctx", context: { cluster: "c1", user: "u1" } }],
    users: [{ name: "u1", user: parts.user ?? { token: TOKEN } }],
    ...parts.extra,
  };
}

/** Writes `content` (an object is written as JSON) as `<d>/config`; returns its path. */
async function write(d: string, content: unknown, name = "config"): Promise<string> {
  const path = join(d, name);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return path;
}

/** Loads a kubeconfig built from `parts` in a fresh directory. */
async function load(parts: Parts = {}, context?: string) {
  const d = await dir();
  const path = await write(d, config(parts));
  return { d, path, conn: await loadKubeconfig(path, context) };
}

/** The KubeconfigError that loading `content` throws; fails the test if none (or another error). */
async function failure(
  content: unknown,
  context?: string,
  d?: string,
): Promise<{ path: string; message: string }> {
  const where = d ?? (await dir());
  const path = await write(where, content);
  const err = await loadKubeconfig(path, context).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KubeconfigError);
  const message = (err as Error).message;
  for (const secret of [TOKEN, KEY_SECRET, b64(KEY_PEM)]) expect(message).not.toContain(secret);
  return { path, message };
}

describe("defaultKubeconfigPaths", () => {
  it("takes every non-empty entry of $KUBECONFIG once, in order, else ~/.kube/config", () => {
    expect(defaultKubeconfigPaths({ KUBECONFIG: ":/a/b:/c:/a/b", HOME: "/h" })).toEqual(["/a/b", "/c"]);
    expect(defaultKubeconfigPaths({ HOME: "/h" })).toEqual(["/h/.kube/config"]);
  });
});

describe("loadKubeconfig: several KUBECONFIG files, merged as kubectl merges them", () => {
  it("takes the first current-context, the first definition of each name, and paths relative to each file", async () => {
    const a = await dir();
    const b = await dir();
    await writeFile(join(b, "ca.crt"), CA_PEM);
    const first = await write(a, {
      "current-context": "prod",
      contexts: [{ name: "prod", context: { cluster: "prod", user: "admin" } }],
      users: [{ name: "admin", user: { token: TOKEN } }],
    });
    const second = await write(b, {
      "current-context": "ignored",
      clusters: [
        { name: "prod", cluster: { server: "https://prod.example:6443", "certificate-authority": "ca.crt" } },
      ],
      contexts: [{ name: "prod", context: { cluster: "other", user: "nobody" } }],
      users: [{ name: "admin", user: { token: "second-file-token" } }],
    });

    const conn = await loadKubeconfig([join(a, "missing.yaml"), first, second]);

    expect(conn.name).toBe("prod");
    expect(conn.server).toBe("https://prod.example:6443");
    expect(conn.ca?.toString()).toBe(CA_PEM);
    expect(await conn.authHeaders()).toEqual({ authorization: `Bearer ${TOKEN}` });
  });

  it("names every file when none of them exists", async () => {
    const d = await dir();
    const err = await loadKubeconfig([join(d, "x"), join(d, "y")]).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(KubeconfigError);
    expect((err as Error).message).toBe(
      `none of the KUBECONFIG files exists (${join(d, "x")}:${join(d, "y")})`,
    );
  });

  it("names the file an error is in", async () => {
    const a = await dir();
    const b = await dir();
    const first = await write(a, {
      "current-context": "ctx",
      contexts: [{ name: "ctx", context: { cluster: "c", user: "u" } }],
    });
    const second = await write(b, {
      clusters: [{ name: "c", cluster: { server: "http://plain.example" } }],
      users: [{ name: "u", user: { token: TOKEN } }],
    });

    const err = await loadKubeconfig([first, second]).catch((e: unknown) => e);

    expect((err as Error).message).toBe(
      `kubeconfig ${second}: cluster "c" server must be https:// (got http:)`,
    );
  });
});

describe("loadKubeconfig: the file", () => {
  it("names a missing file", async () => {
    const path = join(work, "nope.kubeconfig");
    await expect(loadKubeconfig(path)).rejects.toThrow(
      new KubeconfigError(`kubeconfig ${path} does not exist`),
    );
  });

  it("names a file that cannot be read", async () => {
    const d = await dir();
    await expect(loadKubeconfig(d)).rejects.toThrow(
      `kubeconfig ${d} cannot be read: EISDIR: illegal operation on a directory, read`,
    );
  });

  it("reports a YAML syntax error by reason and position only, never quoting the file", async () => {
    const { path, message } = await failure(
      `apiVersion: v1\nusers:\n- name: u1\n  user:\n    token: ${TOKEN}\n   bad: [\n`,
    );
    expect(message).toMatch(
      new RegExp(`^kubeconfig ${path} cannot be read: .+ \\(line \\d+, column \\d+\\)$`),
    );
  });

  it("reports broken JSON without quoting it", async () => {
    const { path, message } = await failure(`{"users": [{"name": "u1", "user": {"token": "${TOKEN}"}]`);
    expect(message).toMatch(
      new RegExp(`^kubeconfig ${path} cannot be read: .+ \\(line \\d+, column \\d+\\)$`),
    );
  });

  it("reads YAML and JSON alike", async () => {
    const d = await dir();
    const yaml = await write(
      d,
      [
        "apiVersion: v1",
        "kind: Config",
        "current-context: ctx",
        "clusters:",
        "- name: c1",
        "  cluster:",
        "    server: https://kube.example:6443/",
        `    certificate-authority-data: ${b64(CA_PEM)}`,
        "    tls-server-name: api.internal",
        "contexts:",
        "- name: ctx",
        "  context: {cluster: c1, user: u1, namespace: default}",
        "users:",
        "- name: u1",
        "  user:",
        `    token: ${TOKEN}`,
        "",
      ].join("\n"),
      "config.yaml",
    );
    const json = await write(
      d,
      config({ cluster: { server: "https://kube.example:6443/", "tls-server-name": "api.internal" } }),
      "config.json",
    );
    for (const path of [yaml, json]) {
      const conn = await loadKubeconfig(path);
      expect(conn).toMatchObject({
        name: "ctx",
        server: "https://kube.example:6443",
        ca: Buffer.from(CA_PEM),
        servername: "api.internal",
      });
      expect(conn.cert).toBeUndefined();
      expect(conn.key).toBeUndefined();
      expect(await conn.authHeaders()).toEqual({ authorization: `Bearer ${TOKEN}` });
    }
  });

  it("reads JSON indented with tabs", async () => {
    const d = await dir();
    const path = await write(d, JSON.stringify(config(), null, "\t"));
    expect((await loadKubeconfig(path)).server).toBe("https://kube.example:6443");
  });

  it("keeps a server path, without its trailing slashes", async () => {
    const { conn } = await load({ cluster: { server: "https://kube.example/k8s/clusters/c-1//" } });
    expect(conn.server).toBe("https://kube.example/k8s/clusters/c-1");
  });

  it("treats an empty file as a kubeconfig without a current-context", async () => {
    const { path, message } = await failure("");
    expect(message).toBe(`kubeconfig ${path} has no current-context; pass --context`);
  });
});

describe("loadKubeconfig: structure", () => {
  const cases: [string, (kc: any) => unknown, string][] = [
    ["a top level that is not a mapping", () => ["a", "b"], "the top level is not a mapping"],
    ["a top level that is a string", () => "just text", "the top level is not a mapping"],
    ["clusters that are not a list", (kc) => ({ ...kc, clusters: { c1: {} } }), "clusters is not a list"],
    ["a user entry that is not a mapping", (kc) => ({ ...kc, users: ["u1"] }), "users[0] is not a mapping"],
    [
      "a user without a name",
      (kc) => ({ ...kc, users: [...kc.users, { name: "u2", user: {} }, { user: { token: TOKEN } }] }),
      "users[2] has no name",
    ],
    [
      "a name that is not a string",
      (kc) => ({ ...kc, users: [{ name: 7, user: {} }] }),
      "users[0].name is not a string",
    ],
    [
      "a cluster entry without a cluster",
      (kc) => ({ ...kc, clusters: [{ name: "c1" }] }),
      "clusters[0] has no cluster",
    ],
    [
      "a context entry without a context",
      (kc) => ({ ...kc, contexts: [...kc.contexts, { name: "other" }] }),
      "contexts[1] has no context",
    ],
    [
      "a user body that is not a mapping",
      (kc) => ({ ...kc, users: [{ name: "u1", user: "token" }] }),
      "users[0].user is not a mapping",
    ],
    [
      "two users with one name",
      (kc) => ({ ...kc, users: [...kc.users, { name: "u2", user: {} }, { name: "u1", user: {} }] }),
      'users[2] has the same name "u1" as users[0]',
    ],
    [
      "a current-context that is not a string",
      (kc) => ({ ...kc, "current-context": ["ctx"] }),
      "current-context is not a string",
    ],
    [
      "a context without a cluster",
      (kc) => ({ ...kc, contexts: [{ name: "ctx", context: { user: "u1" } }] }),
      "contexts[0].context has no cluster",
    ],
    [
      "a context without a user",
      (kc) => ({ ...kc, contexts: [{ name: "ctx", context: { cluster: "c1" } }] }),
      "contexts[0].context has no user",
    ],
    [
      "a token that is not a string",
      (kc) => ({ ...kc, users: [{ name: "u1", user: { token: 12345 } }] }),
      "users[0].user.token is not a string",
    ],
    [
      "a server that is not a string",
      (kc) => ({ ...kc, clusters: [{ name: "c1", cluster: { server: { url: "x" } } }] }),
      "clusters[0].cluster.server is not a string",
    ],
  ];
  for (const [what, mutate, detail] of cases) {
    it(`names ${what}`, async () => {
      const { path, message } = await failure(mutate(config()));
      expect(message).toBe(`kubeconfig ${path}: ${detail}`);
    });
  }

  it("ignores fields it does not use (preferences, extensions, namespace, disable-compression)", async () => {
    const { conn } = await load({
      cluster: { "disable-compression": true, extensions: [{ name: "x", extension: {} }] },
      extra: { preferences: { colors: true }, extensions: [] },
    });
    expect(conn.name).toBe("ctx");
  });
});

describe("loadKubeconfig: context selection", () => {
  it("needs a current-context or --context", async () => {
    const { path, message } = await failure(config({ extra: { "current-context": "" } }));
    expect(message).toBe(`kubeconfig ${path} has no current-context; pass --context`);
  });

  it("names an unknown context, listing the known ones", async () => {
    const kc = config();
    (kc.contexts as unknown[]).push({ name: "staging", context: { cluster: "c1", user: "u1" } });
    const { path, message } = await failure(kc, "prod");
    expect(message).toBe(`kubeconfig ${path} has no context "prod" (contexts: ctx, staging)`);
    const none = await failure(config({ extra: { contexts: [] } }));
    expect(none.message).toBe(`kubeconfig ${none.path} has no context "ctx" (contexts: none)`);
  });

  it("selects --context over current-context", async () => {
    const kc = config({ extra: { "current-context": "missing" } });
    expect((await loadKubeconfig(await write(await dir(), kc), "ctx")).name).toBe("ctx");
  });

  it("names a cluster or user the context refers to but that is not defined", async () => {
    const cl = await failure(
      config({ extra: { contexts: [{ name: "ctx", context: { cluster: "cx", user: "u1" } }] } }),
    );
    expect(cl.message).toBe(`kubeconfig ${cl.path}: context "ctx" names cluster "cx", which is not defined`);
    const us = await failure(
      config({ extra: { contexts: [{ name: "ctx", context: { cluster: "c1", user: "ux" } }] } }),
    );
    expect(us.message).toBe(`kubeconfig ${us.path}: context "ctx" names user "ux", which is not defined`);
  });
});

describe("loadKubeconfig: cluster", () => {
  const refusals: [string, Record<string, unknown>, string][] = [
    ["no server", { server: undefined }, 'cluster "c1" has no server'],
    [
      "a server that is not a URL",
      { server: "kube example" },
      'cluster "c1" server "kube example" is not a URL',
    ],
    [
      "a server that is not https",
      { server: "http://kube.example" },
      'cluster "c1" server must be https:// (got http:)',
    ],
    [
      "insecure-skip-tls-verify",
      { "insecure-skip-tls-verify": true },
      'cluster "c1" sets insecure-skip-tls-verify; kube-autosave always verifies TLS — add certificate-authority(-data)',
    ],
    [
      "an insecure-skip-tls-verify that is not a boolean",
      { "insecure-skip-tls-verify": "yes" },
      "clusters[0].cluster.insecure-skip-tls-verify is not true or false",
    ],
    [
      "proxy-url",
      { "proxy-url": "http://proxy.example:3128" },
      'cluster "c1" sets proxy-url; kube-autosave does not support proxies — remove it and connect directly',
    ],
    [
      "certificate-authority-data that is not base64",
      { "certificate-authority-data": "not base64!" },
      'cluster "c1" certificate-authority-data is not valid base64',
    ],
    [
      "certificate-authority-data that is not PEM",
      { "certificate-authority-data": b64("/etc/ca.crt") },
      'cluster "c1" certificate-authority-data is not PEM (no "-----BEGIN" line)',
    ],
  ];
  for (const [what, cluster, detail] of refusals) {
    it(`refuses ${what}`, async () => {
      const { path, message } = await failure(config({ cluster }));
      expect(message).toBe(`kubeconfig ${path}: ${detail}`);
    });
  }

  it("accepts insecure-skip-tls-verify: false", async () => {
    const { conn } = await load({ cluster: { "insecure-skip-tls-verify": false } });
    expect(conn.ca).toEqual(Buffer.from(CA_PEM));
  });

  it("reads certificate-authority relative to the kubeconfig's directory", async () => {
    const d = await dir();
    await mkdir(join(d, "pki"));
    await writeFile(join(d, "pki", "ca.crt"), CA_PEM);
    const path = await write(
      d,
      config({ cluster: { "certificate-authority-data": undefined, "certificate-authority": "pki/ca.crt" } }),
    );
    const conn = await loadKubeconfig(path);
    expect(conn.ca).toEqual(Buffer.from(CA_PEM));
    expect(conn.servername).toBeUndefined();
  });

  it("prefers certificate-authority-data over certificate-authority, as kubectl does", async () => {
    const d = await dir();
    await writeFile(
      join(d, "other.crt"),
      "-----BEGIN CERTIFICATE-----\nb3RoZXI=\n-----END CERTIFICATE-----\n",
    );
    const path = await write(d, config({ cluster: { "certificate-authority": "other.crt" } }));
    expect((await loadKubeconfig(path)).ca).toEqual(Buffer.from(CA_PEM));
  });

  it("names a certificate-authority file that cannot be read, with its resolved path", async () => {
    const d = await dir();
    const { path, message } = await failure(
      config({
        cluster: { "certificate-authority-data": undefined, "certificate-authority": "missing/ca.crt" },
      }),
      undefined,
      d,
    );
    expect(message).toBe(
      `kubeconfig ${path}: cluster "c1" certificate-authority ${join(d, "missing/ca.crt")} cannot be read (ENOENT)`,
    );
  });

  it("names a certificate-authority file that is not PEM", async () => {
    const d = await dir();
    await writeFile(join(d, "ca.der"), Buffer.from([0x30, 0x82, 0x01, 0x0a]));
    const { path, message } = await failure(
      config({ cluster: { "certificate-authority-data": undefined, "certificate-authority": "ca.der" } }),
      undefined,
      d,
    );
    expect(message).toBe(
      `kubeconfig ${path}: cluster "c1" certificate-authority ${join(d, "ca.der")} is not PEM (no "-----BEGIN" line)`,
    );
  });

  it("uses the system's trusted roots when no CA is given", async () => {
    const { conn } = await load({ cluster: { "certificate-authority-data": undefined } });
    expect(conn.ca).toBeUndefined();
  });
});

describe("loadKubeconfig: user", () => {
  it("sends a static token as a bearer token", async () => {
    const { conn } = await load({ user: { token: TOKEN } });
    expect(await conn.authHeaders()).toEqual({ authorization: `Bearer ${TOKEN}` });
    expect(await conn.authHeaders()).toEqual({ authorization: `Bearer ${TOKEN}` });
  });

  it("reads tokenFile (relative to the kubeconfig) at each call, trimmed, so a rotated token is used", async () => {
    const d = await dir();
    await mkdir(join(d, "secrets"));
    const tokenPath = join(d, "secrets", "token");
    await writeFile(tokenPath, "first-token\n");
    const conn = await loadKubeconfig(await write(d, config({ user: { tokenFile: "secrets/token" } })));
    expect(await conn.authHeaders()).toEqual({ authorization: "Bearer first-token" });
    await writeFile(tokenPath, "  second-token\n");
    expect(await conn.authHeaders()).toEqual({ authorization: "Bearer second-token" });
    // Mid-rotation (file gone or empty), kubectl keeps the last good token; so does this reader.
    await rm(tokenPath);
    expect(await conn.authHeaders()).toEqual({ authorization: "Bearer second-token" });
    await writeFile(tokenPath, "\n");
    expect(await conn.authHeaders()).toEqual({ authorization: "Bearer second-token" });
    await writeFile(tokenPath, "third-token");
    expect(await conn.authHeaders()).toEqual({ authorization: "Bearer third-token" });
  });

  it("prefers token over tokenFile, as kubectl does", async () => {
    const { conn } = await load({ user: { token: TOKEN, tokenFile: "/nonexistent/token" } });
    expect(await conn.authHeaders()).toEqual({ authorization: `Bearer ${TOKEN}` });
  });

  it("names a tokenFile that cannot be read or is empty, at load time", async () => {
    const d = await dir();
    const missing = await failure(config({ user: { tokenFile: "token" } }), undefined, d);
    expect(missing.message).toBe(
      `kubeconfig ${missing.path}: user "u1" tokenFile ${join(d, "token")} cannot be read (ENOENT)`,
    );
    await writeFile(join(d, "token"), " \n");
    const empty = await failure(config({ user: { tokenFile: "token" } }), undefined, d);
    expect(empty.message).toBe(`kubeconfig ${empty.path}: user "u1" tokenFile ${join(d, "token")} is empty`);
  });

  it("reads client-certificate and client-key files relative to the kubeconfig; no auth header", async () => {
    const d = await dir();
    await mkdir(join(d, "certs"));
    await writeFile(join(d, "certs", "me.crt"), CERT_PEM);
    await writeFile(join(d, "certs", "me.key"), KEY_PEM);
    const path = await write(
      d,
      config({ user: { "client-certificate": "certs/me.crt", "client-key": "./certs/me.key" } }),
    );
    const conn = await loadKubeconfig(path);
    expect(conn.cert).toEqual(Buffer.from(CERT_PEM));
    expect(conn.key).toEqual(Buffer.from(KEY_PEM));
    expect(await conn.authHeaders()).toEqual({});
  });

  it("reads client-certificate-data and client-key-data (base64, line-wrapped)", async () => {
    const wrapped = b64(KEY_PEM).replace(/(.{20})/g, "$1\n");
    const { conn } = await load({
      user: { "client-certificate-data": b64(CERT_PEM), "client-key-data": wrapped },
    });
    expect(conn.cert).toEqual(Buffer.from(CERT_PEM));
    expect(conn.key).toEqual(Buffer.from(KEY_PEM));
    expect(await conn.authHeaders()).toEqual({});
  });

  it("sends both a client certificate and a token when both are set", async () => {
    const { conn } = await load({
      user: { token: TOKEN, "client-certificate-data": b64(CERT_PEM), "client-key-data": b64(KEY_PEM) },
    });
    expect(conn.cert).toEqual(Buffer.from(CERT_PEM));
    expect(await conn.authHeaders()).toEqual({ authorization: `Bearer ${TOKEN}` });
  });

  it("names a client-key file that cannot be read, with its resolved path", async () => {
    const d = await dir();
    const { path, message } = await failure(
      config({ user: { "client-certificate-data": b64(CERT_PEM), "client-key": "keys/me.key" } }),
      undefined,
      d,
    );
    expect(message).toBe(
      `kubeconfig ${path}: user "u1" client-key ${join(d, "keys/me.key")} cannot be read (ENOENT)`,
    );
  });

  it("does not quote a key file that is not PEM", async () => {
    const d = await dir();
    await writeFile(join(d, "me.key"), KEY_SECRET);
    const { path, message } = await failure(
      config({ user: { "client-certificate-data": b64(CERT_PEM), "client-key": "me.key" } }),
      undefined,
      d,
    );
    expect(message).toBe(
      `kubeconfig ${path}: user "u1" client-key ${join(d, "me.key")} is not PEM (no "-----BEGIN" line)`,
    );
  });

  const refusals: [string, Record<string, unknown>, string][] = [
    [
      "client-key-data that is not base64",
      { "client-certificate-data": b64(CERT_PEM), "client-key-data": `${KEY_SECRET}!` },
      'user "u1" client-key-data is not valid base64',
    ],
    [
      "client-certificate-data that is not base64 (bad padding)",
      { "client-certificate-data": "abc", "client-key-data": b64(KEY_PEM) },
      'user "u1" client-certificate-data is not valid base64',
    ],
    [
      "a client certificate without a key",
      { "client-certificate-data": b64(CERT_PEM) },
      'user "u1" has a client-certificate but no client-key',
    ],
    [
      "a client key without a certificate",
      { "client-key-data": b64(KEY_PEM) },
      'user "u1" has a client-key but no client-certificate',
    ],
    [
      "both client-certificate and client-certificate-data",
      {
        "client-certificate-data": b64(CERT_PEM),
        "client-certificate": "/dev/null",
        "client-key-data": b64(KEY_PEM),
      },
      'user "u1" sets both client-certificate and client-certificate-data; keep one',
    ],
    [
      "username/password (basic auth)",
      { username: "admin", password: TOKEN },
      'user "u1" sets username/password; basic authentication was removed from Kubernetes in 1.19 — use a token or a client certificate',
    ],
    [
      "impersonation",
      { token: TOKEN, as: "system:admin", "as-groups": ["system:masters"] },
      'user "u1" sets as, as-groups (impersonation); kube-autosave does not act as another identity — use a user that has the access itself',
    ],
    [
      "impersonation of extra fields only",
      { token: TOKEN, "as-user-extra": { scopes: ["x"] } },
      'user "u1" sets as-user-extra (impersonation); kube-autosave does not act as another identity — use a user that has the access itself',
    ],
    [
      "token-file (client-node's spelling)",
      { "token-file": "/t" },
      'user "u1" sets token-file, which kubectl ignores; the field is tokenFile',
    ],
  ];
  for (const [what, user, detail] of refusals) {
    it(`refuses ${what}`, async () => {
      const { path, message } = await failure(config({ user }));
      expect(message).toBe(`kubeconfig ${path}: ${detail}`);
    });
  }

  it("treats empty impersonation and basic-auth fields as unset", async () => {
    const { conn } = await load({
      user: { token: TOKEN, as: "", "as-groups": [], username: "", password: null },
    });
    expect(await conn.authHeaders()).toEqual({ authorization: `Bearer ${TOKEN}` });
  });
});

describe("loadKubeconfig: exec plugins (through @kubernetes/client-node)", () => {
  /** An executable ExecCredential plugin that counts its runs in `<d>/runs`. */
  async function plugin(d: string, body: string): Promise<string> {
    const path = join(d, "kubectl-plugin");
    await writeFile(path, `#!${process.execPath}\n${body}\n`);
    await chmod(path, 0o755);
    return path;
  }

  it("gets a bearer token from the plugin, running it again for each request", async () => {
    const d = await dir();
    const runs = join(d, "runs");
    const command = await plugin(
      d,
      [
        'const fs = require("node:fs");',
        `fs.appendFileSync(${JSON.stringify(runs)}, "x");`,
        'process.stdout.write(JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1beta1", kind: "ExecCredential", status: { token: "exec-token-xyz" } }));',
      ].join("\n"),
    );
    const exec = {
      apiVersion: "client.authentication.k8s.io/v1beta1",
      command,
      args: [],
      interactiveMode: "Never",
    };
    const { conn } = await load({ user: { exec } });
    expect(conn.ca).toEqual(Buffer.from(CA_PEM));
    expect(await conn.authHeaders()).toEqual({ Authorization: "Bearer exec-token-xyz" });
    const before = (await readFile(runs, "utf8")).length;
    expect(await conn.authHeaders()).toEqual({ Authorization: "Bearer exec-token-xyz" });
    expect((await readFile(runs, "utf8")).length).toBeGreaterThan(before);
  });

  it("says the credentials cannot be used when the plugin fails", async () => {
    const d = await dir();
    const command = await plugin(d, 'process.stderr.write("plugin: not logged in"); process.exit(1);');
    const { path, message } = await failure(
      config({ user: { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command } } }),
      undefined,
      d,
    );
    expect(message).toBe(
      `kubeconfig ${path}: credentials of context "ctx" cannot be used: plugin: not logged in`,
    );
  });

  it("still refuses what it refuses for other users (impersonation)", async () => {
    const { path, message } = await failure(
      config({ user: { exec: { command: "/bin/false" }, as: "someone" } }),
    );
    expect(message).toBe(
      `kubeconfig ${path}: user "u1" sets as (impersonation); kube-autosave does not act as another identity — use a user that has the access itself`,
    );
  });
});

describe("loadKubeconfig: start-up cost", () => {
  /**
   * Runs a fresh Node (TypeScript through tsx) in which any import of @kubernetes/client-node fails, loads
   * `kubeconfig` and prints the auth headers. The exec case is the control: there the import must happen.
   */
  async function loadWithClientNodeBlocked(kubeconfig: string) {
    const d = await dir();
    await writeFile(
      join(d, "block.mjs"),
      [
        "export async function resolve(specifier, context, next) {",
        '  if (specifier === "@kubernetes/client-node" || specifier.startsWith("@kubernetes/client-node/"))',
        '    throw new Error("BLOCKED: @kubernetes/client-node was imported");',
        "  return next(specifier, context);",
        "}",
      ].join("\n"),
    );
    await writeFile(
      join(d, "register.mjs"),
      'import { register } from "node:module";\nregister("./block.mjs", import.meta.url);\n',
    );
    const module = pathToFileURL(join(REPO, "src/kube/kubeconfig.ts")).href;
    await writeFile(
      join(d, "main.mjs"),
      [
        `const { loadKubeconfig } = await import(${JSON.stringify(module)});`,
        "const conn = await loadKubeconfig(process.argv[2]);",
        "console.log(JSON.stringify(await conn.authHeaders()));",
      ].join("\n"),
    );
    return run(
      process.execPath,
      [
        "--import",
        "tsx",
        "--import",
        pathToFileURL(join(d, "register.mjs")).href,
        join(d, "main.mjs"),
        kubeconfig,
      ],
      { cwd: REPO },
    ).then(
      ({ stdout }) => ({ ok: true as const, stdout }),
      (err: { stderr: string }) => ({ ok: false as const, stderr: err.stderr }),
    );
  }

  it("does not load @kubernetes/client-node for a token user, and does for an exec user", async () => {
    const token = await loadWithClientNodeBlocked(await write(await dir(), config()));
    expect(token).toEqual({ ok: true, stdout: `{"authorization":"Bearer ${TOKEN}"}\n` });
    const exec = await loadWithClientNodeBlocked(
      await write(await dir(), config({ user: { exec: { command: "/bin/true" } } })),
    );
    expect(exec.ok).toBe(false);
    expect(exec.ok ? "" : exec.stderr).toContain("BLOCKED: @kubernetes/client-node was imported");
  });
});
