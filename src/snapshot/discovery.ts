// Which discovered resource types are backed up, as tables of data with reasons.
import type { PatternRule, ResourceFilters } from "./filters.js";
import { globMatch, matchesResource, patternRules } from "./filters.js";
import { qualifiedResource } from "./layout.js";
import type { GroupDiscovery, ResourceType } from "./ports.js";

/** Types not backed up unless the user includes them by name: `pattern: reason`. */
export const DEFAULT_EXCLUSIONS: readonly PatternRule[] = patternRules({
  events: "events expire after 1 h and cannot be restored meaningfully",
  "events.events.k8s.io": "the same events as core events, through another group",
  componentstatuses: "computed on read and deprecated since v1.19",
  "leases.coordination.k8s.io": "leader-election and heartbeat churn, recreated by their owners",
  "*.metrics.k8s.io": "live metrics computed by metrics-server, not stored objects",
});

/**
 * Resource names served by more than one group (old and new homes of the same objects); only the
 * first group present is backed up so each object is stored once.
 */
export const COHABITING_TYPES: readonly {
  readonly resource: string;
  readonly groups: readonly string[];
  readonly reason: string;
}[] = [
  {
    resource: "events",
    groups: ["", "events.k8s.io"],
    reason: "core events are also served as events.k8s.io",
  },
  {
    resource: "ingresses",
    groups: ["networking.k8s.io", "extensions"],
    reason: "extensions/v1beta1 ingresses moved to networking.k8s.io",
  },
  {
    resource: "networkpolicies",
    groups: ["networking.k8s.io", "extensions"],
    reason: "moved from extensions",
  },
  { resource: "deployments", groups: ["apps", "extensions"], reason: "moved from extensions" },
  { resource: "daemonsets", groups: ["apps", "extensions"], reason: "moved from extensions" },
  { resource: "replicasets", groups: ["apps", "extensions"], reason: "moved from extensions" },
  { resource: "podsecuritypolicies", groups: ["policy", "extensions"], reason: "moved from extensions" },
];

/** The verb a type must support to be backed up: one list per type, across all namespaces. */
const REQUIRED_VERB = "list";

export interface Skipped {
  readonly resource: string;
  readonly reason: string;
}

export interface DiscoveryError {
  readonly resource: string;
  readonly namespace: null;
  readonly status: number | null;
  readonly message: string;
}

export interface Selection {
  readonly types: ResourceType[];
  readonly skipped: Skipped[];
  readonly errors: DiscoveryError[];
  /** The exclusions in effect (defaults not overridden + the user's), for the manifest. */
  readonly excludeResources: string[];
}

/** Default exclusions the user did not override by naming the type in includeResources. */
export function effectiveExclusions(filters: ResourceFilters): { pattern: string; reason: string }[] {
  const explicitlyIncluded = (pattern: string) =>
    filters.includeResources.some((g) => g === pattern && !/[*?]/.test(g));
  return [
    ...DEFAULT_EXCLUSIONS.filter((e) => !explicitlyIncluded(e.pattern)).map((e) => ({
      ...e,
      reason: `excluded by default: ${e.reason}`,
    })),
    ...filters.excludeResources.map((pattern) => ({ pattern, reason: "excluded by --exclude-resources" })),
  ];
}

/** Picks the types to list from discovery: listable, not a subresource, once per cohabiting set, filtered. */
export function selectResourceTypes(
  discovery: readonly GroupDiscovery[],
  filters: ResourceFilters,
): Selection {
  const exclusions = effectiveExclusions(filters);
  const excludedBy = (type: Pick<ResourceType, "resource" | "group">) =>
    exclusions.find((e) => matchesResource([e.pattern], type));
  const groupsServed = new Set(discovery.map((d) => d.group));
  const types: ResourceType[] = [];
  const skipped: Skipped[] = [];
  const errors: DiscoveryError[] = [];

  for (const d of discovery) {
    if ("error" in d) {
      // A group that is excluded wholesale (e.g. *.metrics.k8s.io) being down is not a backup error.
      const wholesale = exclusions.find(
        (e) => e.pattern.startsWith("*.") && globMatch(e.pattern.slice(2), d.group),
      );
      if (wholesale) skipped.push({ resource: `*.${d.group}`, reason: wholesale.reason });
      else
        errors.push({
          resource: `*.${d.group}`,
          namespace: null,
          status: d.error.status,
          message: `discovery of ${d.group}/${d.version} failed: ${d.error.message}`,
        });
      continue;
    }
    for (const r of d.resources) {
      if (r.name.includes("/")) continue; // subresources (status, scale, log…) are part of their parent
      if (!r.verbs.includes(REQUIRED_VERB)) continue; // not a collection (reviews, bindings…)
      const type: ResourceType = {
        group: d.group,
        version: d.version,
        resource: r.name,
        kind: r.kind,
        namespaced: r.namespaced,
      };
      const cohabiting = COHABITING_TYPES.find((c) => c.resource === r.name && c.groups.includes(d.group));
      const preferred = cohabiting?.groups.find((g) => groupsServed.has(g));
      if (cohabiting && preferred !== d.group) {
        skipped.push({
          resource: qualifiedResource(type),
          reason: `served as ${qualifiedResource({ resource: r.name, group: preferred ?? "" })} too: ${cohabiting.reason}`,
        });
        continue;
      }
      const exclusion = excludedBy(type);
      if (exclusion) {
        skipped.push({ resource: qualifiedResource(type), reason: exclusion.reason });
        continue;
      }
      if (!matchesResource(filters.includeResources, type)) {
        skipped.push({ resource: qualifiedResource(type), reason: "not matched by --include-resources" });
        continue;
      }
      types.push(type);
    }
  }
  return { types, skipped, errors, excludeResources: exclusions.map((e) => e.pattern) };
}
