// Test-only (the test bed's EKS token webhook and the token tests): kube-autosave never verifies tokens.
// The checks aws-iam-authenticator makes on an EKS token before it forwards the URL to STS, plus,
// when the signing credentials are known (the test bed), the check STS itself makes: recompute the
// SigV4 signature. It is written with node:crypto, independently of the signer the generator uses,
// so a mistake in how the generator drives that signer cannot hide here. Pure: no network, no clock.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import {
  CLUSTER_ID_HEADER,
  EMPTY_BODY_SHA256,
  STS_ACTION,
  STS_API_VERSION,
  TOKEN_LIFETIME_SECONDS,
  TOKEN_PREFIX,
} from "../../src/eks/token.js";

/** Why a token was refused. Fixed strings so logs and tests can grep them; none echoes the token. */
export const VerifyFailure = {
  tooLarge: "token too large",
  prefix: "token missing k8s-aws-v1. prefix",
  encoding: "token is not base64url",
  url: "token is not a URL",
  scheme: "presigned URL is not https",
  host: "presigned URL host is not an STS endpoint",
  path: "presigned URL path is not /",
  param: "presigned URL has a query parameter that is not allowed",
  duplicateParam: "presigned URL repeats a query parameter",
  action: "presigned URL action is not GetCallerIdentity",
  version: "presigned URL version is not 2011-06-15",
  algorithm: "presigned URL algorithm is not AWS4-HMAC-SHA256",
  clusterHeader: "presigned URL does not sign x-k8s-aws-id",
  expiresParam: "presigned URL X-Amz-Expires is not 0..900",
  date: "presigned URL X-Amz-Date is malformed",
  expired: "token expired",
  future: "token dated in the future",
  credential: "presigned URL X-Amz-Credential is malformed",
  scope: "presigned URL credential scope does not match its host or date",
  signedHeaders: "presigned URL signs headers other than host and x-k8s-aws-id",
  accessKey: "token signed with an unknown access key",
  signature: "token signature does not match",
} as const;
export type VerifyFailureReason = (typeof VerifyFailure)[keyof typeof VerifyFailure];

export type VerifyResult = { ok: true; accessKeyId: string } | { ok: false; reason: VerifyFailureReason };

/** aws-iam-authenticator refuses tokens over 4 KiB before decoding them. */
const MAX_TOKEN_BYTES = 4096;
/** The largest X-Amz-Expires the authenticator accepts: STS never honours more than 15 minutes. */
const MAX_EXPIRES_SECONDS = 900;
/** AWS refuses signatures dated more than 15 minutes ahead of its clock (RequestTimeTooSkewed). */
const MAX_CLOCK_SKEW_SECONDS = 900;
const ALGORITHM = "AWS4-HMAC-SHA256";
// The authenticator's allowlist (compared lower-cased, as it does). Anything else could change what
// STS answers, so the token is refused.
const ALLOWED_PARAMS = new Set([
  "action",
  "version",
  "x-amz-algorithm",
  "x-amz-credential",
  "x-amz-date",
  "x-amz-expires",
  "x-amz-signedheaders",
  "x-amz-security-token",
  "x-amz-signature",
]);
// Global (sts.amazonaws.com) or regional, in the aws or aws-cn partition; nothing before "sts." and
// nothing after the suffix, so sts.evil.com and sts.amazonaws.com.evil.com fail.
const STS_HOST = /^sts(?:\.([a-z]{2}(?:-[a-z]+)+-\d+))?\.amazonaws\.com(?:\.cn)?$/;
/** The global endpoint signs for us-east-1. */
const GLOBAL_STS_REGION = "us-east-1";
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Checks an EKS bearer token as aws-iam-authenticator would, and its signature when `credentials` are given. */
export function verifyEksToken(
  token: string,
  opts: { clusterName: string; now: Date; credentials?: { accessKeyId: string; secretAccessKey: string } },
): VerifyResult {
  const fail = (reason: VerifyFailureReason): VerifyResult => ({ ok: false, reason });
  if (Buffer.byteLength(token, "utf8") > MAX_TOKEN_BYTES) return fail(VerifyFailure.tooLarge);
  if (!token.startsWith(TOKEN_PREFIX)) return fail(VerifyFailure.prefix);

  const encoded = token.slice(TOKEN_PREFIX.length);
  // Buffer's base64url decoder skips characters it does not know; the round trip makes it strict.
  const bytes = Buffer.from(encoded, "base64url");
  if (encoded.length === 0 || bytes.toString("base64url") !== encoded) return fail(VerifyFailure.encoding);
  let url: URL;
  try {
    url = new URL(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return fail(VerifyFailure.url);
  }

  if (url.protocol !== "https:") return fail(VerifyFailure.scheme);
  // A port, user info or fragment would send the request somewhere other than STS or change it.
  const hostMatch = STS_HOST.exec(url.hostname);
  if (!hostMatch || url.port !== "" || url.username !== "" || url.password !== "" || url.hash !== "") {
    return fail(VerifyFailure.host);
  }
  if (url.pathname !== "/") return fail(VerifyFailure.path);

  const params = new Map<string, { name: string; value: string }>();
  for (const [name, value] of url.searchParams) {
    const lower = name.toLowerCase();
    if (!ALLOWED_PARAMS.has(lower)) return fail(VerifyFailure.param);
    if (params.has(lower)) return fail(VerifyFailure.duplicateParam);
    params.set(lower, { name, value });
  }
  const param = (name: string): string | undefined => params.get(name)?.value;

  if (param("action") !== STS_ACTION) return fail(VerifyFailure.action);
  if (param("version") !== STS_API_VERSION) return fail(VerifyFailure.version);
  if (param("x-amz-algorithm") !== ALGORITHM) return fail(VerifyFailure.algorithm);
  const signedHeaders = (param("x-amz-signedheaders") ?? "").split(";");
  if (!signedHeaders.some((h) => h.toLowerCase() === CLUSTER_ID_HEADER))
    return fail(VerifyFailure.clusterHeader);

  // STS ignores X-Amz-Expires (the URL lives 15 minutes from X-Amz-Date regardless), so like the
  // authenticator only its range is checked; expiry is measured from X-Amz-Date.
  const expires = param("x-amz-expires") ?? "";
  if (!/^\d{1,4}$/.test(expires) || Number(expires) > MAX_EXPIRES_SECONDS)
    return fail(VerifyFailure.expiresParam);

  const amzDate = param("x-amz-date") ?? "";
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined) return fail(VerifyFailure.date);
  const now = opts.now.getTime();
  if (now > signedAt + TOKEN_LIFETIME_SECONDS * 1000) return fail(VerifyFailure.expired);
  if (signedAt > now + MAX_CLOCK_SKEW_SECONDS * 1000) return fail(VerifyFailure.future);

  // AKID/YYYYMMDD/region/sts/aws4_request
  const scope = (param("x-amz-credential") ?? "").split("/");
  const [accessKeyId, scopeDate, scopeRegion, scopeService, scopeTerminator] = scope;
  if (scope.length !== 5 || !accessKeyId || scopeService !== "sts" || scopeTerminator !== "aws4_request") {
    return fail(VerifyFailure.credential);
  }
  if (scopeDate !== amzDate.slice(0, 8) || scopeRegion !== (hostMatch[1] ?? GLOBAL_STS_REGION)) {
    return fail(VerifyFailure.scope);
  }

  if (opts.credentials) {
    if (signedHeaders.join(";") !== `host;${CLUSTER_ID_HEADER}`) return fail(VerifyFailure.signedHeaders);
    if (accessKeyId !== opts.credentials.accessKeyId) return fail(VerifyFailure.accessKey);
    const expected = signature({
      host: url.host,
      params: [...params.values()],
      clusterName: opts.clusterName,
      amzDate,
      scope: scope.slice(1).join("/"),
      secretAccessKey: opts.credentials.secretAccessKey,
      dateStamp: scopeDate,
      region: scopeRegion,
    });
    const given = Buffer.from(param("x-amz-signature") ?? "", "utf8");
    const wanted = Buffer.from(expected, "utf8");
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted))
      return fail(VerifyFailure.signature);
  }
  return { ok: true, accessKeyId };
}

function parseAmzDate(value: string): number | undefined {
  const m = AMZ_DATE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC rolls 2026-02-31 over into March; a real X-Amz-Date never does.
  return new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, "") === value.slice(0, 15) ? ms : undefined;
}

// SigV4 for a presigned GET (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html):
// the signature covers every query parameter but itself, the headers host and x-k8s-aws-id (the
// verifier's own cluster name: a token made for another cluster fails here), and the empty body.
function signature(input: {
  host: string;
  params: { name: string; value: string }[];
  clusterName: string;
  amzDate: string;
  scope: string;
  secretAccessKey: string;
  dateStamp: string;
  region: string;
}): string {
  const query = input.params
    .filter((p) => p.name !== "X-Amz-Signature")
    .map((p) => [rfc3986(p.name), rfc3986(p.value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  const canonicalRequest = [
    "GET",
    "/",
    query,
    `host:${input.host}\n${CLUSTER_ID_HEADER}:${input.clusterName.trim().replace(/\s+/g, " ")}\n`,
    `host;${CLUSTER_ID_HEADER}`,
    EMPTY_BODY_SHA256,
  ].join("\n");
  const stringToSign = [ALGORITHM, input.amzDate, input.scope, sha256Hex(canonicalRequest)].join("\n");
  let key = hmac(`AWS4${input.secretAccessKey}`, input.dateStamp);
  for (const part of [input.region, "sts", "aws4_request"]) key = hmac(key, part);
  return createHmac("sha256", key).update(stringToSign, "utf8").digest("hex");
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

function sha256Hex(data: string): string {
  return createHash("sha256").update(data, "utf8").digest("hex");
}

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
