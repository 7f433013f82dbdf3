import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/cli/flags.js";
import { parseCommand } from "../../src/cli/parse.js";

describe("parseCommand", () => {
  it("shows help with no arguments, help, --help or -h", () => {
    for (const argv of [[], ["help"], ["--help"], ["-h"]])
      expect(parseCommand(argv)).toEqual({ name: "help" });
  });
  it("prints the version with version, --version or -v", () => {
    for (const argv of [["version"], ["--version"], ["-v"]])
      expect(parseCommand(argv)).toEqual({ name: "version" });
  });
  it("rejects an unknown command by name", () => {
    expect(() => parseCommand(["bogus"])).toThrow(new UsageError('unknown command "bogus"'));
  });
  it("rejects an unknown option by name", () => {
    expect(() => parseCommand(["--bogus"])).toThrow(new UsageError("unknown option --bogus"));
  });
});

describe("parseCommand snapshot", () => {
  const snap = (...argv: string[]) => parseCommand(["snapshot", ...argv], { AWS_REGION: "eu-west-1" });

  it("defaults to ./backups, every namespace and resource, pages of 500, 4 at once", () => {
    expect(snap()).toEqual({
      name: "snapshot",
      kubeconfig: undefined,
      context: undefined,
      target: { kind: "dir", dir: "./backups" },
      prefix: undefined,
      clusterName: undefined,
      filters: {
        includeResources: ["*"],
        excludeResources: [],
        includeNamespaces: ["*"],
        excludeNamespaces: [],
      },
      pageSize: 500,
      concurrency: 4,
      raw: false,
      json: false,
    });
  });
  it("splits comma lists and repeated flags", () => {
    const cmd = snap(
      "--include-namespaces",
      "a,b",
      "--include-namespaces",
      "c",
      "--exclude-resources",
      "secrets, *.example.com",
    );
    expect(cmd).toMatchObject({
      filters: { includeNamespaces: ["a", "b", "c"], excludeResources: ["secrets", "*.example.com"] },
    });
  });
  it("targets S3 with --bucket, taking the region from AWS_REGION", () => {
    expect(
      snap(
        "--bucket",
        "my-backups",
        "--endpoint",
        "http://127.0.0.1:9000",
        "--sse",
        "aws:kms",
        "--kms-key-id",
        "k-1",
      ),
    ).toMatchObject({
      target: {
        kind: "s3",
        bucket: "my-backups",
        endpoint: "http://127.0.0.1:9000",
        region: "eu-west-1",
        sse: { mode: "aws:kms", kmsKeyId: "k-1" },
      },
    });
  });
  it("strips slashes around the prefix", () => {
    expect(snap("--prefix", "/team/backups/")).toMatchObject({ prefix: "team/backups" });
  });
  it("reports every problem at once, each naming its flag", () => {
    const err = (() => {
      try {
        snap(
          "--out",
          "x",
          "--bucket",
          "Bad_Bucket",
          "--page-size",
          "0",
          "--concurrency",
          "many",
          "--include-resources",
          "Pods",
          "--sse",
          "des",
        );
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(UsageError);
    const lines = err?.message.split("\n  ") ?? [];
    expect(lines).toEqual([
      "--include-resources: \"Pods\" is not a valid resource name or glob (use lowercase letters, digits, '-', '.', '*', '?')",
      "--out and --bucket cannot be used together (choose a folder or S3)",
      '--bucket "Bad_Bucket" is not a valid S3 bucket name',
      '--sse must be AES256 or aws:kms (got "des")',
      '--page-size must be a whole number from 1 to 10000 (got "0")',
      '--concurrency must be a whole number from 1 to 32 (got "many")',
    ]);
  });
  it("rejects S3 flags without --bucket and --kms-key-id without aws:kms", () => {
    expect(() => snap("--endpoint", "http://x")).toThrow("--endpoint only applies with --bucket");
    expect(() => snap("--bucket", "b-1", "--kms-key-id", "k")).toThrow("--kms-key-id requires --sse aws:kms");
  });
  it("takes an S3 Object Lock mode (any case) and its days", () => {
    expect(snap("--bucket", "b-1", "--object-lock", "governance", "--object-lock-days", "30")).toMatchObject({
      target: { kind: "s3", objectLock: { mode: "GOVERNANCE", days: 30 } },
    });
    expect(snap("--bucket", "b-1", "--object-lock", "COMPLIANCE", "--object-lock-days", "1")).toMatchObject({
      target: { objectLock: { mode: "COMPLIANCE", days: 1 } },
    });
    expect((snap("--bucket", "b-1") as { target: object }).target).not.toHaveProperty("objectLock");
  });
  it("names every Object Lock problem: no bucket, a bad mode, days missing, alone or out of range", () => {
    const problems = (...argv: string[]) => {
      try {
        snap(...argv);
      } catch (e) {
        return (e as Error).message.split("\n  ");
      }
      throw new Error("expected a UsageError");
    };
    expect(problems("--object-lock", "governance", "--object-lock-days", "3")).toEqual([
      "--object-lock only applies with --bucket",
      "--object-lock-days only applies with --bucket",
    ]);
    expect(problems("--bucket", "b-1", "--object-lock", "legal-hold")).toEqual([
      '--object-lock must be governance or compliance (got "legal-hold")',
      "--object-lock needs --object-lock-days N (how long objects stay locked)",
    ]);
    expect(problems("--bucket", "b-1", "--object-lock-days", "3")).toEqual([
      "--object-lock-days requires --object-lock",
    ]);
    expect(problems("--bucket", "b-1", "--object-lock", "governance", "--object-lock-days", "0")).toEqual([
      '--object-lock-days must be a whole number from 1 to 36500 (got "0")',
    ]);
  });
  it("rejects an unknown flag by name", () => {
    expect(() => snap("--bogus")).toThrow(/Unknown option '--bogus'/);
  });
  it("rejects a cluster name that cannot be part of a prefix", () => {
    expect(() => snap("--cluster-name", "a/b")).toThrow(/--cluster-name "a\/b" must be letters/);
  });
});

describe("bad flags are reported with every other problem", () => {
  it("names an unknown flag, a flag without its value and a valued switch together with bad values", () => {
    let message = "";
    try {
      parseCommand(["snapshot", "--everything", "--page-size", "0", "--sse", "x", "--raw=yes", "--context"]);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split("\n  ")).toEqual([
      "Unknown option '--everything'",
      "Option '--raw' does not take an argument",
      "Option '--context <value>' argument missing",
      "--sse only applies with --bucket",
      '--page-size must be a whole number from 1 to 10000 (got "0")',
    ]);
  });
});
