import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/cli/flags.js";
import { parseCommand } from "../../src/cli/parse.js";

const ENV = { AWS_REGION: "eu-west-1" };
const parse = (...argv: string[]) => parseCommand(argv, ENV);
const problems = (...argv: string[]) => {
  try {
    parse(...argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message.split("\n  ");
  }
  throw new Error(`expected a UsageError for ${argv.join(" ")}`);
};

describe("parseCommand history", () => {
  it("reads a location, resource.group/name and a namespace", () => {
    expect(
      parse(
        "history",
        "s3://bkt/kube-aws/clusters/prod/backup",
        "deployments.apps/web",
        "--namespace",
        "shop",
      ),
    ).toEqual({
      name: "history",
      location: {
        target: { kind: "s3", bucket: "bkt", region: "eu-west-1" },
        prefix: "kube-aws/clusters/prod/backup",
      },
      resource: "deployments.apps",
      objectName: "web",
      namespace: "shop",
      json: false,
    });
  });

  it("takes a core type, a name with colons (RBAC), no namespace, --json, and a folder", () => {
    expect(
      parse("history", "./backups", "clusterroles.rbac.authorization.k8s.io/system:node", "--json"),
    ).toMatchObject({
      location: { target: { kind: "dir", dir: "./backups" }, prefix: "" },
      resource: "clusterroles.rbac.authorization.k8s.io",
      objectName: "system:node",
      namespace: undefined,
      json: true,
    });
    expect(parse("history", "./b", "configmaps/settings")).toMatchObject({ resource: "configmaps" });
  });

  it("names every problem: arguments, the object's form, the namespace, S3 flags on a folder", () => {
    expect(problems("history", "./b")).toEqual(["history takes <location> <resource/name> (got 1 argument)"]);
    expect(
      problems("history", "./b", "Deployments/web", "--namespace", "Bad_NS", "--endpoint", "http://x"),
    ).toEqual([
      "--endpoint only applies to s3:// locations",
      '"Deployments/web" is not <resource>[.<group>]/<name> (e.g. deployments.apps/web, configmaps/settings)',
      '--namespace "Bad_NS" is not a namespace name',
    ]);
    expect(problems("history", "./b", "configmaps/")).toEqual([
      '"configmaps/" is not <resource>[.<group>]/<name> (e.g. deployments.apps/web, configmaps/settings)',
    ]);
    expect(problems("history", "./b", "configmaps/a/b")).toEqual([
      '"configmaps/a/b" is not <resource>[.<group>]/<name> (e.g. deployments.apps/web, configmaps/settings)',
    ]);
  });
});
