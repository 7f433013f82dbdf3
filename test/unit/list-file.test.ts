import { describe, expect, it } from "vitest";
import { ListFileWriter } from "../../src/snapshot/list-file.js";
import type { ObjectWriter } from "../../src/snapshot/ports.js";

/** An in-memory ObjectWriter: pure logic, no server involved. */
function memoryWriter() {
  const state = { chunks: [] as Buffer[], committed: false, aborted: false, writes: 0 };
  const writer: ObjectWriter = {
    write: async (c) => {
      state.chunks.push(c);
      state.writes += 1;
    },
    commit: async () => {
      state.committed = true;
    },
    abort: async () => {
      state.aborted = true;
    },
  };
  return { writer, state, text: () => Buffer.concat(state.chunks).toString("utf8") };
}

describe("ListFileWriter", () => {
  it("writes exactly JSON.stringify of a v1 List with 2-space indent and a final newline", async () => {
    const items = [
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "a", annotations: { "x/y": "line1\nline2 ✓" } },
        data: { k: "v" },
      },
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "b" },
        data: {},
        list: [],
        nested: [[1, { deep: null }]],
      },
    ];
    const m = memoryWriter();
    const w = new ListFileWriter("k", m.writer);
    for (const i of items) await w.add(i);
    const summary = await w.finish();
    expect(m.text()).toBe(`${JSON.stringify({ apiVersion: "v1", kind: "List", items }, null, 2)}\n`);
    expect(summary.items).toBe(2);
    expect(summary.bytes).toBe(Buffer.byteLength(m.text()));
    expect(m.state.committed).toBe(true);
  });

  it("hashes the bytes it wrote", async () => {
    const { createHash } = await import("node:crypto");
    const m = memoryWriter();
    const w = new ListFileWriter("k", m.writer);
    await w.add({ kind: "X", metadata: { name: "only" } });
    const summary = await w.finish();
    expect(summary.sha256).toBe(createHash("sha256").update(m.text()).digest("hex"));
  });

  it("flushes in batches instead of one write per item", async () => {
    const m = memoryWriter();
    const w = new ListFileWriter("k", m.writer);
    const big = "x".repeat(1000);
    for (let i = 0; i < 1000; i++) await w.add({ kind: "X", metadata: { name: `n${i}` }, data: { big } });
    await w.finish();
    expect(m.state.writes).toBeGreaterThan(1);
    expect(m.state.writes).toBeLessThan(20);
    expect(JSON.parse(m.text()).items).toHaveLength(1000);
  });

  it("writes the same bytes whether items come one by one or in runs (addAll)", async () => {
    const items = Array.from({ length: 7 }, (_, i) => ({
      kind: "X",
      metadata: { name: `n${i}`, labels: { l: "a\nb", e: "" } },
      spec: { list: [i, { nested: [] }], empty: {}, s: "ü ✓ \u2028" },
    }));
    const one = memoryWriter();
    const w1 = new ListFileWriter("k", one.writer);
    for (const i of items) await w1.add(i);
    await w1.finish();
    const runs = memoryWriter();
    const w2 = new ListFileWriter("k", runs.writer);
    await w2.addAll(items.slice(0, 3));
    await w2.addAll([]);
    await w2.addAll(items.slice(3));
    const summary = await w2.finish();
    expect(runs.text()).toBe(one.text());
    expect(runs.text()).toBe(`${JSON.stringify({ apiVersion: "v1", kind: "List", items }, null, 2)}\n`);
    expect(summary.items).toBe(7);
  });

  it("hands the store a buffer of its own on every write (stores keep them until commit)", async () => {
    const m = memoryWriter();
    const w = new ListFileWriter("k", m.writer);
    const big = "y".repeat(300 * 1024);
    const seen: string[] = [];
    const write = m.writer.write;
    m.writer.write = async (c) => {
      seen.push(c.toString("utf8"));
      await write(c);
    };
    await w.add({ kind: "X", metadata: { name: "a" }, data: { big } });
    await w.add({ kind: "X", metadata: { name: "b" }, data: { big } });
    await w.finish();
    expect(m.state.chunks.length).toBeGreaterThan(1);
    expect(new Set(m.state.chunks.map((c) => c.buffer)).size).toBe(m.state.chunks.length);
    expect(m.state.chunks.map((c) => c.toString("utf8"))).toEqual(seen);
  });

  it("aborts without committing", async () => {
    const m = memoryWriter();
    const w = new ListFileWriter("k", m.writer);
    await w.add({ kind: "X" });
    await w.abort();
    expect(m.state.aborted).toBe(true);
    expect(m.state.committed).toBe(false);
  });
});
