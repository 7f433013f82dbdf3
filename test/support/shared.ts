// The shared test bed, as seen from a test file.
import { inject } from "vitest";
import { type Cluster, connectCluster, connectS3, type S3Server } from "./testbed.js";

/** The cluster started once for the whole run (do not stop it; use namespaces of your own). */
export function sharedCluster(): Cluster {
  process.env.KUBE_AUTOSAVE_TESTBED_BIN ??= inject("testbedBin");
  return connectCluster(inject("cluster"));
}

/** The S3 server started once for the whole run (create a bucket of your own). */
export function sharedS3(): S3Server {
  process.env.KUBE_AUTOSAVE_TESTBED_BIN ??= inject("testbedBin");
  return connectS3(inject("s3"));
}
