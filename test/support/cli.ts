// Runs the CLI in-process with captured output (the same main() the bin runs).
import { main } from "../../src/cli/main.js";
import type { S3Info } from "./testbed.js";

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

/** `snapshot` of a cluster into a bucket of the test bed's S3 server: the arguments before any others. */
export function s3SnapshotArgs(
  kubeconfig: string,
  bucket: string,
  s3: Pick<S3Info, "endpoint" | "region">,
): string[] {
  return [
    "snapshot",
    "--kubeconfig",
    kubeconfig,
    "--bucket",
    bucket,
    "--endpoint",
    s3.endpoint,
    "--region",
    s3.region,
  ];
}

/** What a CLI run needs in its environment to reach the test bed's S3 server. */
export function s3Env(s3: Pick<S3Info, "accessKeyId" | "secretAccessKey">): Record<string, string> {
  return { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey };
}
