#!/usr/bin/env -S node --max-semi-space-size=8 --heap-growing-percent=20
// The two V8 flags keep a snapshot's memory flat as clusters grow (bench/README.md, "Memory"): the
// young generation stays small, and the old one is collected when it has grown 20 % past what survived
// the last full collection, instead of growing with the garbage of every page listed.
import { main } from "../dist/cli.js";

process.exitCode = await main(process.argv.slice(2), process);
