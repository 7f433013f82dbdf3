// How to reach one cluster: server URL, TLS material, and a source of auth headers.

/** Everything needed to talk to one kube-apiserver. The TLS peer is always verified. */
export interface ClusterConnection {
  /** A display name (kubeconfig context or EKS cluster name). */
  readonly name: string;
  /** https://host[:port], no trailing slash. */
  readonly server: string;
  /** PEM CA bundle to verify the server against; undefined means the system's trusted roots. */
  readonly ca?: string | Buffer | undefined;
  /** Client certificate and key (PEM), when the user authenticates with one. */
  readonly cert?: string | Buffer | undefined;
  readonly key?: string | Buffer | undefined;
  /** TLS server name to verify instead of the URL's host (kubeconfig tls-server-name). */
  readonly servername?: string | undefined;
  /** Headers for each request (Authorization: Bearer …); called per request so tokens can refresh. */
  authHeaders(): Promise<Record<string, string>>;
}
