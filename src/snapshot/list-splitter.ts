// Splits a JSON List (`{…, "items": [ {…}, {…} ], …}`) into its items' texts as bytes arrive, so no
// list is ever held whole: memory is one chunk plus the one item being cut (only a single large object
// can make that large). Used for API list responses and for reading List files. Scans bytes: strings
// are skipped with indexOf, so the per-byte loop runs only over JSON's structure.

import { StringDecoder } from "node:string_decoder";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** The bytes outside `items` are the envelope (kind, metadata…); a real one is small. */
const MAX_ENVELOPE_BYTES = 1024 * 1024;
const ITEMS_KEY = /"items"\s*:\s*$/;
/** The message of a complete JSON object that has no items array (not a List at all). */
export const NO_ITEMS = "has no items array";

/** The text is not a JSON object with an `items` array of objects (or ends early). Never quotes the text. */
export class ListSyntaxError extends Error {
  override readonly name = "ListSyntaxError";
}

export class ListItemSplitter {
  #depth = 0;
  #inString = false;
  #escape = false;
  /** outside: before/after items; items: inside the items array; done: the top-level object closed. */
  #state: "outside" | "items" | "done" = "outside";
  #sawItems = false;
  #envelope: string[] = [];
  #envelopeBytes = 0;
  #head: Record<string, unknown> | undefined;
  /**
   * Text of the item being cut that arrived in earlier chunks, decoded as it came (a character split
   * between chunks is completed by the decoder): strings live on V8's heap, whose collector sees them.
   */
  #partial: string[] = [];
  #decoder = new StringDecoder("utf8");
  #envelopeDecoder = new StringDecoder("utf8");
  #itemStart = -1;
  #itemCount = 0;
  #bytes = 0;

  /** Bytes pushed so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Items cut so far. */
  get items(): number {
    return this.#itemCount;
  }

  /**
   * The envelope as it stood when `items` began (kind, apiVersion, metadata with `continue`, for API
   * servers that send metadata first, as Kubernetes does); undefined until then or when it is not JSON.
   */
  get head(): Record<string, unknown> | undefined {
    return this.#head;
  }

  /** Feeds the next bytes; returns the texts of the items completed by them, in order. */
  push(chunk: Buffer): string[] {
    this.#bytes += chunk.length;
    const out: string[] = [];
    const n = chunk.length;
    let envelopeFrom = this.#state === "items" ? -1 : 0;
    let i = 0;
    if (this.#state === "items" && this.#depth >= 3) this.#itemStart = 0;
    while (i < n) {
      if (this.#inString) {
        i = this.#skipString(chunk, i);
        continue;
      }
      if (this.#state === "items" && this.#depth >= 3) {
        // Inside an item (nearly every byte): only strings and brackets matter, in local variables.
        let depth = this.#depth;
        while (i < n) {
          const c = chunk[i] as number;
          if (c === QUOTE) {
            i = this.#skipString(chunk, i + 1, true);
            if (this.#inString) break;
            continue;
          }
          if (c === OPEN_BRACE || c === OPEN_BRACKET) depth += 1;
          else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
            depth -= 1;
            if (depth === 2) {
              this.#depth = depth;
              out.push(this.#cut(chunk, i + 1));
              i += 1;
              break;
            }
          }
          i += 1;
        }
        this.#depth = depth;
        continue;
      }
      const c = chunk[i] as number;
      if (c === QUOTE) {
        this.#notAnItem();
        this.#inString = true;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        this.#depth += 1;
        if (this.#depth === 1 && c !== OPEN_BRACE) throw new ListSyntaxError("is not a JSON object");
        if (this.#state === "done") throw new ListSyntaxError("has text after its end");
        if (this.#depth === 2 && c === OPEN_BRACKET && this.#state === "outside") {
          this.#appendEnvelope(chunk, envelopeFrom, i + 1);
          envelopeFrom = -1;
          if (this.#isItemsKey()) {
            if (this.#sawItems) throw new ListSyntaxError("has two items arrays");
            this.#sawItems = true;
            this.#state = "items";
            this.#head = this.#parseHead();
          } else {
            envelopeFrom = i + 1;
          }
        } else if (this.#state === "items" && this.#depth === 3) {
          if (c !== OPEN_BRACE) throw new ListSyntaxError(`items[${this.#itemCount}] is not an object`);
          this.#itemStart = i;
        }
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        this.#depth -= 1;
        if (this.#depth < 0) throw new ListSyntaxError("has an unbalanced bracket");
        if (this.#state === "items") {
          if (this.#depth === 1) {
            this.#state = "outside";
            envelopeFrom = i;
          }
        } else if (this.#depth === 0) {
          this.#state = "done";
        }
      } else if (!isSeparator(c)) {
        this.#notAnItem();
      }
      i += 1;
    }
    if (this.#state === "items" && this.#depth >= 3 && this.#itemStart >= 0) {
      // The item goes on in the next chunk: keep its bytes so far (the only thing carried over).
      this.#partial.push(this.#decoder.write(chunk.subarray(this.#itemStart)));
    }
    this.#itemStart = -1;
    if (envelopeFrom >= 0) this.#appendEnvelope(chunk, envelopeFrom, n);
    return out;
  }

  /** Ends the input; returns the envelope (the object without its items). Throws when it is not a complete List. */
  end(): Record<string, unknown> {
    if (this.#state !== "done" || this.#inString) throw new ListSyntaxError("ends early (truncated?)");
    if (!this.#sawItems) throw new ListSyntaxError(NO_ITEMS);
    let envelope: unknown;
    try {
      envelope = JSON.parse(this.#envelope.join("") + this.#envelopeDecoder.end());
    } catch {
      throw new ListSyntaxError("is not valid JSON outside its items");
    }
    return envelope as Record<string, unknown>;
  }

  /**
   * Moves past the rest of a string from `i` (after its opening quote when `opening`); returns the index
   * after its closing quote, or `chunk.length` with #inString set when it goes on in the next chunk.
   * Short strings (most keys and values) are scanned byte by byte; long ones (base64 data, embedded
   * documents) jump with indexOf.
   */
  #skipString(chunk: Buffer, i: number, opening = false): number {
    const n = chunk.length;
    if (!opening && this.#escape) {
      this.#escape = false;
      i += 1;
    }
    const shortEnd = Math.min(n, i + 48);
    while (i < shortEnd) {
      const c = chunk[i] as number;
      if (c === QUOTE) {
        this.#inString = false;
        return i + 1;
      }
      i += c === BACKSLASH ? 2 : 1;
    }
    for (;;) {
      if (i >= n) {
        this.#inString = true;
        this.#escape = i > n; // the chunk ended right after a backslash
        return n;
      }
      const quote = chunk.indexOf(QUOTE, i);
      if (quote === -1) {
        // Goes on in the next chunk; an odd run of backslashes at the very end escapes its first byte.
        this.#inString = true;
        this.#escape = oddBackslashesBefore(chunk, n, i);
        return n;
      }
      if (!oddBackslashesBefore(chunk, quote, i)) {
        this.#inString = false;
        return quote + 1;
      }
      i = quote + 1; // an escaped quote: the string goes on
    }
  }

  /** A byte that is neither structure nor inside a string: allowed only as a value inside an object. */
  #notAnItem(): void {
    if (this.#state === "items" && this.#depth === 2)
      throw new ListSyntaxError(`items[${this.#itemCount}] is not an object`);
    if (this.#depth === 0)
      throw new ListSyntaxError(this.#state === "done" ? "has text after its end" : "is not valid JSON");
  }

  #cut(chunk: Buffer, end: number): string {
    this.#itemCount += 1;
    if (this.#partial.length === 0) {
      const text = chunk.toString("utf8", this.#itemStart, end);
      this.#itemStart = -1;
      return text;
    }
    this.#partial.push(this.#decoder.end(chunk.subarray(0, end)));
    const text = this.#partial.join("");
    this.#partial = [];
    this.#itemStart = -1;
    return text;
  }

  #appendEnvelope(chunk: Buffer, from: number, to: number): void {
    if (from < 0 || to <= from) return;
    this.#envelopeBytes += to - from;
    if (this.#envelopeBytes > MAX_ENVELOPE_BYTES)
      throw new ListSyntaxError(`has more than ${MAX_ENVELOPE_BYTES} bytes outside its items`);
    // Envelope bytes around the items meet at "[" and "]", so one decoder across chunks is exact.
    this.#envelope.push(this.#envelopeDecoder.write(chunk.subarray(from, to)));
  }

  /** Whether the array just opened at depth 2 is the value of the key "items". */
  #isItemsKey(): boolean {
    const text = this.#envelope.join("");
    this.#envelope = [text];
    return ITEMS_KEY.test(text.slice(0, -1).slice(-64));
  }

  #parseHead(): Record<string, unknown> | undefined {
    try {
      return JSON.parse(`${this.#envelope.join("")}]}`) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }
}

/** Whether the backslashes right before `end` (not before `from`) are an odd run: the byte at `end` is escaped. */
function oddBackslashesBefore(chunk: Buffer, end: number, from: number): boolean {
  let count = 0;
  for (let j = end - 1; j >= from && chunk[j] === BACKSLASH; j--) count += 1;
  return count % 2 === 1;
}

/** Whitespace and the comma between items. */
function isSeparator(c: number): boolean {
  return c === 0x2c || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
