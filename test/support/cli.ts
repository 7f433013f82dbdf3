// Runs the CLI in-process with captured output (the same main() the bin runs).
import { main } from "../../src/cli/main.js";

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `kube-autosave <argv>` with its own env (no AWS or KUBECONFIG of the machine leak in). */
export async function runCli(
  argv: string[],
  env: Record<string, string | undefined> = {},
  cwd = process.cwd(),
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { HOME: "/nonexistent-home", ...env },
    cwd: () => cwd,
  });
  return { code, stdout, stderr };
}
