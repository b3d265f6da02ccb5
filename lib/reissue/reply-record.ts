/**
 * Completed reissue replies kept in a {@link Destination}, so that an `Idempotency-Key` retry
 * that lands on another Lambda container (a cold start, a replaced container) still gets the
 * first reply without issuing again. The in-memory {@link IdempotencyCache} stays in front of it
 * for requests in flight; this record only holds finished replies.
 *
 * One bounded record, the artifact {@link REPLY_RECORD_ARTIFACT}: the newest `maxKeys` keys
 * (default 50) with their body fingerprint, expiry and reply, at most {@link MAX_RECORD_BYTES}
 * (oldest dropped first; Secrets Manager holds 64 KiB per version). Each key is stored as a
 * SHA-256 of caller and key; replies hold output names, serials, version ids and expiries, never
 * key material.
 *
 * One writer at a time: writes in this process are chained, and the deployed reissue function
 * has reserved concurrency 1, so no two containers rewrite the record at once. A write that loses
 * anyway only forgets a key, which costs one extra issuance on a retry.
 *
 * @example
 * const replies = new ReplyRecord({ destination, clock })
 * const found = await replies.find(caller, key, fingerprint) // replay | conflict | undefined
 * await replies.save(caller, key, fingerprint, { status: 200, body })
 */
import { createHash } from 'node:crypto'
import type { Clock } from '../clock.ts'
import type { Destination } from '../ports/destination.ts'
import type { StoredReply } from './idempotency.ts'

/** The artifact holding the record (a Secrets Manager secret's document holds one set). */
export const REPLY_RECORD_ARTIFACT = 'reissue-idempotency.json'

/** Keeps the record well inside Secrets Manager's 64 KiB per version, with the document around it. */
export const MAX_RECORD_BYTES = 48 * 1024

interface Entry {
  /** SHA-256 of caller and key. */
  readonly id: string
  readonly fingerprint: string
  readonly expires_at: string
  readonly reply: StoredReply
}

interface RecordFile {
  readonly format: 'credbroker.reissue-replies.v1'
  /** Oldest first. */
  readonly entries: readonly Entry[]
}

export type PersistedLookup =
  | { readonly kind: 'replay'; readonly reply: StoredReply }
  | { readonly kind: 'conflict' }

export interface ReplyRecordOptions {
  readonly destination: Destination
  readonly clock: Clock
  /** Default 24 h, as the in-memory cache. */
  readonly ttlMs?: number
  /** Default 50. */
  readonly maxKeys?: number
}

export class ReplyRecord {
  readonly #destination: Destination
  readonly #clock: Clock
  readonly #ttlMs: number
  readonly #maxKeys: number
  #writes: Promise<unknown> = Promise.resolve()

  constructor(options: ReplyRecordOptions) {
    this.#destination = options.destination
    this.#clock = options.clock
    this.#ttlMs = options.ttlMs ?? 24 * 3600_000
    this.#maxKeys = options.maxKeys ?? 50
  }

  /**
   * The stored reply for `key` from `caller`: `replay` when the body fingerprint matches,
   * `conflict` when the key was used with another body, `undefined` when unknown or expired.
   * @throws what the destination throws on reading (the caller decides whether to go on).
   */
  async find(caller: string, key: string, fingerprint: string): Promise<PersistedLookup | undefined> {
    const id = entryId(caller, key)
    const now = this.#clock.now().getTime()
    const entry = (await this.#load()).find((e) => e.id === id && Date.parse(e.expires_at) > now)
    if (entry === undefined) return undefined
    return entry.fingerprint === fingerprint ? { kind: 'replay', reply: entry.reply } : { kind: 'conflict' }
  }

  /**
   * Adds (or replaces) the reply of `key`, drops expired entries, keeps the newest `maxKeys`
   * within {@link MAX_RECORD_BYTES}.
   * @throws what the destination throws on reading or writing.
   */
  save(caller: string, key: string, fingerprint: string, reply: StoredReply): Promise<void> {
    const write = this.#writes.then(async () => {
      const id = entryId(caller, key)
      const now = this.#clock.now().getTime()
      const kept = (await this.#load()).filter((e) => e.id !== id && Date.parse(e.expires_at) > now)
      let entries = [
        ...kept,
        { id, fingerprint, expires_at: new Date(now + this.#ttlMs).toISOString(), reply },
      ].slice(-this.#maxKeys)
      let text = encode(entries)
      while (entries.length > 1 && Buffer.byteLength(text, 'utf8') > MAX_RECORD_BYTES) {
        entries = entries.slice(1)
        text = encode(entries)
      }
      // A single reply too big to keep is not kept: the retry then issues again.
      if (Buffer.byteLength(text, 'utf8') > MAX_RECORD_BYTES) return
      await this.#destination.write(new Map([[REPLY_RECORD_ARTIFACT, text]]))
    })
    this.#writes = write.catch(() => undefined)
    return write
  }

  async #load(): Promise<readonly Entry[]> {
    const bytes = await this.#destination.read(REPLY_RECORD_ARTIFACT)
    if (bytes === undefined) return []
    try {
      const file = JSON.parse(Buffer.from(bytes).toString('utf8')) as RecordFile
      return file.format === 'credbroker.reissue-replies.v1' && Array.isArray(file.entries)
        ? file.entries
        : []
    } catch {
      // Unreadable: start afresh (the next save replaces it); replays are an optimisation.
      return []
    }
  }
}

function encode(entries: readonly Entry[]): string {
  const file: RecordFile = { format: 'credbroker.reissue-replies.v1', entries }
  return `${JSON.stringify(file)}\n`
}

function entryId(caller: string, key: string): string {
  return createHash('sha256').update(`${caller}\n${key}`).digest('hex')
}
