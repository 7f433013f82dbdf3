// JSON.rawJSON / JSON.isRawJSON and the reviver's source text (Node >= 22; not yet in TypeScript's lib).
interface JSON {
  rawJSON(text: string): { readonly rawJSON: string };
  isRawJSON(value: unknown): value is { readonly rawJSON: string };
}
