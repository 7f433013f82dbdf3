// Throwaway PKI for the test bed, made with the openssl CLI (Node cannot issue X.509 certificates).
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

async function openssl(cwd: string, args: string[]): Promise<void> {
  try {
    await run("openssl", args, { cwd });
  } catch (err) {
    throw new Error(`testbed: openssl ${args[0]} failed (is openssl installed?)`, { cause: err });
  }
}

export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly caPem: string;
}

/** Creates a CA in `dir` (ca.crt, ca.key). */
export async function createCa(dir: string, name = "kube-autosave-testbed-ca"): Promise<Pki> {
  await openssl(dir, ["genrsa", "-out", "ca.key", "2048"]);
  await openssl(dir, [
    "req",
    "-x509",
    "-new",
    "-key",
    "ca.key",
    "-subj",
    `/CN=${name}`,
    "-days",
    "2",
    "-out",
    "ca.crt",
  ]);
  return {
    dir,
    caCert: join(dir, "ca.crt"),
    caKey: join(dir, "ca.key"),
    caPem: await readFile(join(dir, "ca.crt"), "utf8"),
  };
}

/** Issues a certificate signed by the CA; `serverNames` makes it a serving cert for those IPs/DNS names. */
export async function issueCert(
  pki: Pki,
  name: string,
  subject: string,
  options: { serverNames?: string[]; client?: boolean } = {},
): Promise<{ cert: string; key: string; certPem: string; keyPem: string }> {
  const ext = [
    "basicConstraints=CA:FALSE",
    "keyUsage=digitalSignature,keyEncipherment",
    `extendedKeyUsage=${options.client ? "clientAuth" : "serverAuth,clientAuth"}`,
  ];
  if (options.serverNames?.length) {
    const sans = options.serverNames.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`));
    ext.push(`subjectAltName=${sans.join(",")}`);
  }
  await writeFile(join(pki.dir, `${name}.ext`), `${ext.join("\n")}\n`);
  await openssl(pki.dir, ["genrsa", "-out", `${name}.key`, "2048"]);
  await openssl(pki.dir, ["req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`]);
  await openssl(pki.dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.crt`,
  ]);
  const cert = join(pki.dir, `${name}.crt`);
  const key = join(pki.dir, `${name}.key`);
  return { cert, key, certPem: await readFile(cert, "utf8"), keyPem: await readFile(key, "utf8") };
}

/** An RSA key pair for service-account token signing. */
export async function createKeyPair(dir: string, name: string): Promise<{ key: string; pub: string }> {
  await openssl(dir, ["genrsa", "-out", `${name}.key`, "2048"]);
  await openssl(dir, ["rsa", "-in", `${name}.key`, "-pubout", "-out", `${name}.pub`]);
  return { key: join(dir, `${name}.key`), pub: join(dir, `${name}.pub`) };
}
