import { describe, expect, it } from "vitest";
import { DEFAULT_EXCLUSIONS, selectResourceTypes } from "../../src/snapshot/discovery.js";
import {
  globMatch,
  namespaceIncluded,
  type ResourceFilters,
  validateFilters,
} from "../../src/snapshot/filters.js";
import type { ApiResource, GroupDiscovery } from "../../src/snapshot/ports.js";

const ALL: ResourceFilters = {
  includeResources: ["*"],
  excludeResources: [],
  includeNamespaces: ["*"],
  excludeNamespaces: [],
};
const r = (name: string, kind: string, namespaced = true, verbs = ["get", "list", "watch"]): ApiResource => ({
  name,
  kind,
  namespaced,
  verbs,
});

const DISCOVERY: GroupDiscovery[] = [
  {
    group: "",
    version: "v1",
    resources: [
      r("configmaps", "ConfigMap"),
      r("pods", "Pod"),
      r("pods/log", "Pod", true, ["get"]),
      r("pods/status", "Pod", true, ["get", "patch"]),
      r("events", "Event"),
      r("componentstatuses", "ComponentStatus", false),
      r("bindings", "Binding", true, ["create"]),
      r("namespaces", "Namespace", false),
    ],
  },
  {
    group: "apps",
    version: "v1",
    resources: [r("deployments", "Deployment"), r("deployments/scale", "Scale")],
  },
  { group: "events.k8s.io", version: "v1", resources: [r("events", "Event")] },
  { group: "coordination.k8s.io", version: "v1", resources: [r("leases", "Lease")] },
  {
    group: "authorization.k8s.io",
    version: "v1",
    resources: [r("selfsubjectaccessreviews", "SelfSubjectAccessReview", false, ["create"])],
  },
  { group: "extensions", version: "v1beta1", resources: [r("ingresses", "Ingress")] },
  { group: "networking.k8s.io", version: "v1", resources: [r("ingresses", "Ingress")] },
  { group: "example.com", version: "v1", resources: [r("widgets", "Widget")] },
  { group: "metrics.k8s.io", version: "v1beta1", error: { status: 503, message: "service unavailable" } },
  { group: "custom.metrics.example.io", version: "v1", error: { status: 503, message: "down" } },
];

const names = (discovery = DISCOVERY, filters = ALL) =>
  selectResourceTypes(discovery, filters).types.map((t) =>
    t.group ? `${t.resource}.${t.group}` : t.resource,
  );

describe("resource type selection", () => {
  it("keeps every listable type and skips subresources and types without list", () => {
    expect(names()).toEqual([
      "configmaps",
      "pods",
      "namespaces",
      "deployments.apps",
      "ingresses.networking.k8s.io",
      "widgets.example.com",
    ]);
  });

  it("skips the default exclusions, each with its reason", () => {
    const { skipped } = selectResourceTypes(DISCOVERY, ALL);
    const reasons = Object.fromEntries(skipped.map((s) => [s.resource, s.reason]));
    expect(reasons.events).toMatch(/^excluded by default: events expire/);
    expect(reasons.componentstatuses).toMatch(/^excluded by default: computed/);
    expect(reasons["leases.coordination.k8s.io"]).toMatch(/^excluded by default/);
    for (const e of DEFAULT_EXCLUSIONS) expect(e.reason.length).toBeGreaterThan(10);
  });

  it("backs up cohabiting types once, from their current group", () => {
    const { skipped } = selectResourceTypes(DISCOVERY, ALL);
    expect(skipped).toContainEqual({
      resource: "ingresses.extensions",
      reason: expect.stringMatching(/^served as ingresses.networking.k8s.io too/),
    });
    expect(skipped).toContainEqual({
      resource: "events.events.k8s.io",
      reason: expect.stringMatching(/^served as events too/),
    });
  });

  it("includes a default-excluded type when it is named in includeResources", () => {
    expect(names(DISCOVERY, { ...ALL, includeResources: ["*", "events"] })).toContain("events");
    expect(names(DISCOVERY, { ...ALL, includeResources: ["*", "events"] })).not.toContain(
      "events.events.k8s.io",
    );
  });

  it("filters by resource or resource.group globs", () => {
    expect(names(DISCOVERY, { ...ALL, includeResources: ["*.example.com", "configmaps"] })).toEqual([
      "configmaps",
      "widgets.example.com",
    ]);
    expect(names(DISCOVERY, { ...ALL, excludeResources: ["pods", "deployments.apps", "*.k8s.io"] })).toEqual([
      "configmaps",
      "namespaces",
      "widgets.example.com",
    ]);
  });

  it("records a group whose discovery failed as an error, unless the group is excluded wholesale", () => {
    const { errors, skipped } = selectResourceTypes(DISCOVERY, ALL);
    expect(errors).toEqual([
      {
        resource: "*.custom.metrics.example.io",
        namespace: null,
        status: 503,
        message: "discovery of custom.metrics.example.io/v1 failed: down",
      },
    ]);
    expect(skipped).toContainEqual({
      resource: "*.metrics.k8s.io",
      reason: expect.stringMatching(/^excluded by default: live metrics/),
    });
  });

  it("reports the exclusions in effect for the manifest", () => {
    const { excludeResources } = selectResourceTypes(DISCOVERY, {
      ...ALL,
      excludeResources: ["secrets"],
      includeResources: ["*", "events"],
    });
    expect(excludeResources).toEqual([
      "events.events.k8s.io",
      "componentstatuses",
      "leases.coordination.k8s.io",
      "*.metrics.k8s.io",
      "secrets",
    ]);
  });
});

describe("filters", () => {
  it("matches whole names with * and ?", () => {
    expect(globMatch("team-*", "team-a")).toBe(true);
    expect(globMatch("team-?", "team-ab")).toBe(false);
    expect(globMatch("*.example.com", "widgets.example.com")).toBe(true);
    expect(globMatch("*.example.com", "widgets.example.community")).toBe(false);
  });
  it("keeps a namespace that is included and not excluded", () => {
    const f = { ...ALL, includeNamespaces: ["team-*", "default"], excludeNamespaces: ["team-secret"] };
    expect(
      ["default", "team-a", "team-secret", "kube-system"].filter((n) => namespaceIncluded(f, n)),
    ).toEqual(["default", "team-a"]);
  });
  it("reports every invalid glob at once, naming the option", () => {
    const problems = validateFilters(
      {
        includeResources: ["Pods"],
        excludeResources: ["ok", "a b"],
        includeNamespaces: ["*"],
        excludeNamespaces: ["ns.dot"],
      },
      {
        includeResources: "--include-resources",
        excludeResources: "--exclude-resources",
        includeNamespaces: "--include-namespaces",
        excludeNamespaces: "--exclude-namespaces",
      },
    );
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^--include-resources: "Pods" is not a valid resource/);
    expect(problems[1]).toMatch(/^--exclude-resources: "a b"/);
    expect(problems[2]).toMatch(/^--exclude-namespaces: "ns.dot" is not a valid namespace/);
  });
});
