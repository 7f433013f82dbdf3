import { describe, expect, it } from "vitest";
import { COMMAND_NAMES } from "../../src/cli/commands.js";
import { main } from "../../src/cli/main.js";
import { parseCommand } from "../../src/cli/parse.js";
import { commandUsage } from "../../src/cli/usage.js";

/** Runs the CLI in-process with captured output (no server is involved in --help). */
async function run(argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: {},
    cwd: () => "/",
  });
  return { code, stdout, stderr };
}

describe("<command> --help", () => {
  it.each(
    COMMAND_NAMES.flatMap((c) => [
      [c, "--help"],
      [c, "-h"],
    ]),
  )("%s %s prints that command's usage, exit 0", async (command, flag) => {
    const res = await run([command, "--bucket", "b", flag]);

    expect(res).toEqual({ code: 0, stdout: commandUsage(command), stderr: "" });
    expect(parseCommand([command, flag])).toEqual({ name: "help", command });
  });

  it.each([
    ["snapshot", ["--page-size N", "--object-lock MODE", "Exit codes:"], ["--namespace-mappings"]],
    ["restore", ["--namespace-mappings M", "--endpoint URL", "--keep-reclaim-policy"], ["--page-size"]],
    ["history", ["history <location>", "history options:", "--endpoint URL"], ["--page-size", "--update"]],
    ["verify", ["verify <snapshot>", "--endpoint URL", "Exit codes:"], ["--namespace-mappings"]],
  ] as const)("%s's usage has its options and not the others'", (command, has, hasNot) => {
    const usage = commandUsage(command);

    expect(usage.startsWith(`Usage: kube-autosave ${command} [options]\n`)).toBe(true);
    for (const text of has) expect(usage).toContain(text);
    for (const text of hasNot) expect(usage).not.toContain(text);
  });
});
