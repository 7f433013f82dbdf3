import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { profileRegion, s3Region } from "../../src/cli/aws-region.js";

let dir: string;
let config: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kube-autosave-aws-config-"));
  config = join(dir, "config");
  await writeFile(
    config,
    [
      "[default]",
      "region = eu-west-1 ; the default profile",
      "",
      "[profile   prod]",
      "output = json",
      "region=ap-southeast-2",
      "[profile empty]",
      "output = text",
      "",
    ].join("\n"),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the S3 region, found as the AWS CLI finds it", () => {
  it("reads the default profile's region from AWS_CONFIG_FILE", async () => {
    expect(await profileRegion({ AWS_CONFIG_FILE: config })).toBe("eu-west-1");
  });

  it("reads AWS_PROFILE's region (section [profile NAME])", async () => {
    expect(await profileRegion({ AWS_CONFIG_FILE: config, AWS_PROFILE: "prod" })).toBe("ap-southeast-2");
  });

  it("has none for a profile without region or a missing file", async () => {
    expect(await profileRegion({ AWS_CONFIG_FILE: config, AWS_PROFILE: "empty" })).toBeUndefined();
    expect(await profileRegion({ AWS_CONFIG_FILE: join(dir, "nope") })).toBeUndefined();
  });

  it("reads ~/.aws/config from HOME when AWS_CONFIG_FILE is not set", async () => {
    const home = await mkdtemp(join(dir, "home-"));
    await mkdir(join(home, ".aws"));
    await writeFile(join(home, ".aws", "config"), "[default]\nregion = eu-central-1\n");

    expect(await profileRegion({ HOME: home })).toBe("eu-central-1");
  });

  it("prefers the given region (--region, AWS_REGION), then the profile, then us-east-1", async () => {
    expect(await s3Region("sa-east-1", { AWS_CONFIG_FILE: config })).toBe("sa-east-1");
    expect(await s3Region(undefined, { AWS_CONFIG_FILE: config })).toBe("eu-west-1");
    expect(await s3Region(undefined, { AWS_CONFIG_FILE: join(dir, "nope") })).toBe("us-east-1");
  });
});
