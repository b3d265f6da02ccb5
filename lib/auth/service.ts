/**
 * Composition of the auth service from its ports: loads (or creates) the CAs, makes sure the
 * admin role exists, and builds the HTTP app with proof-of-possession authentication.
 */

import type { LoadedCa } from '../ca/authorities.ts'
import { AuthorityCache } from '../ca/authority-cache.ts'
import type { Clock } from '../clock.ts'
import { type Authenticate, createAuthApp } from '../http/auth-app.ts'
import { decodeIdentity } from '../identity/x509-encoding.ts'
import type { Logger } from '../log.ts'
import type { EventSink } from '../ports/event-sink.ts'
import type { KeyStore } from '../ports/key-store.ts'
import type { Store } from '../ports/store.ts'
import type { Random } from '../random.ts'
import { ResourceService } from '../services/resource-service.ts'
import { ensureAdminRole } from './admin.ts'
import { type AuthDeps, type AuthLimits, DEFAULT_LIMITS, type IamJoinOptions } from './deps.ts'
import { type TrustedCa, verifyPop } from './pop/verify.ts'

export interface AuthServiceOptions {
  readonly clusterName: string
  readonly publicAddr: string
  readonly store: Store
  readonly keys: KeyStore
  readonly clock: Clock
  readonly random: Random
  readonly log: Logger
  readonly limits?: Partial<AuthLimits>
  readonly iam?: IamJoinOptions
  /** How stale the loaded CAs may get while they rotate (`authority-cache.ts`); default 10 s. */
  readonly caRefreshMs?: number
  /** Where reissue-triggering audit events are published (`AuthDeps.events`). */
  readonly events?: EventSink
}

export interface AuthService {
  readonly deps: AuthDeps
  readonly app: ReturnType<typeof createAuthApp>
}

export async function createAuthService(options: AuthServiceOptions): Promise<AuthService> {
  const { store, clock, random, log } = options
  const resources = new ResourceService({ store, clock })
  const authorities = await AuthorityCache.open({
    store,
    keys: options.keys,
    clusterName: options.clusterName,
    clock,
    random,
    log,
    // Automatic rotation steps are audited and published like manual ones.
    ...(options.events && { events: options.events }),
    ...(options.caRefreshMs !== undefined && { refreshMs: options.caRefreshMs }),
  })
  await ensureAdminRole({ resources })
  const deps: AuthDeps = {
    clusterName: options.clusterName,
    publicAddr: options.publicAddr,
    store,
    resources,
    // A getter: every read sees the CAs as last refreshed, including after a rotation step.
    get cas() {
      return authorities.current
    },
    authorities,
    keys: options.keys,
    clock,
    random,
    log,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    ...(options.iam && { iam: options.iam }),
    ...(options.events && { events: options.events }),
  }
  // A spread copies `cas` as a value: define the getter again on the copy. (A spread of the
  // copy, inside a request, takes a snapshot of the CAs, which is what that request should use.)
  const appDeps = Object.defineProperty({ ...deps, authenticate: popAuthenticator(deps) }, 'cas', {
    get: () => authorities.current,
    enumerable: true,
  })
  return { deps, app: createAuthApp(appDeps) }
}

/**
 * Authenticates requests by proof of possession of a key certified by the user CA: by any of its
 * trusted keys, so certificates from both keys of a rotation in progress are accepted.
 */
export function popAuthenticator(deps: Pick<AuthDeps, 'cas' | 'store' | 'clock'>): Authenticate {
  // One array per loaded user CA: the verifier memoises its parsed trust set per array.
  const trustSets = new WeakMap<LoadedCa, readonly TrustedCa[]>()
  const trustedCas = () => {
    const user = deps.cas.user
    let trusted = trustSets.get(user)
    if (!trusted) {
      trusted = user.trustedTlsCerts.map((cert) => ({ der: cert.raw }))
      trustSets.set(user, trusted)
    }
    return trusted
  }
  return async (request, body) => {
    const verified = await verifyPop(
      { method: request.method, url: request.url, headers: request.headers, body },
      { trustedCas, decodeIdentity, store: deps.store, clock: deps.clock },
    )
    return { identity: verified.identity, expires: new Date(verified.leaf.validTo) }
  }
}
