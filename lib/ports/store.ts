/**
 * The state store port: the backend for all auth state (roles, bots, tokens, bot instances,
 * locks, registered resources, CA material, replay records).
 *
 * Every adapter (`memory`, `embedded` SQLite, `dynamodb`) passes the same conformance suite
 * (`test/conformance/store.suite.ts`); the contract below is what that suite checks.
 *
 * ## Keys
 * Keys are hierarchical, `/`-separated, printable ASCII (0x21–0x7E), 1–{@link MAX_KEY_LENGTH}
 * characters, and contain at least one `/` (`role/admin`, `bot_instance/ci/3f2…`). The part before
 * the first `/` is the key's *namespace*; the DynamoDB adapter uses it as the partition key, so
 * one namespace's items stay together and unrelated namespaces do not share a hot partition.
 * Keys sort by byte order, which for printable ASCII is also JavaScript's string order. A key
 * that breaks these rules fails with `ERR_INVALID_KEY` before any I/O.
 *
 * ## Values
 * Values are opaque text (services store JSON) up to {@link MAX_VALUE_BYTES} UTF-8 bytes; larger
 * values fail with `ERR_TOO_LARGE` before any I/O.
 *
 * ## Revisions
 * Every successful write returns a fresh, opaque revision string. Revisions of one key never
 * repeat. Conditional writes compare revisions, never values.
 *
 * ## Expiry
 * An item written with `expires` is invisible from that instant on, to every method: `get` and
 * `list` skip it, `create` treats its key as free, `compareAndSwap` and conditional `delete` see no
 * item. This holds whether or not a sweeper (DynamoDB TTL, a SQLite sweep) has removed it yet.
 * Expiry is compared with the adapter's injected clock.
 *
 * ## Errors
 * Adapters translate their backend's failures into the domain errors named on each method, plus
 * `ERR_STORE_UNAVAILABLE` (transient or unknown backend failure) and `ERR_THROTTLED`. Nothing else
 * escapes an adapter except programmer errors (`TypeError`).
 */
export interface Store {
  /**
   * Reads one item.
   * @returns the live item, or `undefined` when the key is absent or expired.
   */
  get(key: string): Promise<StoreItem | undefined>

  /**
   * Writes an item only if the key is absent (or expired).
   * @throws AlreadyExistsError (`ERR_ALREADY_EXISTS`) when a live item has the key.
   */
  create(key: string, value: string, options?: WriteOptions): Promise<WriteResult>

  /** Writes an item unconditionally, replacing any previous value and expiry. */
  put(key: string, value: string, options?: WriteOptions): Promise<WriteResult>

  /**
   * Replaces an item only if its current revision is `expectedRevision`.
   * @throws RevisionMismatchError (`ERR_REVISION_MISMATCH`) when the item is absent, expired or
   *   at another revision. Nothing is written in that case.
   */
  compareAndSwap(
    key: string,
    expectedRevision: string,
    value: string,
    options?: WriteOptions,
  ): Promise<WriteResult>

  /**
   * Deletes an item; with `options.revision`, only if the item is at that revision.
   * @throws NotFoundError (`ERR_NOT_FOUND`) when the key is absent or expired (unconditional
   *   delete), RevisionMismatchError (`ERR_REVISION_MISMATCH`) when a revision was given and the
   *   item is absent, expired or at another revision.
   */
  delete(key: string, options?: DeleteOptions): Promise<void>

  /**
   * Lists live items whose key starts with `prefix`, in ascending key order, one page at a time.
   * `prefix` must contain a `/` (it is scoped to one namespace). A page holds at most `limit`
   * items (default {@link DEFAULT_LIST_LIMIT}, at most {@link MAX_LIST_LIMIT}) and may hold fewer
   * even when more follow; `nextCursor` is set exactly when more items may follow. Items written
   * after a page was read appear in later pages if their key sorts after that page.
   * @throws BadRequestError (`ERR_BAD_REQUEST`) for a malformed cursor or limit.
   */
  list(prefix: string, options?: ListOptions): Promise<ListPage>

  /** Releases connections and file handles. The store is unusable afterwards. */
  close(): Promise<void>
}

/** One live item as read back from a store. */
export interface StoreItem {
  readonly key: string
  readonly value: string
  readonly revision: string
  /** When the item stops being visible; absent for items that never expire. */
  readonly expires?: Date
}

export interface WriteOptions {
  /** The instant the item becomes invisible. Must be a valid date. */
  expires?: Date
}

export interface DeleteOptions {
  /** Delete only if the item is at this revision. */
  revision?: string
}

export interface ListOptions {
  /** Maximum number of items in the page (1–{@link MAX_LIST_LIMIT}). */
  limit?: number
  /** The `nextCursor` of the previous page. Opaque; only valid with the same prefix. */
  cursor?: string
}

export interface WriteResult {
  readonly revision: string
}

export interface ListPage {
  readonly items: readonly StoreItem[]
  /** Present when more items may follow; pass it back as `cursor`. */
  readonly nextCursor?: string
}

/** Longest accepted key, in characters (bytes, as keys are ASCII). */
export const MAX_KEY_LENGTH = 1024
/**
 * Largest accepted value, in UTF-8 bytes. DynamoDB caps a whole item at 400 KB; 256 KiB leaves
 * room for the key and attributes and is far above any document credbroker stores.
 */
export const MAX_VALUE_BYTES = 256 * 1024
export const DEFAULT_LIST_LIMIT = 100
export const MAX_LIST_LIMIT = 1000
