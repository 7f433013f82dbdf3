// The one list of things that must never appear in anything the tool prints, logs or returns.
import { expect } from "vitest";
import { TESTBED_AWS } from "./testbed.js";

/** Asserts that `output` holds no bearer token, EKS token, presigned URL part, AWS secret key or planted Secret value (plain or base64). */
export function expectNothingSecret(
  output: string,
  secrets: { tokens: readonly string[]; planted: readonly string[] },
): void {
  const forbidden = [
    ...secrets.tokens,
    "Bearer ",
    "k8s-aws-v1.",
    "X-Amz-Signature",
    "X-Amz-Credential",
    TESTBED_AWS.secretAccessKey,
    ...secrets.planted,
    ...secrets.planted.map((v) => Buffer.from(v).toString("base64")),
  ];
  for (const needle of forbidden) expect(output, needle).not.toContain(needle);
}
