import { describe, expect, it } from "vitest";
import { differences, dropControllerFields } from "../../src/restore/compare.js";
import { parseExact } from "../../src/snapshot/json.js";

describe("differences: is the snapshot's object contained in the live one?", () => {
  it("accepts server defaults and controller fields in the live object", () => {
    const desired = { metadata: { name: "a", labels: { x: "1" } }, spec: { containers: [{ name: "c" }] } };
    const live = {
      metadata: { name: "a", labels: { x: "1" }, uid: "u", resourceVersion: "9" },
      spec: { containers: [{ name: "c", imagePullPolicy: "Always" }], dnsPolicy: "ClusterFirst" },
      status: { phase: "Pending" },
    };
    expect(differences(desired, live)).toEqual([]);
  });

  it("names the fields that differ, lists that differ in length, and missing fields", () => {
    const desired = { data: { color: "blue", size: "L" }, items: [1, 2], spec: { a: { b: 1 } } };
    const live = { data: { color: "red" }, items: [1], spec: {} };
    expect(differences(desired, live)).toEqual(["data.color", "data.size", "items", "spec.a"]);
  });

  it("treats null, empty maps and empty lists as absent (the API server omits them)", () => {
    const desired = { metadata: { creationTimestamp: null, annotations: {} }, spec: { volumes: [] } };
    expect(differences(desired, { metadata: {}, spec: {} })).toEqual([]);
  });

  it("compares int64 numbers by their digits, also beyond 2^53", () => {
    // Arrange: texts as the snapshot file and the API server hold them
    const snapshot = parseExact('{"spec":{"max":9223372036854775807,"min":-9223372036854775808,"n":3}}');
    const same = parseExact('{"spec":{"max":9223372036854775807,"min":-9223372036854775808,"n":3}}');
    const offByOne = parseExact('{"spec":{"max":9223372036854775806,"min":-9223372036854775808,"n":3}}');
    const asText = parseExact('{"spec":{"max":"9223372036854775807","min":-9223372036854775808,"n":3}}');

    // Act + Assert
    expect(differences(snapshot, same)).toEqual([]);
    expect(differences(snapshot, offByOne)).toEqual(["spec.max"]);
    expect(differences(snapshot, asText)).toEqual(["spec.max"]);
    // JavaScript's own number for both would be equal: 2^63 rounds the same way.
    expect(Number("9223372036854775807")).toBe(Number("9223372036854775806"));
  });
});

describe("dropControllerFields: what the new cluster's controllers maintain is never written", () => {
  it("removes the rule table's annotations of the type only, and an annotation map it empties", () => {
    // Arrange
    const deployment = {
      metadata: { name: "web", annotations: { "deployment.kubernetes.io/revision": "3" } },
    };
    const configMap = {
      metadata: { name: "web", annotations: { "deployment.kubernetes.io/revision": "3" } },
    };

    // Act
    const removed = dropControllerFields({ group: "apps", resource: "deployments" }, deployment);
    const untouched = dropControllerFields({ group: "", resource: "configmaps" }, configMap);

    // Assert
    expect(removed).toEqual(["deployment-revision"]);
    expect(deployment.metadata).toEqual({ name: "web" });
    expect(untouched).toEqual([]);
    expect(configMap.metadata.annotations).toEqual({ "deployment.kubernetes.io/revision": "3" });
  });
});
