/**
 * A bot's internal storage guarded by a lease (`lease-record.ts`), so that two bot processes
 * configured with the same storage do not both renew one identity, which the auth service would
 * take for theft and lock (the troubleshooting guide's first scenario).
 *
 * {@link LeasedStorage} wraps the storage {@link Destination}. Every write through it carries the
 * current lease, extended, in the same atomic set: the identity and renewal writes of
 * `renewal-storage.ts` replace the whole set, and would otherwise drop the lease. Reads hide the
 * lease artifact, so nothing else can copy a stale lease back.
 *
 * Lifecycle: {@link LeasedStorage.acquire} before the first cycle (refused with
 * {@link StorageInUseError} while another process holds a live lease);
 * {@link LeasedStorage.confirm} before each daemon cycle (a read: still ours?);
 * {@link LeasedStorage.extendIfDue} after each daemon cycle (a lease-only write, only when the
 * cycle wrote nothing for a while); {@link LeasedStorage.release} on a clean stop.
 *
 * ## Two processes starting at once
 * The port has no compare-and-swap: taking the lease is read, check, write the set with our
 * lease, then (after `settleMs`) read it back and go on only if it is still ours. Of two
 * processes that both read "free", each writes; whichever wrote last finds its own lease and goes
 * on, the other finds the winner's and refuses. This is Fischer's timed mutual exclusion: it fails
 * only when one process's read-to-write gap exceeds `settleMs` (its write landed after the other
 * had already read back). With the directory adapter that gap is one local write (milliseconds,
 * writers are serialised by its lock); with Secrets Manager it is two API calls, and the read-back
 * also relies on `GetSecretValue` returning the version just put. In that window both processes
 * run; the first cycle of each re-reads the lease, and the one that lost stops at its next cycle,
 * possibly after one renewal of the same generation, which the server answers with a lock.
 *
 * A lease that lapsed while its holder was alive but stalled (a suspended laptop) can be taken by
 * a second process; the stalled one finds the other's lease at its next cycle and stops. If the
 * second took it between the first's read and write of a renewal, one of those writes is lost.
 * Both need two bots on one storage, the misconfiguration this guards against.
 */
import { hostname } from 'node:os'
import { setTimeout as delay } from 'node:timers/promises'
import type { Clock } from '../clock.ts'
import type { Logger } from '../log.ts'
import {
  type ArtifactContent,
  assertArtifactName,
  type Destination,
  type WriteMeta,
  type WriteResult,
} from '../ports/destination.ts'
import { cryptoRandom, type Random, randomHex } from '../random.ts'
import { StorageInUseError } from './lease-error.ts'
import {
  encodeLease,
  LEASE_ARTIFACT,
  type LeaseMode,
  type LeaseRecord,
  type LeaseStanding,
  leaseTiming,
  standingOf,
} from './lease-record.ts'

/** What the bot's run loop needs of a lease. */
export interface StorageLease {
  /**
   * Takes the lease: free, lapsed (expired or released) or unreadable leases are taken.
   * @throws StorageInUseError when another process holds it, or won a race to take it.
   */
  acquire(): Promise<void>
  /**
   * Checks the lease is still ours (one read); takes it again if it lapsed and nobody holds it.
   * @throws StorageInUseError when another process holds it now; TypeError when not acquired.
   */
  confirm(): Promise<void>
  /**
   * Writes the lease alone when the storage was last written more than `refreshAfterMs` ago.
   * @throws StorageInUseError when another process holds it now; TypeError when not acquired.
   */
  extendIfDue(): Promise<void>
  /** Marks the lease released (expired now) if it is still ours; a no-op when not held. */
  release(): Promise<void>
}

export interface LeasedStorageOptions {
  readonly mode: LeaseMode
  /** The bot's renewal interval: a daemon's lease lasts two (see `leaseTiming`). */
  readonly renewalIntervalMs: number
  readonly clock: Clock
  readonly log: Logger
  /** Makes the holder id; default: the operating system's CSPRNG. */
  readonly random?: Random
  /** Default `os.hostname()`. */
  readonly host?: string
  /** Default `process.pid`. */
  readonly pid?: number
  /** Wait between writing the lease and reading it back; default {@link DEFAULT_SETTLE_MS}. */
  readonly settleMs?: number
  /** Waits `ms`; injected so tests need no real time. Default: a timer. */
  readonly sleep?: (ms: number) => Promise<void>
  /** Whether a process of this host is alive; default `process.kill(pid, 0)`. */
  readonly isProcessAlive?: (pid: number) => boolean
}

/** See "Two processes starting at once". */
export const DEFAULT_SETTLE_MS = 1000

export class LeasedStorage implements Destination, StorageLease {
  readonly #inner: Destination
  readonly #holder: string
  readonly #host: string
  readonly #pid: number
  readonly #mode: LeaseMode
  readonly #ttlMs: number
  readonly #refreshAfterMs: number
  readonly #clock: Clock
  readonly #log: Logger
  readonly #settleMs: number
  readonly #sleep: (ms: number) => Promise<void>
  readonly #isProcessAlive: (pid: number) => boolean
  /** The lease as last written by us; `undefined` while not held. */
  #record: LeaseRecord | undefined
  #writtenAtMs = 0

  constructor(inner: Destination, options: LeasedStorageOptions) {
    const timing = leaseTiming(options.mode, options.renewalIntervalMs)
    this.#inner = inner
    this.#holder = randomHex(options.random ?? cryptoRandom, 16)
    this.#host = options.host ?? hostname()
    this.#pid = options.pid ?? process.pid
    this.#mode = options.mode
    this.#ttlMs = timing.ttlMs
    this.#refreshAfterMs = timing.refreshAfterMs
    this.#clock = options.clock
    this.#log = options.log
    this.#settleMs = options.settleMs ?? DEFAULT_SETTLE_MS
    this.#sleep = options.sleep ?? ((ms) => delay(ms))
    this.#isProcessAlive = options.isProcessAlive ?? processAlive
  }

  /** The lease this process holds, as last written; `undefined` while not held. */
  get lease(): LeaseRecord | undefined {
    return this.#record
  }

  async acquire(): Promise<void> {
    if (this.#record) throw new TypeError('the storage lease is already held by this process')
    await this.#take()
  }

  async confirm(): Promise<void> {
    this.#held('confirm')
    const found = standingOf(await this.#inner.read(LEASE_ARTIFACT), this.#holder, this.#clock.now())
    if (found.kind === 'ours') return
    this.#lost(found)
    this.#log.warn('the lease on the bot storage lapsed; taking it again', { storage: this.describe() })
    await this.#take()
  }

  async extendIfDue(): Promise<void> {
    const record = this.#held('extendIfDue')
    const now = this.#clock.now()
    if (now.getTime() - this.#writtenAtMs < this.#refreshAfterMs) return
    const set = await this.#inner.readAll()
    const found = standingOf(set.get(LEASE_ARTIFACT), this.#holder, now)
    if (found.kind !== 'ours') {
      this.#lost(found)
      return this.#take()
    }
    await this.#writeSet(set, this.#extended(record, now), now)
    this.#log.debug('extended the lease on the bot storage', { expires: this.#record?.expires_at })
  }

  async release(): Promise<void> {
    const record = this.#record
    if (!record) return
    this.#record = undefined
    const now = this.#clock.now()
    const set = await this.#inner.readAll()
    const found = standingOf(set.get(LEASE_ARTIFACT), this.#holder, now)
    if (found.kind !== 'ours') {
      this.#log.warn('not releasing the lease on the bot storage: it is no longer ours', {
        storage: this.describe(),
      })
      return
    }
    const at = now.toISOString()
    set.set(LEASE_ARTIFACT, bytesOf({ ...record, expires_at: at, released_at: at }))
    await this.#inner.write(set)
    this.#log.info('released the lease on the bot storage', { storage: this.describe() })
  }

  /**
   * Writes `artifacts` plus the lease, extended, as one set.
   * @throws TypeError as the port says, when `artifacts` names the lease artifact, or when the
   *   lease is not held (writing without it would drop it from the storage).
   */
  async write(artifacts: ReadonlyMap<string, ArtifactContent>, meta?: WriteMeta): Promise<WriteResult> {
    if (!(artifacts instanceof Map) || artifacts.size === 0) {
      throw new TypeError('a write needs a non-empty Map of artifacts')
    }
    if (artifacts.has(LEASE_ARTIFACT))
      throw new TypeError(`${LEASE_ARTIFACT} is reserved for the storage lease`)
    const record = this.#held('write')
    const now = this.#clock.now()
    const next = this.#extended(record, now)
    const written = await this.#inner.write(
      new Map([...artifacts, [LEASE_ARTIFACT, encodeLease(next)]]),
      meta,
    )
    this.#record = next
    this.#writtenAtMs = now.getTime()
    return written
  }

  /** The storage's artifacts; the lease is never one of them. */
  async read(name: string): Promise<Uint8Array | undefined> {
    assertArtifactName(name)
    return name === LEASE_ARTIFACT ? undefined : this.#inner.read(name)
  }

  async readAll(): Promise<Map<string, Uint8Array>> {
    const set = await this.#inner.readAll()
    set.delete(LEASE_ARTIFACT)
    return set
  }

  describe(): string {
    return this.#inner.describe()
  }

  /** Read, check, write, settle, read back (see the module comment). */
  async #take(): Promise<void> {
    const now = this.#clock.now()
    const set = await this.#inner.readAll()
    const found = standingOf(set.get(LEASE_ARTIFACT), this.#holder, now)
    if (found.kind === 'held' && !this.#holderGone(found.record)) {
      throw new StorageInUseError(this.describe(), found.record)
    }
    this.#noteTakeover(found)
    const record: LeaseRecord = {
      holder: this.#holder,
      host: this.#host,
      pid: this.#pid,
      mode: this.#mode,
      acquired_at: now.toISOString(),
      expires_at: new Date(now.getTime() + this.#ttlMs).toISOString(),
    }
    await this.#writeSet(set, record, now)
    this.#record = undefined // held only once read back
    await this.#sleep(this.#settleMs)
    const back = standingOf(await this.#inner.read(LEASE_ARTIFACT), this.#holder, this.#clock.now())
    if (back.kind !== 'ours') {
      throw new StorageInUseError(this.describe(), 'record' in back ? back.record : undefined)
    }
    this.#record = back.record
    this.#log.info('holding the lease on the bot storage', {
      storage: this.describe(),
      mode: this.#mode,
      expires: back.record.expires_at,
    })
  }

  async #writeSet(set: Map<string, Uint8Array>, record: LeaseRecord, now: Date): Promise<void> {
    set.set(LEASE_ARTIFACT, bytesOf(record))
    await this.#inner.write(set)
    this.#record = record
    this.#writtenAtMs = now.getTime()
  }

  #extended(record: LeaseRecord, now: Date): LeaseRecord {
    return { ...record, expires_at: new Date(now.getTime() + this.#ttlMs).toISOString() }
  }

  #held(operation: string): LeaseRecord {
    if (!this.#record) {
      throw new TypeError(`${operation} on a leased storage whose lease is not held; call acquire() first`)
    }
    return this.#record
  }

  /** Drops our claim; throws when another process holds the lease now. */
  #lost(found: LeaseStanding): void {
    this.#record = undefined
    if (found.kind === 'held') throw new StorageInUseError(this.describe(), found.record)
  }

  /**
   * A live lease whose holder was a process of this very host that no longer exists: a bot
   * killed mid-cycle (SIGKILL, out of memory) and restarted by its supervisor. It may take over
   * at once — it must, to finish a pending renewal before the identity expires. A holder on
   * another host, or a process still alive here, keeps the lease until it expires. (Hosts are
   * told apart by name: machines that share a storage must not share a host name.)
   */
  #holderGone(record: LeaseRecord): boolean {
    return record.host === this.#host && record.pid !== this.#pid && !this.#isProcessAlive(record.pid)
  }

  #noteTakeover(found: LeaseStanding): void {
    if (found.kind === 'held') {
      this.#log.warn('taking over the lease of a bot process on this host that is gone', {
        storage: this.describe(),
        pid: found.record.pid,
        since: found.record.acquired_at,
      })
      return
    }
    if (found.kind === 'unreadable') {
      this.#log.warn('the lease on the bot storage is unreadable; taking it', { storage: this.describe() })
    } else if (found.kind === 'lapsed' && found.record.released_at === undefined) {
      this.#log.warn('taking over a lease on the bot storage that expired without being released', {
        storage: this.describe(),
        host: found.record.host,
        pid: found.record.pid,
        since: found.record.acquired_at,
        expired: found.record.expires_at,
      })
    }
  }
}

const bytesOf = (record: LeaseRecord) => new TextEncoder().encode(encodeLease(record))

/** `kill(pid, 0)`: ESRCH means no such process; EPERM means one exists under another user. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}
