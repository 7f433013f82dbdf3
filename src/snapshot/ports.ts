// The small interfaces the snapshot engine depends on. Adapters (Kubernetes over HTTPS, S3,
// filesystem, EKS) implement them outside src/snapshot; the engine never sees AWS, Lambda or process.

/** A Kubernetes object exactly as the API server served it (raw JSON, no typed model). */
export type KubeObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown> & { name?: string; namespace?: string };
};

/** One entry of an APIResourceList (GET /api/v1, /apis/<group>/<version>), as served. */
export interface ApiResource {
  readonly name: string;
  readonly namespaced: boolean;
  readonly kind: string;
  readonly verbs: readonly string[];
  readonly group?: string;
  readonly version?: string;
}

/** Discovery of one group: its preferred version's resources, or why they could not be read. */
export type GroupDiscovery =
  | { readonly group: string; readonly version: string; readonly resources: readonly ApiResource[] }
  | { readonly group: string; readonly version: string; readonly error: ApiErrorInfo };

export interface ApiErrorInfo {
  readonly status: number | null;
  readonly message: string;
}

/** A resource type the engine will list. `group` is "" for the core group. */
export interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

/** What a page request asks for. */
export interface ListPageRequest {
  /** Items at most (`limit`); the engine sizes it by bytes (see engine.ts, page sizing). */
  readonly limit: number;
  /** The previous page's continue token; undefined for the first page. */
  readonly continue?: string | undefined;
  /** List one namespace only (for servers whose cluster-wide lists are not grouped by namespace). */
  readonly namespace?: string | undefined;
  /**
   * Called once with the next page's continue token (undefined on the last page) as soon as it is known:
   * before the first item when the server sends metadata first, as Kubernetes does.
   */
  readonly onContinue?: ((token: string | undefined) => void) | undefined;
  /**
   * Resolves when the caller can take this page's items (the previous page is handled): until then the
   * reader holds at most the first MiB of the page's response (the rest waits in the socket).
   */
  readonly ready?: Promise<unknown> | undefined;
}

/** What a page held, once every item was handed on. */
export interface ListPageResult {
  readonly continue: string | undefined;
  readonly items: number;
  /** Bytes of the response body. */
  readonly bytes: number;
}

/**
 * Receives a page's items in the server's order, in batches, parsed with exact numbers (JSON text the
 * batch took: `bytes`, for page sizing).
 */
export type ItemSink = (items: readonly KubeObject[], bytes: number) => Promise<void>;

/** Read access to a cluster. Implementations retry transient failures themselves. */
export interface ClusterReader {
  /** The server's gitVersion, e.g. "v1.36.3". */
  serverVersion(): Promise<string>;
  /** Every API group with its preferred version's resources (core group first, group ""). */
  discover(): Promise<GroupDiscovery[]>;
  /**
   * Streams one page of a list into `sink` as it arrives (no page is ever held whole). Throws
   * ListExpiredError (410) or ListInterruptedError (broken after items were handed on): the list must
   * restart; ApiError when the server keeps failing; whatever `sink` throws.
   */
  listPage(type: ResourceType, request: ListPageRequest, sink: ItemSink): Promise<ListPageResult>;
}

/** A streamed write of one object: nothing is visible under its key until commit() resolves. */
export interface ObjectWriter {
  /** Appends bytes; resolves when the store can take more (back-pressure). The store may keep `chunk` until commit: the caller must not change it afterwards. */
  write(chunk: Buffer): Promise<void>;
  /** Makes the object visible, complete, under its key (durable after the store's sync()). */
  commit(): Promise<void>;
  /** Discards everything written; the key is left as it was. Safe to call after a failed write. */
  abort(): Promise<void>;
}

export interface StoredObjectInfo {
  readonly key: string;
  readonly size: number;
}

/** S3 Object Lock modes (S3's own names). */
export type ObjectLockMode = "GOVERNANCE" | "COMPLIANCE";

/** The retention a store gives every object it writes inside a snapshot folder: `mode`, until now + `days`. */
export interface ObjectLockRetention {
  readonly mode: ObjectLockMode;
  readonly days: number;
}

/** One stored object's lock, as the store reports it. */
export interface ObjectLockState {
  /** S3's mode name (GOVERNANCE, COMPLIANCE), as the server returned it. */
  readonly mode: string;
  /** ISO 8601. */
  readonly retainUntil: string;
}

/** Where snapshots live. Keys are relative to the store's root ("<prefix>" of the layout). */
export interface SnapshotStore {
  /**
   * The retention this store gives each object it writes inside a snapshot folder (recorded in the
   * manifest); undefined when it locks nothing. Keys inside a snapshot are written once each.
   */
  readonly objectLock?: ObjectLockRetention | undefined;
  /** A human-readable location of a key, for messages (s3://bucket/prefix/key, /dir/prefix/key). */
  describe(key: string): string;
  /**
   * The lock of an object: its mode and retain-until date, null when it has none (or the store cannot
   * lock at all), undefined when there is no such key. Only stores that can lock objects have it.
   */
  lockOf?(key: string): Promise<ObjectLockState | null | undefined>;
  /** Starts a streamed write of `key`. */
  openWrite(key: string): ObjectWriter;
  /** Writes a small object in one request. */
  put(key: string, body: Buffer): Promise<void>;
  /** Creates `key` only if it does not exist; false if it already did. Used to claim a snapshot name. */
  createExclusive(key: string, body: Buffer): Promise<boolean>;
  /** The object's bytes, or undefined if there is no such key. */
  get(key: string): Promise<Buffer | undefined>;
  /** Every key under `prefix` (recursively), in lexicographic order. */
  list(prefix: string): AsyncIterable<StoredObjectInfo>;
  /** Removes `key`; no error if it is absent. */
  delete(key: string): Promise<void>;
  /**
   * Makes every object committed through openWrite() durable. A store may make a committed object
   * visible before it is durable (a folder defers its fsyncs to here); the engine calls this before it
   * writes the manifest, so a manifest never names a file a crash could still lose. put() and
   * createExclusive() are durable when they resolve.
   */
  sync(): Promise<void>;
}

export interface Clock {
  now(): Date;
}

/** Structured logger; the engine passes context objects, never tokens or object bodies. */
export interface Logger {
  debug(message: string, context?: Record<string, unknown>): void;
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

/**
 * How far a run over a snapshot's files has got (restore, verify, diff), for a terminal's status line:
 * counts so far in the current phase. Engines call their `onProgress` with it; they know no terminal.
 */
export interface FileProgress {
  /** What the files are going through: "reading", "restoring", "checking", "comparing"… */
  readonly phase: string;
  /** Files done of `totalFiles`. */
  readonly files: number;
  readonly totalFiles: number;
  /** Objects handled so far in this phase (absent when the phase handles none). */
  readonly items?: number;
  /** Bytes of the files read so far in this phase (absent when not counted). */
  readonly bytes?: number;
}
