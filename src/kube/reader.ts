// The engine's ClusterReader over the Kubernetes REST API (discovery + paginated lists).

import { ApiError, ListInterruptedError } from "../snapshot/errors.js";
import { qualifiedResource } from "../snapshot/layout.js";
import { ListItemSplitter, ListSyntaxError, NO_ITEMS } from "../snapshot/list-splitter.js";
import type {
  ApiResource,
  ClusterReader,
  GroupDiscovery,
  ItemSink,
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
  constructor(private readonly client: KubeClient) {}

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
    const out: GroupDiscovery[] = new Array(pending.length);
    let next = 0;
    const worker = async () => {
      while (next < pending.length) {
        const i = next++;
        const { group, version } = pending[i] as { group: string; version: string };
        try {
          const list = await this.client.getJson<ApiResourceList>(`/apis/${group}/${version}`);
          out[i] = { group, version, resources: list.resources ?? [] };
        } catch (err) {
          // An aggregated API that is down must not stop the backup of everything else.
          const status = err instanceof ApiError ? err.status : null;
          out[i] = { group, version, error: { status, message: (err as Error).message } };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(DISCOVERY_CONCURRENCY, pending.length) }, worker));
    return [...result, ...out];
  }

  async listPage(type: ResourceType, request: ListPageRequest, sink: ItemSink): Promise<ListPageResult> {
    const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
    const scope = request.namespace ? `/namespaces/${encodeURIComponent(request.namespace)}` : "";
    const query = new URLSearchParams({ limit: String(request.limit) });
    if (request.continue) query.set("continue", request.continue);
    const path = `${base}${scope}/${type.resource}?${query}`;
    return this.client.getStreamed(path, async (body, status) => {
      const splitter = new ListItemSplitter();
      // Once the continue token went out (the next page may be requested with it) or items were handed
      // on, a retry of this request could mix two points in time: the list restarts instead.
      let announced = false;
      try {
        for await (const chunk of body) {
          const items = splitter.push(chunk);
          if (!announced && splitter.head) {
            announced = true;
            request.onContinue?.(continueOf(splitter.head));
          }
          if (items.length > 0) await sink(items);
        }
        const envelope = splitter.end();
        const next = continueOf(envelope);
        if (!announced) request.onContinue?.(next);
        return { continue: next, items: splitter.items, bytes: splitter.bytes };
      } catch (err) {
        if (err instanceof ListSyntaxError && err.message === NO_ITEMS)
          throw new ApiError(`GET ${base}/${type.resource}: the response has no items array`, null);
        const syntax = err instanceof ListSyntaxError;
        if (!syntax && !isBrokenBody(err)) throw err;
        if (announced || splitter.items > 0) {
          throw new ListInterruptedError(
            `${qualifiedResource(type)}: the list response ${syntax ? `${err.message}` : "broke off"} after ${splitter.items} items`,
          );
        }
        if (!syntax) throw new RetryBodyError("broken", status, splitter.bytes);
        let bytes = splitter.bytes;
        for await (const chunk of body) bytes += chunk.length; // the size, for the message
        throw new RetryBodyError("not-json", status, bytes);
      }
    });
  }
}

/** The next page's token: metadata.continue, when non-empty. */
function continueOf(list: Record<string, unknown>): string | undefined {
  if (!Array.isArray(list.items) && list.items !== undefined) return undefined;
  const metadata = list.metadata as { continue?: unknown } | undefined;
  return typeof metadata?.continue === "string" && metadata.continue !== "" ? metadata.continue : undefined;
}
