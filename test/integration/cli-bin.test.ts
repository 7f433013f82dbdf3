// The installed bin (bundled by `npm run build`) runs on this Node.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
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
  it("runs as an executable through its shebang, with V8 flags this Node accepts", async () => {
    const shebang = (await readFile("bin/kube-autosave.js", "utf8")).split("\n")[0] ?? "";
    const flags = shebang
      .match(/^#!\/usr\/bin\/env -S node((?: --[a-z-]+=\d+)+)$/)?.[1]
      ?.trim()
      .split(" ");
    expect(flags).toEqual(["--max-semi-space-size=8", "--heap-growing-percent=20"]);
    // Node rejects an unknown or malformed flag before running anything.
    const { stdout } = await run("node", [...(flags ?? []), "-p", "JSON.stringify(process.execArgv)"]);
    expect((JSON.parse(stdout) as string[]).slice(0, 2)).toEqual(flags);
    const direct = await run("./bin/kube-autosave.js", ["--version"]);
    expect(direct.stdout).toBe(`kube-autosave ${pkg.version}\n`);
  });
  it("exits 2 with the option's name on an unknown option", async () => {
    const err = await run("node", ["bin/kube-autosave.js", "--nope"]).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toContain("unknown option --nope");
  });
});
