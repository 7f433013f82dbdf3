// argv → command data, as pure functions (no I/O), so parsing reads like a spec in tests.

/** Bad flags or arguments; the message names each problem. Exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export type Command = { readonly name: "help" } | { readonly name: "version" };

export const USAGE = `Usage: kube-autosave <command> [options]

Commands:
  help                 show this help
  version              print the version

Options:
  -h, --help           show this help
  -v, --version        print the version
`;

/** Parses the whole argv (without node and the script path). */
export function parseCommand(argv: readonly string[]): Command {
  const [first, ...rest] = argv;
  if (first === undefined || first === "help" || first === "--help" || first === "-h")
    return { name: "help" };
  if (first === "version" || first === "--version" || first === "-v") {
    if (rest.length > 0) throw new UsageError(`version takes no arguments (got ${rest.join(" ")})`);
    return { name: "version" };
  }
  if (first.startsWith("-")) throw new UsageError(`unknown option ${first}`);
  throw new UsageError(`unknown command "${first}"`);
}
