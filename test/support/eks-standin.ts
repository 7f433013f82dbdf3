// A local stand-in for the EKS API's DescribeCluster (REST-JSON `GET /clusters/{name}`), so the
// real @aws-sdk/client-eks, pointed at it with `endpoint`, gets the test bed's endpoint and CA.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface EksStandIn {
  readonly endpoint: string;
  /** DescribeCluster requests answered, with whether each carried a SigV4 Authorization header. */
  readonly requests: { cluster: string; signed: boolean }[];
  close(): Promise<void>;
}

/** Serves DescribeCluster for the given clusters (name → API server URL and CA PEM). */
export async function startEksStandIn(
  clusters: Record<string, { server: string; caPem: string }>,
  region = "us-east-1",
): Promise<EksStandIn> {
  const requests: { cluster: string; signed: boolean }[] = [];
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown, errorType?: string) => {
      res.writeHead(status, {
        "content-type": "application/json",
        ...(errorType ? { "x-amzn-errortype": errorType } : {}),
      });
      res.end(JSON.stringify(body));
    };
    const match = /^\/clusters\/([^/?]+)$/.exec(new URL(req.url ?? "/", "http://127.0.0.1").pathname);
    if (req.method !== "GET" || !match)
      return send(404, { message: "not found" }, "ResourceNotFoundException");
    const name = decodeURIComponent(match[1] as string);
    requests.push({
      cluster: name,
      signed: /^AWS4-HMAC-SHA256 Credential=/.test(req.headers.authorization ?? ""),
    });
    const cluster = clusters[name];
    if (!cluster)
      return send(404, { message: `No cluster found for name: ${name}.` }, "ResourceNotFoundException");
    send(200, {
      cluster: {
        name,
        arn: `arn:aws:eks:${region}:000000000000:cluster/${name}`,
        version: "1.36",
        endpoint: cluster.server,
        status: "ACTIVE",
        certificateAuthority: { data: Buffer.from(cluster.caPem).toString("base64") },
      },
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
