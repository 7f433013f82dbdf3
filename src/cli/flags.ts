// Reading flags, generically: node's parseArgs without stopping at the first bad flag, comma lists,
// whole numbers in a range, positional counts. Every problem is collected, and reported at once as a
// UsageError (exit 2) by the command's parser.
import { type ParseArgsConfig, parseArgs } from "node:util";

/** Bad flags or arguments; the message names each problem. Exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

type ParsedFlags<T extends NonNullable<ParseArgsConfig["options"]>> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: true }>
>;

/**
 * Parses flags without stopping at the first bad one: unknown flags, flags without their value and
 * values given to switches become problems, reported with every other problem of the command.
 */
export function parseFlags<T extends NonNullable<ParseArgsConfig["options"]>>(
  argv: readonly string[],
  options: T,
): ParsedFlags<T> & { problems: string[] } {
  const { values, positionals, tokens } = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const problems: string[] = [];
  const bad = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const spec = options[token.name];
    // Messages as node's strict parser words them.
    if (!spec) problems.push(`Unknown option '${token.rawName}'`);
    else if (spec.type === "string" && token.value === undefined)
      problems.push(`Option '${token.rawName} <value>' argument missing`);
    else if (spec.type === "boolean" && token.value !== undefined)
      problems.push(`Option '${token.rawName}' does not take an argument`);
    else continue;
    bad.add(token.name);
  }
  const clean: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    const spec = options[name];
    if (!spec) continue;
    if (spec.type === "boolean") {
      if (!bad.has(name)) clean[name] = value;
    } else if (Array.isArray(value)) {
      clean[name] = value.filter((v): v is string => typeof v === "string");
    } else if (typeof value === "string") {
      clean[name] = value;
    }
  }
  return { values: clean, positionals, problems } as ParsedFlags<T> & { problems: string[] };
}

/** Splits repeatable comma-separated list flags: `--x a,b --x c` → [a, b, c]. */
export function splitList(values: readonly string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

export function parseIntFlag(
  name: string,
  raw: string | undefined,
  fallback: number,
  max: number,
  problems: string[],
): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    problems.push(`--${name} must be a whole number from 1 to ${max} (got "${raw}")`);
    return fallback;
  }
  return Number(raw);
}

/** `<command> takes <a> <b> (got N arguments)` when the count is not the names' count. */
export function positionalCount(
  command: string,
  positionals: string[],
  names: string[],
  problems: string[],
): void {
  if (positionals.length !== names.length) {
    problems.push(
      `${command} takes ${names.map((n) => `<${n}>`).join(" ")} (got ${positionals.length} argument${positionals.length === 1 ? "" : "s"})`,
    );
  }
}
