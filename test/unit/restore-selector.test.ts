import { describe, expect, it } from "vitest";
import { matchesSelector, parseSelector, SelectorError } from "../../src/restore/selector.js";

describe("parseSelector: the grammar kubectl -l accepts, shared by the CLI and the planner", () => {
  it("reads equality, existence and set requirements, with spaces where kubectl allows them", () => {
    expect(
      parseSelector("a=1, b==2,c!=3,d,!e, env in (prod, staging),zone notin (x),example.com/tier=db"),
    ).toEqual([
      { key: "a", op: "=", value: "1" },
      { key: "b", op: "=", value: "2" },
      { key: "c", op: "!=", value: "3" },
      { key: "d", op: "exists" },
      { key: "e", op: "!exists" },
      { key: "env", op: "in", values: ["prod", "staging"] },
      { key: "zone", op: "notin", values: ["x"] },
      { key: "example.com/tier", op: "=", value: "db" },
    ]);
    expect(parseSelector("canary=")).toEqual([{ key: "canary", op: "=", value: "" }]);
  });

  it.each([
    ["!app=web", "'!' only negates a key on its own (for a value use app!=value) (at character 5)"],
    ["", "is empty (use key=value,key!=value,key,!key,key in (a,b))"],
    ["app=web,", "expected a label key (at character 9)"],
    ["app in web", "expected '(' after in (at character 8)"],
    ["app in (a,b", "expected ',' or ')' in a value list (at character 12)"],
    ["app >1", "expected =, ==, !=, in or notin after the key app (at character 5)"],
    [
      "Bad_Prefix/app=x",
      "\"Bad_Prefix/app\" is not a label key ([prefix/]name: a DNS subdomain prefix, a name of letters, digits, '-', '_', '.') (at character 1)",
    ],
    [
      "app=-web",
      "\"-web\" is not a label value (63 characters at most: letters, digits, '-', '_', '.', alphanumeric at both ends) (at character 5)",
    ],
    [`app=${"v".repeat(64)}`, expect.stringMatching(/is not a label value/)],
  ])("refuses %j: %s", (text, message) => {
    expect(() => parseSelector(text)).toThrow(SelectorError);
    try {
      parseSelector(text);
    } catch (err) {
      expect((err as Error).message).toEqual(message);
    }
  });
});

describe("matchesSelector: Kubernetes semantics", () => {
  const match = (selector: string, labels: Record<string, string>) =>
    matchesSelector(labels, parseSelector(selector));

  it("!= and notin also match objects without the label; = and in need it", () => {
    expect(match("tier!=db", {})).toBe(true);
    expect(match("tier!=db", { tier: "db" })).toBe(false);
    expect(match("tier notin (db,cache)", {})).toBe(true);
    expect(match("tier notin (db,cache)", { tier: "cache" })).toBe(false);
    expect(match("tier=db", {})).toBe(false);
    expect(match("tier in (db,cache)", { tier: "cache" })).toBe(true);
    expect(match("tier in (db,cache)", {})).toBe(false);
  });

  it("every requirement must hold", () => {
    expect(match("app=web,!canary", { app: "web" })).toBe(true);
    expect(match("app=web,!canary", { app: "web", canary: "" })).toBe(false);
    expect(match("app,tier", { app: "x" })).toBe(false);
  });
});
