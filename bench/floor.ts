// The floor: the least any tool can do to read every object once. Lists each resource type in pages
// (limit/continue) with a fixed number of types in flight, reads every body to the end and throws it
// away. Same runtime as kube-autosave (Node, node:https with keep-alive, TLS verified), so the gap to
// it is kube-autosave's own work: parsing, cleaning, serialising, hashing and storing.
//
// Runs as its own process (bundled by run.ts): node floor.mjs <config.json>; prints a JSON summary.
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";

export interface FloorConfig {
  readonly server: string;
  readonly caFile: string;
  readonly token: string;
  readonly types: readonly { group: string; version: string; resource: string }[];
  readonly pageSize: number;
  readonly concurrency: number;
}

export interface FloorResult {
  readonly requests: number;
  readonly bytesRead: number;
  readonly elapsedMs: number;
  readonly maxRssKb: number;
  readonly userCpuMs: number;
  readonly systemCpuMs: number;
}

/**
 * Only the list's metadata is looked at, never the items. Built-in types are encoded with metadata before
 * "items"; custom resources (unstructured lists, keys in alphabetical order) with it after "items", at the
 * very end. So the head of the body is kept until "items" shows up, and the last few chunks.
 */
const HEAD_LIMIT = 64 * 1024;
const TAIL_CHUNKS = 4;
const CONTINUE = /"continue":"([^"]*)"/;

/** The continue token of a list body, from its head (metadata first) or its tail (metadata last). */
function continueToken(head: string, tail: string): string | undefined {
  const itemsAt = head.indexOf('"items"');
  const metaAt = head.indexOf('"metadata"');
  if (metaAt >= 0 && (itemsAt < 0 || metaAt < itemsAt))
    return CONTINUE.exec(head.slice(metaAt, itemsAt >= 0 ? itemsAt : undefined))?.[1] || undefined;
  const lastMeta = tail.lastIndexOf('"metadata":{');
  return lastMeta >= 0 ? CONTINUE.exec(tail.slice(lastMeta))?.[1] || undefined : undefined;
}

async function main(): Promise<void> {
  const configPath = process.argv[2];
  if (!configPath) throw new Error("usage: floor.mjs <config.json>");
  const config = JSON.parse(readFileSync(configPath, "utf8")) as FloorConfig;
  const agent = new Agent({
    keepAlive: true,
    maxSockets: config.concurrency + 2,
    ca: readFileSync(config.caFile),
    rejectUnauthorized: true,
  });
  const headers = {
    accept: "application/json",
    "user-agent": "kube-autosave-bench-floor",
    authorization: `Bearer ${config.token}`,
  };
  let requests = 0;
  let bytesRead = 0;

  const getPage = (path: string) =>
    new Promise<string | undefined>((resolve, reject) => {
      requests += 1;
      const req = request(`${config.server}${path}`, { method: "GET", agent, headers }, (res) => {
        let head = "";
        let headDone = false;
        const tail: Buffer[] = [];
        res.on("data", (chunk: Buffer) => {
          bytesRead += chunk.length;
          if (!headDone) {
            head += chunk.toString("latin1", 0, Math.min(chunk.length, HEAD_LIMIT));
            headDone = head.includes('"items"') || head.length >= HEAD_LIMIT;
          }
          tail.push(chunk);
          if (tail.length > TAIL_CHUNKS) tail.shift();
        });
        res.on("end", () => {
          if (res.statusCode !== 200) {
            reject(new Error(`GET ${path}: HTTP ${res.statusCode}: ${head.slice(0, 200)}`));
            return;
          }
          resolve(continueToken(head, Buffer.concat(tail).toString("latin1")));
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end();
    });

  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < config.types.length) {
      const type = config.types[next++] as FloorConfig["types"][number];
      const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
      let cont: string | undefined;
      do {
        const query = new URLSearchParams({ limit: String(config.pageSize) });
        if (cont) query.set("continue", cont);
        cont = await getPage(`${base}/${type.resource}?${query}`);
      } while (cont);
    }
  };
  await Promise.all(Array.from({ length: Math.min(config.concurrency, config.types.length) }, worker));
  const elapsedMs = performance.now() - started;
  agent.destroy();
  const usage = process.resourceUsage();
  const result: FloorResult = {
    requests,
    bytesRead,
    elapsedMs,
    maxRssKb: usage.maxRSS,
    userCpuMs: usage.userCPUTime / 1000,
    systemCpuMs: usage.systemCPUTime / 1000,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`floor: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
