// The installed bin (bundled by `npm run build`) runs on this Node.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import pkg from "../../package.json" with { type: "json" };

const run = promisify(execFile);

describe("kube-autosave bin", () => {
  it("prints its version", async () => {
    const { stdout } = await run("node", ["bin/kube-autosave.js", "--version"]);
    expect(stdout).toBe(`kube-autosave ${pkg.version}\n`);
  });
  it("prints usage on --help", async () => {
    const { stdout } = await run("node", ["bin/kube-autosave.js", "--help"]);
    expect(stdout).toMatch(/^Usage: kube-autosave <command>/);
  });
  it("exits 2 with the option's name on an unknown option", async () => {
    const err = await run("node", ["bin/kube-autosave.js", "--nope"]).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toContain("unknown option --nope");
  });
});
