import { describe, expect, it } from "vitest";
import { ROUTINE_RULES, routineRuleOf } from "../../src/snapshot/routine.js";

describe("routine rules", () => {
  it("have unique ids and a reason each", () => {
    const ids = ROUTINE_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of ROUTINE_RULES) expect(rule.reason.length, rule.id).toBeGreaterThan(30);
  });

  it("cover what controllers and kubelets change, by type or by the object's own marks", () => {
    const cm = (metadata: object) => ({ apiVersion: "v1", kind: "ConfigMap", metadata });
    expect(routineRuleOf("endpoints", { metadata: { name: "web" } })).toBe("endpoints");
    expect(routineRuleOf("endpointslices.discovery.k8s.io", { metadata: { name: "web-x" } })).toBe(
      "endpoint-slices",
    );
    expect(
      routineRuleOf(
        "configmaps",
        cm({ name: "lock", annotations: { "control-plane.alpha.kubernetes.io/leader": "{}" } }),
      ),
    ).toBe("leader-election");
    expect(
      routineRuleOf("pods", {
        metadata: { name: "web-1", ownerReferences: [{ kind: "ReplicaSet", name: "web", controller: true }] },
      }),
    ).toBe("controller-owned");
    expect(routineRuleOf("configmaps", cm({ name: "kube-root-ca.crt" }))).toBe("namespace-defaults");
    expect(routineRuleOf("serviceaccounts", { metadata: { name: "default" } })).toBe("namespace-defaults");
    expect(routineRuleOf("nodes", { metadata: { name: "ip-10-0-0-1" } })).toBe("nodes");
    expect(routineRuleOf("ipaddresses.networking.k8s.io", { metadata: { name: "10.0.0.76" } })).toBe(
      "service-ip-addresses",
    );
  });

  it("leave what people change alone: their objects, owned but not controlled ones, look-alike names", () => {
    expect(routineRuleOf("configmaps", { metadata: { name: "settings" } })).toBeUndefined();
    expect(routineRuleOf("serviceaccounts", { metadata: { name: "builder" } })).toBeUndefined();
    expect(routineRuleOf("secrets", { metadata: { name: "kube-root-ca.crt" } })).toBeUndefined();
    expect(
      routineRuleOf("configmaps", {
        metadata: { name: "cfg", ownerReferences: [{ kind: "Widget", name: "w", controller: false }] },
      }),
    ).toBeUndefined();
    expect(routineRuleOf("deployments.apps", "not an object")).toBeUndefined();
  });
});
