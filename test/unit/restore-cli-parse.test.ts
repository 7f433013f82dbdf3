import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/cli/flags.js";
import { parseCommand } from "../../src/cli/parse.js";

const SNAPSHOT = "./backups/kube-aws/clusters/prod/backup/2026-11-24_03-00-00";
const restore = (...argv: string[]) => parseCommand(["restore", SNAPSHOT, ...argv]);
/** The usage problems of a restore command line, one per line. */
const problems = (...argv: string[]): string[] => {
  try {
    restore(...argv);
  } catch (err) {
    if (err instanceof UsageError) return err.message.split("\n  ");
    throw err;
  }
  return [];
};

describe("parseCommand restore", () => {
  it("defaults to everything, no moves, Retain for volumes", () => {
    expect(restore()).toMatchObject({
      name: "restore",
      namespaces: [],
      resources: [],
      names: [],
      selector: undefined,
      namespaceMappings: [],
      keepReclaimPolicy: false,
      update: false,
      dryRun: false,
      force: false,
    });
  });

  it("reads --name globs and --namespace-mappings as Velero writes them (old:new, comma-separated, repeatable)", () => {
    expect(
      restore(
        "--name",
        "web-*,db",
        "--name",
        "system:coredns",
        "--namespace-mappings",
        "shop:shop-copy,billing:billing-copy",
        "--namespace-mappings",
        "ops:ops-2",
        "--keep-reclaim-policy",
      ),
    ).toMatchObject({
      names: ["web-*", "db", "system:coredns"],
      namespaceMappings: [
        ["shop", "shop-copy"],
        ["billing", "billing-copy"],
        ["ops", "ops-2"],
      ],
      keepReclaimPolicy: true,
    });
  });

  it("reports every bad mapping, name and selector at once, by flag", () => {
    expect(
      problems(
        "--namespace-mappings",
        "shop,a:b:c,Shop:x,a:b,a:c,d:b",
        "--name",
        "a/b",
        "--selector",
        "!app=web",
      ),
    ).toEqual([
      "--selector \"!app=web\" is not a label selector: '!' only negates a key on its own (for a value use app!=value) (at character 5)",
      "--name: \"a/b\" is not a name or glob (no '/' or spaces)",
      "--namespace-mappings: \"shop\" is not old:new (two namespace names, lowercase letters, digits, '-')",
      "--namespace-mappings: \"a:b:c\" is not old:new (two namespace names, lowercase letters, digits, '-')",
      "--namespace-mappings: \"Shop:x\" is not old:new (two namespace names, lowercase letters, digits, '-')",
      "--namespace-mappings: a is mapped twice",
      "--namespace-mappings: two namespaces map to b (their objects would collide)",
    ]);
  });

  it("accepts every selector the planner understands, set-based ones too", () => {
    expect(restore("--selector", "env in (prod,staging),tier!=db,!canary")).toMatchObject({
      selector: "env in (prod,staging),tier!=db,!canary",
    });
  });
});
