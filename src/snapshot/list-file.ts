// Streams one `List` file: the same bytes as JSON.stringify({apiVersion, kind, items}, null, 2) + "\n",
// written item by item so a file of any size never sits in memory, hashed as it goes.
import { createHash, type Hash } from "node:crypto";
import type { KubeObject, ObjectWriter } from "./ports.js";

const HEADER = '{\n  "apiVersion": "v1",\n  "kind": "List",\n  "items": [\n';
const FOOTER = "\n  ]\n}\n";
const SEPARATOR = ",\n";
/** Items are batched into writes of about this size: fewer store calls, bounded memory. */
const FLUSH_BYTES = 256 * 1024;

/**
 * Items as they appear inside the List, joined by SEPARATOR: JSON.stringify of `[[...items]]` with a
 * 2-space indent puts each item at depth 2, as in `{"items": [...]}`, so one native call serialises a
 * whole run of items with no re-indenting; only the outer brackets are cut off.
 */
const NEST_OPEN = "[\n  [\n";
const NEST_CLOSE = "\n  ]\n]";
function itemsText(items: readonly KubeObject[]): string {
  const text = JSON.stringify([items], null, 2);
  return text.slice(NEST_OPEN.length, text.length - NEST_CLOSE.length);
}

export interface FileSummary {
  readonly key: string;
  readonly items: number;
  readonly bytes: number;
  readonly sha256: string;
}

/** Writes one List file through an ObjectWriter; nothing is visible until finish(). */
export class ListFileWriter {
  readonly #writer: ObjectWriter;
  readonly #hash: Hash = createHash("sha256");
  #pending: string[] = [];
  #pendingBytes = 0;
  #items = 0;
  #bytes = 0;

  constructor(
    readonly key: string,
    writer: ObjectWriter,
  ) {
    this.#writer = writer;
  }

  get items(): number {
    return this.#items;
  }

  /** Bytes handed to the store so far plus those still buffered. */
  get bytes(): number {
    return this.#bytes + this.#pendingBytes;
  }

  /** Appends an item; flushes to the store when enough is buffered. */
  async add(item: KubeObject): Promise<void> {
    await this.addAll([item]);
  }

  /** Appends items in order (serialised in one call); flushes to the store when enough is buffered. */
  async addAll(items: readonly KubeObject[]): Promise<void> {
    if (items.length === 0) return;
    const text = (this.#items === 0 ? HEADER : SEPARATOR) + itemsText(items);
    this.#items += items.length;
    this.#pending.push(text);
    this.#pendingBytes += text.length;
    if (this.#pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  /** Hands buffered items to the store. */
  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const chunk = Buffer.from(this.#pending.join(""), "utf8");
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
    await this.#writer.write(chunk);
  }

  /** Closes the List and commits the object; returns what the manifest records. */
  async finish(): Promise<FileSummary> {
    if (this.#items === 0) throw new Error(`internal: ${this.key} finished with no items`);
    this.#pending.push(FOOTER);
    await this.flush();
    await this.#writer.commit();
    return { key: this.key, items: this.#items, bytes: this.#bytes, sha256: this.#hash.digest("hex") };
  }

  /** Discards the file. */
  async abort(): Promise<void> {
    this.#pending = [];
    await this.#writer.abort();
  }
}
