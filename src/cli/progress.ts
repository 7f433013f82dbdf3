// One live status line on a terminal, as rclone and `kubectl rollout status` show progress: what is
// done of what there is, how much, how fast, for how long. It is rewritten in place (at most 10 times a
// second) and cleared at the end, when the summary takes its place. Nothing of it off a terminal or with
// --json. A snapshot feeds it its ProgressEvents (types); restore, verify and diff their FileProgress.
import type { FileProgress, ProgressEvent } from "../snapshot/index.js";
import type { CliIo } from "./output.js";

/** Redraws at most this often: a terminal cannot show more, and each write costs a syscall. */
const REDRAW_MS = 100;
const CLEAR = "\r\x1b[K";

/** What the line shows. */
interface Counts {
  /** Shown before the counts ("restoring: "); none for a snapshot. */
  readonly phase?: string | undefined;
  readonly done: number;
  readonly total: number;
  /** What `done` counts: "types", "files". */
  readonly unit: string;
  readonly failed: number;
  readonly items?: number | undefined;
  readonly bytes?: number | undefined;
}

/** The live line for a command, or undefined when there must be none (stderr not a terminal, --json). */
export function progressLine(io: Pick<CliIo, "stderr">, json: boolean): ProgressLine | undefined {
  return io.stderr.isTTY && !json ? new ProgressLine(io.stderr) : undefined;
}

export class ProgressLine {
  #counts: Counts = { done: 0, total: 0, unit: "types", failed: 0, items: 0, bytes: 0 };
  /** A snapshot's items stored per type (listing: so far; done: all). */
  readonly #typeItems = new Map<string, number>();
  readonly #started: number;
  /** When the current phase began: the rate is of this phase's items. */
  #phaseStarted: number;
  #drawn = 0;
  #shown = false;

  constructor(
    private readonly out: { write(s: string): unknown },
    private readonly now: () => number = Date.now,
  ) {
    this.#started = now();
    this.#phaseStarted = this.#started;
  }

  /** Takes a snapshot progress event and redraws when it is time. */
  onSnapshot(e: ProgressEvent): void {
    const c = this.#counts;
    if (e.phase === "planned") this.#counts = { ...c, total: e.types ?? 0 };
    else if (e.phase === "restarted") this.#typeItems.set(e.resource, 0);
    else this.#typeItems.set(e.resource, e.items);
    let items = 0;
    for (const n of this.#typeItems.values()) items += n;
    const ended = e.phase === "done" || e.phase === "failed";
    this.#counts = {
      ...this.#counts,
      items,
      done: this.#counts.done + (e.phase === "done" ? 1 : 0),
      failed: this.#counts.failed + (e.phase === "failed" ? 1 : 0),
      bytes: (this.#counts.bytes ?? 0) + (e.phase === "done" ? (e.bytes ?? 0) : 0),
    };
    this.#draw(ended);
  }

  /** Takes the progress of a run over a snapshot's files (restore, verify, diff) and redraws when it is time. */
  onFiles(p: FileProgress): void {
    const newPhase = p.phase !== this.#counts.phase;
    if (newPhase) this.#phaseStarted = this.now();
    this.#counts = {
      phase: p.phase,
      done: p.files,
      total: p.totalFiles,
      unit: "files",
      failed: 0,
      items: p.items,
      bytes: p.bytes,
    };
    this.#draw(newPhase || p.files === p.totalFiles);
  }

  /** The line as it reads now. */
  text(): string {
    const c = this.#counts;
    const t = this.now();
    const seconds = Math.max(0, (t - this.#started) / 1000);
    const parts = [
      `${c.phase ? `${c.phase}: ` : ""}${c.done + c.failed}/${c.total} ${c.unit}${c.failed > 0 ? `, ${c.failed} failed` : ""}`,
    ];
    if (c.items !== undefined) parts.push(`${c.items.toLocaleString("en-US")} items`);
    if (c.bytes !== undefined) parts.push(`${(c.bytes / 1024 / 1024).toFixed(1)} MiB`);
    if (c.items !== undefined) {
      const phaseSeconds = Math.max(0, (t - this.#phaseStarted) / 1000);
      const rate = phaseSeconds > 0 ? Math.round(c.items / phaseSeconds) : 0;
      parts.push(`${rate.toLocaleString("en-US")} items/s`);
    }
    parts.push(clock(seconds));
    return `  ${parts.join(" · ")}`;
  }

  /** Removes the line (before a warning or other output is printed, and at the end). */
  clear(): void {
    if (this.#shown) this.out.write(CLEAR);
    this.#shown = false;
  }

  #draw(force: boolean): void {
    const t = this.now();
    if (!force && t - this.#drawn < REDRAW_MS) return;
    this.#drawn = t;
    this.out.write(`${CLEAR}${this.text()}`);
    this.#shown = true;
  }
}

/** 75 s → "01:15". */
function clock(seconds: number): string {
  const s = Math.floor(seconds);
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}
