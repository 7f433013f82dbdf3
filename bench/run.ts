// `npm run bench`: the performance of `kube-autosave snapshot` on the real test bed, against the floor
// (a bare paginated GET of the same types) and the baseline (kube-aws's kubectl | jq dumper loop).
//
// For each size it starts a fresh kube-apiserver + etcd + kube-controller-manager, creates the synthetic
// cluster (bench/population.ts, bench/heavy.ts), lets the controllers settle, pins the servers (API server,
// etcd, controller manager, versitygw, and this script) to CPU 0, then measures on CPU 1, each tool as its
// own process:
//   floor     bench/floor.ts, node:https, limit 500, 4 types at a time, bodies discarded
//   local     kube-autosave snapshot --out <tmp dir>
//   s3        kube-autosave snapshot --bucket <new bucket> --endpoint <versitygw>
//   refLocal, refS3   the same two with another build (--reference-dist), interleaved with the ones above
//   baseline  bench/baseline-autosave.sh (kubectl get -o json | jq, per type per namespace)
// API requests are counted on the server (audit log of the user the three tools share), peak RSS and CPU
// time are the process's own (getrusage), the servers' CPU time is read from /proc before and after each
// run. Writes <out>/<date>.json, .md (the table) and .png (the chart), and, for a run of the default sizes
// to the default --out, the table in bench/README.md; a run of other sizes writes <out>/<date>-<sizes>.*.
//
// Usage: npx tsx bench/run.ts [--sizes 2k,10k,50k,heavy] [--out bench/results] [--repeats|--reps 3]
//        [--baseline-repeats 1] [--no-baseline] [--create-concurrency 16] [--no-pin]
//        [--previous bench/results/2026-11-24.json] [--dist dist]
//        [--reference-dist DIR [--reference-label TEXT]]
// A size is OBJECTS[:NAMESPACES], with k for thousands (e.g. 200:4,2k), or "heavy". Needs jq for the
// baseline and taskset (util-linux) for the pinning.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { build } from "esbuild";
import { type OwnedCluster, type OwnedS3Server, startCluster, startS3 } from "../test/support/testbed.js";
import type { FloorConfig, FloorResult } from "./floor.js";
import { HEAVY } from "./heavy.js";
import { HEAVY_SIZE, mixSize, OBJECT_MIX, type PopulateReport, populate, type Size } from "./population.js";
import {
  affinity,
  busyShare,
  findPid,
  hasTaskset,
  initClockTicks,
  type Jiffies,
  machineJiffies,
  onCpus,
  pin,
  processCpuMs,
} from "./proc.js";

const execFileP = promisify(execFile);
const BENCH = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(BENCH, "..");
const DEFAULT_OUT = join(BENCH, "results");
const README = join(BENCH, "README.md");
const TABLE_START = "<!-- results:start (written by bench/run.ts) -->";
const TABLE_END = "<!-- results:end -->";

/** The engine's defaults, which the floor copies (src/cli/parse.ts: --page-size 500, --concurrency 4). */
const PAGE_SIZE = 500;
const CONCURRENCY = 4;

const DEFAULT_SIZES = "2k,10k,50k,heavy";
/** The run the 50k time is compared with (--previous). */
const PREVIOUS_RUN = join(DEFAULT_OUT, "2026-11-24.json");

/**
 * Where the processes run (--no-pin: anywhere). The servers (API server, etcd, controller manager, and
 * versitygw, the S3 server) share CPU 0 with this script; the measured tool has CPU 1 to itself, so its
 * wall time no longer depends on how the kernel shares two cores between it and the servers.
 */
const SERVER_CPUS = "0";
const TOOL_CPUS = "1";

/** The issues' targets. */
const TARGETS = {
  maxTimeVsFloor: 1.3,
  timeVsFloorAt: ["10k", "50k"],
  maxTimeVsPrevious: 1.05,
  minSpeedupVsBaseline: 20,
  speedupAtNamespaces: 100,
  maxRssMB: 150,
  rssAt: "50k",
  maxHeavyRssMB: 200,
  maxRssGrowth: 0.2,
  rssGrowthFrom: "10k",
  maxCpuVsApiserver: 1.0,
  cpuVsApiserverAt: "50k",
} as const;

/** Only the user the measured tools authenticate as is audited: one line per request they make. */
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
    users: ["viewer"]
  - level: None
`;

/** refLocal, refS3: the reference build (--reference-dist), to a folder and to S3. */
type Tool = "floor" | "local" | "s3" | "refLocal" | "refS3" | "baseline";
const TOOLS: readonly Tool[] = ["floor", "local", "s3", "refLocal", "refS3", "baseline"];

interface Sample {
  readonly tool: Tool;
  readonly repeat: number;
  readonly exitCode: number | null;
  /** From spawn to exit, as a user waits for it (Node start-up and module loading included). */
  readonly wallMs: number;
  /** The tool's own timer: floor from first request to last byte; kube-autosave manifest startedAt→completedAt. */
  readonly inProcessMs: number | null;
  /** Peak RSS of the process (baseline: of its largest process, kubectl or jq, via GNU time). */
  readonly maxRssKb: number | null;
  readonly userCpuMs: number | null;
  readonly systemCpuMs: number | null;
  /** Requests the API server received from the tool (audit log). */
  readonly requests: number;
  /** Requests the tool counted itself (floor, kube-autosave). */
  readonly clientRequests: number | null;
  /** Bytes written (kube-autosave: the files' bytes in the manifest; baseline: the dump folder) or read (floor). */
  readonly bytes: number;
  readonly items: number | null;
  readonly files: number | null;
  /** CPU time (user + system) the servers used during the sample, from /proc/<pid>/stat. */
  readonly apiserverCpuMs: number;
  readonly etcdCpuMs: number;
  readonly versitygwCpuMs: number;
  /** Share of both cores busy (all processes) during the sample, from /proc/stat. */
  readonly machineBusy: number;
  /** Share of each core busy (all processes) during the sample: CPU 1 beyond the tool's own is others' load. */
  readonly cpuBusy: number[];
  readonly loadavg1: number;
}

interface SizeResult {
  readonly kind: Size["kind"];
  readonly name: string;
  readonly objects: number;
  readonly namespaces: number;
  readonly populate: PopulateReport;
  /** etcd's database size after the cluster was built (its default quota is 2 GiB). */
  readonly etcdDbBytes: number | null;
  /** The CPU lists each pinned process's threads were allowed, read back after pinning (null: --no-pin). */
  readonly pinned: Record<string, string[]> | null;
  readonly resourceTypes: number;
  /** Items kube-autosave stored / served (incl. what the controllers created, minus SA tokens). */
  readonly itemsInSnapshot: number;
  /** List pages the engine must request: Σ over types of max(1, ceil(items served / 500)). */
  readonly listPages: number;
  /** The floor's requests equal listPages in every run (it read everything kube-autosave read). */
  readonly floorListsEveryPage: boolean;
  readonly loadavg: { readonly start: number[]; readonly end: number[] };
  readonly samples: Sample[];
  readonly summary: Summary;
}

interface Summary {
  readonly seconds: Record<Tool, number | null>;
  readonly inProcessSeconds: Record<Exclude<Tool, "baseline">, number | null>;
  readonly rssMB: Record<Tool, number | null>;
  readonly requests: Record<Tool, number | null>;
  readonly bytesMB: Record<Tool, number | null>;
  /** The tool's own CPU time (user + system). */
  readonly cpuSeconds: Record<Tool, number | null>;
  /** The servers' CPU time during the tool's runs. */
  readonly apiserverCpuSeconds: Record<Tool, number | null>;
  readonly etcdCpuSeconds: Record<Tool, number | null>;
  readonly versitygwCpuSeconds: Record<Tool, number | null>;
  /** Median over runs of the tool's CPU ÷ the API server's CPU in the same run. */
  readonly cpuVsApiserver: Record<Tool, number | null>;
  readonly localVsFloor: number | null;
  readonly s3VsFloor: number | null;
  readonly baselineVsLocal: number | null;
  /** kube-autosave's median time ÷ the reference build's, same run (null: no --reference-dist). */
  readonly localVsReference: number | null;
  readonly s3VsReference: number | null;
  /** Requests beyond the list pages (version, discovery): constant when requests ∝ types × pages. */
  readonly fixedRequests: number | null;
}

// ---------------------------------------------------------------------------------------------------

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

function parseSize(text: string): Size {
  if (text.trim().toLowerCase() === "heavy") return HEAVY_SIZE;
  const m = /^(\d+(?:\.\d+)?)(k?)(?::(\d+))?$/i.exec(text.trim());
  if (!m) throw new Error(`--sizes: "${text}" is not OBJECTS[:NAMESPACES] (e.g. 2k, 10000:100) or heavy`);
  const objects = Math.round(Number(m[1]) * (m[2] ? 1000 : 1));
  const size = m[3] ? mixSize(objects, Number(m[3])) : mixSize(objects);
  if (objects < size.namespaces || size.namespaces < 1)
    throw new Error(`--sizes: "${text}" needs at least one object per namespace`);
  return size;
}

function options() {
  const { values } = parseArgs({
    options: {
      sizes: { type: "string", default: DEFAULT_SIZES },
      out: { type: "string", default: DEFAULT_OUT },
      repeats: { type: "string" },
      reps: { type: "string" },
      "baseline-repeats": { type: "string", default: "1" },
      "no-baseline": { type: "boolean", default: false },
      "create-concurrency": { type: "string", default: "16" },
      "no-pin": { type: "boolean", default: false },
      previous: { type: "string", default: PREVIOUS_RUN },
      dist: { type: "string", default: join(REPO, "dist") },
      "reference-dist": { type: "string" },
      "reference-label": { type: "string" },
    },
    strict: true,
  });
  const int = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return n;
  };
  if (values["reference-label"] !== undefined && values["reference-dist"] === undefined)
    throw new Error("--reference-label names the --reference-dist build: give --reference-dist too");
  if (values.repeats !== undefined && values.reps !== undefined)
    throw new Error("--reps is --repeats: give one of them");
  const sizes = values.sizes.split(",").map(parseSize);
  const defaultSizes = DEFAULT_SIZES.split(",").map(parseSize);
  return {
    sizes,
    /** Only a run of the default sizes is "the" run of the day: the others get their sizes in the file name. */
    allSizes: sizes.map((s) => s.name).join(",") === defaultSizes.map((s) => s.name).join(","),
    out: resolve(values.out),
    repeats: int("repeats", values.repeats ?? values.reps ?? "3", 1),
    pin: !values["no-pin"],
    previous: resolve(values.previous),
    dist: resolve(values.dist),
    referenceDist: values["reference-dist"] === undefined ? null : resolve(values["reference-dist"]),
    referenceLabel: values["reference-label"] ?? null,
    baselineRepeats: values["no-baseline"] ? 0 : int("baseline-repeats", values["baseline-repeats"], 0),
    createConcurrency: int("create-concurrency", values["create-concurrency"], 1),
  };
}

// ----- processes and counters -----------------------------------------------------------------------

interface Exited {
  readonly code: number | null;
  readonly wallMs: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion; wall time is from spawn to the exit event. */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Exited> {
  return new Promise((resolveRun, reject) => {
    const started = performance.now();
    let exitedAt = 0;
    const child: ChildProcess = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (c: Buffer) => out.push(c));
    child.stderr?.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("exit", () => {
      exitedAt = performance.now();
    });
    child.on("close", (code) => {
      resolveRun({
        code,
        wallMs: (exitedAt || performance.now()) - started,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
  });
}

/** Counts audit lines (one per completed request of the audited user) appended since the last call. */
class AuditCounter {
  #offset = 0;
  constructor(private readonly path: string) {}

  async mark(): Promise<void> {
    this.#offset = existsSync(this.path) ? (await stat(this.path)).size : 0;
  }

  async countSinceMark(): Promise<number> {
    const size = (await stat(this.path)).size;
    const handle = await open(this.path, "r");
    try {
      const buf = Buffer.alloc(size - this.#offset);
      await handle.read(buf, 0, buf.length, this.#offset);
      this.#offset = size;
      let n = 0;
      for (const line of buf.toString("utf8").split("\n"))
        if (line.includes('"stage":"ResponseComplete"') && line.includes('"username":"viewer"')) n += 1;
      return n;
    } finally {
      await handle.close();
    }
  }
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

// ----- one size ---------------------------------------------------------------------------------------

interface Bed {
  readonly bin: string;
  readonly s3: OwnedS3Server;
  readonly buildDir: string;
  /** The build measured (--dist). */
  readonly cli: CliBuild;
  /** The build it is compared with in the same runs (--reference-dist), or null. */
  readonly reference: CliBuild | null;
  readonly work: string;
  readonly timeBinary: string | undefined;
  readonly versitygwPid: number;
  /** Whether servers and tools are pinned to SERVER_CPUS / TOOL_CPUS. */
  readonly pin: boolean;
  /** This script's CPU list before any pinning, restored after each size. */
  readonly allCpus: string;
}

/** A kube-autosave CLI bundle as run.ts runs it. */
interface CliBuild {
  /** cli.js of the copy under bench/.build/. */
  readonly cli: string;
  /** The V8 flags of its bin/kube-autosave.js's shebang: it runs with them, as its bin runs it. */
  readonly nodeFlags: readonly string[];
}

interface Measured {
  wallMs: number;
  code: number | null;
  rest: Omit<Sample, "tool" | "repeat" | "exitCode" | "wallMs" | "requests" | keyof Probe>;
}
/** What `kube-autosave snapshot --json` prints (src/cli/snapshot.ts). */
interface CliSummary {
  readonly manifestKey: string;
  readonly requests: number;
  readonly startedAt: string;
  readonly completedAt: string;
  readonly totals: { items: number; bytes: number; files: number; resourceTypes: number };
}
type Probe = Pick<
  Sample,
  "apiserverCpuMs" | "etcdCpuMs" | "versitygwCpuMs" | "machineBusy" | "cpuBusy" | "loadavg1"
>;

/** etcd's database size (its own metric), to see how far it is from the 2 GiB default quota. */
async function etcdDbBytes(etcdUrl: string): Promise<number | null> {
  const metrics = await (await fetch(`${etcdUrl}/metrics`)).text();
  const m = /^etcd_mvcc_db_total_size_in_bytes\s+(\S+)$/m.exec(metrics);
  return m ? Number(m[1]) : null;
}

/**
 * Pins the cluster's servers and this script to SERVER_CPUS (every thread: taskset -a), and reads the
 * affinity back from /proc. This script runs there too so that CPU 1 is the measured tool's alone.
 */
async function pinServers(pids: Record<string, number>): Promise<Record<string, string[]>> {
  const seen: Record<string, string[]> = {};
  for (const [name, pid] of Object.entries(pids)) {
    await pin(pid, SERVER_CPUS);
    seen[name] = await affinity(pid);
    if (seen[name].join() !== SERVER_CPUS)
      throw new Error(`${name} (${pid}) runs on ${seen[name]} after pinning`);
  }
  return seen;
}

async function measureSize(bed: Bed, size: Size, opts: ReturnType<typeof options>): Promise<SizeResult> {
  const auditDir = await mkdtemp(join(bed.work, "audit-"));
  const policy = join(auditDir, "policy.yaml");
  const auditLog = join(auditDir, "audit.log");
  await writeFile(policy, AUDIT_POLICY);
  log(`size ${size.objects} objects / ${size.namespaces} namespaces: starting the cluster`);
  const cluster: OwnedCluster = await startCluster({
    apiserverArgs: [
      // The test bed's /24 holds 254 ClusterIPs; the benchmark creates up to 8 % Services.
      "--service-cluster-ip-range=10.96.0.0/16",
      `--audit-policy-file=${policy}`,
      `--audit-log-path=${auditLog}`,
      "--audit-log-maxsize=0",
    ],
  });
  try {
    const pop = await populate(cluster, size, { concurrency: opts.createConcurrency, log });
    const dbBytes = await etcdDbBytes(cluster.etcdUrl);
    log(
      `  created ${pop.created} objects (${(pop.bytesCreated / 1e6).toFixed(0)} MB) in ${pop.createSeconds.toFixed(1)} s, controllers settled in ${pop.settleSeconds.toFixed(1)} s, etcd db ${dbBytes === null ? "?" : (dbBytes / 1e6).toFixed(0)} MB`,
    );
    const apiserverPid = await findPid("kube-apiserver", cluster.dir);
    const etcdPid = await findPid("etcd", cluster.dir);
    // Built with both cores (setup is not measured); pinned from here to the end of the size.
    const pinned = bed.pin
      ? await pinServers({
          "kube-apiserver": apiserverPid,
          etcd: etcdPid,
          "kube-controller-manager": await findPid("kube-controller-manager", cluster.dir),
          versitygw: bed.versitygwPid,
          "bench/run.ts": process.pid,
        })
      : null;
    if (pinned)
      log(`  pinned the servers and bench/run.ts to CPU ${SERVER_CPUS}; the tools run on CPU ${TOOL_CPUS}`);
    const toolCpus = bed.pin ? TOOL_CPUS : null;
    const audit = new AuditCounter(auditLog);
    const viewer = cluster.kubeconfig("viewer");
    const loadStart = loadavg();

    const probe = async <T>(work: () => Promise<T>): Promise<{ value: T } & Probe> => {
      const load = loadavg()[0] ?? 0;
      const servers = [apiserverPid, etcdPid, bed.versitygwPid];
      const [c0, m0] = await Promise.all([Promise.all(servers.map(processCpuMs)), machineJiffies()]);
      const value = await work();
      const [c1, m1] = await Promise.all([Promise.all(servers.map(processCpuMs)), machineJiffies()]);
      const used = (i: number) => (c1[i] as number) - (c0[i] as number);
      return {
        value,
        apiserverCpuMs: used(0),
        etcdCpuMs: used(1),
        versitygwCpuMs: used(2),
        machineBusy: busyShare(m0.all, m1.all),
        cpuBusy: m1.perCpu.map((j, i) => busyShare(m0.perCpu[i] as Jiffies, j)),
        loadavg1: load,
      };
    };

    const sample = async (tool: Tool, repeat: number, run: () => Promise<Measured>): Promise<Sample> => {
      await audit.mark();
      const { value, ...p } = await probe(run);
      const requests = await audit.countSinceMark();
      const s: Sample = {
        tool,
        repeat,
        exitCode: value.code,
        wallMs: value.wallMs,
        requests,
        ...value.rest,
        ...p,
      };
      if (s.exitCode !== 0) throw new Error(`${tool} exited ${s.exitCode}`);
      const cpu = s.userCpuMs === null || s.systemCpuMs === null ? null : s.userCpuMs + s.systemCpuMs;
      log(
        `  ${tool.padEnd(8)} #${repeat}: ${(s.wallMs / 1000).toFixed(2)} s, ${s.maxRssKb === null ? "-" : ((s.maxRssKb * 1024) / 1e6).toFixed(0)} MB, ${s.requests} requests, CPU ${cpu === null ? "-" : (cpu / 1000).toFixed(2)} s, apiserver ${(s.apiserverCpuMs / 1000).toFixed(2)} s, etcd ${(s.etcdCpuMs / 1000).toFixed(2)} s, cores ${s.cpuBusy.map((b) => `${(b * 100).toFixed(0)} %`).join(" / ")} busy`,
      );
      return s;
    };

    const runCli = async (
      build: CliBuild,
      target: string[],
      label: string,
    ): Promise<{ measured: Measured; summary: CliSummary }> => {
      const rssFile = join(bed.work, `rss-${label}.json`);
      const exited = await timed(
        ...onCpus(toolCpus, process.execPath, [
          ...build.nodeFlags,
          join(bed.buildDir, "cli-rss.mjs"),
          build.cli,
          "snapshot",
          "--kubeconfig",
          viewer,
          "--cluster-name",
          "bench",
          "--json",
          ...target,
        ]),
        {
          ...process.env,
          BENCH_RSS_FILE: rssFile,
          AWS_ACCESS_KEY_ID: bed.s3.accessKeyId,
          AWS_SECRET_ACCESS_KEY: bed.s3.secretAccessKey,
          AWS_REGION: bed.s3.region,
        },
      );
      if (exited.code !== 0)
        throw new Error(`kube-autosave ${label} exited ${exited.code}: ${exited.stderr}`);
      const summary = JSON.parse(exited.stdout) as CliSummary;
      const usage = JSON.parse(await readFile(rssFile, "utf8"));
      return {
        summary,
        measured: {
          wallMs: exited.wallMs,
          code: exited.code,
          rest: {
            inProcessMs: Date.parse(summary.completedAt) - Date.parse(summary.startedAt),
            maxRssKb: usage.maxRssKb,
            userCpuMs: usage.userCpuMs,
            systemCpuMs: usage.systemCpuMs,
            clientRequests: summary.requests,
            bytes: summary.totals.bytes,
            items: summary.totals.items,
            files: summary.totals.files,
          },
        },
      };
    };

    const local = async (build: CliBuild, label: string) => {
      const out = await mkdtemp(join(bed.work, `${label}-`));
      try {
        return (await runCli(build, ["--out", out], label)).measured;
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    };
    const s3 = async (build: CliBuild, label: string) => {
      const bucket = await bed.s3.createBucket("bench");
      const target = ["--bucket", bucket, "--endpoint", bed.s3.endpoint, "--region", bed.s3.region];
      return (await runCli(build, target, label)).measured;
    };

    // Warm-up (not recorded): fills the API server's and etcd's caches, and its manifest names the
    // types kube-autosave lists, which the floor then lists too. The manifest is read from disk.
    log("  warm-up run (kube-autosave to a folder)");
    const warmOut = await mkdtemp(join(bed.work, "warm-"));
    const warm = await runCli(bed.cli, ["--out", warmOut], "warm");
    const manifest = JSON.parse(await readFile(warm.summary.manifestKey, "utf8")) as {
      resources: { group: string; version: string; resource: string; items: number; notStored: number }[];
      totals: { items: number; resourceTypes: number };
    };
    await rm(warmOut, { recursive: true, force: true });
    const types = manifest.resources.map(({ group, version, resource }) => ({ group, version, resource }));
    const listPages = manifest.resources.reduce(
      (n, r) => n + Math.max(1, Math.ceil((r.items + r.notStored) / PAGE_SIZE)),
      0,
    );
    const floorConfig = join(bed.work, "floor.json");
    const config: FloorConfig = {
      server: cluster.server,
      caFile: cluster.caFile,
      token: cluster.tokens.viewer,
      types,
      pageSize: PAGE_SIZE,
      concurrency: CONCURRENCY,
    };
    await writeFile(floorConfig, JSON.stringify(config));
    const floor = async (): Promise<Measured> => {
      const exited = await timed(
        ...onCpus(toolCpus, process.execPath, [join(bed.buildDir, "floor.mjs"), floorConfig]),
      );
      if (exited.code !== 0) throw new Error(`floor exited ${exited.code}: ${exited.stderr}`);
      const r = JSON.parse(exited.stdout) as FloorResult;
      return {
        wallMs: exited.wallMs,
        code: exited.code,
        rest: {
          inProcessMs: r.elapsedMs,
          maxRssKb: r.maxRssKb,
          userCpuMs: r.userCpuMs,
          systemCpuMs: r.systemCpuMs,
          clientRequests: r.requests,
          bytes: r.bytesRead,
          items: null,
          files: null,
        },
      };
    };
    const baseline = async (): Promise<Measured> => {
      const root = await mkdtemp(join(bed.work, "baseline-"));
      const rssFile = join(root, "time.txt");
      const script = join(BENCH, "baseline-autosave.sh");
      const [cmd, args] = bed.timeBinary
        ? [bed.timeBinary, ["-f", "%M %U %S", "-o", rssFile, "/bin/sh", script, join(root, "dump")]]
        : ["/bin/sh", [script, join(root, "dump")]];
      try {
        const exited = await timed(...onCpus(toolCpus, cmd, args as string[]), {
          ...process.env,
          KUBECTL: join(bed.bin, "kubectl"),
          KUBECONFIG: viewer,
          // A cold discovery cache, as on the add-on's first run of the day (its TTL is shorter than 24 h).
          KUBECACHEDIR: join(root, "kube-cache"),
        });
        if (exited.code !== 0)
          throw new Error(`baseline exited ${exited.code}: ${exited.stderr.slice(-2000)}`);
        const [rss, user, sys] = bed.timeBinary
          ? (await readFile(rssFile, "utf8")).trim().split(/\s+/).map(Number)
          : [Number.NaN, Number.NaN, Number.NaN];
        const dump = join(root, "dump", "complete");
        return {
          wallMs: exited.wallMs,
          code: exited.code,
          rest: {
            inProcessMs: null,
            maxRssKb: Number.isFinite(rss) ? (rss as number) : null,
            userCpuMs: Number.isFinite(user) ? (user as number) * 1000 : null,
            systemCpuMs: Number.isFinite(sys) ? (sys as number) * 1000 : null,
            clientRequests: null,
            bytes: await folderBytes(dump),
            items: null,
            files: (await readdir(dump, { recursive: true, withFileTypes: true })).filter((e) => e.isFile())
              .length,
          },
        };
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    };

    const samples: Sample[] = [];
    const reference = bed.reference;
    // With a reference build, each of its runs follows the same run of the measured build: both see the
    // same cluster, caches and machine load, in the same order every repetition.
    for (let r = 1; r <= opts.repeats; r++) {
      samples.push(await sample("floor", r, floor));
      samples.push(await sample("local", r, () => local(bed.cli, "local")));
      if (reference) samples.push(await sample("refLocal", r, () => local(reference, "refLocal")));
      samples.push(await sample("s3", r, () => s3(bed.cli, "s3")));
      if (reference) samples.push(await sample("refS3", r, () => s3(reference, "refS3")));
    }
    for (let r = 1; r <= opts.baselineRepeats; r++) samples.push(await sample("baseline", r, baseline));
    // The floor must read every page kube-autosave reads, or it is not a floor.
    const floorPages = samples.filter((s) => s.tool === "floor").map((s) => s.requests);
    const floorListsEveryPage = floorPages.every((n) => n === listPages);
    if (!floorListsEveryPage)
      log(`  WARNING: the floor made ${floorPages.join("/")} requests for ${listPages} pages`);
    const loadEnd = loadavg();
    return {
      kind: size.kind,
      name: size.name,
      objects: size.objects,
      namespaces: size.namespaces,
      populate: pop,
      etcdDbBytes: dbBytes,
      pinned,
      resourceTypes: manifest.totals.resourceTypes,
      itemsInSnapshot: manifest.totals.items,
      listPages,
      floorListsEveryPage,
      loadavg: { start: loadStart, end: loadEnd },
      samples,
      summary: summarize(samples, listPages),
    };
  } finally {
    // The next size's cluster is built with both cores again (its servers inherit this script's affinity).
    if (bed.pin) await pin(process.pid, bed.allCpus);
    await cluster.stop();
    await rm(auditDir, { recursive: true, force: true });
  }
}

// ----- summary, targets, table ----------------------------------------------------------------------

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The tool's own CPU time, user + system (NaN when not measured: dropped by the medians). */
function cpuMs(s: Sample): number {
  return s.userCpuMs === null || s.systemCpuMs === null ? Number.NaN : s.userCpuMs + s.systemCpuMs;
}

function summarize(samples: Sample[], listPages: number): Summary {
  const of = (tool: Tool, pick: (s: Sample) => number | null) =>
    median(
      samples
        .filter((s) => s.tool === tool)
        .map(pick)
        .filter((v): v is number => v !== null && !Number.isNaN(v)),
    );
  const per = (pick: (s: Sample) => number | null) =>
    Object.fromEntries(TOOLS.map((t) => [t, of(t, pick)])) as Record<Tool, number | null>;
  const seconds = per((s) => s.wallMs / 1000);
  const ratio = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? a / b : null);
  const requests = per((s) => s.requests);
  // The baseline has no timer of its own.
  const { baseline: _baseline, ...inProcessSeconds } = per((s) =>
    s.inProcessMs === null ? null : s.inProcessMs / 1000,
  );
  return {
    seconds,
    inProcessSeconds,
    rssMB: per((s) => (s.maxRssKb === null ? null : (s.maxRssKb * 1024) / 1e6)),
    requests,
    bytesMB: per((s) => s.bytes / 1e6),
    cpuSeconds: per((s) => cpuMs(s) / 1000),
    apiserverCpuSeconds: per((s) => s.apiserverCpuMs / 1000),
    etcdCpuSeconds: per((s) => s.etcdCpuMs / 1000),
    versitygwCpuSeconds: per((s) => s.versitygwCpuMs / 1000),
    cpuVsApiserver: per((s) => ratio(cpuMs(s), s.apiserverCpuMs)),
    localVsFloor: ratio(seconds.local, seconds.floor),
    s3VsFloor: ratio(seconds.s3, seconds.floor),
    baselineVsLocal: ratio(seconds.baseline, seconds.local),
    localVsReference: ratio(seconds.local, seconds.refLocal),
    s3VsReference: ratio(seconds.s3, seconds.refS3),
    fixedRequests: requests.local === null ? null : requests.local - listPages,
  };
}

interface TargetCheck {
  readonly target: string;
  readonly value: string;
  readonly met: boolean | null;
  /** No target: a number to read next to the others (shown as "for information"). */
  readonly informational?: true;
}

/** The 50k-object medians of an earlier run's JSON (its sizes have no name: found by their object count). */
interface PreviousRun {
  readonly file: string;
  /** null: the file is missing or has no 50k size. */
  readonly seconds: { local: number | null; s3: number | null } | null;
}

async function previousRun(file: string): Promise<PreviousRun> {
  if (!existsSync(file)) return { file, seconds: null };
  const old = JSON.parse(await readFile(file, "utf8")) as {
    sizes: { objects: number; kind?: string; summary: Summary }[];
  };
  const at50k = old.sizes.find((s) => s.objects === 50_000 && (s.kind ?? "mix") === "mix");
  return {
    file,
    seconds: at50k ? { local: at50k.summary.seconds.local, s3: at50k.summary.seconds.s3 } : null,
  };
}

/**
 * What the 50k time is compared with: the reference build measured in the same runs (--reference-dist),
 * or, without one, an earlier run's JSON (--previous).
 */
type TimeComparison = { readonly reference: string } | { readonly previous: PreviousRun };

function checkTargets(sizes: SizeResult[], pinned: boolean, comparison: TimeComparison): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const byName = (name: string) => sizes.find((s) => s.name === name);
  const rssOf = (s: SizeResult | undefined) =>
    s ? Math.max(s.summary.rssMB.local ?? 0, s.summary.rssMB.s3 ?? 0) : null;
  const within = (v: number | null, max: number) => (v === null ? null : v <= max);

  // Wall times are only comparable with the floor when the tool does not share its core with the servers.
  for (const name of TARGETS.timeVsFloorAt) {
    const s = byName(name);
    const v = s?.summary.localVsFloor ?? null;
    checks.push({
      target: `time ≤ ${TARGETS.maxTimeVsFloor} × floor at ${name}, folder, pinned cores`,
      value: !s
        ? "size not run"
        : pinned
          ? `${fmt(v, 2)}× (S3 ${fmt(s.summary.s3VsFloor, 2)}×)`
          : "not pinned (--no-pin)",
      met: pinned ? within(v, TARGETS.maxTimeVsFloor) : null,
    });
  }
  const at50k = byName("50k");
  const vs = (now: number | null, before: number | null) => (now !== null && before ? now / before : null);
  if ("reference" in comparison) {
    // Same cluster, same runs, same pinning: the like-for-like check of "no slower than before".
    const m = at50k?.summary;
    const local = vs(m?.seconds.local ?? null, m?.seconds.refLocal ?? null);
    const s3 = vs(m?.seconds.s3 ?? null, m?.seconds.refS3 ?? null);
    checks.push({
      target: `time at 50k ≤ ${TARGETS.maxTimeVsPrevious} × the reference build's (${comparison.reference}, same runs, same cluster), folder and S3, medians`,
      value: m
        ? `folder ${fmt(m.seconds.local, 2)} s vs ${fmt(m.seconds.refLocal, 2)} s (${fmt(local, 2)}×), S3 ${fmt(m.seconds.s3, 2)} s vs ${fmt(m.seconds.refS3, 2)} s (${fmt(s3, 2)}×)`
        : "size not run",
      met: local === null || s3 === null ? null : Math.max(local, s3) <= TARGETS.maxTimeVsPrevious,
    });
    const rssLocal = vs(m?.rssMB.local ?? null, m?.rssMB.refLocal ?? null);
    const rssS3 = vs(m?.rssMB.s3 ?? null, m?.rssMB.refS3 ?? null);
    checks.push({
      target: `peak RSS at 50k vs the reference build's (${comparison.reference}), medians`,
      value: m
        ? `folder ${fmt(m.rssMB.local, 0)} MB vs ${fmt(m.rssMB.refLocal, 0)} MB (${fmt(rssLocal, 2)}×), S3 ${fmt(m.rssMB.s3, 0)} MB vs ${fmt(m.rssMB.refS3, 0)} MB (${fmt(rssS3, 2)}×)`
        : "size not run",
      met: null,
      informational: true,
    });
  } else {
    const { previous } = comparison;
    const then = previous.seconds;
    const local = vs(at50k?.summary.seconds.local ?? null, then?.local ?? null);
    const s3 = vs(at50k?.summary.seconds.s3 ?? null, then?.s3 ?? null);
    checks.push({
      target: `time at 50k ≤ ${TARGETS.maxTimeVsPrevious} × ${relative(REPO, previous.file)}${then ? ` (folder ${fmt(then.local, 2)} s, S3 ${fmt(then.s3, 2)} s)` : ""}`,
      value: !then
        ? "no 50k run in that file"
        : at50k
          ? `folder ${fmt(at50k.summary.seconds.local, 2)} s (${fmt(local, 2)}×), S3 ${fmt(at50k.summary.seconds.s3, 2)} s (${fmt(s3, 2)}×)`
          : "size not run",
      met: local === null || s3 === null ? null : Math.max(local, s3) <= TARGETS.maxTimeVsPrevious,
    });
  }
  const at100 = sizes.find((s) => s.kind === "mix" && s.namespaces === TARGETS.speedupAtNamespaces);
  checks.push({
    target: `≥ ${TARGETS.minSpeedupVsBaseline} × faster than the baseline at ${TARGETS.speedupAtNamespaces} namespaces`,
    value: at100 ? `${fmt(at100.summary.baselineVsLocal, 1)}×` : "size not run",
    met:
      at100?.summary.baselineVsLocal == null
        ? null
        : at100.summary.baselineVsLocal >= TARGETS.minSpeedupVsBaseline,
  });
  const bigRss = rssOf(byName(TARGETS.rssAt));
  checks.push({
    target: `peak RSS ≤ ${TARGETS.maxRssMB} MB at ${TARGETS.rssAt}, folder and S3`,
    value: bigRss === null ? "size not run" : `${bigRss.toFixed(0)} MB`,
    met: within(bigRss, TARGETS.maxRssMB),
  });
  const heavy = byName("heavy");
  checks.push({
    target: `peak RSS ≤ ${TARGETS.maxHeavyRssMB} MB at heavy, folder and S3`,
    value: heavy
      ? `folder ${fmt(heavy.summary.rssMB.local, 0)} MB, S3 ${fmt(heavy.summary.rssMB.s3, 0)} MB`
      : "size not run",
    met: within(rssOf(heavy), TARGETS.maxHeavyRssMB),
  });
  const midRss = rssOf(byName(TARGETS.rssGrowthFrom));
  const growth = bigRss !== null && midRss ? bigRss / midRss - 1 : null;
  checks.push({
    target: `peak RSS grows < ${TARGETS.maxRssGrowth * 100} % from ${TARGETS.rssGrowthFrom} to ${TARGETS.rssAt}`,
    value:
      growth === null
        ? "sizes not run"
        : `${(growth * 100).toFixed(0)} % (${midRss?.toFixed(0)} → ${bigRss?.toFixed(0)} MB)`,
    met: growth === null ? null : growth < TARGETS.maxRssGrowth,
  });
  const cpuAt = byName(TARGETS.cpuVsApiserverAt);
  const cpuRatio = cpuAt?.summary.cpuVsApiserver.local ?? null;
  checks.push({
    target: `kube-autosave's CPU ≤ ${TARGETS.maxCpuVsApiserver} × the API server's at ${TARGETS.cpuVsApiserverAt}, folder`,
    value: cpuAt
      ? `${fmt(cpuRatio, 2)}× (${fmt(cpuAt.summary.cpuSeconds.local, 2)} s against ${fmt(cpuAt.summary.apiserverCpuSeconds.local, 2)} s)`
      : "size not run",
    met: within(cpuRatio, TARGETS.maxCpuVsApiserver),
  });
  // The heavy size adds API groups (its CRDs), so discovery costs more there: mix sizes only.
  const fixed = sizes
    .filter((s) => s.kind === "mix")
    .map((s) => s.summary.fixedRequests)
    .filter((v): v is number => v !== null);
  const spread = fixed.length ? Math.max(...fixed) - Math.min(...fixed) : null;
  checks.push({
    target: "requests = list pages + a fixed number (∝ types × pages, not namespaces)",
    value: fixed.length ? `requests − pages = ${fixed.join(" / ")}` : "-",
    met: spread === null ? null : spread <= 2,
  });
  return checks;
}

function fmt(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined || Number.isNaN(v) ? "-" : v.toFixed(digits);
}

/** A size as the tables name it: objects / namespaces, "heavy" first for the heavy one. */
function sizeLabel(s: SizeResult): string {
  const counts = `${s.objects.toLocaleString("en-US")} / ${s.namespaces}`;
  return s.kind === "heavy" ? `heavy: ${counts}` : counts;
}

function markdown(result: Results, stem: string): string {
  const rows = result.sizes.map((s) => {
    const m = s.summary;
    return `| ${sizeLabel(s)} | ${s.itemsInSnapshot.toLocaleString("en-US")} | ${s.resourceTypes} | ${fmt(m.seconds.floor, 2)} | ${fmt(m.seconds.local, 2)} | ${fmt(m.seconds.s3, 2)} | ${fmt(m.seconds.baseline, 1)} | **${fmt(m.localVsFloor, 2)}** / ${fmt(m.s3VsFloor, 2)} | **${fmt(m.baselineVsLocal, 1)}** | ${fmt(m.rssMB.floor, 0)} / **${fmt(m.rssMB.local, 0)}** / ${fmt(m.rssMB.s3, 0)} / ${fmt(m.rssMB.baseline, 0)} | ${fmt(m.requests.floor, 0)} / **${fmt(m.requests.local, 0)}** / ${fmt(m.requests.baseline, 0)} | ${s.listPages} | ${fmt(m.bytesMB.local, 1)} / ${fmt(m.bytesMB.baseline, 1)} |`;
  });
  const engineRows = result.sizes.map((s) => {
    const m = s.summary;
    const ratio = (a: number | null, b: number | null) => (a !== null && b !== null ? a / b : null);
    return `| ${sizeLabel(s)} | ${fmt(m.inProcessSeconds.floor, 2)} | ${fmt(m.inProcessSeconds.local, 2)} | ${fmt(m.inProcessSeconds.s3, 2)} | ${fmt(ratio(m.inProcessSeconds.local, m.inProcessSeconds.floor), 2)} / ${fmt(ratio(m.inProcessSeconds.s3, m.inProcessSeconds.floor), 2)} | ${s.loadavg.start.map((v) => v.toFixed(2)).join(" ")} → ${s.loadavg.end.map((v) => v.toFixed(2)).join(" ")} |`;
  });
  const cpuRows = result.sizes.map((s) => {
    const m = s.summary;
    const busy = median(
      s.samples
        .filter((x) => x.tool === "local" && x.cpuBusy[1] !== undefined)
        .map((x) => x.cpuBusy[1] as number),
    );
    return `| ${sizeLabel(s)} | ${fmt(m.cpuSeconds.floor, 2)} / **${fmt(m.cpuSeconds.local, 2)}** / ${fmt(m.cpuSeconds.s3, 2)} / ${fmt(m.cpuSeconds.baseline, 1)} | ${fmt(m.apiserverCpuSeconds.floor, 2)} / **${fmt(m.apiserverCpuSeconds.local, 2)}** / ${fmt(m.apiserverCpuSeconds.s3, 2)} | ${fmt(m.etcdCpuSeconds.floor, 2)} / ${fmt(m.etcdCpuSeconds.local, 2)} / ${fmt(m.etcdCpuSeconds.s3, 2)} | ${fmt(m.versitygwCpuSeconds.s3, 2)} | ${fmt(m.cpuVsApiserver.floor, 2)} / **${fmt(m.cpuVsApiserver.local, 2)}** / ${fmt(m.cpuVsApiserver.s3, 2)} | ${busy === null ? "-" : `${(busy * 100).toFixed(0)} %`} |`;
  });
  const referenceRows = result.sizes.map((s) => {
    const m = s.summary;
    const pair = (v: Record<Tool, number | null>, digits: number, a: Tool, b: Tool) =>
      `${fmt(v[a], digits)} / ${fmt(v[b], digits)}`;
    return `| ${sizeLabel(s)} | ${pair(m.seconds, 2, "local", "refLocal")} | ${pair(m.seconds, 2, "s3", "refS3")} | **${fmt(m.localVsReference, 2)}** / **${fmt(m.s3VsReference, 2)}** | ${fmt(m.inProcessSeconds.refLocal, 2)} / ${fmt(m.inProcessSeconds.refS3, 2)} | ${pair(m.rssMB, 0, "local", "refLocal")} | ${pair(m.rssMB, 0, "s3", "refS3")} | ${pair(m.cpuSeconds, 2, "local", "refLocal")} | ${pair(m.cpuSeconds, 2, "s3", "refS3")} | ${pair(m.apiserverCpuSeconds, 2, "local", "refLocal")} |`;
  });
  const ref = result.reference;
  const referenceTable = ref
    ? [
        "",
        `The reference build, same runs: ${ref.label} (\`${ref.code.dist}\`, commit \`${ref.code.commit.slice(0, 7)}\`${ref.code.srcDirty ? " with uncommitted changes in src/" : ""}, Node flags \`${ref.nodeFlags.join(" ")}\`), pinned like kube-autosave, each repetition in the order floor, kube-autosave folder, reference folder, kube-autosave S3, reference S3. Medians; "kube-autosave" is the build measured above:`,
        "",
        "| objects / namespaces | folder s kube-autosave / reference | S3 s kube-autosave / reference | kube-autosave ÷ reference folder / S3 | reference in-process s folder / S3 | peak RSS MB folder kube-autosave / reference | peak RSS MB S3 kube-autosave / reference | tool CPU s folder kube-autosave / reference | tool CPU s S3 kube-autosave / reference | API server CPU s during folder kube-autosave / reference |",
        "|---|---|---|---|---|---|---|---|---|---|",
        ...referenceRows,
      ]
    : [];
  const checks = result.targets.map(
    (c) =>
      `| ${c.target} | ${c.value} | ${c.informational ? "for information" : c.met === null ? "not measured" : c.met ? "met" : "**missed**"} |`,
  );
  return [
    `Run of ${result.date} (${result.machine.cpus} × ${result.machine.cpuModel}, ${result.machine.memoryGB} GB, Node ${result.machine.node}${result.options.pinned ? `; API server, etcd, controller manager and versitygw pinned to CPU ${SERVER_CPUS}, the measured tools to CPU ${TOOL_CPUS}` : "; cores shared (--no-pin)"}), ${result.code.dist === join(REPO, "dist") ? "code" : `code built in ${result.code.dist}, checkout`} at commit \`${result.code.commit.slice(0, 7)}\`${result.code.srcDirty ? " with uncommitted changes in src/" : ""}${ref ? `, next to the reference build ${ref.label} in the same runs` : ""}; load average (1/5/15 min) ${result.loadavg.start.map((v) => v.toFixed(2)).join(" ")} at the start, ${result.loadavg.end.map((v) => v.toFixed(2)).join(" ")} at the end. Medians of ${result.options.repeats} runs (baseline: ${result.options.baselineRepeats}). Raw samples: [results/${stem}.json](results/${stem}.json).`,
    "",
    "| objects / namespaces | items stored | types | floor s | local s | S3 s | baseline s | local / S3 ÷ floor | baseline ÷ local | peak RSS MB floor / local / S3 / baseline | requests floor / kube-autosave / baseline | list pages | MB written local / baseline |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    "Time inside the process (kube-autosave: the manifest's `startedAt` → `completedAt`, after Node start-up, module loading and kubeconfig parsing; floor: first request → last byte):",
    "",
    "| objects / namespaces | floor s | local s | S3 s | local / S3 ÷ floor | load average at start → end of the size |",
    "|---|---|---|---|---|---|",
    ...engineRows,
    "",
    `CPU seconds (user + system) per run, medians. The tool's own (getrusage at its exit); the servers' during that run (/proc/<pid>/stat before and after); ${result.options.pinned ? `servers on CPU ${SERVER_CPUS}, tools on CPU ${TOOL_CPUS}, so CPU ${TOOL_CPUS} busy beyond the tool's own CPU time is other processes of the machine` : "not pinned (--no-pin)"}:`,
    "",
    "| objects / namespaces | tool CPU s floor / local / S3 / baseline | API server CPU s during floor / local / S3 | etcd CPU s during floor / local / S3 | versitygw CPU s during S3 | tool ÷ API server CPU floor / local / S3 | CPU 1 busy during local |",
    "|---|---|---|---|---|---|---|",
    ...cpuRows,
    ...referenceTable,
    "",
    "| target | measured | status |",
    "|---|---|---|",
    ...checks,
    "",
    `![time, peak RSS and CPU per size](results/${stem}.png)`,
  ].join("\n");
}

interface Results {
  readonly date: string;
  readonly startedAt: string;
  readonly completedAt: string;
  readonly machine: {
    cpus: number;
    cpuModel: string;
    memoryGB: number;
    kernel: string;
    node: string;
    kubernetes: string;
  };
  readonly loadavg: { readonly start: number[]; readonly end: number[] };
  /** The code measured: the commit checked out, whether src/ had changes, and the CLI bundle's hash. */
  readonly code: CodeVersion;
  /** The build measured in the same runs to compare with (--reference-dist), or null. */
  readonly reference: {
    readonly label: string;
    /** The commit and src/ state of the checkout its dist is in. */
    readonly code: CodeVersion;
    /** Node flags it ran with (those of its bin's shebang, DIR/../bin/kube-autosave.js). */
    readonly nodeFlags: readonly string[];
  } | null;
  readonly options: {
    repeats: number;
    baselineRepeats: number;
    pageSize: number;
    concurrency: number;
    /** Node flags kube-autosave ran with (those of the bin's shebang). */
    nodeFlags: readonly string[];
    /** Servers on SERVER_CPUS, tools on TOOL_CPUS (false: --no-pin). */
    pinned: boolean;
    serverCpus: string | null;
    toolCpus: string | null;
  };
  readonly mix: typeof OBJECT_MIX;
  readonly heavy: typeof HEAVY;
  readonly sizes: SizeResult[];
  readonly targets: TargetCheck[];
}

interface CodeVersion {
  /** The checkout's commit and state; they say what was measured only when `dist` is the checkout's dist/. */
  readonly commit: string;
  readonly srcDirty: boolean;
  /** Where the measured bundle came from (--dist). */
  readonly dist: string;
  /** sha256 of the measured dist/ (every file, see treeSha256). */
  readonly distSha256: string;
}

/** The node flags in a bin/kube-autosave.js's `#!/usr/bin/env -S node <flags>` line. */
async function binNodeFlags(bin: string): Promise<string[]> {
  const shebang = (await readFile(bin, "utf8")).split("\n")[0] ?? "";
  const m = shebang.match(/^#!\/usr\/bin\/env(?: -S)? node(.*)$/);
  if (!m) throw new Error(`${bin}: unexpected first line ${JSON.stringify(shebang)}`);
  return (m[1] ?? "")
    .trim()
    .split(/\s+/)
    .filter((f) => f.length > 0);
}

/** sha256 over every file of a folder: relative path, NUL, content, in path order. */
async function treeSha256(dir: string): Promise<string> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
  const hash = createHash("sha256");
  for (const file of files) hash.update(`${file}\0`).update(await readFile(join(dir, file)));
  return hash.digest("hex");
}

/** The commit and src/ state of the git checkout `dir` is in ("unknown" when it is in none). */
async function codeVersion(distDir: string, source: string, dir: string): Promise<CodeVersion> {
  const git = async (args: string[], cwd: string) => {
    try {
      return (await execFileP("git", args, { cwd })).stdout.trim();
    } catch {
      return "";
    }
  };
  const top = await git(["rev-parse", "--show-toplevel"], dir);
  if (!top)
    return { commit: "unknown", srcDirty: false, dist: source, distSha256: await treeSha256(distDir) };
  return {
    commit: (await git(["rev-parse", "HEAD"], top)) || "unknown",
    srcDirty: (await git(["status", "--porcelain", "--", "src"], top)) !== "",
    dist: source,
    distSha256: await treeSha256(distDir),
  };
}

// ----- main -------------------------------------------------------------------------------------------

async function ensureChartVenv(): Promise<string> {
  const venv = join(BENCH, ".venv");
  const python = join(venv, "bin", "python");
  if (!existsSync(python)) {
    log("creating bench/.venv for the chart (matplotlib, pinned in bench/requirements.txt)");
    await execFileP("python3", ["-m", "venv", venv]);
  }
  await execFileP(python, [
    "-m",
    "pip",
    "install",
    "--quiet",
    "--disable-pip-version-check",
    "-r",
    join(BENCH, "requirements.txt"),
  ]);
  return python;
}

async function main(): Promise<void> {
  const opts = options();
  const startedAt = new Date();
  const loadStart = loadavg();
  log(`load average at start: ${loadStart.map((v) => v.toFixed(2)).join(" ")}`);
  const built = opts.dist;
  if (!existsSync(join(built, "cli.js")))
    throw new Error(`${built}/cli.js is missing: run \`npm run build\` (npm run bench does)`);
  const referenceBin = opts.referenceDist && join(opts.referenceDist, "..", "bin", "kube-autosave.js");
  if (opts.referenceDist && !existsSync(join(opts.referenceDist, "cli.js")))
    throw new Error(`--reference-dist: ${opts.referenceDist}/cli.js is missing`);
  if (referenceBin && !existsSync(referenceBin))
    throw new Error(
      `--reference-dist: ${referenceBin} is missing (its Node flags are read from its shebang)`,
    );
  // dist/ is shared: another `npm run build` during a long run must not change the code under test.
  const buildDir = join(BENCH, ".build");
  const copyOf = async (dist: string, name: string) => {
    const copy = join(buildDir, name);
    await rm(copy, { recursive: true, force: true });
    await cp(dist, copy, { recursive: true });
    return copy;
  };
  await mkdir(buildDir, { recursive: true });
  const distCopy = await copyOf(built, "dist");
  const code = await codeVersion(distCopy, built, REPO);
  const current: CliBuild = {
    cli: join(distCopy, "cli.js"),
    nodeFlags: await binNodeFlags(join(REPO, "bin", "kube-autosave.js")),
  };
  log(
    `measuring ${relative(process.cwd(), built) || "."} sha256 ${code.distSha256.slice(0, 12)} (commit ${code.commit.slice(0, 12)}${code.srcDirty ? ", src/ modified" : ""})`,
  );
  let reference: (NonNullable<Results["reference"]> & { build: CliBuild }) | null = null;
  await rm(join(buildDir, "reference-dist"), { recursive: true, force: true });
  if (opts.referenceDist && referenceBin) {
    const refCopy = await copyOf(opts.referenceDist, "reference-dist");
    const refCode = await codeVersion(refCopy, opts.referenceDist, opts.referenceDist);
    const nodeFlags = await binNodeFlags(referenceBin);
    reference = {
      label:
        opts.referenceLabel ??
        (refCode.commit === "unknown" ? opts.referenceDist : `commit ${refCode.commit.slice(0, 7)}`),
      code: refCode,
      nodeFlags,
      build: { cli: join(refCopy, "cli.js"), nodeFlags },
    };
    log(
      `reference ${reference.label}: ${opts.referenceDist} sha256 ${refCode.distSha256.slice(0, 12)} (commit ${refCode.commit.slice(0, 12)}${refCode.srcDirty ? ", src/ modified" : ""}), node flags ${nodeFlags.join(" ") || "none"}`,
    );
  }
  if (opts.baselineRepeats > 0) {
    try {
      await execFileP("jq", ["--version"]);
    } catch {
      throw new Error("the baseline needs jq on PATH (Debian: apt-get install jq), or pass --no-baseline");
    }
  }
  await initClockTicks();
  if (opts.pin && !(await hasTaskset()))
    throw new Error("pinning needs taskset (Debian: apt-get install util-linux), or pass --no-pin");
  if (opts.pin && cpus().length < 2) throw new Error("pinning needs 2 cores, or pass --no-pin");
  const allCpus = (await affinity(process.pid))[0] ?? `0-${cpus().length - 1}`;
  const timeBinary = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
  log("building the test bed (cached after the first time)");
  const testbed = await execFileP("bash", [join(REPO, "testbed", "build.sh")], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const bin = testbed.stdout.trim().split("\n").pop() ?? "";
  process.env.KUBE_AUTOSAVE_TESTBED_BIN = bin;
  await build({
    entryPoints: { floor: join(BENCH, "floor.ts"), "cli-rss": join(BENCH, "cli-rss.ts") },
    outdir: buildDir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
  });
  const python = await ensureChartVenv();
  const work = await mkdtemp(join(tmpdir(), "kube-autosave-bench-"));
  const s3 = await startS3();
  const sizes: SizeResult[] = [];
  try {
    const versitygwPid = await findPid("versitygw", s3.dataDir);
    const bed: Bed = {
      bin,
      s3,
      buildDir,
      cli: current,
      reference: reference?.build ?? null,
      work,
      timeBinary,
      versitygwPid,
      pin: opts.pin,
      allCpus,
    };
    for (const size of opts.sizes) sizes.push(await measureSize(bed, size, opts));
  } finally {
    await s3.stop();
    await rm(work, { recursive: true, force: true });
  }
  const kubectlVersion = JSON.parse(
    (await execFileP(join(bin, "kubectl"), ["version", "--client", "-o", "json"])).stdout,
  ) as { clientVersion: { gitVersion: string } };
  const date = startedAt.toISOString().slice(0, 10);
  // A partial run must not replace the day's full run: its file names carry its sizes.
  const stem = opts.allSizes ? date : `${date}-${opts.sizes.map((s) => s.name.replace(":", "x")).join("-")}`;
  const results: Results = {
    date,
    startedAt: startedAt.toISOString(),
    completedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? "unknown",
      memoryGB: Math.round(totalmem() / 1e9),
      kernel: release(),
      node: process.version,
      kubernetes: kubectlVersion.clientVersion.gitVersion,
    },
    loadavg: { start: loadStart, end: loadavg() },
    code,
    reference: reference && { label: reference.label, code: reference.code, nodeFlags: reference.nodeFlags },
    options: {
      repeats: opts.repeats,
      baselineRepeats: opts.baselineRepeats,
      pageSize: PAGE_SIZE,
      concurrency: CONCURRENCY,
      nodeFlags: current.nodeFlags,
      pinned: opts.pin,
      serverCpus: opts.pin ? SERVER_CPUS : null,
      toolCpus: opts.pin ? TOOL_CPUS : null,
    },
    mix: OBJECT_MIX,
    heavy: HEAVY,
    sizes,
    targets: checkTargets(
      sizes,
      opts.pin,
      reference ? { reference: reference.label } : { previous: await previousRun(opts.previous) },
    ),
  };
  await mkdir(opts.out, { recursive: true });
  const jsonPath = join(opts.out, `${stem}.json`);
  const pngPath = join(opts.out, `${stem}.png`);
  await writeFile(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  await execFileP(python, [join(BENCH, "chart.py"), jsonPath, pngPath]);
  const table = markdown(results, stem);
  await writeFile(join(opts.out, `${stem}.md`), `${table}\n`);
  if (opts.out === DEFAULT_OUT && opts.allSizes && existsSync(README)) {
    const readme = await readFile(README, "utf8");
    const start = readme.indexOf(TABLE_START);
    const end = readme.indexOf(TABLE_END);
    if (start >= 0 && end > start) {
      await writeFile(
        README,
        `${readme.slice(0, start + TABLE_START.length)}\n${table}\n${readme.slice(end)}`,
      );
      log("bench/README.md: results table updated");
    }
  }
  process.stdout.write(`${table}\n`);
  log(`wrote ${relative(process.cwd(), jsonPath)}, ${relative(process.cwd(), pngPath)}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
