// Reaching an EKS cluster from AWS: DescribeCluster for endpoint and CA, an STS-presigned bearer
// token that is refreshed during long runs. SDK errors become messages that name the cluster.
import {
  DescribeClusterCommand,
  type DescribeClusterCommandOutput,
  type EKSClient,
} from "@aws-sdk/client-eks";
import type { ClusterConnection } from "../kube/connection.js";
import { type AwsCredentials, EksTokenProvider } from "./token.js";

/** DescribeCluster failed or returned a cluster that cannot be reached. */
export class EksClusterError extends Error {
  override readonly name = "EksClusterError";
}

/** Describes `clusterName` and returns a connection whose TLS is verified against the cluster's CA. */
export async function eksConnection(options: {
  readonly clusterName: string;
  readonly region: string;
  readonly eks: EKSClient;
  readonly credentials: () => Promise<AwsCredentials>;
  readonly clock: { now(): Date };
}): Promise<ClusterConnection> {
  const { clusterName, region } = options;
  let described: DescribeClusterCommandOutput;
  try {
    described = await options.eks.send(new DescribeClusterCommand({ name: clusterName }));
  } catch (err) {
    const name = (err as { name?: string }).name ?? "";
    if (name === "ResourceNotFoundException") {
      throw new EksClusterError(`EKS cluster "${clusterName}" does not exist in ${region}`, { cause: err });
    }
    if (name === "AccessDeniedException" || name === "UnauthorizedOperation") {
      throw new EksClusterError(
        `not allowed to describe EKS cluster "${clusterName}" (eks:DescribeCluster)`,
        { cause: err },
      );
    }
    throw new EksClusterError(
      `DescribeCluster "${clusterName}" in ${region} failed: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const endpoint = described.cluster?.endpoint;
  const caData = described.cluster?.certificateAuthority?.data;
  if (!endpoint || !caData) {
    throw new EksClusterError(
      `EKS cluster "${clusterName}" has no endpoint or CA yet (status ${described.cluster?.status ?? "unknown"})`,
    );
  }
  const tokens = new EksTokenProvider({
    clusterName,
    region,
    credentials: options.credentials,
    clock: options.clock,
  });
  return {
    name: clusterName,
    server: endpoint.replace(/\/+$/, ""),
    ca: Buffer.from(caData, "base64"),
    authHeaders: async () => ({ authorization: `Bearer ${await tokens.getToken()}` }),
  };
}
