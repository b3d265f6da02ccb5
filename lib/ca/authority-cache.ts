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
 * request that does not depend on a rotation step taken in the last seconds still succeeds.
 */
import type { Logger } from '../log.ts'
import {
  type AuthoritiesDeps,
  CA_TYPES,
  type CaType,
  type CertAuthorities,
  type LoadedCa,
  loadChecked,
  loadOrCreateRevisions,
  readCaRecord,
} from './authorities.ts'
import { stepDueRotations } from './rotation.ts'

export const DEFAULT_CA_REFRESH_MS = 10_000

export interface AuthorityCacheDeps extends AuthoritiesDeps {
  readonly log: Logger
  /** How stale the loaded CAs may be; default {@link DEFAULT_CA_REFRESH_MS}. */
  readonly refreshMs?: number
}

export class AuthorityCache {
  readonly #deps: AuthorityCacheDeps
  readonly #refreshMs: number
  #current: CertAuthorities
  #revisions: Map<CaType, string>
  #checkedAt: number
  #refreshing: Promise<void> | undefined

  private constructor(
    deps: AuthorityCacheDeps,
    cas: CertAuthorities,
    revisions: ReadonlyMap<CaType, string>,
  ) {
    this.#deps = deps
    this.#refreshMs = deps.refreshMs ?? DEFAULT_CA_REFRESH_MS
    this.#current = cas
    this.#revisions = new Map(revisions)
    this.#checkedAt = deps.clock.now().getTime()
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
   * `force`), taking due automatic rotation steps first. Concurrent calls share one refresh.
   */
  async refresh(options: { force?: boolean } = {}): Promise<void> {
    const now = this.#deps.clock.now().getTime()
    if (!options.force && now - this.#checkedAt < this.#refreshMs) return
    if (this.#refreshing) {
      await this.#refreshing
      // A forced refresh must read after the caller's own write: the one in flight may not have.
      if (!options.force) return
      const started = this.#refreshing as Promise<void> | undefined
      if (started) return started
    }
    this.#refreshing = this.#reload()
      .catch((err: unknown) => {
        this.#deps.log.warn('could not refresh the certificate authorities; keeping the loaded ones', {
          error: err instanceof Error ? err.message : String(err),
        })
      })
      .finally(() => {
        // Also after a failure: a store that is down is asked again after the interval, not per request.
        this.#checkedAt = this.#deps.clock.now().getTime()
        this.#refreshing = undefined
      })
    return this.#refreshing
  }

  async #reload(): Promise<void> {
    await stepDueRotations(this.#deps)
    const stored = await Promise.all(CA_TYPES.map((type) => readCaRecord(this.#deps.store, type)))
    const next: Record<string, LoadedCa> = { ...this.#current }
    const revisions = new Map(this.#revisions)
    let changed = false
    for (const [i, type] of CA_TYPES.entries()) {
      const s = stored[i]
      if (!s || s.revision === revisions.get(type)) continue
      next[type] = await loadChecked(this.#deps.keys, s.record)
      revisions.set(type, s.revision)
      changed = true
    }
    if (!changed) return
    this.#current = Object.freeze(next as Record<CaType, LoadedCa>)
    this.#revisions = revisions
    this.#deps.log.info('certificate authorities reloaded', {
      phases: CA_TYPES.map((t) => `${t}=${this.#current[t].rotation.phase}`).join(','),
    })
  }
}
