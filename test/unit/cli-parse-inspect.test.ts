import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/cli/flags.js";
import { parseCommand } from "../../src/cli/parse.js";

const ENV = { AWS_REGION: "eu-west-1" };
const parse = (...argv: string[]) => parseCommand(argv, ENV);
const usageError = (...argv: string[]) => {
  try {
    parse(...argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`expected a UsageError for ${argv.join(" ")}`);
};

describe("parseCommand list", () => {
  it("reads s3://bucket/prefix as a bucket and a prefix, the region from AWS_REGION", () => {
    expect(parse("list", "s3://bkt/kube-aws/clusters/prod/backup")).toEqual({
      name: "list",
      location: {
        target: { kind: "s3", bucket: "bkt", region: "eu-west-1" },
        prefix: "kube-aws/clusters/prod/backup",
      },
      json: false,
    });
  });
  it("reads a bucket without a prefix as the bucket's root", () => {
    expect(parse("list", "s3://bkt", "--endpoint", "http://127.0.0.1:9000", "--region", "us-east-1")).toEqual(
      {
        name: "list",
        location: {
          target: { kind: "s3", bucket: "bkt", endpoint: "http://127.0.0.1:9000", region: "us-east-1" },
          prefix: "",
        },
        json: false,
      },
    );
  });
  it("reads a folder path, trailing slash dropped, with --json", () => {
    expect(parse("list", "./backups/kube-aws/clusters/prod/backup/", "--json")).toEqual({
      name: "list",
      location: { target: { kind: "dir", dir: "./backups/kube-aws/clusters/prod/backup" }, prefix: "" },
      json: true,
    });
  });
  it("wants exactly one location", () => {
    expect(usageError("list")).toContain("list takes <location> (got 0 arguments)");
    expect(usageError("list", "a", "b")).toContain("list takes <location> (got 2 arguments)");
  });
  it("rejects an invalid bucket name by name", () => {
    expect(usageError("list", "s3://Bad_Bucket/p")).toBe(
      '"s3://Bad_Bucket/p": "Bad_Bucket" is not a valid S3 bucket name',
    );
  });
});

describe("parseCommand verify", () => {
  it("splits s3://bucket/prefix/<snapshot> into bucket, prefix and snapshot name", () => {
    expect(parse("verify", "s3://bkt/p/2026-11-24_03-00-00")).toEqual({
      name: "verify",
      snapshot: {
        target: { kind: "s3", bucket: "bkt", region: "eu-west-1" },
        prefix: "p",
        snapshot: "2026-11-24_03-00-00",
      },
      json: false,
    });
  });
  it("takes a snapshot at the bucket's root and a -N suffixed name", () => {
    expect(parse("verify", "s3://bkt/2026-11-24_03-00-00-2")).toMatchObject({
      snapshot: { target: { bucket: "bkt" }, prefix: "", snapshot: "2026-11-24_03-00-00-2" },
    });
  });
  it("splits a folder path into the folder and the snapshot name", () => {
    expect(parse("verify", "./backups/kube-aws/clusters/t/backup/2026-11-24_03-00-00/", "--json")).toEqual({
      name: "verify",
      snapshot: {
        target: { kind: "dir", dir: "./backups/kube-aws/clusters/t/backup" },
        prefix: "",
        snapshot: "2026-11-24_03-00-00",
      },
      json: true,
    });
  });
  it("reads a bare snapshot name as one in the current folder", () => {
    expect(parse("verify", "2026-11-24_03-00-00")).toMatchObject({
      snapshot: { target: { kind: "dir", dir: "." }, snapshot: "2026-11-24_03-00-00" },
    });
  });
  it("rejects a path that does not end in a snapshot name", () => {
    expect(usageError("verify", "./backups/kube-aws/clusters/t/backup")).toBe(
      '"./backups/kube-aws/clusters/t/backup" does not end in a snapshot name like 2026-11-24_03-00-00',
    );
    expect(usageError("verify", "s3://bkt/p/latest.json")).toContain("does not end in a snapshot name");
    expect(usageError("verify", "./b/2026-11-24")).toContain("does not end in a snapshot name");
  });
  it("rejects --endpoint and --region for folders", () => {
    expect(usageError("verify", "./b/2026-11-24_03-00-00", "--endpoint", "http://x", "--region", "r")).toBe(
      "--endpoint only applies to s3:// locations\n  --region only applies to s3:// locations",
    );
  });
  it("rejects an endpoint that is not an http(s) URL", () => {
    expect(usageError("verify", "s3://bkt/2026-11-24_03-00-00", "--endpoint", "ftp://x")).toBe(
      '--endpoint "ftp://x" is not an http(s) URL',
    );
  });
});

describe("parseCommand diff", () => {
  it("takes a folder snapshot and an S3 snapshot, the S3 flags applying to the S3 one", () => {
    expect(
      parse(
        "diff",
        "./a/2026-11-24_03-00-00",
        "s3://bkt/p/2026-11-25_03-00-00",
        "--endpoint",
        "http://127.0.0.1:9000",
        "--json",
      ),
    ).toEqual({
      name: "diff",
      from: { target: { kind: "dir", dir: "./a" }, prefix: "", snapshot: "2026-11-24_03-00-00" },
      to: {
        target: { kind: "s3", bucket: "bkt", endpoint: "http://127.0.0.1:9000", region: "eu-west-1" },
        prefix: "p",
        snapshot: "2026-11-25_03-00-00",
      },
      json: true,
    });
  });
  it("wants exactly two snapshots", () => {
    expect(usageError("diff", "./a/2026-11-24_03-00-00")).toContain("diff takes <a> <b> (got 1 argument)");
  });
  it("names an unknown flag", () => {
    expect(usageError("diff", "./a/2026-11-24_03-00-00", "./b/2026-11-24_03-00-00", "--force")).toBe(
      "Unknown option '--force'",
    );
  });
  it("names which argument is not a snapshot", () => {
    expect(usageError("diff", "./a/2026-11-24_03-00-00", "./b/nope")).toBe(
      '"./b/nope" does not end in a snapshot name like 2026-11-24_03-00-00',
    );
  });
});
