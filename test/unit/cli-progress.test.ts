import { describe, expect, it } from "vitest";
import { ProgressLine } from "../../src/cli/progress.js";

/** A ProgressLine writing into a string, on a clock the test moves. */
function line() {
  let out = "";
  let now = 1_000_000;
  const progress = new ProgressLine({ write: (s: string) => (out += s) }, () => now);
  return {
    progress,
    advance: (ms: number) => {
      now += ms;
    },
    output: () => out,
  };
}

describe("the live status line of a snapshot on a terminal", () => {
  it("shows types done of all, items, bytes, rate and elapsed time, rewritten in place", () => {
    const { progress, advance, output } = line();

    progress.onSnapshot({ resource: "", phase: "planned", items: 0, types: 57 });
    advance(2_000);
    progress.onSnapshot({ resource: "configmaps", phase: "listing", items: 500 });
    progress.onSnapshot({ resource: "secrets", phase: "done", items: 1_500, bytes: 3 * 1024 * 1024 });
    advance(73_000);
    progress.onSnapshot({ resource: "configmaps", phase: "done", items: 12_000, bytes: 1024 * 1024 });

    expect(progress.text()).toBe("  2/57 types · 13,500 items · 4.0 MiB · 180 items/s · 01:15");
    expect(output().endsWith(`\r\x1b[K${progress.text()}`)).toBe(true);
    expect(output()).not.toContain("\n");
  });

  it("redraws at most every 100 ms, except when a type ends", () => {
    const { progress, advance, output } = line();
    progress.onSnapshot({ resource: "", phase: "planned", items: 0, types: 3 });
    const draws = () => output().split("\r\x1b[K").length - 1;

    for (let i = 1; i <= 10; i++) {
      advance(10);
      progress.onSnapshot({ resource: "pods", phase: "listing", items: i * 100 });
    }
    expect(draws()).toBe(2); // the plan, then the first listing 100 ms later

    progress.onSnapshot({ resource: "pods", phase: "done", items: 1_000, bytes: 0 });
    expect(draws()).toBe(3);
  });

  it("counts failed types and starts a restarted type's items again", () => {
    const { progress } = line();
    progress.onSnapshot({ resource: "", phase: "planned", items: 0, types: 4 });
    progress.onSnapshot({ resource: "pods", phase: "listing", items: 400 });
    progress.onSnapshot({ resource: "pods", phase: "restarted", items: 0 });
    progress.onSnapshot({ resource: "secrets", phase: "failed", items: 0 });

    expect(progress.text()).toMatch(/^ {2}1\/4 types, 1 failed · 0 items · 0\.0 MiB/);
  });

  it("clears itself once, and not at all when nothing was drawn", () => {
    const { progress, output } = line();
    progress.clear();
    expect(output()).toBe("");

    progress.onSnapshot({ resource: "", phase: "planned", items: 0, types: 1 });
    progress.clear();
    progress.clear();
    expect(output().endsWith("\r\x1b[K")).toBe(true);
    expect(output().split("\r\x1b[K").length - 1).toBe(2);
  });
});

describe("the live status line of restore, verify and diff on a terminal", () => {
  it("shows the phase, files done of all, items, bytes, the phase's rate and the elapsed time", () => {
    const { progress, advance, output } = line();

    progress.onFiles({ phase: "reading", files: 0, totalFiles: 340, items: 0 });
    advance(4_000);
    progress.onFiles({ phase: "reading", files: 340, totalFiles: 340, items: 9_000 });
    expect(progress.text()).toBe("  reading: 340/340 files · 9,000 items · 2,250 items/s · 00:04");

    progress.onFiles({ phase: "restoring", files: 0, totalFiles: 120, items: 0 });
    advance(10_000);
    progress.onFiles({ phase: "restoring", files: 12, totalFiles: 120, items: 2_500 });
    // The rate is of this phase (2,500 in 10 s), the clock of the whole run.
    expect(progress.text()).toBe("  restoring: 12/120 files · 2,500 items · 250 items/s · 00:14");
    expect(output().endsWith(`\r\x1b[K${progress.text()}`)).toBe(true);
    expect(output()).not.toContain("\n");
  });

  it("shows bytes when the run counts them, and only files for a phase without items", () => {
    const { progress, advance } = line();
    progress.onFiles({ phase: "checking", files: 3, totalFiles: 54, items: 120, bytes: 1.5 * 1024 * 1024 });
    advance(1_000);
    expect(progress.text()).toBe("  checking: 3/54 files · 120 items · 1.5 MiB · 120 items/s · 00:01");

    progress.onFiles({ phase: "reading locks", files: 7, totalFiles: 55 });
    expect(progress.text()).toBe("  reading locks: 7/55 files · 00:01");
  });

  it("redraws at most every 100 ms, except when a phase starts or its last file is done", () => {
    const { progress, advance, output } = line();
    const draws = () => output().split("\r\x1b[K").length - 1;

    progress.onFiles({ phase: "comparing", files: 0, totalFiles: 50, items: 0 });
    for (let i = 1; i <= 10; i++) {
      advance(10);
      progress.onFiles({ phase: "comparing", files: i, totalFiles: 50, items: i * 10 });
    }
    expect(draws()).toBe(2); // the phase's start, then 100 ms later

    progress.onFiles({ phase: "comparing", files: 50, totalFiles: 50, items: 500 });
    expect(draws()).toBe(3);
  });
});
