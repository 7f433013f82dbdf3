// Reads a stored List file item by item: its bytes are cut into items by ListItemSplitter and each item
// is parsed on its own with exact numbers, so no file is ever one giant string (V8 caps strings at
// ~512 Mi characters) and no number is changed. Errors say what is wrong, never quote the text.
import { isRecord, jsonProblem, parseExact } from "./json.js";
import { ListItemSplitter, ListSyntaxError } from "./list-splitter.js";

/** Bytes handed to the splitter at a time. */
const CHUNK = 1024 * 1024;

/** A List file that cannot be read as one (the message says why, without its content). */
export class ListFileError extends Error {
  override readonly name = "ListFileError";
}

/** The items of a List file, in order, parsed with exact numbers; then checks it is a `v1` `List`. */
export function* listFileItems(body: Buffer): Generator<unknown, void, undefined> {
  const splitter = new ListItemSplitter();
  let index = 0;
  for (let at = 0; at < body.length || at === 0; at += CHUNK) {
    let texts: string[];
    try {
      texts = splitter.push(body.subarray(at, at + CHUNK));
    } catch (err) {
      throw fileError(err);
    }
    for (const text of texts) {
      try {
        yield parseExact(text);
      } catch (err) {
        throw new ListFileError(`items[${index}] ${jsonProblem(err, text.length)}`);
      }
      index += 1;
    }
    if (body.length === 0) break;
  }
  let envelope: Record<string, unknown>;
  try {
    envelope = splitter.end();
  } catch (err) {
    throw fileError(err);
  }
  if (!isRecord(envelope) || envelope.apiVersion !== "v1" || envelope.kind !== "List")
    throw new ListFileError('is not a List (want apiVersion "v1", kind "List" and an items array)');
}

function fileError(err: unknown): ListFileError {
  if (!(err instanceof ListSyntaxError)) throw err;
  if (/ends early/.test(err.message))
    return new ListFileError("is not valid JSON (it ends early: truncated?)");
  if (/is not valid JSON/.test(err.message)) return new ListFileError(err.message);
  if (/no items array|not a JSON object/.test(err.message))
    return new ListFileError('is not a List (want apiVersion "v1", kind "List" and an items array)');
  return new ListFileError(`is not a valid List (${err.message})`);
}
