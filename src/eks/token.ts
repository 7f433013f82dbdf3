// The EKS bearer token: a presigned STS GetCallerIdentity URL, as aws-iam-authenticator and
// `aws eks get-token` make it. The API server hands the URL to STS; whoever STS says signed it is
// the caller. Nothing here calls AWS.
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** Every EKS token starts with this; the authenticator rejects anything else before decoding. */
export const TOKEN_PREFIX = "k8s-aws-v1.";
/** Presigned STS URLs are valid for 15 minutes after X-Amz-Date, whatever X-Amz-Expires says. */
export const TOKEN_LIFETIME_SECONDS = 900;
/**
 * STS ignores X-Amz-Expires; aws-iam-authenticator sends 60 because authenticators 0.3.0 and older
 * reject values outside 0..60 (https://github.com/aws/aws-sdk-go/issues/2167).
 */
export const PRESIGN_EXPIRES_SECONDS = 60;
/**
 * Refresh this long before expiry: a list call started on a nearly-expired token must still be
 * accepted, and the Lambda's clock may be a little ahead of STS's.
 */
export const REFRESH_BEFORE_EXPIRY_SECONDS = 300;
/** Binds the token to one cluster: the API server sends its own name in this header to STS. */
export const CLUSTER_ID_HEADER = "x-k8s-aws-id";
export const STS_ACTION = "GetCallerIdentity";
export const STS_API_VERSION = "2011-06-15";
/** SHA-256 of the empty body: presigned GETs without a body sign this, not UNSIGNED-PAYLOAD (that is S3). */
export const EMPTY_BODY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// The region becomes part of a host name, so it must be a region and nothing else.
const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;
// EKS cluster names (CreateCluster API): letters, digits, '-' and '_', at most 100 characters. It is
// sent as a header value, so a newline must never get through.
const CLUSTER_NAME_PATTERN = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;

/** The token could not be made. Messages name the field and never contain the token or credentials. */
export class EksTokenError extends Error {
  override readonly name = "EksTokenError";
  constructor(message: string) {
    super(`eks token: ${message}`);
  }
}

/** The regional STS host for `region`; China regions live under amazonaws.com.cn. */
export function stsHost(region: string): string {
  return `sts.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`;
}

/** Presigns GetCallerIdentity for `clusterName` at `now` and returns the bearer token and when it expires. */
export async function createEksToken(input: {
  clusterName: string;
  region: string;
  credentials: AwsCredentials;
  now: Date;
}): Promise<{ token: string; expiresAt: Date }> {
  const { clusterName, region, credentials, now } = input;
  validate(input);
  const host = stsHost(region);
  const signer = new SignatureV4({
    service: "sts",
    region,
    sha256: Sha256,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
    },
  });
  let presigned: Awaited<ReturnType<SignatureV4["presign"]>>;
  try {
    presigned = await signer.presign(
      {
        method: "GET",
        protocol: "https:",
        hostname: host,
        path: "/",
        query: { Action: STS_ACTION, Version: STS_API_VERSION },
        // The signer signs every header it is given and adds none itself: without an explicit
        // `host`, SignedHeaders would be just `x-k8s-aws-id` and STS would refuse the URL. Headers
        // not starting with x-amz- stay headers (not hoisted into the query), so both end up signed.
        headers: { host, [CLUSTER_ID_HEADER]: clusterName },
      },
      { signingDate: now, expiresIn: PRESIGN_EXPIRES_SECONDS },
    );
  } catch (err) {
    // The cause is dropped on purpose: it could echo the credentials it was given.
    throw new EksTokenError(
      `presigning the STS URL failed (${err instanceof Error ? err.name : typeof err})`,
    );
  }
  const url = `https://${host}/?${encodeQuery(presigned.query ?? {})}`;
  const token = TOKEN_PREFIX + Buffer.from(url, "utf8").toString("base64url");
  const urlExpiry = now.getTime() + TOKEN_LIFETIME_SECONDS * 1000;
  // STS checks the credentials too: a session that ends first ends the token with it.
  const expiresAt = new Date(Math.min(urlExpiry, credentials.expiration?.getTime() ?? urlExpiry));
  return { token, expiresAt };
}

function validate(input: {
  clusterName: string;
  region: string;
  credentials: AwsCredentials;
  now: Date;
}): void {
  const problems: string[] = [];
  if (!input.clusterName) problems.push("clusterName is empty");
  else if (!CLUSTER_NAME_PATTERN.test(input.clusterName))
    problems.push("clusterName is not a valid EKS cluster name");
  if (!input.region) problems.push("region is empty");
  else if (!REGION_PATTERN.test(input.region))
    problems.push(`region "${input.region}" is not an AWS region name`);
  if (!input.credentials?.accessKeyId) problems.push("credentials.accessKeyId is empty");
  if (!input.credentials?.secretAccessKey) problems.push("credentials.secretAccessKey is empty");
  if (Number.isNaN(input.now?.getTime())) problems.push("now is not a valid date");
  const expiration = input.credentials?.expiration;
  if (expiration && !Number.isNaN(input.now?.getTime()) && expiration.getTime() <= input.now.getTime()) {
    problems.push("credentials.expiration has passed");
  }
  if (problems.length > 0) throw new EksTokenError(problems.join("; "));
}

// Sorted by name, RFC 3986 percent-encoding: the same bytes Go's url.Values.Encode gives for these
// values, and the same escaping the signer used for its canonical query.
function encodeQuery(query: Record<string, string | string[] | null | undefined>): string {
  return Object.keys(query)
    .sort()
    .map((name) => {
      const value = query[name];
      if (typeof value !== "string") throw new EksTokenError(`unexpected query parameter shape for ${name}`);
      return `${rfc3986(name)}=${rfc3986(value)}`;
    })
    .join("&");
}

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Hands out one token until shortly before it expires, then makes a new one with fresh credentials. */
export class EksTokenProvider {
  private cached: { token: string; refreshAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly options: {
      clusterName: string;
      region: string;
      credentials: () => Promise<AwsCredentials>;
      clock: { now(): Date };
    },
  ) {}

  /** A token valid for at least REFRESH_BEFORE_EXPIRY_SECONDS more (unless the credentials end sooner). */
  async getToken(): Promise<string> {
    const now = this.options.clock.now();
    if (this.cached && now.getTime() < this.cached.refreshAt) return this.cached.token;
    // Concurrent callers share one signing instead of each fetching credentials.
    this.pending ??= this.refresh(now).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async refresh(now: Date): Promise<string> {
    const credentials = await this.options.credentials();
    const { token, expiresAt } = await createEksToken({
      clusterName: this.options.clusterName,
      region: this.options.region,
      credentials,
      now,
    });
    this.cached = { token, refreshAt: expiresAt.getTime() - REFRESH_BEFORE_EXPIRY_SECONDS * 1000 };
    return token;
  }
}
