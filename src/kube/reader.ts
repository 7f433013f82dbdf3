// The engine's ClusterReader over the Kubernetes REST API (discovery + paginated lists).

import { StringDecoder } from "node:string_decoder";
import { ApiError, ListInterruptedError } from "../snapshot/errors.js";
import { isRecord, jsonProblem, parseExact } from "../snapshot/json.js";
import { qualifiedResource } from "../snapshot/layout.js";
import { ListItemSplitter, ListSyntaxError, NO_ITEMS } from "../snapshot/list-splitter.js";
import { runPool } from "../snapshot/pool.js";
import type {
  ApiResource,
  ClusterReader,
  GroupDiscovery,
  ItemSink,
  KubeObject,
  ListPageRequest,
  ListPageResult,
  ResourceType,
} from "../snapshot/ports.js";
import { isBrokenBody, type KubeClient, RetryBodyError } from "./client.js";

interface ApiResourceList {
  resources?: ApiResource[];
}
interface ApiGroupList {
  groups?: { name: string; preferredVersion?: { version: string }; versions?: { version: string }[] }[];
}

/** Discovery requests in flight at once (a cluster can have dozens of groups). */
const DISCOVERY_CONCURRENCY = 8;

/** Reads a cluster through a KubeClient. */
export class KubeClusterReader implements ClusterReader {
  readonly #bufferedPageBytes: number;

  /** `bufferedPageBytes`: pages up to this size are parsed whole (tests set 0 to stream every page). */
  constructor(
    private readonly client: KubeClient,
    options: { readonly bufferedPageBytes?: number } = {},
  ) {
    this.#bufferedPageBytes = options.bufferedPageBytes ?? BUFFERED_PAGE_BYTES;
  }

  async serverVersion(): Promise<string> {
    const v = await this.client.getJson<{ gitVersion?: string }>("/version");
    return v.gitVersion ?? "unknown";
  }

  async discover(): Promise<GroupDiscovery[]> {
    const [core, groupList] = await Promise.all([
      this.client.getJson<ApiResourceList>("/api/v1"),
      this.client.getJson<ApiGroupList>("/apis"),
    ]);
    const groups = groupList.groups ?? [];
    const result: GroupDiscovery[] = [{ group: "", version: "v1", resources: core.resources ?? [] }];
    const pending = groups.map((g) => ({
      group: g.name,
      version: g.preferredVersion?.version ?? g.versions?.[0]?.version ?? "",
    }));
    const out = await runPool(
      pending,
      { concurrency: DISCOVERY_CONCURRENCY },
      async ({ group, version }): Promise<GroupDiscovery> => {
        try {
          const list = await this.client.getJson<ApiResourceList>(`/apis/${group}/${version}`);
          return { group, version, resources: list.resources ?? [] };
        } catch (err) {
          // An aggregated API that is down must not stop the backup of everything else.
          const status = err instanceof ApiError ? err.status : null;
          return { group, version, error: { status, message: (err as Error).message } };
        }
      },
    );
    return [...result, ...out];
  }

  /**
   * A page up to BUFFERED_PAGE_BYTES (the usual case: 500 objects of a few KB) is read whole and parsed
   * in one JSON.parse, the fastest way there is; a larger one is cut into its items as it arrives and
   * each is parsed on its own (ListItemSplitter), so no page is ever held whole.
   */
  async listPage(type: ResourceType, request: ListPageRequest, sink: ItemSink): Promise<ListPageResult> {
    const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
    const scope = request.namespace ? `/namespaces/${encodeURIComponent(request.namespace)}` : "";
    const query = new URLSearchParams({ limit: String(request.limit) });
    if (request.continue) query.set("continue", request.continue);
    const path = `${base}${scope}/${type.resource}?${query}`;
    const resource = qualifiedResource(type);
    return this.client.getStreamed(path, async (body, status) => {
      const held: Buffer[] = [];
      let bytes = 0;
      let splitter: ListItemSplitter | undefined;
      // Once the continue token went out (the next page may be requested with it) or items were handed
      // on, a retry of this request could mix two points in time: the list restarts instead.
      let announced = false;
      let handed = 0;
      const feed = async (chunk: Buffer) => {
        const texts = (splitter as ListItemSplitter).push(chunk);
        const head = (splitter as ListItemSplitter).head;
        if (!announced && head) {
          announced = true;
          request.onContinue?.(continueOf(head));
        }
        if (texts.length === 0) return;
        if (handed === 0) await request.ready;
        let size = 0;
        for (const t of texts) size += t.length;
        const items = texts.map((t) => parseItem(t, resource));
        handed += items.length;
        await sink(items, size);
      };
      // Until the page before this one is handled, only the first NEXT_PAGE_BYTES are read ahead.
      let ready = request.ready === undefined;
      const isReady = () => {
        ready = true;
      };
      request.ready?.then(isReady, isReady); // a failed page before this one is thrown where it is awaited
      try {
        for await (const chunk of body) {
          bytes += chunk.length;
          if (!ready && bytes > NEXT_PAGE_BYTES) await request.ready;
          if (splitter) {
            await feed(chunk);
          } else {
            held.push(chunk);
            if (bytes <= this.#bufferedPageBytes) continue;
            splitter = new ListItemSplitter();
            for (const c of held.splice(0)) await feed(c);
          }
        }
        if (!splitter) {
          await request.ready;
          // Neither the chunks nor the text stay referenced once parsed: only the page's objects live on
          // while they are written.
          const page = parsePage(takeText(held), bytes, status, base, type);
          const next = continueOf(page);
          announced = true;
          request.onContinue?.(next);
          const items = page.items as unknown[];
          if (items.length > 0) await sink(checkedItems(items, resource), bytes);
          return { continue: next, items: items.length, bytes };
        }
        const envelope = splitter.end();
        const next = continueOf(envelope);
        if (!announced) request.onContinue?.(next);
        return { continue: next, items: splitter.items, bytes };
      } catch (err) {
        if (err instanceof ListSyntaxError && err.message === NO_ITEMS) throw noItems(base, type);
        const syntax = err instanceof ListSyntaxError;
        if (!syntax && !isBrokenBody(err)) throw err;
        const cut = splitter?.items ?? 0;
        if (announced || handed > 0) {
          throw new ListInterruptedError(
            `${resource}: the list response ${syntax ? `${err.message}` : "broke off"} after ${cut} items`,
          );
        }
        if (!syntax) throw new RetryBodyError("broken", status, bytes);
        for await (const chunk of body) bytes += chunk.length; // the size, for the message
        throw new RetryBodyError("not-json", status, bytes);
      }
    });
  }
}

/**
 * Pages up to this size are read whole and parsed at once; larger ones are streamed item by item. Per
 * type in flight that is this page's bytes, text and objects, and the next page's bytes.
 */
const BUFFERED_PAGE_BYTES = 4 * 1024 * 1024;

/**
 * Of a page requested ahead (the engine asks for the next page while writing this one), this much is read
 * before this one is handled; the rest waits in the socket. The server's work (reading etcd) still
 * overlaps ours, and a type holds at most this much of its next page.
 */
const NEXT_PAGE_BYTES = 1024 * 1024;

/** A whole page as JSON with exact numbers; a body that is not a JSON object with items is retried. */
function parsePage(
  text: string,
  bytes: number,
  status: number,
  base: string,
  type: ResourceType,
): Record<string, unknown> {
  let page: unknown;
  try {
    page = parseExact(text);
  } catch {
    // A body cut short by a proxy or a reset looks like this; the next attempt may get it whole.
    throw new RetryBodyError("not-json", status, bytes);
  }
  if (!isRecord(page)) throw new RetryBodyError("not-json", status, bytes);
  if (!Array.isArray(page.items)) throw noItems(base, type);
  return page;
}

/**
 * The text of a page's chunks, decoded chunk by chunk, each let go once decoded (`chunks` is emptied): no
 * copy of the whole page as bytes is made, and the garbage is young strings rather than Buffers, whose
 * memory outside the heap is freed only when the collector gets to them.
 */
function takeText(chunks: Buffer[]): string {
  const decoder = new StringDecoder("utf8");
  const parts: string[] = [];
  for (let i = 0; i < chunks.length; i++) {
    parts.push(decoder.write(chunks[i] as Buffer));
    chunks[i] = EMPTY;
  }
  chunks.length = 0;
  parts.push(decoder.end());
  return parts.join("");
}

const EMPTY = Buffer.alloc(0);

function noItems(base: string, type: ResourceType): ApiError {
  return new ApiError(`GET ${base}/${type.resource}: the response has no items array`, null);
}

/** The items of a parsed page, each of which must be an object. */
function checkedItems(items: unknown[], resource: string): KubeObject[] {
  for (const item of items)
    if (!isRecord(item))
      throw new ApiError(`${resource}: the API returned an item that is not an object`, null);
  return items as KubeObject[];
}

/** One item's text as an object, with its numbers exact; a text that is not an object is the server's fault. */
function parseItem(text: string, resource: string): KubeObject {
  let value: unknown;
  try {
    value = parseExact(text);
  } catch (err) {
    throw new ApiError(`${resource}: the API returned an item that ${jsonProblem(err, text.length)}`, null);
  }
  if (!isRecord(value))
    throw new ApiError(`${resource}: the API returned an item that is not an object`, null);
  return value as KubeObject;
}

/** The next page's token: metadata.continue, when non-empty. */
function continueOf(list: Record<string, unknown>): string | undefined {
  if (!Array.isArray(list.items) && list.items !== undefined) return undefined;
  const metadata = list.metadata as { continue?: unknown } | undefined;
  return typeof metadata?.continue === "string" && metadata.continue !== "" ? metadata.continue : undefined;
}
