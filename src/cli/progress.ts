// One live status line on a terminal, as rclone and `kubectl rollout status` show progress: what is
// done of what there is, how much, how fast, for how long. It is rewritten in place (at most 10 times a
// second) and cleared at the end, when the summary takes its place. Nothing of it off a terminal.
import type { ProgressEvent } from "../snapshot/index.js";

/** Redraws at most this often: a terminal cannot show more, and each write costs a syscall. */
const REDRAW_MS = 100;
const CLEAR = "\r\x1b[K";

export class ProgressLine {
  #types = 0;
  #done = 0;
  #failed = 0;
  /** Items stored per type (listing: so far; done: all). */
  readonly #items = new Map<string, number>();
  #bytes = 0;
  readonly #started: number;
  #drawn = 0;
  #shown = false;

  constructor(
    private readonly out: { write(s: string): unknown },
    private readonly now: () => number = Date.now,
  ) {
    this.#started = now();
  }

  /** Takes a snapshot progress event and redraws when it is time. */
  onSnapshot(e: ProgressEvent): void {
    if (e.phase === "planned") this.#types = e.types ?? 0;
    else if (e.phase === "restarted") this.#items.set(e.resource, 0);
    else this.#items.set(e.resource, e.items);
    if (e.phase === "done") {
      this.#done += 1;
      this.#bytes += e.bytes ?? 0;
    }
    if (e.phase === "failed") this.#failed += 1;
    this.#draw(e.phase === "done" || e.phase === "failed");
  }

  /** The line as it reads now. */
  text(): string {
    const seconds = Math.max(0, (this.now() - this.#started) / 1000);
    let items = 0;
    for (const n of this.#items.values()) items += n;
    const rate = seconds > 0 ? Math.round(items / seconds) : 0;
    const failed = this.#failed > 0 ? `, ${this.#failed} failed` : "";
    return (
      `  ${this.#done + this.#failed}/${this.#types} types${failed} · ${items.toLocaleString("en-US")} items · ` +
      `${(this.#bytes / 1024 / 1024).toFixed(1)} MiB · ${rate.toLocaleString("en-US")} items/s · ${clock(seconds)}`
    );
  }

  /** Removes the line (before a warning is printed, and at the end). */
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
