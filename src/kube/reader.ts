// The engine's ClusterReader over the Kubernetes REST API (discovery + paginated lists).

import { ApiError } from "../snapshot/errors.js";
import type {
  ApiResource,
  ClusterReader,
  GroupDiscovery,
  ListPage,
  ResourceType,
} from "../snapshot/ports.js";
import type { KubeClient } from "./client.js";

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

  async listPage(
    type: ResourceType,
    options: { limit: number; continue?: string | undefined },
  ): Promise<ListPage> {
    const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
    const query = new URLSearchParams({ limit: String(options.limit) });
    if (options.continue) query.set("continue", options.continue);
    const list = await this.client.getJson<{ items?: unknown; metadata?: { continue?: string } }>(
      `${base}/${type.resource}?${query}`,
    );
    if (!Array.isArray(list.items)) {
      throw new ApiError(`GET ${base}/${type.resource}: the response has no items array`, null);
    }
    return { items: list.items, continue: list.metadata?.continue || undefined };
  }
}
