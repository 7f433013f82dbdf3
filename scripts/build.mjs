// Bundles the CLI into dist/ with esbuild (dependencies stay in node_modules).
import { build } from "esbuild";

await build({
  entryPoints: { cli: "src/cli/main.ts" },
  outdir: "dist",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: true,
  logLevel: "warning",
});
