// The snapshot engine's public surface.
export { DEFAULT_EXCLUSIONS, selectResourceTypes } from "./discovery.js";
export { takeSnapshot } from "./engine.js";
export * from "./errors.js";
export { type ResourceFilters, validateFilters } from "./filters.js";
export { defaultPrefix, formatTimestamp, LATEST_KEY, MANIFEST_FILE } from "./layout.js";
export type { LatestPointer, SnapshotManifest } from "./manifest.js";
export type { ProgressEvent, SnapshotOptions, SnapshotResult } from "./options.js";
export type * from "./ports.js";
