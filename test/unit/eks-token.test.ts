import { createHash, createHmac } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type AwsCredentials,
  createEksToken,
  EksTokenError,
  EksTokenProvider,
  REFRESH_BEFORE_EXPIRY_SECONDS,
  TOKEN_LIFETIME_SECONDS,
} from "../../src/eks/token.js";
import { createCa, issueCert, type Pki } from "../support/pki.js";
import { startTokenWebhook, type TokenWebhook } from "../support/token-webhook.js";
import { VerifyFailure, verifyEksToken } from "../support/verify-token.js";

// The AWS documentation's example key pair; nothing real.
const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const STATIC: AwsCredentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: SECRET };
const SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE+/=token";
const SESSION: AwsCredentials = {
  accessKeyId: "ASIAEXAMPLE",
  secretAccessKey: SECRET,
  sessionToken: SESSION_TOKEN,
};
const NOW = new Date("2026-11-24T03:00:00Z");
const CLUSTER = "prod-eks";
const REGION = "eu-west-1";
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Computed once by createEksToken. The signatures inside (3e09b9…, 826072…) are also what botocore
// 1.43.11's SigV4QueryAuth (the signer behind `aws eks get-token`) gives for the same request, and
// the tests below derive them again by hand.
const GOLDEN_URL_STATIC =
  "https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15" +
  "&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261124%2Feu-west-1%2Fsts%2Faws4_request" +
  "&X-Amz-Date=20261124T030000Z&X-Amz-Expires=60" +
  "&X-Amz-Signature=3e09b9b55da95f639687e6e81c0b9ac5f3443ae6da9ea9da9219b7ba9153a243" +
  "&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id";
const GOLDEN_TOKEN_STATIC =
  "k8s-aws-v1.aHR0cHM6Ly9zdHMuZXUtd2VzdC0xLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eSZWZXJzaW9uPTIwMTEtMDYtMTUmWC1BbXotQWxnb3JpdGhtPUFXUzQtSE1BQy1TSEEyNTYmWC1BbXotQ3JlZGVudGlhbD1BS0lERVhBTVBMRSUyRjIwMjYxMTI0JTJGZXUtd2VzdC0xJTJGc3RzJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNjExMjRUMDMwMDAwWiZYLUFtei1FeHBpcmVzPTYwJlgtQW16LVNpZ25hdHVyZT0zZTA5YjliNTVkYTk1ZjYzOTY4N2U2ZTgxYzBiOWFjNWYzNDQzYWU2ZGE5ZWE5ZGE5MjE5YjdiYTkxNTNhMjQzJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdCUzQngtazhzLWF3cy1pZA";
const GOLDEN_TOKEN_SESSION =
  "k8s-aws-v1.aHR0cHM6Ly9zdHMuZXUtd2VzdC0xLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eSZWZXJzaW9uPTIwMTEtMDYtMTUmWC1BbXotQWxnb3JpdGhtPUFXUzQtSE1BQy1TSEEyNTYmWC1BbXotQ3JlZGVudGlhbD1BU0lBRVhBTVBMRSUyRjIwMjYxMTI0JTJGZXUtd2VzdC0xJTJGc3RzJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNjExMjRUMDMwMDAwWiZYLUFtei1FeHBpcmVzPTYwJlgtQW16LVNlY3VyaXR5LVRva2VuPUlRb0piM0pwWjJsdVgyVmpFWEFNUExFJTJCJTJGJTNEdG9rZW4mWC1BbXotU2lnbmF0dXJlPTgyNjA3MjU5YzZiNDI1MjQzNmI0OTc2NjIxODU0ZTJmZTk1ZWFjOWU5ZTNhOTlkZmI5NzE0ZjY4MTcyNWFiYWUmWC1BbXotU2lnbmVkSGVhZGVycz1ob3N0JTNCeC1rOHMtYXdzLWlk";
// The same static-credentials request exactly as botocore writes it (its own parameter order).
const BOTOCORE_URL_STATIC =
  "https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15" +
  "&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261124%2Feu-west-1%2Fsts%2Faws4_request" +
  "&X-Amz-Date=20261124T030000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id" +
  "&X-Amz-Signature=3e09b9b55da95f639687e6e81c0b9ac5f3443ae6da9ea9da9219b7ba9153a243";

function decode(token: string): string {
  return Buffer.from(token.slice("k8s-aws-v1.".length), "base64url").toString("utf8");
}

function encode(url: string): string {
  return `k8s-aws-v1.${Buffer.from(url, "utf8").toString("base64url")}`;
}

// SigV4 written out from the AWS docs ("Create a signed AWS API request"), step by step and with
// literal canonical requests, so the golden signatures do not rest on the signer library alone.
function handSignature(canonicalQueryWithoutSignature: string): string {
  const canonicalRequest = [
    "GET",
    "/",
    canonicalQueryWithoutSignature,
    "host:sts.eu-west-1.amazonaws.com",
    "x-k8s-aws-id:prod-eks",
    "",
    "host;x-k8s-aws-id",
    EMPTY_SHA256,
  ].join("\n");
  const stringToSign = [
    "AWS4-HMAC-SHA256",
    "20261124T030000Z",
    "20261124/eu-west-1/sts/aws4_request",
    createHash("sha256").update(canonicalRequest).digest("hex"),
  ].join("\n");
  const kDate = createHmac("sha256", `AWS4${SECRET}`).update("20261124").digest();
  const kRegion = createHmac("sha256", kDate).update("eu-west-1").digest();
  const kService = createHmac("sha256", kRegion).update("sts").digest();
  const kSigning = createHmac("sha256", kService).update("aws4_request").digest();
  return createHmac("sha256", kSigning).update(stringToSign).digest("hex");
}

describe("createEksToken", () => {
  it("produces the golden token for static credentials", async () => {
    const { token, expiresAt } = await createEksToken({
      clusterName: CLUSTER,
      region: REGION,
      credentials: STATIC,
      now: NOW,
    });

    expect(token).toBe(GOLDEN_TOKEN_STATIC);
    expect(decode(token)).toBe(GOLDEN_URL_STATIC);
    expect(expiresAt.toISOString()).toBe("2026-11-24T03:15:00.000Z");
  });

  it("produces the golden token with X-Amz-Security-Token for session credentials", async () => {
    const { token } = await createEksToken({
      clusterName: CLUSTER,
      region: REGION,
      credentials: SESSION,
      now: NOW,
    });

    expect(token).toBe(GOLDEN_TOKEN_SESSION);
    const url = new URL(decode(token));
    expect(url.searchParams.get("X-Amz-Security-Token")).toBe(SESSION_TOKEN);
  });

  it("signs what SigV4 derived by hand with node:crypto signs (static credentials)", () => {
    const query =
      "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
      "&X-Amz-Credential=AKIDEXAMPLE%2F20261124%2Feu-west-1%2Fsts%2Faws4_request" +
      "&X-Amz-Date=20261124T030000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id";

    const signature = handSignature(query);

    expect(signature).toBe("3e09b9b55da95f639687e6e81c0b9ac5f3443ae6da9ea9da9219b7ba9153a243");
    expect(new URL(decode(GOLDEN_TOKEN_STATIC)).searchParams.get("X-Amz-Signature")).toBe(signature);
  });

  it("signs what SigV4 derived by hand with node:crypto signs (session credentials)", () => {
    const query =
      "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
      "&X-Amz-Credential=ASIAEXAMPLE%2F20261124%2Feu-west-1%2Fsts%2Faws4_request" +
      "&X-Amz-Date=20261124T030000Z&X-Amz-Expires=60" +
      "&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE%2B%2F%3Dtoken&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id";

    const signature = handSignature(query);

    expect(signature).toBe("82607259c6b4252436b4976621854e2fe95eac9e9e3a99dfb9714f681725abae");
    expect(new URL(decode(GOLDEN_TOKEN_SESSION)).searchParams.get("X-Amz-Signature")).toBe(signature);
  });

  it("uses the amazonaws.com.cn STS endpoint for China regions", async () => {
    const { token } = await createEksToken({
      clusterName: CLUSTER,
      region: "cn-north-1",
      credentials: STATIC,
      now: NOW,
    });

    expect(new URL(decode(token)).host).toBe("sts.cn-north-1.amazonaws.com.cn");
  });

  it("ends the token when session credentials end before the 15 minutes", async () => {
    const expiration = new Date(NOW.getTime() + 8 * 60_000);

    const { expiresAt } = await createEksToken({
      clusterName: CLUSTER,
      region: REGION,
      credentials: { ...SESSION, expiration },
      now: NOW,
    });

    expect(expiresAt).toEqual(expiration);
  });

  it.each([
    ["an empty clusterName", { clusterName: "" }, /clusterName is empty/],
    ["an empty region", { region: "" }, /region is empty/],
    ["a region that is not one", { region: "evil.com/x" }, /region "evil\.com\/x" is not an AWS region/],
    ["a clusterName with a newline", { clusterName: "prod\nx-evil: 1" }, /clusterName is not a valid/],
    [
      "an empty secret key",
      { credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "" } },
      /secretAccessKey is empty/,
    ],
    [
      "expired credentials",
      { credentials: { ...SESSION, expiration: NOW } },
      /credentials\.expiration has passed/,
    ],
  ])("refuses %s with an error naming the field", async (_name, override, message) => {
    const input = { clusterName: CLUSTER, region: REGION, credentials: SESSION, now: NOW, ...override };

    const error = await createEksToken(input).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(EksTokenError);
    expect((error as Error).message).toMatch(/^eks token: /);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(SECRET);
    expect((error as Error).message).not.toContain(SESSION_TOKEN);
  });
});

describe("verifyEksToken", () => {
  const fresh = () =>
    createEksToken({ clusterName: CLUSTER, region: REGION, credentials: SESSION, now: NOW });
  const opts = { clusterName: CLUSTER, now: NOW, credentials: SESSION };
  // Rewrites the presigned URL inside a good token, as an attacker would.
  const tamper = async (edit: (url: string) => string) => encode(edit(decode((await fresh()).token)));

  it("accepts a fresh token, with and without the signing credentials", async () => {
    const { token } = await fresh();

    expect(verifyEksToken(token, opts)).toEqual({ ok: true, accessKeyId: "ASIAEXAMPLE" });
    expect(verifyEksToken(token, { clusterName: CLUSTER, now: NOW })).toEqual({
      ok: true,
      accessKeyId: "ASIAEXAMPLE",
    });
  });

  it("accepts a token until 15 minutes after X-Amz-Date, whatever X-Amz-Expires says", async () => {
    const { token } = await fresh();

    expect(verifyEksToken(token, { ...opts, now: new Date(NOW.getTime() + 15 * 60_000) }).ok).toBe(true);
  });

  it("accepts the same request as botocore orders its parameters", () => {
    expect(verifyEksToken(encode(BOTOCORE_URL_STATIC), { ...opts, credentials: STATIC })).toEqual({
      ok: true,
      accessKeyId: "AKIDEXAMPLE",
    });
  });

  it.each([
    [
      "a wrong prefix",
      async () => (await fresh()).token.replace("k8s-aws-v1.", "k8s-aws-v2."),
      VerifyFailure.prefix,
    ],
    ["a payload that is not base64url", async () => "k8s-aws-v1.not*base64!", VerifyFailure.encoding],
    ["padded base64", async () => `${(await fresh()).token}==`, VerifyFailure.encoding],
    ["a payload that is not a URL", async () => encode("sts.eu-west-1.amazonaws.com/?x"), VerifyFailure.url],
    ["an http URL", () => tamper((u) => u.replace("https://", "http://")), VerifyFailure.scheme],
    [
      "the host sts.evil.com",
      () => tamper((u) => u.replace("sts.eu-west-1.amazonaws.com", "sts.evil.com")),
      VerifyFailure.host,
    ],
    [
      "the host sts.eu-west-1.amazonaws.com.evil.com",
      () => tamper((u) => u.replace("amazonaws.com/", "amazonaws.com.evil.com/")),
      VerifyFailure.host,
    ],
    ["a port", () => tamper((u) => u.replace("amazonaws.com/", "amazonaws.com:8443/")), VerifyFailure.host],
    ["user info", () => tamper((u) => u.replace("https://", "https://evil.com@")), VerifyFailure.host],
    [
      "another path",
      () => tamper((u) => u.replace("amazonaws.com/?", "amazonaws.com/x?")),
      VerifyFailure.path,
    ],
    ["an extra query parameter", () => tamper((u) => `${u}&X-Amz-Foo=bar`), VerifyFailure.param],
    [
      "a repeated query parameter",
      () => tamper((u) => `${u}&Action=GetCallerIdentity`),
      VerifyFailure.duplicateParam,
    ],
    [
      "another action",
      () => tamper((u) => u.replace("=GetCallerIdentity", "=AssumeRole")),
      VerifyFailure.action,
    ],
    ["another version", () => tamper((u) => u.replace("2011-06-15", "2099-01-01")), VerifyFailure.version],
    [
      "x-k8s-aws-id missing from the signed headers",
      () => tamper((u) => u.replace("X-Amz-SignedHeaders=host%3Bx-k8s-aws-id", "X-Amz-SignedHeaders=host")),
      VerifyFailure.clusterHeader,
    ],
    [
      "X-Amz-Expires over 900",
      () => tamper((u) => u.replace("X-Amz-Expires=60", "X-Amz-Expires=901")),
      VerifyFailure.expiresParam,
    ],
    [
      "a malformed X-Amz-Date",
      () => tamper((u) => u.replace("X-Amz-Date=20261124T", "X-Amz-Date=20261131T")),
      VerifyFailure.date,
    ],
    [
      "a credential scope for another region",
      () => tamper((u) => u.replace("%2Feu-west-1%2F", "%2Fus-east-1%2F")),
      VerifyFailure.scope,
    ],
    [
      "a tampered signature",
      () => tamper((u) => u.replace(/X-Amz-Signature=8/, "X-Amz-Signature=9")),
      VerifyFailure.signature,
    ],
  ])("rejects %s", async (_name, make, reason) => {
    const token = await make();

    expect(verifyEksToken(token, opts)).toEqual({ ok: false, reason });
  });

  it("rejects a token 16 minutes after it was made", async () => {
    const { token } = await fresh();

    const result = verifyEksToken(token, { ...opts, now: new Date(NOW.getTime() + 16 * 60_000) });

    expect(result).toEqual({ ok: false, reason: VerifyFailure.expired });
  });

  it("rejects a token dated more than 15 minutes in the future", async () => {
    const { token } = await fresh();

    const result = verifyEksToken(token, { ...opts, now: new Date(NOW.getTime() - 16 * 60_000) });

    expect(result).toEqual({ ok: false, reason: VerifyFailure.future });
  });

  it("rejects a token made for another cluster", async () => {
    const { token } = await fresh();

    expect(verifyEksToken(token, { ...opts, clusterName: "staging-eks" })).toEqual({
      ok: false,
      reason: VerifyFailure.signature,
    });
  });

  it("rejects a token signed with another secret key", async () => {
    const { token } = await createEksToken({
      clusterName: CLUSTER,
      region: REGION,
      credentials: { ...SESSION, secretAccessKey: "not-the-secret" },
      now: NOW,
    });

    expect(verifyEksToken(token, opts)).toEqual({ ok: false, reason: VerifyFailure.signature });
  });

  it("rejects a token signed with another access key", async () => {
    const { token } = await createEksToken({
      clusterName: CLUSTER,
      region: REGION,
      credentials: { ...SESSION, accessKeyId: "ASIAOTHER" },
      now: NOW,
    });

    expect(verifyEksToken(token, opts)).toEqual({ ok: false, reason: VerifyFailure.accessKey });
  });

  it("rejects a token over 4 KiB before decoding it", () => {
    expect(verifyEksToken(`k8s-aws-v1.${"A".repeat(4096)}`, opts)).toEqual({
      ok: false,
      reason: VerifyFailure.tooLarge,
    });
  });
});

describe("EksTokenProvider", () => {
  function setup(expiration?: Date) {
    let now = NOW;
    const credentials = vi.fn(async (): Promise<AwsCredentials> => ({ ...SESSION, expiration }));
    const provider = new EksTokenProvider({
      clusterName: CLUSTER,
      region: REGION,
      credentials,
      clock: { now: () => now },
    });
    const advance = (seconds: number) => {
      now = new Date(now.getTime() + seconds * 1000);
    };
    return { provider, credentials, advance };
  }

  it("returns the cached token until refresh time, then a new one", async () => {
    const { provider, credentials, advance } = setup();
    const refreshAfter = TOKEN_LIFETIME_SECONDS - REFRESH_BEFORE_EXPIRY_SECONDS;

    const first = await provider.getToken();
    advance(refreshAfter - 1);
    const cached = await provider.getToken();
    advance(1);
    const renewed = await provider.getToken();

    expect(first).toBe(GOLDEN_TOKEN_SESSION);
    expect(cached).toBe(first);
    expect(renewed).not.toBe(first);
    expect(new URL(decode(renewed)).searchParams.get("X-Amz-Date")).toBe("20261124T031000Z");
    expect(credentials).toHaveBeenCalledTimes(2);
  });

  it("refreshes early when the credentials end before the URL would", async () => {
    const { provider, credentials, advance } = setup(new Date(NOW.getTime() + 8 * 60_000));

    const first = await provider.getToken();
    advance(3 * 60);
    const renewed = await provider.getToken();

    expect(renewed).not.toBe(first);
    expect(credentials).toHaveBeenCalledTimes(2);
  });

  it("signs once for concurrent callers", async () => {
    const { provider, credentials } = setup();

    const tokens = await Promise.all([provider.getToken(), provider.getToken(), provider.getToken()]);

    expect(new Set(tokens).size).toBe(1);
    expect(credentials).toHaveBeenCalledTimes(1);
  });

  it("tries again on the next call after the credentials fail", async () => {
    const { provider, credentials } = setup();
    credentials.mockRejectedValueOnce(new Error("no credentials"));

    await expect(provider.getToken()).rejects.toThrow("no credentials");
    await expect(provider.getToken()).resolves.toBe(GOLDEN_TOKEN_SESSION);
  });
});

describe("token webhook over HTTPS", () => {
  let dir: string;
  let pki: Pki;
  let caPem: string;
  let webhook: TokenWebhook;
  const logged: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "eks-token-webhook-"));
    pki = await createCa(dir, "eks-token-test-ca");
    caPem = pki.caPem;
    const serving = await issueCert(pki, "webhook", "/CN=token-webhook", { serverNames: ["127.0.0.1"] });
    webhook = await startTokenWebhook({
      clusterName: CLUSTER,
      credentials: SESSION,
      tls: { cert: serving.certPem, key: serving.keyPem },
      groups: ["eks:snapshot-readers"],
      log: (line) => logged.push(line),
    });
  });

  afterAll(async () => {
    await webhook?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function post(
    body: unknown,
    url = webhook.url,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        { method: "POST", ca: caPem, headers: { "content-type": "application/json" } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
            }),
          );
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify(body));
    });
  }

  const review = (token: string) => ({
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenReview",
    spec: { token },
  });

  it("authenticates a good token as the configured user", async () => {
    const { token } = await createEksToken({
      clusterName: CLUSTER,
      region: REGION,
      credentials: SESSION,
      now: new Date(),
    });

    // kube-apiserver's client adds ?timeout=30s to the configured URL.
    const res = await post(review(token), `${webhook.url}?timeout=30s`);

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenReview",
      status: {
        authenticated: true,
        user: {
          username: "eks-snapshot-lambda",
          uid: "aws-iam-authenticator:ASIAEXAMPLE",
          groups: ["eks:snapshot-readers"],
        },
      },
    });
  });

  it("refuses a token for another cluster with the reason", async () => {
    const { token } = await createEksToken({
      clusterName: "other-eks",
      region: REGION,
      credentials: SESSION,
      now: new Date(),
    });

    const res = await post(review(token));

    expect(res.body.status).toEqual({ authenticated: false, error: VerifyFailure.signature });
  });

  it("refuses a token signed 16 minutes ago", async () => {
    const signedAt = new Date(Date.now() - 16 * 60_000);
    const { token } = await createEksToken({
      clusterName: CLUSTER,
      region: REGION,
      credentials: SESSION,
      now: signedAt,
    });

    const res = await post(review(token));

    expect(res.body.status).toEqual({ authenticated: false, error: VerifyFailure.expired });
  });

  it("answers 400 to something that is not a TokenReview, and counts only reviews", async () => {
    const before = webhook.reviews;

    const res = await post({ apiVersion: "v1", kind: "Pod" });

    expect(res.status).toBe(400);
    expect(webhook.reviews).toBe(before);
    await post(review("k8s-aws-v1.x"));
    expect(webhook.reviews).toBe(before + 1);
  });

  it("never logs the token, and logs nothing at all without a log option", async () => {
    const { token } = await createEksToken({
      clusterName: CLUSTER,
      region: REGION,
      credentials: SESSION,
      now: new Date(),
    });
    const signature = new URL(decode(token)).searchParams.get("X-Amz-Signature") ?? "";
    const consoleSpies = (["log", "info", "warn", "error", "debug"] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation(() => {}),
    );
    const serving = await issueCert(pki, "silent", "/CN=silent-webhook", { serverNames: ["127.0.0.1"] });
    const silent = await startTokenWebhook({
      clusterName: CLUSTER,
      credentials: SESSION,
      tls: { cert: serving.certPem, key: serving.keyPem },
    });

    try {
      await post(review(token));
      await post(review(`${token}x`));
      expect((await post(review(token), silent.url)).body.status).toMatchObject({ authenticated: true });
      expect((await post(review(`${token}x`), silent.url)).body.status).toMatchObject({
        authenticated: false,
      });
    } finally {
      await silent.close();
      for (const spy of consoleSpies) spy.mockRestore();
    }

    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) {
      expect(line).not.toContain(token.slice(11, 60));
      expect(line).not.toContain(signature);
      expect(line).not.toContain(SESSION_TOKEN);
    }
    for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled();
  });

  it("writes a kubeconfig kube-apiserver can load for the webhook", async () => {
    const path = join(dir, "webhook.kubeconfig");

    await webhook.writeKubeconfig(path, caPem);

    const config = JSON.parse(await readFile(path, "utf8"));
    expect(config.clusters[0].cluster.server).toBe(webhook.url);
    expect(
      Buffer.from(config.clusters[0].cluster["certificate-authority-data"], "base64").toString("utf8"),
    ).toBe(caPem);
    expect(config["current-context"]).toBe("token-webhook");
    expect(webhook.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/authenticate$/);
  });
});
