/** Everything the auth service needs, injected by the composition root (CLI or Lambda). */

import type { CertAuthorities } from '../ca/authorities.ts'
import type { AuthorityCache } from '../ca/authority-cache.ts'
import type { Clock } from '../clock.ts'
import type { AdminIamRule } from '../join/iam/admin-allow-list.ts'
import type { StsTransport } from '../join/iam/transport.ts'
import type { Logger } from '../log.ts'
import type { EventSink } from '../ports/event-sink.ts'
import type { KeyStore } from '../ports/key-store.ts'
import type { Store } from '../ports/store.ts'
import type { Random } from '../random.ts'
import type { ResourceService } from '../services/resource-service.ts'

export interface AuthLimits {
  /** Longest impersonated certificate the server issues (before role and identity clamps). */
  readonly maxCertTtlMs: number
  /** Longest renewable bot identity (tbot's MaxRenewableCertTTL). */
  readonly maxRenewableTtlMs: number
  /** Default TTL of a join token created by `bots add`. */
  readonly joinTokenTtlMs: number
}

export const DEFAULT_LIMITS: AuthLimits = Object.freeze({
  maxCertTtlMs: 24 * 3600_000,
  maxRenewableTtlMs: 24 * 3600_000,
  joinTokenTtlMs: 3600_000,
})

/** IAM join configuration. */
export interface IamJoinOptions {
  /** STS hosts accepted besides the AWS endpoints (exact names, e.g. a VPC endpoint). */
  readonly extraStsHosts?: readonly string[]
  /** How signed requests reach STS; default: `node:https`, no endpoint overrides. */
  readonly transport?: StsTransport
  /**
   * IAM principals that may log in as administrators with the same signed request
   * (lib/auth/admin-login.ts); absent or empty: nobody.
   */
  readonly admins?: readonly AdminIamRule[]
}

export interface AuthDeps {
  readonly clusterName: string
  /** Address bots use to reach the service (shown by ping). */
  readonly publicAddr: string
  readonly store: Store
  readonly resources: ResourceService
  /** The CAs as last refreshed (a getter in the service: do not copy it out of `deps`). */
  readonly cas: CertAuthorities
  /** Keeps {@link cas} current while CAs rotate; absent in tests that fix the CAs. */
  readonly authorities?: AuthorityCache
  /** Where CA keys live: a rotation makes its new keys there. */
  readonly keys?: KeyStore
  readonly clock: Clock
  readonly random: Random
  readonly log: Logger
  /**
   * Where audit events that may trigger a reissue (`PUBLISHED_AUDIT_TYPES` in audit.ts) are
   * published; absent: they are only stored and logged.
   */
  readonly events?: EventSink
  readonly limits: AuthLimits
  readonly iam?: IamJoinOptions
}
