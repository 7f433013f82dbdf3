// Label selectors, the grammar kubectl's -l accepts (equality- and set-based), parsed once: the CLI
// validates `--selector` with parseSelector and the planner matches with what it returns, so a selector
// that passes the CLI is one the planner understands.

/** A selector the grammar does not accept; the message says where and why (it quotes only the selector). */
export class SelectorError extends Error {
  override readonly name = "SelectorError";
}

/** One requirement of a selector; every requirement must hold. */
export type Requirement =
  | { readonly key: string; readonly op: "exists" | "!exists" }
  | { readonly key: string; readonly op: "=" | "!="; readonly value: string }
  | { readonly key: string; readonly op: "in" | "notin"; readonly values: readonly string[] };

/** A label name, or a key's part after its prefix: 63 characters at most. */
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
/** A key's prefix: a DNS subdomain. */
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Characters that end a key or value: whitespace and the grammar's own. */
const WORD = /[^\s,()=!]+/y;
const SPACE = /\s*/y;

/**
 * Parses `app=web,tier!=db,release,!canary,env in (prod,staging),zone notin (a)`. Kubernetes semantics
 * (see matchesSelector): `!=` and `notin` also match objects without the label. Throws SelectorError.
 */
export function parseSelector(text: string): Requirement[] {
  if (text.trim() === "")
    throw new SelectorError("is empty (use key=value,key!=value,key,!key,key in (a,b))");
  const s = new Scanner(text);
  const out: Requirement[] = [];
  for (;;) {
    out.push(term(s));
    s.space();
    if (s.done) return out;
    if (!s.eat(",")) throw s.error("expected ',' between requirements");
  }
}

function term(s: Scanner): Requirement {
  s.space();
  if (s.eat("!")) {
    s.space();
    const key = checkKey(s, s.word());
    s.space();
    if (!s.done && s.peek !== ",")
      throw s.error(`'!' only negates a key on its own (for a value use ${key}!=value)`);
    return { key, op: "!exists" };
  }
  const key = checkKey(s, s.word());
  s.space();
  if (s.done || s.peek === ",") return { key, op: "exists" };
  if (s.eat("!=")) return { key, op: "!=", value: value(s) };
  if (s.eat("==") || s.eat("=")) return { key, op: "=", value: value(s) };
  const at = s.pos;
  const word = s.word();
  if (word !== "in" && word !== "notin")
    throw s.error(`expected =, ==, !=, in or notin after the key ${key}`, at);
  s.space();
  if (!s.eat("(")) throw s.error(`expected '(' after ${word}`);
  const values: string[] = [];
  for (;;) {
    values.push(value(s));
    s.space();
    if (s.eat(")")) break;
    if (!s.eat(",")) throw s.error("expected ',' or ')' in a value list");
  }
  return { key, op: word, values };
}

function value(s: Scanner): string {
  s.space();
  const at = s.pos;
  const v = s.word();
  if (v !== "" && (v.length > 63 || !NAME.test(v)))
    throw s.error(
      `"${v}" is not a label value (63 characters at most: letters, digits, '-', '_', '.', alphanumeric at both ends)`,
      at,
    );
  return v;
}

function checkKey(s: Scanner, key: string): string {
  const at = s.pos - key.length;
  if (key === "") throw s.error("expected a label key");
  const slash = key.lastIndexOf("/");
  const name = key.slice(slash + 1);
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const bad =
    (prefix !== undefined && (prefix.length > 253 || !PREFIX.test(prefix))) ||
    name.length > 63 ||
    !NAME.test(name);
  if (bad)
    throw s.error(
      `"${key}" is not a label key ([prefix/]name: a DNS subdomain prefix, a name of letters, digits, '-', '_', '.')`,
      at,
    );
  return key;
}

class Scanner {
  pos = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  get peek(): string {
    return this.text[this.pos] ?? "";
  }

  space(): void {
    SPACE.lastIndex = this.pos;
    SPACE.exec(this.text);
    this.pos = SPACE.lastIndex;
  }

  eat(token: string): boolean {
    if (!this.text.startsWith(token, this.pos)) return false;
    this.pos += token.length;
    return true;
  }

  word(): string {
    WORD.lastIndex = this.pos;
    const m = WORD.exec(this.text);
    if (!m) return "";
    this.pos = WORD.lastIndex;
    return m[0];
  }

  error(why: string, at = this.pos): SelectorError {
    return new SelectorError(`${why} (at character ${at + 1})`);
  }
}

/** Kubernetes semantics: `key!=value` and `key notin (…)` also match objects without the label. */
export function matchesSelector(
  labels: Record<string, unknown>,
  requirements: readonly Requirement[],
): boolean {
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const v = labels[r.key];
    switch (r.op) {
      case "exists":
        return has;
      case "!exists":
        return !has;
      case "=":
        return has && v === r.value;
      case "!=":
        return !has || v !== r.value;
      case "in":
        return has && r.values.includes(v as string);
      default: // notin
        return !has || !r.values.includes(v as string);
    }
  });
}
