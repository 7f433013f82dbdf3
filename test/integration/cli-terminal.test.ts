// What `restore`, `verify` and `diff` show on a terminal and off it, and Ctrl-C / SIGTERM during a
// restore: the real bin (dist/, as `npm test` builds it) against a cluster of this file's own, behind the
// test bed's fault proxy. A pseudo-terminal comes from util-linux's `script`.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Interrupted, main } from "../../src/cli/main.js";
import { runCli } from "../support/cli.js";
import { type FaultProxy, startKubeFaultProxy } from "../support/fault-proxy.js";
import { issueCert } from "../support/pki.js";
import { onlySnapshot, readJson } from "../support/snapshot-files.js";
import { type OwnedCluster, startCluster } from "../support/testbed.js";

const run = promisify(execFile);
const BIN = "bin/kube-autosave.js";
const PREFIX = "kube-aws/clusters/term/backup";
/** ConfigMaps in the namespace the restores read: enough that one stalled create leaves it running. */
const CONFIGMAPS = 40;
/** Only the environment the bin needs: no KUBECONFIG or AWS settings of the machine leak in. */
const ENV = { PATH: process.env.PATH, HOME: "/nonexistent-home" };

let work: string;
let cluster: OwnedCluster;
let proxy: FaultProxy & { kubeconfig(source: string): Promise<string> };
/** The admin's kubeconfig, pointing at the proxy. */
let viaProxy: string;
/** Two snapshots of namespace `term` (a folder path ending in the snapshot name); b has one ConfigMap changed. */
let snapA: string;
let snapB: string;

function configMaps(ns: string) {
  return Array.from({ length: CONFIGMAPS }, (_, i) => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: `cm-${String(i).padStart(3, "0")}`, namespace: ns },
    data: { index: String(i) },
  }));
}

async function snapshot(name: string): Promise<string> {
  const out = await mkdtemp(join(work, `${name}-`));
  const res = await runCli([
    "snapshot",
    "--kubeconfig",
    cluster.kubeconfig("admin"),
    "--out",
    out,
    "--cluster-name",
    "term",
    "--include-namespaces",
    "term",
  ]);
  expect(res.stderr).toBe("");
  expect(res.code).toBe(0);
  return onlySnapshot(join(out, PREFIX));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "kube-autosave-cli-terminal-"));
  cluster = await startCluster({ controllerManager: false });
  const serving = await issueCert(cluster.pki, "fault-proxy", "/CN=fault-proxy", {
    serverNames: ["127.0.0.1"],
  });
  proxy = await startKubeFaultProxy({ upstream: cluster.server, upstreamCaPem: cluster.caPem, serving });
  viaProxy = await proxy.kubeconfig(cluster.kubeconfig("admin"));
  await cluster.kubectl(["apply", "-f", "-"], {
    input: JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: "term" } },
        ...configMaps("term"),
        // Services are restored after ConfigMaps (restore/rules.ts).
        {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "web", namespace: "term" },
          spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
        },
      ],
    }),
  });
  snapA = await snapshot("a");
  await cluster.kubectl(["-n", "term", "patch", "configmap", "cm-007", "-p", '{"data":{"index":"seven"}}']);
  snapB = await snapshot("b");
}, 300_000);

afterAll(async () => {
  await proxy?.close();
  await cluster?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

afterEach(() => proxy.reset());

/** `restore` of namespace `term` of snapshot a, moved to namespace `ns`, through the proxy. */
function restoreInto(ns: string): string[] {
  return [
    "restore",
    snapA,
    "--kubeconfig",
    viaProxy,
    "--namespace",
    "term",
    "--namespace-mappings",
    `term:${ns}`,
  ];
}

/** Runs the bin with stdout and stderr on pipes (not a terminal). */
async function piped(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: ENV });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Runs the bin on a pseudo-terminal (stdout and stderr both on it); returns what the terminal got. */
async function onTerminal(args: string[]): Promise<{ code: number; screen: string }> {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(" ");
  try {
    const { stdout } = await run("script", ["-q", "-e", "-f", "-c", command, "/dev/null"], { env: ENV });
    return { code: 0, screen: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, screen: e.stdout };
  }
}

const LIVE = "\r\x1b[K";

/** The live lines drawn on the screen, in order (each ends where the next write begins). */
function liveLines(screen: string): string[] {
  return screen
    .split(LIVE)
    .slice(1)
    .map((s) => s.split(/\r?\n/)[0] as string)
    .filter((s) => s.startsWith("  "));
}

describe("progress of restore, verify and diff", () => {
  it("is a live status line on a terminal, cleared before the report", async () => {
    const { totals } = await readJson(join(snapA, "manifest.json"));
    const verify = await onTerminal(["verify", snapA]);
    expect(verify.code).toBe(0);
    const verifyLines = liveLines(verify.screen);
    expect(verifyLines[0]).toMatch(/^ {2}checking: 0\/\d+ files · 0 items · 0\.0 MiB · 0 items\/s · 00:00$/);
    expect(verifyLines.at(-1)).toMatch(
      new RegExp(
        `^ {2}checking: ${totals.files}/${totals.files} files · ${totals.items} items · \\d+\\.\\d MiB · [\\d,]+ items/s · 00:0\\d$`,
      ),
    );
    // Cleared, then the report: nothing of the line is left before it.
    expect(verify.screen).toMatch(
      new RegExp(
        `\r\x1b\\[KOK .*: ${totals.files} files, ${totals.items} items, .* match the manifest \\(status Completed\\)\r\n$`,
      ),
    );

    const diff = await onTerminal(["diff", snapA, snapB]);
    expect(diff.code).toBe(3);
    expect(liveLines(diff.screen)[0]).toMatch(/^ {2}comparing: 0\/\d+ files · 0 items · /);
    expect(liveLines(diff.screen).at(-1)).toMatch(
      new RegExp(`^ {2}comparing: ${totals.files}/${totals.files} files · \\d+ items · `),
    );
    expect(diff.screen).toContain(
      `${LIVE}configmaps in term:\r\n  ~ cm-007\r\n      ~ data.index: "7" → "seven"`,
    );
    expect(diff.screen.endsWith("1 object differ: 0 added, 0 removed, 1 changed\r\n")).toBe(true);

    const restore = await onTerminal(restoreInto("term-tty"));
    expect(restore.code).toBe(0);
    const restoreLines = liveLines(restore.screen);
    expect(restoreLines[0]).toMatch(/^ {2}reading: 1\/\d+ files · /);
    const allRead = `  reading: ${totals.files}/${totals.files} files · ${totals.items} items · `;
    expect(restoreLines.some((l) => l.startsWith(allRead))).toBe(true);
    expect(restoreLines.at(-1)).toMatch(
      /^ {2}restoring: (\d+)\/\1 files · \d+ items · [\d,]+ items\/s · 00:0\d$/,
    );
    expect(restore.screen).toContain(`${LIVE}Restore of snapshot `);
    expect(restore.screen).toContain(`Totals: ${CONFIGMAPS + 2} created, 0 updated`);
  });

  it("is not shown with --json, nor when stderr is not a terminal", async () => {
    const json = await onTerminal(["verify", snapA, "--json"]);
    expect(json.code).toBe(0);
    expect(json.screen).not.toContain("\x1b[K");
    expect(JSON.parse(json.screen).ok).toBe(true);

    const verify = await piped(["verify", snapA]);
    const diff = await piped(["diff", snapA, snapB]);
    const restore = await piped(restoreInto("term-piped"));
    expect([verify.code, diff.code, restore.code]).toEqual([0, 3, 0]);
    expect([verify.stderr, diff.stderr, restore.stderr]).toEqual(["", "", ""]);
    expect(verify.stdout).toMatch(/^OK /);
    expect(restore.stdout).toContain(`Totals: ${CONFIGMAPS + 2} created, 0 updated`);
  });
});

describe("Ctrl-C and SIGTERM during a restore", () => {
  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)(
    "%s stops it: requests cancelled, nothing more started, no report, one line, exit %i",
    async (signal, exitCode) => {
      const ns = `term-${signal.toLowerCase()}`;
      const creates = new RegExp(`^/api/v1/namespaces/${ns}/configmaps\\?`);
      // The 5th ConfigMap's create hangs in the proxy (60 s): the restore is in the middle of its
      // objects; `holding` resolves when that create arrives there.
      let arrived: () => void = () => {};
      const holding = new Promise<void>((resolve) => (arrived = resolve));
      proxy.rule({
        method: "POST",
        path: creates,
        nth: [5],
        action: {
          kind: "hook",
          run: async () => arrived(),
          // biome-ignore lint/suspicious/noThenProperty: FaultAction's follow-up action (fault-proxy.ts)
          then: { kind: "stall", ms: 60_000 },
        },
      });
      const child = spawn(process.execPath, [BIN, ...restoreInto(ns)], {
        stdio: ["ignore", "pipe", "pipe"],
        env: ENV,
      });
      const { stdout, stderr, exited } = collect(child);
      const first = await Promise.race([holding.then(() => "holding"), exited.then((c) => `exited ${c}`)]);
      expect(first, stderr()).toBe("holding");
      child.kill(signal);

      const code = await exited;

      expect(code).toBe(exitCode);
      // The held create was given up before its stall ended (it would then have been answered: 201).
      const held = proxy.requests.filter((r) => r.method === "POST" && creates.test(r.path))[4];
      expect(held?.outcome).toBe("client-gone");
      expect(stdout()).toBe(""); // no report: nothing half-done is listed as done
      const lines = stderr().split("\n").filter(Boolean);
      expect(lines).toHaveLength(1);
      const [, created] =
        /^kube-autosave: stopped by SIG(?:INT|TERM): restore stopped before it finished \(interrupted \(SIG(?:INT|TERM)\)\): (\d+) objects created and 0 updated before it stopped; run it again to finish \(what is already restored is then reported unchanged\)$/.exec(
          lines[0] as string,
        ) ?? [];
      expect(lines[0]).toContain(
        `stopped by ${signal}: restore stopped before it finished (interrupted (${signal}))`,
      );
      // The Namespace and the ConfigMaps whose create was answered; the one held in the proxy never was.
      const live = JSON.parse(await cluster.kubectl(["-n", ns, "get", "configmaps", "-o", "json"])).items;
      expect(Number(created)).toBeGreaterThanOrEqual(1);
      expect(Number(created)).toBeLessThanOrEqual(live.length + 1);
      expect(live.length).toBeLessThan(CONFIGMAPS);
      // Nothing after the stop was started: the Service (its file comes after the ConfigMaps) was not asked for.
      expect(proxy.requests.some((r) => r.path.startsWith(`/api/v1/namespaces/${ns}/services`))).toBe(false);

      // As the line says: running it again finishes the restore.
      proxy.reset();
      const again = await runCli([...restoreInto(ns), "--json"]);
      expect(again.code).toBe(0);
      const report = JSON.parse(again.stdout);
      expect(report.counts.failed).toBe(0);
      expect(report.counts.created + report.counts.unchanged).toBe(CONFIGMAPS + 2);
      expect(report.counts.unchanged).toBeGreaterThanOrEqual(live.length + 1);
    },
  );
});

function collect(child: ChildProcess) {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { stdout: () => stdout, stderr: () => stderr, exited };
}

describe("Ctrl-C during list, verify, diff and history of a folder", () => {
  it("stops them at their next read: no report, one line, exit 130", async () => {
    const runs = [
      ["list", dirname(snapA)],
      ["verify", snapA],
      ["diff", snapA, snapB],
      ["history", dirname(snapA), "configmaps/cm-000", "--namespace", "term"],
    ];
    for (const argv of runs) {
      // The signal the bin aborts on the first Ctrl-C, already aborted: the first read must stop the run.
      const stop = new AbortController();
      stop.abort(new Interrupted("SIGINT"));
      let stdout = "";
      let stderr = "";
      const code = await main(argv, {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
        env: { HOME: "/nonexistent-home" },
        cwd: () => process.cwd(),
        signal: stop.signal,
      });
      expect({ argv, code, stdout, stderr }).toEqual({
        argv,
        code: 130,
        stdout: "",
        stderr: "kube-autosave: stopped by SIGINT: the run did not finish\n",
      });
    }
  });
});
