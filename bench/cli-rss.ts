// Runs the built kube-autosave CLI exactly as bin/kube-autosave.js does, in this process, and writes
// the process's own peak RSS (getrusage ru_maxrss, KiB) and CPU time to $BENCH_RSS_FILE (JSON) at exit. Works where
// GNU time is not installed, and measures only the CLI (not a shell or a wrapper process).
//
// Runs as its own process (bundled by run.ts): node cli-rss.mjs <path of dist/cli.js> <cli args…>
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [cliPath, ...args] = process.argv.slice(2);
const rssFile = process.env.BENCH_RSS_FILE;
if (!cliPath || !rssFile) {
  process.stderr.write("usage: BENCH_RSS_FILE=<file> node cli-rss.mjs <dist/cli.js> <args…>\n");
  process.exit(2);
}
process.on("exit", () => {
  const usage = process.resourceUsage();
  const summary = {
    maxRssKb: usage.maxRSS,
    userCpuMs: usage.userCPUTime / 1000,
    systemCpuMs: usage.systemCPUTime / 1000,
  };
  writeFileSync(rssFile, `${JSON.stringify(summary)}\n`);
});
const cli = (await import(pathToFileURL(cliPath).href)) as {
  main(argv: readonly string[], io: NodeJS.Process): Promise<number>;
};
process.exitCode = await cli.main(args, process);
