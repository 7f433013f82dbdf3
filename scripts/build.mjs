// Bundles the CLI into dist/ with esbuild (dependencies stay in node_modules). Code splitting keeps
// each command's module (and the packages only it imports, e.g. the S3 SDK) in a chunk of its own,
// loaded when that command runs.
import { rm } from "node:fs/promises";
import { build } from "esbuild";

await rm("dist", { recursive: true, force: true });
await build({
  entryPoints: { cli: "src/cli/main.ts" },
  outdir: "dist",
  bundle: true,
  platform: "node",
  format: "esm",
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  target: "node22",
  packages: "external",
  sourcemap: true,
  logLevel: "warning",
});
