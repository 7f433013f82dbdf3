// Starting and always stopping the test bed's server processes.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createServer } from "node:net";

const running = new Set<ChildProcess>();

// Servers must never outlive the test run, also when it fails or is interrupted.
function killAll(): void {
  for (const child of running) child.kill("SIGKILL");
}
process.once("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** A free TCP port on 127.0.0.1 (the kernel picks one; racy only against other processes). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export interface Server {
  readonly name: string;
  readonly logFile: string;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** Kills the process at once, as a crash would. */
  kill(): Promise<void>;
  readonly exited: Promise<number | null>;
}

/** Spawns a server with its output in `logFile`; throws with the log's tail if it exits during startup. */
export function startProcess(name: string, command: string, args: string[], logFile: string): Server {
  const log = createWriteStream(logFile);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => {
      running.delete(child);
      resolve(code);
    });
    child.on("error", (err) => {
      running.delete(child);
      log.write(`\nspawn error: ${err.message}\n`);
      resolve(-1);
    });
  });
  const stopWith = async (signal: NodeJS.Signals, graceMs: number) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return {
    name,
    logFile,
    exited,
    stop: () => stopWith("SIGTERM", 5000),
    kill: () => stopWith("SIGKILL", 0),
  };
}

/** Polls `check` until it returns true; fails loudly with `what` and the server's log file. */
export async function waitFor(
  what: string,
  server: Server,
  check: () => Promise<boolean>,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void server.exited.then((code) => {
    exitCode = code;
  });
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new Error(
        `testbed: ${server.name} exited (code ${exitCode}) before ${what}; see ${server.logFile}`,
      );
    }
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`testbed: timed out after ${timeoutMs} ms waiting for ${what}; see ${server.logFile}`);
}
