#!/usr/bin/env -S node --max-semi-space-size=8 --heap-growing-percent=20
// The two V8 flags keep a snapshot's memory flat as clusters grow (bench/README.md, "Memory"): the
// young generation stays small, and the old one is collected when it has grown 20 % past what survived
// the last full collection, instead of growing with the garbage of every page listed.
import { Interrupted, main } from "../dist/cli.js";

// Ctrl-C and SIGTERM stop the run cleanly (requests cancelled, uploads aborted, no manifest); a second
// signal ends the process at once.
const stop = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    stop.abort(new Interrupted(signal));
    process.once(signal, () => process.exit(128 + (signal === "SIGINT" ? 2 : 15)));
  });
}
const io = {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: () => process.cwd(),
  signal: stop.signal,
};
process.exitCode = await main(process.argv.slice(2), io);
