// Node file-system errors as StoreErrors: the errno code and its reason in words, and the path.

import { StoreError } from "../snapshot/errors.js";

/** The errno code of a Node file-system error ("ENOENT"…), if it has one. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** "cannot write /x/y: EACCES (permission denied)", from Node's "EACCES: permission denied, open '…'". */
export function fsError(verb: string, path: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const code = errnoCode(err);
  const message = err instanceof Error ? err.message : String(err);
  const reason = code ? message.match(new RegExp(`^${code}: ([^,]+),`))?.[1] : undefined;
  const why = code ? (reason ? `${code} (${reason})` : code) : message;
  return new StoreError(`cannot ${verb} ${path}: ${why}`, { cause: err });
}
