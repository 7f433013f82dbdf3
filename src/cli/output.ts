// What the CLI's commands share for talking to the user: the I/O they may touch, a terminal logger, and
// the formatting of sizes and changed fields. Commands import this, never each other.
import type { FieldChange } from "../snapshot/diff.js";
import type { Logger } from "../snapshot/ports.js";

/** What the CLI may touch of the process; tests pass their own. */
export interface CliIo {
  readonly stdout: { write(s: string): unknown; isTTY?: boolean };
  readonly stderr: { write(s: string): unknown; isTTY?: boolean };
  readonly env: Record<string, string | undefined>;
  readonly cwd: () => string;
  /**
   * Aborted on Ctrl-C / SIGTERM (its reason an Interrupted): commands cancel their requests, abort
   * uploads, leave no temp file and write no manifest; main then exits 128 + the signal's number.
   */
  readonly signal?: AbortSignal | undefined;
}

/** A logger for terminals: warnings and errors as text on stderr, with their context. */
export function stderrLogger(io: Pick<CliIo, "stderr">, before?: () => void): Logger {
  const line = (level: string, message: string, context?: Record<string, unknown>) => {
    before?.(); // e.g. clear a live progress line first
    const extra = context
      ? Object.entries(context).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
      : [];
    io.stderr.write(`${level}: ${message}${extra.length ? ` (${extra.join(", ")})` : ""}\n`);
  };
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: (m, c) => line("warning", m, c),
    error: (m, c) => line("error", m, c),
  };
}

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Values longer than this are cut in diff and history lines (a whole ConfigMap is not a field change). */
const MAX_VALUE_CHARS = 120;

/** `~ spec.replicas: 1 → 3`, `+ metadata.labels.env: "prod"`, `- data.key` (redacted: no value). */
export function fieldLine(f: FieldChange): string {
  if (f.op === "changed")
    return "from" in f ? `~ ${f.path}: ${value(f.from)} → ${value(f.to)}` : `~ ${f.path}`;
  const mark = f.op === "added" ? "+" : "-";
  const v = f.op === "added" ? f.to : f.from;
  return "to" in f || "from" in f ? `${mark} ${f.path}: ${value(v)}` : `${mark} ${f.path}`;
}

function value(v: unknown): string {
  const text = JSON.stringify(v) ?? "null";
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}
