// Include/exclude filters for resource types and namespaces (kubectl `resource.group` names, globs).

import { qualifiedResource } from "./layout.js";
import type { ResourceType } from "./ports.js";

/** A filter list that cannot be used; names the option and the bad value. */
export class FilterError extends Error {
  override readonly name = "FilterError";
}

export interface ResourceFilters {
  /** Globs over `resource` or `resource.group`; ["*"] means all. */
  readonly includeResources: readonly string[];
  readonly excludeResources: readonly string[];
  readonly includeNamespaces: readonly string[];
  readonly excludeNamespaces: readonly string[];
}

/** Resource globs: lowercase DNS-ish names with `*` and `?` (e.g. `secrets`, `*.example.com`). */
const RESOURCE_GLOB = /^[a-z0-9*?]([a-z0-9.*?-]*[a-z0-9*?])?$/;
/** Namespace globs: RFC 1123 labels with `*` and `?`. */
const NAMESPACE_GLOB = /^[a-z0-9*?]([a-z0-9*?-]*[a-z0-9*?])?$/;

/** Returns one message per invalid glob, naming the option; empty when all are valid. */
export function validateFilters(f: ResourceFilters, names: Record<keyof ResourceFilters, string>): string[] {
  const problems: string[] = [];
  const check = (key: keyof ResourceFilters, re: RegExp, what: string) => {
    for (const glob of f[key]) {
      if (!re.test(glob))
        problems.push(
          `${names[key]}: "${glob}" is not a valid ${what} name or glob (use lowercase letters, digits, '-', '.', '*', '?')`,
        );
    }
  };
  check("includeResources", RESOURCE_GLOB, "resource");
  check("excludeResources", RESOURCE_GLOB, "resource");
  check("includeNamespaces", NAMESPACE_GLOB, "namespace");
  check("excludeNamespaces", NAMESPACE_GLOB, "namespace");
  return problems;
}

const globCache = new Map<string, RegExp>();

/** Whole-string glob match with `*` (any run) and `?` (one character). */
export function globMatch(glob: string, value: string): boolean {
  let re = globCache.get(glob);
  if (!re) {
    const body = glob
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".");
    re = new RegExp(`^${body}$`);
    globCache.set(glob, re);
  }
  return re.test(value);
}

/** True when `type` is named by one of the globs, as `resource` or as `resource.group`. */
export function matchesResource(
  globs: readonly string[],
  type: Pick<ResourceType, "resource" | "group">,
): boolean {
  const full = qualifiedResource(type);
  return globs.some((g) => globMatch(g, full) || globMatch(g, type.resource));
}

/** A rule over resource types: a glob as matchesResource reads it, and the reason of the rule. */
export interface PatternRule {
  readonly pattern: string;
  readonly reason: string;
}

/**
 * Rules written as one object, `{ pattern: reason, … }` (each pattern once), as the list code reads,
 * in the order written (resource names are never integer-like, so keys keep their order).
 */
export function patternRules(reasons: Readonly<Record<string, string>>): readonly PatternRule[] {
  return Object.entries(reasons).map(([pattern, reason]) => ({ pattern, reason }));
}

/** True when objects of `namespace` are kept. */
export function namespaceIncluded(f: ResourceFilters, namespace: string): boolean {
  return (
    f.includeNamespaces.some((g) => globMatch(g, namespace)) &&
    !f.excludeNamespaces.some((g) => globMatch(g, namespace))
  );
}
