// A list read page by page, with the next page requested while the current one is written, and each
// page's `limit` sized by bytes (PageSizer).
import type { ClusterReader, KubeObject, ListPageResult, ResourceType } from "./ports.js";

/**
 * Hands every page of a list to `onItems`, batch by batch, in order. The next page is requested as
 * soon as this one's continue token is known and its first batch has shown how large items are (so
 * its `limit` can be sized by bytes), before that batch is written: the API server works while we
 * write. The next page waits (`ready`) until this one is handled: the reader holds at most the first MiB
 * of its response meanwhile; the rest waits in the socket.
 */
export async function listPages(
  cluster: ClusterReader,
  type: ResourceType,
  namespace: string | undefined,
  options: { readonly pageSize: number; readonly checkStop: () => void },
  onItems: (items: readonly KubeObject[]) => Promise<void>,
): Promise<void> {
  const sizer = new PageSizer(options.pageSize);
  const start = (cont: string | undefined, after: Promise<unknown>): PageRun => {
    const page: PageRun = { token: undefined, tokenKnown: false, sawItems: false, ended: false };
    const startNext = () => {
      if (page.next || !page.tokenKnown || !page.token || !(page.sawItems || page.ended)) return;
      page.next = start(page.token, page.done as Promise<unknown>);
    };
    page.done = cluster
      .listPage(
        type,
        {
          limit: sizer.limit(),
          continue: cont,
          namespace,
          ready: after,
          onContinue: (token) => {
            page.token = token;
            page.tokenKnown = true;
            startNext();
          },
        },
        async (items, bytes) => {
          await after;
          options.checkStop();
          sizer.observe(items.length, bytes);
          page.sawItems = true;
          startNext();
          await onItems(items);
        },
      )
      .then((result) => {
        page.ended = true;
        page.token = result.continue;
        page.tokenKnown = true;
        startNext();
        return result;
      });
    // Awaited in order below; this only keeps a page that fails while an earlier one is still being
    // read (and then fails on its own) from becoming an unhandled rejection.
    page.done.catch(() => undefined);
    return page;
  };
  let page = start(undefined, Promise.resolve());
  for (;;) {
    options.checkStop();
    const result = await (page.done as Promise<ListPageResult>);
    if (!result.continue) return;
    page = page.next ?? start(result.continue, Promise.resolve());
  }
}

/** One page of a list in flight (see listPages). */
interface PageRun {
  done?: Promise<ListPageResult>;
  next?: PageRun;
  token: string | undefined;
  tokenKnown: boolean;
  sawItems: boolean;
  ended: boolean;
}

/**
 * Page sizing by bytes: Kubernetes accepts a new `limit` on every continue request, so after the first
 * batch a page asks for about PAGE_TARGET_BYTES of items (by the type's average item size so far),
 * never more than the configured page size. Small objects keep the configured size (500 × 3 KB = 1.5 MB);
 * 700 KB Helm releases are fetched about a dozen at a time.
 */
const PAGE_TARGET_BYTES = 8 * 1024 * 1024;

class PageSizer {
  #items = 0;
  #bytes = 0;
  constructor(private readonly maxItems: number) {}

  observe(items: number, bytes: number): void {
    this.#items += items;
    this.#bytes += bytes;
  }

  limit(): number {
    if (this.#items === 0) return this.maxItems;
    const perItem = Math.max(1, this.#bytes / this.#items);
    return Math.max(1, Math.min(this.maxItems, Math.floor(PAGE_TARGET_BYTES / perItem)));
  }
}
