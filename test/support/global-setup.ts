// Builds (or reuses) the test bed binaries, then starts ONE shared cluster and S3 server for all
// test files. A test that needs a fresh cluster calls startCluster() itself.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { TestProject } from "vitest/node";
import { type ClusterInfo, type S3Info, startCluster, startS3 } from "./testbed.js";

const run = promisify(execFile);

declare module "vitest" {
  export interface ProvidedContext {
    cluster: ClusterInfo;
    s3: S3Info;
    testbedBin: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let bin: string;
  try {
    const { stdout } = await run("bash", ["testbed/build.sh"], { maxBuffer: 16 * 1024 * 1024 });
    bin = stdout.trim().split("\n").pop() ?? "";
  } catch (err) {
    // Loud by design: without real servers the suite must not pass.
    const stderr = (err as { stderr?: string }).stderr ?? "";
    throw new Error(`testbed: building the test bed failed:\n${stderr.slice(-4000)}`);
  }
  process.env.KUBE_AUTOSAVE_TESTBED_BIN = bin;
  const [cluster, s3] = await Promise.all([startCluster(), startS3()]);
  const {
    pki: _pki,
    apiserver: _api,
    stop: _stop,
    api: _a,
    kubectl: _k,
    kubeconfig: _kc,
    compactEtcd: _c,
    ...clusterInfo
  } = cluster;
  project.provide("cluster", clusterInfo);
  project.provide("s3", {
    endpoint: s3.endpoint,
    region: s3.region,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    dataDir: s3.dataDir,
  });
  project.provide("testbedBin", bin);
  return async () => {
    await Promise.all([cluster.stop(), s3.stop()]);
  };
}
