/**
 * CRUD for resource documents over the {@link Store} port.
 *
 * Contract:
 * - Every write validates the document first ({@link validateResource}); an invalid document
 *   throws `ERR_INVALID_RESOURCE` and nothing is written.
 * - Documents are stored as canonical JSON without `metadata.revision`; reads set
 *   `metadata.revision` from the store, and conditional writes compare it.
 * - `metadata.expires` becomes the store item's expiry, so an expired resource is gone for every
 *   reader at once. Writing a document whose `expires` has already passed is rejected.
 * - Bot instances are named `<bot name>/<instance id>` in `get` and `delete`, and listed per bot
 *   with `list('bot_instance', { prefix: '<bot name>/' })`.
 * - Errors name the resource the way users do: `role "admin" not found`,
 *   `database "example" already exists`. Token names are never echoed: they can be secrets.
 *
 * @example
 * const resources = new ResourceService({ store, clock })
 * const created = await resources.create(parseResource(yamlText))
 * const role = await resources.get('role', 'access')
 * await resources.update({ ...role, spec: newSpec }, { revision: role.metadata.revision })
 */
import { type Clock, systemClock } from '../clock.ts'
import {
  AlreadyExistsError,
  InvalidResourceError,
  NotFoundError,
  RevisionMismatchError,
  StoreUnavailableError,
} from '../errors.ts'
import { deepFreeze } from '../freeze.ts'
import type { Store, StoreItem, WriteOptions } from '../ports/store.ts'
import { parseInstant } from '../resources/fields.ts'
import { keyOf, listPrefix, nameOf, resourceKey } from '../resources/keys.ts'
import { validateResource } from '../resources/parse.ts'
import type { Resource, ResourceKind, ResourceOf } from '../resources/types.ts'

export interface ResourceServiceOptions {
  store: Store
  /** Used to reject documents that have already expired. Defaults to the system clock. */
  clock?: Clock
}

export interface ListResourcesOptions {
  /** Page size; the store's default and maximum apply. */
  limit?: number
  /** `nextCursor` of the previous page (same kind and prefix). */
  cursor?: string
  /** Only names starting with this; `'<bot>/'` lists one bot's instances. */
  prefix?: string
}

export interface ResourcePage<K extends ResourceKind> {
  readonly items: readonly ResourceOf<K>[]
  /** Present when more items may follow. */
  readonly nextCursor?: string
}

/** How users call each kind in messages (`database "x" not found`, as in the guide). */
const DISPLAY_NAMES: Readonly<Record<ResourceKind, string>> = {
  role: 'role',
  bot: 'bot',
  token: 'token',
  bot_instance: 'bot instance',
  lock: 'lock',
  db: 'database',
  kube_cluster: 'kubernetes cluster',
  app: 'app',
  node: 'node',
}

/** Decoded documents kept per service, by key and revision (see {@link ResourceService}). */
const DECODE_CACHE_LIMIT = 1024

export class ResourceService {
  readonly #store: Store
  readonly #clock: Clock
  /**
   * Validated documents by `key@revision`. A revision names one immutable value of a key (the
   * store never reuses revisions), so a hit skips JSON parsing and schema validation — the bulk
   * of a read's cost on the issuance path. Cached documents are deeply frozen.
   */
  readonly #decoded = new Map<string, Resource>()

  constructor(options: ResourceServiceOptions) {
    this.#store = options.store
    this.#clock = options.clock ?? systemClock
  }

  /**
   * Validates and stores a new resource.
   * @returns the canonical document with its new `metadata.revision`.
   * @throws InvalidResourceError (nothing written), AlreadyExistsError when a live resource of
   *   that kind has that name.
   */
  create<R extends Resource>(doc: R): Promise<ResourceOf<R['kind']>>
  create(doc: unknown): Promise<Resource>
  async create(doc: unknown): Promise<Resource> {
    const resource = this.#validate(doc)
    try {
      const { revision } = await this.#store.create(
        keyOf(resource),
        serialize(resource),
        writeOptions(resource),
      )
      return withRevision(resource, revision)
    } catch (err) {
      throw translate(err, resource.kind, nameOf(resource))
    }
  }

  /**
   * Reads one resource (`name` is `<bot>/<id>` for bot instances).
   * @throws NotFoundError (`role "admin" not found`) when absent or expired; BadRequestError for
   *   a name that no resource of that kind can have.
   */
  async get<K extends ResourceKind>(kind: K, name: string): Promise<ResourceOf<K>> {
    const item = await this.#store.get(resourceKey(kind, name))
    if (!item) throw notFound(kind, name)
    return this.#decode(kind, item)
  }

  /** Lists live resources of one kind in name order, one page at a time. */
  async list<K extends ResourceKind>(kind: K, options: ListResourcesOptions = {}): Promise<ResourcePage<K>> {
    const page = await this.#store.list(listPrefix(kind, options.prefix), {
      ...(options.limit !== undefined && { limit: options.limit }),
      ...(options.cursor !== undefined && { cursor: options.cursor }),
    })
    const items = page.items.map((item) => this.#decode(kind, item))
    return page.nextCursor === undefined ? { items } : { items, nextCursor: page.nextCursor }
  }

  /**
   * Replaces a resource only if it is still at `revision` (by default the document's own
   * `metadata.revision`, as returned by `get`).
   * @throws InvalidResourceError (nothing written; also when no revision is known),
   *   RevisionMismatchError when the resource changed, was deleted or expired since.
   */
  update<R extends Resource>(doc: R, options?: { revision?: string }): Promise<ResourceOf<R['kind']>>
  update(doc: unknown, options?: { revision?: string }): Promise<Resource>
  async update(doc: unknown, options: { revision?: string } = {}): Promise<Resource> {
    const resource = this.#validate(doc)
    const expected = options.revision ?? resource.metadata.revision
    if (expected === undefined) {
      throw new InvalidResourceError('metadata.revision', 'is required to update: read the resource first')
    }
    try {
      const { revision } = await this.#store.compareAndSwap(
        keyOf(resource),
        expected,
        serialize(resource),
        writeOptions(resource),
      )
      return withRevision(resource, revision)
    } catch (err) {
      throw translate(err, resource.kind, nameOf(resource))
    }
  }

  /** Creates or replaces a resource unconditionally. @throws InvalidResourceError (nothing written). */
  upsert<R extends Resource>(doc: R): Promise<ResourceOf<R['kind']>>
  upsert(doc: unknown): Promise<Resource>
  async upsert(doc: unknown): Promise<Resource> {
    const resource = this.#validate(doc)
    const { revision } = await this.#store.put(keyOf(resource), serialize(resource), writeOptions(resource))
    return withRevision(resource, revision)
  }

  /**
   * Deletes a resource; with `revision`, only if it is still at that revision.
   * @throws NotFoundError when absent or expired (without `revision`), RevisionMismatchError
   *   (with `revision`) when it is absent, expired or at another revision.
   */
  async delete(kind: ResourceKind, name: string, options: { revision?: string } = {}): Promise<void> {
    const key = resourceKey(kind, name)
    try {
      await this.#store.delete(key, options.revision === undefined ? {} : { revision: options.revision })
    } catch (err) {
      throw translate(err, kind, name)
    }
  }

  #decode<K extends ResourceKind>(kind: K, item: StoreItem): ResourceOf<K> {
    const cacheKey = `${item.key}@${item.revision}`
    const hit = this.#decoded.get(cacheKey)
    if (hit?.kind === kind) return hit as ResourceOf<K>
    const resource = deepFreeze(decode(kind, item))
    if (this.#decoded.size >= DECODE_CACHE_LIMIT)
      this.#decoded.delete(this.#decoded.keys().next().value as string)
    this.#decoded.set(cacheKey, resource)
    return resource
  }

  #validate(doc: unknown): Resource {
    const resource = validateResource(doc)
    const expires = resource.metadata.expires
    if (expires !== undefined && (parseInstant(expires) ?? 0) <= this.#clock.now().getTime()) {
      throw new InvalidResourceError('metadata.expires', `is in the past (${expires})`)
    }
    return resource
  }
}

/** Canonical JSON without the revision (the store owns revisions). */
function serialize(resource: Resource): string {
  const { revision: _revision, ...metadata } = resource.metadata
  return JSON.stringify({ ...resource, metadata })
}

function writeOptions(resource: Resource): WriteOptions {
  const expires = resource.metadata.expires
  return expires === undefined ? {} : { expires: new Date(parseInstant(expires) as number) }
}

function withRevision<R extends Resource>(resource: R, revision: string): R {
  return { ...resource, metadata: { ...resource.metadata, revision } }
}

/**
 * A stored item back to a document. Stored values are input we do not fully control (another
 * version, a manual edit), so they are validated again; a value that fails is reported as a store
 * failure, not as the caller's invalid input.
 */
function decode<K extends ResourceKind>(kind: K, item: StoreItem): ResourceOf<K> {
  let resource: Resource
  try {
    resource = validateResource(JSON.parse(item.value))
  } catch (err) {
    throw new StoreUnavailableError(`the stored ${DISPLAY_NAMES[kind]} cannot be read; see the logs`, {
      cause: err,
      details: { key: item.key },
    })
  }
  if (resource.kind !== kind) {
    throw new StoreUnavailableError(`the stored ${DISPLAY_NAMES[kind]} cannot be read; see the logs`, {
      details: { key: item.key, storedKind: resource.kind },
    })
  }
  return withRevision(resource as ResourceOf<K>, item.revision)
}

function describe(kind: ResourceKind, name: string): string {
  return kind === 'token' ? 'token' : `${DISPLAY_NAMES[kind]} ${JSON.stringify(name)}`
}

function notFound(kind: ResourceKind, name: string): NotFoundError {
  return new NotFoundError(`${describe(kind, name)} not found`)
}

/** Store errors, re-worded to name the resource instead of the key. Others pass through. */
function translate(err: unknown, kind: ResourceKind, name: string): unknown {
  const ctx = { cause: err }
  if (err instanceof NotFoundError) return new NotFoundError(`${describe(kind, name)} not found`, ctx)
  if (err instanceof AlreadyExistsError) {
    return new AlreadyExistsError(`${describe(kind, name)} already exists`, ctx)
  }
  if (err instanceof RevisionMismatchError) {
    return new RevisionMismatchError(
      `${describe(kind, name)} was changed, deleted or expired since it was read; read it again and retry`,
      ctx,
    )
  }
  return err
}
