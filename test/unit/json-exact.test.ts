import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { hasInexactNumber, isRawNumber, jsonEqual, numberText, parseExact } from "../../src/snapshot/json.js";

const fixture = async (name: string) =>
  (await readFile(new URL(`../fixtures/json/${name}`, import.meta.url), "utf8")).trim();

describe("parseExact keeps every number's digits", () => {
  it("round-trips int64 min/max, 2^53+1, 0.1, 1e21, -0, 1.50, 1e400 and long decimals byte for byte", async () => {
    const text = await fixture("numbers.json");

    const value = parseExact(text);

    expect(JSON.stringify(value)).toBe(text);
    // The plain parser would have changed them: this is what the fixture guards against.
    expect(JSON.stringify(JSON.parse(text))).not.toBe(text);
  });

  it("writes the same digits when pretty-printed with a 2-space indent", async () => {
    const pretty = JSON.stringify(parseExact(await fixture("numbers.json")), null, 2);

    expect(pretty).toContain('"int64Max": 9223372036854775807,');
    expect(pretty).toContain('"int64Min": -9223372036854775808,');
    expect(pretty).toContain('"twoTo53Plus1": 9007199254740993,');
    expect(pretty).toContain('"negativeZero": -0,');
    expect(pretty).toContain('"trailingZero": 1.50,');
    expect(pretty).toContain('"bigUpper": 1E21,');
    expect(pretty).toContain('"longDecimal": 3.141592653589793238462643383279,');
    expect(pretty).toContain('"x": 18446744073709551615');
    expect(pretty).toContain('"text": "9223372036854775807 stays a string: [1,2]"');
  });

  it("keeps numbers JavaScript holds exactly as plain numbers", () => {
    const v = parseExact('{"a":42,"b":0.1,"c":1e+21,"d":9007199254740992,"e":-3}') as Record<string, unknown>;

    expect(v).toEqual({ a: 42, b: 0.1, c: 1e21, d: 9007199254740992, e: -3 });
  });

  it("returns RawNumber values only for numbers that would change", () => {
    const v = parseExact('{"safe":7,"unsafe":9223372036854775807}') as Record<string, unknown>;

    expect(isRawNumber(v.safe)).toBe(false);
    expect(isRawNumber(v.unsafe)).toBe(true);
    expect(numberText(v.unsafe as never)).toBe("9223372036854775807");
  });
});

describe("hasInexactNumber (the fast path's gate)", () => {
  it.each([
    ['{"a":9007199254740993}', true],
    ['{"a":[1,-0]}', true],
    ['{"a": 1.0}', true],
    ['{"a":1E5}', true],
    ['{"a":1,"b":[2,3.5],"c":1e+21}', false],
    ['{"a":"9223372036854775807"}', false],
    ['{"creationTimestamp":"2026-11-30T00:01:02Z","d":"date: 2026-11-30"}', false],
    ['{"a":[1,2],"b":"x:0123"}', false],
    ['{"image":"registry.example.com/app:1.0.0","tag":"app:1.0","v":"x:1.50.2"}', false],
    ['{"a":[1.0]}', true],
    ['{\n  "a": 1.50\n}', true],
    ['{"a":-0}', true],
    ['{"a":9007199254740993}', true],
  ])("%s -> %s", (text, expected) => {
    expect(hasInexactNumber(text)).toBe(expected);
  });
});

describe("jsonEqual compares numbers by their JSON text", () => {
  it("tells int64 values apart that JavaScript numbers cannot", () => {
    const a = parseExact('{"x":9223372036854775807}');
    const b = parseExact('{"x":9223372036854775806}');

    expect(jsonEqual(a, b)).toBe(false);
    expect(jsonEqual(a, parseExact('{"x":9223372036854775807}'))).toBe(true);
  });

  it("ignores key order, not array order", () => {
    expect(jsonEqual({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe(true);
    expect(jsonEqual({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
  });
});
