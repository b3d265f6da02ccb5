/**
 * Composition of the auth service from its ports: loads (or creates) the CAs, makes sure the
 * admin role exists, and builds the HTTP app with proof-of-possession authentication.
 */
import { type CertAuthorities, loadOrCreateAuthorities } from '../ca/authorities.ts'
import type { Clock } from '../clock.ts'
import { type Authenticate, createAuthApp } from '../http/auth-app.ts'
import { decodeIdentity } from '../identity/x509-encoding.ts'
import type { Logger } from '../log.ts'
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
}

export interface AuthService {
  readonly deps: AuthDeps
  readonly app: ReturnType<typeof createAuthApp>
}

export async function createAuthService(options: AuthServiceOptions): Promise<AuthService> {
  const { store, clock, random, log } = options
  const resources = new ResourceService({ store, clock })
  const cas = await loadOrCreateAuthorities({
    store,
    keys: options.keys,
    clusterName: options.clusterName,
    clock,
    random,
  })
  await ensureAdminRole({ resources })
  const deps: AuthDeps = {
    clusterName: options.clusterName,
    publicAddr: options.publicAddr,
    store,
    resources,
    cas,
    clock,
    random,
    log,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    ...(options.iam && { iam: options.iam }),
  }
  return { deps, app: createAuthApp({ ...deps, authenticate: popAuthenticator(deps, cas) }) }
}

/** Authenticates requests by proof of possession of a key certified by the user CA. */
export function popAuthenticator(deps: AuthDeps, cas: CertAuthorities): Authenticate {
  const trusted: readonly TrustedCa[] = cas.user.trustedTlsCerts.map((cert) => ({ der: cert.raw }))
  return async (request, body) => {
    const verified = await verifyPop(
      { method: request.method, url: request.url, headers: request.headers, body },
      { trustedCas: () => trusted, decodeIdentity, store: deps.store, clock: deps.clock },
    )
    return { identity: verified.identity, expires: new Date(verified.leaf.validTo) }
  }
}
