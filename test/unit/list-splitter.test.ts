import { describe, expect, it } from "vitest";
import { ListItemSplitter, ListSyntaxError } from "../../src/snapshot/list-splitter.js";

/** Feeds `text` in chunks of `size` bytes; returns the items and the envelope. */
function split(text: string, size: number) {
  const bytes = Buffer.from(text, "utf8");
  const splitter = new ListItemSplitter();
  const items: string[] = [];
  let head: Record<string, unknown> | undefined;
  for (let i = 0; i < bytes.length; i += size) {
    items.push(...splitter.push(bytes.subarray(i, i + size)));
    head ??= splitter.head;
  }
  return { items, envelope: splitter.end(), head };
}

const LIST =
  '{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"42","continue":"eyJ2IjoxfQ"},' +
  '"items":[{"metadata":{"name":"a","namespace":"x"},"data":{"k":"c2VjcmV0\\"}]{["}},' +
  '{"metadata":{"name":"b\\\\","namespace":"y"},"n":[1,[2,{"z":"]"}]],"u":"\\u00e9 é ✓"},' +
  '{"metadata":{"name":"c"}}]}';

describe("ListItemSplitter", () => {
  it.each([1, 2, 3, 7, 64, 100_000])(
    "cuts the same items and envelope whatever the chunk size (%i bytes)",
    (size) => {
      const { items, envelope, head } = split(LIST, size);

      expect(items.map((t) => JSON.parse(t))).toEqual(JSON.parse(LIST).items);
      expect(items.join(",")).toBe(LIST.slice(LIST.indexOf("[{") + 1, -2));
      expect(envelope).toEqual({
        kind: "SecretList",
        apiVersion: "v1",
        metadata: { resourceVersion: "42", continue: "eyJ2IjoxfQ" },
        items: [],
      });
      // Kubernetes sends metadata first: the continue token is known before the first item.
      expect(head).toEqual(envelope);
    },
  );

  it("reads pretty-printed List files (the snapshot format) and metadata after the items", () => {
    const text = `${JSON.stringify({ apiVersion: "v1", kind: "List", items: [{ a: 1 }, { b: [2] }], metadata: { continue: "" } }, null, 2)}\n`;

    const { items, envelope } = split(text, 5);

    expect(items.map((t) => JSON.parse(t))).toEqual([{ a: 1 }, { b: [2] }]);
    expect(envelope).toEqual({ apiVersion: "v1", kind: "List", items: [], metadata: { continue: "" } });
  });

  it("counts items and bytes", () => {
    const splitter = new ListItemSplitter();
    splitter.push(Buffer.from(LIST));
    expect([splitter.items, splitter.bytes]).toEqual([3, Buffer.byteLength(LIST)]);
  });

  it.each([
    ["<html><body>502 Bad Gateway</body></html>", /^is not valid JSON$/],
    ['{"kind":"List","items":[{"a":1},', /ends early/],
    ['{"kind":"List","items":[1,2]}', /items\[0\] is not an object/],
    ['{"kind":"List","items":[{"a":1},"secret-text"]}', /items\[1\] is not an object/],
    ['{"kind":"List","items":null}', /has no items array/],
    ['[{"a":1}]', /is not a JSON object/],
    ['{"kind":"List","items":[]} {"x":1}', /after its end/],
    ['{"kind":"List","items":[],"items":[]}', /two items arrays/],
  ])("refuses %s without quoting it", (text, message) => {
    let error: unknown;
    try {
      split(text, 4);
    } catch (err) {
      error = err;
    }

    expect(error).toBeInstanceOf(ListSyntaxError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain("secret-text");
  });

  it("cuts random Lists with escapes, unicode and long strings the same at any chunk boundary (seeded)", () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pieces = [
      "\\",
      '"',
      "\\\\",
      "é",
      "✓",
      "\n",
      "]",
      "}",
      "{",
      "[",
      ",",
      ":",
      "x",
      "𝄞",
      "a".repeat(100),
    ];
    const text = () =>
      Array.from(
        { length: Math.floor(random() * 12) },
        () => pieces[Math.floor(random() * pieces.length)],
      ).join("");
    const value = (depth: number): unknown => {
      const r = random();
      if (depth > 3 || r < 0.3) return text();
      if (r < 0.45) return Math.floor(random() * 1e6);
      if (r < 0.7) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      return Object.fromEntries(
        Array.from({ length: Math.floor(random() * 4) }, () => [text(), value(depth + 1)]),
      );
    };
    for (let round = 0; round < 300; round++) {
      const items = Array.from({ length: Math.floor(random() * 6) }, () => ({
        k: value(0),
        [text()]: value(1),
      }));
      const list = JSON.stringify(
        { kind: "List", metadata: { continue: text() }, items },
        null,
        round % 2 ? 2 : undefined,
      );
      const size = 1 + Math.floor(random() * 40);

      const { items: cut, envelope } = split(list, size);

      expect(cut.map((t) => JSON.parse(t))).toEqual(items);
      expect(envelope.metadata).toEqual(JSON.parse(list).metadata);
    }
  });
});
