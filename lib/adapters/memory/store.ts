/**
 * In-memory {@link Store}: first-class, not a mock. It honours expiry with the injected clock,
 * conditional writes, revisions and ordering, because it passes the same conformance suite as the
 * durable adapters. Unit tests and HTTP tests build on it.
 */
import { type Clock, systemClock } from '../../clock.ts'
import { AlreadyExistsError, NotFoundError, RevisionMismatchError } from '../../errors.ts'
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
    if (this.#live(key)) throw new AlreadyExistsError(`an item with key "${key}" already exists`)
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
    if (this.#live(key)?.revision !== expectedRevision) throw revisionMismatch(key)
    return this.#write(key, value, expiresMs)
  }

  async delete(key: string, options?: DeleteOptions): Promise<void> {
    this.#open()
    checkKey(key)
    const entry = this.#live(key)
    if (options?.revision !== undefined) {
      if (entry?.revision !== options.revision) throw revisionMismatch(key)
    } else if (!entry) {
      throw new NotFoundError(`no item with key "${key}"`)
    }
    this.#entries.delete(key)
  }

  async list(prefix: string, options?: ListOptions): Promise<ListPage> {
    this.#open()
    checkPrefix(prefix)
    const { limit, after } = parseListOptions(prefix, options)
    const nowMs = this.#clock.now().getTime()
    const keys = [...this.#entries.keys()]
      .filter((k) => k.startsWith(prefix) && (after === undefined || k > after))
      .sort()
    const items: StoreItem[] = []
    let index = 0
    for (; index < keys.length && items.length < limit; index++) {
      const key = keys[index] as string
      const entry = this.#entries.get(key) as Entry
      if (!isExpired(entry.expiresMs, nowMs)) items.push(toItem(key, entry))
    }
    const last = items.at(-1)
    return index < keys.length && last ? { items, nextCursor: encodeCursor(last.key) } : { items }
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#entries.clear()
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key)
    if (!entry) return undefined
    if (isExpired(entry.expiresMs, this.#clock.now().getTime())) {
      this.#entries.delete(key) // lazy sweep; invisible either way
      return undefined
    }
    return entry
  }

  #write(key: string, value: string, expiresMs: number | undefined): WriteResult {
    const revision = this.#random.uuid()
    this.#entries.set(key, { value, revision, expiresMs })
    return { revision }
  }

  #open(): void {
    if (this.#closed) throw new TypeError('MemoryStore is closed')
  }
}

function toItem(key: string, entry: Entry): StoreItem {
  return entry.expiresMs === undefined
    ? { key, value: entry.value, revision: entry.revision }
    : { key, value: entry.value, revision: entry.revision, expires: new Date(entry.expiresMs) }
}

function revisionMismatch(key: string): RevisionMismatchError {
  return new RevisionMismatchError(`item "${key}" is absent or at another revision`)
}
