// The CLI's outermost layer: parse argv into a command, run it, turn errors into exit codes.
import pkg from "../../package.json" with { type: "json" };
import { runDiff } from "./diff.js";
import { runList } from "./list.js";
import { parseCommand, USAGE, UsageError } from "./parse.js";
import { runRestore } from "./restore.js";
import { runSnapshot } from "./snapshot.js";
import { runVerify } from "./verify.js";

/** What the CLI may touch of the process; tests pass their own. */
export interface CliIo {
  readonly stdout: { write(s: string): unknown; isTTY?: boolean };
  readonly stderr: { write(s: string): unknown; isTTY?: boolean };
  readonly env: Record<string, string | undefined>;
  readonly cwd: () => string;
}

/** Runs the CLI and returns the exit code: 0 ok, 1 failed, 2 bad usage, 3 partial snapshot or differences found. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const command = parseCommand(argv, io.env);
    switch (command.name) {
      case "help":
        io.stdout.write(USAGE);
        return 0;
      case "version":
        io.stdout.write(`${pkg.name} ${pkg.version}\n`);
        return 0;
      case "snapshot":
        return await runSnapshot(command, io);
      case "list":
        return await runList(command, io);
      case "verify":
        return await runVerify(command, io);
      case "diff":
        return await runDiff(command, io);
      case "restore":
        return await runRestore(command, io);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`kube-autosave: ${err.message}\nRun 'kube-autosave --help' for usage.\n`);
      return 2;
    }
    io.stderr.write(`kube-autosave: ${(err as Error).message}\n`);
    return 1;
  }
}
