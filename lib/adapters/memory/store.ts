/**
 * In-memory {@link Store}: first-class, not a mock. It honours expiry with the injected clock,
 * conditional writes, revisions and ordering, because it passes the same conformance suite as the
 * durable adapters. Unit tests and HTTP tests build on it.
 */
import { type Clock, systemClock } from '../../clock.ts'
import type {
  DeleteOptions,
  ListOptions,
  ListPage,
  Store,
  StoreItem,
  WriteOptions,
  WriteResult,
} from '../../ports/store.ts'
import { cryptoRandom, type Random } from '../../random.ts'
import {
  checkKey,
  checkPrefix,
  checkValue,
  encodeCursor,
  expiryOf,
  isExpired,
  parseListOptions,
  storeErrors,
} from '../store-contract.ts'

interface Entry {
  value: string
  revision: string
  expiresMs: number | undefined
}

export interface MemoryStoreOptions {
  clock?: Clock
  random?: Random
}

export class MemoryStore implements Store {
  readonly #entries = new Map<string, Entry>()
  /** Every key in #entries, ascending, so list() is a binary search plus a page-sized walk. */
  readonly #sorted: string[] = []
  readonly #clock: Clock
  readonly #random: Random
  #closed = false

  constructor(options: MemoryStoreOptions = {}) {
    this.#clock = options.clock ?? systemClock
    this.#random = options.random ?? cryptoRandom
  }

  async get(key: string): Promise<StoreItem | undefined> {
    this.#open()
    checkKey(key)
    const entry = this.#live(key)
    return entry && toItem(key, entry)
  }

  async create(key: string, value: string, options?: WriteOptions): Promise<WriteResult> {
    this.#open()
    checkKey(key)
    checkValue(value)
    const expiresMs = expiryOf(options)
    if (this.#live(key)) throw storeErrors.alreadyExists(key)
    return this.#write(key, value, expiresMs)
  }

  async put(key: string, value: string, options?: WriteOptions): Promise<WriteResult> {
    this.#open()
    checkKey(key)
    checkValue(value)
    return this.#write(key, value, expiryOf(options))
  }

  async compareAndSwap(
    key: string,
    expectedRevision: string,
    value: string,
    options?: WriteOptions,
  ): Promise<WriteResult> {
    this.#open()
    checkKey(key)
    checkValue(value)
    const expiresMs = expiryOf(options)
    if (this.#live(key)?.revision !== expectedRevision) throw storeErrors.revisionMismatch(key)
    return this.#write(key, value, expiresMs)
  }

  async delete(key: string, options?: DeleteOptions): Promise<void> {
    this.#open()
    checkKey(key)
    const entry = this.#live(key)
    if (options?.revision !== undefined) {
      if (entry?.revision !== options.revision) throw storeErrors.revisionMismatch(key)
    } else if (!entry) {
      throw storeErrors.notFound(key)
    }
    this.#remove(key)
  }

  async list(prefix: string, options?: ListOptions): Promise<ListPage> {
    this.#open()
    checkPrefix(prefix)
    const { limit, after } = parseListOptions(prefix, options)
    const nowMs = this.#clock.now().getTime()
    const keys = this.#sorted
    let index = after === undefined ? lowerBound(keys, prefix) : upperBound(keys, after)
    const items: StoreItem[] = []
    for (; index < keys.length && items.length < limit; index++) {
      const key = keys[index] as string
      if (!key.startsWith(prefix)) break
      const entry = this.#entries.get(key) as Entry
      if (!isExpired(entry.expiresMs, nowMs)) items.push(toItem(key, entry))
    }
    const more = index < keys.length && (keys[index] as string).startsWith(prefix)
    const last = items.at(-1)
    return more && last ? { items, nextCursor: encodeCursor(last.key) } : { items }
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#entries.clear()
    this.#sorted.length = 0
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key)
    if (!entry) return undefined
    if (isExpired(entry.expiresMs, this.#clock.now().getTime())) {
      this.#remove(key) // lazy sweep; invisible either way
      return undefined
    }
    return entry
  }

  #write(key: string, value: string, expiresMs: number | undefined): WriteResult {
    const revision = this.#random.uuid()
    if (!this.#entries.has(key)) this.#sorted.splice(lowerBound(this.#sorted, key), 0, key)
    this.#entries.set(key, { value, revision, expiresMs })
    return { revision }
  }

  #remove(key: string): void {
    if (!this.#entries.delete(key)) return
    const at = lowerBound(this.#sorted, key)
    if (this.#sorted[at] === key) this.#sorted.splice(at, 1)
  }

  #open(): void {
    if (this.#closed) throw new TypeError('MemoryStore is closed')
  }
}

/** Index of the first key >= `target`. */
function lowerBound(keys: readonly string[], target: string): number {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((keys[mid] as string) < target) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Index of the first key > `target`. */
function upperBound(keys: readonly string[], target: string): number {
  const at = lowerBound(keys, target)
  return keys[at] === target ? at + 1 : at
}

function toItem(key: string, entry: Entry): StoreItem {
  return entry.expiresMs === undefined
    ? { key, value: entry.value, revision: entry.revision }
    : { key, value: entry.value, revision: entry.revision, expires: new Date(entry.expiresMs) }
}
