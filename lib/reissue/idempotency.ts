/**
 * `Idempotency-Key` memory for `POST /v1/reissue`: the first request with a key runs, and every
 * retry with the same key and the same body (within `ttlMs`) gets the first request's result —
 * even while that request is still running — without issuing again. The same key with another
 * body is a conflict. In memory and bounded (oldest first evicted): a restart or an evicted key
 * forgets, which only costs an extra issuance. A Lambda also keeps finished replies in a
 * `ReplyRecord` (`reply-record.ts`), which survives the container.
 */
import { createHash } from 'node:crypto'
import type { Clock } from '../clock.ts'

/** What a reissue answered: an HTTP status and a JSON body. */
export interface StoredReply {
  readonly status: number
  readonly body: unknown
}

interface Record {
  readonly fingerprint: string
  readonly expiresAt: number
  readonly reply: Promise<StoredReply>
}

export type Lookup =
  | { readonly kind: 'new'; readonly complete: (reply: Promise<StoredReply>) => void }
  | { readonly kind: 'replay'; readonly reply: Promise<StoredReply> }
  | { readonly kind: 'conflict' }

/** SHA-256 of the request body as JSON: what a retry must repeat to be a retry. */
export function fingerprintOf(body: unknown): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex')
}

export class IdempotencyCache {
  readonly #clock: Clock
  readonly #ttlMs: number
  readonly #max: number
  readonly #records = new Map<string, Record>()

  constructor(options: { clock: Clock; ttlMs?: number; maxKeys?: number }) {
    this.#clock = options.clock
    this.#ttlMs = options.ttlMs ?? 24 * 3600_000
    this.#max = options.maxKeys ?? 1000
  }

  /**
   * Looks `key` up for a request whose body is `body` (from `caller`: keys are per caller).
   * `new`: the caller must run and hand its reply to `complete` at once (before awaiting), so
   * concurrent retries share it. A failed reply (rejected promise) is forgotten.
   */
  lookup(caller: string, key: string, body: unknown): Lookup {
    const now = this.#clock.now().getTime()
    const id = `${caller}\n${key}`
    const fingerprint = fingerprintOf(body)
    const found = this.#records.get(id)
    if (found && found.expiresAt > now) {
      return found.fingerprint === fingerprint ? { kind: 'replay', reply: found.reply } : { kind: 'conflict' }
    }
    this.#records.delete(id)
    return {
      kind: 'new',
      complete: (reply) => {
        this.#records.set(id, { fingerprint, expiresAt: now + this.#ttlMs, reply })
        reply.catch(() => this.#records.get(id)?.reply === reply && this.#records.delete(id))
        while (this.#records.size > this.#max) {
          const oldest = this.#records.keys().next().value
          if (oldest === undefined) break
          this.#records.delete(oldest)
        }
      },
    }
  }
}
