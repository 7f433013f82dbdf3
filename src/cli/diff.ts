// `kube-autosave diff <a> <b>`: added / removed / changed objects per resource type and namespace, with
// the changed field paths and values (Secrets: paths only, never values). a and b may live in different
// stores (a folder and S3). Output is written file by file as the comparison goes, in text or JSON.
//
// Exit codes: 0 = no object differs, EXIT_DIFFERENT (3) = objects differ, 1 = error (missing or broken
// snapshot, store failure), 2 = bad usage. Types backed up in only one snapshot are reported as "not
// compared" and do not change the exit code.

import { diffSnapshots, type FileDiff, type NotCompared } from "../snapshot/diff.js";
import type { SnapshotManifest } from "../snapshot/manifest.js";
import type { DiffCommand } from "./commands.js";
import { type CliIo, fieldLine } from "./output.js";
import { progressLine } from "./progress.js";
import { type OpenedStore, openStore } from "./store.js";

/** Exit code of a diff that found differences (1 stays "the command failed", as everywhere else). */
export const EXIT_DIFFERENT = 3;

interface Counts {
  added: number;
  removed: number;
  changed: number;
}

/** Runs `diff`; returns 0 (same objects), 3 (differences) or throws (1). */
export async function runDiff(cmd: DiffCommand, io: CliIo): Promise<number> {
  const a = await openStore(cmd.from.target, cmd.from.prefix, io);
  let b: OpenedStore;
  try {
    b = await openStore(cmd.to.target, cmd.to.prefix, io);
  } catch (err) {
    a.close();
    throw err;
  }
  const progress = progressLine(io, cmd.json);
  // The report is written as the comparison goes: the live line is cleared before each piece of it.
  const out: CliIo = progress
    ? {
        ...io,
        stdout: {
          write: (s: string) => {
            progress.clear();
            return io.stdout.write(s);
          },
        },
      }
    : io;
  try {
    const diff = await diffSnapshots(
      { store: a.store, snapshot: cmd.from.snapshot },
      { store: b.store, snapshot: cmd.to.snapshot },
      { onProgress: progress && ((p) => progress.onFiles(p)) },
    );
    const from = side(a.store.describe(cmd.from.snapshot), diff.from);
    const to = side(b.store.describe(cmd.to.snapshot), diff.to);
    const counts: Counts = { added: 0, removed: 0, changed: 0 };
    const report: Output = cmd.json
      ? new JsonOutput(out, from, to, diff.notCompared)
      : new TextOutput(out, from, to, diff.notCompared);
    for await (const file of diff.files()) {
      for (const o of file.objects) counts[o.change] += 1;
      report.file(file);
    }
    progress?.clear();
    report.end(counts);
    return counts.added + counts.removed + counts.changed > 0 ? EXIT_DIFFERENT : 0;
  } finally {
    progress?.clear();
    a.close();
    b.close();
  }
}

interface Output {
  file(file: FileDiff): void;
  end(counts: Counts): void;
}

interface Side {
  readonly location: string;
  readonly snapshot: string;
  readonly status: string;
  readonly completedAt: string;
}

function side(location: string, m: SnapshotManifest): Side {
  return { location, snapshot: m.snapshot, status: m.status, completedAt: m.completedAt };
}

/** Streams `{ from, to, notCompared, objects: [...], summary }`; each object is written as it is found. */
class JsonOutput implements Output {
  private first = true;

  constructor(
    private readonly io: CliIo,
    from: Side,
    to: Side,
    notCompared: readonly NotCompared[],
  ) {
    const head = JSON.stringify({ from, to, notCompared }, null, 2);
    io.stdout.write(`${head.slice(0, head.lastIndexOf("}")).trimEnd()},\n  "objects": [`);
  }

  file(file: FileDiff): void {
    for (const o of file.objects) {
      const entry = {
        resource: file.resource,
        namespace: file.namespace,
        name: o.name,
        change: o.change,
        redacted: file.redacted,
        fields: o.fields,
      };
      const text = JSON.stringify(entry, null, 2).replace(/\n/g, "\n    ");
      this.io.stdout.write(`${this.first ? "\n" : ",\n"}    ${text}`);
      this.first = false;
    }
  }

  end(counts: Counts): void {
    const summary = JSON.stringify({
      ...counts,
      identical: counts.added + counts.removed + counts.changed === 0,
    });
    this.io.stdout.write(`${this.first ? "" : "\n  "}],\n  "summary": ${summary}\n}\n`);
  }
}

/** A short, readable report, grouped by resource type and namespace. */
class TextOutput implements Output {
  constructor(
    private readonly io: CliIo,
    from: Side,
    to: Side,
    private readonly notCompared: readonly NotCompared[],
  ) {
    io.stdout.write(`a: ${from.location} (${from.status})\nb: ${to.location} (${to.status})\n`);
  }

  file(file: FileDiff): void {
    const where = file.namespace ? `in ${file.namespace}` : "(cluster-scoped)";
    const lines = [`${file.resource} ${where}:`];
    for (const o of file.objects) {
      const mark = o.change === "added" ? "+" : o.change === "removed" ? "-" : "~";
      lines.push(`  ${mark} ${o.name}${file.redacted && o.change === "changed" ? " (values hidden)" : ""}`);
      for (const f of o.fields) lines.push(`      ${fieldLine(f)}`);
    }
    this.io.stdout.write(`${lines.join("\n")}\n`);
  }

  end(counts: Counts): void {
    const lines: string[] = [];
    for (const n of this.notCompared) lines.push(`not compared: ${n.resource}: ${n.reason}`);
    const total = counts.added + counts.removed + counts.changed;
    lines.push(
      total === 0
        ? "No differences."
        : `${total} object${total === 1 ? "" : "s"} differ: ${counts.added} added, ${counts.removed} removed, ${counts.changed} changed`,
    );
    this.io.stdout.write(`${lines.join("\n")}\n`);
  }
}
