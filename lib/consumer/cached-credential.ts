/**
 * For applications: a credential kept in memory and fetched again shortly before it expires.
 *
 * @example
 * ```ts
 * const cred = createCachedCredential({ secretId: 'credbroker/ci', clientConfig: { region: 'eu-west-1' } })
 * const { artifacts } = await cred.get() // fetched once, then served from memory until 5 min before not_after
 * ```
 *
 * A cached credential is served until `notAfter - refreshBeforeMs`; after that `get()` fetches
 * (one fetch however many callers wait). If that fetch fails, a cached credential that has not yet
 * expired is served instead; an expired one never is: then the error is thrown. A credential
 * without a known expiry is kept for `refreshBeforeMs`.
 */
import type { SecretsManagerApi, SecretsManagerClientConfig } from '../adapters/secrets-manager/client.ts'
import { type Clock, systemClock } from '../clock.ts'
import { assertNotExpired, type Credential, type FetchCredentialOptions, fetchCredential } from './fetch.ts'

export const DEFAULT_REFRESH_BEFORE_MS = 5 * 60_000

export interface CachedCredentialOptions {
  secretId: string
  /** Refetch this long before `notAfter` (default 5 minutes). */
  refreshBeforeMs?: number
  clock?: Clock
  client?: SecretsManagerApi
  clientConfig?: SecretsManagerClientConfig
  /** The fetch to use (tests); defaults to {@link fetchCredential}. */
  fetch?: (options: FetchCredentialOptions) => Promise<Credential>
}

export interface CachedCredential {
  /** A credential that has not expired; fetches when the cached one is due for renewal. */
  get(): Promise<Credential>
}

export function createCachedCredential(options: CachedCredentialOptions): CachedCredential {
  const refreshBeforeMs = options.refreshBeforeMs ?? DEFAULT_REFRESH_BEFORE_MS
  if (!Number.isFinite(refreshBeforeMs) || refreshBeforeMs < 0) {
    throw new TypeError(`refreshBeforeMs must be a non-negative number, got ${refreshBeforeMs}`)
  }
  if (typeof options.secretId !== 'string' || options.secretId === '') {
    throw new TypeError('createCachedCredential needs a secretId')
  }
  const clock = options.clock ?? systemClock
  const fetch = options.fetch ?? fetchCredential
  const fetchOptions: FetchCredentialOptions = {
    secretId: options.secretId,
    clock,
    ...(options.client === undefined ? {} : { client: options.client }),
    ...(options.clientConfig === undefined ? {} : { clientConfig: options.clientConfig }),
  }
  let cached: { credential: Credential; refreshAt: number } | undefined
  let inFlight: Promise<Credential> | undefined

  const valid = (c: Credential, now: number) => c.notAfter === undefined || now < c.notAfter.getTime()

  const refresh = (): Promise<Credential> => {
    inFlight ??= (async () => {
      try {
        const credential = await fetch(fetchOptions)
        const now = clock.now()
        // A custom fetch may not check expiry: never hand out an expired credential.
        assertNotExpired(credential, options.secretId, now)
        const refreshAt =
          credential.notAfter === undefined
            ? now.getTime() + refreshBeforeMs
            : credential.notAfter.getTime() - refreshBeforeMs
        cached = { credential, refreshAt }
        return credential
      } finally {
        inFlight = undefined
      }
    })()
    return inFlight
  }

  return {
    async get() {
      const now = clock.now().getTime()
      if (cached !== undefined && now < cached.refreshAt && valid(cached.credential, now)) {
        return cached.credential
      }
      try {
        return await refresh()
      } catch (err) {
        const stale = cached?.credential
        if (stale !== undefined && valid(stale, clock.now().getTime())) return stale
        throw err
      }
    },
  }
}
