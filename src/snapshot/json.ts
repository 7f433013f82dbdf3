// Exact JSON: the one place where object text becomes values. A number whose digits JavaScript cannot
// hold as written (int64 beyond 2^53, "1.50", "-0", "1E400") is kept as its source text with
// JSON.rawJSON, so JSON.stringify writes back the digits the server sent. Texts without such a number
// (nearly all) take the plain, fast JSON.parse. Like apimachinery's json.go: decided once, at the edge.

/** A number kept as the text the server sent (JSON.rawJSON); JSON.stringify writes that text back. */
export interface RawNumber {
  readonly rawJSON: string;
}

/**
 * Numbers JavaScript may write differently, in value position (after `:`, `,` or `[`): 16 or more
 * digits (beyond 2^53, or more precision than a double has), a fraction ending in 0 ("1.50"), an
 * exponent ("1E21", "1e-7"), "-0", and small fractions JavaScript writes as exponents ("0.0000001").
 * Every other number round-trips, so most candidates are dropped by the pattern itself. A number ends
 * where JSON allows (whitespace, `,`, `]`, `}`): an image tag's ":1.0.0" or ":1.0\"" is not one. Strings
 * can still hold the pattern; a false match only costs the slower exact parse, never a wrong value.
 */
const NUMBER_TOKEN =
  /[:,[]\s*(-0|-?(?:[\d.]{16,}|\d+\.\d*0|\d+(?:\.\d+)?[eE][+-]?\d+|0\.0{6}\d*))(?=[\s,\]}])/g;

/**
 * JSON's number grammar. A candidate that does not match it ("01" of a timestamp's "12:01:30", a date's
 * "2026-11-30") can only be inside a string: every Kubernetes object has timestamps.
 */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** True when `text` has a number that JSON.parse would change (round trip differs from the source). */
export function hasInexactNumber(text: string): boolean {
  NUMBER_TOKEN.lastIndex = 0;
  for (let m = NUMBER_TOKEN.exec(text); m !== null; m = NUMBER_TOKEN.exec(text)) {
    const token = m[1] as string;
    if (String(Number(token)) !== token && JSON_NUMBER.test(token)) return true;
  }
  return false;
}

function keepSource(this: unknown, _key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value === "number" && context?.source !== undefined && String(value) !== context.source)
    return JSON.rawJSON(context.source);
  return value;
}

/**
 * JSON.parse that never changes a number: those JavaScript would round or reformat come back as
 * RawNumber values. Throws JSON.parse's SyntaxError (callers must not print its message: it quotes text).
 */
export function parseExact(text: string): unknown {
  if (!hasInexactNumber(text)) return JSON.parse(text);
  return JSON.parse(text, keepSource as (this: unknown, key: string, value: unknown) => unknown);
}

/** True for a number kept as source text by parseExact. */
export function isRawNumber(v: unknown): v is RawNumber {
  return JSON.isRawJSON(v);
}

/** A number's text as it appears in JSON (a RawNumber's source, or JavaScript's own form). */
export function numberText(v: number | RawNumber): string {
  return typeof v === "number" ? JSON.stringify(v) : v.rawJSON;
}

/**
 * Deep equality of parsed JSON values: objects by keys (any order), arrays in order, numbers by their
 * JSON text (so 9223372036854775807 and 9223372036854775806 differ, as they do on the server).
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const aNum = typeof a === "number" || isRawNumber(a);
  const bNum = typeof b === "number" || isRawNumber(b);
  if (aNum || bNum) return aNum && bNum && numberText(a as number) === numberText(b as number);
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = Object.keys(ao);
  if (keys.length !== Object.keys(bo).length) return false;
  return keys.every((k) => Object.hasOwn(bo, k) && jsonEqual(ao[k], bo[k]));
}

/** A plain JSON object (not an array, not null, not a RawNumber). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !JSON.isRawJSON(v);
}

/**
 * What JSON.parse said, without the snippet of the input V8 may quote (it could be a Secret's value):
 * "is not valid JSON (at position 12)", or "… (it ends early: truncated?)" when the error is at the end.
 */
export function jsonProblem(err: unknown, length: number): string {
  const message = err instanceof Error ? err.message : String(err);
  const position = /at position (\d+)/.exec(message)?.[1];
  if (/end of (JSON )?input/i.test(message) || (position !== undefined && Number(position) >= length))
    return "is not valid JSON (it ends early: truncated?)";
  return position === undefined ? "is not valid JSON" : `is not valid JSON (at position ${position})`;
}
