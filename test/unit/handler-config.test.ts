import { describe, expect, it } from "vitest";
import { ConfigError, parseHandlerConfig, parseInvocation } from "../../src/handlers/config.js";

const ENV = {
  CLUSTER_NAME: "prod-eks",
  AWS_REGION: "eu-west-1",
  BUCKET: "my-backups",
  SSE_MODE: "aws:kms",
  KMS_KEY_ID: "arn:aws:kms:eu-west-1:1:key/k",
};

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("handler configuration", () => {
  it("reads a complete environment with defaults", () => {
    expect(parseHandlerConfig(ENV)).toEqual({
      clusters: ["prod-eks"],
      region: "eu-west-1",
      bucket: "my-backups",
      prefix: undefined,
      sse: { mode: "aws:kms", kmsKeyId: "arn:aws:kms:eu-west-1:1:key/k" },
      objectLock: undefined,
      filters: {
        includeResources: ["*"],
        excludeResources: [],
        includeNamespaces: ["*"],
        excludeNamespaces: [],
      },
      pageSize: 500,
      concurrency: 4,
      deadlineMarginMs: 30_000,
      s3Endpoint: undefined,
      eksEndpoint: undefined,
    });
  });

  it("reports every bad or missing variable at once, by name", () => {
    expect(
      problemsOf(() =>
        parseHandlerConfig({
          AWS_REGION: "mars",
          SSE_MODE: "rot13",
          PAGE_SIZE: "0",
          CONCURRENCY: "x",
          S3_ENDPOINT: "ftp://x",
          EXCLUDE_RESOURCES: "Bad Glob",
        }),
      ),
    ).toEqual([
      "CLUSTER_NAME is required (the EKS cluster to back up; CLUSTER_NAMES for several)",
      'AWS_REGION must be an AWS region such as eu-west-1 (got "mars")',
      "BUCKET is required (the S3 bucket for snapshots)",
      'SSE_MODE must be aws:kms, AES256 or none (got "rot13")',
      expect.stringMatching(/^EXCLUDE_RESOURCES: "Bad Glob" is not a valid resource/),
      'PAGE_SIZE must be a whole number from 1 to 10000 (got "0")',
      'CONCURRENCY must be a whole number from 1 to 32 (got "x")',
      'S3_ENDPOINT must be an http(s) URL (got "ftp://x")',
    ]);
  });

  it("reads the Object Lock mode (any case) and days, and treats off or nothing as no lock", () => {
    expect(
      parseHandlerConfig({ ...ENV, OBJECT_LOCK: "governance", OBJECT_LOCK_DAYS: "30" }).objectLock,
    ).toEqual({ mode: "GOVERNANCE", days: 30 });
    expect(
      parseHandlerConfig({ ...ENV, OBJECT_LOCK: "COMPLIANCE", OBJECT_LOCK_DAYS: "7" }).objectLock,
    ).toEqual({
      mode: "COMPLIANCE",
      days: 7,
    });
    expect(
      parseHandlerConfig({ ...ENV, OBJECT_LOCK: "off", OBJECT_LOCK_DAYS: "30" }).objectLock,
    ).toBeUndefined();
    expect(parseHandlerConfig(ENV).objectLock).toBeUndefined();
  });

  it("names a bad Object Lock mode, missing days and days out of range", () => {
    expect(problemsOf(() => parseHandlerConfig({ ...ENV, OBJECT_LOCK: "legal-hold" }))).toEqual([
      'OBJECT_LOCK must be off, governance or compliance (got "legal-hold")',
    ]);
    expect(problemsOf(() => parseHandlerConfig({ ...ENV, OBJECT_LOCK: "governance" }))).toEqual([
      "OBJECT_LOCK_DAYS is required with OBJECT_LOCK (days each snapshot object stays locked)",
    ]);
    expect(
      problemsOf(() => parseHandlerConfig({ ...ENV, OBJECT_LOCK: "governance", OBJECT_LOCK_DAYS: "0" })),
    ).toEqual(['OBJECT_LOCK_DAYS must be a whole number from 1 to 36500 (got "0")']);
  });

  it("accepts several clusters", () => {
    expect(
      parseHandlerConfig({ ...ENV, CLUSTER_NAME: undefined, CLUSTER_NAMES: "prod-eks, staging-eks" })
        .clusters,
    ).toEqual(["prod-eks", "staging-eks"]);
  });
});

describe("invocation events", () => {
  const config = parseHandlerConfig({
    ...ENV,
    CLUSTER_NAMES: "prod-eks,staging-eks",
    EXCLUDE_NAMESPACES: "scratch",
  });

  it("treats an EventBridge Scheduled Event as a scheduled run of the first cluster", () => {
    const event = {
      version: "0",
      id: "x",
      "detail-type": "Scheduled Event",
      source: "aws.events",
      detail: {},
    };
    expect(parseInvocation(event, config)).toMatchObject({
      cluster: "prod-eks",
      prefix: "kube-aws/clusters/prod-eks/backup",
      trigger: "schedule",
      raw: false,
    });
  });

  it("takes a schedule's constant input naming one of the clusters", () => {
    expect(parseInvocation({ cluster: "staging-eks", trigger: "schedule" }, config)).toMatchObject({
      trigger: "schedule",
      cluster: "staging-eks",
      prefix: "kube-aws/clusters/staging-eks/backup",
    });
  });

  it("lets a manual invoke override the filters, keeping the rest", () => {
    expect(
      parseInvocation({ includeNamespaces: ["team-a"], excludeResources: ["secrets"] }, config).filters,
    ).toEqual({
      includeResources: ["*"],
      excludeResources: ["secrets"],
      includeNamespaces: ["team-a"],
      excludeNamespaces: ["scratch"],
    });
  });

  it("rejects unknown keys, wrong types and clusters it does not own, all at once", () => {
    expect(
      problemsOf(() =>
        parseInvocation(
          { cluster: "other", includeNamespace: ["x"], excludeResources: "secrets", raw: "yes" },
          config,
        ),
      ),
    ).toEqual([
      'unknown key "includeNamespace" (allowed: cluster, trigger, includeNamespaces, excludeNamespaces, includeResources, excludeResources, raw)',
      'cluster "other" is not one this function backs up (prod-eks, staging-eks)',
      "excludeResources must be a non-empty array of strings",
      "raw must be true or false",
    ]);
    expect(problemsOf(() => parseInvocation([1], config))).toEqual(["the event must be a JSON object"]);
  });

  it("substitutes {cluster} in a configured prefix", () => {
    const c = parseHandlerConfig({ ...ENV, PREFIX: "/backups/{cluster}/" });
    expect(parseInvocation(null, c).prefix).toBe("backups/prod-eks");
  });
});
