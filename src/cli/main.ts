// The CLI's outermost layer: parse argv into a command, run it, turn errors into exit codes. Each
// command's module is imported when it runs, so `--help` or `list` does not pay for the others.
export type { CliIo } from "./output.js";

import pkg from "../../package.json" with { type: "json" };
import type { Command, CommandName } from "./commands.js";
import { UsageError } from "./flags.js";
import type { CliIo } from "./output.js";
import { parseCommand } from "./parse.js";
import { commandUsage, USAGE } from "./usage.js";

/** Signals that stop a run, with their numbers (the exit code is 128 + it, as shells report). */
const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;
export type StopSignal = keyof typeof SIGNAL_NUMBERS;

/** Why a run was stopped: the abort reason of CliIo.signal. */
export class Interrupted extends Error {
  override readonly name = "Interrupted";
  constructor(readonly signal: StopSignal) {
    super(`interrupted (${signal})`);
  }
}

/** The exit code of a run stopped by `signal`, after one line saying what was stopped. */
function stopped(io: CliIo, signal: StopSignal, what: string): number {
  io.stderr.write(`kube-autosave: stopped by ${signal}: ${what}\n`);
  return 128 + SIGNAL_NUMBERS[signal];
}

type CommandOf<N extends CommandName> = Extract<Command, { readonly name: N }>;
type Runner<N extends CommandName> = (command: CommandOf<N>, io: CliIo) => Promise<number>;

/** Each command's run function, from its own module, imported only when that command runs. */
const RUNNERS: { readonly [N in CommandName]: () => Promise<Runner<N>> } = {
  snapshot: async () => (await import("./snapshot.js")).runSnapshot,
  list: async () => (await import("./list.js")).runList,
  verify: async () => (await import("./verify.js")).runVerify,
  diff: async () => (await import("./diff.js")).runDiff,
  restore: async () => (await import("./restore.js")).runRestore,
  history: async () => (await import("./history.js")).runHistory,
};

async function runCommand<N extends CommandName>(name: N, command: CommandOf<N>, io: CliIo): Promise<number> {
  const runner = await RUNNERS[name]();
  return await runner(command, io);
}

/** Runs the CLI and returns the exit code: 0 ok, 1 failed, 2 bad usage, 3 partial snapshot or differences found. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const code = await run(argv, io);
  const reason = io.signal?.aborted ? io.signal.reason : undefined;
  // A command that does not watch the signal itself (list, verify, diff, history: they stop at their next
  // read, when the store throws) may finish while being stopped: it still exits as stopped.
  if (reason instanceof Interrupted && code < 128)
    return stopped(io, reason.signal, "the run did not finish");
  return code;
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const command = parseCommand(argv, io.env);
    switch (command.name) {
      case "help":
        io.stdout.write(command.command ? commandUsage(command.command) : USAGE);
        return 0;
      case "version":
        io.stdout.write(`${pkg.name} ${pkg.version}\n`);
        return 0;
      default:
        return await runCommand(command.name, command, io);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`kube-autosave: ${err.message}\nRun 'kube-autosave --help' for usage.\n`);
      return 2;
    }
    const reason = io.signal?.aborted ? io.signal.reason : undefined;
    // The store's reads throw the signal's reason itself: say no more than that the run did not finish.
    if (reason instanceof Interrupted)
      return stopped(io, reason.signal, err === reason ? "the run did not finish" : (err as Error).message);
    io.stderr.write(`kube-autosave: ${(err as Error).message}\n`);
    return 1;
  }
}
