/**
 * The loaded CAs of one auth process, kept current while CAs rotate.
 *
 * Every auth process (a CLI-run service, each Lambda container) loads the CAs at start and then
 * re-reads their records at most every `refreshMs` (default 10 s): a record whose revision
 * changed is loaded again (new signers, new trust bundles); the others keep their signers. A
 * refresh also takes the steps of automatic rotations that are due. Readers see one consistent
 * {@link CertAuthorities} snapshot per read of {@link current}.
 *
 * A refresh that fails (the store is down) keeps the CAs already loaded and logs a warning: a
 * request that does not depend on a rotation step taken in the last seconds still succeeds. After
 * `maxStaleMs` (default 5 minutes) without a complete re-read, requests are refused instead
 * (`ERR_STORE_UNAVAILABLE`): the loaded CAs may trust a key retired meanwhile.
 */
import { StoreUnavailableError } from '../errors.ts'
import {
  CA_TYPES,
  type CaType,
  type CertAuthorities,
  type LoadedCa,
  loadChecked,
  loadOrCreateRevisions,
  readCaRecord,
} from './authorities.ts'
import { type RotationDeps, stepDueRotations } from './rotation.ts'

export const DEFAULT_CA_REFRESH_MS = 10_000
/** How long a process keeps serving CAs it could not re-read before refusing requests. */
export const DEFAULT_CA_MAX_STALE_MS = 5 * 60_000

export interface AuthorityCacheDeps extends RotationDeps {
  /** How stale the loaded CAs may be; default {@link DEFAULT_CA_REFRESH_MS}. */
  readonly refreshMs?: number
  /**
   * After this long without a complete re-read, {@link AuthorityCache.refresh} throws instead of
   * letting requests trust CAs that may have been retired meanwhile; default
   * {@link DEFAULT_CA_MAX_STALE_MS}.
   */
  readonly maxStaleMs?: number
}

export class AuthorityCache {
  readonly #deps: AuthorityCacheDeps
  readonly #refreshMs: number
  readonly #maxStaleMs: number
  #current: CertAuthorities
  #revisions: Map<CaType, string>
  /** When the last refresh was attempted. */
  #checkedAt: number
  /** When every CA record was last read and loaded. */
  #freshAt: number
  #refreshing: Promise<void> | undefined

  private constructor(
    deps: AuthorityCacheDeps,
    cas: CertAuthorities,
    revisions: ReadonlyMap<CaType, string>,
  ) {
    this.#deps = deps
    this.#refreshMs = deps.refreshMs ?? DEFAULT_CA_REFRESH_MS
    this.#maxStaleMs = deps.maxStaleMs ?? DEFAULT_CA_MAX_STALE_MS
    this.#current = cas
    this.#revisions = new Map(revisions)
    this.#checkedAt = deps.clock.now().getTime()
    this.#freshAt = this.#checkedAt
  }

  /** Loads every CA (creating the missing ones). */
  static async open(deps: AuthorityCacheDeps): Promise<AuthorityCache> {
    const { cas, revisions } = await loadOrCreateRevisions(deps)
    return new AuthorityCache(deps, cas, revisions)
  }

  /** The CAs as last loaded. */
  get current(): CertAuthorities {
    return this.#current
  }

  /**
   * Re-reads the CA records when the last read is older than the refresh interval (always with
   * `force`), taking due automatic rotation steps first. Concurrent calls share one refresh. A
   * record that cannot be read or loaded leaves that CA as it was and the others are refreshed.
   * @throws StoreUnavailableError when the CAs could not all be re-read for longer than the
   *   maximum staleness: a request must not trust a key that may have been retired meanwhile.
   */
  async refresh(options: { force?: boolean } = {}): Promise<void> {
    const now = this.#deps.clock.now().getTime()
    if (options.force || now - this.#checkedAt >= this.#refreshMs)
      await this.#refreshOnce(options.force === true)
    this.#assertFresh()
  }

  async #refreshOnce(force: boolean): Promise<void> {
    if (this.#refreshing) {
      await this.#refreshing
      // A forced refresh must read after the caller's own write: the one in flight may not have.
      if (!force) return
      const started = this.#refreshing as Promise<void> | undefined
      if (started) return started
    }
    this.#refreshing = this.#reload().finally(() => {
      // Also after a failure: a store that is down is asked again after the interval, not per request.
      this.#checkedAt = this.#deps.clock.now().getTime()
      this.#refreshing = undefined
    })
    return this.#refreshing
  }

  #assertFresh(): void {
    const staleMs = this.#deps.clock.now().getTime() - this.#freshAt
    if (staleMs <= this.#maxStaleMs) return
    throw new StoreUnavailableError(
      `the certificate authorities could not be re-read for ${Math.round(staleMs / 1000)} s; ` +
        'refusing to trust CA keys that may have been retired meanwhile',
    )
  }

  /** Never throws: failures are logged, and leave {@link #freshAt} behind. */
  async #reload(): Promise<void> {
    try {
      await stepDueRotations(this.#deps)
    } catch (err) {
      this.#warn('could not take a due automatic CA rotation step', err)
    }
    const next: Record<string, LoadedCa> = { ...this.#current }
    const revisions = new Map(this.#revisions)
    let changed = false
    let complete = true
    await Promise.all(
      CA_TYPES.map(async (type) => {
        try {
          const stored = await readCaRecord(this.#deps.store, type)
          if (!stored || stored.revision === revisions.get(type)) return
          next[type] = await loadChecked(this.#deps.keys, stored.record)
          revisions.set(type, stored.revision)
          changed = true
        } catch (err) {
          complete = false
          this.#warn(`could not refresh the ${type} CA; keeping the loaded one`, err)
        }
      }),
    )
    if (complete) this.#freshAt = this.#deps.clock.now().getTime()
    if (!changed) return
    this.#current = Object.freeze(next as Record<CaType, LoadedCa>)
    this.#revisions = revisions
    this.#deps.log.info('certificate authorities reloaded', {
      phases: CA_TYPES.map((t) => `${t}=${this.#current[t].rotation.phase}`).join(','),
    })
  }

  #warn(message: string, err: unknown): void {
    this.#deps.log.warn(message, { error: err instanceof Error ? err.message : String(err) })
  }
}
