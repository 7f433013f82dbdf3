// A stand-in for aws-iam-authenticator in the test bed: kube-apiserver, started with
// --authentication-token-webhook-config-file, POSTs each bearer token it does not know to this
// server as a TokenReview. Instead of asking STS, the webhook recomputes the signature with the
// credentials the test gave it, so a token passes only if it is what STS would accept.
import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { verifyEksToken } from "./verify-token.js";

/** kube-apiserver sends TokenReviews in this version with --authentication-token-webhook-version=v1. */
const TOKEN_REVIEW_API_VERSION = "authentication.k8s.io/v1";
/** The path aws-iam-authenticator serves; any path works as long as the kubeconfig names it. */
const WEBHOOK_PATH = "/authenticate";
/** A TokenReview is a token and a few audiences; anything bigger is not one. */
const MAX_BODY_BYTES = 64 * 1024;
/** Stands for the username an EKS access entry gives the Lambda's role. */
const DEFAULT_USERNAME = "eks-snapshot-lambda";

export interface TokenWebhook {
  /** The webhook's https URL (127.0.0.1, random port). */
  readonly url: string;
  /** Writes the kubeconfig that --authentication-token-webhook-config-file points at. */
  writeKubeconfig(path: string, caPem: string): Promise<void>;
  close(): Promise<void>;
  /** TokenReviews answered so far (authenticated or not). */
  readonly reviews: number;
}

/** Starts the webhook on 127.0.0.1; `tls` is the PEM text of a serving cert for 127.0.0.1 and its key. */
export async function startTokenWebhook(opts: {
  clusterName: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  tls: { cert: string; key: string };
  username?: string;
  groups?: string[];
  /** Receives one line per review (outcome and reason, never the token). Silent when absent. */
  log?: (line: string) => void;
}): Promise<TokenWebhook> {
  for (const field of ["cert", "key"] as const) {
    if (!opts.tls[field].includes("-----BEGIN ")) {
      throw new Error(`token webhook: tls.${field} must be PEM text, not a file path`);
    }
  }
  const username = opts.username ?? DEFAULT_USERNAME;
  const groups = opts.groups ?? [];
  let reviews = 0;

  const server: Server = createServer({ cert: opts.tls.cert, key: opts.tls.key }, (req, res) => {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    // kube-apiserver's client appends ?timeout=30s, so only the path is compared.
    if (req.method !== "POST" || new URL(req.url ?? "/", "https://127.0.0.1").pathname !== WEBHOOK_PATH) {
      reply(404, { error: "not found" });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reply(413, { error: "body too large" });
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (res.headersSent) return;
      const review = parseTokenReview(Buffer.concat(chunks).toString("utf8"));
      if (!review) {
        opts.log?.("tokenreview: rejected malformed request");
        reply(400, { error: "expected an authentication.k8s.io/v1 TokenReview with spec.token" });
        return;
      }
      reviews++;
      const result = verifyEksToken(review.token, {
        clusterName: opts.clusterName,
        now: new Date(),
        credentials: opts.credentials,
      });
      if (result.ok) {
        opts.log?.(`tokenreview: authenticated ${username} (access key ${result.accessKeyId})`);
        reply(200, {
          apiVersion: TOKEN_REVIEW_API_VERSION,
          kind: "TokenReview",
          status: {
            authenticated: true,
            // Like aws-iam-authenticator's uid: stable per signing identity.
            user: { username, uid: `aws-iam-authenticator:${result.accessKeyId}`, groups },
          },
        });
      } else {
        opts.log?.(`tokenreview: refused (${result.reason})`);
        reply(200, {
          apiVersion: TOKEN_REVIEW_API_VERSION,
          kind: "TokenReview",
          status: { authenticated: false, error: result.reason },
        });
      }
    });
  });
  // Without a listener a reset connection would crash the test process.
  server.on("clientError", (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `https://127.0.0.1:${port}${WEBHOOK_PATH}`;

  return {
    url,
    get reviews() {
      return reviews;
    },
    async writeKubeconfig(path: string, caPem: string): Promise<void> {
      // kube-apiserver loads this with client-go's clientcmd, which wants a context naming an
      // existing cluster and user; the user needs no credentials (the webhook does not ask).
      const kubeconfig = {
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          {
            name: "token-webhook",
            cluster: {
              server: url,
              "certificate-authority-data": Buffer.from(caPem, "utf8").toString("base64"),
            },
          },
        ],
        users: [{ name: "kube-apiserver", user: {} }],
        contexts: [{ name: "token-webhook", context: { cluster: "token-webhook", user: "kube-apiserver" } }],
        "current-context": "token-webhook",
      };
      // JSON is YAML; 0600 although it holds no secret, as kubeconfigs usually do.
      await writeFile(path, `${JSON.stringify(kubeconfig, null, 2)}\n`, { mode: 0o600 });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function parseTokenReview(body: string): { token: string } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const review = parsed as { apiVersion?: unknown; kind?: unknown; spec?: { token?: unknown } };
  if (review.apiVersion !== TOKEN_REVIEW_API_VERSION || review.kind !== "TokenReview") return undefined;
  const token = review.spec?.token;
  return typeof token === "string" && token !== "" ? { token } : undefined;
}
